/* QEMU's pc-testdev: a read-back I/O register, a page-flush port, IRQ lines and a 64 KiB RAM-like MMIO window. */
#ifndef DEVICES_PC_TESTDEV_H
#define DEVICES_PC_TESTDEV_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/io_bus.h"
#include "devices/mmio_bus.h"

/*
 * The guest ABI, as QEMU's hw/misc/pc-testdev.c (kvm-unit-tests use it):
 *   I/O 0xe0-0xe3  IOPORT: a 32-bit register; an access of any size works
 *                  on the bytes it covers (outb(0xe2, v) sets bits 23:16,
 *                  inw(0xe0) reads bits 15:0), string I/O included.
 *                  Bytes of an access that fall past 0xe3 read 0 and are
 *                  not written (QEMU splits such an access and the flush
 *                  region refuses its part).
 *   I/O 0xe4-0xe7  FLUSH: a dword write names a guest-physical page; QEMU
 *                  mprotect()s its host page so that KVM drops its mapping.
 *                  Nothing the guest can see changes: we count the writes
 *                  and remember the address.  Other sizes are ignored
 *                  (QEMU: valid only as 4 bytes); reads give 0.
 *   I/O 0xe8-0xeb  IOPORT_BYTE: the same register, which QEMU reaches one
 *                  byte at a time; the result is the same as through 0xe0.
 *   I/O 0x2000-0x2017  IRQ: a byte write of v to 0x2000 + n sets ISA IRQ
 *                  line n to level (v != 0), as qemu_set_irq(); the hook
 *                  sees every write, so edge detection is the interrupt
 *                  controller's.  Wider accesses are ignored (QEMU: valid
 *                  only as 1 byte); reads give 0.
 *   MMIO 0xff000000-0xff00ffff  IOMEM: 64 KiB that read back what was
 *                  written, at any size and offset, but are no RAM: every
 *                  access exits to the VMM and goes through the
 *                  instruction emulator.
 * Reset: everything 0, every IRQ line low.
 */
#define PC_TESTDEV_IOPORT	0xe0
#define PC_TESTDEV_FLUSH	0xe4
#define PC_TESTDEV_IOPORT_BYTE	0xe8
#define PC_TESTDEV_PORTS	4
#define PC_TESTDEV_IRQ_BASE	0x2000
#define PC_TESTDEV_IRQ_LINES	24
#define PC_TESTDEV_IOMEM_BASE	0xff000000ull
#define PC_TESTDEV_IOMEM_SIZE	0x10000u

/* Sets IRQ line irq (0-23) to level; called for every write to its port. */
typedef void (*pc_testdev_irq_fn)(void *ctx, unsigned irq, bool level);

struct pc_testdev {
	struct io_device ioport, flush, ioport_byte, irq;
	struct mmio_device iomem;
	uint32_t ioport_data;
	uint32_t irq_levels;		/* bit n: line n's level as last written */
	pc_testdev_irq_fn set_irq;	/* NULL: lines are only recorded */
	void *irq_ctx;
	uint64_t flushes;
	uint32_t last_flush;		/* the value of the last FLUSH write */
	uint8_t iomem_buf[PC_TESTDEV_IOMEM_SIZE];
};

/* Resets the device with its QEMU addresses; set_irq may be NULL. */
void pc_testdev_init(struct pc_testdev *t, pc_testdev_irq_fn set_irq, void *ctx);

/*
 * Registers the four port ranges on io and the window on mmio: 0, or -1
 * when one overlaps or a bus is full (the ranges before it stay registered:
 * the VMM gives up on such a VM).
 */
int pc_testdev_attach(struct pc_testdev *t, struct io_bus *io, struct mmio_bus *mmio);

#endif
