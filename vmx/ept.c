/* EPT paging structures: built on demand, torn down with an INVEPT so no stale entry survives the VM. */
#include "vmx/ept.h"
#include "vmx/vmx.h"
#include "vmx/vmx_ops.h"
#include "vmm/memory.h"
#include "vmm/page_alloc.h"

#define EPT_TABLE_ENTRY		(EPT_READ | EPT_WRITE | EPT_EXECUTE)
#define EPTP_MEMTYPE_WB		6ull
#define EPTP_WALK_LENGTH_4	(3ull << 3)
#define PAGE_4K			4096ull

static uint64_t *table(uint64_t pa)
{
	return phys_to_virt(pa);
}

static uint64_t alloc_table(struct ept *ept)
{
	ept->table_pages++;
	return memory_alloc_pages(1, "an EPT paging structure");
}

void ept_init(struct ept *ept)
{
	ept->table_pages = 0;
	ept->pml4_pa = alloc_table(ept);
	ept->eptp = ept->pml4_pa | EPTP_WALK_LENGTH_4 | EPTP_MEMTYPE_WB;
}

static uint64_t *leaf_slot(struct ept *ept, uint64_t gpa)
{
	uint64_t *t = table(ept->pml4_pa);
	int level;

	for (level = 3; level > 0; level--) {
		uint64_t *e = &t[(gpa >> (12 + 9 * level)) & 511];

		if (!(*e & EPT_TABLE_ENTRY))
			*e = alloc_table(ept) | EPT_TABLE_ENTRY;
		t = table(*e & EPT_FRAME_MASK);
	}
	return &t[(gpa >> 12) & 511];
}

void ept_map(struct ept *ept, uint64_t gpa, uint64_t hpa, uint64_t bytes)
{
	uint64_t off;

	for (off = 0; off < bytes; off += PAGE_4K)
		*leaf_slot(ept, gpa + off) = (hpa + off) | EPT_READ | EPT_WRITE | EPT_EXECUTE |
					     EPT_MEMTYPE_WB;
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
	/*
	 * The CPU may cache translations tagged with this EPTP; the next VM
	 * can get the same PML4 page, so they must go before the page does.
	 */
	vmx_invalidate_ept(ept->eptp);
	free_tables(ept->pml4_pa, 3);
	ept->pml4_pa = 0;
	ept->table_pages = 0;
}
