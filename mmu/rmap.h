/* Reverse maps: the set of sptes that point at one gfn (or at one shadow page), one inline or chained in descriptors. */
#ifndef MMU_RMAP_H
#define MMU_RMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "mmu/obj_cache.h"

/*
 * An rmap head is one word: 0 when empty; the address of the only spte when
 * bit 0 is clear; otherwise (bit 0 set) the address of the first of a chain
 * of descriptors.  The same structure serves two sets: the sptes that map a
 * gfn (per-gfn rmaps) and the link sptes that point at a shadow page (its
 * parent_ptes).
 */
struct rmap_head {
	uintptr_t val;
};

/* Sptes per descriptor: a descriptor is 128 bytes. */
#define RMAP_DESC_SPTES 14

struct rmap_desc {
	struct rmap_desc *next;
	uint32_t count;			/* used slots, filled from index 0 */
	uint32_t tail_count;		/* first descriptor only: the sptes in all the descriptors after it */
	uint64_t *sptes[RMAP_DESC_SPTES];
};
_Static_assert(sizeof(struct rmap_desc) == 128, "rmap_desc is two cache lines");

/* Descriptors come from cache (object size sizeof(struct rmap_desc)). */

/* Adds spte (not already in the set).  False when no descriptor could be allocated: nothing changed. */
bool rmap_add(struct obj_cache *cache, struct rmap_head *head, uint64_t *spte);

/*
 * Removes spte, which must be in the set (a missing one is a bug: the caller's audit catches it). Returns false if it was not found.
 * Never allocates; a set left with one spte goes back inline (its descriptor is freed).
 */
bool rmap_remove(struct obj_cache *cache, struct rmap_head *head, uint64_t *spte);

/* O(1): the first descriptor keeps the count of the rest of the chain. */
size_t rmap_count(const struct rmap_head *head);
bool rmap_contains(const struct rmap_head *head, const uint64_t *spte);

/*
 * Iteration that tolerates nothing changing the set meanwhile:
 *   struct rmap_iter it; for (uint64_t *s = rmap_first(head, &it); s; s = rmap_next(&it)) ...
 */
struct rmap_iter {
	const struct rmap_desc *desc;
	size_t pos;
};
uint64_t *rmap_first(const struct rmap_head *head, struct rmap_iter *it);
uint64_t *rmap_next(struct rmap_iter *it);

/*
 * Empties the whole set in one pass: calls drop(spte, ctx) for every spte
 * (which clears it and does the per-spte accounting), then frees every
 * descriptor, leaving head empty (it reads empty while drop runs).  drop
 * must not touch this rmap.  Returns the number of sptes dropped.  Cost is
 * linear in the set's size, against quadratic for removing the sptes one at
 * a time.
 */
size_t rmap_drop_all(struct obj_cache *cache, struct rmap_head *head,
		     void (*drop)(uint64_t *spte, void *ctx), void *ctx);

#endif
