/* EPT page tables for a VM's memslots (4-level, 4 KiB leaves, write-back RAM) and its MMIO entries. */
#ifndef VMX_EPT_H
#define VMX_EPT_H

#include <stdbool.h>
#include <stdint.h>

#define EPT_READ		(1ull << 0)
#define EPT_WRITE		(1ull << 1)
#define EPT_EXECUTE		(1ull << 2)
#define EPT_MEMTYPE_WB		(6ull << 3)
#define EPT_FRAME_MASK		0x000ffffffffff000ull
/* Guest-physical addresses a 4-level EPT translates. */
#define EPT_GPA_BITS		48

/*
 * Paging structures made for MMIO entries, at most: a guest that touches
 * gpas all over its physical address space would otherwise make the VMM
 * build tables for all of them.  Past it MMIO accesses are served uncached.
 */
#define EPT_MMIO_TABLE_PAGES_MAX	1024
/* All paging-structure pages of one VM's EPT: 3 GiB of RAM needs about 1540, guest-made memslots get the rest. */
#define EPT_TABLE_PAGES_MAX		8192

/*
 * Invariant: every leaf (level 1) entry is 0, a RAM mapping (R set) or an
 * MMIO spte (mmu/spte.h, kind MMIO_SPTE_EPT: W without R); upper-level
 * entries are 0 or point at a table (R, W and X set).  No large pages.
 */
struct ept {
	uint64_t pml4_pa;
	uint64_t eptp;
	uint64_t table_pages;		/* paging-structure pages in use, freed by ept_destroy() */
	uint64_t mmio_table_pages;	/* ... of which were made for MMIO entries */
};

/* False when there is no page for the PML4. */
bool ept_init(struct ept *ept);

/*
 * Maps guest-physical [gpa, gpa + bytes) to host [hpa, ...) read/write/
 * execute, write-back, over whatever the leaves held.  False when a paging
 * structure could not be allocated: then some pages may be mapped and
 * others not.  ept_prepare() first makes a later ept_map() of the range
 * unable to fail; it fails once the EPT holds EPT_TABLE_PAGES_MAX pages.
 */
bool ept_map(struct ept *ept, uint64_t gpa, uint64_t hpa, uint64_t bytes);
bool ept_prepare(struct ept *ept, uint64_t gpa, uint64_t bytes);

/*
 * Clears the leaves of [gpa, gpa + bytes) (tables stay).  The caller must
 * then ept_flush(): the CPU may cache the old translations.
 */
void ept_unmap(struct ept *ept, uint64_t gpa, uint64_t bytes);

/*
 * The 4 KiB leaf entry for gpa.  NULL when a table on the way is missing
 * and create is false, or when one could not be allocated; tables made
 * here count as MMIO tables (mmio_table_pages), and none is made when that
 * count has reached EPT_MMIO_TABLE_PAGES_MAX.
 */
uint64_t *ept_leaf(struct ept *ept, uint64_t gpa, bool create_for_mmio);

/* Clears every MMIO leaf; returns how many.  The caller then ept_flush()es. */
uint64_t ept_drop_mmio(struct ept *ept);

/* INVEPT for this EPTP: after any entry lost permissions or went away. */
void ept_flush(struct ept *ept);

/* Frees every paging structure and invalidates what the CPU cached for this EPTP. */
void ept_destroy(struct ept *ept);

/* The leaf entry for gpa, for diagnostics; 0 when a level is missing. */
uint64_t ept_lookup(const struct ept *ept, uint64_t gpa, int *level);

#endif
