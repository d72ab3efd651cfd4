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

/* boot/layout.inc and boot/stage2.asm write these at fixed offsets. */
_Static_assert(offsetof(struct bios_boot_info, module_count) == 20, "bios_boot_info layout");
_Static_assert(offsetof(struct bios_boot_info, modules) == 24, "bios_boot_info layout");
_Static_assert(sizeof(struct bios_boot_info) <= 64, "bios_boot_info overlaps the E820 entries");
_Static_assert(sizeof(struct bios_module) == 12, "bios_module layout (BIOS_MODULE_SIZE)");

static struct boot_handover handover;

const char *boot_source_name(enum boot_source source)
{
	switch (source) {
	case BOOT_SOURCE_BIOS:
		return "bios";
	case BOOT_SOURCE_MULTIBOOT:
		return "multiboot";
	case BOOT_SOURCE_UEFI:
		return "uefi";
	}
	return "unknown";
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

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * A multiboot module string is "PATH ARGS" (QEMU -initrd, GRUB module):
 * writes "NAME ARGS" to dst, NAME being PATH's last component without a
 * trailing ".elf".  Returns the length it needed, as strlcpy() does.
 */
static size_t module_cmdline_from_path(char *dst, size_t size, const char *s)
{
	const char *word, *name, *end, *args;
	size_t name_len, args_len, len;

	while (is_blank(*s))
		s++;
	word = s;
	while (*s && !is_blank(*s))
		s++;
	end = s;
	for (name = end; name > word && name[-1] != '/'; name--)
		;
	name_len = (size_t)(end - name);
	if (name_len >= 4 && !memcmp(end - 4, ".elf", 4))
		name_len -= 4;
	args = s;
	while (is_blank(*args))
		args++;
	args_len = strlen(args);

	len = name_len + (args_len ? 1 + args_len : 0);
	if (len < size) {
		memcpy(dst, name, name_len);
		if (args_len) {
			dst[name_len] = ' ';
			memcpy(dst + name_len + 1, args, args_len);
		}
		dst[len] = 0;
	} else if (size) {
		dst[0] = 0;
	}
	return len;
}

static void module_cmdline_too_long(uint32_t index, size_t len)
{
	log_error("vmm: error: boot module %u: its command line is %zu bytes, at most %d fit\n",
		  index, len, BOOT_MODULE_CMDLINE_MAX - 1);
	vmm_exit(VMM_STATUS_BOOT_FAILED);
}

static void bad_module_range(uint32_t index, uint64_t start, uint64_t end)
{
	log_error("vmm: error: boot module %u: the loader says it ends (%#lx) before it starts (%#lx)\n",
		  index, end, start);
	vmm_exit(VMM_STATUS_BOOT_FAILED);
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
			if (m[i].end < m[i].start)
				bad_module_range(i, m[i].start, m[i].end);
			bm = &handover.modules[handover.module_count++];
			bm->start = m[i].start;
			bm->end = m[i].end;
			if (m[i].string) {
				size_t len = module_cmdline_from_path(bm->cmdline, sizeof(bm->cmdline),
								      phys_ptr(m[i].string));

				if (len >= sizeof(bm->cmdline))
					module_cmdline_too_long(i, len);
			}
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

	/* Stage 2 checked the image header; these checks only catch a broken stage 2. */
	if (info->module_count > BOOT_MAX_MODULES) {
		log_error("vmm: error: the BIOS loader reports %u boot modules, at most %d fit\n",
			  info->module_count, BOOT_MAX_MODULES);
		vmm_exit(VMM_STATUS_BOOT_FAILED);
	}
	if (info->module_count) {
		const struct bios_module *m = phys_ptr(info->modules);

		for (i = 0; i < info->module_count; i++) {
			struct boot_module *bm = &handover.modules[i];
			size_t len;

			if (m[i].end < m[i].start)
				bad_module_range(i, m[i].start, m[i].end);
			bm->start = m[i].start;
			bm->end = m[i].end;
			len = strlcpy(bm->cmdline, phys_ptr(m[i].cmdline), sizeof(bm->cmdline));
			if (len >= sizeof(bm->cmdline))
				module_cmdline_too_long(i, len);
		}
		handover.module_count = info->module_count;
	}
}

/* zlib's CRC-32, table-driven (Bochs checks a few MB a second): for the log=debug module lines. */
static uint32_t crc32(const uint8_t *p, uint64_t len)
{
	static uint32_t table[256];
	uint32_t crc = 0xffffffffu;
	int i, k;

	if (!table[1]) {
		for (i = 0; i < 256; i++) {
			crc = (uint32_t)i;
			for (k = 0; k < 8; k++)
				crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
			table[i] = crc;
		}
		crc = 0xffffffffu;
	}
	while (len--)
		crc = (crc >> 8) ^ table[(crc ^ *p++) & 0xff];
	return ~crc;
}

/*
 * vmm_main() sets the log level from the boot options; the lines below come
 * sooner, so read log= here too.  A bad option is ignored here and
 * reported by vmm_main().
 */
void boot_log_modules(const struct boot_handover *h)
{
	uint32_t i;

	/* The CRC reads every module byte: only worth it when the line is printed. */
	if (log_threshold > LOG_DEBUG)
		return;
	for (i = 0; i < h->module_count; i++) {
		const struct boot_module *m = &h->modules[i];

		log_debug("vmm: boot: module %u '%s' at [%#lx, %#lx) %lu bytes crc32=%08x\n", i,
			  m->cmdline, m->start, m->end, m->end - m->start,
			  crc32(phys_ptr((uint32_t)m->start), m->end - m->start));
	}
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
	else if (magic == BOOT_MAGIC_UEFI) {
		/* boot/efi_main.c lays out the BIOS loader's structures below 4 GiB, with the modules EFI/VMM/MODULES.TXT names. */
		handover_from_bios(phys_ptr(info));
		handover.source = BOOT_SOURCE_UEFI;
	} else {
		log_error("vmm: error: entered with unknown boot magic %#x (not multiboot 1, not our BIOS or UEFI loader)\n",
			  magic);
		vmm_exit(VMM_STATUS_BOOT_FAILED);
	}
	vmm_main(&handover);
}
