/* paging_pae: PAE paging (PDPTEs, 4 KiB and 2 MiB pages, NX, reserved bits) checked from inside. */
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
#define RAM_TOP		0x1000000u
#define TEST_VA		0x40000000u	/* PDPTE 1, PDE 0: the 4 KiB test pages */
#define LARGE_VA	0x40200000u	/* PDPTE 1, PDE 1: a 2 MiB page */
#define HOLE_VA		0x80000000u	/* PDPTE 2: never present */
#define NFRAMES		8
#define EXEC_FRAME	7		/* holds write_exec_stub()'s code */
#define USER_WRITE_VALUE	0x05e7da7au
#define GP_NONE		0xffffffffu
/* Bits 2:1 and 8:5 of a PDPTE are reserved. */
#define PDPTE_RESERVED_RW	(1u << 1)
/* Bits 20:13 of a PDE that maps a 2 MiB page are reserved. */
#define PDE_2M_RESERVED_LOW	(1u << 13)
#define DEFAULT_MAXPHYADDR	36

/*
 * Address spaces A and B share the identity PD; each has its own PD and
 * test table at PDPTE 1. A PDPT needs only 32 bytes (4 entries); a whole
 * page keeps it from sharing a page with anything else.
 */
static volatile uint64_t pdpt_a[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static volatile uint64_t pdpt_b[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static volatile uint64_t identity_pd[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static volatile uint64_t identity_pt[IDENTITY_END / LARGE_SIZE][ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static volatile uint64_t test_pd_a[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static volatile uint64_t test_pd_b[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static volatile uint64_t test_pt_a[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static volatile uint64_t test_pt_b[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static uint8_t frames[NFRAMES][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

static uint32_t user_value;
static unsigned maxphyaddr;
static bool have_nx;

static uint32_t frame(int i)
{
	return (uint32_t)(uintptr_t)frames[i];
}

static uint32_t test_va(int page)
{
	return TEST_VA + page * PAGE_SIZE;
}

static uint32_t word_at(uint32_t va)
{
	return *(volatile uint32_t *)(uintptr_t)va;
}

static uint32_t low(volatile uint64_t *e)
{
	return *(volatile uint32_t *)e;
}

static uint64_t table(volatile uint64_t *t)
{
	return (uint32_t)(uintptr_t)t;
}

/*
 * A 32-bit CPU writes an entry in two halves. Like 32-bit PAE kernels, the
 * entry goes not-present first, so no half-written entry is ever present.
 */
static void set_entry(volatile uint64_t *e, uint64_t v)
{
	volatile uint32_t *half = (volatile uint32_t *)e;

	if (half[0] & PTE_P)
		half[0] = 0;
	half[1] = v >> 32;
	half[0] = (uint32_t)v;
}

static void map_test(int page, uint64_t entry)
{
	set_entry(&test_pt_a[page], entry);
	invlpg(test_va(page));
}

static volatile uint64_t *test_pde(void)
{
	return &test_pd_a[0];
}

static volatile uint64_t *large_pde(void)
{
	return &test_pd_a[1];
}

static void reset(void)
{
	for (int i = 0; i < ENTRIES; i++) {
		set_entry(&test_pt_a[i], 0);
		set_entry(&test_pt_b[i], 0);
	}
	set_entry(large_pde(), 0);
	set_entry(test_pde(), table(test_pt_a) | PTE_URW);
	set_entry(&pdpt_a[1], table(test_pd_a) | PTE_P);
	write_cr3((uintptr_t)pdpt_a);
	tag_pages(frame(0), sizeof(frames));
	write_exec_stub(frames[EXEC_FRAME] + 16);
}

static uintptr_t user_read(uintptr_t va)
{
	return pf_read(va, &user_value);
}

static uintptr_t user_write(uintptr_t va)
{
	return pf_write(va, USER_WRITE_VALUE);
}

/* The #GP error code of MOV to CR3, or GP_NONE if the load succeeded. */
static uint32_t gp_load_cr3(uintptr_t cr3)
{
	expect_exception(EXC_GP);
	asm volatile(ASM_TRY("1f") "mov %0, %%cr3\n1:" : : "r"(cr3) : "memory");
	return exception_seen() == NO_EXCEPTION ? GP_NONE : exception_last.error_code;
}

static void probe_cpu(void)
{
	CHECK(cpuid(1, 0).edx & CPUID_1_EDX_PAE);
	uint32_t max_ext = cpuid(CPUID_EXT_BASE, 0).eax;

	have_nx = max_ext >= CPUID_EXT_FEATURES && (cpuid(CPUID_EXT_FEATURES, 0).edx & CPUID_EXT_EDX_NX);
	maxphyaddr = max_ext >= CPUID_EXT_ADDR_SIZES ? cpuid(CPUID_EXT_ADDR_SIZES, 0).eax & 0xff
						       : DEFAULT_MAXPHYADDR;
	printf("guest: MAXPHYADDR %u, NX %s\n", maxphyaddr, have_nx ? "yes" : "no");
	CHECK(maxphyaddr >= 32 && maxphyaddr <= 52);
}

static void enable_paging(void)
{
	for (uint32_t pa = PAGE_SIZE; pa < IDENTITY_END; pa += PAGE_SIZE)
		set_entry(&identity_pt[pa / LARGE_SIZE][pa / PAGE_SIZE % ENTRIES], pa | PTE_URW);
	for (uint32_t i = 0; i < IDENTITY_END / LARGE_SIZE; i++)
		set_entry(&identity_pd[i], table(identity_pt[i]) | PTE_URW);
	set_entry(&pdpt_a[0], table(identity_pd) | PTE_P);
	set_entry(&pdpt_b[0], table(identity_pd) | PTE_P);
	set_entry(&pdpt_b[1], table(test_pd_b) | PTE_P);
	set_entry(&test_pd_b[0], table(test_pt_b) | PTE_URW);
	reset();
	write_cr4(read_cr4() | CR4_PAE);
	write_cr0(read_cr0() | CR0_PG | CR0_WP);
	CHECK_EQ(read_cr3(), (uintptr_t)pdpt_a);
	printf("guest: PAE paging on\n");
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

	map_test(1, 0);
	CHECK_PF(pf_read(test_va(1), NULL), 0, test_va(1));
	map_test(1, frame(3) | PTE_URW);
	CHECK_TAGGED(test_va(1), frame(3));
	printf("guest: map, remap, alias, unmap of 4 KiB pages ok\n");
	reset();
}

static void check_not_present(void)
{
	uint32_t va = test_va(5) + 0x124;

	CHECK_PF(pf_read(va, NULL), 0, va);
	CHECK_PF(pf_write(va, 1), PFEC_W, va);

	/* With P clear nothing else counts, not even bits that would be reserved. */
	map_test(5, 0xfffffffffffff000ull | 0xffe);
	CHECK_PF(pf_read(va, NULL), 0, va);

	set_entry(&test_pd_a[7], 0x7ffffffffffff000ull | 0xffe);
	invlpg(TEST_VA + 7 * LARGE_SIZE);
	CHECK_PF(pf_write(TEST_VA + 7 * LARGE_SIZE, 1), PFEC_W, TEST_VA + 7 * LARGE_SIZE);
	set_entry(&test_pd_a[7], 0);

	/* Through a not-present PDPTE. */
	CHECK_PF(pf_read(HOLE_VA + 0x10, NULL), 0, HOLE_VA + 0x10);
	CHECK_PF(pf_write(HOLE_VA + 0x10, 1), PFEC_W, HOLE_VA + 0x10);
	printf("guest: not-present faults ok (PTE, PDE, PDPTE)\n");
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

	map_test(1, frame(5) | PTE_URW);
	set_entry(test_pde(), table(test_pt_a) | PTE_P | PTE_US);
	invlpg(test_va(1));
	CHECK_TAGGED(test_va(1), frame(5));
	CHECK_PF(pf_write(test_va(1), 1), PFEC_P | PFEC_W, test_va(1));
	set_entry(test_pde(), table(test_pt_a) | PTE_URW);
	invlpg(test_va(1));
	CHECK_EQ(pf_write(test_va(1) + 8, 1), NO_PF);
	CHECK_EQ(word_at(frame(5) + 8), 1);
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

	set_entry(test_pde(), table(test_pt_a) | PTE_P | PTE_RW);
	invlpg(test_va(0));
	CHECK_PF(ring3_call(user_read, test_va(0)), PFEC_P | PFEC_U, test_va(0));
	CHECK_EQ(word_at(test_va(0)), frame_tag(frame(6)));
	set_entry(test_pde(), table(test_pt_a) | PTE_URW);
	invlpg(test_va(0));
	CHECK_EQ(ring3_call(user_read, test_va(0)), NO_PF);
	printf("guest: user/supervisor protection from CPL 3 ok\n");
	reset();
}

static void check_cr3_switch(void)
{
	set_entry(&test_pt_a[0], frame(0) | PTE_URW);
	set_entry(&test_pt_b[0], frame(1) | PTE_URW);
	set_entry(&test_pt_b[1], frame(2) | PTE_URW);

	write_cr3((uintptr_t)pdpt_a);
	CHECK_TAGGED(test_va(0), frame(0));
	CHECK_PF(pf_read(test_va(1), NULL), 0, test_va(1));
	write_cr3((uintptr_t)pdpt_b);
	CHECK_TAGGED(test_va(0), frame(1));
	CHECK_TAGGED(test_va(1), frame(2));

	set_entry(&test_pt_a[0], frame(3) | PTE_URW);
	write_cr3((uintptr_t)pdpt_a);
	CHECK_TAGGED(test_va(0), frame(3));
	write_cr3((uintptr_t)pdpt_b);
	CHECK_TAGGED(test_va(0), frame(1));
	write_cr3((uintptr_t)pdpt_a);
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

	set_entry(&test_pt_a[0], frame(2) | PTE_URW);
	invlpg(test_va(0));
	CHECK_TAGGED(test_va(0), frame(2));
	CHECK_TAGGED(test_va(1), frame(1));

	set_entry(&test_pt_a[0], 0);
	invlpg(test_va(0));
	CHECK_PF(pf_read(test_va(0), NULL), 0, test_va(0));

	set_entry(&test_pt_a[1], frame(3) | PTE_URW);
	invlpg(test_va(1) + 0xabc);
	CHECK_TAGGED(test_va(1), frame(3));

	set_entry(&test_pt_a[1], frame(4) | PTE_URW);
	write_cr3(read_cr3());
	CHECK_TAGGED(test_va(1), frame(4));
	printf("guest: INVLPG and CR3 reload after PTE changes ok\n");
	reset();
}

static void check_accessed_dirty(void)
{
	set_entry(&test_pt_a[0], frame(0) | PTE_URW);
	set_entry(test_pde(), table(test_pt_a) | PTE_URW);
	invlpg(test_va(0));
	CHECK_EQ(pf_read(test_va(0), NULL), NO_PF);
	CHECK_EQ(low(&test_pt_a[0]) & (PTE_A | PTE_D), PTE_A);
	CHECK_EQ(low(test_pde()) & PTE_A, PTE_A);
	CHECK_EQ(pf_write(test_va(0) + 8, 5), NO_PF);
	CHECK_EQ(low(&test_pt_a[0]) & (PTE_A | PTE_D), PTE_A | PTE_D);

	set_entry(&test_pt_a[0], frame(0) | PTE_URW);
	invlpg(test_va(0));
	CHECK_EQ(pf_read(test_va(0), NULL), NO_PF);
	CHECK_EQ(low(&test_pt_a[0]) & (PTE_A | PTE_D), PTE_A);
	CHECK_EQ(pf_write(test_va(0), 6), NO_PF);
	CHECK_EQ(low(&test_pt_a[0]) & (PTE_A | PTE_D), PTE_A | PTE_D);

	map_test(1, frame(1) | PTE_URW);
	CHECK_EQ(pf_write(test_va(1), 7), NO_PF);
	CHECK_EQ(low(&test_pt_a[1]) & (PTE_A | PTE_D), PTE_A | PTE_D);

	map_test(2, frame(2) | PTE_P | PTE_US);
	CHECK_PF(pf_write(test_va(2), 8), PFEC_P | PFEC_W, test_va(2));
	CHECK_EQ(low(&test_pt_a[2]) & PTE_D, 0);
	printf("guest: accessed and dirty bits ok\n");
	reset();
}

static void check_large_pages(void)
{
	static const uint32_t offsets[] = { 0, 0x1000, 0xff000, 0x1ff000 };

	set_entry(large_pde(), LARGE_PA_A | PTE_PS | PTE_URW);
	invlpg(LARGE_VA);
	for (unsigned i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++)
		CHECK_TAGGED(LARGE_VA + offsets[i], LARGE_PA_A + offsets[i]);
	CHECK_EQ(low(large_pde()) & (PTE_A | PTE_D), PTE_A);
	CHECK_EQ(pf_write(LARGE_VA + 0x2000, 9), NO_PF);
	CHECK_EQ(low(large_pde()) & (PTE_A | PTE_D), PTE_A | PTE_D);
	CHECK_EQ(word_at(LARGE_VA + 0x2000), 9);

	set_entry(large_pde(), LARGE_PA_B | PTE_PS | PTE_URW);
	invlpg(LARGE_VA + 0x123000);
	for (unsigned i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++)
		CHECK_TAGGED(LARGE_VA + offsets[i], LARGE_PA_B + offsets[i]);

	set_entry(large_pde(), LARGE_PA_B | PTE_PS | PTE_P | PTE_US);
	invlpg(LARGE_VA);
	CHECK_PF(pf_write(LARGE_VA + 0x5000, 1), PFEC_P | PFEC_W, LARGE_VA + 0x5000);
	CHECK_EQ(ring3_call(user_read, LARGE_VA + 0x5000), NO_PF);
	CHECK_EQ(user_value, frame_tag(LARGE_PA_B + 0x5000));
	CHECK_PF(ring3_call(user_write, LARGE_VA), PFEC_P | PFEC_W | PFEC_U, LARGE_VA);

	set_entry(large_pde(), LARGE_PA_B | PTE_PS | PTE_P | PTE_RW);
	invlpg(LARGE_VA);
	CHECK_PF(ring3_call(user_read, LARGE_VA + 0x1ff000), PFEC_P | PFEC_U, LARGE_VA + 0x1ff000);

	set_entry(large_pde(), 0);
	invlpg(LARGE_VA);
	CHECK_PF(pf_read(LARGE_VA + 0x1ffffc, NULL), 0, LARGE_VA + 0x1ffffc);

	/* A 2 MiB page over the identity-mapped frames: three ways to one frame. */
	set_entry(large_pde(), PTE_PS | PTE_URW);
	invlpg(LARGE_VA);
	map_test(0, frame(5) | PTE_URW);
	CHECK_TAGGED(LARGE_VA + frame(5), frame(5));
	CHECK_EQ(pf_write(LARGE_VA + frame(5) + 8, 0x4d1b), NO_PF);
	CHECK_EQ(word_at(test_va(0) + 8), 0x4d1b);
	CHECK_EQ(word_at(frame(5) + 8), 0x4d1b);
	printf("guest: 2 MiB pages ok\n");
	reset();
}

static void check_nx(void)
{
	uint32_t eax = 0;
	uint32_t stub_off = 16;

	if (!have_nx) {
		printf("guest: no NX; NX checks skipped\n");
		return;
	}
	/* Without EFER.NXE bit 63 is reserved. */
	map_test(0, frame(EXEC_FRAME) | PTE_URW | PTE_NX);
	CHECK_PF(rsvd_fault(pf_read(test_va(0), NULL)), PFEC_P | PFEC_RSVD, test_va(0));

	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	invlpg(test_va(0));
	CHECK_TAGGED(test_va(0), frame(EXEC_FRAME));
	CHECK_PF(pf_exec(test_va(0) + stub_off, &eax), PFEC_P | PFEC_ID, test_va(0) + stub_off);
	map_test(0, frame(EXEC_FRAME) | PTE_URW);
	CHECK_EQ(pf_exec(test_va(0) + stub_off, &eax), NO_PF);
	CHECK_EQ(eax, EXEC_STUB_RESULT);

	CHECK_PF(pf_exec(test_va(1) + stub_off, &eax), PFEC_ID, test_va(1) + stub_off);

	/* NX in the PDE covers every page below it. */
	set_entry(test_pde(), table(test_pt_a) | PTE_URW | PTE_NX);
	invlpg(test_va(0));
	CHECK_PF(pf_exec(test_va(0) + stub_off, &eax), PFEC_P | PFEC_ID, test_va(0) + stub_off);
	CHECK_TAGGED(test_va(0), frame(EXEC_FRAME));
	set_entry(test_pde(), table(test_pt_a) | PTE_URW);
	invlpg(test_va(0));

	/* A 2 MiB page over the image: the same stub through it. */
	set_entry(large_pde(), PTE_PS | PTE_URW | PTE_NX);
	invlpg(LARGE_VA);
	uint32_t via_large = LARGE_VA + frame(EXEC_FRAME) + stub_off;

	CHECK_PF(pf_exec(via_large, &eax), PFEC_P | PFEC_ID, via_large);
	set_entry(large_pde(), PTE_PS | PTE_URW);
	invlpg(LARGE_VA);
	eax = 0;
	CHECK_EQ(pf_exec(via_large, &eax), NO_PF);
	CHECK_EQ(eax, EXEC_STUB_RESULT);
	printf("guest: NX ok (fetch faults with I/D set, reserved without EFER.NXE)\n");
	reset();
}

static void check_reserved_bits(void)
{
	uint64_t above_maxphy = 1ull << maxphyaddr;

	map_test(0, frame(0) | PTE_URW | above_maxphy);
	CHECK_PF(rsvd_fault(pf_read(test_va(0), NULL)), PFEC_P | PFEC_RSVD, test_va(0));
	CHECK_PF(rsvd_fault(pf_write(test_va(0) + 4, 1)), PFEC_P | PFEC_W | PFEC_RSVD, test_va(0) + 4);
	CHECK_PF(rsvd_fault(ring3_call(user_read, test_va(0))), PFEC_P | PFEC_U | PFEC_RSVD, test_va(0));

	/* In a PDE that points to a table, and in a PDE that maps 2 MiB. */
	map_test(0, frame(0) | PTE_URW);
	set_entry(test_pde(), table(test_pt_a) | PTE_URW | above_maxphy);
	invlpg(test_va(0));
	CHECK_PF(rsvd_fault(pf_read(test_va(0), NULL)), PFEC_P | PFEC_RSVD, test_va(0));
	set_entry(test_pde(), table(test_pt_a) | PTE_URW);
	invlpg(test_va(0));
	CHECK_TAGGED(test_va(0), frame(0));

	set_entry(large_pde(), LARGE_PA_A | PTE_PS | PTE_URW | PDE_2M_RESERVED_LOW);
	invlpg(LARGE_VA);
	CHECK_PF(rsvd_fault(pf_read(LARGE_VA, NULL)), PFEC_P | PFEC_RSVD, LARGE_VA);
	printf("guest: reserved-bit faults ok\n");
	reset();
}

/*
 * PAE keeps the four PDPTEs in registers loaded by MOV to CR3. Where the
 * SDM (Intel) applies: a reserved bit in a present PDPTE makes the load
 * #GP(0), and PDPTEs changed in memory count only from the next load.
 */
static void check_pdptes(bool intel_semantics)
{
	map_test(0, frame(0) | PTE_URW);
	set_entry(&test_pt_b[0], frame(1) | PTE_URW);
	CHECK_TAGGED(test_va(0), frame(0));

	set_entry(&pdpt_a[1], table(test_pd_b) | PTE_P);
	if (intel_semantics) {
		invlpg(test_va(0));
		CHECK_TAGGED(test_va(0), frame(0));
	}
	write_cr3((uintptr_t)pdpt_a);
	CHECK_TAGGED(test_va(0), frame(1));
	set_entry(&pdpt_a[1], table(test_pd_a) | PTE_P);
	write_cr3((uintptr_t)pdpt_a);
	CHECK_TAGGED(test_va(0), frame(0));

	if (intel_semantics) {
		set_entry(&pdpt_b[3], table(test_pd_b) | PTE_P | PDPTE_RESERVED_RW);
		CHECK_EQ(gp_load_cr3((uintptr_t)pdpt_b), 0);
		CHECK_EQ(read_cr3(), (uintptr_t)pdpt_a);
		CHECK_TAGGED(test_va(0), frame(0));
		set_entry(&pdpt_b[3], 0);
		CHECK_EQ(gp_load_cr3((uintptr_t)pdpt_b), GP_NONE);
		CHECK_TAGGED(test_va(0), frame(1));
		printf("guest: PDPTEs ok (loaded by MOV to CR3, reserved bits #GP)\n");
	} else {
		printf("guest: PDPTEs ok (new PDPTE after MOV to CR3); register checks need the VMM\n");
	}
	reset();
}

/* As in paging32, on the low half of a PAE entry (the high half stays 0): the stepped write is emulated under mmu=shadow. */
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
	enable_paging();
	ring3_init();

	check_map_remap();
	check_not_present();
	check_write_protect();
	check_user_supervisor();
	check_cr3_switch();
	check_invlpg();
	check_accessed_dirty();
	check_large_pages();
	check_nx();
	check_reserved_bits();
	check_single_step_pte_write();
	check_pdptes(under_vmm());
	return guest_pass("paging_pae");
}
