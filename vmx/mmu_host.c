/* The shadow MMU's hooks (mmu/mmu_hooks.h) as the VMM provides them: host pages, memslots, vCPU requests, #PF injection. */
#include <stddef.h>
#include "mmu/mmu_hooks.h"
#include "vmx/caps.h"
#include "vmx/vcpu.h"
#include "vmx/vmx.h"
#include "vmx/vmx_ops.h"
#include "vmm/exit.h"
#include "vmm/memory.h"

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

static struct vm *vm_of(struct mmu *mmu)
{
	return container_of(mmu, struct vm, mmu);
}

static struct vcpu *vcpu_of(struct mmu_vcpu *m)
{
	return container_of(m, struct vcpu, mmu);
}

void *mmu_host_alloc_page(struct mmu *mmu, bool below_4g, uint64_t *pa)
{
	/* A guest decides how many shadow pages exist: running short fails its fault, never the VMM. */
	*pa = memory_try_alloc_page(below_4g);
	if (!*pa)
		return NULL;
	vm_of(mmu)->mmu_host_pages++;
	return phys_to_virt(*pa);
}

void mmu_host_free_page(struct mmu *mmu, void *page, uint64_t pa)
{
	struct vm *vm = vm_of(mmu);

	/* More pages back than were handed out is an MMU bug the leak check would otherwise hide. */
	if (!vm->mmu_host_pages)
		panic("the shadow MMU freed host page %#lx that it never allocated", pa);
	if (page != phys_to_virt(pa))
		panic("the shadow MMU freed page %p as %#lx", page, pa);
	vm->mmu_host_pages--;
	memory_free_pages(pa, 1);
}

bool mmu_host_memslot(struct mmu *mmu, uint64_t gfn, struct mmu_memslot *slot)
{
	struct vm *vm = vm_of(mmu);
	unsigned i;

	for (i = 0; i < VM_MAX_MEMSLOTS; i++) {
		const struct memslot *m = &vm->memslots[i];

		if (m->used && gfn >= m->base_gfn && gfn - m->base_gfn < m->npages) {
			slot->id = i;
			slot->base_gfn = m->base_gfn;
			slot->npages = m->npages;
			slot->host_pa = m->host_pa;
			slot->readonly = false;
			return true;
		}
	}
	return false;
}

uint64_t mmu_host_memslot_generation(struct mmu *mmu)
{
	return vm_of(mmu)->memslot_generation;
}

void *mmu_host_guest_ptr(struct mmu *mmu, uint64_t gpa, uint64_t len)
{
	return vm_gpa_to_host(vm_of(mmu), gpa, len);
}

void mmu_host_request(struct mmu_vcpu *vcpu, unsigned requests)
{
	/* One vCPU, and the MMU only changes in its exits: it is never in the guest now. */
	vcpu_of(vcpu)->mmu_requests |= requests;
}

static bool canonical(uint64_t la)
{
	return (uint64_t)(((int64_t)la << 16) >> 16) == la;
}

void mmu_host_flush_gva(struct mmu_vcpu *vcpu, uint64_t gva)
{
	uint16_t vpid = vcpu_of(vcpu)->vpid;

	if (!vpid)
		return;		/* without VPID every entry flushes */
	/* INVVPID fails on a non-canonical address, where INVLPG is a no-op: flush the context instead. */
	if (vmx_caps()->invvpid_address && canonical(gva))
		invvpid(INVVPID_ADDRESS, vpid, gva);
	else
		vmx_invalidate_vpid(vpid);
}

void mmu_host_inject_page_fault(struct mmu_vcpu *vcpu, uint64_t gva, uint32_t error_code)
{
	struct vcpu *v = vcpu_of(vcpu);

	v->regs.cr2 = gva;
	vcpu_inject_exception(v, 14, true, error_code);
}
