/* The shadow MMU against the reference walker on a simulated host: every paging mode, out of memory, a long rmap, with shrinking of failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "mmu/spte.h"
#include "tests/unit/mmu_diff_engine.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define DEFAULT_SEED 1
#define DEFAULT_OPS 20000
#define WALK_CHECKS 20000
#define SHRINK_SECONDS 60.0

struct run_config {
	const char *name;
	struct diff_config cfg;
};

static const struct run_config configs[] = {
	{ "paging-off", { .mode = PAGING_OFF, .nr_vcpus = 1, .maxphyaddr = 40, .max_shadow_pages = 1024,
			  .tables_per_space = 12 } },
	{ "32-bit", { .mode = PAGING_32, .nr_vcpus = 1, .maxphyaddr = 36, .max_shadow_pages = 1024,
		      .tables_per_space = 12 } },
	{ "pae", { .mode = PAGING_PAE, .nr_vcpus = 1, .maxphyaddr = 40, .max_shadow_pages = 1024,
		   .tables_per_space = 12 } },
	{ "4-level", { .mode = PAGING_4LEVEL, .nr_vcpus = 1, .maxphyaddr = 46, .max_shadow_pages = 1024,
		       .tables_per_space = 16 } },
	{ "4-level-1g", { .mode = PAGING_4LEVEL, .nr_vcpus = 1, .gbpages = true, .maxphyaddr = 40,
			  .max_shadow_pages = 1024, .tables_per_space = 16 } },
	/* Two vCPUs, mode switches and a small shadow-page limit: remote flushes, zapped roots, recycling. */
	{ "mixed-2vcpu", { .mode = PAGING_4LEVEL, .nr_vcpus = 2, .gbpages = true, .maxphyaddr = 40,
			   .max_shadow_pages = 64, .mode_switches = true, .tables_per_space = 16 } },
	{ "mixed-32-2vcpu", { .mode = PAGING_32, .nr_vcpus = 2, .maxphyaddr = 36, .max_shadow_pages = 64,
			      .mode_switches = true, .tables_per_space = 12 } },
	/* zap=slow: every invalidation zaps everything at once, and no page is ever obsolete. */
	{ "zap-slow-2vcpu", { .mode = PAGING_PAE, .nr_vcpus = 2, .gbpages = true, .maxphyaddr = 40,
			      .max_shadow_pages = 128, .mode_switches = true, .tables_per_space = 12,
			      .zap_slow = true } },
};

static const struct run_config oom_config = {
	"out-of-memory", { .mode = PAGING_4LEVEL, .nr_vcpus = 2, .gbpages = true, .maxphyaddr = 40,
			   .max_shadow_pages = 128, .mode_switches = true, .alloc_fail_permille = 150,
			   .tables_per_space = 16 }
};

struct run_result {
	struct mmu_stats stats;
	struct diff_counts n;
	uint64_t alloc_failures;
	double seconds;
};

/* Totals of the per-mode runs, for the coverage check and the speed line. */
static struct run_result total;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t env_u64(const char *name, uint64_t fallback)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : fallback;
}

static bool selected(const struct run_config *rc)
{
	const char *only = getenv("MMU_DIFF_CONFIG");

	return !only || !*only || strcmp(only, rc->name) == 0;
}

static uint64_t run_seed(const struct run_config *rc)
{
	uint64_t seed = env_u64("MMU_DIFF_SEED", DEFAULT_SEED);
	const char *c;

	/* Each configuration gets its own stream, the same on every run. */
	for (c = rc->name; *c; c++)
		seed = seed * 31 + (uint8_t)*c;
	return seed;
}

static void engine_sources(uint64_t seed, struct diff_src *build, struct diff_src *gen)
{
	diff_src_seed(build, seed);
	diff_src_seed(gen, seed ^ 0x6a09e667f3bcc909ull);
}

/* Replays ops on a fresh engine built from seed; true when it fails (why gets the failure). */
static bool replay_fails(const struct run_config *rc, uint64_t seed, const struct diff_op *ops, size_t n,
			 char *why, size_t why_size)
{
	struct diff_engine *e = malloc(sizeof(*e));
	struct diff_src build, gen;
	bool failed = !diff_init(e, &rc->cfg, (engine_sources(seed, &build, &gen), &build));
	size_t i;

	for (i = 0; !failed && i < n; i++)
		failed = !diff_apply(e, &ops[i]);
	if (!failed)
		failed = !diff_drain(e) || !diff_check_memory(e);
	failed = !diff_destroy(e) || failed;
	if (failed && why)
		snprintf(why, why_size, "%s", e->failure);
	free(e);
	return failed;
}

/* Delta debugging over the operation list: drops chunks while the replay still fails, within a time budget. */
static size_t shrink(const struct run_config *rc, uint64_t seed, struct diff_op *ops, size_t n)
{
	struct diff_op *trial = malloc(n * sizeof(*trial));
	double deadline = now() + SHRINK_SECONDS;
	size_t chunks = 2;

	while (n >= 2 && now() < deadline) {
		size_t size = (n + chunks - 1) / chunks, start;
		bool reduced = false;

		for (start = 0; start < n && now() < deadline; start += size) {
			size_t end = start + size < n ? start + size : n, m = 0, i;

			for (i = 0; i < n; i++)
				if (i < start || i >= end)
					trial[m++] = ops[i];
			if (replay_fails(rc, seed, trial, m, NULL, 0)) {
				memcpy(ops, trial, m * sizeof(*ops));
				n = m;
				chunks = chunks > 2 ? chunks - 1 : 2;
				reduced = true;
				break;
			}
		}
		if (!reduced) {
			if (chunks >= n)
				break;
			chunks = chunks * 2 < n ? chunks * 2 : n;
		}
	}
	free(trial);
	return n;
}

/* Removing one op can change the state others depend on; removing two (a set and its undo) often cannot. */
static size_t shrink_pairs(const struct run_config *rc, uint64_t seed, struct diff_op *ops, size_t n)
{
	struct diff_op *trial = malloc(n * sizeof(*trial));
	double deadline = now() + SHRINK_SECONDS;
	size_t i, j, k, m;

	for (i = 0; n <= 64 && i < n && now() < deadline; i++) {
		for (j = i + 1; j < n; j++) {
			for (k = m = 0; k < n; k++)
				if (k != i && k != j)
					trial[m++] = ops[k];
			if (replay_fails(rc, seed, trial, m, NULL, 0)) {
				memcpy(ops, trial, m * sizeof(*ops));
				n = m;
				j = i;
			}
		}
	}
	free(trial);
	return n;
}

static void report_minimal(const struct run_config *rc, uint64_t seed, struct diff_op *ops, size_t n)
{
	char why[1024], buf[160];
	size_t i;

	n = shrink(rc, seed, ops, n);
	n = shrink_pairs(rc, seed, ops, n);
	n = shrink(rc, seed, ops, n);
	replay_fails(rc, seed, ops, n, why, sizeof(why));
	printf("diff: shrunk to %zu operations (initial tables from MMU_DIFF_CONFIG=%s seed %#llx):\n", n, rc->name,
	       (unsigned long long)seed);
	for (i = 0; i < n; i++) {
		diff_format_op(&ops[i], buf, sizeof(buf));
		printf("  %s\n", buf);
	}
	printf("diff: which fails with: %s", why);
}

/* Generates and applies ops operations from the configuration's seed; on a failure prints it, shrinks it and fails. */
static void run_diff(const struct run_config *rc, uint64_t nops, struct run_result *res)
{
	uint64_t seed = run_seed(rc);
	struct diff_engine *e = malloc(sizeof(*e));
	struct diff_op *ops = malloc(nops * sizeof(*ops));
	struct diff_src build, gen;
	double start = now();
	size_t done = 0;
	bool ok;

	engine_sources(seed, &build, &gen);
	ok = diff_init(e, &rc->cfg, &build);
	while (ok && done < nops) {
		diff_gen_op(e, &gen, &ops[done]);
		ok = diff_apply(e, &ops[done++]);
	}
	if (ok)
		ok = diff_drain(e) && diff_check_memory(e);
	memset(res, 0, sizeof(*res));
	res->stats = e->sim->mmu.stats;
	res->n = e->n;
	res->alloc_failures = e->sim->alloc_failures;
	if (!ok)
		diff_print_failure(e);
	ok = diff_destroy(e) && ok;
	res->seconds = now() - start;
	if (!ok) {
		printf("diff: %s", e->failure);
		printf("diff: replay with MMU_DIFF_CONFIG=%s MMU_DIFF_SEED=%llu MMU_DIFF_OPS=%zu\n", rc->name,
		       (unsigned long long)env_u64("MMU_DIFF_SEED", DEFAULT_SEED), done);
		report_minimal(rc, seed, ops, done);
	}
	free(ops);
	free(e);
	assert_true(ok);
}

static void add_stats(struct mmu_stats *to, const struct mmu_stats *from)
{
	const uint64_t *f = (const uint64_t *)from;
	uint64_t *t = (uint64_t *)to;
	size_t i;

	for (i = 0; i < sizeof(*to) / sizeof(uint64_t); i++)
		t[i] = (&t[i] == &to->max_rmap_chain || &t[i] == &to->shadow_pages ||
			&t[i] == &to->zap_longest_batch || &t[i] == &to->obsolete_pages) ? (t[i] > f[i] ? t[i] : f[i])
											  : t[i] + f[i];
}

static void add_counts(struct diff_counts *to, const struct diff_counts *from)
{
	const uint64_t *f = (const uint64_t *)from;
	uint64_t *t = (uint64_t *)to;
	size_t i;

	for (i = 0; i < sizeof(*to) / sizeof(uint64_t); i++)
		t[i] += f[i];
}

static void test_walker_vs_reference(void **state)
{
	static const unsigned maxphyaddrs[] = { 36, 40, 46 };
	unsigned m;

	(void)state;
	for (m = 0; m < ARRAY_SIZE(maxphyaddrs); m++) {
		struct run_config rc = { "walker", { .mode = PAGING_OFF, .nr_vcpus = 1, .maxphyaddr = maxphyaddrs[m],
						     .max_shadow_pages = 64, .tables_per_space = 16 } };
		struct diff_engine *e = malloc(sizeof(*e));
		struct diff_src build, gen;
		unsigned i;
		bool ok;

		engine_sources(run_seed(&rc) + m, &build, &gen);
		ok = diff_init(e, &rc.cfg, &build);
		for (i = 0; ok && i < WALK_CHECKS; i++) {
			struct diff_op op;

			/* Now and then the guest edits its tables between walks. */
			if (i % 8 == 0) {
				diff_gen_op(e, &gen, &op);
				if (op.kind == DIFF_GUEST_WRITE)
					ok = diff_apply(e, &op);
			}
			ok = ok && diff_check_walk(e, &gen);
		}
		if (!ok)
			printf("walker: %s", e->failure);
		assert_true(ok);
		assert_true(e->n.faulted > WALK_CHECKS / 20 && e->n.translated > WALK_CHECKS / 20);
		assert_true(diff_destroy(e));
		free(e);
	}
}

static void test_diff_modes(void **state)
{
	uint64_t nops = env_u64("MMU_DIFF_OPS", DEFAULT_OPS);
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(configs); i++) {
		struct run_result r;

		if (!selected(&configs[i]))
			continue;
		run_diff(&configs[i], nops, &r);
		printf("diff: %-15s %6llu ops %6llu checks: %llu translated, %llu faults, %llu MMIO (%llu fast), "
		       "%llu emulated, %llu generation wraps, %llu invalidations (%llu pages), %llu obsolete zapped "
		       "(%llu by %llu steps, %llu for room, %llu drained)\n",
		       configs[i].name, (unsigned long long)r.n.ops, (unsigned long long)r.n.checks,
		       (unsigned long long)r.n.translated, (unsigned long long)r.n.faulted,
		       (unsigned long long)r.n.mmio, (unsigned long long)r.n.mmio_fast,
		       (unsigned long long)r.n.via_emulation, (unsigned long long)r.stats.mmio_generation_wraps,
		       (unsigned long long)r.stats.invalidations, (unsigned long long)r.n.invalidated_pages,
		       (unsigned long long)r.stats.obsolete_zapped, (unsigned long long)r.n.step_zapped,
		       (unsigned long long)r.n.zap_steps, (unsigned long long)r.n.reclaimed_obsolete,
		       (unsigned long long)r.n.drained);
		/* Every invalidation came from an op: the guest's, a memslot removal, or the wrap (zap-all ops count too). */
		assert_true(r.stats.invalidations >= r.n.invalidate_ops + r.stats.mmio_generation_wraps);
		if (configs[i].cfg.zap_slow) {
			assert_int_equal(r.stats.obsolete_zapped, 0);
			assert_int_equal(r.stats.zap_batches, 0);
		} else if (nops >= DEFAULT_OPS) {
			/* Every obsolete page was zapped by a step, to make room, by a zap-all, or by the final drain. */
			assert_true(r.n.step_zapped > 100);
			assert_true(r.stats.zap_longest_batch == MMU_ZAP_BATCH);
			assert_true(r.stats.obsolete_zapped >= r.n.step_zapped + r.n.reclaimed_obsolete);
		}
		/* Every run starts 150 generations before the wrap: the default runs get through it, once. */
		assert_int_equal(r.stats.mmio_generation_wraps,
				 ((MEMSLOT_GEN_INITIAL + r.n.generation_bumps) >> MMIO_SPTE_GEN_BITS) -
				 (MEMSLOT_GEN_INITIAL >> MMIO_SPTE_GEN_BITS));
		if (nops >= DEFAULT_OPS)
			assert_true(r.stats.mmio_generation_wraps >= 1);
		add_stats(&total.stats, &r.stats);
		add_counts(&total.n, &r.n);
		total.seconds += r.seconds;
	}
	if (total.seconds > 0)
		printf("diff: %.0f checks/s\n", total.n.checks / total.seconds);
}

/* The runs above must have reached every path they are meant to check. */
static void test_diff_coverage(void **state)
{
	const struct mmu_stats *s = &total.stats;
	const struct diff_counts *n = &total.n;

	(void)state;
	if (getenv("MMU_DIFF_CONFIG") && *getenv("MMU_DIFF_CONFIG"))
		skip();
	printf("diff: stats fixed %llu guest %llu spurious %llu emulate %llu mmio %llu created %llu zapped %llu "
	       "pte_write %llu flooded %llu recycled %llu invlpg %llu root_reuse %llu\n",
	       (unsigned long long)s->pf_fixed, (unsigned long long)s->pf_guest, (unsigned long long)s->pf_spurious,
	       (unsigned long long)s->pf_emulate, (unsigned long long)s->pf_mmio,
	       (unsigned long long)s->mmu_cache_miss, (unsigned long long)s->mmu_shadow_zapped,
	       (unsigned long long)s->mmu_pte_write, (unsigned long long)s->mmu_flooded,
	       (unsigned long long)s->mmu_recycled, (unsigned long long)s->invlpg, (unsigned long long)s->root_reuse);
	assert_true(n->translated > 1000 && n->faulted > 1000 && n->mmio > 100);
	assert_true(n->via_emulation > 0 && n->emulated_writes > 100 && n->plain_writes > 100);
	assert_true(n->pdpte_gp > 0);
	/* Spurious faults need two vCPUs sharing a page at the right moment: test_scenario_spurious_fault makes one. */
	assert_true(s->pf_fixed > 0 && s->pf_guest > 0 && s->pf_emulate > 0 && s->pf_mmio > 0);
	assert_true(s->mmu_shadow_zapped > 0 && s->mmu_pte_write > 0 && s->mmu_flooded > 0 && s->mmu_recycled > 0);
	assert_true(s->invlpg > 0 && s->root_reuse > 0);

	printf("diff: mmio fast %llu slow %llu created %llu generation_misses %llu invalidations %llu wraps %llu; "
	       "%llu memslot updates (%llu slot changes, %llu with an access meanwhile, %llu MMIO sptes made then), "
	       "%llu stale MMIO sptes found RAM\n",
	       (unsigned long long)s->mmio_fast, (unsigned long long)s->mmio_slow,
	       (unsigned long long)s->mmio_spte_created, (unsigned long long)s->mmio_generation_misses,
	       (unsigned long long)s->mmio_invalidations, (unsigned long long)s->mmio_generation_wraps,
	       (unsigned long long)n->generation_bumps, (unsigned long long)n->slot_changes,
	       (unsigned long long)n->update_accesses, (unsigned long long)n->mmio_created_in_update,
	       (unsigned long long)n->mmio_stale_to_ram);
	/* Every MMIO result came from one of the two paths; the fast one served many, with the access checked. */
	assert_int_equal(s->pf_mmio, s->mmio_fast + s->mmio_slow);
	assert_int_equal(n->mmio_fast, s->mmio_fast);
	assert_true(s->mmio_fast > 1000 && s->mmio_slow > 1000 && s->mmio_spte_created > 1000);
	assert_true(s->mmio_generation_misses > 100 && n->mmio_stale_to_ram > 10);
	assert_int_equal(s->mmio_invalidations, n->generation_bumps);
	assert_true(n->generation_bumps > 150 * ARRAY_SIZE(configs) && n->slot_changes > 100);
	assert_true(n->mmio_created_in_update > 10);
	assert_int_equal(s->mmio_generation_wraps, ARRAY_SIZE(configs));

	printf("diff: invalidations %llu (%llu ops, %llu pages) obsolete_zapped %llu (%llu by %llu steps in %llu batches, "
	       "%llu for room, %llu left for the drain) longest batch %llu, %llu reloads off an obsolete root\n",
	       (unsigned long long)s->invalidations, (unsigned long long)n->invalidate_ops,
	       (unsigned long long)n->invalidated_pages, (unsigned long long)s->obsolete_zapped,
	       (unsigned long long)n->step_zapped, (unsigned long long)n->zap_steps, (unsigned long long)s->zap_batches,
	       (unsigned long long)n->reclaimed_obsolete, (unsigned long long)n->drained,
	       (unsigned long long)s->zap_longest_batch, (unsigned long long)n->obsolete_root_reloads);
	/* Small page limits make faults and root loads reclaim obsolete pages before the steps get to them. */
	assert_true(n->invalidate_ops > 100 && n->reclaimed_obsolete > 100 && n->obsolete_root_reloads > 100);
	/* (Whether obsolete pages are left for the final drain is luck: test_zap.c drains 100,000.) */
	assert_true(s->zap_batches > 1000);
}

static void test_out_of_memory(void **state)
{
	struct run_result r;

	(void)state;
	if (!selected(&oom_config))
		skip();
	run_diff(&oom_config, env_u64("MMU_DIFF_OPS", DEFAULT_OPS), &r);
	printf("diff: out of memory: %llu failed allocations, %llu accesses ran out of memory and ran again\n",
	       (unsigned long long)r.alloc_failures, (unsigned long long)r.n.no_memory);
	assert_true(r.alloc_failures > 0 && r.n.no_memory > 0 && r.n.checks > 1000);
}

static size_t rmap_len(struct mmu *mmu, uint64_t gfn)
{
	struct rmap_head *head = gfn_rmap_head(mmu, gfn, false);

	return head ? rmap_count(head) : 0;
}

#define STRESS_PTS 8
#define STRESS_MAPPINGS (STRESS_PTS * 512)

static bool stress_access(struct diff_engine *e, unsigned k)
{
	struct diff_op op = { .kind = DIFF_ACCESS, .addr = ((uint64_t)(k / 512) << 21) | ((uint64_t)(k % 512) << 12) };

	return diff_apply(e, &op);
}

/*
 * One guest frame mapped at thousands of linear addresses: the rmap grows to
 * all of them and shrinks back; with a recycle threshold below their number
 * it is dropped whole each time it reaches the threshold, and every access
 * still translates as the reference walker says.
 */
static void rmap_stress(uint64_t recycle_threshold)
{
	struct run_config rc = { "rmap-stress", { .mode = PAGING_4LEVEL, .nr_vcpus = 1, .maxphyaddr = 40,
						  .max_shadow_pages = 1024, .tables_per_space = 4,
						  .audit_interval = 1024 } };
	struct diff_engine *e = malloc(sizeof(*e));
	struct diff_src build, gen;
	uint64_t pml4, pdpt, pd, pts[STRESS_PTS], frame;
	struct diff_op op;
	unsigned i, k;
	bool ok;

	engine_sources(run_seed(&rc), &build, &gen);
	assert_true(diff_init(e, &rc.cfg, &build));
	e->sim->mmu.rmap_recycle_threshold = recycle_threshold;
	frame = diff_take_page(e, &build);
	pml4 = diff_take_page(e, &build);
	pdpt = diff_take_page(e, &build);
	pd = diff_take_page(e, &build);
	diff_poke(e, pml4, 8, pdpt | GPTE_PRESENT | GPTE_WRITABLE);
	diff_poke(e, pdpt, 8, pd | GPTE_PRESENT | GPTE_WRITABLE);
	for (i = 0; i < STRESS_PTS; i++) {
		pts[i] = diff_take_page(e, &build);
		diff_poke(e, pd + 8 * i, 8, pts[i] | GPTE_PRESENT | GPTE_WRITABLE);
		for (k = 0; k < 512; k++)
			diff_poke(e, pts[i] + 8 * k, 8, frame | GPTE_PRESENT | GPTE_WRITABLE);
	}
	e->spaces[PAGING_4LEVEL][0] = pml4;
	memset(&op, 0, sizeof(op));
	op.kind = DIFF_SET_CR3;
	ok = diff_apply(e, &op);
	for (k = 0; ok && k < STRESS_MAPPINGS; k++)
		ok = stress_access(e, k);
	if (!ok)
		diff_print_failure(e);
	assert_true(ok);
	if (recycle_threshold > STRESS_MAPPINGS) {
		assert_int_equal(rmap_len(&e->sim->mmu, frame / 4096), STRESS_MAPPINGS);
		assert_true(e->sim->mmu.stats.max_rmap_chain >= STRESS_MAPPINGS);
		assert_int_equal(e->sim->mmu.stats.rmap_recycled, 0);
	} else {
		assert_int_equal(rmap_len(&e->sim->mmu, frame / 4096), STRESS_MAPPINGS % recycle_threshold);
		assert_int_equal(e->sim->mmu.stats.max_rmap_chain, recycle_threshold);
		assert_int_equal(e->sim->mmu.stats.rmap_recycled, STRESS_MAPPINGS / recycle_threshold);
	}

	/*
	 * The guest unmaps the first half.  Its page tables start out shadowed,
	 * so the first stores are emulated, until write flooding zaps each
	 * table's shadow and the rest are plain stores.
	 */
	assert_true(mmu_gfn_write_protected(&e->sim->mmu, pts[0] / 4096));
	for (k = 0; ok && k < STRESS_MAPPINGS / 2; k++) {
		op = (struct diff_op){ .kind = DIFF_GUEST_WRITE, .addr = pts[k / 512] + 8 * (k % 512), .len = 8 };
		ok = diff_apply(e, &op);
	}
	assert_true(e->n.emulated_writes > 0 && e->sim->mmu.stats.mmu_flooded > 0);
	for (k = 0; ok && k < STRESS_MAPPINGS; k += 97)
		ok = stress_access(e, k);
	if (!ok)
		diff_print_failure(e);
	assert_true(ok);
	if (recycle_threshold > STRESS_MAPPINGS)
		assert_int_equal(rmap_len(&e->sim->mmu, frame / 4096), STRESS_MAPPINGS / 2);
	else
		assert_true(rmap_len(&e->sim->mmu, frame / 4096) <= recycle_threshold);

	op = (struct diff_op){ .kind = DIFF_ZAP_ALL };
	assert_true(diff_apply(e, &op));
	assert_int_equal(rmap_len(&e->sim->mmu, frame / 4096), 0);
	assert_true(diff_destroy(e));
	free(e);
}

static void test_rmap_stress(void **state)
{
	(void)state;
	rmap_stress(MMU_RMAP_RECYCLE_THRESHOLD);
}

static void test_rmap_recycle(void **state)
{
	(void)state;
	rmap_stress(1000);
}

/* ---- directed scenarios: sequences the random runs reach only by luck ---- */

#define PTE_PWU (GPTE_PRESENT | GPTE_WRITABLE | GPTE_USER)

static struct diff_op set_op(unsigned vcpu, enum diff_toggle bit, bool value)
{
	return (struct diff_op){ .kind = DIFF_TOGGLE, .vcpu = vcpu, .addr = bit, .value = value };
}

/* A page of slot 0 (below 8 MiB): the scenarios' tables must survive the removal of slot 1. */
static uint64_t take_slot0_page(struct diff_engine *e, struct diff_src *src)
{
	uint64_t gpa;

	do
		gpa = diff_take_page(e, src);
	while (gpa >= 8 * 0x100000ull);
	return gpa;
}

/* An engine whose two vCPUs run 4-level paging (WP and NX on, SMEP and SMAP off) on an empty PML4 the scenario fills. */
static struct diff_engine *scenario_start(struct diff_src *src, uint64_t *pml4)
{
	struct run_config rc = { "scenario", { .mode = PAGING_4LEVEL, .nr_vcpus = 2, .maxphyaddr = 40,
					       .max_shadow_pages = 1024, .tables_per_space = 2 } };
	struct diff_engine *e = malloc(sizeof(*e));
	struct diff_src gen;
	unsigned v;

	engine_sources(run_seed(&rc), src, &gen);
	assert_true(diff_init(e, &rc.cfg, src));
	*pml4 = take_slot0_page(e, src);
	e->spaces[PAGING_4LEVEL][0] = *pml4;
	for (v = 0; v < 2; v++) {
		struct diff_op ops[] = {
			{ .kind = DIFF_SET_CR3, .vcpu = v }, set_op(v, TOGGLE_WP, 1), set_op(v, TOGGLE_NXE, 1),
			set_op(v, TOGGLE_SMEP, 0), set_op(v, TOGGLE_SMAP, 0),
		};
		unsigned i;

		for (i = 0; i < ARRAY_SIZE(ops); i++)
			assert_true(diff_apply(e, &ops[i]));
	}
	return e;
}

/* The table at level (1: the PT) on gva's path, made present (writable, user) where missing. */
static uint64_t table_for(struct diff_engine *e, struct diff_src *src, uint64_t pml4, uint64_t gva, unsigned level)
{
	uint64_t table = pml4;
	unsigned l;

	for (l = 4; l > level; l--) {
		uint64_t slot = table + 8 * ((gva >> (12 + 9 * (l - 1))) & 511), entry = diff_peek(e, slot, 8);

		if (!(entry & GPTE_PRESENT)) {
			entry = take_slot0_page(e, src) | PTE_PWU;
			diff_poke(e, slot, 8, entry);
		}
		table = entry & 0xffffffffff000ull;
	}
	return table;
}

static void set_pte(struct diff_engine *e, struct diff_src *src, uint64_t pml4, uint64_t gva, uint64_t pte)
{
	diff_poke(e, table_for(e, src, pml4, gva, 1) + 8 * ((gva >> 12) & 511), 8, pte);
}

static void scenario_op(struct diff_engine *e, struct diff_op op)
{
	bool ok = diff_apply(e, &op);

	if (!ok)
		diff_print_failure(e);
	assert_true(ok);
}

static struct diff_op access_op(unsigned vcpu, uint64_t gva, unsigned access, unsigned cpl)
{
	return (struct diff_op){ .kind = DIFF_ACCESS, .vcpu = vcpu, .addr = gva, .access = access, .cpl = cpl,
				 .len = access == WALK_WRITE ? 8 : 0, .value = 0x1122334455667788ull };
}

/* A page that becomes a guest page table while the CPU still caches a writable translation of it. */
static void test_scenario_write_protect_flush(void **state)
{
	struct diff_src src;
	uint64_t pml4, a = 0x200000, b = 0x400000, table_page, data;
	struct diff_engine *e = scenario_start(&src, &pml4);

	(void)state;
	table_page = diff_take_page(e, &src);
	data = diff_take_page(e, &src);
	set_pte(e, &src, pml4, a, table_page | PTE_PWU | GPTE_ACCESSED | GPTE_DIRTY);
	diff_poke(e, table_page, 8, data | PTE_PWU);
	/* b's page table is table_page itself. */
	diff_poke(e, table_for(e, &src, pml4, b, 2) + 8 * ((b >> 21) & 511), 8, table_page | PTE_PWU);

	/* The writes go to entries 256 and 257 of table_page, which b does not use. */
	scenario_op(e, access_op(0, a + 0x800, WALK_WRITE, 0));
	scenario_op(e, access_op(1, a + 0x808, WALK_WRITE, 0));
	scenario_op(e, access_op(0, b, 0, 0));
	assert_true(mmu_gfn_write_protected(&e->sim->mmu, table_page / 4096));
	/* Both vCPUs' cached writable translations of a must be gone: these writes are emulated. */
	scenario_op(e, access_op(0, a + 0x800, WALK_WRITE, 0));
	scenario_op(e, access_op(1, a + 0x808, WALK_WRITE, 0));
	scenario_op(e, access_op(0, b, 0, 0));
	assert_true(e->n.via_emulation >= 2);
	assert_true(diff_destroy(e));
	free(e);
}

/* CR0.WP = 0: supervisor writes to read-only pages, against SMEP and SMAP. */
static void test_scenario_cr0_wp(void **state)
{
	struct diff_src src;
	uint64_t pml4, x = 0x600000;
	struct diff_engine *e = scenario_start(&src, &pml4);
	struct diff_op op;

	(void)state;
	set_pte(e, &src, pml4, x, diff_take_page(e, &src) | GPTE_PRESENT | GPTE_USER | GPTE_ACCESSED | GPTE_DIRTY);
	scenario_op(e, set_op(0, TOGGLE_WP, 0));
	scenario_op(e, set_op(0, TOGGLE_SMEP, 1));
	scenario_op(e, set_op(0, TOGGLE_SMAP, 0));
	scenario_op(e, access_op(0, x, WALK_WRITE, 0));	/* allowed: WP = 0 */
	scenario_op(e, access_op(0, x, WALK_FETCH, 0));	/* SMEP: a user page */
	scenario_op(e, access_op(0, x, 0, 3));
	scenario_op(e, access_op(0, x, WALK_WRITE, 3));	/* read-only for CPL 3 whatever WP says */
	scenario_op(e, access_op(0, x, WALK_WRITE, 0));
	scenario_op(e, access_op(0, x, WALK_FETCH, 3));
	scenario_op(e, set_op(0, TOGGLE_SMEP, 0));
	scenario_op(e, set_op(0, TOGGLE_SMAP, 1));
	scenario_op(e, access_op(0, x, WALK_WRITE, 0));	/* SMAP, EFLAGS.AC = 0 */
	op = access_op(0, x, WALK_WRITE, 0);
	op.ac = 1;
	scenario_op(e, op);				/* SMAP with AC = 1: WP = 0 rules */
	scenario_op(e, access_op(0, x, 0, 0));		/* SMAP refuses the read after the write */
	op.access = 0;
	scenario_op(e, op);
	scenario_op(e, set_op(0, TOGGLE_WP, 1));
	scenario_op(e, op);
	op.access = WALK_WRITE;
	scenario_op(e, op);				/* WP = 1 again: read-only */
	assert_int_equal(e->n.faulted, 5);
	assert_int_equal(e->n.translated, 7);
	assert_true(diff_destroy(e));
	free(e);
}

/* Two linear addresses share a page table: a clean translation cached for one goes stale when the other dirties the spte. */
static void test_scenario_spurious_fault(void **state)
{
	struct diff_src src;
	uint64_t pml4, x = 0x800000, y = 0xa00000, pt;
	struct diff_engine *e = scenario_start(&src, &pml4);

	(void)state;
	set_pte(e, &src, pml4, x, diff_take_page(e, &src) | PTE_PWU);
	pt = table_for(e, &src, pml4, x, 1);
	diff_poke(e, table_for(e, &src, pml4, y, 2) + 8 * ((y >> 21) & 511), 8, pt | PTE_PWU);

	scenario_op(e, access_op(0, x, 0, 3));		/* clean: the spte and the TLB entry are read-only */
	scenario_op(e, access_op(0, y, WALK_WRITE, 3));	/* the same spte becomes writable */
	scenario_op(e, access_op(0, x, WALK_WRITE, 3));	/* the CPU faults on its cached read-only entry */
	assert_int_equal(e->sim->mmu.stats.pf_spurious, 1);
	assert_true(diff_destroy(e));
	free(e);
}

/* CR0.WP = 0 with SMAP: a supervisor write to a supervisor read-only page needs no emulation (SMAP ignores such pages). */
static void test_scenario_wp0_smap_supervisor_page(void **state)
{
	struct diff_src src;
	uint64_t pml4, x = 0x600000;
	struct diff_engine *e = scenario_start(&src, &pml4);
	struct diff_op op;

	(void)state;
	set_pte(e, &src, pml4, x, diff_take_page(e, &src) | GPTE_PRESENT | GPTE_ACCESSED | GPTE_DIRTY);
	scenario_op(e, set_op(0, TOGGLE_WP, 0));
	scenario_op(e, set_op(0, TOGGLE_SMAP, 1));
	op = access_op(0, x, WALK_WRITE, 0);
	scenario_op(e, op);
	op.ac = 1;
	scenario_op(e, op);
	scenario_op(e, access_op(0, x, 0, 0));
	scenario_op(e, access_op(0, x, 0, 3));		/* supervisor page: CPL 3 faults */
	assert_int_equal(e->sim->mmu.stats.pf_emulate, 0);
	assert_int_equal(e->n.faulted, 1);
	assert_true(diff_destroy(e));
	free(e);
}

/*
 * SMAP, EFLAGS.AC = 1, CPL 0, a user page: an explicit read is allowed, but an
 * implicit supervisor read (a descriptor table on that page) is not, and its
 * #PF error code looks the same.  The spte is right, so the CPU faults again
 * at once; the second spurious fault at the address must reach the guest.
 */
static void test_scenario_implicit_smap_access(void **state)
{
	struct diff_src src;
	uint64_t pml4, x = 0x600000, gpa;
	struct diff_engine *e = scenario_start(&src, &pml4);
	struct sim_vcpu *sv = e->vcpus[0];
	struct diff_op op;

	(void)state;
	set_pte(e, &src, pml4, x, diff_take_page(e, &src) | PTE_PWU | GPTE_ACCESSED | GPTE_DIRTY);
	scenario_op(e, set_op(0, TOGGLE_SMAP, 1));
	op = access_op(0, x, 0, 0);
	op.ac = 1;
	scenario_op(e, op);				/* explicit: allowed, and the spte exists */
	assert_int_equal(mmu_page_fault(&sv->v, x, PFERR_PRESENT, 0, true, &gpa), MMU_PF_RETRY);
	assert_false(sv->injected);
	assert_int_equal(mmu_page_fault(&sv->v, x, PFERR_PRESENT, 0, true, &gpa), MMU_PF_INJECTED);
	assert_true(sv->injected);
	assert_int_equal(sv->inject_error_code, PFERR_PRESENT);
	assert_int_equal(sv->inject_cr2, x);
	assert_int_equal(e->sim->mmu.stats.pf_spurious, 1);
	assert_true(diff_destroy(e));
	free(e);
}

/* mmu_spte_translate() answers from present leaves only, never allows more than the guest's walk, and names the right page. */
static void check_spte_translate(struct diff_engine *e, uint64_t gva, unsigned access, bool want, uint64_t want_gpa)
{
	uint64_t gpa = 0, host_pa = 0, host_gpa = 0;
	bool got = mmu_spte_translate(&e->vcpus[0]->v, gva, access, &gpa, &host_pa);

	assert_int_equal(got, want);
	if (!want)
		return;
	assert_int_equal(gpa, want_gpa);
	assert_true(sim_host_pa_to_gpa(e->sim, host_pa, &host_gpa));
	assert_int_equal(host_gpa, want_gpa);
}

static void test_scenario_spte_translate(void **state)
{
	struct diff_src src;
	uint64_t pml4, u = 0x600000, s = 0x601000, c = 0x602000, none = 0x603000;
	struct diff_engine *e = scenario_start(&src, &pml4);
	uint64_t fu = diff_take_page(e, &src), fs = diff_take_page(e, &src), fc = diff_take_page(e, &src);
	uint64_t pt;

	(void)state;
	set_pte(e, &src, pml4, u, fu | PTE_PWU | GPTE_ACCESSED | GPTE_DIRTY);
	set_pte(e, &src, pml4, s, fs | GPTE_PRESENT | GPTE_ACCESSED);
	set_pte(e, &src, pml4, c, fc | PTE_PWU | GPTE_ACCESSED);
	pt = table_for(e, &src, pml4, u, 1);
	check_spte_translate(e, u, 0, false, 0);		/* no leaf yet: the caller walks */
	scenario_op(e, access_op(0, u + 8, WALK_WRITE, 0));
	scenario_op(e, access_op(0, s, 0, 0));
	scenario_op(e, access_op(0, c, 0, 3));
	check_spte_translate(e, u + 0x123, 0, true, fu + 0x123);
	check_spte_translate(e, u + 0x123, WALK_WRITE | WALK_USER, true, fu + 0x123);
	check_spte_translate(e, s + 4, 0, true, fs + 4);
	check_spte_translate(e, s + 4, WALK_USER, false, 0);	/* a supervisor page */
	check_spte_translate(e, s + 4, WALK_WRITE, false, 0);	/* read-only */
	check_spte_translate(e, c, WALK_USER, true, fc);
	check_spte_translate(e, c, WALK_WRITE, false, 0);	/* clean: the walk must set D first */
	check_spte_translate(e, none, 0, false, 0);
	scenario_op(e, set_op(0, TOGGLE_SMAP, 1));
	scenario_op(e, access_op(0, u, 0, 3));			/* a leaf under the new role */
	check_spte_translate(e, u, 0, false, 0);		/* SMAP: a supervisor read of a user page */
	check_spte_translate(e, u, WALK_SMAP_AC, true, fu);	/* ... unless explicit with EFLAGS.AC */
	check_spte_translate(e, u, WALK_FETCH, true, fu);	/* SMEP is off */
	/* The guest's page table is write-protected: a leaf mapping it never allows a write. */
	set_pte(e, &src, pml4, none, pt | PTE_PWU | GPTE_ACCESSED | GPTE_DIRTY);
	scenario_op(e, access_op(0, none, 0, 3));
	assert_true(mmu_gfn_write_protected(&e->sim->mmu, pt / 4096));
	check_spte_translate(e, none, WALK_USER, true, pt);
	check_spte_translate(e, none, WALK_USER | WALK_WRITE, false, 0);
	assert_true(diff_destroy(e));
	free(e);
}

/*
 * A leaf page outlives its zapped parent, and the next fault links it again
 * and finds its leaf already right: the CPU faulted on the missing link, not
 * on a stale translation.  Counting that as spurious made the second such
 * fault in a row, with EFLAGS.AC = 1 at CPL 0 on a user page under SMAP,
 * look like an implicit supervisor access, and a #PF the guest's tables do
 * not give was injected (found by fuzz_mmu).
 */
static void test_scenario_relinked_leaf_not_spurious(void **state)
{
	struct diff_src src;
	uint64_t pml4, x = 0x600000, pd;
	struct diff_engine *e = scenario_start(&src, &pml4);
	struct diff_op op;
	unsigned k;

	(void)state;
	set_pte(e, &src, pml4, x, diff_take_page(e, &src) | PTE_PWU | GPTE_ACCESSED | GPTE_DIRTY);
	pd = table_for(e, &src, pml4, x, 2);
	scenario_op(e, set_op(0, TOGGLE_SMAP, 1));
	op = access_op(0, x, 0, 0);
	op.ac = 1;
	for (k = 0; k < 3; k++) {
		scenario_op(e, op);	/* explicit, allowed by AC: the engine checks it translates */
		scenario_op(e, (struct diff_op){ .kind = DIFF_UNPROTECT, .addr = pd >> 12 });
	}
	scenario_op(e, op);
	assert_int_equal(e->sim->mmu.stats.pf_spurious, 0);
	assert_int_equal(e->sim->mmu.stats.pf_guest, 0);
	assert_true(diff_destroy(e));
	free(e);
}

/* ---- MMIO sptes: the fast path, its access check, generations ---- */

#define MMIO_GPA	0x900000ull	/* in the hole between slot 0 (8 MiB) and slot 1 (16 MiB) */

struct mmio_expect {
	uint64_t fast, slow, created, misses, faulted;
};

static void check_mmio(struct diff_engine *e, const struct mmio_expect *x)
{
	const struct mmu_stats *s = &e->sim->mmu.stats;

	assert_int_equal(s->mmio_fast, x->fast);
	assert_int_equal(s->mmio_slow, x->slow);
	assert_int_equal(s->mmio_spte_created, x->created);
	assert_int_equal(s->mmio_generation_misses, x->misses);
	assert_int_equal(e->n.faulted, x->faulted);
	assert_int_equal(s->pf_mmio, s->mmio_fast + s->mmio_slow);
}

static struct diff_op ac_op(struct diff_op op)
{
	op.ac = 1;
	return op;
}

static struct diff_op update_op(enum diff_slot_op slot_op, const struct diff_op *during)
{
	struct diff_op op = during ? *during : (struct diff_op){ .kind = 0 };

	op.kind = DIFF_MEMSLOT_UPDATE;
	op.slot_op = slot_op;
	op.update_access = during != NULL;
	return op;
}

/*
 * The fast path serves only what the guest's tables allowed when the spte
 * was made: user accesses need U, writes need W and a dirty gpte (so the
 * walk that sets D comes first, also under CR0.WP = 0), SMAP needs
 * EFLAGS.AC, fetches always walk.  Each refusal zaps the spte and the full
 * path decides; the engine checks every outcome against the reference.
 */
static void test_scenario_mmio_access(void **state)
{
	struct diff_src src;
	uint64_t pml4, x = 0x600000, y = 0x602000, z = 0x604000;
	struct diff_engine *e = scenario_start(&src, &pml4);
	struct mmio_expect m = { 0 };

	(void)state;
	set_pte(e, &src, pml4, x, MMIO_GPA | PTE_PWU | GPTE_ACCESSED);			/* user, writable, clean */
	set_pte(e, &src, pml4, y, (MMIO_GPA + 0x1000) | GPTE_PRESENT | GPTE_WRITABLE | GPTE_ACCESSED | GPTE_DIRTY);
	set_pte(e, &src, pml4, z, (MMIO_GPA + 0x2000) | GPTE_PRESENT | GPTE_USER | GPTE_ACCESSED | GPTE_DIRTY);

	scenario_op(e, access_op(0, x + 8, 0, 0));
	m.slow = m.created = 1;
	check_mmio(e, &m);
	scenario_op(e, access_op(0, x + 16, 0, 0));
	m.fast = 1;
	check_mmio(e, &m);
	assert_int_equal(e->vcpus[0]->nr_rsvd_faults, 1);
	scenario_op(e, access_op(0, x, WALK_WRITE, 0));	/* clean: the walk must set D */
	m.slow = m.created = 2;
	check_mmio(e, &m);
	scenario_op(e, access_op(0, x, WALK_WRITE, 0));
	scenario_op(e, access_op(0, x, 0, 3));
	m.fast = 3;
	check_mmio(e, &m);
	scenario_op(e, access_op(0, x, WALK_FETCH, 0));	/* never fast */
	m.slow = m.created = 3;
	scenario_op(e, access_op(1, x, 0, 0));		/* the other vCPU, same root */
	m.fast = 4;
	check_mmio(e, &m);

	scenario_op(e, access_op(0, y, 0, 0));		/* supervisor page */
	m.slow = m.created = 4;
	scenario_op(e, access_op(0, y, 0, 3));		/* refused, zapped, and the guest's #PF */
	m.faulted = 1;
	check_mmio(e, &m);
	scenario_op(e, access_op(0, y, 0, 0));
	m.slow = m.created = 5;
	check_mmio(e, &m);

	scenario_op(e, access_op(0, z, 0, 0));		/* read-only page */
	m.slow = m.created = 6;
	scenario_op(e, access_op(0, z, WALK_WRITE, 0));	/* CR0.WP = 1: the guest's #PF */
	m.faulted = 2;
	check_mmio(e, &m);
	scenario_op(e, set_op(0, TOGGLE_WP, 0));
	scenario_op(e, access_op(0, z, WALK_WRITE, 0));	/* WP = 0 allows it, through the walk every time */
	scenario_op(e, access_op(0, z, WALK_WRITE, 0));
	m.slow = m.created = 8;
	check_mmio(e, &m);
	scenario_op(e, set_op(0, TOGGLE_WP, 1));

	scenario_op(e, set_op(0, TOGGLE_SMAP, 1));
	scenario_op(e, access_op(0, x, 0, 0));		/* SMAP, AC = 0: the guest's #PF */
	m.faulted = 3;
	scenario_op(e, ac_op(access_op(0, x, 0, 0)));
	m.slow = m.created = 9;
	scenario_op(e, ac_op(access_op(0, x, 0, 0)));
	m.fast = 5;
	check_mmio(e, &m);
	scenario_op(e, access_op(0, x, 0, 0));		/* AC = 0 again: refused, the guest's #PF */
	m.faulted = 4;
	scenario_op(e, access_op(0, x, 0, 3));
	m.slow = m.created = 10;
	scenario_op(e, access_op(0, x, 0, 3));
	m.fast = 6;
	check_mmio(e, &m);
	assert_int_equal(e->sim->mmu.stats.pf_guest, 4);
	assert_true(diff_destroy(e));
	free(e);
}

/* A page of slot 1 (16 MiB up), which memslot updates remove and restore. */
static uint64_t take_slot1_page(struct diff_engine *e, struct diff_src *src)
{
	uint64_t gpa;

	do
		gpa = diff_take_page(e, src);
	while (gpa < 16 * 0x100000ull);
	return gpa;
}

/*
 * Generations: an spte made while an update is in progress never matches,
 * a bump makes every spte stale at once, and a stale spte whose gfn is RAM
 * again gives way to a RAM spte, also when it was made from the old slots
 * during the very update that brought the RAM back.
 */
static void test_scenario_mmio_generations(void **state)
{
	struct diff_src src;
	uint64_t pml4, x = 0x600000, w = 0x608000;
	struct diff_engine *e = scenario_start(&src, &pml4);
	struct mmio_expect m = { 0 };
	struct diff_op read_x = access_op(0, x, 0, 3), read_w = access_op(0, w, 0, 3);
	uint64_t gen0 = e->sim->memslot_generation;

	(void)state;
	set_pte(e, &src, pml4, x, MMIO_GPA | PTE_PWU | GPTE_ACCESSED | GPTE_DIRTY);
	set_pte(e, &src, pml4, w, take_slot1_page(e, &src) | PTE_PWU | GPTE_ACCESSED | GPTE_DIRTY);

	scenario_op(e, read_x);
	scenario_op(e, read_x);
	m.slow = m.created = m.fast = 1;
	check_mmio(e, &m);
	scenario_op(e, update_op(SLOT_OP_NONE, &read_x));	/* in progress: stale, remade, still stale after */
	m.misses = 1;
	m.slow = m.created = 2;
	check_mmio(e, &m);
	scenario_op(e, read_x);
	m.misses = 2;
	m.slow = m.created = 3;
	scenario_op(e, read_x);
	m.fast = 2;
	check_mmio(e, &m);
	scenario_op(e, update_op(SLOT_OP_NONE, NULL));		/* touches nothing, but x's spte is stale */
	scenario_op(e, read_x);
	m.misses = 3;
	m.slow = m.created = 4;
	check_mmio(e, &m);

	scenario_op(e, update_op(SLOT_OP_REMOVE, NULL));
	scenario_op(e, read_w);
	scenario_op(e, read_w);
	m.slow = m.created = 5;
	m.fast = 3;
	check_mmio(e, &m);
	scenario_op(e, update_op(SLOT_OP_RESTORE, NULL));
	scenario_op(e, read_w);					/* stale, and RAM now */
	m.misses = 4;
	check_mmio(e, &m);
	assert_int_equal(e->n.mmio_stale_to_ram, 1);

	scenario_op(e, update_op(SLOT_OP_REMOVE, NULL));
	scenario_op(e, read_w);
	m.slow = m.created = 6;
	scenario_op(e, update_op(SLOT_OP_RESTORE, &read_w));	/* made from the old slots while the RAM comes back */
	m.slow = m.created = 7;
	m.misses = 5;
	check_mmio(e, &m);
	scenario_op(e, read_w);
	m.misses = 6;
	check_mmio(e, &m);
	assert_int_equal(e->n.mmio_stale_to_ram, 2);
	assert_int_equal(e->n.translated, 2);
	assert_int_equal(e->sim->memslot_generation, gen0 + 6);
	assert_int_equal(e->sim->mmu.stats.mmio_invalidations, 6);
	assert_true(diff_destroy(e));
	free(e);
}

/* mmio_caching = false: every MMIO access walks, no spte is made, and an RSVD fault is a VMM bug. */
static void test_scenario_mmio_caching_off(void **state)
{
	struct diff_src src;
	uint64_t pml4, x = 0x600000, r = 0x602000, gpa;
	struct diff_engine *e = scenario_start(&src, &pml4);
	struct sim_vcpu *sv = e->vcpus[0];
	struct mmio_expect m = { 0 };

	(void)state;
	e->sim->mmu.mmio_caching = false;
	set_pte(e, &src, pml4, x, MMIO_GPA | PTE_PWU | GPTE_ACCESSED | GPTE_DIRTY);
	set_pte(e, &src, pml4, r, take_slot0_page(e, &src) | PTE_PWU | GPTE_ACCESSED | GPTE_DIRTY);
	scenario_op(e, access_op(0, x, 0, 0));
	scenario_op(e, access_op(0, x, WALK_WRITE, 0));
	scenario_op(e, access_op(0, x, 0, 3));
	m.slow = 3;
	check_mmio(e, &m);
	assert_int_equal(sv->nr_rsvd_faults, 0);
	assert_int_equal(mmu_page_fault(&sv->v, x, PFERR_PRESENT | PFERR_RSVD, 0, false, &gpa), MMU_PF_BAD_FAULT);

	/* With caching on, RSVD on a RAM spte is a bug too; on a zapped spte the full path rebuilds it. */
	e->sim->mmu.mmio_caching = true;
	scenario_op(e, access_op(0, r, 0, 0));
	assert_int_equal(mmu_page_fault(&sv->v, r, PFERR_PRESENT | PFERR_RSVD, 0, false, &gpa), MMU_PF_BAD_FAULT);
	scenario_op(e, access_op(0, x, 0, 0));
	mmu_zap_all(&e->sim->mmu);
	assert_int_equal(mmu_page_fault(&sv->v, x, PFERR_PRESENT | PFERR_RSVD, 0, false, &gpa), MMU_PF_MMIO);
	assert_int_equal(gpa, MMIO_GPA);
	assert_true(diff_destroy(e));
	free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_walker_vs_reference),
		cmocka_unit_test(test_diff_modes),
		cmocka_unit_test(test_diff_coverage),
		cmocka_unit_test(test_out_of_memory),
		cmocka_unit_test(test_rmap_stress),
		cmocka_unit_test(test_rmap_recycle),
		cmocka_unit_test(test_scenario_write_protect_flush),
		cmocka_unit_test(test_scenario_cr0_wp),
		cmocka_unit_test(test_scenario_spurious_fault),
		cmocka_unit_test(test_scenario_wp0_smap_supervisor_page),
		cmocka_unit_test(test_scenario_implicit_smap_access),
		cmocka_unit_test(test_scenario_spte_translate),
		cmocka_unit_test(test_scenario_relinked_leaf_not_spurious),
		cmocka_unit_test(test_scenario_mmio_access),
		cmocka_unit_test(test_scenario_mmio_generations),
		cmocka_unit_test(test_scenario_mmio_caching_off),
	};

	printf("diff: MMU_DIFF_SEED=%llu MMU_DIFF_OPS=%llu\n", (unsigned long long)env_u64("MMU_DIFF_SEED", DEFAULT_SEED),
	       (unsigned long long)env_u64("MMU_DIFF_OPS", DEFAULT_OPS));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
