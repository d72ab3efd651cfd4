/* The test guests' runtime: console output, exit, checks and exception catching. */
#ifndef GUEST_GUEST_H
#define GUEST_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "guest/lib/multiboot.h"

/* isa-debug-exit: writing v here ends the run with status (v << 1) | 1. */
#define DEBUG_EXIT_PORT	0xf4

/* Exit values: 0 = pass (status 1), 1 = a check failed (status 3), 3 = unexpected exception (status 7). */
#define EXIT_PASS	0
#define EXIT_FAIL	1
#define EXIT_EXCEPTION	3

/* Each guest defines this; the runtime calls it after setting up stack, GDT and IDT. */
int guest_main(uint32_t magic, const struct multiboot_info *mbi);

void __attribute__((noreturn)) guest_exit(uint8_t v);

/*
 * The first argument after the program name, read as a decimal count: dflt
 * when there is none, 0 when it is not digits only or exceeds max.
 */
uint32_t first_count_arg(const struct multiboot_info *mbi, uint32_t dflt, uint32_t max);

/* Prints "guest: PASS <name>" and returns EXIT_PASS, for `return guest_pass("x");`. */
int guest_pass(const char *name);

void serial_putc(char c);
void serial_write(const char *s, size_t n);
void printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void __attribute__((noreturn)) check_failed(const char *file, int line, const char *cond);
void __attribute__((noreturn)) check_eq_failed(const char *file, int line, const char *cond,
					      uint32_t got, uint32_t want);
void __attribute__((noreturn)) check_eq64_failed(const char *file, int line, const char *cond,
						uint64_t got, uint64_t want);

/* A failed check is fatal: one FAIL line, then exit value 1. */
#define CHECK(cond)							\
	do {								\
		if (!(cond))						\
			check_failed(__FILE__, __LINE__, #cond);	\
	} while (0)

/* Like CHECK(a == b) on the low 32 bits of both, and the FAIL line also shows both values. */
#define CHECK_EQ(got, want)						\
	do {								\
		uint32_t got_ = (uint32_t)(got);			\
		uint32_t want_ = (uint32_t)(want);			\
		if (got_ != want_)					\
			check_eq_failed(__FILE__, __LINE__,		\
					#got " == " #want, got_, want_);\
	} while (0)

/* CHECK_EQ for values wider than 32 bits: PAE and long-mode entries, 64-bit addresses. */
#define CHECK_EQ64(got, want)						\
	do {								\
		uint64_t got_ = (uint64_t)(got);			\
		uint64_t want_ = (uint64_t)(want);			\
		if (got_ != want_)					\
			check_eq64_failed(__FILE__, __LINE__,		\
					  #got " == " #want, got_, want_);\
	} while (0)

/* What the CPU pushed plus our stub's registers; see isr.asm (guest/lib/ or, 64-bit, guest/lib64/). */
#ifdef __x86_64__
struct exc_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t ip, cs, flags, sp, ss;		/* the CPU pushes SS:RSP in every case */
};
#else
struct exc_frame {
	uint32_t edi, esi, ebp, esp, ebx, edx, ecx, eax;	/* pushad */
	uint32_t vector, error_code;
	uint32_t ip, cs, flags;		/* then ESP and SS only if the exception came from CPL 3 */
};
#endif

struct exception_record {
	int vector;			/* -1: none since expect_exception() */
	uint32_t error_code;
	uintptr_t eip;
	uintptr_t cr2;			/* read by the handler for #PF (vector 14) only */
	uintptr_t dr6;			/* read by the handler for #DB (vector 1) only */
};

#define NO_EXCEPTION	(-1)

/* The last exception taken, expected or not. */
extern volatile struct exception_record exception_last;

/* Where the handler resumes an expected exception; set by ASM_TRY(). 32 bits in both modes: guest code lies below 4 GiB. */
extern volatile uint32_t exception_resume_eip;

/*
 * Catching an exception the test provokes on purpose:
 *
 *	expect_exception(EXC_UD);
 *	asm volatile(ASM_TRY("1f") "vmxoff\n1:" : : : "memory");
 *	CHECK_EQ(exception_seen(), EXC_UD);
 *
 * ASM_TRY() must sit in the same asm statement as the instruction, so the
 * compiler cannot move code between arming and faulting. A fault with
 * another vector, or one with no ASM_TRY() armed, is still fatal.
 *
 * A trap (a single-step #DB) is caught the same way: exception_last.eip
 * holds the EIP the CPU pushed, which for a trap is the next instruction,
 * and the handler resumes at the label with EFLAGS.TF clear, so one step
 * stays one.
 */
#define ASM_TRY(label)	"movl $" label ", exception_resume_eip\n\t"

void expect_exception(int vector);

/* The vector caught since expect_exception() (or NO_EXCEPTION); disarms the handler. */
int exception_seen(void);

void idt_init(void);

/* Points IDT vector v at handler through an interrupt gate that code at privilege level dpl may use with INT. */
void idt_set_gate(int vector, void (*handler)(void), int dpl);

/* CPUID.0x40000000 EBX, ECX, EDX under our VMM. */
#define VMM_CPUID_SIGNATURE	"FreestandVMM"

/* True when CPUID shows a hypervisor and it signs as our VMM. */
bool under_vmm(void);

#endif
