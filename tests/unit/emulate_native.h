/* Runs one instruction on the host CPU in 64-, 32- or 16-bit mode, for the emulator's differential test. */
#ifndef TESTS_UNIT_EMULATE_NATIVE_H
#define TESTS_UNIT_EMULATE_NATIVE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Registers in ModRM order (RSP included: the instruction runs on no stack),
 * then RFLAGS, then XMM0-15 (offsets 0, 128, 136: native_run's asm uses them).
 */
struct native_regs {
	uint64_t gpr[16];
	uint64_t rflags;
	uint8_t xmm[16][16];
};

#define NATIVE_RETURN_LEN 14

/*
 * Loads regs (RFLAGS through POPFQ, so only user-writable flags take), jumps
 * to code, and stores the registers and flags back when the code jumps to
 * the return sequence that native_append_return() wrote after it.  DF is
 * cleared afterwards.  The code must not fault: a fault would arrive with
 * the test's RSP, so signal handlers must run on an alternate stack.
 */
void native_run(struct native_regs *regs, const void *code);

/* Writes the jump back into native_run at p: NATIVE_RETURN_LEN bytes. */
void native_append_return(uint8_t *p);

/*
 * The 16- and 32-bit modes: compatibility-mode code entered by a far jump.
 * The data segment selectors are loaded first (the host's are restored
 * afterwards, FS and GS bases included).  Registers come back with their
 * upper halves undefined (this host zeroes them).
 */
struct native_legacy {
	uint32_t entry_offset;		/* the far pointer to the instruction, m16:32 */
	uint16_t entry_selector;
	uint16_t es, ss, ds, fs, gs;
};

#define NATIVE_USER32_CS 0x23	/* Linux's flat 32-bit user code segment */

/* Whether the kernel lets user code use RDFSBASE and friends, which native_run_legacy needs. */
bool native_legacy_supported(void);

/*
 * Installs LDT entry index as a present DPL-3 segment: code (readable) or
 * read/write data, 32-bit (D/B = 1) or 16-bit, limit in bytes (a limit above
 * 1 MiB must be a multiple of 4 KiB minus 1).  Returns its selector, or 0.
 */
uint16_t native_ldt_segment(unsigned index, uint32_t base, uint32_t limit, bool code, bool big);

void native_run_legacy(struct native_regs *regs, const struct native_legacy *how);

/*
 * The way back from 16- or 32-bit code: a far jump (p) to a 64-bit
 * trampoline (at trampoline, below 4 GiB, written by
 * native_write_legacy_trampoline()) that jumps into native_run_legacy.
 * Returns the far jump's length.
 */
unsigned native_append_legacy_return(uint8_t *p, bool code16, uint32_t trampoline);
void native_write_legacy_trampoline(uint8_t *p);

/* For a fatal-signal handler: the host's FS base back, so that C code works. */
void native_restore_fs_base(void);

#endif
