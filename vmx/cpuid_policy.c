/* cpuid_apply_policy(): the guest-visible CPUID, one leaf at a time. */
#include "vmx/cpuid_policy.h"

#define BIT(n) (1u << (n))

/* Leaf 1 ECX */
#define L1C_MONITOR	BIT(3)
#define L1C_VMX		BIT(5)
#define L1C_SMX		BIT(6)
#define L1C_PCID	BIT(17)
#define L1C_X2APIC	BIT(21)
#define L1C_TSC_DEADLINE BIT(24)
#define L1C_XSAVE	BIT(26)
#define L1C_OSXSAVE	BIT(27)
#define L1C_AVX		BIT(28)
#define L1C_HYPERVISOR	BIT(31)
/* Leaf 7.0 */
#define L7B_FSGSBASE	BIT(0)
#define L7B_AVX2	BIT(5)
#define L7B_SMEP	BIT(7)
#define L7B_INVPCID	BIT(10)
#define L7B_MPX		BIT(14)
#define L7B_AVX512	(BIT(16) | BIT(17) | BIT(21) | BIT(26) | BIT(27) | BIT(28) | BIT(30) | BIT(31))
#define L7B_SMAP	BIT(20)
#define L7C_UMIP	BIT(2)
#define L7C_PKU		BIT(3)
#define L7C_OSPKE	BIT(4)
#define L7C_WAITPKG	BIT(5)
#define L7C_CET_SS	BIT(7)
#define L7C_LA57	BIT(16)
#define L7D_AVX512	(BIT(2) | BIT(3) | BIT(8) | BIT(23))
#define L7D_CET_IBT	BIT(20)
/* Leaf 0x80000001 EDX */
#define LX1D_RDTSCP	BIT(27)

#define CR4_VME		(1ull << 0)
#define CR4_PVI		(1ull << 1)
#define CR4_TSD		(1ull << 2)
#define CR4_DE		(1ull << 3)
#define CR4_PSE		(1ull << 4)
#define CR4_PAE		(1ull << 5)
#define CR4_MCE		(1ull << 6)
#define CR4_PGE		(1ull << 7)
#define CR4_PCE		(1ull << 8)
#define CR4_OSFXSR	(1ull << 9)
#define CR4_OSXMMEXCPT	(1ull << 10)
#define CR4_UMIP	(1ull << 11)
#define CR4_FSGSBASE	(1ull << 16)
#define CR4_SMEP	(1ull << 20)
#define CR4_SMAP	(1ull << 21)

static void hypervisor_leaf(uint32_t leaf, struct cpuid_regs *r)
{
	const char *sig = HYPERVISOR_SIGNATURE;

	r->eax = r->ebx = r->ecx = r->edx = 0;
	if (leaf != HYPERVISOR_LEAF_BASE)
		return;
	r->eax = HYPERVISOR_LEAF_BASE;	/* the highest hypervisor leaf */
	__builtin_memcpy(&r->ebx, sig, 4);
	__builtin_memcpy(&r->ecx, sig + 4, 4);
	__builtin_memcpy(&r->edx, sig + 8, 4);
}

void cpuid_apply_policy(uint32_t leaf, uint32_t subleaf, struct cpuid_regs *r,
			const struct cpuid_policy *p)
{
	if ((leaf & 0xffffff00u) == HYPERVISOR_LEAF_BASE) {
		hypervisor_leaf(leaf, r);
		return;
	}
	switch (leaf) {
	case 1:
		r->ebx &= 0x00ffffffu;	/* initial APIC ID 0: vCPU 0 */
		r->ecx &= ~(L1C_MONITOR | L1C_VMX | L1C_SMX | L1C_PCID | L1C_X2APIC |
			    L1C_TSC_DEADLINE | L1C_XSAVE | L1C_OSXSAVE | L1C_AVX);
		r->ecx |= L1C_HYPERVISOR;
		break;
	case 5:		/* MONITOR/MWAIT */
	case 0xa:	/* architectural PMU */
	case 0xd:	/* XSAVE state components */
		r->eax = r->ebx = r->ecx = r->edx = 0;
		break;
	case 7:
		if (subleaf != 0) {
			r->eax = r->ebx = r->ecx = r->edx = 0;
			break;
		}
		r->eax = 0;	/* no further subleaves */
		r->ebx &= ~(L7B_AVX2 | L7B_MPX | L7B_AVX512 | (p->invpcid ? 0 : L7B_INVPCID));
		r->ecx &= ~(L7C_PKU | L7C_OSPKE | L7C_WAITPKG | L7C_CET_SS | L7C_LA57);
		r->edx &= ~(L7D_AVX512 | L7D_CET_IBT);
		break;
	case 0x80000001:
		if (!p->rdtscp)
			r->edx &= ~LX1D_RDTSCP;
		break;
	default:
		break;
	}
}

uint64_t guest_cr4_allowed(const struct cpuid_regs *leaf7, uint64_t cr4_fixed1)
{
	uint64_t allowed = CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE |
			   CR4_PGE | CR4_PCE | CR4_OSFXSR | CR4_OSXMMEXCPT;

	if (leaf7->ecx & L7C_UMIP)
		allowed |= CR4_UMIP;
	if (leaf7->ebx & L7B_FSGSBASE)
		allowed |= CR4_FSGSBASE;
	if (leaf7->ebx & L7B_SMEP)
		allowed |= CR4_SMEP;
	if (leaf7->ebx & L7B_SMAP)
		allowed |= CR4_SMAP;
	/* Bits the CPU cannot run a guest with (CR4_FIXED1 = 0) are never offered. */
	return allowed & cr4_fixed1;
}
