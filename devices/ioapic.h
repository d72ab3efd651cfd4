/* The I/O APIC of QEMU's pc machine at 0xfec00000: 24 redirection entries that turn GSI lines into local-APIC interrupts. */
#ifndef DEVICES_IOAPIC_H
#define DEVICES_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/mmio_bus.h"

/*
 * The guest ABI, as QEMU's hw/intc/ioapic.c with its default version 0x20
 * (the ICH9-style I/O APIC with an EOI register):
 *   base + 0x00  IOREGSEL: 8 bits, reads back at any size.
 *   base + 0x10  IOWIN: the register IOREGSEL selects; only 4-byte
 *                accesses reach it (others read 0 and are dropped).
 *   base + 0x40  EOI: a 4-byte write of a vector ends it as a local APIC
 *                EOI broadcast does (clears remote IRR of level entries
 *                with that vector).
 * Only the low 8 bits of the offset count: the 4 KiB window repeats every
 * 256 bytes.  Other offsets read 0 and ignore writes.
 * Registers: 0x00 ID (bits 27:24 writable), 0x01 version 0x170020 (read
 * only: 24 entries, version 0x20), 0x02 arbitration (reads as the ID,
 * read only), 0x10 + 2n / 0x11 + 2n the low / high half of redirection
 * entry n.  Unknown registers read 0 and ignore writes.
 */
#define IOAPIC_DEFAULT_BASE	0xfec00000ull
#define IOAPIC_SIZE		0x1000ull
#define IOAPIC_PINS		24
#define IOAPIC_VERSION_ID	0x20u
#define IOAPIC_VERSION		(((IOAPIC_PINS - 1u) << 16) | IOAPIC_VERSION_ID)

#define IOAPIC_IOREGSEL		0x00
#define IOAPIC_IOWIN		0x10
#define IOAPIC_EOI		0x40

#define IOAPIC_REG_ID		0x00
#define IOAPIC_REG_VERSION	0x01
#define IOAPIC_REG_ARB		0x02
#define IOAPIC_REG_REDTBL	0x10	/* entry n: 0x10 + 2n (low), 0x11 + 2n (high) */

/* Redirection entry bits (82093AA datasheet 3.2.4). */
#define IOAPIC_RTE_VECTOR	0xffull
#define IOAPIC_RTE_DM_SHIFT	8		/* delivery mode, 3 bits */
#define IOAPIC_RTE_DEST_LOGICAL	(1ull << 11)
#define IOAPIC_RTE_DELIVS	(1ull << 12)	/* delivery status: read only, always 0 (delivery is immediate) */
#define IOAPIC_RTE_POLARITY_LOW	(1ull << 13)	/* stored only: lines are active high, as in QEMU */
#define IOAPIC_RTE_REMOTE_IRR	(1ull << 14)	/* read only */
#define IOAPIC_RTE_LEVEL	(1ull << 15)
#define IOAPIC_RTE_MASKED	(1ull << 16)
#define IOAPIC_RTE_DEST_SHIFT	56
#define IOAPIC_RTE_RO_BITS	(IOAPIC_RTE_DELIVS | IOAPIC_RTE_REMOTE_IRR)

#define IOAPIC_DM_FIXED		0u
#define IOAPIC_DM_LOWEST	1u
#define IOAPIC_DM_SMI		2u
#define IOAPIC_DM_NMI		4u
#define IOAPIC_DM_INIT		5u
#define IOAPIC_DM_EXTINT	7u

/* One interrupt message the I/O APIC sends to the local APICs. */
struct ioapic_message {
	uint8_t vector;
	uint8_t dest;		/* APIC ID, or logical destination */
	bool logical;
	bool level;		/* level-triggered: the local APIC must report its EOI */
	unsigned mode;		/* IOAPIC_DM_* */
};

typedef void (*ioapic_deliver_fn)(void *ctx, const struct ioapic_message *msg);

/*
 * Invariants: irr bit n is set only for a level-triggered entry whose
 * line is high, or transiently for an edge while it is being delivered;
 * an entry's remote IRR is set only while it is level-triggered (a switch
 * to edge clears it, as QEMU does for Linux's EOI emulation) and means the
 * local APIC has the interrupt and no EOI for it has come yet.
 */
struct ioapic {
	struct mmio_device dev;
	uint8_t ioregsel;
	uint8_t id;		/* 4 bits */
	uint32_t irr;		/* bit n: pin n requests (see above) */
	uint32_t lines;		/* bit n: the level of pin n's input */
	uint64_t redtbl[IOAPIC_PINS];
	ioapic_deliver_fn deliver;
	void *ctx;
	/* Statistics. */
	uint64_t delivered, eois;
};

/* Reset state, as QEMU's: ID 0, IOREGSEL 0, every entry masked (0x10000), every line low. */
void ioapic_init(struct ioapic *io, ioapic_deliver_fn deliver, void *ctx);

struct mmio_device *ioapic_device(struct ioapic *io);

/*
 * Drives GSI pin (0-23; others ignored) to level.  An edge-triggered
 * entry sends its message on a rising edge while unmasked (a masked edge
 * is lost, as the 82093AA says); a level-triggered entry sends it while
 * the line is high, unmasked and remote IRR is clear, and again after an
 * EOI or an unmask if the line is still high.
 */
void ioapic_set_irq(struct ioapic *io, unsigned gsi, bool level);

/* The GSI an ISA IRQ arrives on, as on a PC and in the MADT: IRQ 0 on GSI 2, IRQ n on GSI n. */
unsigned ioapic_gsi_of_isa_irq(unsigned irq);

/* An EOI for vector (the local APIC's broadcast for a level-triggered vector, or the EOI register). */
void ioapic_eoi(struct ioapic *io, uint8_t vector);

/* The indirect registers by index (what IOWIN does with 4-byte accesses). */
uint32_t ioapic_read_reg(struct ioapic *io, uint8_t index);
void ioapic_write_reg(struct ioapic *io, uint8_t index, uint32_t value);

#endif
