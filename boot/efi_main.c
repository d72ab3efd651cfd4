/* vmm.efi: loads the VMM at 1 MiB, takes over the UEFI memory map, exits boot services and enters the VMM. */
#include <stddef.h>
#include <stdint.h>

#include "boot/efi.h"
#include "boot/efi_memmap.h"
#include "vmm/boot.h"
#include "vmm/status.h"

#define COM1			0x3f8
#define ISA_DEBUG_EXIT		0xf4
#define VMM_LOAD_ADDR		0x100000ull	/* boot/vmm.ld */
#define HEAD_IMAGE_END		8		/* boot/layout.inc BOOT_HEAD_IMAGE_END */
#define BELOW_4G		0xffffffffull
#define EBS_TRIES		8
#define OPTIONS_BYTES		512		/* as the disk image's options sector */

/* The low block handed to the VMM: boot info, E820 entries at +64, options, then the trampoline. */
#define LOW_E820_OFFSET		64
#define LOW_OPTIONS_OFFSET	0x1000
#define LOW_TRAMPOLINE_OFFSET	0x1200
#define LOW_PAGES		2

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

/* The result protocol of docs/boot.md, then back to the firmware (real hardware goes on booting). */
static efi_status fail(const char *what, efi_status status, int console)
{
	char line[160], *p = line;

	p = fmt_str(p, "vmm: error: uefi: ");
	p = fmt_str(p, what);
	p = fmt_str(p, " (EFI status ");
	p = fmt_hex(p, status);
	p = fmt_str(p, ")\n");
	*p = 0;
	say(line, console);
	say("vmm: exit status 14\n", console);
	while (!(inb(COM1 + 5) & 0x40))
		;
	outb(ISA_DEBUG_EXIT, VMM_STATUS_BOOT_FAILED);
	return EFI_LOAD_ERROR;
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
