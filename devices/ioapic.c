/* The I/O APIC: indirect registers, redirection entries, edge and level pins, remote IRR and EOI. */
#include "devices/ioapic.h"

#define ID_SHIFT	24
#define ID_MASK		0xfu

static unsigned entry_mode(uint64_t e)
{
	return (unsigned)(e >> IOAPIC_RTE_DM_SHIFT) & 7u;
}

/*
 * Sends every pending request of an unmasked entry.  An edge request is
 * consumed by its delivery; a level request stays in irr while the line is
 * high, and remote IRR holds off another message until the EOI.
 */
static void service(struct ioapic *io)
{
	unsigned n;

	for (n = 0; n < IOAPIC_PINS; n++) {
		uint64_t e = io->redtbl[n];
		struct ioapic_message msg;

		if (!(io->irr & (1u << n)) || (e & IOAPIC_RTE_MASKED))
			continue;
		if (e & IOAPIC_RTE_LEVEL) {
			if (e & IOAPIC_RTE_REMOTE_IRR)
				continue;
			io->redtbl[n] = e | IOAPIC_RTE_REMOTE_IRR;
		} else {
			io->irr &= ~(1u << n);
		}
		msg.vector = (uint8_t)(e & IOAPIC_RTE_VECTOR);
		msg.dest = (uint8_t)(e >> IOAPIC_RTE_DEST_SHIFT);
		msg.logical = e & IOAPIC_RTE_DEST_LOGICAL;
		msg.level = e & IOAPIC_RTE_LEVEL;
		msg.mode = entry_mode(e);
		io->delivered++;
		if (io->deliver)
			io->deliver(io->ctx, &msg);
	}
}

void ioapic_set_irq(struct ioapic *io, unsigned gsi, bool level)
{
	uint32_t bit;
	uint64_t e;
	bool rising;

	if (gsi >= IOAPIC_PINS)
		return;
	bit = 1u << gsi;
	e = io->redtbl[gsi];
	rising = level && !(io->lines & bit);
	if (level)
		io->lines |= bit;
	else
		io->lines &= ~bit;
	if (e & IOAPIC_RTE_LEVEL) {
		if (level)
			io->irr |= bit;
		else
			io->irr &= ~bit;
	} else if (rising && !(e & IOAPIC_RTE_MASKED)) {
		io->irr |= bit;
	}
	if (io->irr & bit)
		service(io);
}

unsigned ioapic_gsi_of_isa_irq(unsigned irq)
{
	return irq == 0 ? 2 : irq;
}

void ioapic_eoi(struct ioapic *io, uint8_t vector)
{
	unsigned n;
	bool again = false;

	io->eois++;
	for (n = 0; n < IOAPIC_PINS; n++) {
		uint64_t e = io->redtbl[n];

		if ((e & IOAPIC_RTE_VECTOR) != vector || !(e & IOAPIC_RTE_LEVEL) ||
		    !(e & IOAPIC_RTE_REMOTE_IRR))
			continue;
		io->redtbl[n] = e & ~IOAPIC_RTE_REMOTE_IRR;
		again = again || (io->irr & (1u << n));
	}
	/* A line still high asks again at once (QEMU does; a guest that never lowers it just keeps being interrupted). */
	if (again)
		service(io);
}

/* Changes entry n's half; remote IRR and delivery status keep their values. */
static void write_entry(struct ioapic *io, unsigned n, bool high, uint32_t value)
{
	uint64_t e = io->redtbl[n], ro = e & IOAPIC_RTE_RO_BITS;

	if (high)
		e = (e & 0xffffffffull) | ((uint64_t)value << 32);
	else
		e = (e & ~0xffffffffull) | value;
	e = (e & ~IOAPIC_RTE_RO_BITS) | ro;
	/* Edge entries have no remote IRR (Linux clears a stuck one by toggling the trigger mode). */
	if (!(e & IOAPIC_RTE_LEVEL))
		e &= ~IOAPIC_RTE_REMOTE_IRR;
	io->redtbl[n] = e;
	/* A level line held high through a mask is delivered once unmasked. */
	service(io);
}

uint32_t ioapic_read_reg(struct ioapic *io, uint8_t index)
{
	unsigned n;

	switch (index) {
	case IOAPIC_REG_ID:
	case IOAPIC_REG_ARB:
		return (uint32_t)io->id << ID_SHIFT;
	case IOAPIC_REG_VERSION:
		return IOAPIC_VERSION;
	default:
		if (index < IOAPIC_REG_REDTBL)
			return 0;
		n = (index - IOAPIC_REG_REDTBL) / 2u;
		if (n >= IOAPIC_PINS)
			return 0;
		return (index & 1) ? (uint32_t)(io->redtbl[n] >> 32) : (uint32_t)io->redtbl[n];
	}
}

void ioapic_write_reg(struct ioapic *io, uint8_t index, uint32_t value)
{
	unsigned n;

	switch (index) {
	case IOAPIC_REG_ID:
		io->id = (uint8_t)((value >> ID_SHIFT) & ID_MASK);
		return;
	case IOAPIC_REG_VERSION:
	case IOAPIC_REG_ARB:
		return;	/* read only */
	default:
		if (index < IOAPIC_REG_REDTBL)
			return;
		n = (index - IOAPIC_REG_REDTBL) / 2u;
		if (n < IOAPIC_PINS)
			write_entry(io, n, index & 1, value);
	}
}

static uint64_t ioapic_mmio_read(void *opaque, uint64_t offset, unsigned size)
{
	struct ioapic *io = opaque;

	switch (offset & 0xff) {
	case IOAPIC_IOREGSEL:
		return io->ioregsel;
	case IOAPIC_IOWIN:
		return size == 4 ? ioapic_read_reg(io, io->ioregsel) : 0;
	default:
		return 0;
	}
}

static void ioapic_mmio_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
	struct ioapic *io = opaque;

	switch (offset & 0xff) {
	case IOAPIC_IOREGSEL:
		io->ioregsel = (uint8_t)value;
		break;
	case IOAPIC_IOWIN:
		if (size == 4)
			ioapic_write_reg(io, io->ioregsel, (uint32_t)value);
		break;
	case IOAPIC_EOI:
		/* A value above 0xff names no vector: nothing matches, as in QEMU. */
		if (size == 4 && value <= 0xff)
			ioapic_eoi(io, (uint8_t)value);
		break;
	default:
		break;
	}
}

void ioapic_init(struct ioapic *io, ioapic_deliver_fn deliver, void *ctx)
{
	unsigned n;

	io->dev.name = "ioapic";
	io->dev.base = IOAPIC_DEFAULT_BASE;
	io->dev.size = IOAPIC_SIZE;
	io->dev.opaque = io;
	io->dev.read = ioapic_mmio_read;
	io->dev.write = ioapic_mmio_write;
	io->ioregsel = 0;
	io->id = 0;
	io->irr = 0;
	io->lines = 0;
	for (n = 0; n < IOAPIC_PINS; n++)
		io->redtbl[n] = IOAPIC_RTE_MASKED;
	io->deliver = deliver;
	io->ctx = ctx;
	io->delivered = io->eois = 0;
}

struct mmio_device *ioapic_device(struct ioapic *io)
{
	return &io->dev;
}
