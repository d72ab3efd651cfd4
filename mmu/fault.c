/* The shadow page-fault path: guest walk, memslot, shadow walk, leaf spte (RAM or MMIO); each step a small function. */
#include "mmu/fault.h"
#include "mmu/gfn_rmap.h"
#include "mmu/mmu.h"
#include "mmu/mmu_hooks.h"
#include "mmu/shadow_page.h"
#include "mmu/spte.h"

/* One fault as it moves through the steps. */
struct fault {
	uint64_t gva;
	unsigned access;		/* WALK_* */
	bool paging;			/* false: paging off, gfn = linear address */
	struct guest_walk walk;
	uint64_t gfn;
	struct mmu_memslot slot;
	bool linked;			/* the shadow walk had to link a page on the way: the CPU's walk stopped there */
};

static unsigned fault_access(uint32_t error_code, unsigned cpl, bool eflags_ac)
{
	unsigned access = error_code & (WALK_WRITE | WALK_USER | WALK_FETCH);

	/* SMAP's EFLAGS.AC exemption covers explicit accesses at CPL < 3 only; at CPL 3 a supervisor access is implicit. */
	if (!(error_code & PFERR_USER) && cpl < 3 && eflags_ac)
		access |= WALK_SMAP_AC;
	return access;
}

/* Step 1: the guest's own translation.  False: the guest's tables fault, and the fault is the guest's. */
static bool translate_guest(struct mmu_vcpu *v, struct fault *f)
{
	if (guest_paging_mode(&v->paging) == PAGING_OFF) {
		f->paging = false;
		f->gfn = (f->gva & 0xffffffffull) >> 12;
		return true;
	}
	f->paging = true;
	guest_walk(v->mmu, &v->paging, f->gva, f->access, &f->walk);
	if (f->walk.fault)
		return false;
	f->gfn = f->walk.gfn;
	return true;
}

/*
 * Access the leaves of a direct page from a guest large page carry.  A
 * clean large page maps read-only so that the first write faults and sets
 * its dirty bit; the role holds that, so cleaning the page again (which
 * zaps the link to this page) makes the next fault find a different page.
 */
static unsigned large_page_access(const struct fault *f)
{
	unsigned access = f->walk.pte_access;

	if (!(f->walk.gpte[f->walk.level] & GPTE_DIRTY))
		access &= ~ACC_WRITE;
	return access;
}

/* Which shadow page a link at `level` (in parent) must point at for this fault. */
static void child_for(const struct mmu_vcpu *v, const struct fault *f, const struct shadow_page *parent,
		      unsigned level, uint64_t *gfn, union sp_role *role)
{
	unsigned child_level = level - 1;
	uint64_t span = 1ull << (9 * child_level);	/* 4 KiB frames a child at child_level covers */

	role->word = v->root_role;
	role->level = child_level;
	if (!f->paging || parent->role.direct) {
		role->direct = 1;
		role->access = parent->role.direct ? parent->role.access : ACC_ALL;
		*gfn = f->gfn & ~(span - 1);
	} else if (child_level >= f->walk.level) {
		role->access = f->walk.pt_access[level];
		*gfn = f->walk.table_gfn[child_level];
		if (role->has_4_byte_gpte && child_level == 1)
			role->quadrant = (f->gva >> 21) & 1;
	} else {
		role->direct = 1;
		role->access = large_page_access(f);
		*gfn = f->gfn & ~(span - 1);
	}
}

/* The level-2 page under the PAE root, or the 4-level root, where the shadow walk starts. */
static struct shadow_page *walk_start(struct mmu_vcpu *v, uint64_t gva, unsigned *level)
{
	if (guest_paging_mode(&v->paging) == PAGING_4LEVEL) {
		*level = 4;
		return v->root_sp;
	}
	*level = 2;
	return v->pae_root_sps[(gva >> 30) & 3];
}

uint64_t *shadow_lookup_leaf(struct mmu_vcpu *v, uint64_t gva, struct shadow_page **leaf_sp, unsigned *index)
{
	unsigned level;
	struct shadow_page *sp = walk_start(v, gva, &level);

	/*
	 * A zapped or obsolete root waits for the reload the host serves
	 * before the next entry; its leaves may be stale (nothing keeps
	 * obsolete pages in step with the guest's tables).  Everything a
	 * usable root links to is of its generation (the audit checks).
	 */
	if (!sp || !sp_usable(v->mmu, sp))
		return NULL;
	for (; level > 1; level--) {
		unsigned i = shadow_index(gva, level);

		if (!spte_present(sp->spt[i]))
			return NULL;
		sp = sp_child(sp, i);
	}
	*leaf_sp = sp;
	*index = shadow_index(gva, 1);
	return &sp->spt[*index];
}

/* Step 3: walks the shadow tables down to the level-1 page for gva, linking new shadow pages on the way. */
static enum mmu_pf_result shadow_walk(struct mmu_vcpu *v, const struct fault *f, struct shadow_page **leaf_sp,
				       bool *linked)
{
	struct mmu *mmu = v->mmu;
	unsigned level;
	struct shadow_page *sp = walk_start(v, f->gva, &level);

	if (!sp || !sp_usable(mmu, sp))
		return MMU_PF_RETRY;	/* a root reload is pending */
	for (; level > 1; level--) {
		unsigned i = shadow_index(f->gva, level);
		union sp_role role;
		uint64_t gfn;
		struct shadow_page *child;

		sp->write_flooding_count = 0;
		child_for(v, f, sp, level, &gfn, &role);
		if (spte_present(sp->spt[i])) {
			/* A usable page links only to pages of its own generation: the child is usable too. */
			child = sp_child(sp, i);
			if (child->gfn == gfn && child->role.word == role.word) {
				sp = child;
				continue;
			}
			/* Only a large page's dirty bit changes what its link must point at. */
			sp_zap_spte(mmu, sp, i);
			mmu_request_all(mmu, MMU_REQ_TLB_FLUSH);
		}
		child = sp_get(mmu, gfn, role);
		if (!child || !sp_link(mmu, sp, i, child))
			return MMU_PF_NO_MEMORY;
		*linked = true;
		sp = child;
	}
	sp->write_flooding_count = 0;
	*leaf_sp = sp;
	return MMU_PF_RETRY;
}

/* The access the leaf for this fault gets, CR0.WP=0 included.  False: the write must be emulated. */
static bool leaf_access(const struct mmu *mmu, const struct fault *f, const struct shadow_page *sp,
			unsigned *access)
{
	unsigned a;

	if (sp->role.direct)
		a = sp->role.access;
	else
		a = f->walk.pte_access & ((f->walk.gpte[1] & GPTE_DIRTY) ? ACC_ALL : ~ACC_WRITE);
	/*
	 * CR0.WP = 0 lets the guest kernel write read-only pages, but the CPU
	 * runs with WP = 1.  A supervisor write to such a page gets a writable
	 * supervisor-only leaf; a later user access faults and gets the guest's
	 * own permissions back.  A supervisor-only leaf would let SMEP pass a
	 * fetch from a user page, so it is made non-executable (which needs NX
	 * on the host); SMAP would pass a read the guest forbids, and nothing in
	 * the leaf can prevent that.  Where the leaf cannot be made right, the
	 * write is emulated instead.
	 */
	if ((f->access & WALK_WRITE) && !(f->access & WALK_USER) && !(a & ACC_WRITE) && !sp->role.cr0_wp) {
		/* A supervisor page loses nothing: SMEP and SMAP only look at user pages. */
		if (a & ACC_USER) {
			if (sp->role.smap_andnot_wp || (sp->role.smep_andnot_wp && !mmu->host_nx))
				return false;
			if (sp->role.smep_andnot_wp)
				a &= ~ACC_EXEC;
		}
		a = (a | ACC_WRITE) & ~ACC_USER;
	}
	*access = a;
	return true;
}

static bool spte_reduces_access(uint64_t old, uint64_t new)
{
	if (spte_to_pa(old) != spte_to_pa(new))
		return true;
	if ((old & SPTE_WRITABLE) && !(new & SPTE_WRITABLE))
		return true;
	if ((old & SPTE_USER) && !(new & SPTE_USER))
		return true;
	return (new & SPTE_NX) && !(old & SPTE_NX);
}

/*
 * A gfn mapped at too many addresses: removing one spte searches the whole
 * chain, so past the threshold every spte of the gfn is dropped in one pass
 * (the guest refaults the ones it still uses) and no chain grows without bound.
 */
static void recycle_rmap(struct mmu *mmu, struct rmap_head *head)
{
	sp_drop_rmap(mmu, head);
	mmu->stats.rmap_recycled++;
	mmu_request_all(mmu, MMU_REQ_TLB_FLUSH);
}

/*
 * A fault the spte already allows: the CPU used a translation it cached
 * before the spte changed, and a flush of gva settles it.  The error code
 * cannot tell an explicit supervisor access from an implicit one (a
 * descriptor-table or TSS access), and only the explicit ones get SMAP's
 * EFLAGS.AC exemption; so when the same address faults spuriously twice in a
 * row with the exemption in play, the access was implicit: walk again
 * without it and give the guest the fault that walk finds.
 */
static enum mmu_pf_result spurious_fault(struct mmu_vcpu *v, const struct fault *f)
{
	struct guest_walk w;

	if ((f->access & WALK_SMAP_AC) && f->paging && v->spurious_valid && v->spurious_gva == f->gva) {
		guest_walk(v->mmu, &v->paging, f->gva, f->access & ~WALK_SMAP_AC, &w);
		if (w.fault) {
			v->spurious_valid = false;
			v->mmu->stats.pf_guest++;
			mmu_host_inject_page_fault(v, f->gva, w.error_code);
			return MMU_PF_INJECTED;
		}
	}
	v->spurious_valid = true;
	v->spurious_gva = f->gva;
	v->mmu->stats.pf_spurious++;
	mmu_host_flush_gva(v, f->gva);
	return MMU_PF_RETRY;
}

/* Step 4: the leaf spte for gva in sp. */
static enum mmu_pf_result set_leaf(struct mmu_vcpu *v, const struct fault *f, struct shadow_page *sp)
{
	struct mmu *mmu = v->mmu;
	unsigned i = shadow_index(f->gva, 1), access;
	uint64_t *sptep = &sp->spt[i], old = *sptep, spte;
	uint64_t host_pa = f->slot.host_pa + ((f->gfn - f->slot.base_gfn) << 12);
	bool write = f->access & WALK_WRITE;
	struct rmap_head *head;

	if (!leaf_access(mmu, f, sp, &access))
		return MMU_PF_EMULATE;
	/*
	 * An MMIO spte (the gfn had no RAM when it was made) is in no rmap and
	 * was never in a TLB: it simply goes, and the RAM spte is new.
	 */
	if (is_shadow_mmio_spte(old)) {
		*sptep = 0;
		old = 0;
	}
	spte = SPTE_PRESENT | host_pa;
	if (access & ACC_USER)
		spte |= SPTE_USER;
	if (!(access & ACC_EXEC))
		spte |= SPTE_NX;
	if (!f->slot.readonly)
		spte |= SPTE_HOST_WRITABLE;
	if (!sp_gfn_shadowed(mmu, f->gfn))
		spte |= SPTE_MMU_WRITABLE;
	if (access & ACC_WRITE) {
		if (f->slot.readonly) {
			if (write)
				return MMU_PF_MMIO;	/* ROM: a write goes to the device model, if any */
		} else if (!(spte & SPTE_MMU_WRITABLE)) {
			if (write)
				return MMU_PF_EMULATE;
		} else {
			spte |= SPTE_WRITABLE;
		}
	}
	/*
	 * The CPU sets A/D in the spte itself, so they do not count.  An equal
	 * leaf under a link the walk just made is no stale translation: the
	 * CPU faulted on the missing link (the leaf's page outlived a zapped
	 * parent), and the fault is fixed now.
	 */
	if ((old & ~(SPTE_ACCESSED | SPTE_DIRTY)) == spte && !f->linked)
		return spurious_fault(v, f);
	v->spurious_valid = false;
	if (spte_present(old) && sp_leaf_gfn(sp, i) != f->gfn)
		sp_zap_spte(mmu, sp, i);
	if (!spte_present(*sptep)) {
		head = gfn_rmap_head(mmu, f->gfn, true);
		if (!head)
			return MMU_PF_NO_MEMORY;
		if (rmap_count(head) >= mmu->rmap_recycle_threshold)
			recycle_rmap(mmu, head);
		if (!rmap_add(&mmu->rmap_desc_cache, head, sptep))
			return MMU_PF_NO_MEMORY;
		if (!sp->role.direct)
			sp->gfns[i] = f->gfn;
		if (rmap_count(head) > mmu->stats.max_rmap_chain)
			mmu->stats.max_rmap_chain = rmap_count(head);
	}
	*sptep = spte;
	/* The same leaf may be reached through other linear addresses (shared tables). */
	if (spte_present(old) && spte_reduces_access(old, spte))
		mmu_request_all(mmu, MMU_REQ_TLB_FLUSH);
	mmu->stats.pf_fixed++;
	return MMU_PF_RETRY;
}

/*
 * The access an MMIO spte records: what the guest's tables allow, with the
 * same rules as a RAM leaf (leaf_access() without the CR0.WP = 0 trick).  A
 * clean gpte gives no ACC_WRITE, so the first write takes the full path,
 * whose walk sets D: the fast path never has A/D bits to set.  A direct page
 * (paging off, or inside a guest large page) carries that access in its role.
 */
static unsigned mmio_access(const struct fault *f, const struct shadow_page *sp)
{
	unsigned a;

	if (sp->role.direct)
		a = sp->role.access;
	else
		a = f->walk.pte_access & ((f->walk.gpte[1] & GPTE_DIRTY) ? ACC_ALL : ~ACC_WRITE);
	return a & (ACC_WRITE | ACC_USER);
}

/* MMIO step 4: the MMIO spte for gva in sp, made in the memslot generation read now (update-in-progress bit dropped). */
static void set_mmio_leaf(struct mmu_vcpu *v, const struct fault *f, struct shadow_page *sp)
{
	struct mmu *mmu = v->mmu;
	unsigned i = shadow_index(f->gva, 1);
	uint64_t *sptep = &sp->spt[i];
	uint64_t gen = mmu_host_memslot_generation(mmu);

	/*
	 * A RAM spte here would map a gfn the guest's tables no longer name
	 * (write protection zaps such sptes first): were one left by a bug,
	 * it goes with its rmap entry and its TLB entries.
	 */
	if (spte_present(*sptep) && !is_shadow_mmio_spte(*sptep)) {
		sp_zap_spte(mmu, sp, i);
		mmu_request_all(mmu, MMU_REQ_TLB_FLUSH);
	}
	if (!sp->role.direct)
		sp->gfns[i] = f->gfn;
	*sptep = make_mmio_spte(MMIO_SPTE_SHADOW, f->gfn, gen, mmio_access(f, sp));
	v->spurious_valid = false;
	mmu->stats.mmio_spte_created++;
}

/*
 * MMIO steps 3-4: the shadow path to gva's leaf and an MMIO spte there, so
 * that the next access takes the fast path.  Only a cache: when the host has
 * no page for a shadow table (or a root reload is pending) the access is
 * served all the same, without an spte.
 */
static void cache_mmio(struct mmu_vcpu *v, const struct fault *f)
{
	struct shadow_page *leaf_sp = NULL;
	bool linked = false;

	sp_make_room(v->mmu, WALK_MAX_LEVEL);
	if (shadow_walk(v, f, &leaf_sp, &linked) == MMU_PF_RETRY && leaf_sp)
		set_mmio_leaf(v, f, leaf_sp);
}

/* Step 2, no memslot: the access is for a device (or nothing); the VMM emulates it against *gpa. */
static enum mmu_pf_result mmio_full_path(struct mmu_vcpu *v, const struct fault *f)
{
	struct mmu *mmu = v->mmu;

	mmu->stats.pf_mmio++;
	mmu->stats.mmio_slow++;
	if (mmu->mmio_caching)
		cache_mmio(v, f);
	return MMU_PF_MMIO;
}

enum mmu_pf_result mmu_page_fault(struct mmu_vcpu *v, uint64_t gva, uint32_t error_code,
				  unsigned cpl, bool eflags_ac, uint64_t *gpa)
{
	struct mmu *mmu = v->mmu;
	struct fault f = { .gva = gva, .access = fault_access(error_code, cpl, eflags_ac) };
	struct shadow_page *leaf_sp = NULL;
	enum mmu_pf_result r;

	/* Step 0: only MMIO sptes set a reserved bit; the fast path serves or removes the one at gva (mmu/mmio.c). */
	if (error_code & PFERR_RSVD) {
		switch (mmio_fast_path(v, gva, f.access, gpa)) {
		case MMIO_FAST_SERVED:
			return MMU_PF_MMIO;
		case MMIO_FAST_BAD:
			return MMU_PF_BAD_FAULT;
		case MMIO_FAST_FULL_PATH:
			break;
		}
	}
	if (!translate_guest(v, &f)) {
		mmu->stats.pf_guest++;
		mmu_host_inject_page_fault(v, gva, f.walk.error_code);
		return MMU_PF_INJECTED;
	}
	*gpa = (f.gfn << 12) | (gva & 0xfff);
	if (!mmu_host_memslot(mmu, f.gfn, &f.slot))
		return mmio_full_path(v, &f);
	sp_make_room(mmu, WALK_MAX_LEVEL);
	r = shadow_walk(v, &f, &leaf_sp, &f.linked);
	if (r != MMU_PF_RETRY || !leaf_sp)
		return r;
	r = set_leaf(v, &f, leaf_sp);
	if (r == MMU_PF_EMULATE)
		mmu->stats.pf_emulate++;
	return r;
}

bool mmu_gva_to_gpa(struct mmu_vcpu *v, uint64_t gva, unsigned access, uint64_t *gpa,
		    uint32_t *error_code)
{
	struct guest_walk w;

	if (guest_paging_mode(&v->paging) == PAGING_OFF) {
		*gpa = gva & 0xffffffffull;
		return true;
	}
	guest_walk(v->mmu, &v->paging, gva, access, &w);
	if (w.fault) {
		*error_code = w.error_code;
		return false;
	}
	*gpa = w.gpa;
	return true;
}
