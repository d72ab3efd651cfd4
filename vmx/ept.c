/* EPT paging structures: built on demand, torn down with an INVEPT so no stale entry survives the VM. */
#include "mmu/spte.h"
#include "vmx/ept.h"
#include "vmx/vmx.h"
#include "vmx/vmx_ops.h"
#include "vmm/memory.h"
#include "vmm/page_alloc.h"

#define EPT_TABLE_ENTRY		(EPT_READ | EPT_WRITE | EPT_EXECUTE)
#define EPTP_MEMTYPE_WB		6ull
#define EPTP_WALK_LENGTH_4	(3ull << 3)
#define PAGE_4K			4096ull
#define PAGE_2M			(2ull << 20)

static uint64_t *table(uint64_t pa)
{
	return phys_to_virt(pa);
}

/* A zeroed table page, or 0: the guest's actions decide how many exist, so running short must not end the run. */
static uint64_t alloc_table(struct ept *ept)
{
	uint64_t pa = memory_try_alloc_page(false);

	if (pa)
		ept->table_pages++;
	return pa;
}

bool ept_init(struct ept *ept)
{
	ept->table_pages = 0;
	ept->mmio_table_pages = 0;
	ept->pml4_pa = alloc_table(ept);
	ept->eptp = ept->pml4_pa | EPTP_WALK_LENGTH_4 | EPTP_MEMTYPE_WB;
	return ept->pml4_pa != 0;
}

/*
 * The leaf slot for gpa.  create: make missing tables, at most max_new of
 * them (counted in *made); NULL when one is missing and may not or cannot
 * be made.
 */
static uint64_t *walk(struct ept *ept, uint64_t gpa, bool create, uint64_t max_new, uint64_t *made)
{
	uint64_t *t = table(ept->pml4_pa);
	int level;

	for (level = 3; level > 0; level--) {
		uint64_t *e = &t[(gpa >> (12 + 9 * level)) & 511];

		if (!(*e & EPT_TABLE_ENTRY)) {
			uint64_t pa;

			if (!create || *made >= max_new || !(pa = alloc_table(ept)))
				return NULL;
			(*made)++;
			*e = pa | EPT_TABLE_ENTRY;
		}
		t = table(*e & EPT_FRAME_MASK);
	}
	return &t[(gpa >> 12) & 511];
}

bool ept_prepare(struct ept *ept, uint64_t gpa, uint64_t bytes)
{
	uint64_t off, made = 0;

	/*
	 * One leaf table covers 2 MiB: touching one gpa per 2 MiB (and the last)
	 * makes every table.  Tables stay until the VM ends, so a guest moving
	 * memslots to ever new places would grow them without end: the cap
	 * turns that into a failed memslot change.
	 */
	if (ept->table_pages >= EPT_TABLE_PAGES_MAX)
		return false;
	for (off = 0; off < bytes; off += PAGE_2M - ((gpa + off) & (PAGE_2M - 1)))
		if (!walk(ept, gpa + off, true, EPT_TABLE_PAGES_MAX - ept->table_pages + made, &made))
			return false;
	return true;
}

bool ept_map(struct ept *ept, uint64_t gpa, uint64_t hpa, uint64_t bytes)
{
	uint64_t off, made = 0;

	for (off = 0; off < bytes; off += PAGE_4K) {
		uint64_t *leaf = walk(ept, gpa + off, true, ~0ull, &made);

		if (!leaf)
			return false;
		*leaf = (hpa + off) | EPT_READ | EPT_WRITE | EPT_EXECUTE | EPT_MEMTYPE_WB;
	}
	return true;
}

void ept_unmap(struct ept *ept, uint64_t gpa, uint64_t bytes)
{
	uint64_t off, made = 0;

	for (off = 0; off < bytes; off += PAGE_4K) {
		uint64_t *leaf = walk(ept, gpa + off, false, 0, &made);

		if (leaf)
			*leaf = 0;
	}
}

uint64_t *ept_leaf(struct ept *ept, uint64_t gpa, bool create_for_mmio)
{
	uint64_t made = 0, room = 0;
	uint64_t *leaf;

	if (ept->mmio_table_pages < EPT_MMIO_TABLE_PAGES_MAX)
		room = EPT_MMIO_TABLE_PAGES_MAX - ept->mmio_table_pages;
	leaf = walk(ept, gpa, create_for_mmio, room, &made);
	ept->mmio_table_pages += made;
	return leaf;
}

static uint64_t drop_mmio(uint64_t pa, int level)
{
	uint64_t *t = table(pa), dropped = 0;
	int i;

	for (i = 0; i < 512; i++) {
		if (level > 0) {
			if (t[i] & EPT_TABLE_ENTRY)
				dropped += drop_mmio(t[i] & EPT_FRAME_MASK, level - 1);
		} else if (is_mmio_spte(MMIO_SPTE_EPT, t[i])) {
			t[i] = 0;
			dropped++;
		}
	}
	return dropped;
}

uint64_t ept_drop_mmio(struct ept *ept)
{
	return drop_mmio(ept->pml4_pa, 3);
}

void ept_flush(struct ept *ept)
{
	vmx_invalidate_ept(ept->eptp);
}

uint64_t ept_lookup(const struct ept *ept, uint64_t gpa, int *level_out)
{
	uint64_t *t = table(ept->pml4_pa), e = 0;
	int level;

	for (level = 3; level >= 0; level--) {
		e = t[(gpa >> (12 + 9 * level)) & 511];
		*level_out = level;
		if (!(e & EPT_TABLE_ENTRY) || level == 0)
			return e;
		t = table(e & EPT_FRAME_MASK);
	}
	return e;
}

static void free_tables(uint64_t pa, int level)
{
	uint64_t *t = table(pa);
	int i;

	if (level > 0)
		for (i = 0; i < 512; i++)
			if (t[i] & EPT_TABLE_ENTRY)
				free_tables(t[i] & EPT_FRAME_MASK, level - 1);
	memory_free_pages(pa, 1);
}

void ept_destroy(struct ept *ept)
{
	if (!ept->pml4_pa)
		return;
	/*
	 * The CPU may cache translations tagged with this EPTP; the next VM
	 * can get the same PML4 page, so they must go before the page does.
	 */
	vmx_invalidate_ept(ept->eptp);
	free_tables(ept->pml4_pa, 3);
	ept->pml4_pa = 0;
	ept->table_pages = 0;
	ept->mmio_table_pages = 0;
}
