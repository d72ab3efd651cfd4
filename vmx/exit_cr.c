/* Control-register exits: CR0, CR3 and CR4 accesses checked as the SDM says, EFER.LMA and PAE PDPTEs kept right. */
#include "vmx/cpuid_policy.h"
#include "vmx/caps.h"
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

#define TSS16_BUSY_TYPE		3

static bool pae_paging(struct vcpu *v, uint64_t cr0, uint64_t cr4)
{
	return (cr0 & CR0_PG) && (cr4 & CR4_PAE) && !vcpu_long_mode_active(v);
}

static void set_long_mode_active(struct vcpu *v, bool active)
{
	uint64_t efer = vcpu_efer(v);

	vcpu_set_efer(v, active ? (efer | EFER_LMA) : (efer & ~EFER_LMA));
	v->entry_controls = active ? (v->entry_controls | ENTRY_IA32E_MODE_GUEST)
				   : (v->entry_controls & ~ENTRY_IA32E_MODE_GUEST);
	vmwrite(VMCS_ENTRY_CONTROLS, v->entry_controls);
}

/* Returns false when the write must fault with #GP(0). */
static bool guest_write_cr0(struct vcpu *v, uint64_t value)
{
	uint64_t old = vcpu_cr0(v), cr4 = vcpu_cr4(v);

	if (value >> 32)
		return false;
	if ((value & CR0_PG) && !(value & CR0_PE))
		return false;
	if ((value & CR0_NW) && !(value & CR0_CD))
		return false;
	if (v->shadow && !(value & CR0_PE)) {
		/*
		 * Real mode without unrestricted guest would need a vm86 monitor,
		 * which the VMM does not have: the guest ends here, before any
		 * entry with CR0.PE clear could fail.
		 */
		vm_end(v->vm, VMM_STATUS_GUEST_UNHANDLED,
		       "refused: real mode (the guest cleared CR0.PE, CR0 %#lx) needs unrestricted guest, %s", value,
		       vmx_config()->ept_supported ? "which mmu=shadow does not use; mmu=ept runs it"
						   : "which this CPU lacks");
		return true;
	}
	if (!(old & CR0_PG) && (value & CR0_PG) && (vcpu_efer(v) & EFER_LME)) {
		/* Activating IA-32e mode needs PAE, a 32-bit CS and a 32-bit TSS in TR (SDM 10.8.5; IA-32e has no 16-bit TSS). */
		if (!(cr4 & CR4_PAE) || (vmread(VMCS_GUEST_CS_AR) & SEG_AR_LONG) ||
		    (vmread(VMCS_GUEST_TR_AR) & 0xf) <= TSS16_BUSY_TYPE)
			return false;
		set_long_mode_active(v, true);
	} else if ((old & CR0_PG) && !(value & CR0_PG) && vcpu_long_mode_active(v)) {
		/* Paging goes off only from compatibility mode: 64-bit code cannot turn it off under itself. */
		if (vmread(VMCS_GUEST_CS_AR) & SEG_AR_LONG)
			return false;
		set_long_mode_active(v, false);
	}
	/* Enabling PAE paging, or changing CD/NW/PG while it is on, loads the PDPTEs (SDM 4.4.1). */
	if (pae_paging(v, value, cr4) && ((old ^ value) & (CR0_PG | CR0_CD | CR0_NW)) &&
	    !vcpu_load_pdptes(v, vcpu_cr3(v)))
		return false;
	vcpu_set_cr0(v, value);
	vcpu_paging_changed(v, (old ^ value) & (CR0_PG | CR0_WP));
	return true;
}

/* The CR4 bits of features the guest's CPUID shows; the rest are reserved. */
static uint64_t cr4_allowed(void)
{
	struct cpuid_regs leaf1 = guest_cpuid(1, 0), leaf7 = guest_cpuid(7, 0);

	return guest_cr4_allowed(&leaf1, &leaf7, vmx_config()->cr4_fixed1);
}

static bool guest_write_cr4(struct vcpu *v, uint64_t value)
{
	uint64_t old = vcpu_cr4(v), cr0 = vcpu_cr0(v);
	const uint64_t paging_bits = CR4_PAE | CR4_PSE | CR4_PGE | CR4_SMEP | CR4_SMAP;

	/* Reserved bits and hidden features (VMXE, SMXE, PKE, LA57, OSXSAVE, PCIDE) fault. */
	if (value & ~cr4_allowed())
		return false;
	if (vcpu_long_mode_active(v) && !(value & CR4_PAE))
		return false;
	if (pae_paging(v, cr0, value) && ((old ^ value) & (CR4_PAE | CR4_PSE | CR4_PGE | CR4_SMEP)) &&
	    !vcpu_load_pdptes(v, vcpu_cr3(v)))
		return false;
	vcpu_set_cr4(v, value);
	vcpu_paging_changed(v, (old ^ value) & paging_bits);
	return true;
}

/* MOV to CR3 (exits only in shadow mode, or where the CPU forces CR3-load exiting). */
static bool guest_write_cr3(struct vcpu *v, uint64_t value)
{
	uint64_t cr0 = vcpu_cr0(v), cr4 = vcpu_cr4(v);

	/* PCIDs are hidden, so bit 63 and the bits at and above MAXPHYADDR are reserved (SDM 4.5). */
	if (vcpu_long_mode_active(v) && (value >> vmx_caps()->maxphyaddr))
		return false;
	if (pae_paging(v, cr0, cr4) && !vcpu_load_pdptes(v, value))
		return false;
	vcpu_set_cr3(v, value);
	vcpu_paging_changed(v, true);
	return true;
}

/*
 * MOV to CR8 (64-bit mode only: elsewhere the CPU raises #UD itself) sets
 * the APIC's TPR: TPR[7:4] = CR8[3:0], TPR[3:0] = 0 (SDM 10.8.6.1).  Bits
 * 63:4 are reserved (#GP).  A lower TPR may make an interrupt deliverable:
 * the next VM entry looks.
 */
static bool guest_write_cr8(struct vcpu *v, uint64_t value)
{
	if (value & ~0xfull)
		return false;
	lapic_set_tpr(&v->vm->lapic, (uint8_t)(value << 4));
	return true;
}

/* MOV to CR takes a 64-bit operand only in 64-bit mode; elsewhere the register's upper half is not part of it. */
static uint64_t cr_operand(struct vcpu *v, unsigned gpr)
{
	uint64_t value = vcpu_gpr(v, gpr);

	if (vcpu_in_64bit_mode(v))
		return value;
	return value & 0xffffffffull;
}

void handle_cr_access(struct vcpu *v)
{
	uint64_t q = vmread(VMCS_EXIT_QUALIFICATION);
	unsigned cr = q & 15, type = (q >> 4) & 3, gpr = (q >> 8) & 15;
	bool ok = true;

	switch (type) {
	case CR_ACCESS_MOV_TO:
		if (cr == 0)
			ok = guest_write_cr0(v, cr_operand(v, gpr));
		else if (cr == 3)
			ok = guest_write_cr3(v, cr_operand(v, gpr));
		else if (cr == 4)
			ok = guest_write_cr4(v, cr_operand(v, gpr));
		else if (cr == 8)
			ok = guest_write_cr8(v, vcpu_gpr(v, gpr));
		else
			goto unexpected;
		break;
	case CR_ACCESS_MOV_FROM:
		if (cr == 0)
			vcpu_set_gpr(v, gpr, vcpu_cr0(v));
		else if (cr == 3)
			vcpu_set_gpr(v, gpr, vcpu_cr3(v));
		else if (cr == 4)
			vcpu_set_gpr(v, gpr, vcpu_cr4(v));
		else if (cr == 8)
			vcpu_set_gpr(v, gpr, lapic_tpr(&v->vm->lapic) >> 4);
		else
			goto unexpected;
		break;
	case CR_ACCESS_CLTS:
		ok = guest_write_cr0(v, vcpu_cr0(v) & ~CR0_TS);
		break;
	case CR_ACCESS_LMSW: {
		/* LMSW writes MP, EM, TS and can set PE but never clear it. */
		uint64_t old = vcpu_cr0(v), src = (q >> 16) & 0xf;

		ok = guest_write_cr0(v, (old & ~0xeull) | src | (old & CR0_PE));
		break;
	}
	}
	if (v->vm->ended)
		return;
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
