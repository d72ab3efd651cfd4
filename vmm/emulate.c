/* The emulator's entry point, with the register file and the segmented data accesses it shares. */
#include "vmm/emulate.h"
#include "vmm/emulate_internal.h"

enum emu_result emu_fault(struct emu *e, uint8_t vector, bool has_error, uint32_t error_code)
{
	e->out->exc = (struct emu_exception){
		.vector = vector, .has_error = has_error, .error_code = error_code,
	};
	return EMU_EXCEPTION;
}

enum emu_result emu_unhandled(struct emu *e, const char *reason)
{
	e->out->reason = reason;
	return EMU_UNHANDLED;
}

uint64_t emu_size_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

uint64_t emu_sign_extend(uint64_t v, unsigned size)
{
	unsigned shift = 64 - size * 8;

	return (uint64_t)((int64_t)(v << shift) >> shift);
}

/* Without REX, byte registers 4-7 are AH CH DH BH: bits 15:8 of registers 0-3. */
static bool is_high_byte(const struct emu *e, unsigned reg, unsigned size)
{
	return size == 1 && !e->insn.rex && reg >= 4 && reg < 8;
}

uint64_t emu_reg_read(const struct emu *e, unsigned reg, unsigned size)
{
	if (is_high_byte(e, reg, size))
		return (e->st.gpr[reg - 4] >> 8) & 0xff;
	return e->st.gpr[reg] & emu_size_mask(size);
}

/* 8- and 16-bit writes keep the rest of the register; 32-bit writes zero-extend, as in 64-bit mode. */
void emu_reg_write(struct emu *e, unsigned reg, unsigned size, uint64_t v)
{
	uint64_t *r;

	if (is_high_byte(e, reg, size)) {
		r = &e->st.gpr[reg - 4];
		*r = (*r & ~0xff00ull) | ((v & 0xff) << 8);
		return;
	}
	r = &e->st.gpr[reg];
	if (size >= 4)
		*r = v & emu_size_mask(size);
	else
		*r = (*r & ~emu_size_mask(size)) | (v & emu_size_mask(size));
}

/* 48-bit linear addresses: bits 63:47 all equal (LA57 is not offered to guests). */
bool emu_is_canonical(uint64_t la)
{
	return (uint64_t)((int64_t)(la << 16) >> 16) == la;
}

static enum emu_result segment_fault(struct emu *e, unsigned sreg)
{
	return emu_fault(e, sreg == EMU_SS ? EMU_VEC_SS : EMU_VEC_GP, true, 0);
}

/* Protected modes: null selectors and the segment type's permissions (SDM 5.4, 5.5). */
static bool segment_allows(const struct emu_segment *seg, bool write)
{
	bool code = seg->type & EMU_SEG_TYPE_CODE;

	if (!seg->usable)
		return false;
	if (write)
		return !code && (seg->type & EMU_SEG_TYPE_WRITABLE);
	return !code || (seg->type & EMU_SEG_TYPE_WRITABLE);
}

static bool within_limit(const struct emu_segment *seg, bool expand_down, uint64_t ea, unsigned len)
{
	uint64_t last = ea + len - 1;

	if (expand_down)
		return ea > seg->limit && last <= (seg->db ? 0xffffffffull : 0xffffull);
	return last <= seg->limit;
}

const struct emu_segment *emu_segment(struct emu *e, unsigned sreg)
{
	if (e->ops->segment && !(e->seg_loaded & (1u << sreg))) {
		e->ops->segment(e->ctx, sreg, &e->st.seg[sreg]);
		e->seg_loaded |= 1u << sreg;
	}
	return &e->st.seg[sreg];
}

enum emu_result emu_linearize(struct emu *e, unsigned sreg, uint64_t ea, unsigned len, bool write,
			      uint64_t *linear)
{
	const struct emu_segment *seg;
	bool expand_down = false;
	uint64_t la;

	if (e->st.mode == EMU_MODE_LONG64) {
		la = ea + (sreg == EMU_FS || sreg == EMU_GS ? emu_segment(e, sreg)->base : 0);
		if (!emu_is_canonical(la) || !emu_is_canonical(la + len - 1))
			return segment_fault(e, sreg);
		if (la + len - 1 < la)
			return emu_unhandled(e, "access wraps around the linear address space");
		*linear = la;
		return EMU_OK;
	}
	seg = emu_segment(e, sreg);
	if (e->st.mode != EMU_MODE_REAL) {
		if (!segment_allows(seg, write))
			return segment_fault(e, sreg);
		expand_down = (seg->type & (EMU_SEG_TYPE_CODE | EMU_SEG_TYPE_EXPAND_DOWN)) ==
			      EMU_SEG_TYPE_EXPAND_DOWN;
	}
	if (!within_limit(seg, expand_down, ea, len))
		return segment_fault(e, sreg);
	la = (seg->base + ea) & 0xffffffffull;
	if (la + len > 0x100000000ull)
		return emu_unhandled(e, "access wraps around the linear address space");
	*linear = la;
	return EMU_OK;
}

static bool user_access(const struct emu *e)
{
	return e->st.cpl == 3;
}

static enum emu_result declined(struct emu *e, enum emu_result r)
{
	return r == EMU_UNHANDLED ? emu_unhandled(e, "memory access declined by the caller") : r;
}

enum emu_result emu_read(struct emu *e, unsigned sreg, uint64_t ea, void *buf, unsigned len)
{
	uint64_t la;
	enum emu_result r = emu_linearize(e, sreg, ea, len, false, &la);

	if (r != EMU_OK)
		return r;
	return declined(e, e->ops->read(e->ctx, la, buf, len, user_access(e), &e->out->exc));
}

enum emu_result emu_write(struct emu *e, unsigned sreg, uint64_t ea, const void *buf, unsigned len)
{
	uint64_t la;
	enum emu_result r = emu_linearize(e, sreg, ea, len, true, &la);

	if (r != EMU_OK)
		return r;
	return declined(e, e->ops->write(e->ctx, la, buf, len, user_access(e), &e->out->exc));
}

/*
 * A finished instruction moves RIP past itself (EIP wrapping at 4 GiB outside
 * 64-bit mode) and clears RF, as every completed instruction does.  A REP
 * string instruction with iterations left keeps RIP and sets RF, as the CPU
 * does between iterations, so that re-executing it does not hit its own
 * instruction breakpoint again.
 */
static void retire(struct emu *e, bool finished)
{
	if (!finished) {
		e->st.rflags |= EMU_RFLAGS_RF;
		return;
	}
	e->st.rip += e->insn.len;
	if (e->st.mode != EMU_MODE_LONG64)
		e->st.rip &= 0xffffffffull;
	e->st.rflags &= ~EMU_RFLAGS_RF;
}

enum emu_result emulate_instruction(struct emu_state *s, const struct emu_ops *ops, void *ctx,
				    struct emu_outcome *out)
{
	struct emu e = { .st = *s, .ops = ops, .ctx = ctx, .out = out };
	enum emu_result r;
	bool finished;

	*out = (struct emu_outcome){ .reason = "" };
	r = emu_decode(&e);
	if (r == EMU_OK)
		r = emu_execute(&e, &finished);
	if (r != EMU_OK)
		return r;
	retire(&e, finished);
	out->insn_len = e.insn.len;
	*s = e.st;
	return EMU_OK;
}
