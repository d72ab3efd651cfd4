/* msr: the MSRs multiboot kernels touch, each checked against the SDM's #GP rules and the guest's own CPUID. */
#include <stdbool.h>
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/x86.h"

#define MSR_TSC			0x10
#define MSR_TSC_ADJUST		0x3b
#define MSR_SYSENTER_CS		0x174
#define MSR_SYSENTER_ESP	0x175
#define MSR_SYSENTER_EIP	0x176
#define MSR_MCG_CAP		0x179
#define MSR_MCG_STATUS		0x17a
#define MSR_MCG_CTL		0x17b
#define MSR_MISC_ENABLE		0x1a0
#define MSR_PAT			0x277
#define MSR_MC0_CTL		0x400
#define MSR_TSC_DEADLINE	0x6e0
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_CSTAR		0xc0000083
#define MSR_SFMASK		0xc0000084
#define MSR_FS_BASE		0xc0000100
#define MSR_GS_BASE		0xc0000101
#define MSR_KERNEL_GS_BASE	0xc0000102

#define EFER_SCE		(1ull << 0)
#define EFER_LME		(1ull << 8)
#define EFER_NX			(1ull << 11)
#define PAT_POWER_ON		0x0007040600070406ull
#define MCG_CTL_P		(1ull << 8)

#define CPUID_1_ECX_MONITOR	(1u << 3)
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID_1_EDX_MCE		(1u << 7)
#define CPUID_1_EDX_MCA		(1u << 14)
#define CPUID_7_EBX_TSC_ADJUST	(1u << 1)
#define CPUID_EXT_EDX_SYSCALL	(1u << 11)
#define CPUID_EXT_EDX_LM	(1u << 29)

#define NON_CANONICAL		0x0000800000000000ull
#define CANONICAL_HIGH		0xffff800000001000ull

static bool vmm;

/* RDMSR/WRMSR that report the vector they raised (NO_EXCEPTION when none). */
static int rdmsr_safe(uint32_t msr, uint64_t *value)
{
	uint32_t lo = 0, hi = 0;

	expect_exception(EXC_GP);
	asm volatile(ASM_TRY("1f") "rdmsr\n1:" : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
	*value = ((uint64_t)hi << 32) | lo;
	return exception_seen();
}

static int wrmsr_safe(uint32_t msr, uint64_t value)
{
	expect_exception(EXC_GP);
	asm volatile(ASM_TRY("1f") "wrmsr\n1:"
		     : : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)) : "memory");
	return exception_seen();
}

static uint64_t rdmsr_ok(uint32_t msr)
{
	uint64_t v;

	CHECK_EQ(rdmsr_safe(msr, &v), NO_EXCEPTION);
	return v;
}

static void wrmsr_ok(uint32_t msr, uint64_t value)
{
	CHECK_EQ(wrmsr_safe(msr, value), NO_EXCEPTION);
}

/*
 * A #GP the SDM requires but QEMU 7.2 TCG does not raise (it ignores the
 * write or reads 0): checked under the VMM; without it, one line says the
 * check was skipped.  Everything else is checked everywhere.
 */
static bool sdm_only(const char *what)
{
	static const char *said;

	if (vmm)
		return true;
	if (what == said)	/* the same check in a loop: said once */
		return false;
	said = what;
	printf("guest: msr: not under the VMM: skipped (QEMU TCG deviates from the SDM): %s\n", what);
	return false;
}

static void expect_gp_write(uint32_t msr, uint64_t value)
{
	uint64_t before = rdmsr_ok(msr);

	CHECK_EQ(wrmsr_safe(msr, value), EXC_GP);
	CHECK_EQ64(rdmsr_ok(msr), before);
}

static void check_efer(void)
{
	static const unsigned reserved[] = { 1, 2, 3, 4, 5, 6, 7, 9, 12, 13, 14, 15, 16, 31, 32, 63 };
	uint32_t ext = cpuid(CPUID_EXT_BASE, 0).eax >= CPUID_EXT_FEATURES ? cpuid(CPUID_EXT_FEATURES, 0).edx : 0;
	uint64_t efer = rdmsr_ok(MSR_EFER);

	CHECK_EQ64(efer, 0);	/* multiboot entry: paging off, nothing enabled */
	if (sdm_only("EFER reserved bits give #GP")) {
		for (unsigned i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
			expect_gp_write(MSR_EFER, efer | (1ull << reserved[i]));
	}
	if (ext & CPUID_EXT_EDX_NX) {
		wrmsr_ok(MSR_EFER, EFER_NX);
		CHECK_EQ64(rdmsr_ok(MSR_EFER), EFER_NX);
	} else if (sdm_only("EFER.NXE without NX gives #GP")) {
		expect_gp_write(MSR_EFER, EFER_NX);
	}
	if (ext & (CPUID_EXT_EDX_SYSCALL | CPUID_EXT_EDX_LM)) {
		wrmsr_ok(MSR_EFER, EFER_SCE);
		CHECK_EQ64(rdmsr_ok(MSR_EFER), EFER_SCE);
	}
	if (ext & CPUID_EXT_EDX_LM) {
		/* LME with paging off: allowed, and LMA stays 0 until paging is enabled. */
		wrmsr_ok(MSR_EFER, EFER_LME);
		CHECK_EQ64(rdmsr_ok(MSR_EFER), EFER_LME);
	}
	wrmsr_ok(MSR_EFER, 0);
	CHECK_EQ64(rdmsr_ok(MSR_EFER), 0);
	printf("guest: msr: EFER ok (CPUID 0x80000001 EDX 0x%x)\n", ext);
}

static void check_pat(void)
{
	static const uint8_t invalid[] = { 2, 3, 8, 0xff };
	uint64_t pat = rdmsr_ok(MSR_PAT);

	CHECK_EQ64(pat, PAT_POWER_ON);
	for (unsigned byte = 0; byte < 8 && sdm_only("invalid PAT memory types give #GP"); byte++) {
		for (unsigned i = 0; i < sizeof(invalid); i++) {
			uint64_t bad = (pat & ~(0xffull << (8 * byte))) | ((uint64_t)invalid[i] << (8 * byte));

			expect_gp_write(MSR_PAT, bad);
		}
		byte = vmm ? byte : 8;
	}
	wrmsr_ok(MSR_PAT, 0x0007010504060700ull);	/* every valid type somewhere */
	CHECK_EQ64(rdmsr_ok(MSR_PAT), 0x0007010504060700ull);
	wrmsr_ok(MSR_PAT, pat);
	printf("guest: msr: PAT ok: power-on value, 32 invalid memory types give #GP\n");
}

static void check_misc_enable(void)
{
	uint64_t misc = rdmsr_ok(MSR_MISC_ENABLE);
	bool monitor = cpuid(1, 0).ecx & CPUID_1_ECX_MONITOR;

	CHECK(misc & 1);	/* fast strings */
	CHECK_EQ(!!(misc & (1u << 18)), monitor);	/* MONITOR/MWAIT enable follows CPUID */
	wrmsr_ok(MSR_MISC_ENABLE, misc);
	wrmsr_ok(MSR_MISC_ENABLE, misc & ~1ull);
	CHECK_EQ64(rdmsr_ok(MSR_MISC_ENABLE), misc & ~1ull);
	wrmsr_ok(MSR_MISC_ENABLE, misc);
	CHECK_EQ64(rdmsr_ok(MSR_MISC_ENABLE), misc);
	if (sdm_only("MISC_ENABLE reserved bits give #GP")) {
		expect_gp_write(MSR_MISC_ENABLE, misc | (1ull << 1));
		expect_gp_write(MSR_MISC_ENABLE, misc | (1ull << 63));
	}
	printf("guest: msr: MISC_ENABLE ok (0x%x%08x)\n", (uint32_t)(misc >> 32), (uint32_t)misc);
}

/* Address MSRs: canonical values read back, non-canonical ones give #GP and leave the MSR alone. */
static void check_address_msrs(void)
{
	static const uint32_t msrs[] = { MSR_SYSENTER_ESP, MSR_SYSENTER_EIP, MSR_FS_BASE, MSR_GS_BASE,
					 MSR_KERNEL_GS_BASE, MSR_LSTAR, MSR_CSTAR };
	static const char *const names[] = { "SYSENTER_ESP", "SYSENTER_EIP", "FS_BASE", "GS_BASE",
					     "KERNEL_GS_BASE", "LSTAR", "CSTAR" };
	bool lm = cpuid(CPUID_EXT_BASE, 0).eax >= CPUID_EXT_FEATURES &&
		  (cpuid(CPUID_EXT_FEATURES, 0).edx & CPUID_EXT_EDX_LM);

	for (unsigned i = 0; i < sizeof(msrs) / sizeof(msrs[0]); i++) {
		uint64_t old = rdmsr_ok(msrs[i]);

		/* FS and GS bases are the segments' own: the guest runtime does not use them, restored below. */
		wrmsr_ok(msrs[i], 0x12345000);
		CHECK_EQ64(rdmsr_ok(msrs[i]), 0x12345000);
		if (lm) {
			wrmsr_ok(msrs[i], CANONICAL_HIGH);
			CHECK_EQ64(rdmsr_ok(msrs[i]), CANONICAL_HIGH);
			if (sdm_only(names[i]))
				expect_gp_write(msrs[i], NON_CANONICAL);
		}
		wrmsr_ok(msrs[i], old);
	}
	wrmsr_ok(MSR_SYSENTER_CS, 0x1234);
	CHECK_EQ64(rdmsr_ok(MSR_SYSENTER_CS), 0x1234);
	wrmsr_ok(MSR_SYSENTER_CS, 0);
	wrmsr_ok(MSR_STAR, 0x0023001000000000ull);
	CHECK_EQ64(rdmsr_ok(MSR_STAR), 0x0023001000000000ull);
	wrmsr_ok(MSR_SFMASK, 0x47700);
	CHECK_EQ64(rdmsr_ok(MSR_SFMASK), 0x47700);
	wrmsr_ok(MSR_STAR, 0);
	wrmsr_ok(MSR_SFMASK, 0);
	printf("guest: msr: SYSENTER, FS/GS/KERNEL_GS base, STAR/LSTAR/CSTAR/SFMASK ok%s\n",
	       lm ? "; non-canonical values checked" : "");
}

static uint64_t rdtsc(void)
{
	return rdtsc_fenced();
}

static void check_tsc(void)
{
	const uint64_t target = 0x0000100000000000ull, slack = 1000000000ull;
	bool adjust = cpuid(0, 0).eax >= 7 && (cpuid(7, 0).ebx & CPUID_7_EBX_TSC_ADJUST);
	bool deadline = cpuid(1, 0).ecx & CPUID_1_ECX_TSC_DEADLINE;
	uint64_t t0 = rdtsc(), m = rdmsr_ok(MSR_TSC), t1 = rdtsc(), adj0 = 0, v;

	if (sdm_only("RDMSR of the TSC reads the TSC"))
		CHECK(m >= t0 && m <= t1);
	if (adjust)
		adj0 = rdmsr_ok(MSR_TSC_ADJUST);
	/* Writing the TSC sets the guest's TSC; TSC_ADJUST moves by the same amount (SDM 18.17.3). */
	t0 = rdtsc();
	wrmsr_ok(MSR_TSC, target);
	t1 = rdtsc();
	if (sdm_only("WRMSR to the TSC sets the TSC"))
		CHECK(t1 >= target && t1 - target < slack);
	if (adjust && sdm_only("TSC_ADJUST follows TSC writes")) {
		/* The TSC less TSC_ADJUST is the clock underneath, which the TSC write did not move. */
		uint64_t adj1 = rdmsr_ok(MSR_TSC_ADJUST), under0 = t0 - adj0, under1 = rdtsc() - adj1;

		CHECK(adj1 != adj0);
		CHECK(under1 >= under0 && under1 - under0 < slack);
		wrmsr_ok(MSR_TSC_ADJUST, adj1 + target);
		CHECK(rdtsc() >= 2 * target);
		CHECK_EQ64(rdmsr_ok(MSR_TSC_ADJUST), adj1 + target);
	} else if (!adjust && sdm_only("TSC_ADJUST absent from CPUID gives #GP")) {
		CHECK_EQ(rdmsr_safe(MSR_TSC_ADJUST, &v), EXC_GP);
		CHECK_EQ(wrmsr_safe(MSR_TSC_ADJUST, 0), EXC_GP);
	}
	if (deadline) {
		rdmsr_ok(MSR_TSC_DEADLINE);
	} else if (sdm_only("TSC_DEADLINE absent from CPUID gives #GP")) {
		CHECK_EQ(rdmsr_safe(MSR_TSC_DEADLINE, &v), EXC_GP);
		CHECK_EQ(wrmsr_safe(MSR_TSC_DEADLINE, 0), EXC_GP);
	}
	printf("guest: msr: TSC ok; TSC_ADJUST %s; TSC_DEADLINE %s\n", adjust ? "offered" : "hidden",
	       deadline ? "offered" : "hidden");
}

static void check_machine_check(void)
{
	uint32_t edx = cpuid(1, 0).edx;
	uint64_t cap, v;
	unsigned banks;

	if ((edx & (CPUID_1_EDX_MCE | CPUID_1_EDX_MCA)) != (CPUID_1_EDX_MCE | CPUID_1_EDX_MCA)) {
		if (sdm_only("MCG_CAP without MCA gives #GP"))
			CHECK_EQ(rdmsr_safe(MSR_MCG_CAP, &v), EXC_GP);
		printf("guest: msr: no machine-check architecture in CPUID\n");
		return;
	}
	cap = rdmsr_ok(MSR_MCG_CAP);
	banks = cap & 0xff;
	CHECK(banks >= 1);
	if (sdm_only("MCG_CAP is read-only"))
		expect_gp_write(MSR_MCG_CAP, cap);
	rdmsr_ok(MSR_MCG_STATUS);
	wrmsr_ok(MSR_MCG_STATUS, 0);
	if (cap & MCG_CTL_P) {
		wrmsr_ok(MSR_MCG_CTL, 0);
		CHECK_EQ64(rdmsr_ok(MSR_MCG_CTL), 0);
		wrmsr_ok(MSR_MCG_CTL, ~0ull);
		CHECK_EQ64(rdmsr_ok(MSR_MCG_CTL), ~0ull);
	}
	for (unsigned i = 0; i < banks; i++) {
		uint32_t ctl = MSR_MC0_CTL + 4 * i;

		for (unsigned r = 0; r < 4; r++)
			rdmsr_ok(ctl + r);
		wrmsr_ok(ctl, 0);
		CHECK_EQ64(rdmsr_ok(ctl), 0);
		wrmsr_ok(ctl, ~0ull);
		CHECK_EQ64(rdmsr_ok(ctl), ~0ull);
		wrmsr_ok(ctl + 1, 0);
		CHECK_EQ64(rdmsr_ok(ctl + 1), 0);
		if (sdm_only("MCi_STATUS takes only 0")) {
			CHECK_EQ(wrmsr_safe(ctl + 1, 1), EXC_GP);
			CHECK_EQ(wrmsr_safe(ctl + 1, 1ull << 63), EXC_GP);
			CHECK_EQ64(rdmsr_ok(ctl + 1), 0);
		}
	}
	/* The banks end where MCG_CAP says: the next bank's registers do not exist. */
	if (sdm_only("MCi registers past MCG_CAP's count give #GP")) {
		for (unsigned r = 0; r < 4; r++) {
			CHECK_EQ(rdmsr_safe(MSR_MC0_CTL + 4 * banks + r, &v), EXC_GP);
			CHECK_EQ(wrmsr_safe(MSR_MC0_CTL + 4 * banks + r, 0), EXC_GP);
		}
	}
	printf("guest: msr: MCG_CAP 0x%x: %u banks, MCG_CTL %s\n", (uint32_t)cap, banks,
	       (cap & MCG_CTL_P) ? "present" : "absent");
}

static void check_unknown(void)
{
	static const uint32_t unknown[] = { 0x4b564d00, 0x12345678, 0xc0011234, 0x40000000 };
	uint64_t v;

	if (!sdm_only("unknown MSRs give #GP"))
		return;
	for (unsigned i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		CHECK_EQ(rdmsr_safe(unknown[i], &v), EXC_GP);
		CHECK_EQ(wrmsr_safe(unknown[i], 0), EXC_GP);
	}
	printf("guest: msr: unknown MSRs give #GP\n");
}

int guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	vmm = under_vmm();
	printf("guest: msr: %s\n", vmm ? "running under the VMM" : "not under the VMM");
	check_efer();
	check_pat();
	check_misc_enable();
	check_address_msrs();
	check_tsc();
	check_machine_check();
	check_unknown();
	return guest_pass("msr");
}
