/* The handover both boot paths give the VMM: memory map, boot options, modules. */
#ifndef VMM_BOOT_H
#define VMM_BOOT_H

#include <stdint.h>
#include "vmm/memmap.h"

#define BOOT_MAGIC_MULTIBOOT	0x2badb002u
#define BOOT_MAGIC_BIOS		0x53424d56u	/* boot/layout.inc */
/* boot/efi_main.c: EBX points at a struct bios_boot_info it built from the UEFI memory map. */
#define BOOT_MAGIC_UEFI		0x49464555u	/* "UEFI" */

#define BOOT_MAX_MEM_REGIONS	128
#define BOOT_CMDLINE_MAX	512
#define BOOT_MAX_MODULES	16
#define BOOT_MODULE_CMDLINE_MAX	256	/* "NAME ARGS" and its NUL */

/*
 * Written by boot/stage2.asm at BIOS_INFO_ADDR (boot/layout.inc); E820
 * entries follow at +64.  All addresses are physical, below 1 MiB except
 * the modules themselves.
 */
struct bios_boot_info {
	uint32_t e820_count;
	uint32_t e820_entry_size;
	uint32_t cmdline;		/* the boot options, NUL-terminated */
	uint32_t boot_drive;
	uint32_t image_bytes;		/* the flat VMM image's file size */
	uint32_t module_count;		/* at most 15 from the disk image (IMAGE_MODULES_MAX), 16 from the ESP (BOOT_MAX_MODULES) */
	uint32_t modules;		/* struct bios_module[module_count] */
};

/* One boot module as stage 2 loaded it: 4 KiB-aligned, after the VMM's .bss. */
struct bios_module {
	uint32_t start, end;		/* end exclusive: start + the module's size */
	uint32_t cmdline;		/* "NAME ARGS", NUL-terminated, in the image header */
};

struct bios_e820_entry {
	uint64_t base;
	uint64_t length;
	uint32_t type;
	uint32_t acpi_attributes;
} __attribute__((packed));

enum boot_source {
	BOOT_SOURCE_BIOS,
	BOOT_SOURCE_MULTIBOOT,
	BOOT_SOURCE_UEFI,
};

/*
 * A guest kernel (or other file) the loader put in memory.  cmdline is
 * "NAME ARGS": NAME is the file's name without its directory and a trailing
 * ".elf", ARGS (possibly empty, then without the space) the arguments for it.
 */
struct boot_module {
	uint64_t start, end;		/* physical, end exclusive */
	char cmdline[BOOT_MODULE_CMDLINE_MAX];
};

/*
 * Everything here is a copy: once the handover is built, the loaders' own
 * structures (below 1 MiB or wherever a multiboot loader put them) may be
 * overwritten.  Module contents are not copied; their ranges are reserved.
 */
struct boot_handover {
	enum boot_source source;
	uint32_t mem_region_count;
	struct mem_region mem_regions[BOOT_MAX_MEM_REGIONS];
	uint32_t module_count;
	struct boot_module modules[BOOT_MAX_MODULES];
	char cmdline[BOOT_CMDLINE_MAX];	/* boot options only, no program name */
	uint64_t image_start, image_end;	/* the VMM's own physical extent */
};

const char *boot_source_name(enum boot_source source);

/* The one C entry of both paths, called from boot/entry.asm. */
void boot_main(uint32_t magic, uint32_t info) __attribute__((noreturn));

/* At log=debug: each module's command line, range and CRC-32, to check what the loader delivered. */
void boot_log_modules(const struct boot_handover *h);

/* The VMM proper, entered with a complete handover. */
void vmm_main(const struct boot_handover *handover) __attribute__((noreturn));

#endif
