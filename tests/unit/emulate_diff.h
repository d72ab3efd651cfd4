/* The emulator's differential test: random instructions on the host CPU and in the emulator, results compared. */
#ifndef TESTS_UNIT_EMULATE_DIFF_H
#define TESTS_UNIT_EMULATE_DIFF_H

#include <stdbool.h>

#include "tests/unit/emulate_gen.h"

/*
 * Runs EMU_DIFF_CASES (default 300000) random cases in one mode, seeded by
 * EMU_DIFF_SEED, failing the calling cmocka test on any difference in
 * registers, defined flags, RIP or memory.  False, having run nothing, when
 * the host cannot run code in that mode (no FSGSBASE or no modify_ldt).
 */
bool emulate_differential(enum gen_mode mode);

#endif
