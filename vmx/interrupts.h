/* External-interrupt delivery to the vCPU: the VM clock, device timers, injection, interrupt windows and HLT. */
#ifndef VMX_INTERRUPTS_H
#define VMX_INTERRUPTS_H

#include <stdbool.h>
#include <stdint.h>

struct vcpu;
struct vm;

/*
 * The VM clock: the host TSC plus every stretch of time skipped while the
 * guest was halted (vm->clock_skip), in TSC cycles at vm_clock_hz().  It
 * never goes back.  Device timers (PIT, local APIC) count on it, and the
 * guest's TSC is moved forward by the same skips, so a guest that times a
 * tick with RDTSC sees the length it programmed.
 */
uint64_t vm_clock_now(void *vm);

/* The TSC's rate (vmm/tsc.h: calibrated against the host's PIT). */
uint64_t vm_clock_hz(void);

struct ioapic_message;

/* The PIT's IRQ 0 edge: ISA IRQ 0 raised and lowered through vm_isa_irq() (a struct vm * as ctx). */
void vm_pit_irq0(void *vm);

/*
 * ISA IRQ line irq driven to level, wired as on a PC: IRQs 0-15 reach both
 * the 8259 pair (IRQ n) and the I/O APIC (IRQ 0 on GSI 2, IRQ n on GSI n,
 * as the MADT's override says); lines 16-23 (pc-testdev has 24) reach
 * only the I/O APIC's GSI 16-23.  A struct vm * as ctx: the pc-testdev
 * IRQ hook.
 */
void vm_isa_irq(void *vm, unsigned irq, bool level);

/*
 * The I/O APIC's messages to the one local APIC: fixed and lowest-priority
 * messages whose destination matches it go into its IRR (TMR for level
 * ones).  NMI, SMI, INIT and ExtINT messages are not delivered yet (counted
 * in vm->ioapic_dropped).
 */
void vm_ioapic_deliver(void *vm, const struct ioapic_message *msg);

/* The local APIC's EOI of a level-triggered vector, broadcast to the I/O APIC. */
void vm_lapic_eoi(void *vm, uint8_t vector);

/*
 * Before each VM entry (after event requeueing, before the pending event
 * is written): brings device timers up to the VM clock, injects the
 * highest-priority pending interrupt if the guest can take it now
 * (RFLAGS.IF = 1, no STI/MOV-SS blocking, no exception waiting to go in:
 * exceptions first), else turns on interrupt-window exiting so the exit
 * comes as soon as it can; and arms the preemption timer for the earlier
 * of the next timer deadline and the watchdog.
 */
void vcpu_prepare_entry_interrupts(struct vcpu *v);

/* After each VM exit: charges the guest's run time to the watchdog. */
void vcpu_account_run_time(struct vcpu *v);

/* Exit handlers (vmx/exits.c dispatches). */
void handle_interrupt_window(struct vcpu *v);
void handle_hlt(struct vcpu *v);
void handle_preemption_timer(struct vcpu *v);

#endif
