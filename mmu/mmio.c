/* The MMIO fast path (a #PF with RSVD served from the MMIO spte, without a guest walk or a memslot lookup) and generation-based invalidation. */
#include "mmu/fault.h"
#include "mmu/mmu.h"
#include "mmu/mmu_hooks.h"
#include "mmu/spte.h"

/*
 * Whether the access the MMIO spte recorded (ACC_WRITE, ACC_USER of the
 * guest's tables when the spte was made) allows this fault, as the guest's
 * own walk would decide (KVM's permission_fault() on mmio_access):
 *   - a fetch never: the spte keeps no execute permission (and executing
 *     from a device is no case worth a fast path);
 *   - a user access needs ACC_USER;
 *   - a write needs ACC_WRITE, also a supervisor write under guest CR0.WP = 0
 *     that the guest's tables would allow: ACC_WRITE also says the gpte is
 *     dirty, and without it the write must go through the walk that sets D;
 *   - SMAP: a supervisor access to a user page faults unless it is an
 *     explicit one with EFLAGS.AC = 1 at CPL < 3 (WALK_SMAP_AC).  SMAP does
 *     not apply while the guest's paging is off (the host clears it then).
 */
static bool mmio_access_allows(const struct mmu_vcpu *v, unsigned spte_access, unsigned access)
{
	const struct guest_paging *p = &v->paging;
	bool smap = guest_paging_mode(p) != PAGING_OFF && (p->cr4 & PG_CR4_SMAP);

	if (access & WALK_FETCH)
		return false;
	if ((access & WALK_USER) && !(spte_access & ACC_USER))
		return false;
	if ((access & WALK_WRITE) && !(spte_access & ACC_WRITE))
		return false;
	if (!(access & WALK_USER) && (spte_access & ACC_USER) && smap && !(access & WALK_SMAP_AC))
		return false;
	return true;
}

/* Removes an MMIO spte: it is in no rmap and no TLB caches a reserved-bit entry, so clearing it is all. */
static void zap_mmio_spte(uint64_t *sptep)
{
	*sptep = 0;
}

enum mmio_fast_result mmio_fast_path(struct mmu_vcpu *v, uint64_t gva, unsigned access, uint64_t *gpa)
{
	struct mmu *mmu = v->mmu;
	struct shadow_page *sp;
	unsigned index;
	uint64_t *sptep, spte;

	if (!mmu->mmio_caching)
		return MMIO_FAST_BAD;	/* no spte with a reserved bit exists */
	/* Step 1: the leaf the CPU faulted on, read from the current root. */
	sptep = shadow_lookup_leaf(v, gva, &sp, &index);
	if (!sptep || !spte_present(*sptep))
		return MMIO_FAST_FULL_PATH;	/* zapped since the CPU's walk (another vCPU): rebuild it */
	spte = *sptep;
	if (!is_shadow_mmio_spte(spte))
		return MMIO_FAST_BAD;
	/* Step 2: the generation.  A stale spte may name a gfn that is RAM now, or a device moved away. */
	if (!mmio_generation_current(mmio_spte_generation(spte), mmu_host_memslot_generation(mmu))) {
		mmu->stats.mmio_generation_misses++;
		zap_mmio_spte(sptep);
		return MMIO_FAST_FULL_PATH;
	}
	/* Step 3: the access the guest's tables allowed; the full path injects the guest's #PF if they forbid it. */
	if (!mmio_access_allows(v, mmio_spte_access(spte), access)) {
		zap_mmio_spte(sptep);
		return MMIO_FAST_FULL_PATH;
	}
	*gpa = (mmio_spte_gfn(spte) << 12) | (gva & 0xfff);
	mmu->stats.pf_mmio++;
	mmu->stats.mmio_fast++;
	return MMIO_FAST_SERVED;
}

bool mmu_mmio_generation_changed(struct mmu *mmu, uint64_t gen)
{
	mmu->stats.mmio_invalidations++;
	if (gen & MMIO_SPTE_GEN_MASK)
		return false;
	/*
	 * The stored bits wrapped to 0: an spte made 2^19 changes ago would look
	 * current again.  Invalidating everything here, once per wrap, means no
	 * spte the fast path can reach lives through a whole cycle of the
	 * stored bits: the fast path reads only from current roots, which reach
	 * only current pages, and obsolete pages are never used again (zapped
	 * in batches later, or at once with zap=slow).
	 */
	mmu_invalidate_all(mmu);
	mmu->stats.mmio_generation_wraps++;
	return true;
}
