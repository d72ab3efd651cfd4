/* The UEFI memory map as E820 entries: type translation and merging of touching pieces. */
#include "boot/efi.h"
#include "boot/efi_memmap.h"

uint32_t efi_memory_type_to_e820(uint32_t efi_type)
{
	switch (efi_type) {
	case EFI_LOADER_CODE:
	case EFI_LOADER_DATA:
	case EFI_BOOT_SERVICES_CODE:
	case EFI_BOOT_SERVICES_DATA:
	case EFI_CONVENTIONAL_MEMORY:
		return MEM_USABLE;
	case EFI_ACPI_RECLAIM_MEMORY:
		return MEM_ACPI_RECLAIMABLE;
	case EFI_ACPI_MEMORY_NVS:
		return MEM_ACPI_NVS;
	case EFI_UNUSABLE_MEMORY:
		return MEM_BAD;
	default:
		return MEM_RESERVED;
	}
}

size_t efi_memmap_translate(const void *map, size_t count, size_t desc_size,
			    struct bios_e820_entry *out, size_t out_max, size_t *dropped)
{
	size_t n = 0;

	*dropped = 0;
	for (size_t i = 0; i < count; i++) {
		const struct efi_memory_descriptor *d =
			(const void *)((const char *)map + i * desc_size);
		uint32_t type = efi_memory_type_to_e820(d->type);
		uint64_t length;

		if (d->number_of_pages == 0)
			continue;
		/* A page count this large would wrap; vmm/memmap.c clips what reaches 2^64. */
		if (d->number_of_pages > UINT64_MAX / EFI_PAGE_SIZE)
			length = UINT64_MAX - d->physical_start;
		else
			length = d->number_of_pages * EFI_PAGE_SIZE;
		if (n && out[n - 1].type == type &&
		    out[n - 1].base + out[n - 1].length == d->physical_start &&
		    length <= UINT64_MAX - out[n - 1].length) {
			out[n - 1].length += length;
			continue;
		}
		if (n == out_max) {
			(*dropped)++;
			continue;
		}
		out[n].base = d->physical_start;
		out[n].length = length;
		out[n].type = type;
		out[n].acpi_attributes = 1;	/* ACPI 3.0 "enabled" bit, as E820 reports it */
		n++;
	}
	return n;
}
