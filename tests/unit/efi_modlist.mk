# Hosted unit tests of the MODULES.TXT parser of the UEFI path (boot/efi_modlist.c).
# The headers are listed for the rebuild only: the rule compiles just the .c files.
UNIT_TESTS += efi_modlist
UNIT_SRCS_efi_modlist := boot/efi_modlist.c boot/efi_modlist.h vmm/boot.h
