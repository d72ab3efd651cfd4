# Hosted unit tests of the port I/O bus and the emulated devices.
UNIT_TESTS += devices
UNIT_SRCS_devices := devices/io_bus.c devices/uart16550.c devices/debug_exit.c \
	devices/post_port.c devices/pic.c
