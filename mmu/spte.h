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

/*
 * MMIO sptes.  A guest-physical page with no RAM behind it gets an entry the
 * CPU cannot use, so that every access exits to the VMM, and that records
 * what the slow path found: the gfn, the access the guest's tables allow,
 * and the memslot generation it was made in.  The same encoding serves both
 * kinds of table:
 *
 *   shadow tables: P (bit 0) with bit 51 set.  Bit 51 is reserved while the
 *     host's MAXPHYADDR is at most 51, so any access gives #PF with
 *     PFERR_RSVD (4-level and PAE paging alike); a host with MAXPHYADDR 52
 *     has no such bit, and MMIO caching is off there.
 *   EPT tables: bits 2:0 = 010, write without read, which the CPU reports
 *     as an EPT misconfiguration (SDM 29.3.3.1) before looking at anything
 *     else in the entry.
 *
 *   bits 2:0    the marker's low part (shadow 001, EPT 010)
 *   bits 11:3   generation bits 8:0
 *   bits 50:12  gfn (39 bits: guest-physical addresses below 2^51)
 *   bit  51     shadow marker (reserved physical-address bit); 0 in EPT
 *   bits 61:52  generation bits 18:9
 *   bit  62     the guest's tables allow writes (ACC_WRITE)
 *   bit  63     the guest's tables allow user accesses (ACC_USER)
 *
 * Only the low MMIO_SPTE_GEN_BITS of the generation fit.  The memslot
 * generation's bit 63 (update in progress) is never stored, so an spte made
 * during an update never matches a completed generation.  When the stored
 * bits wrap to 0, an old spte could match again: the host zaps every shadow
 * page (and EPT MMIO entry) then.
 */
enum mmio_spte_kind { MMIO_SPTE_SHADOW, MMIO_SPTE_EPT };

#define MMIO_SPTE_SHADOW_MARKER	(SPTE_PRESENT | (1ull << 51))
#define MMIO_SPTE_EPT_MARKER	(1ull << 1)		/* EPT W without R, X clear */
#define MMIO_SPTE_SHADOW_MASK	MMIO_SPTE_SHADOW_MARKER
#define MMIO_SPTE_EPT_MASK	0x7ull
#define MMIO_SPTE_GEN_LOW_SHIFT	3
#define MMIO_SPTE_GEN_LOW_BITS	9
#define MMIO_SPTE_GEN_HIGH_SHIFT 52
#define MMIO_SPTE_GEN_HIGH_BITS	10
#define MMIO_SPTE_GEN_BITS	(MMIO_SPTE_GEN_LOW_BITS + MMIO_SPTE_GEN_HIGH_BITS)
#define MMIO_SPTE_GEN_MASK	((1ull << MMIO_SPTE_GEN_BITS) - 1)
#define MMIO_SPTE_GEN_LOW_FIELD	(((1ull << MMIO_SPTE_GEN_LOW_BITS) - 1) << MMIO_SPTE_GEN_LOW_SHIFT)
#define MMIO_SPTE_GEN_HIGH_FIELD (((1ull << MMIO_SPTE_GEN_HIGH_BITS) - 1) << MMIO_SPTE_GEN_HIGH_SHIFT)
#define MMIO_SPTE_GFN_SHIFT	12
#define MMIO_SPTE_GFN_BITS	39
#define MMIO_SPTE_GFN_MASK	((1ull << MMIO_SPTE_GFN_BITS) - 1)
#define MMIO_SPTE_GFN_FIELD	(MMIO_SPTE_GFN_MASK << MMIO_SPTE_GFN_SHIFT)
#define MMIO_SPTE_WRITE		(1ull << 62)
#define MMIO_SPTE_USER		(1ull << 63)

/* The memslot generation: bit 63 is set while the memslots change. */
#define MEMSLOT_GEN_UPDATE_IN_PROGRESS	(1ull << 63)
/* The first generation: 150 changes before the stored bits wrap, so every run exercises the wrap (as KVM did in 2013). */
#define MEMSLOT_GEN_INITIAL		(MMIO_SPTE_GEN_MASK + 1 - 150)

_Static_assert((MMIO_SPTE_GEN_LOW_FIELD & MMIO_SPTE_GEN_HIGH_FIELD) == 0, "mmio spte: generation halves overlap");
_Static_assert(((MMIO_SPTE_GEN_LOW_FIELD | MMIO_SPTE_GEN_HIGH_FIELD) & MMIO_SPTE_GFN_FIELD) == 0,
	       "mmio spte: generation overlaps the gfn");
_Static_assert(((MMIO_SPTE_GEN_LOW_FIELD | MMIO_SPTE_GEN_HIGH_FIELD | MMIO_SPTE_GFN_FIELD) &
		(MMIO_SPTE_SHADOW_MASK | MMIO_SPTE_EPT_MASK | MMIO_SPTE_WRITE | MMIO_SPTE_USER)) == 0,
	       "mmio spte: generation or gfn overlap the marker or access bits");
_Static_assert(((MMIO_SPTE_SHADOW_MASK | MMIO_SPTE_EPT_MASK) & (MMIO_SPTE_WRITE | MMIO_SPTE_USER)) == 0,
	       "mmio spte: access bits overlap a marker");
_Static_assert(MMIO_SPTE_GEN_HIGH_SHIFT + MMIO_SPTE_GEN_HIGH_BITS <= 62, "mmio spte: generation runs into the access bits");
_Static_assert(MMIO_SPTE_GFN_SHIFT + MMIO_SPTE_GFN_BITS == 51, "mmio spte: the gfn ends below the shadow marker");
_Static_assert(MMIO_SPTE_GEN_BITS == 19, "mmio spte: 19 generation bits");

static inline uint64_t mmio_spte_marker(enum mmio_spte_kind kind)
{
	return kind == MMIO_SPTE_SHADOW ? MMIO_SPTE_SHADOW_MARKER : MMIO_SPTE_EPT_MARKER;
}

static inline uint64_t mmio_spte_marker_mask(enum mmio_spte_kind kind)
{
	return kind == MMIO_SPTE_SHADOW ? MMIO_SPTE_SHADOW_MASK : MMIO_SPTE_EPT_MASK;
}

/* access: ACC_WRITE (1 << 1) and ACC_USER (1 << 2) of mmu/guest_walk.h; other bits are dropped. */
static inline uint64_t make_mmio_spte(enum mmio_spte_kind kind, uint64_t gfn, uint64_t generation, unsigned access)
{
	uint64_t gen = generation & MMIO_SPTE_GEN_MASK;
	uint64_t spte = mmio_spte_marker(kind);

	spte |= (gen & ((1ull << MMIO_SPTE_GEN_LOW_BITS) - 1)) << MMIO_SPTE_GEN_LOW_SHIFT;
	spte |= (gen >> MMIO_SPTE_GEN_LOW_BITS) << MMIO_SPTE_GEN_HIGH_SHIFT;
	spte |= (gfn & MMIO_SPTE_GFN_MASK) << MMIO_SPTE_GFN_SHIFT;
	if (access & (1u << 1))
		spte |= MMIO_SPTE_WRITE;
	if (access & (1u << 2))
		spte |= MMIO_SPTE_USER;
	return spte;
}

/* No RAM spte ever matches: a host frame lies below MAXPHYADDR <= 51, and EPT RAM entries are readable. */
static inline bool is_mmio_spte(enum mmio_spte_kind kind, uint64_t spte)
{
	return (spte & mmio_spte_marker_mask(kind)) == mmio_spte_marker(kind);
}

static inline uint64_t mmio_spte_gfn(uint64_t spte)
{
	return (spte >> MMIO_SPTE_GFN_SHIFT) & MMIO_SPTE_GFN_MASK;
}

static inline uint64_t mmio_spte_generation(uint64_t spte)
{
	return ((spte & MMIO_SPTE_GEN_LOW_FIELD) >> MMIO_SPTE_GEN_LOW_SHIFT) |
	       (((spte & MMIO_SPTE_GEN_HIGH_FIELD) >> MMIO_SPTE_GEN_HIGH_SHIFT) << MMIO_SPTE_GEN_LOW_BITS);
}

static inline unsigned mmio_spte_access(uint64_t spte)
{
	return (spte & MMIO_SPTE_WRITE ? 1u << 1 : 0) | (spte & MMIO_SPTE_USER ? 1u << 2 : 0);
}

/* An spte made in generation `stored` is current in memslot generation `now` (never while an update is in progress). */
static inline bool mmio_generation_current(uint64_t stored, uint64_t now)
{
	return !(now & MEMSLOT_GEN_UPDATE_IN_PROGRESS) && stored == (now & MMIO_SPTE_GEN_MASK);
}

/* An MMIO spte of the shadow tables.  Such an spte has P set but is in no rmap and maps no frame. */
static inline bool is_shadow_mmio_spte(uint64_t spte)
{
	return is_mmio_spte(MMIO_SPTE_SHADOW, spte);
}

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
