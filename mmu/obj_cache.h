/* Fixed-size object caches for MMU metadata, carved from host pages. */
#ifndef MMU_OBJ_CACHE_H
#define MMU_OBJ_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct mmu;

/*
 * Objects of one size (at most 2048 bytes, 8-byte aligned) carved from
 * pages got through mmu_host_alloc_page(); a free list reuses freed objects.
 * Pages go back to the host only in obj_cache_destroy().  Allocation
 * returns zeroed memory, or NULL when the host has no page left.  A page
 * starts with a 16-byte header (next page, its pa), so it holds
 * (4096 - 16) / size objects: 31 of 128 bytes, but only one above 2040.
 */
struct obj_cache {
	struct mmu *mmu;
	size_t size;
	void *free_list;
	void *pages;		/* singly linked through the first word of each page */
	size_t in_use;
	size_t pages_allocated;
};

void obj_cache_init(struct obj_cache *c, struct mmu *mmu, size_t size);
void *obj_cache_alloc(struct obj_cache *c);
void obj_cache_free(struct obj_cache *c, void *obj);
void obj_cache_destroy(struct obj_cache *c);

#endif
