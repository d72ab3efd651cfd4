/* QEMU's pc-testdev: IOPORT read-back register, FLUSH, IRQ lines through a hook, and the IOMEM window on the MMIO bus. */
#include "devices/pc_testdev.h"

/* IOPORT and IOPORT_BYTE: byte i of the access is register byte (offset + i), if that is below 4. */
static uint32_t ioport_read(void *opaque, uint16_t port, unsigned size)
{
	const struct pc_testdev *t = opaque;
	unsigned offset = port & 3u, i;
	uint32_t v = 0;

	for (i = 0; i < size && offset + i < 4; i++)
		v |= ((t->ioport_data >> (8 * (offset + i))) & 0xffu) << (8 * i);
	return v;
}

static void ioport_write(void *opaque, uint16_t port, unsigned size, uint32_t value)
{
	struct pc_testdev *t = opaque;
	unsigned offset = port & 3u, i;

	for (i = 0; i < size && offset + i < 4; i++) {
		unsigned shift = 8 * (offset + i);

		t->ioport_data = (t->ioport_data & ~(0xffu << shift)) |
				 (((value >> (8 * i)) & 0xffu) << shift);
	}
}

static uint32_t zero_read(void *opaque, uint16_t port, unsigned size)
{
	(void)opaque;
	(void)port;
	(void)size;
	return 0;
}

static void flush_write(void *opaque, uint16_t port, unsigned size, uint32_t value)
{
	struct pc_testdev *t = opaque;

	if (size != 4 || port != PC_TESTDEV_FLUSH)
		return;
	/*
	 * QEMU only makes its host mapping of the page fault once more; no
	 * guest-visible state changes, so counting is all there is to do.
	 */
	t->flushes++;
	t->last_flush = value;
}

static void irq_write(void *opaque, uint16_t port, unsigned size, uint32_t value)
{
	struct pc_testdev *t = opaque;
	unsigned line = port - PC_TESTDEV_IRQ_BASE;
	bool level = value != 0;

	/* The bus guarantees port >= base; only the first byte's port matters. */
	if (size != 1 || line >= PC_TESTDEV_IRQ_LINES)
		return;
	if (level)
		t->irq_levels |= 1u << line;
	else
		t->irq_levels &= ~(1u << line);
	if (t->set_irq)
		t->set_irq(t->irq_ctx, line, level);
}

/* The mmio bus keeps offset + size within the window. */
static uint64_t iomem_read(void *opaque, uint64_t offset, unsigned size)
{
	const struct pc_testdev *t = opaque;
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < size; i++)
		v |= (uint64_t)t->iomem_buf[offset + i] << (8 * i);
	return v;
}

static void iomem_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
	struct pc_testdev *t = opaque;
	unsigned i;

	for (i = 0; i < size; i++)
		t->iomem_buf[offset + i] = (uint8_t)(value >> (8 * i));
}

static void io_init(struct io_device *d, const char *name, uint16_t base, uint16_t count, void *opaque,
		    uint32_t (*read)(void *, uint16_t, unsigned),
		    void (*write)(void *, uint16_t, unsigned, uint32_t))
{
	d->name = name;
	d->base = base;
	d->count = count;
	d->opaque = opaque;
	d->read = read;
	d->write = write;
}

void pc_testdev_init(struct pc_testdev *t, pc_testdev_irq_fn set_irq, void *ctx)
{
	unsigned i;

	io_init(&t->ioport, "pc-testdev-ioport", PC_TESTDEV_IOPORT, PC_TESTDEV_PORTS, t,
		ioport_read, ioport_write);
	io_init(&t->flush, "pc-testdev-flush", PC_TESTDEV_FLUSH, PC_TESTDEV_PORTS, t,
		zero_read, flush_write);
	io_init(&t->ioport_byte, "pc-testdev-ioport-byte", PC_TESTDEV_IOPORT_BYTE,
		PC_TESTDEV_PORTS, t, ioport_read, ioport_write);
	io_init(&t->irq, "pc-testdev-irq", PC_TESTDEV_IRQ_BASE, PC_TESTDEV_IRQ_LINES, t,
		zero_read, irq_write);
	t->iomem.name = "pc-testdev-iomem";
	t->iomem.base = PC_TESTDEV_IOMEM_BASE;
	t->iomem.size = PC_TESTDEV_IOMEM_SIZE;
	t->iomem.opaque = t;
	t->iomem.read = iomem_read;
	t->iomem.write = iomem_write;
	t->ioport_data = 0;
	t->irq_levels = 0;
	t->set_irq = set_irq;
	t->irq_ctx = ctx;
	t->flushes = 0;
	t->last_flush = 0;
	for (i = 0; i < PC_TESTDEV_IOMEM_SIZE; i++)
		t->iomem_buf[i] = 0;
}

int pc_testdev_attach(struct pc_testdev *t, struct io_bus *io, struct mmio_bus *mmio)
{
	if (io_bus_register(io, &t->ioport) || io_bus_register(io, &t->flush) ||
	    io_bus_register(io, &t->ioport_byte) || io_bus_register(io, &t->irq))
		return -1;
	return mmio_bus_register(mmio, &t->iomem);
}
