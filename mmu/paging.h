/* The guest's paging state and the architectural bits of x86 paging the MMU needs (SDM vol. 3, chapter 4). */
#ifndef MMU_PAGING_H
#define MMU_PAGING_H

#include <stdbool.h>
#include <stdint.h>

/* #PF error code (SDM 4.7). */
#define PFERR_PRESENT		(1u << 0)
#define PFERR_WRITE		(1u << 1)
#define PFERR_USER		(1u << 2)
#define PFERR_RSVD		(1u << 3)
#define PFERR_FETCH		(1u << 4)
#define PFERR_PK		(1u << 5)

/* Control-register and EFER bits that change what paging means. */
#define PG_CR0_WP		(1ull << 16)
#define PG_CR0_PG		(1ull << 31)
#define PG_CR4_PSE		(1ull << 4)
#define PG_CR4_PAE		(1ull << 5)
#define PG_CR4_PGE		(1ull << 7)
#define PG_CR4_LA57		(1ull << 12)
#define PG_CR4_SMEP		(1ull << 20)
#define PG_CR4_SMAP		(1ull << 21)
#define PG_CR4_PKE		(1ull << 22)
#define PG_EFER_LME		(1ull << 8)
#define PG_EFER_LMA		(1ull << 10)
#define PG_EFER_NXE		(1ull << 11)
#define PG_RFLAGS_AC		(1ull << 18)

/* Guest paging-structure entry bits shared by 32-bit, PAE and 4-level paging. */
#define GPTE_PRESENT		(1ull << 0)
#define GPTE_WRITABLE		(1ull << 1)
#define GPTE_USER		(1ull << 2)
#define GPTE_PWT		(1ull << 3)
#define GPTE_PCD		(1ull << 4)
#define GPTE_ACCESSED		(1ull << 5)
#define GPTE_DIRTY		(1ull << 6)
#define GPTE_LARGE		(1ull << 7)	/* PS in a PDE/PDPTE; PAT in a 4 KiB PTE */
#define GPTE_GLOBAL		(1ull << 8)
#define GPTE_NX			(1ull << 63)

/* The paging modes of SDM 4.1.1 that the MMU virtualises (LA57 is hidden from guests). */
enum guest_paging_mode {
	PAGING_OFF,	/* CR0.PG = 0: linear = physical */
	PAGING_32,	/* 2 levels of 4-byte entries, 4 MiB pages with CR4.PSE */
	PAGING_PAE,	/* 4 PDPTE registers, then 2 levels of 8-byte entries */
	PAGING_4LEVEL,	/* IA-32e: 4 levels, 2 MiB and 1 GiB pages */
};

/* The guest's view (not the CPU's real values in shadow mode). */
struct guest_paging {
	uint64_t cr0, cr3, cr4, efer;
	/*
	 * PAE paging: the PDPTE registers, loaded from CR3 when the guest wrote
	 * CR3 or enabled PAE paging (SDM 4.4.1).  Later writes to the PDPT in
	 * memory do not change them.
	 */
	uint64_t pdptes[4];
	unsigned maxphyaddr;	/* the guest's CPUID.80000008H:EAX[7:0] */
	bool gbpages;		/* CPUID.80000001H:EDX.Page1GB: 4-level PDPTEs may map 1 GiB */
};

static inline enum guest_paging_mode guest_paging_mode(const struct guest_paging *p)
{
	if (!(p->cr0 & PG_CR0_PG))
		return PAGING_OFF;
	if (p->efer & PG_EFER_LMA)
		return PAGING_4LEVEL;
	return (p->cr4 & PG_CR4_PAE) ? PAGING_PAE : PAGING_32;
}

/* Physical-address bits [maxphyaddr, 52) of an entry: reserved (SDM 4.4.2, 4.5.4). */
static inline uint64_t paging_rsvd_phys_bits(unsigned maxphyaddr)
{
	return ((1ull << 52) - 1) & ~((1ull << maxphyaddr) - 1);
}

#endif
