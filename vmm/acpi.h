/* ACPI tables as QEMU's pc machine gives them (RSDP, RSDT, FADT, FACS, DSDT, MADT), built in the guest's BIOS area. */
#ifndef VMM_ACPI_H
#define VMM_ACPI_H

#include <stdint.h>

#include "vmm/guest_ram.h"

/*
 * Where the tables go: the first KiB of the F segment.  The multiboot
 * memory map (vmm/multiboot_info.h) reports [0xf0000, 0x100000) reserved
 * and the loader refuses to put a kernel there, so the guest neither gets
 * this memory as RAM nor has it overwritten at load.  The RSDP lies on a
 * 16-byte boundary in 0xF0000-0xFFFFF, where kernels scan for it (Linux
 * scans 0xE0000-0xFFFFF, kvm-unit-tests 0xF0000-0xFFFFF); the FACS on a
 * 64-byte boundary as the spec asks.
 */
#define ACPI_RSDP_GPA		0xf0000u
#define ACPI_FACS_GPA		0xf0040u
#define ACPI_RSDT_GPA		0xf0080u
#define ACPI_FADT_GPA		0xf0100u
#define ACPI_DSDT_GPA		0xf0180u
#define ACPI_MADT_GPA		0xf0200u
#define ACPI_AREA_END		0xf0300u

#define ACPI_RSDP_SIZE		20	/* ACPI 1.0: revision 0, RSDT only, as QEMU's pc machine */
#define ACPI_HEADER_SIZE	36
#define ACPI_FACS_SIZE		64
#define ACPI_RSDT_ENTRIES	2	/* FADT, MADT: the order QEMU lists them in */
#define ACPI_RSDT_SIZE		(ACPI_HEADER_SIZE + 4 * ACPI_RSDT_ENTRIES)
#define ACPI_FADT_SIZE		116	/* revision 1 (ACPI 1.0), as QEMU's pc machine */
#define ACPI_DSDT_SIZE		ACPI_HEADER_SIZE	/* an empty definition block */
/* Header, local APIC address and flags, then one CPU, the IOAPIC, 5 overrides, 1 local APIC NMI. */
#define ACPI_MADT_SIZE		(ACPI_HEADER_SIZE + 8 + 8 + 12 + 5 * 10 + 6)

/* PIIX4 PM block at QEMU's pm_io_base: PM1a event (4 bytes), PM1a control (2), the timer (4). */
#define ACPI_PM_BASE		0x600u
#define ACPI_PM1A_EVT_BLK	(ACPI_PM_BASE + 0)
#define ACPI_PM1A_CNT_BLK	(ACPI_PM_BASE + 4)
#define ACPI_PM_TMR_BLK		(ACPI_PM_BASE + 8)
#define ACPI_SCI_IRQ		9

#define ACPI_LAPIC_ADDR		0xfee00000u
#define ACPI_IOAPIC_ADDR	0xfec00000u
#define ACPI_IOAPIC_ID		0	/* QEMU's ACPI_BUILD_IOAPIC_ID */

/* FADT flags QEMU's piix4 FADT sets; TMR_VAL_EXT (bit 8) stays clear: the PM timer has 24 bits. */
#define ACPI_FADT_F_WBINVD	(1u << 0)
#define ACPI_FADT_F_PROC_C1	(1u << 2)
#define ACPI_FADT_F_SLP_BUTTON	(1u << 5)
#define ACPI_FADT_F_RTC_S4	(1u << 7)
#define ACPI_FADT_F_TMR_VAL_EXT	(1u << 8)
#define ACPI_FADT_F_USE_PLATFORM_CLOCK	(1u << 15)

/*
 * Writes every table into guest RAM at the addresses above (checksums
 * right), replacing what was there.  Returns 0, or -1 with RAM untouched
 * when RAM ends below ACPI_AREA_END.
 */
int acpi_build(const struct guest_ram *ram);

#endif
