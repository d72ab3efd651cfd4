/* The MMIO test device: ID, scratch, access counter, doorbell and a 4 KiB window, all byte-addressable. */
#include "devices/mmio_testdev.h"

/*
 * Every access is handled byte by byte: register byte i of an access at
 * offset o is byte (o + i) % 8 of the register holding o + i.  That gives
 * sub-register accesses and accesses straddling two registers (or a
 * register and the gap) one meaning without special cases.
 */
static uint8_t reg_byte(uint64_t reg, uint64_t offset)
{
	return (uint8_t)(reg >> (8 * (offset & 7)));
}

static uint64_t with_byte(uint64_t reg, uint64_t offset, uint8_t b)
{
	unsigned shift = 8 * (offset & 7);

	return (reg & ~(0xffull << shift)) | ((uint64_t)b << shift);
}

/* count: the COUNT value this access sees (the accesses before it). */
static uint8_t read_byte(const struct mmio_testdev *t, uint64_t offset, uint64_t count)
{
	if (offset >= MMIO_TESTDEV_WINDOW && offset - MMIO_TESTDEV_WINDOW < MMIO_TESTDEV_WINDOW_SIZE)
		return t->window[offset - MMIO_TESTDEV_WINDOW];
	switch (offset & ~7ull) {
	case MMIO_TESTDEV_REG_ID:
		return reg_byte(MMIO_TESTDEV_ID, offset);
	case MMIO_TESTDEV_REG_SCRATCH:
		return reg_byte(t->scratch, offset);
	case MMIO_TESTDEV_REG_COUNT:
		return reg_byte(count, offset);
	case MMIO_TESTDEV_REG_DOORBELL:
		return reg_byte(t->rings, offset);
	case MMIO_TESTDEV_REG_LAST:
		return reg_byte(t->last, offset);
	default:
		return 0;
	}
}

static uint64_t testdev_read(void *opaque, uint64_t offset, unsigned size)
{
	struct mmio_testdev *t = opaque;
	uint64_t count = t->count++, v = 0;
	unsigned i;

	for (i = 0; i < size; i++)
		v |= (uint64_t)read_byte(t, offset + i, count) << (8 * i);
	return v;
}

static void testdev_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
	struct mmio_testdev *t = opaque;
	bool rang = false;
	unsigned i;

	t->count++;
	for (i = 0; i < size; i++) {
		uint64_t o = offset + i;
		uint8_t b = (uint8_t)(value >> (8 * i));

		if (o >= MMIO_TESTDEV_WINDOW && o - MMIO_TESTDEV_WINDOW < MMIO_TESTDEV_WINDOW_SIZE) {
			t->window[o - MMIO_TESTDEV_WINDOW] = b;
		} else if ((o & ~7ull) == MMIO_TESTDEV_REG_SCRATCH) {
			t->scratch = with_byte(t->scratch, o, b);
		} else if ((o & ~7ull) == MMIO_TESTDEV_REG_DOORBELL) {
			t->last = with_byte(t->last, o, b);
			rang = true;
		}
		/* ID, COUNT, LAST and the gaps ignore writes. */
	}
	/* One ring per access, however many DOORBELL bytes it covers. */
	if (rang)
		t->rings++;
}

void mmio_testdev_init(struct mmio_testdev *t, uint64_t base)
{
	unsigned i;

	t->dev.name = "mmio-testdev";
	t->dev.base = base;
	t->dev.size = MMIO_TESTDEV_SIZE;
	t->dev.opaque = t;
	t->dev.read = testdev_read;
	t->dev.write = testdev_write;
	t->scratch = 0;
	t->count = 0;
	t->rings = 0;
	t->last = 0;
	for (i = 0; i < MMIO_TESTDEV_WINDOW_SIZE; i++)
		t->window[i] = 0;
}

struct mmio_device *mmio_testdev_device(struct mmio_testdev *t)
{
	return &t->dev;
}
