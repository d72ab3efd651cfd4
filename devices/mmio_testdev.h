/* The MMIO test device: registers and a RAM-like window that test guests hammer (docs/guests.md). */
#ifndef DEVICES_MMIO_TESTDEV_H
#define DEVICES_MMIO_TESTDEV_H

#include <stdint.h>
#include "devices/mmio_bus.h"

/*
 * The guest-visible ABI (docs/guests.md, "The MMIO test device").  All
 * registers are 64-bit little-endian; an access of any size at any offset
 * works on the bytes it covers, so a 1-byte read at ID + 2 reads byte 2 of
 * ID and an 8-byte access at 0x7fc covers 4 bytes of the reserved gap and
 * the first 4 bytes of WINDOW.
 *
 *   0x000 ID        RO  MMIO_TESTDEV_ID ("TMMIODEV" as bytes)
 *   0x008 SCRATCH   RW  reads back the bytes written
 *   0x010 COUNT     RO  accesses (read or write calls, any offset) the
 *                       device saw before this one
 *   0x018 DOORBELL  a write stores the bytes it covers into the same bytes
 *                   of LAST (a full 8-byte write: LAST = value) and adds 1
 *                   to RINGS; a read returns RINGS
 *   0x020 LAST      RO  see DOORBELL
 *   0x800-0x17ff WINDOW RW  4 KiB that behave like RAM, across the page
 *                   boundary at 0x1000
 * Writes to RO registers are ignored; other offsets read 0 and ignore
 * writes.  Every access counts in COUNT, those too.  Reset: all zero.
 */
#define MMIO_TESTDEV_BASE	0xfeb00000ull
#define MMIO_TESTDEV_SIZE	0x2000ull
#define MMIO_TESTDEV_ID		0x5645444f494d4d54ull

#define MMIO_TESTDEV_REG_ID		0x000
#define MMIO_TESTDEV_REG_SCRATCH	0x008
#define MMIO_TESTDEV_REG_COUNT		0x010
#define MMIO_TESTDEV_REG_DOORBELL	0x018
#define MMIO_TESTDEV_REG_LAST		0x020
#define MMIO_TESTDEV_REGS_END		0x028
#define MMIO_TESTDEV_WINDOW		0x800
#define MMIO_TESTDEV_WINDOW_SIZE	0x1000

struct mmio_testdev {
	struct mmio_device dev;
	uint64_t scratch;
	uint64_t count;		/* accesses seen */
	uint64_t rings;		/* writes to DOORBELL */
	uint64_t last;		/* LAST */
	uint8_t window[MMIO_TESTDEV_WINDOW_SIZE];
};

/* Resets the device and places it at base (not yet on a bus). */
void mmio_testdev_init(struct mmio_testdev *t, uint64_t base);

/* The device to register on the bus; it lives inside t. */
struct mmio_device *mmio_testdev_device(struct mmio_testdev *t);

#endif
