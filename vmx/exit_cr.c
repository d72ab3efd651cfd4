/* Control-register exits: CR0 and CR4 writes checked as the SDM says, EFER.LMA and PAE PDPTEs kept right. */
#include "vmx/cpuid_policy.h"
#include "vmx/exits.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs_fields.h"
#include "vmx/vmx.h"
#include "vmx/vmx_ops.h"
#include "vmm/log.h"
#include "vmm/status.h"
#include "vmm/x86.h"

#define CR_ACCESS_MOV_TO	0
#define CR_ACCESS_MOV_FROM	1
#define CR_ACCESS_CLTS		2
#define CR_ACCESS_LMSW		3

#define PDPTE_PRESENT		1ull
/* Bits 2:1, 8:5 and those above MAXPHYADDR are reserved in a present PAE PDPTE. */
#define PDPTE_RESERVED_LOW	0x1e6ull

static bool long_mode_active(void)
{
	return vmread(VMCS_GUEST_EFER) & EFER_LMA;
}

static uint64_t maxphyaddr_mask(void)
{
	return (1ull << vmx_caps()->maxphyaddr) - 1;
}

/* SDM 4.4.1: PAE paging loads the four PDPTEs when CR0/CR4 enable it; with EPT the VMM does that for writes it intercepts. */
static bool load_pae_pdptes(struct vcpu *v, uint64_t cr3)
{
	uint64_t *pdpte = vm_gpa_to_host(v->vm, cr3 & 0xffffffe0ull, 32);
	int i;

	if (!pdpte)
		return false;
	for (i = 0; i < 4; i++)
		if ((pdpte[i] & PDPTE_PRESENT) &&
		    (pdpte[i] & (PDPTE_RESERVED_LOW | ~maxphyaddr_mask())))
			return false;
	for (i = 0; i < 4; i++)
		vmwrite(VMCS_GUEST_PDPTE0 + 2 * i, pdpte[i]);
	return true;
}

static bool pae_paging(uint64_t cr0, uint64_t cr4)
{
	return (cr0 & CR0_PG) && (cr4 & CR4_PAE) && !long_mode_active();
}

static void set_long_mode_active(struct vcpu *v, bool active)
{
	uint64_t efer = vmread(VMCS_GUEST_EFER);

	efer = active ? (efer | EFER_LMA) : (efer & ~EFER_LMA);
	vmwrite(VMCS_GUEST_EFER, efer);
	v->entry_controls = active ? (v->entry_controls | ENTRY_IA32E_MODE_GUEST)
				   : (v->entry_controls & ~ENTRY_IA32E_MODE_GUEST);
	vmwrite(VMCS_ENTRY_CONTROLS, v->entry_controls);
}

/* Unintercepted CR0 bits change without an exit: the guest's CR0 is the real one outside the mask. */
static uint64_t guest_cr0(void)
{
	uint64_t mask = vmread(VMCS_CR0_GUEST_HOST_MASK);

	return (vmread(VMCS_GUEST_CR0) & ~mask) | (vmread(VMCS_CR0_READ_SHADOW) & mask);
}

/* Returns false when the write must fault with #GP(0). */
static bool guest_write_cr0(struct vcpu *v, uint64_t value)
{
	uint64_t old = guest_cr0(), cr4 = vmread(VMCS_CR4_READ_SHADOW);
	uint64_t efer = vmread(VMCS_GUEST_EFER);

	if (value >> 32)
		return false;
	if ((value & CR0_PG) && !(value & CR0_PE))
		return false;
	if ((value & CR0_NW) && !(value & CR0_CD))
		return false;
	if (!(old & CR0_PG) && (value & CR0_PG) && (efer & EFER_LME)) {
		/* Activating IA-32e mode needs PAE and a 32-bit CS (SDM 10.8.5). */
		if (!(cr4 & CR4_PAE) || (vmread(VMCS_GUEST_CS_AR) & (1u << 13)))
			return false;
		set_long_mode_active(v, true);
	} else if ((old & CR0_PG) && !(value & CR0_PG) && long_mode_active()) {
		set_long_mode_active(v, false);
	}
	if (pae_paging(value, cr4) && !(old & CR0_PG) && !load_pae_pdptes(v, vmread(VMCS_GUEST_CR3)))
		return false;
	vmwrite(VMCS_CR0_READ_SHADOW, value);
	vmwrite(VMCS_GUEST_CR0, vcpu_real_cr0(value));
	if ((old ^ value) & (CR0_PG | CR0_WP))
		vmx_invalidate_vpid(v->vpid);
	return true;
}

static uint64_t cr4_allowed(void)
{
	struct cpuid_policy policy = guest_cpuid_policy();
	struct cpuid_regs leaf7 = cpuid(7, 0);

	cpuid_apply_policy(7, 0, &leaf7, &policy);
	return guest_cr4_allowed(&leaf7, vmx_config()->cr4_fixed1);
}

static bool guest_write_cr4(struct vcpu *v, uint64_t value)
{
	uint64_t old = vmread(VMCS_CR4_READ_SHADOW), cr0 = guest_cr0();

	/* Reserved bits and hidden features (VMXE, SMXE, PKE, LA57, OSXSAVE, PCIDE) fault. */
	if (value & ~cr4_allowed())
		return false;
	if (long_mode_active() && !(value & CR4_PAE))
		return false;
	if (pae_paging(cr0, value) && ((old ^ value) & (CR4_PAE | CR4_PSE | CR4_PGE | CR4_SMEP)) &&
	    !load_pae_pdptes(v, vmread(VMCS_GUEST_CR3)))
		return false;
	vmwrite(VMCS_CR4_READ_SHADOW, value);
	vmwrite(VMCS_GUEST_CR4, vcpu_real_cr4(value));
	if ((old ^ value) & (CR4_PAE | CR4_PSE | CR4_PGE | CR4_SMEP | CR4_SMAP))
		vmx_invalidate_vpid(v->vpid);
	return true;
}

void handle_cr_access(struct vcpu *v)
{
	uint64_t q = vmread(VMCS_EXIT_QUALIFICATION);
	unsigned cr = q & 15, type = (q >> 4) & 3, gpr = (q >> 8) & 15;
	bool ok = true;

	switch (type) {
	case CR_ACCESS_MOV_TO:
		if (cr == 0)
			ok = guest_write_cr0(v, vcpu_gpr(v, gpr));
		else if (cr == 4)
			ok = guest_write_cr4(v, vcpu_gpr(v, gpr));
		else
			goto unexpected;
		break;
	case CR_ACCESS_MOV_FROM:
		if (cr == 0)
			vcpu_set_gpr(v, gpr, guest_cr0());
		else if (cr == 4)
			vcpu_set_gpr(v, gpr, vmread(VMCS_CR4_READ_SHADOW));
		else
			goto unexpected;
		break;
	case CR_ACCESS_CLTS:
		ok = guest_write_cr0(v, guest_cr0() & ~CR0_TS);
		break;
	case CR_ACCESS_LMSW: {
		/* LMSW writes MP, EM, TS and can set PE but never clear it. */
		uint64_t old = guest_cr0(), src = (q >> 16) & 0xf;

		ok = guest_write_cr0(v, (old & ~0xeull) | src | (old & CR0_PE));
		break;
	}
	}
	if (!ok) {
		vcpu_inject_gp(v);
		return;
	}
	vcpu_skip_instruction(v);
	return;
unexpected:
	vm_end(v->vm, VMM_STATUS_GUEST_UNHANDLED, "unexpected CR%u access (qualification %#lx)", cr,
	       q);
}
