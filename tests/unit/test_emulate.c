/* Tests of the instruction emulator: differential runs against the host CPU, and targeted cases in every mode. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include "tests/unit/emulate_diff.h"
#include "tests/unit/emulate_mem.h"

#include "vmm/emulate.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------------ */
/* Against the host CPU: see emulate_diff.c.                                */

/* ------------------------------------------------------------------------ */
/* Targeted cases on a small guest memory (emulate_mem.c).                  */

#define CODE 0x1000u	/* where the instruction goes, as an offset in CS */

/* An instruction's bytes, of any length up to 16. */
struct insn {
	uint8_t b[16];
	unsigned len;
};

#define INSN(...) ((struct insn){ { __VA_ARGS__ }, sizeof((uint8_t[]){ __VA_ARGS__ }) })

static struct test_mem *mem;

static int mem_setup(void **state)
{
	(void)state;
	mem = test_mem_new();
	return mem ? 0 : -1;
}

static int mem_teardown(void **state)
{
	(void)state;
	free(mem);
	return 0;
}

static struct emu_state flat_state(enum emu_mode mode)
{
	struct emu_state s = { .mode = mode, .rip = CODE, .rflags = 0x2 };
	unsigned i;

	for (i = 0; i < EMU_NR_SREGS; i++)
		s.seg[i] = (struct emu_segment){
			.limit = 0xffffffff, .type = EMU_SEG_TYPE_DATA_RW, .db = true, .usable = true,
		};
	s.seg[EMU_CS].type = EMU_SEG_TYPE_CODE_RX;
	return s;
}

/* Segment bases that tell the segments apart, all with 64 KiB limits. */
static struct emu_state segmented_state(enum emu_mode mode)
{
	static const uint64_t base[EMU_NR_SREGS] = {
		[EMU_ES] = 0x20000, [EMU_CS] = 0, [EMU_SS] = 0x30000, [EMU_DS] = 0x10000,
		[EMU_FS] = 0x14000, [EMU_GS] = 0x18000,
	};
	struct emu_state s = flat_state(mode);
	unsigned i;

	for (i = 0; i < EMU_NR_SREGS; i++) {
		s.seg[i].base = base[i];
		s.seg[i].limit = 0xffff;
	}
	return s;
}

static uint64_t code_linear(const struct emu_state *s)
{
	return (s->mode == EMU_MODE_LONG64 ? 0 : s->seg[EMU_CS].base) + s->rip;
}

static enum emu_result run(struct emu_state *s, struct insn i, struct emu_outcome *out)
{
	memcpy(mem->bytes + code_linear(s), i.b, i.len);
	return emulate_instruction(s, &test_mem_ops, mem, out);
}

static void put32(uint64_t la, uint32_t v)
{
	memcpy(mem->bytes + la, &v, 4);
}

static uint32_t get32(uint64_t la)
{
	uint32_t v;

	memcpy(&v, mem->bytes + la, 4);
	return v;
}

static void assert_same_state(const struct emu_state *a, const struct emu_state *b)
{
	assert_memory_equal(a->gpr, b->gpr, sizeof(a->gpr));
	assert_int_equal(a->rip, b->rip);
	assert_int_equal(a->rflags, b->rflags);
}

/* Runs i, expecting the exception; the state must not change and no write may happen. */
static void expect_fault(struct emu_state *s, struct insn i, uint8_t vector, uint32_t error_code)
{
	struct emu_state before = *s;
	struct emu_outcome out;
	unsigned writes = mem->writes;

	assert_int_equal(run(s, i, &out), EMU_EXCEPTION);
	assert_int_equal(out.exc.vector, vector);
	assert_int_equal(out.exc.has_error, vector != EMU_VEC_UD && vector != EMU_VEC_NM);
	assert_int_equal(out.exc.error_code, error_code);
	assert_same_state(s, &before);
	assert_int_equal(mem->writes, writes);
}

/* Runs i, expecting success and a read (or write) of len bytes at linear. */
static void expect_read(struct emu_state s, struct insn i, uint64_t linear, unsigned len)
{
	struct emu_outcome out;

	mem->last_read = (struct test_access){ 0 };
	assert_int_equal(run(&s, i, &out), EMU_OK);
	assert_int_equal(mem->last_read.linear, linear);
	assert_int_equal(mem->last_read.len, len);
}

static void expect_write(struct emu_state s, struct insn i, uint64_t linear, unsigned len)
{
	struct emu_outcome out;

	mem->last_write = (struct test_access){ 0 };
	assert_int_equal(run(&s, i, &out), EMU_OK);
	assert_int_equal(mem->last_write.linear, linear);
	assert_int_equal(mem->last_write.len, len);
}

static void test_mode_of(void **state)
{
	(void)state;
	assert_int_equal(emu_mode_of(false, false, false, false, false), EMU_MODE_REAL);
	assert_int_equal(emu_mode_of(true, true, true, false, true), EMU_MODE_REAL);
	assert_int_equal(emu_mode_of(true, false, false, false, false), EMU_MODE_PROT16);
	assert_int_equal(emu_mode_of(true, false, false, false, true), EMU_MODE_PROT32);
	assert_int_equal(emu_mode_of(true, false, false, true, true), EMU_MODE_PROT32);
	assert_int_equal(emu_mode_of(true, false, true, false, true), EMU_MODE_PROT32);
	assert_int_equal(emu_mode_of(true, false, true, false, false), EMU_MODE_PROT16);
	assert_int_equal(emu_mode_of(true, false, true, true, false), EMU_MODE_LONG64);
}

/* RIP moves by exactly the decoded length (RF cleared), and out reports that length and the bytes. */
static void test_rip_advances_by_length(void **state)
{
	static const struct insn cases[] = {
		INSN(0x89, 0x18),					/* mov [rax], ebx */
		INSN(0x48, 0x89, 0x44, 0x24, 0x08),			/* mov [rsp+8], rax */
		INSN(0x66, 0xc7, 0x80, 0x00, 0x01, 0x00, 0x00, 0x34, 0x12),
		INSN(0x48, 0xc7, 0x04, 0x25, 0x00, 0x20, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff),
		INSN(0x48, 0xa3, 0x00, 0x30, 0, 0, 0, 0, 0, 0),		/* movabs [0x3000], rax */
		INSN(0xf0, 0x48, 0x81, 0x84, 0x88, 0x00, 0x01, 0x00, 0x00, 0x78, 0x56, 0x34, 0x12),
		INSN(0x2e, 0x2e, 0xf0, 0x48, 0x81, 0x84, 0x88, 0x00, 0x01, 0x00, 0x00,
		     0x78, 0x56, 0x34, 0x12),				/* 15 bytes */
		INSN(0x0f, 0xba, 0x28, 0x05),				/* bts dword [rax], 5 */
		INSN(0x0f, 0xc7, 0x0e),					/* cmpxchg8b [rsi] */
		INSN(0xf3, 0xab),					/* rep stosd, rcx = 1 */
	};
	unsigned i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct emu_state s = flat_state(EMU_MODE_LONG64);
		struct emu_outcome out;

		s.gpr[EMU_RAX] = 0x3000;
		s.gpr[EMU_RCX] = 1;
		s.gpr[EMU_RSP] = 0x2000;
		s.gpr[EMU_RSI] = 0x4000;
		s.gpr[EMU_RDI] = 0x5000;
		s.rflags |= EMU_RFLAGS_RF;
		assert_int_equal(run(&s, cases[i], &out), EMU_OK);
		assert_int_equal(s.rip, CODE + cases[i].len);
		assert_false(s.rflags & EMU_RFLAGS_RF);
		assert_int_equal(out.insn_len, cases[i].len);
		assert_memory_equal(out.insn, cases[i].b, cases[i].len);
	}
}

/* RIP-relative operands count from the end of the instruction, immediate included, wrapped to the address size. */
static void test_rip_relative(void **state)
{
	struct emu_state s = flat_state(EMU_MODE_LONG64);
	struct emu_outcome out;

	(void)state;
	/* mov dword [rip + 0x10], 0x11223344: 10 bytes. */
	assert_int_equal(run(&s, INSN(0xc7, 0x05, 0x10, 0, 0, 0, 0x44, 0x33, 0x22, 0x11), &out),
			 EMU_OK);
	assert_int_equal(get32(CODE + 10 + 0x10), 0x11223344);
	/* addr32 mov eax, [rip - 0x2000]: 0x1007 - 0x2000 wraps to 0xfffff007. */
	s = flat_state(EMU_MODE_LONG64);
	assert_int_equal(run(&s, INSN(0x67, 0x8b, 0x05, 0x00, 0xe0, 0xff, 0xff), &out),
			 EMU_EXCEPTION);
	assert_int_equal(out.exc.vector, EMU_VEC_PF);
	assert_int_equal(out.exc.cr2, 0xfffff007);
	/* In 32-bit mode the same ModRM is an absolute disp32. */
	expect_read(flat_state(EMU_MODE_PROT32), INSN(0x8b, 0x05, 0x00, 0x20, 0, 0), 0x2000, 4);
}

/* More than 15 bytes is #GP(0), even when the 16th byte would lie on an absent page. */
static void test_instruction_too_long(void **state)
{
	struct emu_state s = flat_state(EMU_MODE_LONG64);
	struct insn fifteen = INSN(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
				   0x66, 0x66, 0x66, 0x89, 0x18);
	struct insn sixteen = INSN(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
				   0x66, 0x66, 0x66, 0x66, 0x89, 0x18);

	(void)state;
	s.gpr[EMU_RAX] = 0x3000;
	expect_write(s, fifteen, 0x3000, 2);
	mem->page_flags[2] = TEST_PAGE_ABSENT;
	s.rip = 0x2000 - 15;
	expect_fault(&s, sixteen, EMU_VEC_GP, 0);
	assert_true(mem->fetch_end <= 0x2000);
}

/* A fetch fault reaches the caller as the callback reported it; fetching stops at the page end. */
static void test_fetch_fault(void **state)
{
	struct emu_state s = flat_state(EMU_MODE_LONG64);
	struct insn mov_imm = INSN(0xc7, 0x00, 0x44, 0x33, 0x22, 0x11);	/* mov dword [rax], imm32 */
	struct emu_outcome out;

	(void)state;
	mem->page_flags[2] = TEST_PAGE_ABSENT;
	s.gpr[EMU_RAX] = 0x3000;
	s.rip = 0x2000 - 3;
	expect_fault(&s, mov_imm, EMU_VEC_PF, TEST_PF_FETCH);
	s.cpl = 3;
	assert_int_equal(run(&s, mov_imm, &out), EMU_EXCEPTION);
	assert_int_equal(out.exc.error_code, TEST_PF_FETCH | TEST_PF_USER);
	assert_int_equal(out.exc.cr2, 0x2000);
	assert_int_equal(out.insn_len, 3);

	/* Ending right at the absent page: fetched without touching it. */
	s.rip = 0x2000 - 6;
	assert_int_equal(run(&s, mov_imm, &out), EMU_OK);
	assert_int_equal(get32(0x3000), 0x11223344);
	assert_int_equal(mem->fetch_end, 0x2000);
}

/*
 * A write fault aborts a read-modify-write after its read: the exception as
 * the callback reported it, registers, flags and memory as they were.
 */
static void test_write_fault(void **state)
{
	static const struct insn cases[] = {
		INSN(0x01, 0x18),		/* add [rax], ebx */
		INSN(0x87, 0x18),		/* xchg [rax], ebx */
		INSN(0x0f, 0xc1, 0x18),		/* xadd [rax], ebx */
		INSN(0x0f, 0xb1, 0x18),		/* cmpxchg [rax], ebx, failing: writes back */
		INSN(0x0f, 0xab, 0x18),		/* bts [rax], ebx */
		INSN(0xf7, 0x18),		/* neg dword [rax] */
		INSN(0xff, 0x00),		/* inc dword [rax] */
		INSN(0x0f, 0xc7, 0x08),		/* cmpxchg8b [rax], failing: writes back */
		INSN(0xa5),			/* movsd: reads [rsi], writes [rdi] */
		INSN(0xf3, 0xa5),		/* rep movsd */
	};
	unsigned i;

	(void)state;
	mem->page_flags[3] = TEST_PAGE_READ_ONLY;
	put32(0x3010, 0x12345678);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct emu_state s = flat_state(EMU_MODE_LONG64);
		struct emu_outcome out;
		unsigned reads = mem->reads;

		s.gpr[EMU_RAX] = 0x3010;
		s.gpr[EMU_RBX] = 3;
		s.gpr[EMU_RCX] = 2;
		s.gpr[EMU_RSI] = 0x4000;
		s.gpr[EMU_RDI] = 0x3010;
		s.rflags = 0x2 | EMU_RFLAGS_CF | EMU_RFLAGS_ZF;
		s.cpl = (uint8_t)(i & 1 ? 3 : 0);
		expect_fault(&s, cases[i], EMU_VEC_PF,
			     TEST_PF_PRESENT | TEST_PF_WRITE | (s.cpl ? TEST_PF_USER : 0));
		assert_int_equal(run(&s, cases[i], &out), EMU_EXCEPTION);
		assert_int_equal(out.exc.cr2, 0x3010);
		assert_int_equal(mem->reads, reads + 2);
		assert_int_equal(get32(0x3010), 0x12345678);
	}
}

static void test_read_fault(void **state)
{
	struct emu_state s = flat_state(EMU_MODE_LONG64);
	struct emu_outcome out;

	(void)state;
	mem->page_flags[3] = TEST_PAGE_ABSENT;
	s.gpr[EMU_RAX] = 0x2ffe;		/* 4 bytes reaching into the absent page */
	s.cpl = 3;
	expect_fault(&s, INSN(0x8b, 0x18), EMU_VEC_PF, TEST_PF_USER);
	assert_int_equal(run(&s, INSN(0x8b, 0x18), &out), EMU_EXCEPTION);
	assert_int_equal(out.exc.cr2, 0x3000);
}

/* The callbacks learn whether the access is a user one (CPL 3). */
static void test_user_accesses(void **state)
{
	struct emu_state s = flat_state(EMU_MODE_LONG64);
	struct emu_outcome out;

	(void)state;
	s.gpr[EMU_RAX] = 0x3000;
	assert_int_equal(run(&s, INSN(0x01, 0x18), &out), EMU_OK);
	assert_false(mem->last_read.user);
	assert_false(mem->last_write.user);
	s.cpl = 3;
	assert_int_equal(run(&s, INSN(0x01, 0x18), &out), EMU_OK);
	assert_true(mem->last_read.user);
	assert_true(mem->last_write.user);
}

/* LOCK only on the read-modify-write instructions with a memory destination, else #UD before any access. */
static void test_lock(void **state)
{
	static const struct {
		struct insn i;
		bool allowed;
	} cases[] = {
		{ INSN(0xf0, 0x01, 0x18), true },		/* add [rax], ebx */
		{ INSN(0xf0, 0x87, 0x18), true },		/* xchg */
		{ INSN(0xf0, 0x0f, 0xc7, 0x08), true },		/* cmpxchg8b */
		{ INSN(0xf0, 0x0f, 0xab, 0x18), true },		/* bts */
		{ INSN(0xf0, 0xf7, 0x18), true },		/* neg */
		{ INSN(0xf0, 0x80, 0x30, 0x01), true },		/* xor byte [rax], 1 */
		{ INSN(0xf0, 0x89, 0x18), false },		/* mov */
		{ INSN(0xf0, 0x39, 0x18), false },		/* cmp [rax], ebx */
		{ INSN(0xf0, 0x80, 0x38, 0x01), false },	/* cmp byte [rax], 1 */
		{ INSN(0xf0, 0x03, 0x18), false },		/* add ebx, [rax]: register destination */
		{ INSN(0xf0, 0x85, 0x18), false },		/* test */
		{ INSN(0xf0, 0xf7, 0x00, 1, 0, 0, 0), false },	/* test dword [rax], 1 */
		{ INSN(0xf0, 0x0f, 0xa3, 0x18), false },	/* bt */
		{ INSN(0xf0, 0x0f, 0xba, 0x20, 0x01), false },	/* bt dword [rax], 1 */
		{ INSN(0xf0, 0x0f, 0xb6, 0x18), false },	/* movzx */
		{ INSN(0xf0, 0xa4), false },			/* movsb */
		{ INSN(0xf0, 0xab), false },			/* stosd */
		{ INSN(0xf0, 0x01, 0xd8), false },		/* add eax, ebx: no memory operand */
	};
	unsigned i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct emu_state s = flat_state(EMU_MODE_LONG64);
		struct emu_outcome out;
		unsigned reads = mem->reads;

		s.gpr[EMU_RAX] = 0x3000;
		s.gpr[EMU_RSI] = 0x3100;
		s.gpr[EMU_RDI] = 0x3200;
		if (cases[i].allowed) {
			assert_int_equal(run(&s, cases[i].i, &out), EMU_OK);
		} else {
			expect_fault(&s, cases[i].i, EMU_VEC_UD, 0);
			assert_int_equal(mem->reads, reads);
		}
	}
}

/* What the emulator does not handle comes back with a reason and the bytes, nothing changed. */
static void test_unhandled(void **state)
{
	static const struct {
		enum emu_mode mode;
		struct insn i;
	} cases[] = {
		{ EMU_MODE_LONG64, INSN(0x90) },			/* nop */
		{ EMU_MODE_LONG64, INSN(0xff, 0x30) },			/* push qword [rax] */
		{ EMU_MODE_LONG64, INSN(0x8f, 0x00) },			/* pop qword [rax] */
		{ EMU_MODE_LONG64, INSN(0xf7, 0x20) },			/* mul dword [rax] */
		{ EMU_MODE_LONG64, INSN(0x01, 0xd8) },			/* add eax, ebx */
		{ EMU_MODE_LONG64, INSN(0x89, 0xd8) },			/* mov eax, ebx */
		{ EMU_MODE_LONG64, INSN(0x0f, 0x6f, 0x00) },		/* movq mm0, [rax] (MMX) */
		{ EMU_MODE_LONG64, INSN(0x0f, 0x12, 0x00) },		/* movlps xmm0, [rax] */
		{ EMU_MODE_LONG64, INSN(0xf3, 0x0f, 0x28, 0x00) },	/* f3 0f 28: undefined */
		{ EMU_MODE_LONG64, INSN(0x0f, 0x01, 0x38) },		/* invlpg [rax] */
		{ EMU_MODE_LONG64, INSN(0xc5, 0xf8, 0x28, 0x00) },	/* vmovaps */
		{ EMU_MODE_LONG64, INSN(0xc6, 0x08, 0x01) },		/* c6 /1: undefined */
		{ EMU_MODE_LONG64, INSN(0x0f, 0xba, 0x00, 0x01) },	/* 0f ba /0: undefined */
		{ EMU_MODE_LONG64, INSN(0x0f, 0xc7, 0x30) },		/* vmptrld [rax] */
		{ EMU_MODE_PROT32, INSN(0x63, 0x18) },			/* arpl */
		{ EMU_MODE_PROT32, INSN(0x40) },			/* inc eax, not REX */
	};
	unsigned i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct emu_state s = flat_state(cases[i].mode);
		struct emu_state before;
		struct emu_outcome out;

		s.gpr[EMU_RAX] = 0x3000;
		before = s;
		assert_int_equal(run(&s, cases[i].i, &out), EMU_UNHANDLED);
		assert_true(out.reason[0] != '\0');
		assert_true(out.insn_len >= cases[i].i.len);
		assert_memory_equal(out.insn, cases[i].i.b, cases[i].i.len);
		assert_same_state(&s, &before);
		assert_int_equal(mem->writes, 0);
	}
}

/* A callback answering EMU_UNHANDLED ends emulation the same way. */
static void test_callback_declines(void **state)
{
	struct emu_state s = flat_state(EMU_MODE_LONG64);
	struct emu_state before;
	struct emu_outcome out;

	(void)state;
	s.gpr[EMU_RAX] = 0x3000;
	before = s;
	mem->decline_data = true;
	assert_int_equal(run(&s, INSN(0x01, 0x18), &out), EMU_UNHANDLED);
	assert_non_null(strstr(out.reason, "declined"));
	assert_same_state(&s, &before);
	mem->decline_data = false;
	mem->decline_fetch = true;
	assert_int_equal(run(&s, INSN(0x01, 0x18), &out), EMU_UNHANDLED);
	assert_non_null(strstr(out.reason, "fetch"));
	assert_same_state(&s, &before);
}

/* Prefix rules: the last segment override counts, REX must come last, REX.W beats 66, F3 means nothing to MOV. */
static void test_prefix_rules(void **state)
{
	struct emu_state s = segmented_state(EMU_MODE_LONG64);

	(void)state;
	s.gpr[EMU_RBX] = 0x100;
	expect_write(s, INSN(0x64, 0x65, 0x89, 0x03), 0x18100, 4);	/* mov gs:[rbx], eax */
	expect_write(s, INSN(0x48, 0x66, 0x89, 0x03), 0x100, 2);	/* REX.W cancelled by 66 */
	expect_write(s, INSN(0x66, 0x48, 0x89, 0x03), 0x100, 8);	/* REX.W wins over 66 */
	expect_write(s, INSN(0xf3, 0x89, 0x03), 0x100, 4);
	expect_write(s, INSN(0x66, 0x67, 0x66, 0x89, 0x03), 0x100, 2);	/* repeated prefixes */
}

/* 64-bit mode: only FS and GS bases apply, no limits, non-canonical addresses fault. */
static void test_long_mode_segments(void **state)
{
	struct emu_state s = segmented_state(EMU_MODE_LONG64);

	(void)state;
	s.gpr[EMU_RBX] = 0x1000;
	expect_read(s, INSN(0x8b, 0x03), 0x1000, 4);
	expect_read(s, INSN(0x26, 0x8b, 0x03), 0x1000, 4);
	expect_read(s, INSN(0x36, 0x8b, 0x03), 0x1000, 4);
	expect_read(s, INSN(0x64, 0x8b, 0x03), 0x15000, 4);
	expect_read(s, INSN(0x65, 0x8b, 0x03), 0x19000, 4);
	s.gpr[EMU_RBX] = 0x20000;					/* past every limit */
	expect_read(s, INSN(0x8b, 0x03), 0x20000, 4);

	s.gpr[EMU_RBX] = s.gpr[EMU_RBP] = s.gpr[EMU_RSP] = s.gpr[EMU_R13] = 0x0000800000000000ull;
	expect_fault(&s, INSN(0x8b, 0x03), EMU_VEC_GP, 0);
	expect_fault(&s, INSN(0x8b, 0x45, 0x00), EMU_VEC_SS, 0);	/* [rbp] */
	expect_fault(&s, INSN(0x8b, 0x04, 0x24), EMU_VEC_SS, 0);	/* [rsp] */
	expect_fault(&s, INSN(0x41, 0x8b, 0x45, 0x00), EMU_VEC_GP, 0);	/* [r13] */
	/* The overrides 64-bit mode ignores do not change the fault either (as on the CPU). */
	expect_fault(&s, INSN(0x36, 0x8b, 0x03), EMU_VEC_GP, 0);	/* ss:[rbx] */
	expect_fault(&s, INSN(0x3e, 0x8b, 0x45, 0x00), EMU_VEC_SS, 0);	/* ds:[rbp] */
	expect_fault(&s, INSN(0x64, 0x8b, 0x45, 0x00), EMU_VEC_GP, 0);	/* fs:[rbp] */
	s.gpr[EMU_RBX] = 0x00007ffffffffffeull;				/* straddles the hole */
	expect_fault(&s, INSN(0x8b, 0x03), EMU_VEC_GP, 0);
	s.gpr[EMU_RBX] = 0xffff800000000000ull - 0x19000;		/* GS base carries it out */
	expect_fault(&s, INSN(0x65, 0x8b, 0x03), EMU_VEC_GP, 0);
}

/* 64-bit mode with 67: 32-bit effective addresses, the upper register halves ignored. */
static void test_long_mode_address_size(void **state)
{
	struct emu_state s = flat_state(EMU_MODE_LONG64);
	struct emu_outcome out;

	(void)state;
	s.gpr[EMU_RBX] = 0xffffffff00001000ull;
	expect_read(s, INSN(0x67, 0x8b, 0x03), 0x1000, 4);
	s.gpr[EMU_RBX] = 0xfffffff0;
	expect_read(s, INSN(0x67, 0x8b, 0x43, 0x20), 0x10, 4);		/* [ebx + 0x20] wraps */
	assert_int_equal(run(&s, INSN(0x8b, 0x43, 0x20), &out), EMU_EXCEPTION);
	assert_int_equal(out.exc.cr2, 0x100000010ull);
}

/* Protected mode: each segment's base, SS for EBP/ESP bases, overrides, absolute disp32 and moffs. */
static void test_protected_mode_segments(void **state)
{
	struct emu_state s = segmented_state(EMU_MODE_PROT32);

	(void)state;
	s.gpr[EMU_RBX] = 0x100;
	s.gpr[EMU_RBP] = 0x100;
	s.gpr[EMU_RSP] = 0x200;
	expect_read(s, INSN(0x8b, 0x03), 0x10100, 4);
	expect_read(s, INSN(0x26, 0x8b, 0x03), 0x20100, 4);
	expect_read(s, INSN(0x2e, 0x8b, 0x03), 0x00100, 4);
	expect_read(s, INSN(0x36, 0x8b, 0x03), 0x30100, 4);
	expect_read(s, INSN(0x64, 0x8b, 0x03), 0x14100, 4);
	expect_read(s, INSN(0x65, 0x8b, 0x03), 0x18100, 4);
	expect_read(s, INSN(0x8b, 0x45, 0x08), 0x30108, 4);		/* [ebp + 8] */
	expect_read(s, INSN(0x3e, 0x8b, 0x45, 0x08), 0x10108, 4);	/* ds:[ebp + 8] */
	expect_read(s, INSN(0x8b, 0x04, 0x24), 0x30200, 4);		/* [esp] */
	expect_read(s, INSN(0x8b, 0x04, 0x2b), 0x10200, 4);		/* [ebx + ebp] */
	expect_read(s, INSN(0x8b, 0x44, 0x1d, 0x00), 0x30200, 4);	/* [ebp + ebx] */
	expect_read(s, INSN(0x8b, 0x05, 0x00, 0x20, 0, 0), 0x12000, 4);	/* [0x2000] */
	expect_read(s, INSN(0xa1, 0x00, 0x20, 0, 0), 0x12000, 4);	/* moffs32 */
	expect_write(s, INSN(0x66, 0x89, 0x03), 0x10100, 2);
	expect_write(s, INSN(0x82, 0x03, 0x01), 0x10100, 1);		/* 82: 80's alias */
	s.gpr[EMU_RBX] = 0xabcd0100;
	s.gpr[EMU_RSI] = 0x20;
	expect_read(s, INSN(0x67, 0x8b, 0x00), 0x10120, 4);		/* [bx + si] */
	expect_fault(&s, INSN(0x2e, 0x89, 0x03), EMU_VEC_GP, 0);	/* code is not writable */
	s.mode = EMU_MODE_LONG64;
	expect_fault(&s, INSN(0x82, 0x03, 0x01), EMU_VEC_UD, 0);
}

/* Limits (expand-up and expand-down), null segments and segment types. */
static void test_protected_mode_checks(void **state)
{
	struct emu_state s = segmented_state(EMU_MODE_PROT32);
	struct emu_state t;

	(void)state;
	s.seg[EMU_DS].limit = 0x2fff;
	s.gpr[EMU_RBX] = 0x2ffc;
	expect_read(s, INSN(0x8b, 0x03), 0x12ffc, 4);
	s.gpr[EMU_RBX] = 0x2ffd;
	expect_fault(&s, INSN(0x8b, 0x03), EMU_VEC_GP, 0);
	s.seg[EMU_SS].limit = 0xfff;
	s.gpr[EMU_RBP] = 0x1000;
	expect_fault(&s, INSN(0x8b, 0x45, 0x00), EMU_VEC_SS, 0);

	t = s;
	t.seg[EMU_DS].type = EMU_SEG_TYPE_DATA_RW | EMU_SEG_TYPE_EXPAND_DOWN;
	t.seg[EMU_DS].limit = 0xfff;
	t.gpr[EMU_RBX] = 0x1000;
	expect_read(t, INSN(0x8b, 0x03), 0x11000, 4);
	t.gpr[EMU_RBX] = 0xfff;
	expect_fault(&t, INSN(0x8b, 0x03), EMU_VEC_GP, 0);
	t.gpr[EMU_RBX] = 0xfffffffc;
	expect_read(t, INSN(0x8b, 0x03), 0x0000fffc, 4);		/* 0x10000 + 0xfffffffc wraps */
	t.seg[EMU_DS].db = false;					/* upper bound 0xffff */
	t.gpr[EMU_RBX] = 0xfffc;
	expect_read(t, INSN(0x8b, 0x03), 0x1fffc, 4);
	t.gpr[EMU_RBX] = 0xfffe;
	expect_fault(&t, INSN(0x8b, 0x03), EMU_VEC_GP, 0);

	t = s;
	t.gpr[EMU_RBX] = 0x100;
	t.seg[EMU_DS].usable = false;
	expect_fault(&t, INSN(0x8b, 0x03), EMU_VEC_GP, 0);
	t.gpr[EMU_RBP] = 0x100;
	t.seg[EMU_SS].usable = false;
	expect_fault(&t, INSN(0x8b, 0x45, 0x00), EMU_VEC_SS, 0);

	t = s;
	t.gpr[EMU_RBX] = 0x100;
	t.seg[EMU_DS].type = EMU_SEG_TYPE_ACCESSED;			/* read-only data */
	expect_read(t, INSN(0x8b, 0x03), 0x10100, 4);
	expect_fault(&t, INSN(0x89, 0x03), EMU_VEC_GP, 0);
	t.seg[EMU_CS].type = EMU_SEG_TYPE_CODE | EMU_SEG_TYPE_ACCESSED;	/* execute-only */
	expect_fault(&t, INSN(0x2e, 0x8b, 0x03), EMU_VEC_GP, 0);
}

/* 32-bit offsets and linear addresses wrap at 4 GiB; an access across the top is not emulated. */
static void test_protected_mode_wrap(void **state)
{
	struct emu_state s = flat_state(EMU_MODE_PROT32);
	struct emu_outcome out;

	(void)state;
	s.gpr[EMU_RBX] = 0xfffffff0;
	expect_read(s, INSN(0x8b, 0x43, 0x20), 0x10, 4);		/* [ebx + 0x20] */
	s.seg[EMU_DS].base = 0xfffff000;
	s.gpr[EMU_RBX] = 0x2000;
	expect_read(s, INSN(0x8b, 0x03), 0x1000, 4);
	s.seg[EMU_DS].base = 0xfffffffe;
	s.gpr[EMU_RBX] = 0;
	assert_int_equal(run(&s, INSN(0x8b, 0x03), &out), EMU_UNHANDLED);
}

/* Fetching past the CS limit is #GP(0); the bytes before it are fine. */
static void test_code_segment_limit(void **state)
{
	struct emu_state s = flat_state(EMU_MODE_PROT32);

	(void)state;
	s.seg[EMU_CS].limit = CODE + 2;
	s.gpr[EMU_RBX] = 0x3000;
	expect_write(s, INSN(0x89, 0x03), 0x3000, 4);
	expect_fault(&s, INSN(0xc7, 0x03, 0x44, 0x33, 0x22, 0x11), EMU_VEC_GP, 0);
}

/* Real mode: all 24 16-bit addressing forms, with their default segments. */
static void test_real_mode_addressing(void **state)
{
	static const uint8_t base[8] = { EMU_RBX, EMU_RBX, EMU_RBP, EMU_RBP,
					 EMU_RSI, EMU_RDI, EMU_RBP, EMU_RBX };
	static const int8_t index[8] = { EMU_RSI, EMU_RDI, EMU_RSI, EMU_RDI, -1, -1, -1, -1 };
	struct emu_state s = segmented_state(EMU_MODE_REAL);
	unsigned mod, rm;

	(void)state;
	s.gpr[EMU_RBX] = 0xdead1100;		/* upper halves must not matter */
	s.gpr[EMU_RSI] = 0xdead0022;
	s.gpr[EMU_RDI] = 0xdead0044;
	s.gpr[EMU_RBP] = 0xdead0200;
	for (mod = 0; mod < 3; mod++) {
		for (rm = 0; rm < 8; rm++) {
			struct insn i = INSN(0x8b, (uint8_t)(mod << 6 | rm), 0x90, 0x12);
			bool absolute = mod == 0 && rm == 6;
			uint64_t offset = 0x1290;	/* disp16 */
			unsigned sreg = EMU_DS;

			if (!absolute) {
				offset = mod == 1 ? (uint64_t)-0x70 : mod == 2 ? 0x1290 : 0;
				offset += s.gpr[base[rm]] + (index[rm] >= 0 ? s.gpr[index[rm]] : 0);
				if (base[rm] == EMU_RBP)
					sreg = EMU_SS;
			}
			expect_read(s, i, s.seg[sreg].base + (offset & 0xffff), 2);
		}
	}
	s.gpr[EMU_RBX] = 0xfff0;
	s.gpr[EMU_RSI] = 0x20;
	expect_read(s, INSN(0x8b, 0x00), 0x10010, 2);			/* [bx + si] wraps */
	expect_read(s, INSN(0xa1, 0x34, 0x12), 0x11234, 2);		/* moffs16 */
	expect_write(s, INSN(0x66, 0x89, 0x04), 0x10020, 4);		/* 32-bit operand */
	s.gpr[EMU_RCX] = 0x10;
	s.gpr[EMU_RBX] = 0x100;
	expect_read(s, INSN(0x67, 0x8b, 0x04, 0x8b), 0x10140, 2);	/* [ebx + ecx * 4] */
}

/* Real mode checks limits (#GP, #SS through SS) but not types or null selectors. */
static void test_real_mode_checks(void **state)
{
	struct emu_state s = segmented_state(EMU_MODE_REAL);

	(void)state;
	s.gpr[EMU_RBX] = 0xffff;
	s.gpr[EMU_RBP] = 0xffff;
	expect_fault(&s, INSN(0x8b, 0x07), EMU_VEC_GP, 0);		/* word at [bx] = 0xffff */
	expect_fault(&s, INSN(0x8b, 0x46, 0x00), EMU_VEC_SS, 0);	/* [bp + 0] */
	s.gpr[EMU_RBX] = 0x10000;
	expect_fault(&s, INSN(0x67, 0x8b, 0x03), EMU_VEC_GP, 0);	/* [ebx] past the limit */
	s.gpr[EMU_RBX] = 0x100;
	s.seg[EMU_DS].usable = false;
	s.seg[EMU_DS].type = EMU_SEG_TYPE_ACCESSED;
	expect_write(s, INSN(0x89, 0x07), 0x10100, 2);
	expect_write(s, INSN(0x2e, 0x89, 0x07), 0x00100, 2);
}

/*
 * REP string instructions: one element per call with RIP kept (and RF set)
 * until the count runs out; a zero count only moves RIP.
 */
static void test_rep_string(void **state)
{
	struct emu_state s = flat_state(EMU_MODE_LONG64);
	struct emu_outcome out;
	unsigned i;

	(void)state;
	s.gpr[EMU_RCX] = 3;
	s.gpr[EMU_RDI] = 0x2000;
	s.gpr[EMU_RAX] = 0x5a;
	for (i = 0; i < 3; i++) {
		assert_int_equal(run(&s, INSN(0xf3, 0xaa), &out), EMU_OK);
		assert_int_equal(s.gpr[EMU_RCX], 2 - i);
		assert_int_equal(s.gpr[EMU_RDI], 0x2001 + i);
		assert_int_equal(s.rip, i < 2 ? CODE : CODE + 2);
		assert_int_equal(!!(s.rflags & EMU_RFLAGS_RF), i < 2);
	}
	assert_int_equal(get32(0x2000), 0x005a5a5a);

	s = flat_state(EMU_MODE_LONG64);
	assert_int_equal(run(&s, INSN(0xf3, 0xaa), &out), EMU_OK);	/* rcx = 0 */
	assert_int_equal(s.rip, CODE + 2);
	assert_int_equal(mem->writes, 3);

	/* DF: downwards. */
	s = flat_state(EMU_MODE_LONG64);
	s.rflags |= EMU_RFLAGS_DF;
	s.gpr[EMU_RCX] = 2;
	s.gpr[EMU_RSI] = 0x2008;
	s.gpr[EMU_RDI] = 0x3008;
	put32(0x2004, 0x11111111);
	put32(0x2008, 0x22222222);
	for (i = 0; i < 2; i++)
		assert_int_equal(run(&s, INSN(0xf3, 0xa5), &out), EMU_OK);
	assert_int_equal(s.gpr[EMU_RSI], 0x2000);
	assert_int_equal(s.gpr[EMU_RDI], 0x3000);
	assert_int_equal(get32(0x3004), 0x11111111);
	assert_int_equal(get32(0x3008), 0x22222222);

	/* 67: ECX and EDI, written back zero-extended. */
	s = flat_state(EMU_MODE_LONG64);
	s.gpr[EMU_RCX] = 0xffffffff00000001ull;
	s.gpr[EMU_RDI] = 0xffffffff00002000ull;
	expect_write(s, INSN(0x67, 0xf3, 0xaa), 0x2000, 1);
	assert_int_equal(run(&s, INSN(0x67, 0xf3, 0xaa), &out), EMU_OK);
	assert_int_equal(s.gpr[EMU_RCX], 0);
	assert_int_equal(s.gpr[EMU_RDI], 0x2001);
	assert_int_equal(s.rip, CODE + 3);
}

/* 16-bit string addresses: SI and DI wrap within their low 16 bits, CX alone counts. */
static void test_string_16bit(void **state)
{
	struct emu_state s = segmented_state(EMU_MODE_REAL);
	struct emu_outcome out;

	(void)state;
	s.gpr[EMU_RSI] = 0x1234ffff;
	s.gpr[EMU_RDI] = 0x10;
	s.gpr[EMU_RCX] = 2;
	expect_read(s, INSN(0xf3, 0xa4), 0x1ffff, 1);
	assert_int_equal(run(&s, INSN(0xf3, 0xa4), &out), EMU_OK);
	assert_int_equal(mem->last_write.linear, 0x20010);
	assert_int_equal(s.gpr[EMU_RSI], 0x12340000);
	assert_int_equal(s.gpr[EMU_RDI], 0x11);
	assert_int_equal(s.gpr[EMU_RCX], 1);
	expect_read(s, INSN(0xf3, 0xa4), 0x10000, 1);

	s.gpr[EMU_RCX] = 0x10000;					/* CX = 0 */
	assert_int_equal(run(&s, INSN(0xf3, 0xa4), &out), EMU_OK);
	assert_int_equal(s.rip, CODE + 2);
	assert_int_equal(s.gpr[EMU_RCX], 0x10000);

	/* STOS writes ES whatever the override; MOVS reads through the override. */
	s = segmented_state(EMU_MODE_PROT32);
	s.gpr[EMU_RSI] = 0x100;
	s.gpr[EMU_RDI] = 0x200;
	expect_write(s, INSN(0x64, 0xaa), 0x20200, 1);
	expect_read(s, INSN(0x64, 0xa4), 0x14100, 1);
	expect_write(s, INSN(0x64, 0xa4), 0x20200, 1);
}

/*
 * CMPS and SCAS: the flags of the CMP of the two elements, one element per
 * call; REPE stops after the first difference, REPNE after the first match,
 * both when the count runs out, RIP kept while they go on.
 */
static void test_cmps_scas(void **state)
{
	struct emu_state s;
	struct emu_outcome out;
	unsigned i;

	(void)state;
	memcpy(mem->bytes + 0x2000, "abcdXfgh", 8);
	memcpy(mem->bytes + 0x3000, "abcdefgh", 8);

	/* repe cmpsb with rcx = 8: equal for 4 bytes, stops on the 5th ('X' > 'e' is false: CF set). */
	s = flat_state(EMU_MODE_LONG64);
	s.gpr[EMU_RCX] = 8;
	s.gpr[EMU_RSI] = 0x2000;
	s.gpr[EMU_RDI] = 0x3000;
	for (i = 0; i < 5; i++) {
		assert_int_equal(s.rip, CODE);
		assert_int_equal(run(&s, INSN(0xf3, 0xa6), &out), EMU_OK);
		assert_int_equal(s.gpr[EMU_RCX], 7 - i);
		assert_int_equal(!!(s.rflags & EMU_RFLAGS_ZF), i < 4);
	}
	assert_int_equal(s.rip, CODE + 2);
	assert_int_equal(s.gpr[EMU_RSI], 0x2005);
	assert_int_equal(s.gpr[EMU_RDI], 0x3005);
	/* 'X' - 'e' = 0x58 - 0x65: borrow, negative. */
	assert_int_equal(s.rflags & (EMU_RFLAGS_CF | EMU_RFLAGS_SF | EMU_RFLAGS_ZF | EMU_RFLAGS_OF),
			 EMU_RFLAGS_CF | EMU_RFLAGS_SF);
	assert_false(s.rflags & EMU_RFLAGS_RF);
	assert_int_equal(mem->writes, 0);

	/* repe cmpsd over equal data stops on the count. */
	s = flat_state(EMU_MODE_PROT32);
	s.gpr[EMU_RCX] = 1;
	s.gpr[EMU_RSI] = 0x2000;
	s.gpr[EMU_RDI] = 0x3000;
	assert_int_equal(run(&s, INSN(0xf3, 0xa7), &out), EMU_OK);
	assert_int_equal(s.rip, CODE + 2);
	assert_true(s.rflags & EMU_RFLAGS_ZF);
	assert_int_equal(s.gpr[EMU_RSI], 0x2004);

	/* repne scasb looks for 'd' going up: stops on the match with ZF = 1, rDI past it. */
	s = flat_state(EMU_MODE_LONG64);
	s.gpr[EMU_RAX] = 0x1234ull << 8 | 'd';
	s.gpr[EMU_RCX] = 100;
	s.gpr[EMU_RDI] = 0x3000;
	for (i = 0; i < 4; i++) {
		assert_int_equal(s.rip, CODE);
		assert_int_equal(run(&s, INSN(0xf2, 0xae), &out), EMU_OK);
	}
	assert_int_equal(s.rip, CODE + 2);
	assert_int_equal(s.gpr[EMU_RCX], 96);
	assert_int_equal(s.gpr[EMU_RDI], 0x3004);
	assert_true(s.rflags & EMU_RFLAGS_ZF);

	/* repne scasb without a match stops on the count with ZF = 0; DF goes down. */
	s = flat_state(EMU_MODE_LONG64);
	s.rflags |= EMU_RFLAGS_DF | EMU_RFLAGS_ZF;
	s.gpr[EMU_RAX] = 'z';
	s.gpr[EMU_RCX] = 3;
	s.gpr[EMU_RDI] = 0x3007;
	for (i = 0; i < 3; i++)
		assert_int_equal(run(&s, INSN(0xf2, 0xae), &out), EMU_OK);
	assert_int_equal(s.rip, CODE + 2);
	assert_int_equal(s.gpr[EMU_RCX], 0);
	assert_int_equal(s.gpr[EMU_RDI], 0x3004);
	assert_false(s.rflags & EMU_RFLAGS_ZF);

	/* A zero count compares nothing: flags and indexes stay, RIP moves. */
	s = flat_state(EMU_MODE_LONG64);
	s.rflags |= EMU_RFLAGS_ZF | EMU_RFLAGS_CF;
	s.gpr[EMU_RSI] = 0x2000;
	s.gpr[EMU_RDI] = 0x3000;
	mem->reads = 0;
	assert_int_equal(run(&s, INSN(0xf3, 0xa6), &out), EMU_OK);
	assert_int_equal(s.rip, CODE + 2);
	assert_int_equal(s.rflags & EMU_RFLAGS_ARITH, EMU_RFLAGS_ZF | EMU_RFLAGS_CF);
	assert_int_equal(s.gpr[EMU_RSI], 0x2000);
	assert_int_equal(mem->reads, 0);

	/* Without REP: one comparison, RIP past it; scasw compares AX. */
	s = flat_state(EMU_MODE_LONG64);
	s.gpr[EMU_RAX] = 0xffff0000ull | ('b' << 8 | 'a');
	s.gpr[EMU_RDI] = 0x3000;
	s.gpr[EMU_RCX] = 5;
	assert_int_equal(run(&s, INSN(0x66, 0xaf), &out), EMU_OK);
	assert_int_equal(s.rip, CODE + 2);
	assert_true(s.rflags & EMU_RFLAGS_ZF);
	assert_int_equal(s.gpr[EMU_RCX], 5);
	assert_int_equal(s.gpr[EMU_RDI], 0x3002);

	/* Segments: CMPS reads the source through the override, SCAS and CMPS's destination ES. */
	s = segmented_state(EMU_MODE_PROT32);
	s.gpr[EMU_RSI] = 0x100;
	s.gpr[EMU_RDI] = 0x200;
	expect_read(s, INSN(0x64, 0xae), 0x20200, 1);
	expect_read(s, INSN(0x64, 0xa6), 0x20200, 1);	/* the last read is ES:DI */
	mem->page_flags[0x20200 / TEST_PAGE] = TEST_PAGE_ABSENT;
	expect_fault(&s, INSN(0x64, 0xa6), EMU_VEC_PF, 0);
	assert_int_equal(mem->last_read.linear, 0x14100);	/* FS:SI was read first */
	mem->page_flags[0x20200 / TEST_PAGE] = 0;
}

static struct emu_state sse_state(enum emu_mode mode)
{
	struct emu_state s = flat_state(mode);

	s.cr4 = EMU_CR4_OSFXSR;
	return s;
}

static void set_xmm(unsigned n, uint8_t first)
{
	unsigned i;

	for (i = 0; i < 16; i++)
		mem->xmm[n][i] = (uint8_t)(first + i);
}

/* SSE moves: sizes, zero extension of loads, REX.R for XMM8-15, page-crossing unaligned forms. */
static void test_sse_moves(void **state)
{
	static const uint8_t zero[16];
	struct emu_state s = sse_state(EMU_MODE_LONG64);
	struct emu_outcome out;
	unsigned i;

	(void)state;
	for (i = 0; i < 16; i++)
		mem->bytes[0x2000 + i] = (uint8_t)(0xa0 + i);
	s.gpr[EMU_RAX] = 0x2000;
	s.gpr[EMU_RBX] = 0x4000;

	/* movups xmm1, [rax]; movups [rbx], xmm1 */
	assert_int_equal(run(&s, INSN(0x0f, 0x10, 0x08), &out), EMU_OK);
	assert_memory_equal(mem->xmm[1], mem->bytes + 0x2000, 16);
	assert_int_equal(s.rip, CODE + 3);
	s.rip = CODE;
	assert_int_equal(run(&s, INSN(0x0f, 0x11, 0x0b), &out), EMU_OK);
	assert_memory_equal(mem->bytes + 0x4000, mem->bytes + 0x2000, 16);
	assert_int_equal(mem->last_write.len, 16);

	/* movss xmm2, [rax] zeroes bits 127:32; movss [rbx], xmm3 writes 4 bytes. */
	s.rip = CODE;
	set_xmm(2, 0x10);
	assert_int_equal(run(&s, INSN(0xf3, 0x0f, 0x10, 0x10), &out), EMU_OK);
	assert_memory_equal(mem->xmm[2], mem->bytes + 0x2000, 4);
	assert_memory_equal(mem->xmm[2] + 4, zero, 12);
	s.rip = CODE;
	expect_write(s, INSN(0xf3, 0x0f, 0x11, 0x1b), 0x4000, 4);
	expect_write(s, INSN(0xf2, 0x0f, 0x11, 0x1b), 0x4000, 8);	/* movsd */

	/* movd xmm4, [rax]; movq xmm4, [rax] (66 REX.W 0f 6e and f3 0f 7e); movq [rbx], xmm4. */
	set_xmm(4, 0x10);
	assert_int_equal(run(&s, INSN(0x66, 0x0f, 0x6e, 0x20), &out), EMU_OK);
	assert_memory_equal(mem->xmm[4], mem->bytes + 0x2000, 4);
	assert_memory_equal(mem->xmm[4] + 4, zero, 12);
	s.rip = CODE;
	set_xmm(4, 0x10);
	assert_int_equal(run(&s, INSN(0x66, 0x48, 0x0f, 0x6e, 0x20), &out), EMU_OK);
	assert_memory_equal(mem->xmm[4], mem->bytes + 0x2000, 8);
	assert_memory_equal(mem->xmm[4] + 8, zero, 8);
	s.rip = CODE;
	set_xmm(4, 0x10);
	assert_int_equal(run(&s, INSN(0xf3, 0x0f, 0x7e, 0x20), &out), EMU_OK);
	assert_memory_equal(mem->xmm[4], mem->bytes + 0x2000, 8);
	assert_memory_equal(mem->xmm[4] + 8, zero, 8);
	s.rip = CODE;
	expect_write(s, INSN(0x66, 0x0f, 0x7e, 0x23), 0x4000, 4);
	expect_write(s, INSN(0x66, 0x48, 0x0f, 0x7e, 0x23), 0x4000, 8);
	expect_write(s, INSN(0x66, 0x0f, 0xd6, 0x23), 0x4000, 8);

	/* REX.R: movdqu xmm9, [rax]; a REX before the mandatory prefix is ignored (xmm1). */
	set_xmm(1, 0);
	assert_int_equal(run(&s, INSN(0xf3, 0x44, 0x0f, 0x6f, 0x08), &out), EMU_OK);
	assert_memory_equal(mem->xmm[9], mem->bytes + 0x2000, 16);
	s.rip = CODE;
	assert_int_equal(run(&s, INSN(0x44, 0xf3, 0x0f, 0x6f, 0x08), &out), EMU_OK);
	assert_memory_equal(mem->xmm[1], mem->bytes + 0x2000, 16);

	/* 16-bit code: the sizes are the instruction's, whatever 66 means elsewhere. */
	s = sse_state(EMU_MODE_PROT16);
	s.gpr[EMU_RBX] = 0x4000;
	expect_write(s, INSN(0x66, 0x0f, 0x7f, 0x07), 0x4000, 16);	/* movdqa [bx], xmm0 */
	expect_write(s, INSN(0x66, 0x0f, 0x7e, 0x07), 0x4000, 4);	/* movd [bx], xmm0 */

	/* An unaligned 16-byte access across a page: both pages are translated first. */
	s = sse_state(EMU_MODE_LONG64);
	s.gpr[EMU_RBX] = 0x4ff8;
	mem->page_flags[5] = TEST_PAGE_READ_ONLY;
	set_xmm(0, 0x77);
	expect_fault(&s, INSN(0x0f, 0x11, 0x03), EMU_VEC_PF, TEST_PF_PRESENT | TEST_PF_WRITE);
	assert_int_equal(mem->bytes[0x4ff8], 0);	/* nothing written on the first page either */
	mem->page_flags[5] = 0;
	expect_write(s, INSN(0x0f, 0x11, 0x03), 0x4ff8, 16);
	assert_memory_equal(mem->bytes + 0x4ff8, mem->xmm[0], 16);

	/* A faulting load leaves the register alone. */
	mem->page_flags[6] = TEST_PAGE_ABSENT;
	s.gpr[EMU_RAX] = 0x6000;
	i = mem->xmm_writes;
	expect_fault(&s, INSN(0x0f, 0x10, 0x00), EMU_VEC_PF, 0);
	assert_int_equal(mem->xmm_writes, i);
	mem->page_flags[6] = 0;
}

/*
 * SSE faults in the SDM's order: #UD (CR0.EM, CR4.OSFXSR, LOCK), #NM
 * (CR0.TS), then #GP(0) for a misaligned operand of an aligned form (the
 * linear address counts, segment base included); nothing is accessed.
 */
static void test_sse_faults(void **state)
{
	static const struct insn aligned[] = {
		INSN(0x0f, 0x28, 0x00), INSN(0x0f, 0x29, 0x00), INSN(0x66, 0x0f, 0x28, 0x00),
		INSN(0x66, 0x0f, 0x29, 0x00), INSN(0x0f, 0x2b, 0x00), INSN(0x66, 0x0f, 0x2b, 0x00),
		INSN(0x66, 0x0f, 0x6f, 0x00), INSN(0x66, 0x0f, 0x7f, 0x00), INSN(0x66, 0x0f, 0xe7, 0x00),
	};
	static const struct insn unaligned[] = {
		INSN(0x0f, 0x10, 0x00), INSN(0x0f, 0x11, 0x00), INSN(0x66, 0x0f, 0x10, 0x00),
		INSN(0xf3, 0x0f, 0x6f, 0x00), INSN(0xf3, 0x0f, 0x7f, 0x00), INSN(0xf3, 0x0f, 0x10, 0x00),
		INSN(0x66, 0x0f, 0x6e, 0x00), INSN(0x66, 0x0f, 0xd6, 0x00),
	};
	struct emu_state s;
	struct emu_outcome out;
	unsigned i, reads;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(aligned); i++) {
		s = sse_state(EMU_MODE_LONG64);
		s.gpr[EMU_RAX] = 0x2008;
		reads = mem->reads;
		expect_fault(&s, aligned[i], EMU_VEC_GP, 0);
		assert_int_equal(mem->reads, reads);
		s.gpr[EMU_RAX] = 0x2010;
		assert_int_equal(run(&s, aligned[i], &out), EMU_OK);
		/* An aligned offset in a misaligned segment is misaligned. */
		s = sse_state(EMU_MODE_PROT32);
		s.seg[EMU_DS].base = 0x1004;
		s.gpr[EMU_RAX] = 0x100c;
		assert_int_equal(run(&s, aligned[i], &out), EMU_OK);
		s.rip = CODE;
		s.gpr[EMU_RAX] = 0x1000;
		expect_fault(&s, aligned[i], EMU_VEC_GP, 0);
	}
	for (i = 0; i < ARRAY_SIZE(unaligned); i++) {
		s = sse_state(EMU_MODE_LONG64);
		s.gpr[EMU_RAX] = 0x2001;
		assert_int_equal(run(&s, unaligned[i], &out), EMU_OK);
	}

	s = sse_state(EMU_MODE_LONG64);
	s.gpr[EMU_RAX] = 0x2001;	/* misaligned too: #UD and #NM come first */
	s.cr0 = EMU_CR0_EM;
	expect_fault(&s, aligned[0], EMU_VEC_UD, 0);
	s.cr0 = EMU_CR0_EM | EMU_CR0_TS;
	expect_fault(&s, aligned[0], EMU_VEC_UD, 0);
	s.cr0 = EMU_CR0_TS;
	expect_fault(&s, aligned[0], EMU_VEC_NM, 0);
	expect_fault(&s, unaligned[0], EMU_VEC_NM, 0);
	s.cr0 = 0;
	s.cr4 = 0;
	expect_fault(&s, unaligned[0], EMU_VEC_UD, 0);
	s.cr4 = EMU_CR4_OSFXSR;
	expect_fault(&s, INSN(0xf0, 0x0f, 0x11, 0x00), EMU_VEC_UD, 0);	/* lock movups */
	s.gpr[EMU_RAX] = 0x2000;
	/* A fetch fault comes before #NM: the instruction is fetched whole first. */
	s.cr0 = EMU_CR0_TS;
	s.rip = 0x1ffe;
	mem->page_flags[2] = TEST_PAGE_ABSENT;
	memcpy(mem->bytes + 0x1ffe, (uint8_t[]){ 0x0f, 0x10 }, 2);
	{
		struct emu_state before = s;

		assert_int_equal(emulate_instruction(&s, &test_mem_ops, mem, &out), EMU_EXCEPTION);
		assert_int_equal(out.exc.vector, EMU_VEC_PF);
		assert_same_state(&s, &before);
	}
	mem->page_flags[2] = 0;

	/* Without the XMM callbacks the emulator declines, faults or not. */
	s = sse_state(EMU_MODE_LONG64);
	s.gpr[EMU_RAX] = 0x2000;
	memcpy(mem->bytes + CODE, (uint8_t[]){ 0x0f, 0x28, 0x00 }, 3);
	assert_int_equal(emulate_instruction(&s, &test_mem_ops_no_xmm, mem, &out), EMU_UNHANDLED);
	s.cr0 = EMU_CR0_TS;
	assert_int_equal(emulate_instruction(&s, &test_mem_ops_no_xmm, mem, &out), EMU_UNHANDLED);
	assert_int_equal(s.rip, CODE);
}

/* CMPXCHG16B needs a 16-byte aligned operand (#GP(0) before any access); CMPXCHG8B does not. */
static void test_cmpxchg16b(void **state)
{
	struct emu_state s = flat_state(EMU_MODE_LONG64);
	struct emu_outcome out;
	unsigned reads = mem->reads;
	uint64_t m[2] = { 0x1111, 0x2222 };

	(void)state;
	s.gpr[EMU_RSI] = 0x2008;
	expect_fault(&s, INSN(0x48, 0x0f, 0xc7, 0x0e), EMU_VEC_GP, 0);
	assert_int_equal(mem->reads, reads);
	expect_write(s, INSN(0x0f, 0xc7, 0x0e), 0x2008, 8);

	memcpy(mem->bytes + 0x2010, m, sizeof(m));
	s.gpr[EMU_RSI] = 0x2010;
	s.gpr[EMU_RAX] = 0x1111;
	s.gpr[EMU_RDX] = 0x2222;
	s.gpr[EMU_RBX] = 0x3333;
	s.gpr[EMU_RCX] = 0x4444;
	assert_int_equal(run(&s, INSN(0x48, 0x0f, 0xc7, 0x0e), &out), EMU_OK);
	assert_true(s.rflags & EMU_RFLAGS_ZF);
	memcpy(m, mem->bytes + 0x2010, sizeof(m));
	assert_int_equal(m[0], 0x3333);
	assert_int_equal(m[1], 0x4444);
}

/* BT with a register offset reaches outside the operand, in either direction; an immediate offset does not. */
static void test_bit_offsets(void **state)
{
	struct emu_state s = flat_state(EMU_MODE_LONG64);
	struct emu_outcome out;

	(void)state;
	s.gpr[EMU_RBX] = 0x3000;
	s.gpr[EMU_RAX] = (uint64_t)-1;
	expect_write(s, INSN(0x0f, 0xab, 0x03), 0x2ffc, 4);		/* bts [rbx], eax */
	s.gpr[EMU_RAX] = 0xffff8000;					/* ax = -32768 */
	expect_read(s, INSN(0x66, 0x0f, 0xa3, 0x03), 0x3000 - 4096, 2);	/* bt [rbx], ax */
	s.gpr[EMU_RAX] = 100;
	expect_read(s, INSN(0x48, 0x0f, 0xa3, 0x03), 0x3008, 8);	/* bit 36 of the next qword */
	assert_int_equal(run(&s, INSN(0x0f, 0xba, 0x2b, 0x25), &out), EMU_OK);	/* bts [rbx], 37 */
	assert_int_equal(get32(0x3000), 1u << 5);
}

/* Flags of a few edge cases, as the SDM defines them. */
static void test_flags(void **state)
{
	struct emu_state s = flat_state(EMU_MODE_LONG64);
	struct emu_outcome out;
	uint64_t arith = EMU_RFLAGS_ARITH;

	(void)state;
	s.gpr[EMU_RBX] = 0x3000;
	mem->bytes[0x3000] = 0x7f;
	assert_int_equal(run(&s, INSN(0x80, 0x03, 0x01), &out), EMU_OK);	/* add byte [rbx], 1 */
	assert_int_equal(s.rflags & arith, EMU_RFLAGS_OF | EMU_RFLAGS_SF | EMU_RFLAGS_AF);
	s.rip = CODE;
	mem->bytes[0x3000] = 0;
	assert_int_equal(run(&s, INSN(0x80, 0x2b, 0x01), &out), EMU_OK);	/* sub byte [rbx], 1 */
	assert_int_equal(s.rflags & arith,
			 EMU_RFLAGS_CF | EMU_RFLAGS_SF | EMU_RFLAGS_AF | EMU_RFLAGS_PF);
	s.rip = CODE;
	s.rflags |= EMU_RFLAGS_CF;
	assert_int_equal(run(&s, INSN(0xfe, 0x03), &out), EMU_OK);		/* inc: CF kept */
	assert_int_equal(mem->bytes[0x3000], 0);
	assert_int_equal(s.rflags & arith,
			 EMU_RFLAGS_CF | EMU_RFLAGS_ZF | EMU_RFLAGS_AF | EMU_RFLAGS_PF);
}

static void test_differential_64(void **state)
{
	(void)state;
	assert_true(emulate_differential(GEN_MODE_64));
}

static void test_differential_32(void **state)
{
	(void)state;
	if (!emulate_differential(GEN_MODE_32))
		skip();
}

static void test_differential_16(void **state)
{
	(void)state;
	if (!emulate_differential(GEN_MODE_16))
		skip();
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, mem_setup, mem_teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mode_of),
		T(test_rip_advances_by_length),
		T(test_rip_relative),
		T(test_instruction_too_long),
		T(test_fetch_fault),
		T(test_write_fault),
		T(test_read_fault),
		T(test_user_accesses),
		T(test_lock),
		T(test_unhandled),
		T(test_callback_declines),
		T(test_prefix_rules),
		T(test_long_mode_segments),
		T(test_long_mode_address_size),
		T(test_protected_mode_segments),
		T(test_protected_mode_checks),
		T(test_protected_mode_wrap),
		T(test_code_segment_limit),
		T(test_real_mode_addressing),
		T(test_real_mode_checks),
		T(test_rep_string),
		T(test_string_16bit),
		T(test_cmps_scas),
		T(test_sse_moves),
		T(test_sse_faults),
		T(test_cmpxchg16b),
		T(test_bit_offsets),
		T(test_flags),
		cmocka_unit_test(test_differential_64),
		cmocka_unit_test(test_differential_32),
		cmocka_unit_test(test_differential_16),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
