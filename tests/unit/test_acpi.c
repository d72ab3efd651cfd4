/* Unit tests of the ACPI tables as a kernel parses them (RSDP scan, checksums, FADT, MADT) and of the PM timer's rate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "devices/io_bus.h"
#include "devices/pm_timer.h"
#include "vmm/acpi.h"
#include "vmm/multiboot_info.h"

#define RAM_SIZE	(2u << 20)
#define CANARY		0xa5

static struct guest_ram ram;

static int setup(void **state)
{
	(void)state;
	ram.size = RAM_SIZE;
	ram.host = malloc(RAM_SIZE);
	if (!ram.host)
		return -1;
	memset(ram.host, CANARY, RAM_SIZE);
	return acpi_build(&ram);
}

static int teardown(void **state)
{
	(void)state;
	free(ram.host);
	ram.host = NULL;
	return 0;
}

static uint8_t *at(uint32_t gpa)
{
	assert_true(gpa < RAM_SIZE);
	return ram.host + gpa;
}

static uint16_t get16(uint32_t gpa)
{
	return (uint16_t)(at(gpa)[0] | at(gpa)[1] << 8);
}

static uint32_t get32(uint32_t gpa)
{
	return get16(gpa) | (uint32_t)get16(gpa + 2) << 16;
}

static uint8_t sum(uint32_t gpa, uint32_t len)
{
	uint8_t s = 0;
	uint32_t i;

	for (i = 0; i < len; i++)
		s = (uint8_t)(s + at(gpa)[i]);
	return s;
}

/* What a kernel does: "RSD PTR " on a 16-byte boundary in 0xE0000-0xFFFFF, with a good checksum. */
static uint32_t scan_rsdp(void)
{
	uint32_t gpa, found = 0;
	unsigned hits = 0;

	for (gpa = 0xe0000; gpa < 0x100000; gpa += 16)
		if (!memcmp(at(gpa), "RSD PTR ", 8) && sum(gpa, ACPI_RSDP_SIZE) == 0) {
			found = gpa;
			hits++;
		}
	assert_int_equal(hits, 1);
	return found;
}

/* A table's signature, length, checksum; and it lies in the reserved F segment. */
static void check_table(uint32_t gpa, const char *sig, uint32_t len, uint8_t rev)
{
	assert_true(gpa >= 0xf0000 && gpa + len <= 0x100000);
	assert_memory_equal(at(gpa), sig, 4);
	assert_int_equal(get32(gpa + 4), len);
	assert_int_equal(at(gpa)[8], rev);
	assert_int_equal(sum(gpa, len), 0);
	assert_memory_equal(at(gpa + 10), "BOCHS ", 6);
	assert_memory_equal(at(gpa + 16), "BXPC    ", 8);
}

static uint32_t rsdt_entry(const char *sig)
{
	uint32_t rsdt = get32(scan_rsdp() + 16), n = (get32(rsdt + 4) - ACPI_HEADER_SIZE) / 4, i;

	for (i = 0; i < n; i++)
		if (!memcmp(at(get32(rsdt + ACPI_HEADER_SIZE + 4 * i)), sig, 4))
			return get32(rsdt + ACPI_HEADER_SIZE + 4 * i);
	fail_msg("no %s table in the RSDT", sig);
	return 0;
}

static void test_rsdp_and_rsdt(void **state)
{
	uint32_t rsdp = scan_rsdp(), rsdt;

	(void)state;
	assert_int_equal(rsdp, ACPI_RSDP_GPA);
	assert_int_equal(rsdp % 16, 0);
	assert_memory_equal(at(rsdp + 9), "BOCHS ", 6);
	assert_int_equal(at(rsdp)[15], 0);		/* revision 0: ACPI 1.0, as QEMU's pc */
	rsdt = get32(rsdp + 16);
	assert_int_equal(rsdt, ACPI_RSDT_GPA);
	check_table(rsdt, "RSDT", ACPI_RSDT_SIZE, 1);
	assert_int_equal(get32(rsdt + 36), ACPI_FADT_GPA);
	assert_int_equal(get32(rsdt + 40), ACPI_MADT_GPA);
}

static void test_fadt(void **state)
{
	uint32_t fadt = rsdt_entry("FACP"), facs, dsdt;

	(void)state;
	check_table(fadt, "FACP", ACPI_FADT_SIZE, 1);
	facs = get32(fadt + 36);
	assert_int_equal(facs % 64, 0);
	assert_memory_equal(at(facs), "FACS", 4);
	assert_int_equal(get32(facs + 4), ACPI_FACS_SIZE);
	dsdt = get32(fadt + 40);
	check_table(dsdt, "DSDT", ACPI_DSDT_SIZE, 1);
	assert_int_equal(get16(fadt + 46), 9);			/* SCI_INT */
	assert_int_equal(get32(fadt + 48), 0);			/* SMI_CMD: already in ACPI mode */
	assert_int_equal(get32(fadt + 56), 0x600);		/* PM1a_EVT_BLK */
	assert_int_equal(get32(fadt + 60), 0);
	assert_int_equal(get32(fadt + 64), 0x604);		/* PM1a_CNT_BLK */
	assert_int_equal(get32(fadt + 76), PM_TIMER_PORT);	/* PM_TMR_BLK */
	assert_int_equal(PM_TIMER_PORT, 0x608);
	assert_int_equal(at(fadt)[88], 4);
	assert_int_equal(at(fadt)[89], 2);
	assert_int_equal(at(fadt)[91], 4);			/* PM_TMR_LEN */
	assert_int_equal(get16(fadt + 96), 0xfff);
	assert_int_equal(get16(fadt + 98), 0xfff);
	/* A 24-bit timer: TMR_VAL_EXT clear, matching PM_TIMER_BITS. */
	assert_int_equal(PM_TIMER_BITS, 24);
	assert_int_equal(get32(fadt + 112) & ACPI_FADT_F_TMR_VAL_EXT, 0);
	assert_int_equal(get32(fadt + 112), 0x80a5);	/* what QEMU's pc FADT says */
}

static void test_madt(void **state)
{
	uint32_t madt = rsdt_entry("APIC"), end, off;
	unsigned cpus = 0, enabled = 0, ioapics = 0, irq0 = 0, entries = 0;

	(void)state;
	check_table(madt, "APIC", ACPI_MADT_SIZE, 1);
	assert_int_equal(get32(madt + 36), 0xfee00000);
	assert_int_equal(get32(madt + 40), 1);			/* PCAT_COMPAT */
	end = madt + get32(madt + 4);
	for (off = madt + 44; off < end; off += at(off)[1]) {
		uint8_t type = at(off)[0], len = at(off)[1];

		assert_true(len >= 2 && off + len <= end);
		entries++;
		switch (type) {
		case 0:
			assert_int_equal(len, 8);
			cpus++;
			assert_int_equal(at(off)[3], 0);		/* APIC id */
			if (get32(off + 4) & 1)
				enabled++;
			break;
		case 1:
			assert_int_equal(len, 12);
			ioapics++;
			assert_int_equal(at(off)[2], 0);
			assert_int_equal(get32(off + 4), 0xfec00000);
			assert_int_equal(get32(off + 8), 0);
			break;
		case 2:
			assert_int_equal(len, 10);
			assert_int_equal(at(off)[2], 0);		/* ISA */
			if (at(off)[3] == 0) {
				irq0++;
				assert_int_equal(get32(off + 4), 2);
				assert_int_equal(get16(off + 8), 0);
			} else {
				assert_int_equal(get32(off + 4), at(off)[3]);
				assert_int_equal(get16(off + 8), 0xd);
			}
			break;
		case 4:
			assert_int_equal(len, 6);
			assert_int_equal(at(off)[5], 1);		/* LINT1 */
			break;
		default:
			fail_msg("unexpected MADT entry type %u", type);
		}
	}
	assert_int_equal(off, end);
	assert_int_equal(cpus, 1);
	assert_int_equal(enabled, 1);
	assert_int_equal(ioapics, 1);
	assert_int_equal(irq0, 1);
	assert_int_equal(entries, 1 + 1 + 5 + 1);
}

/* The checker is not vacuous: one changed byte in any table breaks its checksum. */
static void test_checksums_catch_corruption(void **state)
{
	static const uint32_t tables[] = { ACPI_RSDT_GPA, ACPI_FADT_GPA, ACPI_DSDT_GPA, ACPI_MADT_GPA };
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		uint32_t len = get32(tables[i] + 4);

		at(tables[i])[len - 1] ^= 0x10;
		assert_int_not_equal(sum(tables[i], len), 0);
		at(tables[i])[len - 1] ^= 0x10;
		assert_int_equal(sum(tables[i], len), 0);
	}
	at(ACPI_RSDP_GPA)[19] ^= 1;
	assert_int_not_equal(sum(ACPI_RSDP_GPA, ACPI_RSDP_SIZE), 0);
	at(ACPI_RSDP_GPA)[19] ^= 1;
}

/* A rebuild (a new VM in the same RAM) gives the same bytes whatever the guest left; nothing outside the area changes. */
static void test_rebuild_and_bounds(void **state)
{
	uint8_t copy[ACPI_AREA_END - ACPI_RSDP_GPA];
	struct guest_ram small = { ram.host, ACPI_AREA_END - 1 };

	(void)state;
	memcpy(copy, at(ACPI_RSDP_GPA), sizeof(copy));
	memset(at(0xe0000), 0x5a, 0x20000);
	assert_int_equal(acpi_build(&ram), 0);
	assert_memory_equal(at(ACPI_RSDP_GPA), copy, sizeof(copy));
	assert_int_equal(at(ACPI_RSDP_GPA - 1)[0], 0x5a);
	assert_int_equal(at(ACPI_AREA_END)[0], 0x5a);
	/* Too little RAM: refused, nothing written. */
	memset(at(0xe0000), 0x5a, 0x20000);
	assert_int_equal(acpi_build(&small), -1);
	assert_int_equal(at(ACPI_RSDP_GPA)[0], 0x5a);
	assert_int_equal(acpi_build(&ram), 0);
}

/* The tables lie in memory the guest's multiboot memory map calls reserved, never usable. */
static void test_tables_reserved_in_memory_map(void **state)
{
	struct guest_ram big = { malloc(8u << 20), 8u << 20 };
	uint64_t mbi, end;
	uint32_t mmap, len, off;
	bool covered = false;

	(void)state;
	assert_non_null(big.host);
	memset(big.host, 0, big.size);
	assert_int_equal(acpi_build(&big), 0);
	assert_int_equal(multiboot_info_build(&big, 0x200000, "x", NULL, 0, &mbi, &end, NULL, 0), 0);
	mmap = *(uint32_t *)(big.host + mbi + 48);
	len = *(uint32_t *)(big.host + mbi + 44);
	for (off = 0; off < len; off += *(uint32_t *)(big.host + mmap + off) + 4) {
		const uint8_t *e = big.host + mmap + off;
		uint64_t base, size;
		uint32_t type;

		memcpy(&base, e + 4, 8);
		memcpy(&size, e + 12, 8);
		memcpy(&type, e + 20, 4);
		/* No usable range touches the tables ... */
		if (type == 1)
			assert_true(base + size <= ACPI_RSDP_GPA || base >= ACPI_AREA_END);
		/* ... and a reserved one holds them all. */
		if (type == 2 && base <= ACPI_RSDP_GPA && base + size >= ACPI_AREA_END)
			covered = true;
	}
	assert_true(covered);
	free(big.host);
}

/* ---- The PM timer against a fake TSC ---- */

static uint64_t fake_tsc;

static uint64_t read_fake_tsc(void *ctx)
{
	(void)ctx;
	return fake_tsc;
}

static uint64_t expected_ticks(uint64_t delta, uint64_t hz)
{
	return (uint64_t)((unsigned __int128)delta * PM_TIMER_HZ / hz);
}

static void check_rate(uint64_t hz, uint64_t base)
{
	static const uint64_t deltas[] = {
		0, 1, 2, 1000, 999999, 1000000007, 123456789012ull, 5000000000000ull,
		1ull << 40, 1ull << 52, 0xffffffffffffull,
	};
	struct pm_timer t;
	struct io_bus bus;
	uint32_t prev;
	unsigned i;

	fake_tsc = base;
	pm_timer_init(&t, hz, read_fake_tsc, NULL);
	io_bus_init(&bus);
	assert_int_equal(io_bus_register(&bus, pm_timer_device(&t)), 0);
	assert_int_equal(io_bus_read(&bus, 0x608, 4), 0);
	/* One second of TSC is 3579545 ticks exactly, at any rate. */
	fake_tsc = base + hz;
	assert_int_equal(pm_timer_ticks(&t), PM_TIMER_HZ);
	assert_int_equal(io_bus_read(&bus, 0x608, 4), PM_TIMER_HZ);
	for (i = 0; i < sizeof(deltas) / sizeof(deltas[0]); i++) {
		fake_tsc = base + deltas[i];
		assert_int_equal(pm_timer_ticks(&t), expected_ticks(deltas[i], hz));
		assert_int_equal(io_bus_read(&bus, 0x608, 4), expected_ticks(deltas[i], hz) & 0xffffff);
	}
	/* Monotonic modulo 2^24 across a wrap, never more than one tick per step when the TSC is faster. */
	fake_tsc = base + hz * 4;			/* 14318180 ticks: about 2.4 M before the wrap */
	prev = io_bus_read(&bus, 0x608, 4);
	for (i = 0; i < 4000; i++) {
		uint32_t now;

		fake_tsc += hz / 1000;			/* 1 ms: 3579 or 3580 ticks */
		now = io_bus_read(&bus, 0x608, 4);
		assert_true(((now - prev) & 0xffffff) >= 3579 && ((now - prev) & 0xffffff) <= 3580);
		assert_true(now <= 0xffffff);
		prev = now;
	}
	assert_true(pm_timer_ticks(&t) > (1u << 24));	/* it did wrap */
	/* Writes do nothing; narrow reads get the low bytes. */
	fake_tsc = base + hz / 7;
	prev = io_bus_read(&bus, 0x608, 4);
	io_bus_write(&bus, 0x608, 4, 0);
	assert_int_equal(io_bus_read(&bus, 0x608, 4), prev);
	assert_int_equal(io_bus_read(&bus, 0x608, 2), prev & 0xffff);
	assert_int_equal(io_bus_read(&bus, 0x608, 1), prev & 0xff);
	assert_int_equal(io_bus_read(&bus, 0x609, 1), (prev >> 8) & 0xff);
	assert_int_equal(bus.unclaimed_reads, 0);
	/* The PM1 blocks at 0x600-0x607 are not this device's. */
	assert_null(io_bus_find(&bus, 0x607));
	assert_null(io_bus_find(&bus, 0x60c));
}

static void test_pm_timer_rates(void **state)
{
	(void)state;
	check_rate(2500000000ull, 123456789);		/* a 2.5 GHz host */
	check_rate(50000000ull, 0);			/* Bochs at ips=50M: its TSC counts instructions */
	check_rate(3579545ull, 7);			/* one tick per cycle */
	check_rate(4000000000ull, ~0ull - 1000);	/* the TSC wraps between init and reads */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rsdp_and_rsdt),
		cmocka_unit_test(test_fadt),
		cmocka_unit_test(test_madt),
		cmocka_unit_test(test_checksums_catch_corruption),
		cmocka_unit_test(test_rebuild_and_bounds),
		cmocka_unit_test(test_tables_reserved_in_memory_map),
		cmocka_unit_test(test_pm_timer_rates),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
