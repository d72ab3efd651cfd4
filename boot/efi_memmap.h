/* Translating the UEFI memory map into the E820-style regions of the VMM's boot handover. */
#ifndef BOOT_EFI_MEMMAP_H
#define BOOT_EFI_MEMMAP_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/boot.h"

/*
 * The E820 type (vmm/memmap.h) of a UEFI memory type as the VMM sees it
 * after ExitBootServices(): loader, boot-services and conventional memory
 * are RAM it may use (MEM_USABLE); ACPI reclaim and NVS keep their E820
 * meaning; unusable memory is MEM_BAD; everything else (runtime services
 * code and data, MMIO, reserved, PAL code, persistent and unaccepted
 * memory, unknown types) is MEM_RESERVED.
 */
uint32_t efi_memory_type_to_e820(uint32_t efi_type);

/*
 * Translates the UEFI map (count descriptors, desc_size bytes apart, as
 * GetMemoryMap() returns it) into out, at most out_max entries, and
 * returns how many it wrote.  Descriptors that translate to the same type
 * and touch the one before them (in the firmware's order) are merged into
 * one entry, so OVMF's many loader and boot-services pieces take few
 * entries.  Descriptors with zero pages are skipped.  Entries that do not
 * fit are counted in *dropped (never NULL), highest first being the usual
 * order: the firmware sorts its map by address.
 */
size_t efi_memmap_translate(const void *map, size_t count, size_t desc_size,
			    struct bios_e820_entry *out, size_t out_max, size_t *dropped);

#endif
