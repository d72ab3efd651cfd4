/* Fixed-size object caches: host pages carved into equal objects, recycled through a free list. */
#include "mmu/obj_cache.h"

#include <stdbool.h>
#include "mmu/mmu_hooks.h"

#define OBJ_PAGE_SIZE 4096u

/*
 * A host page is remembered in the page header at its start: the link to
 * the previously allocated page and the page's host-physical address, which
 * mmu_host_free_page() needs back.  Objects fill the rest of the page.
 */
struct obj_page {
	struct obj_page *next;
	uint64_t pa;
};

/* A free object holds only the link to the next free object. */
struct obj_free {
	struct obj_free *next;
};

/* Every object is 8-byte aligned and big enough for the free-list link. */
void obj_cache_init(struct obj_cache *c, struct mmu *mmu, size_t size)
{
	size = (size + 7) & ~(size_t)7;
	if (size < sizeof(struct obj_free))
		size = sizeof(struct obj_free);
	c->mmu = mmu;
	c->size = size;
	c->free_list = NULL;
	c->pages = NULL;
	c->in_use = 0;
	c->pages_allocated = 0;
}

/*
 * Puts a new page's objects on the free list, lowest address first so that
 * consecutive allocations are adjacent in memory.
 */
static bool obj_cache_grow(struct obj_cache *c)
{
	uint64_t pa;
	struct obj_page *page = mmu_host_alloc_page(c->mmu, false, &pa);
	size_t count = (OBJ_PAGE_SIZE - sizeof(*page)) / c->size;
	char *first;

	if (!page)
		return false;
	first = (char *)(page + 1);
	page->next = c->pages;
	page->pa = pa;
	c->pages = page;
	c->pages_allocated++;
	for (size_t i = count; i-- > 0;) {
		struct obj_free *obj = (struct obj_free *)(first + i * c->size);

		obj->next = c->free_list;
		c->free_list = obj;
	}
	return true;
}

void *obj_cache_alloc(struct obj_cache *c)
{
	struct obj_free *obj;

	if (!c->free_list && !obj_cache_grow(c))
		return NULL;
	obj = c->free_list;
	c->free_list = obj->next;
	c->in_use++;
	/* A recycled object still holds its previous contents. */
	__builtin_memset(obj, 0, c->size);
	return obj;
}

void obj_cache_free(struct obj_cache *c, void *obj)
{
	struct obj_free *f = obj;

	f->next = c->free_list;
	c->free_list = f;
	c->in_use--;
}

/* Objects still in use die with their pages: the caller must hold none it will touch again. */
void obj_cache_destroy(struct obj_cache *c)
{
	struct obj_page *page = c->pages;

	while (page) {
		struct obj_page *next = page->next;

		mmu_host_free_page(c->mmu, page, page->pa);
		page = next;
	}
	c->free_list = NULL;
	c->pages = NULL;
	c->in_use = 0;
	c->pages_allocated = 0;
}
