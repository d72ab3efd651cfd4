/* paging64: 4-level long-mode paging (4 KiB, 2 MiB and 1 GiB pages, NX, reserved bits) checked from inside. */
#include <stdbool.h>
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/paging.h"
#include "guest/lib/ring3.h"
#include "guest/lib/x86.h"

#define ENTRIES		512
#define IDENTITY_END	0x400000u	/* mapped 1:1 with user-accessible 4 KiB pages; holds the image */
#define LARGE_PA_A	0x800000u	/* two 2 MiB-aligned physical regions for the large pages */
#define LARGE_PA_B	0xa00000u
#define LARGE_SIZE	0x200000u
#define HUGE_SIZE	0x40000000u
#define RAM_TOP		0x1000000u
/*
 * PML4 entry 1 (512 GiB) leads to the test PDPT: PDPTE 0 to the test PD
 * (PDE 0: the 4 KiB test table, PDE 1: a 2 MiB page), PDPTE 1 is a 1 GiB
 * page. PML4 entry 511 leads to the same PDPT, so the test pages also
 * appear at the top of the address space, at sign-extended addresses.
 */
#define TEST_VA		0x0000008000000000ull
#define LARGE_VA	(TEST_VA + LARGE_SIZE)
#define HUGE_VA		(TEST_VA + HUGE_SIZE)
#define HIGH_VA		0xffffff8000000000ull
#define HOLE_VA		0x0000010000000000ull	/* PML4 entry 2: never present */
#define TEST_PML4E	1
#define HIGH_PML4E	511
#define NFRAMES		8
#define EXEC_FRAME	7
#define STUB_OFFSET	16
#define USER_WRITE_VALUE	0x05e7da7au
/* Bits 20:13 of a 2 MiB PDE and 29:13 of a 1 GiB PDPTE are reserved; PS is reserved in a PML4E. */
#define LARGE_RESERVED_LOW	(1u << 13)

static volatile uint64_t pml4_a[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static volatile uint64_t pml4_b[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static volatile uint64_t identity_pdpt[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static volatile uint64_t identity_pd[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static volatile uint64_t identity_pt[IDENTITY_END / LARGE_SIZE][ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static volatile uint64_t test_pdpt_a[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static volatile uint64_t test_pdpt_b[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static volatile uint64_t test_pd_a[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static volatile uint64_t test_pd_b[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static volatile uint64_t test_pt_a[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static volatile uint64_t test_pt_b[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static uint8_t frames[NFRAMES][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

static uint32_t user_value;
static unsigned maxphyaddr;
static bool have_nx, have_1g;

static uint64_t frame(int i)
{
	return (uintptr_t)frames[i];
}

static uint64_t test_va(int page)
{
	return TEST_VA + (uint64_t)page * PAGE_SIZE;
}

static uint32_t word_at(uint64_t va)
{
	return *(volatile uint32_t *)(uintptr_t)va;
}

static uint64_t table(volatile uint64_t *t)
{
	return (uintptr_t)t;
}

static void map_test(int page, uint64_t entry)
{
	test_pt_a[page] = entry;
	invlpg(test_va(page));
}

static void reset(void)
{
	for (int i = 0; i < ENTRIES; i++) {
		test_pt_a[i] = 0;
		test_pt_b[i] = 0;
		test_pd_a[i] = 0;
		test_pdpt_a[i] = 0;
	}
	test_pd_a[0] = table(test_pt_a) | PTE_URW;
	test_pdpt_a[0] = table(test_pd_a) | PTE_URW;
	pml4_a[TEST_PML4E] = table(test_pdpt_a) | PTE_URW;
	pml4_a[HIGH_PML4E] = table(test_pdpt_a) | PTE_URW;
	write_cr3((uintptr_t)pml4_a);
	tag_pages(frame(0), sizeof(frames));
	write_exec_stub(frames[EXEC_FRAME] + STUB_OFFSET);
}

static uintptr_t user_read(uintptr_t va)
{
	return pf_read(va, &user_value);
}

static uintptr_t user_write(uintptr_t va)
{
	return pf_write(va, USER_WRITE_VALUE);
}

static void probe_cpu(void)
{
	uint32_t max_ext = cpuid(CPUID_EXT_BASE, 0).eax;
	uint32_t ext = cpuid(CPUID_EXT_FEATURES, 0).edx;	/* the entry checked that it exists */

	have_nx = ext & CPUID_EXT_EDX_NX;
	have_1g = ext & CPUID_EXT_EDX_PAGE1GB;
	maxphyaddr = max_ext >= CPUID_EXT_ADDR_SIZES ? cpuid(CPUID_EXT_ADDR_SIZES, 0).eax & 0xff : 36;
	printf("guest: long mode, MAXPHYADDR %u, NX %s, 1 GiB pages %s\n", maxphyaddr,
	       have_nx ? "yes" : "no", have_1g ? "yes" : "no");
	CHECK(maxphyaddr >= 32 && maxphyaddr <= 52);
	CHECK(read_cr4() & CR4_PAE);
}

/* Long mode cannot run without paging: this swaps the boot tables for the test's own. */
static void switch_tables(void)
{
	for (uint64_t pa = PAGE_SIZE; pa < IDENTITY_END; pa += PAGE_SIZE)
		identity_pt[pa / LARGE_SIZE][pa / PAGE_SIZE % ENTRIES] = pa | PTE_URW;
	for (unsigned i = 0; i < IDENTITY_END / LARGE_SIZE; i++)
		identity_pd[i] = table(identity_pt[i]) | PTE_URW;
	identity_pdpt[0] = table(identity_pd) | PTE_URW;
	pml4_a[0] = table(identity_pdpt) | PTE_URW;
	pml4_b[0] = pml4_a[0];
	pml4_b[TEST_PML4E] = table(test_pdpt_b) | PTE_URW;
	test_pdpt_b[0] = table(test_pd_b) | PTE_URW;
	test_pd_b[0] = table(test_pt_b) | PTE_URW;
	reset();
	write_cr0(read_cr0() | CR0_WP);
	CHECK_EQ64(read_cr3(), (uintptr_t)pml4_a);
	printf("guest: own 4-level tables loaded\n");
}

static void check_map_remap(void)
{
	map_test(0, frame(0) | PTE_URW);
	map_test(1, frame(1) | PTE_URW);
	CHECK_TAGGED(test_va(0), frame(0));
	CHECK_TAGGED(test_va(1), frame(1));

	map_test(0, frame(2) | PTE_URW);
	CHECK_TAGGED(test_va(0), frame(2));

	map_test(2, frame(2) | PTE_URW);
	*(volatile uint32_t *)(uintptr_t)(test_va(2) + 8) = 0x12345678;
	CHECK_EQ(word_at(test_va(0) + 8), 0x12345678);
	CHECK_EQ(word_at(frame(2) + 8), 0x12345678);

	/* The same table again through PML4 entry 511. */
	CHECK_TAGGED(HIGH_VA, frame(2));
	CHECK_EQ(word_at(HIGH_VA + 8), 0x12345678);

	map_test(1, 0);
	CHECK_PF(pf_read(test_va(1), NULL), 0, test_va(1));
	CHECK_PF(pf_read(HIGH_VA + PAGE_SIZE + 4, NULL), 0, HIGH_VA + PAGE_SIZE + 4);
	map_test(1, frame(3) | PTE_URW);
	CHECK_TAGGED(test_va(1), frame(3));
	printf("guest: map, remap, alias, unmap of 4 KiB pages ok (also at 0x%llx)\n", HIGH_VA);
	reset();
}

static void check_not_present(void)
{
	uint64_t va = test_va(5) + 0x124;
	uint64_t no_pd = TEST_VA + 3 * HUGE_SIZE;	/* PDPTE 3 */
	uint64_t no_pt = TEST_VA + 7 * LARGE_SIZE;	/* PDE 7 */

	CHECK_PF(pf_read(va, NULL), 0, va);
	CHECK_PF(pf_write(va, 1), PFEC_W, va);
	map_test(5, 0xfffffffffffff000ull | 0xffe);
	CHECK_PF(pf_read(va, NULL), 0, va);

	CHECK_PF(pf_write(no_pt, 1), PFEC_W, no_pt);
	CHECK_PF(pf_read(no_pd, NULL), 0, no_pd);
	CHECK_PF(pf_read(HOLE_VA + 0x10, NULL), 0, HOLE_VA + 0x10);
	CHECK_PF(pf_write(HOLE_VA + 0x10, 1), PFEC_W, HOLE_VA + 0x10);
	printf("guest: not-present faults ok (PTE, PDE, PDPTE, PML4E)\n");
	reset();
}

static void check_write_protect(void)
{
	map_test(0, frame(4) | PTE_P | PTE_US);
	CHECK_TAGGED(test_va(0), frame(4));
	CHECK_PF(pf_write(test_va(0), 0xdead), PFEC_P | PFEC_W, test_va(0));
	CHECK_EQ(word_at(frame(4)), frame_tag(frame(4)));

	write_cr0(read_cr0() & ~CR0_WP);
	CHECK_EQ(pf_write(test_va(0), 0xdead), NO_PF);
	CHECK_EQ(word_at(frame(4)), 0xdead);
	write_cr0(read_cr0() | CR0_WP);
	CHECK_PF(pf_write(test_va(0) + 4, 0xbeef), PFEC_P | PFEC_W, test_va(0) + 4);
	CHECK_EQ(word_at(frame(4) + 4), 0);

	/* Read-only at each upper level in turn. */
	volatile uint64_t *upper[] = { &test_pd_a[0], &test_pdpt_a[0], &pml4_a[TEST_PML4E] };

	map_test(1, frame(5) | PTE_URW);
	for (unsigned i = 0; i < sizeof(upper) / sizeof(upper[0]); i++) {
		*upper[i] &= ~(uint64_t)PTE_RW;
		invlpg(test_va(1));
		CHECK_TAGGED(test_va(1), frame(5));
		CHECK_PF(pf_write(test_va(1), 1), PFEC_P | PFEC_W, test_va(1));
		*upper[i] |= PTE_RW;
		invlpg(test_va(1));
		CHECK_EQ(pf_write(test_va(1) + 8, i), NO_PF);
		CHECK_EQ(word_at(frame(5) + 8), i);
	}
	printf("guest: write protection ok (CR0.WP = 1 faults, CR0.WP = 0 writes)\n");
	reset();
}

static void check_user_supervisor(void)
{
	map_test(0, frame(6) | PTE_URW);
	CHECK_EQ(ring3_call(user_read, test_va(0)), NO_PF);
	CHECK_EQ(user_value, frame_tag(frame(6)));
	CHECK_EQ(ring3_call(user_write, test_va(0) + 8), NO_PF);
	CHECK_EQ(word_at(frame(6) + 8), USER_WRITE_VALUE);

	map_test(1, frame(6) | PTE_P | PTE_RW);
	CHECK_TAGGED(test_va(1), frame(6));
	CHECK_PF(ring3_call(user_read, test_va(1)), PFEC_P | PFEC_U, test_va(1));
	CHECK_PF(ring3_call(user_write, test_va(1)), PFEC_P | PFEC_W | PFEC_U, test_va(1));

	map_test(2, frame(6) | PTE_P | PTE_US);
	CHECK_EQ(ring3_call(user_read, test_va(2) + 8), NO_PF);
	CHECK_EQ(user_value, USER_WRITE_VALUE);
	CHECK_PF(ring3_call(user_write, test_va(2)), PFEC_P | PFEC_W | PFEC_U, test_va(2));
	/* CR0.WP = 0: CPL 0 writes the user read-only page; CPL 3 still reads it and still may not write. */
	write_cr0(read_cr0() & ~CR0_WP);
	CHECK_EQ(pf_write(test_va(2) + 12, 0x3e3e), NO_PF);
	CHECK_EQ(ring3_call(user_read, test_va(2) + 12), NO_PF);
	CHECK_EQ(user_value, 0x3e3e);
	CHECK_PF(ring3_call(user_write, test_va(2)), PFEC_P | PFEC_W | PFEC_U, test_va(2));
	CHECK_EQ(pf_write(test_va(2) + 12, 0x4f4f), NO_PF);
	CHECK_EQ(word_at(frame(6) + 12), 0x4f4f);
	write_cr0(read_cr0() | CR0_WP);
	CHECK_PF(pf_write(test_va(2) + 12, 1), PFEC_P | PFEC_W, test_va(2) + 12);

	CHECK_PF(ring3_call(user_read, test_va(3)), PFEC_U, test_va(3));
	CHECK_PF(ring3_call(user_write, test_va(3)), PFEC_W | PFEC_U, test_va(3));

	/* Supervisor-only at each upper level in turn. */
	volatile uint64_t *upper[] = { &test_pd_a[0], &test_pdpt_a[0], &pml4_a[TEST_PML4E] };

	for (unsigned i = 0; i < sizeof(upper) / sizeof(upper[0]); i++) {
		*upper[i] &= ~(uint64_t)PTE_US;
		invlpg(test_va(0));
		CHECK_PF(ring3_call(user_read, test_va(0)), PFEC_P | PFEC_U, test_va(0));
		CHECK_EQ(word_at(test_va(0)), frame_tag(frame(6)));
		*upper[i] |= PTE_US;
		invlpg(test_va(0));
		CHECK_EQ(ring3_call(user_read, test_va(0)), NO_PF);
	}
	printf("guest: user/supervisor protection from CPL 3 ok\n");
	reset();
}

static void check_cr3_switch(void)
{
	test_pt_a[0] = frame(0) | PTE_URW;
	test_pt_b[0] = frame(1) | PTE_URW;
	test_pt_b[1] = frame(2) | PTE_URW;

	write_cr3((uintptr_t)pml4_a);
	CHECK_TAGGED(test_va(0), frame(0));
	CHECK_PF(pf_read(test_va(1), NULL), 0, test_va(1));
	write_cr3((uintptr_t)pml4_b);
	CHECK_TAGGED(test_va(0), frame(1));
	CHECK_TAGGED(test_va(1), frame(2));
	CHECK_PF(pf_read(HIGH_VA, NULL), 0, HIGH_VA);

	test_pt_a[0] = frame(3) | PTE_URW;
	write_cr3((uintptr_t)pml4_a);
	CHECK_TAGGED(test_va(0), frame(3));
	write_cr3((uintptr_t)pml4_b);
	CHECK_TAGGED(test_va(0), frame(1));
	write_cr3((uintptr_t)pml4_a);
	CHECK_TAGGED(test_va(0), frame(3));
	printf("guest: two address spaces through CR3 ok\n");
	reset();
}

static void check_invlpg(void)
{
	map_test(0, frame(0) | PTE_URW);
	map_test(1, frame(1) | PTE_URW);
	CHECK_TAGGED(test_va(0), frame(0));
	CHECK_TAGGED(test_va(1), frame(1));

	test_pt_a[0] = frame(2) | PTE_URW;
	invlpg(test_va(0));
	CHECK_TAGGED(test_va(0), frame(2));
	CHECK_TAGGED(test_va(1), frame(1));

	test_pt_a[0] = 0;
	invlpg(test_va(0));
	CHECK_PF(pf_read(test_va(0), NULL), 0, test_va(0));

	test_pt_a[1] = frame(3) | PTE_URW;
	invlpg(test_va(1) + 0xabc);
	CHECK_TAGGED(test_va(1), frame(3));

	test_pt_a[1] = frame(4) | PTE_URW;
	write_cr3(read_cr3());
	CHECK_TAGGED(test_va(1), frame(4));

	/* INVLPG also drops what the CPU cached from the upper levels for that address. */
	test_pt_b[1] = frame(5) | PTE_URW;
	test_pdpt_a[0] = table(test_pd_b) | PTE_URW;
	invlpg(test_va(1));
	CHECK_TAGGED(test_va(1), frame(5));
	pml4_a[TEST_PML4E] = table(test_pdpt_b) | PTE_URW;
	test_pt_b[2] = frame(6) | PTE_URW;
	invlpg(test_va(2));
	CHECK_TAGGED(test_va(2), frame(6));
	printf("guest: INVLPG and CR3 reload after PTE, PDPTE and PML4E changes ok\n");
	reset();
}

static void check_accessed_dirty(void)
{
	volatile uint64_t *upper[] = { &test_pd_a[0], &test_pdpt_a[0], &pml4_a[TEST_PML4E] };

	test_pt_a[0] = frame(0) | PTE_URW;
	for (unsigned i = 0; i < sizeof(upper) / sizeof(upper[0]); i++)
		*upper[i] &= ~(uint64_t)PTE_A;
	invlpg(test_va(0));
	CHECK_EQ(pf_read(test_va(0), NULL), NO_PF);
	CHECK_EQ(test_pt_a[0] & (PTE_A | PTE_D), PTE_A);
	for (unsigned i = 0; i < sizeof(upper) / sizeof(upper[0]); i++)
		CHECK_EQ(*upper[i] & (PTE_A | PTE_D), PTE_A);	/* D is ignored above a leaf; the CPU leaves it */
	CHECK_EQ(pf_write(test_va(0) + 8, 5), NO_PF);
	CHECK_EQ(test_pt_a[0] & (PTE_A | PTE_D), PTE_A | PTE_D);

	test_pt_a[0] &= ~(uint64_t)(PTE_A | PTE_D);
	invlpg(test_va(0));
	CHECK_EQ(pf_read(test_va(0), NULL), NO_PF);
	CHECK_EQ(test_pt_a[0] & (PTE_A | PTE_D), PTE_A);
	CHECK_EQ(pf_write(test_va(0), 6), NO_PF);
	CHECK_EQ(test_pt_a[0] & (PTE_A | PTE_D), PTE_A | PTE_D);

	map_test(1, frame(1) | PTE_URW);
	CHECK_EQ(pf_write(test_va(1), 7), NO_PF);
	CHECK_EQ(test_pt_a[1] & (PTE_A | PTE_D), PTE_A | PTE_D);

	map_test(2, frame(2) | PTE_P | PTE_US);
	CHECK_PF(pf_write(test_va(2), 8), PFEC_P | PFEC_W, test_va(2));
	CHECK_EQ(test_pt_a[2] & PTE_D, 0);
	printf("guest: accessed and dirty bits ok (PTE A/D; PDE, PDPTE, PML4E A)\n");
	reset();
}

static void check_2m_pages(void)
{
	static const uint32_t offsets[] = { 0, 0x1000, 0xff000, 0x1ff000 };
	volatile uint64_t *pde = &test_pd_a[1];

	*pde = LARGE_PA_A | PTE_PS | PTE_URW;
	invlpg(LARGE_VA);
	for (unsigned i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++)
		CHECK_TAGGED(LARGE_VA + offsets[i], LARGE_PA_A + offsets[i]);
	CHECK_EQ(*pde & (PTE_A | PTE_D), PTE_A);
	CHECK_EQ(pf_write(LARGE_VA + 0x2000, 9), NO_PF);
	CHECK_EQ(*pde & (PTE_A | PTE_D), PTE_A | PTE_D);
	CHECK_EQ(word_at(LARGE_VA + 0x2000), 9);

	*pde = LARGE_PA_B | PTE_PS | PTE_URW;
	invlpg(LARGE_VA + 0x123000);
	for (unsigned i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++)
		CHECK_TAGGED(LARGE_VA + offsets[i], LARGE_PA_B + offsets[i]);

	*pde = LARGE_PA_B | PTE_PS | PTE_P | PTE_US;
	invlpg(LARGE_VA);
	CHECK_PF(pf_write(LARGE_VA + 0x5000, 1), PFEC_P | PFEC_W, LARGE_VA + 0x5000);
	CHECK_EQ(ring3_call(user_read, LARGE_VA + 0x5000), NO_PF);
	CHECK_EQ(user_value, frame_tag(LARGE_PA_B + 0x5000));
	CHECK_PF(ring3_call(user_write, LARGE_VA), PFEC_P | PFEC_W | PFEC_U, LARGE_VA);

	*pde = LARGE_PA_B | PTE_PS | PTE_P | PTE_RW;
	invlpg(LARGE_VA);
	CHECK_PF(ring3_call(user_read, LARGE_VA + 0x1ff000), PFEC_P | PFEC_U, LARGE_VA + 0x1ff000);

	*pde = 0;
	invlpg(LARGE_VA);
	CHECK_PF(pf_read(LARGE_VA + 0x1ffffc, NULL), 0, LARGE_VA + 0x1ffffc);

	*pde = PTE_PS | PTE_URW;
	invlpg(LARGE_VA);
	map_test(0, frame(5) | PTE_URW);
	CHECK_TAGGED(LARGE_VA + frame(5), frame(5));
	CHECK_EQ(pf_write(LARGE_VA + frame(5) + 8, 0x4d1b), NO_PF);
	CHECK_EQ(word_at(test_va(0) + 8), 0x4d1b);
	CHECK_EQ(word_at(frame(5) + 8), 0x4d1b);
	printf("guest: 2 MiB pages ok\n");
	reset();
}

/* A 1 GiB page maps physical 0 up: only the part that is RAM gets touched. */
static void check_1g_pages(void)
{
	volatile uint64_t *pdpte = &test_pdpt_a[1];

	if (!have_1g) {
		printf("guest: no 1 GiB pages; their checks skipped\n");
		return;
	}
	*pdpte = PTE_PS | PTE_URW;
	invlpg(HUGE_VA);
	CHECK_TAGGED(HUGE_VA + LARGE_PA_A + 0x3000, LARGE_PA_A + 0x3000);
	CHECK_TAGGED(HUGE_VA + LARGE_PA_B + 0x1ff000, LARGE_PA_B + 0x1ff000);
	CHECK_TAGGED(HUGE_VA + frame(1), frame(1));
	CHECK_EQ(*pdpte & (PTE_A | PTE_D), PTE_A);
	CHECK_EQ(pf_write(HUGE_VA + frame(1) + 8, 0x1961), NO_PF);
	CHECK_EQ(*pdpte & (PTE_A | PTE_D), PTE_A | PTE_D);
	CHECK_EQ(word_at(frame(1) + 8), 0x1961);

	*pdpte = PTE_PS | PTE_P | PTE_US;
	invlpg(HUGE_VA);
	CHECK_PF(pf_write(HUGE_VA + frame(1), 1), PFEC_P | PFEC_W, HUGE_VA + frame(1));
	CHECK_EQ(ring3_call(user_read, HUGE_VA + frame(2)), NO_PF);
	CHECK_EQ(user_value, frame_tag(frame(2)));

	*pdpte = PTE_PS | PTE_P | PTE_RW;
	invlpg(HUGE_VA);
	CHECK_PF(ring3_call(user_read, HUGE_VA + frame(2)), PFEC_P | PFEC_U, HUGE_VA + frame(2));

	*pdpte = PTE_PS | PTE_URW | LARGE_RESERVED_LOW;
	invlpg(HUGE_VA);
	CHECK_PF(rsvd_fault(pf_read(HUGE_VA + frame(2), NULL)), PFEC_P | PFEC_RSVD, HUGE_VA + frame(2));

	*pdpte = 0;
	invlpg(HUGE_VA);
	CHECK_PF(pf_read(HUGE_VA + frame(2), NULL), 0, HUGE_VA + frame(2));
	printf("guest: 1 GiB pages ok\n");
	reset();
}

static void check_nx(void)
{
	uint32_t eax = 0;
	uint64_t stub = test_va(0) + STUB_OFFSET;

	if (!have_nx) {
		printf("guest: no NX; NX checks skipped\n");
		return;
	}
	map_test(0, frame(EXEC_FRAME) | PTE_URW | PTE_NX);
	CHECK_PF(rsvd_fault(pf_read(test_va(0), NULL)), PFEC_P | PFEC_RSVD, test_va(0));

	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	invlpg(test_va(0));
	CHECK_TAGGED(test_va(0), frame(EXEC_FRAME));
	CHECK_PF(pf_exec(stub, &eax), PFEC_P | PFEC_ID, stub);
	map_test(0, frame(EXEC_FRAME) | PTE_URW);
	CHECK_EQ(pf_exec(stub, &eax), NO_PF);
	CHECK_EQ(eax, EXEC_STUB_RESULT);
	CHECK_PF(pf_exec(test_va(1) + STUB_OFFSET, &eax), PFEC_ID, test_va(1) + STUB_OFFSET);

	volatile uint64_t *upper[] = { &test_pd_a[0], &test_pdpt_a[0], &pml4_a[TEST_PML4E] };

	for (unsigned i = 0; i < sizeof(upper) / sizeof(upper[0]); i++) {
		*upper[i] |= PTE_NX;
		invlpg(test_va(0));
		CHECK_PF(pf_exec(stub, &eax), PFEC_P | PFEC_ID, stub);
		CHECK_TAGGED(test_va(0), frame(EXEC_FRAME));
		*upper[i] &= ~PTE_NX;
		invlpg(test_va(0));
		eax = 0;
		CHECK_EQ(pf_exec(stub, &eax), NO_PF);
		CHECK_EQ(eax, EXEC_STUB_RESULT);
	}

	/* The stub through a 2 MiB page over the image, and from the top of the address space. */
	uint64_t via_large = LARGE_VA + frame(EXEC_FRAME) + STUB_OFFSET;

	test_pd_a[1] = PTE_PS | PTE_URW | PTE_NX;
	invlpg(LARGE_VA);
	CHECK_PF(pf_exec(via_large, &eax), PFEC_P | PFEC_ID, via_large);
	test_pd_a[1] = PTE_PS | PTE_URW;
	invlpg(LARGE_VA);
	eax = 0;
	CHECK_EQ(pf_exec(via_large, &eax), NO_PF);
	CHECK_EQ(eax, EXEC_STUB_RESULT);
	eax = 0;
	CHECK_EQ(pf_exec(HIGH_VA + STUB_OFFSET, &eax), NO_PF);
	CHECK_EQ(eax, EXEC_STUB_RESULT);
	printf("guest: NX ok (fetch faults with I/D set, reserved without EFER.NXE)\n");
	reset();
}

static void check_reserved_bits(void)
{
	uint64_t above_maxphy = 1ull << maxphyaddr;

	if (maxphyaddr < 52) {
		map_test(0, frame(0) | PTE_URW | above_maxphy);
		CHECK_PF(rsvd_fault(pf_read(test_va(0), NULL)), PFEC_P | PFEC_RSVD, test_va(0));
		CHECK_PF(rsvd_fault(pf_write(test_va(0) + 4, 1)), PFEC_P | PFEC_W | PFEC_RSVD,
			 test_va(0) + 4);
		CHECK_PF(rsvd_fault(ring3_call(user_read, test_va(0))), PFEC_P | PFEC_U | PFEC_RSVD,
			 test_va(0));
		map_test(0, frame(0) | PTE_URW);
		test_pdpt_a[0] |= above_maxphy;
		invlpg(test_va(0));
		CHECK_PF(rsvd_fault(pf_read(test_va(0), NULL)), PFEC_P | PFEC_RSVD, test_va(0));
		test_pdpt_a[0] &= ~above_maxphy;
		invlpg(test_va(0));
		CHECK_TAGGED(test_va(0), frame(0));
	}

	test_pd_a[1] = LARGE_PA_A | PTE_PS | PTE_URW | LARGE_RESERVED_LOW;
	invlpg(LARGE_VA);
	CHECK_PF(rsvd_fault(pf_read(LARGE_VA, NULL)), PFEC_P | PFEC_RSVD, LARGE_VA);

	/* PS must be 0 in a PML4E. */
	map_test(0, frame(0) | PTE_URW);
	pml4_a[TEST_PML4E] |= PTE_PS;
	invlpg(test_va(0));
	CHECK_PF(rsvd_fault(pf_read(test_va(0), NULL)), PFEC_P | PFEC_RSVD, test_va(0));
	pml4_a[TEST_PML4E] &= ~(uint64_t)PTE_PS;
	invlpg(test_va(0));
	CHECK_TAGGED(test_va(0), frame(0));
	printf("guest: reserved-bit faults ok\n");
	reset();
}

/* The vector of a MOV to CR0 (cr 0) or CR3 (cr 3) with value, NO_EXCEPTION if the write happened; a #GP must have error code 0. */
static int write_cr_vector(int cr, uint64_t value)
{
	expect_exception(EXC_GP);
	if (cr == 0)
		asm volatile(ASM_TRY("1f") "mov %0, %%cr0\n1:" : : "r"(value) : "memory");
	else
		asm volatile(ASM_TRY("1f") "mov %0, %%cr3\n1:" : : "r"(value) : "memory");
	int vector = exception_seen();

	if (vector != NO_EXCEPTION)
		CHECK_EQ(exception_last.error_code, 0);
	return vector;
}

/*
 * 64-bit code cannot turn paging off under itself (SDM, MOV to CR0, 64-bit
 * mode exceptions: #GP(0) on clearing PG), and with CR4.PCIDE = 0 bit 63
 * of a new CR3, like every bit at and above MAXPHYADDR, is reserved (#GP(0)).
 * QEMU 7.2 TCG checks neither: it leaves long mode on the first and loads
 * the second (helper_write_crN()), and either ends the guest. So these run
 * under the VMM only.
 */
static void check_cr_writes(bool vmm)
{
	if (!vmm) {
		printf("guest: MOV CR0/CR3 #GP checks in 64-bit mode need the VMM\n");
		return;
	}
	uint64_t cr0 = read_cr0(), cr3 = read_cr3();

	map_test(0, frame(0) | PTE_URW);
	CHECK_TAGGED(test_va(0), frame(0));
	CHECK_EQ(write_cr_vector(0, cr0 & ~(uint64_t)CR0_PG), EXC_GP);
	CHECK_EQ64(read_cr0(), cr0);

	CHECK(!(read_cr4() & CR4_PCIDE));
	CHECK_EQ(write_cr_vector(3, cr3 | 1ull << 63), EXC_GP);
	CHECK_EQ64(read_cr3(), cr3);
	if (maxphyaddr < 52) {
		CHECK_EQ(write_cr_vector(3, cr3 | 1ull << maxphyaddr), EXC_GP);
		CHECK_EQ64(read_cr3(), cr3);
	}
	/* Still paging through the same tables, and a valid CR3 still loads. */
	CHECK_TAGGED(test_va(0), frame(0));
	CHECK_EQ(write_cr_vector(3, cr3), NO_EXCEPTION);
	CHECK_TAGGED(test_va(0), frame(0));
	printf("guest: MOV CR0 clearing PG and MOV CR3 with bit 63 set raise #GP(0) in 64-bit mode\n");
	reset();
}

/* As in paging32: under mmu=shadow the VMM emulates the stepped write to a protected table, and the trap must follow. */
static void check_single_step_pte_write(void)
{
	map_test(0, frame(0) | PTE_URW);
	CHECK_TAGGED(test_va(0), frame(0));

	struct step_trap t = step_write((volatile uint32_t *)&test_pt_a[0], frame(1) | PTE_URW);
	CHECK_STEP_TRAP(t);
	CHECK_EQ64(test_pt_a[0], frame(1) | PTE_URW);
	invlpg(test_va(0));
	CHECK_TAGGED(test_va(0), frame(1));
	printf("guest: a single-stepped PTE write traps after the MOV (DR6.BS) and takes effect\n");
	reset();
}

int guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
	CHECK_EQ(magic, MULTIBOOT_LOADER_MAGIC);
	probe_cpu();
	check_memory_layout(mbi, RAM_TOP, IDENTITY_END);
	tag_pages(LARGE_PA_A, LARGE_SIZE);
	tag_pages(LARGE_PA_B, LARGE_SIZE);
	switch_tables();
	ring3_init();

	check_map_remap();
	check_not_present();
	check_write_protect();
	check_user_supervisor();
	check_cr3_switch();
	check_invlpg();
	check_accessed_dirty();
	check_2m_pages();
	check_1g_pages();
	check_nx();
	check_reserved_bits();
	check_cr_writes(under_vmm());
	check_single_step_pte_write();
	return guest_pass("paging64");
}
