/* The physical page allocator: one bit per 4 KiB page over the usable RAM. */
#ifndef VMM_PAGE_ALLOC_H
#define VMM_PAGE_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/memmap.h"

#ifndef PAGE_SIZE
#define PAGE_SIZE 4096
#endif

/*
 * Covers [base, base + npages * PAGE_SIZE), from the lowest usable page to
 * the end of the highest usable range.  Bit i of the bitmap (bit i % 64 of
 * word i / 64) is page base + i * PAGE_SIZE; 1 = free.  Holes between the
 * usable ranges and the bits past npages in the last word are 0, so they
 * look permanently allocated.  The allocator only reads and writes its
 * bitmap; it never touches the pages it hands out.
 *
 * Invariant: free_pages equals the number of 1 bits, and hint < npages
 * unless npages is 0.
 */
struct page_allocator {
	uint64_t base;		/* physical address of page 0 of the bitmap */
	uint64_t npages;	/* pages covered, holes included */
	uint64_t *bitmap;	/* caller's storage, page_alloc_bitmap_bytes() */
	uint64_t free_pages;
	uint64_t hint;		/* page index where the next search starts */
};

/* page_free_pages() results; each error leaves the allocator unchanged. */
#define PAGE_FREE_OK 0
#define PAGE_FREE_MISALIGNED (-1)	/* addr not a multiple of PAGE_SIZE */
#define PAGE_FREE_OUTSIDE (-2)		/* not inside the covered area */
#define PAGE_FREE_DOUBLE_FREE (-3)	/* some page in the run is already free */

/*
 * Bytes of bitmap needed for these usable ranges: one bit per covered page,
 * rounded up to whole 64-bit words.  0 when there are no usable pages.
 */
size_t page_alloc_bitmap_bytes(const struct phys_range *usable, size_t n);

/*
 * Sets up pa over the usable ranges (any order; each is aligned inward to
 * pages) with bitmap as storage of page_alloc_bitmap_bytes() bytes.  Every
 * page inside a usable range starts free, every other covered page is
 * allocated forever.  Physical page 0 is allocated forever too, because
 * 0 is page_alloc_pages()'s failure value.
 */
void page_alloc_init(struct page_allocator *pa, const struct phys_range *usable,
		     size_t n, uint64_t *bitmap);

/*
 * Marks [start, end), rounded outward to pages, allocated forever: the VMM
 * image, the bitmap itself, boot modules, low memory.  Parts outside the
 * covered area are ignored; pages already allocated stay so.
 */
void page_alloc_reserve(struct page_allocator *pa, uint64_t start, uint64_t end);

/*
 * Allocates npages physically contiguous pages whose first page address is
 * a multiple of align_pages * PAGE_SIZE (align_pages a power of two; 0 or 1
 * mean no alignment).  Returns the physical address of the first page, or
 * 0 if no such run is free, npages is 0, or align_pages is not a power of
 * two.  Prints nothing: the caller reports the failure.
 *
 * Next-fit: the search starts where the previous allocation ended and, if
 * that finds nothing, scans the whole bitmap once more from the start.
 */
uint64_t page_alloc_pages(struct page_allocator *pa, size_t npages,
			  size_t align_pages);

/*
 * Like page_alloc_pages() without alignment, for a run that ends at or below
 * `limit` (a PAE page-directory-pointer table must sit below 4 GiB).  Searches
 * from the bottom and leaves the next-fit hint alone.  0 when there is none.
 */
uint64_t page_alloc_pages_below(struct page_allocator *pa, size_t npages, uint64_t limit);

/*
 * Frees npages pages starting at addr.  Returns PAGE_FREE_OK, or one of the
 * errors above without changing anything (all pages are checked before any
 * is freed).  Freeing 0 pages is a no-op returning PAGE_FREE_OK when addr
 * is aligned.  Physical page 0 counts as outside, since it is never handed
 * out.  With one bit per page, freeing a hole or a reserved page that is
 * inside the covered area cannot be told from a valid free: it is the
 * caller's bug and makes that page allocatable.
 */
int page_free_pages(struct page_allocator *pa, uint64_t addr, size_t npages);

/* Free pages right now. */
uint64_t page_alloc_free_count(const struct page_allocator *pa);

/*
 * Where to put a bitmap of `bytes` bytes before the allocator exists: the
 * lowest page-aligned address at or above 1 MiB, inside one usable range,
 * whose bytes rounded up to pages overlap none of the reserved ranges
 * (treated as rounded outward to pages).  Returns 0 if there is no such
 * place or bytes is 0.  The caller then passes it to page_alloc_init() and
 * reserves it with page_alloc_reserve().
 */
uint64_t page_alloc_place_bitmap(const struct phys_range *usable, size_t n,
				 const struct phys_range *reserved,
				 size_t nreserved, size_t bytes);

#endif
