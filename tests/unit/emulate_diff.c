/* The emulator's differential test: random instructions on the host CPU and in the emulator, results compared. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <asm/prctl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>
#include "tests/unit/test_rng.h"
#include "tests/unit/emulate_diff.h"
#include "tests/unit/emulate_native.h"

#include "vmm/emulate.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define DIFF_DEFAULT_CASES 300000
#define DIFF_CODE_SIZE 0x1000u
/* The emulator's view of the host: the live code page, and a private copy of the data area. */
struct host_mem {
	uint64_t code;
	uint64_t data;		/* the data area's address, the copy's linear base */
	uint8_t *copy;
	unsigned stray;		/* accesses outside both: generator or emulator bugs */
	uint8_t xmm[16][16];	/* the emulator's XMM registers */
};

static bool inside(uint64_t base, uint64_t size, uint64_t la, unsigned len)
{
	return la >= base && la + len <= base + size;
}

static enum emu_result stray(struct host_mem *h, uint64_t la, struct emu_exception *exc)
{
	h->stray++;
	*exc = (struct emu_exception){ .vector = EMU_VEC_PF, .has_error = true, .cr2 = la };
	return EMU_EXCEPTION;
}

static enum emu_result host_fetch(void *ctx, uint64_t la, void *buf, unsigned len, bool user,
				  struct emu_exception *exc)
{
	struct host_mem *h = ctx;

	(void)user;
	if (!inside(h->code, DIFF_CODE_SIZE, la, len))
		return stray(h, la, exc);
	memcpy(buf, (const void *)(uintptr_t)la, len);
	return EMU_OK;
}

static enum emu_result host_read(void *ctx, uint64_t la, void *buf, unsigned len, bool user,
				 struct emu_exception *exc)
{
	struct host_mem *h = ctx;

	(void)user;
	if (!inside(h->data, GEN_DATA_SIZE, la, len))
		return stray(h, la, exc);
	memcpy(buf, h->copy + (la - h->data), len);
	return EMU_OK;
}

static enum emu_result host_write(void *ctx, uint64_t la, const void *buf, unsigned len,
				  bool user, struct emu_exception *exc)
{
	struct host_mem *h = ctx;

	(void)user;
	if (!inside(h->data, GEN_DATA_SIZE, la, len))
		return stray(h, la, exc);
	memcpy(h->copy + (la - h->data), buf, len);
	return EMU_OK;
}

static void host_xmm_read(void *ctx, unsigned n, uint8_t value[16])
{
	struct host_mem *h = ctx;

	memcpy(value, h->xmm[n], 16);
}

static void host_xmm_write(void *ctx, unsigned n, const uint8_t value[16])
{
	struct host_mem *h = ctx;

	memcpy(h->xmm[n], value, 16);
}

static const struct emu_ops host_ops = {
	.fetch = host_fetch, .read = host_read, .write = host_write,
	.xmm_read = host_xmm_read, .xmm_write = host_xmm_write,
};

/* The case on the CPU, for the fatal-signal handler: a generator bug would crash the test. */
static const struct gen_case *native_case;
static bool native_case_legacy;

static void native_crash(int sig)
{
	char line[160];
	int n;
	unsigned i;

	if (native_case_legacy)
		native_restore_fs_base();
	n = snprintf(line, sizeof(line), "signal %d running %s:", sig,
		     native_case ? native_case->name : "?");
	for (i = 0; native_case && i < native_case->len && n < (int)sizeof(line) - 4; i++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " %02x", native_case->insn[i]);
	line[n++] = '\n';
	(void)!write(2, line, (size_t)n);
	_exit(2);
}

/* The instruction runs with the test's RSP: faults must be reported from an alternate stack. */
static void catch_native_faults(void)
{
	static uint8_t altstack[65536];
	static const int signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP };
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	struct sigaction sa = { .sa_handler = native_crash, .sa_flags = SA_ONSTACK };
	unsigned i;

	assert_int_equal(sigaltstack(&ss, NULL), 0);
	for (i = 0; i < ARRAY_SIZE(signals); i++)
		assert_int_equal(sigaction(signals[i], &sa, NULL), 0);
}

static uint64_t env_or(const char *name, uint64_t fallback)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : fallback;
}

static void print_case(const char *what, const struct gen_case *c)
{
	unsigned i;

	printf("  %s: %s:", what, c->name);
	for (i = 0; i < c->len; i++)
		printf(" %02x", c->insn[i]);
	printf("\n");
}

/* One mode's differential run: where the code and data live, and how each side enters the code. */
struct diff_run {
	enum gen_mode mode;
	uint8_t *code;
	uint8_t *data;
	struct host_mem h;
	struct gen_env env;
	struct emu_state entry;		/* the emulator's state at the instruction, less the case's */
	struct native_legacy how;	/* 16- and 32-bit modes */
	uint64_t gpr_mask;		/* the register bits both sides define afterwards */
};

struct diff_stats {
	unsigned long cases, failures;
	unsigned long undefined_flags_cases, undefined_flags_differ;
};

#define LEGACY_TRAMPOLINE 0x800u	/* offset in the code page */

static void diff_map(struct diff_run *r, enum gen_mode mode)
{
	*r = (struct diff_run){ .mode = mode };
	r->code = mmap(NULL, DIFF_CODE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	r->data = mmap(NULL, GEN_DATA_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	r->h.copy = malloc(GEN_DATA_SIZE);
	assert_true(r->code != MAP_FAILED && r->data != MAP_FAILED && r->h.copy);
	r->h.code = (uint64_t)(uintptr_t)r->code;
	r->h.data = (uint64_t)(uintptr_t)r->data;
	r->env = (struct gen_env){ .mode = mode, .code = r->h.code, .data = r->data };
}

static void diff_unmap(struct diff_run *r)
{
	munmap(r->code, DIFF_CODE_SIZE);
	munmap(r->data, GEN_DATA_SIZE);
	free(r->h.copy);
}

/* 64-bit mode: the host's FS base, and a GS base of our own below the data. */
static void diff_setup_64(struct diff_run *r)
{
	unsigned i;

	r->env.seg_base[EMU_GS] = r->h.data - 0x10000;
	assert_int_equal(syscall(SYS_arch_prctl, ARCH_GET_FS, &r->env.seg_base[EMU_FS]), 0);
	assert_int_equal(syscall(SYS_arch_prctl, ARCH_SET_GS, r->env.seg_base[EMU_GS]), 0);
	r->entry = (struct emu_state){
		.mode = EMU_MODE_LONG64, .rip = r->h.code, .cpl = 3, .cr4 = EMU_CR4_OSFXSR,
	};
	/* 64-bit mode ignores these bases and limits: garbage must not matter. */
	for (i = EMU_ES; i <= EMU_DS; i++)
		r->entry.seg[i] = (struct emu_segment){ .base = 0xdead0000ull << i, .limit = 0x10 };
	r->entry.seg[EMU_FS].base = r->env.seg_base[EMU_FS];
	r->entry.seg[EMU_GS].base = r->env.seg_base[EMU_GS];
	r->gpr_mask = ~0ull;
}

/*
 * 16- and 32-bit modes: flat 4 GiB data segments in the LDT with a
 * different base each (DS at the data, the others up to 16 KiB below), and
 * for 16-bit code a 64 KiB code segment based at the code page.
 */
static bool diff_setup_legacy(struct diff_run *r)
{
	static const uint64_t below_data[6] = {
		[EMU_ES] = 0x1000, [EMU_SS] = 0x2000, [EMU_DS] = 0, [EMU_FS] = 0x3000,
		[EMU_GS] = 0x4000,
	};
	uint16_t sel[6] = { 0 };
	bool code16 = r->mode == GEN_MODE_16;
	unsigned i;

	if (!native_legacy_supported())
		return false;
	for (i = EMU_ES; i <= EMU_GS; i++) {
		if (i == EMU_CS)
			continue;
		r->env.seg_base[i] = r->h.data - below_data[i];
		sel[i] = native_ldt_segment(i, (uint32_t)r->env.seg_base[i], 0xffffffff, false, true);
		if (!sel[i])
			return false;
		r->entry.seg[i] = (struct emu_segment){
			.base = r->env.seg_base[i], .limit = 0xffffffff, .type = EMU_SEG_TYPE_DATA_RW,
			.db = true, .usable = true,
		};
	}
	r->how = (struct native_legacy){
		.entry_offset = (uint32_t)r->h.code, .entry_selector = NATIVE_USER32_CS,
		.es = sel[EMU_ES], .ss = sel[EMU_SS], .ds = sel[EMU_DS], .fs = sel[EMU_FS],
		.gs = sel[EMU_GS],
	};
	r->entry.mode = EMU_MODE_PROT32;
	r->entry.rip = r->h.code;
	r->entry.seg[EMU_CS] = (struct emu_segment){
		.limit = 0xffffffff, .type = EMU_SEG_TYPE_CODE_RX, .db = true, .usable = true,
	};
	if (code16) {
		r->how.entry_offset = 0;
		r->how.entry_selector = native_ldt_segment(EMU_CS, (uint32_t)r->h.code, 0xffff, true,
							   false);
		if (!r->how.entry_selector)
			return false;
		r->entry.mode = EMU_MODE_PROT16;
		r->entry.rip = 0;
		r->entry.seg[EMU_CS] = (struct emu_segment){
			.base = r->h.code, .limit = 0xffff, .type = EMU_SEG_TYPE_CODE_RX, .usable = true,
		};
	}
	r->entry.cpl = 3;
	r->entry.cr4 = EMU_CR4_OSFXSR;	/* as Linux runs the host */
	native_write_legacy_trampoline(r->code + LEGACY_TRAMPOLINE);
	r->gpr_mask = 0xffffffffull;
	return true;
}

/* The instruction at the start of the code page, followed by the way back to the test. */
static void place_code(struct diff_run *r, const struct gen_case *c)
{
	memcpy(r->code, c->insn, c->len);
	if (r->mode == GEN_MODE_64)
		native_append_return(r->code + c->len);
	else
		native_append_legacy_return(r->code + c->len, r->mode == GEN_MODE_16,
					    (uint32_t)r->h.code + LEGACY_TRAMPOLINE);
}

static void run_native(struct diff_run *r, const struct gen_case *c, struct native_regs *cpu)
{
	memcpy(cpu->gpr, c->gpr, sizeof(cpu->gpr));
	memcpy(cpu->xmm, c->xmm, sizeof(cpu->xmm));
	cpu->rflags = c->rflags;
	native_case = c;
	native_case_legacy = r->mode != GEN_MODE_64;
	if (r->mode == GEN_MODE_64)
		native_run(cpu, r->code);
	else
		native_run_legacy(cpu, &r->how);
	native_case_legacy = false;
	native_case = NULL;
}

/* Runs the emulator until a REP instruction finishes (RIP moves); false on any other result. */
static bool run_emulator(struct diff_run *r, const struct gen_case *c, struct emu_state *s,
			 struct emu_outcome *out)
{
	unsigned calls;

	*s = r->entry;
	memcpy(s->gpr, c->gpr, sizeof(s->gpr));
	s->rflags = c->rflags;
	memcpy(r->h.xmm, c->xmm, sizeof(r->h.xmm));
	memcpy(r->h.copy, r->data, GEN_DATA_SIZE);
	for (calls = 0; calls < 16; calls++) {
		if (emulate_instruction(s, &host_ops, &r->h, out) != EMU_OK)
			return false;
		if (s->rip != r->entry.rip)
			return true;
	}
	return false;
}

/*
 * A string instruction that repeated zero times with a 32-bit address size:
 * some CPUs clear the upper halves of RCX and the index registers then
 * (Intel, which the emulator follows), others leave them.  Either is right
 * when the low half is untouched and the upper half is kept or cleared.
 */
static bool model_specific_upper_half(const struct gen_case *c, unsigned i, uint64_t emulator, uint64_t cpu)
{
	bool string = !strcmp(c->name, "movs") || !strcmp(c->name, "stos") || !strcmp(c->name, "lods") ||
		      !strcmp(c->name, "cmps") || !strcmp(c->name, "scas");
	uint64_t before = c->gpr[i];

	if (!string || (i != 1 && i != 6 && i != 7) || (uint32_t)c->gpr[1] != 0)
		return false;
	for (unsigned k = 0; k < 2; k++) {
		uint64_t v = k ? cpu : emulator;

		if (v != before && v != (uint32_t)before)
			return false;
	}
	return true;
}

static void compare_case(const struct diff_run *r, const struct gen_case *c,
			 const struct native_regs *cpu, const struct emu_state *s,
			 struct diff_stats *st)
{
	uint64_t compared = ~(EMU_RFLAGS_ARITH & ~c->defined_flags);
	bool bad = false;
	unsigned i;

	for (i = 0; i < 16; i++) {
		if (((s->gpr[i] ^ cpu->gpr[i]) & r->gpr_mask) &&
		    !model_specific_upper_half(c, i, s->gpr[i], cpu->gpr[i])) {
			if (!bad)
				print_case("mismatch", c);
			printf("    gpr %u: emulator %#lx cpu %#lx (before %#lx)\n", i,
			       (unsigned long)s->gpr[i], (unsigned long)cpu->gpr[i],
			       (unsigned long)c->gpr[i]);
			bad = true;
		}
	}
	if ((s->rflags ^ cpu->rflags) & compared) {
		if (!bad)
			print_case("mismatch", c);
		printf("    rflags: emulator %#lx cpu %#lx (before %#lx)\n", (unsigned long)s->rflags,
		       (unsigned long)cpu->rflags, (unsigned long)c->rflags);
		bad = true;
	}
	for (i = 0; i < 16; i++) {
		if (memcmp(r->h.xmm[i], cpu->xmm[i], 16)) {
			uint64_t e[2], n[2];

			memcpy(e, r->h.xmm[i], 16);
			memcpy(n, cpu->xmm[i], 16);
			if (!bad)
				print_case("mismatch", c);
			printf("    xmm%u: emulator %016lx%016lx cpu %016lx%016lx\n", i,
			       (unsigned long)e[1], (unsigned long)e[0], (unsigned long)n[1],
			       (unsigned long)n[0]);
			bad = true;
		}
	}
	if (s->rip != r->entry.rip + c->len) {
		if (!bad)
			print_case("mismatch", c);
		printf("    rip: emulator +%ld, length %u\n", (long)(s->rip - r->entry.rip), c->len);
		bad = true;
	}
	if (memcmp(r->h.copy, r->data, GEN_DATA_SIZE)) {
		unsigned shown = 0;

		if (!bad)
			print_case("mismatch", c);
		for (i = 0; i < GEN_DATA_SIZE && shown < 16; i++) {
			if (r->h.copy[i] != r->data[i]) {
				printf("    data +%#x: emulator %02x cpu %02x\n", i, r->h.copy[i],
				       r->data[i]);
				shown++;
			}
		}
		bad = true;
	}
	if (c->defined_flags != EMU_RFLAGS_ARITH) {
		st->undefined_flags_cases++;
		if ((s->rflags ^ cpu->rflags) & EMU_RFLAGS_ARITH & ~c->defined_flags)
			st->undefined_flags_differ++;
	}
	st->failures += bad;
}

/*
 * Each case runs on the CPU and in the emulator from the same registers,
 * flags and memory; the emulator's registers, RIP, defined flags and memory
 * must match the CPU's.  EMU_DIFF_CASES and EMU_DIFF_SEED change the run.
 */
static void run_differential(struct diff_run *r, const char *label)
{
	unsigned long ncases = env_or("EMU_DIFF_CASES", DIFF_DEFAULT_CASES);
	struct diff_stats st = { 0 };
	unsigned i;

	catch_native_faults();
	rng_seed(env_or("EMU_DIFF_SEED", 0xe5e5) + r->mode);
	gen_seed(rng_next());
	for (i = 0; i < GEN_DATA_SIZE; i++)
		r->data[i] = (uint8_t)rng_next();

	for (st.cases = 0; st.cases < ncases && st.failures < 10; st.cases++) {
		struct gen_case c;
		struct native_regs cpu;
		struct emu_state s;
		struct emu_outcome out;

		gen_next(&r->env, &c);
		place_code(r, &c);
		if (!run_emulator(r, &c, &s, &out)) {
			print_case("not emulated", &c);
			printf("    reason '%s' exception %u error %#x\n", out.reason,
			       out.exc.vector, out.exc.error_code);
			st.failures++;
			continue;
		}
		run_native(r, &c, &cpu);
		compare_case(r, &c, &cpu, &s, &st);
	}
	printf("  differential %s: %lu cases over %u templates, %lu failures, %lu stray accesses; "
	       "undefined flags differ from the host in %lu of %lu cases\n",
	       label, st.cases, gen_template_count(), st.failures, (unsigned long)r->h.stray,
	       st.undefined_flags_differ, st.undefined_flags_cases);
	assert_int_equal(st.failures, 0);
	assert_int_equal(r->h.stray, 0);
}

bool emulate_differential(enum gen_mode mode)
{
	static const char *const label[] = {
		[GEN_MODE_64] = "64-bit", [GEN_MODE_32] = "32-bit", [GEN_MODE_16] = "16-bit",
	};
	struct diff_run r;
	uint64_t host_gs = 0;

	diff_map(&r, mode);
	if (mode == GEN_MODE_64) {
		assert_int_equal(syscall(SYS_arch_prctl, ARCH_GET_GS, &host_gs), 0);
		diff_setup_64(&r);
	} else if (!diff_setup_legacy(&r)) {
		diff_unmap(&r);
		return false;
	}
	run_differential(&r, label[mode]);
	if (mode == GEN_MODE_64)
		assert_int_equal(syscall(SYS_arch_prctl, ARCH_SET_GS, host_gs), 0);
	diff_unmap(&r);
	return true;
}
