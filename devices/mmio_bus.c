/* The MMIO bus: device lookup by guest-physical address, and accesses split to fit the devices. */
#include <stddef.h>
#include "devices/mmio_bus.h"

void mmio_bus_init(struct mmio_bus *bus)
{
	unsigned i;

	for (i = 0; i < MMIO_BUS_MAX_DEVICES; i++)
		bus->devices[i] = NULL;
	bus->count = 0;
	bus->reads = 0;
	bus->writes = 0;
	bus->split_accesses = 0;
}

/* [base, base + size) with size > 0 and no wrap: last = base + size - 1 is exact. */
static bool range_valid(uint64_t base, uint64_t size)
{
	return size && base + (size - 1) >= base;
}

static bool overlaps(uint64_t a_base, uint64_t a_size, uint64_t b_base, uint64_t b_size)
{
	/* Both ranges are valid, so comparing last bytes cannot wrap. */
	return a_base <= b_base + (b_size - 1) && b_base <= a_base + (a_size - 1);
}

/* True when [base, base + size) overlaps a device other than skip. */
static bool overlaps_any(const struct mmio_bus *bus, uint64_t base, uint64_t size,
			 const struct mmio_device *skip)
{
	unsigned i;

	for (i = 0; i < bus->count; i++) {
		const struct mmio_device *d = bus->devices[i];

		if (d != skip && overlaps(base, size, d->base, d->size))
			return true;
	}
	return false;
}

int mmio_bus_register(struct mmio_bus *bus, struct mmio_device *dev)
{
	if (!dev || !dev->read || !dev->write || !range_valid(dev->base, dev->size) ||
	    bus->count == MMIO_BUS_MAX_DEVICES || overlaps_any(bus, dev->base, dev->size, NULL))
		return -1;
	bus->devices[bus->count++] = dev;
	return 0;
}

static bool registered(const struct mmio_bus *bus, const struct mmio_device *dev)
{
	unsigned i;

	for (i = 0; i < bus->count; i++)
		if (bus->devices[i] == dev)
			return true;
	return false;
}

int mmio_bus_move(struct mmio_bus *bus, struct mmio_device *dev, uint64_t new_base)
{
	if (!dev || !registered(bus, dev) || !range_valid(new_base, dev->size) ||
	    overlaps_any(bus, new_base, dev->size, dev))
		return -1;
	dev->base = new_base;
	return 0;
}

struct mmio_device *mmio_bus_find(const struct mmio_bus *bus, uint64_t gpa)
{
	unsigned i;

	for (i = 0; i < bus->count; i++) {
		struct mmio_device *d = bus->devices[i];

		if (gpa >= d->base && gpa - d->base < d->size)
			return d;
	}
	return NULL;
}

bool mmio_bus_claims(const struct mmio_bus *bus, uint64_t gpa, unsigned len)
{
	uint64_t done = 0;

	if (len && gpa + (len - 1) < gpa)
		return false;
	/* Device by device: each found device covers a run of the bytes. */
	while (done < len) {
		const struct mmio_device *d = mmio_bus_find(bus, gpa + done);
		uint64_t in_dev;

		if (!d)
			return false;
		in_dev = d->size - (gpa + done - d->base);
		done += in_dev < len - done ? in_dev : len - done;
	}
	return true;
}

static uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

/* The largest access size the device interface takes that fits in len (len >= 1). */
static unsigned chunk_size(unsigned len)
{
	return len >= 8 ? 8 : len >= 4 ? 4 : len >= 2 ? 2 : 1;
}

static uint64_t load_le(const uint8_t *p, unsigned size)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < size; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void store_le(uint8_t *p, unsigned size, uint64_t v)
{
	unsigned i;

	for (i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* The device holding all of [gpa, gpa + len), or NULL when none does. */
static struct mmio_device *sole_device(const struct mmio_bus *bus, uint64_t gpa, unsigned len)
{
	struct mmio_device *d = mmio_bus_find(bus, gpa);

	if (d && len <= d->size - (gpa - d->base))
		return d;
	return NULL;
}

static bool access_ok(const struct mmio_bus *bus, uint64_t gpa, unsigned len)
{
	return len >= 1 && len <= MMIO_BUS_MAX_ACCESS && mmio_bus_claims(bus, gpa, len);
}

bool mmio_bus_read(struct mmio_bus *bus, uint64_t gpa, void *buf, unsigned len)
{
	struct mmio_device *d;
	uint8_t *out = buf;
	unsigned done, size;

	if (!access_ok(bus, gpa, len))
		return false;
	bus->reads++;
	d = sole_device(bus, gpa, len);
	if (!d)
		bus->split_accesses++;
	for (done = 0; done < len; done += size) {
		struct mmio_device *owner = d ? d : mmio_bus_find(bus, gpa + done);

		size = d ? chunk_size(len - done) : 1;
		store_le(out + done, size,
			 owner->read(owner->opaque, gpa + done - owner->base, size) & size_mask(size));
	}
	return true;
}

bool mmio_bus_write(struct mmio_bus *bus, uint64_t gpa, const void *buf, unsigned len)
{
	const uint8_t *in = buf;
	struct mmio_device *d;
	unsigned done, size;

	if (!access_ok(bus, gpa, len))
		return false;
	bus->writes++;
	d = sole_device(bus, gpa, len);
	if (!d)
		bus->split_accesses++;
	for (done = 0; done < len; done += size) {
		struct mmio_device *owner = d ? d : mmio_bus_find(bus, gpa + done);

		size = d ? chunk_size(len - done) : 1;
		owner->write(owner->opaque, gpa + done - owner->base, size, load_le(in + done, size));
	}
	return true;
}
