# `make fuzz [FUZZ_TIME=60]`: libFuzzer on the shadow MMU's differential engine (clang, ASan, UBSan).
FUZZ_TIME ?= 60
FUZZ_CC ?= clang
FUZZ_CFLAGS := -std=gnu11 -g -O1 -I. -Wall -Wextra -Werror -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_MMU_SRCS := tests/fuzz/fuzz_mmu.c tests/unit/mmu_diff_engine.c tests/unit/mmu_sim.c tests/unit/ref_walk.c \
	$(wildcard mmu/*.c)

.PHONY: fuzz
fuzz: deps
	@$(MAKE) --no-print-directory $(BUILD)/fuzz/fuzz_mmu
	@mkdir -p $(BUILD)/fuzz/corpus
	$(BUILD)/fuzz/fuzz_mmu -max_total_time=$(FUZZ_TIME) -max_len=1024 -len_control=0 -print_final_stats=1 $(BUILD)/fuzz/corpus

$(BUILD)/fuzz/fuzz_mmu: $(FUZZ_MMU_SRCS) $(HEADERS)
	@command -v $(FUZZ_CC) >/dev/null || { echo "make fuzz: $(FUZZ_CC) not found; scripts/deps.sh installs clang"; exit 1; }
	@mkdir -p $(@D)
	@echo "  FUZZCC  $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(FUZZ_MMU_SRCS)
