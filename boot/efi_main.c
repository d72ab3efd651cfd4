/* vmm.efi: loads the VMM at 1 MiB, takes over the UEFI memory map, exits boot services and enters the VMM. */
#include <stddef.h>
#include <stdint.h>

#include "boot/efi.h"
#include "boot/efi_memmap.h"
#include "boot/efi_modlist.h"
#include "vmm/boot.h"
#include "vmm/status.h"

#define COM1			0x3f8
#define ISA_DEBUG_EXIT		0xf4
#define VMM_LOAD_ADDR		0x100000ull	/* boot/vmm.ld */
#define HEAD_IMAGE_END		8		/* boot/layout.inc BOOT_HEAD_IMAGE_END */
#define BELOW_4G		0xffffffffull
#define EBS_TRIES		8
#define OPTIONS_BYTES		512		/* as the disk image's options sector */

/*
 * The low block handed to the VMM: boot info, E820 entries at +64, options,
 * the trampoline, then the module array and each module's command line.
 */
#define LOW_E820_OFFSET		64
#define LOW_OPTIONS_OFFSET	0x1000
#define LOW_TRAMPOLINE_OFFSET	0x1200
#define LOW_MODULES_OFFSET	0x2000
#define LOW_MODULE_CMDLINES	(LOW_MODULES_OFFSET + 0x100)
#define LOW_PAGES		4

/* The ESP directory vmm.efi loads its boot modules from, and the list naming them. */
#define ESP_MODULE_DIR		"EFI/VMM/"
#define ESP_MODULE_LIST		"MODULES.TXT"

extern const uint8_t efi_payload_start[], efi_payload_end[];
extern const uint8_t efi_trampoline_start[], efi_trampoline_end[];

/*
 * The boot options.  scripts/run finds the marker in its private copy of
 * vmm.efi and writes the options after it, as it writes the disk image's
 * options sector; the marker appears nowhere else in the file.
 */
__attribute__((used, aligned(16)))
volatile struct {
	char marker[8];
	char options[OPTIONS_BYTES];
} efi_boot_options = { { 'V', 'M', 'M', 'O', 'P', 'T', 'S', '1' }, "" };

/*
 * The code is all RIP-relative (-fpie), so this pointer is the image's one
 * absolute address and gives .reloc its one base relocation: some firmware
 * refuses a relocatable image whose .reloc is empty, and reading the options
 * through it checks that the firmware applied the relocation.
 */
static volatile char *volatile const boot_options_field = efi_boot_options.options;

_Static_assert(LOW_E820_OFFSET + BOOT_MAX_MEM_REGIONS * sizeof(struct bios_e820_entry) <= LOW_OPTIONS_OFFSET,
	       "E820 entries overlap the options");
_Static_assert(LOW_MODULES_OFFSET + EFI_MODLIST_MAX * sizeof(struct bios_module) <= LOW_MODULE_CMDLINES,
	       "the module array overlaps the command lines");
_Static_assert(LOW_MODULE_CMDLINES + EFI_MODLIST_MAX * BOOT_MODULE_CMDLINE_MAX <= LOW_PAGES * EFI_PAGE_SIZE,
	       "the module command lines do not fit the low block");

/* Static, not on the firmware's stack: about 5 KiB, and the list text up to 16 KiB. */
static struct efi_modlist_entry module_list[EFI_MODLIST_MAX];
static char module_list_text[EFI_MODLIST_TEXT_MAX];

static struct efi_system_table *st;

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* COM1 as the VMM sets it up (vmm/console.c): 115200 8N1, polled. */
static void serial_init(void)
{
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x80);
	outb(COM1 + 0, 0x01);
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03);
	outb(COM1 + 2, 0xc7);
	outb(COM1 + 4, 0x03);
}

static void serial_putc(char c)
{
	while (!(inb(COM1 + 5) & 0x20))
		;
	outb(COM1, (uint8_t)c);
}

static void serial_puts(const char *s)
{
	while (*s)
		serial_putc(*s++);
}

/* Before ExitBootServices(): the line goes to ConOut too, converted to UCS-2 with CR LF. */
static void say(const char *s, int console)
{
	efi_char16 buf[160];
	size_t n = 0;

	serial_puts(s);
	if (!console || !st->con_out)
		return;
	for (; *s && n < sizeof(buf) / sizeof(buf[0]) - 3; s++) {
		if (*s == '\n')
			buf[n++] = '\r';
		buf[n++] = (efi_char16)(unsigned char)*s;
	}
	buf[n] = 0;
	st->con_out->output_string(st->con_out, buf);
}

static char *fmt_hex(char *p, uint64_t v)
{
	int shift = 60;

	*p++ = '0';
	*p++ = 'x';
	while (shift > 0 && !((v >> shift) & 0xf))
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		*p++ = "0123456789abcdef"[(v >> shift) & 0xf];
	return p;
}

static char *fmt_dec(char *p, uint64_t v)
{
	char tmp[20];
	int n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while (v /= 10);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static char *fmt_str(char *p, const char *s)
{
	while (*s)
		*p++ = *s++;
	return p;
}

/* Appends at most the room left before end (one byte kept for the NUL): file names come from the ESP. */
static char *fmt_str_max(char *p, const char *end, const char *s)
{
	while (*s && p < end - 1)
		*p++ = *s++;
	return p;
}

/*
 * The result protocol of docs/boot.md, then back to the firmware (real
 * hardware goes on booting): line is the whole error line, with its '\n'.
 */
static efi_status fail_line(const char *line, int console)
{
	say(line, console);
	say("vmm: exit status 14\n", console);
	while (!(inb(COM1 + 5) & 0x40))
		;
	outb(ISA_DEBUG_EXIT, VMM_STATUS_BOOT_FAILED);
	return EFI_LOAD_ERROR;
}

static efi_status fail(const char *what, efi_status status, int console)
{
	char line[160], *p = line;

	p = fmt_str(p, "vmm: error: uefi: ");
	p = fmt_str(p, what);
	p = fmt_str(p, " (EFI status ");
	p = fmt_hex(p, status);
	p = fmt_str(p, ")\n");
	*p = 0;
	return fail_line(line, console);
}

/* "vmm: error: uefi: EFI/VMM/FILE: WHAT[ (EFI status S)]": a failure about one ESP file. */
static efi_status fail_file(const char *file, const char *what, efi_status status)
{
	char line[200], *p = line, *end = line + sizeof(line) - 32;

	p = fmt_str(p, "vmm: error: uefi: " ESP_MODULE_DIR);
	p = fmt_str_max(p, end, file);
	p = fmt_str_max(p, end, ": ");
	p = fmt_str_max(p, end, what);
	if (status != EFI_SUCCESS) {
		p = fmt_str(p, " (EFI status ");
		p = fmt_hex(p, status);
		p = fmt_str(p, ")");
	}
	p = fmt_str(p, "\n");
	*p = 0;
	return fail_line(line, 1);
}

static void copy_bytes(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	while (n--)
		*d++ = *s++;
}

static void zero_bytes(void *dst, size_t n)
{
	uint8_t *d = dst;

	while (n--)
		*d++ = 0;
}

/*
 * Opens EFI/VMM/name for reading.  The name is ASCII by MODULES.TXT's
 * rules up to its bytes >= 0x80, taken as Latin-1: FAT's long names are UCS-2.
 */
static efi_status open_esp_file(struct efi_file_protocol *root, const char *name,
				struct efi_file_protocol **file)
{
	static const char dir[] = ESP_MODULE_DIR;
	efi_char16 path[sizeof(dir) + EFI_MODLIST_FILE_MAX + 1];
	size_t n = 0;

	path[n++] = '\\';
	for (const char *s = dir; *s; s++)
		path[n++] = *s == '/' ? '\\' : (efi_char16)*s;
	for (const char *s = name; *s && n < sizeof(path) / sizeof(path[0]) - 1; s++)
		path[n++] = (efi_char16)(unsigned char)*s;
	path[n] = 0;
	return root->open(root, file, path, EFI_FILE_MODE_READ, 0);
}

/* The size of an open file: SetPosition() to the end and back, no EFI_FILE_INFO needed. */
static efi_status esp_file_size(struct efi_file_protocol *file, uint64_t *size)
{
	efi_status status = file->set_position(file, EFI_FILE_POSITION_END);

	if (status == EFI_SUCCESS)
		status = file->get_position(file, size);
	if (status == EFI_SUCCESS)
		status = file->set_position(file, 0);
	return status;
}

/* Reads all size bytes; a short read before the end is an error, not a silently short module. */
static efi_status esp_file_read(struct efi_file_protocol *file, void *buf, uint64_t size)
{
	uint64_t done = 0;

	while (done < size) {
		uint64_t chunk = size - done;
		efi_status status = file->read(file, &chunk, (uint8_t *)buf + done);

		if (status != EFI_SUCCESS)
			return status;
		if (chunk == 0)
			return EFI_LOAD_ERROR;	/* the file ended before its size */
		done += chunk;
	}
	return EFI_SUCCESS;
}

/*
 * Loads the boot modules EFI/VMM/MODULES.TXT lists into LoaderData pages
 * below 4 GiB and describes them in the handoff block at low, as stage 2
 * does.  The pages are usable RAM in the translated map: the VMM keeps
 * them out of its allocator because they are module ranges (vmm/memory.c),
 * as it does on the BIOS path.  No list: no modules, EFI_SUCCESS.  Any
 * other failure has printed its line and ended the run (fail_line()).
 */
static efi_status load_esp_modules(efi_handle image, struct efi_boot_services *bs, uint64_t low)
{
	static const struct efi_guid loaded_image_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
	static const struct efi_guid fs_guid = EFI_SIMPLE_FILE_SYSTEM_PROTOCOL_GUID;
	struct bios_boot_info *info = (struct bios_boot_info *)(uintptr_t)low;
	struct bios_module *mods = (struct bios_module *)(uintptr_t)(low + LOW_MODULES_OFFSET);
	struct efi_loaded_image_protocol *loaded;
	struct efi_simple_file_system_protocol *fs;
	struct efi_file_protocol *root, *file;
	uint64_t size;
	size_t count, lineno;
	enum efi_modlist_error perr;
	efi_status status;
	char line[200], *p;

	status = bs->handle_protocol(image, &loaded_image_guid, (void **)&loaded);
	if (status != EFI_SUCCESS)
		return fail("no EFI_LOADED_IMAGE_PROTOCOL on vmm.efi's handle", status, 1);
	status = bs->handle_protocol(loaded->device_handle, &fs_guid, (void **)&fs);
	if (status != EFI_SUCCESS) {
		/* Booted from something that is not a FAT volume (network, firmware volume): no ESP, no modules. */
		say("vmm: uefi: no file system on the boot device: no boot modules\n", 1);
		return EFI_SUCCESS;
	}
	status = fs->open_volume(fs, &root);
	if (status != EFI_SUCCESS)
		return fail("cannot open the ESP volume", status, 1);

	status = open_esp_file(root, ESP_MODULE_LIST, &file);
	if (status == EFI_NOT_FOUND) {
		say("vmm: uefi: no " ESP_MODULE_DIR ESP_MODULE_LIST ": no boot modules\n", 1);
		root->close(root);
		return EFI_SUCCESS;
	}
	if (status != EFI_SUCCESS)
		return fail_file(ESP_MODULE_LIST, "cannot open it", status);
	status = esp_file_size(file, &size);
	if (status != EFI_SUCCESS)
		return fail_file(ESP_MODULE_LIST, "cannot find its size", status);
	if (size > EFI_MODLIST_TEXT_MAX)
		return fail_file(ESP_MODULE_LIST, "larger than 16384 bytes", EFI_SUCCESS);
	status = esp_file_read(file, module_list_text, size);
	file->close(file);
	if (status != EFI_SUCCESS)
		return fail_file(ESP_MODULE_LIST, "cannot read it", status);

	perr = efi_modlist_parse(module_list_text, size, module_list, &count, &lineno);
	if (perr != EFI_MODLIST_OK) {
		p = fmt_str(line, "line ");
		p = fmt_dec(p, lineno);
		p = fmt_str(p, ": ");
		p = fmt_str(p, efi_modlist_error_text(perr));
		*p = 0;
		return fail_file(ESP_MODULE_LIST, line, EFI_SUCCESS);
	}

	for (size_t i = 0; i < count; i++) {
		const struct efi_modlist_entry *m = &module_list[i];
		char *cmdline = (char *)(uintptr_t)(low + LOW_MODULE_CMDLINES + i * BOOT_MODULE_CMDLINE_MAX);
		uint64_t addr = BELOW_4G, pages;

		status = open_esp_file(root, m->file, &file);
		if (status != EFI_SUCCESS)
			return fail_file(m->file, status == EFI_NOT_FOUND ? "not found (named in MODULES.TXT)" :
					 "cannot open it", status);
		status = esp_file_size(file, &size);
		if (status != EFI_SUCCESS)
			return fail_file(m->file, "cannot find its size", status);
		/* A module must end below 4 GiB (struct bios_module is u32); 0 bytes still get a page of their own. */
		if (size > BELOW_4G - VMM_LOAD_ADDR)
			return fail_file(m->file, "too large: a boot module must fit below 4 GiB", EFI_SUCCESS);
		pages = size ? (size + EFI_PAGE_SIZE - 1) / EFI_PAGE_SIZE : 1;
		status = bs->allocate_pages(EFI_ALLOCATE_MAX_ADDRESS, EFI_LOADER_DATA, pages, &addr);
		if (status != EFI_SUCCESS)
			return fail_file(m->file, "too large: not enough free memory below 4 GiB", status);
		status = esp_file_read(file, (void *)(uintptr_t)addr, size);
		file->close(file);
		if (status != EFI_SUCCESS)
			return fail_file(m->file, "cannot read it", status);

		copy_bytes(cmdline, m->cmdline, BOOT_MODULE_CMDLINE_MAX);
		mods[i].start = (uint32_t)addr;
		mods[i].end = (uint32_t)(addr + size);
		mods[i].cmdline = (uint32_t)(uintptr_t)cmdline;

		p = fmt_str(line, "vmm: uefi: module ");
		p = fmt_dec(p, i);
		p = fmt_str(p, " from " ESP_MODULE_DIR);
		p = fmt_str(p, m->file);
		p = fmt_str(p, ": ");
		p = fmt_dec(p, size);
		p = fmt_str(p, " bytes at ");
		p = fmt_hex(p, addr);
		p = fmt_str(p, "\n");
		*p = 0;
		say(line, 1);
	}
	root->close(root);
	info->module_count = (uint32_t)count;
	info->modules = (uint32_t)(low + LOW_MODULES_OFFSET);
	return EFI_SUCCESS;
}

EFIAPI efi_status efi_main(efi_handle image, struct efi_system_table *system_table);

EFIAPI efi_status efi_main(efi_handle image, struct efi_system_table *system_table)
{
	struct efi_boot_services *bs = system_table->boot_services;
	uint64_t payload_bytes = (uint64_t)(efi_payload_end - efi_payload_start);
	uint64_t image_end, vmm_addr = VMM_LOAD_ADDR, low = BELOW_4G;
	uint64_t map_size = 0, map_key = 0, desc_size = 0, map_alloc;
	uint32_t desc_version = 0, image_end32;
	struct efi_memory_descriptor *map = NULL;
	struct bios_boot_info *info;
	size_t regions, dropped;
	efi_status status;
	char line[160], *p;
	int tries;

	st = system_table;
	serial_init();
	say("vmm: uefi: vmm.efi started, loading the VMM at 1 MiB\n", 1);

	copy_bytes(&image_end32, efi_payload_start + HEAD_IMAGE_END, sizeof(image_end32));
	image_end = image_end32;
	if (image_end < VMM_LOAD_ADDR + payload_bytes)
		return fail("the embedded VMM image is inconsistent", EFI_LOAD_ERROR, 1);

	/*
	 * The VMM runs where it is linked: ask for exactly those pages.  Its
	 * .bss is included; boot/entry.asm zeroes it.
	 */
	status = bs->allocate_pages(EFI_ALLOCATE_ADDRESS, EFI_LOADER_DATA,
				    (image_end - VMM_LOAD_ADDR + EFI_PAGE_SIZE - 1) / EFI_PAGE_SIZE,
				    &vmm_addr);
	if (status != EFI_SUCCESS)
		return fail("the VMM's memory at 1 MiB is not free", status, 1);
	/* Code, so that a firmware that maps data non-executable still runs the trampoline. */
	status = bs->allocate_pages(EFI_ALLOCATE_MAX_ADDRESS, EFI_LOADER_CODE, LOW_PAGES, &low);
	if (status != EFI_SUCCESS)
		return fail("no free pages below 4 GiB", status, 1);
	copy_bytes((void *)(uintptr_t)vmm_addr, efi_payload_start, payload_bytes);
	zero_bytes((void *)(uintptr_t)low, LOW_PAGES * EFI_PAGE_SIZE);
	copy_bytes((uint8_t *)(uintptr_t)low + LOW_TRAMPOLINE_OFFSET, efi_trampoline_start,
		   (size_t)(efi_trampoline_end - efi_trampoline_start));
	for (size_t i = 0; i < OPTIONS_BYTES - 1 && boot_options_field[i]; i++)
		((char *)(uintptr_t)low)[LOW_OPTIONS_OFFSET + i] = boot_options_field[i];
	if (load_esp_modules(image, bs, low) != EFI_SUCCESS)
		return EFI_LOAD_ERROR;

	/* Room for the map and a few descriptors more: the pool allocation itself may split one. */
	status = bs->get_memory_map(&map_size, NULL, &map_key, &desc_size, &desc_version);
	if (status != EFI_BUFFER_TOO_SMALL || desc_size < sizeof(struct efi_memory_descriptor))
		return fail("GetMemoryMap() did not report its size", status, 1);
	map_alloc = map_size + 8 * desc_size;
	status = bs->allocate_pool(EFI_LOADER_DATA, map_alloc, (void **)&map);
	if (status != EFI_SUCCESS)
		return fail("no memory for the memory map", status, 1);

	say("vmm: uefi: taking over the memory map and exiting boot services\n", 1);
	/*
	 * The map key changes whenever the firmware allocates (an event
	 * handler may do so at any time): ExitBootServices() then fails with
	 * EFI_INVALID_PARAMETER and wants a fresh map.  Between the two calls
	 * nothing may allocate, so no console output here.
	 */
	for (tries = 0; tries < EBS_TRIES; tries++) {
		map_size = map_alloc;
		status = bs->get_memory_map(&map_size, map, &map_key, &desc_size, &desc_version);
		if (status != EFI_SUCCESS)
			return fail("GetMemoryMap() failed", status, tries == 0);
		status = bs->exit_boot_services(image, map_key);
		if (status == EFI_SUCCESS)
			break;
		if (status != EFI_INVALID_PARAMETER)
			return fail("ExitBootServices() failed", status, tries == 0);
	}
	if (status != EFI_SUCCESS)
		return fail("ExitBootServices() kept failing with a stale map key", status, 0);

	/* Boot services are gone: only COM1 from here, and no firmware call. */
	st = NULL;
	info = (struct bios_boot_info *)(uintptr_t)low;
	regions = efi_memmap_translate(map, map_size / desc_size, desc_size,
				       (struct bios_e820_entry *)((uint8_t *)info + LOW_E820_OFFSET),
				       BOOT_MAX_MEM_REGIONS, &dropped);
	info->e820_count = (uint32_t)regions;
	info->e820_entry_size = sizeof(struct bios_e820_entry);
	info->cmdline = (uint32_t)(low + LOW_OPTIONS_OFFSET);
	info->image_bytes = (uint32_t)payload_bytes;

	p = fmt_str(line, "vmm: uefi: boot services exited (try ");
	p = fmt_dec(p, (uint64_t)tries + 1);
	p = fmt_str(p, "), memory map taken over: ");
	p = fmt_dec(p, map_size / desc_size);
	p = fmt_str(p, " UEFI descriptors as ");
	p = fmt_dec(p, regions);
	p = fmt_str(p, " regions");
	if (dropped) {
		p = fmt_str(p, ", ");
		p = fmt_dec(p, dropped);
		p = fmt_str(p, " dropped (the handover holds 128)");
	}
	p = fmt_str(p, "\n");
	*p = 0;
	serial_puts(line);

	((void (EFIAPI *)(uint32_t, uint32_t))(uintptr_t)(low + LOW_TRAMPOLINE_OFFSET))(
		(uint32_t)low, (uint32_t)VMM_LOAD_ADDR);
	__builtin_unreachable();
}
