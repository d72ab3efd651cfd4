/* The VMM's wanted VM-execution, exit and entry controls, adjusted to the CPU once at boot. */
#include "vmx/caps.h"
#include "vmx/controls.h"
#include "vmx/vmcs_fields.h"
#include "vmx/vmx.h"
#include "vmm/format.h"
#include "vmm/log.h"
#include "vmm/string.h"
#include "vmm/x86.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct vmx_control_bit pin_wanted[] = {
	{ PIN_EXTERNAL_INTERRUPT_EXITING, "external-interrupt exiting", true },
	{ PIN_NMI_EXITING, "NMI exiting", true },
	{ PIN_PREEMPTION_TIMER_BIT, "VMX-preemption timer", false },
};

static const struct vmx_control_bit proc_wanted[] = {
	{ PROC_HLT_EXITING, "HLT exiting", true },
	/* Shadow paging (mmu=shadow) sees every CR3 access and INVLPG; EPT mode turns them off again. */
	{ PROC_INVLPG_EXITING, "INVLPG exiting", true },
	{ PROC_CR3_LOAD_EXITING, "CR3-load exiting", true },
	{ PROC_CR3_STORE_EXITING, "CR3-store exiting", true },
	{ PROC_UNCONDITIONAL_IO_EXITING, "unconditional I/O exiting", true },
	{ PROC_MWAIT_EXITING, "MWAIT exiting", true },
	{ PROC_MONITOR_EXITING, "MONITOR exiting", true },
	/*
	 * CR8 is the local APIC's TPR (devices/lapic.c holds the one copy):
	 * both MMU modes trap MOV to/from CR8 rather than use the TPR shadow,
	 * which would need a virtual-APIC page kept in step with MMIO TPR
	 * accesses and TPR-threshold exits.  CR8 is only reachable in 64-bit
	 * mode and rarely touched, so the exit per access costs little.
	 */
	{ PROC_CR8_LOAD_EXITING, "CR8-load exiting", true },
	{ PROC_CR8_STORE_EXITING, "CR8-store exiting", true },
	{ PROC_TSC_OFFSETTING, "TSC offsetting", false },
	{ PROC_SECONDARY_CONTROLS, "activate secondary controls", true },
};

static const struct vmx_control_bit proc2_wanted[] = {
	/* Without them guests run on shadow page tables (mmu=shadow). */
	{ PROC2_ENABLE_EPT, "enable EPT", false },
	{ PROC2_UNRESTRICTED_GUEST_BIT, "unrestricted guest", false },
	{ PROC2_ENABLE_VPID, "enable VPID", false },
	{ PROC2_ENABLE_RDTSCP, "enable RDTSCP", false },
	{ PROC2_ENABLE_INVPCID, "enable INVPCID", false },
};

/*
 * A VM exit sets DR7 to 0x400 and clears IA32_DEBUGCTL whatever the controls
 * (SDM 28.3): the guest's values survive an exit only if the exit saves them
 * into the VMCS and the next entry loads them back.  DR0-DR3 and DR6 are
 * neither saved nor changed by exits; the host never uses them, so the
 * guest's stay in the CPU.
 */
static const struct vmx_control_bit exit_wanted[] = {
	{ EXIT_SAVE_DEBUG_CONTROLS, "save debug controls", true },
	{ EXIT_HOST_ADDRESS_SPACE_SIZE, "host address-space size", true },
	{ EXIT_SAVE_EFER, "save IA32_EFER", true },
	{ EXIT_LOAD_EFER, "load IA32_EFER", true },
	{ EXIT_SAVE_PAT, "save IA32_PAT", true },
	{ EXIT_LOAD_PAT, "load IA32_PAT", true },
	{ EXIT_SAVE_PREEMPTION_TIMER, "save VMX-preemption timer value", false },
};

static const struct vmx_control_bit entry_wanted[] = {
	{ ENTRY_LOAD_DEBUG_CONTROLS, "load debug controls", true },
	{ ENTRY_LOAD_EFER, "load IA32_EFER", true },
	{ ENTRY_LOAD_PAT, "load IA32_PAT", true },
};

/*
 * Controls the VMM does not want but the CPU may force to 1 without the
 * TRUE MSRs (CR3 load/store exiting on older parts): the TRUE MSRs are
 * preferred because they report those as settable to 0 where they are.
 */
static uint64_t control_msr(uint32_t plain, uint32_t true_msr)
{
	return (rdmsr(MSR_IA32_VMX_BASIC) & VMX_BASIC_TRUE_CTLS) ? rdmsr(true_msr) : rdmsr(plain);
}

static struct vmx_config config;

const struct vmx_config *vmx_config(void)
{
	return &config;
}

static void note_missing(const char *group, const struct vmx_control_bit *wanted, size_t n,
			 uint32_t missing, bool required)
{
	uint32_t bit;

	for (bit = 1; bit; bit <<= 1) {
		const char *name;
		size_t used;

		if (!(missing & bit))
			continue;
		name = vmx_control_name(wanted, n, bit);
		if (!required) {
			log_info("vmx: this CPU lacks the %s control %s; going without\n", group, name);
			continue;
		}
		used = strlen(config.missing);
		fmt_snprintf(config.missing + used, sizeof(config.missing) - used, "%s%s",
			     used ? ", " : "", name);
	}
}

static uint32_t adjust(const char *group, uint64_t msr, const struct vmx_control_bit *wanted,
		       size_t n)
{
	struct vmx_control_result r = vmx_adjust_controls(msr, wanted, n);

	note_missing(group, wanted, n, r.missing_required, true);
	note_missing(group, wanted, n, r.missing_optional, false);
	return r.value;
}

void vmx_compute_controls(const struct vmx_caps *caps)
{
	config.pin = adjust("pin-based", control_msr(MSR_IA32_VMX_PINBASED_CTLS,
						     MSR_IA32_VMX_TRUE_PINBASED_CTLS),
			    pin_wanted, ARRAY_SIZE(pin_wanted));
	config.proc = adjust("processor-based", control_msr(MSR_IA32_VMX_PROCBASED_CTLS,
							   MSR_IA32_VMX_TRUE_PROCBASED_CTLS),
			     proc_wanted, ARRAY_SIZE(proc_wanted));
	config.proc_forced = (uint32_t)control_msr(MSR_IA32_VMX_PROCBASED_CTLS,
						   MSR_IA32_VMX_TRUE_PROCBASED_CTLS);
	if (caps->secondary_controls)
		config.proc2 = adjust("secondary", rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2),
				      proc2_wanted, ARRAY_SIZE(proc2_wanted));
	else
		config.proc2 = adjust("secondary", 0, proc2_wanted, ARRAY_SIZE(proc2_wanted));
	config.exit = adjust("VM-exit", control_msr(MSR_IA32_VMX_EXIT_CTLS,
						    MSR_IA32_VMX_TRUE_EXIT_CTLS),
			     exit_wanted, ARRAY_SIZE(exit_wanted));
	config.entry = adjust("VM-entry", control_msr(MSR_IA32_VMX_ENTRY_CTLS,
						      MSR_IA32_VMX_TRUE_ENTRY_CTLS),
			      entry_wanted, ARRAY_SIZE(entry_wanted));
	/* The preemption timer is only worth having if its value survives exits. */
	if (!(config.exit & EXIT_SAVE_PREEMPTION_TIMER))
		config.pin &= ~PIN_PREEMPTION_TIMER_BIT;
	config.cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	config.cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	config.cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	config.cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	config.guests_supported = !config.missing[0];
	config.ept_supported = (config.proc2 & PROC2_ENABLE_EPT) && (config.proc2 & PROC2_UNRESTRICTED_GUEST_BIT);
	if (!config.guests_supported)
		log_info("vmx: running guests needs controls this CPU lacks: %s\n", config.missing);
	log_debug("vmx: controls pin=%#x proc=%#x proc2=%#x exit=%#x entry=%#x\n", config.pin,
		  config.proc, config.proc2, config.exit, config.entry);
}
