/* PCI configuration mechanism #1: CONFIG_ADDRESS as QEMU keeps it, CONFIG_DATA on a bus with no functions. */
#include "devices/pci_host.h"

static uint32_t address_read(void *opaque, uint16_t port, unsigned size)
{
	struct pci_host *h = opaque;

	(void)port;
	(void)size;
	/* The bus cuts the value to the access size. */
	return h->config_address;
}

static void address_write(void *opaque, uint16_t port, unsigned size, uint32_t value)
{
	struct pci_host *h = opaque;

	/* Real chipsets, like QEMU, latch CONFIG_ADDRESS only on dword writes to 0xcf8. */
	if (port == PCI_HOST_ADDRESS_PORT && size == 4)
		h->config_address = value;
}

static uint32_t data_read(void *opaque, uint16_t port, unsigned size)
{
	struct pci_host *h = opaque;

	(void)port;
	(void)size;
	if (h->config_address & PCI_CONFIG_ENABLE)
		h->config_reads++;
	/* Enabled or not, nobody answers: the master-abort value. */
	return 0xffffffffu;
}

static void data_write(void *opaque, uint16_t port, unsigned size, uint32_t value)
{
	struct pci_host *h = opaque;

	(void)port;
	(void)size;
	(void)value;
	if (h->config_address & PCI_CONFIG_ENABLE)
		h->config_writes++;
}

void pci_host_init(struct pci_host *h)
{
	h->address_dev.name = "pci-config-address";
	h->address_dev.base = PCI_HOST_ADDRESS_PORT;
	h->address_dev.count = PCI_HOST_PORTS;
	h->address_dev.opaque = h;
	h->address_dev.read = address_read;
	h->address_dev.write = address_write;
	h->data_dev.name = "pci-config-data";
	h->data_dev.base = PCI_HOST_DATA_PORT;
	h->data_dev.count = PCI_HOST_PORTS;
	h->data_dev.opaque = h;
	h->data_dev.read = data_read;
	h->data_dev.write = data_write;
	h->config_address = 0;
	h->config_reads = 0;
	h->config_writes = 0;
}

const struct io_device *pci_host_address_device(struct pci_host *h)
{
	return &h->address_dev;
}

const struct io_device *pci_host_data_device(struct pci_host *h)
{
	return &h->data_dev;
}
