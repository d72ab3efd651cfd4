/* zapwork: thousands of shadow pages checked while the VMM zaps them all and memslots come and go; "bench" times the pause a zap-all costs. */
#include <stdbool.h>
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/hypercall.h"
#include "guest/lib/mmio_testdev.h"
#include "guest/lib/paging.h"
#include "guest/lib/x86.h"

/*
 * Memory, physical = virtual below IDENTITY_END (mapped 1:1 in every
 * address space, supervisor read/write):
 *   image (.bss: the 1:1 and device tables)	below 4 MiB
 *   FRAMES_BASE: NFRAMES tagged frames		4 - 6 MiB
 *   PD_BASE: one page directory per space	6 MiB
 *   PT_BASE: the work page tables		8 MiB + 4 KiB per table
 * The work tables make the working set: each maps every one of its 1024
 * entries to a tagged frame, so the few hundred frames appear at millions
 * of addresses, and each table touched in both halves is two shadow pages
 * under a shadow MMU (a 32-bit table is shadowed by two 512-entry pages).
 */
#define ENTRIES			1024
#define FRAMES_BASE		0x00400000u
#define NFRAMES			512u
#define PD_BASE			0x00600000u
#define MAX_SPACES		16u
#define PT_BASE			0x00800000u
#define MAX_TABLES		9216u		/* up to 44 MiB */
#define IDENTITY_END		0x02c00000u	/* 44 MiB: PDEs 0-10 */
#define IDENTITY_TABLES		(IDENTITY_END >> 22)
#define WORK_PDE_FIRST		16u		/* work tables from 64 MiB of virtual space */
#define TABLES_PER_SPACE	1000u		/* PDEs 16-1015 */
#define DEV_PDE			(TESTDEV_BASE_DEFAULT >> 22)	/* 1018: the MMIO test device, 1:1 */
#define SLOT_PDE		1020u		/* the added memslots, at 0xff000000 */
#define SLOT_VA			(SLOT_PDE << 22)
#define SLOT_DATA_PAGES		16u
#define SLOT_PAGES		(SLOT_DATA_PAGES + 1)	/* the last page of the slot is a page table */
#define DECOY_ENTRY		32u		/* the decoy's pages from this entry of the slot table */
#define DECOY_VA		(SLOT_VA + DECOY_ENTRY * PAGE_SIZE)
#define SLOT_TABLE_VA		(SLOT_VA + SLOT_DATA_PAGES * PAGE_SIZE)	/* the slot's page table as data */
#define SLOT_TABLE_PDE		1021u		/* ... and as the table of 0xff400000 */
#define SLOT_TABLE_REGION	(SLOT_TABLE_PDE << 22)
#define SLOT_TABLE_MAPS		64u		/* its entries map the first 64 tagged frames */
/* Guest-physical places of the added memslots: far above RAM, below any MAXPHYADDR. */
#define SLOT_GPA_A		0x40000000u
#define SLOT_GPA_B		0x40100000u
#define DECOY_GPA		0x40200000u

#define TEST_TABLES		1600u
#define TEST_ROUNDS		6u
#define BENCH_TABLES		5000u
#define ZAP_BATCH_MAX		10u		/* MMU_ZAP_BATCH: the most pages one batch may zap */
#define DRAIN_POLLS_MAX		1000000u
#define REMAPS_PER_SPACE	8u

_Static_assert(PT_BASE + MAX_TABLES * PAGE_SIZE <= IDENTITY_END, "the work tables are mapped 1:1");
_Static_assert(PD_BASE + MAX_SPACES * PAGE_SIZE <= PT_BASE, "the page directories fit below the tables");
_Static_assert(MAX_TABLES <= MAX_SPACES * TABLES_PER_SPACE, "every table has a PDE");
_Static_assert(WORK_PDE_FIRST + TABLES_PER_SPACE <= DEV_PDE, "work PDEs stay below the device's");
_Static_assert((NFRAMES & (NFRAMES - 1)) == 0 && NFRAMES * 2 <= ENTRIES, "entry i and i + 512 map the same frame");

static volatile uint32_t identity_pt[IDENTITY_TABLES][ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static volatile uint32_t dev_pt[ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static volatile uint32_t slot_pt[ENTRIES] __attribute__((aligned(PAGE_SIZE)));

static uint32_t tables = TEST_TABLES, rounds = TEST_ROUNDS, min_pages;
static uint32_t spaces, round_now;
static bool bench, vmm, shadow, zap_fast;
static uint32_t slot_gpa, slot_gen;
static uint32_t slot_id, decoy_id;
static bool slot_present;	/* the slot may be touched (it is a memslot and has been filled) */

/* ---- the work tables ---------------------------------------------------- */

static volatile uint32_t *pd_of(uint32_t space)
{
	return (volatile uint32_t *)(uintptr_t)(PD_BASE + space * PAGE_SIZE);
}

static volatile uint32_t *pt_of(uint32_t k)
{
	return (volatile uint32_t *)(uintptr_t)(PT_BASE + k * PAGE_SIZE);
}

static uint32_t space_of(uint32_t k)
{
	return k / TABLES_PER_SPACE;
}

/* Where entry i of work table k maps in its space. */
static uint32_t work_va(uint32_t k, uint32_t i)
{
	return (WORK_PDE_FIRST + k % TABLES_PER_SPACE) << 22 | i << 12;
}

/* The frame entry i of table k maps: 13 is odd, so entries i and i + 512 alias one frame. */
static uint32_t frame_pa(uint32_t k, uint32_t i)
{
	return FRAMES_BASE + ((k + i * 13) & (NFRAMES - 1)) * PAGE_SIZE;
}

/* The entry round r touches in the first half of table k (its alias in the second half is + 512). */
static uint32_t touch_entry(uint32_t k, uint32_t r)
{
	return (k * 3 + r * 5) & 511;
}

static uint32_t word_at(uint32_t va)
{
	return *(volatile uint32_t *)(uintptr_t)va;
}

static void set_word(uint32_t va, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)va = v;
}

/* A word that must hold want: on a mismatch, says where before the FAIL line. */
static void check_word(uint32_t va, uint32_t want, const char *what)
{
	uint32_t got = word_at(va);

	if (got != want) {
		printf("guest: zapwork: round %u: %s at 0x%x (CR3 0x%x) reads 0x%x, want 0x%x\n", round_now, what,
		       va, (uint32_t)read_cr3(), got, want);
		CHECK_EQ(got, want);
	}
}

static void check_tagged(uint32_t va, uint32_t pa, const char *what)
{
	check_word(va, frame_tag(pa), what);
	check_word(va + PAGE_SIZE - 4, frame_tag(pa + PAGE_SIZE - 4), what);
}

/* With paging off: every table, so that no write below hits a shadowed table (those are emulated, and slow). */
static void build_tables(void)
{
	tag_pages(FRAMES_BASE, NFRAMES * PAGE_SIZE);
	for (uint32_t t = 0; t < IDENTITY_TABLES; t++)
		for (uint32_t i = 0; i < ENTRIES; i++)
			identity_pt[t][i] = ((t << 22) | (i << 12)) | PTE_P | PTE_RW;
	identity_pt[0][0] = 0;	/* page 0 stays unmapped: a null pointer faults */
	for (uint32_t i = 0; i < ENTRIES; i++)
		dev_pt[i] = ((DEV_PDE << 22) | (i << 12)) | PTE_P | PTE_RW;
	for (uint32_t k = 0; k < tables; k++) {
		volatile uint32_t *pt = pt_of(k);

		for (uint32_t i = 0; i < ENTRIES; i++)
			pt[i] = frame_pa(k, i) | PTE_P | PTE_RW;
	}
	for (uint32_t s = 0; s < spaces; s++) {
		volatile uint32_t *pd = pd_of(s);

		for (uint32_t e = 0; e < ENTRIES; e++)
			pd[e] = 0;
		for (uint32_t t = 0; t < IDENTITY_TABLES; t++)
			pd[t] = (uint32_t)(uintptr_t)identity_pt[t] | PTE_P | PTE_RW;
		pd[DEV_PDE] = (uint32_t)(uintptr_t)dev_pt | PTE_P | PTE_RW;
		pd[SLOT_PDE] = (uint32_t)(uintptr_t)slot_pt | PTE_P | PTE_RW;
		/* Not RAM until the slot is added, and never touched while it is not. */
		pd[SLOT_TABLE_PDE] = (SLOT_GPA_A + SLOT_DATA_PAGES * PAGE_SIZE) | PTE_P | PTE_RW;
	}
	for (uint32_t k = 0; k < tables; k++)
		pd_of(space_of(k))[WORK_PDE_FIRST + k % TABLES_PER_SPACE] = (PT_BASE + k * PAGE_SIZE) | PTE_P | PTE_RW;
}

static void enable_paging(void)
{
	write_cr3(PD_BASE);
	write_cr0(read_cr0() | CR0_PG | CR0_WP);
}

static void check_slot_light(void);

/*
 * Round r's pass over space s: in each table one page in each half (aliases
 * of one frame) shows the frame's tags; in every eighth table a word
 * written through one alias is read back through the other and through the
 * 1:1 mapping.
 */
static void touch_space(uint32_t s, uint32_t r)
{
	uint32_t first = s * TABLES_PER_SPACE, end = first + TABLES_PER_SPACE;

	if (end > tables)
		end = tables;
	write_cr3(PD_BASE + s * PAGE_SIZE);
	for (uint32_t k = first; k < end; k++) {
		uint32_t i = touch_entry(k, r), pa = frame_pa(k, i);

		check_tagged(work_va(k, i), pa, "a work page");
		check_tagged(work_va(k, i + 512), pa, "a work page's alias");
		if ((k & 7) == (r & 7)) {
			uint32_t v = 0x40000000u | r << 20 | k;

			set_word(work_va(k, i) + 4, v);
			check_word(work_va(k, i + 512) + 4, v, "a word written through an alias");
			check_word(pa + 4, v, "a word written through an alias, read 1:1");
		}
	}
	if (slot_present)
		check_slot_light();
}

static void touch_all(uint32_t r)
{
	for (uint32_t s = 0; s < spaces; s++)
		touch_space(s, r);
}

/*
 * Page-table writes while the tables may be shadowed by current pages, by
 * obsolete ones only, or not at all: an entry of a table of the current
 * space points at another frame (INVLPG), shows it, and is put back.
 */
static void remap_some(uint32_t s, uint32_t r)
{
	write_cr3(PD_BASE + s * PAGE_SIZE);
	for (uint32_t j = 0; j < REMAPS_PER_SPACE; j++) {
		uint32_t k = s * TABLES_PER_SPACE + (r * 97 + j * 211) % TABLES_PER_SPACE;
		uint32_t i = touch_entry(k, r), other = frame_pa(k, i + 1);

		if (k >= tables)
			continue;
		pt_of(k)[i] = other | PTE_P | PTE_RW;
		invlpg(work_va(k, i));
		check_tagged(work_va(k, i), other, "a remapped work page");
		check_tagged(work_va(k, i + 512), frame_pa(k, i), "the alias of a remapped work page");
		pt_of(k)[i] = frame_pa(k, i) | PTE_P | PTE_RW;
		invlpg(work_va(k, i));
		check_tagged(work_va(k, i), frame_pa(k, i), "a work page mapped back");
	}
}

/* ---- the VMM's counters ------------------------------------------------- */

static uint32_t stat(uint32_t index)
{
	long v = hypercall(HC_MMU_STATS, index, 0, 0);

	CHECK(v >= 0);
	return (uint32_t)v;
}

/* Exits until the obsolete pages are gone (each entry zaps one batch); returns the exits it took. */
static uint32_t drain(void)
{
	uint32_t polls = 0;

	while (stat(HC_MMU_STAT_OBSOLETE)) {
		polls++;
		if (polls > DRAIN_POLLS_MAX) {
			printf("guest: zapwork: round %u: obsolete pages still left after %u exits\n", round_now, polls);
			CHECK(polls <= DRAIN_POLLS_MAX);
		}
	}
	return polls;
}

static void zap_all(void)
{
	CHECK_EQ(hypercall(HC_MMU_ZAP_ALL, 0, 0, 0), 0);
}

/* ---- the added memslots ------------------------------------------------- */

static uint32_t slot_word(uint32_t gen, uint32_t p, uint32_t w)
{
	return 0x3c000000u ^ gen << 16 ^ p << 10 ^ w;
}

static uint32_t decoy_word(uint32_t p, uint32_t w)
{
	return 0x0dec0000u ^ p << 10 ^ w;
}

/* Points the slot table's entries [first, first + SLOT_PAGES) at gpa (paging on: emulated table writes). */
static void map_slot(uint32_t first, uint32_t gpa)
{
	for (uint32_t p = 0; p < SLOT_PAGES; p++) {
		slot_pt[first + p] = (gpa + p * PAGE_SIZE) | PTE_P | PTE_RW;
		invlpg(SLOT_VA + (first + p) * PAGE_SIZE);
	}
}

/*
 * The slot's last page is the page table of SLOT_TABLE_REGION in every
 * address space: so a shadow page shadows a guest table inside a memslot
 * that is then deleted, added again or moved while the page is obsolete.
 */
static void point_slot_table_pdes(uint32_t gpa)
{
	for (uint32_t s = 0; s < spaces; s++)
		pd_of(s)[SLOT_TABLE_PDE] = gpa | PTE_P | PTE_RW;
	write_cr3(read_cr3());	/* a changed PDE: flush */
}

/* Fresh (zeroed) slot RAM: the data pages get this generation's words, the table its entries. */
static void fill_slot(void)
{
	for (uint32_t p = 0; p < SLOT_DATA_PAGES; p++)
		for (uint32_t w = 0; w < PAGE_SIZE / 4; w++)
			set_word(SLOT_VA + p * PAGE_SIZE + w * 4, slot_word(slot_gen, p, w));
	for (uint32_t j = 0; j < SLOT_TABLE_MAPS; j++)
		set_word(SLOT_TABLE_VA + j * 4, (FRAMES_BASE + j * PAGE_SIZE) | PTE_P | PTE_RW);
	slot_present = true;
}

static void check_slot_table(void)
{
	for (uint32_t j = 0; j < SLOT_TABLE_MAPS; j++)
		check_tagged(SLOT_TABLE_REGION + j * PAGE_SIZE, FRAMES_BASE + j * PAGE_SIZE,
			     "a page mapped by the table in the memslot");
}

/* Every word of the slot, and every page its table maps. */
static void check_slot(void)
{
	for (uint32_t p = 0; p < SLOT_DATA_PAGES; p++)
		for (uint32_t w = 0; w < PAGE_SIZE / 4; w++)
			check_word(SLOT_VA + p * PAGE_SIZE + w * 4, slot_word(slot_gen, p, w), "the added memslot");
	check_slot_table();
}

/* A word of each data page, and every page the slot's table maps (in each pass, each address space). */
static void check_slot_light(void)
{
	for (uint32_t p = 0; p < SLOT_DATA_PAGES; p++)
		check_word(SLOT_VA + p * PAGE_SIZE + (p * 68 & 0xffc), slot_word(slot_gen, p, (p * 68 & 0xffc) / 4),
			   "the added memslot");
	check_slot_table();
}

static uint32_t add_slot(uint32_t gpa)
{
	long id = hypercall(HC_MEMSLOT_ADD, gpa, SLOT_PAGES * PAGE_SIZE, 0);

	if (id <= 0)
		printf("guest: zapwork: round %u: HC_MEMSLOT_ADD at 0x%x gave %d\n", round_now, gpa, (int)id);
	CHECK(id > 0);
	return (uint32_t)id;
}

/* The shadow MMU's counters (HC_MMU_STATS), read one after the other. */
struct counters {
	uint32_t pages, obsolete, invalidations, zapped, batches, longest;
};

static struct counters counters(void)
{
	struct counters c = {
		stat(HC_MMU_STAT_SHADOW_PAGES), stat(HC_MMU_STAT_OBSOLETE), stat(HC_MMU_STAT_INVALIDATIONS),
		stat(HC_MMU_STAT_OBSOLETE_ZAPPED), stat(HC_MMU_STAT_ZAP_BATCHES), stat(HC_MMU_STAT_ZAP_LONGEST_BATCH),
	};

	return c;
}

/*
 * The memslot dance: the slot is deleted (it must not be touched then), a
 * decoy slot that may get its host memory is added and filled, the slot
 * comes back and must read zero, and in odd rounds it moves (the slot
 * table follows it) and keeps its contents.  A shadow MMU invalidates
 * every page for each removal.
 */
static void memslot_dance(uint32_t r)
{
	uint32_t inv = shadow ? stat(HC_MMU_STAT_INVALIDATIONS) : 0;

	check_slot();
	slot_present = false;
	CHECK_EQ(hypercall(HC_MEMSLOT_DELETE, slot_id, 0, 0), 0);
	if (shadow)
		CHECK(stat(HC_MMU_STAT_INVALIDATIONS) > inv);
	decoy_id = add_slot(DECOY_GPA);
	for (uint32_t p = 0; p < SLOT_PAGES; p++)
		for (uint32_t w = 0; w < PAGE_SIZE / 4; w++)
			set_word(DECOY_VA + p * PAGE_SIZE + w * 4, decoy_word(p, w));
	slot_id = add_slot(slot_gpa);
	/* The table page too: its old shadow page must not show through. */
	for (uint32_t p = 0; p < SLOT_PAGES; p++)
		for (uint32_t w = 0; w < PAGE_SIZE / 4; w++)
			check_word(SLOT_VA + p * PAGE_SIZE + w * 4, 0, "the memslot added again (fresh RAM)");
	slot_gen++;
	fill_slot();
	check_slot();
	if (r & 1) {
		uint32_t to = slot_gpa == SLOT_GPA_A ? SLOT_GPA_B : SLOT_GPA_A;

		inv = shadow ? stat(HC_MMU_STAT_INVALIDATIONS) : 0;
		slot_present = false;
		CHECK_EQ(hypercall(HC_MEMSLOT_MOVE, slot_id, to, 0), 0);
		if (shadow)
			CHECK(stat(HC_MMU_STAT_INVALIDATIONS) > inv);
		slot_gpa = to;
		map_slot(0, slot_gpa);
		point_slot_table_pdes(slot_gpa + SLOT_DATA_PAGES * PAGE_SIZE);
		slot_present = true;
		check_slot();
	}
	for (uint32_t p = 0; p < SLOT_PAGES; p++)
		for (uint32_t w = 0; w < PAGE_SIZE / 4; w++)
			check_word(DECOY_VA + p * PAGE_SIZE + w * 4, decoy_word(p, w), "the decoy memslot");
	CHECK_EQ(hypercall(HC_MEMSLOT_DELETE, decoy_id, 0, 0), 0);
	check_slot();
}

/* ---- the test ------------------------------------------------------------ */

static void check_mmio(void)
{
	check_word(TESTDEV_BASE_DEFAULT + TESTDEV_ID, TESTDEV_ID_LO, "the MMIO test device's ID");
}

/*
 * One round: zap everything, then check all memory while the obsolete pages
 * are freed batch by batch, remap a few entries, move the memslots around,
 * and wait until no obsolete page is left.
 */
static void run_round(uint32_t r)
{
	struct counters before = counters(), after_zap, end;
	uint32_t polls;

	round_now = r;
	zap_all();
	after_zap = counters();
	if (shadow) {
		CHECK_EQ(after_zap.invalidations, before.invalidations + 1);
		if (r == 0)
			zap_fast = after_zap.obsolete > 0;
		if (zap_fast) {
			/* One batch went before the guest ran again, so fewer than all; no page is obsolete twice. */
			CHECK(after_zap.obsolete > 0 && after_zap.obsolete <= before.pages);
		} else {
			CHECK_EQ(after_zap.obsolete, 0);
			CHECK(after_zap.pages < before.pages);
		}
	}
	check_mmio();
	touch_all(r);
	for (uint32_t s = 0; s < spaces; s++)
		remap_some(s, r);
	uint32_t left_after_pass = shadow ? stat(HC_MMU_STAT_OBSOLETE) : 0;

	memslot_dance(r);
	check_mmio();
	polls = shadow ? drain() : 0;
	/* The whole working set again, so that the next round's zap-all meets all of it. */
	touch_all(r + 1);
	end = counters();
	if (shadow) {
		CHECK(end.longest <= ZAP_BATCH_MAX);
		/* The slot's and the decoy's deletions, and the move in odd rounds (a generation wrap adds one). */
		CHECK(end.invalidations >= after_zap.invalidations + 2 + (r & 1));
		if (zap_fast) {
			CHECK(end.zapped > before.zapped);
			CHECK(end.batches > before.batches);
		} else {
			CHECK_EQ(end.zapped, before.zapped);
		}
	}
	printf("guest: zapwork: round %u: shadow_pages=%u before the zap, obsolete %u after it, %u after checking all memory, drained in %u more exits; invalidations=%u obsolete_zapped=%u\n",
	       r, before.pages, after_zap.obsolete, left_after_pass, polls, end.invalidations, end.zapped);
}

static void run_test(void)
{
	struct counters c;

	round_now = 0;
	if (vmm) {
		/* Out-of-range counters are refused. */
		CHECK_EQ(hypercall(HC_MMU_STATS, HC_MMU_STATS_COUNT, 0, 0), HC_EINVAL);
		CHECK_EQ(hypercall(HC_MMU_STATS, 0xffffffffu, 0, 0), HC_EINVAL);
		slot_gpa = SLOT_GPA_A;
		slot_id = add_slot(slot_gpa);
		map_slot(0, slot_gpa);
		map_slot(DECOY_ENTRY, DECOY_GPA);
		fill_slot();
		check_slot();
		check_mmio();
	}
	touch_all(0);
	if (!vmm) {
		for (uint32_t r = 1; r < rounds; r++)
			touch_all(r);
		printf("guest: zapwork: not under the VMM: %u rounds over %u tables checked, no zaps or memslots\n",
		       rounds, tables);
		return;
	}
	c = counters();
	shadow = c.pages > 0;
	printf("guest: zapwork: %u tables in %u address spaces, %u shadow pages (%s)\n", tables, spaces, c.pages,
	       shadow ? "shadow MMU" : "no shadow pages: EPT");
	/* One batch (at most 10 pages) goes before the guest runs again: more pages than that tell fast from slow. */
	if (shadow && c.pages <= 2 * ZAP_BATCH_MAX) {
		printf("guest: zapwork: %u shadow pages are too few to tell zap=fast from zap=slow\n", c.pages);
		CHECK(c.pages > 2 * ZAP_BATCH_MAX);
	}
	if (shadow && c.pages < min_pages) {
		printf("guest: zapwork: fewer shadow pages than min_pages=%u\n", min_pages);
		CHECK(c.pages >= min_pages);
	}
	for (uint32_t r = 0; r < rounds; r++)
		run_round(r);
	touch_all(rounds);
	c = counters();
	if (shadow) {
		CHECK(c.longest <= ZAP_BATCH_MAX);
		CHECK_EQ(c.obsolete, 0);
	}
	printf("guest: zapwork: %u rounds: every page right after %u zap-alls and %u memslot deletions%s%s; zap_batches=%u zap_longest_batch=%u\n",
	       rounds, rounds, 2 * rounds, shadow ? ", shadow MMU, zap=" : ", EPT",
	       shadow ? (zap_fast ? "fast" : "slow") : "", c.batches, c.longest);
}

/* ---- the benchmark --------------------------------------------------------- */

static uint32_t ticks32(uint64_t t)
{
	return t >> 32 ? 0xffffffffu : (uint32_t)t;
}

/*
 * The guest-visible pause of a zap-all over the whole working set: the
 * hypercall plus the first touch of a page afterwards (a fault on a new
 * root).  With fast zapping the obsolete pages then go one batch per entry:
 * the longest of those exits is the longest the guest waits again.
 */
static void run_bench(void)
{
	uint32_t k = tables - 1, i = touch_entry(k, 0), probe = work_va(k, i);
	uint64_t t0, t1, t2, ping = UINT64_MAX, longest, drain_cycles;
	uint32_t pages, exits = 0;

	touch_all(0);
	if (!vmm) {
		printf("guest: zapwork: bench: not under the VMM, nothing to time\n");
		return;
	}
	pages = stat(HC_MMU_STAT_SHADOW_PAGES);
	shadow = pages > 0;
	if (shadow && pages < min_pages) {
		printf("guest: zapwork: bench: %u shadow pages, fewer than min_pages=%u\n", pages, min_pages);
		CHECK(pages >= min_pages);
	}
	write_cr3(PD_BASE + space_of(k) * PAGE_SIZE);
	check_tagged(probe, frame_pa(k, i), "the probe page");
	for (int n = 0; n < 3; n++) {
		t0 = rdtsc_fenced();
		hypercall(HC_PING, 0, 0, 0);
		t1 = rdtsc_fenced();
		if (t1 - t0 < ping)
			ping = t1 - t0;
	}
	t0 = rdtsc_fenced();
	zap_all();
	t1 = rdtsc_fenced();
	(void)word_at(probe);
	t2 = rdtsc_fenced();
	longest = t1 - t0;
	zap_fast = shadow && stat(HC_MMU_STAT_OBSOLETE) > 0;
	drain_cycles = rdtsc_fenced();
	for (;;) {
		uint64_t a = rdtsc_fenced();
		long left = hypercall(HC_MMU_STATS, HC_MMU_STAT_OBSOLETE, 0, 0);
		uint64_t b = rdtsc_fenced();

		exits++;
		if (b - a > longest)
			longest = b - a;
		if (left == 0)
			break;
		CHECK(left > 0 && exits <= DRAIN_POLLS_MAX);
	}
	drain_cycles = rdtsc_fenced() - drain_cycles;
	check_tagged(probe, frame_pa(k, i), "the probe page after the zap");
	printf("guest: zapwork: bench: zap=%s shadow_pages=%u ping_cycles=%u zap_cycles=%u pause_cycles=%u longest_exit_cycles=%u drain_exits=%u drain_cycles=%u\n",
	       !shadow ? "ept" : zap_fast ? "fast" : "slow", pages, ticks32(ping), ticks32(t1 - t0),
	       ticks32(t2 - t0), ticks32(longest), exits, ticks32(drain_cycles));
	/* Everything is still there, rebuilt page by page. */
	touch_all(1);
}

/* ---- arguments ------------------------------------------------------------- */

/* "key=digits": true with *out set, for a word that starts with key=. */
static bool number_arg(const char *w, uint32_t len, const char *key, uint32_t *out, bool *bad)
{
	uint32_t kl = 0, n = 0;

	while (key[kl])
		kl++;
	if (len <= kl || w[kl] != '=' || __builtin_memcmp(w, key, kl))
		return false;
	for (uint32_t j = kl + 1; j < len; j++) {
		if (w[j] < '0' || w[j] > '9' || n > 100000000u)
			*bad = true;
		n = n * 10 + (uint32_t)(w[j] - '0');
	}
	*out = n;
	return true;
}

/* Words after the program name: "bench", tables=N, rounds=N, min_pages=N.  False on anything else. */
static bool parse_args(const struct multiboot_info *mbi)
{
	const char *p = (mbi->flags & MBI_FLAG_CMDLINE) && mbi->cmdline ? (const char *)mbi->cmdline : "";
	bool first = true, bad = false, tables_set = false;

	for (;;) {
		uint32_t len = 0;

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		while (p[len] && p[len] != ' ')
			len++;
		if (first) {
			first = false;	/* the program name */
		} else if (len == 5 && !__builtin_memcmp(p, "bench", 5)) {
			bench = true;
		} else if (number_arg(p, len, "tables", &tables, &bad)) {
			tables_set = true;
		} else if (!number_arg(p, len, "rounds", &rounds, &bad) &&
			   !number_arg(p, len, "min_pages", &min_pages, &bad)) {
			printf("guest: zapwork: unknown argument '%.*s'\n", (int)len, p);
			return false;
		}
		p += len;
	}
	if (bench && !tables_set)
		tables = BENCH_TABLES;
	if (bad || tables == 0 || tables > MAX_TABLES || rounds == 0 || rounds > 1000) {
		printf("guest: zapwork: arguments: [bench] [tables=1..%u] [rounds=1..1000] [min_pages=N]\n", MAX_TABLES);
		return false;
	}
	spaces = (tables + TABLES_PER_SPACE - 1) / TABLES_PER_SPACE;
	return true;
}

int guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
	CHECK_EQ(magic, MULTIBOOT_LOADER_MAGIC);
	if (!parse_args(mbi))
		return EXIT_FAIL;
	check_memory_layout(mbi, PT_BASE + tables * PAGE_SIZE, FRAMES_BASE);
	vmm = under_vmm();
	build_tables();
	enable_paging();
	if (bench)
		run_bench();
	else
		run_test();
	return guest_pass("zapwork");
}
