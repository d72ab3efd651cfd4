/* Per-gfn reverse maps: a two-level table of rmap heads per memslot, allocated as sptes appear. */
#include "mmu/gfn_rmap.h"
#include "mmu/mmu.h"
#include "mmu/mmu_hooks.h"

static void *alloc_page(struct mmu *mmu, uint64_t *pa)
{
	void *page = mmu_host_alloc_page(mmu, false, pa);

	if (page)
		mmu->gfn_rmaps.pages_allocated++;
	return page;
}

struct rmap_head *gfn_rmap_head(struct mmu *mmu, uint64_t gfn, bool create)
{
	struct mmu_memslot slot;
	struct gfn_rmap_dir *dir;
	struct gfn_rmap_leaf *leaf;
	uint64_t index, leaf_index;

	if (!mmu_host_memslot(mmu, gfn, &slot) || slot.id >= GFN_RMAP_MAX_SLOTS)
		return NULL;
	index = gfn - slot.base_gfn;
	if (index >= GFN_RMAP_MAX_SLOT_PAGES)
		return NULL;
	leaf_index = index / GFN_RMAP_HEADS_PER_LEAF;
	dir = &mmu->gfn_rmaps.dirs[slot.id][leaf_index / GFN_RMAP_LEAVES_PER_DIR];
	if (!dir->leaves) {
		if (!create || !(dir->leaves = alloc_page(mmu, &dir->pa)))
			return NULL;
	}
	leaf = &dir->leaves[leaf_index % GFN_RMAP_LEAVES_PER_DIR];
	if (!leaf->heads) {
		if (!create || !(leaf->heads = alloc_page(mmu, &leaf->pa)))
			return NULL;
	}
	return &leaf->heads[index % GFN_RMAP_HEADS_PER_LEAF];
}

void gfn_rmap_free_slot(struct mmu *mmu, unsigned slot_id)
{
	unsigned d, l;

	for (d = 0; d < GFN_RMAP_DIRS_PER_SLOT; d++) {
		struct gfn_rmap_dir *dir = &mmu->gfn_rmaps.dirs[slot_id][d];

		if (!dir->leaves)
			continue;
		for (l = 0; l < GFN_RMAP_LEAVES_PER_DIR; l++) {
			if (!dir->leaves[l].heads)
				continue;
			mmu_host_free_page(mmu, dir->leaves[l].heads, dir->leaves[l].pa);
			mmu->gfn_rmaps.pages_allocated--;
		}
		mmu_host_free_page(mmu, dir->leaves, dir->pa);
		mmu->gfn_rmaps.pages_allocated--;
		dir->leaves = NULL;
	}
}

void gfn_rmap_free_all(struct mmu *mmu)
{
	unsigned s;

	for (s = 0; s < GFN_RMAP_MAX_SLOTS; s++)
		gfn_rmap_free_slot(mmu, s);
}

void gfn_rmap_for_each_in_slot(struct mmu *mmu, unsigned slot_id,
			       void (*fn)(struct mmu *mmu, unsigned slot_id, uint64_t index, struct rmap_head *head,
					  void *ctx),
			       void *ctx)
{
	unsigned d, l, h;

	for (d = 0; d < GFN_RMAP_DIRS_PER_SLOT; d++) {
		struct gfn_rmap_dir *dir = &mmu->gfn_rmaps.dirs[slot_id][d];

		if (!dir->leaves)
			continue;
		for (l = 0; l < GFN_RMAP_LEAVES_PER_DIR; l++) {
			struct rmap_head *heads = dir->leaves[l].heads;
			uint64_t base = ((uint64_t)d * GFN_RMAP_LEAVES_PER_DIR + l) * GFN_RMAP_HEADS_PER_LEAF;

			if (!heads)
				continue;
			for (h = 0; h < GFN_RMAP_HEADS_PER_LEAF; h++)
				if (heads[h].val)
					fn(mmu, slot_id, base + h, &heads[h], ctx);
		}
	}
}

void gfn_rmap_for_each(struct mmu *mmu, void (*fn)(struct mmu *mmu, unsigned slot_id, uint64_t index,
						    struct rmap_head *head, void *ctx), void *ctx)
{
	unsigned s;

	for (s = 0; s < GFN_RMAP_MAX_SLOTS; s++)
		gfn_rmap_for_each_in_slot(mmu, s, fn, ctx);
}
