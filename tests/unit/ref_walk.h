/* A plain reference page walker written from the Intel SDM vol. 3 ch. 4: the oracle the MMU's walker and shadow tables are checked against. */
#ifndef TESTS_UNIT_REF_WALK_H
#define TESTS_UNIT_REF_WALK_H

#include <stdbool.h>
#include <stdint.h>
#include "mmu/guest_walk.h"
#include "mmu/paging.h"

/* Guest-physical memory as the reference sees it: a host pointer to [gpa, gpa + len), NULL outside RAM. */
struct ref_mem {
	void *(*ptr)(void *ctx, uint64_t gpa, unsigned len);
	void *ctx;
};

#define REF_MAX_ENTRIES 4

struct ref_result {
	bool fault;
	uint32_t error_code;	/* when fault */
	uint64_t gpa;		/* when !fault */
	/* Guest-physical addresses of the in-memory entries read, also on a fault. */
	unsigned nr_entries;
	uint64_t entry_gpa[REF_MAX_ENTRIES];
};

/*
 * Translates gva for one access (WALK_* flags) under the paging state p,
 * with no TLB.  Only on success are the accessed flags of every entry used
 * and, for a write, the dirty flag of the leaf set in memory.  A table
 * outside RAM faults with P = 0.
 */
void ref_walk(const struct ref_mem *mem, const struct guest_paging *p, uint64_t gva, unsigned access,
	      struct ref_result *r);

/* PAE: loads the four PDPTEs at cr3 bits 31:5; false (#GP) outside RAM or when a present one sets a reserved bit. */
bool ref_load_pdptes(const struct ref_mem *mem, uint64_t cr3, unsigned maxphyaddr, uint64_t pdptes[4]);

#endif
