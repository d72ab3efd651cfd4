/* Decoding IA32_VMX_* capability MSRs and IA32_FEATURE_CONTROL (SDM Vol. 3 appendix A). */
#include "vmx/caps.h"
#include "vmm/format.h"

static bool allowed1(uint64_t control_msr, unsigned bit)
{
	return (control_msr >> 32) & (1ull << bit);
}

bool vmx_msrs_have_procbased2(const struct vmx_msrs *m)
{
	return allowed1(m->procbased, PROC_ACTIVATE_SECONDARY);
}

bool vmx_msrs_have_ept_vpid_cap(const struct vmx_msrs *m)
{
	return m->has_procbased2 &&
	       (allowed1(m->procbased2, PROC2_EPT) || allowed1(m->procbased2, PROC2_VPID));
}

void vmx_caps_decode(const struct vmx_msrs *m, struct vmx_caps *c)
{
	uint64_t ept_cap = m->has_ept_vpid_cap ? m->ept_vpid_cap : 0;

	c->vmcs_revision = (uint32_t)(m->basic & VMX_BASIC_REVISION_MASK);
	c->vmcs_region_bytes = (uint32_t)((m->basic >> VMX_BASIC_REGION_SIZE_SHIFT) &
					  VMX_BASIC_REGION_SIZE_MASK);
	c->vmcs_memtype = (uint32_t)((m->basic >> VMX_BASIC_MEMTYPE_SHIFT) & VMX_BASIC_MEMTYPE_MASK);
	c->vmxon_below_4g = m->basic & VMX_BASIC_32BIT_ADDRESSES;
	c->true_controls = m->basic & VMX_BASIC_TRUE_CTLS;

	c->secondary_controls = m->has_procbased2 && allowed1(m->procbased, PROC_ACTIVATE_SECONDARY);
	c->ept = c->secondary_controls && allowed1(m->procbased2, PROC2_EPT);
	c->vpid = c->secondary_controls && allowed1(m->procbased2, PROC2_VPID);
	/* Unrestricted guest is defined only together with EPT (SDM 26.2.1.1). */
	c->unrestricted_guest = c->ept && allowed1(m->procbased2, PROC2_UNRESTRICTED_GUEST);

	c->ept_walk_4 = c->ept && (ept_cap & EPT_CAP_WALK_4);
	c->ept_wb = c->ept && (ept_cap & EPT_CAP_WB);
	c->ept_ad = c->ept && (ept_cap & EPT_CAP_AD);
	c->ept_2m = c->ept && (ept_cap & EPT_CAP_2M);
	c->ept_1g = c->ept && (ept_cap & EPT_CAP_1G);
	c->invept = c->ept && (ept_cap & EPT_CAP_INVEPT);
	c->invvpid = c->vpid && (ept_cap & EPT_CAP_INVVPID);
	c->invept_single = c->invept && (ept_cap & EPT_CAP_INVEPT_SINGLE);
	c->invept_all = c->invept && (ept_cap & EPT_CAP_INVEPT_ALL);
	c->invvpid_address = c->invvpid && (ept_cap & EPT_CAP_INVVPID_ADDRESS);
	c->invvpid_single = c->invvpid && (ept_cap & EPT_CAP_INVVPID_SINGLE);
	c->invvpid_all = c->invvpid && (ept_cap & EPT_CAP_INVVPID_ALL);

	c->preemption_timer = allowed1(m->pinbased, PIN_PREEMPTION_TIMER);
	c->preemption_timer_rate = (uint32_t)(m->misc & VMX_MISC_PREEMPTION_RATE_MASK);
	c->maxphyaddr = m->maxphyaddr;
}

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

int vmx_caps_format(const struct vmx_caps *c, char *buf, size_t len)
{
	return fmt_snprintf(buf, len,
			    "revision=%#x ept=%s vpid=%s unrestricted_guest=%s ept_ad=%s "
			    "ept_2m=%s ept_1g=%s maxphyaddr=%u preemption_timer=%s",
			    c->vmcs_revision, yes_no(c->ept), yes_no(c->vpid),
			    yes_no(c->unrestricted_guest), yes_no(c->ept_ad), yes_no(c->ept_2m),
			    yes_no(c->ept_1g), c->maxphyaddr, yes_no(c->preemption_timer));
}

enum feature_control_state feature_control_state(uint64_t fc)
{
	if (!(fc & FEATURE_CONTROL_LOCKED))
		return FEATURE_CONTROL_UNLOCKED;
	return (fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX) ? FEATURE_CONTROL_READY
						       : FEATURE_CONTROL_LOCKED_OFF;
}

uint64_t feature_control_enable_value(uint64_t fc)
{
	return fc | FEATURE_CONTROL_VMX_OUTSIDE_SMX | FEATURE_CONTROL_LOCKED;
}
