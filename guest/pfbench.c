/* pfbench: page-fault costs in RDTSC ticks: guest #PFs on an unmapped page, and fresh mappings installed and touched. */
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/paging.h"
#include "guest/lib/x86.h"

#define ENTRIES			1024
#define IDENTITY_END		0x400000u	/* mapped 1:1 with 4 KiB pages; holds the image */
#define BENCH_VA		0x40000000u	/* PDE 256, PTE 0: the page that comes and goes */
#define DEFAULT_ITERATIONS	20000u
#define MAX_ITERATIONS		100000000u

static volatile uint32_t pd[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static volatile uint32_t identity_pt[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static volatile uint32_t bench_pt[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static uint8_t frames[2][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

static uint32_t frame(int i)
{
	return (uint32_t)(uintptr_t)frames[i];	/* physical = virtual in the image */
}

/* Ticks per operation without 64-bit division (no libgcc): halving both keeps the ratio. */
static uint32_t per_op(uint64_t ticks, uint32_t ops)
{
	while (ticks >> 32) {
		ticks >>= 1;
		ops >>= 1;
	}
	return ops ? (uint32_t)ticks / ops : 0;
}

static void enable_paging(void)
{
	for (uint32_t pa = PAGE_SIZE; pa < IDENTITY_END; pa += PAGE_SIZE)
		identity_pt[pa / PAGE_SIZE] = pa | PTE_P | PTE_RW;
	pd[0] = (uint32_t)(uintptr_t)identity_pt | PTE_P | PTE_RW;
	pd[BENCH_VA >> 22] = (uint32_t)(uintptr_t)bench_pt | PTE_P | PTE_RW;
	write_cr3((uintptr_t)pd);
	write_cr0(read_cr0() | CR0_PG | CR0_WP);
}

/* Each round unmaps the page (PTE cleared, INVLPG) and reads it: one #PF through the guest's handler. */
static uint32_t bench_guest_pf(uint32_t n, uint64_t *ticks)
{
	uint32_t faults = 0;
	uint64_t t0 = rdtsc_fenced();

	for (uint32_t i = 0; i < n; i++) {
		bench_pt[0] = 0;
		invlpg(BENCH_VA);
		if (pf_read(BENCH_VA, NULL) == 0)
			faults++;
	}
	*ticks = rdtsc_fenced() - t0;
	return faults;
}

/*
 * Each round points the page at the other frame (a new PTE value), INVLPGs
 * it and reads it: under a shadow MMU, an emulated table write and a
 * hidden fault that installs the new translation.
 */
static uint32_t bench_fixed(uint32_t n, uint64_t *ticks)
{
	uint32_t right = 0;
	uint64_t t0 = rdtsc_fenced();

	for (uint32_t i = 0; i < n; i++) {
		bench_pt[0] = frame(i & 1) | PTE_P | PTE_RW;
		invlpg(BENCH_VA);
		if (*(volatile uint32_t *)BENCH_VA == frame_tag(frame(i & 1)))
			right++;
	}
	*ticks = rdtsc_fenced() - t0;
	return right;
}

int guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
	uint64_t ticks;

	CHECK_EQ(magic, MULTIBOOT_LOADER_MAGIC);
	uint32_t n = first_count_arg(mbi, DEFAULT_ITERATIONS, MAX_ITERATIONS);

	if (n == 0) {
		printf("guest: pfbench: the argument must be an iteration count, 1 to %u\n", MAX_ITERATIONS);
		return EXIT_FAIL;
	}
	check_memory_layout(mbi, IDENTITY_END, IDENTITY_END);
	tag_pages(frame(0), sizeof(frames));
	enable_paging();
	printf("guest: pfbench: %u iterations\n", n);

	uint32_t faults = bench_guest_pf(n, &ticks);

	CHECK_EQ(faults, n);
	printf("guest: pfbench: guest_pf=%u cycles_per_guest_pf=%u\n", faults, per_op(ticks, faults));

	uint32_t fixed = bench_fixed(n, &ticks);

	CHECK_EQ(fixed, n);
	printf("guest: pfbench: fixed=%u cycles_per_fix=%u\n", fixed, per_op(ticks, fixed));
	return guest_pass("pfbench");
}
