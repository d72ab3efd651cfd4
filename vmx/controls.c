/* vmx_adjust_controls(): wanted controls against what the CPU allows. */
#include "vmx/controls.h"

struct vmx_control_result vmx_adjust_controls(uint64_t msr, const struct vmx_control_bit *wanted,
					      size_t n)
{
	uint32_t must_be_1 = (uint32_t)msr, may_be_1 = (uint32_t)(msr >> 32);
	struct vmx_control_result r = { must_be_1, 0, 0 };
	size_t i;

	for (i = 0; i < n; i++) {
		if (wanted[i].bit & may_be_1)
			r.value |= wanted[i].bit;
		else if (wanted[i].required)
			r.missing_required |= wanted[i].bit;
		else
			r.missing_optional |= wanted[i].bit;
	}
	return r;
}

const char *vmx_control_name(const struct vmx_control_bit *wanted, size_t n, uint32_t bit)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (wanted[i].bit == bit)
			return wanted[i].name;
	return "?";
}
