# The shadow MMU's differential tests: the reference walker's own SDM cases, and the MMU against it on a simulated host.
UNIT_TESTS += ref_walk mmu_diff
UNIT_SRCS_ref_walk := tests/unit/ref_walk.c
UNIT_SRCS_mmu_diff := tests/unit/mmu_diff_engine.c tests/unit/mmu_sim.c tests/unit/ref_walk.c $(wildcard mmu/*.c)
