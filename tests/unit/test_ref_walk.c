/* Hand-checked SDM cases for the reference walker, so the oracle of the differential MMU test is itself tested. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/ref_walk.h"

/* 8 MiB of guest RAM at gpa 0; tables at fixed pages below. */
#define RAM_SIZE (8u << 20)
static uint8_t ram[RAM_SIZE];

static void *ram_ptr(void *ctx, uint64_t gpa, unsigned len)
{
	(void)ctx;
	return gpa < RAM_SIZE && len <= RAM_SIZE - gpa ? ram + gpa : NULL;
}

static const struct ref_mem mem = { ram_ptr, NULL };

#define P	GPTE_PRESENT
#define W	GPTE_WRITABLE
#define U	GPTE_USER
#define A	GPTE_ACCESSED
#define D	GPTE_DIRTY
#define PS	GPTE_LARGE
#define NX	GPTE_NX

static void put32(uint64_t gpa, uint32_t v)
{
	memcpy(ram + gpa, &v, 4);
}

static void put64(uint64_t gpa, uint64_t v)
{
	memcpy(ram + gpa, &v, 8);
}

static uint64_t get64(uint64_t gpa)
{
	uint64_t v;

	memcpy(&v, ram + gpa, 8);
	return v;
}

static struct guest_paging paging(enum guest_paging_mode mode, uint64_t cr3)
{
	struct guest_paging p;

	memset(&p, 0, sizeof(p));
	p.maxphyaddr = 36;
	p.cr3 = cr3;
	if (mode != PAGING_OFF)
		p.cr0 = PG_CR0_PG | PG_CR0_WP;
	if (mode == PAGING_PAE || mode == PAGING_4LEVEL)
		p.cr4 = PG_CR4_PAE;
	if (mode == PAGING_4LEVEL)
		p.efer = PG_EFER_LME | PG_EFER_LMA;
	return p;
}

static uint64_t expect_ok(const struct guest_paging *p, uint64_t gva, unsigned access)
{
	struct ref_result r;

	ref_walk(&mem, p, gva, access, &r);
	assert_false(r.fault);
	return r.gpa;
}

static uint32_t expect_fault(const struct guest_paging *p, uint64_t gva, unsigned access)
{
	struct ref_result r;

	ref_walk(&mem, p, gva, access, &r);
	assert_true(r.fault);
	return r.error_code;
}

static void test_paging_off(void **state)
{
	struct guest_paging p = paging(PAGING_OFF, 0);

	(void)state;
	assert_int_equal(expect_ok(&p, 0x123456789abcull, WALK_WRITE | WALK_USER), 0x56789abcull);
}

/* 32-bit paging: PD at 0x1000, PT at 0x2000. */
static void test_32bit(void **state)
{
	struct guest_paging p = paging(PAGING_32, 0x1000 | 0x18);	/* PWT/PCD bits in CR3 are ignored */

	(void)state;
	memset(ram, 0, RAM_SIZE);
	put32(0x1000 + 4 * 1, 0x2000 | P | W | U);		/* 4 MiB .. 8 MiB through the PT */
	put32(0x2000 + 4 * 5, 0x00345000 | P | U);		/* gva 0x405000: read-only user page */
	assert_int_equal(expect_ok(&p, 0x405abc, WALK_USER), 0x345abc);
	assert_int_equal(get64(0x1000 + 4) & 0xffffffff, 0x2000 | P | W | U | A);
	assert_int_equal(get64(0x2000 + 4 * 5) & 0xffffffff, 0x00345000 | P | U | A);
	/* User write to a read-only page; no A/D change on a fault. */
	put32(0x2000 + 4 * 5, 0x00345000 | P | U);
	assert_int_equal(expect_fault(&p, 0x405000, WALK_USER | WALK_WRITE), PFERR_PRESENT | PFERR_WRITE | PFERR_USER);
	assert_int_equal(get64(0x2000 + 4 * 5) & 0xffffffff, 0x00345000 | P | U);
	/* Supervisor write: allowed with CR0.WP = 0 only, and SMAP forbids it unless EFLAGS.AC. */
	assert_int_equal(expect_fault(&p, 0x405000, WALK_WRITE), PFERR_PRESENT | PFERR_WRITE);
	p.cr0 &= ~PG_CR0_WP;
	assert_int_equal(expect_ok(&p, 0x405000, WALK_WRITE), 0x345000);
	assert_int_equal(get64(0x2000 + 4 * 5) & 0xffffffff, 0x00345000 | P | U | A | D);
	p.cr4 |= PG_CR4_SMAP;
	assert_int_equal(expect_fault(&p, 0x405000, WALK_WRITE), PFERR_PRESENT | PFERR_WRITE);
	assert_int_equal(expect_fault(&p, 0x405000, 0), PFERR_PRESENT);
	assert_int_equal(expect_ok(&p, 0x405000, WALK_SMAP_AC), 0x345000);
	/* Fetch: 32-bit paging has no XD, so I/D is reported only with SMEP, which refuses user pages to CPL 0. */
	p.efer |= PG_EFER_NXE;
	assert_int_equal(expect_fault(&p, 0x406000, WALK_FETCH), 0);
	p.cr4 |= PG_CR4_SMEP;
	assert_int_equal(expect_fault(&p, 0x406000, WALK_FETCH), PFERR_FETCH);
	assert_int_equal(expect_fault(&p, 0x405000, WALK_FETCH), PFERR_PRESENT | PFERR_FETCH);
	assert_int_equal(expect_ok(&p, 0x405000, WALK_FETCH | WALK_USER), 0x345000);
	/* User read of a supervisor page. */
	put32(0x2000 + 4 * 6, 0x00346000 | P | W);
	assert_int_equal(expect_fault(&p, 0x406000, WALK_USER), PFERR_PRESENT | PFERR_USER);
	assert_int_equal(expect_ok(&p, 0x406000, WALK_FETCH), 0x346000);
}

static void test_32bit_pse(void **state)
{
	struct guest_paging p = paging(PAGING_32, 0x1000);

	(void)state;
	memset(ram, 0, RAM_SIZE);
	/* PDE 2 has PS: without CR4.PSE it references a page table at its bits 31:12 (empty here). */
	put32(0x1000 + 4 * 2, 0x00400000 | 0x1000 | P | W | PS);
	assert_int_equal(expect_fault(&p, 0x800000, 0), 0);
	p.cr4 |= PG_CR4_PSE;
	assert_int_equal(expect_ok(&p, 0x8abcde, 0), 0x4abcde);
	assert_int_equal(get64(0x1000 + 8) & 0xffffffff, 0x00401000 | P | W | PS | A);
	/* PSE-36: bits 20:13 give address bits 39:32; with MAXPHYADDR 36 bits 21:17 are reserved. */
	put32(0x1000 + 4 * 3, 0x00c00000 | (0x5u << 13) | P | PS);
	assert_int_equal(expect_ok(&p, 0xc12345, 0), 0x500c12345ull);
	put32(0x1000 + 4 * 3, 0x00c00000 | (0x10u << 13) | P | PS);
	assert_int_equal(expect_fault(&p, 0xc12345, 0), PFERR_PRESENT | PFERR_RSVD);
	p.maxphyaddr = 40;
	assert_int_equal(expect_ok(&p, 0xc12345, 0), 0x1000c12345ull);
	put32(0x1000 + 4 * 3, 0x00c00000 | (1u << 21) | P | PS);
	assert_int_equal(expect_fault(&p, 0xc12345, WALK_WRITE), PFERR_PRESENT | PFERR_RSVD | PFERR_WRITE);
}

/* PAE: PDPT at 0x1020 (32-byte aligned, not page aligned), PD at 0x2000, PT at 0x3000. */
static void test_pae(void **state)
{
	struct guest_paging p = paging(PAGING_PAE, 0x1020);

	(void)state;
	memset(ram, 0, RAM_SIZE);
	put64(0x1020 + 8 * 1, 0x2000 | P);
	put64(0x2000 + 8 * 3, 0x3000 | P | W | U);
	put64(0x3000 + 8 * 4, 0x5000 | P | W | U | NX);
	put64(0x2000 + 8 * 4, 0x00200000 | P | W | PS);		/* 2 MiB page */
	assert_true(ref_load_pdptes(&mem, p.cr3, p.maxphyaddr, p.pdptes));
	assert_int_equal(p.pdptes[1], 0x2000 | P);
	/* PDPTE 0 is not present; the PDPTE registers have no A bit. */
	assert_int_equal(expect_fault(&p, 0x1000, WALK_USER), PFERR_USER);
	/* XD without EFER.NXE is a reserved bit. */
	assert_int_equal(expect_fault(&p, 0x40604000, 0), PFERR_PRESENT | PFERR_RSVD);
	p.efer |= PG_EFER_NXE;
	assert_int_equal(expect_ok(&p, 0x40604321, WALK_USER | WALK_WRITE), 0x5321);
	assert_int_equal(get64(0x1020 + 8), 0x2000 | P);
	assert_int_equal(get64(0x2000 + 8 * 3), 0x3000 | P | W | U | A);
	assert_int_equal(get64(0x3000 + 8 * 4), 0x5000 | P | W | U | NX | A | D);
	assert_int_equal(expect_fault(&p, 0x40604000, WALK_FETCH | WALK_USER),
			 PFERR_PRESENT | PFERR_FETCH | PFERR_USER);
	/* 2 MiB page; bit 13 reserved there, bit 62 reserved everywhere under PAE. */
	assert_int_equal(expect_ok(&p, 0x40812345, 0), 0x212345);
	put64(0x2000 + 8 * 4, 0x00200000 | P | W | PS | (1ull << 13));
	assert_int_equal(expect_fault(&p, 0x40812345, 0), PFERR_PRESENT | PFERR_RSVD);
	put64(0x2000 + 8 * 4, 0x00200000 | P | W | PS | (1ull << 62));
	assert_int_equal(expect_fault(&p, 0x40812345, 0), PFERR_PRESENT | PFERR_RSVD);
	/* A present PDPTE with a reserved bit does not load (#GP). */
	put64(0x1020 + 8 * 2, 0x2000 | P | W);
	assert_false(ref_load_pdptes(&mem, p.cr3, p.maxphyaddr, p.pdptes));
}

/* 4-level: PML4 at 0x1000, PDPT at 0x2000, PD at 0x3000, PT at 0x4000. */
static void test_4level(void **state)
{
	struct guest_paging p = paging(PAGING_4LEVEL, 0x1000);
	uint64_t gva = 0xffff800000000000ull | (0x101ull << 39) | (2ull << 30) | (3ull << 21) | (4ull << 12);

	(void)state;
	memset(ram, 0, RAM_SIZE);
	p.maxphyaddr = 46;
	put64(0x1000 + 8 * 0x101, 0x2000 | P | W | U);
	put64(0x2000 + 8 * 2, 0x3000 | P | W | U);
	put64(0x3000 + 8 * 3, 0x4000 | P | W | U);
	put64(0x4000 + 8 * 4, 0x7000 | P | W | U | (0x7full << 52));	/* 58:52 are ignored */
	assert_int_equal(expect_ok(&p, gva | 0x123, WALK_USER), 0x7123);
	assert_int_equal(get64(0x1000 + 8 * 0x101), 0x2000 | P | W | U | A);
	assert_int_equal(get64(0x4000 + 8 * 4), 0x7000 | P | W | U | A | (0x7full << 52));
	/* Bit 51 reserved with MAXPHYADDR 46. */
	put64(0x3000 + 8 * 3, 0x4000 | P | W | U | (1ull << 51));
	assert_int_equal(expect_fault(&p, gva, WALK_USER | WALK_WRITE), PFERR_PRESENT | PFERR_RSVD | PFERR_USER | PFERR_WRITE);
	/* A supervisor PDE makes the whole translation supervisor. */
	put64(0x3000 + 8 * 3, 0x4000 | P | W);
	assert_int_equal(expect_fault(&p, gva, WALK_USER), PFERR_PRESENT | PFERR_USER);
	/* 1 GiB pages only with gbpages; PS in a PML4E is always reserved. */
	put64(0x2000 + 8 * 2, 0x40000000 | P | W | PS);
	assert_int_equal(expect_fault(&p, gva, 0), PFERR_PRESENT | PFERR_RSVD);
	p.gbpages = true;
	assert_int_equal(expect_ok(&p, gva, 0), 0x40000000 + (3ull << 21) + (4ull << 12));
	put64(0x2000 + 8 * 2, 0x40000000 | P | W | PS | (1ull << 29));
	assert_int_equal(expect_fault(&p, gva, 0), PFERR_PRESENT | PFERR_RSVD);
	put64(0x1000 + 8 * 0x101, 0x2000 | P | W | U | PS);
	assert_int_equal(expect_fault(&p, gva, 0), PFERR_PRESENT | PFERR_RSVD);
	/* A table outside RAM ends the walk with P = 0. */
	put64(0x1000 + 8 * 0x101, 0x80000000ull | P | W | U);
	assert_int_equal(expect_fault(&p, gva, WALK_WRITE), PFERR_WRITE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paging_off),
		cmocka_unit_test(test_32bit),
		cmocka_unit_test(test_32bit_pse),
		cmocka_unit_test(test_pae),
		cmocka_unit_test(test_4level),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
