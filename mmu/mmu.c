/* The MMU's lifetime, its vCPUs, their roots, and the guest events that change what the shadow tables mean. */
#include "mmu/mmu.h"
#include "mmu/mmu_hooks.h"
#include "mmu/shadow_page.h"
#include "mmu/spte.h"

bool mmu_init(struct mmu *mmu, unsigned guest_maxphyaddr, uint64_t max_shadow_pages)
{
	__builtin_memset(mmu, 0, sizeof(*mmu));
	mmu->guest_maxphyaddr = guest_maxphyaddr;
	mmu->host_nx = true;
	/* The host turns it off where the CPU has no reserved physical-address bit (MAXPHYADDR 52) or when asked to. */
	mmu->mmio_caching = true;
	mmu->max_shadow_pages = max_shadow_pages < MMU_MIN_SHADOW_PAGES ? MMU_MIN_SHADOW_PAGES : max_shadow_pages;
	mmu->rmap_recycle_threshold = MMU_RMAP_RECYCLE_THRESHOLD;
	obj_cache_init(&mmu->sp_cache, mmu, sizeof(struct shadow_page));
	obj_cache_init(&mmu->rmap_desc_cache, mmu, sizeof(struct rmap_desc));
	return true;
}

/* The role bits a guest mode gives every shadow page built for it. */
static union sp_role base_role(const struct guest_paging *p)
{
	enum guest_paging_mode mode = guest_paging_mode(p);
	union sp_role role = { .word = 0 };
	bool wp = (p->cr0 & PG_CR0_WP) || mode == PAGING_OFF;

	role.access = ACC_ALL;
	role.has_4_byte_gpte = mode == PAGING_32;
	role.cr4_pse = mode == PAGING_32 && (p->cr4 & PG_CR4_PSE);
	role.efer_nx = (mode == PAGING_PAE || mode == PAGING_4LEVEL) && (p->efer & PG_EFER_NXE);
	role.efer_lma = mode == PAGING_4LEVEL;
	role.cr0_wp = wp;
	role.smep_andnot_wp = mode != PAGING_OFF && (p->cr4 & PG_CR4_SMEP) && !wp;
	role.smap_andnot_wp = mode != PAGING_OFF && (p->cr4 & PG_CR4_SMAP) && !wp;
	return role;
}

bool mmu_vcpu_init(struct mmu *mmu, struct mmu_vcpu *v)
{
	if (mmu->nr_vcpus == MMU_MAX_VCPUS)
		return false;
	__builtin_memset(v, 0, sizeof(*v));
	v->mmu = mmu;
	v->pae_root = mmu_host_alloc_page(mmu, true, &v->pae_root_pa);
	if (!v->pae_root)
		return false;
	v->paging.maxphyaddr = mmu->guest_maxphyaddr;
	v->root_role = base_role(&v->paging).word;
	mmu->vcpus[mmu->nr_vcpus++] = v;
	mmu_host_request(v, MMU_REQ_RELOAD_ROOT | MMU_REQ_TLB_FLUSH);
	return true;
}

static void release_pae_roots(struct mmu_vcpu *v)
{
	unsigned i;

	for (i = 0; i < 4; i++) {
		v->pae_root[i] = 0;
		if (v->pae_root_sps[i])
			sp_put_root(v->mmu, v->pae_root_sps[i]);
		v->pae_root_sps[i] = NULL;
	}
}

static void release_root(struct mmu_vcpu *v)
{
	if (v->root_sp)
		sp_put_root(v->mmu, v->root_sp);
	v->root_sp = NULL;
	release_pae_roots(v);
	v->root_valid = false;
}

static void release_prev_roots(struct mmu_vcpu *v)
{
	unsigned i;

	for (i = 0; i < MMU_PREV_ROOTS; i++) {
		if (v->prev_roots[i].sp)
			sp_put_root(v->mmu, v->prev_roots[i].sp);
		v->prev_roots[i].sp = NULL;
	}
}

void mmu_vcpu_destroy(struct mmu_vcpu *v)
{
	struct mmu *mmu = v->mmu;
	unsigned i;

	release_root(v);
	release_prev_roots(v);
	mmu_host_free_page(mmu, v->pae_root, v->pae_root_pa);
	for (i = 0; i < mmu->nr_vcpus; i++)
		if (mmu->vcpus[i] == v) {
			mmu->vcpus[i] = mmu->vcpus[--mmu->nr_vcpus];
			break;
		}
}

static void zap_everything(struct mmu *mmu);

void mmu_destroy(struct mmu *mmu)
{
	while (mmu->nr_vcpus)
		mmu_vcpu_destroy(mmu->vcpus[0]);
	/* No root reference is left, so no page waits on zapped_roots and every page is freed. */
	zap_everything(mmu);
	gfn_rmap_free_all(mmu);
	obj_cache_destroy(&mmu->sp_cache);
	obj_cache_destroy(&mmu->rmap_desc_cache);
}

static uint64_t cr3_table_gfn(const struct guest_paging *p)
{
	if (guest_paging_mode(p) == PAGING_32)
		return (p->cr3 & 0xfffff000ull) >> 12;
	return (p->cr3 & ((1ull << p->maxphyaddr) - 1)) >> 12;
}

/*
 * Caches the current 4-level root and takes the one for the new CR3 from the
 * cache if it is there, so switching between a few address spaces keeps
 * their shadow tables referenced (a referenced root is never recycled).
 */
static void switch_cached_root(struct mmu_vcpu *v, uint64_t new_cr3)
{
	struct shadow_page *found = NULL;
	unsigned i, hit = MMU_PREV_ROOTS - 1;

	for (i = 0; i < MMU_PREV_ROOTS; i++) {
		struct shadow_page *sp = v->prev_roots[i].sp;

		/* An obsolete root is never reused: its tables may be stale. */
		if (sp && v->prev_roots[i].cr3 == new_cr3 && v->prev_roots[i].role == v->root_role &&
		    sp_usable(v->mmu, sp)) {
			found = sp;
			hit = i;
			break;
		}
	}
	/* Evict slot `hit` (the found root, or the oldest); shift the newer ones down; the current root goes first. */
	if (!found && v->prev_roots[hit].sp)
		sp_put_root(v->mmu, v->prev_roots[hit].sp);
	for (i = hit; i > 0; i--)
		v->prev_roots[i] = v->prev_roots[i - 1];
	v->prev_roots[0].sp = v->root_sp;
	v->prev_roots[0].cr3 = v->paging.cr3;
	v->prev_roots[0].role = v->root_role;
	v->root_sp = found;
	v->root_valid = false;
	if (found)
		v->mmu->stats.root_reuse++;
}

static bool pdptes_equal(const struct guest_paging *a, const struct guest_paging *b)
{
	unsigned i;

	for (i = 0; i < 4; i++)
		if (a->pdptes[i] != b->pdptes[i])
			return false;
	return true;
}

void mmu_set_paging(struct mmu_vcpu *v, const struct guest_paging *p)
{
	enum guest_paging_mode old_mode = guest_paging_mode(&v->paging), mode = guest_paging_mode(p);
	uint32_t role = base_role(p).word;
	bool same_tables = mode == old_mode && role == v->root_role;

	if (mode != PAGING_OFF && cr3_table_gfn(p) != cr3_table_gfn(&v->paging))
		same_tables = false;
	if (mode == PAGING_PAE && !pdptes_equal(p, &v->paging))
		same_tables = false;
	if (!same_tables) {
		if (mode == PAGING_4LEVEL && old_mode == PAGING_4LEVEL && role == v->root_role) {
			switch_cached_root(v, p->cr3);
		} else {
			release_root(v);
		}
		release_pae_roots(v);
		v->root_role = role;
		mmu_host_request(v, MMU_REQ_RELOAD_ROOT);
	}
	v->paging = *p;
	v->paging.maxphyaddr = v->mmu->guest_maxphyaddr;
	/*
	 * Every CR3 write and every change of a paging control bit flushes
	 * the TLB on a CPU (SDM 4.10.4.1); the shadow tables themselves are
	 * kept in step with the guest's by write protection, not by flushes.
	 */
	mmu_host_request(v, MMU_REQ_TLB_FLUSH);
}

static struct shadow_page *get_root_sp(struct mmu_vcpu *v, uint64_t gfn, union sp_role role)
{
	struct shadow_page *sp;

	sp_make_room(v->mmu, 1);
	sp = sp_get(v->mmu, gfn, role);
	if (sp)
		sp->root_count++;
	return sp;
}

/* The PAE root entry i: which level-2 shadow page covers gva bits 31:30 = i in this mode. */
static bool pae_root_child(const struct mmu_vcpu *v, unsigned i, uint64_t *gfn, union sp_role *role)
{
	const struct guest_paging *p = &v->paging;

	role->level = 2;
	switch (guest_paging_mode(p)) {
	case PAGING_OFF:
		role->direct = 1;
		*gfn = (uint64_t)i << 18;
		return true;
	case PAGING_32:
		role->quadrant = i;
		*gfn = cr3_table_gfn(p);
		return true;
	default:
		if (!(p->pdptes[i] & GPTE_PRESENT))
			return false;
		*gfn = (p->pdptes[i] & ((1ull << p->maxphyaddr) - 1) & ~0xfffull) >> 12;
		return true;
	}
}

static int load_pae_root(struct mmu_vcpu *v)
{
	unsigned i;

	/* Stale entries go first, so that making room for the new ones can reclaim them (an obsolete page before any current one). */
	for (i = 0; i < 4; i++) {
		struct shadow_page *sp = v->pae_root_sps[i];

		if (sp && !sp_usable(v->mmu, sp)) {
			sp_put_root(v->mmu, sp);
			v->pae_root_sps[i] = NULL;
			v->pae_root[i] = 0;
		}
	}
	for (i = 0; i < 4; i++) {
		union sp_role role = { .word = v->root_role };
		struct shadow_page *sp;
		uint64_t gfn;

		if (v->pae_root_sps[i] || !pae_root_child(v, i, &gfn, &role))
			continue;
		sp = get_root_sp(v, gfn, role);
		if (!sp)
			return -1;
		v->pae_root_sps[i] = sp;
		v->pae_root[i] = sp->spt_pa | PAE_ROOT_PRESENT;
	}
	v->root_pa = v->pae_root_pa;
	return 0;
}

/*
 * Cached roots that can never be used again (zapped, or obsolete after
 * mmu_invalidate_all()) are dropped when the vCPU reloads, which every
 * invalidation asks for: their reference would otherwise keep them alive
 * until the vCPU happened to switch CR3 three more times.
 */
static void release_stale_prev_roots(struct mmu_vcpu *v)
{
	unsigned i;

	for (i = 0; i < MMU_PREV_ROOTS; i++) {
		struct shadow_page *sp = v->prev_roots[i].sp;

		if (sp && !sp_usable(v->mmu, sp)) {
			sp_put_root(v->mmu, sp);
			v->prev_roots[i].sp = NULL;
		}
	}
}

int mmu_load_root(struct mmu_vcpu *v, uint64_t *root_pa)
{
	release_stale_prev_roots(v);
	if (guest_paging_mode(&v->paging) != PAGING_4LEVEL) {
		if (v->root_sp)
			release_root(v);
		if (load_pae_root(v))
			return -1;
	} else {
		union sp_role role = { .word = v->root_role };

		release_pae_roots(v);
		if (v->root_sp && !sp_usable(v->mmu, v->root_sp)) {
			sp_put_root(v->mmu, v->root_sp);
			v->root_sp = NULL;
		}
		if (!v->root_sp) {
			role.level = 4;
			v->root_sp = get_root_sp(v, cr3_table_gfn(&v->paging), role);
			if (!v->root_sp)
				return -1;
		}
		v->root_pa = v->root_sp->spt_pa;
	}
	v->root_valid = true;
	*root_pa = v->root_pa;
	return 0;
}

void mmu_invlpg(struct mmu_vcpu *v, uint64_t gva)
{
	/*
	 * Shadow entries never go stale (guest tables are write-protected), so
	 * INVLPG only has to drop what the CPU's TLB caches for gva.
	 */
	v->mmu->stats.invlpg++;
	mmu_host_flush_gva(v, gva);
}

static void drop_gfn_rmap(struct mmu *mmu, unsigned slot_id, uint64_t index, struct rmap_head *head,
			  void *ctx)
{
	(void)slot_id;
	(void)index;
	(void)ctx;
	sp_drop_rmap(mmu, head);
}

/* Zaps every page, current and obsolete (roots become invalid until their vCPUs reload); the caller makes the requests. */
static void zap_everything(struct mmu *mmu)
{
	struct shadow_page *sp, *next;
	unsigned i;

	for (i = 0; i < mmu->nr_vcpus; i++)
		release_prev_roots(mmu->vcpus[i]);
	/*
	 * Every leaf goes: drop each gfn's rmap in one pass first, so zapping the
	 * pages below finds no leaf left to search its (possibly long) rmap for.
	 */
	gfn_rmap_for_each(mmu, drop_gfn_rmap, NULL);
	/* Zapping frees (or moves to zapped_roots) only the page zapped: next stays on the list. */
	for (sp = mmu->active_head; sp; sp = next) {
		next = sp->active_next;
		sp_zap_norequest(mmu, sp);
	}
}

void mmu_zap_all(struct mmu *mmu)
{
	zap_everything(mmu);
	/* One request for all the pages, and like the fast way to every vCPU, also one that held no page. */
	mmu_request_all(mmu, MMU_REQ_RELOAD_ROOT | MMU_REQ_TLB_FLUSH);
	mmu->stats.invalidations++;
}

void mmu_invalidate_all(struct mmu *mmu)
{
	if (mmu->zap_slow) {
		mmu_zap_all(mmu);
		return;
	}
	/*
	 * Every page now belongs to an older generation: lookups stop finding
	 * them at once, and they are zapped later, oldest first.  Nothing but
	 * these counters and the vCPUs' requests is written.
	 */
	mmu->valid_gen++;
	mmu->stats.obsolete_pages = mmu->stats.shadow_pages;
	mmu->stats.invalidations++;
	mmu_request_all(mmu, MMU_REQ_RELOAD_ROOT | MMU_REQ_TLB_FLUSH);
}

bool mmu_zap_obsolete_step(struct mmu *mmu)
{
	struct shadow_page *sp;
	unsigned n = 0, requests = 0;

	/* The obsolete pages are the run at the tail of the active list (it is ordered by generation). */
	while (n < MMU_ZAP_BATCH && (sp = mmu->active_tail) && sp_obsolete(mmu, sp)) {
		requests |= sp_zap_norequest(mmu, sp);
		n++;
	}
	if (n) {
		mmu_request_all(mmu, requests);
		mmu->stats.zap_batches++;
		if (n > mmu->stats.zap_longest_batch)
			mmu->stats.zap_longest_batch = n;
	}
	sp = mmu->active_tail;
	return sp && sp_obsolete(mmu, sp);
}

void mmu_memslot_removed(struct mmu *mmu, unsigned slot_id)
{
	/*
	 * The host frees the slot's memory as soon as this returns, and
	 * obsolete pages live on after it: so every leaf mapping the slot goes
	 * now, whatever page holds it.  The gfn rmaps find them all, one pass
	 * per gfn; zapping an obsolete page later finds them cleared.
	 */
	gfn_rmap_for_each_in_slot(mmu, slot_id, drop_gfn_rmap, NULL);
	gfn_rmap_free_slot(mmu, slot_id);
	mmu_invalidate_all(mmu);
}

bool mmu_gfn_write_protected(struct mmu *mmu, uint64_t gfn)
{
	return sp_gfn_shadowed(mmu, gfn);
}
