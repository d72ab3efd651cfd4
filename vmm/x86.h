/* Thin wrappers over x86 instructions the VMM core needs: port I/O, MSRs, CPUID, control registers. */
#ifndef VMM_X86_H
#define VMM_X86_H

#include <stdint.h>
#include "vmm/cpuid_regs.h"

#define MSR_IA32_FEATURE_CONTROL	0x3a
#define MSR_IA32_EFER			0xc0000080

#define CR0_PE	(1ul << 0)
#define CR0_MP	(1ul << 1)
#define CR0_EM	(1ul << 2)
#define CR0_TS	(1ul << 3)
#define CR0_ET	(1ul << 4)
#define CR0_NE	(1ul << 5)
#define CR0_WP	(1ul << 16)
#define CR0_AM	(1ul << 18)
#define CR0_NW	(1ul << 29)
#define CR0_CD	(1ul << 30)
#define CR0_PG	(1ul << 31)

#define CR4_VME		(1ul << 0)
#define CR4_PVI		(1ul << 1)
#define CR4_TSD		(1ul << 2)
#define CR4_DE		(1ul << 3)
#define CR4_PSE		(1ul << 4)
#define CR4_PAE		(1ul << 5)
#define CR4_MCE		(1ul << 6)
#define CR4_PGE		(1ul << 7)
#define CR4_PCE		(1ul << 8)
#define CR4_OSFXSR	(1ul << 9)
#define CR4_OSXMMEXCPT	(1ul << 10)
#define CR4_UMIP	(1ul << 11)
#define CR4_LA57	(1ul << 12)
#define CR4_VMXE	(1ul << 13)
#define CR4_SMXE	(1ul << 14)
#define CR4_FSGSBASE	(1ul << 16)
#define CR4_PCIDE	(1ul << 17)
#define CR4_OSXSAVE	(1ul << 18)
#define CR4_SMEP	(1ul << 20)
#define CR4_SMAP	(1ul << 21)
#define CR4_PKE		(1ul << 22)

#define EFER_SCE	(1ul << 0)
#define EFER_LME	(1ul << 8)
#define EFER_LMA	(1ul << 10)
#define EFER_NXE	(1ul << 11)


static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_regs r;
	__asm__ volatile("cpuid"
			 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			 : "a"(leaf), "c"(subleaf));
	return r;
}

#define DEFINE_CR_ACCESSORS(n)						\
static inline uint64_t read_cr##n(void)					\
{									\
	uint64_t v;							\
	__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));		\
	return v;							\
}									\
static inline void write_cr##n(uint64_t v)				\
{									\
	__asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory");	\
}
DEFINE_CR_ACCESSORS(0)
DEFINE_CR_ACCESSORS(2)
DEFINE_CR_ACCESSORS(3)
DEFINE_CR_ACCESSORS(4)
#undef DEFINE_CR_ACCESSORS

static inline __attribute__((noreturn)) void cpu_halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

#endif
