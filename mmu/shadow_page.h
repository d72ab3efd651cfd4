/* Shadow pages: one host table shadowing one guest table (or a range of guest-physical memory), keyed by gfn and role. */
#ifndef MMU_SHADOW_PAGE_H
#define MMU_SHADOW_PAGE_H

#include <stdbool.h>
#include <stdint.h>
#include "mmu/mmu.h"
#include "mmu/rmap.h"

#define SPTES_PER_PAGE	512

/*
 * What a shadow page's entries mean besides its gfn.  Two guest tables at
 * the same gfn used under different roles get different shadow pages.
 *   level           1 (4 KiB leaves) .. 4 (PML4)
 *   direct          maps guest-physical memory linearly from gfn (paging
 *                   off, or inside a guest large page) instead of
 *                   shadowing a guest table
 *   access          ACC_* the guest entries above this page allow: the
 *                   leaves combine it with their own gpte
 *   has_4_byte_gpte the guest table is a 32-bit paging table
 *   quadrant        which part of a 32-bit guest table this page shadows:
 *                   a guest PD (1024 entries, 4 GiB) needs four shadow PDs,
 *                   a guest PT (1024 entries, 4 MiB) two shadow PTs
 *   cr4_pse         32-bit paging: whether PDE.PS makes 4 MiB pages
 *   efer_nx         bit 63 of a gpte is NX rather than reserved
 *   cr0_wp          the guest's CR0.WP (CR0.WP=0 leaves need a trick, see fault.c)
 *   smep_andnot_wp, smap_andnot_wp  how the CR0.WP=0 trick must be limited
 *   efer_lma        4-level paging: bits 62:52 of a gpte are free for
 *                   software, where PAE paging makes them reserved
 *   invalid         zapped while a vCPU still uses it as a root: never
 *                   found again, freed when the last root reference goes
 *
 * Not in the role: the MMU valid generation a page was made in
 * (mmu_valid_gen).  A page of an older generation is obsolete: no lookup
 * finds it, nothing links to it or loads it as a root again, and it waits
 * at the oldest end of the active list to be zapped.
 */
union sp_role {
	uint32_t word;
	struct {
		uint32_t level : 3;
		uint32_t direct : 1;
		uint32_t access : 3;
		uint32_t has_4_byte_gpte : 1;
		uint32_t quadrant : 2;
		uint32_t cr4_pse : 1;
		uint32_t efer_nx : 1;
		uint32_t cr0_wp : 1;
		uint32_t smep_andnot_wp : 1;
		uint32_t smap_andnot_wp : 1;
		uint32_t invalid : 1;
		uint32_t efer_lma : 1;
	};
};
_Static_assert(sizeof(union sp_role) == sizeof(uint32_t), "sp_role is one word");

struct shadow_page {
	/* The hash by (gfn, role), while not invalid; pprev makes removal O(1) whatever the bucket's length. */
	struct shadow_page *hash_next, **hash_pprev;
	struct shadow_page *pa_next, **pa_pprev;	/* the hash by spt_pa */
	/*
	 * The active list (newest at its head), or for an invalid page the
	 * list of zapped pages still used as roots (mmu->zapped_roots).
	 */
	struct shadow_page *active_prev, *active_next;
	uint64_t gfn;
	uint64_t mmu_valid_gen;			/* mmu->valid_gen when it was made: obsolete once they differ */
	union sp_role role;
	unsigned root_count;			/* vCPU roots and cached previous roots using it */
	unsigned write_flooding_count;		/* emulated writes since a fault last used it */
	uint64_t *spt;				/* the 512 sptes */
	uint64_t spt_pa;
	/* Indirect level-1 pages: the gfn each leaf maps (gpte-derived, so not computable). */
	uint64_t *gfns;
	uint64_t gfns_pa;
	/*
	 * Levels 2-4: the page each present link spte points at, so that
	 * following or zapping a link costs O(1) however many pages exist
	 * (the hash by spt_pa has a fixed number of buckets).
	 */
	struct shadow_page **children;
	uint64_t children_pa;
	/* The link sptes that point at this page. */
	struct rmap_head parent_ptes;
};

/* sp belongs to an older MMU valid generation than the VM's (mmu_invalidate_all() ran since it was made). */
static inline bool sp_obsolete(const struct mmu *mmu, const struct shadow_page *sp)
{
	return sp->mmu_valid_gen != mmu->valid_gen;
}

/* sp may be found, linked to or used as a root: neither zapped (invalid) nor obsolete. */
static inline bool sp_usable(const struct mmu *mmu, const struct shadow_page *sp)
{
	return !sp->role.invalid && !sp_obsolete(mmu, sp);
}

/* The page link spte i of sp (level >= 2) points at; only meaningful while that spte is present. */
static inline struct shadow_page *sp_child(const struct shadow_page *sp, unsigned i)
{
	return sp->children[i];
}

/* The gfn leaf spte i of a level-1 page maps. */
static inline uint64_t sp_leaf_gfn(const struct shadow_page *sp, unsigned i)
{
	return sp->role.direct ? sp->gfn + i : sp->gfns[i];
}

/*
 * Finds the usable (current, not invalid) shadow page for (gfn, role), or
 * creates one in the current generation (write-protecting gfn when it
 * shadows a guest table).  NULL: no memory.  An obsolete page of the same
 * (gfn, role) is never reused: its sptes may be stale.
 */
struct shadow_page *sp_get(struct mmu *mmu, uint64_t gfn, union sp_role role);
struct shadow_page *sp_find(struct mmu *mmu, uint64_t gfn, union sp_role role);
/*
 * A new current page for (gfn, role), without looking for an existing one
 * and without write protection: for callers that know there is none and
 * that it shadows no guest table (tests and benchmarks building many direct
 * pages, where sp_get()'s search of a hash bucket would dominate).
 */
struct shadow_page *sp_create(struct mmu *mmu, uint64_t gfn, union sp_role role);
/* The bucket of mmu->hash that holds the pages of gfn. */
unsigned sp_gfn_bucket(uint64_t gfn);
/* The page whose table is at spt_pa, obsolete or invalid ones included (NULL: none). */
struct shadow_page *sp_from_pa(struct mmu *mmu, uint64_t spt_pa);

/* Points link spte i of parent at child.  False when no rmap descriptor could be allocated. */
bool sp_link(struct mmu *mmu, struct shadow_page *parent, unsigned i, struct shadow_page *child);

/* Clears one present spte of sp (index i): drops its rmap or parent link. */
void sp_zap_spte(struct mmu *mmu, struct shadow_page *sp, unsigned i);

/*
 * Clears every spte in the rmap head (a gfn's leaves or a page's parent
 * links) and frees its descriptors, in one pass.  The caller flushes.
 */
void sp_drop_rmap(struct mmu *mmu, struct rmap_head *head);

/*
 * Zaps sp: unlinks it from every parent, clears its sptes and frees it, or
 * marks it invalid while it is a root (it moves to mmu->zapped_roots).
 * Returns the requests every vCPU needs: MMU_REQ_TLB_FLUSH, and
 * MMU_REQ_RELOAD_ROOT when sp was a root; sp_zap() makes them at once,
 * sp_zap_norequest() leaves them to the caller (one request for a batch).
 */
void sp_zap(struct mmu *mmu, struct shadow_page *sp);
unsigned sp_zap_norequest(struct mmu *mmu, struct shadow_page *sp);

/* Drops a root reference; a zapped (invalid) root is freed with its last reference. */
void sp_put_root(struct mmu *mmu, struct shadow_page *sp);

/*
 * Zaps the oldest shadow pages that are not roots until at least n more fit
 * under the limit: obsolete pages first (they are the oldest), current ones
 * (mmu_recycled) only when no obsolete one is left.
 */
void sp_make_room(struct mmu *mmu, unsigned n);

/* The usable shadow pages of gfn, any role: for (sp = sp_first_of_gfn(m, g); sp; sp = sp_next_of_gfn(m, sp, g)). */
struct shadow_page *sp_first_of_gfn(struct mmu *mmu, uint64_t gfn);
struct shadow_page *sp_next_of_gfn(struct mmu *mmu, struct shadow_page *sp, uint64_t gfn);

/* True when a usable shadow page shadows the guest table at gfn (obsolete ones need no write protection: no root reaches them). */
bool sp_gfn_shadowed(struct mmu *mmu, uint64_t gfn);

/* Requests on every vCPU of the MMU. */
void mmu_request_all(struct mmu *mmu, unsigned requests);

#endif
