/* Benchmark: emptying an rmap with one rmap_drop_all() pass against rmap_remove() of each spte in insertion order. */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mmu/mmu_hooks.h"
#include "mmu/obj_cache.h"
#include "mmu/rmap.h"

#define PAGE_SIZE 4096
#define RUNS 9
/* Each timed run empties enough rmaps to hold about this many sptes in all (at least one rmap). */
#define SPTES_PER_RUN 100000

/* The host: plain aligned pages; the physical address is never used here. */
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

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* What a zap does per spte either way: clear it. */
static void clear_spte(uint64_t *spte, void *ctx)
{
	size_t *dropped = ctx;

	*spte = 0;
	(*dropped)++;
}

struct workload {
	struct obj_cache cache;
	size_t n, nheads;
	struct rmap_head *heads;
	uint64_t *sptes;	/* nheads * n, rmap h holding sptes[h * n ..] */
};

static void fill(struct workload *w)
{
	for (size_t h = 0; h < w->nheads; h++) {
		for (size_t i = 0; i < w->n; i++) {
			uint64_t *spte = &w->sptes[h * w->n + i];

			*spte = (h * w->n + i) << 12 | 1;
			if (!rmap_add(&w->cache, &w->heads[h], spte)) {
				fprintf(stderr, "bench_rmap: out of memory\n");
				exit(1);
			}
		}
	}
}

/* Nanoseconds to empty every rmap of w (filled beforehand, untimed). */
static uint64_t time_drop_all(struct workload *w)
{
	size_t dropped = 0;
	uint64_t t0, t1;

	fill(w);
	t0 = now_ns();
	for (size_t h = 0; h < w->nheads; h++)
		rmap_drop_all(&w->cache, &w->heads[h], clear_spte, &dropped);
	t1 = now_ns();
	if (dropped != w->n * w->nheads || w->cache.in_use) {
		fprintf(stderr, "bench_rmap: drop_all dropped %zu of %zu\n", dropped, w->n * w->nheads);
		exit(1);
	}
	return t1 - t0;
}

static uint64_t time_one_at_a_time(struct workload *w)
{
	size_t dropped = 0;
	uint64_t t0, t1;

	fill(w);
	t0 = now_ns();
	for (size_t h = 0; h < w->nheads; h++) {
		for (size_t i = 0; i < w->n; i++) {
			uint64_t *spte = &w->sptes[h * w->n + i];

			clear_spte(spte, &dropped);
			if (!rmap_remove(&w->cache, &w->heads[h], spte)) {
				fprintf(stderr, "bench_rmap: spte missing from its rmap\n");
				exit(1);
			}
		}
	}
	t1 = now_ns();
	if (w->cache.in_use) {
		fprintf(stderr, "bench_rmap: descriptors left after removing every spte\n");
		exit(1);
	}
	return t1 - t0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The median of RUNS timings of how, per rmap. */
static double median_ns_per_rmap(struct workload *w, uint64_t (*how)(struct workload *))
{
	uint64_t t[RUNS];

	for (int r = 0; r < RUNS; r++)
		t[r] = how(w);
	qsort(t, RUNS, sizeof(t[0]), cmp_u64);
	return (double)t[RUNS / 2] / (double)w->nheads;
}

int main(void)
{
	static const size_t sizes[] = { 16, 200, 1000, 10000 };
	double one_pass[sizeof(sizes) / sizeof(sizes[0])];
	double one_at_a_time[sizeof(sizes) / sizeof(sizes[0])];

	printf("Emptying one rmap of N sptes (median of %d runs, ns per rmap)\n", RUNS);
	printf("%8s %14s %18s %10s\n", "N", "drop_all", "one-at-a-time", "ratio");
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct workload w = { .n = sizes[k] };

		w.nheads = SPTES_PER_RUN / w.n ? SPTES_PER_RUN / w.n : 1;
		w.heads = calloc(w.nheads, sizeof(*w.heads));
		w.sptes = calloc(w.nheads * w.n, sizeof(*w.sptes));
		if (!w.heads || !w.sptes) {
			fprintf(stderr, "bench_rmap: out of memory\n");
			return 1;
		}
		obj_cache_init(&w.cache, NULL, sizeof(struct rmap_desc));
		one_pass[k] = median_ns_per_rmap(&w, time_drop_all);
		one_at_a_time[k] = median_ns_per_rmap(&w, time_one_at_a_time);
		printf("%8zu %14.0f %18.0f %9.1fx\n", w.n, one_pass[k], one_at_a_time[k],
		       one_at_a_time[k] / one_pass[k]);
		obj_cache_destroy(&w.cache);
		free(w.heads);
		free(w.sptes);
	}
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
		printf("bench: rmap_drop n=%zu one_pass_ns=%.0f one_at_a_time_ns=%.0f\n",
		       sizes[k], one_pass[k], one_at_a_time[k]);
	return 0;
}
