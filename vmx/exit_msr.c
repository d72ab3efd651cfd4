/* RDMSR/WRMSR: the MSRs a multiboot kernel touches, each with the #GP rules of the SDM; any other MSR faults. */
#include "vmx/cpuid_policy.h"
#include "vmx/exits.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs_fields.h"
#include "vmx/vmx.h"
#include "vmx/vmx_ops.h"
#include "vmm/log.h"
#include "vmm/x86.h"

#define MSR_TSC			0x10
#define MSR_APIC_BASE		0x1b
#define MSR_FEATURE_CONTROL	0x3a
#define MSR_SYSENTER_CS		0x174
#define MSR_SYSENTER_ESP	0x175
#define MSR_SYSENTER_EIP	0x176
#define MSR_PAT			0x277
#define MSR_EFER		0xc0000080
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_CSTAR		0xc0000083
#define MSR_SFMASK		0xc0000084
#define MSR_FS_BASE		0xc0000100
#define MSR_GS_BASE		0xc0000101
#define MSR_KERNEL_GS_BASE	0xc0000102

#define APIC_BASE_BSP		(1ull << 8)
#define APIC_BASE_ENABLE	(1ull << 11)
#define CPUID_80000001_EDX_NX	(1u << 20)
#define CPUID_80000001_EDX_LM	(1u << 29)

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static bool is_canonical(uint64_t addr)
{
	return (uint64_t)(((int64_t)addr << 16) >> 16) == addr;
}

/* Each byte of PAT must name a memory type: 0 UC, 1 WC, 4 WT, 5 WP, 6 WB, 7 UC-. */
static bool valid_pat(uint64_t pat)
{
	int i;

	for (i = 0; i < 8; i++) {
		uint8_t t = (uint8_t)(pat >> (8 * i));

		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

static bool write_efer(struct vcpu *v, uint64_t value)
{
	uint32_t ext = cpuid(0x80000001, 0).edx;
	uint64_t allowed = EFER_SCE | EFER_LMA, old = vcpu_efer(v);

	if (ext & CPUID_80000001_EDX_NX)
		allowed |= EFER_NXE;
	if (ext & CPUID_80000001_EDX_LM)
		allowed |= EFER_LME;
	if (value & ~allowed)
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
	switch (msr) {
	case MSR_TSC:
		*value = rdtsc() + vmread(VMCS_TSC_OFFSET);
		return true;
	case MSR_APIC_BASE:
		*value = v->apic_base;
		return true;
	case MSR_FEATURE_CONTROL:
		*value = 1;	/* locked, VMX off: VT-x is not offered to the guest */
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
	switch (msr) {
	case MSR_TSC:
		if (vmx_config()->proc & PROC_TSC_OFFSETTING)
			vmwrite(VMCS_TSC_OFFSET, value - rdtsc());
		return true;
	case MSR_APIC_BASE:
		if (value & ~((((1ull << vmx_caps()->maxphyaddr) - 1) & ~0xfffull) |
			      APIC_BASE_ENABLE | APIC_BASE_BSP))
			return false;
		v->apic_base = value;
		return true;
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
		if (!is_canonical(value))
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
		if (!valid_pat(value))
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

/* The syscall MSRs are shared with the host CPU: every guest starts from zero, as after reset. */
void vmx_reset_guest_msrs(void)
{
	static const uint32_t shared[] = { MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK,
					   MSR_KERNEL_GS_BASE };
	unsigned i;

	for (i = 0; i < sizeof(shared) / sizeof(shared[0]); i++)
		wrmsr(shared[i], 0);
}
