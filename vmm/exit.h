/* The result protocol: one final console line, then the emulator is ended. */
#ifndef VMM_EXIT_H
#define VMM_EXIT_H

#define ISA_DEBUG_EXIT_PORT	0xf4
#define BOCHS_EXIT_PORT		0x8a00

/* Prints "vmm: exit status N", ends QEMU or Bochs, halts on real hardware. */
void vmm_exit(int status) __attribute__((noreturn));

/* Prints "vmm: panic: ..." with the caller's address and exits with VMM_STATUS_CRASH. */
void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* Called once by vmm_exit() before the final line, e.g. to leave VMX operation. */
void vmm_set_exit_hook(void (*hook)(void));

#endif
