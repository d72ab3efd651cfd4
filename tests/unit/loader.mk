# Hosted unit tests of the guest kernel loader: the multiboot ELF loader and the multiboot information.
# vmm/string.c stays out: under ASan libc's mem*/str* must be the ones linked.
UNIT_TESTS += elf_load multiboot_info
UNIT_SRCS_elf_load := vmm/elf_load.c vmm/format.c
UNIT_SRCS_multiboot_info := vmm/multiboot_info.c vmm/format.c
