/* 8259A pair model: the ICW1-4 sequence, OCW1-3, IRR/ISR/IMR reads, polling, edge-triggered IRQs, INTA and the cascade. */
#include <stddef.h>

#include "devices/pic.h"

enum {
	PIC_CMD = 0,
	PIC_DATA = 1,
};

/* Command-port bytes are told apart by bits 4 and 3. */
#define PIC_ICW1		0x10
#define PIC_ICW1_IC4		0x01
#define PIC_ICW1_SNGL		0x02
#define PIC_ICW1_LTIM		0x08
#define PIC_OCW3		0x08
#define PIC_OCW3_RIS		0x01
#define PIC_OCW3_RR		0x02
#define PIC_OCW3_POLL		0x04
#define PIC_OCW3_SMM		0x20
#define PIC_OCW3_ESMM		0x40
#define PIC_ICW2_VECTOR_MASK	0xf8	/* the low 3 bits come from the IRQ number */
#define PIC_ICW4_AEOI		0x02
#define PIC_ICW4_SFNM		0x10
#define PIC_POLL_INT		0x80
#define PIC_CASCADE_IRQ		2

/* OCW2 commands: bits 7-5 are R, SL, EOI. */
enum {
	OCW2_CLEAR_ROTATE_AEOI = 0,
	OCW2_EOI = 1,
	OCW2_NOP = 2,
	OCW2_SPECIFIC_EOI = 3,
	OCW2_SET_ROTATE_AEOI = 4,
	OCW2_ROTATE_EOI = 5,
	OCW2_SET_PRIORITY = 6,
	OCW2_ROTATE_SPECIFIC_EOI = 7,
};

/*
 * The bit of mask with the highest priority, or -1.  Priority runs from
 * (lowest_prio + 1) & 7, the highest, round to lowest_prio.
 */
static int highest_priority(const struct pic_chip *c, uint8_t mask)
{
	unsigned i;

	for (i = 1; i <= 8; i++) {
		unsigned irq = (c->lowest_prio + i) & 7;

		if (mask & (1u << irq))
			return (int)irq;
	}
	return -1;
}

/* Where priority rank 0 is the highest; only called with irq in 0-7. */
static unsigned rank(const struct pic_chip *c, int irq)
{
	return ((unsigned)irq - c->lowest_prio - 1) & 7;
}

/*
 * The IRQ the chip would present to the CPU now, or -1: the highest
 * priority unmasked request, if it outranks every interrupt in service.
 * In special mask mode masked in-service levels do not block, and in
 * special fully nested mode the master lets further slave interrupts
 * through while one is in service.
 */
static int pending_irq_with(const struct pic_chip *c, uint8_t irr)
{
	int irq = highest_priority(c, irr & ~c->imr);
	uint8_t in_service = c->isr;
	int busy;

	if (irq < 0)
		return -1;
	if (c->special_mask)
		in_service &= ~c->imr;
	if (c->special_nested && c->master)
		in_service &= ~(1u << PIC_CASCADE_IRQ);
	busy = highest_priority(c, in_service);
	if (busy >= 0 && rank(c, busy) <= rank(c, irq))
		return -1;
	return irq;
}

static int pending_irq(const struct pic_chip *c)
{
	return pending_irq_with(c, c->irr);
}

/*
 * A poll (OCW3 P) acknowledges like an INTA cycle and reads 0x80 | IRQ, or
 * 0 with nothing pending (QEMU's choice; a real 8259A leaves the low bits
 * undefined then).
 */
static uint8_t poll_read(struct pic_chip *c)
{
	int irq = pending_irq(c);

	c->poll = false;
	if (irq < 0)
		return 0;
	c->irr &= ~(1u << irq);
	if (!c->auto_eoi)
		c->isr |= 1u << irq;
	else if (c->rotate_on_aeoi)
		c->lowest_prio = (uint8_t)irq;
	return (uint8_t)(PIC_POLL_INT | irq);
}

/*
 * ICW1 restarts the chip as the 8259A datasheet says: IMR cleared, IRR
 * (edge detection) and ISR cleared, IR7 the lowest priority, special mask
 * mode off, IRR selected for reads.  QEMU also zeroes the vector base and
 * the ICW4 modes until the guest writes them again; so do we.
 */
static void write_icw1(struct pic_chip *c, uint8_t value)
{
	c->imr = 0;
	c->irr = 0;
	c->isr = 0;
	c->lines = 0;
	c->vector_base = 0;
	c->icw3 = 0;
	c->icw4 = 0;
	c->lowest_prio = 7;
	c->auto_eoi = false;
	c->special_nested = false;
	c->rotate_on_aeoi = false;
	c->special_mask = false;
	c->read_isr = false;
	c->poll = false;
	c->initialized = false;
	c->icw4_needed = value & PIC_ICW1_IC4;
	c->single = value & PIC_ICW1_SNGL;
	c->level_triggered = value & PIC_ICW1_LTIM;
	c->next_icw = 2;
}

static void write_ocw2(struct pic_chip *c, uint8_t value)
{
	unsigned level = value & 7;
	int irq;

	switch (value >> 5) {
	case OCW2_CLEAR_ROTATE_AEOI:
	case OCW2_SET_ROTATE_AEOI:
		c->rotate_on_aeoi = (value >> 5) == OCW2_SET_ROTATE_AEOI;
		break;
	case OCW2_EOI:
	case OCW2_ROTATE_EOI:
		irq = highest_priority(c, c->isr);
		if (irq < 0)
			break;
		c->isr &= ~(1u << irq);
		if ((value >> 5) == OCW2_ROTATE_EOI)
			c->lowest_prio = (uint8_t)irq;
		break;
	case OCW2_SPECIFIC_EOI:
	case OCW2_ROTATE_SPECIFIC_EOI:
		c->isr &= ~(1u << level);
		if ((value >> 5) == OCW2_ROTATE_SPECIFIC_EOI)
			c->lowest_prio = (uint8_t)level;
		break;
	case OCW2_SET_PRIORITY:
		c->lowest_prio = (uint8_t)level;
		break;
	default:
		break;
	}
}

/* Each OCW3 field changes only when its enable bit is set. */
static void write_ocw3(struct pic_chip *c, uint8_t value)
{
	if (value & PIC_OCW3_POLL)
		c->poll = true;
	if (value & PIC_OCW3_RR)
		c->read_isr = value & PIC_OCW3_RIS;
	if (value & PIC_OCW3_ESMM)
		c->special_mask = value & PIC_OCW3_SMM;
}

static void finish_icws(struct pic_chip *c)
{
	c->next_icw = 0;
	c->initialized = true;
}

/*
 * The data port takes the ICWs ICW1 announced, in order (ICW3 only when
 * cascaded, ICW4 only when ICW1 asked for it), then OCW1 masks.  OCWs
 * written to the command port in between do not disturb the sequence, as in
 * QEMU.
 */
static void write_data(struct pic_chip *c, uint8_t value)
{
	switch (c->next_icw) {
	case 2:
		c->vector_base = value & PIC_ICW2_VECTOR_MASK;
		if (!c->single)
			c->next_icw = 3;
		else if (c->icw4_needed)
			c->next_icw = 4;
		else
			finish_icws(c);
		break;
	case 3:
		c->icw3 = value;
		if (c->icw4_needed)
			c->next_icw = 4;
		else
			finish_icws(c);
		break;
	case 4:
		/* Bit 0 (8086 mode) is assumed: the 8080 mode has no PC use. */
		c->icw4 = value;
		c->auto_eoi = value & PIC_ICW4_AEOI;
		c->special_nested = value & PIC_ICW4_SFNM;
		finish_icws(c);
		break;
	default:
		c->imr = value;
		break;
	}
}

static uint8_t pic_read8(void *opaque, unsigned offset)
{
	struct pic_chip *c = opaque;

	/* A pending poll answers on either port, as in QEMU. */
	if (c->poll)
		return poll_read(c);
	if (offset == PIC_DATA)
		return c->imr;
	return c->read_isr ? c->isr : c->irr;
}

static void pic_write8(void *opaque, unsigned offset, uint8_t value)
{
	struct pic_chip *c = opaque;

	if (offset == PIC_DATA)
		write_data(c, value);
	else if (value & PIC_ICW1)
		write_icw1(c, value);
	else if (value & PIC_OCW3)
		write_ocw3(c, value);
	else
		write_ocw2(c, value);
}

/*
 * Wider accesses go byte by byte to consecutive ports (command, then data),
 * as with QEMU's impl.max_access_size = 1; a byte past the data port is not
 * decoded.
 */
static uint32_t pic_read(void *opaque, uint16_t port, unsigned size)
{
	struct pic_chip *c = opaque;

	return io_read_bytewise(&c->dev, port, size, pic_read8);
}

static void pic_write(void *opaque, uint16_t port, unsigned size, uint32_t value)
{
	struct pic_chip *c = opaque;

	io_write_bytewise(&c->dev, port, size, value, pic_write8);
}

static void chip_init(struct pic_chip *c, const char *name, uint16_t base, bool master)
{
	c->master = master;
	c->dev.name = name;
	c->dev.base = base;
	c->dev.count = PIC_PORTS;
	c->dev.opaque = c;
	c->dev.read = pic_read;
	c->dev.write = pic_write;

	/* An ICW1 of 0x10 leaves every mode bit clear: QEMU's reset state. */
	write_icw1(c, PIC_ICW1);
	c->next_icw = 0;
}

void pic_init(struct pic *p)
{
	chip_init(&p->chip[PIC_MASTER], "pic-master", PIC_MASTER_BASE, true);
	chip_init(&p->chip[PIC_SLAVE], "pic-slave", PIC_SLAVE_BASE, false);
}

/* Anything but PIC_SLAVE means the master: the callers pass constants. */
static const struct pic_chip *chip_of(const struct pic *p, int which)
{
	return &p->chip[which == PIC_SLAVE ? PIC_SLAVE : PIC_MASTER];
}

const struct io_device *pic_device(struct pic *p, int which)
{
	return &p->chip[which == PIC_SLAVE ? PIC_SLAVE : PIC_MASTER].dev;
}

uint8_t pic_mask(const struct pic *p, int which)
{
	return chip_of(p, which)->imr;
}

uint8_t pic_vector_base(const struct pic *p, int which)
{
	return chip_of(p, which)->vector_base;
}

bool pic_initialized(const struct pic *p, int which)
{
	return chip_of(p, which)->initialized;
}

uint8_t pic_irr(const struct pic *p, int which)
{
	return chip_of(p, which)->irr;
}

uint8_t pic_isr(const struct pic *p, int which)
{
	return chip_of(p, which)->isr;
}

void pic_set_irq(struct pic *p, unsigned irq, bool level)
{
	struct pic_chip *c;
	uint8_t bit;

	if (irq >= PIC_IRQS)
		return;
	c = &p->chip[irq < 8 ? PIC_MASTER : PIC_SLAVE];
	bit = (uint8_t)(1u << (irq & 7));
	if (level && !(c->lines & bit))
		c->irr |= bit;
	if (level)
		c->lines |= bit;
	else
		c->lines &= (uint8_t)~bit;
}

void pic_raise_irq(struct pic *p, unsigned irq)
{
	pic_set_irq(p, irq, true);
	pic_set_irq(p, irq, false);
}

/*
 * The master's requests as the wire shows them: its own IRR, plus IR2
 * while the slave asserts INT (the slave's output is a level: it stays up
 * as long as the slave has something to present).  A single-mode master
 * (ICW1 SNGL) has no slave.
 */
static uint8_t master_requests(const struct pic *p)
{
	const struct pic_chip *m = &p->chip[PIC_MASTER];
	uint8_t irr = m->irr;

	if (!m->single && pending_irq(&p->chip[PIC_SLAVE]) >= 0)
		irr |= 1u << PIC_CASCADE_IRQ;
	return irr;
}

int pic_pending_vector(const struct pic *p)
{
	const struct pic_chip *m = &p->chip[PIC_MASTER];
	const struct pic_chip *s = &p->chip[PIC_SLAVE];
	int irq;

	/* Asked before every guest entry: nothing unmasked requested is the common case, and answers at once. */
	if (!(m->irr & ~m->imr) && (m->single || !(s->irr & ~s->imr)))
		return -1;
	irq = pending_irq_with(m, master_requests(p));

	if (irq < 0)
		return -1;
	if (irq == PIC_CASCADE_IRQ && !m->single) {
		int sirq = pending_irq(s);

		/* IR2 itself raised with nothing from the slave: the master's own request. */
		if (sirq >= 0)
			return s->vector_base + sirq;
	}
	return m->vector_base + irq;
}

/* INTA on one chip for irq: IRR to ISR (or auto-EOI, with its rotation). */
static void acknowledge(struct pic_chip *c, int irq)
{
	c->irr &= (uint8_t)~(1u << irq);
	if (!c->auto_eoi)
		c->isr |= (uint8_t)(1u << irq);
	else if (c->rotate_on_aeoi)
		c->lowest_prio = (uint8_t)irq;
}

uint8_t pic_ack(struct pic *p)
{
	struct pic_chip *m = &p->chip[PIC_MASTER];
	struct pic_chip *s = &p->chip[PIC_SLAVE];
	int irq = pending_irq_with(m, master_requests(p));
	int sirq;

	if (irq < 0)
		return (uint8_t)(m->vector_base + 7);
	if (irq != PIC_CASCADE_IRQ || m->single || (sirq = pending_irq(s)) < 0) {
		acknowledge(m, irq);
		return (uint8_t)(m->vector_base + irq);
	}
	acknowledge(m, irq);
	acknowledge(s, sirq);
	return (uint8_t)(s->vector_base + sirq);
}
