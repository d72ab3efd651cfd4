/* Entering and leaving VMX operation on the boot CPU. */
#ifndef VMX_VMX_H
#define VMX_VMX_H

#include "vmx/caps.h"

/*
 * Checks CPUID and IA32_FEATURE_CONTROL, prints the capability line, applies
 * the CR0/CR4 fixed bits and executes VMXON.  Every failure prints one line
 * and ends the run with its status (vmm/status.h): nothing to handle here.
 */
void vmx_enable(void);

/* VMXOFF and CR4.VMXE cleared; harmless when VMX is not on. */
void vmx_disable(void);

const struct vmx_caps *vmx_caps(void);

/* The controls every VMCS gets, computed once by vmx_enable() from the capability MSRs. */
struct vmx_config {
	uint32_t pin, proc, proc2, exit, entry;
	uint32_t proc_forced;		/* processor-based controls the CPU will not let be 0 */
	bool guests_supported;		/* every control both MMU modes need */
	bool ept_supported;		/* EPT with unrestricted guest: mmu=ept can run multiboot guests */
	char missing[160];		/* names of the required controls the CPU lacks */
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
};

const struct vmx_config *vmx_config(void);
void vmx_compute_controls(const struct vmx_caps *caps);

/* SDM 31.4 "VM instruction error numbers". */
const char *vmx_instruction_error_name(uint32_t error);

/* Every VMCS field the dump knows, by name, on the console (as KVM's dump_vmcs does). */
void vmx_dump_vmcs(void);

/* INVEPT/INVVPID with the narrowest type the CPU has (single context, else all). */
void vmx_invalidate_ept(uint64_t eptp);
void vmx_invalidate_vpid(uint16_t vpid);

#endif
