/* libFuzzer target: the input bytes choose a configuration and an operation sequence for the shadow MMU's differential engine. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/mmu_diff_engine.h"

#define HEADER_BYTES	8
#define MAX_OPS		512

static const unsigned maxphyaddrs[] = { 36, 40, 46 };

/*
 * Bytes 0-3 pick the configuration, 4-7 seed the initial tables (building
 * them from input bytes would spend the input before the first operation),
 * the rest drive the operations.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diff_config cfg;
	struct diff_engine *e;
	struct diff_src build, gen;
	uint32_t seed;
	unsigned n;
	bool ok;

	if (size < HEADER_BYTES)
		return 0;
	memset(&cfg, 0, sizeof(cfg));
	cfg.mode = data[0] & 3;
	cfg.mode_switches = data[0] & 4;
	cfg.nr_vcpus = 1 + ((data[0] >> 3) & 1);
	cfg.gbpages = data[0] & 0x10;
	cfg.maxphyaddr = maxphyaddrs[data[1] % 3];
	cfg.max_shadow_pages = (data[2] & 1) ? 64 : 512;
	cfg.alloc_fail_permille = (data[2] & 6) == 6 ? 150 : 0;
	cfg.tables_per_space = 4 + (data[3] & 15);
	cfg.zap_slow = data[3] & 0x10;
	memcpy(&seed, data + 4, sizeof(seed));

	e = malloc(sizeof(*e));
	diff_src_seed(&build, seed);
	diff_src_bytes(&gen, data + HEADER_BYTES, size - HEADER_BYTES);
	ok = diff_init(e, &cfg, &build);
	for (n = 0; ok && n < MAX_OPS; n++) {
		struct diff_op op;

		diff_gen_op(e, &gen, &op);
		if (gen.exhausted)
			break;
		ok = diff_apply(e, &op);
	}
	if (ok)
		ok = diff_drain(e) && diff_check_memory(e);
	if (!ok)
		diff_print_failure(e);
	ok = diff_destroy(e) && ok;
	if (!ok) {
		printf("fuzz_mmu: %s", e->failure);
		fflush(stdout);
		abort();
	}
	free(e);
	return 0;
}
