/* A vCPU: its VMCS, the guest registers the VMCS does not hold, and the run loop. */
#ifndef VMX_VCPU_H
#define VMX_VCPU_H

#include <stdbool.h>
#include <stdint.h>
#include "mmu/mmu.h"
#include "vmm/vm.h"
#include "vmm/x86.h"

/*
 * Guest CR0 bits that exit when written.  PG: EFER.LMA and the PDPTEs; NE:
 * the real one must stay 1.  Shadow paging adds PE (the CPU needs it set
 * without unrestricted guest) and WP (the CPU runs with it set).
 */
#define RFLAGS_AC			(1ull << 18)
#define VCPU_CR0_INTERCEPTED_EPT	(CR0_PG | CR0_NE)
#define VCPU_CR0_INTERCEPTED_SHADOW	(CR0_PG | CR0_NE | CR0_PE | CR0_WP)

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

	/* Interrupt delivery and timers (vmx/interrupts.c). */
	uint32_t proc_controls;		/* the primary controls in the VMCS (interrupt-window exiting changes) */
	bool preemption_timer;		/* the VMX-preemption timer is on: watchdog and device deadlines */
	bool timer_is_watchdog;		/* the armed timer is the watchdog's expiry, not a device deadline */
	uint32_t timer_armed_ticks;	/* what the timer was armed with before the last entry */
	uint64_t watchdog_left;		/* TSC cycles of guest run time left (watchdog= on) */
	uint64_t interrupts_injected;
	unsigned fruitless_wakeups;	/* HLT wake-ups in a row that found nothing deliverable */

	/*
	 * mmu=shadow: EPT is off and the CPU walks the MMU's shadow tables.
	 * The guest's CR3, EFER and PDPTEs then differ from what the VMCS holds
	 * (vmx/guest_paging.c keeps both); mmu.paging is the guest's view.
	 */
	bool shadow;
	struct mmu_vcpu mmu;
	unsigned mmu_requests;		/* MMU_REQ_*, served before the next entry */
	uint64_t shadow_cr3;		/* the guest's CR3 (the CPU's holds the shadow root) */
	uint64_t shadow_efer;		/* the guest's EFER */
	uint64_t shadow_pdptes[4];	/* the guest's PDPTE registers */
	/* The last table unprotected instead of emulated: the same again with no exit between means no progress. */
	struct {
		uint64_t exit, rip, gfn;
	} unprotected;
};

/* Entry state per multiboot 1: 32-bit protected mode, paging off, EAX magic, EBX info.  NULL: the guest ended (no memory). */
struct vcpu *vcpu_create(struct vm *vm, uint32_t entry, uint32_t multiboot_info, bool shadow);
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

/* The CR0/CR4/EFER the CPU runs the guest with, for the values the guest sees (vmx/guest_paging.c). */
uint64_t vcpu_real_cr0(const struct vcpu *v, uint64_t guest_cr0);
uint64_t vcpu_real_cr4(const struct vcpu *v, uint64_t guest_cr4);
uint64_t vcpu_real_efer(const struct vcpu *v, uint64_t guest_efer);

/* The guest's view of its paging registers, in either MMU mode (vmx/guest_paging.c). */
uint64_t vcpu_cr0(struct vcpu *v);
uint64_t vcpu_cr3(struct vcpu *v);
uint64_t vcpu_cr4(struct vcpu *v);
uint64_t vcpu_efer(struct vcpu *v);
bool vcpu_long_mode_active(struct vcpu *v);
/* In 64-bit mode: IA-32e mode active and a CS with L set (not compatibility mode). */
bool vcpu_in_64bit_mode(struct vcpu *v);
void vcpu_set_cr0(struct vcpu *v, uint64_t cr0);
void vcpu_set_cr3(struct vcpu *v, uint64_t cr3);
void vcpu_set_cr4(struct vcpu *v, uint64_t cr4);
void vcpu_set_efer(struct vcpu *v, uint64_t efer);

/* PAE paging: loads the PDPTEs at cr3 as the CPU does on CR3/CR0/CR4 writes.  False: the write raises #GP. */
bool vcpu_load_pdptes(struct vcpu *v, uint64_t cr3);

/* After CR0/CR3/CR4/EFER changed: tells the shadow MMU, or flushes the TLB the SDM says the change flushes. */
void vcpu_paging_changed(struct vcpu *v, bool flush);

/* WALK_* flags of an explicit data access the guest makes at CPL 3 (user) or below, EFLAGS.AC included for SMAP. */
unsigned vcpu_data_access(bool user, bool write);

/* Translates a guest-linear address for an access the VMM makes on the guest's behalf (WALK_* flags), setting A/D bits. */
bool vcpu_gva_to_gpa(struct vcpu *v, uint64_t gva, unsigned access, uint64_t *gpa, uint32_t *pf_error);

/* Stores into guest RAM on the guest's behalf; in shadow mode through the MMU, so shadowed guest tables stay in step. */
bool vcpu_write_guest(struct vcpu *v, uint64_t gpa, const void *data, unsigned len);

/* Serves the MMU's requests before a VM entry (root reload, TLB flush).  False: the guest ended. */
bool vcpu_serve_mmu_requests(struct vcpu *v);

#endif
