/* The x86 instruction emulator: decodes and executes one guest instruction that accesses memory. */
#ifndef VMM_EMULATE_H
#define VMM_EMULATE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Used where the VMM must perform a guest's memory access itself: writes to
 * write-protected guest page tables (shadow paging) and MMIO.  The emulator
 * decodes the instruction from guest memory (it never trusts the VM-exit
 * instruction length), computes linear addresses with the segmentation
 * checks of the guest's mode, and leaves translation and the accesses to the
 * caller's callbacks, which walk the guest's page tables.
 *
 * Emulated, with every operand size, the prefixes 66 67 F0 F2 F3, segment
 * overrides, REX, and every ModRM/SIB addressing form (16-bit addressing,
 * disp8/disp16/disp32, RIP-relative):
 *   MOV 88-8B, C6/0, C7/0, A0-A3; MOVZX/MOVSX 0F B6 B7 BE BF; MOVSXD 63 (64-bit mode);
 *   ADD OR ADC SBB AND SUB XOR CMP 00-3B and 80-83; TEST 84 85, F6/0 F7/0;
 *   NOT NEG F6/F7 /2 /3; INC DEC FE/FF /0 /1; XCHG 86 87; XADD 0F C0 C1;
 *   CMPXCHG 0F B0 B1; CMPXCHG8B/CMPXCHG16B 0F C7 /1; BT BTS BTR BTC 0F A3 AB B3 BB, 0F BA /4-7;
 *   MOVS STOS LODS A4 A5 AA AB AC AD, with or without REP;
 *   CMPS SCAS A6 A7 AE AF, with or without REPE/REPNE;
 *   with the emu_ops XMM callbacks, the SSE/SSE2 data moves between an XMM
 *   register and memory: MOVUPS/MOVUPD 0F 10 11, MOVSS/MOVSD F3/F2 0F 10 11,
 *   MOVAPS/MOVAPD 0F 28 29, MOVNTPS/MOVNTPD 0F 2B, MOVDQA/MOVDQU 66/F3 0F 6F 7F,
 *   MOVNTDQ 66 0F E7, MOVD/MOVQ 66 0F 6E 7E, MOVQ F3 0F 7E and 66 0F D6.
 * Only forms with a memory operand (ModRM mod != 3): the VMM emulates
 * faulting memory accesses, never register-only instructions.
 *
 * REP string instructions run one iteration per call (as KVM does): RCX,
 * RSI, RDI move on by one element and RIP stays on the instruction until
 * the count reaches 0 (for CMPS and SCAS: or until REPE finds a difference,
 * ZF = 0, or REPNE a match, ZF = 1), so the guest re-executes it and
 * interrupts can arrive between iterations.  A count that is already 0 only
 * advances RIP.
 *
 * SSE moves fault as the SDM's exception classes 4 and 5 say: #UD with
 * CR0.EM = 1 or CR4.OSFXSR = 0 or a LOCK prefix, then #NM with CR0.TS = 1,
 * then the segment checks, then #GP(0) for an aligned form (MOVAPS/PD,
 * MOVDQA, MOVNT*) whose linear address is not a multiple of 16.  CPUID's
 * SSE/SSE2 bits are assumed set (the VMM offers them).
 *
 * Not modelled: alignment checks (#AC), debug traps (the caller injects #DB
 * after EMU_OK when RFLAGS.TF was set), LA57 (canonical addresses have 48
 * bits), and the atomicity of LOCK (one vCPU: the caller's affair).
 */

/* General-purpose registers in ModRM order. */
enum emu_gpr {
	EMU_RAX, EMU_RCX, EMU_RDX, EMU_RBX, EMU_RSP, EMU_RBP, EMU_RSI, EMU_RDI,
	EMU_R8, EMU_R9, EMU_R10, EMU_R11, EMU_R12, EMU_R13, EMU_R14, EMU_R15,
	EMU_NR_GPRS
};

/* Segment registers in the order of their encoding in MOV Sreg. */
enum emu_sreg { EMU_ES, EMU_CS, EMU_SS, EMU_DS, EMU_FS, EMU_GS, EMU_NR_SREGS };

/* The CPU mode: default operand and address size and how segmentation applies. */
enum emu_mode {
	EMU_MODE_REAL,		/* real-address or virtual-8086: 16-bit, limits checked, types not */
	EMU_MODE_PROT16,	/* protected or compatibility mode with CS.D = 0 */
	EMU_MODE_PROT32,	/* protected or compatibility mode with CS.D = 1 */
	EMU_MODE_LONG64,	/* 64-bit mode: only FS and GS bases apply, no limits */
};

static inline enum emu_mode emu_mode_of(bool cr0_pe, bool rflags_vm, bool efer_lma, bool cs_l,
					bool cs_d)
{
	if (!cr0_pe || rflags_vm)
		return EMU_MODE_REAL;
	if (efer_lma && cs_l)
		return EMU_MODE_LONG64;
	return cs_d ? EMU_MODE_PROT32 : EMU_MODE_PROT16;
}

/*
 * A segment register's hidden part.  limit is in bytes (the G flag already
 * applied).  type is the descriptor's 4-bit type field (code/data segments);
 * it and usable matter only in the protected modes, where a null selector
 * (usable = false) faults on use, writes need a writable data segment, reads
 * a data or readable code segment, and an expand-down data segment's valid
 * offsets are (limit, db ? 0xffffffff : 0xffff].
 */
struct emu_segment {
	uint64_t base;
	uint32_t limit;
	uint8_t type;
	bool db;
	bool usable;
};

#define EMU_SEG_TYPE_ACCESSED	0x1
#define EMU_SEG_TYPE_WRITABLE	0x2	/* data; for code: readable */
#define EMU_SEG_TYPE_EXPAND_DOWN 0x4	/* data; for code: conforming */
#define EMU_SEG_TYPE_CODE	0x8
#define EMU_SEG_TYPE_DATA_RW	(EMU_SEG_TYPE_WRITABLE | EMU_SEG_TYPE_ACCESSED)
#define EMU_SEG_TYPE_CODE_RX	(EMU_SEG_TYPE_CODE | EMU_SEG_TYPE_WRITABLE | EMU_SEG_TYPE_ACCESSED)

#define EMU_RFLAGS_CF	(1ull << 0)
#define EMU_RFLAGS_PF	(1ull << 2)
#define EMU_RFLAGS_AF	(1ull << 4)
#define EMU_RFLAGS_ZF	(1ull << 6)
#define EMU_RFLAGS_SF	(1ull << 7)
#define EMU_RFLAGS_TF	(1ull << 8)
#define EMU_RFLAGS_DF	(1ull << 10)
#define EMU_RFLAGS_OF	(1ull << 11)
#define EMU_RFLAGS_RF	(1ull << 16)
#define EMU_RFLAGS_ARITH (EMU_RFLAGS_CF | EMU_RFLAGS_PF | EMU_RFLAGS_AF | EMU_RFLAGS_ZF | \
			  EMU_RFLAGS_SF | EMU_RFLAGS_OF)

/* The guest state the emulator reads and, on EMU_OK, updates (gpr, rip, rflags only; XMM registers go through emu_ops). */
struct emu_state {
	uint64_t gpr[EMU_NR_GPRS];
	uint64_t rip;
	uint64_t rflags;
	enum emu_mode mode;
	struct emu_segment seg[EMU_NR_SREGS];
	uint8_t cpl;		/* accesses at CPL 3 reach the callbacks as user accesses */
	/* The guest's CR0 and CR4 as it sees them; only EM, TS and OSFXSR are consulted (SSE). */
	uint64_t cr0;
	uint64_t cr4;
};

#define EMU_CR0_EM	(1ull << 2)
#define EMU_CR0_TS	(1ull << 3)
#define EMU_CR4_OSFXSR	(1ull << 9)

#define EMU_VEC_UD	6
#define EMU_VEC_NM	7
#define EMU_VEC_SS	12
#define EMU_VEC_GP	13
#define EMU_VEC_PF	14

/* An exception that aborts the instruction, to be injected into the guest. */
struct emu_exception {
	uint8_t vector;
	bool has_error;
	uint32_t error_code;
	uint64_t cr2;		/* #PF: the faulting linear address */
};

enum emu_result {
	EMU_OK,		/* state updated, RIP past the instruction (or on a REP not yet done) */
	EMU_EXCEPTION,	/* inject the exception; state unchanged */
	EMU_UNHANDLED,	/* not emulated (see emu_outcome.reason); state unchanged */
};

/*
 * The caller's memory.  Each callback translates [linear, linear + len)
 * (len 1 to 16; the range may cross a page boundary, never the top of the
 * address space) through the guest's page tables as an access of its kind,
 * user = true for an access at CPL 3, and copies the bytes.  It returns
 * EMU_OK, or EMU_EXCEPTION with *exc filled (a #PF with its error code and
 * cr2), which the emulator passes up unchanged, or EMU_UNHANDLED to give up
 * on the instruction.  A write must translate every page before changing
 * any byte, so that a fault leaves memory as it was.  The emulator performs
 * all reads of an instruction before its one write; on a read-modify-write,
 * a fault on the write leaves memory and registers unchanged (but a read's
 * device side effects have happened).
 */
struct emu_ops {
	enum emu_result (*fetch)(void *ctx, uint64_t linear, void *buf, unsigned len, bool user,
				 struct emu_exception *exc);
	enum emu_result (*read)(void *ctx, uint64_t linear, void *buf, unsigned len, bool user,
				struct emu_exception *exc);
	enum emu_result (*write)(void *ctx, uint64_t linear, const void *buf, unsigned len,
				 bool user, struct emu_exception *exc);
	/*
	 * Optional.  NULL: the caller filled every emu_state.seg[].  Otherwise
	 * seg[] may be left unset, and the emulator asks for each segment
	 * register it uses (at most once per instruction) before using it: a
	 * VMM reads them from the VMCS only when needed (64-bit code needs at
	 * most FS or GS).  The segments asked for come back in s on EMU_OK.
	 */
	void (*segment)(void *ctx, unsigned sreg, struct emu_segment *seg);
	/*
	 * Optional, both or neither.  NULL: SSE instructions are EMU_UNHANDLED.
	 * Read or write the 16 bytes of XMM register n (0-15, little-endian).
	 * The emulator reads a register at most once and writes it only after
	 * every memory access of the instruction succeeded, as its last step,
	 * so that on any result but EMU_OK no register has changed.
	 */
	void (*xmm_read)(void *ctx, unsigned n, uint8_t value[16]);
	void (*xmm_write)(void *ctx, unsigned n, const uint8_t value[16]);
};

#define EMU_MAX_INSN_LEN 15

/* What emulate_instruction() found, for injecting and for the log line. */
struct emu_outcome {
	struct emu_exception exc;	/* EMU_EXCEPTION */
	const char *reason;		/* EMU_UNHANDLED: a static string */
	uint8_t insn[EMU_MAX_INSN_LEN];	/* the instruction bytes fetched, insn_len of them */
	uint8_t insn_len;		/* on EMU_OK exactly the instruction's length */
};

/*
 * Emulates the instruction at CS:RIP of s.  On EMU_OK the registers, RIP
 * and RFLAGS (RF cleared) reflect the instruction; on any other result s is
 * unchanged.  Faults follow the SDM: a limit, type or null-segment violation
 * is #GP(0), or #SS(0) through SS; a non-canonical address in 64-bit mode is
 * #GP(0) or #SS(0); an instruction longer than 15 bytes is #GP(0); LOCK
 * where the SDM does not allow it is #UD; a misaligned CMPXCHG16B operand is
 * #GP(0); SSE moves fault as described at the top of this file.
 */
enum emu_result emulate_instruction(struct emu_state *s, const struct emu_ops *ops, void *ctx,
				    struct emu_outcome *out);

#endif
