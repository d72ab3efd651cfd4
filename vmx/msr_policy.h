/* The guest's MSR rules as pure functions of the guest's CPUID (hosted-testable): which values fault with #GP. */
#ifndef VMX_MSR_POLICY_H
#define VMX_MSR_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include "vmm/cpuid_regs.h"

#define MSR_TSC			0x10
#define MSR_APIC_BASE		0x1b
#define MSR_FEATURE_CONTROL	0x3a
#define MSR_TSC_ADJUST		0x3b
#define MSR_SYSENTER_CS		0x174
#define MSR_SYSENTER_ESP	0x175
#define MSR_SYSENTER_EIP	0x176
#define MSR_MCG_CAP		0x179
#define MSR_MCG_STATUS		0x17a
#define MSR_MCG_CTL		0x17b
#define MSR_MISC_ENABLE		0x1a0
#define MSR_PAT			0x277
#define MSR_MC0_CTL		0x400	/* bank i: CTL, STATUS, ADDR, MISC at 0x400 + 4 i + 0..3 */
#define MSR_TSC_DEADLINE	0x6e0
#define MSR_EFER		0xc0000080
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_CSTAR		0xc0000083
#define MSR_SFMASK		0xc0000084
#define MSR_FS_BASE		0xc0000100
#define MSR_GS_BASE		0xc0000101
#define MSR_KERNEL_GS_BASE	0xc0000102

/* The machine-check banks the guest is offered (MCG_CAP[7:0]); MCG_CTL_P is set, nothing else. */
#define MCE_BANKS		10
#define MCG_CTL_P		(1ull << 8)
#define MCG_STATUS_BITS		0x7ull	/* RIPV, EIPV, MCIP; LMCE_S needs MCG_LMCE_P, not offered */

#define MC_REG_CTL		0
#define MC_REG_STATUS		1
#define MC_REG_ADDR		2
#define MC_REG_MISC		3

/*
 * IA32_MISC_ENABLE as the guest first reads it: fast strings on, branch
 * trace and PEBS unavailable (no PMU is offered: bit 7 "performance
 * monitoring available" is 0), MONITOR/MWAIT (bit 18) off as CPUID says.
 */
#define MISC_ENABLE_FAST_STRING		(1ull << 0)
#define MISC_ENABLE_BTS_UNAVAIL		(1ull << 11)
#define MISC_ENABLE_PEBS_UNAVAIL	(1ull << 12)
#define MISC_ENABLE_INITIAL	(MISC_ENABLE_FAST_STRING | MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL)
/* The bits a guest may change: fast strings, automatic thermal control, SpeedStep, xTPR disable (none has an effect here). */
#define MISC_ENABLE_WRITABLE	((1ull << 0) | (1ull << 3) | (1ull << 16) | (1ull << 23))

/* What the MSR rules depend on: the guest's CPUID leaf 1 EDX, leaf 7.0 EBX and leaf 0x80000001 EDX. */
struct msr_features {
	uint32_t leaf1_edx, leaf7_ebx, ext1_edx;
};

/* A 64-bit linear address whose bits 63:47 are all equal (48-bit linear addresses; LA57 is never offered). */
bool msr_canonical(uint64_t addr);

/* Each byte of IA32_PAT names a memory type: 0 UC, 1 WC, 4 WT, 5 WP, 6 WB, 7 UC-; 2, 3 and 8-255 are invalid. */
bool msr_pat_valid(uint64_t pat);

/* The EFER bits WRMSR may set: SCE with SYSCALL or LM, LME with LM, NXE with NX; LMA (kept by the CPU) always. */
uint64_t msr_efer_writable(const struct msr_features *f);

/* A MISC_ENABLE write from old to value is allowed: only MISC_ENABLE_WRITABLE bits change. */
bool msr_misc_enable_write_ok(uint64_t old, uint64_t value);

/* True when CPUID offers the machine-check architecture (MCE and MCA): then MCG_CAP and the banks exist. */
bool msr_mca_offered(const struct msr_features *f);

/* MCG_CAP as the guest reads it. */
uint64_t msr_mcg_cap(void);

/* An MSR inside the banks MCG_CAP advertises: its bank and register (MC_REG_*). False past them. */
bool msr_mc_bank_decode(uint32_t msr, unsigned *bank, unsigned *reg);

/* WRMSR to a bank register: CTL takes 0 or all ones, STATUS only 0 (SDM 16.3.2.2), ADDR and MISC anything. */
bool msr_mc_write_ok(unsigned reg, uint64_t value);

/* IA32_TSC_ADJUST exists when CPUID.7.0:EBX[1] says so. */
bool msr_tsc_adjust_offered(const struct msr_features *f);

#endif
