/* The guest's MMIO space: routes emulated accesses to guest-physical addresses without RAM to device models. */
#ifndef DEVICES_MMIO_BUS_H
#define DEVICES_MMIO_BUS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * One device occupying guest-physical [base, base + size).  The bus keeps a
 * pointer: the structure must outlive the bus (devices embed it), and base
 * changes only through mmio_bus_move().
 *
 * read/write get the offset of the access's first byte from base and a size
 * of 1, 2, 4 or 8; the whole access lies inside the device (offset + size <=
 * size of the device).  Values are little-endian: byte i of the access is
 * bits 8i+7:8i.  Written values arrive masked to the size; read results are
 * masked by the bus.  Each call is one access the device sees.
 */
struct mmio_device {
	const char *name;
	uint64_t base;
	uint64_t size;
	void *opaque;
	uint64_t (*read)(void *opaque, uint64_t offset, unsigned size);
	void (*write)(void *opaque, uint64_t offset, unsigned size, uint64_t value);
};

#define MMIO_BUS_MAX_DEVICES	16
/* The longest access the bus takes in one call: CMPXCHG16B's operand. */
#define MMIO_BUS_MAX_ACCESS	16

/* Invariant: devices[0..count) are distinct, non-overlapping and none wraps past 2^64. */
struct mmio_bus {
	struct mmio_device *devices[MMIO_BUS_MAX_DEVICES];
	unsigned count;
	uint64_t reads, writes;		/* accesses that reached devices */
	uint64_t split_accesses;	/* ... of which were split byte by byte across devices */
};

void mmio_bus_init(struct mmio_bus *bus);

/*
 * Adds dev; returns 0, or -1 when dev is NULL or lacks a handler, its size is
 * 0, base + size wraps past 2^64, the bus is full, or the range overlaps a
 * registered device's (dev itself included: no device registers twice).
 */
int mmio_bus_register(struct mmio_bus *bus, struct mmio_device *dev);

/*
 * Moves a registered device to new_base; returns 0, or -1 (nothing changed)
 * when dev is not on the bus, the new range wraps past 2^64 or overlaps
 * another device.  The device's state is untouched.
 */
int mmio_bus_move(struct mmio_bus *bus, struct mmio_device *dev, uint64_t new_base);

/* The device owning gpa, or NULL. */
struct mmio_device *mmio_bus_find(const struct mmio_bus *bus, uint64_t gpa);

/* True when every byte of [gpa, gpa + len) belongs to some device (len 0: true; a range wrapping 2^64: false). */
bool mmio_bus_claims(const struct mmio_bus *bus, uint64_t gpa, unsigned len);

/*
 * An emulated access of len bytes (1 to MMIO_BUS_MAX_ACCESS) at gpa, buf
 * little-endian.  Returns false, reaching no device, when some byte is not
 * claimed (see mmio_bus_claims()) or len is out of range.  An access wholly
 * inside one device reaches it as one call when len is 1, 2, 4 or 8, else
 * as the fewest calls of those sizes, lowest address first (16 = 8 + 8,
 * 3 = 2 + 1); an access that spans devices is split into 1-byte calls, each
 * to the device owning that byte, lowest address first.
 */
bool mmio_bus_read(struct mmio_bus *bus, uint64_t gpa, void *buf, unsigned len);
bool mmio_bus_write(struct mmio_bus *bus, uint64_t gpa, const void *buf, unsigned len);

#endif
