# `make fuzz [FUZZ_TARGETS='mmu emulate'] [FUZZ_TIME=60]`: libFuzzer targets (clang, ASan, UBSan), each for FUZZ_TIME seconds.
# mmu: the shadow MMU's differential engine; emulate: the instruction emulator on random instruction bytes and state.
FUZZ_TIME ?= 60
FUZZ_TARGETS ?= mmu emulate
FUZZ_CC ?= clang
FUZZ_CFLAGS := -std=gnu11 -g -O1 -I. -Wall -Wextra -Werror -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SRCS_mmu := tests/fuzz/fuzz_mmu.c tests/unit/mmu_diff_engine.c tests/unit/mmu_sim.c tests/unit/ref_walk.c \
	$(wildcard mmu/*.c)
FUZZ_SRCS_emulate := tests/fuzz/fuzz_emulate.c vmm/emulate.c vmm/emulate_decode.c vmm/emulate_exec.c \
	vmm/emulate_alu.c
# -max_len: the mmu input is an operation stream; the emulate input is INPUT_BYTES of state (fuzz_emulate.c).
FUZZ_MAX_LEN_mmu := 1024
FUZZ_MAX_LEN_emulate := 316
# Spelled out here: the Makefile's HEADERS is defined after this file is included.
FUZZ_HEADERS := $(wildcard vmm/*.h mmu/*.h tests/unit/*.h)

# One run per target, one after the other, each with its own corpus.
define fuzz_run
	@mkdir -p $(BUILD)/fuzz/corpus-$(1)
	$(BUILD)/fuzz/fuzz_$(1) -max_total_time=$(FUZZ_TIME) -max_len=$(FUZZ_MAX_LEN_$(1)) -len_control=0 \
		-print_final_stats=1 $(BUILD)/fuzz/corpus-$(1)

endef

.PHONY: fuzz
fuzz: deps
	@$(MAKE) --no-print-directory $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)
	$(foreach t,$(FUZZ_TARGETS),$(call fuzz_run,$(t)))

define fuzz_link
	@command -v $(FUZZ_CC) >/dev/null || { echo "make fuzz: $(FUZZ_CC) not found; scripts/deps.sh installs clang"; exit 1; }
	@mkdir -p $(@D)
	@echo "  FUZZCC  $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^)
endef

$(BUILD)/fuzz/fuzz_mmu: $(FUZZ_SRCS_mmu) $(FUZZ_HEADERS) $(BUILD)/flags.FUZZ_CFLAGS
	$(fuzz_link)

$(BUILD)/fuzz/fuzz_emulate: $(FUZZ_SRCS_emulate) $(FUZZ_HEADERS) $(BUILD)/flags.FUZZ_CFLAGS
	$(fuzz_link)
