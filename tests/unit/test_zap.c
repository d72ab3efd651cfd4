/* Obsolete-page zapping on a real MMU over the simulated host: the O(1) invalidation at 100,000 pages, the batches, reclaim, memslot removal, zap=slow. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mmu/gfn_rmap.h"
#include "mmu/guest_walk.h"
#include "mmu/mmu.h"
#include "mmu/shadow_page.h"
#include "mmu/spte.h"
#include "tests/unit/mmu_sim.h"

#define PAGE_SIZE	4096ull
#define SLOT0_PAGES	4096ull		/* 16 MiB of RAM at 0 */
#define SLOT1_GFN	0x2000ull	/* 2 MiB at 32 MiB */
#define SLOT1_PAGES	512ull
#define MMIO_BASE	0x10000000ull	/* 256 MiB: no RAM */
/* Where the synthetic pages' gfns start: far above anything the guest touches. */
#define SYNTH_GFN	0x1000000ull


static void audit_report(const char *msg, void *ctx)
{
	(void)ctx;
	printf("audit: %s\n", msg);
}

/* A VM with one vCPU whose paging is off (linear = physical): the MMU builds direct pages for what it touches. */
static struct sim_host *host_new(uint64_t max_shadow_pages, unsigned pool_pages)
{
	struct sim_host *h = calloc(1, sizeof(*h));

	assert_true(sim_host_init(h, SLOT0_PAGES, SLOT1_GFN, SLOT1_PAGES, max_shadow_pages, pool_pages));
	return h;
}

static void check_structures(struct sim_host *h)
{
	assert_int_equal(mmu_audit(&h->s.mmu, audit_report, NULL), 0);
	if (!sim_check_page_accounting(&h->s))
		printf("sim: %s\n", h->s.why);
	assert_false(h->s.broken);
}

static void host_free(struct sim_host *h)
{
	check_structures(h);
	mmu_destroy(&h->s.mmu);
	sim_destroy(&h->s);
	if (h->s.broken)
		printf("sim: %s\n", h->s.why);
	assert_false(h->s.broken);
	free(h);
}

/* What the host does before every guest entry. */
static void serve_requests(struct sim_host *h)
{
	assert_true(sim_host_serve_requests(h));
}

/* The guest reads or writes gva (= gpa) until the access completes; true when it reached RAM. */
static bool guest_access(struct sim_host *h, uint64_t gva, unsigned access)
{
	unsigned tries;

	for (tries = 0; tries < 8; tries++) {
		uint64_t host_pa, gpa;
		uint32_t ec;

		serve_requests(h);
		if (sim_cpu_access(&h->sv, &h->g, gva, access, &host_pa, &ec) == SIM_CPU_OK) {
			assert_true(sim_host_pa_to_gpa(&h->s, host_pa, &gpa));
			assert_int_equal(gpa, gva);
			return true;
		}
		if (h->s.broken)
			fail_msg("sim: %s", h->s.why);
		switch (mmu_page_fault(&h->sv.v, gva, ec, 0, false, &gpa)) {
		case MMU_PF_RETRY:
			continue;
		case MMU_PF_MMIO:
			assert_int_equal(gpa, gva);
			return false;
		default:
			fail_msg("gva %#llx: unexpected fault result", (unsigned long long)gva);
		}
	}
	fail_msg("gva %#llx: still faulting", (unsigned long long)gva);
	return false;
}

/* Maps every page of [gpa, gpa + pages) with a write (RAM) or a read (MMIO), as a guest touching its memory would. */
static void touch(struct sim_host *h, uint64_t gpa, uint64_t pages)
{
	uint64_t k;

	for (k = 0; k < pages; k++)
		guest_access(h, gpa + k * PAGE_SIZE, gpa < MMIO_BASE ? WALK_WRITE : 0);
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

/*
 * Cheap shadow pages in bulk: direct level-2 pages, each linking 512 direct
 * level-1 pages (as a guest's large pages would), newest last.  No fault
 * path, no guest memory: only what sp_create() and sp_link() do.
 */
static void build_pages(struct sim_host *h, uint64_t pages)
{
	struct mmu *mmu = &h->s.mmu;
	uint64_t made = 0, gfn = SYNTH_GFN;

	while (made < pages) {
		struct shadow_page *parent = sp_create(mmu, gfn, direct_role(2));
		unsigned i;

		assert_non_null(parent);
		made++;
		for (i = 0; i < SPTES_PER_PAGE && made < pages; i++, made++) {
			struct shadow_page *child = sp_create(mmu, gfn + (uint64_t)i * SPTES_PER_PAGE, direct_role(1));

			assert_non_null(child);
			assert_true(sp_link(mmu, parent, i, child));
		}
		gfn += (uint64_t)SPTES_PER_PAGE * SPTES_PER_PAGE;
	}
}

/* Every shadow page header, and the table's first and last entries, folded: a page the MMU writes changes it. */
static uint64_t headers_checksum(struct mmu *mmu)
{
	const struct shadow_page *sp;
	uint64_t sum = 0xcbf29ce484222325ull;
	size_t i;

	for (sp = mmu->active_head; sp; sp = sp->active_next) {
		const uint8_t *b = (const uint8_t *)sp;

		for (i = 0; i < sizeof(*sp); i++)
			sum = (sum ^ b[i]) * 0x100000001b3ull;
		sum = (sum ^ sp->spt[0] ^ sp->spt[SPTES_PER_PAGE - 1]) * 0x100000001b3ull;
	}
	return sum;
}

static uint64_t count_list(const struct shadow_page *sp, struct mmu *mmu, bool obsolete)
{
	uint64_t n = 0;

	for (; sp; sp = sp->active_next)
		n += sp_obsolete(mmu, sp) == obsolete;
	return n;
}

static sigjmp_buf touched_jmp;
static volatile void *touched_addr;

static void on_segv(int sig, siginfo_t *info, void *uctx)
{
	(void)sig;
	(void)uctx;
	touched_addr = info->si_addr;
	siglongjmp(touched_jmp, 1);
}

/*
 * mmu_invalidate_all() with every host page the MMU holds made inaccessible
 * (shadow tables, page headers, rmaps): any read or write of one faults and
 * fails the test.  What it may touch is the struct mmu and the vCPUs.
 */
static void invalidate_touching_nothing(struct sim_host *h)
{
	struct sigaction sa, old;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGSEGV, &sa, &old), 0);
	touched_addr = NULL;
	if (sigsetjmp(touched_jmp, 1) == 0) {
		sim_pools_accessible(&h->s, false);
		mmu_invalidate_all(&h->s.mmu);
	}
	sim_pools_accessible(&h->s, true);
	assert_int_equal(sigaction(SIGSEGV, &old, NULL), 0);
	if (touched_addr)
		fail_msg("mmu_invalidate_all touched the MMU's host memory at %p", (void *)touched_addr);
}

#define BIG_PAGES	100000ull

/*
 * 100,000 shadow pages: the invalidate call touches none of them (not a
 * byte of any MMU host page is read or written), makes all of them
 * obsolete, and the batches then free every one, oldest first, never more
 * than MMU_ZAP_BATCH at a time, never a current page, while the guest keeps
 * running (and making current pages) between them.
 */
static void test_invalidate_100k_pages(void **state)
{
	struct sim_host *h = host_new(BIG_PAGES + 4096, 65536);
	struct mmu *mmu = &h->s.mmu;
	const struct mmu_stats *st = &mmu->stats;
	uint64_t pages, zapped, checksum, steps = 0, current, in_use, k = 0;
	bool more;

	(void)state;
	/* Real mappings too: RAM leaves in rmaps, MMIO sptes, the four roots. */
	touch(h, 0, SLOT0_PAGES);
	touch(h, SLOT1_GFN * PAGE_SIZE, SLOT1_PAGES);
	touch(h, MMIO_BASE, 1024);
	build_pages(h, BIG_PAGES);
	pages = st->shadow_pages;
	assert_true(pages >= BIG_PAGES + 4 + 10);
	check_structures(h);

	checksum = headers_checksum(mmu);
	zapped = st->mmu_shadow_zapped;
	in_use = h->s.pages_in_use;
	assert_int_equal(h->sv.requests, 0);
	invalidate_touching_nothing(h);
	assert_int_equal(h->sv.requests, MMU_REQ_RELOAD_ROOT | MMU_REQ_TLB_FLUSH);
	assert_int_equal(st->invalidations, 1);
	assert_int_equal(st->shadow_pages, pages);
	assert_int_equal(st->obsolete_pages, pages);
	assert_int_equal(st->mmu_shadow_zapped, zapped);
	assert_int_equal(h->s.pages_in_use, in_use);
	assert_true(headers_checksum(mmu) == checksum);
	assert_int_equal(count_list(mmu->active_head, mmu, false), 0);

	/* The guest runs again on new roots; its memory is there, through new pages. */
	assert_true(guest_access(h, 0x5000, 0));
	assert_false(guest_access(h, MMIO_BASE, 0));
	current = st->shadow_pages - st->obsolete_pages;
	assert_true(current >= 4 + 2);
	do {
		uint64_t obsolete = st->obsolete_pages, batches = st->zap_batches, before = st->obsolete_zapped;

		more = mmu_zap_obsolete_step(mmu);
		steps++;
		/* The old roots were released by the reload: every obsolete page zapped is freed at once. */
		assert_true(st->obsolete_zapped - before <= MMU_ZAP_BATCH);
		assert_int_equal(obsolete - st->obsolete_pages, st->obsolete_zapped - before);
		assert_true(st->obsolete_zapped - before == MMU_ZAP_BATCH || !more);
		assert_int_equal(st->zap_batches, batches + 1);
		assert_int_equal(st->shadow_pages - st->obsolete_pages, current);
		/* Between batches the guest runs: new current pages go to the other end of the list. */
		if (steps % 64 == 0) {
			uint64_t gpa = (k++ % SLOT0_PAGES) * PAGE_SIZE;

			assert_true(guest_access(h, gpa, WALK_WRITE));
			current = st->shadow_pages - st->obsolete_pages;
		}
	} while (more);
	assert_int_equal(steps, (pages + MMU_ZAP_BATCH - 1) / MMU_ZAP_BATCH);
	assert_int_equal(st->obsolete_pages, 0);
	assert_int_equal(st->obsolete_zapped, pages);
	assert_int_equal(st->zap_batches, steps);
	assert_int_equal(st->zap_longest_batch, MMU_ZAP_BATCH);
	assert_int_equal(st->mmu_recycled, 0);
	assert_false(mmu_zap_obsolete_step(mmu));
	assert_int_equal(st->zap_batches, steps);
	check_structures(h);
	/* Everything still maps right. */
	for (k = 0; k < SLOT0_PAGES; k += 97)
		assert_true(guest_access(h, k * PAGE_SIZE, 0));
	assert_false(guest_access(h, MMIO_BASE + 0x3000, 0));
	host_free(h);
}

/*
 * An obsolete page still used as a root is zapped (invalid, on the
 * zapped-roots list) but freed only when its vCPU reloads; the step reports
 * no work left for it.
 */
static void test_obsolete_roots_wait_for_reload(void **state)
{
	struct sim_host *h = host_new(1024, 0);
	struct mmu *mmu = &h->s.mmu;
	const struct shadow_page *sp;
	uint64_t pages;

	(void)state;
	touch(h, 0, 64);
	pages = mmu->stats.shadow_pages;
	assert_int_equal(pages, 4 + 1);
	mmu_invalidate_all(mmu);
	/* The zapper runs before the vCPU reloads. */
	while (mmu_zap_obsolete_step(mmu))
		;
	assert_null(mmu->active_head);
	assert_int_equal(mmu->stats.obsolete_zapped, pages);
	assert_int_equal(mmu->stats.obsolete_pages, 4);
	assert_int_equal(mmu->stats.shadow_pages, 4);
	for (sp = mmu->zapped_roots; sp; sp = sp->active_next)
		assert_true(sp->role.invalid && sp->root_count == 1 && sp_obsolete(mmu, sp));
	assert_true(h->sv.requests & MMU_REQ_RELOAD_ROOT);
	check_structures(h);
	serve_requests(h);
	assert_null(mmu->zapped_roots);
	assert_int_equal(mmu->stats.obsolete_pages, 0);
	assert_int_equal(mmu->stats.shadow_pages, 4);
	assert_true(guest_access(h, 0x3000, 0));
	host_free(h);
}

/* Short of shadow pages, faults take obsolete pages first and recycle current ones only when none is left. */
static void test_make_room_reclaims_obsolete_first(void **state)
{
	struct sim_host *h = host_new(MMU_MIN_SHADOW_PAGES, 0);
	struct mmu *mmu = &h->s.mmu;
	const struct mmu_stats *st = &mmu->stats;
	uint64_t k;
	bool recycling = false;

	(void)state;
	/*
	 * One level-1 page per 2 MiB (RAM, then MMIO): the four roots and 56 of
	 * them fill the limit of 64 less the 4 a fault keeps in reserve.
	 */
	for (k = 0; k < 56; k++)
		guest_access(h, k << 21, 0);
	assert_int_equal(st->shadow_pages, MMU_MIN_SHADOW_PAGES - 4);
	assert_int_equal(st->mmu_recycled, 0);
	mmu_invalidate_all(mmu);
	for (k = 56; k < 200; k++) {
		uint64_t recycled = st->mmu_recycled;

		guest_access(h, k << 21, 0);
		if (st->mmu_recycled != recycled && !recycling) {
			/* The first current page recycled: every obsolete page went before it (the reload released the old roots first). */
			recycling = true;
			assert_int_equal(st->obsolete_pages, 0);
			assert_int_equal(st->obsolete_zapped, MMU_MIN_SHADOW_PAGES - 4);
		}
		assert_true(st->shadow_pages <= MMU_MIN_SHADOW_PAGES);
		check_structures(h);
	}
	assert_true(recycling);
	assert_int_equal(st->obsolete_zapped, MMU_MIN_SHADOW_PAGES - 4);
	assert_int_equal(st->zap_batches, 0);
	host_free(h);
}

/* No leaf in any page, current or obsolete, maps a host address in [pa, pa + bytes). */
static bool no_leaf_maps(struct mmu *mmu, uint64_t pa, uint64_t bytes)
{
	const struct shadow_page *lists[2] = { mmu->active_head, mmu->zapped_roots }, *sp;
	unsigned l, i;

	for (l = 0; l < 2; l++)
		for (sp = lists[l]; sp; sp = sp->active_next)
			if (sp->role.level == 1)
				for (i = 0; i < SPTES_PER_PAGE; i++) {
					uint64_t spte = sp->spt[i];

					if (spte_present(spte) && !is_shadow_mmio_spte(spte) &&
					    spte_to_pa(spte) - pa < bytes)
						return false;
				}
	return true;
}

/*
 * A memslot that goes: once mmu_memslot_removed() returns, no spte (in
 * current or obsolete pages) points into its memory, its rmap pages are
 * freed, and everything is invalidated.  A new memslot then takes its
 * place before the obsolete pages are zapped, which must not disturb the
 * new slot's rmaps.
 */
static void memslot_removed(bool zap_slow)
{
	struct sim_host *h = host_new(4096, 0);
	struct mmu *mmu = &h->s.mmu;
	struct sim *s = &h->s;
	uint64_t slot1_pa = s->slots[1].host_pa, slot1_bytes = SLOT1_PAGES * PAGE_SIZE;
	uint64_t pages, rmap_pages;
	unsigned d;

	mmu->zap_slow = zap_slow;
	touch(h, SLOT1_GFN * PAGE_SIZE, SLOT1_PAGES);
	touch(h, 0, 256);
	mmu_invalidate_all(mmu);
	/* Some of it again in current pages: the slot is mapped from both generations. */
	touch(h, SLOT1_GFN * PAGE_SIZE, 64);
	touch(h, 0, 64);
	check_structures(h);
	assert_false(no_leaf_maps(mmu, slot1_pa, slot1_bytes));
	pages = mmu->stats.shadow_pages;
	rmap_pages = mmu->gfn_rmaps.pages_allocated;

	sim_memslot_update_begin(s);
	mmu_memslot_removed(mmu, 1);
	assert_true(no_leaf_maps(mmu, slot1_pa, slot1_bytes));
	for (d = 0; d < GFN_RMAP_DIRS_PER_SLOT; d++)
		assert_null(mmu->gfn_rmaps.dirs[1][d].leaves);
	assert_int_equal(mmu->gfn_rmaps.pages_allocated, rmap_pages - 2);	/* slot 1's directory and leaf page */
	assert_int_equal(mmu->stats.invalidations, 2);
	if (zap_slow) {
		assert_null(mmu->active_head);
		assert_int_equal(mmu->stats.obsolete_pages, 0);
	} else {
		assert_int_equal(mmu->stats.shadow_pages, pages);
		assert_int_equal(mmu->stats.obsolete_pages, pages);
	}
	sim_slot_remove(s, 1);
	sim_memslot_update_end(s);
	/* The slot's memory is gone; the guest sees no RAM there now. */
	assert_false(guest_access(h, SLOT1_GFN * PAGE_SIZE + 0x1000, 0));
	check_structures(h);

	/* A new memslot at the same place, mapped afresh, before the old pages are zapped. */
	sim_memslot_update_begin(s);
	sim_slot_restore(s, 1);
	sim_memslot_update_end(s);
	touch(h, SLOT1_GFN * PAGE_SIZE, 32);
	check_structures(h);
	while (mmu_zap_obsolete_step(mmu))
		;
	assert_int_equal(mmu->stats.obsolete_pages, 0);
	check_structures(h);
	assert_true(guest_access(h, SLOT1_GFN * PAGE_SIZE + 0x1000, 0));
	host_free(h);
}

static void test_memslot_removed(void **state)
{
	(void)state;
	memslot_removed(false);
}

static void test_memslot_removed_zap_slow(void **state)
{
	(void)state;
	memslot_removed(true);
}

/* zap=slow: the invalidation is the walk: every page zapped at once, nothing obsolete, no batch. */
static void test_zap_slow(void **state)
{
	struct sim_host *h = host_new(8192, 0);
	struct mmu *mmu = &h->s.mmu;
	uint64_t pages;

	(void)state;
	mmu->zap_slow = true;
	touch(h, 0, 1024);
	build_pages(h, 1000);
	pages = mmu->stats.shadow_pages;
	mmu_invalidate_all(mmu);
	assert_int_equal(mmu->stats.invalidations, 1);
	assert_int_equal(mmu->stats.mmu_shadow_zapped, pages);
	assert_int_equal(mmu->stats.obsolete_pages, 0);
	assert_int_equal(mmu->stats.obsolete_zapped, 0);
	assert_null(mmu->active_head);
	assert_int_equal(mmu->stats.shadow_pages, 4);	/* the old roots, invalid until the reload */
	assert_false(mmu_zap_obsolete_step(mmu));
	assert_int_equal(mmu->stats.zap_batches, 0);
	check_structures(h);
	serve_requests(h);
	assert_null(mmu->zapped_roots);
	assert_true(guest_access(h, 0x2000, WALK_WRITE));
	host_free(h);
}

/* Invalidations while obsolete pages remain: each generation's pages stay in order, and one drain frees all. */
static void test_repeated_invalidations(void **state)
{
	struct sim_host *h = host_new(8192, 0);
	struct mmu *mmu = &h->s.mmu;
	uint64_t round, steps = 0;

	(void)state;
	for (round = 0; round < 5; round++) {
		touch(h, round << 21, 512);
		build_pages(h, 100);
		mmu_invalidate_all(mmu);
		/* A couple of batches only: older generations pile up. */
		mmu_zap_obsolete_step(mmu);
		mmu_zap_obsolete_step(mmu);
		check_structures(h);
	}
	assert_int_equal(mmu->stats.invalidations, 5);
	assert_true(mmu->stats.obsolete_pages > 400);
	serve_requests(h);
	while (mmu_zap_obsolete_step(mmu))
		steps++;
	assert_true(steps > 40);
	assert_int_equal(mmu->stats.obsolete_pages, 0);
	assert_int_equal(mmu->stats.zap_longest_batch, MMU_ZAP_BATCH);
	check_structures(h);
	host_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_invalidate_100k_pages),
		cmocka_unit_test(test_obsolete_roots_wait_for_reload),
		cmocka_unit_test(test_make_room_reclaims_obsolete_first),
		cmocka_unit_test(test_memslot_removed),
		cmocka_unit_test(test_memslot_removed_zap_slow),
		cmocka_unit_test(test_zap_slow),
		cmocka_unit_test(test_repeated_invalidations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
