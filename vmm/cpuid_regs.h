/* The four registers CPUID returns. */
#ifndef VMM_CPUID_REGS_H
#define VMM_CPUID_REGS_H

#include <stdint.h>

struct cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};

#endif
