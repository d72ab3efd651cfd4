/* The VMM's IDT: every exception in the VMM is reported in full and ends the run. */
#ifndef VMM_IDT_H
#define VMM_IDT_H

#include <stdint.h>

/* Laid out by vmm/isr.asm, lowest address first. */
struct cpu_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss;	/* pushed by the CPU */
};

void idt_init(void);
void exception_dispatch(struct cpu_frame *frame);

#endif
