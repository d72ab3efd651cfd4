/* cpuid_apply_policy(): the guest-visible CPUID, one leaf at a time, from allow-lists of virtualised features. */
#include "vmx/cpuid_policy.h"

#define BIT(n) (1u << (n))

/*
 * Allow-lists: a feature bit reaches the guest only if it is named here,
 * so a bit a newer CPU adds stays hidden until someone checks that the
 * VMM virtualises it.  What each list leaves out, and why:
 *  leaf 1 EDX: MTRR (no MTRR MSRs), PSN, DS, ACPI (thermal MSRs), HTT (one
 *    vCPU), TM, PBE.
 *  leaf 1 ECX: DTES64, MONITOR, DS-CPL, VMX, SMX, EIST, TM2, CNXT-ID, SDBG,
 *    FMA and F16C (VEX/AVX state), xTPR, PDCM, PCID, DCA, x2APIC and the
 *    TSC deadline (not emulated), XSAVE, OSXSAVE, AVX.
 *  leaf 7.0: SGX, AVX2, MPX, AVX-512, Intel PT, RDT, PKU, WAITPKG, CET,
 *    LA57, VAES/VPCLMULQDQ, Key Locker, ENQCMD, PKS, AMX, UINTR, and every
 *    speculation-control MSR (IBRS, STIBP, L1D flush, ARCH/CORE_CAPABILITIES,
 *    SSBD).  TSC_ADJUST with TSC offsetting, INVPCID and RDPID as the VMX
 *    controls allow.
 */
#define L1D_ALLOWED	(BIT(0) | BIT(1) | BIT(2) | BIT(3) | BIT(4) | BIT(5) | BIT(6) | BIT(7) |   \
			 BIT(8) | BIT(9) | BIT(11) | BIT(13) | BIT(14) | BIT(15) | BIT(16) |     \
			 BIT(17) | BIT(19) | BIT(23) | BIT(24) | BIT(25) | BIT(26) | BIT(27))
#define L1C_ALLOWED	(BIT(0) | BIT(1) | BIT(9) | BIT(13) | BIT(19) | BIT(20) | BIT(22) |     \
			 BIT(23) | BIT(25) | BIT(30))
#define L1C_HYPERVISOR	BIT(31)
#define L7B_TSC_ADJUST	BIT(1)
#define L7B_INVPCID	BIT(10)
#define L7B_ALLOWED	(BIT(0) | BIT(3) | BIT(4) | BIT(6) | BIT(7) | BIT(8) | BIT(9) | BIT(11) |  \
			 BIT(13) | BIT(18) | BIT(19) | BIT(20) | BIT(23) | BIT(24) | BIT(29))
#define L7C_RDPID	BIT(22)
#define L7C_ALLOWED	(BIT(0) | BIT(2) | BIT(8) | BIT(25) | BIT(27) | BIT(28))
#define L7D_ALLOWED	(BIT(4) | BIT(10) | BIT(14))
#define LX1C_ALLOWED	(BIT(0) | BIT(5) | BIT(8))	/* LAHF/SAHF, LZCNT, PREFETCHW */
#define LX1D_RDTSCP	BIT(27)
#define LX1D_ALLOWED	(BIT(11) | BIT(20) | BIT(26) | BIT(29))	/* SYSCALL, NX, 1 GiB pages, LM */
#define LX7D_INVARIANT_TSC BIT(8)
#define L6A_ARAT	BIT(2)

/* Leaf 1 EDX and leaf 7.0 bits that gate CR4 bits. */
#define L1D_VME		BIT(1)
#define L1D_DE		BIT(2)
#define L1D_PSE		BIT(3)
#define L1D_PAE		BIT(6)
#define L1D_MCE		BIT(7)
#define L1D_PGE		BIT(13)
#define L1D_FXSR	BIT(24)
#define L1D_SSE		BIT(25)
#define L7B_FSGSBASE	BIT(0)
#define L7B_SMEP	BIT(7)
#define L7B_SMAP	BIT(20)
#define L7C_UMIP	BIT(2)

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

static void zero(struct cpuid_regs *r)
{
	r->eax = r->ebx = r->ecx = r->edx = 0;
}

void cpuid_apply_policy(uint32_t leaf, uint32_t subleaf, struct cpuid_regs *r,
			const struct cpuid_policy *p)
{
	if ((leaf & 0xffffff00u) == HYPERVISOR_LEAF_BASE) {
		hypervisor_leaf(leaf, r);
		return;
	}
	switch (leaf) {
	case 0:		/* the host's highest leaf and vendor: leaves the lists below do not know read zero */
	case 2:		/* cache and TLB descriptors */
	case 0x15:	/* TSC / core crystal clock ratio */
	case 0x16:	/* processor frequencies */
		break;
	case 1:
		/* Initial APIC ID 0 (vCPU 0), one logical processor; brand index and CLFLUSH size kept. */
		r->ebx = (r->ebx & 0x0000ffffu) | (1u << 16);
		r->ecx = (r->ecx & L1C_ALLOWED) | L1C_HYPERVISOR;
		r->edx &= L1D_ALLOWED;
		break;
	case 4:		/* deterministic cache parameters: one core, no cache shared with another vCPU */
		r->eax &= 0x3fffu;
		break;
	case 6:		/* thermal and power: only "APIC timer always running" (no thermal or HWP MSRs) */
		r->eax &= L6A_ARAT;
		r->ebx = r->ecx = r->edx = 0;
		break;
	case 7:
		if (subleaf != 0) {
			zero(r);
			break;
		}
		r->eax = 0;	/* no further subleaves */
		r->ebx &= L7B_ALLOWED | (p->tsc_offsetting ? L7B_TSC_ADJUST : 0) |
			  (p->invpcid ? L7B_INVPCID : 0);
		/* RDPID reads IA32_TSC_AUX: it raises #UD in VMX non-root mode without "enable RDTSCP". */
		r->ecx &= L7C_ALLOWED | (p->rdtscp ? L7C_RDPID : 0);
		r->edx &= L7D_ALLOWED;
		break;
	case 0xb:	/* topology: levels as the host has them, x2APIC ID 0 */
	case 0x1f:
		r->edx = 0;
		break;
	case 0x80000000:
	case 0x80000002:	/* brand string */
	case 0x80000003:
	case 0x80000004:
	case 0x80000006:	/* L2 cache */
		break;
	case 0x80000001:
		r->eax = r->ebx = 0;
		r->ecx &= LX1C_ALLOWED;
		r->edx &= LX1D_ALLOWED | (p->rdtscp ? LX1D_RDTSCP : 0);
		break;
	case 0x80000007:
		r->eax = r->ebx = r->ecx = 0;
		r->edx &= LX7D_INVARIANT_TSC;
		break;
	case 0x80000008:	/* address sizes only (EBX would offer WBNOINVD and speculation controls) */
		r->eax &= 0xffffu;
		r->ebx = r->ecx = r->edx = 0;
		break;
	default:
		/* 3 (serial number), 5 (MONITOR), 0xa (PMU), 0xd (XSAVE), RDT, SGX, PT, ...: nothing offered. */
		zero(r);
		break;
	}
}

uint64_t guest_cr4_allowed(const struct cpuid_regs *leaf1, const struct cpuid_regs *leaf7,
			   uint64_t cr4_fixed1)
{
	/* TSD and PCE need no feature bit; VMXE, SMXE, PCIDE, OSXSAVE, PKE, LA57, CET are never offered. */
	uint64_t allowed = CR4_TSD | CR4_PCE;

	if (leaf1->edx & L1D_VME)
		allowed |= CR4_VME | CR4_PVI;
	if (leaf1->edx & L1D_DE)
		allowed |= CR4_DE;
	if (leaf1->edx & L1D_PSE)
		allowed |= CR4_PSE;
	if (leaf1->edx & L1D_PAE)
		allowed |= CR4_PAE;
	if (leaf1->edx & L1D_MCE)
		allowed |= CR4_MCE;
	if (leaf1->edx & L1D_PGE)
		allowed |= CR4_PGE;
	if (leaf1->edx & L1D_FXSR)
		allowed |= CR4_OSFXSR;
	if (leaf1->edx & L1D_SSE)
		allowed |= CR4_OSXMMEXCPT;
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
