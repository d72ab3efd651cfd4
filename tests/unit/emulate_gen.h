/* Random instructions with a memory operand in 64-, 32- and 16-bit modes, for the emulator's differential test. */
#ifndef TESTS_UNIT_EMULATE_GEN_H
#define TESTS_UNIT_EMULATE_GEN_H

#include <stdint.h>

#define GEN_DATA_SIZE 0x4000u

/* The code segment's default operand and address size. */
enum gen_mode { GEN_MODE_64, GEN_MODE_32, GEN_MODE_16 };

/*
 * Where the generated instruction runs and what its memory operands may
 * reach.  seg_base is indexed ES CS SS DS FS GS.  In 64-bit mode only the FS
 * and GS bases count; GS's must lie below 2 GiB (32-bit addresses reach data
 * through it).  In the 16- and 32-bit modes every base but CS's must lie at
 * most 48 KiB below data, so that 16-bit offsets reach all of it.
 */
struct gen_env {
	enum gen_mode mode;
	uint64_t code;		/* linear address of the instruction (RIP-relative operands use it) */
	uint8_t *data;		/* GEN_DATA_SIZE bytes below 2 GiB: every memory operand lies inside */
	uint64_t seg_base[6];
};

struct gen_case {
	const char *name;	/* the mnemonic */
	uint8_t insn[15];
	unsigned len;
	uint64_t gpr[16];	/* ModRM order */
	uint64_t rflags;
	uint64_t defined_flags;	/* the arithmetic flags whose value the SDM defines afterwards */
	uint8_t xmm[16][16];	/* XMM0-15 before the instruction */
};

/* Restarts the generator's random sequence (test_rng.h's state is private to each file). */
void gen_seed(uint64_t seed);

/* The number of instruction templates gen_next() picks from (some exist in one mode only). */
unsigned gen_template_count(void);

/*
 * A new random case: template, prefixes (66 67 F0, F2/F3 on strings, the
 * mandatory prefix of SSE moves,
 * segment overrides, in 64-bit mode REX and now and then a REX that a later
 * prefix cancels), addressing form, registers, flags and immediates.  Fills
 * the bytes of env->data around each operand with fresh random values.
 */
void gen_next(const struct gen_env *env, struct gen_case *c);

#endif
