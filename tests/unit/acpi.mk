# Hosted unit tests of the ACPI tables (vmm/acpi.c) and the ACPI PM timer (devices/pm_timer.c).
# vmm/string.c stays out: under ASan libc's mem*/str* must be the ones linked.
UNIT_TESTS += acpi
UNIT_SRCS_acpi := vmm/acpi.c devices/pm_timer.c devices/io_bus.c vmm/multiboot_info.c vmm/format.c
