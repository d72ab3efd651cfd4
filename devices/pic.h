/* The PC's two cascaded 8259A PICs: ICWs, OCWs and masks; no interrupt delivery yet. */
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
 * One 8259A.  Nothing raises IRR yet, so IRR and ISR stay 0 unless the VMM
 * sets them; the EOI and rotation commands already act on them so that the
 * interrupt work only has to add the request side.
 */
struct pic_chip {
	struct io_device dev;
	bool master;
	uint8_t imr;		/* OCW1: set bits mask their IRQ */
	uint8_t irr;
	uint8_t isr;
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

#endif
