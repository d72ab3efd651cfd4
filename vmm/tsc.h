/* The host TSC and its frequency, calibrated once against the PIT. */
#ifndef VMM_TSC_H
#define VMM_TSC_H

#include <stdint.h>

static inline uint64_t tsc_read(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/*
 * TSC cycles per second, measured on the first call (about 50 ms against
 * PIT channel 2, as Linux's pit_calibrate_tsc() does) and cached.  Under
 * Bochs the TSC counts instructions and the PIT runs on the same emulated
 * clock, so the result is Bochs's instructions per second: the rate that
 * keeps TSC-derived guest clocks consistent with Bochs's own timers.
 * Without a PIT answering, CPUID leaf 0x16's base frequency, else 1 GHz.
 */
uint64_t tsc_hz(void);

#endif
