/* paging32: 32-bit paging with 4 KiB and 4 MiB pages, checked from inside: mappings, faults, protection, CR3, INVLPG, A/D. */
#include <stdbool.h>
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/paging.h"
#include "guest/lib/ring3.h"
#include "guest/lib/x86.h"

#define ENTRIES		1024
#define IDENTITY_END	0x400000u	/* mapped 1:1 with user-accessible 4 KiB pages; holds the image */
#define LARGE_PA_A	0x800000u	/* two 4 MiB-aligned physical regions for the large pages */
#define LARGE_PA_B	0xc00000u
#define LARGE_SIZE	0x400000u
#define RAM_TOP		0x1000000u
#define TEST_VA		0x40000000u	/* PDE 256: the 4 KiB test pages */
#define LARGE_VA	0x40400000u	/* PDE 257: a 4 MiB page */
#define HOLE_VA		0x80000000u	/* PDE 512: never present */
#define NFRAMES		8
#define USER_WRITE_VALUE	0x05e7da7au

/* Two address spaces, A and B, sharing the identity table; the tests run in A unless they say otherwise. */
static volatile uint32_t pd_a[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static volatile uint32_t pd_b[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static volatile uint32_t identity_pt[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static volatile uint32_t test_pt_a[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static volatile uint32_t test_pt_b[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static uint8_t frames[NFRAMES][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

/* What ring-3 code read; it lives in the image, which is user-accessible. */
static uint32_t user_value;

/* Physical = virtual for the image, so a frame's address is its physical address. */
static uint32_t frame(int i)
{
	return (uint32_t)(uintptr_t)frames[i];
}

static uint32_t test_va(int page)
{
	return TEST_VA + page * PAGE_SIZE;
}

static uint32_t pde_index(uint32_t va)
{
	return va >> 22;
}

static uint32_t word_at(uint32_t va)
{
	return *(volatile uint32_t *)(uintptr_t)va;
}

/* Sets test page `page` of address space A to pa | flags (flags 0 unmaps it) and invalidates it. */
static void map_test(int page, uint32_t pa, uint32_t flags)
{
	test_pt_a[page] = pa | flags;
	invlpg(test_va(page));
}

/* Back to the starting state: no test page mapped, every frame showing its tags, CR3 = A. */
static void reset(void)
{
	for (int i = 0; i < ENTRIES; i++) {
		test_pt_a[i] = 0;
		test_pt_b[i] = 0;
	}
	pd_a[pde_index(LARGE_VA)] = 0;
	pd_a[pde_index(TEST_VA)] = (uint32_t)(uintptr_t)test_pt_a | PTE_URW;
	write_cr3((uintptr_t)pd_a);
	tag_pages(frame(0), sizeof(frames));
}

static uintptr_t user_read(uintptr_t va)
{
	return pf_read(va, &user_value);
}

static uintptr_t user_write(uintptr_t va)
{
	return pf_write(va, USER_WRITE_VALUE);
}

static void enable_paging(void)
{
	for (uint32_t pa = PAGE_SIZE; pa < IDENTITY_END; pa += PAGE_SIZE)
		identity_pt[pa / PAGE_SIZE] = pa | PTE_URW;	/* page 0 stays out: null pointers fault */
	pd_a[0] = (uint32_t)(uintptr_t)identity_pt | PTE_URW;
	pd_b[0] = pd_a[0];
	pd_b[pde_index(TEST_VA)] = (uint32_t)(uintptr_t)test_pt_b | PTE_URW;
	reset();
	write_cr4(read_cr4() | CR4_PSE);
	write_cr0(read_cr0() | CR0_PG | CR0_WP);
	CHECK_EQ(read_cr3(), (uintptr_t)pd_a);
	printf("guest: 32-bit paging on\n");
}

static void check_map_remap(void)
{
	map_test(0, frame(0), PTE_URW);
	map_test(1, frame(1), PTE_URW);
	CHECK_TAGGED(test_va(0), frame(0));
	CHECK_TAGGED(test_va(1), frame(1));

	map_test(0, frame(2), PTE_URW);
	CHECK_TAGGED(test_va(0), frame(2));

	/* Two virtual pages and the identity mapping see one frame. */
	map_test(2, frame(2), PTE_URW);
	*(volatile uint32_t *)(uintptr_t)(test_va(2) + 8) = 0x12345678;
	CHECK_EQ(word_at(test_va(0) + 8), 0x12345678);
	CHECK_EQ(word_at(frame(2) + 8), 0x12345678);

	map_test(1, 0, 0);
	CHECK_PF(pf_read(test_va(1), NULL), 0, test_va(1));
	map_test(1, frame(3), PTE_URW);
	CHECK_TAGGED(test_va(1), frame(3));
	printf("guest: map, remap, alias, unmap of 4 KiB pages ok\n");
	reset();
}

static void check_not_present(void)
{
	uint32_t va = test_va(5) + 0x124;

	CHECK_PF(pf_read(va, NULL), 0, va);
	CHECK_PF(pf_write(va, 1), PFEC_W, va);

	/* With P clear the other bits mean nothing, however they look. */
	map_test(5, 0xfffff000, 0xffe);
	CHECK_PF(pf_read(va, NULL), 0, va);

	CHECK_PF(pf_read(HOLE_VA + 0x10, NULL), 0, HOLE_VA + 0x10);
	CHECK_PF(pf_write(HOLE_VA + 0x10, 1), PFEC_W, HOLE_VA + 0x10);
	pd_a[pde_index(HOLE_VA)] = 0xfffffffe;
	invlpg(HOLE_VA);
	CHECK_PF(pf_read(HOLE_VA, NULL), 0, HOLE_VA);
	pd_a[pde_index(HOLE_VA)] = 0;
	invlpg(HOLE_VA);
	printf("guest: not-present faults ok\n");
	reset();
}

static void check_write_protect(void)
{
	map_test(0, frame(4), PTE_P | PTE_US);
	CHECK_TAGGED(test_va(0), frame(4));
	CHECK_PF(pf_write(test_va(0), 0xdead), PFEC_P | PFEC_W, test_va(0));
	CHECK_EQ(word_at(frame(4)), frame_tag(frame(4)));

	/* CR0.WP = 0: CPL 0 writes to read-only pages. */
	write_cr0(read_cr0() & ~CR0_WP);
	CHECK_EQ(pf_write(test_va(0), 0xdead), NO_PF);
	CHECK_EQ(word_at(frame(4)), 0xdead);
	write_cr0(read_cr0() | CR0_WP);
	CHECK_PF(pf_write(test_va(0) + 4, 0xbeef), PFEC_P | PFEC_W, test_va(0) + 4);
	CHECK_EQ(word_at(frame(4) + 4), 0);

	/* Read-only in the PDE, read/write in the PTE: read-only. */
	map_test(1, frame(5), PTE_URW);
	pd_a[pde_index(TEST_VA)] &= ~PTE_RW;
	invlpg(test_va(1));
	CHECK_TAGGED(test_va(1), frame(5));
	CHECK_PF(pf_write(test_va(1), 1), PFEC_P | PFEC_W, test_va(1));
	pd_a[pde_index(TEST_VA)] |= PTE_RW;
	invlpg(test_va(1));
	CHECK_EQ(pf_write(test_va(1) + 8, 1), NO_PF);
	CHECK_EQ(word_at(frame(5) + 8), 1);
	printf("guest: write protection ok (CR0.WP = 1 faults, CR0.WP = 0 writes)\n");
	reset();
}

static void check_user_supervisor(void)
{
	map_test(0, frame(6), PTE_URW);
	CHECK_EQ(ring3_call(user_read, test_va(0)), NO_PF);
	CHECK_EQ(user_value, frame_tag(frame(6)));
	CHECK_EQ(ring3_call(user_write, test_va(0) + 8), NO_PF);
	CHECK_EQ(word_at(frame(6) + 8), USER_WRITE_VALUE);

	map_test(1, frame(6), PTE_P | PTE_RW);
	CHECK_TAGGED(test_va(1), frame(6));
	CHECK_PF(ring3_call(user_read, test_va(1)), PFEC_P | PFEC_U, test_va(1));
	CHECK_PF(ring3_call(user_write, test_va(1)), PFEC_P | PFEC_W | PFEC_U, test_va(1));

	map_test(2, frame(6), PTE_P | PTE_US);
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

	/* Supervisor-only in the PDE, user in the PTE: supervisor-only. */
	pd_a[pde_index(TEST_VA)] &= ~PTE_US;
	invlpg(test_va(0));
	CHECK_PF(ring3_call(user_read, test_va(0)), PFEC_P | PFEC_U, test_va(0));
	CHECK_EQ(word_at(test_va(0)), frame_tag(frame(6)));
	pd_a[pde_index(TEST_VA)] |= PTE_US;
	invlpg(test_va(0));
	CHECK_EQ(ring3_call(user_read, test_va(0)), NO_PF);
	printf("guest: user/supervisor protection from CPL 3 ok\n");
	reset();
}

static void check_cr3_switch(void)
{
	test_pt_a[0] = frame(0) | PTE_URW;
	test_pt_b[0] = frame(1) | PTE_URW;
	test_pt_b[1] = frame(2) | PTE_URW;

	write_cr3((uintptr_t)pd_a);
	CHECK_TAGGED(test_va(0), frame(0));
	CHECK_PF(pf_read(test_va(1), NULL), 0, test_va(1));
	write_cr3((uintptr_t)pd_b);
	CHECK_TAGGED(test_va(0), frame(1));
	CHECK_TAGGED(test_va(1), frame(2));

	/* A table of the inactive space changes; loading CR3 brings it in. */
	test_pt_a[0] = frame(3) | PTE_URW;
	write_cr3((uintptr_t)pd_a);
	CHECK_TAGGED(test_va(0), frame(3));
	write_cr3((uintptr_t)pd_b);
	CHECK_TAGGED(test_va(0), frame(1));
	write_cr3((uintptr_t)pd_a);
	CHECK_TAGGED(test_va(0), frame(3));
	printf("guest: two address spaces through CR3 ok\n");
	reset();
}

static void check_invlpg(void)
{
	map_test(0, frame(0), PTE_URW);
	map_test(1, frame(1), PTE_URW);
	CHECK_TAGGED(test_va(0), frame(0));
	CHECK_TAGGED(test_va(1), frame(1));

	test_pt_a[0] = frame(2) | PTE_URW;
	invlpg(test_va(0));
	CHECK_TAGGED(test_va(0), frame(2));
	CHECK_TAGGED(test_va(1), frame(1));

	test_pt_a[0] = 0;
	invlpg(test_va(0));
	CHECK_PF(pf_read(test_va(0), NULL), 0, test_va(0));

	/* Any address in the page names it. */
	test_pt_a[1] = frame(3) | PTE_URW;
	invlpg(test_va(1) + 0xabc);
	CHECK_TAGGED(test_va(1), frame(3));

	/* Reloading the same CR3 flushes too. */
	test_pt_a[1] = frame(4) | PTE_URW;
	write_cr3(read_cr3());
	CHECK_TAGGED(test_va(1), frame(4));
	printf("guest: INVLPG and CR3 reload after PTE changes ok\n");
	reset();
}

static void check_accessed_dirty(void)
{
	volatile uint32_t *pde = &pd_a[pde_index(TEST_VA)];

	test_pt_a[0] = frame(0) | PTE_URW;
	*pde &= ~PTE_A;
	invlpg(test_va(0));
	CHECK_EQ(pf_read(test_va(0), NULL), NO_PF);
	CHECK_EQ(test_pt_a[0] & (PTE_A | PTE_D), PTE_A);
	CHECK_EQ(*pde & PTE_A, PTE_A);
	CHECK_EQ(pf_write(test_va(0) + 8, 5), NO_PF);
	CHECK_EQ(test_pt_a[0] & (PTE_A | PTE_D), PTE_A | PTE_D);

	/* Cleared by software, set again by the next accesses. */
	test_pt_a[0] &= ~(PTE_A | PTE_D);
	invlpg(test_va(0));
	CHECK_EQ(pf_read(test_va(0), NULL), NO_PF);
	CHECK_EQ(test_pt_a[0] & (PTE_A | PTE_D), PTE_A);
	CHECK_EQ(pf_write(test_va(0), 6), NO_PF);
	CHECK_EQ(test_pt_a[0] & (PTE_A | PTE_D), PTE_A | PTE_D);

	/* A first access that writes sets both. */
	map_test(1, frame(1), PTE_URW);
	CHECK_EQ(pf_write(test_va(1), 7), NO_PF);
	CHECK_EQ(test_pt_a[1] & (PTE_A | PTE_D), PTE_A | PTE_D);

	/* A write that faults leaves D clear. */
	map_test(2, frame(2), PTE_P | PTE_US);
	CHECK_PF(pf_write(test_va(2), 8), PFEC_P | PFEC_W, test_va(2));
	CHECK_EQ(test_pt_a[2] & PTE_D, 0);
	printf("guest: accessed and dirty bits ok\n");
	reset();
}

static void check_large_pages(void)
{
	static const uint32_t offsets[] = { 0, 0x1000, 0x1ff000, 0x3ff000 };
	volatile uint32_t *pde = &pd_a[pde_index(LARGE_VA)];

	*pde = LARGE_PA_A | PTE_PS | PTE_URW;
	invlpg(LARGE_VA);
	for (unsigned i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++)
		CHECK_TAGGED(LARGE_VA + offsets[i], LARGE_PA_A + offsets[i]);
	CHECK_EQ(*pde & (PTE_A | PTE_D), PTE_A);
	CHECK_EQ(pf_write(LARGE_VA + 0x2000, 9), NO_PF);
	CHECK_EQ(*pde & (PTE_A | PTE_D), PTE_A | PTE_D);
	CHECK_EQ(word_at(LARGE_VA + 0x2000), 9);

	/* INVLPG of any address inside drops the whole 4 MiB translation. */
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
	CHECK_PF(ring3_call(user_read, LARGE_VA + 0x3ff000), PFEC_P | PFEC_U, LARGE_VA + 0x3ff000);

	*pde = 0;
	invlpg(LARGE_VA);
	CHECK_PF(pf_read(LARGE_VA + 0x3ffffc, NULL), 0, LARGE_VA + 0x3ffffc);

	/* A 4 MiB page over the identity-mapped frames: three ways to one frame. */
	*pde = PTE_PS | PTE_URW;
	invlpg(LARGE_VA);
	map_test(0, frame(7), PTE_URW);
	CHECK_TAGGED(LARGE_VA + frame(7), frame(7));
	CHECK_EQ(pf_write(LARGE_VA + frame(7) + 8, 0x4d1b), NO_PF);
	CHECK_EQ(word_at(test_va(0) + 8), 0x4d1b);
	CHECK_EQ(word_at(frame(7) + 8), 0x4d1b);
	printf("guest: 4 MiB pages ok\n");
	reset();
}

/* Under mmu=shadow the stepped MOV hits a write-protected table and the VMM emulates it: the trap must still come. */
static void check_single_step_pte_write(void)
{
	map_test(0, frame(0), PTE_URW);
	CHECK_TAGGED(test_va(0), frame(0));	/* test_pt_a is now in use as a table */

	struct step_trap t = step_write(&test_pt_a[0], frame(1) | PTE_URW);
	CHECK_STEP_TRAP(t);
	CHECK_EQ(test_pt_a[0], frame(1) | PTE_URW);
	invlpg(test_va(0));
	CHECK_TAGGED(test_va(0), frame(1));

	/* A step that unmaps: the trap again, and the page is gone. */
	t = step_write(&test_pt_a[0], 0);
	CHECK_STEP_TRAP(t);
	CHECK_EQ(test_pt_a[0], 0);
	invlpg(test_va(0));
	CHECK_PF(pf_read(test_va(0), NULL), 0, test_va(0));
	printf("guest: single-stepped PTE writes trap after the MOV (DR6.BS) and take effect\n");
	reset();
}

/* The vector of a MOV to CR0 with value, NO_EXCEPTION if the write happened; a #GP must have error code 0. */
static int write_cr0_vector(uintptr_t value)
{
	expect_exception(EXC_GP);
	asm volatile(ASM_TRY("1f") "mov %0, %%cr0\n1:" : : "r"(value) : "memory");
	int vector = exception_seen();

	if (vector != NO_EXCEPTION)
		CHECK_EQ(exception_last.error_code, 0);
	return vector;
}

/* CD turns caching off (the VMM keeps it out of the real CR0); the guest sees its own value and runs on. */
static void check_cache_disable(void)
{
	uintptr_t cr0 = read_cr0() & ~(CR0_CD | CR0_NW);

	write_cr0(cr0);
	CHECK_EQ(read_cr0(), cr0);
	write_cr0(cr0 | CR0_CD);
	CHECK_EQ(read_cr0(), cr0 | CR0_CD);

	map_test(0, frame(2), PTE_URW);
	CHECK_TAGGED(test_va(0), frame(2));
	CHECK_EQ(pf_write(test_va(0) + 8, 0xcd), NO_PF);
	CHECK_EQ(word_at(frame(2) + 8), 0xcd);
	map_test(0, frame(3), PTE_P);
	CHECK_TAGGED(test_va(0), frame(3));
	CHECK_PF(pf_write(test_va(0), 1), PFEC_P | PFEC_W, test_va(0));
	CHECK_EQ(read_cr0(), cr0 | CR0_CD);

	/*
	 * NW without CD is an invalid combination (SDM, MOV to CR0: #GP(0)) and
	 * CR0 keeps its value. QEMU 7.2 TCG does not check it and sets NW, so
	 * this runs under the VMM only.
	 */
	bool vmm = under_vmm();

	if (vmm) {
		CHECK_EQ(write_cr0_vector(cr0 | CR0_NW), EXC_GP);
		CHECK_EQ(read_cr0(), cr0 | CR0_CD);
	}
	write_cr0(cr0);
	CHECK_EQ(read_cr0(), cr0);
	if (vmm) {
		CHECK_EQ(write_cr0_vector(cr0 | CR0_NW), EXC_GP);
		CHECK_EQ(read_cr0(), cr0);
	}
	CHECK_TAGGED(test_va(0), frame(3));
	printf("guest: CR0.CD sets and clears, paging runs with it set%s\n",
	       vmm ? "; NW without CD faults" : "");
	reset();
}

int guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
	CHECK_EQ(magic, MULTIBOOT_LOADER_MAGIC);
	CHECK(cpuid(1, 0).edx & CPUID_1_EDX_PSE);
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
	check_single_step_pte_write();
	check_cache_disable();
	return guest_pass("paging32");
}
