/* Thin wrappers over the x86 instructions the guests use: port I/O, CPUID, RDTSC, control registers, MSRs, INVLPG. */
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

#define CR0_WP		(1u << 16)
#define CR0_NW		(1u << 29)
#define CR0_CD		(1u << 30)
#define CR0_PG		(1u << 31)

#define CR4_PSE		(1u << 4)
#define CR4_PAE		(1u << 5)
#define CR4_VMXE	(1u << 13)
#define CR4_PCIDE	(1u << 17)

#define EFLAGS_TF	(1u << 8)

#define DR6_BS		(1u << 14)	/* the #DB was a single-step trap */
#define DR6_INIT	0xffff0ff0u	/* DR6 with no debug condition recorded (the reserved bits read 1) */

#define MSR_EFER	0xc0000080
#define EFER_NXE	(1u << 11)

#define CPUID_1_ECX_VMX		(1u << 5)
#define CPUID_1_ECX_HYPERVISOR	(1u << 31)
#define CPUID_1_EDX_PSE		(1u << 3)
#define CPUID_1_EDX_PAE		(1u << 6)
#define CPUID_EXT_BASE		0x80000000	/* max extended leaf in EAX */
#define CPUID_EXT_FEATURES	0x80000001
#define CPUID_EXT_EDX_NX	(1u << 20)
#define CPUID_EXT_EDX_PAGE1GB	(1u << 26)
#define CPUID_EXT_ADDR_SIZES	0x80000008	/* EAX[7:0]: MAXPHYADDR */
#define CPUID_HV_BASE		0x40000000	/* max hypervisor leaf in EAX, signature in EBX, ECX, EDX */

struct cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};

/* The operand of lidt/lgdt: 16-bit limit, then a base as wide as the mode's addresses, packed. */
struct __attribute__((packed)) table_desc {
	uint16_t limit;
	uintptr_t base;
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

/* Control registers are as wide as the mode: uintptr_t serves 32- and 64-bit guests alike. */
static inline uintptr_t read_cr0(void)
{
	uintptr_t v;

	asm volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static inline void write_cr0(uintptr_t v)
{
	asm volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}

static inline uintptr_t read_cr2(void)
{
	uintptr_t v;

	asm volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static inline uintptr_t read_cr3(void)
{
	uintptr_t v;

	asm volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

/* Also flushes the TLB entries of non-global pages: the way to make table changes take effect. */
static inline void write_cr3(uintptr_t v)
{
	asm volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

static inline uintptr_t read_cr4(void)
{
	uintptr_t v;

	asm volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static inline void write_cr4(uintptr_t v)
{
	asm volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

/* The CPU sets DR6 status bits but never clears them: a test clears DR6 first. */
static inline uintptr_t read_dr6(void)
{
	uintptr_t v;

	asm volatile("mov %%dr6, %0" : "=r"(v));
	return v;
}

static inline void write_dr6(uintptr_t v)
{
	asm volatile("mov %0, %%dr6" : : "r"(v) : "memory");
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static inline void invlpg(uintptr_t va)
{
	asm volatile("invlpg (%0)" : : "r"(va) : "memory");
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
