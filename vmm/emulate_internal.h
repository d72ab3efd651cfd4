/* The emulator's internals shared by its files: the decoded instruction and the access helpers. */
#ifndef VMM_EMULATE_INTERNAL_H
#define VMM_EMULATE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/emulate.h"

/* What an instruction does; the operands are described by struct emu_insn. */
enum emu_op {
	EMU_OP_MOV_STORE,	/* mem = reg or imm */
	EMU_OP_MOV_LOAD,	/* reg = mem */
	EMU_OP_MOVZX,		/* reg = mem of src_bytes, zero-extended */
	EMU_OP_MOVSX,		/* reg = mem of src_bytes, sign-extended (also MOVSXD) */
	EMU_OP_ALU,		/* alu: enum emu_alu_op, mem_is_dest picks the direction */
	EMU_OP_TEST,		/* flags of mem AND (reg or imm) */
	EMU_OP_NOT,
	EMU_OP_NEG,
	EMU_OP_INC,
	EMU_OP_DEC,
	EMU_OP_XCHG,
	EMU_OP_XADD,
	EMU_OP_CMPXCHG,
	EMU_OP_CMPXCHG_DOUBLE,	/* CMPXCHG8B, or CMPXCHG16B when op_bytes is 16 */
	EMU_OP_BIT,		/* alu: enum emu_bit_op; the offset is in reg or imm */
	EMU_OP_MOVS,
	EMU_OP_STOS,
	EMU_OP_LODS,
	EMU_OP_CMPS,		/* flags of DS:rSI - ES:rDI */
	EMU_OP_SCAS,		/* flags of rAX - ES:rDI */
	EMU_OP_SSE_LOAD,	/* xmm[reg] = mem of op_bytes, zero-extended to 16 bytes */
	EMU_OP_SSE_STORE,	/* mem = the low op_bytes of xmm[reg] */
};

/* The eight classic ALU operations, numbered as in opcode bits 5:3 and group 1's ModRM.reg. */
enum emu_alu_op {
	EMU_ALU_ADD, EMU_ALU_OR, EMU_ALU_ADC, EMU_ALU_SBB,
	EMU_ALU_AND, EMU_ALU_SUB, EMU_ALU_XOR, EMU_ALU_CMP,
};

/* Numbered as opcode bits 4:3 of 0F A3/AB/B3/BB and as group 8's ModRM.reg - 4. */
enum emu_bit_op { EMU_BIT_TEST, EMU_BIT_SET, EMU_BIT_RESET, EMU_BIT_COMPLEMENT };

struct emu_insn {
	enum emu_op op;
	uint8_t alu;		/* EMU_OP_ALU, EMU_OP_BIT: the operation */
	uint8_t op_bytes;	/* operand size: 1, 2, 4, 8, or 16 for CMPXCHG16B and SSE moves */
	uint8_t src_bytes;	/* MOVZX/MOVSX: size of the memory operand */
	uint8_t addr_bytes;	/* address size: 2, 4 or 8 */
	uint8_t reg;		/* ModRM.reg with REX.R: the register operand */
	uint8_t sreg;		/* segment of the memory operand (string source) */
	bool rex;		/* any REX prefix: byte registers 4-7 are SPL BPL SIL DIL */
	bool rex_w;
	bool lock;
	bool rep;		/* F2 or F3 on a string instruction */
	bool repne;		/* ...and it was F2: CMPS/SCAS stop on ZF = 1 rather than ZF = 0 */
	bool aligned;		/* SSE: the memory operand must be 16-byte aligned (#GP(0)) */
	bool mem_is_dest;	/* EMU_OP_ALU: r/m is the destination */
	bool has_imm;		/* the source operand is imm rather than reg */
	uint64_t imm;		/* sign-extended to 64 bits */
	uint64_t ea;		/* effective address of the memory operand, address-size wrapped */
	uint8_t len;
};

struct emu {
	struct emu_state st;	/* working copy, copied back on EMU_OK */
	const struct emu_ops *ops;
	void *ctx;
	struct emu_outcome *out;
	struct emu_insn insn;
	uint8_t seg_loaded;	/* with ops->segment: the st.seg[] entries asked for so far (bit per sreg) */
};

/* Segment register sreg's hidden part, asked of the caller the first time it is needed (ops->segment). */
const struct emu_segment *emu_segment(struct emu *e, unsigned sreg);

/* emulate_decode.c: fills e->insn from the bytes at CS:RIP. */
enum emu_result emu_decode(struct emu *e);

/*
 * emulate_exec.c: performs e->insn on e->st and guest memory, leaving RIP
 * alone; *finished is false when a REP string instruction has iterations left.
 */
enum emu_result emu_execute(struct emu *e, bool *finished);

/* emulate_alu.c: dst op src at size bytes; sets the arithmetic flags in *rflags as the SDM defines. */
uint64_t emu_alu(enum emu_alu_op op, uint64_t dst, uint64_t src, unsigned size, uint64_t *rflags);
uint64_t emu_inc(uint64_t v, unsigned size, uint64_t *rflags);
uint64_t emu_dec(uint64_t v, unsigned size, uint64_t *rflags);
uint64_t emu_neg(uint64_t v, unsigned size, uint64_t *rflags);

/* emulate.c: faults, registers and memory. */
enum emu_result emu_fault(struct emu *e, uint8_t vector, bool has_error, uint32_t error_code);
enum emu_result emu_unhandled(struct emu *e, const char *reason);
bool emu_is_canonical(uint64_t la);
uint64_t emu_size_mask(unsigned size);
uint64_t emu_sign_extend(uint64_t v, unsigned size);
/* A register at an operand size; without REX, byte registers 4-7 are AH CH DH BH. */
uint64_t emu_reg_read(const struct emu *e, unsigned reg, unsigned size);
void emu_reg_write(struct emu *e, unsigned reg, unsigned size, uint64_t v);
/* Data accesses of 1 to 16 bytes at sreg:ea (ea already wrapped to the address size). */
enum emu_result emu_read(struct emu *e, unsigned sreg, uint64_t ea, void *buf, unsigned len);
enum emu_result emu_write(struct emu *e, unsigned sreg, uint64_t ea, const void *buf, unsigned len);
/* The linear address of sreg:ea after the segmentation checks for an access of len bytes. */
enum emu_result emu_linearize(struct emu *e, unsigned sreg, uint64_t ea, unsigned len, bool write,
			      uint64_t *linear);

#endif
