/* The MMU's invariants, checked one by one: tests run this after every operation. */
#include "mmu/gfn_rmap.h"
#include "mmu/mmu.h"
#include "mmu/mmu_hooks.h"
#include "mmu/shadow_page.h"
#include "mmu/spte.h"

struct audit {
	struct mmu *mmu;
	void (*report)(const char *msg, void *ctx);
	void *ctx;
	unsigned violations;
	uint64_t leaf_sptes;		/* present leaf sptes in shadow pages */
	uint64_t rmap_entries;		/* entries in every gfn rmap */
	uint64_t generation;		/* the memslot generation now */
	uint64_t pages, obsolete;	/* shadow pages on the lists, and the obsolete ones among them */
};

static void check(struct audit *a, bool ok, const char *msg)
{
	if (ok)
		return;
	a->violations++;
	if (a->report)
		a->report(msg, a->ctx);
}

static void audit_leaf(struct audit *a, struct shadow_page *sp, unsigned i)
{
	uint64_t spte = sp->spt[i], gfn = sp_leaf_gfn(sp, i);
	struct rmap_head *head = gfn_rmap_head(a->mmu, gfn, false);
	struct mmu_memslot slot;
	bool shadowed = sp_gfn_shadowed(a->mmu, gfn);

	a->leaf_sptes++;
	check(a, head && rmap_contains(head, &sp->spt[i]), "leaf spte missing from its gfn's rmap");
	check(a, mmu_host_memslot(a->mmu, gfn, &slot) &&
		 spte_to_pa(spte) == slot.host_pa + ((gfn - slot.base_gfn) << 12),
	      "leaf spte maps a frame other than its gfn's");
	check(a, !(spte & SPTE_WRITABLE) || ((spte & SPTE_MMU_WRITABLE) && (spte & SPTE_HOST_WRITABLE)),
	      "writable leaf without both software writable bits");
	check(a, !shadowed || !(spte & (SPTE_WRITABLE | SPTE_MMU_WRITABLE)),
	      "a shadowed guest table is mapped writable (or MMU-writable)");
}

/*
 * An MMIO spte: exactly what make_mmio_spte() builds for the gfn of its slot
 * (the CPU sets no A/D bit in an entry with a reserved bit), and either
 * stale or true: a current one must not name a gfn that is RAM now, which
 * the fast path would send to a device.  It is in no rmap (audit_rmap's
 * totals count RAM leaves only).
 */
static void audit_mmio_leaf(struct audit *a, struct shadow_page *sp, unsigned i)
{
	uint64_t spte = sp->spt[i], gfn = sp_leaf_gfn(sp, i);
	struct mmu_memslot slot;

	check(a, mmio_spte_gfn(spte) == gfn, "MMIO spte names a gfn other than its slot's");
	check(a, spte == make_mmio_spte(MMIO_SPTE_SHADOW, mmio_spte_gfn(spte), mmio_spte_generation(spte),
					mmio_spte_access(spte)),
	      "MMIO spte has bits outside its fields");
	/* Obsolete pages are exempt: no root reaches them, and after a wrap their stale sptes may match again. */
	check(a, sp_obsolete(a->mmu, sp) || !mmio_generation_current(mmio_spte_generation(spte), a->generation) ||
		 !mmu_host_memslot(a->mmu, gfn, &slot),
	      "MMIO spte of the current generation for a gfn that is RAM");
}

/*
 * A link points at a live page one level down, of the parent's own
 * generation: links are made only from usable pages to pages sp_get()
 * found or made, both current then, and a later invalidation makes both
 * obsolete together.  So a current root reaches only current pages.
 */
static void audit_link(struct audit *a, struct shadow_page *sp, unsigned i)
{
	struct shadow_page *child = sp_from_pa(a->mmu, spte_to_pa(sp->spt[i]));

	check(a, child != NULL, "link spte points at no shadow page");
	if (!child)
		return;
	check(a, sp_child(sp, i) == child, "children[] differs from the page the link spte points at");
	check(a, sp->spt[i] == (child->spt_pa | SPTE_LINK_BITS), "link spte has unexpected bits");
	check(a, child->role.level + 1 == sp->role.level, "link skips a level");
	check(a, !child->role.invalid, "link to an invalid shadow page");
	check(a, child->mmu_valid_gen == sp->mmu_valid_gen, "link to a page of another generation");
	check(a, rmap_contains(&child->parent_ptes, &sp->spt[i]), "link spte missing from the child's parent_ptes");
}

static void audit_parents(struct audit *a, struct shadow_page *sp)
{
	struct rmap_iter it;
	uint64_t *sptep;

	for (sptep = rmap_first(&sp->parent_ptes, &it); sptep; sptep = rmap_next(&it))
		check(a, spte_present(*sptep) && spte_to_pa(*sptep) == sp->spt_pa,
		      "parent_ptes entry does not point at the page");
}

static unsigned root_references(struct mmu *mmu, const struct shadow_page *sp)
{
	unsigned n = 0, i, j;

	for (i = 0; i < mmu->nr_vcpus; i++) {
		const struct mmu_vcpu *v = mmu->vcpus[i];

		n += v->root_sp == sp;
		for (j = 0; j < 4; j++)
			n += v->pae_root_sps[j] == sp;
		for (j = 0; j < MMU_PREV_ROOTS; j++)
			n += v->prev_roots[j].sp == sp;
	}
	return n;
}

/* Whether sp is in the hash bucket of its gfn (sp_find() skips obsolete pages, which stay there until zapped). */
static bool in_gfn_hash(struct mmu *mmu, const struct shadow_page *sp)
{
	const struct shadow_page *p;

	for (p = mmu->hash[sp_gfn_bucket(sp->gfn)]; p; p = p->hash_next)
		if (p == sp)
			return true;
	return false;
}

static void audit_page(struct audit *a, struct shadow_page *sp)
{
	unsigned i;

	a->pages++;
	a->obsolete += sp_obsolete(a->mmu, sp);
	check(a, sp->mmu_valid_gen <= a->mmu->valid_gen, "shadow page of a generation still to come");
	check(a, sp_from_pa(a->mmu, sp->spt_pa) == sp, "shadow page not found by its table address");
	if (sp->role.invalid)
		check(a, sp->root_count > 0, "invalid shadow page outlived its last root reference");
	else if (sp_obsolete(a->mmu, sp))
		check(a, in_gfn_hash(a->mmu, sp) && sp_find(a->mmu, sp->gfn, sp->role) != sp,
		      "obsolete shadow page missing from the hash, or found by (gfn, role)");
	else
		check(a, sp_find(a->mmu, sp->gfn, sp->role) == sp, "shadow page not found by (gfn, role)");
	check(a, root_references(a->mmu, sp) == sp->root_count, "root_count differs from the vCPUs' references");
	for (i = 0; i < SPTES_PER_PAGE; i++) {
		if (!spte_present(sp->spt[i]))
			continue;
		if (sp->role.level == 1 && is_shadow_mmio_spte(sp->spt[i]))
			audit_mmio_leaf(a, sp, i);
		else if (sp->role.level == 1)
			audit_leaf(a, sp, i);
		else
			audit_link(a, sp, i);
	}
	audit_parents(a, sp);
}

/* With every leaf in its own gfn's rmap (audit_leaf) and the totals equal, no rmap holds a stray spte. */
static void audit_rmap(struct mmu *mmu, unsigned slot_id, uint64_t index, struct rmap_head *head, void *ctx)
{
	struct audit *a = ctx;
	struct rmap_iter it;
	uint64_t *sptep;

	(void)mmu;
	(void)slot_id;
	(void)index;
	for (sptep = rmap_first(head, &it); sptep; sptep = rmap_next(&it)) {
		a->rmap_entries++;
		check(a, spte_present(*sptep), "rmap holds a non-present spte");
	}
}

unsigned mmu_audit(struct mmu *mmu, void (*report)(const char *msg, void *ctx), void *ctx)
{
	struct audit a = { .mmu = mmu, .report = report, .ctx = ctx,
			   .generation = mmu_host_memslot_generation(mmu) };
	struct shadow_page *sp, *prev = NULL;
	unsigned i, j;

	/* The active list: no invalid page, generations never growing from the newest (head) to the oldest. */
	for (sp = mmu->active_head; sp; prev = sp, sp = sp->active_next) {
		check(&a, !sp->role.invalid, "invalid shadow page on the active list");
		check(&a, sp->active_prev == prev, "active list links disagree");
		check(&a, !prev || prev->mmu_valid_gen >= sp->mmu_valid_gen,
		      "active list out of generation order: an obsolete page is not in the run at the tail");
		audit_page(&a, sp);
	}
	check(&a, mmu->active_tail == prev, "active list tail is not its last page");
	for (sp = mmu->zapped_roots, prev = NULL; sp; prev = sp, sp = sp->active_next) {
		check(&a, sp->role.invalid, "a page on the zapped-roots list is not invalid");
		check(&a, sp->active_prev == prev, "zapped-roots list links disagree");
		audit_page(&a, sp);
	}
	check(&a, a.pages == mmu->stats.shadow_pages, "shadow page count differs from the lists");
	check(&a, a.obsolete == mmu->stats.obsolete_pages, "obsolete page count differs from the lists");
	/* A vCPU's PAE root entries name the pages it holds. */
	for (i = 0; i < mmu->nr_vcpus; i++)
		for (j = 0; j < 4; j++) {
			const struct mmu_vcpu *v = mmu->vcpus[i];
			const struct shadow_page *r = v->pae_root_sps[j];

			check(&a, r ? v->pae_root[j] == (r->spt_pa | PAE_ROOT_PRESENT) : v->pae_root[j] == 0,
			      "PAE root entry differs from the page the vCPU holds");
		}
	gfn_rmap_for_each(mmu, audit_rmap, &a);
	check(&a, a.rmap_entries == a.leaf_sptes, "gfn rmaps hold sptes that no shadow page has");
	return a.violations;
}
