/* Unit tests of VT-x capability decoding and the IA32_FEATURE_CONTROL decision. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include "vmx/caps.h"

#define ALLOWED1(bit) ((uint64_t)1 << (32 + (bit)))

static const uint64_t basic_wb_true_ctls = 0x2bull | (0x1000ull << VMX_BASIC_REGION_SIZE_SHIFT) |
					   ((uint64_t)VMX_MEMTYPE_WB << VMX_BASIC_MEMTYPE_SHIFT) |
					   VMX_BASIC_TRUE_CTLS;

/* Reads the MSRs as vmx/vmx.c does: a secondary MSR only when the CPU says it exists. */
static struct vmx_caps decode(struct vmx_msrs m)
{
	struct vmx_caps c;

	m.has_procbased2 = vmx_msrs_have_procbased2(&m);
	if (!m.has_procbased2)
		m.procbased2 = 0xdeadull << 32;	/* what a #GP-raising read must never feed in */
	m.has_ept_vpid_cap = vmx_msrs_have_ept_vpid_cap(&m);
	if (!m.has_ept_vpid_cap)
		m.ept_vpid_cap = ~0ull;
	memset(&c, 0xa5, sizeof(c));
	vmx_caps_decode(&m, &c);
	return c;
}

static struct vmx_msrs skylake_like(void)
{
	struct vmx_msrs m = {
		.basic = basic_wb_true_ctls,
		.pinbased = ALLOWED1(PIN_PREEMPTION_TIMER) | 0x16,
		.procbased = ALLOWED1(PROC_ACTIVATE_SECONDARY) | 0x0401e172,
		.procbased2 = ALLOWED1(PROC2_EPT) | ALLOWED1(PROC2_VPID) |
			      ALLOWED1(PROC2_UNRESTRICTED_GUEST),
		.ept_vpid_cap = EPT_CAP_WALK_4 | EPT_CAP_WB | EPT_CAP_2M | EPT_CAP_1G |
				EPT_CAP_INVEPT | EPT_CAP_AD | EPT_CAP_INVVPID |
				EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVVPID_SINGLE,
		.misc = 5,
		.maxphyaddr = 40,
	};
	return m;
}

static void test_full_featured_cpu(void **state)
{
	struct vmx_caps c = decode(skylake_like());
	char line[200];

	(void)state;
	assert_int_equal(c.vmcs_revision, 0x2b);
	assert_int_equal(c.vmcs_region_bytes, 4096);
	assert_int_equal(c.vmcs_memtype, VMX_MEMTYPE_WB);
	assert_true(c.true_controls);
	assert_false(c.vmxon_below_4g);
	assert_true(c.ept && c.vpid && c.unrestricted_guest);
	assert_true(c.ept_walk_4 && c.ept_wb && c.ept_ad && c.ept_2m && c.ept_1g);
	assert_true(c.invept && c.invvpid);
	assert_true(c.invept_single && c.invvpid_single);
	assert_false(c.invept_all || c.invvpid_all || c.invvpid_address);
	assert_true(c.preemption_timer);
	assert_int_equal(c.preemption_timer_rate, 5);
	vmx_caps_format(&c, line, sizeof(line));
	assert_string_equal(line, "revision=0x2b ept=yes vpid=yes unrestricted_guest=yes ept_ad=yes "
				  "ept_2m=yes ept_1g=yes maxphyaddr=40 preemption_timer=yes");
}

static void test_secondary_controls_without_ept_or_vpid(void **state)
{
	struct vmx_msrs m = skylake_like();
	struct vmx_caps c;
	char line[200];

	(void)state;
	m.procbased2 = ALLOWED1(0);	/* virtualize APIC accesses only */
	m.pinbased = 0x16;
	c = decode(m);
	assert_true(c.secondary_controls);
	assert_false(c.ept || c.vpid || c.unrestricted_guest || c.ept_ad || c.ept_2m || c.ept_1g);
	assert_false(c.invept || c.invvpid || c.preemption_timer);
	vmx_caps_format(&c, line, sizeof(line));
	assert_string_equal(line, "revision=0x2b ept=no vpid=no unrestricted_guest=no ept_ad=no "
				  "ept_2m=no ept_1g=no maxphyaddr=40 preemption_timer=no");
}

static void test_no_secondary_controls_ignores_procbased2(void **state)
{
	struct vmx_msrs m = skylake_like();
	struct vmx_caps c;

	(void)state;
	m.procbased &= ~ALLOWED1(PROC_ACTIVATE_SECONDARY);
	assert_false(vmx_msrs_have_procbased2(&m));
	c = decode(m);
	assert_false(c.secondary_controls || c.ept || c.vpid || c.unrestricted_guest);
}

static void test_ept_caps_need_ept(void **state)
{
	struct vmx_msrs m = skylake_like();
	struct vmx_caps c;

	(void)state;
	/* VPID alone: the capability MSR exists, but its EPT bits mean nothing. */
	m.procbased2 = ALLOWED1(PROC2_VPID) | ALLOWED1(PROC2_UNRESTRICTED_GUEST);
	c = decode(m);
	assert_true(c.vpid && c.invvpid);
	assert_false(c.ept || c.unrestricted_guest || c.ept_ad || c.ept_2m || c.invept);
}

static void test_basic_msr_fields(void **state)
{
	struct vmx_msrs m = skylake_like();
	struct vmx_caps c;

	(void)state;
	m.basic = 0x7fffffffull | (0x400ull << VMX_BASIC_REGION_SIZE_SHIFT) |
		  VMX_BASIC_32BIT_ADDRESSES | (0ull << VMX_BASIC_MEMTYPE_SHIFT) | (1ull << 31);
	c = decode(m);
	assert_int_equal(c.vmcs_revision, 0x7fffffff);	/* bit 31 is not part of it */
	assert_int_equal(c.vmcs_region_bytes, 0x400);
	assert_true(c.vmxon_below_4g);
	assert_false(c.true_controls);
	assert_int_equal(c.vmcs_memtype, 0);
}

static void test_feature_control_states(void **state)
{
	(void)state;
	assert_int_equal(feature_control_state(0), FEATURE_CONTROL_UNLOCKED);
	assert_int_equal(feature_control_state(FEATURE_CONTROL_VMX_OUTSIDE_SMX),
			 FEATURE_CONTROL_UNLOCKED);
	assert_int_equal(feature_control_state(FEATURE_CONTROL_LOCKED), FEATURE_CONTROL_LOCKED_OFF);
	/* Locked with VMX allowed inside SMX only: still off for us. */
	assert_int_equal(feature_control_state(FEATURE_CONTROL_LOCKED | 2),
			 FEATURE_CONTROL_LOCKED_OFF);
	assert_int_equal(feature_control_state(5), FEATURE_CONTROL_READY);
	assert_int_equal(feature_control_state(0xff07), FEATURE_CONTROL_READY);
}

static void test_feature_control_enable_keeps_other_bits(void **state)
{
	(void)state;
	assert_int_equal(feature_control_enable_value(0), 5);
	assert_int_equal(feature_control_enable_value(2), 7);
	assert_int_equal(feature_control_enable_value(0x100000), 0x100005);
	assert_int_equal(feature_control_state(feature_control_enable_value(0)),
			 FEATURE_CONTROL_READY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_featured_cpu),
		cmocka_unit_test(test_secondary_controls_without_ept_or_vpid),
		cmocka_unit_test(test_no_secondary_controls_ignores_procbased2),
		cmocka_unit_test(test_ept_caps_need_ept),
		cmocka_unit_test(test_basic_msr_fields),
		cmocka_unit_test(test_feature_control_states),
		cmocka_unit_test(test_feature_control_enable_keeps_other_bits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
