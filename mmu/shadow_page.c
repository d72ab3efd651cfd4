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

static unsigned gfn_bucket(uint64_t gfn)
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

	for (sp = mmu->hash[gfn_bucket(gfn)]; sp; sp = sp->hash_next)
		if (sp->gfn == gfn && sp->role.word == role.word)
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

struct shadow_page *sp_next_of_gfn(struct shadow_page *sp, uint64_t gfn)
{
	for (sp = sp->hash_next; sp; sp = sp->hash_next)
		if (sp->gfn == gfn)
			return sp;
	return NULL;
}

struct shadow_page *sp_first_of_gfn(struct mmu *mmu, uint64_t gfn)
{
	struct shadow_page *sp = mmu->hash[gfn_bucket(gfn)];

	return (!sp || sp->gfn == gfn) ? sp : sp_next_of_gfn(sp, gfn);
}

bool sp_gfn_shadowed(struct mmu *mmu, uint64_t gfn)
{
	struct shadow_page *sp;

	for (sp = sp_first_of_gfn(mmu, gfn); sp; sp = sp_next_of_gfn(sp, gfn))
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

static void hash_insert(struct mmu *mmu, struct shadow_page *sp)
{
	struct shadow_page **bucket = &mmu->hash[gfn_bucket(sp->gfn)];

	sp->hash_next = *bucket;
	*bucket = sp;
}

static void hash_remove(struct mmu *mmu, struct shadow_page *sp)
{
	struct shadow_page **p;

	for (p = &mmu->hash[gfn_bucket(sp->gfn)]; *p; p = &(*p)->hash_next)
		if (*p == sp) {
			*p = sp->hash_next;
			return;
		}
}

static void pa_insert(struct mmu *mmu, struct shadow_page *sp)
{
	struct shadow_page **bucket = &mmu->by_pa[pa_bucket(sp->spt_pa)];

	sp->pa_next = *bucket;
	*bucket = sp;
}

static void pa_remove(struct mmu *mmu, struct shadow_page *sp)
{
	struct shadow_page **p;

	for (p = &mmu->by_pa[pa_bucket(sp->spt_pa)]; *p; p = &(*p)->pa_next)
		if (*p == sp) {
			*p = sp->pa_next;
			return;
		}
}

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

static void sp_free(struct mmu *mmu, struct shadow_page *sp)
{
	pa_remove(mmu, sp);
	active_remove(mmu, sp);
	mmu_host_free_page(mmu, sp->spt, sp->spt_pa);
	if (sp->gfns)
		mmu_host_free_page(mmu, sp->gfns, sp->gfns_pa);
	obj_cache_free(&mmu->sp_cache, sp);
	mmu->stats.shadow_pages--;
}

static struct shadow_page *sp_alloc(struct mmu *mmu, uint64_t gfn, union sp_role role)
{
	struct shadow_page *sp = obj_cache_alloc(&mmu->sp_cache);

	if (!sp)
		return NULL;
	sp->spt = mmu_host_alloc_page(mmu, false, &sp->spt_pa);
	if (!sp->spt)
		goto fail;
	if (role.level == 1 && !role.direct) {
		sp->gfns = mmu_host_alloc_page(mmu, false, &sp->gfns_pa);
		if (!sp->gfns) {
			mmu_host_free_page(mmu, sp->spt, sp->spt_pa);
			goto fail;
		}
	}
	sp->gfn = gfn;
	sp->role = role;
	hash_insert(mmu, sp);
	pa_insert(mmu, sp);
	active_insert(mmu, sp);
	mmu->stats.shadow_pages++;
	mmu->stats.mmu_cache_miss++;
	return sp;
fail:
	obj_cache_free(&mmu->sp_cache, sp);
	return NULL;
}

struct shadow_page *sp_get(struct mmu *mmu, uint64_t gfn, union sp_role role)
{
	struct shadow_page *sp = sp_find(mmu, gfn, role);

	if (sp)
		return sp;
	sp = sp_alloc(mmu, gfn, role);
	if (sp && !role.direct)
		write_protect_gfn(mmu, gfn);
	return sp;
}

bool sp_link(struct mmu *mmu, uint64_t *sptep, struct shadow_page *child)
{
	if (!rmap_add(&mmu->rmap_desc_cache, &child->parent_ptes, sptep))
		return false;
	*sptep = child->spt_pa | SPTE_LINK_BITS;
	return true;
}

void sp_zap_spte(struct mmu *mmu, struct shadow_page *sp, unsigned i)
{
	uint64_t *sptep = &sp->spt[i];

	if (!spte_present(*sptep))
		return;
	if (sp->role.level == 1) {
		/* An MMIO spte is in no rmap (its gfn may be RAM by now, with an rmap that never held it). */
		struct rmap_head *head = is_shadow_mmio_spte(*sptep) ? NULL
								      : gfn_rmap_head(mmu, sp_leaf_gfn(sp, i), false);

		if (head)
			rmap_remove(&mmu->rmap_desc_cache, head, sptep);
	} else {
		struct shadow_page *child = sp_from_pa(mmu, spte_to_pa(*sptep));

		if (child)
			rmap_remove(&mmu->rmap_desc_cache, &child->parent_ptes, sptep);
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

void sp_zap(struct mmu *mmu, struct shadow_page *sp)
{
	unsigned i;

	sp_drop_rmap(mmu, &sp->parent_ptes);
	for (i = 0; i < SPTES_PER_PAGE; i++)
		sp_zap_spte(mmu, sp, i);
	mmu->stats.mmu_shadow_zapped++;
	if (!sp->role.invalid)
		hash_remove(mmu, sp);
	if (sp->root_count) {
		sp->role.invalid = 1;
		mmu_request_all(mmu, MMU_REQ_RELOAD_ROOT | MMU_REQ_TLB_FLUSH);
		return;
	}
	sp_free(mmu, sp);
	/*
	 * The CPU may still cache translations through the freed table; every
	 * vCPU flushes before it next enters the guest, and tables are only
	 * changed while no vCPU runs (one vCPU, changed in its own exits).
	 */
	mmu_request_all(mmu, MMU_REQ_TLB_FLUSH);
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

		while (victim && (victim->root_count || victim->role.invalid))
			victim = victim->active_prev;
		if (!victim)
			return;
		sp_zap(mmu, victim);
		mmu->stats.mmu_recycled++;
	}
}
