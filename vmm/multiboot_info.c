/* Building the multiboot 1 information, memory map, strings and modules in guest RAM. */
#include <stdarg.h>
#include <stdbool.h>

#include "vmm/format.h"
#include "vmm/multiboot_info.h"
#include "vmm/string.h"

#define MBI_PAGE_SIZE		4096ull
#define FOUR_GIB		0x100000000ull
#define ONE_MIB			0x100000ull

/* Byte offsets from the page-aligned base; the layout is documented in the header. */
#define MBI_STRUCT_SIZE		116
#define MBI_MMAP_OFFSET		128
#define MBI_MMAP_ENTRY_SIZE	24
#define MBI_MMAP_LENGTH		(MB_INFO_MMAP_ENTRIES * MBI_MMAP_ENTRY_SIZE)
#define MBI_NAME_OFFSET		(MBI_MMAP_OFFSET + MBI_MMAP_LENGTH)
#define MBI_MODS_OFFSET		(MBI_NAME_OFFSET + sizeof(MB_INFO_LOADER_NAME))
#define MBI_MOD_ENTRY_SIZE	16

_Static_assert(MBI_STRUCT_SIZE <= MBI_MMAP_OFFSET, "the memory map follows the structure");
_Static_assert(MBI_MODS_OFFSET % 4 == 0, "module entries are 32-bit aligned");
_Static_assert(MBI_MODS_OFFSET == MB_INFO_MODS_OFFSET, "the header's module list offset");

/* multiboot_info field offsets (multiboot 1 specification, section 3.3). */
#define MBI_FLAGS		0
#define MBI_MEM_LOWER		4
#define MBI_MEM_UPPER		8
#define MBI_CMDLINE		16
#define MBI_MODS_COUNT		20
#define MBI_MODS_ADDR		24
#define MBI_MMAP_LENGTH_FIELD	44
#define MBI_MMAP_ADDR		48
#define MBI_LOADER_NAME		64

#define MBI_FLAGS_SET (MB_INFO_FLAG_MEM | MB_INFO_FLAG_CMDLINE | MB_INFO_FLAG_MODS | \
		       MB_INFO_FLAG_MMAP | MB_INFO_FLAG_LOADER_NAME)

#define MBI_MEM_LOWER_KIB	(MB_GUEST_LOW_RESERVED_START / 1024)	/* 639 */

/*
 * Where everything goes.  Sums saturate at UINT64_MAX, which is never page
 * aligned, so end == UINT64_MAX means the layout overflowed.
 */
struct mbi_layout {
	uint64_t base;		/* the multiboot_info structure; page aligned */
	uint64_t strings;	/* the kernel command line, then the modules' */
	uint64_t modules;	/* the first module; page aligned */
	uint64_t end;		/* page aligned */
	uint64_t top;		/* the highest address value stored in a field */
};

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
	return a != 0 && b > UINT64_MAX / a ? UINT64_MAX : a * b;
}

static uint64_t page_up(uint64_t a)
{
	if (a > UINT64_MAX - (MBI_PAGE_SIZE - 1))
		return UINT64_MAX;
	return (a + MBI_PAGE_SIZE - 1) & ~(MBI_PAGE_SIZE - 1);
}

static const char *string_or_empty(const char *s)
{
	return s ? s : "";
}

static uint64_t string_size(const char *s)
{
	return strlen(string_or_empty(s)) + 1;
}

/* Modules follow one another, each on its own page boundary. */
static uint64_t next_module_start(uint64_t mod_start, size_t size)
{
	return page_up(sat_add(mod_start, size));
}

static void plan_layout(uint64_t start, const char *cmdline, const struct mb_module_spec *mods,
			size_t nmods, struct mbi_layout *lay)
{
	uint64_t strings_end, addr;
	size_t i;

	lay->base = page_up(start);
	lay->strings = sat_add(lay->base, sat_add(MBI_MODS_OFFSET, sat_mul(nmods, MBI_MOD_ENTRY_SIZE)));
	strings_end = sat_add(lay->strings, string_size(cmdline));
	for (i = 0; i < nmods; i++)
		strings_end = sat_add(strings_end, string_size(mods[i].cmdline));
	lay->modules = page_up(strings_end);
	lay->top = strings_end;
	addr = lay->modules;
	for (i = 0; i < nmods; i++) {
		lay->top = sat_add(addr, mods[i].size);	/* this module's mod_end */
		addr = next_module_start(addr, mods[i].size);
	}
	lay->end = addr;
}

/*
 * The info itself fits but [lay->base, lay->end) does not: names the first
 * module that ends past guest RAM, since that is what the user must shrink.
 */
static int module_does_not_fit(const struct guest_ram *ram, const struct mbi_layout *lay,
			       const struct mb_module_spec *mods, size_t nmods, char *err, size_t errlen)
{
	uint64_t addr = lay->modules;
	size_t i;

	for (i = 0; i < nmods; i++) {
		if (!guest_ram_contains(ram, addr, mods[i].size))
			return fail(err, errlen, "multiboot module %zu '%s' does not fit in guest RAM: %zu bytes from %#llx, but RAM ends at %#llx",
				    i, string_or_empty(mods[i].cmdline), mods[i].size,
				    (unsigned long long)addr, (unsigned long long)ram->size);
		addr = next_module_start(addr, mods[i].size);
	}
	/* Only the page padding after the last module is past the end. */
	return fail(err, errlen, "multiboot info does not fit in guest RAM: needs [%#llx, %#llx) but RAM ends at %#llx",
		    (unsigned long long)lay->base, (unsigned long long)lay->end,
		    (unsigned long long)ram->size);
}

static int check_layout(const struct guest_ram *ram, const struct mbi_layout *lay,
			const struct mb_module_spec *mods, size_t nmods, char *err, size_t errlen)
{
	bool info_fits = lay->modules != UINT64_MAX &&
			 guest_ram_contains(ram, lay->base, lay->modules - lay->base);

	if (info_fits && (lay->end == UINT64_MAX ||
			  !guest_ram_contains(ram, lay->base, lay->end - lay->base)))
		return module_does_not_fit(ram, lay, mods, nmods, err, errlen);
	if (lay->end == UINT64_MAX)
		return fail(err, errlen, "multiboot info does not fit in guest RAM: needs more than 2^64 bytes from %#llx",
			    (unsigned long long)lay->base);
	if (!guest_ram_contains(ram, lay->base, lay->end - lay->base))
		return fail(err, errlen, "multiboot info does not fit in guest RAM: needs [%#llx, %#llx) but RAM ends at %#llx",
			    (unsigned long long)lay->base, (unsigned long long)lay->end,
			    (unsigned long long)ram->size);
	/* Every address lies below end, except a last mod_end that may equal it. */
	if (lay->end > FOUR_GIB || lay->top >= FOUR_GIB)
		return fail(err, errlen, "multiboot info does not fit below 4 GiB: needs [%#llx, %#llx)",
			    (unsigned long long)lay->base, (unsigned long long)lay->end);
	if (lay->base < MB_GUEST_LOW_RESERVED_END && lay->end > MB_GUEST_LOW_RESERVED_START)
		return fail(err, errlen, "multiboot info [%#llx, %#llx) overlaps reserved guest memory [%#llx, %#llx)",
			    (unsigned long long)lay->base, (unsigned long long)lay->end,
			    MB_GUEST_LOW_RESERVED_START, MB_GUEST_LOW_RESERVED_END);
	return 0;
}

/* Little-endian stores at any alignment into checked guest RAM. */
static void put_le(const struct guest_ram *ram, uint64_t gpa, uint64_t v, unsigned n)
{
	uint8_t *p = ram->host + (size_t)gpa;

	while (n--) {
		*p++ = (uint8_t)v;
		v >>= 8;
	}
}

static void put32(const struct guest_ram *ram, uint64_t gpa, uint64_t v)
{
	put_le(ram, gpa, v, 4);
}

static void put64(const struct guest_ram *ram, uint64_t gpa, uint64_t v)
{
	put_le(ram, gpa, v, 8);
}

static void zero(const struct guest_ram *ram, uint64_t gpa, uint64_t len)
{
	memset(ram->host + (size_t)gpa, 0, (size_t)len);
}

/* Copies the NUL-terminated s (NULL meaning "") and returns the address after it. */
static uint64_t put_string(const struct guest_ram *ram, uint64_t gpa, const char *s)
{
	uint64_t n = string_size(s);

	memcpy(ram->host + (size_t)gpa, string_or_empty(s), (size_t)n);
	return gpa + n;
}

static uint32_t mem_upper_kib(uint64_t ram_size)
{
	uint64_t kib = (ram_size - ONE_MIB) / 1024;

	return kib > UINT32_MAX ? UINT32_MAX : (uint32_t)kib;
}

static void put_mmap(const struct guest_ram *ram, uint64_t gpa)
{
	const struct mem_region map[MB_INFO_MMAP_ENTRIES] = {
		{ 0, MB_GUEST_LOW_RESERVED_START, MEM_USABLE },
		{ MB_GUEST_LOW_RESERVED_START, 0xa0000 - MB_GUEST_LOW_RESERVED_START, MEM_RESERVED },
		{ 0xf0000, MB_GUEST_LOW_RESERVED_END - 0xf0000, MEM_RESERVED },
		{ MB_GUEST_LOW_RESERVED_END, ram->size - MB_GUEST_LOW_RESERVED_END, MEM_USABLE },
	};
	size_t i;

	for (i = 0; i < MB_INFO_MMAP_ENTRIES; i++, gpa += MBI_MMAP_ENTRY_SIZE) {
		put32(ram, gpa, MBI_MMAP_ENTRY_SIZE - 4);	/* size counts the bytes after itself */
		put64(ram, gpa + 4, map[i].base);
		put64(ram, gpa + 12, map[i].length);
		put32(ram, gpa + 20, map[i].type);
	}
}

static void put_info_struct(const struct guest_ram *ram, const struct mbi_layout *lay, size_t nmods)
{
	uint64_t b = lay->base;

	put32(ram, b + MBI_FLAGS, MBI_FLAGS_SET);
	put32(ram, b + MBI_MEM_LOWER, MBI_MEM_LOWER_KIB);
	put32(ram, b + MBI_MEM_UPPER, mem_upper_kib(ram->size));
	put32(ram, b + MBI_CMDLINE, lay->strings);
	put32(ram, b + MBI_MODS_COUNT, nmods);
	put32(ram, b + MBI_MODS_ADDR, b + MBI_MODS_OFFSET);
	put32(ram, b + MBI_MMAP_LENGTH_FIELD, MBI_MMAP_LENGTH);
	put32(ram, b + MBI_MMAP_ADDR, b + MBI_MMAP_OFFSET);
	put32(ram, b + MBI_LOADER_NAME, b + MBI_NAME_OFFSET);
}

/* The module list, the modules' strings after the kernel's, and the modules with their page padding. */
static void put_modules(const struct guest_ram *ram, const struct mbi_layout *lay,
			uint64_t string_gpa, const struct mb_module_spec *mods, size_t nmods)
{
	uint64_t entry = lay->base + MBI_MODS_OFFSET;
	uint64_t addr = lay->modules;
	size_t i;

	for (i = 0; i < nmods; i++, entry += MBI_MOD_ENTRY_SIZE) {
		uint64_t mod_end = addr + mods[i].size;
		uint64_t next = next_module_start(addr, mods[i].size);

		put32(ram, entry, addr);
		put32(ram, entry + 4, mod_end);
		put32(ram, entry + 8, string_gpa);
		put32(ram, entry + 12, 0);
		string_gpa = put_string(ram, string_gpa, mods[i].cmdline);
		if (mods[i].size > 0)
			memcpy(ram->host + (size_t)addr, mods[i].data, mods[i].size);
		zero(ram, mod_end, next - mod_end);
		addr = next;
	}
}

int multiboot_info_build(const struct guest_ram *ram, uint64_t start, const char *cmdline,
			 const struct mb_module_spec *mods, size_t nmods,
			 uint64_t *mbi_gpa, uint64_t *end, char *err, size_t errlen)
{
	struct mbi_layout lay;
	uint64_t string_gpa;

	if (errlen > 0)
		err[0] = '\0';
	if (ram->size < MB_INFO_MIN_RAM)
		return fail(err, errlen, "guest RAM of %#llx bytes is too small for a multiboot guest (at least 2 MiB)",
			    (unsigned long long)ram->size);
	plan_layout(start, cmdline, mods, nmods, &lay);
	if (check_layout(ram, &lay, mods, nmods, err, errlen))
		return -1;

	/* The info area, gaps included, is zeroed first; the fields go on top. */
	zero(ram, lay.base, lay.modules - lay.base);
	put_info_struct(ram, &lay, nmods);
	put_mmap(ram, lay.base + MBI_MMAP_OFFSET);
	put_string(ram, lay.base + MBI_NAME_OFFSET, MB_INFO_LOADER_NAME);
	string_gpa = put_string(ram, lay.strings, cmdline);
	put_modules(ram, &lay, string_gpa, mods, nmods);

	*mbi_gpa = lay.base;
	*end = lay.end;
	return 0;
}
