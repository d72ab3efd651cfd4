/* cpuid: basic CPUID sanity, VMX hidden from the guest, and the VMM's own leaves when it is the hypervisor. */
#include <stdbool.h>
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/string.h"
#include "guest/lib/x86.h"

/* 12 signature bytes in register order, NUL-terminated; unprintable bytes become '.'. */
static void signature(char out[13], uint32_t r0, uint32_t r1, uint32_t r2)
{
	memcpy(out, &r0, 4);
	memcpy(out + 4, &r1, 4);
	memcpy(out + 8, &r2, 4);
	out[12] = '\0';
	for (int i = 0; i < 12; i++) {
		if (out[i] < ' ' || out[i] > '~')
			out[i] = '.';
	}
}

static void check_basic_leaves(void)
{
	struct cpuid_regs r0 = cpuid(0, 0);
	char vendor[13];

	signature(vendor, r0.ebx, r0.edx, r0.ecx);
	printf("guest: cpu vendor '%s', max basic leaf 0x%x\n", vendor, r0.eax);
	CHECK(vendor[0] != '.' && vendor[0] != ' ');
	CHECK(r0.eax >= 1);

	struct cpuid_regs r1 = cpuid(1, 0);

	CHECK_EQ(r1.ecx & CPUID_1_ECX_VMX, 0);
}

/* Informational: with no hypervisor leaves, Intel CPUs repeat the highest basic leaf here. */
static void report_hypervisor(void)
{
	if (!(cpuid(1, 0).ecx & CPUID_1_ECX_HYPERVISOR)) {
		printf("guest: no hypervisor bit\n");
		return;
	}

	struct cpuid_regs hv = cpuid(CPUID_HV_BASE, 0);
	char sig[13];

	signature(sig, hv.ebx, hv.ecx, hv.edx);
	printf("guest: hypervisor signature '%s', max hypervisor leaf 0x%x\n", sig, hv.eax);
}

/* CPUID hides VMX, so CR4.VMXE must be as unusable as on a CPU without VMX. */
static void check_vmxe_refused(void)
{
	uint32_t cr4 = read_cr4();

	expect_exception(EXC_GP);
	asm volatile(ASM_TRY("1f") "mov %0, %%cr4\n1:" : : "r"(cr4 | CR4_VMXE) : "memory");
	CHECK_EQ(exception_seen(), EXC_GP);
	CHECK_EQ(read_cr4() & CR4_VMXE, 0);
}

int guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	check_basic_leaves();
	report_hypervisor();
	if (under_vmm()) {
		CHECK(cpuid(CPUID_HV_BASE, 0).eax >= CPUID_HV_BASE);
		printf("guest: running under the VMM\n");
		check_vmxe_refused();
	} else {
		printf("guest: not under the VMM; VMM-specific checks skipped\n");
	}
	return guest_pass("cpuid");
}
