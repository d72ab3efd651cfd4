/* Unit tests for vmm/page_alloc.c on fake memory maps (no page is touched). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include "tests/unit/test_rng.h"

#include "vmm/page_alloc.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIB 0x100000ull

/*
 * An allocator over a malloc'd bitmap of exactly the advertised size, so
 * AddressSanitizer catches any access past page_alloc_bitmap_bytes().
 */
struct fixture {
	struct page_allocator pa;
	uint64_t *bitmap;
	size_t bitmap_bytes;
};

static void fixture_init(struct fixture *f, const struct phys_range *usable,
			 size_t n)
{
	f->bitmap_bytes = page_alloc_bitmap_bytes(usable, n);
	f->bitmap = malloc(f->bitmap_bytes ? f->bitmap_bytes : 1);
	assert_non_null(f->bitmap);
	memset(f->bitmap, 0xa5, f->bitmap_bytes);
	page_alloc_init(&f->pa, usable, n, f->bitmap);
}

static void fixture_free(struct fixture *f)
{
	free(f->bitmap);
}

#define FIXTURE_INIT(f, ranges) fixture_init(f, ranges, ARRAY_SIZE(ranges))

static void test_bitmap_bytes(void **state)
{
	static const struct phys_range one_mib[] = { { MIB, 2 * MIB } };
	static const struct phys_range one_page[] = { { MIB, MIB + 0x1000 } };
	static const struct phys_range pages_65[] = { { MIB, MIB + 65 * 0x1000 } };
	static const struct phys_range qemu[] = {
		{ 0x100000, 0x7fe0000 }, { 0x0, 0x9f000 },
	};
	static const struct phys_range unaligned[] = { { 0x1800, 0x3800 } };
	static const struct phys_range too_small[] = { { 0x1800, 0x2800 } };

	(void)state;
	assert_int_equal(page_alloc_bitmap_bytes(one_mib, 1), 32);
	assert_int_equal(page_alloc_bitmap_bytes(one_page, 1), 8);
	assert_int_equal(page_alloc_bitmap_bytes(pages_65, 1), 16);
	/* 0x7fe0 pages need 511.5 words, rounded up to 512. */
	assert_int_equal(page_alloc_bitmap_bytes(qemu, 2), 512 * 8);
	assert_int_equal(page_alloc_bitmap_bytes(unaligned, 1), 8);
	assert_int_equal(page_alloc_bitmap_bytes(too_small, 1), 0);
	assert_int_equal(page_alloc_bitmap_bytes(NULL, 0), 0);
}

static void test_init_counts(void **state)
{
	static const struct phys_range qemu[] = {
		{ 0x0, 0x9f000 }, { 0x100000, 0x7fe0000 },
	};
	static const struct phys_range high[] = {
		{ 0x100000, 0x200000 }, { 0x300000, 0x380000 },
	};
	struct fixture f;

	(void)state;
	FIXTURE_INIT(&f, qemu);
	assert_int_equal(f.pa.base, 0);
	assert_int_equal(f.pa.npages, 0x7fe0);
	/* Page 0 is reserved by init, hence the - 1. */
	assert_int_equal(page_alloc_free_count(&f.pa), 0x9f - 1 + 0x7ee0);
	fixture_free(&f);

	FIXTURE_INIT(&f, high);
	assert_int_equal(f.pa.base, 0x100000);
	assert_int_equal(f.pa.npages, 0x280);
	assert_int_equal(page_alloc_free_count(&f.pa), 0x100 + 0x80);
	fixture_free(&f);
}

static void test_empty_allocator(void **state)
{
	struct page_allocator pa;
	uint64_t word = 0;

	(void)state;
	page_alloc_init(&pa, NULL, 0, &word);
	assert_int_equal(page_alloc_free_count(&pa), 0);
	assert_int_equal(page_alloc_pages(&pa, 1, 1), 0);
	assert_int_equal(page_free_pages(&pa, 0x100000, 1), PAGE_FREE_OUTSIDE);
	page_alloc_reserve(&pa, 0, UINT64_MAX);
	assert_int_equal(page_alloc_free_count(&pa), 0);
}

static void test_page_zero_never_returned(void **state)
{
	static const struct phys_range low[] = { { 0x0, 0x10000 } };
	struct fixture f;
	bool seen[16] = { false };
	uint64_t addr;

	(void)state;
	FIXTURE_INIT(&f, low);
	assert_int_equal(page_alloc_free_count(&f.pa), 15);
	assert_int_equal(page_alloc_pages(&f.pa, 16, 1), 0);
	for (int i = 0; i < 15; i++) {
		addr = page_alloc_pages(&f.pa, 1, 1);
		assert_int_not_equal(addr, 0);
		assert_true(addr < 0x10000);
		assert_false(seen[addr / 0x1000]);
		seen[addr / 0x1000] = true;
	}
	assert_int_equal(page_alloc_pages(&f.pa, 1, 1), 0);
	assert_int_equal(page_free_pages(&f.pa, 0, 1), PAGE_FREE_OUTSIDE);
	fixture_free(&f);
}

static void test_holes_never_returned(void **state)
{
	static const struct phys_range holes[] = {
		{ 0x100000, 0x104000 }, { 0x200000, 0x204000 },
	};
	struct fixture f;

	(void)state;
	FIXTURE_INIT(&f, holes);
	for (int i = 0; i < 8; i++) {
		uint64_t addr = page_alloc_pages(&f.pa, 1, 1);
		bool in_first = addr >= 0x100000 && addr < 0x104000;
		bool in_second = addr >= 0x200000 && addr < 0x204000;

		assert_true(in_first || in_second);
	}
	assert_int_equal(page_alloc_pages(&f.pa, 1, 1), 0);
	assert_int_equal(page_alloc_free_count(&f.pa), 0);
	fixture_free(&f);
}

static void test_contiguity_across_hole_refused(void **state)
{
	static const struct phys_range split[] = {
		{ 0x100000, 0x102000 }, { 0x103000, 0x105000 },
	};
	struct fixture f;

	(void)state;
	FIXTURE_INIT(&f, split);
	assert_int_equal(page_alloc_free_count(&f.pa), 4);
	assert_int_equal(page_alloc_pages(&f.pa, 3, 1), 0);
	assert_int_equal(page_alloc_pages(&f.pa, 4, 1), 0);
	assert_int_equal(page_alloc_pages(&f.pa, 2, 1), 0x100000);
	assert_int_equal(page_alloc_pages(&f.pa, 2, 1), 0x103000);
	assert_int_equal(page_alloc_free_count(&f.pa), 0);
	fixture_free(&f);
}

static void test_reserve_edges_and_outside(void **state)
{
	static const struct phys_range one_mib[] = { { MIB, 2 * MIB } };
	struct fixture f;
	uint64_t addr;

	(void)state;
	FIXTURE_INIT(&f, one_mib);
	page_alloc_reserve(&f.pa, 0, MIB);
	page_alloc_reserve(&f.pa, 2 * MIB, 3 * MIB);
	page_alloc_reserve(&f.pa, 0x150000, 0x150000);
	page_alloc_reserve(&f.pa, 0x160000, 0x150000);
	assert_int_equal(page_alloc_free_count(&f.pa), 256);

	/* Rounded outward: one byte on each side of 1 MiB takes its page. */
	page_alloc_reserve(&f.pa, MIB - 0x800, MIB + 1);
	assert_int_equal(page_alloc_free_count(&f.pa), 255);
	page_alloc_reserve(&f.pa, 2 * MIB - 1, UINT64_MAX);
	assert_int_equal(page_alloc_free_count(&f.pa), 254);
	/* Reserving again counts nothing twice. */
	page_alloc_reserve(&f.pa, 0, MIB + 0x1000);
	page_alloc_reserve(&f.pa, 2 * MIB - 0x1000, 2 * MIB);
	assert_int_equal(page_alloc_free_count(&f.pa), 254);

	while ((addr = page_alloc_pages(&f.pa, 1, 1)) != 0) {
		assert_true(addr > MIB);
		assert_true(addr < 2 * MIB - 0x1000);
	}
	assert_int_equal(page_alloc_free_count(&f.pa), 0);
	fixture_free(&f);
}

static void test_reserve_everything(void **state)
{
	static const struct phys_range two[] = {
		{ MIB, 2 * MIB }, { 4 * MIB, 5 * MIB },
	};
	struct fixture f;

	(void)state;
	FIXTURE_INIT(&f, two);
	page_alloc_reserve(&f.pa, 0, UINT64_MAX);
	assert_int_equal(page_alloc_free_count(&f.pa), 0);
	assert_int_equal(page_alloc_pages(&f.pa, 1, 1), 0);
	fixture_free(&f);
}

static void test_alignment(void **state)
{
	static const struct phys_range ram[] = { { MIB, 16 * MIB } };
	static const struct phys_range odd_base[] = { { 0x101000, 0x200000 } };
	struct fixture f;
	uint64_t addr;

	(void)state;
	FIXTURE_INIT(&f, ram);
	assert_int_equal(page_alloc_pages(&f.pa, 1, 1), MIB);
	/* 2 MiB alignment of 512 pages skips the rest of the first 2 MiB. */
	assert_int_equal(page_alloc_pages(&f.pa, 512, 512), 2 * MIB);
	assert_int_equal(page_alloc_pages(&f.pa, 512, 512), 4 * MIB);
	assert_int_equal(page_alloc_pages(&f.pa, 1, 0), 6 * MIB);
	assert_int_equal(page_alloc_pages(&f.pa, 1, 3), 0);
	assert_int_equal(page_alloc_pages(&f.pa, 1, 6), 0);
	addr = page_alloc_pages(&f.pa, 3, 16);
	assert_int_equal(addr % (16 * 0x1000), 0);
	assert_int_not_equal(addr, 0);
	/*
	 * Next-fit: a freed aligned block is found again only once the search
	 * from the hint runs off the end and the full scan starts over.
	 */
	assert_int_equal(page_free_pages(&f.pa, 2 * MIB, 512), PAGE_FREE_OK);
	for (uint64_t want = 8 * MIB; want < 16 * MIB; want += 2 * MIB)
		assert_int_equal(page_alloc_pages(&f.pa, 512, 512), want);
	assert_int_equal(page_alloc_pages(&f.pa, 512, 512), 2 * MIB);
	assert_int_equal(page_alloc_pages(&f.pa, 512, 512), 0);
	fixture_free(&f);

	/* Alignment is of the physical address, not of the bitmap index. */
	FIXTURE_INIT(&f, odd_base);
	addr = page_alloc_pages(&f.pa, 1, 2);
	assert_int_equal(addr, 0x102000);
	addr = page_alloc_pages(&f.pa, 4, 4);
	assert_int_equal(addr, 0x104000);
	assert_int_equal(page_alloc_pages(&f.pa, 256, 256), 0);
	fixture_free(&f);
}

static void test_exhaustion_then_free(void **state)
{
	static const struct phys_range ram[] = { { MIB, MIB + 16 * 0x1000 } };
	struct fixture f;

	(void)state;
	FIXTURE_INIT(&f, ram);
	assert_int_equal(page_alloc_pages(&f.pa, 0, 1), 0);
	assert_int_equal(page_alloc_pages(&f.pa, 17, 1), 0);
	assert_int_equal(page_alloc_pages(&f.pa, SIZE_MAX, 1), 0);
	for (int i = 0; i < 16; i++)
		assert_int_equal(page_alloc_pages(&f.pa, 1, 1), MIB + i * 0x1000);
	assert_int_equal(page_alloc_pages(&f.pa, 1, 1), 0);
	assert_int_equal(page_free_pages(&f.pa, MIB + 5 * 0x1000, 1), PAGE_FREE_OK);
	assert_int_equal(page_alloc_free_count(&f.pa), 1);
	assert_int_equal(page_alloc_pages(&f.pa, 2, 1), 0);
	assert_int_equal(page_alloc_pages(&f.pa, 1, 1), MIB + 5 * 0x1000);
	assert_int_equal(page_alloc_pages(&f.pa, 1, 1), 0);
	assert_int_equal(page_free_pages(&f.pa, MIB + 3 * 0x1000, 4), PAGE_FREE_OK);
	assert_int_equal(page_alloc_pages(&f.pa, 4, 1), MIB + 3 * 0x1000);
	fixture_free(&f);
}

/*
 * A failing search over an all-allocated tail word must stop at the end of
 * the bitmap (exactly sized, so ASan would see a read past it).
 */
static void test_failed_scan_stays_in_bitmap(void **state)
{
	static const struct phys_range ram[] = { { MIB, MIB + 128 * 0x1000 } };
	struct fixture f;

	(void)state;
	FIXTURE_INIT(&f, ram);
	assert_int_equal(f.bitmap_bytes, 16);
	page_alloc_reserve(&f.pa, MIB + 64 * 0x1000, MIB + 128 * 0x1000);
	assert_int_equal(page_alloc_pages(&f.pa, 1, 1), MIB);
	assert_int_equal(page_alloc_free_count(&f.pa), 63);
	assert_int_equal(page_alloc_pages(&f.pa, 63, 2), 0);
	assert_int_equal(page_alloc_pages(&f.pa, 62, 2), MIB + 2 * 0x1000);
	fixture_free(&f);
}

/* Next-fit: a freed page is reused only after the search wraps around. */
static void test_next_fit_order(void **state)
{
	static const struct phys_range ram[] = { { MIB, MIB + 8 * 0x1000 } };
	struct fixture f;

	(void)state;
	FIXTURE_INIT(&f, ram);
	for (int i = 0; i < 4; i++)
		assert_int_equal(page_alloc_pages(&f.pa, 1, 1), MIB + i * 0x1000);
	assert_int_equal(page_free_pages(&f.pa, MIB, 1), PAGE_FREE_OK);
	for (int i = 4; i < 8; i++)
		assert_int_equal(page_alloc_pages(&f.pa, 1, 1), MIB + i * 0x1000);
	assert_int_equal(page_alloc_pages(&f.pa, 1, 1), MIB);
	fixture_free(&f);
}

/* Below a limit: the lowest free page under it, never one at or above it, and the next-fit hint untouched. */
static void test_alloc_below_limit(void **state)
{
	static const struct phys_range ram[] = { { MIB, MIB + 4 * 0x1000 }, { 4096 * MIB, 4096 * MIB + 4 * 0x1000 } };
	struct fixture f;

	(void)state;
	FIXTURE_INIT(&f, ram);
	assert_int_equal(page_alloc_pages(&f.pa, 1, 1), MIB);
	assert_int_equal(page_alloc_pages_below(&f.pa, 1, 4096 * MIB), MIB + 0x1000);
	assert_int_equal(page_alloc_pages(&f.pa, 1, 1), MIB + 0x1000 * 2);
	assert_int_equal(page_alloc_pages_below(&f.pa, 1, 4096 * MIB), MIB + 0x1000 * 3);
	assert_int_equal(page_alloc_pages_below(&f.pa, 1, 4096 * MIB), 0);
	assert_int_equal(page_alloc_pages_below(&f.pa, 1, MIB), 0);
	assert_int_equal(page_alloc_pages_below(&f.pa, 1, 4096 * MIB + 0x1000), 4096 * MIB);
	assert_int_equal(page_alloc_pages(&f.pa, 1, 1), 4096 * MIB + 0x1000);
	fixture_free(&f);
}

#define BIG_PAGES (64 * MIB / 0x1000)

static void test_all_pages_distinct_64mib(void **state)
{
	static const struct phys_range ram[] = { { MIB, MIB + 64 * MIB } };
	struct fixture f;
	uint8_t *seen = calloc(BIG_PAGES, 1);
	uint64_t addr;

	(void)state;
	assert_non_null(seen);
	FIXTURE_INIT(&f, ram);
	assert_int_equal(page_alloc_free_count(&f.pa), BIG_PAGES);
	for (uint64_t i = 0; i < BIG_PAGES; i++) {
		addr = page_alloc_pages(&f.pa, 1, 1);
		assert_true(addr >= MIB && addr < MIB + 64 * MIB);
		assert_int_equal(addr % 0x1000, 0);
		assert_int_equal(seen[(addr - MIB) / 0x1000], 0);
		seen[(addr - MIB) / 0x1000] = 1;
	}
	assert_int_equal(page_alloc_free_count(&f.pa), 0);
	assert_int_equal(page_alloc_pages(&f.pa, 1, 1), 0);
	fixture_free(&f);
	free(seen);
}

static void assert_state_equal(const struct fixture *f,
			       const struct page_allocator *saved,
			       const uint64_t *saved_bitmap)
{
	assert_memory_equal(&f->pa, saved, sizeof(*saved));
	assert_memory_equal(f->bitmap, saved_bitmap, f->bitmap_bytes);
}

static void test_free_errors_change_nothing(void **state)
{
	static const struct phys_range ram[] = {
		{ MIB, 2 * MIB }, { 3 * MIB, 4 * MIB },
	};
	struct fixture f;
	struct page_allocator saved;
	uint64_t *saved_bitmap;
	uint64_t run;

	(void)state;
	FIXTURE_INIT(&f, ram);
	run = page_alloc_pages(&f.pa, 4, 1);
	assert_int_equal(page_free_pages(&f.pa, run + 0x1000, 1), PAGE_FREE_OK);
	saved = f.pa;
	saved_bitmap = malloc(f.bitmap_bytes);
	assert_non_null(saved_bitmap);
	memcpy(saved_bitmap, f.bitmap, f.bitmap_bytes);

	assert_int_equal(page_free_pages(&f.pa, run + 1, 1), PAGE_FREE_MISALIGNED);
	assert_int_equal(page_free_pages(&f.pa, run + 0x800, 1), PAGE_FREE_MISALIGNED);
	assert_int_equal(page_free_pages(&f.pa, 0, 1), PAGE_FREE_OUTSIDE);
	assert_int_equal(page_free_pages(&f.pa, MIB - 0x1000, 1), PAGE_FREE_OUTSIDE);
	assert_int_equal(page_free_pages(&f.pa, MIB - 0x1000, 2), PAGE_FREE_OUTSIDE);
	assert_int_equal(page_free_pages(&f.pa, 4 * MIB, 1), PAGE_FREE_OUTSIDE);
	assert_int_equal(page_free_pages(&f.pa, 4 * MIB - 0x1000, 2), PAGE_FREE_OUTSIDE);
	assert_int_equal(page_free_pages(&f.pa, run, SIZE_MAX), PAGE_FREE_OUTSIDE);
	assert_int_equal(page_free_pages(&f.pa, UINT64_MAX & ~0xfffull, 1),
			 PAGE_FREE_OUTSIDE);
	/* The middle page of the run is already free: nothing may change. */
	assert_int_equal(page_free_pages(&f.pa, run, 4), PAGE_FREE_DOUBLE_FREE);
	assert_int_equal(page_free_pages(&f.pa, run + 0x1000, 1),
			 PAGE_FREE_DOUBLE_FREE);
	/* Never-allocated pages are free already. */
	assert_int_equal(page_free_pages(&f.pa, 3 * MIB, 1), PAGE_FREE_DOUBLE_FREE);
	assert_state_equal(&f, &saved, saved_bitmap);

	assert_int_equal(page_free_pages(&f.pa, run, 0), PAGE_FREE_OK);
	assert_state_equal(&f, &saved, saved_bitmap);

	assert_int_equal(page_free_pages(&f.pa, run, 1), PAGE_FREE_OK);
	assert_int_equal(page_free_pages(&f.pa, run + 0x2000, 2), PAGE_FREE_OK);
	assert_int_equal(page_alloc_free_count(&f.pa), 512);
	free(saved_bitmap);
	fixture_free(&f);
}

/* The reference model: one byte per page of [0, MODEL_PAGES * 4 KiB). */
enum model_page { PAGE_FREE, PAGE_TAKEN, PAGE_NEVER };

#define MODEL_PAGES 4096u

struct model {
	uint8_t page[MODEL_PAGES];
	uint64_t free;
};

struct run {
	uint64_t first;		/* page index */
	uint64_t count;
};

static void model_mark(struct model *m, uint64_t first, uint64_t count,
		       enum model_page to)
{
	for (uint64_t p = first; p < first + count; p++) {
		if (m->page[p] == PAGE_FREE)
			m->free--;
		m->page[p] = (uint8_t)to;
		if (to == PAGE_FREE)
			m->free++;
	}
}

/* Whether any aligned free run of count pages exists, in O(MODEL_PAGES). */
static bool model_has_run(const struct model *m, uint64_t count, uint64_t align)
{
	static uint32_t run_from[MODEL_PAGES + 1];

	run_from[MODEL_PAGES] = 0;
	for (uint64_t p = MODEL_PAGES; p-- > 0;)
		run_from[p] = m->page[p] == PAGE_FREE ? run_from[p + 1] + 1 : 0;
	for (uint64_t p = 0; p < MODEL_PAGES; p += align)
		if (run_from[p] >= count)
			return true;
	return false;
}

static uint64_t random_count(void)
{
	switch (rng_below(8)) {
	case 0:
		return 1 + rng_below(600);
	case 1:
	case 2:
		return 1 + rng_below(40);
	default:
		return 1 + rng_below(4);
	}
}

static uint64_t random_align(void)
{
	static const uint64_t aligns[] = { 0, 1, 1, 1, 2, 4, 8, 64, 512 };

	return aligns[rng_below(ARRAY_SIZE(aligns))];
}

#define MAX_RUNS 4096

static void stress_alloc(struct fixture *f, struct model *m, struct run *runs,
			 size_t *nruns)
{
	uint64_t count = random_count();
	uint64_t align = random_align();
	uint64_t addr = page_alloc_pages(&f->pa, count, align);
	uint64_t first;

	if (addr == 0) {
		assert_false(model_has_run(m, count, align ? align : 1));
		return;
	}
	assert_int_equal(addr % 0x1000, 0);
	first = addr / 0x1000;
	if (align > 1)
		assert_int_equal(first % align, 0);
	assert_true(first + count <= MODEL_PAGES);
	/* A page the model does not hold free means overlapping runs. */
	for (uint64_t p = first; p < first + count; p++)
		assert_int_equal(m->page[p], PAGE_FREE);
	model_mark(m, first, count, PAGE_TAKEN);
	assert_true(*nruns < MAX_RUNS);
	runs[(*nruns)++] = (struct run){ first, count };
}

/* Frees a random run, whole or a piece of it, and sometimes frees twice. */
static void stress_free(struct fixture *f, struct model *m, struct run *runs,
			size_t *nruns)
{
	size_t i = rng_below(*nruns);
	struct run r = runs[i];
	uint64_t skip = rng_below(4) == 0 ? rng_below(r.count) : 0;
	uint64_t count = r.count - skip;

	assert_int_equal(page_free_pages(&f->pa, (r.first + skip) * 0x1000, count),
			 PAGE_FREE_OK);
	model_mark(m, r.first + skip, count, PAGE_FREE);
	if (rng_below(8) == 0)
		assert_int_equal(page_free_pages(&f->pa, (r.first + skip) * 0x1000,
						 count),
				 PAGE_FREE_DOUBLE_FREE);
	if (skip > 0) {
		runs[i].count = skip;
	} else {
		runs[i] = runs[*nruns - 1];
		(*nruns)--;
	}
}

static void test_stress_against_model(void **state)
{
	static const struct phys_range ram[] = {
		{ 0x0, 0x9f000 },
		{ 0x100000, 0x800000 },
		{ 0x900000, 0xc00000 },
		{ 0xc01000, MODEL_PAGES * 0x1000ull },
	};
	static const struct phys_range reserved[] = {
		{ 0x100000, 0x180000 },	/* the VMM image */
		{ 0x3ff800, 0x400800 },	/* an unaligned module */
	};
	static struct model m;
	static struct run runs[MAX_RUNS];
	size_t nruns = 0;
	struct fixture f;

	(void)state;
	rng_state = 0xa110c001;
	memset(m.page, PAGE_NEVER, sizeof(m.page));
	m.free = 0;
	for (size_t i = 0; i < ARRAY_SIZE(ram); i++) {
		uint64_t first = ram[i].start / 0x1000;
		uint64_t count = ram[i].end / 0x1000 - first;

		memset(&m.page[first], PAGE_FREE, count);
		m.free += count;
	}
	model_mark(&m, 0, 1, PAGE_NEVER);
	model_mark(&m, 0x100, 0x80, PAGE_NEVER);
	model_mark(&m, 0x3ff, 2, PAGE_NEVER);

	FIXTURE_INIT(&f, ram);
	for (size_t i = 0; i < ARRAY_SIZE(reserved); i++)
		page_alloc_reserve(&f.pa, reserved[i].start, reserved[i].end);
	assert_int_equal(page_alloc_free_count(&f.pa), m.free);

	for (int op = 0; op < 20000; op++) {
		/* Bias toward allocation so the map fills and fragments. */
		if (nruns == 0 || rng_below(100) < 55)
			stress_alloc(&f, &m, runs, &nruns);
		else
			stress_free(&f, &m, runs, &nruns);
		assert_int_equal(page_alloc_free_count(&f.pa), m.free);
	}
	while (nruns > 0)
		stress_free(&f, &m, runs, &nruns);
	assert_int_equal(page_alloc_free_count(&f.pa), m.free);
	assert_int_equal(m.free, (0x9f - 1) + (0x700 - 0x80) + 0x300 - 2 +
				 (MODEL_PAGES - 0xc01));
	fixture_free(&f);
}

static void test_place_bitmap(void **state)
{
	static const struct phys_range usable[] = {
		{ 0x0, 0x9f000 }, { 0x100000, 0x8000000 },
	};
	static const struct phys_range reserved[] = {
		{ 0x180000, 0x181800 },	/* a boot module, unaligned end */
		{ 0x100000, 0x180000 },	/* the VMM image */
		{ 0x500000, 0x400000 },	/* empty (inverted): ignored */
	};
	static const struct phys_range adjacent[] = {
		{ 0x100000, 0x101000 }, { 0x101000, 0x102000 },
	};

	(void)state;
	assert_int_equal(page_alloc_place_bitmap(usable, 2, reserved, 3, 4096),
			 0x182000);
	assert_int_equal(page_alloc_place_bitmap(usable, 2, reserved, 3, 1),
			 0x182000);
	assert_int_equal(page_alloc_place_bitmap(usable, 2, NULL, 0, 4096),
			 0x100000);
	assert_int_equal(page_alloc_place_bitmap(usable, 2, adjacent, 2, 8192),
			 0x102000);
	assert_int_equal(page_alloc_place_bitmap(usable, 2, reserved, 3, 0), 0);
	assert_int_equal(page_alloc_place_bitmap(usable, 2, reserved, 3,
						 0x8000000), 0);
	assert_int_equal(page_alloc_place_bitmap(usable, 2, reserved, 3,
						 0x8000000 - 0x182000),
			 0x182000);
	assert_int_equal(page_alloc_place_bitmap(usable, 2, reserved, 3,
						 0x8000000 - 0x182000 + 1), 0);
	assert_int_equal(page_alloc_place_bitmap(NULL, 0, NULL, 0, 4096), 0);
	assert_int_equal(page_alloc_place_bitmap(usable, 2, reserved, 3, SIZE_MAX),
			 0);
}

/* Below 1 MiB is never chosen, and a later, larger range is used if needed. */
static void test_place_bitmap_skips_low_and_small(void **state)
{
	static const struct phys_range usable[] = {
		{ 0x40000000, 0x80000000 },
		{ 0x0, 0x9f000 },
		{ 0x100000, 0x110000 },
		{ 0x200000, 0x300000 },
	};
	static const struct phys_range straddle[] = { { 0x0, 0x200000 } };
	static const struct phys_range reserved[] = {
		{ 0x2f0000, 0x2f1000 },
	};

	(void)state;
	assert_int_equal(page_alloc_place_bitmap(usable, 4, NULL, 0, 0x10000),
			 0x100000);
	assert_int_equal(page_alloc_place_bitmap(usable, 4, NULL, 0, 0x10001),
			 0x200000);
	assert_int_equal(page_alloc_place_bitmap(usable, 4, reserved, 1, 0xf0000),
			 0x200000);
	assert_int_equal(page_alloc_place_bitmap(usable, 4, reserved, 1, 0xf1000),
			 0x40000000);
	assert_int_equal(page_alloc_place_bitmap(straddle, 1, NULL, 0, 0x1000),
			 0x100000);
	assert_int_equal(page_alloc_place_bitmap(straddle, 1, NULL, 0, 0x100001),
			 0);
}

/*
 * The boot sequence: place the bitmap, init with it, reserve it and the
 * image; the allocator then never hands out those pages.
 */
static void test_place_init_reserve_flow(void **state)
{
	static const struct phys_range usable[] = {
		{ 0x0, 0x9f000 }, { 0x100000, 0x2000000 },
	};
	static const struct phys_range image[] = { { 0x100000, 0x140000 } };
	size_t bytes = page_alloc_bitmap_bytes(usable, 2);
	uint64_t where = page_alloc_place_bitmap(usable, 2, image, 1, bytes);
	uint64_t *storage = malloc(bytes);
	struct page_allocator pa;
	uint64_t addr;

	(void)state;
	assert_non_null(storage);
	assert_int_equal(bytes, 0x2000 / 8);
	assert_int_equal(where, 0x140000);
	page_alloc_init(&pa, usable, 2, storage);
	page_alloc_reserve(&pa, 0, MIB);
	page_alloc_reserve(&pa, image[0].start, image[0].end);
	page_alloc_reserve(&pa, where, where + bytes);
	assert_int_equal(page_alloc_free_count(&pa), 0x1f00 - 0x40 - 1);
	while ((addr = page_alloc_pages(&pa, 1, 1)) != 0)
		assert_true(addr >= 0x141000 && addr < 0x2000000);
	free(storage);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bitmap_bytes),
		cmocka_unit_test(test_init_counts),
		cmocka_unit_test(test_empty_allocator),
		cmocka_unit_test(test_page_zero_never_returned),
		cmocka_unit_test(test_holes_never_returned),
		cmocka_unit_test(test_contiguity_across_hole_refused),
		cmocka_unit_test(test_reserve_edges_and_outside),
		cmocka_unit_test(test_reserve_everything),
		cmocka_unit_test(test_alignment),
		cmocka_unit_test(test_exhaustion_then_free),
		cmocka_unit_test(test_failed_scan_stays_in_bitmap),
		cmocka_unit_test(test_next_fit_order),
		cmocka_unit_test(test_alloc_below_limit),
		cmocka_unit_test(test_all_pages_distinct_64mib),
		cmocka_unit_test(test_free_errors_change_nothing),
		cmocka_unit_test(test_stress_against_model),
		cmocka_unit_test(test_place_bitmap),
		cmocka_unit_test(test_place_bitmap_skips_low_and_small),
		cmocka_unit_test(test_place_init_reserve_flow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
