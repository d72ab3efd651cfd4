/* VMM exit statuses: the number in the final console line "vmm: exit status N". */
#ifndef VMM_STATUS_H
#define VMM_STATUS_H

/*
 * The VMM's own statuses are even; guest statuses (QEMU's isa-debug-exit
 * convention, (v << 1) | 1) are odd, so a runner can always tell whether the
 * VMM or a guest decided the result.  scripts/run adds 124 (timeout), 125 (the
 * emulator ended without a result line) and 126 (runner usage or setup error).
 * docs/boot.md lists these for users; keep the two in step.
 */
enum vmm_status {
	VMM_STATUS_OK = 0,
	VMM_STATUS_NO_VTX = 2,		/* CPUID.1:ECX.VMX is clear */
	VMM_STATUS_VTX_DISABLED = 4,	/* IA32_FEATURE_CONTROL locked with VMX off */
	VMM_STATUS_BAD_CMDLINE = 6,	/* unknown or malformed boot option */
	VMM_STATUS_NO_MEMORY = 8,	/* too little RAM, or the allocator ran out */
	VMM_STATUS_VMX_FAILED = 10,	/* a VMX instruction failed */
	VMM_STATUS_CRASH = 12,		/* panic() or a CPU exception in the VMM */
	VMM_STATUS_BOOT_FAILED = 14,	/* the boot loader could not load the VMM */

	/* A guest ended by the VMM's decision rather than its own. */
	VMM_STATUS_GUEST_TRIPLE_FAULT = 16,
	VMM_STATUS_GUEST_HALTED = 18,	/* HLT with nothing that could ever wake it */
	VMM_STATUS_GUEST_WATCHDOG = 20,	/* ran past the watchdog= limit */
	VMM_STATUS_GUEST_REFUSED = 22,	/* not a loadable multiboot kernel, or it does not fit */
	VMM_STATUS_GUEST_UNHANDLED = 24,	/* an exit or access the VMM cannot emulate */
	VMM_STATUS_GUEST_ENTRY_FAILED = 26,	/* VM entry failed: the VMCS dump says why */
	VMM_STATUS_MMU_LEAK = 28,	/* the VM ended and its shadow MMU did not give every host page back */
};

/* What a guest that wrote 0 to isa-debug-exit gets: "passed" for QEMU-style runners. */
#define GUEST_STATUS_PASS 1

#endif
