/* Thin wrappers over the x86 instructions the guests use: port I/O, CPUID, RDTSC, control registers. */
#ifndef GUEST_X86_H
#define GUEST_X86_H

#include <stdint.h>

#define EXC_DE	0
#define EXC_DB	1
#define EXC_BP	3
#define EXC_UD	6
#define EXC_DF	8
#define EXC_GP	13
#define EXC_PF	14

#define CR4_VMXE	(1u << 13)

#define CPUID_1_ECX_VMX		(1u << 5)
#define CPUID_1_ECX_HYPERVISOR	(1u << 31)
#define CPUID_HV_BASE		0x40000000	/* max hypervisor leaf in EAX, signature in EBX, ECX, EDX */

struct cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};

/* The operand of lidt/lgdt in 32-bit mode: 16-bit limit, 32-bit base, packed. */
struct __attribute__((packed)) table_desc {
	uint16_t limit;
	uint32_t base;
};

static inline void outb(uint16_t port, uint8_t v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline void outw(uint16_t port, uint16_t v)
{
	asm volatile("outw %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline void outl(uint16_t port, uint32_t v)
{
	asm volatile("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_regs r;

	asm volatile("cpuid"
		     : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
		     : "a"(leaf), "c"(subleaf));
	return r;
}

/*
 * LFENCE on both sides keeps RDTSC from being reordered with the measured
 * code (Intel SDM: LFENCE waits for earlier instructions to complete). It
 * needs SSE2, which every CPU with VT-x has.
 */
static inline uint64_t rdtsc_fenced(void)
{
	uint32_t lo, hi;

	asm volatile("lfence\n\trdtsc\n\tlfence" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

static inline uint32_t read_cr4(void)
{
	uint32_t v;

	asm volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static inline void lidt(const struct table_desc *d)
{
	asm volatile("lidt %0" : : "m"(*d) : "memory");
}

static inline void __attribute__((noreturn)) halt_forever(void)
{
	for (;;)
		asm volatile("cli\n\thlt");
}

#endif
