/* Benchmark: invalidating every MMIO spte by a memslot-generation bump against a walk over all shadow pages clearing them. */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mmu/mmu.h"
#include "mmu/mmu_hooks.h"
#include "mmu/shadow_page.h"
#include "mmu/spte.h"

#define PAGE_SIZE 4096
#define RUNS 9
/* Bumps per timed run: one bump is a few nanoseconds, far below the clock's resolution. */
#define BUMPS_PER_RUN 1000
#define MMIO_BASE_GFN 0x100000ull	/* 4 GiB: what the sptes name does not matter, no memslot backs it */

/* The host: plain aligned pages (the "physical" address is the pointer), no memslots, one generation. */
static uint64_t generation = 1;

void *mmu_host_alloc_page(struct mmu *mmu, bool below_4g, uint64_t *pa)
{
	void *page = aligned_alloc(PAGE_SIZE, PAGE_SIZE);

	(void)mmu;
	(void)below_4g;
	if (page)
		memset(page, 0, PAGE_SIZE);
	*pa = (uintptr_t)page;
	return page;
}

void mmu_host_free_page(struct mmu *mmu, void *page, uint64_t pa)
{
	(void)mmu;
	(void)pa;
	free(page);
}

bool mmu_host_memslot(struct mmu *mmu, uint64_t gfn, struct mmu_memslot *slot)
{
	(void)mmu;
	(void)gfn;
	(void)slot;
	return false;
}

uint64_t mmu_host_memslot_generation(struct mmu *mmu)
{
	(void)mmu;
	return generation;
}

void *mmu_host_guest_ptr(struct mmu *mmu, uint64_t gpa, uint64_t len)
{
	(void)mmu;
	(void)gpa;
	(void)len;
	return NULL;
}

void mmu_host_request(struct mmu_vcpu *vcpu, unsigned requests)
{
	(void)vcpu;
	(void)requests;
}

void mmu_host_flush_gva(struct mmu_vcpu *vcpu, uint64_t gva)
{
	(void)vcpu;
	(void)gva;
}

void mmu_host_inject_page_fault(struct mmu_vcpu *vcpu, uint64_t gva, uint32_t error_code)
{
	(void)vcpu;
	(void)gva;
	(void)error_code;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *msg)
{
	fprintf(stderr, "bench_mmio: %s\n", msg);
	exit(1);
}

/* Level-1 direct shadow pages (as paging-off guests get) holding n MMIO sptes, one per gfn from MMIO_BASE_GFN. */
static void build(struct mmu *mmu, size_t n)
{
	union sp_role role = { .word = 0 };
	size_t pages = (n + SPTES_PER_PAGE - 1) / SPTES_PER_PAGE;

	role.level = 1;
	role.direct = 1;
	role.access = ACC_ALL;
	if (!mmu_init(mmu, 40, pages + MMU_MIN_SHADOW_PAGES))
		die("mmu_init failed");
	for (size_t p = 0; p < pages; p++)
		if (!sp_get(mmu, MMIO_BASE_GFN + p * SPTES_PER_PAGE, role))
			die("out of memory");
}

/* Puts an MMIO spte of the current generation in the first n slots (untimed: both ways start from this). */
static void fill(struct mmu *mmu, size_t n)
{
	size_t k = 0;

	for (struct shadow_page *sp = mmu->active_tail; sp && k < n; sp = sp->active_prev)
		for (unsigned i = 0; i < SPTES_PER_PAGE && k < n; i++, k++)
			sp->spt[i] = make_mmio_spte(MMIO_SPTE_SHADOW, sp->gfn + i, generation,
						    ACC_WRITE | ACC_USER);
}

/* The MMIO sptes the fast path would still serve. */
static size_t current_mmio_sptes(struct mmu *mmu)
{
	size_t n = 0;

	for (struct shadow_page *sp = mmu->active_head; sp; sp = sp->active_next)
		for (unsigned i = 0; i < SPTES_PER_PAGE; i++)
			n += is_shadow_mmio_spte(sp->spt[i]) &&
			     mmio_generation_current(mmio_spte_generation(sp->spt[i]), generation);
	return n;
}

/* A memslot change as the VMM makes it: update in progress, then the next generation, then the MMU told. */
static void bump(struct mmu *mmu)
{
	generation |= MEMSLOT_GEN_UPDATE_IN_PROGRESS;
	generation = (generation & ~MEMSLOT_GEN_UPDATE_IN_PROGRESS) + 1;
	if (mmu_mmio_generation_changed(mmu, generation))
		die("the generation wrapped during the benchmark");
}

/* Nanoseconds per invalidation of all n sptes by generation bump, times BUMPS_PER_RUN (the run's total). */
static uint64_t time_bump(struct mmu *mmu, size_t n)
{
	uint64_t t0, t1;

	fill(mmu, n);
	if (current_mmio_sptes(mmu) != n)
		die("fill left the wrong number of current MMIO sptes");
	t0 = now_ns();
	for (int b = 0; b < BUMPS_PER_RUN; b++)
		bump(mmu);
	t1 = now_ns();
	if (current_mmio_sptes(mmu) != 0)
		die("an MMIO spte is still current after the bump");
	return t1 - t0;
}

/* Nanoseconds to clear every MMIO spte by visiting every spte of every shadow page. */
static uint64_t time_walk(struct mmu *mmu, size_t n)
{
	uint64_t t0, t1;

	fill(mmu, n);
	t0 = now_ns();
	for (struct shadow_page *sp = mmu->active_head; sp; sp = sp->active_next)
		for (unsigned i = 0; i < SPTES_PER_PAGE; i++)
			if (is_shadow_mmio_spte(sp->spt[i]))
				sp->spt[i] = 0;
	t1 = now_ns();
	if (current_mmio_sptes(mmu) != 0)
		die("the walk left an MMIO spte");
	return t1 - t0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t median(struct mmu *mmu, size_t n, uint64_t (*how)(struct mmu *, size_t))
{
	uint64_t t[RUNS];

	for (int r = 0; r < RUNS; r++)
		t[r] = how(mmu, n);
	qsort(t, RUNS, sizeof(t[0]), cmp_u64);
	return t[RUNS / 2];
}

int main(void)
{
	static const size_t sizes[] = { 1000, 10000, 100000, 1000000 };
	static struct mmu mmu;
	double bump_ns[4], walk_ns[4];

	printf("Invalidating every MMIO spte (median of %d runs; a bump is the mean of %d)\n", RUNS, BUMPS_PER_RUN);
	printf("%8s %12s %14s %12s %14s\n", "N", "shadow pages", "bump ns", "walk ns", "walk/bump");
	for (size_t k = 0; k < 4; k++) {
		build(&mmu, sizes[k]);
		walk_ns[k] = (double)median(&mmu, sizes[k], time_walk);
		bump_ns[k] = (double)median(&mmu, sizes[k], time_bump) / BUMPS_PER_RUN;
		printf("%8zu %12llu %14.1f %12.0f %13.0fx\n", sizes[k], (unsigned long long)mmu.stats.shadow_pages,
		       bump_ns[k], walk_ns[k], walk_ns[k] / bump_ns[k]);
		mmu_destroy(&mmu);
	}
	for (size_t k = 0; k < 4; k++)
		printf("bench: mmio_invalidate n=%zu bump_ns=%.1f walk_ns=%.0f\n", sizes[k], bump_ns[k], walk_ns[k]);
	return 0;
}
