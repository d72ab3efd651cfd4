/* Unit tests of the multiboot information builder: every structure parsed back from guest RAM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "vmm/multiboot_info.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define RAM_SIZE	(8u << 20)
#define CANARY		0xcc
#define PAGE		0x1000ull
#define FOUR_GIB	0x100000000ull

/* Guest RAM with the canary, and the outcome of the last build. */
struct fixture {
	struct guest_ram ram;
	uint64_t mbi, end;
	char err[200];
	int rc;
};

static struct fixture fixture;

static int group_setup(void **state)
{
	fixture.ram.size = RAM_SIZE;
	fixture.ram.host = malloc(RAM_SIZE);
	*state = &fixture;
	return fixture.ram.host ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	free(fixture.ram.host);
	return 0;
}

/* Builds into canary-filled RAM. */
static int build(struct fixture *fx, uint64_t start, const char *cmdline,
		 const struct mb_module_spec *mods, size_t nmods)
{
	memset(fx->ram.host, CANARY, RAM_SIZE);
	memset(fx->err, '#', sizeof(fx->err));
	fx->mbi = fx->end = 0x5a5a5a5a;
	fx->rc = multiboot_info_build(&fx->ram, start, cmdline, mods, nmods, &fx->mbi, &fx->end,
				      fx->err, sizeof(fx->err));
	return fx->rc;
}

static bool ram_is_canary(const struct fixture *fx, uint64_t start, uint64_t end)
{
	const uint8_t *p = fx->ram.host + start;

	return start >= end || (p[0] == CANARY && memcmp(p, p + 1, end - start - 1) == 0);
}

static void expect_refusal(struct fixture *fx, const char *msg)
{
	assert_int_equal(fx->rc, -1);
	assert_string_equal(fx->err, msg);
	assert_true(ram_is_canary(fx, 0, RAM_SIZE));
}

/* Reading back, independently of the builder: little-endian, any alignment, inside RAM. */
static uint64_t rd(const struct guest_ram *ram, uint64_t gpa, unsigned n)
{
	uint64_t v = 0;

	assert_true(guest_ram_contains(ram, gpa, n));
	while (n--)
		v = (v << 8) | ram->host[gpa + n];
	return v;
}

static uint32_t rd32(const struct guest_ram *ram, uint64_t gpa)
{
	return rd(ram, gpa, 4);
}

static uint64_t rd64(const struct guest_ram *ram, uint64_t gpa)
{
	return rd(ram, gpa, 8);
}

/* The NUL-terminated string at gpa, which must end inside [gpa, limit). */
static const char *str_at(const struct guest_ram *ram, uint64_t gpa, uint64_t limit)
{
	assert_true(gpa < limit && limit <= ram->size);
	assert_non_null(memchr(ram->host + gpa, '\0', limit - gpa));
	return (const char *)ram->host + gpa;
}

/* The multiboot_info fields, by their offsets in the specification. */
struct mbi_view {
	uint32_t flags, mem_lower, mem_upper, cmdline, mods_count, mods_addr;
	uint32_t mmap_length, mmap_addr, boot_loader_name;
};

static struct mbi_view read_mbi(const struct fixture *fx)
{
	const struct guest_ram *ram = &fx->ram;
	uint64_t b = fx->mbi;
	struct mbi_view v = {
		.flags = rd32(ram, b + 0), .mem_lower = rd32(ram, b + 4), .mem_upper = rd32(ram, b + 8),
		.cmdline = rd32(ram, b + 16), .mods_count = rd32(ram, b + 20),
		.mods_addr = rd32(ram, b + 24), .mmap_length = rd32(ram, b + 44),
		.mmap_addr = rd32(ram, b + 48), .boot_loader_name = rd32(ram, b + 64),
	};
	/* Fields the flags do not announce, up to the end of the framebuffer ones, are zero. */
	static const unsigned zero_fields[] = { 12, 28, 32, 36, 40, 52, 56, 60, 68, 72, 76, 80, 84,
						88, 92, 96, 100, 104, 108, 112 };

	for (size_t i = 0; i < ARRAY_SIZE(zero_fields); i++)
		assert_int_equal(rd32(ram, b + zero_fields[i]), 0);
	return v;
}

struct mmap_entry {
	uint64_t base, length;
	uint32_t type;
};

/* The map exactly as the builder documents it for RAM of ram_size bytes. */
static void expect_mmap(const struct fixture *fx, const struct mbi_view *v, uint64_t ram_size)
{
	const struct mmap_entry want[] = {
		{ 0, 0x9fc00, MEM_USABLE },
		{ 0x9fc00, 0x400, MEM_RESERVED },
		{ 0xf0000, 0x10000, MEM_RESERVED },
		{ 0x100000, ram_size - 0x100000, MEM_USABLE },
	};
	uint64_t e = v->mmap_addr;

	assert_int_equal(v->mmap_length, ARRAY_SIZE(want) * 24);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		assert_int_equal(rd32(&fx->ram, e), 20);
		assert_int_equal(rd64(&fx->ram, e + 4), want[i].base);
		assert_int_equal(rd64(&fx->ram, e + 12), want[i].length);
		assert_int_equal(rd32(&fx->ram, e + 20), want[i].type);
		e += rd32(&fx->ram, e) + 4;
	}
	assert_int_equal(e, v->mmap_addr + v->mmap_length);
}

/* Checks the parts every build has; returns the parsed structure. */
static struct mbi_view expect_common(const struct fixture *fx, uint64_t want_mbi, const char *cmdline,
				     size_t nmods)
{
	struct mbi_view v;

	assert_int_equal(fx->rc, 0);
	assert_string_equal(fx->err, "");
	assert_int_equal(fx->mbi, want_mbi);
	assert_int_equal(fx->end % PAGE, 0);
	assert_true(fx->end > fx->mbi);
	v = read_mbi(fx);
	assert_int_equal(v.flags, (1u << 0) | (1u << 2) | (1u << 3) | (1u << 6) | (1u << 9));
	assert_int_equal(v.mem_lower, 639);
	assert_int_equal(v.mem_upper, (RAM_SIZE - 0x100000) / 1024);
	expect_mmap(fx, &v, RAM_SIZE);
	assert_string_equal(str_at(&fx->ram, v.cmdline, fx->end), cmdline);
	assert_string_equal(str_at(&fx->ram, v.boot_loader_name, fx->end), "vmm");
	assert_int_equal(v.mods_count, nmods);
	assert_int_equal(v.mods_addr % 4, 0);
	assert_true(v.mods_addr >= fx->mbi && v.mods_addr + 16 * nmods <= fx->end);
	assert_true(v.mmap_addr >= fx->mbi + 88 && v.mmap_addr + v.mmap_length <= fx->end);
	/* Nothing outside [mbi, end) is touched. */
	assert_true(ram_is_canary(fx, 0, fx->mbi));
	assert_true(ram_is_canary(fx, fx->end, RAM_SIZE));
	return v;
}

static void test_no_modules(void **state)
{
	struct fixture *fx = *state;
	struct mbi_view v;

	assert_int_equal(build(fx, 0x105000, "/boot/hello log=debug", NULL, 0), 0);
	v = expect_common(fx, 0x105000, "/boot/hello log=debug", 0);
	assert_int_equal(fx->end, 0x106000);
	/* mods_addr still points at (an empty list) inside the info area. */
	assert_true(v.mods_addr > fx->mbi && v.mods_addr < fx->end);
}

static void test_start_is_rounded_up_to_a_page(void **state)
{
	struct fixture *fx = *state;

	build(fx, 0x104001, "", NULL, 0);
	expect_common(fx, 0x105000, "", 0);
	build(fx, 0x104fff, "", NULL, 0);
	expect_common(fx, 0x105000, "", 0);
	build(fx, 0, "", NULL, 0);
	expect_common(fx, 0, "", 0);
}

static void test_null_cmdline_is_empty(void **state)
{
	struct fixture *fx = *state;

	build(fx, 0x200000, NULL, NULL, 0);
	expect_common(fx, 0x200000, "", 0);
}

/* A module's pattern: differs per module and per byte. */
static uint8_t *pattern(size_t size, unsigned seed)
{
	uint8_t *p = malloc(size ? size : 1);

	assert_non_null(p);
	for (size_t i = 0; i < size; i++)
		p[i] = (uint8_t)(i * 13 + seed * 101 + 7);
	return p;
}

/* Checks each module's entry, bytes, string, alignment, padding and order. */
static void expect_modules(const struct fixture *fx, const struct mbi_view *v,
			   const struct mb_module_spec *mods, size_t nmods)
{
	uint64_t prev_end = 0;

	for (size_t i = 0; i < nmods; i++) {
		uint64_t e = v->mods_addr + 16 * i;
		uint32_t mod_start = rd32(&fx->ram, e), mod_end = rd32(&fx->ram, e + 4);
		const char *want_str = mods[i].cmdline ? mods[i].cmdline : "";

		assert_int_equal(mod_start % PAGE, 0);
		assert_int_equal(mod_end - mod_start, mods[i].size);
		assert_true(mod_start >= prev_end);
		assert_true(mod_start > v->mods_addr && mod_end <= fx->end);
		if (mods[i].size)
			assert_memory_equal(fx->ram.host + mod_start, mods[i].data, mods[i].size);
		/* Page padding after the module is zero, not left over. */
		for (uint64_t a = mod_end; a % PAGE != 0; a++)
			assert_int_equal(fx->ram.host[a], 0);
		assert_string_equal(str_at(&fx->ram, rd32(&fx->ram, e + 8), mod_start), want_str);
		assert_int_equal(rd32(&fx->ram, e + 12), 0);
		prev_end = mod_end;
	}
	if (nmods > 0)
		assert_int_equal(fx->end, (prev_end + PAGE - 1) / PAGE * PAGE);
}

static void test_modules(void **state)
{
	struct fixture *fx = *state;
	uint8_t *a = pattern(0x1234, 1), *c = pattern(0x2000, 3), *d = pattern(1, 4);
	const struct mb_module_spec mods[] = {
		{ a, 0x1234, "initrd root=/dev/ram0" },
		{ NULL, 0, NULL },
		{ c, 0x2000, "third" },
		{ d, 1, "" },
	};
	struct mbi_view v;
	uint64_t starts[ARRAY_SIZE(mods)];

	build(fx, 0x123456, "kernel", mods, ARRAY_SIZE(mods));
	v = expect_common(fx, 0x124000, "kernel", ARRAY_SIZE(mods));
	expect_modules(fx, &v, mods, ARRAY_SIZE(mods));
	for (size_t i = 0; i < ARRAY_SIZE(mods); i++)
		starts[i] = rd32(&fx->ram, v.mods_addr + 16 * i);
	/* The info fits its first page; modules follow on page boundaries, in order. */
	assert_int_equal(starts[0], 0x125000);
	assert_int_equal(starts[1], 0x127000);
	assert_int_equal(starts[2], 0x127000);	/* the empty module takes no room */
	assert_int_equal(starts[3], 0x129000);
	assert_int_equal(fx->end, 0x12a000);
	free(a);
	free(c);
	free(d);
}

/* Long strings push the modules past the first page of the info area. */
static void test_long_strings(void **state)
{
	struct fixture *fx = *state;
	char *long_line = malloc(10000);
	uint8_t *data = pattern(100, 9);
	struct mb_module_spec mods[2] = { { data, 100, NULL }, { data, 100, NULL } };
	struct mbi_view v;

	assert_non_null(long_line);
	memset(long_line, 'x', 9999);
	long_line[9999] = '\0';
	mods[0].cmdline = long_line;
	mods[1].cmdline = "short";
	build(fx, 0x300000, long_line, mods, 2);
	v = expect_common(fx, 0x300000, long_line, 2);
	expect_modules(fx, &v, mods, 2);
	/* 228 + 32 + 10000 + 10000 + 6 bytes of info and strings need 5 pages. */
	assert_int_equal(rd32(&fx->ram, v.mods_addr), 0x305000);
	assert_int_equal(fx->end, 0x307000);
	free(long_line);
	free(data);
}

/* Many modules: the list grows and stays consistent. */
static void test_many_modules(void **state)
{
	struct fixture *fx = *state;
	struct mb_module_spec mods[300];
	uint8_t *data = pattern(0x1801, 5);
	char names[300][8];
	struct mbi_view v;

	for (size_t i = 0; i < ARRAY_SIZE(mods); i++) {
		snprintf(names[i], sizeof(names[i]), "m%zu", i);
		mods[i] = (struct mb_module_spec){ data + i % 7, 0x1801 - i % 7, names[i] };
	}
	build(fx, 0x100000, "k", mods, ARRAY_SIZE(mods));
	v = expect_common(fx, 0x100000, "k", ARRAY_SIZE(mods));
	expect_modules(fx, &v, mods, ARRAY_SIZE(mods));
	free(data);
}

static bool ranges_overlap(uint64_t a, uint64_t a_end, uint64_t b, uint64_t b_end)
{
	return a < b_end && b < a_end;
}

/* True when [start, end) lies inside one region the info's memory map calls usable. */
static bool in_usable_ram(const struct fixture *fx, const struct mbi_view *v, uint64_t start, uint64_t end)
{
	for (uint64_t e = v->mmap_addr; e < v->mmap_addr + v->mmap_length; e += rd32(&fx->ram, e) + 4) {
		uint64_t base = rd(&fx->ram, e + 4, 8), len = rd(&fx->ram, e + 12, 8);

		if (rd32(&fx->ram, e + 20) == 1 && start >= base && end <= base + len)
			return true;
	}
	return false;
}

/*
 * What run_module() does for a guest with multiboot modules: start is the
 * kernel's end.  Each module lies page-aligned above the kernel, in usable
 * RAM, and overlaps neither the kernel, the info structure, the module
 * list, the memory map nor any string.
 */
static void test_guest_modules_placement(void **state)
{
	struct fixture *fx = *state;
	const uint64_t kernel_start = 0x400000, kernel_end = 0x40a123;
	static const char cfg[] = "greeting=hello\nanswer=42\n";
	uint8_t *bin = pattern(0x3001, 6);
	const struct mb_module_spec mods[] = {
		{ cfg, sizeof(cfg) - 1, "modules.cfg tag=one" },
		{ bin, 0x3001, "blob" },
	};
	const char *cmdline = "modules mods=2 line=answer=42";
	struct mbi_view v;

	build(fx, kernel_end, cmdline, mods, ARRAY_SIZE(mods));
	v = expect_common(fx, 0x40b000, cmdline, ARRAY_SIZE(mods));
	expect_modules(fx, &v, mods, ARRAY_SIZE(mods));
	for (size_t i = 0; i < ARRAY_SIZE(mods); i++) {
		uint64_t e = v.mods_addr + 16 * i;
		uint64_t start = rd32(&fx->ram, e), end = rd32(&fx->ram, e + 4);
		uint64_t str = rd32(&fx->ram, e + 8);

		assert_true(start >= kernel_end && start % PAGE == 0);
		assert_false(ranges_overlap(start, end, kernel_start, kernel_end));
		assert_true(in_usable_ram(fx, &v, start, end));
		assert_false(ranges_overlap(start, end, fx->mbi, fx->mbi + 116));
		assert_false(ranges_overlap(start, end, v.mods_addr, v.mods_addr + 16 * ARRAY_SIZE(mods)));
		assert_false(ranges_overlap(start, end, v.mmap_addr, v.mmap_addr + v.mmap_length));
		assert_false(ranges_overlap(start, end, v.cmdline, v.cmdline + strlen(cmdline) + 1));
		for (size_t j = 0; j < ARRAY_SIZE(mods); j++) {
			uint64_t s2 = rd32(&fx->ram, v.mods_addr + 16 * j + 8);

			assert_false(ranges_overlap(start, end, s2, s2 + strlen(mods[j].cmdline) + 1));
		}
		assert_string_equal(str_at(&fx->ram, str, fx->end), mods[i].cmdline);
	}
	assert_memory_equal(fx->ram.host + rd32(&fx->ram, v.mods_addr), cfg, sizeof(cfg) - 1);
	free(bin);
}

/* A module that does not fit is named, with its size, address and the RAM's end; nothing is written. */
static void test_guest_module_does_not_fit(void **state)
{
	struct fixture *fx = *state;
	uint8_t *big = pattern(0x300000, 8);
	const struct mb_module_spec mods[] = {
		{ big, 0x1000, "small" },
		{ big, 0x300000, "big.bin size=3M" },
	};

	/* Info at 0x400000, module 0 at 0x401000, module 1 needs [0x402000, 0x702000): fits in 8 MiB. */
	build(fx, 0x3ff001, "k", mods, 2);
	expect_common(fx, 0x400000, "k", 2);
	assert_int_equal(fx->end, 0x702000);
	/* 0x100000 further up, module 1 would need [0x502000, 0x802000). */
	build(fx, 0x4ff001, "k", mods, 2);
	expect_refusal(fx, "multiboot module 1 'big.bin size=3M' does not fit in guest RAM: 3145728 bytes from 0x502000, but RAM ends at 0x800000");
	/* Exactly up to the end of RAM is fine. */
	build(fx, 0x4fd001, "k", mods, 2);
	expect_common(fx, 0x4fe000, "k", 2);
	assert_int_equal(fx->end, RAM_SIZE);
	free(big);
}

static void test_memory_map_follows_ram_size(void **state)
{
	struct fixture *fx = *state;
	const uint64_t sizes[] = { 0x200000, 0x7fe0000, 0x100000000ull, 0x123456789ull };
	struct guest_ram ram = fx->ram;
	uint64_t mbi, end;
	char err[100];

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		struct fixture view = *fx;
		struct mbi_view v;

		/* Only [0x1ff000, 0x200000) is written: the fake sizes stay safe. */
		ram.size = sizes[i];
		memset(fx->ram.host, CANARY, RAM_SIZE);
		assert_int_equal(multiboot_info_build(&ram, 0x1ff000, "", NULL, 0, &mbi, &end, err,
						      sizeof(err)), 0);
		assert_int_equal(end, 0x200000);
		view.mbi = mbi;
		v = read_mbi(&view);
		assert_int_equal(v.mem_upper, (sizes[i] - 0x100000) / 1024);
		expect_mmap(&view, &v, sizes[i]);
	}
}

/* mem_upper is 32 bits of KiB: RAM past 4 TiB saturates it. */
static void test_mem_upper_is_capped(void **state)
{
	struct fixture *fx = *state;
	struct guest_ram ram = { fx->ram.host, 5ull << 40 };
	struct fixture view = *fx;
	uint64_t end;
	char err[100];

	memset(fx->ram.host, CANARY, RAM_SIZE);
	assert_int_equal(multiboot_info_build(&ram, 0x200000, "", NULL, 0, &view.mbi, &end, err,
					      sizeof(err)), 0);
	assert_int_equal(read_mbi(&view).mem_upper, UINT32_MAX);
}

static void test_ram_too_small(void **state)
{
	struct fixture *fx = *state;
	struct guest_ram ram = { fx->ram.host, 0x1fffff };
	uint64_t mbi, end;
	char err[120];

	memset(fx->ram.host, CANARY, RAM_SIZE);
	assert_int_equal(multiboot_info_build(&ram, 0x100000, "", NULL, 0, &mbi, &end, err, sizeof(err)), -1);
	assert_string_equal(err, "guest RAM of 0x1fffff bytes is too small for a multiboot guest (at least 2 MiB)");
	assert_true(ram_is_canary(fx, 0, RAM_SIZE));
	ram.size = 0x200000;
	assert_int_equal(multiboot_info_build(&ram, 0x100000, "", NULL, 0, &mbi, &end, err, sizeof(err)), 0);
}

static void test_start_near_end_of_ram(void **state)
{
	struct fixture *fx = *state;
	uint8_t *data = pattern(0x10, 2);
	const struct mb_module_spec mod = { data, 0x10, "m" };

	/* Exactly the last page. */
	build(fx, RAM_SIZE - PAGE, "kernel", NULL, 0);
	expect_common(fx, RAM_SIZE - PAGE, "kernel", 0);
	assert_int_equal(fx->end, RAM_SIZE);
	build(fx, RAM_SIZE - PAGE, "kernel", &mod, 1);
	expect_refusal(fx, "multiboot module 0 'm' does not fit in guest RAM: 16 bytes from 0x800000, but RAM ends at 0x800000");
	build(fx, RAM_SIZE - PAGE + 1, "", NULL, 0);
	expect_refusal(fx, "multiboot info does not fit in guest RAM: needs [0x800000, 0x801000) but RAM ends at 0x800000");
	build(fx, 0x40000000, "", NULL, 0);
	expect_refusal(fx, "multiboot info does not fit in guest RAM: needs [0x40000000, 0x40001000) but RAM ends at 0x800000");
	free(data);
}

/* Sizes and addresses near 2^64 must not wrap into something that seems to fit. */
static void test_overflowing_layout(void **state)
{
	struct fixture *fx = *state;
	const struct mb_module_spec huge[] = { { NULL, SIZE_MAX, "" } };
	const struct mb_module_spec two[] = { { NULL, SIZE_MAX / 2, "" }, { NULL, SIZE_MAX / 2 + 2, "" } };
	char want[160];

	build(fx, UINT64_MAX - 10, "", NULL, 0);
	expect_refusal(fx, "multiboot info does not fit in guest RAM: needs more than 2^64 bytes from 0xffffffffffffffff");
	build(fx, 0x100000, "", huge, 1);
	snprintf(want, sizeof(want), "multiboot module 0 '' does not fit in guest RAM: %zu bytes from 0x101000, but RAM ends at 0x800000", SIZE_MAX);
	expect_refusal(fx, want);
	build(fx, 0x100000, "", two, 2);
	snprintf(want, sizeof(want), "multiboot module 0 '' does not fit in guest RAM: %zu bytes from 0x101000, but RAM ends at 0x800000", SIZE_MAX / 2);
	expect_refusal(fx, want);
}

/*
 * Above 4 GiB.  The RAM claims 8 GiB but is the 8 MiB buffer: safe, since
 * refusals write nothing.
 */
static void test_must_stay_below_4gib(void **state)
{
	struct fixture *fx = *state;
	struct guest_ram ram = { fx->ram.host, 8ull << 30 };
	const struct mb_module_spec to_4g[] = { { NULL, 0x1000, "" } };
	uint64_t mbi, end;
	char err[120];

	memset(fx->ram.host, CANARY, RAM_SIZE);
	assert_int_equal(multiboot_info_build(&ram, FOUR_GIB, "", NULL, 0, &mbi, &end, err, sizeof(err)), -1);
	assert_string_equal(err, "multiboot info does not fit below 4 GiB: needs [0x100000000, 0x100001000)");
	assert_int_equal(multiboot_info_build(&ram, FOUR_GIB - PAGE, "", to_4g, 1, &mbi, &end, err,
					      sizeof(err)), -1);
	assert_string_equal(err, "multiboot info does not fit below 4 GiB: needs [0xfffff000, 0x100001000)");
	/* Ending exactly at 4 GiB would store mod_end = 2^32, which 32 bits cannot hold. */
	assert_int_equal(multiboot_info_build(&ram, FOUR_GIB - 2 * PAGE, "", to_4g, 1, &mbi, &end, err,
					      sizeof(err)), -1);
	assert_string_equal(err, "multiboot info does not fit below 4 GiB: needs [0xffffe000, 0x100000000)");
	assert_true(ram_is_canary(fx, 0, RAM_SIZE));
}

/* The last page below 4 GiB is usable: needs real memory there, so reserve it lazily. */
static void test_info_may_end_at_4gib(void **state)
{
	const size_t size = FOUR_GIB + PAGE;
	void *host = mmap(NULL, size, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	struct fixture view;
	uint64_t end;
	char err[120];

	(void)state;
	if (host == MAP_FAILED)
		skip();
	view.ram = (struct guest_ram){ host, size };
	assert_int_equal(multiboot_info_build(&view.ram, FOUR_GIB - PAGE, "top", NULL, 0, &view.mbi,
					      &end, err, sizeof(err)), 0);
	assert_int_equal(view.mbi, FOUR_GIB - PAGE);
	assert_int_equal(end, FOUR_GIB);
	assert_string_equal(str_at(&view.ram, read_mbi(&view).cmdline, end), "top");
	munmap(host, size);
}

static void test_reserved_hole_is_avoided(void **state)
{
	struct fixture *fx = *state;

	build(fx, 0x9f000, "", NULL, 0);
	expect_refusal(fx, "multiboot info [0x9f000, 0xa0000) overlaps reserved guest memory [0x9fc00, 0x100000)");
	build(fx, 0xff000, "", NULL, 0);
	expect_refusal(fx, "multiboot info [0xff000, 0x100000) overlaps reserved guest memory [0x9fc00, 0x100000)");
	build(fx, 0x9e000, "", NULL, 0);
	expect_common(fx, 0x9e000, "", 0);
	assert_int_equal(fx->end, 0x9f000);
}

static void test_small_or_absent_error_buffer(void **state)
{
	struct fixture *fx = *state;
	uint64_t mbi, end;
	char err[10];

	memset(err, '#', sizeof(err));
	assert_int_equal(multiboot_info_build(&fx->ram, RAM_SIZE, "", NULL, 0, &mbi, &end, err, sizeof(err)), -1);
	assert_string_equal(err, "multiboot");
	assert_int_equal(multiboot_info_build(&fx->ram, RAM_SIZE, "", NULL, 0, &mbi, &end, NULL, 0), -1);
	assert_int_equal(multiboot_info_build(&fx->ram, 0x200000, "", NULL, 0, &mbi, &end, NULL, 0), 0);
}

static void test_reserved_range_helpers(void **state)
{
	struct phys_range r = multiboot_reserved_low_range();

	(void)state;
	assert_int_equal(multiboot_reserved_low_start(), 0x9fc00);
	assert_int_equal(r.start, MB_GUEST_LOW_RESERVED_START);
	assert_int_equal(r.end, MB_GUEST_LOW_RESERVED_END);
	assert_int_equal(MB_LOADER_MAGIC, 0x2BADB002);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_modules),
		cmocka_unit_test(test_start_is_rounded_up_to_a_page),
		cmocka_unit_test(test_null_cmdline_is_empty),
		cmocka_unit_test(test_modules),
		cmocka_unit_test(test_long_strings),
		cmocka_unit_test(test_many_modules),
		cmocka_unit_test(test_guest_modules_placement),
		cmocka_unit_test(test_guest_module_does_not_fit),
		cmocka_unit_test(test_memory_map_follows_ram_size),
		cmocka_unit_test(test_mem_upper_is_capped),
		cmocka_unit_test(test_ram_too_small),
		cmocka_unit_test(test_start_near_end_of_ram),
		cmocka_unit_test(test_overflowing_layout),
		cmocka_unit_test(test_must_stay_below_4gib),
		cmocka_unit_test(test_info_may_end_at_4gib),
		cmocka_unit_test(test_reserved_hole_is_avoided),
		cmocka_unit_test(test_small_or_absent_error_buffer),
		cmocka_unit_test(test_reserved_range_helpers),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
