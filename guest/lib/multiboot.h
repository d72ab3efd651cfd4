/* Multiboot 1 information structure, the part the guests read. */
#ifndef GUEST_MULTIBOOT_H
#define GUEST_MULTIBOOT_H

#include <stdint.h>

#define MULTIBOOT_LOADER_MAGIC	0x2BADB002

#define MBI_FLAG_MEM		(1u << 0)
#define MBI_FLAG_CMDLINE	(1u << 2)
#define MBI_FLAG_MMAP		(1u << 6)

#define MMAP_TYPE_USABLE	1

struct multiboot_info {
	uint32_t flags;
	uint32_t mem_lower;		/* KiB below 1 MiB */
	uint32_t mem_upper;		/* KiB from 1 MiB to the first hole */
	uint32_t boot_device;
	uint32_t cmdline;		/* physical address of a NUL-terminated string */
	uint32_t mods_count;
	uint32_t mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length;		/* bytes */
	uint32_t mmap_addr;
};

/* `size` counts the bytes after itself, so the next entry is at entry + size + 4. */
struct __attribute__((packed)) multiboot_mmap_entry {
	uint32_t size;
	uint64_t base;
	uint64_t length;
	uint32_t type;
};

#endif
