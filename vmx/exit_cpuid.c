/* CPUID: the host's answer, minus what the VMM does not virtualise, plus the hypervisor leaves. */
#include "vmx/cpuid_policy.h"
#include "vmx/exits.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs_fields.h"
#include "vmx/vmx.h"
#include "vmx/vmx_ops.h"
#include "vmm/x86.h"

struct cpuid_policy guest_cpuid_policy(void)
{
	const struct vmx_config *c = vmx_config();
	struct cpuid_policy p = {
		.rdtscp = c->proc2 & PROC2_ENABLE_RDTSCP,
		.invpcid = false,
		.tsc_offsetting = c->proc & PROC_TSC_OFFSETTING,
	};
	return p;
}

struct cpuid_regs guest_cpuid(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_policy policy = guest_cpuid_policy();
	struct cpuid_regs r = cpuid(leaf, subleaf);

	cpuid_apply_policy(leaf, subleaf, &r, &policy);
	return r;
}

void handle_cpuid(struct vcpu *v)
{
	uint32_t leaf = (uint32_t)v->regs.rax, subleaf = (uint32_t)v->regs.rcx;
	struct cpuid_regs r = guest_cpuid(leaf, subleaf);

	/* CPUID writes 32-bit registers: the upper halves are zeroed as on hardware. */
	v->regs.rax = r.eax;
	v->regs.rbx = r.ebx;
	v->regs.rcx = r.ecx;
	v->regs.rdx = r.edx;
	vcpu_skip_instruction(v);
}
