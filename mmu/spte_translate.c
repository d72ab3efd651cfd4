/* Translating a linear address through the current shadow tables, for the emulator: no guest walk where a leaf exists. */
#include "mmu/fault.h"
#include "mmu/mmu.h"
#include "mmu/spte.h"

/*
 * A present RAM leaf is built only after the guest walk that set the A bits
 * on the way (and D, if the leaf is writable), from the guest's combined
 * permissions, and every later change to those guest entries is trapped and
 * zaps or rebuilds it.  So when it allows an access, the guest's own walk
 * would allow it too, to the same page, with nothing left to set.  It may
 * allow less than the guest's tables (the CR0.WP = 0 trick, write-protected
 * tables, a clean page mapped read-only): then the caller walks.
 */
static bool leaf_allows(const struct mmu_vcpu *v, uint64_t spte, unsigned access)
{
	const struct guest_paging *p = &v->paging;
	bool user = access & WALK_USER;

	if (user && !(spte & SPTE_USER))
		return false;
	if ((access & WALK_WRITE) && !(spte & SPTE_WRITABLE))
		return false;
	if ((access & WALK_FETCH) && (spte & SPTE_NX))
		return false;
	/* A supervisor access to a user page: SMEP for fetches, SMAP for data (paging on only). */
	if (!user && (spte & SPTE_USER) && guest_paging_mode(p) != PAGING_OFF) {
		if ((access & WALK_FETCH) && (p->cr4 & PG_CR4_SMEP))
			return false;
		if (!(access & WALK_FETCH) && (p->cr4 & PG_CR4_SMAP) && !(access & WALK_SMAP_AC))
			return false;
	}
	return true;
}

bool mmu_spte_translate(struct mmu_vcpu *v, uint64_t gva, unsigned access, uint64_t *gpa, uint64_t *host_pa)
{
	struct shadow_page *sp;
	unsigned index;
	uint64_t *sptep = shadow_lookup_leaf(v, gva, &sp, &index);

	if (!v->root_valid || !sptep || !spte_present(*sptep) || is_shadow_mmio_spte(*sptep) ||
	    !leaf_allows(v, *sptep, access))
		return false;
	*gpa = (sp_leaf_gfn(sp, index) << 12) | (gva & 0xfff);
	*host_pa = spte_to_pa(*sptep) | (gva & 0xfff);
	return true;
}
