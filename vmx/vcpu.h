/* A vCPU: its VMCS, the guest registers the VMCS does not hold, and the run loop. */
#ifndef VMX_VCPU_H
#define VMX_VCPU_H

#include <stdbool.h>
#include <stdint.h>
#include "vmm/vm.h"

/* Laid out for vmx/entry.asm (vmx/guest_regs.inc). */
struct guest_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t cr2;
};
_Static_assert(__builtin_offsetof(struct guest_regs, cr2) == 120, "vmx/guest_regs.inc");

struct pending_event {
	bool valid;
	uint32_t intr_info;
	uint32_t error_code;
	uint32_t instruction_len;
};

struct vcpu {
	struct vm *vm;
	struct guest_regs regs;
	uint64_t vmcs_pa;
	uint16_t vpid;			/* 0: no VPID (every entry and exit flushes) */
	bool launched;
	uint32_t entry_controls;	/* IA32e-mode guest changes with EFER.LMA */
	struct pending_event event;	/* injected on the next entry */
	uint64_t apic_base;
};

/* Entry state per multiboot 1: 32-bit protected mode, paging off, EAX magic, EBX info. */
struct vcpu *vcpu_create(struct vm *vm, uint32_t entry, uint32_t multiboot_info);
void vcpu_destroy(struct vcpu *v);

/* Runs until the guest ends (vm->ended). */
void vcpu_run(struct vcpu *v);

/* GPR n in the ModRM/exit-qualification numbering (4 = RSP, kept in the VMCS). */
uint64_t vcpu_gpr(struct vcpu *v, unsigned n);
void vcpu_set_gpr(struct vcpu *v, unsigned n, uint64_t value);

/* Completes the exiting instruction: RIP past it, STI/MOV-SS blocking dropped. */
void vcpu_skip_instruction(struct vcpu *v);

void vcpu_inject_exception(struct vcpu *v, unsigned vector, bool has_error, uint32_t error_code);
void vcpu_inject_gp(struct vcpu *v);
void vcpu_inject_ud(struct vcpu *v);

/* The guest's CPL, from SS.DPL as the SDM defines it for VMX. */
unsigned vcpu_cpl(void);

/* Zeroes the syscall MSRs the guest shares with the host CPU (vmx/exit_msr.c): every guest starts as after reset. */
void vmx_reset_guest_msrs(void);

/* The CR0/CR4 the CPU runs the guest with, for the values the guest sees. */
uint64_t vcpu_real_cr0(uint64_t guest_cr0);
uint64_t vcpu_real_cr4(uint64_t guest_cr4);

#endif
