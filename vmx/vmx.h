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

#endif
