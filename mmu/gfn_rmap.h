/* Per-gfn reverse maps: for every gfn of every memslot, the leaf sptes that map it. */
#ifndef MMU_GFN_RMAP_H
#define MMU_GFN_RMAP_H

#include <stdbool.h>
#include <stdint.h>
#include "mmu/rmap.h"

struct mmu;

#define GFN_RMAP_MAX_SLOTS	8

/*
 * A memslot's heads live in host pages of 512 (leaves), found through
 * directory pages of 256 leaf pointers; 8 directory pages cover 4 GiB.
 */
#define GFN_RMAP_HEADS_PER_LEAF	512
#define GFN_RMAP_LEAVES_PER_DIR	256
#define GFN_RMAP_DIRS_PER_SLOT	8
#define GFN_RMAP_MAX_SLOT_PAGES	((uint64_t)GFN_RMAP_HEADS_PER_LEAF * GFN_RMAP_LEAVES_PER_DIR * GFN_RMAP_DIRS_PER_SLOT)

struct gfn_rmap_leaf {
	struct rmap_head *heads;
	uint64_t pa;
};
_Static_assert(sizeof(struct gfn_rmap_leaf) * GFN_RMAP_LEAVES_PER_DIR == 4096, "a directory is one page");

struct gfn_rmap_dir {
	struct gfn_rmap_leaf *leaves;
	uint64_t pa;
};

/* Pages are allocated when a gfn under them first gets an spte, and freed only with their memslot. */
struct gfn_rmaps {
	struct gfn_rmap_dir dirs[GFN_RMAP_MAX_SLOTS][GFN_RMAP_DIRS_PER_SLOT];
	uint64_t pages_allocated;
};

/*
 * The rmap head for gfn, NULL when gfn is not guest RAM (no memslot) or,
 * with create, when the host had no page for it.  Without create a gfn
 * whose head page does not exist yet also gives NULL: it has no sptes.
 */
struct rmap_head *gfn_rmap_head(struct mmu *mmu, uint64_t gfn, bool create);

/* Frees the head pages of a memslot; its rmaps must be empty. */
void gfn_rmap_free_slot(struct mmu *mmu, unsigned slot_id);
void gfn_rmap_free_all(struct mmu *mmu);

/* Calls fn for every non-empty head of every memslot (the audit, zap-all). */
void gfn_rmap_for_each(struct mmu *mmu, void (*fn)(struct mmu *mmu, unsigned slot_id, uint64_t index,
						    struct rmap_head *head, void *ctx), void *ctx);
/* ... of one memslot (a memslot that goes). */
void gfn_rmap_for_each_in_slot(struct mmu *mmu, unsigned slot_id,
			       void (*fn)(struct mmu *mmu, unsigned slot_id, uint64_t index, struct rmap_head *head,
					  void *ctx),
			       void *ctx);

#endif
