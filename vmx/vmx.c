/* VT-x detection, IA32_FEATURE_CONTROL, CR0/CR4 fixed bits, VMXON and VMXOFF. */
#include <stdbool.h>
#include "vmx/vmx.h"
#include "vmx/vmcs_fields.h"
#include "vmx/vmx_ops.h"
#include "vmm/exit.h"
#include "vmm/log.h"
#include "vmm/memory.h"
#include "vmm/status.h"
#include "vmm/string.h"
#include "vmm/x86.h"

#define CPUID_1_ECX_VMX		(1u << 5)
#define FOUR_GIB		(1ull << 32)

static struct vmx_caps caps;
static uint64_t vmxon_region;
static bool vmx_on;

const struct vmx_caps *vmx_caps(void)
{
	return &caps;
}

static uint32_t cpu_maxphyaddr(void)
{
	if (cpuid(0x80000000, 0).eax >= 0x80000008)
		return cpuid(0x80000008, 0).eax & 0xff;
	return 36;	/* the SDM's value when the leaf is missing */
}

static void read_vmx_msrs(struct vmx_msrs *m)
{
	memset(m, 0, sizeof(*m));
	m->basic = rdmsr(MSR_IA32_VMX_BASIC);
	m->pinbased = rdmsr(MSR_IA32_VMX_PINBASED_CTLS);
	m->procbased = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS);
	m->misc = rdmsr(MSR_IA32_VMX_MISC);
	m->has_procbased2 = vmx_msrs_have_procbased2(m);
	if (m->has_procbased2)
		m->procbased2 = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);
	m->has_ept_vpid_cap = vmx_msrs_have_ept_vpid_cap(m);
	if (m->has_ept_vpid_cap)
		m->ept_vpid_cap = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	m->maxphyaddr = cpu_maxphyaddr();
	log_debug("vmx: msrs basic=%#lx pin=%#lx proc=%#lx proc2=%#lx ept_vpid=%#lx misc=%#lx\n",
		  m->basic, m->pinbased, m->procbased, m->procbased2, m->ept_vpid_cap, m->misc);
}

static void require_vmx_in_feature_control(void)
{
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);

	switch (feature_control_state(fc)) {
	case FEATURE_CONTROL_READY:
		return;
	case FEATURE_CONTROL_UNLOCKED:
		wrmsr(MSR_IA32_FEATURE_CONTROL, feature_control_enable_value(fc));
		log_info("vmx: IA32_FEATURE_CONTROL was unlocked: enabled VMX and locked it\n");
		return;
	case FEATURE_CONTROL_LOCKED_OFF:
		log_error("vmm: error: VT-x is disabled in the firmware (IA32_FEATURE_CONTROL=%#lx is locked with VMX off): enable Intel Virtualization Technology in the BIOS/UEFI setup\n",
			  fc);
		vmm_exit(VMM_STATUS_VTX_DISABLED);
	}
}

/* SDM 23.8: in VMX operation CR0 and CR4 must match IA32_VMX_CR{0,4}_FIXED{0,1}. */
static void apply_vmx_fixed_bits(void)
{
	/*
	 * OSFXSR with EM and TS clear: the emulator reaches the guest's XMM
	 * registers with MOVDQU (vmx/exit_mmio.c); every x86-64 CPU has FXSR,
	 * and the VMM itself is built without SSE.
	 */
	uint64_t cr0 = read_cr0() & ~(CR0_EM | CR0_TS), cr4 = read_cr4() | CR4_VMXE | CR4_OSFXSR;
	uint64_t want_cr0 = (cr0 | rdmsr(MSR_IA32_VMX_CR0_FIXED0)) & rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	uint64_t want_cr4 = (cr4 | rdmsr(MSR_IA32_VMX_CR4_FIXED0)) & rdmsr(MSR_IA32_VMX_CR4_FIXED1);

	if ((want_cr0 & (CR0_PE | CR0_PG | CR0_NE)) != (CR0_PE | CR0_PG | CR0_NE) ||
	    !(want_cr4 & CR4_VMXE)) {
		log_error("vmm: error: the VMX fixed bits forbid this VMM's mode (CR0 %#lx -> %#lx, CR4 %#lx -> %#lx)\n",
			  cr0, want_cr0, cr4, want_cr4);
		vmm_exit(VMM_STATUS_VMX_FAILED);
	}
	if (want_cr0 != cr0)
		log_debug("vmx: CR0 %#lx -> %#lx for VMX operation\n", cr0, want_cr0);
	write_cr0(want_cr0);
	write_cr4(want_cr4);
}

static void vmxon(void)
{
	uint8_t failed;

	vmxon_region = memory_alloc_pages(1, "the VMXON region");
	if (caps.vmxon_below_4g && vmxon_region >= FOUR_GIB) {
		log_error("vmm: error: this CPU needs VMX structures below 4 GiB, and the VMXON region is at %#lx\n",
			  vmxon_region);
		vmm_exit(VMM_STATUS_VMX_FAILED);
	}
	*(uint32_t *)phys_to_virt(vmxon_region) = caps.vmcs_revision;

	__asm__ volatile("vmxon %1; setna %0" : "=qm"(failed) : "m"(vmxon_region) : "cc", "memory");
	if (failed) {
		write_cr4(read_cr4() & ~CR4_VMXE);
		log_error("vmm: error: VMXON failed (region %#lx, revision %#x)\n", vmxon_region,
			  caps.vmcs_revision);
		vmm_exit(VMM_STATUS_VMX_FAILED);
	}
	vmx_on = true;
	vmm_set_exit_hook(vmx_disable);
	log_info("vmx: vmxon ok\n");
}

void vmx_enable(void)
{
	struct vmx_msrs msrs;
	char line[200];

	if (!(cpuid(1, 0).ecx & CPUID_1_ECX_VMX)) {
		log_error("vmm: error: VT-x is not available: CPUID.1:ECX.VMX is 0 (no VMX on this CPU, or the hypervisor below does not expose it: under QEMU use -enable-kvm -cpu host,+vmx with nested VMX on)\n");
		vmm_exit(VMM_STATUS_NO_VTX);
	}
	require_vmx_in_feature_control();
	read_vmx_msrs(&msrs);
	vmx_caps_decode(&msrs, &caps);
	vmx_caps_format(&caps, line, sizeof(line));
	log_error("vmx: %s\n", line);
	if (caps.vmcs_memtype != VMX_MEMTYPE_WB)
		log_warn("vmx: VMX structures want memory type %u, not write-back\n", caps.vmcs_memtype);
	apply_vmx_fixed_bits();
	vmxon();
	vmx_compute_controls(&caps);
}

void vmx_invalidate_ept(uint64_t eptp)
{
	if (caps.invept_single)
		invept(INVEPT_SINGLE_CONTEXT, eptp);
	else if (caps.invept_all)
		invept(INVEPT_ALL_CONTEXT, 0);
}

void vmx_invalidate_vpid(uint16_t vpid)
{
	if (!vpid)
		return;		/* without VPID every entry and exit flushes already */
	if (caps.invvpid_single)
		invvpid(INVVPID_SINGLE_CONTEXT, vpid, 0);
	else if (caps.invvpid_all)
		invvpid(INVVPID_ALL_CONTEXT, 0, 0);
}

void vmx_instruction_failed(const char *what, uint64_t operand)
{
	uint64_t error = 0;

	/* The error field exists on every CPU: failing to read it means there is no current VMCS. */
	if (!vmread_try(VMCS_INSTRUCTION_ERROR, &error))
		log_error("vmm: error: %s(%#lx) failed: VMfailInvalid (no current VMCS)\n", what,
			  operand);
	else
		log_error("vmm: error: %s(%#lx) failed: VM-instruction error %lu (%s)\n", what,
			  operand, error, vmx_instruction_error_name((uint32_t)error));
	vmm_exit(VMM_STATUS_VMX_FAILED);
}

void vmx_disable(void)
{
	if (!vmx_on)
		return;
	__asm__ volatile("vmxoff" : : : "cc", "memory");
	write_cr4(read_cr4() & ~CR4_VMXE);
	vmx_on = false;
	memory_free_pages(vmxon_region, 1);
	log_info("vmx: vmxoff ok\n");
}
