/* The guest's port I/O space: routes IN/OUT exits to the emulated devices. */
#ifndef DEVICES_IO_BUS_H
#define DEVICES_IO_BUS_H

#include <stdint.h>

/*
 * One emulated device occupying ports [base, base + count).  The bus keeps
 * only a pointer: the structure must outlive the bus (devices embed it).
 *
 * The bus calls read/write with size 1, 2 or 4 and the absolute port of the
 * access's first byte, which always lies in [base, base + count).  The rest
 * of a 2- or 4-byte access may run past base + count: the bus does not split
 * accesses at device boundaries (neither does QEMU for port I/O), so the
 * device decides what the bytes beyond its range mean; byte-register devices
 * use io_read_bytewise()/io_write_bytewise() below.  Written values arrive
 * masked to the access size; read results are masked by the bus, so a
 * device may leave garbage in the high bits.
 */
struct io_device {
	const char *name;
	uint16_t base;
	uint16_t count;		/* ports [base, base + count) */
	void *opaque;
	/* size is 1, 2 or 4; port is the absolute port number. */
	uint32_t (*read)(void *opaque, uint16_t port, unsigned size);
	void (*write)(void *opaque, uint16_t port, unsigned size, uint32_t value);
};

#define IO_BUS_MAX_DEVICES 32

struct io_bus {
	const struct io_device *devices[IO_BUS_MAX_DEVICES];
	unsigned count;
	/* Guest accesses to ports no device claims (a guest probing hardware). */
	uint64_t unclaimed_reads, unclaimed_writes;
	/* Calls with a size other than 1, 2, 4: a VMM bug, never a guest's. */
	uint64_t bad_size_accesses;
};

void io_bus_init(struct io_bus *bus);

/*
 * Adds dev; returns 0, or -1 when dev is NULL or lacks a handler, count is
 * 0, base + count > 0x10000, the bus is full, or the range overlaps a
 * registered device's.
 */
int io_bus_register(struct io_bus *bus, const struct io_device *dev);

/* The device owning port, or NULL. */
const struct io_device *io_bus_find(const struct io_bus *bus, uint16_t port);

/*
 * A guest IN of size bytes from port: the owning device's value masked to
 * the size, or all ones of the size (0xff, 0xffff, 0xffffffff) when no
 * device owns port, as on a PC where nobody drives the data lines; such
 * reads are counted in unclaimed_reads.  A size other than 1, 2 or 4 reads
 * 0xffffffff, reaches no device and is counted in bad_size_accesses.
 */
uint32_t io_bus_read(struct io_bus *bus, uint16_t port, unsigned size);

/*
 * A guest OUT: value is masked to size and handed to the owning device; a
 * write to an unowned port is dropped and counted in unclaimed_writes, one
 * with a bad size is dropped and counted in bad_size_accesses.
 */
void io_bus_write(struct io_bus *bus, uint16_t port, unsigned size, uint32_t value);

/* All ones of an access size: 0xff, 0xffff or 0xffffffff (0xffffffff for bad sizes). */
uint32_t io_size_mask(unsigned size);

/*
 * For devices made of byte-wide registers: performs a 2- or 4-byte access as
 * consecutive byte accesses, lowest port first, the value little-endian,
 * which is what the ISA bus does to an 8-bit device and what QEMU's memory
 * core does for devices that implement only 1-byte accesses.  Offsets are
 * relative to dev->base.  Bytes falling past the end of the device are not
 * decoded: they read as 0xff and their writes are dropped (QEMU passes such
 * offsets to the device anyway, its 16550 wraps them with "& 7"; a port the
 * device does not own should not reach it).
 */
uint32_t io_read_bytewise(const struct io_device *dev, uint16_t port, unsigned size,
			  uint8_t (*read8)(void *opaque, unsigned offset));
void io_write_bytewise(const struct io_device *dev, uint16_t port, unsigned size,
		       uint32_t value,
		       void (*write8)(void *opaque, unsigned offset, uint8_t value));

#endif
