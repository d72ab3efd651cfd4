/* The guest page walker: linear to guest-physical through the guest's own tables, every mode, as the SDM defines it. */
#ifndef MMU_GUEST_WALK_H
#define MMU_GUEST_WALK_H

#include <stdbool.h>
#include <stdint.h>
#include "mmu/paging.h"

struct mmu;

/*
 * The access being translated.  WALK_WRITE, WALK_USER and WALK_FETCH sit at
 * the positions of the #PF error-code bits they become.  WALK_USER is a
 * user-mode access (CPL 3 and not an implicit supervisor access such as a
 * GDT read).  WALK_SMAP_AC: an explicit supervisor-mode access made with
 * EFLAGS.AC = 1, which SMAP lets read and write user pages.
 */
#define WALK_WRITE	PFERR_WRITE
#define WALK_USER	PFERR_USER
#define WALK_FETCH	PFERR_FETCH
#define WALK_SMAP_AC	(1u << 8)

/* Effective access of a translation: what the combined entries allow. */
#define ACC_EXEC	(1u << 0)
#define ACC_WRITE	(1u << 1)
#define ACC_USER	(1u << 2)
#define ACC_ALL		(ACC_EXEC | ACC_WRITE | ACC_USER)

#define WALK_MAX_LEVEL	4

struct guest_walk {
	bool fault;
	uint32_t error_code;	/* #PF error code when fault */
	uint64_t gpa;		/* the translation when !fault */

	/*
	 * Levels count from 1 (the 4 KiB PTE) up to max_level (2 for 32-bit
	 * paging, 3 for PAE where level 3 is the PDPTE register, 4 for
	 * 4-level paging).  For each level from max_level down to level:
	 * the entry as read (with the accessed/dirty bits this walk set), the
	 * guest-physical address it was read from (PAE level 3: none, ~0),
	 * the gfn of the table it was read from, and the access allowed by it
	 * and every entry above it.  Filled as far as the walk got, also when
	 * it faulted.
	 */
	unsigned max_level;
	unsigned level;		/* where the walk stopped: the leaf, or the faulting entry */
	uint64_t gpte[WALK_MAX_LEVEL + 1];
	uint64_t gpte_gpa[WALK_MAX_LEVEL + 1];
	uint64_t table_gfn[WALK_MAX_LEVEL + 1];
	unsigned pt_access[WALK_MAX_LEVEL + 1];
	unsigned pte_access;	/* ACC_* of the whole translation (pt_access[level]) */
	uint64_t gfn;		/* the 4 KiB guest frame of the translation */
	bool large;		/* the leaf is a 4 MiB, 2 MiB or 1 GiB page (level > 1) */
};

/*
 * Translates gva for one access.  On success sets the accessed flag of every
 * entry used and, for a write, the dirty flag of the leaf, in guest memory
 * (only entries that lack them are written).  On a fault nothing is written
 * and error_code is what the CPU would push: P for a protection fault, W/U/I
 * from the access (I only when NX is enabled or CR4.SMEP = 1), RSVD when a
 * present entry has a reserved bit set.  A table outside guest RAM ends the
 * walk as a fault with P = 0 (the CPU would read garbage or hang the bus).
 * Paging off: gpa = gva truncated to 32 bits, no fault, no memory touched.
 */
void guest_walk(struct mmu *mmu, const struct guest_paging *p, uint64_t gva, unsigned access,
		struct guest_walk *w);

/*
 * PAE paging: reads the four PDPTEs at cr3 (bits 31:5) into pdptes.  False
 * when they lie outside guest RAM or a present one has a reserved bit set:
 * the CR3/CR0/CR4 write that loads them raises #GP (SDM 4.4.1).
 */
bool guest_load_pae_pdptes(struct mmu *mmu, uint64_t cr3, unsigned maxphyaddr, uint64_t pdptes[4]);

#endif
