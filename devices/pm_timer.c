/* The ACPI PM timer: TSC cycles turned into 3.579545 MHz ticks when the guest reads port 0x608. */
#include "devices/pm_timer.h"

uint64_t pm_timer_ticks(const struct pm_timer *t)
{
	uint64_t delta = t->read_tsc(t->ctx) - t->tsc_base;
	uint64_t whole = delta / t->tsc_hz, part = delta % t->tsc_hz;

	/*
	 * delta * HZ / tsc_hz without a 128-bit product: whole seconds, then
	 * the remainder.  part < tsc_hz, so part * HZ stays below 2^64 for any
	 * TSC up to 5 THz; whole * HZ may wrap after centuries, and the
	 * register keeps only the low 24 bits anyway (2^24 divides 2^64).
	 */
	return whole * PM_TIMER_HZ + part * PM_TIMER_HZ / t->tsc_hz;
}

/*
 * QEMU's timer only takes 4-byte reads (valid.min/max_access_size 4); the
 * ACPI spec asks for 32-bit accesses.  A narrower read here gets the low
 * bytes of the counter (the bus masks it), which is what a guest that
 * breaks the rule on real PIIX4 hardware sees.  A read starting at 0x609..
 * 0x60b gets the counter shifted as if the register were byte-addressed.
 */
static uint32_t pm_timer_read(void *opaque, uint16_t port, unsigned size)
{
	struct pm_timer *t = opaque;
	uint32_t v = (uint32_t)pm_timer_ticks(t) & PM_TIMER_MASK;

	(void)size;
	t->reads++;
	return v >> (8 * (port - t->dev.base));
}

/* The register is read-only: writes are dropped, as QEMU's acpi_pm_tmr_write() does. */
static void pm_timer_write(void *opaque, uint16_t port, unsigned size, uint32_t value)
{
	(void)opaque;
	(void)port;
	(void)size;
	(void)value;
}

void pm_timer_init(struct pm_timer *t, uint64_t tsc_hz, uint64_t (*read_tsc)(void *ctx), void *ctx)
{
	t->dev.name = "pm_timer";
	t->dev.base = PM_TIMER_PORT;
	t->dev.count = PM_TIMER_PORTS;
	t->dev.opaque = t;
	t->dev.read = pm_timer_read;
	t->dev.write = pm_timer_write;
	t->tsc_hz = tsc_hz ? tsc_hz : 1;
	t->read_tsc = read_tsc;
	t->ctx = ctx;
	t->tsc_base = read_tsc(ctx);
	t->reads = 0;
}

const struct io_device *pm_timer_device(struct pm_timer *t)
{
	return &t->dev;
}
