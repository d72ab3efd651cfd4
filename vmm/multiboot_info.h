/* The multiboot 1 information the VMM, as the guest's boot loader, builds in guest RAM. */
#ifndef VMM_MULTIBOOT_INFO_H
#define VMM_MULTIBOOT_INFO_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/guest_ram.h"
#include "vmm/memmap.h"

/* EAX at the kernel's entry. */
#define MB_LOADER_MAGIC		0x2BADB002u

/*
 * The guest's low reserved hole: the EBDA at the top of conventional
 * memory, the VGA window and the BIOS area.  The memory map calls
 * [0x9fc00, 0xa0000) and [0xf0000, 0x100000) reserved and leaves
 * [0xa0000, 0xf0000) out; nothing is loaded anywhere in the hole.
 */
#define MB_GUEST_LOW_RESERVED_START	0x9fc00ull
#define MB_GUEST_LOW_RESERVED_END	0x100000ull

/* multiboot_info.flags bits the builder sets. */
#define MB_INFO_FLAG_MEM		(1u << 0)	/* mem_lower, mem_upper */
#define MB_INFO_FLAG_CMDLINE		(1u << 2)
#define MB_INFO_FLAG_MODS		(1u << 3)	/* set even with no modules */
#define MB_INFO_FLAG_MMAP		(1u << 6)
#define MB_INFO_FLAG_LOADER_NAME	(1u << 9)

#define MB_INFO_LOADER_NAME	"vmm"
#define MB_INFO_MMAP_ENTRIES	4	/* see multiboot_info_build() */
#define MB_INFO_MIN_RAM		0x200000ull
/* Where the module list starts, from the multiboot_info structure (see below). */
#define MB_INFO_MODS_OFFSET	228

static inline uint64_t multiboot_reserved_low_start(void)
{
	return MB_GUEST_LOW_RESERVED_START;
}

/* The hole as a range to pass to elf_load_multiboot() as forbidden. */
static inline struct phys_range multiboot_reserved_low_range(void)
{
	struct phys_range r = { MB_GUEST_LOW_RESERVED_START, MB_GUEST_LOW_RESERVED_END };

	return r;
}

/* One boot module: size bytes at data (may be NULL when size is 0) and its string (NULL means ""). */
struct mb_module_spec {
	const void *data;
	size_t size;
	const char *cmdline;
};

/*
 * Builds the multiboot information for a guest whose RAM is ram, from
 * start (rounded up to 4 KiB; typically the end of the loaded kernel)
 * upwards, laid out as follows, A being the rounded start:
 *
 *   A + 0      the multiboot_info structure, 116 bytes (all fields up to
 *              the framebuffer ones; those the flags do not name are 0)
 *   A + 128    the memory map: 4 entries of 24 bytes (u32 size = 20,
 *              u64 base, u64 length, u32 type), mmap_length = 96
 *   A + 224    the boot loader name, "vmm"
 *   A + 228    the module list: nmods entries of 16 bytes (u32 mod_start,
 *              u32 mod_end (exclusive), u32 string, u32 0); mods_addr
 *              points here even when nmods is 0
 *   then       the strings, each NUL-terminated: the kernel command line
 *              (NULL means ""), then each module's, in order
 *   then       from the next 4 KiB boundary, each module's bytes at its
 *              own 4 KiB-aligned address, in order (a 0-byte module takes
 *              no room: mod_start == mod_end == where the next begins)
 *
 * Everything in [A, *end) is written, gaps as zeros, and *end is the 4 KiB
 * boundary after the last byte.  flags = MEM | CMDLINE | MODS | MMAP |
 * LOADER_NAME.  For RAM of size S the memory map is exactly
 *   [0, 0x9fc00) usable, [0x9fc00, 0xa0000) reserved,
 *   [0xf0000, 0x100000) reserved, [0x100000, S) usable,
 * mem_lower = 639 and mem_upper = (S - 1 MiB) / 1 KiB, capped at
 * UINT32_MAX.
 *
 * Returns 0 with *mbi_gpa = A (the value for EBX) and *end, or -1 with a
 * one-line reason in err (err may be NULL only when errlen is 0) when S is
 * below 2 MiB, when [A, *end) does not fit in guest RAM (when the info
 * itself fits, the reason names the first module that does not: "multiboot
 * module I 'STRING' does not fit in guest RAM: N bytes from X, but RAM ends
 * at S"), does not lie
 * below 4 GiB (every address in the structures is 32-bit), or overlaps
 * the low reserved hole.  Guest RAM is written only on success.  The
 * modules' data must not overlap guest RAM at or above A.
 */
int multiboot_info_build(const struct guest_ram *ram, uint64_t start, const char *cmdline,
			 const struct mb_module_spec *mods, size_t nmods,
			 uint64_t *mbi_gpa, uint64_t *end, char *err, size_t errlen);

#endif
