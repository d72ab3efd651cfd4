/* The VMM's MMIO test device as the guests see it (devices/mmio_testdev.c; design: issue 5). */
#ifndef GUEST_MMIO_TESTDEV_H
#define GUEST_MMIO_TESTDEV_H

/*
 * Two pages at a guest-physical base the guest can move (HC_MMIO_DEVICE_MOVE).
 * Registers are 64-bit little-endian; an access of 1, 2, 4 or 8 bytes
 * anywhere inside one register works on those bytes of it.  Every access the
 * device sees (a read or a write, any register) advances COUNT by one.
 */
#define TESTDEV_BASE_DEFAULT	0xFEB00000u
#define TESTDEV_SIZE		0x2000u

#define TESTDEV_ID		0x000	/* RO: TESTDEV_ID_VALUE */
#define TESTDEV_SCRATCH		0x008	/* RW */
#define TESTDEV_COUNT		0x010	/* RO: accesses the device saw before this one */
#define TESTDEV_DOORBELL	0x018	/* write: LAST = value, RINGS += 1; read: RINGS */
#define TESTDEV_LAST		0x020	/* RO: the last value written to DOORBELL */
#define TESTDEV_WINDOW		0x800	/* 4 KiB of RAM-like bytes, zeroed at reset, across the page boundary */
#define TESTDEV_WINDOW_END	0x1800
/* Any other offset reads 0 and ignores writes; so do writes to the RO registers (still counted). */

/* "TMMIODEV" as bytes 54 4D 4D 49 4F 44 45 56. */
#define TESTDEV_ID_LO		0x494D4D54u
#define TESTDEV_ID_HI		0x5645444Fu

#endif
