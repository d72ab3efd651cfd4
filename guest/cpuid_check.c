/* cpuid_check: CPUID is consistent: what it shows works, what it hides faults as on a CPU without it (CR4 bits, MSRs, instructions). */
#include <stdbool.h>
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/string.h"
#include "guest/lib/x86.h"

#define MSR_APIC_BASE		0x1b
#define MSR_MTRRCAP		0xfe
#define MSR_X2APIC_ID		0x802
#define APIC_BASE_EXTD		(1u << 10)

/* CPUID bit locations: leaf, register (0 EAX .. 3 EDX), bit. */
struct feature {
	uint32_t leaf;
	unsigned reg, bit;
};

#define L1_ECX(b)	{ 1, 2, b }
#define L1_EDX(b)	{ 1, 3, b }
#define L7_EBX(b)	{ 7, 1, b }
#define L7_ECX(b)	{ 7, 2, b }
#define L7_EDX(b)	{ 7, 3, b }
#define NONE		{ 0, 0, 0 }	/* reserved CR4 bit: no feature makes it valid */
#define ALWAYS		{ 0, 0, 32 }	/* CR4 bit valid on every CPU that has CR4 */

static bool vmm;

static bool has(struct feature f)
{
	struct cpuid_regs r;
	uint32_t regs[4];

	if (f.bit == 32)
		return true;
	if (f.leaf == 0 || cpuid(0, 0).eax < f.leaf)
		return false;
	r = cpuid(f.leaf, 0);
	regs[0] = r.eax;
	regs[1] = r.ebx;
	regs[2] = r.ecx;
	regs[3] = r.edx;
	return regs[f.reg] & (1u << f.bit);
}

static int write_cr4_safe(uint32_t value)
{
	expect_exception(EXC_GP);
	asm volatile(ASM_TRY("1f") "mov %0, %%cr4\n1:" : : "r"(value) : "memory");
	return exception_seen();
}

static int rdmsr_safe(uint32_t msr)
{
	uint32_t lo = 0, hi = 0;

	expect_exception(EXC_GP);
	asm volatile(ASM_TRY("1f") "rdmsr\n1:" : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
	return exception_seen();
}

static int wrmsr_safe(uint32_t msr, uint64_t value)
{
	expect_exception(EXC_GP);
	asm volatile(ASM_TRY("1f") "wrmsr\n1:"
		     : : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)) : "memory");
	return exception_seen();
}

/*
 * Every CR4 bit: a feature CPUID hides (and a reserved bit) gives #GP and
 * leaves CR4 alone; a feature it shows can be set and cleared (only those
 * that are harmless with paging off at CPL 0).
 */
static void check_cr4(void)
{
	static const struct {
		struct feature f;
		bool try_set;	/* set it when offered */
	} bits[32] = {
		[0] = { L1_EDX(1), true },	/* VME */
		[1] = { L1_EDX(1), true },	/* PVI */
		[2] = { ALWAYS, true },		/* TSD */
		[3] = { L1_EDX(2), true },	/* DE */
		[4] = { L1_EDX(3), true },	/* PSE */
		[5] = { L1_EDX(6), true },	/* PAE */
		[6] = { L1_EDX(7), true },	/* MCE */
		[7] = { L1_EDX(13), true },	/* PGE */
		[8] = { ALWAYS, true },		/* PCE */
		[9] = { L1_EDX(24), true },	/* OSFXSR */
		[10] = { L1_EDX(25), true },	/* OSXMMEXCPT */
		[11] = { L7_ECX(2), true },	/* UMIP */
		[12] = { L7_ECX(16), false },	/* LA57 */
		[13] = { L1_ECX(5), false },	/* VMXE */
		[14] = { L1_ECX(6), false },	/* SMXE */
		[15] = { NONE, false },
		[16] = { L7_EBX(0), true },	/* FSGSBASE */
		[17] = { L1_ECX(17), false },	/* PCIDE (outside long mode #GP anyway) */
		[18] = { L1_ECX(26), false },	/* OSXSAVE */
		[19] = { L7_ECX(23), false },	/* KL */
		[20] = { L7_EBX(7), true },	/* SMEP */
		[21] = { L7_EBX(20), true },	/* SMAP */
		[22] = { L7_ECX(3), false },	/* PKE */
		[23] = { L7_ECX(7), false },	/* CET */
		[24] = { L7_ECX(31), false },	/* PKS */
		[25] = { L7_EDX(5), false },	/* UINTR */
	};
	uint32_t cr4 = read_cr4(), offered = 0, refused = 0;

	for (unsigned b = 0; b < 32; b++) {
		uint32_t bit = 1u << b;

		if (cr4 & bit)
			continue;
		if (!has(bits[b].f)) {
			/* QEMU 7.2 TCG accepts VME/PVI without VME and hangs on VMXE: the VMM only. */
			if (!vmm)
				continue;
			CHECK_EQ(write_cr4_safe(cr4 | bit), EXC_GP);
			CHECK_EQ(read_cr4(), cr4);
			refused |= bit;
		} else if (bits[b].try_set) {
			CHECK_EQ(write_cr4_safe(cr4 | bit), NO_EXCEPTION);
			CHECK_EQ(read_cr4(), cr4 | bit);
			CHECK_EQ(write_cr4_safe(cr4), NO_EXCEPTION);
			offered |= bit;
		}
	}
	CHECK_EQ(read_cr4(), cr4);
	if (!vmm)
		printf("guest: cpuid_check: not under the VMM: skipped (QEMU TCG deviates from the SDM): CR4 bits of hidden features give #GP\n");
	printf("guest: cpuid_check: CR4 bits set and cleared 0x%x, refused with #GP 0x%x\n", offered, refused);
}

static void check_instructions(void)
{
	bool rdtscp = cpuid(CPUID_EXT_BASE, 0).eax >= CPUID_EXT_FEATURES &&
		      (cpuid(CPUID_EXT_FEATURES, 0).edx & (1u << 27));
	bool rdpid = has((struct feature)L7_ECX(22));
	uint32_t a, c, d;

	expect_exception(EXC_UD);
	asm volatile(ASM_TRY("1f") "rdtscp\n1:" : "=a"(a), "=c"(c), "=d"(d) : : "memory");
	CHECK_EQ(exception_seen(), rdtscp ? NO_EXCEPTION : EXC_UD);
	expect_exception(EXC_UD);
	asm volatile(ASM_TRY("1f") "rdpid %0\n1:" : "=r"(a) : : "memory");
	CHECK_EQ(exception_seen(), rdpid ? NO_EXCEPTION : EXC_UD);
	if (!has((struct feature)L1_ECX(3))) {
		/* MONITOR hidden: MONITOR and MWAIT are #UD. */
		expect_exception(EXC_UD);
		asm volatile(ASM_TRY("1f") "monitor\n1:" : : "a"(0x100000), "c"(0), "d"(0) : "memory");
		CHECK_EQ(exception_seen(), EXC_UD);
	}
	/* XGETBV needs CR4.OSXSAVE, which is clear (and refused when XSAVE is hidden). */
	expect_exception(EXC_UD);
	asm volatile(ASM_TRY("1f") "xgetbv\n1:" : "=a"(a), "=d"(d) : "c"(0) : "memory");
	CHECK_EQ(exception_seen(), EXC_UD);
	printf("guest: cpuid_check: RDTSCP %s, RDPID %s, MONITOR %s as CPUID says\n",
	       rdtscp ? "works" : "#UD", rdpid ? "works" : "#UD",
	       has((struct feature)L1_ECX(3)) ? "offered" : "#UD");
}

/* Features whose architectural MSRs must exist exactly when CPUID shows them. */
static void check_msr_features(void)
{
	bool mtrr = has((struct feature)L1_EDX(12)), x2apic = has((struct feature)L1_ECX(21));

	CHECK_EQ(rdmsr_safe(MSR_MTRRCAP), mtrr ? NO_EXCEPTION : EXC_GP);
	if (!x2apic && !vmm) {
		printf("guest: cpuid_check: not under the VMM: skipped (QEMU TCG deviates from the SDM): IA32_APIC_BASE.EXTD without x2APIC gives #GP\n");
	} else if (!x2apic) {
		uint32_t lo, hi;

		asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(MSR_APIC_BASE));
		CHECK_EQ(wrmsr_safe(MSR_APIC_BASE, ((uint64_t)hi << 32) | lo | APIC_BASE_EXTD), EXC_GP);
		CHECK_EQ(rdmsr_safe(MSR_X2APIC_ID), EXC_GP);
	}
	printf("guest: cpuid_check: MTRR %s, x2APIC %s: their MSRs agree\n", mtrr ? "offered" : "hidden",
	       x2apic ? "offered" : "hidden");
}

/* Feature bits that only make sense together. */
static void check_dependencies(void)
{
	struct cpuid_regs l1 = cpuid(1, 0);
	bool avx = l1.ecx & (1u << 28), xsave = l1.ecx & (1u << 26);

	CHECK_EQ(l1.ecx & CPUID_1_ECX_VMX, 0);
	CHECK(l1.ecx & CPUID_1_ECX_HYPERVISOR);
	CHECK_EQ(l1.ebx >> 24, 0);	/* initial APIC ID of the only vCPU */
	if (!xsave)
		CHECK(!avx && !(l1.ecx & (1u << 27)));	/* no AVX, no OSXSAVE */
	if (!avx) {
		CHECK_EQ(l1.ecx & ((1u << 12) | (1u << 29)), 0);	/* FMA, F16C */
		if (cpuid(0, 0).eax >= 7)
			CHECK_EQ(cpuid(7, 0).ebx & ((1u << 5) | (1u << 16)), 0);	/* AVX2, AVX512F */
	}
	if (vmm && !xsave && cpuid(0, 0).eax >= 0xd) {
		struct cpuid_regs d = cpuid(0xd, 0);

		CHECK_EQ(d.eax | d.ebx | d.ecx | d.edx, 0);
	}
}

int guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
	struct cpuid_regs r0 = cpuid(0, 0);
	char vendor[13];

	(void)magic;
	(void)mbi;
	vmm = under_vmm();
	memcpy(vendor, &r0.ebx, 4);
	memcpy(vendor + 4, &r0.edx, 4);
	memcpy(vendor + 8, &r0.ecx, 4);
	vendor[12] = '\0';
	printf("guest: cpuid_check: vendor %s, %s\n", vendor, vmm ? "running under the VMM" : "not under the VMM");
	/* The VMM runs on VT-x and says so; QEMU's -cpu max says AuthenticAMD. */
	if (vmm)
		CHECK(memcmp(vendor, "GenuineIntel", 12) == 0);
	check_dependencies();
	check_cr4();
	check_instructions();
	check_msr_features();
	return guest_pass("cpuid_check");
}
