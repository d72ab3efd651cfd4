/* exitcost: average TSC ticks per exiting instruction (CPUID, OUT, IN), empty-loop cost subtracted. */
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/x86.h"

#define ITERATIONS	1000
#define ROUNDS		3	/* best of: a host interrupt during one round should not count */
#define POST_PORT	0x80
#define NO_DEVICE_PORT	0x1234

/*
 * Each timed loop has the same shape: a counter, a branch and one asm
 * statement. The baseline's asm is empty, so subtracting it leaves the
 * instruction and, under the VMM, its VM exit and re-entry.
 */
static uint64_t time_baseline(void)
{
	uint64_t t0 = rdtsc_fenced();

	for (uint32_t i = 0; i < ITERATIONS; i++)
		asm volatile("" : : : "memory");
	return rdtsc_fenced() - t0;
}

static uint64_t time_cpuid(void)
{
	uint64_t t0 = rdtsc_fenced();

	for (uint32_t i = 0; i < ITERATIONS; i++) {
		uint32_t a = 0, b, c = 0, d;

		asm volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d) : : "memory");
	}
	return rdtsc_fenced() - t0;
}

static uint64_t time_io_out(void)
{
	uint64_t t0 = rdtsc_fenced();

	for (uint32_t i = 0; i < ITERATIONS; i++)
		outb(POST_PORT, 0);
	return rdtsc_fenced() - t0;
}

static uint64_t time_io_in(void)
{
	uint64_t t0 = rdtsc_fenced();

	for (uint32_t i = 0; i < ITERATIONS; i++)
		(void)inb(NO_DEVICE_PORT);
	return rdtsc_fenced() - t0;
}

static uint64_t best_of(uint64_t (*timed_loop)(void))
{
	uint64_t best = UINT64_MAX;

	for (int r = 0; r < ROUNDS; r++) {
		uint64_t t = timed_loop();

		if (t < best)
			best = t;
	}
	return best;
}

/* 32-bit division only (no libgcc); a total beyond 2^32 ticks saturates rather than wraps. */
static uint32_t ticks_per_op(uint64_t total, uint64_t baseline)
{
	uint64_t diff = total > baseline ? total - baseline : 0;

	if (diff > UINT32_MAX)
		diff = UINT32_MAX;
	return (uint32_t)diff / ITERATIONS;
}

int guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	uint64_t baseline = best_of(time_baseline);
	uint64_t cpuid_total = best_of(time_cpuid);
	uint64_t out_total = best_of(time_io_out);
	uint64_t in_total = best_of(time_io_in);

	CHECK(cpuid_total > 0 && out_total > 0 && in_total > 0);
	printf("guest: exitcost cpuid=%u io_out=%u io_in=%u\n",
	       ticks_per_op(cpuid_total, baseline), ticks_per_op(out_total, baseline),
	       ticks_per_op(in_total, baseline));
	return guest_pass("exitcost");
}
