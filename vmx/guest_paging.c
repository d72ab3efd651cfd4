/* The guest's CR0/CR3/CR4/EFER/PDPTEs and the real ones the CPU runs it with, under EPT or shadow paging. */
#include "mmu/mmu.h"
#include "mmu/mmu_hooks.h"
#include "vmx/caps.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs_fields.h"
#include "vmx/vmx.h"
#include "vmx/vmx_ops.h"
#include "vmm/log.h"
#include "vmm/status.h"
#include "vmm/string.h"
#include "vmm/x86.h"

#define CPUID_80000001_EDX_NX		(1u << 20)
#define CPUID_80000001_EDX_PAGE1GB	(1u << 26)

static uint64_t cr0_intercepted(const struct vcpu *v)
{
	return v->shadow ? VCPU_CR0_INTERCEPTED_SHADOW : VCPU_CR0_INTERCEPTED_EPT;
}

uint64_t vcpu_real_cr0(const struct vcpu *v, uint64_t guest_cr0)
{
	const struct vmx_config *c = vmx_config();

	/*
	 * Shadow paging runs every guest with paging on (paging-off guests on an
	 * identity-mapped shadow root) and with WP set, so that read-only sptes
	 * protect the guest's tables from its kernel too.  CD and NW stay clear
	 * whatever the guest chose (as KVM does).  Unrestricted guest
	 * (EPT mode) lifts the PE and PG requirements of CR0_FIXED0 (SDM 26.3.1.1).
	 */
	guest_cr0 &= ~(CR0_CD | CR0_NW);
	if (v->shadow)
		return (guest_cr0 | CR0_WP | c->cr0_fixed0) & c->cr0_fixed1;
	return (guest_cr0 | (c->cr0_fixed0 & ~(CR0_PE | CR0_PG))) & c->cr0_fixed1;
}

uint64_t vcpu_real_cr4(const struct vcpu *v, uint64_t guest_cr4)
{
	const struct vmx_config *c = vmx_config();
	uint64_t cr4 = (guest_cr4 | c->cr4_fixed0) & c->cr4_fixed1;

	if (!v->shadow)
		return cr4;
	/* Shadow tables are 4-level or PAE; a paging-off guest's identity map is all user pages, which SMEP/SMAP must not police. */
	cr4 |= CR4_PAE;
	if (!(vmread(VMCS_CR0_READ_SHADOW) & CR0_PG))
		cr4 &= ~(CR4_SMEP | CR4_SMAP);
	return cr4;
}

static bool host_has_nx(void)
{
	return cpuid(0x80000001, 0).edx & CPUID_80000001_EDX_NX;
}

uint64_t vcpu_real_efer(const struct vcpu *v, uint64_t guest_efer)
{
	uint64_t efer = guest_efer & ~EFER_LME;

	if (!v->shadow)
		return guest_efer;
	/* With the CPU's paging always on, LME must equal LMA at entry; NX lets sptes forbid fetches whatever the guest chose. */
	if (guest_efer & EFER_LMA)
		efer |= EFER_LME;
	if (host_has_nx())
		efer |= EFER_NXE;
	return efer;
}

uint64_t vcpu_cr0(struct vcpu *v)
{
	uint64_t mask = cr0_intercepted(v);

	/* Bits outside the mask change without an exit: the CPU's value is the guest's there. */
	return (vmread(VMCS_GUEST_CR0) & ~mask) | (vmread(VMCS_CR0_READ_SHADOW) & mask);
}

uint64_t vcpu_cr3(struct vcpu *v)
{
	return v->shadow ? v->shadow_cr3 : vmread(VMCS_GUEST_CR3);
}

uint64_t vcpu_cr4(struct vcpu *v)
{
	(void)v;
	return vmread(VMCS_CR4_READ_SHADOW);	/* every CR4 bit is intercepted */
}

uint64_t vcpu_efer(struct vcpu *v)
{
	return v->shadow ? v->shadow_efer : vmread(VMCS_GUEST_EFER);
}

bool vcpu_long_mode_active(struct vcpu *v)
{
	return vcpu_efer(v) & EFER_LMA;
}

bool vcpu_in_64bit_mode(struct vcpu *v)
{
	return vcpu_long_mode_active(v) && (vmread(VMCS_GUEST_CS_AR) & SEG_AR_LONG);
}

void vcpu_set_cr0(struct vcpu *v, uint64_t cr0)
{
	vmwrite(VMCS_CR0_READ_SHADOW, cr0);
	vmwrite(VMCS_GUEST_CR0, vcpu_real_cr0(v, cr0));
}

void vcpu_set_cr3(struct vcpu *v, uint64_t cr3)
{
	if (v->shadow)
		v->shadow_cr3 = cr3;
	else
		vmwrite(VMCS_GUEST_CR3, cr3);
}

void vcpu_set_cr4(struct vcpu *v, uint64_t cr4)
{
	vmwrite(VMCS_CR4_READ_SHADOW, cr4);
	vmwrite(VMCS_GUEST_CR4, vcpu_real_cr4(v, cr4));
}

void vcpu_set_efer(struct vcpu *v, uint64_t efer)
{
	if (v->shadow)
		v->shadow_efer = efer;
	vmwrite(VMCS_GUEST_EFER, vcpu_real_efer(v, efer));
}

bool vcpu_load_pdptes(struct vcpu *v, uint64_t cr3)
{
	uint64_t pdptes[4];
	unsigned i;

	if (!guest_load_pae_pdptes(&v->vm->mmu, cr3, vmx_caps()->maxphyaddr, pdptes))
		return false;
	for (i = 0; i < 4; i++) {
		if (v->shadow)
			v->shadow_pdptes[i] = pdptes[i];
		else
			vmwrite(VMCS_GUEST_PDPTE0 + 2 * i, pdptes[i]);
	}
	return true;
}

/* The guest's paging state as the walker and the shadow MMU see it. */
static void read_guest_paging(struct vcpu *v, struct guest_paging *p)
{
	unsigned i;

	p->cr0 = vcpu_cr0(v);
	p->cr3 = vcpu_cr3(v);
	p->cr4 = vcpu_cr4(v);
	p->efer = vcpu_efer(v);
	for (i = 0; i < 4; i++)
		p->pdptes[i] = v->shadow ? v->shadow_pdptes[i] : vmread(VMCS_GUEST_PDPTE0 + 2 * i);
	p->maxphyaddr = vmx_caps()->maxphyaddr;
	p->gbpages = cpuid(0x80000001, 0).edx & CPUID_80000001_EDX_PAGE1GB;
}

void vcpu_paging_changed(struct vcpu *v, bool flush)
{
	struct guest_paging p;

	if (!v->shadow) {
		if (flush)
			vmx_invalidate_vpid(v->vpid);
		return;
	}
	read_guest_paging(v, &p);
	mmu_set_paging(&v->mmu, &p);
	/* What the CPU runs with depends on CR0.PG and EFER.LMA too. */
	vmwrite(VMCS_GUEST_CR4, vcpu_real_cr4(v, p.cr4));
	vmwrite(VMCS_GUEST_EFER, vcpu_real_efer(v, p.efer));
}

unsigned vcpu_data_access(bool user, bool write)
{
	unsigned access = write ? WALK_WRITE : 0;

	if (user)
		access |= WALK_USER;
	else if (vmread(VMCS_GUEST_RFLAGS) & RFLAGS_AC)
		access |= WALK_SMAP_AC;		/* an explicit supervisor access: SMAP honours AC */
	return access;
}

bool vcpu_gva_to_gpa(struct vcpu *v, uint64_t gva, unsigned access, uint64_t *gpa, uint32_t *pf_error)
{
	/* In EPT mode the MMU keeps no paging state of its own: hand it the VMCS's. */
	if (!v->shadow)
		read_guest_paging(v, &v->mmu.paging);
	return mmu_gva_to_gpa(&v->mmu, gva, access, gpa, pf_error);
}

bool vcpu_write_guest(struct vcpu *v, uint64_t gpa, const void *data, unsigned len)
{
	void *p;

	if (v->shadow)
		return mmu_emulated_write(&v->mmu, gpa, data, len);
	p = vm_gpa_to_host(v->vm, gpa, len);
	if (!p)
		return false;
	memcpy(p, data, len);
	return true;
}

bool vcpu_serve_mmu_requests(struct vcpu *v)
{
	unsigned requests = v->mmu_requests;
	uint64_t root;

	v->mmu_requests = 0;
	if (!v->shadow)
		return true;
	if (requests & MMU_REQ_RELOAD_ROOT) {
		if (mmu_load_root(&v->mmu, &root)) {
			vm_end(v->vm, VMM_STATUS_NO_MEMORY, "out of memory for shadow page tables");
			return false;
		}
		vmwrite(VMCS_GUEST_CR3, root);
	}
	if (requests & (MMU_REQ_TLB_FLUSH | MMU_REQ_RELOAD_ROOT))
		vmx_invalidate_vpid(v->vpid);
	return true;
}
