/* Unit tests for mmu/guest_walk.c: hand-built guest tables in a simulated 16 MiB guest RAM, checked against the SDM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "mmu/guest_walk.h"
#include "mmu/mmu_hooks.h"

#define RAM_SIZE	(16ull << 20)
#define TABLES_END	0x10000ull	/* every table lives below this */

#define P	GPTE_PRESENT
#define W	GPTE_WRITABLE
#define U	GPTE_USER
#define A	GPTE_ACCESSED
#define D	GPTE_DIRTY
#define PS	GPTE_LARGE
#define NX	GPTE_NX
#define PWU	(P | W | U)

#define EC_P	PFERR_PRESENT
#define EC_W	PFERR_WRITE
#define EC_U	PFERR_USER
#define EC_RSVD	PFERR_RSVD
#define EC_I	PFERR_FETCH

#define READ	0u
#define WRITE	WALK_WRITE
#define USER	WALK_USER
#define FETCH	WALK_FETCH
#define AC	WALK_SMAP_AC

/* 4-level tables: index 1..4 = PT, PD, PDPT, PML4. */
static const uint64_t table_4l[5] = { 0, 0x4000, 0x3000, 0x2000, 0x1000 };
#define GVA64	((0x0f5ull << 39) | (0x1a3ull << 30) | (0x07cull << 21) | (0x155ull << 12) | 0x9ab)
#define FRAME	0x345000ull

/* PAE: the PDPT at 0x5020 (32-byte aligned, not page aligned), PD 0x6000, PT 0x7000. */
#define PAE_CR3		0x5020ull
#define PAE_PD		0x6000ull
#define PAE_PT		0x7000ull
/* 32-bit paging: PD 0x8000, PT 0x9000. */
#define PD32		0x8000ull
#define PT32		0x9000ull
/* One 32-bit address for both 32-bit modes: PAE indices 2/0x0a5/0x13c, 32-bit indices 0x252/0x33c. */
#define GVA32	0x94b3c7efull

static uint8_t *ram;
static uint8_t *snapshot;
static unsigned ptr_calls;
static uint64_t hook_gpa;
static void (*hook)(void);

void *mmu_host_guest_ptr(struct mmu *mmu, uint64_t gpa, uint64_t len)
{
	assert_null(mmu);
	ptr_calls++;
	if (gpa >= RAM_SIZE || len > RAM_SIZE - gpa)
		return NULL;
	if (hook && gpa == hook_gpa) {
		void (*fn)(void) = hook;

		hook = NULL;
		fn();
	}
	return ram + gpa;
}

static int setup(void **state)
{
	(void)state;
	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	snapshot = malloc(TABLES_END);
	ptr_calls = 0;
	hook = NULL;
	return ram == MAP_FAILED || !snapshot;
}

static int teardown(void **state)
{
	(void)state;
	munmap(ram, RAM_SIZE);
	free(snapshot);
	return 0;
}

static void wr64(uint64_t gpa, uint64_t v)
{
	memcpy(ram + gpa, &v, 8);
}

static uint64_t rd64(uint64_t gpa)
{
	uint64_t v;

	memcpy(&v, ram + gpa, 8);
	return v;
}

static void wr32(uint64_t gpa, uint32_t v)
{
	memcpy(ram + gpa, &v, 4);
}

static uint32_t rd32(uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, ram + gpa, 4);
	return v;
}

/* ---- 4-level ---- */

static uint64_t e4l(unsigned level, uint64_t gva)
{
	return table_4l[level] + ((gva >> (12 + 9 * (level - 1))) & 0x1ff) * 8;
}

/* Maps gva through the four tables with the given flags per level. */
static void map_4l(uint64_t gva, uint64_t f4, uint64_t f3, uint64_t f2, uint64_t f1, uint64_t frame)
{
	wr64(e4l(4, gva), table_4l[3] | f4);
	wr64(e4l(3, gva), table_4l[2] | f3);
	wr64(e4l(2, gva), table_4l[1] | f2);
	wr64(e4l(1, gva), frame | f1);
}

static struct guest_paging paging_4l(void)
{
	struct guest_paging p = {
		.cr0 = PG_CR0_PG | PG_CR0_WP | 1,
		.cr3 = table_4l[4],
		.cr4 = PG_CR4_PAE,
		.efer = PG_EFER_LME | PG_EFER_LMA | PG_EFER_NXE,
		.maxphyaddr = 40,
		.gbpages = true,
	};
	return p;
}

/* ---- PAE ---- */

static uint64_t pae_e(unsigned level, uint64_t gva)
{
	if (level == 3)
		return PAE_CR3 + ((gva >> 30) & 3) * 8;
	if (level == 2)
		return PAE_PD + ((gva >> 21) & 0x1ff) * 8;
	return PAE_PT + ((gva >> 12) & 0x1ff) * 8;
}

static void map_pae(uint64_t gva, uint64_t f3, uint64_t f2, uint64_t f1, uint64_t frame)
{
	wr64(pae_e(3, gva), PAE_PD | f3);
	wr64(pae_e(2, gva), PAE_PT | f2);
	wr64(pae_e(1, gva), frame | f1);
}

/* PAE paging with the PDPTE registers loaded from the PDPT in memory. */
static struct guest_paging paging_pae(void)
{
	struct guest_paging p = {
		.cr0 = PG_CR0_PG | PG_CR0_WP | 1,
		.cr3 = PAE_CR3,
		.cr4 = PG_CR4_PAE,
		.efer = PG_EFER_NXE,
		.maxphyaddr = 40,
	};

	assert_true(guest_load_pae_pdptes(NULL, p.cr3, p.maxphyaddr, p.pdptes));
	return p;
}

/* ---- 32-bit ---- */

static uint64_t e32(unsigned level, uint64_t gva)
{
	if (level == 2)
		return PD32 + ((gva >> 22) & 0x3ff) * 4;
	return PT32 + ((gva >> 12) & 0x3ff) * 4;
}

static void map_32(uint64_t gva, uint32_t f2, uint32_t f1, uint32_t frame)
{
	wr32(e32(2, gva), PT32 | f2);
	wr32(e32(1, gva), frame | f1);
}

static struct guest_paging paging_32(void)
{
	struct guest_paging p = {
		.cr0 = PG_CR0_PG | PG_CR0_WP | 1,
		.cr3 = PD32,
		.cr4 = PG_CR4_PSE,
		.maxphyaddr = 40,
	};
	return p;
}

/* ---- walking ---- */

/* The walk, with the result poisoned first so a field the walker forgot shows. */
static struct guest_walk walk(const struct guest_paging *p, uint64_t gva, unsigned access)
{
	struct guest_walk w;

	memset(&w, 0xa5, sizeof(w));
	guest_walk(NULL, p, gva, access, &w);
	return w;
}

static void expect_ok(const struct guest_walk *w, uint64_t gpa)
{
	assert_false(w->fault);
	assert_int_equal(w->gpa, gpa);
	assert_int_equal(w->gfn, gpa >> 12);
}

static void expect_translation(const struct guest_paging *p, uint64_t gva, unsigned access,
			       uint64_t gpa)
{
	struct guest_walk w = walk(p, gva, access);

	expect_ok(&w, gpa);
}

/* A faulting walk must leave every table byte as it was. */
static struct guest_walk expect_fault(const struct guest_paging *p, uint64_t gva, unsigned access,
				      uint32_t error_code, unsigned level)
{
	struct guest_walk w;

	memcpy(snapshot, ram, TABLES_END);
	w = walk(p, gva, access);
	assert_true(w.fault);
	assert_int_equal(w.error_code, error_code);
	assert_int_equal(w.level, level);
	assert_memory_equal(snapshot, ram, TABLES_END);
	return w;
}

/* ---- paging off ---- */

static void test_off_identity_no_memory(void **state)
{
	struct guest_paging p = { .cr0 = 1, .cr4 = PG_CR4_PAE, .efer = PG_EFER_NXE };
	struct guest_walk w;

	(void)state;
	w = walk(&p, 0x123456789abcull, WRITE | USER | FETCH);
	expect_ok(&w, 0x56789abc);
	assert_int_equal(ptr_calls, 0);
	assert_int_equal(w.max_level, 0);
	assert_int_equal(w.level, 0);
	assert_false(w.large);
	assert_int_equal(w.pte_access, ACC_ALL);
}

/* ---- 32-bit paging ---- */

static void test_32_4k_translation(void **state)
{
	struct guest_paging p = paging_32();
	struct guest_walk w;

	(void)state;
	map_32(GVA32, PWU, PWU, FRAME);
	w = walk(&p, GVA32, READ);
	expect_ok(&w, FRAME | 0x7ef);
	assert_int_equal(w.max_level, 2);
	assert_int_equal(w.level, 1);
	assert_false(w.large);
	assert_int_equal(w.table_gfn[2], PD32 >> 12);
	assert_int_equal(w.table_gfn[1], PT32 >> 12);
	assert_int_equal(w.gpte_gpa[2], e32(2, GVA32));
	assert_int_equal(w.gpte_gpa[1], e32(1, GVA32));
	assert_int_equal(w.gpte[2], PT32 | PWU | A);
	assert_int_equal(w.gpte[1], FRAME | PWU | A);
	assert_int_equal(w.pte_access, ACC_ALL);
	assert_int_equal(ptr_calls, 2);
}

static void test_32_ignores_gva_high_bits(void **state)
{
	struct guest_paging p = paging_32();
	struct guest_walk w;

	(void)state;
	map_32(GVA32, PWU, PWU, FRAME);
	w = walk(&p, GVA32 | 0xdead00000000ull, READ);
	expect_ok(&w, FRAME | 0x7ef);
}

/* CR3 bits 11:0 and 63:32 are not part of the page-directory address. */
static void test_32_cr3_bits_31_12(void **state)
{
	struct guest_paging p = paging_32();
	struct guest_walk w;

	(void)state;
	p.cr3 = 0xabcd00000000ull | PD32 | 0x18;
	map_32(GVA32, PWU, PWU, FRAME);
	w = walk(&p, GVA32, READ);
	expect_ok(&w, FRAME | 0x7ef);
	assert_int_equal(w.table_gfn[2], PD32 >> 12);
}

static void test_32_4m_page(void **state)
{
	struct guest_paging p = paging_32();
	struct guest_walk w;

	(void)state;
	wr32(e32(2, GVA32), 0xc00000 | PS | PWU);
	w = walk(&p, GVA32, READ);
	/* 4 MiB page at 12 MiB; GVA32 bits 21:0 = 0x33c7ef. */
	expect_ok(&w, 0xc00000 | 0x33c7ef);
	assert_true(w.large);
	assert_int_equal(w.level, 2);
	assert_int_equal(w.gfn, 0xc00 + 0x33c);
	assert_int_equal(ptr_calls, 1);
}

static void test_32_pse36_high_bits(void **state)
{
	struct guest_paging p = paging_32();
	struct guest_walk w;

	(void)state;
	/* Bits 20:13 = 0xab: physical-address bits 39:32. */
	wr32(e32(2, GVA32), 0xc00000 | (0xabu << 13) | PS | PWU);
	w = walk(&p, GVA32, READ);
	expect_ok(&w, 0xab00000000ull | 0xc00000 | 0x33c7ef);
	assert_int_equal(w.gfn, 0xab00000ull + 0xc00 + 0x33c);
}

/* With MAXPHYADDR 36, PDE bits 16:13 hold address bits 35:32 and 21:17 are reserved. */
static void test_32_pse36_limited_by_maxphyaddr(void **state)
{
	struct guest_paging p = paging_32();
	struct guest_walk w;
	unsigned bit;

	(void)state;
	p.maxphyaddr = 36;
	wr32(e32(2, GVA32), 0xc00000 | (0xfu << 13) | PS | PWU);
	w = walk(&p, GVA32, READ);
	expect_ok(&w, 0xf00000000ull | 0xc00000 | 0x33c7ef);
	for (bit = 17; bit <= 21; bit++) {
		wr32(e32(2, GVA32), 0xc00000 | (1u << bit) | PS | PWU);
		expect_fault(&p, GVA32, READ, EC_P | EC_RSVD, 2);
	}
}

/* MAXPHYADDR above 40 still gives only bits 39:32: bit 21 stays reserved. */
static void test_32_4m_bit21_reserved(void **state)
{
	struct guest_paging p = paging_32();
	struct guest_walk w;

	(void)state;
	p.maxphyaddr = 46;
	wr32(e32(2, GVA32), 0xc00000 | (0xffu << 13) | PS | PWU);
	w = walk(&p, GVA32, READ);
	expect_ok(&w, 0xff00000000ull | 0xc00000 | 0x33c7ef);
	wr32(e32(2, GVA32), 0xc00000 | (1u << 21) | PS | PWU);
	expect_fault(&p, GVA32, WRITE, EC_P | EC_RSVD | EC_W, 2);
}

/* Without CR4.PSE a PDE's PS bit is ignored: it still references a page table. */
static void test_32_ps_ignored_without_pse(void **state)
{
	struct guest_paging p = paging_32();
	struct guest_walk w;

	(void)state;
	p.cr4 = 0;
	map_32(GVA32, PWU | PS, PWU, FRAME);
	w = walk(&p, GVA32, READ);
	expect_ok(&w, FRAME | 0x7ef);
	assert_false(w.large);
	assert_int_equal(w.level, 1);
}

/* 4 KiB entries of 32-bit paging have no reserved bits (PAT and ignored bits included). */
static void test_32_no_reserved_bits_in_4k_entries(void **state)
{
	struct guest_paging p = paging_32();
	struct guest_walk w;

	(void)state;
	map_32(GVA32, PWU | 0xe40, PWU | 0xf80, FRAME);
	w = walk(&p, GVA32, READ);
	expect_ok(&w, FRAME | 0x7ef);
}

/* 32-bit paging has no XD bit: EFER.NXE changes nothing and a fetch fault has no I/D flag. */
static void test_32_no_nx_no_fetch_flag(void **state)
{
	struct guest_paging p = paging_32();
	struct guest_walk w;

	(void)state;
	p.efer = PG_EFER_NXE;
	map_32(GVA32, PWU, PWU, FRAME);
	w = walk(&p, GVA32, FETCH | USER);
	expect_ok(&w, FRAME | 0x7ef);
	assert_int_equal(w.pte_access, ACC_ALL);
	wr32(e32(1, GVA32), FRAME | W | U);
	expect_fault(&p, GVA32, FETCH | USER, EC_U, 1);
}

/* A/D updates are 4-byte: the neighbouring 32-bit entries keep their values. */
static void test_32_ad_4byte_entries(void **state)
{
	struct guest_paging p = paging_32();
	struct guest_walk w;

	(void)state;
	map_32(GVA32, PWU, PWU, FRAME);
	wr32(e32(2, GVA32) - 4, 0x11111000);
	wr32(e32(2, GVA32) + 4, 0x22222000);
	wr32(e32(1, GVA32) - 4, 0x33333000);
	wr32(e32(1, GVA32) + 4, 0x44444000);
	w = walk(&p, GVA32, WRITE);
	expect_ok(&w, FRAME | 0x7ef);
	assert_int_equal(rd32(e32(2, GVA32)), PT32 | PWU | A);
	assert_int_equal(rd32(e32(1, GVA32)), FRAME | PWU | A | D);
	assert_int_equal(rd32(e32(2, GVA32) - 4), 0x11111000);
	assert_int_equal(rd32(e32(2, GVA32) + 4), 0x22222000);
	assert_int_equal(rd32(e32(1, GVA32) - 4), 0x33333000);
	assert_int_equal(rd32(e32(1, GVA32) + 4), 0x44444000);
}

static void test_32_4m_dirty(void **state)
{
	struct guest_paging p = paging_32();
	struct guest_walk w;

	(void)state;
	wr32(e32(2, GVA32), 0xc00000 | PS | PWU);
	w = walk(&p, GVA32, WRITE | USER);
	expect_ok(&w, 0xc00000 | 0x33c7ef);
	assert_int_equal(rd32(e32(2, GVA32)), 0xc00000 | PS | PWU | A | D);
	assert_int_equal(w.gpte[2], 0xc00000 | PS | PWU | A | D);
}

/* ---- PAE paging ---- */

static void test_pae_4k_translation(void **state)
{
	struct guest_paging p;
	struct guest_walk w;

	(void)state;
	map_pae(GVA32, P, PWU, PWU, FRAME);
	p = paging_pae();
	ptr_calls = 0;
	w = walk(&p, GVA32 | 0xffffffff00000000ull, READ);
	expect_ok(&w, FRAME | 0x7ef);
	assert_int_equal(w.max_level, 3);
	assert_int_equal(w.level, 1);
	assert_int_equal(w.table_gfn[3], PAE_CR3 >> 12);
	assert_int_equal(w.table_gfn[2], PAE_PD >> 12);
	assert_int_equal(w.table_gfn[1], PAE_PT >> 12);
	assert_int_equal(w.gpte_gpa[3], ~0ull);
	assert_int_equal(w.gpte_gpa[2], pae_e(2, GVA32));
	assert_int_equal(w.gpte_gpa[1], pae_e(1, GVA32));
	assert_int_equal(w.gpte[3], PAE_PD | P);
	assert_int_equal(w.gpte[2], PAE_PT | PWU | A);
	assert_int_equal(w.gpte[1], FRAME | PWU | A);
	assert_int_equal(w.pt_access[3], ACC_ALL);
	assert_int_equal(w.pte_access, ACC_ALL);
	/* The PDPTEs come from the registers: only the PD and the PT are read. */
	assert_int_equal(ptr_calls, 2);
}

/* PAE maps 2 MiB pages whatever CR4.PSE says. */
static void test_pae_2m_page_without_pse(void **state)
{
	struct guest_paging p;
	struct guest_walk w;

	(void)state;
	map_pae(GVA32, P, 0, 0, 0);
	wr64(pae_e(2, GVA32), 0x800000 | PS | PWU);
	p = paging_pae();
	assert_false(p.cr4 & PG_CR4_PSE);
	w = walk(&p, GVA32, READ);
	/* GVA32 bits 20:0 = 0x13c7ef. */
	expect_ok(&w, 0x800000 | 0x13c7ef);
	assert_true(w.large);
	assert_int_equal(w.level, 2);
}

/* Writes to the PDPT after the load do not reach the PDPTE registers. */
static void test_pae_uses_pdpte_registers(void **state)
{
	struct guest_paging p;
	struct guest_walk w;

	(void)state;
	map_pae(GVA32, P, PWU, PWU, FRAME);
	p = paging_pae();
	wr64(pae_e(3, GVA32), 0);
	w = walk(&p, GVA32, READ);
	expect_ok(&w, FRAME | 0x7ef);

	p.pdptes[2] = 0;
	wr64(pae_e(3, GVA32), PAE_PD | P);
	expect_fault(&p, GVA32, READ, 0, 3);
}

static void test_pae_pdpte_not_present(void **state)
{
	struct guest_paging p;
	struct guest_walk w;

	(void)state;
	map_pae(GVA32, 0, PWU, PWU, FRAME);
	p = paging_pae();
	w = expect_fault(&p, GVA32, WRITE | USER, EC_W | EC_U, 3);
	assert_int_equal(w.gpte_gpa[3], ~0ull);
	assert_int_equal(w.max_level, 3);
}

/* A PDPTE register with a reserved bit cannot be loaded, but one given by the caller is still checked. */
static void test_pae_pdpte_register_reserved(void **state)
{
	struct guest_paging p;

	(void)state;
	map_pae(GVA32, P, PWU, PWU, FRAME);
	p = paging_pae();
	p.pdptes[2] |= W;
	expect_fault(&p, GVA32, READ, EC_P | EC_RSVD, 3);
}

/* PAE PDEs and PTEs reserve bits 62:MAXPHYADDR, including 62:52 that 4-level paging ignores. */
static void test_pae_bits_62_to_maxphyaddr_reserved(void **state)
{
	static const unsigned bits[] = { 40, 51, 52, 62 };
	struct guest_paging p;
	unsigned i, level;

	(void)state;
	map_pae(GVA32, P, PWU, PWU, FRAME);
	p = paging_pae();
	for (level = 1; level <= 2; level++) {
		for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
			uint64_t good = rd64(pae_e(level, GVA32));

			wr64(pae_e(level, GVA32), good | (1ull << bits[i]));
			expect_fault(&p, GVA32, READ, EC_P | EC_RSVD, level);
			wr64(pae_e(level, GVA32), good);
		}
	}
	p.maxphyaddr = 41;
	wr64(pae_e(1, GVA32), FRAME | (1ull << 40) | PWU);
	expect_translation(&p, GVA32, READ, (1ull << 40) | FRAME | 0x7ef);
}

static void test_pae_2m_reserved_20_13(void **state)
{
	struct guest_paging p;
	unsigned bit;

	(void)state;
	map_pae(GVA32, P, 0, 0, 0);
	p = paging_pae();
	for (bit = 13; bit <= 20; bit++) {
		wr64(pae_e(2, GVA32), 0x800000 | (1ull << bit) | PS | PWU);
		expect_fault(&p, GVA32, READ, EC_P | EC_RSVD, 2);
	}
	/* Bit 12 is PAT, not reserved. */
	wr64(pae_e(2, GVA32), 0x800000 | (1ull << 12) | PS | PWU);
	expect_translation(&p, GVA32, READ, 0x800000 | 0x13c7ef);
}

static void test_pae_xd_reserved_without_nxe(void **state)
{
	struct guest_paging p;

	(void)state;
	map_pae(GVA32, P, PWU | NX, PWU, FRAME);
	p = paging_pae();
	p.efer = 0;
	/* No NXE (and no SMEP): no I/D flag either. */
	expect_fault(&p, GVA32, FETCH, EC_P | EC_RSVD, 2);
	expect_fault(&p, GVA32, READ, EC_P | EC_RSVD, 2);
}

static void test_pae_nx_with_nxe(void **state)
{
	struct guest_paging p;
	struct guest_walk w;

	(void)state;
	map_pae(GVA32, P, PWU, PWU | NX, FRAME);
	p = paging_pae();
	w = walk(&p, GVA32, READ);
	expect_ok(&w, FRAME | 0x7ef);
	assert_int_equal(w.pte_access, ACC_WRITE | ACC_USER);
	expect_fault(&p, GVA32, FETCH, EC_P | EC_I, 1);
}

/* The PDPTE registers have no A bit: the PDPT in memory is never written. */
static void test_pae_no_accessed_in_pdpt(void **state)
{
	struct guest_paging p;
	struct guest_walk w;

	(void)state;
	map_pae(GVA32, P, PWU, PWU, FRAME);
	p = paging_pae();
	w = walk(&p, GVA32, WRITE);
	expect_ok(&w, FRAME | 0x7ef);
	assert_int_equal(rd64(pae_e(3, GVA32)), PAE_PD | P);
	assert_int_equal(p.pdptes[2], PAE_PD | P);
	assert_int_equal(w.gpte[3], PAE_PD | P);
	assert_int_equal(rd64(pae_e(2, GVA32)), PAE_PT | PWU | A);
	assert_int_equal(rd64(pae_e(1, GVA32)), FRAME | PWU | A | D);
}

/* ---- 4-level paging ---- */

static void test_4l_4k_translation(void **state)
{
	struct guest_paging p = paging_4l();
	struct guest_walk w;
	unsigned level;

	(void)state;
	map_4l(GVA64, PWU, PWU, PWU, PWU, FRAME);
	w = walk(&p, GVA64, READ);
	expect_ok(&w, FRAME | 0x9ab);
	assert_int_equal(w.max_level, 4);
	assert_int_equal(w.level, 1);
	assert_false(w.large);
	for (level = 1; level <= 4; level++) {
		assert_int_equal(w.table_gfn[level], table_4l[level] >> 12);
		assert_int_equal(w.gpte_gpa[level], e4l(level, GVA64));
		assert_int_equal(w.gpte[level], (level == 1 ? FRAME : table_4l[level - 1]) | PWU | A);
		assert_int_equal(w.pt_access[level], ACC_ALL);
	}
	assert_int_equal(w.pte_access, ACC_ALL);
	assert_int_equal(ptr_calls, 4);
}

/* Addresses in the upper half (bits 63:47 set) index with bits 47:12 alone. */
static void test_4l_upper_half_address(void **state)
{
	struct guest_paging p = paging_4l();
	uint64_t gva = 0xffff800000000000ull | (0x1ffull << 39) | (0x1ffull << 30) | 0x123;
	struct guest_walk w;

	(void)state;
	map_4l(gva, PWU, PWU, PWU, PWU, FRAME);
	w = walk(&p, gva, READ);
	expect_ok(&w, FRAME | 0x123);
	assert_int_equal(w.gpte_gpa[4], table_4l[4] + 0x1ff * 8);
}

static void test_4l_2m_page(void **state)
{
	struct guest_paging p = paging_4l();
	struct guest_walk w;

	(void)state;
	map_4l(GVA64, PWU, PWU, 0, 0, 0);
	wr64(e4l(2, GVA64), 0x600000 | PS | PWU | (1ull << 12));
	w = walk(&p, GVA64, WRITE);
	/* GVA64 bits 20:0 = 0x1559ab; bit 12 of the PDE is PAT, not address. */
	expect_ok(&w, 0x600000 | 0x1559ab);
	assert_true(w.large);
	assert_int_equal(w.level, 2);
	assert_int_equal(w.gfn, 0x600 + 0x155);
	assert_int_equal(ptr_calls, 3);
}

static void test_4l_1g_page(void **state)
{
	struct guest_paging p = paging_4l();
	struct guest_walk w;

	(void)state;
	map_4l(GVA64, PWU, 0, 0, 0, 0);
	wr64(e4l(3, GVA64), 0x40000000 | PS | PWU);
	w = walk(&p, GVA64, READ);
	/* GVA64 bits 29:0 = 0x0f9559ab; the page lies outside RAM, which a translation does not mind. */
	expect_ok(&w, 0x40000000 | 0x0f9559ab);
	assert_true(w.large);
	assert_int_equal(w.level, 3);
	assert_int_equal(w.gfn, 0x40000 + 0x0f955);
}

static void test_4l_1g_without_gbpages_reserved(void **state)
{
	struct guest_paging p = paging_4l();

	(void)state;
	p.gbpages = false;
	map_4l(GVA64, PWU, PWU, PWU, PWU, FRAME);
	wr64(e4l(3, GVA64), 0x40000000 | PS | PWU);
	expect_fault(&p, GVA64, READ, EC_P | EC_RSVD, 3);
}

static void test_4l_pml4e_ps_reserved(void **state)
{
	struct guest_paging p = paging_4l();

	(void)state;
	map_4l(GVA64, PWU | PS, PWU, PWU, PWU, FRAME);
	expect_fault(&p, GVA64, USER, EC_P | EC_RSVD | EC_U, 4);
}

static void test_4l_large_page_reserved_bits(void **state)
{
	struct guest_paging p = paging_4l();
	unsigned bit;

	(void)state;
	map_4l(GVA64, PWU, PWU, PWU, PWU, FRAME);
	for (bit = 13; bit <= 29; bit++) {
		wr64(e4l(3, GVA64), 0x40000000 | (1ull << bit) | PS | PWU);
		expect_fault(&p, GVA64, READ, EC_P | EC_RSVD, 3);
	}
	wr64(e4l(3, GVA64), table_4l[2] | PWU);
	for (bit = 13; bit <= 20; bit++) {
		wr64(e4l(2, GVA64), 0x600000 | (1ull << bit) | PS | PWU);
		expect_fault(&p, GVA64, READ, EC_P | EC_RSVD, 2);
	}
}

/* Bits 51:MAXPHYADDR are reserved at every level, in tables and pages alike. */
static void test_4l_maxphyaddr_bits_reserved(void **state)
{
	static const unsigned bits[] = { 40, 45, 51 };
	struct guest_paging p = paging_4l();
	unsigned i, level;

	(void)state;
	map_4l(GVA64, PWU, PWU, PWU, PWU, FRAME);
	for (level = 1; level <= 4; level++) {
		uint64_t good = rd64(e4l(level, GVA64));

		for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
			wr64(e4l(level, GVA64), good | (1ull << bits[i]));
			expect_fault(&p, GVA64, WRITE, EC_P | EC_RSVD | EC_W, level);
		}
		wr64(e4l(level, GVA64), good);
	}
	/* With MAXPHYADDR 52 nothing below bit 52 is reserved. */
	p.maxphyaddr = 52;
	wr64(e4l(1, GVA64), (1ull << 51) | FRAME | PWU);
	expect_translation(&p, GVA64, READ, (1ull << 51) | FRAME | 0x9ab);
}

/* Bits 62:52 are ignored by 4-level paging and not part of the address. */
static void test_4l_bits_62_52_ignored(void **state)
{
	struct guest_paging p = paging_4l();
	uint64_t high = 0x7ff0000000000000ull;
	struct guest_walk w;

	(void)state;
	map_4l(GVA64, PWU | high, PWU | high, PWU | high, PWU | high, FRAME);
	w = walk(&p, GVA64, READ);
	expect_ok(&w, FRAME | 0x9ab);
	assert_int_equal(w.gpte[1], FRAME | PWU | A | high);
}

static void test_4l_xd_reserved_without_nxe(void **state)
{
	struct guest_paging p = paging_4l();
	unsigned level;

	(void)state;
	p.efer &= ~PG_EFER_NXE;
	map_4l(GVA64, PWU, PWU, PWU, PWU, FRAME);
	for (level = 1; level <= 4; level++) {
		uint64_t good = rd64(e4l(level, GVA64));

		wr64(e4l(level, GVA64), good | NX);
		expect_fault(&p, GVA64, READ | USER, EC_P | EC_RSVD | EC_U, level);
		wr64(e4l(level, GVA64), good);
	}
}

/* CR3 bits 11:0 (PCID or PWT/PCD) and bits at or above MAXPHYADDR (e.g. the no-flush bit 63) are dropped. */
static void test_4l_cr3_masking(void **state)
{
	struct guest_paging p = paging_4l();
	struct guest_walk w;

	(void)state;
	p.cr3 = (1ull << 63) | (1ull << 45) | table_4l[4] | 0xfff;
	map_4l(GVA64, PWU, PWU, PWU, PWU, FRAME);
	w = walk(&p, GVA64, READ);
	expect_ok(&w, FRAME | 0x9ab);
	assert_int_equal(w.table_gfn[4], table_4l[4] >> 12);
}

/* ---- the order of faults ---- */

/* Reserved bits are checked as the walk reaches each entry: an upper-level RSVD wins over a lower not-present. */
static void test_reserved_upper_level_first(void **state)
{
	struct guest_paging p = paging_4l();

	(void)state;
	map_4l(GVA64, PWU | (1ull << 45), PWU, PWU, 0, FRAME);
	expect_fault(&p, GVA64, READ, EC_P | EC_RSVD, 4);
}

/* A not-present entry's other bits are ignored, reserved ones included. */
static void test_not_present_ignores_reserved_bits(void **state)
{
	struct guest_paging p = paging_4l();
	struct guest_walk w;

	(void)state;
	map_4l(GVA64, PWU, PWU, W | U | PS | (1ull << 45) | (0xffull << 13), PWU, FRAME);
	p.efer &= ~PG_EFER_NXE;
	wr64(e4l(2, GVA64), rd64(e4l(2, GVA64)) | NX);
	w = expect_fault(&p, GVA64, WRITE, EC_W, 2);
	assert_int_equal(w.gpte[2], rd64(e4l(2, GVA64)));
}

/* A reserved bit makes the translation invalid: RSVD, even where the permissions would also fault. */
static void test_reserved_beats_permission(void **state)
{
	struct guest_paging p = paging_4l();

	(void)state;
	map_4l(GVA64, P, PWU, PWU, P | (1ull << 40), FRAME);
	expect_fault(&p, GVA64, WRITE | USER, EC_P | EC_RSVD | EC_W | EC_U, 1);
}

/* Permissions are judged only on a complete translation: a missing PTE under a supervisor PML4E is P = 0. */
static void test_not_present_beats_permission(void **state)
{
	struct guest_paging p = paging_4l();

	(void)state;
	map_4l(GVA64, P, P, P, 0, FRAME);
	expect_fault(&p, GVA64, WRITE | USER, EC_W | EC_U, 1);
}

/* ---- permissions ---- */

/* Clears flag in the entry at one level of a fully permissive 4-level mapping. */
static void map_4l_without(unsigned level, uint64_t flag)
{
	map_4l(GVA64, PWU, PWU, PWU, PWU, FRAME);
	wr64(e4l(level, GVA64), rd64(e4l(level, GVA64)) & ~flag);
}

static void map_4l_with(unsigned level, uint64_t flag)
{
	map_4l(GVA64, PWU, PWU, PWU, PWU, FRAME);
	wr64(e4l(level, GVA64), rd64(e4l(level, GVA64)) | flag);
}

static void test_user_needs_us_every_level(void **state)
{
	struct guest_paging p = paging_4l();
	unsigned level;

	(void)state;
	for (level = 1; level <= 4; level++) {
		map_4l_without(level, U);
		expect_fault(&p, GVA64, USER, EC_P | EC_U, 1);
		expect_fault(&p, GVA64, USER | WRITE, EC_P | EC_U | EC_W, 1);
		expect_fault(&p, GVA64, USER | FETCH, EC_P | EC_U | EC_I, 1);
		/* The supervisor may use it. */
		expect_translation(&p, GVA64, WRITE, FRAME | 0x9ab);
	}
}

static void test_user_write_needs_rw_every_level_even_wp0(void **state)
{
	struct guest_paging p = paging_4l();
	unsigned level, wp;

	(void)state;
	for (wp = 0; wp < 2; wp++) {
		p.cr0 = wp ? p.cr0 | PG_CR0_WP : p.cr0 & ~PG_CR0_WP;
		for (level = 1; level <= 4; level++) {
			map_4l_without(level, W);
			expect_fault(&p, GVA64, USER | WRITE, EC_P | EC_U | EC_W, 1);
			expect_translation(&p, GVA64, USER, FRAME | 0x9ab);
		}
	}
}

static void test_supervisor_write_wp1_needs_rw(void **state)
{
	struct guest_paging p = paging_4l();
	unsigned level;

	(void)state;
	for (level = 1; level <= 4; level++) {
		map_4l_without(level, W | U);
		expect_fault(&p, GVA64, WRITE, EC_P | EC_W, 1);
		expect_translation(&p, GVA64, READ, FRAME | 0x9ab);
	}
}

static void test_supervisor_write_wp0_ignores_rw(void **state)
{
	struct guest_paging p = paging_4l();
	struct guest_walk w;
	unsigned level;

	(void)state;
	p.cr0 &= ~PG_CR0_WP;
	for (level = 1; level <= 4; level++) {
		map_4l_without(level, W);
		w = walk(&p, GVA64, WRITE);
		expect_ok(&w, FRAME | 0x9ab);
		/* The access the entries allow is unchanged: WP is not part of it. */
		assert_int_equal(w.pte_access, ACC_USER | ACC_EXEC);
		assert_int_equal(rd64(e4l(1, GVA64)) & D, D);
	}
}

/* Without SMAP the supervisor reads and writes user pages like its own. */
static void test_supervisor_data_on_user_page_without_smap(void **state)
{
	struct guest_paging p = paging_4l();

	(void)state;
	map_4l(GVA64, PWU, PWU, PWU, PWU, FRAME);
	expect_translation(&p, GVA64, READ, FRAME | 0x9ab);
	expect_translation(&p, GVA64, WRITE, FRAME | 0x9ab);
	wr64(e4l(1, GVA64), FRAME | P | U);
	expect_fault(&p, GVA64, WRITE, EC_P | EC_W, 1);
}

static void test_nx_fetch_every_level(void **state)
{
	struct guest_paging p = paging_4l();
	struct guest_walk w;
	unsigned level;

	(void)state;
	for (level = 1; level <= 4; level++) {
		map_4l_with(level, NX);
		expect_fault(&p, GVA64, FETCH, EC_P | EC_I, 1);
		expect_fault(&p, GVA64, FETCH | USER, EC_P | EC_I | EC_U, 1);
		w = walk(&p, GVA64, READ | USER);
		expect_ok(&w, FRAME | 0x9ab);
		assert_int_equal(w.pte_access, ACC_USER | ACC_WRITE);
		assert_int_equal(w.pt_access[level], ACC_USER | ACC_WRITE);
		if (level < 4)
			assert_int_equal(w.pt_access[level + 1], ACC_ALL);
	}
}

/* User fetches need a user page (R/W does not matter); the supervisor fetches from any page without SMEP. */
static void test_user_fetch(void **state)
{
	struct guest_paging p = paging_4l();

	(void)state;
	map_4l(GVA64, P | U, P | U, P | U, P | U, FRAME);
	expect_translation(&p, GVA64, FETCH | USER, FRAME | 0x9ab);
	expect_translation(&p, GVA64, FETCH, FRAME | 0x9ab);
	map_4l_without(3, U);
	expect_fault(&p, GVA64, FETCH | USER, EC_P | EC_I | EC_U, 1);
}

static void test_smep_user_page(void **state)
{
	struct guest_paging p = paging_4l();

	(void)state;
	p.cr4 |= PG_CR4_SMEP;
	map_4l(GVA64, PWU, PWU, PWU, PWU, FRAME);
	expect_fault(&p, GVA64, FETCH, EC_P | EC_I, 1);
	/* SMEP concerns fetches only, and only supervisor ones. */
	expect_translation(&p, GVA64, READ, FRAME | 0x9ab);
	expect_translation(&p, GVA64, WRITE, FRAME | 0x9ab);
	expect_translation(&p, GVA64, FETCH | USER, FRAME | 0x9ab);
}

/* U/S = 0 at any one level makes a supervisor-mode address: SMEP lets the supervisor fetch there. */
static void test_smep_mixed_us_is_supervisor_page(void **state)
{
	struct guest_paging p = paging_4l();
	unsigned level;

	(void)state;
	p.cr4 |= PG_CR4_SMEP;
	for (level = 1; level <= 4; level++) {
		map_4l_without(level, U);
		expect_translation(&p, GVA64, FETCH, FRAME | 0x9ab);
	}
}

/* SMEP reports fetches in the error code even without NX, also in 32-bit paging. */
static void test_smep_sets_fetch_flag_without_nxe(void **state)
{
	struct guest_paging p = paging_32();

	(void)state;
	p.cr4 |= PG_CR4_SMEP;
	map_32(GVA32, PWU, PWU, FRAME);
	expect_fault(&p, GVA32, FETCH, EC_P | EC_I, 1);
	wr32(e32(1, GVA32), 0);
	expect_fault(&p, GVA32, FETCH | USER, EC_U | EC_I, 1);
}

static void test_smap_read(void **state)
{
	struct guest_paging p = paging_4l();

	(void)state;
	p.cr4 |= PG_CR4_SMAP;
	map_4l(GVA64, PWU, PWU, PWU, PWU, FRAME);
	expect_fault(&p, GVA64, READ, EC_P, 1);
	expect_translation(&p, GVA64, READ | AC, FRAME | 0x9ab);
}

/* Implicit supervisor accesses (GDT, IDT, TSS...) ignore EFLAGS.AC: the caller passes neither USER nor AC. */
static void test_smap_implicit_supervisor(void **state)
{
	struct guest_paging p = paging_4l();

	(void)state;
	p.cr4 |= PG_CR4_SMAP;
	map_4l(GVA64, PWU, PWU, PWU, PWU, FRAME);
	expect_fault(&p, GVA64, READ, EC_P, 1);
	expect_fault(&p, GVA64, WRITE, EC_P | EC_W, 1);
	/* The same access from CPL 3 code is a user access. */
	expect_translation(&p, GVA64, READ | USER, FRAME | 0x9ab);
}

/* CR0.WP = 1: with AC the write still needs R/W; without AC it faults even on a writable page. */
static void test_smap_write_wp1(void **state)
{
	struct guest_paging p = paging_4l();

	(void)state;
	p.cr4 |= PG_CR4_SMAP;
	map_4l(GVA64, PWU, PWU, PWU, PWU, FRAME);
	expect_fault(&p, GVA64, WRITE, EC_P | EC_W, 1);
	expect_translation(&p, GVA64, WRITE | AC, FRAME | 0x9ab);
	map_4l_without(2, W);
	expect_fault(&p, GVA64, WRITE | AC, EC_P | EC_W, 1);
	expect_translation(&p, GVA64, READ | AC, FRAME | 0x9ab);
}

/* CR0.WP = 0: with AC any user page is writable; without AC none is (SDM 4.6.1). */
static void test_smap_write_wp0(void **state)
{
	struct guest_paging p = paging_4l();

	(void)state;
	p.cr4 |= PG_CR4_SMAP;
	p.cr0 &= ~PG_CR0_WP;
	map_4l_without(1, W);
	expect_translation(&p, GVA64, WRITE | AC, FRAME | 0x9ab);
	expect_fault(&p, GVA64, WRITE, EC_P | EC_W, 1);
	map_4l(GVA64, PWU, PWU, PWU, PWU, FRAME);
	expect_fault(&p, GVA64, WRITE, EC_P | EC_W, 1);
}

/* SMAP leaves user accesses and (without SMEP) supervisor fetches alone, and AC means nothing to users. */
static void test_smap_ignores_user_access_and_fetch(void **state)
{
	struct guest_paging p = paging_4l();

	(void)state;
	p.cr4 |= PG_CR4_SMAP;
	map_4l(GVA64, PWU, PWU, PWU, PWU, FRAME);
	expect_translation(&p, GVA64, WRITE | USER, FRAME | 0x9ab);
	expect_translation(&p, GVA64, FETCH, FRAME | 0x9ab);
	map_4l_without(1, U);
	expect_fault(&p, GVA64, READ | USER | AC, EC_P | EC_U, 1);
}

static void test_smap_mixed_us_is_supervisor_page(void **state)
{
	struct guest_paging p = paging_4l();
	unsigned level;

	(void)state;
	p.cr4 |= PG_CR4_SMAP;
	for (level = 1; level <= 4; level++) {
		map_4l_without(level, U);
		expect_translation(&p, GVA64, WRITE, FRAME | 0x9ab);
	}
}

/* pt_access[L] combines the entries from the top down to L: AND of W and U, OR of XD. */
static void test_pt_access_accumulates(void **state)
{
	struct guest_paging p = paging_4l();
	struct guest_walk w;

	(void)state;
	map_4l(GVA64, PWU, P | U | NX, P | W | U, P | W, FRAME);
	w = walk(&p, GVA64, READ);
	expect_ok(&w, FRAME | 0x9ab);
	assert_int_equal(w.pt_access[4], ACC_ALL);
	assert_int_equal(w.pt_access[3], ACC_USER);
	assert_int_equal(w.pt_access[2], ACC_USER);
	assert_int_equal(w.pt_access[1], 0);
	assert_int_equal(w.pte_access, 0);

	/* Filled as far as the walk got when it faults. */
	wr64(e4l(2, GVA64), table_4l[1] | W | U);
	w = expect_fault(&p, GVA64, READ, 0, 2);
	assert_int_equal(w.pt_access[3], ACC_USER);
	assert_int_equal(w.gpte_gpa[2], e4l(2, GVA64));
	assert_int_equal(w.table_gfn[2], table_4l[2] >> 12);
	assert_int_equal(w.gpte[4], table_4l[3] | PWU | A);
}

/* ---- error codes ---- */

static void test_error_code_access_bits(void **state)
{
	struct guest_paging p = paging_4l();

	(void)state;
	map_4l(GVA64, PWU, PWU, 0, PWU, FRAME);
	expect_fault(&p, GVA64, READ, 0, 2);
	expect_fault(&p, GVA64, WRITE, EC_W, 2);
	expect_fault(&p, GVA64, USER, EC_U, 2);
	expect_fault(&p, GVA64, USER | WRITE, EC_U | EC_W, 2);
	expect_fault(&p, GVA64, FETCH, EC_I, 2);
	expect_fault(&p, GVA64, FETCH | USER, EC_I | EC_U, 2);
	/* AC is an input, never part of the error code. */
	expect_fault(&p, GVA64, WRITE | AC, EC_W, 2);
}

/* I/D: a fetch, and either SMEP or NXE under PAE/4-level paging. */
static void test_fetch_flag_only_with_nxe_or_smep(void **state)
{
	struct guest_paging p = paging_4l();

	(void)state;
	map_4l(GVA64, PWU, 0, 0, 0, FRAME);
	expect_fault(&p, GVA64, FETCH, EC_I, 3);
	p.efer &= ~PG_EFER_NXE;
	expect_fault(&p, GVA64, FETCH, 0, 3);
	expect_fault(&p, GVA64, FETCH | USER, EC_U, 3);
	p.cr4 |= PG_CR4_SMEP;
	expect_fault(&p, GVA64, FETCH, EC_I, 3);
	expect_fault(&p, GVA64, READ, 0, 3);
}

/* ---- accessed and dirty flags ---- */

static void test_ad_read_sets_accessed_only(void **state)
{
	struct guest_paging p = paging_4l();
	unsigned level;

	(void)state;
	map_4l(GVA64, PWU, PWU, PWU, PWU, FRAME);
	expect_translation(&p, GVA64, READ, FRAME | 0x9ab);
	for (level = 1; level <= 4; level++)
		assert_int_equal(rd64(e4l(level, GVA64)) & (A | D), A);
	expect_translation(&p, GVA64, FETCH, FRAME | 0x9ab);
	assert_int_equal(rd64(e4l(1, GVA64)) & (A | D), A);
}

/* D goes into the leaf only: upper entries get A, whatever the write. */
static void test_ad_write_sets_dirty_in_leaf(void **state)
{
	struct guest_paging p = paging_4l();
	struct guest_walk w;
	unsigned level;

	(void)state;
	map_4l(GVA64, PWU, PWU, PWU, PWU, FRAME);
	w = walk(&p, GVA64, WRITE | USER);
	expect_ok(&w, FRAME | 0x9ab);
	for (level = 2; level <= 4; level++)
		assert_int_equal(rd64(e4l(level, GVA64)) & (A | D), A);
	assert_int_equal(rd64(e4l(1, GVA64)), FRAME | PWU | A | D);
	assert_int_equal(w.gpte[1], FRAME | PWU | A | D);
}

static void test_ad_large_leaf_dirty(void **state)
{
	struct guest_paging p = paging_4l();

	(void)state;
	map_4l(GVA64, PWU, PWU, 0, 0, 0);
	wr64(e4l(3, GVA64), 0x40000000 | PS | PWU);
	expect_translation(&p, GVA64, WRITE, 0x40000000 | 0x0f9559ab);
	assert_int_equal(rd64(e4l(4, GVA64)), table_4l[3] | PWU | A);
	assert_int_equal(rd64(e4l(3, GVA64)), 0x40000000 | PS | PWU | A | D);
}

/* Entries that already have their flags are not written: their pages may even be read-only to us. */
static void test_ad_existing_flags_not_rewritten(void **state)
{
	struct guest_paging p = paging_4l();
	struct guest_walk w;

	(void)state;
	map_4l(GVA64, PWU | A, PWU | A, PWU | A, PWU | A, FRAME);
	assert_int_equal(mprotect(ram + table_4l[4], 0x3000, PROT_READ), 0);
	w = walk(&p, GVA64, WRITE);
	expect_ok(&w, FRAME | 0x9ab);
	assert_int_equal(rd64(e4l(1, GVA64)), FRAME | PWU | A | D);
	assert_int_equal(mprotect(ram + table_4l[1], 0x1000, PROT_READ), 0);
	w = walk(&p, GVA64, WRITE);
	expect_ok(&w, FRAME | 0x9ab);
	assert_int_equal(w.gpte[1], FRAME | PWU | A | D);
	assert_int_equal(mprotect(ram + table_4l[4], 0x4000, PROT_READ | PROT_WRITE), 0);
}

/* A protection fault comes after a complete walk; still nothing is written. */
static void test_ad_nothing_written_on_fault(void **state)
{
	struct guest_paging p = paging_4l();

	(void)state;
	map_4l(GVA64, PWU, PWU, PWU, P | U, FRAME);
	expect_fault(&p, GVA64, WRITE | USER, EC_P | EC_W | EC_U, 1);
	assert_int_equal(rd64(e4l(4, GVA64)), table_4l[3] | PWU);
	assert_int_equal(rd64(e4l(1, GVA64)), FRAME | P | U);
}

static void set_pde_accessed(void)
{
	wr64(e4l(2, GVA64), rd64(e4l(2, GVA64)) | A);
}

/* Another vCPU sets A in the PDE between our read and our update: the walk starts over and succeeds. */
static void test_ad_restart_after_concurrent_accessed(void **state)
{
	struct guest_paging p = paging_4l();
	struct guest_walk w;
	unsigned level;

	(void)state;
	map_4l(GVA64, PWU, PWU, PWU, PWU, FRAME);
	hook_gpa = e4l(1, GVA64);
	hook = set_pde_accessed;
	w = walk(&p, GVA64, WRITE);
	expect_ok(&w, FRAME | 0x9ab);
	assert_null(hook);
	assert_int_equal(ptr_calls, 8);
	for (level = 1; level <= 4; level++)
		assert_int_equal(w.gpte[level], rd64(e4l(level, GVA64)));
	assert_int_equal(rd64(e4l(2, GVA64)), table_4l[1] | PWU | A);
	assert_int_equal(rd64(e4l(1, GVA64)), FRAME | PWU | A | D);
}

static void make_pde_read_only(void)
{
	wr64(e4l(2, GVA64), rd64(e4l(2, GVA64)) & ~W);
}

/* The guest write-protects the PDE under a write walk: the retry sees it and faults, the PTE untouched. */
static void test_ad_restart_sees_new_entry(void **state)
{
	struct guest_paging p = paging_4l();
	struct guest_walk w;

	(void)state;
	map_4l(GVA64, PWU, PWU, PWU, PWU, FRAME);
	hook_gpa = e4l(1, GVA64);
	hook = make_pde_read_only;
	w = walk(&p, GVA64, WRITE);
	assert_true(w.fault);
	assert_int_equal(w.error_code, EC_P | EC_W);
	assert_int_equal(w.gpte[2], table_4l[1] | P | U);
	assert_int_equal(rd64(e4l(2, GVA64)), table_4l[1] | P | U);
	assert_int_equal(rd64(e4l(1, GVA64)), FRAME | PWU);
}

/* ---- tables outside guest RAM ---- */

static void test_table_outside_ram(void **state)
{
	struct guest_paging p = paging_4l();
	uint64_t hole = RAM_SIZE + 0x5000;
	struct guest_walk w;
	unsigned level;

	(void)state;
	for (level = 1; level <= 3; level++) {
		map_4l(GVA64, PWU, PWU, PWU, PWU, FRAME);
		wr64(e4l(level + 1, GVA64), hole | PWU);
		w = expect_fault(&p, GVA64, WRITE, EC_W, level);
		assert_int_equal(w.table_gfn[level], hole >> 12);
		assert_int_equal(w.gpte_gpa[level], hole + ((GVA64 >> (12 + 9 * (level - 1))) & 0x1ff) * 8);
		assert_int_equal(w.gpte[level], 0);
	}
}

static void test_cr3_outside_ram(void **state)
{
	struct guest_paging p = paging_32();

	(void)state;
	p.cr3 = 0xfffff000;
	expect_fault(&p, GVA32, USER, EC_U, 2);
}

/* ---- loading the PAE PDPTE registers ---- */

static void test_load_pdptes(void **state)
{
	uint64_t pdptes[4];

	(void)state;
	wr64(PAE_CR3 + 0, 0x6000 | P);
	wr64(PAE_CR3 + 8, 0);
	wr64(PAE_CR3 + 16, 0x7000 | P | (1 << 3) | (1 << 4) | (7 << 9));
	wr64(PAE_CR3 + 24, 0xff00000000ull | 0xfffff000 | P);
	/* CR3 bits 4:0 and 63:32 are not part of the PDPT address. */
	assert_true(guest_load_pae_pdptes(NULL, 0x100000000ull | PAE_CR3 | 0x1f, 40, pdptes));
	assert_int_equal(pdptes[0], 0x6000 | P);
	assert_int_equal(pdptes[1], 0);
	assert_int_equal(pdptes[2], 0x7000 | P | (1 << 3) | (1 << 4) | (7 << 9));
	assert_int_equal(pdptes[3], 0xff00000000ull | 0xfffff000 | P);
}

static void test_load_pdptes_reserved_bits(void **state)
{
	static const unsigned bits[] = { 1, 2, 5, 6, 7, 8, 40, 51, 52, 62, 63 };
	uint64_t pdptes[4];
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		pdptes[1] = 0x1111;
		wr64(PAE_CR3 + 8, 0x6000 | P | (1ull << bits[i]));
		assert_false(guest_load_pae_pdptes(NULL, PAE_CR3, 40, pdptes));
		/* A failed load (#GP) leaves the registers as they were. */
		assert_int_equal(pdptes[1], 0x1111);
		/* Not present: the other bits are free. */
		wr64(PAE_CR3 + 8, 0x6000 | (1ull << bits[i]));
		assert_true(guest_load_pae_pdptes(NULL, PAE_CR3, 40, pdptes));
		assert_int_equal(pdptes[1], 0x6000 | (1ull << bits[i]));
	}
	wr64(PAE_CR3 + 8, (1ull << 40) | P);
	assert_true(guest_load_pae_pdptes(NULL, PAE_CR3, 41, pdptes));
}

static void test_load_pdptes_outside_ram(void **state)
{
	uint64_t pdptes[4] = { 0 };

	(void)state;
	assert_false(guest_load_pae_pdptes(NULL, RAM_SIZE, 40, pdptes));
	assert_false(guest_load_pae_pdptes(NULL, 0xffffffe0, 40, pdptes));
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_off_identity_no_memory),
		T(test_32_4k_translation),
		T(test_32_ignores_gva_high_bits),
		T(test_32_cr3_bits_31_12),
		T(test_32_4m_page),
		T(test_32_pse36_high_bits),
		T(test_32_pse36_limited_by_maxphyaddr),
		T(test_32_4m_bit21_reserved),
		T(test_32_ps_ignored_without_pse),
		T(test_32_no_reserved_bits_in_4k_entries),
		T(test_32_no_nx_no_fetch_flag),
		T(test_32_ad_4byte_entries),
		T(test_32_4m_dirty),
		T(test_pae_4k_translation),
		T(test_pae_2m_page_without_pse),
		T(test_pae_uses_pdpte_registers),
		T(test_pae_pdpte_not_present),
		T(test_pae_pdpte_register_reserved),
		T(test_pae_bits_62_to_maxphyaddr_reserved),
		T(test_pae_2m_reserved_20_13),
		T(test_pae_xd_reserved_without_nxe),
		T(test_pae_nx_with_nxe),
		T(test_pae_no_accessed_in_pdpt),
		T(test_4l_4k_translation),
		T(test_4l_upper_half_address),
		T(test_4l_2m_page),
		T(test_4l_1g_page),
		T(test_4l_1g_without_gbpages_reserved),
		T(test_4l_pml4e_ps_reserved),
		T(test_4l_large_page_reserved_bits),
		T(test_4l_maxphyaddr_bits_reserved),
		T(test_4l_bits_62_52_ignored),
		T(test_4l_xd_reserved_without_nxe),
		T(test_4l_cr3_masking),
		T(test_reserved_upper_level_first),
		T(test_not_present_ignores_reserved_bits),
		T(test_reserved_beats_permission),
		T(test_not_present_beats_permission),
		T(test_user_needs_us_every_level),
		T(test_user_write_needs_rw_every_level_even_wp0),
		T(test_supervisor_write_wp1_needs_rw),
		T(test_supervisor_write_wp0_ignores_rw),
		T(test_supervisor_data_on_user_page_without_smap),
		T(test_nx_fetch_every_level),
		T(test_user_fetch),
		T(test_smep_user_page),
		T(test_smep_mixed_us_is_supervisor_page),
		T(test_smep_sets_fetch_flag_without_nxe),
		T(test_smap_read),
		T(test_smap_implicit_supervisor),
		T(test_smap_write_wp1),
		T(test_smap_write_wp0),
		T(test_smap_ignores_user_access_and_fetch),
		T(test_smap_mixed_us_is_supervisor_page),
		T(test_pt_access_accumulates),
		T(test_error_code_access_bits),
		T(test_fetch_flag_only_with_nxe_or_smep),
		T(test_ad_read_sets_accessed_only),
		T(test_ad_write_sets_dirty_in_leaf),
		T(test_ad_large_leaf_dirty),
		T(test_ad_existing_flags_not_rewritten),
		T(test_ad_nothing_written_on_fault),
		T(test_ad_restart_after_concurrent_accessed),
		T(test_ad_restart_sees_new_entry),
		T(test_table_outside_ram),
		T(test_cr3_outside_ram),
		T(test_load_pdptes),
		T(test_load_pdptes_reserved_bits),
		T(test_load_pdptes_outside_ram),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
