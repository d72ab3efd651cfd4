/* VM-exit dispatch: one handler per basic exit reason. */
#ifndef VMX_EXITS_H
#define VMX_EXITS_H

#include <stdbool.h>
#include <stdint.h>
#include "vmm/emulate.h"

struct vcpu;

#define EXIT_REASON_EXCEPTION_NMI	0
#define EXIT_REASON_EXTERNAL_INTERRUPT	1
#define EXIT_REASON_TRIPLE_FAULT	2
#define EXIT_REASON_INTERRUPT_WINDOW	7
#define EXIT_REASON_CPUID		10
#define EXIT_REASON_HLT			12
#define EXIT_REASON_INVD		13
#define EXIT_REASON_INVLPG		14
#define EXIT_REASON_VMCALL		18
#define EXIT_REASON_CR_ACCESS		28
#define EXIT_REASON_IO			30
#define EXIT_REASON_RDMSR		31
#define EXIT_REASON_WRMSR		32
#define EXIT_REASON_EPT_VIOLATION	48
#define EXIT_REASON_EPT_MISCONFIG	49
#define EXIT_REASON_PREEMPTION_TIMER	52
#define EXIT_REASON_WBINVD		54
#define EXIT_REASON_MAX			80

const char *vmx_exit_reason_name(uint32_t reason);

/* Handles one exit; the guest runs on unless a handler ended it (vm_end). */
void vmx_handle_exit(struct vcpu *v, uint32_t reason);

/* The handlers that live in their own files. */
void handle_cpuid(struct vcpu *v);
void handle_io(struct vcpu *v);
void handle_cr_access(struct vcpu *v);
void handle_rdmsr(struct vcpu *v);
void handle_wrmsr(struct vcpu *v);
void handle_vmcall(struct vcpu *v);
/* A #PF the CPU raised on the shadow tables (mmu=shadow): exit qualification and error code. */
void handle_page_fault(struct vcpu *v, uint64_t gva, uint32_t error_code);
/* EPT mode: a gpa without RAM (MMIO, slow path) and an MMIO spte (fast path), vmx/exit_mmio.c. */
void handle_ept_violation(struct vcpu *v);
void handle_ept_misconfig(struct vcpu *v);

/*
 * One instruction emulated for the guest (vmx/exit_mmio.c).  Its memory
 * accesses go through the guest's page tables and then, per gpa range, to
 * guest RAM or to the VM's MMIO bus.  In shadow mode the MMU's fault gives
 * a hint: the faulting linear page (hint_gva) maps hint_gpa's page, which
 * spares the walk for accesses the fault already checked.
 */
struct vcpu_emulation {
	/* in */
	bool have_hint;
	uint64_t hint_gva, hint_gpa;
	uint32_t hint_error_code;	/* the #PF error code of that fault */
	bool hint_not_ram;		/* the MMU found no memslot at hint_gpa (MMU_PF_MMIO) */
	/* out */
	struct emu_outcome out;
	uint64_t rip;			/* where the instruction is */
	bool nothing_there;		/* EMU_UNHANDLED: nothing_gpa is neither RAM nor a device */
	bool fetch_not_ram;		/* EMU_UNHANDLED: the instruction itself is not in RAM (at nothing_gpa) */
	uint64_t nothing_gpa, nothing_linear;
};

/*
 * Emulates the instruction at the guest's RIP.  EMU_OK: registers, RIP and
 * RFLAGS written back, and a single-step trap made pending when TF was set.
 * EMU_EXCEPTION: the exception is injected.  EMU_UNHANDLED: nothing changed
 * (but reads may have reached devices); e says why.
 */
enum emu_result vcpu_emulate(struct vcpu *v, struct vcpu_emulation *e);

/*
 * An MMIO exit at gpa: emulates the access (mmio_exits counts the ones
 * completed).  An event being delivered, an access to nothing, or an
 * instruction the emulator cannot handle ends the guest with status 24 and
 * a line naming the gpa or the instruction bytes and the reason.
 */
void vcpu_emulate_mmio(struct vcpu *v, struct vcpu_emulation *e, uint64_t gpa);

#endif
