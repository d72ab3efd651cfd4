# Unit tests of the portable VMM modules; the Makefile supplies the rules.
UNIT_TESTS += format memmap page_alloc

UNIT_SRCS_format := vmm/format.c
UNIT_SRCS_memmap := vmm/memmap.c
UNIT_SRCS_page_alloc := vmm/page_alloc.c
