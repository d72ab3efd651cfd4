/* Unit tests of the multiboot ELF loader: ELF32/ELF64 images built in memory, every refusal, fuzzing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include "tests/unit/test_rng.h"

#include "vmm/elf_load.h"
#include "vmm/multiboot_info.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define IMG_MAX		0x4000		/* room for a multiboot header past 8 KiB */
#define RAM_SIZE	(8u << 20)
#define CANARY		0xcc

#define PT_LOAD		1
#define PT_NOTE		4
#define PT_GNU_STACK	0x6474e551u

/* Where the fields of each class live (System V gABI). */
struct elf_fields {
	unsigned cls;
	size_t ehsize, phentsize, addr_size;
	size_t e_entry, e_phoff, e_phentsize, e_phnum;
	size_t p_offset, p_vaddr, p_paddr, p_filesz, p_memsz;
};

static const struct elf_fields elf32_fields = {
	32, 52, 32, 4, 24, 28, 42, 44, 4, 8, 12, 16, 20,
};

static const struct elf_fields elf64_fields = {
	64, 64, 56, 8, 24, 32, 54, 56, 8, 16, 24, 32, 40,
};

/* An ELF file being built: bytes, the size handed to the loader, and its class's field map. */
struct image {
	uint8_t bytes[IMG_MAX];
	size_t size;
	const struct elf_fields *f;
	unsigned phnum;
};

struct segment_spec {
	uint32_t type;
	uint64_t offset, vaddr, paddr, filesz, memsz;
};

static void put_le(struct image *im, size_t off, uint64_t v, size_t n)
{
	assert_true(off + n <= IMG_MAX);
	for (size_t i = 0; i < n; i++)
		im->bytes[off + i] = (uint8_t)(v >> (8 * i));
}

static void put_addr(struct image *im, size_t off, uint64_t v)
{
	put_le(im, off, v, im->f->addr_size);
}

static size_t phdr_off(const struct image *im, unsigned i)
{
	return im->f->ehsize + (size_t)i * im->f->phentsize;
}

/* An executable with no program headers, the table right after the ELF header. */
static void image_init(struct image *im, unsigned cls)
{
	memset(im, 0, sizeof(*im));
	im->f = cls == 64 ? &elf64_fields : &elf32_fields;
	memcpy(im->bytes, "\x7f" "ELF", 4);
	im->bytes[4] = cls == 64 ? 2 : 1;	/* class */
	im->bytes[5] = 1;			/* little-endian */
	im->bytes[6] = 1;			/* version */
	put_le(im, 16, 2, 2);			/* ET_EXEC */
	put_le(im, 18, cls == 64 ? 62 : 3, 2);
	put_le(im, 20, 1, 4);
	put_addr(im, im->f->e_phoff, im->f->ehsize);
	put_le(im, im->f->e_phentsize, im->f->phentsize, 2);
	put_le(im, cls == 64 ? 52 : 40, im->f->ehsize, 2);
	im->size = im->f->ehsize;
}

static void image_grow(struct image *im, size_t end)
{
	if (end > im->size)
		im->size = end;
}

static void set_phdr(struct image *im, unsigned i, const struct segment_spec *s)
{
	size_t p = phdr_off(im, i);

	put_le(im, p, s->type, 4);
	put_addr(im, p + im->f->p_offset, s->offset);
	put_addr(im, p + im->f->p_vaddr, s->vaddr);
	put_addr(im, p + im->f->p_paddr, s->paddr);
	put_addr(im, p + im->f->p_filesz, s->filesz);
	put_addr(im, p + im->f->p_memsz, s->memsz);
	put_le(im, p + (im->f->cls == 64 ? 48 : 28), 0x1000, im->f->addr_size);	/* p_align */
}

/* Appends a program header and, for PT_LOAD, fills its file bytes with a pattern. */
static void add_segment(struct image *im, const struct segment_spec *s)
{
	set_phdr(im, im->phnum, s);
	im->phnum++;
	put_le(im, im->f->e_phnum, im->phnum, 2);
	image_grow(im, phdr_off(im, im->phnum));
	if (s->type == PT_LOAD && s->filesz > 0 && s->offset <= IMG_MAX && s->filesz <= IMG_MAX - s->offset) {
		for (uint64_t i = 0; i < s->filesz; i++)
			im->bytes[s->offset + i] = (uint8_t)(s->offset + i * 7 + 1);
		image_grow(im, s->offset + s->filesz);
	}
}

static void set_entry(struct image *im, uint64_t entry)
{
	put_addr(im, im->f->e_entry, entry);
}

static void put_mb_header(struct image *im, size_t off, uint32_t flags)
{
	put_le(im, off, MB_HEADER_MAGIC, 4);
	put_le(im, off + 4, flags, 4);
	put_le(im, off + 8, (uint32_t)-(MB_HEADER_MAGIC + flags), 4);
	image_grow(im, off + 12);
}

/*
 * The standard kernel: text [0x1000, 0x2800) of the file at pbase, with
 * the multiboot header at its start, and data [0x3000, 0x3800) at
 * pbase + 0x2000 followed by 0x2800 bytes of bss; linked at vbase + the
 * same offsets, entry 0x10 into the text.
 */
static void build_kernel_at(struct image *im, unsigned cls, uint64_t vbase, uint64_t pbase)
{
	const struct segment_spec text = { PT_LOAD, 0x1000, vbase, pbase, 0x1800, 0x1800 };
	const struct segment_spec data = { PT_LOAD, 0x3000, vbase + 0x2000, pbase + 0x2000, 0x800, 0x3000 };

	image_init(im, cls);
	add_segment(im, &text);
	add_segment(im, &data);
	put_mb_header(im, 0x1000, MB_HEADER_PAGE_ALIGN | MB_HEADER_MEMORY_INFO);
	set_entry(im, vbase + 0x10);
}

static void build_kernel(struct image *im, unsigned cls)
{
	build_kernel_at(im, cls, 0x100000, 0x100000);
}

/* Guest RAM filled with the canary, and the result of the last load. */
struct fixture {
	struct guest_ram ram;
	struct elf_load_result res;
	char err[200];
	int rc;
};

/* One RAM block for the whole group: load() refills the canary before every load. */
static int group_setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	fx->ram.size = RAM_SIZE;
	fx->ram.host = malloc(RAM_SIZE);
	if (!fx->ram.host) {
		free(fx);
		return -1;
	}
	memset(fx->ram.host, CANARY, RAM_SIZE);
	*state = fx;
	return 0;
}

static int group_teardown(void **state)
{
	struct fixture *fx = *state;

	free(fx->ram.host);
	free(fx);
	return 0;
}

/*
 * Loads a heap copy of exactly im->size bytes, so that ASan catches any
 * read past the end, into canary-filled RAM with the multiboot low hole
 * forbidden.
 */
static int load(struct fixture *fx, const struct image *im)
{
	const struct phys_range hole = multiboot_reserved_low_range();
	uint8_t *copy = malloc(im->size ? im->size : 1);

	assert_non_null(copy);
	memcpy(copy, im->bytes, im->size);
	memset(fx->ram.host, CANARY, RAM_SIZE);
	memset(&fx->res, 0x5a, sizeof(fx->res));
	memset(fx->err, '#', sizeof(fx->err));
	fx->rc = elf_load_multiboot(copy, im->size, &fx->ram, &hole, 1, &fx->res,
				    fx->err, sizeof(fx->err));
	free(copy);
	return fx->rc;
}

/* All bytes of [start, end) hold the canary: the first does and each equals the next. */
static bool ram_is_canary(const struct fixture *fx, uint64_t start, uint64_t end)
{
	const uint8_t *p = fx->ram.host + start;

	return start >= end || (p[0] == CANARY && memcmp(p, p + 1, end - start - 1) == 0);
}

/* A refusal: rc -1, the exact message, and guest RAM untouched. */
static void expect_refusal(struct fixture *fx, const struct image *im, const char *msg)
{
	assert_int_equal(load(fx, im), -1);
	assert_string_equal(fx->err, msg);
	assert_true(ram_is_canary(fx, 0, RAM_SIZE));
}

static void expect_refusal_containing(struct fixture *fx, const struct image *im, const char *part)
{
	assert_int_equal(load(fx, im), -1);
	if (!strstr(fx->err, part))
		fail_msg("message '%s' lacks '%s'", fx->err, part);
	assert_true(ram_is_canary(fx, 0, RAM_SIZE));
}

/* The segment's file bytes, then zeros, and nothing else touched around it. */
static void expect_segment(const struct fixture *fx, const struct image *im, uint64_t paddr,
			   uint64_t offset, uint64_t filesz, uint64_t memsz)
{
	assert_memory_equal(fx->ram.host + paddr, im->bytes + offset, filesz);
	for (uint64_t i = filesz; i < memsz; i++)
		assert_int_equal(fx->ram.host[paddr + i], 0);
}

static void expect_standard_kernel(struct fixture *fx, const struct image *im, unsigned cls)
{
	assert_int_equal(load(fx, im), 0);
	assert_string_equal(fx->err, "");
	assert_int_equal(fx->res.elf_class, cls);
	assert_int_equal(fx->res.entry, 0x100010);
	assert_int_equal(fx->res.start, 0x100000);
	assert_int_equal(fx->res.end, 0x105000);
	assert_int_equal(fx->res.multiboot_flags, 3);
	expect_segment(fx, im, 0x100000, 0x1000, 0x1800, 0x1800);
	expect_segment(fx, im, 0x102000, 0x3000, 0x800, 0x3000);
	/* The gap between the segments and everything around them keep the canary. */
	assert_true(ram_is_canary(fx, 0, 0x100000));
	assert_true(ram_is_canary(fx, 0x101800, 0x102000));
	assert_true(ram_is_canary(fx, 0x105000, RAM_SIZE));
}

static void test_elf32_kernel_loads(void **state)
{
	struct image im;

	build_kernel(&im, 32);
	expect_standard_kernel(*state, &im, 32);
}

static void test_elf64_kernel_loads(void **state)
{
	struct image im;

	build_kernel(&im, 64);
	expect_standard_kernel(*state, &im, 64);
}

/* Linked high, loaded at 1 MiB: the entry moves from p_vaddr to p_paddr. */
static void test_higher_half_entry_is_translated(void **state)
{
	struct image im;

	build_kernel_at(&im, 32, 0xc0100000, 0x100000);
	expect_standard_kernel(*state, &im, 32);
	build_kernel_at(&im, 64, 0xffffffff80100000ull, 0x100000);
	expect_standard_kernel(*state, &im, 64);
}

/* An entry point already given as a physical address is used as it is. */
static void test_physical_entry_is_kept(void **state)
{
	struct fixture *fx = *state;
	struct image im;

	build_kernel_at(&im, 64, 0xffffffff80100000ull, 0x100000);
	set_entry(&im, 0x102004);
	assert_int_equal(load(fx, &im), 0);
	assert_int_equal(fx->res.entry, 0x102004);
}

/* The entry is translated through the segment whose virtual span holds it, not the first one. */
static void test_entry_in_second_segment(void **state)
{
	struct fixture *fx = *state;
	struct image im;

	build_kernel_at(&im, 32, 0xc0000000, 0x200000);
	set_entry(&im, 0xc0002100);
	assert_int_equal(load(fx, &im), 0);
	assert_int_equal(fx->res.entry, 0x202100);
	assert_int_equal(fx->res.start, 0x200000);
	assert_int_equal(fx->res.end, 0x205000);
}

/* Table order need not be address order; start and end still span everything. */
static void test_segments_out_of_order(void **state)
{
	struct fixture *fx = *state;
	const struct segment_spec high = { PT_LOAD, 0x2000, 0x300000, 0x300000, 0x100, 0x1000 };
	const struct segment_spec low = { PT_LOAD, 0x1000, 0x180000, 0x180000, 0x1000, 0x1000 };
	struct image im;

	image_init(&im, 32);
	add_segment(&im, &high);
	add_segment(&im, &low);
	put_mb_header(&im, 0x1000, 0);
	set_entry(&im, 0x180100);
	assert_int_equal(load(fx, &im), 0);
	assert_int_equal(fx->res.start, 0x180000);
	assert_int_equal(fx->res.end, 0x301000);
	assert_int_equal(fx->res.multiboot_flags, 0);
	expect_segment(fx, &im, 0x300000, 0x2000, 0x100, 0x1000);
	expect_segment(fx, &im, 0x180000, 0x1000, 0x1000, 0x1000);
	assert_true(ram_is_canary(fx, 0x181000, 0x300000));
}

/* Notes, GNU_STACK and empty PT_LOADs are skipped, even with nonsense offsets and addresses. */
static void test_other_segments_are_ignored(void **state)
{
	struct fixture *fx = *state;
	const struct segment_spec note = { PT_NOTE, 0xfffffff0, 0, 0xfffff000, 0x1000, 0x1000 };
	const struct segment_spec stack = { PT_GNU_STACK, 0, 0, 0, 0, 0x10000000 };
	const struct segment_spec empty = { PT_LOAD, 0xffffff00, 0, 0x9fc00, 0x5000, 0 };
	struct image im;

	build_kernel(&im, 32);
	add_segment(&im, &note);
	add_segment(&im, &stack);
	add_segment(&im, &empty);
	expect_standard_kernel(fx, &im, 32);
}

/* Pure bss: nothing is read from the file, so p_offset does not matter. */
static void test_bss_only_segment(void **state)
{
	struct fixture *fx = *state;
	const struct segment_spec bss = { PT_LOAD, 0xffffffff, 0x400000, 0x400000, 0, 0x2345 };
	struct image im;

	build_kernel(&im, 32);
	add_segment(&im, &bss);
	assert_int_equal(load(fx, &im), 0);
	assert_int_equal(fx->res.end, 0x402345);
	expect_segment(fx, &im, 0x400000, 0, 0, 0x2345);
	assert_true(ram_is_canary(fx, 0x105000, 0x400000));
	assert_true(ram_is_canary(fx, 0x402345, RAM_SIZE));
}

/* Overlapping segments are written in table order: the later one wins. */
static void test_overlapping_segments_later_wins(void **state)
{
	struct fixture *fx = *state;
	const struct segment_spec over = { PT_LOAD, 0x1000, 0x100800, 0x100800, 0, 0x100 };
	struct image im;

	build_kernel(&im, 64);
	add_segment(&im, &over);
	assert_int_equal(load(fx, &im), 0);
	expect_segment(fx, &im, 0x100800, 0, 0, 0x100);
	assert_memory_equal(fx->ram.host + 0x100900, im.bytes + 0x1900, 0xf00);
}

/* Segments may touch the forbidden hole from either side; RAM's last byte may be used. */
static void test_segments_next_to_the_hole_and_ram_end(void **state)
{
	struct fixture *fx = *state;
	const struct segment_spec below = { PT_LOAD, 0x2000, 0x9ec00, 0x9ec00, 0x100, 0x1000 };
	const struct segment_spec top = { PT_LOAD, 0x2200, RAM_SIZE - 0x10, RAM_SIZE - 0x10, 0x10, 0x10 };
	struct image im;

	build_kernel(&im, 32);
	add_segment(&im, &below);
	add_segment(&im, &top);
	assert_int_equal(load(fx, &im), 0);
	assert_int_equal(fx->res.start, 0x9ec00);
	assert_int_equal(fx->res.end, RAM_SIZE);
	assert_true(ram_is_canary(fx, 0x9fc00, 0x100000));
}

static void test_several_forbidden_ranges(void **state)
{
	struct fixture *fx = *state;
	const struct phys_range forbidden[] = {
		{ 0x9fc00, 0x100000 }, { 0x5000, 0x5000 }, { 0x101000, 0x100800 },
		{ 0x104fff, 0x106000 },
	};
	struct image im;

	build_kernel(&im, 32);
	assert_int_equal(elf_load_multiboot(im.bytes, im.size, &fx->ram, forbidden, 3, &fx->res,
					    fx->err, sizeof(fx->err)), 0);
	assert_int_equal(elf_load_multiboot(im.bytes, im.size, &fx->ram, forbidden, 4, &fx->res,
					    fx->err, sizeof(fx->err)), -1);
	assert_string_equal(fx->err,
			    "segment 1 [0x102000, 0x105000) overlaps reserved guest memory [0x104fff, 0x106000)");
	assert_int_equal(elf_load_multiboot(im.bytes, im.size, &fx->ram, NULL, 0, &fx->res,
					    fx->err, sizeof(fx->err)), 0);
}

static void test_bad_magic(void **state)
{
	struct fixture *fx = *state;
	struct image im;

	build_kernel(&im, 32);
	im.bytes[1] = 'e';
	expect_refusal(fx, &im, "not an ELF file (bad magic)");
	im.size = 0;
	expect_refusal(fx, &im, "not an ELF file (bad magic)");
	build_kernel(&im, 32);
	im.size = 3;
	expect_refusal(fx, &im, "not an ELF file (bad magic)");
}

static void test_truncated_headers(void **state)
{
	struct fixture *fx = *state;
	struct image im;

	build_kernel(&im, 64);
	im.size = 10;
	expect_refusal(fx, &im,
		       "truncated ELF: the file is 10 bytes, shorter than the ELF identification (16 bytes)");
	im.size = 63;
	expect_refusal(fx, &im, "truncated ELF: the file is 63 bytes, shorter than the ELF64 header (64 bytes)");
	build_kernel(&im, 32);
	im.size = 51;
	expect_refusal(fx, &im, "truncated ELF: the file is 51 bytes, shorter than the ELF32 header (52 bytes)");
}

static void test_bad_class_and_encoding(void **state)
{
	struct fixture *fx = *state;
	struct image im;

	build_kernel(&im, 32);
	im.bytes[4] = 3;
	expect_refusal(fx, &im, "unsupported ELF class 3 (expected 1 for ELF32 or 2 for ELF64)");
	im.bytes[4] = 0;
	expect_refusal(fx, &im, "unsupported ELF class 0 (expected 1 for ELF32 or 2 for ELF64)");
	build_kernel(&im, 32);
	im.bytes[5] = 2;
	expect_refusal(fx, &im, "unsupported ELF data encoding 2 (expected 1, little-endian)");
}

static void test_not_an_executable(void **state)
{
	struct fixture *fx = *state;
	struct image im;

	build_kernel(&im, 64);
	put_le(&im, 16, 3, 2);	/* ET_DYN */
	expect_refusal(fx, &im, "ELF type 3 is not ET_EXEC (2): only executables can be loaded");
	put_le(&im, 16, 1, 2);	/* ET_REL */
	expect_refusal(fx, &im, "ELF type 1 is not ET_EXEC (2): only executables can be loaded");
}

static void test_machine_must_match_class(void **state)
{
	struct fixture *fx = *state;
	struct image im;

	build_kernel(&im, 32);
	put_le(&im, 18, 62, 2);
	expect_refusal(fx, &im, "ELF32 machine 62 is not EM_386 (3)");
	build_kernel(&im, 64);
	put_le(&im, 18, 3, 2);
	expect_refusal(fx, &im, "ELF64 machine 3 is not EM_X86_64 (62)");
	put_le(&im, 18, 40, 2);	/* EM_ARM */
	expect_refusal(fx, &im, "ELF64 machine 40 is not EM_X86_64 (62)");
}

static void test_program_header_size_must_match_class(void **state)
{
	struct fixture *fx = *state;
	struct image im;

	build_kernel(&im, 32);
	put_le(&im, im.f->e_phentsize, 56, 2);
	expect_refusal(fx, &im, "program header entry size 56 does not match ELF32 (32)");
	build_kernel(&im, 64);
	put_le(&im, im.f->e_phentsize, 0, 2);
	expect_refusal(fx, &im, "program header entry size 0 does not match ELF64 (56)");
}

static void test_program_header_count(void **state)
{
	struct fixture *fx = *state;
	struct image im;

	build_kernel(&im, 32);
	put_le(&im, im.f->e_phnum, 0, 2);
	expect_refusal(fx, &im, "no program headers (e_phnum is 0)");
	put_le(&im, im.f->e_phnum, 0xffff, 2);
	expect_refusal(fx, &im, "extended program header numbering (e_phnum 0xffff) is not supported");
}

static void test_program_header_table_past_end(void **state)
{
	struct fixture *fx = *state;
	struct image im;

	/* Headers 0 and 1 fit, header 2 ends one byte past the end. */
	build_kernel(&im, 64);
	put_le(&im, im.f->e_phnum, 3, 2);
	put_addr(&im, im.f->e_phoff, im.size - 3 * 56 + 1);
	expect_refusal(fx, &im,
		       "truncated ELF: program header 2 lies past the end of the file (offset 0x37c9, size 0x3800)");
	build_kernel(&im, 32);
	put_addr(&im, im.f->e_phoff, im.size);
	expect_refusal(fx, &im,
		       "truncated ELF: program header 0 lies past the end of the file (offset 0x3800, size 0x3800)");
}

/* e_phoff + i * e_phentsize must not wrap around into the file. */
static void test_huge_phoff(void **state)
{
	struct fixture *fx = *state;
	struct image im;

	build_kernel(&im, 64);
	put_addr(&im, im.f->e_phoff, 0xffffffffffffffc8ull);	/* header 1 would wrap to 0 */
	expect_refusal(fx, &im,
		       "truncated ELF: program header 0 lies past the end of the file (offset 0xffffffffffffffc8, size 0x3800)");
	put_addr(&im, im.f->e_phoff, UINT64_MAX);
	expect_refusal_containing(fx, &im, "program header 0 lies past the end of the file");
	build_kernel(&im, 32);
	put_addr(&im, im.f->e_phoff, 0xffffffff);
	expect_refusal(fx, &im,
		       "truncated ELF: program header 0 lies past the end of the file (offset 0xffffffff, size 0x3800)");
}

static void test_no_multiboot_header(void **state)
{
	struct fixture *fx = *state;
	struct image im;

	build_kernel(&im, 32);
	memset(im.bytes + 0x1000, 0, 12);
	expect_refusal(fx, &im, "no multiboot 1 header in the first 8 KiB");
}

/* The standard ELF64 kernel with its multiboot header moved to off (the file grows to hold it). */
static void build_with_header_at(struct image *im, size_t off)
{
	build_kernel(im, 64);
	memset(im->bytes + 0x1000, 0, 12);
	put_mb_header(im, off, MB_HEADER_MEMORY_INFO);
}

static void test_multiboot_header_search_limit(void **state)
{
	struct fixture *fx = *state;
	struct image im;

	build_with_header_at(&im, 8188);
	assert_int_equal(load(fx, &im), 0);
	assert_int_equal(fx->res.multiboot_flags, MB_HEADER_MEMORY_INFO);
	build_with_header_at(&im, 8192);
	expect_refusal(fx, &im, "no multiboot 1 header in the first 8 KiB");
	build_with_header_at(&im, 0x1002);	/* not 4-byte aligned */
	expect_refusal(fx, &im, "no multiboot 1 header in the first 8 KiB");
}

/* A file ending inside the header at 8188: flags and checksum must be in the file too. */
static void test_multiboot_header_cut_by_end_of_file(void **state)
{
	struct fixture *fx = *state;
	const struct segment_spec text = { PT_LOAD, 0x1000, 0x100000, 0x100000, 8200 - 0x1000, 0x2000 };
	struct image im;

	image_init(&im, 64);
	add_segment(&im, &text);
	put_mb_header(&im, 8188, 0);
	set_entry(&im, 0x100000);
	assert_int_equal(im.size, 8200);
	im.size = 8188 + 11;
	expect_refusal(fx, &im, "no multiboot 1 header in the first 8 KiB");
	im.size = 8188 + 12;
	assert_int_equal(load(fx, &im), 0);
}

static void test_multiboot_bad_checksum(void **state)
{
	struct fixture *fx = *state;
	struct image im;

	build_kernel(&im, 32);
	im.bytes[0x1008]++;
	expect_refusal(fx, &im,
		       "the multiboot header at file offset 0x1000 has a bad checksum (magic + flags + checksum = 0x1, not 0)");
	/* A later valid header is still found. */
	put_mb_header(&im, 0x1800, MB_HEADER_PAGE_ALIGN);
	assert_int_equal(load(fx, &im), 0);
	assert_int_equal(fx->res.multiboot_flags, MB_HEADER_PAGE_ALIGN);
}

static void test_multiboot_unsupported_flags(void **state)
{
	struct fixture *fx = *state;
	struct image im;

	build_kernel(&im, 32);
	put_mb_header(&im, 0x1000, MB_HEADER_VIDEO_MODE);
	expect_refusal(fx, &im, "the multiboot header asks for unsupported features (flags 0x4: video mode)");
	put_mb_header(&im, 0x1000, 0x8027);
	expect_refusal(fx, &im,
		       "the multiboot header asks for unsupported features (flags 0x8024: video mode, bit 5, bit 15)");
	put_mb_header(&im, 0x1000, 0xfffc);
	expect_refusal_containing(fx, &im, "(flags 0xfffc: video mode, bit 3, bit 4,");
}

/* Bit 16 (a.out kludge) and the optional bits 17-31 are accepted and reported. */
static void test_multiboot_aout_kludge_and_optional_bits(void **state)
{
	struct fixture *fx = *state;
	struct image im;

	build_kernel(&im, 32);
	put_mb_header(&im, 0x1000, MB_HEADER_AOUT_KLUDGE | MB_HEADER_PAGE_ALIGN);
	assert_int_equal(load(fx, &im), 0);
	assert_int_equal(fx->res.multiboot_flags, 0x10001);
	assert_int_equal(fx->res.entry, 0x100010);
	put_mb_header(&im, 0x1000, 0xfffe0003);
	assert_int_equal(load(fx, &im), 0);
	assert_int_equal(fx->res.multiboot_flags, 0xfffe0003);
}

static void test_filesz_above_memsz(void **state)
{
	struct fixture *fx = *state;
	const struct segment_spec s = { PT_LOAD, 0x2000, 0x200000, 0x200000, 0x801, 0x800 };
	struct image im;

	build_kernel(&im, 32);
	add_segment(&im, &s);
	expect_refusal(fx, &im, "segment 2: file size 0x801 exceeds memory size 0x800");
}

static void test_segment_file_bytes_past_end(void **state)
{
	struct fixture *fx = *state;
	struct image im;

	const struct segment_spec one = { PT_LOAD, 0x3800, 0x200000, 0x200000, 1, 1 };
	struct image im2;

	build_kernel(&im, 32);
	im.size = 0x37ff;
	expect_refusal(fx, &im,
		       "truncated ELF: segment 1 file bytes [0x3000, 0x3800) lie past the end of the file (size 0x37ff)");
	/* One byte, at the end of the file. */
	build_kernel(&im2, 64);
	add_segment(&im2, &one);
	im2.size = 0x3800;
	expect_refusal(fx, &im2,
		       "truncated ELF: segment 2 file bytes [0x3800, 0x3801) lie past the end of the file (size 0x3800)");
}

/* p_offset + p_filesz wraps: in 64 bits for ELF64; ELF32 sums cannot wrap in 64 bits. */
static void test_segment_file_range_wraps(void **state)
{
	struct fixture *fx = *state;
	const struct segment_spec s64 = { PT_LOAD, 0xffffffffffffff00ull, 0x200000, 0x200000, 0x200, 0x200 };
	const struct segment_spec s32 = { PT_LOAD, 0xffffff00, 0x200000, 0x200000, 0x200, 0x200 };
	const struct segment_spec big = { PT_LOAD, 0x100, 0x200000, 0x200000, UINT64_MAX - 0x80, UINT64_MAX };
	struct image im;

	build_kernel(&im, 64);
	add_segment(&im, &s64);
	expect_refusal(fx, &im,
		       "truncated ELF: segment 2 file bytes [0xffffffffffffff00, 0xffffffffffffff00 + 0x200) lie past the end of the file (size 0x3800)");
	build_kernel(&im, 32);
	add_segment(&im, &s32);
	expect_refusal(fx, &im,
		       "truncated ELF: segment 2 file bytes [0xffffff00, 0x100000100) lie past the end of the file (size 0x3800)");
	/* A small offset with a size that wraps the sum. */
	build_kernel(&im, 64);
	add_segment(&im, &big);
	expect_refusal(fx, &im,
		       "truncated ELF: segment 2 file bytes [0x100, 0x100 + 0xffffffffffffff7f) lie past the end of the file (size 0x3800)");
}

static void test_segment_outside_ram(void **state)
{
	struct fixture *fx = *state;
	struct image im;

	build_kernel_at(&im, 32, 0x7fd000, 0x7fd000);
	expect_refusal(fx, &im, "segment 1 [0x7ff000, 0x802000) does not fit in guest RAM (8 MiB)");
	build_kernel_at(&im, 64, 0x100000000ull, 0x100000000ull);
	expect_refusal(fx, &im, "segment 0 [0x100000000, 0x100001800) does not fit in guest RAM (8 MiB)");
}

static void test_segment_address_range_wraps(void **state)
{
	struct fixture *fx = *state;
	const struct segment_spec s = { PT_LOAD, 0x1000, 0, 0xfffffffffffff000ull, 0, 0x2000 };
	const struct segment_spec huge = { PT_LOAD, 0x1000, 0, 0x1000, 0, UINT64_MAX };
	struct image im;

	build_kernel(&im, 64);
	add_segment(&im, &s);
	expect_refusal(fx, &im,
		       "segment 2 [0xfffffffffffff000, 0xfffffffffffff000 + 0x2000) does not fit in guest RAM (8 MiB)");
	build_kernel(&im, 64);
	add_segment(&im, &huge);
	expect_refusal(fx, &im,
		       "segment 2 [0x1000, 0x1000 + 0xffffffffffffffff) does not fit in guest RAM (8 MiB)");
}

static void test_segment_overlaps_reserved_hole(void **state)
{
	struct fixture *fx = *state;
	struct image im;

	build_kernel_at(&im, 32, 0x9f000, 0x9f000);
	expect_refusal(fx, &im,
		       "segment 0 [0x9f000, 0xa0800) overlaps reserved guest memory [0x9fc00, 0x100000)");
	build_kernel_at(&im, 32, 0xfe000, 0xfe000);
	expect_refusal(fx, &im,
		       "segment 0 [0xfe000, 0xff800) overlaps reserved guest memory [0x9fc00, 0x100000)");
}

/* The ELF has no PT_LOAD to take memory; the file still has a multiboot header. */
static void test_no_loadable_segment(void **state)
{
	struct fixture *fx = *state;
	const struct segment_spec note = { PT_NOTE, 0x1000, 0, 0, 0x10, 0x10 };
	const struct segment_spec empty = { PT_LOAD, 0x1000, 0x100000, 0x100000, 0, 0 };
	struct image im;

	image_init(&im, 32);
	add_segment(&im, &note);
	add_segment(&im, &empty);
	put_mb_header(&im, 0x1000, 0);
	expect_refusal(fx, &im, "no loadable segment (no PT_LOAD with a non-zero memory size)");
}

static void test_entry_outside_segments(void **state)
{
	struct fixture *fx = *state;
	struct image im;

	build_kernel(&im, 32);
	set_entry(&im, 0x101800);	/* the gap between text and data */
	expect_refusal(fx, &im, "entry point 0x101800 is not inside a loaded segment");
	set_entry(&im, 0x105000);	/* just past the bss */
	expect_refusal(fx, &im, "entry point 0x105000 is not inside a loaded segment");
	set_entry(&im, 0x104fff);	/* in the bss: allowed */
	assert_int_equal(load(fx, &im), 0);
	build_kernel_at(&im, 64, 0xffffffff80100000ull, 0x100000);
	set_entry(&im, 0xffffffff80200000ull);
	expect_refusal(fx, &im, "entry point 0xffffffff80200000 is not inside a loaded segment");
	/* Just past the text's virtual span: not translated through it. */
	build_kernel_at(&im, 32, 0xc0100000, 0x100000);
	set_entry(&im, 0xc0101800);
	expect_refusal(fx, &im, "entry point 0xc0101800 is not inside a loaded segment");
}

/*
 * A segment above 4 GiB needs RAM beyond it; the RAM claims 8 GiB but is
 * only a small buffer, which is safe because the loader refuses before
 * writing anything.
 */
static void test_entry_above_4gib(void **state)
{
	const struct segment_spec high = { PT_LOAD, 0x2000, 0x100000000ull, 0x100000000ull, 0x10, 0x10 };
	struct image im;
	struct elf_load_result res;
	uint8_t small[16];
	struct guest_ram ram = { small, 8ull << 30 };
	char err[120];

	(void)state;
	build_kernel(&im, 64);
	add_segment(&im, &high);
	set_entry(&im, 0x100000000ull);
	assert_int_equal(elf_load_multiboot(im.bytes, im.size, &ram, NULL, 0, &res, err, sizeof(err)), -1);
	assert_string_equal(err, "entry point 0x100000000 is not below 4 GiB (multiboot kernels start in 32-bit mode)");
}

/* A refusal late in the checks (the second segment) leaves the first unwritten too. */
static void test_refusal_writes_nothing(void **state)
{
	struct fixture *fx = *state;
	const struct segment_spec bad = { PT_LOAD, 0x2000, 0x7fffff, 0x7fffff, 0x10, 0x10 };
	struct image im;

	build_kernel(&im, 64);
	add_segment(&im, &bad);
	expect_refusal(fx, &im, "segment 2 [0x7fffff, 0x80000f) does not fit in guest RAM (8 MiB)");
}

static void test_ram_size_in_messages(void **state)
{
	struct fixture *fx = *state;
	struct image im;
	struct guest_ram ram = fx->ram;
	const uint64_t sizes[] = { 0x104400, 0x104001 };
	const char *want[] = {
		"segment 1 [0x102000, 0x105000) does not fit in guest RAM (1041 KiB)",
		"segment 1 [0x102000, 0x105000) does not fit in guest RAM (1064961 bytes)",
	};

	build_kernel(&im, 32);
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		ram.size = sizes[i];
		assert_int_equal(elf_load_multiboot(im.bytes, im.size, &ram, NULL, 0, &fx->res,
						    fx->err, sizeof(fx->err)), -1);
		assert_string_equal(fx->err, want[i]);
	}
}

static void test_small_or_absent_error_buffer(void **state)
{
	struct fixture *fx = *state;
	struct image im;
	char err[8];

	build_kernel(&im, 32);
	im.bytes[0] = 0;
	memset(err, '#', sizeof(err));
	assert_int_equal(elf_load_multiboot(im.bytes, im.size, &fx->ram, NULL, 0, &fx->res,
					    err, sizeof(err)), -1);
	assert_string_equal(err, "not an ");
	assert_int_equal(elf_load_multiboot(im.bytes, im.size, &fx->ram, NULL, 0, &fx->res, NULL, 0), -1);
	build_kernel(&im, 32);
	assert_int_equal(elf_load_multiboot(im.bytes, im.size, &fx->ram, NULL, 0, &fx->res, NULL, 0), 0);
}

/* Fuzzing: small RAM so that checking the canary each round stays cheap. */
#define FUZZ_RAM_SIZE	0x20000u
#define FUZZ_ROUNDS	20000

static uint64_t interesting_value(const struct image *im)
{
	static const uint64_t values[] = {
		0, 1, 0x1000, 0x3000, 0x37ff, 0x3800, 0x3801, 0x9fc00, 0xfffff, 0x100000,
		0x17800, 0x18fff, 0x1f000, 0x20000, 0x7fffffff, 0x80000000, 0xfffff000, 0xffffffff, 0x100000000ull,
		0xfffffffffffff000ull, UINT64_MAX, UINT64_MAX - 1,
	};

	switch (rng_below(4)) {
	case 0:
		return values[rng_below(ARRAY_SIZE(values))];
	case 1:
		return rng_below(im->size + 16);
	case 2:
		return 0x10000 + rng_below(0x10000);
	default:
		return rng_next() >> rng_below(64);
	}
}

static void mutate_header_field(struct image *im)
{
	const struct elf_fields *f = im->f;
	const size_t ehdr_fields[] = { f->e_entry, f->e_phoff };
	unsigned i = rng_below(im->phnum + 1);
	size_t p = phdr_off(im, i);
	const size_t phdr_fields[] = { f->p_offset, f->p_vaddr, f->p_paddr, f->p_filesz, f->p_memsz };

	switch (rng_below(4)) {
	case 0:
		put_addr(im, ehdr_fields[rng_below(2)], interesting_value(im));
		break;
	case 1:
		put_le(im, rng_below(2) ? f->e_phnum : f->e_phentsize, rng_below(8), 2);
		break;
	case 2:
		put_le(im, p, rng_below(3) ? PT_LOAD : rng_next(), 4);
		break;
	default:
		put_addr(im, p + phdr_fields[rng_below(ARRAY_SIZE(phdr_fields))], interesting_value(im));
		break;
	}
}

/* Mostly the headers, sometimes any byte; sometimes a new flags word with its checksum fixed. */
static void mutate(struct image *im)
{
	switch (rng_below(6)) {
	case 0:
		im->bytes[rng_below(0x100)] = (uint8_t)rng_next();
		break;
	case 1:
		if (im->size > 0)
			im->bytes[rng_below(im->size)] ^= (uint8_t)(1u << rng_below(8));
		break;
	case 2:
		put_mb_header(im, 0x1000, (uint32_t)rng_next() & (rng_below(2) ? 0xffff0003u : 0xffffffffu));
		break;
	case 3:
		im->size = rng_below(im->size + 1);
		break;
	default:
		mutate_header_field(im);
		break;
	}
}

/* Returns whether the image loaded; either way only [start, end) of a successful load changed. */
static bool fuzz_round(struct guest_ram *ram, const uint8_t *canary, const struct image *im)
{
	const struct phys_range forbidden[] = { { 0x9fc00, 0x100000 }, { 0x18000, 0x19000 } };
	struct elf_load_result res;
	char err[200];
	uint8_t *copy;
	int rc;

	copy = malloc(im->size ? im->size : 1);
	assert_non_null(copy);
	memcpy(copy, im->bytes, im->size);
	memset(err, '#', sizeof(err));
	rc = elf_load_multiboot(copy, im->size, ram, forbidden, ARRAY_SIZE(forbidden), &res,
				err, sizeof(err));
	free(copy);
	if (rc != 0) {
		assert_int_equal(rc, -1);
		assert_true(strlen(err) > 0 && strlen(err) < sizeof(err) - 1);
		assert_null(strchr(err, '\n'));
		assert_true(memcmp(ram->host, canary, FUZZ_RAM_SIZE) == 0);
		return false;
	}
	assert_string_equal(err, "");
	assert_true(res.start < res.end && res.end <= FUZZ_RAM_SIZE);
	assert_true(res.entry >= res.start && res.entry < res.end);
	assert_true(res.elf_class == im->f->cls);
	/* memcmp: cmocka's byte-by-byte assert_memory_equal is too slow for every round. */
	assert_true(memcmp(ram->host, canary, res.start) == 0);
	assert_true(memcmp(ram->host + res.end, canary + res.end, FUZZ_RAM_SIZE - res.end) == 0);
	memset(ram->host + res.start, CANARY, res.end - res.start);
	return true;
}

/* The four starting points: each class, linked low (identity) or high. */
static struct image fuzz_bases[4];

static void build_fuzz_bases(void)
{
	build_kernel_at(&fuzz_bases[0], 32, 0x10000, 0x10000);
	build_kernel_at(&fuzz_bases[1], 32, 0xc0010000, 0x10000);
	build_kernel_at(&fuzz_bases[2], 64, 0x10000, 0x10000);
	build_kernel_at(&fuzz_bases[3], 64, 0xffffffff80010000ull, 0x10000);
}

static void test_fuzz_corrupted_images(void **state)
{
	struct guest_ram ram = { malloc(FUZZ_RAM_SIZE), FUZZ_RAM_SIZE };
	uint8_t *canary = malloc(FUZZ_RAM_SIZE);
	struct image *im = malloc(sizeof(*im));
	unsigned loaded = 0;

	(void)state;
	assert_non_null(ram.host);
	assert_non_null(canary);
	assert_non_null(im);
	memset(ram.host, CANARY, FUZZ_RAM_SIZE);
	memset(canary, CANARY, FUZZ_RAM_SIZE);
	build_fuzz_bases();
	rng_seed(0x10adf11e);
	for (unsigned round = 0; round < FUZZ_ROUNDS; round++) {
		*im = fuzz_bases[rng_below(ARRAY_SIZE(fuzz_bases))];
		for (unsigned n = 1 + rng_below(4); n > 0; n--)
			mutate(im);
		loaded += fuzz_round(&ram, canary, im);
	}
	/* Both outcomes must be common, or the mutations test little. */
	assert_true(loaded > FUZZ_ROUNDS / 20);
	assert_true(loaded < FUZZ_ROUNDS - FUZZ_ROUNDS / 20);
	free(im);
	free(canary);
	free(ram.host);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_elf32_kernel_loads),
		cmocka_unit_test(test_elf64_kernel_loads),
		cmocka_unit_test(test_higher_half_entry_is_translated),
		cmocka_unit_test(test_physical_entry_is_kept),
		cmocka_unit_test(test_entry_in_second_segment),
		cmocka_unit_test(test_segments_out_of_order),
		cmocka_unit_test(test_other_segments_are_ignored),
		cmocka_unit_test(test_bss_only_segment),
		cmocka_unit_test(test_overlapping_segments_later_wins),
		cmocka_unit_test(test_segments_next_to_the_hole_and_ram_end),
		cmocka_unit_test(test_several_forbidden_ranges),
		cmocka_unit_test(test_bad_magic),
		cmocka_unit_test(test_truncated_headers),
		cmocka_unit_test(test_bad_class_and_encoding),
		cmocka_unit_test(test_not_an_executable),
		cmocka_unit_test(test_machine_must_match_class),
		cmocka_unit_test(test_program_header_size_must_match_class),
		cmocka_unit_test(test_program_header_count),
		cmocka_unit_test(test_program_header_table_past_end),
		cmocka_unit_test(test_huge_phoff),
		cmocka_unit_test(test_no_multiboot_header),
		cmocka_unit_test(test_multiboot_header_search_limit),
		cmocka_unit_test(test_multiboot_header_cut_by_end_of_file),
		cmocka_unit_test(test_multiboot_bad_checksum),
		cmocka_unit_test(test_multiboot_unsupported_flags),
		cmocka_unit_test(test_multiboot_aout_kludge_and_optional_bits),
		cmocka_unit_test(test_filesz_above_memsz),
		cmocka_unit_test(test_segment_file_bytes_past_end),
		cmocka_unit_test(test_segment_file_range_wraps),
		cmocka_unit_test(test_segment_outside_ram),
		cmocka_unit_test(test_segment_address_range_wraps),
		cmocka_unit_test(test_segment_overlaps_reserved_hole),
		cmocka_unit_test(test_no_loadable_segment),
		cmocka_unit_test(test_entry_outside_segments),
		cmocka_unit_test(test_entry_above_4gib),
		cmocka_unit_test(test_refusal_writes_nothing),
		cmocka_unit_test(test_ram_size_in_messages),
		cmocka_unit_test(test_small_or_absent_error_buffer),
		cmocka_unit_test(test_fuzz_corrupted_images),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
