# Hosted unit tests of the MMU's object caches and reverse maps (the test supplies the host page hooks).
UNIT_TESTS += rmap
UNIT_SRCS_rmap := mmu/rmap.c mmu/obj_cache.c
