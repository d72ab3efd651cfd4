/* The PC's two cascaded 8259A PICs: ICWs, OCWs, masks, edge-triggered IRQ lines and INTA. */
#ifndef DEVICES_PIC_H
#define DEVICES_PIC_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/io_bus.h"

#define PIC_MASTER 0	/* ports 0x20-0x21, IRQ 0-7 */
#define PIC_SLAVE  1	/* ports 0xa0-0xa1, IRQ 8-15, cascaded on master IRQ 2 */

#define PIC_MASTER_BASE 0x20
#define PIC_SLAVE_BASE  0xa0
#define PIC_PORTS 2	/* +0 command (ICW1, OCW2, OCW3), +1 data (ICW2-4, OCW1) */

/*
 * One 8259A.  IRR bits are set by rising edges on the IRQ lines
 * (pic_set_irq()); INTA (pic_ack()) moves the chosen one to ISR; EOIs clear
 * ISR.  The slave's output is not stored in the master's IRR: the master's
 * IRQ 2 request is computed from the slave whenever it is needed, which is
 * what the wire does.
 */
struct pic_chip {
	struct io_device dev;
	bool master;
	uint8_t imr;		/* OCW1: set bits mask their IRQ */
	uint8_t irr;
	uint8_t isr;
	uint8_t lines;		/* the level of each IRQ input, for edge detection */
	uint8_t vector_base;	/* ICW2 & 0xf8: IRQ n is vector vector_base + n */
	uint8_t icw3;		/* cascade wiring as the guest described it */
	uint8_t icw4;
	uint8_t lowest_prio;	/* the IRQ with the lowest priority (7 after init) */
	/* 0: OCW1 next on the data port; 2, 3, 4: the ICW the data port expects. */
	uint8_t next_icw;
	bool icw4_needed;	/* ICW1 bit 0 */
	bool single;		/* ICW1 bit 1: no slave, no ICW3 */
	bool level_triggered;	/* ICW1 bit 3 (LTIM); recorded, not acted upon */
	bool auto_eoi;		/* ICW4 bit 1 */
	bool special_nested;	/* ICW4 bit 4 */
	bool rotate_on_aeoi;	/* OCW2 commands 0 / 4 */
	bool special_mask;	/* OCW3 ESMM + SMM */
	bool read_isr;		/* OCW3 RR + RIS: command-port reads give ISR, else IRR */
	bool poll;		/* OCW3 P: the next read is a poll */
	bool initialized;	/* an ICW sequence ran to its end */
};

struct pic {
	struct pic_chip chip[2];	/* PIC_MASTER, PIC_SLAVE */
};

/*
 * Both chips in QEMU's reset state (pic_reset_common() in
 * hw/intc/i8259_common.c): every register 0, including IMR (nothing
 * masked) and the vector base, and no ICW sequence under way.  A real 8259A
 * powers up undefined until ICW1.
 */
void pic_init(struct pic *p);

/* The device of chip which (PIC_MASTER or PIC_SLAVE); it lives inside p. */
const struct io_device *pic_device(struct pic *p, int which);

/* IMR of chip which: bit n set masks IRQ n (IRQ n + 8 on the slave). */
uint8_t pic_mask(const struct pic *p, int which);

/* The vector of the chip's IRQ 0 as ICW2 set it (0 before any ICW2). */
uint8_t pic_vector_base(const struct pic *p, int which);

/* Whether the guest has completed an ICW sequence on chip which. */
bool pic_initialized(const struct pic *p, int which);

#define PIC_IRQS	16

/*
 * Drives ISA IRQ line irq (0-15; IRQ 2 is the cascade, and an IRQ 2 raised
 * by a device goes to the master's IR2 as on a PC's wiring of IRQ 9: QEMU
 * does the same) to level.  Edge-triggered: a rising edge sets the IRR bit,
 * which stays set until acknowledged even after the line falls.  Out of
 * range irq: ignored.
 */
void pic_set_irq(struct pic *p, unsigned irq, bool level);

/* One edge on irq: the line raised and lowered again (a timer tick, an interrupt message). */
void pic_raise_irq(struct pic *p, unsigned irq);

/*
 * The vector the pair would present to the CPU now (INTR asserted), or -1.
 * Nothing changes; masks, priorities and in-service levels of both chips
 * apply.
 */
int pic_pending_vector(const struct pic *p);

/*
 * The INTA cycle: the vector of the highest-priority pending request,
 * which moves from IRR to ISR (both chips' for a slave IRQ; with auto-EOI
 * ISR stays clear).  With nothing pending the master answers a spurious
 * IRQ 7 (vector base + 7) and changes nothing, as an 8259A does when the
 * request went away before INTA.
 */
uint8_t pic_ack(struct pic *p);

/* IRR and ISR of chip which (for tests and the VMM's statistics). */
uint8_t pic_irr(const struct pic *p, int which);
uint8_t pic_isr(const struct pic *p, int which);

#endif
