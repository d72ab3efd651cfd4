/* What the guest's CPUID says: a pure filter over the host's answer (hosted-testable). */
#ifndef VMX_CPUID_POLICY_H
#define VMX_CPUID_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include "vmm/cpuid_regs.h"

#define HYPERVISOR_LEAF_BASE	0x40000000u
#define HYPERVISOR_SIGNATURE	"FreestandVMM"	/* EBX, ECX, EDX of leaf 0x40000000 */

/* Features whose exposure depends on the CPU's VMX controls. */
struct cpuid_policy {
	bool rdtscp;
	bool invpcid;
};

/*
 * Every feature bit left set is one the VMM virtualises; what it hides also
 * faults when used (the CR4 and MSR handlers check against the same bits).
 * Hidden: VMX and SMX, MONITOR/MWAIT, XSAVE and everything built on it
 * (AVX, AVX2, AVX-512, MPX, CET), PCID/INVPCID, x2APIC and the TSC
 * deadline (no local APIC yet), PKU, LA57, WAITPKG, the PMU.
 */
void cpuid_apply_policy(uint32_t leaf, uint32_t subleaf, struct cpuid_regs *r,
			const struct cpuid_policy *p);

/* The CR4 bits a guest may set, given the guest's CPUID leaf 7.0 and the CPU's CR4_FIXED1. */
uint64_t guest_cr4_allowed(const struct cpuid_regs *leaf7, uint64_t cr4_fixed1);

/* The policy this CPU's VMX controls allow (vmx/exit_cpuid.c). */
struct cpuid_policy guest_cpuid_policy(void);

#endif
