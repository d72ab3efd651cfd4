/* Unit tests of the MSR #GP rules and the CPUID allow-lists the guest sees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include "vmx/cpuid_policy.h"
#include "vmx/msr_policy.h"

#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

static const struct cpuid_policy all = { .rdtscp = true, .invpcid = true, .tsc_offsetting = true };
static const struct cpuid_policy none = { 0 };

static void test_canonical(void **state)
{
	(void)state;
	assert_true(msr_canonical(0));
	assert_true(msr_canonical(0x00007fffffffffffull));
	assert_true(msr_canonical(0xffff800000000000ull));
	assert_false(msr_canonical(0x0000800000000000ull));
	assert_false(msr_canonical(0xfffe800000000000ull));
	assert_false(msr_canonical(0x8000000000000000ull));
}

static void test_pat_types(void **state)
{
	(void)state;
	assert_true(msr_pat_valid(0x0007040600070406ull));
	assert_true(msr_pat_valid(0x0007010504060700ull));
	for (unsigned byte = 0; byte < 8; byte++) {
		for (unsigned t = 0; t < 256; t++) {
			uint64_t pat = (0x0606060606060606ull & ~(0xffull << (8 * byte))) | ((uint64_t)t << (8 * byte));
			bool valid = t == 0 || t == 1 || t == 4 || t == 5 || t == 6 || t == 7;

			assert_int_equal(msr_pat_valid(pat), valid);
		}
	}
}

static void test_efer_follows_cpuid(void **state)
{
	struct msr_features lm_nx = { .ext1_edx = (1u << 11) | (1u << 20) | (1u << 29) };
	struct msr_features lm_only = { .ext1_edx = 1u << 29 };
	struct msr_features nothing = { 0 };

	(void)state;
	assert_int_equal(msr_efer_writable(&lm_nx), EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE);
	/* Intel hides SYSCALL from 32-bit code, but SCE stays writable with LM. */
	assert_int_equal(msr_efer_writable(&lm_only), EFER_SCE | EFER_LME | EFER_LMA);
	assert_int_equal(msr_efer_writable(&nothing), EFER_LMA);
}

static void test_misc_enable(void **state)
{
	(void)state;
	assert_true(msr_misc_enable_write_ok(MISC_ENABLE_INITIAL, MISC_ENABLE_INITIAL));
	assert_true(msr_misc_enable_write_ok(MISC_ENABLE_INITIAL, MISC_ENABLE_INITIAL & ~1ull));
	assert_true(msr_misc_enable_write_ok(MISC_ENABLE_INITIAL, MISC_ENABLE_INITIAL | (1ull << 23)));
	assert_false(msr_misc_enable_write_ok(MISC_ENABLE_INITIAL, MISC_ENABLE_INITIAL | (1ull << 1)));
	assert_false(msr_misc_enable_write_ok(MISC_ENABLE_INITIAL, MISC_ENABLE_INITIAL | (1ull << 18)));
	assert_false(msr_misc_enable_write_ok(MISC_ENABLE_INITIAL, MISC_ENABLE_INITIAL & ~(1ull << 11)));
	assert_false(msr_misc_enable_write_ok(MISC_ENABLE_INITIAL, MISC_ENABLE_INITIAL | (1ull << 63)));
}

static void test_mc_banks(void **state)
{
	struct msr_features mca = { .leaf1_edx = (1u << 7) | (1u << 14) };
	struct msr_features mce_only = { .leaf1_edx = 1u << 7 };
	unsigned bank = 99, reg = 99;

	(void)state;
	assert_true(msr_mca_offered(&mca));
	assert_false(msr_mca_offered(&mce_only));
	assert_int_equal(msr_mcg_cap() & 0xff, MCE_BANKS);
	assert_true(msr_mcg_cap() & MCG_CTL_P);
	assert_true(msr_mc_bank_decode(MSR_MC0_CTL, &bank, &reg));
	assert_int_equal(bank, 0);
	assert_int_equal(reg, MC_REG_CTL);
	assert_true(msr_mc_bank_decode(MSR_MC0_CTL + 4 * MCE_BANKS - 1, &bank, &reg));
	assert_int_equal(bank, MCE_BANKS - 1);
	assert_int_equal(reg, MC_REG_MISC);
	assert_false(msr_mc_bank_decode(MSR_MC0_CTL + 4 * MCE_BANKS, &bank, &reg));
	assert_false(msr_mc_bank_decode(MSR_MC0_CTL - 1, &bank, &reg));
	assert_true(msr_mc_write_ok(MC_REG_CTL, 0));
	assert_true(msr_mc_write_ok(MC_REG_CTL, ~0ull));
	assert_false(msr_mc_write_ok(MC_REG_CTL, 5));
	assert_true(msr_mc_write_ok(MC_REG_STATUS, 0));
	assert_false(msr_mc_write_ok(MC_REG_STATUS, 1ull << 63));
	assert_true(msr_mc_write_ok(MC_REG_ADDR, 0x1234));
	assert_true(msr_mc_write_ok(MC_REG_MISC, 0x1234));
}

static void test_tsc_adjust_follows_leaf7(void **state)
{
	struct cpuid_regs r = { .ebx = ~0u };
	struct msr_features f = { 0 };

	(void)state;
	cpuid_apply_policy(7, 0, &r, &all);
	f.leaf7_ebx = r.ebx;
	assert_true(msr_tsc_adjust_offered(&f));
	r.ebx = ~0u;
	cpuid_apply_policy(7, 0, &r, &none);
	f.leaf7_ebx = r.ebx;
	assert_false(msr_tsc_adjust_offered(&f));
}

/* A host that claims every feature: only the allow-listed ones reach the guest. */
static void test_cpuid_allow_lists(void **state)
{
	struct cpuid_regs r = { ~0u, ~0u, ~0u, ~0u };

	(void)state;
	cpuid_apply_policy(1, 0, &r, &all);
	assert_int_equal(r.ebx >> 24, 0);		/* APIC ID 0 */
	assert_int_equal((r.ebx >> 16) & 0xff, 1);	/* one logical processor */
	assert_int_equal(r.ecx & (1u << 5), 0);		/* VMX */
	assert_int_equal(r.ecx & (1u << 21), 0);	/* x2APIC */
	assert_int_equal(r.ecx & (1u << 24), 0);	/* TSC deadline */
	assert_int_equal(r.ecx & (1u << 26), 0);	/* XSAVE */
	assert_int_equal(r.ecx & (1u << 28), 0);	/* AVX */
	assert_int_equal(r.ecx & (1u << 12), 0);	/* FMA */
	assert_true(r.ecx & (1u << 31));		/* hypervisor */
	assert_true(r.ecx & (1u << 0));			/* SSE3 */
	assert_int_equal(r.edx & (1u << 12), 0);	/* MTRR */
	assert_int_equal(r.edx & (1u << 28), 0);	/* HTT */
	assert_true(r.edx & (1u << 7));			/* MCE */
	assert_true(r.edx & (1u << 14));		/* MCA */
	assert_true(r.edx & (1u << 16));		/* PAT */

	r = (struct cpuid_regs){ ~0u, ~0u, ~0u, ~0u };
	cpuid_apply_policy(7, 0, &r, &none);
	assert_int_equal(r.eax, 0);
	assert_int_equal(r.ebx & ((1u << 1) | (1u << 5) | (1u << 10) | (1u << 16)), 0);
	assert_true(r.ebx & (1u << 7));			/* SMEP */
	assert_int_equal(r.ecx & ((1u << 3) | (1u << 16) | (1u << 22)), 0);	/* PKU, LA57, RDPID */
	assert_int_equal(r.edx & (1u << 26), 0);	/* IBRS/IBPB */
	r = (struct cpuid_regs){ ~0u, ~0u, ~0u, ~0u };
	cpuid_apply_policy(7, 0, &r, &all);
	assert_true(r.ecx & (1u << 22));		/* RDPID with "enable RDTSCP" */

	r = (struct cpuid_regs){ ~0u, ~0u, ~0u, ~0u };
	cpuid_apply_policy(0x80000001, 0, &r, &none);
	assert_int_equal(r.edx, (1u << 11) | (1u << 20) | (1u << 26) | (1u << 29));
	for (uint32_t leaf = 3; leaf <= 0x14; leaf++) {
		if (leaf == 4 || leaf == 6 || leaf == 7 || leaf == 0xb)
			continue;
		r = (struct cpuid_regs){ ~0u, ~0u, ~0u, ~0u };
		cpuid_apply_policy(leaf, 0, &r, &all);
		assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
	}
}

static void test_cr4_follows_cpuid(void **state)
{
	struct cpuid_regs l1 = { 0 }, l7 = { 0 };
	uint64_t allowed;

	(void)state;
	/* Nothing shown: only TSD and PCE. */
	assert_int_equal(guest_cr4_allowed(&l1, &l7, ~0ull), (1ull << 2) | (1ull << 8));
	l1.edx = ~0u;
	l1.ecx = ~0u;
	l7.ebx = ~0u;
	l7.ecx = ~0u;
	allowed = guest_cr4_allowed(&l1, &l7, ~0ull);
	assert_int_equal(allowed & ((1ull << 13) | (1ull << 14) | (1ull << 15) | (1ull << 17) | (1ull << 18) |
				    (1ull << 22) | (0xffull << 24)), 0);
	assert_true(allowed & (1ull << 6));	/* MCE */
	assert_true(allowed & (1ull << 20));	/* SMEP */
	/* CR4_FIXED1 has the last word. */
	assert_int_equal(guest_cr4_allowed(&l1, &l7, 0xff) & ~0xffull, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_pat_types),
		cmocka_unit_test(test_efer_follows_cpuid),
		cmocka_unit_test(test_misc_enable),
		cmocka_unit_test(test_mc_banks),
		cmocka_unit_test(test_tsc_adjust_follows_leaf7),
		cmocka_unit_test(test_cpuid_allow_lists),
		cmocka_unit_test(test_cr4_follows_cpuid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
