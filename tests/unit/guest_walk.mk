# Hosted unit tests of the guest page walker; the test supplies mmu_host_guest_ptr over its own guest RAM.
UNIT_TESTS += guest_walk
UNIT_SRCS_guest_walk := mmu/guest_walk.c
