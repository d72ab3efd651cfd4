/* Unit tests of VMX control computation from allowed-0/allowed-1 capability MSRs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include "vmx/controls.h"

static const struct vmx_control_bit wanted[] = {
	{ 1u << 7, "HLT exiting", true },
	{ 1u << 24, "unconditional I/O exiting", true },
	{ 1u << 3, "TSC offsetting", false },
	{ 1u << 31, "activate secondary controls", true },
};
#define NWANTED (sizeof(wanted) / sizeof(wanted[0]))

static uint64_t capability(uint32_t must_be_1, uint32_t may_be_1)
{
	return ((uint64_t)may_be_1 << 32) | must_be_1;
}

static void test_forced_bits_are_kept_even_if_unwanted(void **state)
{
	struct vmx_control_result r = vmx_adjust_controls(capability(0x0401e172, 0xffffffff),
							  wanted, NWANTED);

	(void)state;
	assert_int_equal(r.value, 0x0401e172u | (1u << 7) | (1u << 24) | (1u << 3) | (1u << 31));
	assert_int_equal(r.missing_required, 0);
	assert_int_equal(r.missing_optional, 0);
}

static void test_disallowed_bits_are_reported_not_set(void **state)
{
	uint32_t may = 0xffffffffu & ~(1u << 3) & ~(1u << 31);
	struct vmx_control_result r = vmx_adjust_controls(capability(0x16, may), wanted, NWANTED);

	(void)state;
	assert_int_equal(r.value & (1u << 3), 0);
	assert_int_equal(r.value & (1u << 31), 0);
	assert_int_equal(r.missing_required, 1u << 31);
	assert_int_equal(r.missing_optional, 1u << 3);
	assert_string_equal(vmx_control_name(wanted, NWANTED, r.missing_required),
			    "activate secondary controls");
	assert_string_equal(vmx_control_name(wanted, NWANTED, 1u << 5), "?");
}

static void test_value_never_has_a_bit_the_cpu_forbids(void **state)
{
	uint32_t may = 0x80000080u, must = 0x80u;
	struct vmx_control_result r = vmx_adjust_controls(capability(must, may), wanted, NWANTED);

	(void)state;
	assert_int_equal(r.value & ~may, 0);
	assert_int_equal(r.value & must, must);
	assert_int_equal(r.missing_required, 1u << 24);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forced_bits_are_kept_even_if_unwanted),
		cmocka_unit_test(test_disallowed_bits_are_reported_not_set),
		cmocka_unit_test(test_value_never_has_a_bit_the_cpu_forbids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
