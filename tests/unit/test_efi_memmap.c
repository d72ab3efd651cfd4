/* Unit tests for boot/efi_memmap.c: UEFI memory types as E820 types, merging, limits, and the VMM's view. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "boot/efi.h"
#include "boot/efi_memmap.h"
#include "vmm/memmap.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PAGE 4096ull
/* Firmware descriptors are often larger than the struct (OVMF: 48 bytes); the stride must be honored. */
#define STRIDE 48

struct efi_map {
	uint8_t bytes[64 * STRIDE];
	size_t count;
};

static void add(struct efi_map *m, uint32_t type, uint64_t start, uint64_t pages)
{
	struct efi_memory_descriptor d = {
		.type = type, .physical_start = start, .virtual_start = 0xdeadbeef000,
		.number_of_pages = pages, .attribute = 0xf,
	};

	assert_true(m->count < 64);
	memcpy(m->bytes + m->count * STRIDE, &d, sizeof(d));
	/* Garbage in the bytes past the struct: a walk by sizeof() would read it as a descriptor. */
	memset(m->bytes + m->count * STRIDE + sizeof(d), 0x07, STRIDE - sizeof(d));
	m->count++;
}

static void test_type_translation(void **state)
{
	static const struct { uint32_t efi, e820; } table[] = {
		{ EFI_RESERVED_MEMORY_TYPE, MEM_RESERVED },
		{ EFI_LOADER_CODE, MEM_USABLE },
		{ EFI_LOADER_DATA, MEM_USABLE },
		{ EFI_BOOT_SERVICES_CODE, MEM_USABLE },
		{ EFI_BOOT_SERVICES_DATA, MEM_USABLE },
		{ EFI_RUNTIME_SERVICES_CODE, MEM_RESERVED },
		{ EFI_RUNTIME_SERVICES_DATA, MEM_RESERVED },
		{ EFI_CONVENTIONAL_MEMORY, MEM_USABLE },
		{ EFI_UNUSABLE_MEMORY, MEM_BAD },
		{ EFI_ACPI_RECLAIM_MEMORY, MEM_ACPI_RECLAIMABLE },
		{ EFI_ACPI_MEMORY_NVS, MEM_ACPI_NVS },
		{ EFI_MEMORY_MAPPED_IO, MEM_RESERVED },
		{ EFI_MEMORY_MAPPED_IO_PORT_SPACE, MEM_RESERVED },
		{ EFI_PAL_CODE, MEM_RESERVED },
		{ EFI_PERSISTENT_MEMORY, MEM_RESERVED },
		{ EFI_UNACCEPTED_MEMORY, MEM_RESERVED },
		{ 16, MEM_RESERVED },
		{ 0x70000000, MEM_RESERVED },	/* OEM range */
		{ 0x80000000, MEM_RESERVED },	/* OS loader range */
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)
		assert_int_equal(efi_memory_type_to_e820(table[i].efi), table[i].e820);
}

/* Touching pieces of one translated type merge; a gap, a type change or a zero-page descriptor do as said. */
static void test_merge(void **state)
{
	struct efi_map m = { 0 };
	struct bios_e820_entry out[8];
	size_t n, dropped = 99;

	(void)state;
	add(&m, EFI_CONVENTIONAL_MEMORY, 0, 0xa0);
	add(&m, EFI_BOOT_SERVICES_DATA, 0x100000, 0x10);	/* gap at 0xa0000: no merge */
	add(&m, EFI_LOADER_CODE, 0x110000, 0x20);		/* touches, also usable: merged */
	add(&m, EFI_CONVENTIONAL_MEMORY, 0x130000, 0);		/* empty: skipped, does not split */
	add(&m, EFI_CONVENTIONAL_MEMORY, 0x130000, 0x100);	/* merged */
	add(&m, EFI_RUNTIME_SERVICES_DATA, 0x230000, 0x4);	/* touches, reserved: new entry */
	add(&m, EFI_RUNTIME_SERVICES_CODE, 0x234000, 0x4);	/* touches, also reserved: merged */
	add(&m, EFI_ACPI_MEMORY_NVS, 0x238000, 0x8);
	add(&m, EFI_MEMORY_MAPPED_IO, 0xffc00000, 0x400);

	n = efi_memmap_translate(m.bytes, m.count, STRIDE, out, ARRAY_SIZE(out), &dropped);
	assert_int_equal(n, 5);
	assert_int_equal(dropped, 0);
	assert_int_equal(out[0].base, 0);
	assert_int_equal(out[0].length, 0xa0000);
	assert_int_equal(out[0].type, MEM_USABLE);
	assert_int_equal(out[1].base, 0x100000);
	assert_int_equal(out[1].length, 0x130000);
	assert_int_equal(out[1].type, MEM_USABLE);
	assert_int_equal(out[2].base, 0x230000);
	assert_int_equal(out[2].length, 0x8000);
	assert_int_equal(out[2].type, MEM_RESERVED);
	assert_int_equal(out[3].base, 0x238000);
	assert_int_equal(out[3].length, 0x8000);
	assert_int_equal(out[3].type, MEM_ACPI_NVS);
	assert_int_equal(out[4].base, 0xffc00000);
	assert_int_equal(out[4].length, 0x400000);
	assert_int_equal(out[4].type, MEM_RESERVED);
	assert_int_equal(out[4].acpi_attributes, 1);
}

/* More entries than fit: the lowest are kept and the rest counted, merging still applies after the limit. */
static void test_out_max(void **state)
{
	struct efi_map m = { 0 };
	struct bios_e820_entry out[3];
	size_t n, dropped = 0;

	(void)state;
	for (int i = 0; i < 6; i++)	/* alternating types: nothing merges */
		add(&m, i % 2 ? EFI_ACPI_RECLAIM_MEMORY : EFI_CONVENTIONAL_MEMORY, (uint64_t)i * PAGE, 1);
	n = efi_memmap_translate(m.bytes, m.count, STRIDE, out, ARRAY_SIZE(out), &dropped);
	assert_int_equal(n, 3);
	assert_int_equal(dropped, 3);
	assert_int_equal(out[2].base, 2 * PAGE);
	assert_int_equal(out[2].type, MEM_USABLE);

	n = efi_memmap_translate(m.bytes, m.count, STRIDE, out, 0, &dropped);
	assert_int_equal(n, 0);
	assert_int_equal(dropped, 6);
}

/* A page count whose byte length wraps is clipped, not wrapped to a small length. */
static void test_huge_page_count(void **state)
{
	struct efi_map m = { 0 };
	struct bios_e820_entry out[2];
	size_t n, dropped;

	(void)state;
	add(&m, EFI_CONVENTIONAL_MEMORY, 0x100000, UINT64_MAX / 2);
	n = efi_memmap_translate(m.bytes, m.count, STRIDE, out, ARRAY_SIZE(out), &dropped);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].length, UINT64_MAX - 0x100000);
}

/*
 * An OVMF-like map through the whole path the VMM takes (boot.c copies the
 * entries, memmap.c sanitizes them): loader and boot-services memory become
 * RAM, runtime services and ACPI NVS in between stay out.
 */
static void test_vmm_view(void **state)
{
	struct efi_map m = { 0 };
	struct bios_e820_entry e820[16];
	struct mem_region regions[16];
	struct phys_range usable[16];
	size_t n, dropped, nu;

	(void)state;
	add(&m, EFI_BOOT_SERVICES_CODE, 0, 1);
	add(&m, EFI_CONVENTIONAL_MEMORY, 0x1000, 0x9f);
	add(&m, EFI_LOADER_DATA, 0x100000, 0x30);		/* the VMM's own pages */
	add(&m, EFI_CONVENTIONAL_MEMORY, 0x130000, 0x6d6);
	add(&m, EFI_ACPI_MEMORY_NVS, 0x806000, 2);
	add(&m, EFI_BOOT_SERVICES_DATA, 0x808000, 8);
	add(&m, EFI_RUNTIME_SERVICES_DATA, 0x1eaa0000, 0x102);
	add(&m, EFI_LOADER_CODE, 0x1eba2000, 0x10);
	add(&m, EFI_BOOT_SERVICES_CODE, 0x1ebb2000, 0x100);
	add(&m, EFI_UNUSABLE_MEMORY, 0x1ecb2000, 1);
	add(&m, EFI_MEMORY_MAPPED_IO, 0xffc00000, 0x400);

	n = efi_memmap_translate(m.bytes, m.count, STRIDE, e820, ARRAY_SIZE(e820), &dropped);
	assert_int_equal(dropped, 0);
	for (size_t i = 0; i < n; i++)
		regions[i] = (struct mem_region){ e820[i].base, e820[i].length, e820[i].type };
	nu = memmap_usable_ranges(regions, n, usable, ARRAY_SIZE(usable), &dropped);
	assert_int_equal(nu, 4);
	assert_int_equal(usable[0].start, 0);
	assert_int_equal(usable[0].end, 0xa0000);
	assert_int_equal(usable[1].start, 0x100000);
	assert_int_equal(usable[1].end, 0x806000);
	assert_int_equal(usable[2].start, 0x808000);
	assert_int_equal(usable[2].end, 0x810000);
	assert_int_equal(usable[3].start, 0x1eba2000);
	assert_int_equal(usable[3].end, 0x1ecb2000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_type_translation),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_out_max),
		cmocka_unit_test(test_huge_page_count),
		cmocka_unit_test(test_vmm_view),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
