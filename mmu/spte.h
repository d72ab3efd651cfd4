/* The shadow page-table entry: every bit an spte can hold, defined here and nowhere else. */
#ifndef MMU_SPTE_H
#define MMU_SPTE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Shadow tables are what the CPU walks while the guest runs with EPT off:
 * 4-level tables for a guest in IA-32e mode, PAE tables (under a 4-entry
 * PAE root) for every other guest, including 32-bit and paging-off ones.
 * An spte must therefore mean the same thing under 4-level and PAE paging:
 * the only software bits both leave alone are 11:9 (PAE reserves 62:52).
 * The CPU runs a shadowed guest with EFER.NXE = 1 and CR0.WP = 1 whatever
 * the guest chose, so SPTE_NX and a clear SPTE_WRITABLE always bite.
 *
 * Every leaf maps 4 KiB.  Link sptes (pointing at a child shadow table)
 * allow everything; a leaf carries the guest's combined permissions.
 */
#define SPTE_PRESENT		(1ull << 0)
#define SPTE_WRITABLE		(1ull << 1)
#define SPTE_USER		(1ull << 2)
#define SPTE_ACCESSED		(1ull << 5)	/* set by the CPU; the MMU never reads it */
#define SPTE_DIRTY		(1ull << 6)	/* set by the CPU; the MMU never reads it */

/* Software bit: the memslot lets the guest write this frame. */
#define SPTE_HOST_WRITABLE	(1ull << 9)
/*
 * Software bit: the MMU does not write-protect this gfn (it backs no shadowed
 * guest table).  SPTE_WRITABLE is only ever set with both software bits set.
 */
#define SPTE_MMU_WRITABLE	(1ull << 10)
/* Software bit 11 is kept free for the MMIO spte of the MMIO issue. */

#define SPTE_PFN_SHIFT		12
#define SPTE_ADDR_MASK		(((1ull << 52) - 1) & ~((1ull << SPTE_PFN_SHIFT) - 1))
#define SPTE_NX			(1ull << 63)

/*
 * Bits of a link spte.  The PAE root's four entries are not sptes: a PDPTE
 * register reserves bits 2:1 and 8:5, so they hold only PAE_ROOT_PRESENT and
 * the child's address.
 */
#define SPTE_LINK_BITS		(SPTE_PRESENT | SPTE_WRITABLE | SPTE_USER | SPTE_ACCESSED)
#define PAE_ROOT_PRESENT	(1ull << 0)

#define SPTE_HW_PERM_MASK	(SPTE_PRESENT | SPTE_WRITABLE | SPTE_USER | SPTE_NX)
#define SPTE_SOFTWARE_MASK	(SPTE_HOST_WRITABLE | SPTE_MMU_WRITABLE)

_Static_assert((SPTE_HW_PERM_MASK & SPTE_SOFTWARE_MASK) == 0, "spte: permissions overlap software bits");
_Static_assert((SPTE_HW_PERM_MASK & SPTE_ADDR_MASK) == 0, "spte: permissions overlap the frame");
_Static_assert((SPTE_SOFTWARE_MASK & SPTE_ADDR_MASK) == 0, "spte: software bits overlap the frame");
_Static_assert((SPTE_SOFTWARE_MASK & ~0xe00ull) == 0, "spte: software bits outside 11:9, which PAE reserves");
_Static_assert(((SPTE_ACCESSED | SPTE_DIRTY) & (SPTE_HW_PERM_MASK | SPTE_SOFTWARE_MASK | SPTE_ADDR_MASK)) == 0,
	       "spte: A/D overlap another field");

static inline bool spte_present(uint64_t spte)
{
	return spte & SPTE_PRESENT;
}

static inline uint64_t spte_to_pa(uint64_t spte)
{
	return spte & SPTE_ADDR_MASK;
}

static inline bool spte_writable(uint64_t spte)
{
	return spte & SPTE_WRITABLE;
}

#endif
