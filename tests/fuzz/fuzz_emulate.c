/* libFuzzer target: random instruction bytes, CPU state and callback answers for the instruction emulator. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/emulate.h"

/*
 * Input layout (bytes past the end of the input read as 0, so every input is
 * usable; the instruction bytes come first so that short inputs reach the
 * decoder):
 *   [0]      bits 1:0 mode, 3:2 CPL, 4 sane segments (see make_segment), 5 shaped RIP,
 *            7:6 the SSE controls: 0 CR4.OSFXSR, 1 and CR0.EM, 2 and CR0.TS, 3 none
 *   [1..2]   bit i set makes gpr[i] shaped (see shaped())
 *   [3..6]   fault plan: nibble k is the answer to the k-th callback call
 *   [7..8]   #PF error code the callbacks report (bits 14:0); bit 15 drops the XMM callbacks
 *   (XMM register n starts as 16 bytes of the memory from offset 4n)
 *   then     15 instruction bytes, RIP, RFLAGS, 16 GPRs, 6 segments, memory
 */
#define NR_PLANNED	8	/* callback calls with a planned answer; later ones succeed */
#define MEM_SIZE	64	/* the data memory, mirrored over the whole address space */
#define SEG_BYTES	14	/* base 8, limit 4, type 1, flags 1 */
/* The whole layout: fuzz.mk's FUZZ_MAX_LEN_emulate is this number. */
#define INPUT_BYTES	(9 + EMU_MAX_INSN_LEN + 16 + 8 * EMU_NR_GPRS + SEG_BYTES * EMU_NR_SREGS + MEM_SIZE)

/*
 * A value near an edge of the address arithmetic: an edge picked by bits
 * 34:32 plus the sign-extended low 32 bits.  Raw 64-bit values almost never
 * land within a few bytes of 2^32, the canonical boundaries or 2^64, where
 * the emulator's wrap and canonical checks live.
 */
static uint64_t shaped(uint64_t v)
{
	static const uint64_t edges[8] = {
		0, 1ull << 32, 1ull << 47, 0ull - (1ull << 47), 1ull << 63, 1ull << 16,
		0x00007ffffffff000ull, 0xfffffffffffff000ull,
	};

	return edges[(v >> 32) & 7] + (uint64_t)(int64_t)(int32_t)v;
}

/* Reads input bytes in order; past the end of the input every byte is 0. */
struct reader {
	const uint8_t *data;
	size_t size, pos;
};

static uint64_t take(struct reader *rd, unsigned bytes)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < bytes; i++, rd->pos++)
		if (rd->pos < rd->size)
			v |= (uint64_t)rd->data[rd->pos] << (8 * i);
	return v;
}

/* Everything the callbacks see and record during one emulate_instruction() call. */
struct fuzz_ctx {
	enum emu_mode mode;
	bool user;			/* CPL 3: what every callback must be told */
	uint64_t code_la;		/* linear address of the instruction's first byte */
	uint8_t code[EMU_MAX_INSN_LEN];
	uint8_t mem[MEM_SIZE];
	uint32_t cs_limit;
	uint64_t rip;			/* the instruction's RIP, for the CS limit check */
	uint8_t plan[NR_PLANNED];	/* the answer to each of the first callback calls */
	uint16_t pf_error;
	unsigned calls, writes;
	bool data_accessed;		/* a read or write has happened: no fetch may follow */
	bool failed;			/* a callback answered other than EMU_OK */
	enum emu_result failure;	/* ...with this */
	struct emu_exception injected;	/* the exception it reported */
	unsigned failed_call;		/* its index among the calls */
	bool fetch_faulted;		/* it was a fetch that raised #PF... */
	uint64_t fault_off;		/* ...at this byte of the instruction */
	bool align16;			/* the opcode's 16-byte accesses must be aligned */
	uint8_t xmm[16][16];
	unsigned xmm_reads, xmm_writes;
};

#define CHECK(cond, ...)							\
	do {									\
		if (!(cond)) {							\
			fprintf(stderr, "fuzz_emulate: %s:%d: %s: ", __FILE__,	\
				__LINE__, #cond);				\
			fprintf(stderr, __VA_ARGS__);				\
			fputc('\n', stderr);					\
			abort();						\
		}								\
	} while (0)

static bool is_canonical(uint64_t la)
{
	return (uint64_t)((int64_t)(la << 16) >> 16) == la;
}

/*
 * What emu_ops promises every callback: len 1 to 16, the range inside the
 * address space (outside 64-bit mode linear addresses have 32 bits; in
 * 64-bit mode the emulator raises #GP/#SS for non-canonical addresses, so
 * both ends are canonical and the range does not wrap), user = CPL 3, and
 * no call at all once a callback has failed (the emulator must pass the
 * failure up at once).
 */
static void check_request(struct fuzz_ctx *c, const char *kind, uint64_t la, unsigned len,
			  bool user)
{
	CHECK(!c->failed, "%s after a callback answered %d", kind, c->failure);
	CHECK(len >= 1 && len <= 16, "%s of %u bytes", kind, len);
	CHECK(user == c->user, "%s with user=%d at CPL %s 3", kind, user, c->user ? "=" : "!=");
	if (c->mode == EMU_MODE_LONG64) {
		CHECK(la + len - 1 >= la, "%s at %#llx+%u wraps", kind, (unsigned long long)la, len);
		CHECK(is_canonical(la) && is_canonical(la + len - 1),
		      "%s at %#llx+%u is not canonical", kind, (unsigned long long)la, len);
	} else {
		CHECK(la + len <= 0x100000000ull, "%s at %#llx+%u is past 4 GiB", kind,
		      (unsigned long long)la, len);
	}
}

/*
 * The planned answer for this call: 0-11 succeed, 12 #PF on the first page
 * of the range (cr2 = la), 13 #PF on its last page (cr2 = that page's first
 * byte, as a page walk of each page in turn reports a present first page and
 * an absent second one), 14-15 decline.  A failing callback scribbles over
 * the buffer so that a value used after a failure would change the state and
 * trip the final check.
 */
static enum emu_result answer(struct fuzz_ctx *c, uint64_t la, void *buf, unsigned len,
			      struct emu_exception *exc)
{
	uint8_t a = c->calls < NR_PLANNED ? c->plan[c->calls] : 0;

	c->calls++;
	if (a < 12)
		return EMU_OK;
	c->failed = true;
	c->failed_call = c->calls - 1;
	if (buf)
		memset(buf, 0xa5, len);
	if (a >= 14) {
		c->failure = EMU_UNHANDLED;
		return EMU_UNHANDLED;
	}
	c->failure = EMU_EXCEPTION;
	c->injected = (struct emu_exception){
		.vector = EMU_VEC_PF, .has_error = true, .error_code = c->pf_error & 0x7fffu,
		.cr2 = a == 12 || !((la ^ (la + len - 1)) & ~0xfffull) ? la : (la + len - 1) & ~0xfffull,
	};
	*exc = c->injected;
	return EMU_EXCEPTION;
}

/*
 * Serves the 15 instruction bytes at code_la.  The emulator may fetch ahead
 * of what it decodes, but never a byte before the instruction, past its 15
 * bytes, past the CS limit, or after it has started on the data (a fetch
 * fault after a read would repeat the read's device side effects when the
 * guest re-executes the instruction).
 */
static enum emu_result fuzz_fetch(void *ctx, uint64_t linear, void *buf, unsigned len, bool user,
				  struct emu_exception *exc)
{
	struct fuzz_ctx *c = ctx;
	uint64_t amask = c->mode == EMU_MODE_LONG64 ? ~0ull : 0xffffffffull;
	uint64_t off = (linear - c->code_la) & amask;
	enum emu_result r;
	unsigned i;

	check_request(c, "fetch", linear, len, user);
	CHECK(!c->data_accessed, "fetch at %#llx after a data access", (unsigned long long)linear);
	CHECK(off < EMU_MAX_INSN_LEN && off + len <= EMU_MAX_INSN_LEN,
	      "fetch of bytes %llu..%llu of the instruction", (unsigned long long)off,
	      (unsigned long long)(off + len - 1));
	if (c->mode != EMU_MODE_LONG64) {
		uint64_t first = (c->rip + off) & 0xffffffffull;

		CHECK(first + len - 1 <= c->cs_limit, "fetch of CS offsets %#llx+%u, limit %#x",
		      (unsigned long long)first, len, c->cs_limit);
	}
	r = answer(c, linear, buf, len, exc);
	if (r == EMU_EXCEPTION) {
		c->fetch_faulted = true;
		c->fault_off = off + (exc->cr2 - linear);
	}
	if (r == EMU_OK)
		for (i = 0; i < len; i++)
			((uint8_t *)buf)[i] = c->code[off + i];
	return r;
}

static enum emu_result fuzz_read(void *ctx, uint64_t linear, void *buf, unsigned len, bool user,
				 struct emu_exception *exc)
{
	struct fuzz_ctx *c = ctx;
	enum emu_result r;
	unsigned i;

	check_request(c, "read", linear, len, user);
	CHECK(c->writes == 0, "read at %#llx after the write", (unsigned long long)linear);
	CHECK(!c->xmm_writes, "read after an XMM register write");
	/* CMPXCHG16B and the aligned SSE moves must be aligned (#GP otherwise). */
	CHECK(len != 16 || !c->align16 || !(linear & 15), "misaligned 16-byte read at %#llx",
	      (unsigned long long)linear);
	c->data_accessed = true;
	r = answer(c, linear, buf, len, exc);
	if (r == EMU_OK)
		for (i = 0; i < len; i++)
			((uint8_t *)buf)[i] = c->mem[(linear + i) % MEM_SIZE];
	return r;
}

/* A write changes memory only when it succeeds, as the contract asks of the caller. */
static enum emu_result fuzz_write(void *ctx, uint64_t linear, const void *buf, unsigned len,
				  bool user, struct emu_exception *exc)
{
	struct fuzz_ctx *c = ctx;
	enum emu_result r;
	unsigned i;

	check_request(c, "write", linear, len, user);
	CHECK(c->writes == 0, "second write, at %#llx", (unsigned long long)linear);
	CHECK(!c->xmm_writes, "write after an XMM register write");
	CHECK(len != 16 || !c->align16 || !(linear & 15), "misaligned 16-byte write at %#llx",
	      (unsigned long long)linear);
	c->data_accessed = true;
	c->writes++;
	r = answer(c, linear, NULL, len, exc);
	if (r == EMU_OK)
		for (i = 0; i < len; i++)
			c->mem[(linear + i) % MEM_SIZE] = ((const uint8_t *)buf)[i];
	return r;
}

/* XMM registers: 0-15 in 64-bit mode, 0-7 elsewhere; each read and written at most once, the write last. */
static void check_xmm(struct fuzz_ctx *c, const char *kind, unsigned n)
{
	CHECK(!c->failed, "XMM %s after a callback answered %d", kind, c->failure);
	CHECK(n < (c->mode == EMU_MODE_LONG64 ? 16u : 8u), "XMM %s of register %u", kind, n);
	CHECK(!c->xmm_writes, "XMM %s after an XMM write", kind);
}

static void fuzz_xmm_read(void *ctx, unsigned n, uint8_t value[16])
{
	struct fuzz_ctx *c = ctx;

	check_xmm(c, "read", n);
	CHECK(!c->xmm_reads, "second XMM read");
	c->xmm_reads++;
	memcpy(value, c->xmm[n], 16);
}

static void fuzz_xmm_write(void *ctx, unsigned n, const uint8_t value[16])
{
	struct fuzz_ctx *c = ctx;

	check_xmm(c, "write", n);
	c->xmm_writes++;
	memcpy(c->xmm[n], value, 16);
}

static const struct emu_ops fuzz_ops = {
	.fetch = fuzz_fetch,
	.read = fuzz_read,
	.write = fuzz_write,
	.xmm_read = fuzz_xmm_read,
	.xmm_write = fuzz_xmm_write,
};

static const struct emu_ops fuzz_ops_no_xmm = {
	.fetch = fuzz_fetch,
	.read = fuzz_read,
	.write = fuzz_write,
};

/*
 * A segment from the input.  CS, SS, DS and ES bases have 32 bits (a VM
 * entry checks that of the VMCS); FS and GS bases are 64-bit.  With "sane"
 * set the segment is usable with a flat limit, CS is readable code and a
 * data segment is read/write (flag bit 2 clear) or of any type the input
 * gives (set), so that most inputs get past segmentation to the accesses
 * while the type faults still come up often: the type checks compile to
 * branch-free code, which gives the fuzzer no coverage signal to find them.
 * An expand-down data segment keeps the input's limit.
 */
static void make_segment(struct reader *rd, struct emu_segment *seg, unsigned sreg,
			 enum emu_mode mode, bool sane)
{
	uint8_t flags;

	seg->base = take(rd, 8);
	if (sreg != EMU_FS && sreg != EMU_GS)
		seg->base &= 0xffffffffull;
	seg->limit = (uint32_t)take(rd, 4);
	seg->type = take(rd, 1) & 15;
	flags = (uint8_t)take(rd, 1);
	seg->db = flags & 1;
	seg->usable = flags & 2;
	if (!sane)
		return;
	seg->usable = true;
	if (sreg == EMU_CS) {
		seg->db = mode == EMU_MODE_PROT32;
		seg->type = EMU_SEG_TYPE_CODE_RX;
	} else if (flags & 4) {
		seg->type |= EMU_SEG_TYPE_ACCESSED;
	} else {
		seg->type = EMU_SEG_TYPE_DATA_RW | (seg->type & EMU_SEG_TYPE_EXPAND_DOWN);
	}
	if ((seg->type & (EMU_SEG_TYPE_CODE | EMU_SEG_TYPE_EXPAND_DOWN)) != EMU_SEG_TYPE_EXPAND_DOWN)
		seg->limit = mode == EMU_MODE_REAL ? 0xffff : 0xffffffff;
}

/* Skips the prefixes of the instruction bytes; returns the opcode's index and whether F2/F3 was seen. */
static unsigned opcode_index_of(const uint8_t *insn, unsigned len, enum emu_mode mode, bool *rep,
				bool *addrsize)
{
	unsigned i;

	*rep = *addrsize = false;
	for (i = 0; i < len; i++) {
		uint8_t b = insn[i];

		if (b == 0xf2 || b == 0xf3)
			*rep = true;
		else if (b == 0x67)
			*addrsize = true;
		else if (!(b == 0x66 || b == 0xf0 || b == 0x26 || b == 0x2e || b == 0x36 ||
			   b == 0x3e || b == 0x64 || b == 0x65 ||
			   (mode == EMU_MODE_LONG64 && (b & 0xf0) == 0x40)))
			break;
	}
	return i;
}

static unsigned opcode_index(const struct emu_outcome *out, enum emu_mode mode, bool *rep,
			     bool *addrsize)
{
	return opcode_index_of(out->insn, out->insn_len, mode, rep, addrsize);
}

/*
 * Whether a 16-byte access of this instruction must be aligned: CMPXCHG16B,
 * MOVAPS/PD, MOVNTPS/PD (no F2/F3: with them the opcode is another), and
 * with 66 and no F3 MOVDQA, MOVNTDQ (what the emulator accepts as such).
 */
static bool needs_align16(const uint8_t *insn, enum emu_mode mode)
{
	bool rep, addrsize;
	unsigned i = opcode_index_of(insn, EMU_MAX_INSN_LEN, mode, &rep, &addrsize);
	uint8_t op;

	if (i + 1 >= EMU_MAX_INSN_LEN || insn[i] != 0x0f)
		return false;
	op = insn[i + 1];
	if (op == 0xc7)
		return true;
	return !rep && (op == 0x28 || op == 0x29 || op == 0x2b || op == 0xe7 || op == 0x6f ||
			op == 0x7f);
}

/*
 * RIP did not move: only a REP MOVS/STOS/LODS/CMPS/SCAS with iterations left may do
 * that, after one iteration (the count at the address size, above 1 before,
 * one less now), with RF set so that re-executing it skips its own
 * instruction breakpoint.
 */
static void check_unfinished_rep(const struct emu_state *before, const struct emu_state *after,
				 const struct emu_outcome *out)
{
	bool rep, addrsize;
	unsigned i = opcode_index(out, before->mode, &rep, &addrsize);
	uint8_t op = i < out->insn_len ? out->insn[i] : 0;
	unsigned abytes;
	uint64_t amask, count;

	CHECK(rep && (op == 0xa4 || op == 0xa5 || op == 0xaa || op == 0xab || op == 0xac ||
		      op == 0xad || op == 0xa6 || op == 0xa7 || op == 0xae || op == 0xaf) &&
	      out->insn_len == i + 1,
	      "RIP unchanged after a %u-byte instruction that is no REP string op", out->insn_len);
	if (before->mode == EMU_MODE_LONG64)
		abytes = addrsize ? 4 : 8;
	else
		abytes = (before->mode == EMU_MODE_PROT32) == addrsize ? 2 : 4;
	amask = abytes == 8 ? ~0ull : (1ull << (abytes * 8)) - 1;
	count = before->gpr[EMU_RCX] & amask;
	CHECK(count > 1 && (after->gpr[EMU_RCX] & amask) == count - 1,
	      "unfinished REP with RCX %#llx -> %#llx at address size %u",
	      (unsigned long long)before->gpr[EMU_RCX], (unsigned long long)after->gpr[EMU_RCX],
	      abytes);
	CHECK(after->rflags & EMU_RFLAGS_RF, "unfinished REP without RF set");
}

/* The promises of emulate_instruction() for each result. */
static void check_result(const struct fuzz_ctx *c, enum emu_result r,
			 const struct emu_state *before, const struct emu_state *after,
			 const struct emu_outcome *out)
{
	CHECK(out->insn_len <= EMU_MAX_INSN_LEN, "insn_len %u", out->insn_len);
	CHECK(!memcmp(out->insn, c->code, out->insn_len), "out->insn is not the fetched bytes");
	if (r != EMU_OK) {
		CHECK(r == EMU_EXCEPTION || r == EMU_UNHANDLED, "result %d", r);
		CHECK(!memcmp(before, after, sizeof(*before)), "state changed on result %d", r);
		/* The write comes last: a failure after a successful write would leave memory changed. */
		CHECK(!c->writes || c->failed, "result %d after a successful write", r);
		CHECK(!c->xmm_writes, "result %d after an XMM register write", r);
	}
	CHECK(c->xmm_writes <= 1, "%u XMM writes", c->xmm_writes);
	if (c->failed)
		CHECK(r == c->failure, "callback answered %d, emulator returned %d", c->failure, r);
	CHECK(!(c->pf_error & 0x8000) || (!c->xmm_reads && !c->xmm_writes),
	      "XMM callbacks used although absent");
	switch (r) {
	case EMU_OK: {
		uint64_t amask = before->mode == EMU_MODE_LONG64 ? ~0ull : 0xffffffffull;
		uint64_t changed = before->rflags ^ after->rflags;

		CHECK(out->insn_len >= 1, "EMU_OK with insn_len 0");
		CHECK(after->mode == before->mode && after->cpl == before->cpl &&
		      after->cr0 == before->cr0 && after->cr4 == before->cr4 &&
		      !memcmp(after->seg, before->seg, sizeof(after->seg)),
		      "EMU_OK changed the mode, CPL, control registers or segments");
		/* The XMM registers are touched only with the SSE controls allowing it. */
		CHECK((!c->xmm_reads && !c->xmm_writes) ||
		      (!(before->cr0 & (EMU_CR0_EM | EMU_CR0_TS)) && (before->cr4 & EMU_CR4_OSFXSR)),
		      "XMM access with CR0 %#llx CR4 %#llx", (unsigned long long)before->cr0,
		      (unsigned long long)before->cr4);
		CHECK(!(changed & ~(EMU_RFLAGS_ARITH | EMU_RFLAGS_RF)),
		      "RFLAGS bits %#llx changed", (unsigned long long)changed);
		if (after->rip == before->rip) {
			check_unfinished_rep(before, after, out);
		} else {
			CHECK(after->rip == ((before->rip + out->insn_len) & amask),
			      "RIP %#llx -> %#llx, insn_len %u", (unsigned long long)before->rip,
			      (unsigned long long)after->rip, out->insn_len);
			CHECK(!(after->rflags & EMU_RFLAGS_RF), "RF set after a finished instruction");
		}
		break;
	}
	case EMU_EXCEPTION:
		if (c->failed) {
			CHECK(!memcmp(&out->exc, &c->injected, sizeof(out->exc)),
			      "the callback's #PF was not passed up unchanged");
		} else if (out->exc.vector == EMU_VEC_UD || out->exc.vector == EMU_VEC_NM) {
			CHECK(!out->exc.has_error, "#UD/#NM with an error code");
			CHECK(!c->data_accessed && !c->xmm_reads, "#UD/#NM after a data access");
			CHECK(out->exc.vector == EMU_VEC_UD || (before->cr0 & EMU_CR0_TS),
			      "#NM with CR0.TS clear");
		} else {
			CHECK(out->exc.vector == EMU_VEC_GP || out->exc.vector == EMU_VEC_SS,
			      "the emulator raised vector %u", out->exc.vector);
			CHECK(out->exc.has_error && out->exc.error_code == 0,
			      "#GP/#SS with error code %d/%#x", out->exc.has_error,
			      out->exc.error_code);
		}
		break;
	default:
		CHECK(out->reason && out->reason[0], "EMU_UNHANDLED without a reason");
		break;
	}
}

/*
 * Runs the emulator on a copy of the input state and memory, with the
 * callback call numbered succeed_call (if >= 0) made to succeed whatever the
 * plan says, and checks the result.
 */
static void run(const struct fuzz_ctx *init, const struct emu_state *before, int succeed_call,
		struct fuzz_ctx *c, enum emu_result *r, struct emu_outcome *out)
{
	struct emu_state s;

	*c = *init;
	if (succeed_call >= 0)
		c->plan[succeed_call] = 0;
	memcpy(&s, before, sizeof(s));
	memset(out, 0x5a, sizeof(*out));
	*r = emulate_instruction(&s, c->pf_error & 0x8000 ? &fuzz_ops_no_xmm : &fuzz_ops, c, out);
	check_result(c, *r, before, &s, out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader rd = { .data = data, .size = size };
	struct fuzz_ctx *init = calloc(1, sizeof(*init));
	struct fuzz_ctx *c = calloc(1, sizeof(*c));
	struct emu_state s;
	struct emu_outcome out;
	enum emu_result r;
	uint64_t config, shape, plan;
	unsigned i;
	bool sane;

	/* memset, not an initializer: the byte-for-byte comparison covers the padding too. */
	memset(&s, 0, sizeof(s));
	config = take(&rd, 1);
	s.mode = (enum emu_mode)(config & 3);
	s.cpl = (config >> 2) & 3;
	sane = config & 0x10;
	shape = take(&rd, 2);
	plan = take(&rd, 4);
	for (i = 0; i < NR_PLANNED; i++)
		init->plan[i] = (plan >> (4 * i)) & 15;
	init->pf_error = (uint16_t)take(&rd, 2);
	for (i = 0; i < EMU_MAX_INSN_LEN; i++)
		init->code[i] = (uint8_t)take(&rd, 1);
	/* Outside 64-bit mode RIP has 32 bits (a VM entry checks that of the VMCS). */
	s.rip = take(&rd, 8);
	if (config & 0x20)
		s.rip = shaped(s.rip);
	if (s.mode != EMU_MODE_LONG64)
		s.rip &= 0xffffffffull;
	s.rflags = take(&rd, 8);
	for (i = 0; i < EMU_NR_GPRS; i++) {
		s.gpr[i] = take(&rd, 8);
		if (shape & (1u << i))
			s.gpr[i] = shaped(s.gpr[i]);
	}
	for (i = 0; i < EMU_NR_SREGS; i++)
		make_segment(&rd, &s.seg[i], i, s.mode, sane);
	for (i = 0; i < MEM_SIZE; i++)
		init->mem[i] = (uint8_t)take(&rd, 1);
	CHECK(rd.pos == INPUT_BYTES, "the layout took %zu bytes", rd.pos);

	switch (config >> 6) {
	case 0: s.cr4 = EMU_CR4_OSFXSR; break;
	case 1: s.cr4 = EMU_CR4_OSFXSR; s.cr0 = EMU_CR0_EM; break;
	case 2: s.cr4 = EMU_CR4_OSFXSR; s.cr0 = EMU_CR0_TS; break;
	default: break;
	}
	for (i = 0; i < 16; i++)
		for (unsigned k = 0; k < 16; k++)
			init->xmm[i][k] = init->mem[(4 * i + k) % MEM_SIZE];
	init->align16 = needs_align16(init->code, s.mode);
	init->mode = s.mode;
	init->user = s.cpl == 3;
	init->rip = s.rip;
	init->cs_limit = s.seg[EMU_CS].limit;
	init->code_la = s.mode == EMU_MODE_LONG64 ? s.rip :
			(s.seg[EMU_CS].base + s.rip) & 0xffffffffull;

	run(init, &s, -1, c, &r, &out);
	/*
	 * A fetch #PF must be on a page the instruction reaches: the guest
	 * would otherwise take a #PF that the CPU never raises (an instruction
	 * at the end of a page before an absent one).  Run again with that
	 * fetch answered: if the instruction then completes, it must be longer
	 * than the faulting byte's offset.
	 */
	if (c->fetch_faulted) {
		uint64_t fault_off = c->fault_off;

		run(init, &s, (int)c->failed_call, c, &r, &out);
		if (r == EMU_OK)
			CHECK(out.insn_len > fault_off,
			      "#PF on instruction byte %llu of a %u-byte instruction",
			      (unsigned long long)fault_off, out.insn_len);
	}
	free(c);
	free(init);
	return 0;
}
