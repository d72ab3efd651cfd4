/* The ACPI power-management timer of QEMU's PIIX4: a 24-bit counter at 3.579545 MHz on port 0x608, read-only. */
#ifndef DEVICES_PM_TIMER_H
#define DEVICES_PM_TIMER_H

#include <stdint.h>

#include "devices/io_bus.h"

/* QEMU's piix4 PM I/O base (pm_io_base 0x600) and the timer register inside it. */
#define PM_TIMER_PORT		0x608
#define PM_TIMER_PORTS		4
#define PM_TIMER_HZ		3579545ull
/*
 * 24 bits, as QEMU's acpi_pm_tmr_get() (ACPI_PM_TMR mask 0xffffff): the
 * FADT leaves TMR_VAL_EXT clear to say so.
 */
#define PM_TIMER_BITS		24
#define PM_TIMER_MASK		((1u << PM_TIMER_BITS) - 1)

/*
 * The counter is derived, never stored: ticks = floor((tsc - tsc_base) *
 * PM_TIMER_HZ / tsc_hz), so it is monotonic (modulo 2^24) as long as the
 * TSC is, never drifts from the TSC, and costs nothing while nobody reads
 * it.  tsc_base is the TSC when the VM was made: the timer reads 0 then,
 * as after a reset.
 */
struct pm_timer {
	struct io_device dev;
	uint64_t tsc_hz;			/* > 0 */
	uint64_t tsc_base;
	uint64_t (*read_tsc)(void *ctx);
	void *ctx;
	uint64_t reads;
};

/*
 * tsc_hz must be nonzero; read_tsc(ctx) is the VM clock in the VMM (the
 * host TSC plus the time skipped while halted, the clock the PIT, the
 * local APIC and the guest's TSC follow) and a fake in the unit tests.
 */
void pm_timer_init(struct pm_timer *t, uint64_t tsc_hz, uint64_t (*read_tsc)(void *ctx), void *ctx);

/* The device to register on the bus; it lives inside t. */
const struct io_device *pm_timer_device(struct pm_timer *t);

/* Ticks since pm_timer_init(), not wrapped (the register shows the low 24 bits). */
uint64_t pm_timer_ticks(const struct pm_timer *t);

#endif
