/* VMCS dump and VM-instruction error names: what a failed VM entry needs to be understood. */
#include "vmx/vmcs_fields.h"
#include "vmx/vmx.h"
#include "vmx/vmx_ops.h"
#include "vmm/log.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *const instruction_errors[] = {
	[1] = "VMCALL executed in VMX root operation",
	[2] = "VMCLEAR with invalid physical address",
	[3] = "VMCLEAR with VMXON pointer",
	[4] = "VMLAUNCH with non-clear VMCS",
	[5] = "VMRESUME with non-launched VMCS",
	[6] = "VMRESUME after VMXOFF",
	[7] = "VM entry with invalid control field(s)",
	[8] = "VM entry with invalid host-state field(s)",
	[9] = "VMPTRLD with invalid physical address",
	[10] = "VMPTRLD with VMXON pointer",
	[11] = "VMPTRLD with incorrect VMCS revision identifier",
	[12] = "VMREAD/VMWRITE from/to unsupported VMCS component",
	[13] = "VMWRITE to read-only VMCS component",
	[15] = "VMXON executed in VMX root operation",
	[16] = "VM entry with invalid executive-VMCS pointer",
	[17] = "VM entry with non-launched executive VMCS",
	[18] = "VM entry with executive-VMCS pointer not VMXON pointer",
	[19] = "VMCALL with non-clear VMCS",
	[20] = "VMCALL with invalid VM-exit control fields",
	[22] = "VMCALL with incorrect MSEG revision identifier",
	[23] = "VMXOFF under dual-monitor treatment of SMIs and SMM",
	[24] = "VMCALL with invalid SMM-monitor features",
	[25] = "VM entry with invalid VM-execution control fields in executive VMCS",
	[26] = "VM entry with events blocked by MOV SS",
	[28] = "invalid operand to INVEPT/INVVPID",
};

const char *vmx_instruction_error_name(uint32_t error)
{
	if (error < ARRAY_SIZE(instruction_errors) && instruction_errors[error])
		return instruction_errors[error];
	return "unknown";
}

struct named_field {
	const char *name;
	uint32_t field;
};

#define F(f) { #f, VMCS_##f }
static const struct named_field dumped_fields[] = {
	F(PIN_CONTROLS), F(PROC_CONTROLS), F(PROC_CONTROLS2), F(EXIT_CONTROLS),
	F(ENTRY_CONTROLS), F(EXCEPTION_BITMAP), F(ENTRY_INTR_INFO), F(ENTRY_EXCEPTION_ERROR),
	F(ENTRY_INSTRUCTION_LEN), F(CR0_GUEST_HOST_MASK), F(CR0_READ_SHADOW),
	F(CR4_GUEST_HOST_MASK), F(CR4_READ_SHADOW), F(EPT_POINTER), F(VPID),
	F(GUEST_CR0), F(GUEST_CR3), F(GUEST_CR4), F(GUEST_EFER), F(GUEST_PAT), F(GUEST_DR7),
	F(GUEST_RIP), F(GUEST_RSP), F(GUEST_RFLAGS), F(GUEST_INTERRUPTIBILITY),
	F(GUEST_ACTIVITY_STATE), F(GUEST_PENDING_DBG), F(LINK_POINTER),
	F(GUEST_CS_SEL), F(GUEST_CS_BASE), F(GUEST_CS_LIMIT), F(GUEST_CS_AR),
	F(GUEST_SS_SEL), F(GUEST_SS_BASE), F(GUEST_SS_LIMIT), F(GUEST_SS_AR),
	F(GUEST_DS_SEL), F(GUEST_DS_BASE), F(GUEST_DS_LIMIT), F(GUEST_DS_AR),
	F(GUEST_ES_SEL), F(GUEST_ES_BASE), F(GUEST_ES_LIMIT), F(GUEST_ES_AR),
	F(GUEST_FS_SEL), F(GUEST_FS_BASE), F(GUEST_FS_LIMIT), F(GUEST_FS_AR),
	F(GUEST_GS_SEL), F(GUEST_GS_BASE), F(GUEST_GS_LIMIT), F(GUEST_GS_AR),
	F(GUEST_TR_SEL), F(GUEST_TR_BASE), F(GUEST_TR_LIMIT), F(GUEST_TR_AR),
	F(GUEST_LDTR_SEL), F(GUEST_LDTR_BASE), F(GUEST_LDTR_LIMIT), F(GUEST_LDTR_AR),
	F(GUEST_GDTR_BASE), F(GUEST_GDTR_LIMIT), F(GUEST_IDTR_BASE), F(GUEST_IDTR_LIMIT),
	F(GUEST_PDPTE0), F(GUEST_PDPTE1), F(GUEST_PDPTE2), F(GUEST_PDPTE3),
	F(GUEST_SYSENTER_CS), F(GUEST_SYSENTER_ESP), F(GUEST_SYSENTER_EIP),
	F(HOST_CR0), F(HOST_CR3), F(HOST_CR4), F(HOST_RIP), F(HOST_RSP), F(HOST_EFER),
	F(HOST_PAT), F(HOST_TR_BASE), F(HOST_GDTR_BASE), F(HOST_IDTR_BASE),
	F(EXIT_REASON), F(EXIT_QUALIFICATION), F(INSTRUCTION_ERROR),
};
#undef F

void vmx_dump_vmcs(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dumped_fields); i++) {
		uint64_t value;

		/* Not vmread(): a field this CPU lacks must not end the dump. */
		if (!vmread_try(dumped_fields[i].field, &value))
			log_error("vmcs:   %-24s (not readable)\n", dumped_fields[i].name);
		else
			log_error("vmcs:   %-24s %#lx\n", dumped_fields[i].name, value);
	}
}
