/* boot_main(): turns a multiboot or BIOS-loader handoff into the one boot handover. */
#include <stddef.h>
#include "vmm/boot.h"
#include "vmm/cmdline.h"
#include "vmm/exit.h"
#include "vmm/log.h"
#include "vmm/console.h"
#include "vmm/idt.h"
#include "vmm/status.h"
#include "vmm/string.h"

#define MB_INFO_MEMORY	(1u << 0)
#define MB_INFO_CMDLINE	(1u << 2)
#define MB_INFO_MODULES	(1u << 3)
#define MB_INFO_MMAP	(1u << 6)

struct multiboot_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper;
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
} __attribute__((packed));

struct multiboot_mmap_entry {
	uint32_t size;		/* of the rest of the entry, not counting this field */
	uint64_t base;
	uint64_t length;
	uint32_t type;
} __attribute__((packed));

struct multiboot_module {
	uint32_t start, end;
	uint32_t string;
	uint32_t reserved;
} __attribute__((packed));

extern char __image_start[], __image_end[];

static struct boot_handover handover;

const char *boot_source_name(enum boot_source source)
{
	return source == BOOT_SOURCE_BIOS ? "bios" : "multiboot";
}

/* All RAM below 4 GiB is identity-mapped by boot/entry.asm. */
static const void *phys_ptr(uint32_t addr)
{
	return (const void *)(uintptr_t)addr;
}

static void add_mem_region(uint64_t base, uint64_t length, uint32_t type)
{
	struct mem_region *r;

	if (handover.mem_region_count == BOOT_MAX_MEM_REGIONS) {
		log_warn("vmm: boot: memory map has more than %d entries; ignoring the rest\n",
			 BOOT_MAX_MEM_REGIONS);
		return;
	}
	r = &handover.mem_regions[handover.mem_region_count++];
	r->base = base;
	r->length = length;
	r->type = type;
}

static void handover_from_multiboot(const struct multiboot_info *mbi)
{
	handover.source = BOOT_SOURCE_MULTIBOOT;

	if (mbi->flags & MB_INFO_MMAP) {
		uint32_t offset = 0;

		while (offset + sizeof(struct multiboot_mmap_entry) <= mbi->mmap_length) {
			const struct multiboot_mmap_entry *e = phys_ptr(mbi->mmap_addr + offset);

			add_mem_region(e->base, e->length, e->type);
			offset += e->size + sizeof(e->size);
		}
	} else if (mbi->flags & MB_INFO_MEMORY) {
		/* No map: the two classic ranges are all a loader guarantees. */
		add_mem_region(0, (uint64_t)mbi->mem_lower * 1024, MEM_USABLE);
		add_mem_region(1 << 20, (uint64_t)mbi->mem_upper * 1024, MEM_USABLE);
	}

	if (mbi->flags & MB_INFO_CMDLINE)
		strlcpy(handover.cmdline, cmdline_skip_program_name(phys_ptr(mbi->cmdline)),
			sizeof(handover.cmdline));

	if (mbi->flags & MB_INFO_MODULES) {
		const struct multiboot_module *m = phys_ptr(mbi->mods_addr);
		uint32_t i;

		for (i = 0; i < mbi->mods_count; i++) {
			struct boot_module *bm;

			if (handover.module_count == BOOT_MAX_MODULES) {
				log_warn("vmm: boot: more than %d modules; ignoring the rest\n",
					 BOOT_MAX_MODULES);
				break;
			}
			bm = &handover.modules[handover.module_count++];
			bm->start = m[i].start;
			bm->end = m[i].end;
			if (m[i].string)
				strlcpy(bm->name, phys_ptr(m[i].string), sizeof(bm->name));
		}
	}
}

static void handover_from_bios(const struct bios_boot_info *info)
{
	const struct bios_e820_entry *e820 = (const void *)((const char *)info + 64);
	uint32_t i;

	handover.source = BOOT_SOURCE_BIOS;
	for (i = 0; i < info->e820_count; i++)
		add_mem_region(e820[i].base, e820[i].length, e820[i].type);
	strlcpy(handover.cmdline, phys_ptr(info->cmdline), sizeof(handover.cmdline));
}

void boot_main(uint32_t magic, uint32_t info)
{
	console_init();
	idt_init();

	handover.image_start = (uintptr_t)__image_start;
	handover.image_end = (uintptr_t)__image_end;
	if (magic == BOOT_MAGIC_MULTIBOOT)
		handover_from_multiboot(phys_ptr(info));
	else if (magic == BOOT_MAGIC_BIOS)
		handover_from_bios(phys_ptr(info));
	else {
		log_error("vmm: error: entered with unknown boot magic %#x (not multiboot 1, not our BIOS loader)\n",
			  magic);
		vmm_exit(VMM_STATUS_BOOT_FAILED);
	}
	vmm_main(&handover);
}
