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

/* Prints "guest: PASS <name>" and returns EXIT_PASS, for `return guest_pass("x");`. */
int guest_pass(const char *name);

void serial_putc(char c);
void serial_write(const char *s, size_t n);
void printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void __attribute__((noreturn)) check_failed(const char *file, int line, const char *cond);
void __attribute__((noreturn)) check_eq_failed(const char *file, int line, const char *cond,
					      uint32_t got, uint32_t want);

/* A failed check is fatal: one FAIL line, then exit value 1. */
#define CHECK(cond)							\
	do {								\
		if (!(cond))						\
			check_failed(__FILE__, __LINE__, #cond);	\
	} while (0)

/* Like CHECK(a == b), and the FAIL line also shows both values. */
#define CHECK_EQ(got, want)						\
	do {								\
		uint32_t got_ = (uint32_t)(got);			\
		uint32_t want_ = (uint32_t)(want);			\
		if (got_ != want_)					\
			check_eq_failed(__FILE__, __LINE__,		\
					#got " == " #want, got_, want_);\
	} while (0)

/* What the CPU pushed plus our stub's registers; see guest/lib/isr.asm. */
struct exc_frame {
	uint32_t edi, esi, ebp, esp, ebx, edx, ecx, eax;	/* pushad */
	uint32_t vector, error_code;
	uint32_t eip, cs, eflags;
};

struct exception_record {
	int vector;			/* -1: none since expect_exception() */
	uint32_t error_code;
	uint32_t eip;
};

#define NO_EXCEPTION	(-1)

/* The last exception taken, expected or not. */
extern volatile struct exception_record exception_last;

/* Where the handler resumes an expected exception; set by ASM_TRY(). */
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
 */
#define ASM_TRY(label)	"movl $" label ", exception_resume_eip\n\t"

void expect_exception(int vector);

/* The vector caught since expect_exception() (or NO_EXCEPTION); disarms the handler. */
int exception_seen(void);

void idt_init(void);

/* CPUID.0x40000000 EBX, ECX, EDX under our VMM. */
#define VMM_CPUID_SIGNATURE	"FreestandVMM"

/* True when CPUID shows a hypervisor and it signs as our VMM. */
bool under_vmm(void);

#endif
