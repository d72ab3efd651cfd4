/* Random instructions with a memory operand in 64-, 32- and 16-bit modes, for the emulator's differential test. */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "tests/unit/emulate_gen.h"
#include "tests/unit/test_rng.h"

#define CF (1ull << 0)
#define PF (1ull << 2)
#define AF (1ull << 4)
#define ZF (1ull << 6)
#define SF (1ull << 7)
#define DF (1ull << 10)
#define OF (1ull << 11)
#define ARITH (CF | PF | AF | ZF | SF | OF)

enum gen_kind { K_MODRM, K_MOFFS, K_STRING };

#define F_BYTE		(1u << 0)	/* 8-bit operand */
#define F_LOCK		(1u << 1)	/* LOCK allowed (destination in memory) */
#define F_BIT_OFFSET	(1u << 2)	/* the register operand is a bit offset */
#define F_CMPXCHG	(1u << 3)	/* often make the accumulator match memory */
#define F_CX8		(1u << 4)	/* CMPXCHG8B: no REX.W */
#define F_CX16		(1u << 5)	/* CMPXCHG16B: REX.W set, 16-byte aligned operand */
#define F_READS_SRC	(1u << 6)	/* string instruction reading DS:rSI */
#define F_WRITES_DST	(1u << 7)	/* string instruction writing ES:rDI */
#define F_LONG_ONLY	(1u << 8)	/* exists in 64-bit mode only */
#define F_LEGACY_ONLY	(1u << 9)	/* invalid in 64-bit mode */
#define F_SSE		(1u << 10)	/* an SSE move: mandatory prefix mp, no 66/F0 of its own */
#define F_ALIGN16	(1u << 11)	/* the memory operand must be 16-byte aligned */
#define F_CMP_STRING	(1u << 12)	/* CMPS/SCAS: often make the elements equal */

struct gen_template {
	const char *name;
	uint8_t op[2];
	uint8_t op_len;
	int8_t group;		/* ModRM.reg of a group opcode; -1: a register operand */
	uint8_t imm;		/* 0, 1 (ib) or 4 (iz: 2 bytes at operand size 16) */
	uint8_t kind;
	uint16_t flags;
	uint64_t defined;
	uint8_t mp;		/* F_SSE: the mandatory prefix, or 0 */
	uint8_t msize;		/* F_SSE: memory operand bytes; 0: 8 with REX.W, else 4 */
};

#define MAX_TEMPLATES 200

static struct gen_template templates[MAX_TEMPLATES];
static unsigned ntemplates;

static void add(const char *name, unsigned opcode, int group, unsigned imm, unsigned kind,
		unsigned flags, uint64_t defined)
{
	struct gen_template *t = &templates[ntemplates++];

	t->name = name;
	t->op_len = opcode > 0xff ? 2 : 1;
	t->op[0] = opcode > 0xff ? 0x0f : (uint8_t)opcode;
	t->op[1] = (uint8_t)opcode;
	t->group = (int8_t)group;
	t->imm = (uint8_t)imm;
	t->kind = (uint8_t)kind;
	t->flags = (uint16_t)flags;
	t->defined = defined;
}

/* An SSE move: no flags change, so all of them are compared. */
static void add_sse(const char *name, unsigned mp, unsigned opcode, unsigned msize, bool aligned)
{
	struct gen_template *t = &templates[ntemplates];

	add(name, 0x0f00 | opcode, -1, 0, K_MODRM, F_SSE | (aligned ? F_ALIGN16 : 0), ARITH);
	t->mp = (uint8_t)mp;
	t->msize = (uint8_t)msize;
}

/* AND, OR, XOR and TEST leave AF undefined; the bit tests define only CF. */
#define LOGIC (ARITH & ~AF)
#define BITS (CF | ZF)

static void build_templates(void)
{
	static const char *const alu[8] = { "add", "or", "adc", "sbb", "and", "sub", "xor", "cmp" };
	static const char *const bit[4] = { "bt", "bts", "btr", "btc" };
	unsigned i, form;

	for (i = 0; i < 8; i++) {
		uint64_t defined = i == 1 || i == 4 || i == 6 ? LOGIC : ARITH;
		unsigned lock = i != 7 ? F_LOCK : 0;

		for (form = 0; form < 4; form++)
			add(alu[i], i * 8 + form, -1, 0, K_MODRM,
			    (form & 1 ? 0 : F_BYTE) | (form < 2 ? lock : 0), defined);
		add(alu[i], 0x80, (int)i, 1, K_MODRM, F_BYTE | lock, defined);
		add(alu[i], 0x81, (int)i, 4, K_MODRM, lock, defined);
		add(alu[i], 0x83, (int)i, 1, K_MODRM, lock, defined);
		add(alu[i], 0x82, (int)i, 1, K_MODRM, F_BYTE | F_LEGACY_ONLY | lock, defined);
	}
	add("test", 0x84, -1, 0, K_MODRM, F_BYTE, LOGIC);
	add("test", 0x85, -1, 0, K_MODRM, 0, LOGIC);
	add("test", 0xf6, 0, 1, K_MODRM, F_BYTE, LOGIC);
	add("test", 0xf7, 0, 4, K_MODRM, 0, LOGIC);
	add("not", 0xf6, 2, 0, K_MODRM, F_BYTE | F_LOCK, ARITH);
	add("not", 0xf7, 2, 0, K_MODRM, F_LOCK, ARITH);
	add("neg", 0xf6, 3, 0, K_MODRM, F_BYTE | F_LOCK, ARITH);
	add("neg", 0xf7, 3, 0, K_MODRM, F_LOCK, ARITH);
	add("inc", 0xfe, 0, 0, K_MODRM, F_BYTE | F_LOCK, ARITH);
	add("inc", 0xff, 0, 0, K_MODRM, F_LOCK, ARITH);
	add("dec", 0xfe, 1, 0, K_MODRM, F_BYTE | F_LOCK, ARITH);
	add("dec", 0xff, 1, 0, K_MODRM, F_LOCK, ARITH);
	add("xchg", 0x86, -1, 0, K_MODRM, F_BYTE | F_LOCK, ARITH);
	add("xchg", 0x87, -1, 0, K_MODRM, F_LOCK, ARITH);
	add("mov", 0x88, -1, 0, K_MODRM, F_BYTE, ARITH);
	add("mov", 0x89, -1, 0, K_MODRM, 0, ARITH);
	add("mov", 0x8a, -1, 0, K_MODRM, F_BYTE, ARITH);
	add("mov", 0x8b, -1, 0, K_MODRM, 0, ARITH);
	add("mov", 0xc6, 0, 1, K_MODRM, F_BYTE, ARITH);
	add("mov", 0xc7, 0, 4, K_MODRM, 0, ARITH);
	add("mov", 0xa0, -1, 0, K_MOFFS, F_BYTE, ARITH);
	add("mov", 0xa1, -1, 0, K_MOFFS, 0, ARITH);
	add("mov", 0xa2, -1, 0, K_MOFFS, F_BYTE, ARITH);
	add("mov", 0xa3, -1, 0, K_MOFFS, 0, ARITH);
	add("movsxd", 0x63, -1, 0, K_MODRM, F_LONG_ONLY, ARITH);
	add("movzx", 0x0fb6, -1, 0, K_MODRM, 0, ARITH);
	add("movzx", 0x0fb7, -1, 0, K_MODRM, 0, ARITH);
	add("movsx", 0x0fbe, -1, 0, K_MODRM, 0, ARITH);
	add("movsx", 0x0fbf, -1, 0, K_MODRM, 0, ARITH);
	add("cmpxchg", 0x0fb0, -1, 0, K_MODRM, F_BYTE | F_LOCK | F_CMPXCHG, ARITH);
	add("cmpxchg", 0x0fb1, -1, 0, K_MODRM, F_LOCK | F_CMPXCHG, ARITH);
	add("xadd", 0x0fc0, -1, 0, K_MODRM, F_BYTE | F_LOCK, ARITH);
	add("xadd", 0x0fc1, -1, 0, K_MODRM, F_LOCK, ARITH);
	add("cmpxchg8b", 0x0fc7, 1, 0, K_MODRM, F_LOCK | F_CX8, ARITH);
	add("cmpxchg16b", 0x0fc7, 1, 0, K_MODRM, F_LOCK | F_CX16 | F_LONG_ONLY, ARITH);
	for (i = 0; i < 4; i++) {
		unsigned lock = i ? F_LOCK : 0;

		add(bit[i], 0x0fa3 + i * 8, -1, 0, K_MODRM, lock | F_BIT_OFFSET, BITS);
		add(bit[i], 0x0fba, 4 + (int)i, 1, K_MODRM, lock, BITS);
	}
	add("movs", 0xa4, -1, 0, K_STRING, F_BYTE | F_READS_SRC | F_WRITES_DST, ARITH);
	add("movs", 0xa5, -1, 0, K_STRING, F_READS_SRC | F_WRITES_DST, ARITH);
	add("stos", 0xaa, -1, 0, K_STRING, F_BYTE | F_WRITES_DST, ARITH);
	add("stos", 0xab, -1, 0, K_STRING, F_WRITES_DST, ARITH);
	add("lods", 0xac, -1, 0, K_STRING, F_BYTE | F_READS_SRC, ARITH);
	add("lods", 0xad, -1, 0, K_STRING, F_READS_SRC, ARITH);
	add("cmps", 0xa6, -1, 0, K_STRING, F_BYTE | F_READS_SRC | F_WRITES_DST | F_CMP_STRING, ARITH);
	add("cmps", 0xa7, -1, 0, K_STRING, F_READS_SRC | F_WRITES_DST | F_CMP_STRING, ARITH);
	add("scas", 0xae, -1, 0, K_STRING, F_BYTE | F_WRITES_DST | F_CMP_STRING, ARITH);
	add("scas", 0xaf, -1, 0, K_STRING, F_WRITES_DST | F_CMP_STRING, ARITH);
	add_sse("movups", 0, 0x10, 16, false);
	add_sse("movups", 0, 0x11, 16, false);
	add_sse("movupd", 0x66, 0x10, 16, false);
	add_sse("movupd", 0x66, 0x11, 16, false);
	add_sse("movss", 0xf3, 0x10, 4, false);
	add_sse("movss", 0xf3, 0x11, 4, false);
	add_sse("movsd", 0xf2, 0x10, 8, false);
	add_sse("movsd", 0xf2, 0x11, 8, false);
	add_sse("movaps", 0, 0x28, 16, true);
	add_sse("movaps", 0, 0x29, 16, true);
	add_sse("movapd", 0x66, 0x28, 16, true);
	add_sse("movapd", 0x66, 0x29, 16, true);
	add_sse("movntps", 0, 0x2b, 16, true);
	add_sse("movntpd", 0x66, 0x2b, 16, true);
	add_sse("movdqa", 0x66, 0x6f, 16, true);
	add_sse("movdqa", 0x66, 0x7f, 16, true);
	add_sse("movdqu", 0xf3, 0x6f, 16, false);
	add_sse("movdqu", 0xf3, 0x7f, 16, false);
	add_sse("movntdq", 0x66, 0xe7, 16, true);
	add_sse("movd/q", 0x66, 0x6e, 0, false);
	add_sse("movd/q", 0x66, 0x7e, 0, false);
	add_sse("movq", 0xf3, 0x7e, 8, false);
	add_sse("movq", 0x66, 0xd6, 8, false);
}

void gen_seed(uint64_t seed)
{
	rng_seed(seed);
}

unsigned gen_template_count(void)
{
	if (!ntemplates)
		build_templates();
	return ntemplates;
}

/* Values at the edges of every operand size, a quarter of the time. */
static uint64_t random_value(void)
{
	static const uint64_t edges[] = {
		0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000,
		0xffffffff, 0x7fffffffffffffff, 0x8000000000000000, ~0ull,
	};

	if (rng_below(4) == 0)
		return edges[rng_below(sizeof(edges) / sizeof(edges[0]))];
	return rng_next();
}

/* The instruction under construction. */
struct builder {
	const struct gen_env *env;
	struct gen_case *c;
	const struct gen_template *t;
	bool long_mode;
	unsigned len;
	bool too_long;
	uint8_t rex;
	bool opsize_prefix, addrsize_prefix, lock;
	uint8_t rep;
	int override;		/* segment override: enum emu_sreg order, or -1 */
	unsigned size;		/* operand size in bytes */
	unsigned addr_size;
	uint64_t amask;
	uint16_t fixed;		/* registers whose value the addressing dictates */
};

enum { ES, CS, SS, DS, FS, GS };
enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI };

static void emit(struct builder *b, uint64_t v, unsigned bytes)
{
	unsigned i;

	for (i = 0; i < bytes; i++) {
		if (b->len == sizeof(b->c->insn)) {
			b->too_long = true;
			return;
		}
		b->c->insn[b->len++] = (uint8_t)(v >> (8 * i));
	}
}

static void randomize_around(const struct gen_env *env, uint64_t addr)
{
	uint64_t start = addr - 128 - (uint64_t)(uintptr_t)env->data;
	unsigned i;

	for (i = 0; i < 256; i++)
		env->data[start + i] = (uint8_t)rng_next();
}

static uint64_t load(const struct gen_env *env, uint64_t addr, unsigned size)
{
	uint64_t v = 0;

	memcpy(&v, env->data + (addr - (uint64_t)(uintptr_t)env->data), size < 8 ? size : 8);
	return v;
}

static void store(const struct gen_env *env, uint64_t addr, uint64_t v, unsigned size)
{
	memcpy(env->data + (addr - (uint64_t)(uintptr_t)env->data), &v, size < 8 ? size : 8);
}

/* An operand address in the middle of the data area, so offsets of a few KiB stay inside. */
static uint64_t pick_target(const struct gen_env *env, unsigned align)
{
	uint64_t a = (uint64_t)(uintptr_t)env->data + 0x1000 + rng_below(0x2000);

	return a & ~(uint64_t)(align - 1);
}

/* The base a memory operand through segment sreg adds (64-bit mode: FS and GS only). */
static uint64_t segment_base(const struct builder *b, unsigned sreg)
{
	if (b->long_mode && sreg != FS && sreg != GS)
		return 0;
	return b->env->seg_base[sreg];
}

static unsigned operand_segment(const struct builder *b, unsigned default_sreg)
{
	return b->override >= 0 ? (unsigned)b->override : default_sreg;
}

static void emit_prefixes(struct builder *b)
{
	static const uint8_t override_byte[6] = { 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65 };
	uint8_t legacy[6];
	unsigned n = 0, i;

	if (b->opsize_prefix)
		legacy[n++] = 0x66;
	if (b->addrsize_prefix)
		legacy[n++] = 0x67;
	if (b->override >= 0)
		legacy[n++] = override_byte[b->override];
	if (b->lock)
		legacy[n++] = 0xf0;
	if (b->rep)
		legacy[n++] = b->rep;
	if (b->t->mp)
		legacy[n++] = b->t->mp;
	for (i = n; i > 1; i--) {
		unsigned j = (unsigned)rng_below(i);
		uint8_t tmp = legacy[i - 1];

		legacy[i - 1] = legacy[j];
		legacy[j] = tmp;
	}
	/* A REX followed by a legacy prefix is ignored. */
	if (b->long_mode && n && rng_below(16) == 0)
		emit(b, 0x40 | rng_below(16), 1);
	for (i = 0; i < n; i++)
		emit(b, legacy[i], 1);
	if (b->rex)
		emit(b, b->rex, 1);
	emit(b, b->t->op[0], 1);
	if (b->t->op_len == 2)
		emit(b, b->t->op[1], 1);
}

static void choose_prefixes(struct builder *b)
{
	const struct gen_template *t = b->t;
	enum gen_mode mode = b->env->mode;

	b->opsize_prefix = rng_below(4) == 0;
	b->addrsize_prefix = rng_below(5) == 0;
	b->override = rng_below(5) < 2 ? (int)rng_below(6) : -1;
	if (!b->long_mode && b->override == CS)
		b->override = -1;	/* a read-only code segment: writes through it fault */
	if (b->long_mode && b->override == FS)
		b->addrsize_prefix = false;	/* the host's FS base lies above 4 GiB */
	b->lock = (t->flags & F_LOCK) && rng_below(3) == 0;
	if (t->flags & F_SSE)
		b->opsize_prefix = false;	/* 66 is a mandatory prefix there */
	b->rep = t->kind == K_STRING && rng_below(2) ? (rng_below(2) ? 0xf3 : 0xf2) : 0;
	if (b->long_mode) {
		b->rex = rng_below(2) ? (uint8_t)(0x40 | rng_below(16)) : 0;
		if (t->flags & F_CX16)
			b->rex |= 0x48;
		if (t->flags & F_CX8)
			b->rex &= (uint8_t)~8;
		if (b->rex == 0x40 && rng_below(2))
			b->rex = 0;
	}
	emit_prefixes(b);

	if (t->flags & F_BYTE)
		b->size = 1;
	else if (b->rex & 8)
		b->size = 8;
	else
		b->size = (mode == GEN_MODE_16) != b->opsize_prefix ? 2 : 4;
	if (b->long_mode)
		b->addr_size = b->addrsize_prefix ? 4 : 8;
	else
		b->addr_size = (mode == GEN_MODE_16) != b->addrsize_prefix ? 2 : 4;
	b->amask = b->addr_size == 8 ? ~0ull : (1ull << (b->addr_size * 8)) - 1;
}

/* The inverse of an odd number modulo 2^64 (Newton's iteration doubles the correct bits). */
static uint64_t odd_inverse(uint64_t a)
{
	uint64_t x = a;
	int i;

	for (i = 0; i < 6; i++)
		x *= 2 - a * x;
	return x;
}

/* Address registers carry garbage above the address size: it must not matter. */
static uint64_t address_register(const struct builder *b, uint64_t v)
{
	return (v & b->amask) | (rng_next() & ~b->amask);
}

/*
 * Registers for base + index * scale + disp = *target - seg_base, modulo the
 * address size.  An even total coefficient on the register solved for may
 * move *target down a few bytes to make the equation solvable.
 */
static bool solve_address(struct builder *b, int base, int index, unsigned scale, int64_t disp,
			  uint64_t seg_base, uint64_t *target)
{
	uint64_t *gpr = b->c->gpr;
	uint64_t coef = 1, known = (uint64_t)disp, x;
	int solved = base;

	if (base < 0 && index < 0)
		return (((uint64_t)disp ^ (*target - seg_base)) & b->amask) == 0;
	if (base >= 0 && base == index) {
		coef += 1ull << scale;
	} else if (base >= 0 && index >= 0) {
		gpr[index] = random_value();
		b->fixed |= (uint16_t)(1u << index);
		known += gpr[index] << scale;
	} else if (base < 0) {
		solved = index;
		coef = 1ull << scale;
	}
	x = *target - seg_base - known;
	if (!(coef & 1)) {
		*target -= x % coef;
		x -= x % coef;
		gpr[solved] = x / coef;
	} else {
		gpr[solved] = x * odd_inverse(coef);
	}
	b->fixed |= (uint16_t)(1u << solved);
	if (base >= 0)
		gpr[base] = address_register(b, gpr[base]);
	if (index >= 0 && index != base)
		gpr[index] = address_register(b, gpr[index]);
	return true;
}

static int64_t random_disp(unsigned bytes)
{
	if (bytes == 0)
		return 0;
	if (bytes == 1)
		return (int8_t)rng_next();
	if (bytes == 2)
		return (int16_t)rng_next();
	if (rng_below(2))
		return (int64_t)rng_below(0x2000) - 0x1000;
	return (int32_t)rng_next();
}

/* 16-bit addressing: ModRM and displacement. */
static bool build_modrm16(struct builder *b, unsigned reg, uint64_t *target)
{
	static const int8_t base16[8] = { RBX, RBX, RBP, RBP, RSI, RDI, RBP, RBX };
	static const int8_t index16[8] = { RSI, RDI, RSI, RDI, -1, -1, -1, -1 };
	unsigned mod = (unsigned)rng_below(3), rm = (unsigned)rng_below(8);
	bool absolute = mod == 0 && rm == 6;
	unsigned disp_bytes = mod == 1 ? 1 : mod == 2 || absolute ? 2 : 0;
	unsigned sreg = operand_segment(b, base16[rm] == RBP && !absolute ? SS : DS);
	uint64_t seg_base = segment_base(b, sreg);
	int64_t disp = absolute ? (int16_t)(*target - seg_base) : random_disp(disp_bytes);

	if (!solve_address(b, absolute ? -1 : base16[rm], absolute ? -1 : index16[rm], 0, disp,
			   seg_base, target))
		return false;
	emit(b, (mod << 6) | ((reg & 7) << 3) | rm, 1);
	emit(b, (uint64_t)disp, disp_bytes);
	return true;
}

/*
 * 32- and 64-bit addressing: ModRM, SIB and displacement.  A RIP-relative
 * displacement is left for patch_rip_relative(), at *rip_disp_at.
 */
static bool build_modrm32(struct builder *b, unsigned reg, uint64_t *target, unsigned *rip_disp_at)
{
	unsigned mod = (unsigned)rng_below(3);
	unsigned rm = rng_below(3) == 0 ? 4 : (unsigned)rng_below(8);
	unsigned rex_b = b->rex & 1 ? 8 : 0, rex_x = b->rex & 2 ? 8 : 0;
	int base = -1, index = -1;
	unsigned scale = 0, disp_bytes = mod == 1 ? 1 : mod == 2 ? 4 : 0;
	uint8_t sib = 0;
	uint64_t seg_base;
	int64_t disp;

	if (rm == 4) {
		sib = (uint8_t)rng_next();
		scale = sib >> 6;
		if ((((sib >> 3) & 7) | rex_x) != 4)
			index = (int)(((sib >> 3) & 7) | rex_x);
		if ((sib & 7) == 5 && mod == 0)
			disp_bytes = 4;
		else
			base = (int)((sib & 7) | rex_b);
	} else if (rm == 5 && mod == 0) {
		disp_bytes = 4;
	} else {
		base = (int)(rm | rex_b);
	}
	seg_base = segment_base(b, operand_segment(b, base == RSP || base == RBP ? SS : DS));
	disp = random_disp(disp_bytes);
	if (rm == 5 && mod == 0 && b->long_mode) {
		if (b->override == FS)
			return false;	/* RIP + disp32 cannot reach data past the FS base */
		*rip_disp_at = b->len + 1;
	} else {
		if (base < 0 && index < 0)
			disp = (int32_t)(uint32_t)(*target - seg_base);
		if (!solve_address(b, base, index, scale, disp, seg_base, target))
			return false;
	}
	emit(b, (mod << 6) | ((reg & 7) << 3) | rm, 1);
	if (rm == 4)
		emit(b, sib, 1);
	emit(b, (uint64_t)disp, disp_bytes);
	return true;
}

static void emit_immediate(struct builder *b)
{
	unsigned bytes = b->t->imm == 4 ? (b->size == 2 ? 2 : 4) : b->t->imm;

	emit(b, random_value(), bytes);
}

/* The RIP-relative displacement once the length is known; false when data is out of reach. */
static bool patch_rip_relative(struct builder *b, unsigned at, uint64_t target)
{
	uint64_t next_rip = b->env->code + b->len;
	uint64_t seg_base = segment_base(b, operand_segment(b, DS));
	uint64_t disp = (target - seg_base - next_rip) & b->amask;

	if (b->addr_size == 8 && (uint64_t)(int64_t)(int32_t)disp != disp)
		return false;
	memcpy(&b->c->insn[at], &disp, 4);
	return true;
}

static uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static bool build_modrm_case(struct builder *b)
{
	const struct gen_template *t = b->t;
	struct gen_case *c = b->c;
	unsigned reg = (t->group >= 0 ? (unsigned)t->group : (unsigned)rng_below(8)) |
		       (b->rex & 4 ? 8 : 0);
	bool align16 = t->flags & (F_CX16 | F_ALIGN16);
	uint64_t target = pick_target(b->env, align16 ? 16 : 1);
	unsigned msize = t->flags & (F_CX8 | F_CX16) ? (b->rex & 8 ? 16 : 8) : b->size;
	unsigned rip_disp_at = 0;
	bool ok = b->addr_size == 2 ? build_modrm16(b, reg, &target) :
		  build_modrm32(b, reg, &target, &rip_disp_at);

	if (t->flags & F_SSE)
		msize = t->msize ? t->msize : b->rex & 8 ? 8 : 4;
	if (!ok || (align16 && (target & 15)))
		return false;
	emit_immediate(b);
	if (b->too_long || (rip_disp_at && !patch_rip_relative(b, rip_disp_at, target)))
		return false;

	randomize_around(b->env, target);
	if (rng_below(4) == 0)
		store(b->env, target, random_value(), msize);
	if (t->flags & F_BIT_OFFSET) {
		/* A bit offset of at most 2 KiB either way, garbage above the operand size. */
		int64_t offset = (int64_t)rng_below(0x8000) - 0x4000;

		if (b->fixed & (1u << reg))
			return false;
		c->gpr[reg] = ((uint64_t)offset & size_mask(b->size)) |
			      (rng_next() & ~size_mask(b->size));
		randomize_around(b->env, target + (uint64_t)(offset >> 3));
	}
	if ((t->flags & F_CMPXCHG) && rng_below(2) && !(b->fixed & (1u << RAX)))
		c->gpr[RAX] = (c->gpr[RAX] & ~size_mask(b->size)) | load(b->env, target, b->size);
	if ((t->flags & (F_CX8 | F_CX16)) && rng_below(2) &&
	    !(b->fixed & ((1u << RAX) | (1u << RDX)))) {
		c->gpr[RAX] = load(b->env, target, msize / 2);
		c->gpr[RDX] = load(b->env, target + msize / 2, msize / 2);
	}
	return true;
}

static bool build_moffs_case(struct builder *b)
{
	uint64_t target = pick_target(b->env, 1);
	uint64_t seg_base = segment_base(b, operand_segment(b, DS));

	emit(b, (target - seg_base) & b->amask, b->addr_size);
	if (b->too_long)
		return false;
	randomize_around(b->env, target);
	return true;
}

static bool build_string_case(struct builder *b)
{
	const struct gen_template *t = b->t;
	struct gen_case *c = b->c;
	uint64_t src = pick_target(b->env, 1), dst = pick_target(b->env, 1);

	if (b->too_long)
		return false;
	if (t->flags & F_READS_SRC) {
		uint64_t seg_base = segment_base(b, operand_segment(b, DS));

		c->gpr[RSI] = address_register(b, src - seg_base);
		randomize_around(b->env, src);
	}
	if (t->flags & F_WRITES_DST) {
		c->gpr[RDI] = address_register(b, dst - segment_base(b, ES));
		randomize_around(b->env, dst);
	}
	if (b->rep)
		c->gpr[RCX] = address_register(b, rng_below(5));
	if ((t->flags & F_CMP_STRING) && rng_below(2)) {
		/*
		 * Equal elements for a few steps either way, so that REPE runs
		 * on and REPNE stops; now and then one byte differs.
		 */
		uint64_t start = dst - 64 - (uint64_t)(uintptr_t)b->env->data;
		unsigned i;

		if (t->flags & F_READS_SRC)
			memmove(b->env->data + start, b->env->data + (src - 64 - (uint64_t)(uintptr_t)b->env->data), 128);
		else
			for (i = 0; i < 128; i += b->size)
				store(b->env, dst - 64 + i, c->gpr[RAX], b->size);
		if (rng_below(2))
			b->env->data[start + 64 + (int)rng_below(33) - 16] ^= (uint8_t)(1u << rng_below(8));
	}
	return true;
}

static const struct gen_template *pick_template(bool long_mode)
{
	for (;;) {
		const struct gen_template *t = &templates[rng_below(ntemplates)];

		if (!(t->flags & (long_mode ? F_LEGACY_ONLY : F_LONG_ONLY)))
			return t;
	}
}

static bool try_next(const struct gen_env *env, struct gen_case *c)
{
	struct builder b = { .env = env, .c = c, .long_mode = env->mode == GEN_MODE_64 };
	unsigned i;

	memset(c, 0, sizeof(*c));
	b.t = pick_template(b.long_mode);
	c->name = b.t->name;
	c->defined_flags = b.t->defined;
	for (i = 0; i < 16; i++)
		c->gpr[i] = random_value();
	for (i = 0; i < 16; i++)
		for (unsigned k = 0; k < 16; k += 8) {
			uint64_t v = random_value();

			memcpy(&c->xmm[i][k], &v, 8);
		}
	/* IF stays set under POPFQ at CPL 3; AC and TF stay clear. */
	c->rflags = 0x202 | (rng_next() & (ARITH | DF));
	choose_prefixes(&b);
	if (b.t->kind == K_MODRM && !build_modrm_case(&b))
		return false;
	if (b.t->kind == K_MOFFS && !build_moffs_case(&b))
		return false;
	if (b.t->kind == K_STRING && !build_string_case(&b))
		return false;
	c->len = b.len;
	return true;
}

void gen_next(const struct gen_env *env, struct gen_case *c)
{
	gen_template_count();
	while (!try_next(env, c))
		;
}
