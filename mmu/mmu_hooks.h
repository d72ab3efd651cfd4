/* The only interface between the portable shadow MMU and its host: the VMM (vmx/mmu_host.c) or a hosted test. */
#ifndef MMU_MMU_HOOKS_H
#define MMU_MMU_HOOKS_H

#include <stdbool.h>
#include <stdint.h>

struct mmu;
struct mmu_vcpu;

/*
 * A zeroed, 4 KiB-aligned host page for shadow page tables or MMU metadata.
 * *pa is its host-physical address (what an spte holds); the return value is
 * where the MMU reads and writes it.  below_4g asks for a page under 4 GiB
 * (the PAE root a 32-bit CR3 must point at).  NULL: out of memory; the MMU
 * fails the operation that needed it and leaves its state consistent.
 */
void *mmu_host_alloc_page(struct mmu *mmu, bool below_4g, uint64_t *pa);
void mmu_host_free_page(struct mmu *mmu, void *page, uint64_t pa);

/* The guest-RAM memslot that holds gfn: RAM guest-physical [base_gfn, base_gfn + npages) at host_pa. */
struct mmu_memslot {
	unsigned id;		/* < MMU_MAX_MEMSLOTS, stable while the slot exists */
	uint64_t base_gfn;
	uint64_t npages;
	uint64_t host_pa;	/* host-physically contiguous */
	bool readonly;
};

/* False when no RAM memslot holds gfn (MMIO or nothing there). */
bool mmu_host_memslot(struct mmu *mmu, uint64_t gfn, struct mmu_memslot *slot);

/*
 * The memslot generation (mmu/spte.h): advanced by every memslot change,
 * with MEMSLOT_GEN_UPDATE_IN_PROGRESS set while the change is being made.
 */
uint64_t mmu_host_memslot_generation(struct mmu *mmu);

/* Host pointer to guest RAM [gpa, gpa + len), NULL unless it lies wholly inside one RAM memslot. */
void *mmu_host_guest_ptr(struct mmu *mmu, uint64_t gpa, uint64_t len);

/*
 * Requests to a vCPU, served before its next guest entry (and the vCPU
 * kicked out of the guest if it is running there).  MMU_REQ_RELOAD_ROOT:
 * call mmu_load_root() and use the root it returns, and flush as for
 * MMU_REQ_TLB_FLUSH (a new root is a new address space).  MMU_REQ_TLB_FLUSH:
 * flush every translation the CPU caches for this vCPU (INVVPID single
 * context; without VPID every entry already flushes).
 */
#define MMU_REQ_TLB_FLUSH	(1u << 0)
#define MMU_REQ_RELOAD_ROOT	(1u << 1)
void mmu_host_request(struct mmu_vcpu *vcpu, unsigned requests);

/* Flush the CPU's cached translations of one guest-linear page (INVVPID individual address). */
void mmu_host_flush_gva(struct mmu_vcpu *vcpu, uint64_t gva);

/* Deliver #PF to the guest on its next entry: CR2 = gva, the given error code. */
void mmu_host_inject_page_fault(struct mmu_vcpu *vcpu, uint64_t gva, uint32_t error_code);

#endif
