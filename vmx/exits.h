/* VM-exit dispatch: one handler per basic exit reason. */
#ifndef VMX_EXITS_H
#define VMX_EXITS_H

#include <stdint.h>

struct vcpu;

#define EXIT_REASON_EXCEPTION_NMI	0
#define EXIT_REASON_EXTERNAL_INTERRUPT	1
#define EXIT_REASON_TRIPLE_FAULT	2
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

#endif
