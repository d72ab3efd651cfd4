/* Benchmark: invalidating every shadow page, the O(1) generation bump plus batches against the mmu_zap_all() walk, at 1k to 1M pages. */
#define _DEFAULT_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "mmu/mmu.h"
#include "mmu/mmu_hooks.h"
#include "mmu/shadow_page.h"

#define PAGE_SIZE 4096ull
/* Invalidate calls per timed run: one is a few nanoseconds, below the clock's resolution. */
#define CALLS_PER_RUN 1000
#define SYNTH_GFN 0x1000000ull

/*
 * The host: every host page comes from one big anonymous mapping made for
 * each build, so 1M shadow tables cost address space, not memory: a table
 * nothing writes stays the kernel's zero page (the builder reads each one
 * once, untimed, so that no timed access takes a page fault).  The
 * "physical" address is the pointer.  Freed pages go on a stack kept
 * outside the arena (a link inside a freed table would write it), and are
 * zeroed when handed out again.
 */
static struct {
	uint8_t *base;
	size_t pages, next;
	void **free_stack;
	size_t nr_free;
} arena;
static unsigned pending_requests;	/* the one vCPU's MMU_REQ_* not yet served */

static void die(const char *msg)
{
	fprintf(stderr, "bench_zap: %s\n", msg);
	exit(1);
}

static void arena_init(size_t pages)
{
	arena.base = mmap(NULL, pages * PAGE_SIZE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (arena.base == MAP_FAILED)
		die("mmap of the page arena failed");
	arena.pages = pages;
	arena.next = 0;
	arena.free_stack = malloc(pages * sizeof(*arena.free_stack));
	if (!arena.free_stack)
		die("out of memory");
	arena.nr_free = 0;
}

static void arena_destroy(void)
{
	munmap(arena.base, arena.pages * PAGE_SIZE);
	free(arena.free_stack);
}

void *mmu_host_alloc_page(struct mmu *mmu, bool below_4g, uint64_t *pa)
{
	void *page;

	(void)mmu;
	(void)below_4g;
	if (arena.nr_free) {
		page = arena.free_stack[--arena.nr_free];
		memset(page, 0, PAGE_SIZE);
	} else if (arena.next < arena.pages) {
		page = arena.base + arena.next++ * PAGE_SIZE;	/* fresh: already zero */
	} else {
		return NULL;
	}
	*pa = (uintptr_t)page;
	return page;
}

void mmu_host_free_page(struct mmu *mmu, void *page, uint64_t pa)
{
	(void)mmu;
	(void)pa;
	arena.free_stack[arena.nr_free++] = page;
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
	return 1;
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
	pending_requests |= requests;
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

static union sp_role direct_role(unsigned level)
{
	union sp_role role = { .word = 0 };

	role.level = level;
	role.direct = 1;
	role.access = ACC_ALL;
	role.cr0_wp = 1;
	return role;
}

/* What the host does before the guest's next entry. */
static void serve_requests(struct mmu_vcpu *v)
{
	uint64_t root;

	if ((pending_requests & MMU_REQ_RELOAD_ROOT) && mmu_load_root(v, &root))
		die("mmu_load_root failed");
	pending_requests = 0;
}

/*
 * n shadow pages as a guest with paging off and large pages would have
 * them: the vCPU's four roots, then direct level-2 pages each linking up to
 * 512 direct level-1 pages, in the order faults would make them (a parent
 * before its children).  The tables hold no leaves: zapping one is the
 * least a walk must do (leaves would add their rmap work to both ways).
 */
static void build(struct mmu *mmu, struct mmu_vcpu *v, size_t n)
{
	uint64_t gfn = SYNTH_GFN;
	size_t made;

	/* n tables, one children page per 512, headers, the PAE root, slack. */
	arena_init(n + n / 256 + n / 16 + 256);
	if (!mmu_init(mmu, 40, n + MMU_MIN_SHADOW_PAGES))
		die("mmu_init failed");
	if (!mmu_vcpu_init(mmu, v))
		die("mmu_vcpu_init failed");
	serve_requests(v);
	made = mmu->stats.shadow_pages;
	while (made < n) {
		struct shadow_page *parent = sp_create(mmu, gfn, direct_role(2));

		if (!parent)
			die("out of memory");
		made++;
		for (unsigned i = 0; i < SPTES_PER_PAGE && made < n; i++, made++) {
			struct shadow_page *child = sp_create(mmu, gfn + (uint64_t)i * SPTES_PER_PAGE, direct_role(1));

			if (!child || !sp_link(mmu, parent, i, child))
				die("out of memory");
		}
		gfn += (uint64_t)SPTES_PER_PAGE * SPTES_PER_PAGE;
	}
	if (mmu->stats.shadow_pages != n)
		die("built the wrong number of pages");
	/* Map every table (the zero page for those never written) so that no timed access faults. */
	for (struct shadow_page *sp = mmu->active_head; sp; sp = sp->active_next)
		(void)*(volatile uint64_t *)sp->spt;
}

static void teardown(struct mmu *mmu)
{
	mmu_destroy(mmu);
	arena_destroy();
}

struct fast_run {
	double call_ns;		/* one mmu_invalidate_all() (mean of CALLS_PER_RUN) */
	uint64_t *step_ns;	/* each mmu_zap_obsolete_step() of the drain */
	size_t steps;
	uint64_t longest_batch;
};

/* The fast way: the invalidate call, then the batches one by one (each timed alone), after the vCPU reloaded. */
static void run_fast(size_t n, struct fast_run *r)
{
	static struct mmu mmu;
	static struct mmu_vcpu v;
	uint64_t t0, t1;
	bool more;

	build(&mmu, &v, n);
	t0 = now_ns();
	for (int c = 0; c < CALLS_PER_RUN; c++)
		mmu_invalidate_all(&mmu);
	t1 = now_ns();
	r->call_ns = (double)(t1 - t0) / CALLS_PER_RUN;
	if (mmu.stats.obsolete_pages != n || mmu.stats.mmu_shadow_zapped != 0)
		die("the invalidation did not leave every page obsolete and untouched");
	serve_requests(&v);
	r->steps = 0;
	do {
		t0 = now_ns();
		more = mmu_zap_obsolete_step(&mmu);
		t1 = now_ns();
		r->step_ns[r->steps++] = t1 - t0;
	} while (more);
	if (mmu.stats.obsolete_pages != 0 || mmu.stats.obsolete_zapped != n)
		die("the batches did not free every obsolete page");
	r->longest_batch = mmu.stats.zap_longest_batch;
	teardown(&mmu);
}

/* The slow way: one mmu_zap_all() walk over every page, timed whole. */
static uint64_t run_slow(size_t n)
{
	static struct mmu mmu;
	static struct mmu_vcpu v;
	uint64_t t0, t1;

	build(&mmu, &v, n);
	t0 = now_ns();
	mmu_zap_all(&mmu);
	t1 = now_ns();
	if (mmu.stats.mmu_shadow_zapped != n)
		die("the walk did not zap every page");
	teardown(&mmu);
	return t1 - t0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

#define SIZES 4
#define RUNS 5

/* Optional argument: only the sizes from this number of pages on (a quick look at one row). */
int main(int argc, char **argv)
{
	static const size_t sizes[SIZES] = { 1000, 10000, 100000, 1000000 };
	double call_ns[SIZES], step_ns[SIZES], median_step_ns[SIZES], walk_ns[SIZES];
	uint64_t longest_batch[SIZES];
	size_t first = 0, from = argc > 1 ? strtoull(argv[1], NULL, 0) : 0;

	while (first < SIZES - 1 && sizes[first] < from)
		first++;
	for (size_t k = first; k < SIZES; k++) {
		size_t n = sizes[k], max_steps = n / MMU_ZAP_BATCH + 2;
		int runs = RUNS;
		uint64_t *step_min = malloc(max_steps * sizeof(*step_min)), walks[RUNS], longest = 0;
		double calls[RUNS];
		struct fast_run r = { .step_ns = malloc(max_steps * sizeof(uint64_t)) };
		size_t steps = 0;

		if (!step_min || !r.step_ns)
			die("out of memory");
		/*
		 * Every run builds the same pages in the same order, so step i zaps
		 * the same pages each time: its time is the fastest of the runs (an
		 * interrupt or a preemption in one run says nothing about the MMU),
		 * and the longest step is the slowest of those.
		 */
		for (int run = 0; run < runs; run++) {
			run_fast(n, &r);
			calls[run] = r.call_ns;
			if (run == 0)
				steps = r.steps;
			if (r.steps != steps)
				die("the runs zapped in different numbers of steps");
			for (size_t i = 0; i < steps; i++)
				step_min[i] = run == 0 || r.step_ns[i] < step_min[i] ? r.step_ns[i] : step_min[i];
			walks[run] = run_slow(n);
		}
		for (size_t i = 0; i < steps; i++)
			longest = step_min[i] > longest ? step_min[i] : longest;
		qsort(step_min, steps, sizeof(step_min[0]), cmp_u64);
		median_step_ns[k] = (double)step_min[steps / 2];
		qsort(calls, runs, sizeof(calls[0]), cmp_double);
		qsort(walks, runs, sizeof(walks[0]), cmp_u64);
		call_ns[k] = calls[runs / 2];
		walk_ns[k] = (double)walks[runs / 2];
		step_ns[k] = (double)longest;
		longest_batch[k] = r.longest_batch;
		free(step_min);
		free(r.step_ns);
	}

	printf("Invalidating every shadow page: mmu_invalidate_all() (mean of %d calls) and its batches of at most %d\n"
	       "pages against one mmu_zap_all() walk (medians of %d runs; a step's time is its fastest run)\n",
	       CALLS_PER_RUN, MMU_ZAP_BATCH, RUNS);
	printf("%8s %14s %14s %12s %16s %16s %10s %8s\n", "pages", "invalidate ns", "zap_all ns", "ratio",
	       "longest step ns", "median step ns", "ratio", "batch");
	for (size_t k = first; k < SIZES; k++)
		printf("%8zu %14.1f %14.0f %11.0fx %16.0f %16.0f %9.0fx %8llu\n", sizes[k], call_ns[k], walk_ns[k],
		       walk_ns[k] / call_ns[k], step_ns[k], median_step_ns[k], walk_ns[k] / step_ns[k],
		       (unsigned long long)longest_batch[k]);
	for (size_t k = first; k < SIZES; k++)
		printf("bench: zap_all n=%zu fast_ns=%.1f slow_ns=%.0f\n", sizes[k], call_ns[k], walk_ns[k]);
	for (size_t k = first; k < SIZES; k++)
		printf("bench: zap_step n=%zu fast_ns=%.0f slow_ns=%.0f\n", sizes[k], step_ns[k], walk_ns[k]);
	return 0;
}
