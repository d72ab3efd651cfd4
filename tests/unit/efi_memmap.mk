# Hosted unit tests of the UEFI memory-map translation (boot/efi_memmap.c) and its use by vmm/memmap.c.
# The headers are listed for the rebuild only: the rule compiles just the .c files.
UNIT_TESTS += efi_memmap
UNIT_SRCS_efi_memmap := boot/efi_memmap.c vmm/memmap.c boot/efi_memmap.h boot/efi.h
