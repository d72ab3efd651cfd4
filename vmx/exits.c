/* The exit dispatch table and the handlers small enough to live together. */
#include "vmx/exits.h"
#include "vmx/interrupts.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs_fields.h"
#include "vmx/vmx.h"
#include "vmx/vmx_ops.h"
#include "vmm/log.h"
#include "vmm/status.h"
#include "vmm/x86.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

typedef void (*exit_handler)(struct vcpu *v);

static const char *const exit_reason_names[EXIT_REASON_MAX] = {
	[0] = "exception or NMI", [1] = "external interrupt", [2] = "triple fault",
	[3] = "INIT", [4] = "SIPI", [5] = "I/O SMI", [6] = "other SMI",
	[7] = "interrupt window", [8] = "NMI window", [9] = "task switch", [10] = "CPUID",
	[11] = "GETSEC", [12] = "HLT", [13] = "INVD", [14] = "INVLPG", [15] = "RDPMC",
	[16] = "RDTSC", [17] = "RSM", [18] = "VMCALL", [19] = "VMCLEAR", [20] = "VMLAUNCH",
	[21] = "VMPTRLD", [22] = "VMPTRST", [23] = "VMREAD", [24] = "VMRESUME",
	[25] = "VMWRITE", [26] = "VMXOFF", [27] = "VMXON", [28] = "control-register access",
	[29] = "MOV DR", [30] = "I/O instruction", [31] = "RDMSR", [32] = "WRMSR",
	[33] = "invalid guest state", [34] = "MSR loading", [36] = "MWAIT",
	[37] = "monitor trap flag", [39] = "MONITOR", [40] = "PAUSE",
	[41] = "machine-check event", [43] = "TPR below threshold", [44] = "APIC access",
	[45] = "virtualized EOI", [46] = "GDTR/IDTR access", [47] = "LDTR/TR access",
	[48] = "EPT violation", [49] = "EPT misconfiguration", [50] = "INVEPT",
	[51] = "RDTSCP", [52] = "VMX-preemption timer", [53] = "INVVPID", [54] = "WBINVD",
	[55] = "XSETBV", [56] = "APIC write", [57] = "RDRAND", [58] = "INVPCID",
	[59] = "VMFUNC", [60] = "ENCLS", [61] = "RDSEED", [62] = "page-modification log full",
	[63] = "XSAVES", [64] = "XRSTORS",
};

const char *vmx_exit_reason_name(uint32_t reason)
{
	if (reason < EXIT_REASON_MAX && exit_reason_names[reason])
		return exit_reason_names[reason];
	return "unknown";
}

static void handle_exception_or_nmi(struct vcpu *v)
{
	uint32_t info = (uint32_t)vmread(VMCS_EXIT_INTR_INFO);
	unsigned type = (info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;

	/* An NMI for the host: the VMM has no NMI sources, so there is nothing to forward. */
	if (type == INTR_TYPE_NMI)
		return;
	if ((info & INTR_INFO_VECTOR_MASK) == 14 && v->shadow) {
		handle_page_fault(v, vmread(VMCS_EXIT_QUALIFICATION), (uint32_t)vmread(VMCS_EXIT_INTR_ERROR));
		return;
	}
	/* Intercepted to keep a guest from wedging the CPU in an endless #AC loop; the guest still gets it. */
	vcpu_inject_exception(v, info & INTR_INFO_VECTOR_MASK, info & INTR_INFO_DELIVER_ERROR,
			      (uint32_t)vmread(VMCS_EXIT_INTR_ERROR));
}

static void handle_external_interrupt(struct vcpu *v)
{
	(void)v;	/* the host runs with interrupts masked; nothing to dispatch */
}

static void handle_triple_fault(struct vcpu *v)
{
	vm_end(v->vm, VMM_STATUS_GUEST_TRIPLE_FAULT, "triple fault at rip %#lx (cr0 %#lx)",
	       vmread(VMCS_GUEST_RIP), vmread(VMCS_CR0_READ_SHADOW));
}

static void handle_skip(struct vcpu *v)
{
	/* INVD and WBINVD: guest memory is coherent write-back RAM; nothing to write back. */
	vcpu_skip_instruction(v);
}

static void handle_invlpg(struct vcpu *v)
{
	if (v->shadow)
		mmu_invlpg(&v->mmu, vmread(VMCS_EXIT_QUALIFICATION));
	else
		vmx_invalidate_vpid(v->vpid);
	vcpu_skip_instruction(v);
}

static void handle_undefined_opcode(struct vcpu *v)
{
	/* VMX, SMX, MONITOR/MWAIT and XSAVE are hidden in CPUID: their instructions fault. */
	vcpu_inject_ud(v);
}

static const exit_handler handlers[EXIT_REASON_MAX] = {
	[EXIT_REASON_EXCEPTION_NMI] = handle_exception_or_nmi,
	[EXIT_REASON_EXTERNAL_INTERRUPT] = handle_external_interrupt,
	[EXIT_REASON_TRIPLE_FAULT] = handle_triple_fault,
	[EXIT_REASON_INTERRUPT_WINDOW] = handle_interrupt_window,
	[EXIT_REASON_CPUID] = handle_cpuid,
	[11] = handle_undefined_opcode,			/* GETSEC */
	[EXIT_REASON_HLT] = handle_hlt,
	[EXIT_REASON_INVD] = handle_skip,
	[EXIT_REASON_INVLPG] = handle_invlpg,
	[EXIT_REASON_VMCALL] = handle_vmcall,
	[19 ... 27] = handle_undefined_opcode,		/* VMCLEAR .. VMXON */
	[EXIT_REASON_CR_ACCESS] = handle_cr_access,
	[EXIT_REASON_IO] = handle_io,
	[EXIT_REASON_RDMSR] = handle_rdmsr,
	[EXIT_REASON_WRMSR] = handle_wrmsr,
	[36] = handle_undefined_opcode,			/* MWAIT */
	[39] = handle_undefined_opcode,			/* MONITOR */
	[EXIT_REASON_EPT_VIOLATION] = handle_ept_violation,
	[EXIT_REASON_EPT_MISCONFIG] = handle_ept_misconfig,
	[50] = handle_undefined_opcode,			/* INVEPT */
	[EXIT_REASON_PREEMPTION_TIMER] = handle_preemption_timer,
	[53] = handle_undefined_opcode,			/* INVVPID */
	[EXIT_REASON_WBINVD] = handle_skip,
	[55] = handle_undefined_opcode,			/* XSETBV */
	[59] = handle_undefined_opcode,			/* VMFUNC */
};

void vmx_handle_exit(struct vcpu *v, uint32_t reason)
{
	struct vm *vm = v->vm;

	vm->stats.exits++;
	if (reason < ARRAY_SIZE(vm->stats.exits_by_reason))
		vm->stats.exits_by_reason[reason]++;
	if (reason < EXIT_REASON_MAX && handlers[reason]) {
		handlers[reason](v);
		return;
	}
	vm_end(vm, VMM_STATUS_GUEST_UNHANDLED,
	       "unhandled VM exit %u (%s) at rip %#lx, qualification %#lx", reason,
	       vmx_exit_reason_name(reason), vmread(VMCS_GUEST_RIP),
	       vmread(VMCS_EXIT_QUALIFICATION));
}
