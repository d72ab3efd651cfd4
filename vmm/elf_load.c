/* The multiboot ELF loader: check every header and segment against the file and guest RAM, then copy. */
#include <stdarg.h>
#include <stdbool.h>

#include "vmm/elf_load.h"
#include "vmm/format.h"
#include "vmm/string.h"

/* The parts of the ELF format the loader reads (System V gABI, x86 psABIs). */
#define ELF_IDENT_SIZE		16
#define ELF_IDENT_CLASS		4
#define ELF_IDENT_DATA		5
#define ELF_CLASS_32		1
#define ELF_CLASS_64		2
#define ELF_DATA_LSB		1
#define ELF_TYPE_EXEC		2
#define ELF_MACHINE_386		3
#define ELF_MACHINE_X86_64	62
#define ELF_PT_LOAD		1
#define ELF_PN_XNUM		0xffff	/* the real count hides in section header 0 */

#define ELF32_EHDR_SIZE		52
#define ELF64_EHDR_SIZE		64
#define ELF32_PHDR_SIZE		32
#define ELF64_PHDR_SIZE		56

/* magic, flags, checksum: the part of the multiboot header every kernel has. */
#define MB_HEADER_MIN_SIZE	12
#define MB_HEADER_REQUIRED_MASK	0xffffu
#define MB_HEADER_SUPPORTED	(MB_HEADER_PAGE_ALIGN | MB_HEADER_MEMORY_INFO | MB_HEADER_AOUT_KLUDGE)

#define FOUR_GIB		0x100000000ull

/* The ELF header fields the loader uses, the same for both classes. */
struct elf_header {
	unsigned elf_class;	/* 32 or 64 */
	unsigned type;
	unsigned machine;
	uint64_t entry;
	uint64_t phoff;
	unsigned phentsize;
	unsigned phnum;
};

/* One program header, widened to 64 bits. */
struct elf_segment {
	uint32_t type;
	uint64_t offset;
	uint64_t vaddr;
	uint64_t paddr;
	uint64_t filesz;
	uint64_t memsz;
};

/* Everything one load needs; eh is valid once parse_elf_header() succeeded. */
struct loader {
	const uint8_t *file;
	size_t size;
	const struct guest_ram *ram;
	const struct phys_range *forbidden;
	size_t nforbidden;
	char *err;
	size_t errlen;
	struct elf_header eh;
};

/* Room for "[0x<16 digits>, 0x<16 digits> + 0x<16 digits>)" and its NUL. */
#define RANGE_STR_SIZE	72

__attribute__((format(printf, 2, 3)))
static int fail(struct loader *ld, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(ld->err, ld->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Little-endian fields at any alignment; the caller has checked that n bytes at p are in the file. */
static uint64_t read_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	while (n--)
		v = (v << 8) | p[n];
	return v;
}

static uint16_t read16(const uint8_t *p)
{
	return (uint16_t)read_le(p, 2);
}

static uint32_t read32(const uint8_t *p)
{
	return (uint32_t)read_le(p, 4);
}

static uint64_t read64(const uint8_t *p)
{
	return read_le(p, 8);
}

/* True when [off, off + len) lies in a buffer of size bytes; no sum can wrap. */
static bool in_bounds(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

static bool ranges_overlap(uint64_t a_start, uint64_t a_len, uint64_t b_start, uint64_t b_end)
{
	/* a is inside guest RAM here, so a_start + a_len does not wrap. */
	return a_len > 0 && b_start < b_end && a_start < b_end && b_start < a_start + a_len;
}

/* "[start, end)", or "[start, start + len)" when the end would pass 2^64. */
static const char *range_str(char *buf, uint64_t start, uint64_t len)
{
	if (len > UINT64_MAX - start)
		fmt_snprintf(buf, RANGE_STR_SIZE, "[%#llx, %#llx + %#llx)",
			     (unsigned long long)start, (unsigned long long)start,
			     (unsigned long long)len);
	else
		fmt_snprintf(buf, RANGE_STR_SIZE, "[%#llx, %#llx)",
			     (unsigned long long)start, (unsigned long long)(start + len));
	return buf;
}

/* "128 MiB", "640 KiB" or "1000 bytes": the largest unit that divides the size. */
static const char *size_str(char *buf, size_t bufsize, uint64_t bytes)
{
	if (bytes != 0 && bytes % (1024 * 1024) == 0)
		fmt_snprintf(buf, bufsize, "%llu MiB", (unsigned long long)(bytes >> 20));
	else if (bytes != 0 && bytes % 1024 == 0)
		fmt_snprintf(buf, bufsize, "%llu KiB", (unsigned long long)(bytes >> 10));
	else
		fmt_snprintf(buf, bufsize, "%llu bytes", (unsigned long long)bytes);
	return buf;
}

static int check_ident(struct loader *ld)
{
	static const uint8_t magic[4] = { 0x7f, 'E', 'L', 'F' };
	const uint8_t *id = ld->file;

	if (ld->size < sizeof(magic) || memcmp(id, magic, sizeof(magic)) != 0)
		return fail(ld, "not an ELF file (bad magic)");
	if (ld->size < ELF_IDENT_SIZE)
		return fail(ld, "truncated ELF: the file is %zu bytes, shorter than the ELF identification (%u bytes)",
			    ld->size, ELF_IDENT_SIZE);
	if (id[ELF_IDENT_CLASS] != ELF_CLASS_32 && id[ELF_IDENT_CLASS] != ELF_CLASS_64)
		return fail(ld, "unsupported ELF class %u (expected 1 for ELF32 or 2 for ELF64)",
			    id[ELF_IDENT_CLASS]);
	if (id[ELF_IDENT_DATA] != ELF_DATA_LSB)
		return fail(ld, "unsupported ELF data encoding %u (expected 1, little-endian)",
			    id[ELF_IDENT_DATA]);
	return 0;
}

/* Reads the class-specific header into ld->eh; check_ident() has passed. */
static int read_elf_header(struct loader *ld)
{
	const uint8_t *h = ld->file;
	struct elf_header *eh = &ld->eh;
	bool is64 = h[ELF_IDENT_CLASS] == ELF_CLASS_64;
	size_t need = is64 ? ELF64_EHDR_SIZE : ELF32_EHDR_SIZE;

	eh->elf_class = is64 ? 64 : 32;
	if (ld->size < need)
		return fail(ld, "truncated ELF: the file is %zu bytes, shorter than the ELF%u header (%zu bytes)",
			    ld->size, eh->elf_class, need);
	eh->type = read16(h + 16);
	eh->machine = read16(h + 18);
	if (is64) {
		eh->entry = read64(h + 24);
		eh->phoff = read64(h + 32);
		eh->phentsize = read16(h + 54);
		eh->phnum = read16(h + 56);
	} else {
		eh->entry = read32(h + 24);
		eh->phoff = read32(h + 28);
		eh->phentsize = read16(h + 42);
		eh->phnum = read16(h + 44);
	}
	return 0;
}

static int parse_elf_header(struct loader *ld)
{
	const struct elf_header *eh = &ld->eh;
	unsigned want_machine, want_phentsize;

	if (check_ident(ld) || read_elf_header(ld))
		return -1;
	want_machine = eh->elf_class == 64 ? ELF_MACHINE_X86_64 : ELF_MACHINE_386;
	want_phentsize = eh->elf_class == 64 ? ELF64_PHDR_SIZE : ELF32_PHDR_SIZE;
	if (eh->type != ELF_TYPE_EXEC)
		return fail(ld, "ELF type %u is not ET_EXEC (2): only executables can be loaded", eh->type);
	if (eh->machine != want_machine)
		return fail(ld, "ELF%u machine %u is not %s (%u)", eh->elf_class, eh->machine,
			    eh->elf_class == 64 ? "EM_X86_64" : "EM_386", want_machine);
	if (eh->phentsize != want_phentsize)
		return fail(ld, "program header entry size %u does not match ELF%u (%u)",
			    eh->phentsize, eh->elf_class, want_phentsize);
	if (eh->phnum == 0)
		return fail(ld, "no program headers (e_phnum is 0)");
	if (eh->phnum == ELF_PN_XNUM)
		return fail(ld, "extended program header numbering (e_phnum 0xffff) is not supported");
	return 0;
}

/* i * phentsize stays below 2^16 * 56, so only the addition to phoff can wrap. */
static uint64_t phdr_offset(const struct elf_header *eh, unsigned i)
{
	return eh->phoff + (uint64_t)i * eh->phentsize;
}

/* The whole table is checked once up front, so read_segment() needs no checks. */
static int check_phdr_table(struct loader *ld)
{
	const struct elf_header *eh = &ld->eh;
	unsigned i;

	for (i = 0; i < eh->phnum; i++) {
		uint64_t rel = (uint64_t)i * eh->phentsize;

		if (eh->phoff > ld->size || !in_bounds(rel, eh->phentsize, ld->size - eh->phoff))
			return fail(ld, "truncated ELF: program header %u lies past the end of the file (offset %#llx, size %#zx)",
				    i, (unsigned long long)phdr_offset(eh, i), ld->size);
	}
	return 0;
}

static void read_segment(const struct loader *ld, unsigned i, struct elf_segment *seg)
{
	const uint8_t *p = ld->file + phdr_offset(&ld->eh, i);

	seg->type = read32(p);
	if (ld->eh.elf_class == 64) {
		seg->offset = read64(p + 8);
		seg->vaddr = read64(p + 16);
		seg->paddr = read64(p + 24);
		seg->filesz = read64(p + 32);
		seg->memsz = read64(p + 40);
	} else {
		seg->offset = read32(p + 4);
		seg->vaddr = read32(p + 8);
		seg->paddr = read32(p + 12);
		seg->filesz = read32(p + 16);
		seg->memsz = read32(p + 20);
	}
}

/* The segments that take guest memory; all others are ignored. */
static bool segment_is_loaded(const struct elf_segment *seg)
{
	return seg->type == ELF_PT_LOAD && seg->memsz > 0;
}

/* Returns 0 when a loaded segment may be written to guest RAM as it stands. */
static int check_segment(struct loader *ld, unsigned i, const struct elf_segment *seg)
{
	char range[RANGE_STR_SIZE], ram_size[32];
	size_t f;

	if (seg->filesz > seg->memsz)
		return fail(ld, "segment %u: file size %#llx exceeds memory size %#llx", i,
			    (unsigned long long)seg->filesz, (unsigned long long)seg->memsz);
	/* An empty file part reads nothing, so its offset does not matter. */
	if (seg->filesz > 0 && !in_bounds(seg->offset, seg->filesz, ld->size))
		return fail(ld, "truncated ELF: segment %u file bytes %s lie past the end of the file (size %#zx)",
			    i, range_str(range, seg->offset, seg->filesz), ld->size);
	if (!guest_ram_contains(ld->ram, seg->paddr, seg->memsz))
		return fail(ld, "segment %u %s does not fit in guest RAM (%s)", i,
			    range_str(range, seg->paddr, seg->memsz),
			    size_str(ram_size, sizeof(ram_size), ld->ram->size));
	for (f = 0; f < ld->nforbidden; f++) {
		const struct phys_range *r = &ld->forbidden[f];

		if (ranges_overlap(seg->paddr, seg->memsz, r->start, r->end))
			return fail(ld, "segment %u %s overlaps reserved guest memory [%#llx, %#llx)", i,
				    range_str(range, seg->paddr, seg->memsz),
				    (unsigned long long)r->start, (unsigned long long)r->end);
	}
	return 0;
}

/* "video mode" or "bit N" for each bit of bits, separated by ", ". */
static const char *feature_names(char *buf, size_t bufsize, uint32_t bits)
{
	size_t len = 0;
	unsigned bit;

	buf[0] = '\0';
	for (bit = 0; bit < 32; bit++) {
		int n;

		if (!(bits & (1u << bit)))
			continue;
		if ((1u << bit) == MB_HEADER_VIDEO_MODE)
			n = fmt_snprintf(buf + len, bufsize - len, "%svideo mode", len ? ", " : "");
		else
			n = fmt_snprintf(buf + len, bufsize - len, "%sbit %u", len ? ", " : "", bit);
		if (n < 0 || (size_t)n >= bufsize - len)
			break;	/* cut: the message stays terminated */
		len += n;
	}
	return buf;
}

/*
 * Finds the first valid multiboot header: the magic at a 4-byte-aligned
 * offset below MB_HEADER_SEARCH with flags and checksum after it in the
 * file.  A magic with a bad checksum may just be data, so the search goes
 * on; it is only reported when nothing valid follows.
 */
static int find_multiboot_header(struct loader *ld, uint32_t *flags)
{
	bool bad_seen = false;
	size_t bad_off = 0;
	uint32_t bad_sum = 0;
	size_t off;

	for (off = 0; off < MB_HEADER_SEARCH && in_bounds(off, MB_HEADER_MIN_SIZE, ld->size); off += 4) {
		const uint8_t *p = ld->file + off;
		uint32_t f, sum;

		if (read32(p) != MB_HEADER_MAGIC)
			continue;
		f = read32(p + 4);
		sum = MB_HEADER_MAGIC + f + read32(p + 8);
		if (sum == 0) {
			*flags = f;
			return 0;
		}
		if (!bad_seen) {
			bad_seen = true;
			bad_off = off;
			bad_sum = sum;
		}
	}
	if (bad_seen)
		return fail(ld, "the multiboot header at file offset %#zx has a bad checksum (magic + flags + checksum = %#x, not 0)",
			    bad_off, bad_sum);
	return fail(ld, "no multiboot 1 header in the first 8 KiB");
}

static int check_multiboot_flags(struct loader *ld, uint32_t flags)
{
	uint32_t unsupported = flags & MB_HEADER_REQUIRED_MASK & ~MB_HEADER_SUPPORTED;
	char names[160];

	if (unsupported)
		return fail(ld, "the multiboot header asks for unsupported features (flags %#x: %s)",
			    unsupported, feature_names(names, sizeof(names), unsupported));
	return 0;
}

/* Checks every loaded segment and records the span they cover in out. */
static int check_segments(struct loader *ld, struct elf_load_result *out)
{
	unsigned i, loaded = 0;

	out->start = UINT64_MAX;
	out->end = 0;
	for (i = 0; i < ld->eh.phnum; i++) {
		struct elf_segment seg;

		read_segment(ld, i, &seg);
		if (!segment_is_loaded(&seg))
			continue;
		if (check_segment(ld, i, &seg))
			return -1;
		loaded++;
		if (seg.paddr < out->start)
			out->start = seg.paddr;
		if (seg.paddr + seg.memsz > out->end)
			out->end = seg.paddr + seg.memsz;
	}
	if (loaded == 0)
		return fail(ld, "no loadable segment (no PT_LOAD with a non-zero memory size)");
	return 0;
}

/* True when the guest-physical address lies in some loaded segment. */
static bool is_in_loaded_segment(const struct loader *ld, uint64_t gpa)
{
	unsigned i;

	for (i = 0; i < ld->eh.phnum; i++) {
		struct elf_segment seg;

		read_segment(ld, i, &seg);
		if (segment_is_loaded(&seg) && gpa >= seg.paddr && gpa - seg.paddr < seg.memsz)
			return true;
	}
	return false;
}

/*
 * Kernels linked at a high virtual address but loaded low give e_entry as
 * a virtual address: map it through the first segment whose virtual span
 * contains it.  Otherwise e_entry is taken as physical already.
 */
static uint64_t entry_to_physical(const struct loader *ld)
{
	uint64_t entry = ld->eh.entry;
	unsigned i;

	for (i = 0; i < ld->eh.phnum; i++) {
		struct elf_segment seg;

		read_segment(ld, i, &seg);
		if (segment_is_loaded(&seg) && entry >= seg.vaddr && entry - seg.vaddr < seg.memsz)
			return seg.paddr + (entry - seg.vaddr);	/* inside guest RAM: no wrap */
	}
	return entry;
}

static int resolve_entry(struct loader *ld, uint64_t *entry)
{
	uint64_t gpa = entry_to_physical(ld);

	if (!is_in_loaded_segment(ld, gpa))
		return fail(ld, "entry point %#llx is not inside a loaded segment", (unsigned long long)gpa);
	if (gpa >= FOUR_GIB)
		return fail(ld, "entry point %#llx is not below 4 GiB (multiboot kernels start in 32-bit mode)",
			    (unsigned long long)gpa);
	*entry = gpa;
	return 0;
}

/*
 * Writes the loaded segments.  Each program header is read and checked
 * again right before its copy, so the bounds hold even if the file has
 * changed since check_segments().
 */
static int copy_segments(struct loader *ld)
{
	unsigned i;

	for (i = 0; i < ld->eh.phnum; i++) {
		struct elf_segment seg;
		uint8_t *dst;

		read_segment(ld, i, &seg);
		if (!segment_is_loaded(&seg))
			continue;
		if (check_segment(ld, i, &seg))
			return -1;
		dst = ld->ram->host + (size_t)seg.paddr;
		if (seg.filesz > 0)
			memcpy(dst, ld->file + (size_t)seg.offset, (size_t)seg.filesz);
		memset(dst + (size_t)seg.filesz, 0, (size_t)(seg.memsz - seg.filesz));
	}
	return 0;
}

int elf_load_multiboot(const void *file, size_t size, const struct guest_ram *ram,
		       const struct phys_range *forbidden, size_t nforbidden,
		       struct elf_load_result *out, char *err, size_t errlen)
{
	struct loader ld = {
		.file = file, .size = size, .ram = ram,
		.forbidden = forbidden, .nforbidden = nforbidden,
		.err = err, .errlen = errlen,
	};
	struct elf_load_result res;

	if (errlen > 0)
		err[0] = '\0';
	if (parse_elf_header(&ld) || check_phdr_table(&ld))
		return -1;
	if (find_multiboot_header(&ld, &res.multiboot_flags) ||
	    check_multiboot_flags(&ld, res.multiboot_flags))
		return -1;
	if (check_segments(&ld, &res) || resolve_entry(&ld, &res.entry))
		return -1;
	if (copy_segments(&ld))
		return -1;
	res.elf_class = ld.eh.elf_class;
	*out = res;
	return 0;
}
