/* rmap_chain: one frame mapped at 4096 virtual addresses, touched through all, used as a page table, then unmapped. */
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/paging.h"
#include "guest/lib/x86.h"

#define ENTRIES		1024
#define ALIAS_TABLES	4
#define ALIASES		(ALIAS_TABLES * ENTRIES)
#define IDENTITY_END	0x400000u	/* mapped 1:1 with 4 KiB pages; holds the image */
#define ALIAS_VA	0x40000000u	/* PDEs 256-259: every page maps the shared frame */
#define AS_TABLE_VA	0x80000000u	/* PDE 512: the shared frame as a page table */
#define WRITER		1234		/* the alias written through */
#define TABLE_SLOT	3		/* the entry of the shared frame that maps `target` */
#define FIRST_VALUE	0x0a11a5e5u
#define SECOND_VALUE	0x5ec0dd01u

static volatile uint32_t pd[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static volatile uint32_t identity_pt[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static volatile uint32_t alias_pt[ALIAS_TABLES][ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static uint8_t shared[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t target[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

static uint32_t alias_va(int i)
{
	return ALIAS_VA + i * PAGE_SIZE;
}

static uint32_t word_at(uint32_t va)
{
	return *(volatile uint32_t *)(uintptr_t)va;
}

static void set_word(uint32_t va, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)va = v;
}

static uint32_t pa_of(const void *p)
{
	return (uint32_t)(uintptr_t)p;	/* physical = virtual in the image */
}

static void enable_paging(void)
{
	for (uint32_t pa = PAGE_SIZE; pa < IDENTITY_END; pa += PAGE_SIZE)
		identity_pt[pa / PAGE_SIZE] = pa | PTE_P | PTE_RW;
	pd[0] = pa_of((const void *)identity_pt) | PTE_P | PTE_RW;
	for (int t = 0; t < ALIAS_TABLES; t++)
		pd[(ALIAS_VA >> 22) + t] = pa_of((const void *)alias_pt[t]) | PTE_P | PTE_RW;
	write_cr3((uintptr_t)pd);
	write_cr0(read_cr0() | CR0_PG | CR0_WP);
}

/* Every alias shows `want` at byte offset `off`. */
static void check_all_aliases(uint32_t off, uint32_t want)
{
	for (int i = 0; i < ALIASES; i++)
		CHECK_EQ(word_at(alias_va(i) + off), want);
}

/* With paging on, as an OS would: each store is a write to a live page table. */
static int map_aliases(void)
{
	int made = 0;

	for (int t = 0; t < ALIAS_TABLES; t++) {
		for (int j = 0; j < ENTRIES; j++) {
			alias_pt[t][j] = pa_of(shared) | PTE_P | PTE_RW;
			made++;
		}
	}
	return made;
}

/*
 * The shared frame becomes a page table while 4096 writable mappings of it
 * exist: entries written through an alias must take effect like any other
 * write to a page table.
 */
static void use_as_page_table(void)
{
	uint32_t slot_va = AS_TABLE_VA + TABLE_SLOT * PAGE_SIZE;
	uint32_t slot_word = alias_va(77) + TABLE_SLOT * 4;

	for (uint32_t off = 0; off < PAGE_SIZE; off += 4)
		set_word(alias_va(0) + off, 0);
	pd[AS_TABLE_VA >> 22] = pa_of(shared) | PTE_P | PTE_RW;
	invlpg(slot_va);
	CHECK_PF(pf_read(slot_va, NULL), 0, slot_va);

	set_word(slot_word, pa_of(target) | PTE_P | PTE_RW);	/* 0 -> present: no INVLPG needed */
	CHECK_TAGGED(slot_va, pa_of(target));
	CHECK_EQ(word_at(alias_va(ALIASES - 1) + TABLE_SLOT * 4), pa_of(target) | PTE_P | PTE_RW | PTE_A);

	set_word(alias_va(ALIASES - 1) + TABLE_SLOT * 4, 0);
	invlpg(slot_va);
	CHECK_PF(pf_read(slot_va, NULL), 0, slot_va);
	pd[AS_TABLE_VA >> 22] = 0;
	invlpg(slot_va);
	printf("guest: the shared frame served as a page table, written through its aliases\n");
}

static void unmap_aliases(void)
{
	for (int t = 0; t < ALIAS_TABLES; t++)
		for (int j = 0; j < ENTRIES; j++)
			alias_pt[t][j] = 0;
	write_cr3(read_cr3());
	for (int i = 0; i < ALIASES; i += ALIASES / 4 - 1)
		CHECK_PF(pf_read(alias_va(i) + 8, NULL), 0, alias_va(i) + 8);
	CHECK_PF(pf_write(alias_va(ALIASES - 1), 1), PFEC_W, alias_va(ALIASES - 1));
	CHECK_EQ(word_at(pa_of(shared) + 8), SECOND_VALUE);
	printf("guest: all %d aliases unmapped; touching them faults\n", ALIASES);
}

int guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
	CHECK_EQ(magic, MULTIBOOT_LOADER_MAGIC);
	check_memory_layout(mbi, IDENTITY_END, IDENTITY_END);
	tag_pages(pa_of(shared), PAGE_SIZE);
	tag_pages(pa_of(target), PAGE_SIZE);
	enable_paging();

	int made = map_aliases();

	printf("guest: rmap_chain: %d mappings of frame 0x%x\n", made, pa_of(shared));
	CHECK_EQ(made, ALIASES);
	check_all_aliases(0, frame_tag(pa_of(shared)));
	check_all_aliases(PAGE_SIZE - 4, frame_tag(pa_of(shared) + PAGE_SIZE - 4));
	printf("guest: read the frame's tags through all %d mappings\n", made);

	set_word(alias_va(WRITER) + 8, FIRST_VALUE);
	check_all_aliases(8, FIRST_VALUE);
	set_word(pa_of(shared) + 8, SECOND_VALUE);
	check_all_aliases(8, SECOND_VALUE);
	printf("guest: writes through one alias and through 1:1 seen by all\n");

	use_as_page_table();
	check_all_aliases(8, 0);
	set_word(alias_va(WRITER) + 8, SECOND_VALUE);
	unmap_aliases();
	return guest_pass("rmap_chain");
}
