/* Shadow pages: the hash by gfn, the lookup by table address, linking, write protection, zapping and recycling. */
#include "mmu/shadow_page.h"
#include "mmu/gfn_rmap.h"
#include "mmu/mmu.h"
#include "mmu/mmu_hooks.h"
#include "mmu/spte.h"

static unsigned hash_u64(uint64_t key)
{
	return (unsigned)((key * 0x9e3779b97f4a7c15ull) >> 54) % MMU_HASH_BUCKETS;
}

unsigned sp_gfn_bucket(uint64_t gfn)
{
	return hash_u64(gfn);
}

static unsigned pa_bucket(uint64_t pa)
{
	return hash_u64(pa >> 12);
}

void mmu_request_all(struct mmu *mmu, unsigned requests)
{
	unsigned i;

	for (i = 0; i < mmu->nr_vcpus; i++)
		mmu_host_request(mmu->vcpus[i], requests);
}

struct shadow_page *sp_find(struct mmu *mmu, uint64_t gfn, union sp_role role)
{
	struct shadow_page *sp;

	for (sp = mmu->hash[sp_gfn_bucket(gfn)]; sp; sp = sp->hash_next)
		if (sp->gfn == gfn && sp->role.word == role.word && !sp_obsolete(mmu, sp))
			return sp;
	return NULL;
}

struct shadow_page *sp_from_pa(struct mmu *mmu, uint64_t spt_pa)
{
	struct shadow_page *sp;

	for (sp = mmu->by_pa[pa_bucket(spt_pa)]; sp; sp = sp->pa_next)
		if (sp->spt_pa == spt_pa)
			return sp;
	return NULL;
}

struct shadow_page *sp_next_of_gfn(struct mmu *mmu, struct shadow_page *sp, uint64_t gfn)
{
	for (sp = sp->hash_next; sp; sp = sp->hash_next)
		if (sp->gfn == gfn && !sp_obsolete(mmu, sp))
			return sp;
	return NULL;
}

struct shadow_page *sp_first_of_gfn(struct mmu *mmu, uint64_t gfn)
{
	struct shadow_page *sp = mmu->hash[sp_gfn_bucket(gfn)];

	return (!sp || (sp->gfn == gfn && !sp_obsolete(mmu, sp))) ? sp : sp_next_of_gfn(mmu, sp, gfn);
}

bool sp_gfn_shadowed(struct mmu *mmu, uint64_t gfn)
{
	struct shadow_page *sp;

	for (sp = sp_first_of_gfn(mmu, gfn); sp; sp = sp_next_of_gfn(mmu, sp, gfn))
		if (!sp->role.direct)
			return true;
	return false;
}

/* No spte may let the guest write gfn once a guest table there is shadowed; MMU-writable goes too, so no fault path re-grants it. */
static void write_protect_gfn(struct mmu *mmu, uint64_t gfn)
{
	struct rmap_head *head = gfn_rmap_head(mmu, gfn, false);
	struct rmap_iter it;
	bool flush = false;
	uint64_t *sptep;

	if (!head)
		return;
	for (sptep = rmap_first(head, &it); sptep; sptep = rmap_next(&it)) {
		flush |= spte_writable(*sptep);
		*sptep &= ~(SPTE_WRITABLE | SPTE_MMU_WRITABLE);
	}
	if (flush)
		mmu_request_all(mmu, MMU_REQ_TLB_FLUSH);
}

/* Singly linked buckets with a pointer to the link that points at each page: O(1) removal. */
static void hash_insert(struct mmu *mmu, struct shadow_page *sp)
{
	struct shadow_page **bucket = &mmu->hash[sp_gfn_bucket(sp->gfn)];

	sp->hash_next = *bucket;
	if (*bucket)
		(*bucket)->hash_pprev = &sp->hash_next;
	sp->hash_pprev = bucket;
	*bucket = sp;
}

static void hash_remove(struct shadow_page *sp)
{
	*sp->hash_pprev = sp->hash_next;
	if (sp->hash_next)
		sp->hash_next->hash_pprev = sp->hash_pprev;
	sp->hash_next = NULL;
	sp->hash_pprev = NULL;
}

static void pa_insert(struct mmu *mmu, struct shadow_page *sp)
{
	struct shadow_page **bucket = &mmu->by_pa[pa_bucket(sp->spt_pa)];

	sp->pa_next = *bucket;
	if (*bucket)
		(*bucket)->pa_pprev = &sp->pa_next;
	sp->pa_pprev = bucket;
	*bucket = sp;
}

static void pa_remove(struct shadow_page *sp)
{
	*sp->pa_pprev = sp->pa_next;
	if (sp->pa_next)
		sp->pa_next->pa_pprev = sp->pa_pprev;
}

/* New pages go at the head: the active list stays ordered by generation, oldest at the tail. */
static void active_insert(struct mmu *mmu, struct shadow_page *sp)
{
	sp->active_prev = NULL;
	sp->active_next = mmu->active_head;
	if (mmu->active_head)
		mmu->active_head->active_prev = sp;
	else
		mmu->active_tail = sp;
	mmu->active_head = sp;
}

static void active_remove(struct mmu *mmu, struct shadow_page *sp)
{
	if (sp->active_prev)
		sp->active_prev->active_next = sp->active_next;
	else
		mmu->active_head = sp->active_next;
	if (sp->active_next)
		sp->active_next->active_prev = sp->active_prev;
	else
		mmu->active_tail = sp->active_prev;
}

/* The list of invalid pages (zapped while roots) reuses the active links; its order does not matter. */
static void zapped_insert(struct mmu *mmu, struct shadow_page *sp)
{
	sp->active_prev = NULL;
	sp->active_next = mmu->zapped_roots;
	if (mmu->zapped_roots)
		mmu->zapped_roots->active_prev = sp;
	mmu->zapped_roots = sp;
}

static void zapped_remove(struct mmu *mmu, struct shadow_page *sp)
{
	if (sp->active_prev)
		sp->active_prev->active_next = sp->active_next;
	else
		mmu->zapped_roots = sp->active_next;
	if (sp->active_next)
		sp->active_next->active_prev = sp->active_prev;
}

static void sp_free(struct mmu *mmu, struct shadow_page *sp)
{
	pa_remove(sp);
	if (sp->role.invalid)
		zapped_remove(mmu, sp);
	else
		active_remove(mmu, sp);
	if (sp_obsolete(mmu, sp))
		mmu->stats.obsolete_pages--;
	mmu_host_free_page(mmu, sp->spt, sp->spt_pa);
	if (sp->gfns)
		mmu_host_free_page(mmu, sp->gfns, sp->gfns_pa);
	if (sp->children)
		mmu_host_free_page(mmu, sp->children, sp->children_pa);
	obj_cache_free(&mmu->sp_cache, sp);
	mmu->stats.shadow_pages--;
}

struct shadow_page *sp_create(struct mmu *mmu, uint64_t gfn, union sp_role role)
{
	struct shadow_page *sp = obj_cache_alloc(&mmu->sp_cache);

	if (!sp)
		return NULL;
	sp->spt = mmu_host_alloc_page(mmu, false, &sp->spt_pa);
	if (!sp->spt)
		goto fail;
	if (role.level == 1 && !role.direct) {
		sp->gfns = mmu_host_alloc_page(mmu, false, &sp->gfns_pa);
		if (!sp->gfns)
			goto fail;
	} else if (role.level > 1) {
		sp->children = mmu_host_alloc_page(mmu, false, &sp->children_pa);
		if (!sp->children)
			goto fail;
	}
	sp->gfn = gfn;
	sp->role = role;
	sp->mmu_valid_gen = mmu->valid_gen;
	hash_insert(mmu, sp);
	pa_insert(mmu, sp);
	active_insert(mmu, sp);
	mmu->stats.shadow_pages++;
	mmu->stats.mmu_cache_miss++;
	return sp;
fail:
	if (sp->spt)
		mmu_host_free_page(mmu, sp->spt, sp->spt_pa);
	obj_cache_free(&mmu->sp_cache, sp);
	return NULL;
}

struct shadow_page *sp_get(struct mmu *mmu, uint64_t gfn, union sp_role role)
{
	struct shadow_page *sp = sp_find(mmu, gfn, role);

	if (sp)
		return sp;
	sp = sp_create(mmu, gfn, role);
	if (sp && !role.direct)
		write_protect_gfn(mmu, gfn);
	return sp;
}

bool sp_link(struct mmu *mmu, struct shadow_page *parent, unsigned i, struct shadow_page *child)
{
	uint64_t *sptep = &parent->spt[i];

	if (!rmap_add(&mmu->rmap_desc_cache, &child->parent_ptes, sptep))
		return false;
	parent->children[i] = child;
	*sptep = child->spt_pa | SPTE_LINK_BITS;
	return true;
}

void sp_zap_spte(struct mmu *mmu, struct shadow_page *sp, unsigned i)
{
	uint64_t *sptep = &sp->spt[i];

	if (!spte_present(*sptep))
		return;
	if (sp->role.level == 1) {
		/*
		 * An MMIO spte is in no rmap (its gfn may be RAM by now, with an
		 * rmap that never held it).  A RAM leaf's gfn always has its
		 * rmap: a memslot's leaves are cleared before the memslot goes.
		 */
		struct rmap_head *head = is_shadow_mmio_spte(*sptep) ? NULL
								      : gfn_rmap_head(mmu, sp_leaf_gfn(sp, i), false);

		if (head)
			rmap_remove(&mmu->rmap_desc_cache, head, sptep);
	} else {
		rmap_remove(&mmu->rmap_desc_cache, &sp_child(sp, i)->parent_ptes, sptep);
	}
	*sptep = 0;
}

static void clear_spte(uint64_t *sptep, void *ctx)
{
	(void)ctx;
	*sptep = 0;
}

void sp_drop_rmap(struct mmu *mmu, struct rmap_head *head)
{
	rmap_drop_all(&mmu->rmap_desc_cache, head, clear_spte, NULL);
}

unsigned sp_zap_norequest(struct mmu *mmu, struct shadow_page *sp)
{
	unsigned i;

	if (sp->role.invalid)
		return 0;	/* zapped already, waiting for its last root reference */
	sp_drop_rmap(mmu, &sp->parent_ptes);
	/* Most entries of most pages are empty: test them here rather than in a call each. */
	for (i = 0; i < SPTES_PER_PAGE; i++) {
		if (spte_present(sp->spt[i]))
			sp_zap_spte(mmu, sp, i);
	}
	mmu->stats.mmu_shadow_zapped++;
	if (sp_obsolete(mmu, sp))
		mmu->stats.obsolete_zapped++;
	hash_remove(sp);
	if (sp->root_count) {
		active_remove(mmu, sp);
		sp->role.invalid = 1;
		zapped_insert(mmu, sp);
		return MMU_REQ_RELOAD_ROOT | MMU_REQ_TLB_FLUSH;
	}
	sp_free(mmu, sp);
	/*
	 * The CPU may still cache translations through the freed table; every
	 * vCPU flushes before it next enters the guest, and tables are only
	 * changed while no vCPU runs (one vCPU, changed in its own exits).
	 */
	return MMU_REQ_TLB_FLUSH;
}

void sp_zap(struct mmu *mmu, struct shadow_page *sp)
{
	unsigned requests = sp_zap_norequest(mmu, sp);

	if (requests)
		mmu_request_all(mmu, requests);
}

void sp_put_root(struct mmu *mmu, struct shadow_page *sp)
{
	if (--sp->root_count == 0 && sp->role.invalid)
		sp_free(mmu, sp);
}

void sp_make_room(struct mmu *mmu, unsigned n)
{
	while (mmu->stats.shadow_pages + n > mmu->max_shadow_pages) {
		struct shadow_page *victim = mmu->active_tail;

		/* Roots are few (eight per vCPU at most), so skipping them keeps this short. */
		while (victim && victim->root_count)
			victim = victim->active_prev;
		if (!victim)
			return;
		/* Obsolete pages are the oldest: they go first, and count as obsolete_zapped, not mmu_recycled. */
		if (!sp_obsolete(mmu, victim))
			mmu->stats.mmu_recycled++;
		sp_zap(mmu, victim);
	}
}
