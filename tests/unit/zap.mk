# Hosted tests of obsolete-page zapping: the O(1) invalidation at 100,000 shadow pages, the batches, reclaim, memslot removal, zap=slow.
UNIT_TESTS += zap
UNIT_SRCS_zap := tests/unit/mmu_sim.c $(wildcard mmu/*.c)
