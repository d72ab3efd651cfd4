/* RDMSR/WRMSR: the MSRs a multiboot kernel touches, each with the #GP rules of the SDM; any other MSR faults. */
#include "vmx/cpuid_policy.h"
#include "vmx/exits.h"
#include "vmx/msr_policy.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs_fields.h"
#include "vmx/vmx.h"
#include "vmx/vmx_ops.h"
#include "vmm/log.h"
#include "vmm/x86.h"

/*
 * MSR state the VMCS does not hold.  One vCPU runs at a time and
 * vmx_reset_guest_msrs() starts every guest afresh, so it lives here
 * rather than in struct vcpu.
 */
static struct {
	uint64_t misc_enable;
	uint64_t mcg_status, mcg_ctl;
	uint64_t mc[MCE_BANKS][4];	/* CTL, STATUS, ADDR, MISC */
} guest_msrs;

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* The guest CPUID bits the MSR rules depend on: what is hidden there faults here. */
static struct msr_features guest_msr_features(void)
{
	struct msr_features f = {
		.leaf1_edx = guest_cpuid(1, 0).edx,
		.leaf7_ebx = guest_cpuid(7, 0).ebx,
		.ext1_edx = guest_cpuid(0x80000001, 0).edx,
	};
	return f;
}

static bool tsc_offsetting(void)
{
	return vmx_config()->proc & PROC_TSC_OFFSETTING;
}

static bool write_efer(struct vcpu *v, uint64_t value)
{
	struct msr_features f = guest_msr_features();
	uint64_t old = vcpu_efer(v);

	if (value & ~msr_efer_writable(&f))
		return false;
	/* LME cannot change while paging is on (SDM 10.8.5). */
	if ((vcpu_cr0(v) & CR0_PG) && ((old ^ value) & EFER_LME))
		return false;
	/* LMA is the CPU's to set: keep the current value. */
	vcpu_set_efer(v, (value & ~EFER_LMA) | (old & EFER_LMA));
	vcpu_paging_changed(v, (old ^ value) & EFER_NXE);
	return true;
}

static bool read_msr(struct vcpu *v, uint32_t msr, uint64_t *value)
{
	struct msr_features f = guest_msr_features();
	unsigned bank, reg;

	if (msr_mca_offered(&f) && msr_mc_bank_decode(msr, &bank, &reg)) {
		*value = guest_msrs.mc[bank][reg];
		return true;
	}
	switch (msr) {
	case MSR_TSC:
		*value = rdtsc() + vmread(VMCS_TSC_OFFSET);
		return true;
	case MSR_APIC_BASE:
		*value = lapic_base_msr(&v->vm->lapic);
		return true;
	case MSR_FEATURE_CONTROL:
		*value = 1;	/* locked, VMX off: VT-x is not offered to the guest */
		return true;
	case MSR_TSC_ADJUST:
		if (!msr_tsc_adjust_offered(&f))
			return false;
		/* The guest's TSC starts as the host's (offset 0) and TSC_ADJUST at 0: every TSC and
		 * TSC_ADJUST write moves both by the same amount, so TSC_ADJUST is the offset (SDM 18.17.3). */
		*value = vmread(VMCS_TSC_OFFSET);
		return true;
	case MSR_MISC_ENABLE:
		*value = guest_msrs.misc_enable;
		return true;
	case MSR_MCG_CAP:
		if (!msr_mca_offered(&f))
			return false;
		*value = msr_mcg_cap();
		return true;
	case MSR_MCG_STATUS:
		if (!msr_mca_offered(&f))
			return false;
		*value = guest_msrs.mcg_status;
		return true;
	case MSR_MCG_CTL:
		if (!msr_mca_offered(&f) || !(msr_mcg_cap() & MCG_CTL_P))
			return false;
		*value = guest_msrs.mcg_ctl;
		return true;
	case MSR_SYSENTER_CS:
		*value = vmread(VMCS_GUEST_SYSENTER_CS);
		return true;
	case MSR_SYSENTER_ESP:
		*value = vmread(VMCS_GUEST_SYSENTER_ESP);
		return true;
	case MSR_SYSENTER_EIP:
		*value = vmread(VMCS_GUEST_SYSENTER_EIP);
		return true;
	case MSR_PAT:
		*value = vmread(VMCS_GUEST_PAT);
		return true;
	case MSR_EFER:
		*value = vcpu_efer(v);
		return true;
	case MSR_FS_BASE:
		*value = vmread(VMCS_GUEST_FS_BASE);
		return true;
	case MSR_GS_BASE:
		*value = vmread(VMCS_GUEST_GS_BASE);
		return true;
	/* The host never uses SYSCALL or SWAPGS: these live in the real MSRs while a guest runs. */
	case MSR_STAR:
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_SFMASK:
	case MSR_KERNEL_GS_BASE:
		*value = rdmsr(msr);
		return true;
	default:
		return false;
	}
}

static bool write_msr(struct vcpu *v, uint32_t msr, uint64_t value)
{
	struct msr_features f = guest_msr_features();
	unsigned bank, reg;

	if (msr_mca_offered(&f) && msr_mc_bank_decode(msr, &bank, &reg)) {
		if (!msr_mc_write_ok(reg, value))
			return false;
		guest_msrs.mc[bank][reg] = value;
		return true;
	}
	switch (msr) {
	case MSR_TSC:
		/* Without TSC offsetting the guest's TSC is the host's: the write is dropped. */
		if (tsc_offsetting())
			vmwrite(VMCS_TSC_OFFSET, value - rdtsc());
		return true;
	case MSR_TSC_ADJUST:
		/* Offered only with TSC offsetting: the TSC moves by what TSC_ADJUST moves. */
		if (!msr_tsc_adjust_offered(&f))
			return false;
		vmwrite(VMCS_TSC_OFFSET, value);
		return true;
	case MSR_MISC_ENABLE:
		if (!msr_misc_enable_write_ok(guest_msrs.misc_enable, value))
			return false;
		guest_msrs.misc_enable = value;
		return true;
	case MSR_MCG_STATUS:
		if (!msr_mca_offered(&f) || (value & ~MCG_STATUS_BITS))
			return false;
		guest_msrs.mcg_status = value;
		return true;
	case MSR_MCG_CTL:
		if (!msr_mca_offered(&f) || !(msr_mcg_cap() & MCG_CTL_P) ||
		    !msr_mc_write_ok(MC_REG_CTL, value))
			return false;
		guest_msrs.mcg_ctl = value;
		return true;
	case MSR_APIC_BASE:
		/* devices/lapic.c: reserved bits, EXTD (x2APIC hidden) and moving the base give #GP. */
		return lapic_write_base_msr(&v->vm->lapic, value, vmx_caps()->maxphyaddr);
	case MSR_SYSENTER_CS:
		vmwrite(VMCS_GUEST_SYSENTER_CS, value & 0xffffffffull);
		return true;
	case MSR_SYSENTER_ESP:
	case MSR_SYSENTER_EIP:
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_KERNEL_GS_BASE:
		if (!msr_canonical(value))
			return false;
		if (msr == MSR_SYSENTER_ESP)
			vmwrite(VMCS_GUEST_SYSENTER_ESP, value);
		else if (msr == MSR_SYSENTER_EIP)
			vmwrite(VMCS_GUEST_SYSENTER_EIP, value);
		else if (msr == MSR_FS_BASE)
			vmwrite(VMCS_GUEST_FS_BASE, value);
		else if (msr == MSR_GS_BASE)
			vmwrite(VMCS_GUEST_GS_BASE, value);
		else
			wrmsr(msr, value);
		return true;
	case MSR_STAR:
	case MSR_SFMASK:
		wrmsr(msr, msr == MSR_SFMASK ? value & 0xffffffffull : value);
		return true;
	case MSR_PAT:
		if (!msr_pat_valid(value))
			return false;
		vmwrite(VMCS_GUEST_PAT, value);
		return true;
	case MSR_EFER:
		return write_efer(v, value);
	default:
		return false;
	}
}

void handle_rdmsr(struct vcpu *v)
{
	uint32_t msr = (uint32_t)v->regs.rcx;
	uint64_t value;

	if (!read_msr(v, msr, &value)) {
		log_debug("vmm: guest %s: rdmsr %#x: not emulated, #GP\n", v->vm->name, msr);
		vcpu_inject_gp(v);
		return;
	}
	v->regs.rax = (uint32_t)value;
	v->regs.rdx = value >> 32;
	vcpu_skip_instruction(v);
}

void handle_wrmsr(struct vcpu *v)
{
	uint32_t msr = (uint32_t)v->regs.rcx;
	uint64_t value = ((v->regs.rdx & 0xffffffffull) << 32) | (v->regs.rax & 0xffffffffull);

	if (!write_msr(v, msr, value)) {
		log_debug("vmm: guest %s: wrmsr %#x <- %#lx: #GP\n", v->vm->name, msr, value);
		vcpu_inject_gp(v);
		return;
	}
	vcpu_skip_instruction(v);
}

/*
 * The syscall MSRs are shared with the host CPU: every guest starts from
 * zero, as after reset.  The emulated ones start as after reset too:
 * MISC_ENABLE as documented in vmx/msr_policy.h, MCG_CTL and every
 * MCi_CTL all ones (every error reported), the rest zero.
 */
void vmx_reset_guest_msrs(void)
{
	static const uint32_t shared[] = { MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK,
					   MSR_KERNEL_GS_BASE };
	unsigned i;

	__builtin_memset(&guest_msrs, 0, sizeof(guest_msrs));
	guest_msrs.misc_enable = MISC_ENABLE_INITIAL;
	guest_msrs.mcg_ctl = ~0ull;
	for (i = 0; i < MCE_BANKS; i++)
		guest_msrs.mc[i][MC_REG_CTL] = ~0ull;

	for (i = 0; i < sizeof(shared) / sizeof(shared[0]); i++)
		wrmsr(shared[i], 0);
}
