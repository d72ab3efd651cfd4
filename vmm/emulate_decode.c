/* The emulator's decoder: prefixes, opcode, ModRM/SIB addressing and immediates, fetched from CS:RIP. */
#include "vmm/emulate.h"
#include "vmm/emulate_internal.h"

#define PAGE_SIZE_4K 4096u
#define IMM_Z 0xff	/* imm_bytes: 2 at operand size 16, else 4 (sign-extended at size 64) */

/* The decoder's view of the instruction stream; prefixes as seen, before they are applied. */
struct decoder {
	struct emu *e;
	uint8_t rex;		/* 0 when the byte before the opcode was no REX */
	bool opsize_prefix;
	bool addrsize_prefix;
	uint8_t rep_prefix;	/* 0, 0xf2 or 0xf3: the last one counts */
	int seg_override;	/* enum emu_sreg, or -1 */
	bool two_byte;		/* 0F escape */
	uint8_t opcode;
	bool has_modrm;
	uint8_t mod, rm;	/* rm with REX.B */
	bool rip_relative;
	uint8_t imm_bytes;	/* 0, 1, 2, 4, 8 (moffs) or IMM_Z */
};

static bool long_mode(const struct emu *e)
{
	return e->st.mode == EMU_MODE_LONG64;
}

/*
 * Fetches more of the instruction into out->insn: from the next byte up to
 * the end of its page (so a fetch never faults on a page the instruction
 * does not reach), at most 15 bytes in all.  Needing a 16th byte is #GP(0),
 * as is a byte past the CS limit or at a non-canonical RIP.
 */
static enum emu_result fetch_more(struct emu *e)
{
	struct emu_outcome *out = e->out;
	const struct emu_segment *cs = emu_segment(e, EMU_CS);
	unsigned have = out->insn_len;
	uint64_t offset, la, chunk;
	enum emu_result r;

	if (have >= EMU_MAX_INSN_LEN)
		return emu_fault(e, EMU_VEC_GP, true, 0);
	offset = e->st.rip + have;
	if (long_mode(e)) {
		la = offset;
		if (!emu_is_canonical(la))
			return emu_fault(e, EMU_VEC_GP, true, 0);
	} else {
		offset &= 0xffffffffull;
		if (offset > cs->limit)
			return emu_fault(e, EMU_VEC_GP, true, 0);
		la = (cs->base + offset) & 0xffffffffull;
	}
	chunk = PAGE_SIZE_4K - (la & (PAGE_SIZE_4K - 1));
	if (chunk > EMU_MAX_INSN_LEN - have)
		chunk = EMU_MAX_INSN_LEN - have;
	if (!long_mode(e) && chunk > (uint64_t)cs->limit - offset + 1)
		chunk = (uint64_t)cs->limit - offset + 1;
	r = e->ops->fetch(e->ctx, la, out->insn + have, (unsigned)chunk, e->st.cpl == 3, &out->exc);
	if (r == EMU_UNHANDLED)
		return emu_unhandled(e, "instruction fetch declined by the caller");
	if (r == EMU_OK)
		out->insn_len = (uint8_t)(have + chunk);
	return r;
}

static enum emu_result next_byte(struct decoder *d, uint8_t *b)
{
	struct emu *e = d->e;
	enum emu_result r;

	if (e->insn.len == e->out->insn_len) {
		r = fetch_more(e);
		if (r != EMU_OK)
			return r;
	}
	*b = e->out->insn[e->insn.len++];
	return EMU_OK;
}

/* Little-endian, sign-extended from its size to 64 bits unless that size is 8. */
static enum emu_result next_signed(struct decoder *d, unsigned bytes, uint64_t *v)
{
	uint64_t x = 0;
	unsigned i;

	*v = 0;
	for (i = 0; i < bytes; i++) {
		uint8_t b;
		enum emu_result r = next_byte(d, &b);

		if (r != EMU_OK)
			return r;
		x |= (uint64_t)b << (8 * i);
	}
	if (bytes)
		*v = emu_sign_extend(x, bytes);
	return EMU_OK;
}

/*
 * Legacy prefixes in any order, then REX in 64-bit mode.  A REX followed by
 * another prefix is ignored, as the CPU ignores it.
 */
static enum emu_result decode_prefixes(struct decoder *d)
{
	for (;;) {
		uint8_t b;
		enum emu_result r = next_byte(d, &b);

		if (r != EMU_OK)
			return r;
		if (long_mode(d->e) && (b & 0xf0) == 0x40) {
			d->rex = b;
			continue;
		}
		switch (b) {
		case 0x66:
			d->opsize_prefix = true;
			break;
		case 0x67:
			d->addrsize_prefix = true;
			break;
		case 0xf0:
			d->e->insn.lock = true;
			break;
		case 0xf2:
		case 0xf3:
			d->rep_prefix = b;
			break;
		case 0x26: case 0x2e: case 0x36: case 0x3e:
			/* 64-bit mode ignores ES, CS, SS and DS overrides. */
			if (!long_mode(d->e))
				d->seg_override = (b >> 3) & 3;
			break;
		case 0x64: case 0x65:
			d->seg_override = b - 0x64 + EMU_FS;
			break;
		default:
			d->opcode = b;
			return EMU_OK;
		}
		d->rex = 0;
	}
}

static void decode_sizes(struct decoder *d)
{
	struct emu_insn *in = &d->e->insn;
	bool sixteen = d->e->st.mode == EMU_MODE_REAL || d->e->st.mode == EMU_MODE_PROT16;

	in->rex = d->rex != 0;
	in->rex_w = d->rex & 8;
	if (long_mode(d->e)) {
		in->op_bytes = in->rex_w ? 8 : d->opsize_prefix ? 2 : 4;
		in->addr_bytes = d->addrsize_prefix ? 4 : 8;
	} else {
		in->op_bytes = sixteen != d->opsize_prefix ? 2 : 4;
		in->addr_bytes = sixteen != d->addrsize_prefix ? 2 : 4;
	}
}

/* Fills in op and the operand shapes; false for an opcode the emulator does not handle. */
static bool classify_one_byte(struct decoder *d)
{
	struct emu_insn *in = &d->e->insn;
	uint8_t op = d->opcode;
	bool byte_op = !(op & 1);

	d->has_modrm = true;
	if (op < 0x40 && (op & 7) < 4) {
		in->op = EMU_OP_ALU;
		in->alu = op >> 3;
		in->mem_is_dest = !(op & 2);
	} else {
		switch (op) {
		case 0x63:
			if (!long_mode(d->e))
				return false;	/* ARPL */
			in->op = EMU_OP_MOVSX;
			in->src_bytes = in->op_bytes < 4 ? in->op_bytes : 4;
			byte_op = false;
			break;
		case 0x80: case 0x81: case 0x82: case 0x83:
			in->op = EMU_OP_ALU;
			in->mem_is_dest = true;
			in->has_imm = true;
			byte_op = op != 0x81 && op != 0x83;
			d->imm_bytes = op == 0x81 ? IMM_Z : 1;
			break;
		case 0x84: case 0x85:
			in->op = EMU_OP_TEST;
			break;
		case 0x86: case 0x87:
			in->op = EMU_OP_XCHG;
			break;
		case 0x88: case 0x89:
			in->op = EMU_OP_MOV_STORE;
			break;
		case 0x8a: case 0x8b:
			in->op = EMU_OP_MOV_LOAD;
			break;
		case 0xa0: case 0xa1: case 0xa2: case 0xa3:
			in->op = op < 0xa2 ? EMU_OP_MOV_LOAD : EMU_OP_MOV_STORE;
			in->reg = EMU_RAX;
			d->has_modrm = false;
			d->imm_bytes = in->addr_bytes;
			break;
		case 0xa4: case 0xa5:
			in->op = EMU_OP_MOVS;
			d->has_modrm = false;
			break;
		case 0xaa: case 0xab:
			in->op = EMU_OP_STOS;
			d->has_modrm = false;
			break;
		case 0xac: case 0xad:
			in->op = EMU_OP_LODS;
			d->has_modrm = false;
			break;
		case 0xa6: case 0xa7:
			in->op = EMU_OP_CMPS;
			d->has_modrm = false;
			break;
		case 0xae: case 0xaf:
			in->op = EMU_OP_SCAS;
			d->has_modrm = false;
			break;
		case 0xc6: case 0xc7:
			in->op = EMU_OP_MOV_STORE;
			in->has_imm = true;
			d->imm_bytes = byte_op ? 1 : IMM_Z;
			break;
		case 0xf6: case 0xf7:
		case 0xfe: case 0xff:
			/* Groups 3, 4 and 5: op and immediate follow from ModRM.reg. */
			break;
		default:
			return false;
		}
	}
	if (byte_op)
		in->op_bytes = 1;
	return true;
}

/*
 * The SSE/SSE2 moves between an XMM register and memory.  The mandatory
 * prefix picks the instruction: F2 or F3 (the last one) when present, else
 * 66; the operand size is the instruction's, whatever the mode and 66 say.
 * Loads from memory zero the rest of the register.  False for the forms
 * not emulated (MMX, the register-only and merging forms, undefined ones).
 */
static bool classify_sse(struct decoder *d)
{
	struct emu_insn *in = &d->e->insn;
	uint8_t mp = d->rep_prefix ? d->rep_prefix : d->opsize_prefix ? 0x66 : 0;
	uint8_t op = d->opcode;
	unsigned size = 16;
	bool load = false, aligned = false;

	switch (op) {
	case 0x10: case 0x11:	/* MOVUPS MOVUPD MOVSS MOVSD */
		load = op == 0x10;
		size = mp == 0xf3 ? 4 : mp == 0xf2 ? 8 : 16;
		break;
	case 0x28: case 0x29:	/* MOVAPS MOVAPD */
		if (mp != 0 && mp != 0x66)
			return false;
		load = op == 0x28;
		aligned = true;
		break;
	case 0x2b:		/* MOVNTPS MOVNTPD */
		if (mp != 0 && mp != 0x66)
			return false;
		aligned = true;
		break;
	case 0x6f: case 0x7f:	/* MOVDQA MOVDQU */
		if (mp != 0x66 && mp != 0xf3)
			return false;
		load = op == 0x6f;
		aligned = mp == 0x66;
		break;
	case 0xe7:		/* MOVNTDQ */
		if (mp != 0x66)
			return false;
		aligned = true;
		break;
	case 0x6e:		/* MOVD/MOVQ xmm, r/m32/64 */
		if (mp != 0x66)
			return false;
		load = true;
		size = in->rex_w ? 8 : 4;
		break;
	case 0x7e:		/* 66: MOVD/MOVQ r/m32/64, xmm; F3: MOVQ xmm, m64 */
		if (mp == 0x66)
			size = in->rex_w ? 8 : 4;
		else if (mp == 0xf3)
			load = true, size = 8;
		else
			return false;
		break;
	case 0xd6:		/* MOVQ m64, xmm */
		if (mp != 0x66)
			return false;
		size = 8;
		break;
	default:
		return false;
	}
	in->op = load ? EMU_OP_SSE_LOAD : EMU_OP_SSE_STORE;
	in->op_bytes = (uint8_t)size;
	in->aligned = aligned;
	d->has_modrm = true;
	return true;
}

static bool is_sse(const struct emu_insn *in)
{
	return in->op == EMU_OP_SSE_LOAD || in->op == EMU_OP_SSE_STORE;
}

static bool classify_two_byte(struct decoder *d)
{
	struct emu_insn *in = &d->e->insn;
	uint8_t op = d->opcode;

	if (classify_sse(d))
		return true;
	d->has_modrm = true;
	switch (op) {
	case 0xa3: case 0xab: case 0xb3: case 0xbb:
		in->op = EMU_OP_BIT;
		in->alu = (op >> 3) & 3;
		break;
	case 0xba:
		in->op = EMU_OP_BIT;
		in->has_imm = true;
		d->imm_bytes = 1;
		break;
	case 0xb0: case 0xb1:
		in->op = EMU_OP_CMPXCHG;
		break;
	case 0xc0: case 0xc1:
		in->op = EMU_OP_XADD;
		break;
	case 0xb6: case 0xb7: case 0xbe: case 0xbf:
		in->op = op & 8 ? EMU_OP_MOVSX : EMU_OP_MOVZX;
		in->src_bytes = op & 1 ? 2 : 1;
		return true;
	case 0xc7:
		in->op = EMU_OP_CMPXCHG_DOUBLE;
		in->op_bytes = in->rex_w ? 16 : 8;
		return true;
	default:
		return false;
	}
	if (op == 0xb0 || op == 0xc0)
		in->op_bytes = 1;
	return true;
}

/*
 * The groups whose ModRM.reg picks the operation; false for the members the
 * emulator does not handle (MUL/DIV, CALL/JMP/PUSH, the undefined ones).
 */
static bool classify_group(struct decoder *d, unsigned reg)
{
	struct emu_insn *in = &d->e->insn;

	if (d->two_byte) {
		if (d->opcode == 0xba) {
			if (reg < 4)
				return false;
			in->alu = reg - 4;
			return true;
		}
		if (d->opcode == 0xc7)
			return reg == 1;
		return true;
	}
	switch (d->opcode) {
	case 0x80: case 0x81: case 0x82: case 0x83:
		in->alu = reg;
		return true;
	case 0xc6: case 0xc7:
		return reg == 0;
	case 0xf6: case 0xf7:
		if (reg == 0) {
			in->op = EMU_OP_TEST;
			in->has_imm = true;
			d->imm_bytes = d->opcode == 0xf6 ? 1 : IMM_Z;
			return true;
		}
		in->op = reg == 2 ? EMU_OP_NOT : EMU_OP_NEG;
		return reg == 2 || reg == 3;
	case 0xfe: case 0xff:
		in->op = reg == 0 ? EMU_OP_INC : EMU_OP_DEC;
		return reg <= 1;
	default:
		return true;
	}
}

/* 16-bit addressing (SDM table 2-1): [BX+SI] [BX+DI] [BP+SI] [BP+DI] [SI] [DI] [BP] [BX]. */
static enum emu_result decode_ea16(struct decoder *d, uint64_t *ea, unsigned *sreg)
{
	static const uint8_t base[8] = { EMU_RBX, EMU_RBX, EMU_RBP, EMU_RBP,
					 EMU_RSI, EMU_RDI, EMU_RBP, EMU_RBX };
	static const int8_t index[8] = { EMU_RSI, EMU_RDI, EMU_RSI, EMU_RDI, -1, -1, -1, -1 };
	const uint64_t *gpr = d->e->st.gpr;
	unsigned rm = d->rm & 7;
	uint64_t disp = 0;
	enum emu_result r = EMU_OK;

	if (d->mod == 0 && rm == 6) {
		r = next_signed(d, 2, &disp);
		*ea = disp;
		return r;
	}
	if (d->mod == 1)
		r = next_signed(d, 1, &disp);
	else if (d->mod == 2)
		r = next_signed(d, 2, &disp);
	*ea = gpr[base[rm]] + (index[rm] >= 0 ? gpr[index[rm]] : 0) + disp;
	if (base[rm] == EMU_RBP)
		*sreg = EMU_SS;
	return r;
}

/* 32- and 64-bit addressing (SDM tables 2-2, 2-3), RIP-relative resolved once the length is known. */
static enum emu_result decode_ea32(struct decoder *d, uint64_t *ea, unsigned *sreg)
{
	const uint64_t *gpr = d->e->st.gpr;
	unsigned base = d->rm;
	uint64_t disp = 0, sum = 0;
	bool has_base = true;
	enum emu_result r;

	if ((d->rm & 7) == 4) {
		uint8_t sib;
		unsigned index;

		r = next_byte(d, &sib);
		if (r != EMU_OK)
			return r;
		index = ((sib >> 3) & 7) | ((d->rex & 2) << 2);
		base = (sib & 7) | ((d->rex & 1) << 3);
		if (index != EMU_RSP)
			sum = gpr[index] << (sib >> 6);
		if ((base & 7) == 5 && d->mod == 0)
			has_base = false;
	} else if ((d->rm & 7) == 5 && d->mod == 0) {
		has_base = false;
		d->rip_relative = long_mode(d->e);
	}
	if (has_base) {
		sum += gpr[base];
		if (base == EMU_RSP || base == EMU_RBP)
			*sreg = EMU_SS;
	}
	r = next_signed(d, !has_base || d->mod == 2 ? 4 : d->mod == 1 ? 1 : 0, &disp);
	*ea = sum + disp;
	return r;
}

static enum emu_result decode_modrm(struct decoder *d)
{
	struct emu_insn *in = &d->e->insn;
	unsigned sreg = EMU_DS;
	uint8_t modrm;
	enum emu_result r = next_byte(d, &modrm);

	if (r != EMU_OK)
		return r;
	d->mod = modrm >> 6;
	d->rm = (modrm & 7) | ((d->rex & 1) << 3);
	in->reg = ((modrm >> 3) & 7) | ((d->rex & 4) << 1);
	if (!classify_group(d, (modrm >> 3) & 7))
		return emu_unhandled(d->e, "opcode not emulated");
	if (d->mod == 3) {
		if (in->lock)
			return emu_fault(d->e, EMU_VEC_UD, false, 0);
		return emu_unhandled(d->e, "register operand (ModRM mod = 3)");
	}
	if (in->addr_bytes == 2)
		r = decode_ea16(d, &in->ea, &sreg);
	else
		r = decode_ea32(d, &in->ea, &sreg);
	in->sreg = sreg;
	return r;
}

static bool lock_allowed(const struct emu_insn *in)
{
	switch (in->op) {
	case EMU_OP_ALU:
		return in->mem_is_dest && in->alu != EMU_ALU_CMP;
	case EMU_OP_BIT:
		return in->alu != EMU_BIT_TEST;
	case EMU_OP_NOT: case EMU_OP_NEG: case EMU_OP_INC: case EMU_OP_DEC:
	case EMU_OP_XCHG: case EMU_OP_XADD: case EMU_OP_CMPXCHG: case EMU_OP_CMPXCHG_DOUBLE:
		return true;
	default:
		return false;
	}
}

enum emu_result emu_decode(struct emu *e)
{
	struct decoder d = { .e = e, .seg_override = -1 };
	struct emu_insn *in = &e->insn;
	enum emu_result r = decode_prefixes(&d);
	bool known;

	if (r != EMU_OK)
		return r;
	decode_sizes(&d);
	if (d.opcode == 0x82 && long_mode(e))
		return emu_fault(e, EMU_VEC_UD, false, 0);
	if (d.opcode == 0x0f) {
		d.two_byte = true;
		r = next_byte(&d, &d.opcode);
		if (r != EMU_OK)
			return r;
		known = classify_two_byte(&d);
	} else {
		known = classify_one_byte(&d);
	}
	if (!known)
		return emu_unhandled(e, "opcode not emulated");
	if (is_sse(in) && (!e->ops->xmm_read || !e->ops->xmm_write))
		return emu_unhandled(e, "SSE instruction, and no XMM register callbacks");
	in->sreg = EMU_DS;
	if (d.has_modrm) {
		r = decode_modrm(&d);
		if (r != EMU_OK)
			return r;
	}
	if (d.imm_bytes == IMM_Z)
		d.imm_bytes = in->op_bytes == 2 ? 2 : 4;
	r = next_signed(&d, d.imm_bytes, &in->imm);
	if (r != EMU_OK)
		return r;
	if (!d.has_modrm && d.imm_bytes)
		in->ea = in->imm & emu_size_mask(in->addr_bytes);	/* moffs */
	if (in->lock && !lock_allowed(in))
		return emu_fault(e, EMU_VEC_UD, false, 0);
	if (d.rip_relative)
		in->ea += e->st.rip + in->len;
	in->ea &= emu_size_mask(in->addr_bytes);
	if (d.seg_override >= 0)
		in->sreg = (uint8_t)d.seg_override;
	in->rep = d.rep_prefix && (in->op == EMU_OP_MOVS || in->op == EMU_OP_STOS ||
				   in->op == EMU_OP_LODS || in->op == EMU_OP_CMPS ||
				   in->op == EMU_OP_SCAS);
	in->repne = in->rep && d.rep_prefix == 0xf2;
	if (is_sse(in)) {
		/* After the whole instruction is fetched (fetch faults come first), before any data access. */
		if ((e->st.cr0 & EMU_CR0_EM) || !(e->st.cr4 & EMU_CR4_OSFXSR))
			return emu_fault(e, EMU_VEC_UD, false, 0);
		if (e->st.cr0 & EMU_CR0_TS)
			return emu_fault(e, EMU_VEC_NM, false, 0);
	}
	return EMU_OK;
}
