/* Building the ACPI tables a kernel for QEMU's pc machine looks for, byte by byte, little-endian. */
#include "vmm/acpi.h"
#include "vmm/string.h"

/* QEMU's identifiers (ACPI_BUILD_APPNAME6, ACPI_BUILD_APPNAME8, creator "BXPC"). */
#define ACPI_OEM_ID		"BOCHS "
#define ACPI_OEM_TABLE_ID	"BXPC    "
#define ACPI_CREATOR_ID		"BXPC"

/* MADT entry types (ACPI 1.0 section 5.2.8). */
#define MADT_LOCAL_APIC		0
#define MADT_IO_APIC		1
#define MADT_INT_OVERRIDE	2
#define MADT_LOCAL_APIC_NMI	4
#define MADT_PCAT_COMPAT	1u	/* the 8259 pair is there too */
#define MADT_LAPIC_ENABLED	1u
/* MPS INTI flags: active high (01), level triggered (11 << 2). */
#define MADT_FLAGS_LEVEL_HIGH	0xdu

static void put8(uint8_t *p, uint32_t off, uint8_t v)
{
	p[off] = v;
}

static void put16(uint8_t *p, uint32_t off, uint16_t v)
{
	p[off] = (uint8_t)v;
	p[off + 1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t off, uint32_t v)
{
	put16(p, off, (uint16_t)v);
	put16(p, off + 2, (uint16_t)(v >> 16));
}

/* The byte that makes the first len bytes of p sum to 0, stored at p[at] (which must be 0 now). */
static void set_checksum(uint8_t *p, uint32_t len, uint32_t at)
{
	uint8_t sum = 0;
	uint32_t i;

	for (i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	p[at] = (uint8_t)-sum;
}

/* The standard header with revision rev; the checksum (offset 9) is set once the body is in. */
static void header(uint8_t *p, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(p, sig, 4);
	put32(p, 4, len);
	put8(p, 8, rev);
	memcpy(p + 10, ACPI_OEM_ID, 6);
	memcpy(p + 16, ACPI_OEM_TABLE_ID, 8);
	put32(p, 24, 1);			/* OEM revision */
	memcpy(p + 28, ACPI_CREATOR_ID, 4);
	put32(p, 32, 1);			/* creator revision */
}

static void build_rsdp(uint8_t *p)
{
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, ACPI_OEM_ID, 6);
	put8(p, 15, 0);				/* revision 0: ACPI 1.0, no XSDT */
	put32(p, 16, ACPI_RSDT_GPA);
	set_checksum(p, ACPI_RSDP_SIZE, 8);
}

static void build_facs(uint8_t *p)
{
	/* No checksum; hardware signature, waking vector, global lock and flags all 0. */
	memcpy(p, "FACS", 4);
	put32(p, 4, ACPI_FACS_SIZE);
}

static void build_rsdt(uint8_t *p)
{
	header(p, "RSDT", ACPI_RSDT_SIZE, 1);
	put32(p, 36, ACPI_FADT_GPA);
	put32(p, 40, ACPI_MADT_GPA);
	set_checksum(p, ACPI_RSDT_SIZE, 9);
}

/*
 * QEMU's piix4 FADT (revision 1), except SMI_CMD, ACPI_ENABLE/DISABLE and
 * GPE0: there is no SMI port (0xb2) and no GPE block (0xafe0) behind them
 * here, and SMI_CMD = 0 tells the OS the machine is in ACPI mode already,
 * so it never waits for a mode switch nobody would make.
 */
static void build_fadt(uint8_t *p)
{
	header(p, "FACP", ACPI_FADT_SIZE, 1);
	put32(p, 36, ACPI_FACS_GPA);		/* FIRMWARE_CTRL */
	put32(p, 40, ACPI_DSDT_GPA);
	put8(p, 44, 1);				/* INT_MODEL: multiple APIC (ACPI 1.0) */
	put16(p, 46, ACPI_SCI_IRQ);
	put32(p, 48, 0);			/* SMI_CMD */
	put32(p, 56, ACPI_PM1A_EVT_BLK);
	put32(p, 64, ACPI_PM1A_CNT_BLK);
	put32(p, 76, ACPI_PM_TMR_BLK);
	put8(p, 88, 4);				/* PM1_EVT_LEN */
	put8(p, 89, 2);				/* PM1_CNT_LEN */
	put8(p, 91, 4);				/* PM_TMR_LEN */
	put16(p, 96, 0xfff);			/* P_LVL2_LAT: no C2 */
	put16(p, 98, 0xfff);			/* P_LVL3_LAT: no C3 */
	put8(p, 108, 0x32);			/* CENTURY: CMOS register, as QEMU's RTC_CENTURY */
	put32(p, 112, ACPI_FADT_F_WBINVD | ACPI_FADT_F_PROC_C1 | ACPI_FADT_F_SLP_BUTTON |
		      ACPI_FADT_F_RTC_S4 | ACPI_FADT_F_USE_PLATFORM_CLOCK);
	set_checksum(p, ACPI_FADT_SIZE, 9);
}

/* An empty AML definition block: valid, and the FADT must point at a DSDT. */
static void build_dsdt(uint8_t *p)
{
	header(p, "DSDT", ACPI_DSDT_SIZE, 1);
	set_checksum(p, ACPI_DSDT_SIZE, 9);
}

static uint32_t madt_override(uint8_t *p, uint32_t off, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	put8(p, off, MADT_INT_OVERRIDE);
	put8(p, off + 1, 10);
	put8(p, off + 2, 0);			/* bus: ISA */
	put8(p, off + 3, irq);
	put32(p, off + 4, gsi);
	put16(p, off + 8, flags);
	return off + 10;
}

/*
 * QEMU's pc MADT for one CPU: local APIC 0, the IOAPIC (id 0, GSI base 0),
 * ISA IRQ 0 on GSI 2 (the PIT is wired to IOAPIC pin 2), IRQs 5, 9, 10 and
 * 11 level-triggered active high (the PCI and SCI lines), and the NMI on
 * LINT1 of every CPU.
 */
static void build_madt(uint8_t *p)
{
	static const uint8_t level_irqs[] = { 5, 9, 10, 11 };
	uint32_t off = ACPI_HEADER_SIZE;
	unsigned i;

	header(p, "APIC", ACPI_MADT_SIZE, 1);
	put32(p, off, ACPI_LAPIC_ADDR);
	put32(p, off + 4, MADT_PCAT_COMPAT);
	off += 8;
	put8(p, off, MADT_LOCAL_APIC);
	put8(p, off + 1, 8);
	put8(p, off + 2, 0);			/* ACPI processor id */
	put8(p, off + 3, 0);			/* APIC id */
	put32(p, off + 4, MADT_LAPIC_ENABLED);
	off += 8;
	put8(p, off, MADT_IO_APIC);
	put8(p, off + 1, 12);
	put8(p, off + 2, ACPI_IOAPIC_ID);
	put8(p, off + 3, 0);
	put32(p, off + 4, ACPI_IOAPIC_ADDR);
	put32(p, off + 8, 0);			/* GSI base */
	off += 12;
	off = madt_override(p, off, 0, 2, 0);	/* flags 0: the bus's defaults (edge, active high) */
	for (i = 0; i < sizeof(level_irqs); i++)
		off = madt_override(p, off, level_irqs[i], level_irqs[i], MADT_FLAGS_LEVEL_HIGH);
	put8(p, off, MADT_LOCAL_APIC_NMI);
	put8(p, off + 1, 6);
	put8(p, off + 2, 0xff);			/* every processor */
	put16(p, off + 3, 0);			/* flags: the bus's defaults */
	put8(p, off + 5, 1);			/* LINT1 */
	set_checksum(p, ACPI_MADT_SIZE, 9);
}

_Static_assert(ACPI_RSDP_GPA % 16 == 0 && ACPI_FACS_GPA % 64 == 0, "RSDP and FACS alignment");
_Static_assert(ACPI_RSDP_GPA + ACPI_RSDP_SIZE <= ACPI_FACS_GPA &&
	       ACPI_FACS_GPA + ACPI_FACS_SIZE <= ACPI_RSDT_GPA &&
	       ACPI_RSDT_GPA + ACPI_RSDT_SIZE <= ACPI_FADT_GPA &&
	       ACPI_FADT_GPA + ACPI_FADT_SIZE <= ACPI_DSDT_GPA &&
	       ACPI_DSDT_GPA + ACPI_DSDT_SIZE <= ACPI_MADT_GPA &&
	       ACPI_MADT_GPA + ACPI_MADT_SIZE <= ACPI_AREA_END, "the tables do not overlap");
_Static_assert(ACPI_RSDP_GPA >= 0xf0000 && ACPI_AREA_END <= 0x100000, "inside the reserved F segment");

int acpi_build(const struct guest_ram *ram)
{
	uint8_t *area;

	if (!guest_ram_contains(ram, ACPI_RSDP_GPA, ACPI_AREA_END - ACPI_RSDP_GPA))
		return -1;
	area = guest_ram_ptr(ram, ACPI_RSDP_GPA);
	memset(area, 0, ACPI_AREA_END - ACPI_RSDP_GPA);
	build_rsdp(area);
	build_facs(area + (ACPI_FACS_GPA - ACPI_RSDP_GPA));
	build_rsdt(area + (ACPI_RSDT_GPA - ACPI_RSDP_GPA));
	build_fadt(area + (ACPI_FADT_GPA - ACPI_RSDP_GPA));
	build_dsdt(area + (ACPI_DSDT_GPA - ACPI_RSDP_GPA));
	build_madt(area + (ACPI_MADT_GPA - ACPI_RSDP_GPA));
	return 0;
}
