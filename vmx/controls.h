/* VM-execution/exit/entry controls computed from the capability MSRs' allowed-0/allowed-1 halves. */
#ifndef VMX_CONTROLS_H
#define VMX_CONTROLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vmx_control_bit {
	uint32_t bit;
	const char *name;
	bool required;		/* the VMM cannot run guests without it */
};

struct vmx_control_result {
	uint32_t value;			/* what to write into the VMCS */
	uint32_t missing_required;	/* wanted, required, and not allowed to be 1 */
	uint32_t missing_optional;	/* wanted, optional, and not allowed to be 1 */
};

/*
 * A capability MSR says in bits 31:0 which controls must be 1 (allowed-0
 * settings) and in bits 63:32 which may be 1 (allowed-1 settings).  The
 * value is every wanted control the CPU allows plus every control it
 * forces; nothing is hard-coded, and what is missing is returned by bit so
 * the caller can name it (SDM A.3-A.5).
 */
struct vmx_control_result vmx_adjust_controls(uint64_t capability_msr,
					      const struct vmx_control_bit *wanted, size_t n);

/* The name of a bit of `wanted`, or "?" */
const char *vmx_control_name(const struct vmx_control_bit *wanted, size_t n, uint32_t bit);

#endif
