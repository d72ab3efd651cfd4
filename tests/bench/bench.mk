# Benchmarks, not part of `make test`: `make bench` builds them all (hosted ones -O2, no sanitizers),
# runs them through scripts/bench-table.sh and prints one table (also $(BUILD)/bench.json).
#
# A hosted benchmark tests/bench/bench_<x>.c is run by the table script as soon as it exists;
# it adds itself here with
#   $(BUILD)/bench/bench_<x>: <the sources it links>
#   bench-<x>: $(BUILD)/bench/bench_<x>
#   	$<
#   .PHONY: bench-<x>
# and prints "bench: " lines that scripts/bench-table.sh turns into rows.

BENCH_CFLAGS := -std=gnu11 -O2 -Wall -Wextra -Werror -I.

# Rules here must not become the default goal, which the rest of the Makefile chooses.
bench_saved_default_goal := $(.DEFAULT_GOAL)

BENCH_BINS := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(wildcard tests/bench/bench_*.c))
BENCH_GUESTS := $(BUILD)/guest/pfbench.elf $(BUILD)/guest/mmiobench.elf $(BUILD)/guest/zapwork.elf

# Every benchmark, fast way against slow way, as one table: about five minutes, mostly Bochs.
.PHONY: bench bench-hosted
bench: $(BENCH_BINS) $(BENCH_GUESTS)
	@$(MAKE) --no-print-directory vmm
	BUILD=$(BUILD) scripts/bench-table.sh

# The hosted rows only (seconds).
bench-hosted: $(BENCH_BINS)
	BUILD=$(BUILD) scripts/bench-table.sh --hosted

$(BUILD)/bench/bench_%: tests/bench/bench_%.c $(BUILD)/flags.BENCH_CFLAGS
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(BENCH_CFLAGS) -o $@ $(filter %.c,$^)

# The reverse-map benchmark: rmap_drop_all() against removing sptes one at a time.
$(BUILD)/bench/bench_rmap: mmu/rmap.c mmu/obj_cache.c mmu/rmap.h mmu/obj_cache.h mmu/mmu_hooks.h
bench-rmap: $(BUILD)/bench/bench_rmap
	$<
.PHONY: bench-rmap

# Invalidating every MMIO spte: a memslot-generation bump against a walk over all shadow pages.
$(BUILD)/bench/bench_mmio: $(wildcard mmu/*.c) $(wildcard mmu/*.h)
bench-mmio: $(BUILD)/bench/bench_mmio
	$<
.PHONY: bench-mmio

# Invalidating every shadow page: mmu_invalidate_all() and its batches against mmu_zap_all() (tests/bench/bench_zap.c).
$(BUILD)/bench/bench_zap: $(wildcard mmu/*.c) $(wildcard mmu/*.h)
bench-zap: $(BUILD)/bench/bench_zap
	$<
.PHONY: bench-zap

# Page faults handled per second under Bochs, mmu=ept against mmu=shadow (guest/pfbench.c).
bench-pf: $(BUILD)/guest/pfbench.elf
	@$(MAKE) --no-print-directory vmm
	BUILD=$(BUILD) scripts/bench-pf.sh
.PHONY: bench-pf

# Guest ticks per MMIO round trip under Bochs: mmu=ept and shadow, mmio_caching=1 and 0 (guest/mmiobench.c).
bench-mmio-guest: $(BUILD)/guest/mmiobench.elf
	@$(MAKE) --no-print-directory vmm
	BUILD=$(BUILD) scripts/bench-mmio.sh
.PHONY: bench-mmio-guest

# The guest-visible pause of a zap-all over ~10,000 shadow pages under Bochs, zap=fast against zap=slow (guest/zapwork.c).
bench-zap-guest: $(BUILD)/guest/zapwork.elf
	@$(MAKE) --no-print-directory vmm
	BUILD=$(BUILD) scripts/bench-zap.sh
.PHONY: bench-zap-guest

.DEFAULT_GOAL := $(bench_saved_default_goal)
