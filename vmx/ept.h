/* EPT page tables for a VM's memslots (4-level, 4 KiB leaves, write-back RAM). */
#ifndef VMX_EPT_H
#define VMX_EPT_H

#include <stdint.h>

#define EPT_READ		(1ull << 0)
#define EPT_WRITE		(1ull << 1)
#define EPT_EXECUTE		(1ull << 2)
#define EPT_MEMTYPE_WB		(6ull << 3)
#define EPT_FRAME_MASK		0x000ffffffffff000ull

struct ept {
	uint64_t pml4_pa;
	uint64_t eptp;
	uint64_t table_pages;	/* paging-structure pages in use, freed by ept_destroy() */
};

void ept_init(struct ept *ept);

/* Maps guest-physical [gpa, gpa + bytes) to host [hpa, ...) read/write/execute, write-back. */
void ept_map(struct ept *ept, uint64_t gpa, uint64_t hpa, uint64_t bytes);

/* Frees every paging structure and invalidates what the CPU cached for this EPTP. */
void ept_destroy(struct ept *ept);

/* The leaf entry for gpa, for diagnostics; 0 when a level is missing. */
uint64_t ept_lookup(const struct ept *ept, uint64_t gpa, int *level);

#endif
