/* Reverse maps: sets of spte pointers, one inline in the head or chained in descriptors. */
#include "mmu/rmap.h"

/*
 * Shape invariants, which make the shape a function of the count alone:
 *  - 0 sptes: val == 0; exactly 1: the spte inline; 2 or more: a chain.
 *    (Removal collapses a chain back to inline as soon as one spte is left,
 *    so a lone spte never costs a descriptor.)
 *  - In a chain only the first descriptor may be partly filled (1 to
 *    RMAP_DESC_SPTES sptes); every later one is full.  Adding fills the
 *    first descriptor or pushes a new one in front; removing refills the
 *    hole with the first descriptor's last spte.  Both are O(1) apart from
 *    removal's search for the spte.
 *  - The first descriptor's tail_count is the number of sptes in the ones
 *    after it (RMAP_DESC_SPTES each), so counting needs no walk.
 */
#define RMAP_CHAIN ((uintptr_t)1)

static bool rmap_is_chain(uintptr_t val)
{
	return val & RMAP_CHAIN;
}

static struct rmap_desc *rmap_desc_of(uintptr_t val)
{
	return (struct rmap_desc *)(val & ~RMAP_CHAIN);
}

static uintptr_t rmap_chain_val(struct rmap_desc *desc)
{
	return (uintptr_t)desc | RMAP_CHAIN;
}

bool rmap_add(struct obj_cache *cache, struct rmap_head *head, uint64_t *spte)
{
	struct rmap_desc *first, *desc;

	if (!head->val) {
		head->val = (uintptr_t)spte;
		return true;
	}
	first = rmap_is_chain(head->val) ? rmap_desc_of(head->val) : NULL;
	if (first && first->count < RMAP_DESC_SPTES) {
		first->sptes[first->count++] = spte;
		return true;
	}
	desc = obj_cache_alloc(cache);
	if (!desc)
		return false;
	if (first) {
		desc->next = first;
		desc->tail_count = first->count + first->tail_count;
	} else {
		desc->sptes[desc->count++] = (uint64_t *)head->val;
	}
	desc->sptes[desc->count++] = spte;
	head->val = rmap_chain_val(desc);
	return true;
}

bool rmap_remove(struct obj_cache *cache, struct rmap_head *head, uint64_t *spte)
{
	struct rmap_desc *first, *desc;

	if (!rmap_is_chain(head->val)) {
		if (!spte || head->val != (uintptr_t)spte)
			return false;
		head->val = 0;
		return true;
	}
	first = rmap_desc_of(head->val);
	for (desc = first; desc; desc = desc->next) {
		for (size_t i = 0; i < desc->count; i++) {
			if (desc->sptes[i] != spte)
				continue;
			desc->sptes[i] = first->sptes[--first->count];
			if (first->count == 0) {
				/* A lone descriptor collapses at one spte, so first->next exists. */
				first->next->tail_count = first->tail_count - first->next->count;
				head->val = rmap_chain_val(first->next);
				obj_cache_free(cache, first);
			} else if (first->count == 1 && !first->next) {
				head->val = (uintptr_t)first->sptes[0];
				obj_cache_free(cache, first);
			}
			return true;
		}
	}
	return false;
}

size_t rmap_count(const struct rmap_head *head)
{
	const struct rmap_desc *first;

	if (!rmap_is_chain(head->val))
		return head->val ? 1 : 0;
	first = rmap_desc_of(head->val);
	return first->count + first->tail_count;
}

bool rmap_contains(const struct rmap_head *head, const uint64_t *spte)
{
	struct rmap_iter it;

	for (uint64_t *s = rmap_first(head, &it); s; s = rmap_next(&it)) {
		if (s == spte)
			return true;
	}
	return false;
}

/* An inline spte iterates with no descriptor, so the next step ends at once. */
uint64_t *rmap_first(const struct rmap_head *head, struct rmap_iter *it)
{
	it->pos = 0;
	if (!rmap_is_chain(head->val)) {
		it->desc = NULL;
		return (uint64_t *)head->val;
	}
	it->desc = rmap_desc_of(head->val);
	return it->desc->sptes[0];
}

uint64_t *rmap_next(struct rmap_iter *it)
{
	if (!it->desc)
		return NULL;
	if (++it->pos < it->desc->count)
		return it->desc->sptes[it->pos];
	it->desc = it->desc->next;
	it->pos = 0;
	/* Descriptors after the first are never empty. */
	return it->desc ? it->desc->sptes[0] : NULL;
}

/*
 * The head is emptied before the first drop(), so nothing can reach a
 * descriptor after it is freed; each descriptor is freed as soon as its
 * sptes are dropped, in the same pass.
 */
size_t rmap_drop_all(struct obj_cache *cache, struct rmap_head *head,
		     void (*drop)(uint64_t *spte, void *ctx), void *ctx)
{
	uintptr_t val = head->val;
	struct rmap_desc *desc;
	size_t n = 0;

	head->val = 0;
	if (!rmap_is_chain(val)) {
		if (!val)
			return 0;
		drop((uint64_t *)val, ctx);
		return 1;
	}
	desc = rmap_desc_of(val);
	while (desc) {
		struct rmap_desc *next = desc->next;

		for (size_t i = 0; i < desc->count; i++)
			drop(desc->sptes[i], ctx);
		n += desc->count;
		obj_cache_free(cache, desc);
		desc = next;
	}
	return n;
}
