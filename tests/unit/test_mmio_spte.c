/* MMIO sptes: the encoding at every generation and gfn edge, the generation rules, and the wrap on a real MMU over the simulated host. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mmu/guest_walk.h"
#include "mmu/mmu.h"
#include "mmu/shadow_page.h"
#include "mmu/spte.h"
#include "tests/unit/mmu_sim.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define GEN_WRAP (1ull << MMIO_SPTE_GEN_BITS)

static const enum mmio_spte_kind kinds[] = { MMIO_SPTE_SHADOW, MMIO_SPTE_EPT };

/* Every bit an MMIO spte of kind may have set. */
static uint64_t mmio_fields(enum mmio_spte_kind kind)
{
	return mmio_spte_marker(kind) | MMIO_SPTE_GEN_LOW_FIELD | MMIO_SPTE_GEN_HIGH_FIELD | MMIO_SPTE_GFN_FIELD |
	       MMIO_SPTE_WRITE | MMIO_SPTE_USER;
}

static const uint64_t gfn_edges[] = {
	0, 1, 2, 0x1ff, 0x200, 0x3ff, 0x400, 0xfffff, 0x100000,
	0x5555555555ull & MMIO_SPTE_GFN_MASK, 0x2aaaaaaaaaull & MMIO_SPTE_GFN_MASK,
	(1ull << 38) - 1, 1ull << 38, MMIO_SPTE_GFN_MASK - 1, MMIO_SPTE_GFN_MASK,
};

static const uint64_t gen_edges[] = {
	0, 1, 2, 0x1ff, 0x200, 0x201, 0x3ff, 0x400, 0x5555, 0x2aaaa, GEN_WRAP - 2, GEN_WRAP - 1,
	MEMSLOT_GEN_INITIAL, MEMSLOT_GEN_INITIAL + 149, MEMSLOT_GEN_INITIAL + 150, GEN_WRAP, GEN_WRAP + 1,
	3 * GEN_WRAP + 7, ~0ull >> 1,
};

/* One spte checked field by field; gen may carry bits above the stored 19 (and bit 63), which must be dropped. */
static void check_encoding(enum mmio_spte_kind kind, uint64_t gfn, uint64_t gen, unsigned access)
{
	uint64_t spte = make_mmio_spte(kind, gfn, gen, access);
	enum mmio_spte_kind other = kind == MMIO_SPTE_SHADOW ? MMIO_SPTE_EPT : MMIO_SPTE_SHADOW;

	assert_true(is_mmio_spte(kind, spte));
	assert_false(is_mmio_spte(other, spte));
	assert_int_equal(is_shadow_mmio_spte(spte), kind == MMIO_SPTE_SHADOW);
	assert_int_equal(spte & mmio_spte_marker_mask(kind), mmio_spte_marker(kind));
	assert_int_equal(spte & ~mmio_fields(kind), 0);
	assert_int_equal(mmio_spte_gfn(spte), gfn & MMIO_SPTE_GFN_MASK);
	assert_int_equal(mmio_spte_generation(spte), gen & MMIO_SPTE_GEN_MASK);
	assert_int_equal(mmio_spte_access(spte), access & (ACC_WRITE | ACC_USER));
	assert_int_equal(!!(spte & MMIO_SPTE_WRITE), !!(access & ACC_WRITE));
	assert_int_equal(!!(spte & MMIO_SPTE_USER), !!(access & ACC_USER));
	/* Made in gen, current in gen (once any update finished), never while an update is in progress. */
	assert_true(mmio_generation_current(mmio_spte_generation(spte), gen & ~MEMSLOT_GEN_UPDATE_IN_PROGRESS));
	assert_false(mmio_generation_current(mmio_spte_generation(spte), gen | MEMSLOT_GEN_UPDATE_IN_PROGRESS));
}

/* All 2^19 stored generations, with the gfn and access varying along, in both kinds. */
static void test_encode_every_generation(void **state)
{
	uint64_t gen;
	unsigned k;

	(void)state;
	for (gen = 0; gen < GEN_WRAP; gen++) {
		for (k = 0; k < ARRAY_SIZE(kinds); k++) {
			uint64_t gfn = gfn_edges[gen % ARRAY_SIZE(gfn_edges)] ^ (gen << 20);

			check_encoding(kinds[k], gfn & MMIO_SPTE_GFN_MASK, gen, gen & 7);
			/* The same spte from any generation with the same low bits. */
			assert_int_equal(make_mmio_spte(kinds[k], gfn, gen, 6), make_mmio_spte(kinds[k], gfn, gen + 5 * GEN_WRAP, 6));
		}
	}
}

/* Every gfn edge and single gfn bit against every generation edge and access. */
static void test_encode_gfn_edges(void **state)
{
	unsigned k, g, n, a, bit;

	(void)state;
	for (k = 0; k < ARRAY_SIZE(kinds); k++) {
		for (g = 0; g < ARRAY_SIZE(gen_edges); g++) {
			for (a = 0; a < 8; a++) {
				for (n = 0; n < ARRAY_SIZE(gfn_edges); n++)
					check_encoding(kinds[k], gfn_edges[n], gen_edges[g], a);
				for (bit = 0; bit < MMIO_SPTE_GFN_BITS; bit++) {
					check_encoding(kinds[k], 1ull << bit, gen_edges[g], a);
					check_encoding(kinds[k], MMIO_SPTE_GFN_MASK & ~(1ull << bit), gen_edges[g], a);
				}
			}
			/* The update-in-progress bit is never stored. */
			assert_int_equal(make_mmio_spte(kinds[k], 5, gen_edges[g] | MEMSLOT_GEN_UPDATE_IN_PROGRESS, 6),
					 make_mmio_spte(kinds[k], 5, gen_edges[g], 6));
		}
		/* Single generation bits land in their own spte bit, across both halves. */
		for (bit = 0; bit < MMIO_SPTE_GEN_BITS; bit++) {
			uint64_t spte = make_mmio_spte(kinds[k], 0, 1ull << bit, 0) ^ mmio_spte_marker(kinds[k]);

			assert_int_equal(__builtin_popcountll(spte), 1);
			assert_true(spte & (MMIO_SPTE_GEN_LOW_FIELD | MMIO_SPTE_GEN_HIGH_FIELD));
			assert_int_equal(mmio_spte_generation(spte), 1ull << bit);
		}
	}
	/* Guest-physical addresses stop below 2^51: higher gfn bits are dropped, not spilled into the marker. */
	assert_int_equal(make_mmio_spte(MMIO_SPTE_SHADOW, MMIO_SPTE_GFN_MASK + 1 + 7, 0, 0),
			 make_mmio_spte(MMIO_SPTE_SHADOW, 7, 0, 0));
}

static void test_access_bits(void **state)
{
	unsigned k, a;

	(void)state;
	for (k = 0; k < ARRAY_SIZE(kinds); k++) {
		for (a = 0; a < 256; a++) {
			uint64_t spte = make_mmio_spte(kinds[k], 0x12345, 0x54321, a);

			assert_int_equal(mmio_spte_access(spte), a & (ACC_WRITE | ACC_USER));
			/* ACC_EXEC is not kept: the fast path never serves a fetch. */
			assert_int_equal(spte & ~(MMIO_SPTE_WRITE | MMIO_SPTE_USER),
					 make_mmio_spte(kinds[k], 0x12345, 0x54321, 0) & ~(MMIO_SPTE_WRITE | MMIO_SPTE_USER));
		}
	}
}

static uint64_t splitmix(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The software and hardware bits a RAM leaf can carry besides P and the frame. */
static const uint64_t ram_bits[] = {
	SPTE_WRITABLE, SPTE_USER, SPTE_ACCESSED, SPTE_DIRTY, SPTE_HOST_WRITABLE, SPTE_MMU_WRITABLE, SPTE_NX,
};

/* Every shape of RAM leaf, link and PAE root entry the MMU makes: none is an MMIO spte. */
static void test_ram_sptes_are_not_mmio(void **state)
{
	uint64_t frames[64 + 512], rng = 1;
	unsigned nframes = 0, f, combo, b;

	(void)state;
	frames[nframes++] = 0;
	frames[nframes++] = (1ull << 51) - 4096;
	for (b = 12; b < 51; b++) {
		frames[nframes++] = 1ull << b;
		frames[nframes++] = ((1ull << 51) - 1) & ~((1ull << 12) - 1) & ~(1ull << b);
	}
	while (nframes < ARRAY_SIZE(frames))
		frames[nframes++] = splitmix(&rng) & ((1ull << 51) - 1) & ~0xfffull;
	for (f = 0; f < nframes; f++) {
		assert_true(frames[f] < (1ull << 51) && !(frames[f] & 0xfff));
		for (combo = 0; combo < (1u << ARRAY_SIZE(ram_bits)); combo++) {
			uint64_t spte = SPTE_PRESENT | frames[f];

			for (b = 0; b < ARRAY_SIZE(ram_bits); b++)
				if (combo & (1u << b))
					spte |= ram_bits[b];
			assert_false(is_shadow_mmio_spte(spte));
		}
		assert_false(is_shadow_mmio_spte(frames[f] | SPTE_LINK_BITS));
		assert_false(is_shadow_mmio_spte(frames[f] | PAE_ROOT_PRESENT));
		/* EPT RAM entries are readable (bit 0), whatever else they carry. */
		for (combo = 0; combo < 64; combo++)
			assert_false(is_mmio_spte(MMIO_SPTE_EPT, frames[f] | 1 | ((uint64_t)combo << 1) | (1ull << 63)));
	}
	assert_false(is_shadow_mmio_spte(0));
	assert_false(is_mmio_spte(MMIO_SPTE_EPT, 0));
}

static void test_generation_current(void **state)
{
	uint64_t rng = 7;
	unsigned i, bit;

	(void)state;
	for (i = 0; i < 100000; i++) {
		uint64_t now = (i < ARRAY_SIZE(gen_edges) ? gen_edges[i] : splitmix(&rng)) & ~MEMSLOT_GEN_UPDATE_IN_PROGRESS;
		uint64_t stored = now & MMIO_SPTE_GEN_MASK;

		assert_true(mmio_generation_current(stored, now));
		/* Update in progress: nothing matches, whatever was stored. */
		assert_false(mmio_generation_current(stored, now | MEMSLOT_GEN_UPDATE_IN_PROGRESS));
		assert_false(mmio_generation_current(splitmix(&rng) & MMIO_SPTE_GEN_MASK, now | MEMSLOT_GEN_UPDATE_IN_PROGRESS));
		/* Only the low 19 bits are compared: a whole number of wraps later looks current (the wrap zaps before that). */
		assert_true(mmio_generation_current(stored, now + GEN_WRAP * (1 + i % 1000)) ==
			    !((now + GEN_WRAP * (1 + i % 1000)) & MEMSLOT_GEN_UPDATE_IN_PROGRESS));
		for (bit = 0; bit < MMIO_SPTE_GEN_BITS; bit++)
			assert_false(mmio_generation_current(stored ^ (1ull << bit), now));
		/* The generation after an update made in it never matches what was stored during it. */
		assert_false(mmio_generation_current(stored, now + 1));
	}
}

/* ---- a real MMU on the simulated host ---- */

#define SLOT0_PAGES	1024ull		/* 4 MiB of RAM at 0 */
#define SLOT1_GFN	0x1000ull	/* 64 KiB at 16 MiB */
#define SLOT1_PAGES	16ull
#define MMIO_BASE	0x10000000ull	/* 256 MiB: no RAM */


static void audit_report(const char *msg, void *ctx)
{
	(void)ctx;
	printf("audit: %s\n", msg);
}

/* A VM with one vCPU whose paging is off (linear = physical), on the shadow MMU. */
static struct sim_host *host_new(void)
{
	struct sim_host *h = calloc(1, sizeof(*h));

	assert_true(sim_host_init(h, SLOT0_PAGES, SLOT1_GFN, SLOT1_PAGES, 4096, 0));
	assert_true(h->s.mmu.mmio_caching);
	return h;
}

static void host_free(struct sim_host *h)
{
	assert_int_equal(mmu_audit(&h->s.mmu, audit_report, NULL), 0);
	mmu_destroy(&h->s.mmu);
	sim_destroy(&h->s);
	if (h->s.broken)
		printf("sim: %s\n", h->s.why);
	assert_false(h->s.broken);
	free(h);
}

static void serve_requests(struct sim_host *h)
{
	assert_true(sim_host_serve_requests(h));
}

enum result { RAM, MMIO };

/* The guest reads or writes gva: the CPU on the shadow tables, the MMU on its faults, until the access completes. */
static enum result guest_access(struct sim_host *h, uint64_t gva, unsigned access, uint64_t *gpa)
{
	unsigned tries;

	for (tries = 0; tries < 8; tries++) {
		uint64_t host_pa;
		uint32_t ec;

		serve_requests(h);
		if (sim_cpu_access(&h->sv, &h->g, gva, access, &host_pa, &ec) == SIM_CPU_OK) {
			assert_true(sim_host_pa_to_gpa(&h->s, host_pa, gpa));
			return RAM;
		}
		assert_false(h->s.broken);
		switch (mmu_page_fault(&h->sv.v, gva, ec, 0, false, gpa)) {
		case MMU_PF_RETRY:
			continue;
		case MMU_PF_MMIO:
			return MMIO;
		default:
			fail_msg("gva %#llx: unexpected fault result", (unsigned long long)gva);
		}
	}
	fail_msg("gva %#llx: still faulting", (unsigned long long)gva);
	return MMIO;
}

static void expect_mmio(struct sim_host *h, uint64_t gva, unsigned access)
{
	uint64_t gpa;

	assert_int_equal(guest_access(h, gva, access, &gpa), MMIO);
	assert_int_equal(gpa, gva);
}

static unsigned count_mmio_sptes(struct mmu *mmu)
{
	const struct shadow_page *sp;
	unsigned n = 0, i;

	for (sp = mmu->active_head; sp; sp = sp->active_next)
		if (sp->role.level == 1)
			for (i = 0; i < SPTES_PER_PAGE; i++)
				n += is_shadow_mmio_spte(sp->spt[i]);
	return n;
}

/* Every shadow table's entries, in active-list order: what "touches no shadow page" compares. */
struct snapshot {
	unsigned pages;
	const struct shadow_page *sp[64];
	uint64_t spt[64][SPTES_PER_PAGE];
};

static void take_snapshot(struct mmu *mmu, struct snapshot *snap)
{
	const struct shadow_page *sp;

	snap->pages = 0;
	for (sp = mmu->active_head; sp; sp = sp->active_next) {
		assert_true(snap->pages < ARRAY_SIZE(snap->sp));
		snap->sp[snap->pages] = sp;
		memcpy(snap->spt[snap->pages++], sp->spt, sizeof(snap->spt[0]));
	}
}

static bool snapshot_equal(struct mmu *mmu, const struct snapshot *snap)
{
	const struct shadow_page *sp;
	unsigned n = 0;

	for (sp = mmu->active_head; sp; sp = sp->active_next, n++)
		if (n >= snap->pages || snap->sp[n] != sp || memcmp(snap->spt[n], sp->spt, sizeof(snap->spt[0])))
			return false;
	return n == snap->pages;
}

#define MMIO_PAGES 2048	/* four level-1 shadow pages full of MMIO sptes */

static void fill_mmio(struct sim_host *h)
{
	unsigned k;

	for (k = 0; k < MMIO_PAGES; k++)
		expect_mmio(h, MMIO_BASE + (uint64_t)k * 4096 + (k & 0xff8), k & 1 ? WALK_WRITE : 0);
}

/* A bump that does not wrap invalidates every MMIO spte in O(1): no shadow page changes, none is zapped, no flush. */
static void test_bump_touches_no_shadow_page(void **state)
{
	struct sim_host *h = host_new();
	struct mmu *mmu = &h->s.mmu;
	static struct snapshot snap;
	uint64_t zapped, fast, pages_in_use;
	unsigned i;

	(void)state;
	h->s.memslot_generation = 1;	/* far from the wrap */
	fill_mmio(h);
	assert_int_equal(count_mmio_sptes(mmu), MMIO_PAGES);
	assert_int_equal(mmu->stats.mmio_spte_created, MMIO_PAGES);
	fast = mmu->stats.mmio_fast;
	fill_mmio(h);
	assert_int_equal(mmu->stats.mmio_fast, fast + MMIO_PAGES);
	assert_int_equal(mmu->stats.mmio_spte_created, MMIO_PAGES);

	take_snapshot(mmu, &snap);
	zapped = mmu->stats.mmu_shadow_zapped;
	pages_in_use = h->s.pages_in_use;
	serve_requests(h);
	for (i = 0; i < 1000; i++) {
		sim_memslot_update_begin(&h->s);
		assert_false(sim_memslot_update_end(&h->s));
	}
	assert_true(snapshot_equal(mmu, &snap));
	assert_int_equal(mmu->stats.mmu_shadow_zapped, zapped);
	assert_int_equal(h->s.pages_in_use, pages_in_use);
	assert_int_equal(h->sv.requests, 0);
	assert_int_equal(mmu->stats.mmio_invalidations, 1000);
	assert_int_equal(mmu->stats.mmio_generation_wraps, 0);
	assert_int_equal(mmu_audit(mmu, audit_report, NULL), 0);

	/* Every spte is stale now: each access misses once, and the remade spte serves the next. */
	fast = mmu->stats.mmio_fast;
	fill_mmio(h);
	assert_int_equal(mmu->stats.mmio_generation_misses, MMIO_PAGES);
	assert_int_equal(mmu->stats.mmio_fast, fast);
	fill_mmio(h);
	assert_int_equal(mmu->stats.mmio_fast, fast + MMIO_PAGES);
	host_free(h);
}

/*
 * The stored bits wrap: mmu_mmio_generation_changed() returns true and every
 * shadow page is invalidated.  By default (zap=fast) that is the O(1)
 * invalidation: every page is obsolete at once, none is touched, and the
 * batches free them later; with zap=slow every page is zapped at once (the
 * roots stay only as invalid pages until reloaded).  Either way no old MMIO
 * spte is reachable any more, and the fresh ones of generation 0 serve at once.
 */
static void wrap_invalidates_everything(bool zap_slow)
{
	struct sim_host *h = host_new();
	struct mmu *mmu = &h->s.mmu;
	const struct shadow_page *sp;
	uint64_t zapped, pages, gpa;
	unsigned mmio_before;

	mmu->zap_slow = zap_slow;
	h->s.memslot_generation = GEN_WRAP - 2;
	fill_mmio(h);
	assert_int_equal(guest_access(h, 0x1000, WALK_WRITE, &gpa), RAM);
	/* Made while the last update before the wrap is in progress: stored 0x7ffff. */
	sim_memslot_update_begin(&h->s);
	expect_mmio(h, MMIO_BASE - 0x1000, 0);
	assert_false(sim_memslot_update_end(&h->s));
	assert_int_equal(h->s.memslot_generation, GEN_WRAP - 1);
	mmio_before = count_mmio_sptes(mmu);
	assert_int_equal(mmio_before, MMIO_PAGES + 1);
	pages = mmu->stats.shadow_pages;
	zapped = mmu->stats.mmu_shadow_zapped;
	assert_true(pages > 4);
	assert_int_equal(mmu->stats.invalidations, 0);

	sim_memslot_update_begin(&h->s);
	assert_true(sim_memslot_update_end(&h->s));
	assert_int_equal(h->s.memslot_generation & MMIO_SPTE_GEN_MASK, 0);
	assert_int_equal(mmu->stats.mmio_generation_wraps, 1);
	assert_int_equal(mmu->stats.invalidations, 1);
	assert_true(h->sv.requests & MMU_REQ_RELOAD_ROOT);
	if (zap_slow) {
		assert_int_equal(mmu->stats.mmu_shadow_zapped, zapped + pages);
		assert_null(mmu->active_head);
		for (sp = mmu->zapped_roots; sp; sp = sp->active_next)
			assert_true(sp->role.invalid && sp->root_count > 0);
		assert_int_equal(count_mmio_sptes(mmu), 0);
	} else {
		/* Nothing was zapped: every page, the old MMIO sptes in them too, is obsolete and unreachable. */
		assert_int_equal(mmu->stats.mmu_shadow_zapped, zapped);
		assert_int_equal(mmu->stats.obsolete_pages, pages);
		assert_int_equal(count_mmio_sptes(mmu), mmio_before);
		for (sp = mmu->active_head; sp; sp = sp->active_next)
			assert_true(sp_obsolete(mmu, sp));
	}
	assert_int_equal(mmu_audit(mmu, audit_report, NULL), 0);

	/* After the reload: fresh sptes in generation 0 (stored 0), current at once. */
	serve_requests(h);
	expect_mmio(h, MMIO_BASE, 0);
	expect_mmio(h, MMIO_BASE, 0);
	assert_int_equal(mmu->stats.mmio_generation_misses, 0);
	assert_int_equal(mmu_audit(mmu, audit_report, NULL), 0);
	/* The obsolete pages go in batches, and only they: the four direct roots and the new path stay. */
	while (mmu_zap_obsolete_step(mmu))
		;
	assert_int_equal(mmu->stats.obsolete_pages, 0);
	assert_int_equal(mmu->stats.obsolete_zapped, zap_slow ? 0 : pages);
	assert_true(mmu->stats.zap_longest_batch <= MMU_ZAP_BATCH);
	assert_int_equal(mmu->stats.shadow_pages, 4 + 1);	/* four direct level-2 pages under the PAE root, one level 1 */
	assert_int_equal(count_mmio_sptes(mmu), 1);
	expect_mmio(h, MMIO_BASE, 0);
	assert_int_equal(mmu->stats.mmio_generation_misses, 0);
	host_free(h);
}

static void test_wrap_invalidates_everything(void **state)
{
	(void)state;
	wrap_invalidates_everything(false);
}

static void test_wrap_zap_slow(void **state)
{
	(void)state;
	wrap_invalidates_everything(true);
}

/*
 * The full path meets an MMIO spte whose gfn is RAM again: another vCPU made
 * it after this fault was raised (without PFERR_RSVD), and the slot came
 * back since.  set_leaf must replace it by a RAM spte in the gfn's rmap.
 */
static void test_ram_replaces_mmio_spte(void **state)
{
	struct sim_host *h = host_new();
	struct mmu *mmu = &h->s.mmu;
	uint64_t gva = SLOT1_GFN * 4096 + 0x2000, gpa;
	struct rmap_head *head;

	(void)state;
	sim_memslot_update_begin(&h->s);
	mmu_memslot_removed(mmu, 1);
	sim_slot_remove(&h->s, 1);
	sim_memslot_update_end(&h->s);
	expect_mmio(h, gva, 0);
	assert_int_equal(count_mmio_sptes(mmu), 1);
	sim_memslot_update_begin(&h->s);
	sim_slot_restore(&h->s, 1);
	sim_memslot_update_end(&h->s);
	assert_int_equal(mmu_audit(mmu, audit_report, NULL), 0);

	assert_int_equal(mmu_page_fault(&h->sv.v, gva, 0, 0, false, &gpa), MMU_PF_RETRY);
	assert_int_equal(count_mmio_sptes(mmu), 0);
	head = gfn_rmap_head(mmu, gva >> 12, false);
	assert_non_null(head);
	assert_int_equal(rmap_count(head), 1);
	assert_int_equal(mmu_audit(mmu, audit_report, NULL), 0);
	assert_int_equal(guest_access(h, gva, WALK_WRITE, &gpa), RAM);
	assert_int_equal(gpa, gva);
	assert_int_equal(mmu->stats.mmio_generation_misses, 0);
	host_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_every_generation),
		cmocka_unit_test(test_encode_gfn_edges),
		cmocka_unit_test(test_access_bits),
		cmocka_unit_test(test_ram_sptes_are_not_mmio),
		cmocka_unit_test(test_generation_current),
		cmocka_unit_test(test_bump_touches_no_shadow_page),
		cmocka_unit_test(test_wrap_invalidates_everything),
		cmocka_unit_test(test_wrap_zap_slow),
		cmocka_unit_test(test_ram_replaces_mmio_spte),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
