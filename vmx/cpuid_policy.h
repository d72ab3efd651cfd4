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
	bool rdtscp;		/* "enable RDTSCP": RDTSCP and RDPID */
	bool invpcid;		/* "enable INVPCID" (and PCIDs, which are never offered: INVPCID stays hidden) */
	bool tsc_offsetting;	/* writes to the TSC and IA32_TSC_ADJUST need it */
};

/*
 * Every feature bit left set is one the VMM virtualises (an allow-list per
 * register, see vmx/cpuid_policy.c); what it hides also faults when used
 * (the CR4 and MSR handlers check against the same guest CPUID).  Hidden
 * among others: VMX and SMX, MONITOR/MWAIT, XSAVE and everything built on
 * it (AVX, FMA, F16C, AVX2, AVX-512, MPX, CET, AMX), PCID/INVPCID, x2APIC
 * and the TSC deadline, MTRR, PKU, LA57, WAITPKG, the PMU, DS, PT, RDT,
 * SGX, the speculation-control MSRs.  Leaves it does not know read zero.
 */
void cpuid_apply_policy(uint32_t leaf, uint32_t subleaf, struct cpuid_regs *r,
			const struct cpuid_policy *p);

/*
 * The CR4 bits a guest may set, given the guest's CPUID leaves 1 and 7.0
 * and the CPU's CR4_FIXED1: the bit of a feature CPUID does not show is
 * reserved (#GP), as are VMXE, SMXE, PCIDE, OSXSAVE, PKE, LA57 and CET.
 */
uint64_t guest_cr4_allowed(const struct cpuid_regs *leaf1, const struct cpuid_regs *leaf7,
			   uint64_t cr4_fixed1);

/* The policy this CPU's VMX controls allow (vmx/exit_cpuid.c). */
struct cpuid_policy guest_cpuid_policy(void);

/* One leaf as the guest sees it on this CPU (vmx/exit_cpuid.c). */
struct cpuid_regs guest_cpuid(uint32_t leaf, uint32_t subleaf);

#endif
