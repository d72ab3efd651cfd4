/* mmiobench: RDTSC ticks per MMIO round trip (reads and writes of the test device's SCRATCH) against a CPUID exit, with 32-bit paging. */
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/mmio_testdev.h"
#include "guest/lib/paging.h"
#include "guest/lib/x86.h"

#define ENTRIES			1024
#define IDENTITY_END		0x400000u	/* 1:1 with 4 KiB pages; holds the image */
#define DEV_REGION		0xFE800000u	/* PDE 1018, 1:1: the device's default base */
#define WARMUP			64		/* accesses that make the VMM cache the page's translation */
#define ROUNDS			3		/* best of: a host interrupt in one round should not count */
#define DEFAULT_ITERATIONS	2000u
#define MAX_ITERATIONS		1000000u

_Static_assert(TESTDEV_BASE_DEFAULT >> 22 == DEV_REGION >> 22, "the device lies in DEV_REGION's PDE");

static volatile uint32_t pd[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static volatile uint32_t identity_pt[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static volatile uint32_t dev_pt[ENTRIES] __attribute__((aligned(PAGE_SIZE)));

static uint32_t iterations;

static void enable_paging(void)
{
	for (uint32_t i = 1; i < ENTRIES; i++)
		identity_pt[i] = i * PAGE_SIZE | PTE_P | PTE_RW;
	for (uint32_t i = 0; i < ENTRIES; i++)
		dev_pt[i] = (DEV_REGION + i * PAGE_SIZE) | PTE_P | PTE_RW;
	pd[0] = (uint32_t)(uintptr_t)identity_pt | PTE_P | PTE_RW;
	pd[DEV_REGION >> 22] = (uint32_t)(uintptr_t)dev_pt | PTE_P | PTE_RW;
	write_cr3((uintptr_t)pd);
	write_cr0(read_cr0() | CR0_PG | CR0_WP);
}

/*
 * Each timed loop has the same shape: a counter, a branch and one asm
 * statement. The baseline's asm is empty, so subtracting it leaves the
 * access and, for MMIO, its VM exit, the emulation and the re-entry.
 */
static uint64_t time_baseline(uintptr_t p)
{
	uint64_t t0 = rdtsc_fenced();

	for (uint32_t i = 0; i < iterations; i++)
		asm volatile("" : : "r"(p) : "memory");
	return rdtsc_fenced() - t0;
}

static uint64_t time_read(uintptr_t p)
{
	uint64_t t0 = rdtsc_fenced();

	for (uint32_t i = 0; i < iterations; i++) {
		uint32_t v;

		asm volatile("movl (%1), %0" : "=r"(v) : "r"(p) : "memory");
	}
	return rdtsc_fenced() - t0;
}

static uint64_t time_write(uintptr_t p)
{
	uint64_t t0 = rdtsc_fenced();

	for (uint32_t i = 0; i < iterations; i++)
		asm volatile("movl %0, (%1)" : : "r"(i), "r"(p) : "memory");
	return rdtsc_fenced() - t0;
}

static uint64_t time_cpuid(uintptr_t p)
{
	(void)p;
	uint64_t t0 = rdtsc_fenced();

	for (uint32_t i = 0; i < iterations; i++) {
		uint32_t a = 0, b, c = 0, d;

		asm volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d) : : "memory");
	}
	return rdtsc_fenced() - t0;
}

static uint64_t best_of(uint64_t (*timed_loop)(uintptr_t), uintptr_t p)
{
	uint64_t best = UINT64_MAX;

	for (int r = 0; r < ROUNDS; r++) {
		uint64_t t = timed_loop(p);

		if (t < best)
			best = t;
	}
	return best;
}

/* Ticks per operation without 64-bit division (no libgcc): halving both keeps the ratio. */
static uint32_t per_op(uint64_t total, uint64_t baseline)
{
	uint64_t ticks = total > baseline ? total - baseline : 0;
	uint32_t ops = iterations;

	while (ticks >> 32) {
		ticks >>= 1;
		ops >>= 1;
	}
	return ops ? (uint32_t)ticks / ops : 0;
}

static uint32_t rd32(uintptr_t a)
{
	uint32_t v;

	asm volatile("movl (%1), %0" : "=r"(v) : "r"(a) : "memory");
	return v;
}

int guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
	uintptr_t dev = TESTDEV_BASE_DEFAULT, scratch = dev + TESTDEV_SCRATCH;

	CHECK_EQ(magic, MULTIBOOT_LOADER_MAGIC);
	iterations = first_count_arg(mbi, DEFAULT_ITERATIONS, MAX_ITERATIONS);
	if (iterations == 0) {
		printf("guest: mmiobench: the argument must be an iteration count, 1 to %u\n", MAX_ITERATIONS);
		return EXIT_FAIL;
	}
	if (!under_vmm()) {
		printf("guest: mmiobench: not under the VMM; no MMIO test device to time\n");
		return guest_pass("mmiobench");
	}
	check_memory_layout(mbi, IDENTITY_END, IDENTITY_END);
	enable_paging();
	CHECK_EQ(rd32(dev + TESTDEV_ID), TESTDEV_ID_LO);

	uint32_t count0 = rd32(dev + TESTDEV_COUNT);

	for (uint32_t i = 0; i < WARMUP; i++) {
		(void)rd32(scratch);
		asm volatile("movl %0, (%1)" : : "r"(i), "r"(scratch) : "memory");
	}
	uint64_t baseline = best_of(time_baseline, scratch);
	uint64_t reads = best_of(time_read, scratch);
	uint64_t writes = best_of(time_write, scratch);
	uint64_t cpuids = best_of(time_cpuid, scratch);

	/* Every access reached the device once, and the last write stuck. */
	CHECK_EQ(rd32(scratch), iterations - 1);
	CHECK_EQ(rd32(dev + TESTDEV_COUNT), count0 + 1 + 2 * WARMUP + 2 * ROUNDS * iterations + 1);
	CHECK(reads > baseline && writes > baseline && cpuids > baseline);
	printf("guest: mmiobench: %u accesses per loop, cycles_per_read=%u cycles_per_write=%u cycles_per_cpuid=%u\n",
	       iterations, per_op(reads, baseline), per_op(writes, baseline), per_op(cpuids, baseline));
	return guest_pass("mmiobench");
}
