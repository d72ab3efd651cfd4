# Hosted unit tests of the QEMU pc platform devices: fw_cfg, the PCI host bridge, pc-testdev.
UNIT_TESTS += platform_devices
UNIT_SRCS_platform_devices := devices/io_bus.c devices/mmio_bus.c devices/fw_cfg.c \
	devices/pci_host.c devices/pc_testdev.c devices/pic.c
