/* PCI configuration mechanism #1 on ports 0xcf8 (address) and 0xcfc-0xcff (data), in front of an empty bus. */
#ifndef DEVICES_PCI_HOST_H
#define DEVICES_PCI_HOST_H

#include <stdint.h>

#include "devices/io_bus.h"

/*
 * As QEMU's hw/pci/pci_host.c:
 *  - CONFIG_ADDRESS (0xcf8-0xcfb): only a dword write at 0xcf8 stores it,
 *    all 32 bits as written (reserved bits and bits 1:0 included); a read of
 *    any size at any of the four ports returns the register from bit 0,
 *    cut to the access size (QEMU ignores the offset: inb(0xcfa) is the low
 *    byte).  Narrower writes are ignored.  (QEMU's PIIX3 also decodes a
 *    reset-control byte at 0xcf9 on top; we do not.)
 *  - CONFIG_DATA (0xcfc-0xcff): with bit 31 (enable) clear, reads give all
 *    ones and writes are dropped; with it set the access goes to function
 *    (bus 23:16, device 15:11, function 10:8), register (bits 7:2) plus the
 *    port's offset.  The bus is empty, so every read gives all ones of the
 *    access size, as for an absent function on real hardware, and every
 *    write is dropped.
 */
#define PCI_HOST_ADDRESS_PORT	0xcf8
#define PCI_HOST_DATA_PORT	0xcfc
#define PCI_HOST_PORTS		4
#define PCI_CONFIG_ENABLE	0x80000000u

struct pci_host {
	struct io_device address_dev;
	struct io_device data_dev;
	uint32_t config_address;
	/* Data-port accesses with the enable bit set: the configuration cycles a guest made. */
	uint64_t config_reads, config_writes;
};

/* Resets the host bridge: CONFIG_ADDRESS 0. */
void pci_host_init(struct pci_host *h);

/* The two devices to register on the bus (address, then data); they live inside h. */
const struct io_device *pci_host_address_device(struct pci_host *h);
const struct io_device *pci_host_data_device(struct pci_host *h);

#endif
