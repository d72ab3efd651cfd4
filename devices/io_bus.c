/* Port I/O dispatch: a short table of non-overlapping port ranges, searched linearly. */
#include <stdbool.h>
#include <stddef.h>

#include "devices/io_bus.h"

#define IO_PORT_LIMIT 0x10000u

void io_bus_init(struct io_bus *bus)
{
	unsigned i;

	for (i = 0; i < IO_BUS_MAX_DEVICES; i++)
		bus->devices[i] = NULL;
	bus->count = 0;
	bus->unclaimed_reads = 0;
	bus->unclaimed_writes = 0;
	bus->bad_size_accesses = 0;
}

static bool size_ok(unsigned size)
{
	return size == 1 || size == 2 || size == 4;
}

uint32_t io_size_mask(unsigned size)
{
	if (size == 1)
		return 0xff;
	if (size == 2)
		return 0xffff;
	return 0xffffffff;
}

/* Ends are computed in unsigned int: base + count can be 0x10000. */
static bool ranges_overlap(const struct io_device *a, const struct io_device *b)
{
	unsigned a_end = (unsigned)a->base + a->count;
	unsigned b_end = (unsigned)b->base + b->count;

	return a->base < b_end && b->base < a_end;
}

int io_bus_register(struct io_bus *bus, const struct io_device *dev)
{
	unsigned i;

	if (!dev || !dev->read || !dev->write || dev->count == 0)
		return -1;
	if ((unsigned)dev->base + dev->count > IO_PORT_LIMIT)
		return -1;
	if (bus->count >= IO_BUS_MAX_DEVICES)
		return -1;
	for (i = 0; i < bus->count; i++) {
		if (ranges_overlap(bus->devices[i], dev))
			return -1;
	}
	bus->devices[bus->count++] = dev;
	return 0;
}

const struct io_device *io_bus_find(const struct io_bus *bus, uint16_t port)
{
	unsigned i;

	for (i = 0; i < bus->count; i++) {
		const struct io_device *dev = bus->devices[i];

		if (port >= dev->base && port - dev->base < dev->count)
			return dev;
	}
	return NULL;
}

uint32_t io_bus_read(struct io_bus *bus, uint16_t port, unsigned size)
{
	const struct io_device *dev;

	if (!size_ok(size)) {
		bus->bad_size_accesses++;
		return 0xffffffff;
	}
	dev = io_bus_find(bus, port);
	if (!dev) {
		bus->unclaimed_reads++;
		return io_size_mask(size);
	}
	return dev->read(dev->opaque, port, size) & io_size_mask(size);
}

void io_bus_write(struct io_bus *bus, uint16_t port, unsigned size, uint32_t value)
{
	const struct io_device *dev;

	if (!size_ok(size)) {
		bus->bad_size_accesses++;
		return;
	}
	dev = io_bus_find(bus, port);
	if (!dev) {
		bus->unclaimed_writes++;
		return;
	}
	dev->write(dev->opaque, port, size, value & io_size_mask(size));
}

/*
 * Stores the device offset of byte i of an access at port; false when that
 * byte lies outside the device.  The sum is not truncated to 16 bits, so the
 * bytes of an access at the top of the port space never wrap to port 0.
 */
static bool byte_offset(const struct io_device *dev, uint16_t port, unsigned i,
			unsigned *offset)
{
	unsigned p = (unsigned)port + i;

	if (p < dev->base || p - dev->base >= dev->count)
		return false;
	*offset = p - dev->base;
	return true;
}

uint32_t io_read_bytewise(const struct io_device *dev, uint16_t port, unsigned size,
			  uint8_t (*read8)(void *opaque, unsigned offset))
{
	uint32_t value = 0;
	unsigned i, offset;

	if (!size_ok(size))
		return 0xffffffff;
	for (i = 0; i < size; i++) {
		uint32_t byte = 0xff;

		if (byte_offset(dev, port, i, &offset))
			byte = read8(dev->opaque, offset);
		value |= byte << (8 * i);
	}
	return value;
}

void io_write_bytewise(const struct io_device *dev, uint16_t port, unsigned size,
		       uint32_t value,
		       void (*write8)(void *opaque, unsigned offset, uint8_t value))
{
	unsigned i, offset;

	if (!size_ok(size))
		return;
	for (i = 0; i < size; i++) {
		if (byte_offset(dev, port, i, &offset))
			write8(dev->opaque, offset, (uint8_t)(value >> (8 * i)));
	}
}
