# Benchmarks, not part of `make test`: `make bench` builds (-O2, no sanitizers) and runs them all.
#
# A benchmark tests/bench/bench_<x>.c adds itself in its own fragment with
#   $(BUILD)/bench/bench_<x>: <the sources it links>
#   bench-<x>: $(BUILD)/bench/bench_<x>
#   	$<
#   bench: bench-<x>
#   .PHONY: bench-<x>

BENCH_CFLAGS := -std=gnu11 -O2 -Wall -Wextra -Werror -I.

# Rules here must not become the default goal, which the rest of the Makefile chooses.
bench_saved_default_goal := $(.DEFAULT_GOAL)

.PHONY: bench
bench:

$(BUILD)/bench/bench_%: tests/bench/bench_%.c $(BUILD)/flags.BENCH_CFLAGS
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(BENCH_CFLAGS) -o $@ $(filter %.c,$^)

# The reverse-map benchmark: rmap_drop_all() against removing sptes one at a time.
$(BUILD)/bench/bench_rmap: mmu/rmap.c mmu/obj_cache.c mmu/rmap.h mmu/obj_cache.h mmu/mmu_hooks.h
bench-rmap: $(BUILD)/bench/bench_rmap
	$<
bench: bench-rmap
.PHONY: bench-rmap

# Invalidating every MMIO spte: a memslot-generation bump against a walk over all shadow pages (1k, 100k, 1M sptes).
$(BUILD)/bench/bench_mmio: $(wildcard mmu/*.c) $(wildcard mmu/*.h)
bench-mmio: $(BUILD)/bench/bench_mmio
	$<
bench: bench-mmio
.PHONY: bench-mmio

# Page faults handled per second under Bochs, mmu=ept against mmu=shadow (guest/pfbench.c).
bench-pf: $(BUILD)/guest/pfbench.elf
	@$(MAKE) --no-print-directory vmm
	BUILD=$(BUILD) scripts/bench-pf.sh
bench: bench-pf
.PHONY: bench-pf

# Guest ticks per MMIO round trip under Bochs: mmu=ept and shadow, mmio_caching=1 and 0 (guest/mmiobench.c).
bench-mmio-guest: $(BUILD)/guest/mmiobench.elf
	@$(MAKE) --no-print-directory vmm
	BUILD=$(BUILD) scripts/bench-mmio.sh
bench: bench-mmio-guest
.PHONY: bench-mmio-guest

.DEFAULT_GOAL := $(bench_saved_default_goal)
