/* What the fault path's files share: the shadow-walk index, the read-only leaf lookup, and the MMIO fast path. */
#ifndef MMU_FAULT_H
#define MMU_FAULT_H

#include <stdbool.h>
#include <stdint.h>
#include "mmu/shadow_page.h"

struct mmu_vcpu;

/* The index of gva's entry in a shadow table at level (1: the leaf table). */
static inline unsigned shadow_index(uint64_t gva, unsigned level)
{
	return (gva >> (12 + 9 * (level - 1))) & (SPTES_PER_PAGE - 1);
}

/*
 * The leaf spte for gva under the vCPU's current root, following present
 * link sptes only (nothing is created, the guest's tables are not read).
 * NULL when a link on the way is missing or the root is gone; *sp and *index
 * name the leaf otherwise.
 */
uint64_t *shadow_lookup_leaf(struct mmu_vcpu *v, uint64_t gva, struct shadow_page **sp, unsigned *index);

/* What the MMIO fast path made of a fault with PFERR_RSVD. */
enum mmio_fast_result {
	MMIO_FAST_SERVED,	/* *gpa is the device address: MMU_PF_MMIO */
	MMIO_FAST_FULL_PATH,	/* no current MMIO spte allows this access (any stale one is gone): take the full path */
	MMIO_FAST_BAD,		/* no MMIO spte can have raised it: MMU_PF_BAD_FAULT */
};

/* access: WALK_* of the fault (WALK_SMAP_AC included), as the full path uses them. */
enum mmio_fast_result mmio_fast_path(struct mmu_vcpu *v, uint64_t gva, unsigned access, uint64_t *gpa);

#endif
