/* Loading a multiboot 1 kernel from an ELF32 or ELF64 file in memory into guest RAM. */
#ifndef VMM_ELF_LOAD_H
#define VMM_ELF_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/guest_ram.h"
#include "vmm/memmap.h"

/* The multiboot 1 header a kernel carries in the first MB_HEADER_SEARCH bytes of its file. */
#define MB_HEADER_MAGIC		0x1BADB002u
#define MB_HEADER_SEARCH	8192u

/* Multiboot header flags.  Bits 0-15 are requirements, bits 16-31 optional. */
#define MB_HEADER_PAGE_ALIGN	(1u << 0)	/* modules on 4 KiB boundaries: we always do */
#define MB_HEADER_MEMORY_INFO	(1u << 1)	/* mem_* and mmap: we always give them */
#define MB_HEADER_VIDEO_MODE	(1u << 2)	/* a graphics mode: not provided */
#define MB_HEADER_AOUT_KLUDGE	(1u << 16)	/* load addresses in the header: ignored for ELF */

struct elf_load_result {
	uint64_t entry;		/* guest-physical entry point (32-bit) */
	uint64_t start, end;	/* lowest and highest+1 guest-physical byte loaded (incl. bss) */
	unsigned elf_class;	/* 32 or 64 */
	uint32_t multiboot_flags;
};

/*
 * Loads the ELF executable file[0, size) into ram for a multiboot 1 boot.
 * Returns 0 and fills *out, or -1 with a one-line reason (no prefix, no
 * newline) in err; err may be NULL only when errlen is 0.
 *
 * Accepted: little-endian ET_EXEC files, ELF32 for EM_386 or ELF64 for
 * EM_X86_64, with a non-empty program header table of the class's entry
 * size inside the file, and a valid multiboot 1 header: the magic at a
 * 4-byte-aligned file offset below MB_HEADER_SEARCH, followed in the file
 * by flags and a checksum making the three sum to 0 mod 2^32.  Of the
 * required flag bits (0-15) only MB_HEADER_PAGE_ALIGN and
 * MB_HEADER_MEMORY_INFO are accepted; MB_HEADER_AOUT_KLUDGE is accepted and
 * its address fields ignored, since the program headers say where to load.
 *
 * Every PT_LOAD with p_memsz > 0 is placed at its p_paddr: p_filesz bytes
 * from p_offset, then zeros up to p_memsz.  Each must have p_filesz <=
 * p_memsz, its file bytes inside the file, and [p_paddr, p_paddr + p_memsz)
 * inside guest RAM and outside each of the nforbidden forbidden ranges
 * (forbidden may be NULL when nforbidden is 0; empty ranges are ignored).
 * Other program header types, and PT_LOADs with p_memsz 0, are ignored.
 * Segments overlapping each other are not refused: they are written in
 * table order, so a later one wins.  Messages number segments by their
 * index in the program header table.
 *
 * The entry point is e_entry translated from p_vaddr to p_paddr through
 * the first PT_LOAD whose [p_vaddr, p_vaddr + p_memsz) contains it (kernels
 * linked high but loaded low), or e_entry itself when none does; it must
 * lie inside a loaded segment and below 4 GiB.
 *
 * Never reads outside [file, file + size) and never writes outside guest
 * RAM, whatever the file holds.  Everything is checked before the first
 * byte is written, so on error guest RAM is left unchanged; if the file
 * changes while being loaded, guest RAM may be partly written but all
 * accesses stay in bounds.  The file must not overlap guest RAM.
 */
int elf_load_multiboot(const void *file, size_t size, const struct guest_ram *ram,
		       const struct phys_range *forbidden, size_t nforbidden,
		       struct elf_load_result *out, char *err, size_t errlen);

#endif
