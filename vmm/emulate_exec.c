/* The emulator's execution of a decoded instruction: reads, the operation, at most one write, then registers. */
#include "vmm/emulate.h"
#include "vmm/emulate_internal.h"

static uint64_t load_le(const uint8_t *p, unsigned size)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < size; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void store_le(uint8_t *p, uint64_t v, unsigned size)
{
	unsigned i;

	for (i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static enum emu_result read_value(struct emu *e, unsigned sreg, uint64_t ea, unsigned size,
				  uint64_t *v)
{
	uint8_t buf[8];
	enum emu_result r = emu_read(e, sreg, ea, buf, size);

	*v = r == EMU_OK ? load_le(buf, size) : 0;
	return r;
}

static enum emu_result write_value(struct emu *e, unsigned sreg, uint64_t ea, unsigned size,
				   uint64_t v)
{
	uint8_t buf[8];

	store_le(buf, v, size);
	return emu_write(e, sreg, ea, buf, size);
}

static enum emu_result read_operand(struct emu *e, uint64_t *v)
{
	return read_value(e, e->insn.sreg, e->insn.ea, e->insn.op_bytes, v);
}

static enum emu_result write_operand(struct emu *e, uint64_t v)
{
	return write_value(e, e->insn.sreg, e->insn.ea, e->insn.op_bytes, v);
}

/* The non-memory source: the immediate, or the ModRM.reg register. */
static uint64_t source(const struct emu *e)
{
	const struct emu_insn *in = &e->insn;

	if (in->has_imm)
		return in->imm & emu_size_mask(in->op_bytes);
	return emu_reg_read(e, in->reg, in->op_bytes);
}

static enum emu_result exec_load(struct emu *e)
{
	const struct emu_insn *in = &e->insn;
	unsigned size = in->op == EMU_OP_MOV_LOAD ? in->op_bytes : in->src_bytes;
	uint64_t v;
	enum emu_result r = read_value(e, in->sreg, in->ea, size, &v);

	if (r != EMU_OK)
		return r;
	if (in->op == EMU_OP_MOVSX)
		v = emu_sign_extend(v, size);
	emu_reg_write(e, in->reg, in->op_bytes, v);
	return EMU_OK;
}

static enum emu_result exec_alu(struct emu *e)
{
	const struct emu_insn *in = &e->insn;
	uint64_t *rflags = &e->st.rflags;
	bool writes = in->alu != EMU_ALU_CMP;
	uint64_t m, v;
	enum emu_result r = read_operand(e, &m);

	if (r != EMU_OK)
		return r;
	if (in->mem_is_dest) {
		v = emu_alu(in->alu, m, source(e), in->op_bytes, rflags);
		return writes ? write_operand(e, v) : EMU_OK;
	}
	v = emu_alu(in->alu, emu_reg_read(e, in->reg, in->op_bytes), m, in->op_bytes, rflags);
	if (writes)
		emu_reg_write(e, in->reg, in->op_bytes, v);
	return EMU_OK;
}

/* TEST, NOT, NEG, INC, DEC: one memory operand, rewritten unless TEST. */
static enum emu_result exec_unary(struct emu *e)
{
	const struct emu_insn *in = &e->insn;
	unsigned size = in->op_bytes;
	uint64_t *rflags = &e->st.rflags;
	uint64_t m;
	enum emu_result r = read_operand(e, &m);

	if (r != EMU_OK)
		return r;
	switch (in->op) {
	case EMU_OP_TEST:
		emu_alu(EMU_ALU_AND, m, source(e), size, rflags);
		return EMU_OK;
	case EMU_OP_NOT:
		return write_operand(e, ~m);
	case EMU_OP_NEG:
		return write_operand(e, emu_neg(m, size, rflags));
	case EMU_OP_INC:
		return write_operand(e, emu_inc(m, size, rflags));
	default:
		return write_operand(e, emu_dec(m, size, rflags));
	}
}

/* XCHG, XADD, CMPXCHG: memory and a register (CMPXCHG: and the accumulator) trade values. */
static enum emu_result exec_exchange(struct emu *e)
{
	const struct emu_insn *in = &e->insn;
	unsigned size = in->op_bytes;
	uint64_t reg = emu_reg_read(e, in->reg, size);
	uint64_t m, acc;
	enum emu_result r = read_operand(e, &m);

	if (r != EMU_OK)
		return r;
	switch (in->op) {
	case EMU_OP_XCHG:
		r = write_operand(e, reg);
		break;
	case EMU_OP_XADD:
		r = write_operand(e, emu_alu(EMU_ALU_ADD, m, reg, size, &e->st.rflags));
		break;
	default:
		/* The CPU writes the destination back even when the comparison fails. */
		acc = emu_reg_read(e, EMU_RAX, size);
		emu_alu(EMU_ALU_CMP, acc, m, size, &e->st.rflags);
		r = write_operand(e, acc == m ? reg : m);
		if (r == EMU_OK && acc != m)
			emu_reg_write(e, EMU_RAX, size, m);
		return r;
	}
	if (r == EMU_OK)
		emu_reg_write(e, in->reg, size, m);
	return r;
}

/*
 * CMPXCHG8B compares EDX:EAX with m64 and CMPXCHG16B RDX:RAX with an m128
 * that must be 16-byte aligned; on a match m = ECX:EBX (RCX:RBX), otherwise
 * the accumulator pair receives m.  Only ZF changes.
 */
static enum emu_result exec_cmpxchg_double(struct emu *e)
{
	const struct emu_insn *in = &e->insn;
	unsigned half = in->op_bytes / 2;
	uint8_t m[16], v[16];
	uint64_t la, lo, hi;
	bool match;
	enum emu_result r;

	if (in->op_bytes == 16) {
		r = emu_linearize(e, in->sreg, in->ea, 16, true, &la);
		if (r != EMU_OK)
			return r;
		if (la & 15)
			return emu_fault(e, EMU_VEC_GP, true, 0);
	}
	r = emu_read(e, in->sreg, in->ea, m, in->op_bytes);
	if (r != EMU_OK)
		return r;
	lo = load_le(m, half);
	hi = load_le(m + half, half);
	match = lo == emu_reg_read(e, EMU_RAX, half) && hi == emu_reg_read(e, EMU_RDX, half);
	if (match) {
		store_le(v, emu_reg_read(e, EMU_RBX, half), half);
		store_le(v + half, emu_reg_read(e, EMU_RCX, half), half);
	} else {
		__builtin_memcpy(v, m, sizeof(v));
	}
	r = emu_write(e, in->sreg, in->ea, v, in->op_bytes);
	if (r != EMU_OK)
		return r;
	e->st.rflags = (e->st.rflags & ~EMU_RFLAGS_ZF) | (match ? EMU_RFLAGS_ZF : 0);
	if (!match) {
		emu_reg_write(e, EMU_RAX, half, lo);
		emu_reg_write(e, EMU_RDX, half, hi);
	}
	return EMU_OK;
}

/*
 * BT, BTS, BTR, BTC.  An immediate offset is taken modulo the operand size.
 * A register offset is a signed operand-size value that selects the operand
 * at ea + size * floor(offset / bits) (SDM "Bit(BitBase, BitOffset)"); only
 * CF changes, the other arithmetic flags are undefined and kept.
 */
static enum emu_result exec_bit(struct emu *e)
{
	const struct emu_insn *in = &e->insn;
	unsigned size = in->op_bytes;
	unsigned bits = size * 8;
	uint64_t ea = in->ea, m, bit;
	enum emu_result r;

	if (in->has_imm) {
		bit = in->imm & (bits - 1);
	} else {
		int64_t offset = (int64_t)emu_sign_extend(emu_reg_read(e, in->reg, size), size);

		ea += (uint64_t)((offset >> __builtin_ctz(bits)) * (int64_t)size);
		ea &= emu_size_mask(in->addr_bytes);
		bit = (uint64_t)offset & (bits - 1);
	}
	r = read_value(e, in->sreg, ea, size, &m);
	if (r != EMU_OK)
		return r;
	if (in->alu != EMU_BIT_TEST) {
		uint64_t mask = 1ull << bit;
		uint64_t v = in->alu == EMU_BIT_SET ? m | mask :
			     in->alu == EMU_BIT_RESET ? m & ~mask : m ^ mask;

		r = write_value(e, in->sreg, ea, size, v);
		if (r != EMU_OK)
			return r;
	}
	e->st.rflags = (e->st.rflags & ~EMU_RFLAGS_CF) | ((m >> bit) & 1 ? EMU_RFLAGS_CF : 0);
	return EMU_OK;
}

/*
 * MOVS, STOS, LODS, CMPS, SCAS: one element at DS:rSI (overridable) and/or
 * ES:rDI, the index registers and the REP count taken at the address size,
 * the index registers stepping by the element size in the direction of DF.
 * CMPS sets the flags of [rSI] - [rDI], SCAS those of rAX - [rDI]; under
 * REPE (F3) they stop early when ZF = 0, under REPNE (F2) when ZF = 1.
 */
static enum emu_result exec_string(struct emu *e, bool *finished)
{
	const struct emu_insn *in = &e->insn;
	enum emu_op op = in->op;
	unsigned size = in->op_bytes;
	uint64_t amask = emu_size_mask(in->addr_bytes);
	uint64_t count = e->st.gpr[EMU_RCX] & amask;
	uint64_t si = e->st.gpr[EMU_RSI] & amask;
	uint64_t di = e->st.gpr[EMU_RDI] & amask;
	uint64_t step = e->st.rflags & EMU_RFLAGS_DF ? 0 - (uint64_t)size : size;
	bool uses_si = op == EMU_OP_MOVS || op == EMU_OP_LODS || op == EMU_OP_CMPS;
	bool uses_di = op != EMU_OP_LODS;
	bool compares = op == EMU_OP_CMPS || op == EMU_OP_SCAS;
	uint64_t v = 0, d = 0;
	enum emu_result r = EMU_OK;

	*finished = true;
	if (in->rep && count == 0) {
		/*
		 * Intel CPUs write RCX, and the index registers the instruction
		 * steps, even when nothing repeats: with a 32-bit address size
		 * their upper halves clear (LODS keeps RSI; measured for MOVS,
		 * STOS and LODS by the differential test, CMPS and SCAS follow
		 * the same rule).  Other CPUs may leave them, which the test
		 * accepts.
		 */
		if (in->addr_bytes == 4) {
			emu_reg_write(e, EMU_RCX, 4, 0);
			if (op == EMU_OP_MOVS || op == EMU_OP_CMPS)
				emu_reg_write(e, EMU_RSI, 4, si);
			if (uses_di)
				emu_reg_write(e, EMU_RDI, 4, di);
		}
		return EMU_OK;
	}
	if (uses_si)
		r = read_value(e, in->sreg, si, size, &v);
	if (r == EMU_OK && compares)
		r = read_value(e, EMU_ES, di, size, &d);
	if (r == EMU_OK && (op == EMU_OP_MOVS || op == EMU_OP_STOS))
		r = write_value(e, EMU_ES, di, size,
				op == EMU_OP_STOS ? emu_reg_read(e, EMU_RAX, size) : v);
	if (r != EMU_OK)
		return r;
	if (op == EMU_OP_LODS)
		emu_reg_write(e, EMU_RAX, size, v);
	if (op == EMU_OP_CMPS)
		emu_alu(EMU_ALU_CMP, v, d, size, &e->st.rflags);
	if (op == EMU_OP_SCAS)
		emu_alu(EMU_ALU_CMP, emu_reg_read(e, EMU_RAX, size), d, size, &e->st.rflags);
	if (uses_si)
		emu_reg_write(e, EMU_RSI, in->addr_bytes, si + step);
	if (uses_di)
		emu_reg_write(e, EMU_RDI, in->addr_bytes, di + step);
	if (in->rep) {
		bool zf = e->st.rflags & EMU_RFLAGS_ZF;

		emu_reg_write(e, EMU_RCX, in->addr_bytes, count - 1);
		*finished = count == 1 || (compares && zf == in->repne);
	}
	return EMU_OK;
}

/*
 * SSE moves.  The alignment check of the aligned forms is on the linear
 * address, after the segment checks (as for CMPXCHG16B).  A store reads
 * the register before the write; a load writes the register last, after
 * its read succeeded, so a fault leaves the XMM registers as they were.
 */
static enum emu_result exec_sse(struct emu *e)
{
	const struct emu_insn *in = &e->insn;
	uint8_t buf[16] = { 0 };
	uint64_t la;
	enum emu_result r;

	if (in->aligned) {
		r = emu_linearize(e, in->sreg, in->ea, 16, in->op == EMU_OP_SSE_STORE, &la);
		if (r != EMU_OK)
			return r;
		if (la & 15)
			return emu_fault(e, EMU_VEC_GP, true, 0);
	}
	if (in->op == EMU_OP_SSE_STORE) {
		e->ops->xmm_read(e->ctx, in->reg, buf);
		return emu_write(e, in->sreg, in->ea, buf, in->op_bytes);
	}
	r = emu_read(e, in->sreg, in->ea, buf, in->op_bytes);
	if (r != EMU_OK)
		return r;
	e->ops->xmm_write(e->ctx, in->reg, buf);
	return EMU_OK;
}

enum emu_result emu_execute(struct emu *e, bool *finished)
{
	*finished = true;
	switch (e->insn.op) {
	case EMU_OP_MOV_STORE:
		return write_operand(e, source(e));
	case EMU_OP_MOV_LOAD:
	case EMU_OP_MOVZX:
	case EMU_OP_MOVSX:
		return exec_load(e);
	case EMU_OP_ALU:
		return exec_alu(e);
	case EMU_OP_TEST:
	case EMU_OP_NOT:
	case EMU_OP_NEG:
	case EMU_OP_INC:
	case EMU_OP_DEC:
		return exec_unary(e);
	case EMU_OP_XCHG:
	case EMU_OP_XADD:
	case EMU_OP_CMPXCHG:
		return exec_exchange(e);
	case EMU_OP_CMPXCHG_DOUBLE:
		return exec_cmpxchg_double(e);
	case EMU_OP_BIT:
		return exec_bit(e);
	case EMU_OP_MOVS:
	case EMU_OP_STOS:
	case EMU_OP_LODS:
	case EMU_OP_CMPS:
	case EMU_OP_SCAS:
		return exec_string(e, finished);
	case EMU_OP_SSE_LOAD:
	case EMU_OP_SSE_STORE:
		return exec_sse(e);
	}
	return emu_unhandled(e, "opcode not emulated");
}
