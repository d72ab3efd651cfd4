/* MSR rules of vmx/exit_msr.c that depend only on values and the guest's CPUID. */
#include "vmx/msr_policy.h"

#define EFER_SCE	(1ull << 0)
#define EFER_LME	(1ull << 8)
#define EFER_LMA	(1ull << 10)
#define EFER_NXE	(1ull << 11)

#define L1D_MCE		(1u << 7)
#define L1D_MCA		(1u << 14)
#define L7B_TSC_ADJUST	(1u << 1)
#define LX1D_SYSCALL	(1u << 11)
#define LX1D_NX		(1u << 20)
#define LX1D_LM		(1u << 29)

bool msr_canonical(uint64_t addr)
{
	uint64_t high = addr >> 47;	/* bits 63:47 */

	return high == 0 || high == 0x1ffff;
}

bool msr_pat_valid(uint64_t pat)
{
	int i;

	for (i = 0; i < 8; i++) {
		uint8_t t = (uint8_t)(pat >> (8 * i));

		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

uint64_t msr_efer_writable(const struct msr_features *f)
{
	uint64_t allowed = EFER_LMA;

	/* Intel reports SYSCALL only to 64-bit code, yet EFER.SCE is writable on every CPU with LM. */
	if (f->ext1_edx & (LX1D_SYSCALL | LX1D_LM))
		allowed |= EFER_SCE;
	if (f->ext1_edx & LX1D_LM)
		allowed |= EFER_LME;
	if (f->ext1_edx & LX1D_NX)
		allowed |= EFER_NXE;
	return allowed;
}

bool msr_misc_enable_write_ok(uint64_t old, uint64_t value)
{
	return ((old ^ value) & ~MISC_ENABLE_WRITABLE) == 0;
}

bool msr_mca_offered(const struct msr_features *f)
{
	return (f->leaf1_edx & (L1D_MCE | L1D_MCA)) == (L1D_MCE | L1D_MCA);
}

uint64_t msr_mcg_cap(void)
{
	return MCG_CTL_P | MCE_BANKS;
}

bool msr_mc_bank_decode(uint32_t msr, unsigned *bank, unsigned *reg)
{
	if (msr < MSR_MC0_CTL || msr >= MSR_MC0_CTL + 4 * MCE_BANKS)
		return false;
	*bank = (msr - MSR_MC0_CTL) / 4;
	*reg = (msr - MSR_MC0_CTL) % 4;
	return true;
}

bool msr_mc_write_ok(unsigned reg, uint64_t value)
{
	switch (reg) {
	case MC_REG_CTL:
		return value == 0 || value == ~0ull;
	case MC_REG_STATUS:
		return value == 0;
	default:
		return true;
	}
}

bool msr_tsc_adjust_offered(const struct msr_features *f)
{
	return f->leaf7_ebx & L7B_TSC_ADJUST;
}
