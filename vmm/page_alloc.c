/* The physical page allocator: next-fit search over a free-page bitmap. */
#include <stdbool.h>

#include "vmm/page_alloc.h"

_Static_assert(PAGE_SIZE == 4096, "the bitmap and memmap assume 4 KiB pages");

#define PA_PAGE_SHIFT 12
#define PA_PAGE_MASK ((uint64_t)PAGE_SIZE - 1)
#define BITS_PER_WORD 64
#define ALL_ONES (~(uint64_t)0)
#define LOW_MEMORY_END 0x100000ull	/* 1 MiB: real-mode and firmware area */

static uint64_t page_down(uint64_t addr)
{
	return addr & ~PA_PAGE_MASK;
}

/* Saturates instead of wrapping: nothing usable lies above MEMMAP_END_LIMIT. */
static uint64_t page_up(uint64_t addr)
{
	if (addr > MEMMAP_END_LIMIT)
		return MEMMAP_END_LIMIT;
	return page_down(addr + PA_PAGE_MASK);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* Popcount without the builtin, which would need libgcc's __popcountdi2. */
static unsigned int popcount64(uint64_t x)
{
	x = x - ((x >> 1) & 0x5555555555555555ull);
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (unsigned int)((x * 0x0101010101010101ull) >> 56);
}

static uint64_t words_for(uint64_t npages)
{
	return (npages + BITS_PER_WORD - 1) / BITS_PER_WORD;
}

/* The usable pages of a range, aligned inward; false if it holds none. */
static bool range_pages(const struct phys_range *r, uint64_t *start,
			uint64_t *end)
{
	*start = page_up(r->start);
	*end = page_down(r->end);
	return *start < *end;
}

/* [lowest usable page, end of highest usable page); false if no pages. */
static bool covered_span(const struct phys_range *usable, size_t n,
			 uint64_t *lo, uint64_t *hi)
{
	bool found = false;
	uint64_t l = 0, h = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t start, end;

		if (!range_pages(&usable[i], &start, &end))
			continue;
		l = found ? min_u64(l, start) : start;
		h = found ? max_u64(h, end) : end;
		found = true;
	}
	*lo = l;
	*hi = h;
	return found;
}

/* Bits [first, first + count) of one word; 0 < count, first + count <= 64. */
static uint64_t word_mask(uint64_t first, uint64_t count)
{
	if (count == BITS_PER_WORD)
		return ALL_ONES;
	return ((((uint64_t)1) << count) - 1) << first;
}

/*
 * Sets (free) or clears (allocate) bits [first, first + count) and returns
 * how many actually changed, so callers can keep free_pages exact even when
 * ranges overlap or pages were already in the wanted state.
 */
static uint64_t set_bits(struct page_allocator *pa, uint64_t first,
			 uint64_t count, bool free)
{
	uint64_t changed = 0;

	while (count > 0) {
		uint64_t *word = &pa->bitmap[first / BITS_PER_WORD];
		uint64_t bit = first % BITS_PER_WORD;
		uint64_t n = min_u64(BITS_PER_WORD - bit, count);
		uint64_t mask = word_mask(bit, n);

		if (free) {
			changed += popcount64(~*word & mask);
			*word |= mask;
		} else {
			changed += popcount64(*word & mask);
			*word &= ~mask;
		}
		first += n;
		count -= n;
	}
	return changed;
}

/*
 * First index in [from, to) whose bit is 1 after XOR with invert (0: find
 * a free page; ALL_ONES: find an allocated page), or `to` if none.  Whole
 * words without a match are skipped 64 pages at a time.
 */
static uint64_t scan_bits(const struct page_allocator *pa, uint64_t from,
			  uint64_t to, uint64_t invert)
{
	uint64_t w, last_w, word, idx;

	if (from >= to)
		return to;
	w = from / BITS_PER_WORD;
	last_w = (to - 1) / BITS_PER_WORD;
	word = (pa->bitmap[w] ^ invert) & (ALL_ONES << (from % BITS_PER_WORD));
	while (word == 0) {
		if (++w > last_w)
			return to;
		word = pa->bitmap[w] ^ invert;
	}
	idx = w * BITS_PER_WORD + (uint64_t)__builtin_ctzll(word);
	return min_u64(idx, to);
}

static uint64_t first_free(const struct page_allocator *pa, uint64_t from,
			   uint64_t to)
{
	return scan_bits(pa, from, to, 0);
}

static uint64_t first_allocated(const struct page_allocator *pa, uint64_t from,
				uint64_t to)
{
	return scan_bits(pa, from, to, ALL_ONES);
}

/* Rounds a page index up so that its physical page number is aligned. */
static uint64_t align_index(const struct page_allocator *pa, uint64_t idx,
			    uint64_t align)
{
	uint64_t base_pfn = pa->base >> PA_PAGE_SHIFT;
	uint64_t pfn = base_pfn + idx;

	return ((pfn + align - 1) & ~(align - 1)) - base_pfn;
}

#define NOT_FOUND ALL_ONES

/*
 * First aligned index p in [from, to) with [p, p + count) free and inside
 * [from, to).  Each failed candidate moves p past the allocated page that
 * broke the run, so the whole search is linear in words scanned.
 */
static uint64_t find_run(const struct page_allocator *pa, uint64_t from,
			 uint64_t to, uint64_t count, uint64_t align)
{
	uint64_t p = from;

	while (p < to) {
		uint64_t used;

		p = first_free(pa, p, to);
		if (p >= to)
			break;
		p = align_index(pa, p, align);
		if (p >= to || count > to - p)
			break;
		used = first_allocated(pa, p, p + count);
		if (used == p + count)
			return p;
		p = used + 1;
	}
	return NOT_FOUND;
}

size_t page_alloc_bitmap_bytes(const struct phys_range *usable, size_t n)
{
	uint64_t lo, hi;

	if (!covered_span(usable, n, &lo, &hi))
		return 0;
	return words_for((hi - lo) >> PA_PAGE_SHIFT) * sizeof(uint64_t);
}

void page_alloc_init(struct page_allocator *pa, const struct phys_range *usable,
		     size_t n, uint64_t *bitmap)
{
	uint64_t lo, hi;

	pa->bitmap = bitmap;
	pa->free_pages = 0;
	pa->hint = 0;
	pa->base = 0;
	pa->npages = 0;
	if (!covered_span(usable, n, &lo, &hi))
		return;
	pa->base = lo;
	pa->npages = (hi - lo) >> PA_PAGE_SHIFT;
	for (uint64_t w = 0; w < words_for(pa->npages); w++)
		bitmap[w] = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t start, end;

		if (!range_pages(&usable[i], &start, &end))
			continue;
		pa->free_pages += set_bits(pa, (start - lo) >> PA_PAGE_SHIFT,
					   (end - start) >> PA_PAGE_SHIFT, true);
	}
	page_alloc_reserve(pa, 0, PAGE_SIZE);
}

void page_alloc_reserve(struct page_allocator *pa, uint64_t start, uint64_t end)
{
	uint64_t cover_end = pa->base + (pa->npages << PA_PAGE_SHIFT);
	uint64_t lo = max_u64(page_down(start), pa->base);
	uint64_t hi = min_u64(page_up(end), cover_end);

	if (lo >= hi)
		return;
	pa->free_pages -= set_bits(pa, (lo - pa->base) >> PA_PAGE_SHIFT,
				   (hi - lo) >> PA_PAGE_SHIFT, false);
}

static bool is_power_of_two(size_t x)
{
	return x != 0 && (x & (x - 1)) == 0;
}

uint64_t page_alloc_pages(struct page_allocator *pa, size_t npages,
			  size_t align_pages)
{
	uint64_t idx;

	if (align_pages == 0)
		align_pages = 1;
	if (npages == 0 || npages > pa->free_pages ||
	    !is_power_of_two(align_pages))
		return 0;
	idx = find_run(pa, pa->hint, pa->npages, npages, align_pages);
	if (idx == NOT_FOUND && pa->hint != 0)
		idx = find_run(pa, 0, pa->npages, npages, align_pages);
	if (idx == NOT_FOUND)
		return 0;
	set_bits(pa, idx, npages, false);
	pa->free_pages -= npages;
	pa->hint = idx + npages < pa->npages ? idx + npages : 0;
	return pa->base + (idx << PA_PAGE_SHIFT);
}

uint64_t page_alloc_pages_below(struct page_allocator *pa, size_t npages, uint64_t limit)
{
	uint64_t idx, end;

	if (npages == 0 || npages > pa->free_pages || limit <= pa->base)
		return 0;
	end = (limit - pa->base) >> PA_PAGE_SHIFT;
	idx = find_run(pa, 0, end < pa->npages ? end : pa->npages, npages, 1);
	if (idx == NOT_FOUND)
		return 0;
	set_bits(pa, idx, npages, false);
	pa->free_pages -= npages;
	return pa->base + (idx << PA_PAGE_SHIFT);
}

int page_free_pages(struct page_allocator *pa, uint64_t addr, size_t npages)
{
	uint64_t idx;

	if (addr & PA_PAGE_MASK)
		return PAGE_FREE_MISALIGNED;
	if (npages == 0)
		return PAGE_FREE_OK;
	if (addr == 0 || addr < pa->base)
		return PAGE_FREE_OUTSIDE;
	idx = (addr - pa->base) >> PA_PAGE_SHIFT;
	if (idx >= pa->npages || npages > pa->npages - idx)
		return PAGE_FREE_OUTSIDE;
	if (first_free(pa, idx, idx + npages) != idx + npages)
		return PAGE_FREE_DOUBLE_FREE;
	set_bits(pa, idx, npages, true);
	pa->free_pages += npages;
	return PAGE_FREE_OK;
}

uint64_t page_alloc_free_count(const struct page_allocator *pa)
{
	return pa->free_pages;
}

static bool spans_overlap(uint64_t a_start, uint64_t a_end,
			  const struct phys_range *r)
{
	return r->start < r->end && r->start < a_end && a_start < r->end;
}

/*
 * Lowest page-aligned start in [lo, hi) where span bytes avoid every
 * reserved range, or 0.  A candidate that hits a reserved range moves past
 * that range's end and so never hits it again: at most nreserved + 1 steps.
 */
static uint64_t first_fit(uint64_t lo, uint64_t hi, uint64_t span,
			  const struct phys_range *reserved, size_t nreserved)
{
	uint64_t cand = lo;

	while (cand < hi && span <= hi - cand) {
		const struct phys_range *hit = NULL;

		for (size_t i = 0; i < nreserved && !hit; i++)
			if (spans_overlap(cand, cand + span, &reserved[i]))
				hit = &reserved[i];
		if (!hit)
			return cand;
		cand = page_up(hit->end);
	}
	return 0;
}

uint64_t page_alloc_place_bitmap(const struct phys_range *usable, size_t n,
				 const struct phys_range *reserved,
				 size_t nreserved, size_t bytes)
{
	uint64_t span, best = 0;

	if (bytes == 0 || bytes > MEMMAP_END_LIMIT)
		return 0;
	span = page_up(bytes);
	for (size_t i = 0; i < n; i++) {
		uint64_t start, end, cand;

		if (!range_pages(&usable[i], &start, &end))
			continue;
		cand = first_fit(max_u64(start, LOW_MEMORY_END), end, span,
				 reserved, nreserved);
		if (cand != 0 && (best == 0 || cand < best))
			best = cand;
	}
	return best;
}
