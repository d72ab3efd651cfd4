# Hosted unit tests of the port I/O and MMIO buses and the emulated devices.
UNIT_TESTS += devices
UNIT_SRCS_devices := devices/io_bus.c devices/uart16550.c devices/debug_exit.c \
	devices/post_port.c devices/pic.c devices/mmio_bus.c devices/mmio_testdev.c
