# Hosted tests of MMIO sptes: the encoding and generation rules of mmu/spte.h, and invalidation and the wrap on a real MMU over the simulated host.
UNIT_TESTS += mmio_spte
UNIT_SRCS_mmio_spte := tests/unit/mmu_sim.c $(wildcard mmu/*.c)
