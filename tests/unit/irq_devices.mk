# Hosted unit tests of the interrupt devices: the 8259 pair's IRQ path, the 8254 PIT and port 0x61, the local APIC, the I/O APIC.
UNIT_TESTS += irq_devices
UNIT_SRCS_irq_devices := devices/io_bus.c devices/pic.c devices/pit.c devices/lapic.c devices/ioapic.c devices/mmio_bus.c
