/* vCPU lifecycle: the VMCS (host state, multiboot guest state, controls), event injection, the run loop. */
#include "vmx/exits.h"
#include "vmx/interrupts.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs_fields.h"
#include "vmx/vmx.h"
#include "vmx/vmx_ops.h"
#include "vmm/exit.h"
#include "vmm/log.h"
#include "vmm/memory.h"
#include "vmm/page_alloc.h"
#include "vmm/status.h"
#include "vmm/string.h"
#include "vmm/x86.h"

#define MSR_IA32_PAT		0x277
#define PAT_POWER_ON_VALUE	0x0007040600070406ull
#define MULTIBOOT_MAGIC		0x2badb002u

#define SEL_HOST_CODE		0x08
#define SEL_HOST_DATA		0x10
#define SEL_HOST_TSS		0x28

#define AR_CODE32		0xc09b	/* present, DPL 0, execute/read accessed, D, G */
#define AR_DATA32		0xc093	/* present, DPL 0, read/write accessed, D/B, G */
#define AR_TSS32_BUSY		0x008b

#define EXCEPTION_AC		17

#define EXCEPTION_PF		14

extern char gdt64[], tss64[];
extern int vmx_enter(struct guest_regs *regs, int launched);

static uint16_t next_vpid = 1;

static size_t pages_for_vcpu(void)
{
	return (sizeof(struct vcpu) + PAGE_SIZE - 1) / PAGE_SIZE;
}

static uint64_t host_idtr_base(void)
{
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } idtr;

	__asm__ volatile("sidt %0" : "=m"(idtr));
	return idtr.base;
}

static void write_host_state(void)
{
	vmwrite(VMCS_HOST_CR0, read_cr0());
	vmwrite(VMCS_HOST_CR3, read_cr3());
	vmwrite(VMCS_HOST_CR4, read_cr4());
	vmwrite(VMCS_HOST_CS_SEL, SEL_HOST_CODE);
	vmwrite(VMCS_HOST_SS_SEL, SEL_HOST_DATA);
	vmwrite(VMCS_HOST_DS_SEL, SEL_HOST_DATA);
	vmwrite(VMCS_HOST_ES_SEL, SEL_HOST_DATA);
	vmwrite(VMCS_HOST_FS_SEL, 0);
	vmwrite(VMCS_HOST_GS_SEL, 0);
	vmwrite(VMCS_HOST_TR_SEL, SEL_HOST_TSS);
	vmwrite(VMCS_HOST_FS_BASE, 0);
	vmwrite(VMCS_HOST_GS_BASE, 0);
	vmwrite(VMCS_HOST_TR_BASE, (uintptr_t)tss64);
	vmwrite(VMCS_HOST_GDTR_BASE, (uintptr_t)gdt64);
	vmwrite(VMCS_HOST_IDTR_BASE, host_idtr_base());
	vmwrite(VMCS_HOST_SYSENTER_CS, 0);
	vmwrite(VMCS_HOST_SYSENTER_ESP, 0);
	vmwrite(VMCS_HOST_SYSENTER_EIP, 0);
	vmwrite(VMCS_HOST_EFER, rdmsr(MSR_IA32_EFER));
	vmwrite(VMCS_HOST_PAT, rdmsr(MSR_IA32_PAT));
}

static void write_segment(uint32_t sel_field, uint16_t sel, uint32_t ar)
{
	/* Selector, base, limit and access rights are laid out at fixed distances from the selector field. */
	uint32_t index = (sel_field - VMCS_GUEST_ES_SEL) / 2;

	vmwrite(sel_field, sel);
	vmwrite(VMCS_GUEST_ES_BASE + 2 * index, 0);
	vmwrite(VMCS_GUEST_ES_LIMIT + 2 * index, 0xffffffff);
	vmwrite(VMCS_GUEST_ES_AR + 2 * index, ar);
}

/* Multiboot 1: 32-bit protected mode, flat 4 GiB segments, paging and interrupts off. */
/*
 * The x87 and SSE registers are not part of the VMCS: VM entries and exits
 * leave them as they are, so every guest would start with what the one
 * before it left.  The VMM never uses them itself (it is built without
 * SSE; CR4.OSFXSR is set and CR0.TS/EM clear since VMXON).
 */
static void reset_guest_fpu_state(void)
{
	static const uint32_t mxcsr_default = 0x1f80;

	__asm__ volatile("fninit\n\tldmxcsr %0\n\t"
			 "pxor %%xmm0, %%xmm0\n\tpxor %%xmm1, %%xmm1\n\tpxor %%xmm2, %%xmm2\n\t"
			 "pxor %%xmm3, %%xmm3\n\tpxor %%xmm4, %%xmm4\n\tpxor %%xmm5, %%xmm5\n\t"
			 "pxor %%xmm6, %%xmm6\n\tpxor %%xmm7, %%xmm7\n\tpxor %%xmm8, %%xmm8\n\t"
			 "pxor %%xmm9, %%xmm9\n\tpxor %%xmm10, %%xmm10\n\tpxor %%xmm11, %%xmm11\n\t"
			 "pxor %%xmm12, %%xmm12\n\tpxor %%xmm13, %%xmm13\n\tpxor %%xmm14, %%xmm14\n\t"
			 "pxor %%xmm15, %%xmm15"
			 : : "m"(mxcsr_default));
}

static void write_multiboot_guest_state(struct vcpu *v, uint32_t entry, uint32_t info)
{
	static const uint32_t data_segments[] = {
		VMCS_GUEST_ES_SEL, VMCS_GUEST_SS_SEL, VMCS_GUEST_DS_SEL,
		VMCS_GUEST_FS_SEL, VMCS_GUEST_GS_SEL,
	};
	unsigned i;

	reset_guest_fpu_state();
	write_segment(VMCS_GUEST_CS_SEL, 0x08, AR_CODE32);
	for (i = 0; i < sizeof(data_segments) / sizeof(data_segments[0]); i++)
		write_segment(data_segments[i], 0x10, AR_DATA32);
	vmwrite(VMCS_GUEST_TR_SEL, 0);
	vmwrite(VMCS_GUEST_TR_BASE, 0);
	vmwrite(VMCS_GUEST_TR_LIMIT, 0x67);
	vmwrite(VMCS_GUEST_TR_AR, AR_TSS32_BUSY);
	vmwrite(VMCS_GUEST_LDTR_SEL, 0);
	vmwrite(VMCS_GUEST_LDTR_BASE, 0);
	vmwrite(VMCS_GUEST_LDTR_LIMIT, 0);
	vmwrite(VMCS_GUEST_LDTR_AR, SEG_AR_UNUSABLE);
	vmwrite(VMCS_GUEST_GDTR_BASE, 0);
	vmwrite(VMCS_GUEST_GDTR_LIMIT, 0xffff);
	vmwrite(VMCS_GUEST_IDTR_BASE, 0);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, 0xffff);

	vmwrite(VMCS_CR0_GUEST_HOST_MASK, v->shadow ? VCPU_CR0_INTERCEPTED_SHADOW : VCPU_CR0_INTERCEPTED_EPT);
	vcpu_set_cr0(v, CR0_PE | CR0_ET);
	/* Every CR4 write exits: the VMM checks it against the features CPUID shows. */
	vmwrite(VMCS_CR4_GUEST_HOST_MASK, ~0ull);
	vcpu_set_cr4(v, 0);
	vmwrite(VMCS_GUEST_CR3, 0);	/* shadow mode: the root, before the first entry */
	vcpu_set_cr3(v, 0);
	/*
	 * DR7 goes through the VMCS (save/load debug controls); DR0-DR3 and DR6
	 * are the CPU's own, untouched by exits: reset them to their power-on
	 * values so that a guest does not see its predecessor's.
	 */
	vmwrite(VMCS_GUEST_DR7, 0x400);
	__asm__ volatile("mov %0, %%dr0\n\tmov %0, %%dr1\n\tmov %0, %%dr2\n\tmov %0, %%dr3\n\tmov %1, %%dr6"
			 : : "r"(0ul), "r"(0xffff0ff0ul));
	vmwrite(VMCS_GUEST_RSP, 0);
	vmwrite(VMCS_GUEST_RIP, entry);
	vmwrite(VMCS_GUEST_RFLAGS, 0x2);
	vmwrite(VMCS_GUEST_PENDING_DBG, 0);
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmwrite(VMCS_GUEST_ACTIVITY_STATE, 0);
	vmwrite(VMCS_GUEST_SYSENTER_CS, 0);
	vmwrite(VMCS_GUEST_SYSENTER_ESP, 0);
	vmwrite(VMCS_GUEST_SYSENTER_EIP, 0);
	vmwrite(VMCS_GUEST_DEBUGCTL, 0);
	vmwrite(VMCS_GUEST_PAT, PAT_POWER_ON_VALUE);
	vcpu_set_efer(v, 0);
	vmwrite(VMCS_LINK_POINTER, ~0ull);

	memset(&v->regs, 0, sizeof(v->regs));
	v->regs.rax = MULTIBOOT_MAGIC;
	v->regs.rbx = info;
}

static void write_controls(struct vcpu *v)
{
	const struct vmx_config *c = vmx_config();
	uint32_t pin = c->pin, proc = c->proc, proc2 = c->proc2;
	uint32_t shadow_exits = PROC_INVLPG_EXITING | PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING;

	if (v->shadow) {
		/* INVPCID is hidden in CPUID; with the control off it raises #UD as it should. */
		proc2 &= ~(PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST_BIT | PROC2_ENABLE_INVPCID);
	} else {
		proc = (proc & ~shadow_exits) | (c->proc_forced & shadow_exits);
	}
	/*
	 * The preemption timer serves the watchdog and the device timers alike
	 * (vmx/interrupts.c arms it before every entry): on whenever the CPU
	 * has it, watchdog or not.
	 */
	v->preemption_timer = pin & PIN_PREEMPTION_TIMER_BIT;
	v->watchdog_left = v->vm->watchdog_cycles;
	if (!v->vpid)
		proc2 &= ~PROC2_ENABLE_VPID;
	vmwrite(VMCS_PIN_CONTROLS, pin);
	v->proc_controls = proc;
	vmwrite(VMCS_PROC_CONTROLS, proc);
	vmwrite(VMCS_PROC_CONTROLS2, proc2);
	/* SDM 26.2.1.2: saving the timer's value needs the timer. */
	vmwrite(VMCS_EXIT_CONTROLS, (pin & PIN_PREEMPTION_TIMER_BIT) ? c->exit
								: c->exit & ~EXIT_SAVE_PREEMPTION_TIMER);
	v->entry_controls = c->entry;
	vmwrite(VMCS_ENTRY_CONTROLS, v->entry_controls);
	/* Shadow paging sees every #PF: the CPU raised it on the shadow tables, not the guest's. */
	vmwrite(VMCS_EXCEPTION_BITMAP, (1u << EXCEPTION_AC) | (v->shadow ? 1u << EXCEPTION_PF : 0));
	/* PFEC_MASK/MATCH spare nothing here: shadow mode must see every #PF, EPT mode takes no #PF exits. */
	vmwrite(VMCS_PF_ERROR_CODE_MASK, 0);
	vmwrite(VMCS_PF_ERROR_CODE_MATCH, 0);
	vmwrite(VMCS_CR3_TARGET_COUNT, 0);
	vmwrite(VMCS_EXIT_MSR_STORE_COUNT, 0);
	vmwrite(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	vmwrite(VMCS_ENTRY_INTR_INFO, 0);
	vmwrite(VMCS_TSC_OFFSET, 0);
	if (!v->shadow)
		vmwrite(VMCS_EPT_POINTER, v->vm->ept.eptp);
	if (v->vpid)
		vmwrite(VMCS_VPID, v->vpid);
}

struct vcpu *vcpu_create(struct vm *vm, uint32_t entry, uint32_t info, bool shadow)
{
	uint64_t page = memory_alloc_pages(pages_for_vcpu(), "a vCPU");
	struct vcpu *v = phys_to_virt(page);

	v->vm = vm;
	v->shadow = shadow;
	v->unprotected.exit = ~0ull;	/* no unprotect yet: never "the previous exit" */
	if (!mmu_vcpu_init(&vm->mmu, &v->mmu)) {
		memory_free_pages(page, pages_for_vcpu());
		vm_end(vm, VMM_STATUS_NO_MEMORY, "no memory for the vCPU's PAE root");
		return NULL;
	}
	v->vmcs_pa = memory_alloc_pages(1, "a VMCS");
	*(uint32_t *)phys_to_virt(v->vmcs_pa) = vmx_caps()->vmcs_revision;
	/* A VPID whose translations cannot be flushed would keep stale ones (some into freed shadow tables). */
	if ((vmx_config()->proc2 & PROC2_ENABLE_VPID) &&
	    (vmx_caps()->invvpid_single || vmx_caps()->invvpid_all)) {
		/* VPIDs are reused across guests: flush what a previous owner left. */
		v->vpid = next_vpid;
		next_vpid = next_vpid == 0xffff ? 1 : next_vpid + 1;
		vmx_invalidate_vpid(v->vpid);
	}
	vmclear(v->vmcs_pa);
	vmptrld(v->vmcs_pa);
	write_controls(v);
	write_host_state();
	write_multiboot_guest_state(v, entry, info);
	vm->vcpu = v;
	return v;
}

void vcpu_destroy(struct vcpu *v)
{
	vmclear(v->vmcs_pa);
	memory_free_pages(v->vmcs_pa, 1);
	mmu_vcpu_destroy(&v->mmu);
	v->vm->vcpu = NULL;
	memory_free_pages((uintptr_t)v, pages_for_vcpu());
}

/*
 * Register numbers in exit qualifications and ModRM order (rax rcx rdx rbx
 * rsp rbp rsi rdi r8..r15) to slots of struct guest_regs; RSP lives in the VMCS.
 */
static uint64_t *gpr_slot(struct vcpu *v, unsigned n)
{
	static const unsigned slot[16] = { 0, 2, 3, 1, 0, 6, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14 };

	return &v->regs.rax + slot[n & 15];
}

uint64_t vcpu_gpr(struct vcpu *v, unsigned n)
{
	return (n & 15) == 4 ? vmread(VMCS_GUEST_RSP) : *gpr_slot(v, n);
}

void vcpu_set_gpr(struct vcpu *v, unsigned n, uint64_t value)
{
	if ((n & 15) == 4)
		vmwrite(VMCS_GUEST_RSP, value);
	else
		*gpr_slot(v, n) = value;
}

void vcpu_skip_instruction(struct vcpu *v)
{
	uint64_t rip = vmread(VMCS_GUEST_RIP) + vmread(VMCS_EXIT_INSTRUCTION_LEN);

	/* Outside 64-bit mode RIP wraps at 32 bits. */
	if (!vcpu_in_64bit_mode(v))
		rip &= 0xffffffffull;
	vmwrite(VMCS_GUEST_RIP, rip);
	/* The instruction completed: STI and MOV SS blocking end with it. */
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY, vmread(VMCS_GUEST_INTERRUPTIBILITY) & ~3ull);
}

unsigned vcpu_cpl(void)
{
	return (vmread(VMCS_GUEST_SS_AR) >> 5) & 3;
}

static bool exception_has_error_code(unsigned vector)
{
	return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21 ||
	       vector == 29 || vector == 30;
}

static bool is_contributory(unsigned vector)
{
	return vector == 0 || (vector >= 10 && vector <= 13);
}

void vcpu_inject_exception(struct vcpu *v, unsigned vector, bool has_error, uint32_t error_code)
{
	struct pending_event *e = &v->event;

	if (e->valid && ((e->intr_info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT) ==
			INTR_TYPE_HW_EXCEPTION) {
		unsigned first = e->intr_info & INTR_INFO_VECTOR_MASK;

		/* SDM table 6-5: faulting while delivering a fault. */
		if (first == 8) {
			vm_end(v->vm, VMM_STATUS_GUEST_TRIPLE_FAULT,
			       "triple fault (exception %u while delivering #DF)", vector);
			return;
		}
		if ((is_contributory(first) && is_contributory(vector)) ||
		    (first == 14 && (is_contributory(vector) || vector == 14))) {
			vector = 8;
			has_error = true;
			error_code = 0;
		}
	}
	/* Real mode (unrestricted guest, CR0.PE = 0) pushes no error codes. */
	if (!(vmread(VMCS_GUEST_CR0) & CR0_PE))
		has_error = false;
	else
		has_error = has_error && exception_has_error_code(vector);
	e->valid = true;
	e->intr_info = INTR_INFO_VALID | (INTR_TYPE_HW_EXCEPTION << INTR_INFO_TYPE_SHIFT) | vector |
		       (has_error ? INTR_INFO_DELIVER_ERROR : 0);
	e->error_code = error_code;
	e->instruction_len = 0;
}

void vcpu_inject_gp(struct vcpu *v)
{
	vcpu_inject_exception(v, 13, true, 0);
}

void vcpu_inject_ud(struct vcpu *v)
{
	vcpu_inject_exception(v, 6, false, 0);
}

/* An exit during event delivery leaves the event undelivered: it goes in again on the next entry. */
static void requeue_interrupted_event(struct vcpu *v)
{
	uint32_t info = (uint32_t)vmread(VMCS_IDT_VECTORING_INFO);

	if (!(info & INTR_INFO_VALID))
		return;
	v->event.valid = true;
	v->event.intr_info = info & (INTR_INFO_VALID | INTR_INFO_TYPE_MASK |
				     INTR_INFO_DELIVER_ERROR | INTR_INFO_VECTOR_MASK);
	v->event.error_code = (info & INTR_INFO_DELIVER_ERROR) ?
			      (uint32_t)vmread(VMCS_IDT_VECTORING_ERROR) : 0;
	v->event.instruction_len = (uint32_t)vmread(VMCS_EXIT_INSTRUCTION_LEN);
}

static void deliver_pending_event(struct vcpu *v)
{
	if (!v->event.valid)
		return;
	vmwrite(VMCS_ENTRY_INTR_INFO, v->event.intr_info);
	vmwrite(VMCS_ENTRY_EXCEPTION_ERROR, v->event.error_code);
	vmwrite(VMCS_ENTRY_INSTRUCTION_LEN, v->event.instruction_len);
	v->event.valid = false;
}

static void entry_failed(struct vcpu *v, int rc)
{
	if (rc == 1) {
		vm_end(v->vm, VMM_STATUS_GUEST_ENTRY_FAILED, "VM entry failed: VMfailInvalid");
		return;
	}
	{
		uint32_t error = (uint32_t)vmread(VMCS_INSTRUCTION_ERROR);

		vm_end(v->vm, VMM_STATUS_GUEST_ENTRY_FAILED,
		       "VM entry failed: VM-instruction error %u (%s)", error,
		       vmx_instruction_error_name(error));
	}
	vmx_dump_vmcs();
}

/*
 * After an invalidation of every shadow page (mmu_invalidate_all()) the
 * obsolete pages are zapped one batch (MMU_ZAP_BATCH pages) before each
 * guest entry, so no single exit pays for a large zap: the guest runs
 * between batches.  Before the vCPU's MMU requests are served: a batch
 * asks for a TLB flush, and may zap the root the vCPU is about to reload
 * anyway.  (Obsolete roots still referenced count as obsolete pages until
 * their reload frees them; a step then finds nothing to do and costs
 * little.)
 */
static void zap_obsolete_batch(struct vcpu *v)
{
	struct mmu *mmu = &v->vm->mmu;

	if (mmu->stats.obsolete_pages)
		mmu_zap_obsolete_step(mmu);
}

void vcpu_run(struct vcpu *v)
{
	struct vm *vm = v->vm;

	while (!vm->ended) {
		uint32_t reason;
		int rc;

		if (v->shadow)
			zap_obsolete_batch(v);
		if (!vcpu_serve_mmu_requests(v))
			break;
		vcpu_prepare_entry_interrupts(v);
		deliver_pending_event(v);
		rc = vmx_enter(&v->regs, v->launched);
		if (rc) {
			entry_failed(v, rc);
			break;
		}
		v->launched = true;
		vcpu_account_run_time(v);
		reason = (uint32_t)vmread(VMCS_EXIT_REASON);
		if (reason & EXIT_REASON_ENTRY_FAILED) {
			vm_end(vm, VMM_STATUS_GUEST_ENTRY_FAILED,
			       "VM entry failed: exit reason %u (%s), qualification %#lx",
			       reason & 0xffff, vmx_exit_reason_name(reason & 0xffff),
			       vmread(VMCS_EXIT_QUALIFICATION));
			vmx_dump_vmcs();
			break;
		}
		requeue_interrupted_event(v);
		vmx_handle_exit(v, reason & 0xffff);
	}
}
