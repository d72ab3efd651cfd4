/* Unit tests for vmm/memmap.c: firmware map sanitizing and range subtraction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include "tests/unit/test_rng.h"

#include "vmm/memmap.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_OUT 64

static const struct mem_region qemu_map[] = {
	{ 0x0, 0x9fc00, MEM_USABLE },
	{ 0x9fc00, 0x400, MEM_RESERVED },
	{ 0xf0000, 0x10000, MEM_RESERVED },
	{ 0x100000, 0x7ee0000, MEM_USABLE },
	{ 0x7fe0000, 0x20000, MEM_RESERVED },
	{ 0xfeffc000, 0x4000, MEM_RESERVED },
	{ 0xfffc0000, 0x40000, MEM_RESERVED },
	{ 0x100000000, 0x40000000, MEM_USABLE },
};

static const struct phys_range qemu_usable[] = {
	{ 0x0, 0x9f000 },
	{ 0x100000, 0x7fe0000 },
	{ 0x100000000, 0x140000000 },
};

/* Runs memmap_usable_ranges and requires exactly the expected ranges. */
static void expect_usable(const struct mem_region *map, size_t count,
			  const struct phys_range *want, size_t nwant)
{
	struct phys_range out[MAX_OUT];
	size_t dropped = 12345;
	size_t n;

	memset(out, 0xa5, sizeof(out));
	n = memmap_usable_ranges(map, count, out, MAX_OUT, &dropped);
	assert_int_equal(dropped, 0);
	assert_int_equal(n, nwant);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(out[i].start, want[i].start);
		assert_int_equal(out[i].end, want[i].end);
	}
}

#define EXPECT_USABLE(map, ...)						\
	do {								\
		static const struct phys_range want_[] = { __VA_ARGS__ }; \
		expect_usable(map, ARRAY_SIZE(map), want_, ARRAY_SIZE(want_)); \
	} while (0)

#define EXPECT_NOTHING_USABLE(map) expect_usable(map, ARRAY_SIZE(map), NULL, 0)

static void test_qemu_e820_map(void **state)
{
	(void)state;
	expect_usable(qemu_map, ARRAY_SIZE(qemu_map), qemu_usable,
		      ARRAY_SIZE(qemu_usable));
}

static void test_bochs_low_memory_only(void **state)
{
	static const struct mem_region map[] = {
		{ 0x0, 0x9fc00, MEM_USABLE },
		{ 0x9fc00, 0x400, MEM_RESERVED },
		{ 0xe8000, 0x18000, MEM_RESERVED },
		{ 0x100000, 0x1ef0000, MEM_USABLE },
		{ 0x1ff0000, 0x10000, MEM_ACPI_RECLAIMABLE },
		{ 0xfffc0000, 0x40000, MEM_RESERVED },
	};

	(void)state;
	EXPECT_USABLE(map, { 0x0, 0x9f000 }, { 0x100000, 0x1ff0000 });
}

/* Every permutation order of the same map must give the same result. */
static void test_unsorted_input(void **state)
{
	struct mem_region map[ARRAY_SIZE(qemu_map)];
	const size_t n = ARRAY_SIZE(qemu_map);

	(void)state;
	for (size_t rot = 0; rot < n; rot++) {
		for (size_t i = 0; i < n; i++)
			map[i] = qemu_map[(i * 3 + rot) % n];
		expect_usable(map, n, qemu_usable, ARRAY_SIZE(qemu_usable));
		for (size_t i = 0; i < n; i++)
			map[i] = qemu_map[n - 1 - (i + rot) % n];
		expect_usable(map, n, qemu_usable, ARRAY_SIZE(qemu_usable));
	}
}

static void test_reserved_inside_usable_wins(void **state)
{
	static const struct mem_region before[] = {
		{ 0x150800, 0x800, MEM_RESERVED },
		{ 0x100000, 0x100000, MEM_USABLE },
	};
	static const struct mem_region after[] = {
		{ 0x100000, 0x100000, MEM_USABLE },
		{ 0x150800, 0x800, MEM_RESERVED },
	};

	(void)state;
	EXPECT_USABLE(before, { 0x100000, 0x150000 }, { 0x151000, 0x200000 });
	EXPECT_USABLE(after, { 0x100000, 0x150000 }, { 0x151000, 0x200000 });
}

static void test_reserved_covering_usable(void **state)
{
	static const struct mem_region whole[] = {
		{ 0x100000, 0x100000, MEM_USABLE },
		{ 0x0, 0x1000000, MEM_RESERVED },
	};
	static const struct mem_region partial[] = {
		{ 0x100000, 0x100000, MEM_USABLE },
		{ 0x80000, 0x80800, MEM_ACPI_NVS },
		{ 0x1ff000, 0x10000, MEM_BAD },
	};

	(void)state;
	EXPECT_NOTHING_USABLE(whole);
	EXPECT_USABLE(partial, { 0x101000, 0x1ff000 });
}

static void test_non_usable_types(void **state)
{
	static const struct mem_region map[] = {
		{ 0x100000, 0x100000, MEM_ACPI_RECLAIMABLE },
		{ 0x200000, 0x100000, 0 },
		{ 0x300000, 0x100000, 7 },
		{ 0x400000, 0x100000, 0xffffffff },
		{ 0x500000, 0x100000, MEM_USABLE },
		{ 0x580000, 0x1000, 12 },
	};

	(void)state;
	EXPECT_USABLE(map, { 0x500000, 0x580000 }, { 0x581000, 0x600000 });
}

static void test_unaligned_edges(void **state)
{
	static const struct mem_region map[] = {
		{ 0x1234, 0x5678 - 0x1234, MEM_USABLE },
		{ 0x10001, 0xffe, MEM_USABLE },	/* inside one page only */
		{ 0x20000, 0x1fff, MEM_USABLE },	/* one page and a bit */
	};

	(void)state;
	EXPECT_USABLE(map, { 0x2000, 0x5000 }, { 0x20000, 0x21000 });
}

static void test_adjacent_usable_merged(void **state)
{
	static const struct mem_region map[] = {
		{ 0x180000, 0x80000, MEM_USABLE },
		{ 0x100000, 0x80000, MEM_USABLE },
		{ 0x140000, 0x10000, MEM_USABLE },	/* duplicate coverage */
		/* Each alone is less than a page; merged they hold one. */
		{ 0x1800, 0x1000, MEM_USABLE },
		{ 0x2800, 0x1000, MEM_USABLE },
	};

	(void)state;
	EXPECT_USABLE(map, { 0x2000, 0x3000 }, { 0x100000, 0x200000 });
}

static void test_zero_length_regions(void **state)
{
	static const struct mem_region map[] = {
		{ 0x0, 0x10000, MEM_USABLE },
		{ 0x5000, 0, MEM_RESERVED },
		{ 0x20000, 0, MEM_USABLE },
		{ 0xffffffffffffffff, 0, MEM_RESERVED },
	};
	static const struct mem_region only_empty[] = {
		{ 0x100000, 0, MEM_USABLE },
	};

	(void)state;
	EXPECT_USABLE(map, { 0x0, 0x10000 });
	EXPECT_NOTHING_USABLE(only_empty);
}

static void test_overflow_at_2_pow_64(void **state)
{
	static const struct mem_region wraps[] = {
		{ 0xffffffff00000000, 0x200000000, MEM_USABLE },
	};
	static const struct mem_region everything[] = {
		{ 0x0, UINT64_MAX, MEM_USABLE },
		{ 0x1000, 0x1000, MEM_RESERVED },
	};
	static const struct mem_region in_last_page[] = {
		{ UINT64_MAX - 10, 100, MEM_USABLE },
		{ MEMMAP_END_LIMIT, 0x1000, MEM_USABLE },
	};
	static const struct mem_region reserved_wraps[] = {
		{ 0xfffffff000000000, 0x1000000000, MEM_USABLE },
		{ 0xfffffffff0000000, UINT64_MAX, MEM_RESERVED },
	};

	(void)state;
	EXPECT_USABLE(wraps, { 0xffffffff00000000, MEMMAP_END_LIMIT });
	EXPECT_USABLE(everything, { 0x0, 0x1000 }, { 0x2000, MEMMAP_END_LIMIT });
	EXPECT_NOTHING_USABLE(in_last_page);
	EXPECT_USABLE(reserved_wraps, { 0xfffffff000000000, 0xfffffffff0000000 });
}

static void test_empty_map(void **state)
{
	struct phys_range out[1];
	size_t dropped = 99;

	(void)state;
	assert_int_equal(memmap_usable_ranges(NULL, 0, out, 1, &dropped), 0);
	assert_int_equal(dropped, 0);
}

static void test_out_max_keeps_lowest(void **state)
{
	static const struct mem_region map[] = {
		{ 0x500000, 0x1000, MEM_USABLE },
		{ 0x100000, 0x1000, MEM_USABLE },
		{ 0x400000, 0x1000, MEM_USABLE },
		{ 0x200000, 0x1000, MEM_USABLE },
		{ 0x300000, 0x1000, MEM_USABLE },
	};
	struct phys_range out[5];
	size_t dropped = 0;
	size_t n;

	(void)state;
	memset(out, 0, sizeof(out));
	n = memmap_usable_ranges(map, ARRAY_SIZE(map), out, 3, &dropped);
	assert_int_equal(n, 3);
	assert_int_equal(dropped, 2);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(out[i].start, 0x100000 * (i + 1));
	/* Nothing is written beyond out_max. */
	assert_int_equal(out[3].start, 0);
	assert_int_equal(out[3].end, 0);

	n = memmap_usable_ranges(map, ARRAY_SIZE(map), NULL, 0, &dropped);
	assert_int_equal(n, 0);
	assert_int_equal(dropped, 5);

	n = memmap_usable_ranges(map, ARRAY_SIZE(map), out, 5, &dropped);
	assert_int_equal(n, 5);
	assert_int_equal(dropped, 0);

	/* dropped may be NULL. */
	n = memmap_usable_ranges(map, ARRAY_SIZE(map), out, 2, NULL);
	assert_int_equal(n, 2);
}

static void test_total_bytes(void **state)
{
	(void)state;
	assert_int_equal(memmap_total_bytes(NULL, 0), 0);
	assert_int_equal(memmap_total_bytes(qemu_usable, ARRAY_SIZE(qemu_usable)),
			 0x9f000 + 0x7ee0000 + 0x40000000);
}

static void test_type_names(void **state)
{
	(void)state;
	assert_string_equal(mem_type_name(MEM_USABLE), "usable");
	assert_string_equal(mem_type_name(MEM_RESERVED), "reserved");
	assert_string_equal(mem_type_name(MEM_ACPI_RECLAIMABLE), "acpi-reclaimable");
	assert_string_equal(mem_type_name(MEM_ACPI_NVS), "acpi-nvs");
	assert_string_equal(mem_type_name(MEM_BAD), "bad");
	assert_string_equal(mem_type_name(0), "unknown");
	assert_string_equal(mem_type_name(6), "unknown");
	assert_string_equal(mem_type_name(UINT32_MAX), "unknown");
}

/* Three ranges with gaps, plus spare room for splits. */
static size_t three_ranges(struct phys_range *r)
{
	r[0] = (struct phys_range){ 0x100000, 0x200000 };
	r[1] = (struct phys_range){ 0x300000, 0x400000 };
	r[2] = (struct phys_range){ 0x500000, 0x600000 };
	return 3;
}

static void expect_ranges(const struct phys_range *got, size_t n,
			  const struct phys_range *want, size_t nwant)
{
	assert_int_equal(n, nwant);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(got[i].start, want[i].start);
		assert_int_equal(got[i].end, want[i].end);
	}
}

#define EXPECT_RANGES(got, n, ...)					\
	do {								\
		static const struct phys_range want_[] = { __VA_ARGS__ }; \
		expect_ranges(got, n, want_, ARRAY_SIZE(want_));	\
	} while (0)

static void test_subtract_edges(void **state)
{
	struct phys_range r[8];
	size_t n;

	(void)state;
	n = memmap_subtract(r, three_ranges(r), 8, 0x100000, 0x110000);
	EXPECT_RANGES(r, n, { 0x110000, 0x200000 }, { 0x300000, 0x400000 },
		      { 0x500000, 0x600000 });
	n = memmap_subtract(r, three_ranges(r), 8, 0x1f0000, 0x200000);
	EXPECT_RANGES(r, n, { 0x100000, 0x1f0000 }, { 0x300000, 0x400000 },
		      { 0x500000, 0x600000 });
	/* Overlapping a range's edge from the gap side. */
	n = memmap_subtract(r, three_ranges(r), 8, 0x280000, 0x310000);
	EXPECT_RANGES(r, n, { 0x100000, 0x200000 }, { 0x310000, 0x400000 },
		      { 0x500000, 0x600000 });
	n = memmap_subtract(r, three_ranges(r), 8, 0x5f0000, 0x700000);
	EXPECT_RANGES(r, n, { 0x100000, 0x200000 }, { 0x300000, 0x400000 },
		      { 0x500000, 0x5f0000 });
}

static void test_subtract_middle_splits(void **state)
{
	struct phys_range r[8];
	size_t n;

	(void)state;
	n = memmap_subtract(r, three_ranges(r), 8, 0x340000, 0x350000);
	EXPECT_RANGES(r, n, { 0x100000, 0x200000 }, { 0x300000, 0x340000 },
		      { 0x350000, 0x400000 }, { 0x500000, 0x600000 });
}

static void test_subtract_spanning_several(void **state)
{
	struct phys_range r[8];
	size_t n;

	(void)state;
	n = memmap_subtract(r, three_ranges(r), 8, 0x180000, 0x580000);
	EXPECT_RANGES(r, n, { 0x100000, 0x180000 }, { 0x580000, 0x600000 });
	n = memmap_subtract(r, three_ranges(r), 8, 0x100000, 0x400000);
	EXPECT_RANGES(r, n, { 0x500000, 0x600000 });
	n = memmap_subtract(r, three_ranges(r), 8, 0, UINT64_MAX);
	assert_int_equal(n, 0);
}

static void test_subtract_rounds_outward(void **state)
{
	struct phys_range r[8];
	size_t n;

	(void)state;
	n = memmap_subtract(r, three_ranges(r), 8, 0x340001, 0x340002);
	EXPECT_RANGES(r, n, { 0x100000, 0x200000 }, { 0x300000, 0x340000 },
		      { 0x341000, 0x400000 }, { 0x500000, 0x600000 });
	n = memmap_subtract(r, three_ranges(r), 8, 0x100fff, 0x1ff001);
	EXPECT_RANGES(r, n, { 0x300000, 0x400000 }, { 0x500000, 0x600000 });
}

static void test_subtract_nothing(void **state)
{
	struct phys_range r[8];
	size_t n;

	(void)state;
	n = memmap_subtract(r, three_ranges(r), 8, 0x200000, 0x300000);
	EXPECT_RANGES(r, n, { 0x100000, 0x200000 }, { 0x300000, 0x400000 },
		      { 0x500000, 0x600000 });
	n = memmap_subtract(r, three_ranges(r), 8, 0x350000, 0x350000);
	assert_int_equal(n, 3);
	n = memmap_subtract(r, three_ranges(r), 8, 0x360000, 0x350000);
	assert_int_equal(n, 3);
	n = memmap_subtract(r, three_ranges(r), 8, 0x700000, UINT64_MAX);
	assert_int_equal(n, 3);
	assert_int_equal(memmap_subtract(r, 0, 8, 0, UINT64_MAX), 0);
}

static void test_subtract_split_when_full(void **state)
{
	struct phys_range r[3];
	size_t n;

	(void)state;
	/* Full list, split in the middle range: the highest range goes. */
	n = memmap_subtract(r, three_ranges(r), 3, 0x340000, 0x350000);
	EXPECT_RANGES(r, n, { 0x100000, 0x200000 }, { 0x300000, 0x340000 },
		      { 0x350000, 0x400000 });
	/* Split in the last range: its own upper part is the highest. */
	n = memmap_subtract(r, three_ranges(r), 3, 0x540000, 0x550000);
	EXPECT_RANGES(r, n, { 0x100000, 0x200000 }, { 0x300000, 0x400000 },
		      { 0x500000, 0x540000 });
	/* Room for exactly one more: nothing is lost. */
	n = memmap_subtract(r, 2, 3, 0x140000, 0x150000);
	EXPECT_RANGES(r, n, { 0x100000, 0x140000 }, { 0x150000, 0x200000 },
		      { 0x300000, 0x400000 });
}

/*
 * Randomized check against a model that tracks each 1 KiB unit of a small
 * address space: a page is usable iff all its units are usable.
 */
#define UNIT 0x400u
#define SPACE_UNITS 512u
#define UNITS_PER_PAGE (4096u / UNIT)
#define SPACE_PAGES (SPACE_UNITS / UNITS_PER_PAGE)


static void model_pages(const struct mem_region *map, size_t count,
			bool page_usable[SPACE_PAGES])
{
	bool covered_usable[SPACE_UNITS] = { false };
	bool covered_other[SPACE_UNITS] = { false };

	for (size_t i = 0; i < count; i++) {
		uint64_t first = map[i].base / UNIT;
		uint64_t last = (map[i].base + map[i].length) / UNIT;

		for (uint64_t u = first; u < last; u++) {
			if (map[i].type == MEM_USABLE)
				covered_usable[u] = true;
			else
				covered_other[u] = true;
		}
	}
	for (unsigned int p = 0; p < SPACE_PAGES; p++) {
		page_usable[p] = true;
		for (unsigned int k = 0; k < UNITS_PER_PAGE; k++) {
			unsigned int u = p * UNITS_PER_PAGE + k;

			if (!covered_usable[u] || covered_other[u])
				page_usable[p] = false;
		}
	}
}

static size_t model_ranges(const bool page_usable[SPACE_PAGES],
			   struct phys_range *out)
{
	size_t n = 0;

	for (unsigned int p = 0; p < SPACE_PAGES; p++) {
		if (!page_usable[p])
			continue;
		if (n > 0 && out[n - 1].end == p * 4096ull)
			out[n - 1].end += 4096;
		else
			out[n++] = (struct phys_range){ p * 4096ull,
							(p + 1) * 4096ull };
	}
	return n;
}

static void random_map(struct mem_region *map, size_t count)
{
	static const uint32_t types[] = {
		MEM_USABLE, MEM_USABLE, MEM_USABLE, MEM_RESERVED,
		MEM_ACPI_RECLAIMABLE, MEM_ACPI_NVS, MEM_BAD, 9,
	};

	for (size_t i = 0; i < count; i++) {
		unsigned int a = rng_below(SPACE_UNITS + 1);
		unsigned int len = rng_below(4) == 0 ? 0 :
				   rng_below(SPACE_UNITS + 1 - a);

		map[i].base = (uint64_t)a * UNIT;
		map[i].length = (uint64_t)len * UNIT;
		map[i].type = types[rng_below(ARRAY_SIZE(types))];
	}
}

static void test_random_maps_against_model(void **state)
{
	(void)state;
	rng_state = 0x3e3a0001;
	for (int iter = 0; iter < 3000; iter++) {
		struct mem_region map[12];
		size_t count = rng_below(ARRAY_SIZE(map) + 1);
		bool pages[SPACE_PAGES];
		struct phys_range want[SPACE_PAGES], got[SPACE_PAGES + 1];
		size_t nwant, n, dropped;
		uint64_t s, e;

		random_map(map, count);
		model_pages(map, count, pages);
		nwant = model_ranges(pages, want);
		n = memmap_usable_ranges(map, count, got, SPACE_PAGES, &dropped);
		assert_int_equal(dropped, 0);
		expect_ranges(got, n, want, nwant);

		/* Subtracting a random span must match the model too. */
		s = rng_below(SPACE_UNITS * UNIT);
		e = s + rng_below(SPACE_UNITS * UNIT / 4);
		for (uint64_t p = s / 4096; p < (e + 4095) / 4096 && p < SPACE_PAGES; p++)
			pages[p] = false;
		nwant = model_ranges(pages, want);
		n = memmap_subtract(got, n, SPACE_PAGES + 1, s, e);
		expect_ranges(got, n, want, nwant);
		assert_int_equal(memmap_total_bytes(got, n),
				 memmap_total_bytes(want, nwant));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qemu_e820_map),
		cmocka_unit_test(test_bochs_low_memory_only),
		cmocka_unit_test(test_unsorted_input),
		cmocka_unit_test(test_reserved_inside_usable_wins),
		cmocka_unit_test(test_reserved_covering_usable),
		cmocka_unit_test(test_non_usable_types),
		cmocka_unit_test(test_unaligned_edges),
		cmocka_unit_test(test_adjacent_usable_merged),
		cmocka_unit_test(test_zero_length_regions),
		cmocka_unit_test(test_overflow_at_2_pow_64),
		cmocka_unit_test(test_empty_map),
		cmocka_unit_test(test_out_max_keeps_lowest),
		cmocka_unit_test(test_total_bytes),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_subtract_edges),
		cmocka_unit_test(test_subtract_middle_splits),
		cmocka_unit_test(test_subtract_spanning_several),
		cmocka_unit_test(test_subtract_rounds_outward),
		cmocka_unit_test(test_subtract_nothing),
		cmocka_unit_test(test_subtract_split_when_full),
		cmocka_unit_test(test_random_maps_against_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
