/* Whether the hypervisor underneath is our VMM: CPUID's hypervisor bit and the VMM's signature leaf. */
#include <stdbool.h>
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/string.h"
#include "guest/lib/x86.h"

/* The hypervisor bit alone is not enough (QEMU TCG sets it too): the signature says whose leaves these are. */
bool under_vmm(void)
{
	if (!(cpuid(1, 0).ecx & CPUID_1_ECX_HYPERVISOR))
		return false;

	struct cpuid_regs hv = cpuid(CPUID_HV_BASE, 0);
	char sig[12];

	memcpy(sig, &hv.ebx, 4);
	memcpy(sig + 4, &hv.ecx, 4);
	memcpy(sig + 8, &hv.edx, 4);
	return memcmp(sig, VMM_CPUID_SIGNATURE, sizeof(sig)) == 0;
}
