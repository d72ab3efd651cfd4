/* VT-x capability MSRs decoded into what the VMM can use (pure: hosted-testable). */
#ifndef VMX_CAPS_H
#define VMX_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MSR_IA32_VMX_BASIC		0x480
#define MSR_IA32_VMX_PINBASED_CTLS	0x481
#define MSR_IA32_VMX_PROCBASED_CTLS	0x482
#define MSR_IA32_VMX_EXIT_CTLS		0x483
#define MSR_IA32_VMX_ENTRY_CTLS		0x484
#define MSR_IA32_VMX_MISC		0x485
#define MSR_IA32_VMX_CR0_FIXED0		0x486
#define MSR_IA32_VMX_CR0_FIXED1		0x487
#define MSR_IA32_VMX_CR4_FIXED0		0x488
#define MSR_IA32_VMX_CR4_FIXED1		0x489
#define MSR_IA32_VMX_PROCBASED_CTLS2	0x48b
#define MSR_IA32_VMX_EPT_VPID_CAP	0x48c
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS	0x48d
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS	0x48e
#define MSR_IA32_VMX_TRUE_EXIT_CTLS	0x48f
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS	0x490

#define FEATURE_CONTROL_LOCKED		(1ull << 0)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX	(1ull << 2)

#define VMX_BASIC_REVISION_MASK		0x7fffffffull
#define VMX_BASIC_REGION_SIZE_SHIFT	32
#define VMX_BASIC_REGION_SIZE_MASK	0x1fffull
#define VMX_BASIC_32BIT_ADDRESSES	(1ull << 48)
#define VMX_BASIC_MEMTYPE_SHIFT		50
#define VMX_BASIC_MEMTYPE_MASK		0xfull
#define VMX_BASIC_TRUE_CTLS		(1ull << 55)
#define VMX_MEMTYPE_WB			6

/* Bits of the allowed-1 half (bits 63:32) of the control MSRs. */
#define PIN_PREEMPTION_TIMER		6
#define PROC_ACTIVATE_SECONDARY		31
#define PROC2_EPT			1
#define PROC2_VPID			5
#define PROC2_UNRESTRICTED_GUEST	7

#define EPT_CAP_WALK_4			(1ull << 6)
#define EPT_CAP_WB			(1ull << 14)
#define EPT_CAP_2M			(1ull << 16)
#define EPT_CAP_1G			(1ull << 17)
#define EPT_CAP_INVEPT			(1ull << 20)
#define EPT_CAP_AD			(1ull << 21)
#define EPT_CAP_INVEPT_SINGLE		(1ull << 25)
#define EPT_CAP_INVEPT_ALL		(1ull << 26)
#define EPT_CAP_INVVPID			(1ull << 32)
#define EPT_CAP_INVVPID_ADDRESS		(1ull << 40)
#define EPT_CAP_INVVPID_SINGLE		(1ull << 41)
#define EPT_CAP_INVVPID_ALL		(1ull << 42)
#define VMX_MISC_PREEMPTION_RATE_MASK	0x1full

/*
 * Raw MSR values.  PROCBASED_CTLS2 exists only when the primary controls
 * allow "activate secondary controls", and EPT_VPID_CAP only when the
 * secondary ones allow EPT or VPID: reading either otherwise raises #GP, so
 * the reader records whether it could.
 */
struct vmx_msrs {
	uint64_t basic;
	uint64_t pinbased;
	uint64_t procbased;
	uint64_t procbased2;
	uint64_t ept_vpid_cap;
	uint64_t misc;
	bool has_procbased2;
	bool has_ept_vpid_cap;
	uint32_t maxphyaddr;		/* CPUID.80000008H:EAX[7:0] */
};

struct vmx_caps {
	uint32_t vmcs_revision;
	uint32_t vmcs_region_bytes;
	uint32_t vmcs_memtype;
	bool vmxon_below_4g;		/* VMX structures must sit below 4 GiB */
	bool true_controls;
	bool secondary_controls;
	bool ept, vpid, unrestricted_guest;
	bool ept_walk_4, ept_wb, ept_ad, ept_2m, ept_1g, invept, invvpid;
	bool invept_single, invept_all, invvpid_address, invvpid_single, invvpid_all;
	bool preemption_timer;
	uint32_t preemption_timer_rate;	/* the timer counts down every 2^rate TSC cycles */
	uint32_t maxphyaddr;
};

enum feature_control_state {
	FEATURE_CONTROL_READY,		/* locked with VMX on outside SMX */
	FEATURE_CONTROL_UNLOCKED,	/* ours to set and lock */
	FEATURE_CONTROL_LOCKED_OFF,	/* only the firmware setup can change it */
};

/* Which secondary MSRs may be read, given the ones read so far. */
bool vmx_msrs_have_procbased2(const struct vmx_msrs *m);
bool vmx_msrs_have_ept_vpid_cap(const struct vmx_msrs *m);

void vmx_caps_decode(const struct vmx_msrs *m, struct vmx_caps *caps);

/* The boot capability line, without prefix or newline. */
int vmx_caps_format(const struct vmx_caps *caps, char *buf, size_t len);

enum feature_control_state feature_control_state(uint64_t feature_control);

/* The value to write when the state is FEATURE_CONTROL_UNLOCKED. */
uint64_t feature_control_enable_value(uint64_t feature_control);

#endif
