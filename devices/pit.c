/* 8254 PIT model after QEMU's i8254: counts derived from the VM clock, IRQ 0 edges from channel 0, port 0x61. */
#include <stddef.h>

#include "devices/pit.h"

#define PIT_CMD		3		/* port offset of the mode/command register */
#define RW_LATCH	0
#define RW_LSB		1
#define RW_MSB		2
#define RW_WORD		3
#define READ_BACK	3		/* channel field 3 in a command: the read-back command */
#define READ_BACK_NO_COUNT	0x20
#define READ_BACK_NO_STATUS	0x10
#define STATUS_NULL_COUNT	0x40
#define STATUS_OUT		0x80
#define PORT61_GATE2	0x01
#define PORT61_SPEAKER	0x02
#define PORT61_REFRESH	0x10
#define PORT61_OUT2	0x20

uint64_t pit_cycles_to_ticks(uint64_t cycles, uint64_t clock_hz, uint64_t hz)
{
	/* The remainder is below clock_hz (< 2^43 for any real TSC), hz < 2^21: the product fits. */
	return cycles / clock_hz * hz + cycles % clock_hz * hz / clock_hz;
}

uint64_t pit_ticks_to_cycles(uint64_t ticks, uint64_t clock_hz, uint64_t hz)
{
	return ticks / hz * clock_hz + (ticks % hz * clock_hz + hz - 1) / hz;
}

static bool periodic(const struct pit_channel *c)
{
	return c->mode == 2 || c->mode == 3;
}

/* Ticks since the channel (re)started counting. */
static uint64_t elapsed(struct pit *p, const struct pit_channel *c)
{
	uint64_t now = p->now(p->ctx);

	return now > c->load_time ? pit_cycles_to_ticks(now - c->load_time, p->clock_hz, PIT_HZ) : 0;
}

/* QEMU's pit_get_count(): what the counting element holds d ticks after loading. */
static uint16_t count_at(const struct pit_channel *c, uint64_t d)
{
	switch (c->mode) {
	case 2:
		return (uint16_t)(c->count - d % c->count);
	case 3:
		/* Square wave: the element counts down by two, twice per period. */
		return (uint16_t)(c->count - (2 * d) % c->count);
	default:
		return (uint16_t)(c->count - d);
	}
}

/* QEMU's pit_get_out(). */
static bool out_at(const struct pit_channel *c, uint64_t d)
{
	switch (c->mode) {
	case 0:
		return d >= c->count;
	case 1:
		return d < c->count;
	case 2:
		return d % c->count == 0 && d != 0;
	case 3:
		return d % c->count < (c->count + 1) / 2;
	default:
		return d == c->count;
	}
}

uint16_t pit_read_count(struct pit *p, unsigned n)
{
	const struct pit_channel *c = &p->ch[n % 3];

	return count_at(c, elapsed(p, c));
}

bool pit_output(struct pit *p, unsigned n)
{
	const struct pit_channel *c = &p->ch[n % 3];

	return out_at(c, elapsed(p, c));
}

static void load_count(struct pit *p, struct pit_channel *c, uint32_t value)
{
	c->count = value ? value : 0x10000;
	c->load_time = p->now(p->ctx);
	c->irqs_done = 0;
	c->null_count = false;
}

static void latch_count(struct pit *p, struct pit_channel *c)
{
	if (c->count_latched)
		return;
	c->latched_count = count_at(c, elapsed(p, c));
	c->count_latched = true;
	c->latched_bytes_left = c->rw_mode == RW_WORD ? 2 : 1;
}

static void latch_status(struct pit *p, struct pit_channel *c)
{
	if (c->status_latched)
		return;
	c->status = (uint8_t)((out_at(c, elapsed(p, c)) ? STATUS_OUT : 0) |
			      (c->null_count ? STATUS_NULL_COUNT : 0) |
			      (c->rw_mode << 4) | (c->mode << 1) | (c->bcd ? 1 : 0));
	c->status_latched = true;
}

static void write_command(struct pit *p, uint8_t value)
{
	unsigned channel = value >> 6;
	struct pit_channel *c;
	unsigned i;

	if (channel == READ_BACK) {
		for (i = 0; i < 3; i++) {
			if (!(value & (2u << i)))
				continue;
			if (!(value & READ_BACK_NO_COUNT))
				latch_count(p, &p->ch[i]);
			if (!(value & READ_BACK_NO_STATUS))
				latch_status(p, &p->ch[i]);
		}
		return;
	}
	c = &p->ch[channel];
	if (((value >> 4) & 3) == RW_LATCH) {
		latch_count(p, c);
		return;
	}
	c->rw_mode = (value >> 4) & 3;
	/* Modes 6 and 7 are 2 and 3 with a don't-care bit. */
	c->mode = (value >> 1) & 7;
	if (c->mode > 5)
		c->mode -= 4;
	c->bcd = value & 1;
	c->write_msb_next = false;
	c->read_msb_next = false;
	c->null_count = true;
}

static void write_counter(struct pit *p, struct pit_channel *c, uint8_t value)
{
	switch (c->rw_mode) {
	case RW_LSB:
		load_count(p, c, value);
		break;
	case RW_MSB:
		load_count(p, c, (uint32_t)value << 8);
		break;
	default:
		if (!c->write_msb_next) {
			c->write_lsb = value;
			c->write_msb_next = true;
		} else {
			c->write_msb_next = false;
			load_count(p, c, c->write_lsb | (uint32_t)value << 8);
		}
		break;
	}
}

/* The status byte first, then a latched count, then the live count; LSB/MSB as the channel's mode says. */
static uint8_t read_counter(struct pit *p, struct pit_channel *c)
{
	uint16_t count;

	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	if (c->count_latched) {
		bool msb = c->rw_mode == RW_MSB || (c->rw_mode == RW_WORD && c->latched_bytes_left == 1);

		if (--c->latched_bytes_left == 0)
			c->count_latched = false;
		return msb ? (uint8_t)(c->latched_count >> 8) : (uint8_t)c->latched_count;
	}
	count = count_at(c, elapsed(p, c));
	switch (c->rw_mode) {
	case RW_LSB:
		return (uint8_t)count;
	case RW_MSB:
		return (uint8_t)(count >> 8);
	default:
		c->read_msb_next = !c->read_msb_next;
		return c->read_msb_next ? (uint8_t)count : (uint8_t)(count >> 8);
	}
}

static uint8_t pit_read8(void *opaque, unsigned offset)
{
	struct pit *p = opaque;

	/* The command register is write-only: QEMU ignores the read and answers 0. */
	if (offset == PIT_CMD)
		return 0;
	return read_counter(p, &p->ch[offset]);
}

static void pit_write8(void *opaque, unsigned offset, uint8_t value)
{
	struct pit *p = opaque;

	if (offset == PIT_CMD)
		write_command(p, value);
	else
		write_counter(p, &p->ch[offset], value);
}

static uint32_t pit_read(void *opaque, uint16_t port, unsigned size)
{
	struct pit *p = opaque;

	return io_read_bytewise(&p->dev, port, size, pit_read8);
}

static void pit_write(void *opaque, uint16_t port, unsigned size, uint32_t value)
{
	struct pit *p = opaque;

	io_write_bytewise(&p->dev, port, size, value, pit_write8);
}

/* QEMU's pit_set_gate(): a rising gate restarts modes 1, 2, 3 and 5; modes 0 and 4 count on regardless. */
static void set_gate(struct pit *p, struct pit_channel *c, bool gate)
{
	if (gate && !c->gate && c->mode != 0 && c->mode != 4) {
		c->load_time = p->now(p->ctx);
		c->irqs_done = 0;
	}
	c->gate = gate;
}

/*
 * Port 0x61 as QEMU's pcspk: bit 0 channel 2's gate, bit 1 the speaker
 * data bit, bit 4 a refresh bit that toggles on every read (loops that wait
 * for it to change end at once), bit 5 channel 2's OUT (what calibration
 * loops poll).  Bits 2-3 and 6-7 read 0.
 */
static uint8_t port61_read8(void *opaque, unsigned offset)
{
	struct pit *p = opaque;
	struct pit_channel *c = &p->ch[2];
	uint8_t value;

	(void)offset;
	p->speaker_data ^= PORT61_REFRESH;
	value = (uint8_t)((c->gate ? PORT61_GATE2 : 0) | (p->speaker_data & (PORT61_SPEAKER | PORT61_REFRESH)));
	if (out_at(c, elapsed(p, c)))
		value |= PORT61_OUT2;
	return value;
}

static void port61_write8(void *opaque, unsigned offset, uint8_t value)
{
	struct pit *p = opaque;

	(void)offset;
	set_gate(p, &p->ch[2], value & PORT61_GATE2);
	p->speaker_data = (uint8_t)((p->speaker_data & PORT61_REFRESH) | (value & PORT61_SPEAKER));
}

static uint32_t port61_read(void *opaque, uint16_t port, unsigned size)
{
	struct pit *p = opaque;

	return io_read_bytewise(&p->port61, port, size, port61_read8);
}

static void port61_write(void *opaque, uint16_t port, unsigned size, uint32_t value)
{
	struct pit *p = opaque;

	io_write_bytewise(&p->port61, port, size, value, port61_write8);
}

void pit_init(struct pit *p, uint64_t clock_hz, uint64_t (*now)(void *ctx),
	      void (*raise_irq0)(void *ctx), void *ctx)
{
	unsigned i;

	*p = (struct pit){ 0 };
	p->clock_hz = clock_hz ? clock_hz : 1;
	p->now = now;
	p->raise_irq0 = raise_irq0;
	p->ctx = ctx;
	for (i = 0; i < 3; i++) {
		struct pit_channel *c = &p->ch[i];

		c->mode = 3;
		c->rw_mode = RW_WORD;
		c->gate = i != 2;
		load_count(p, c, 0);
	}
	/* No IRQ 0 until the guest programs channel 0 (QEMU's BIOS would have): see pit_update(). */
	p->ch[0].null_count = true;
	p->dev = (struct io_device){ .name = "pit", .base = PIT_BASE, .count = PIT_PORTS,
				     .opaque = p, .read = pit_read, .write = pit_write };
	p->port61 = (struct io_device){ .name = "port61", .base = PIT_PORT61, .count = 1,
					.opaque = p, .read = port61_read, .write = port61_write };
}

const struct io_device *pit_device(struct pit *p)
{
	return &p->dev;
}

const struct io_device *pit_port61_device(struct pit *p)
{
	return &p->port61;
}

/*
 * Channel 0's OUT drives IRQ 0.  In modes 2 and 3 it rises once per
 * period, the k-th time k counts after loading; in the one-shot modes
 * once, when the count runs out.  A channel whose control word was written
 * but whose count was not (null count) raises nothing: a real 8254 stops
 * counting until the new count arrives.
 */
static uint64_t irqs_due(const struct pit_channel *c, uint64_t d)
{
	if (periodic(c))
		return d / c->count;
	return d >= c->count ? 1 : 0;
}

void pit_update(struct pit *p)
{
	struct pit_channel *c = &p->ch[0];
	uint64_t due;

	if (c->null_count || !p->raise_irq0)
		return;
	due = irqs_due(c, elapsed(p, c));
	if (due > c->irqs_done) {
		c->irqs_done = due;
		p->irq0_raised++;
		p->raise_irq0(p->ctx);
	}
}

uint64_t pit_next_deadline(const struct pit *p)
{
	const struct pit_channel *c = &p->ch[0];

	if (c->null_count || (!periodic(c) && c->irqs_done))
		return PIT_NO_DEADLINE;
	return c->load_time + pit_ticks_to_cycles((c->irqs_done + 1) * c->count, p->clock_hz, PIT_HZ);
}
