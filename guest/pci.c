/* pci: configuration mechanism #1 on ports 0xcf8/0xcfc: the address register, absent functions, byte and word data accesses. */
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/x86.h"

#define PCI_ADDRESS	0xcf8
#define PCI_DATA	0xcfc
#define PCI_ENABLE	0x80000000u
#define PCI_DEVICES	32

static uint32_t cfg_address(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	return PCI_ENABLE | bus << 16 | dev << 11 | fn << 8 | (reg & 0xfc);
}

static uint32_t cfg_read32(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	outl(PCI_ADDRESS, cfg_address(bus, dev, fn, reg));
	return inl(PCI_DATA);
}

/*
 * Every width and offset of the data window reads all ones for a function
 * nobody implements, and writes to it change nothing.
 */
static void check_absent(unsigned bus, unsigned dev, unsigned fn)
{
	for (unsigned reg = 0; reg < 0x40; reg += 0x14) {
		outl(PCI_ADDRESS, cfg_address(bus, dev, fn, reg));
		CHECK_EQ(inl(PCI_DATA), 0xffffffff);
		CHECK_EQ(inw(PCI_DATA), 0xffff);
		CHECK_EQ(inw(PCI_DATA + 2), 0xffff);
		for (unsigned i = 0; i < 4; i++)
			CHECK_EQ(inb(PCI_DATA + i), 0xff);
		outl(PCI_DATA, 0);
		outb(PCI_DATA + 1, 0);
		CHECK_EQ(inl(PCI_DATA), 0xffffffff);
	}
}

int guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
	static const uint32_t values[] = { 0x80000000, 0x8000f808, 0x12345678, 0x00ff00fc, 0xffffffff, 0 };

	(void)mbi;
	CHECK_EQ(magic, MULTIBOOT_LOADER_MAGIC);

	/* CONFIG_ADDRESS keeps what a dword write stored. */
	for (unsigned i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		outl(PCI_ADDRESS, values[i]);
		CHECK_EQ(inl(PCI_ADDRESS), values[i]);
		CHECK_EQ(inw(PCI_ADDRESS), values[i] & 0xffff);
		CHECK_EQ(inb(PCI_ADDRESS), values[i] & 0xff);
	}
	/* A word write to it changes nothing (only dwords reach CONFIG_ADDRESS). */
	outl(PCI_ADDRESS, 0x80001000);
	outw(PCI_ADDRESS, 0x5554);
	CHECK_EQ(inl(PCI_ADDRESS), 0x80001000);

	/* With the enable bit clear, no configuration cycle: all ones. */
	outl(PCI_ADDRESS, 0x00000000);
	CHECK_EQ(inl(PCI_DATA), 0xffffffff);
	CHECK_EQ(inb(PCI_DATA + 3), 0xff);

	/* Functions that exist on no PC: the last function of device 31, and buses 1 and 255. */
	check_absent(0, 31, 7);
	check_absent(1, 0, 0);
	check_absent(255, 17, 3);

	/* The whole of bus 0, function 0 of each device: QEMU has its chipset there, our VMM nothing. */
	unsigned found = 0;

	for (unsigned dev = 0; dev < PCI_DEVICES; dev++) {
		uint32_t id = cfg_read32(0, dev, 0, 0);

		if ((id & 0xffff) == 0xffff)
			continue;
		found++;
		printf("guest: pci 00:%02x.0 %04x:%04x\n", dev, id & 0xffff, id >> 16);
	}
	printf("guest: pci bus 0: %u devices\n", found);
	if (under_vmm()) {
		CHECK_EQ(found, 0);
		for (unsigned dev = 0; dev < PCI_DEVICES; dev++)
			for (unsigned fn = 1; fn < 8; fn++)
				CHECK_EQ(cfg_read32(0, dev, fn, 0), 0xffffffff);
	} else {
		/* QEMU's pc: the i440FX host bridge at 00:00.0 shows that the probe itself works. */
		CHECK_EQ(cfg_read32(0, 0, 0, 0), 0x12378086);
	}

	outl(PCI_ADDRESS, 0);
	return guest_pass("pci");
}
