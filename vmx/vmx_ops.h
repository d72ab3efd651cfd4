/* VMX instructions: VMREAD/VMWRITE, VMCLEAR/VMPTRLD, INVEPT/INVVPID, with their failure flags checked. */
#ifndef VMX_VMX_OPS_H
#define VMX_VMX_OPS_H

#include <stdbool.h>
#include <stdint.h>

#define INVEPT_SINGLE_CONTEXT	1
#define INVEPT_ALL_CONTEXT	2
#define INVVPID_ADDRESS		0
#define INVVPID_SINGLE_CONTEXT	1
#define INVVPID_ALL_CONTEXT	2

/* Reports the failed instruction with the VM-instruction error and ends the run. */
void vmx_instruction_failed(const char *what, uint64_t operand) __attribute__((noreturn));

/* VMREAD that reports failure (no current VMCS, or a field this CPU lacks) instead of ending the run. */
static inline bool vmread_try(uint64_t field, uint64_t *value)
{
	bool failed;

	__asm__ volatile("vmread %2, %0; setna %1"
			 : "=r"(*value), "=qm"(failed) : "r"(field) : "cc");
	return !failed;
}

static inline uint64_t vmread(uint64_t field)
{
	uint64_t value;

	if (!vmread_try(field, &value))
		vmx_instruction_failed("VMREAD", field);
	return value;
}

static inline void vmwrite(uint64_t field, uint64_t value)
{
	bool failed;

	__asm__ volatile("vmwrite %2, %1; setna %0"
			 : "=qm"(failed) : "r"(field), "rm"(value) : "cc");
	if (failed)
		vmx_instruction_failed("VMWRITE", field);
}

static inline void vmclear(uint64_t vmcs_pa)
{
	bool failed;

	__asm__ volatile("vmclear %1; setna %0" : "=qm"(failed) : "m"(vmcs_pa) : "cc", "memory");
	if (failed)
		vmx_instruction_failed("VMCLEAR", vmcs_pa);
}

static inline void vmptrld(uint64_t vmcs_pa)
{
	bool failed;

	__asm__ volatile("vmptrld %1; setna %0" : "=qm"(failed) : "m"(vmcs_pa) : "cc", "memory");
	if (failed)
		vmx_instruction_failed("VMPTRLD", vmcs_pa);
}

static inline void invept(uint64_t type, uint64_t eptp)
{
	struct { uint64_t eptp, reserved; } desc = { eptp, 0 };
	bool failed;

	__asm__ volatile("invept %1, %2; setna %0"
			 : "=qm"(failed) : "m"(desc), "r"(type) : "cc", "memory");
	if (failed)
		vmx_instruction_failed("INVEPT", eptp);
}

static inline void invvpid(uint64_t type, uint16_t vpid, uint64_t linear)
{
	struct { uint64_t vpid, linear; } desc = { vpid, linear };
	bool failed;

	__asm__ volatile("invvpid %1, %2; setna %0"
			 : "=qm"(failed) : "m"(desc), "r"(type) : "cc", "memory");
	if (failed)
		vmx_instruction_failed("INVVPID", vpid);
}

#endif
