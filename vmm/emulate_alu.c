/* The emulator's arithmetic: results and OF SF ZF AF PF CF as the SDM defines them for each operation. */
#include "vmm/emulate.h"
#include "vmm/emulate_internal.h"

/* PF: set when the low byte of the result has an even number of 1 bits. */
static uint64_t parity_flag(uint64_t r)
{
	uint8_t b = (uint8_t)r;

	b ^= b >> 4;
	b ^= b >> 2;
	b ^= b >> 1;
	return b & 1 ? 0 : EMU_RFLAGS_PF;
}

static uint64_t result_flags(uint64_t r, unsigned size)
{
	uint64_t flags = parity_flag(r);

	if (!(r & emu_size_mask(size)))
		flags |= EMU_RFLAGS_ZF;
	if ((r >> (size * 8 - 1)) & 1)
		flags |= EMU_RFLAGS_SF;
	return flags;
}

/*
 * r = a + b (+ carry in).  The carry out of the top bit is the majority of
 * a's bit, b's bit and the carry into it; overflow is a carry into the sign
 * bit that differs from the carry out of it; AF is the carry out of bit 3.
 */
static uint64_t add_flags(uint64_t a, uint64_t b, uint64_t r, unsigned size)
{
	unsigned top = size * 8 - 1;
	uint64_t flags = result_flags(r, size);

	if ((((a & b) | ((a | b) & ~r)) >> top) & 1)
		flags |= EMU_RFLAGS_CF;
	if ((((a ^ r) & (b ^ r)) >> top) & 1)
		flags |= EMU_RFLAGS_OF;
	if ((a ^ b ^ r) & 0x10)
		flags |= EMU_RFLAGS_AF;
	return flags;
}

/* r = a - b (- borrow in): the same with a borrow instead of a carry. */
static uint64_t sub_flags(uint64_t a, uint64_t b, uint64_t r, unsigned size)
{
	unsigned top = size * 8 - 1;
	uint64_t flags = result_flags(r, size);

	if ((((~a & b) | ((~a | b) & r)) >> top) & 1)
		flags |= EMU_RFLAGS_CF;
	if ((((a ^ b) & (a ^ r)) >> top) & 1)
		flags |= EMU_RFLAGS_OF;
	if ((a ^ b ^ r) & 0x10)
		flags |= EMU_RFLAGS_AF;
	return flags;
}

static void set_flags(uint64_t *rflags, uint64_t mask, uint64_t flags)
{
	*rflags = (*rflags & ~mask) | (flags & mask);
}

uint64_t emu_alu(enum emu_alu_op op, uint64_t dst, uint64_t src, unsigned size, uint64_t *rflags)
{
	uint64_t carry = *rflags & EMU_RFLAGS_CF ? 1 : 0;
	uint64_t r, flags;

	switch (op) {
	case EMU_ALU_ADD:
	case EMU_ALU_ADC:
		r = dst + src + (op == EMU_ALU_ADC ? carry : 0);
		flags = add_flags(dst, src, r, size);
		break;
	case EMU_ALU_SUB:
	case EMU_ALU_SBB:
	case EMU_ALU_CMP:
		r = dst - src - (op == EMU_ALU_SBB ? carry : 0);
		flags = sub_flags(dst, src, r, size);
		break;
	default:
		/* Logic: CF = OF = 0; AF is undefined and cleared, as Intel and AMD CPUs do. */
		r = op == EMU_ALU_AND ? dst & src : op == EMU_ALU_OR ? dst | src : dst ^ src;
		flags = result_flags(r, size);
		break;
	}
	set_flags(rflags, EMU_RFLAGS_ARITH, flags);
	return r & emu_size_mask(size);
}

/* INC and DEC leave CF alone. */
uint64_t emu_inc(uint64_t v, unsigned size, uint64_t *rflags)
{
	uint64_t r = v + 1;

	set_flags(rflags, EMU_RFLAGS_ARITH & ~EMU_RFLAGS_CF, add_flags(v, 1, r, size));
	return r & emu_size_mask(size);
}

uint64_t emu_dec(uint64_t v, unsigned size, uint64_t *rflags)
{
	uint64_t r = v - 1;

	set_flags(rflags, EMU_RFLAGS_ARITH & ~EMU_RFLAGS_CF, sub_flags(v, 1, r, size));
	return r & emu_size_mask(size);
}

/* NEG is 0 - v: CF is set unless v is 0. */
uint64_t emu_neg(uint64_t v, unsigned size, uint64_t *rflags)
{
	uint64_t r = 0 - v;

	set_flags(rflags, EMU_RFLAGS_ARITH, sub_flags(0, v, r, size));
	return r & emu_size_mask(size);
}
