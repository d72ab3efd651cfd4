/* fwcfg: QEMU's fw_cfg on ports 0x510/0x511: signature, ID, RAM size against the memory map, CPU count, unknown keys. */
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/x86.h"

#define FW_CFG_SEL	0x510
#define FW_CFG_DATA	0x511

#define KEY_SIGNATURE	0x00
#define KEY_ID		0x01
#define KEY_UUID	0x02
#define KEY_RAM_SIZE	0x03
#define KEY_NB_CPUS	0x05
#define KEY_MAX_CPUS	0x0f
#define KEY_WRITE_CHANNEL 0x4000
/* Beyond every item table QEMU keeps (FW_CFG_FILE_FIRST + file slots < 0x100): invalid, reads zeros. */
#define KEY_UNKNOWN	0x3ffe

#define MMAP_AVAILABLE	1
#define MIB		(1024ull * 1024)

static void select_key(uint16_t key)
{
	outw(FW_CFG_SEL, key);
}

/* The next n bytes of the selected item, little-endian, one byte read each as the spec says. */
static uint64_t read_le(unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)inb(FW_CFG_DATA) << (8 * i);
	return v;
}

static uint64_t item(uint16_t key, unsigned n)
{
	select_key(key);
	return read_le(n);
}

/* The end of the highest available region of the multiboot memory map (0 without a map). */
static uint64_t ram_end(const struct multiboot_info *mbi)
{
	uint64_t end = 0;

	if (!(mbi->flags & MBI_FLAG_MMAP))
		return 0;
	for (uint32_t off = 0; off + 4 <= mbi->mmap_length;) {
		const struct multiboot_mmap_entry *e = (const void *)(uintptr_t)(mbi->mmap_addr + off);

		if (e->type == MMAP_AVAILABLE && e->base + e->length > end)
			end = e->base + e->length;
		off += e->size + 4;
	}
	return end;
}

int guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
	char sig[5] = { 0 };

	CHECK_EQ(magic, MULTIBOOT_LOADER_MAGIC);

	/* Signature, and zeros past the end of the item. */
	select_key(KEY_SIGNATURE);
	for (int i = 0; i < 4; i++)
		sig[i] = (char)inb(FW_CFG_DATA);
	CHECK(sig[0] == 'Q' && sig[1] == 'E' && sig[2] == 'M' && sig[3] == 'U');
	for (int i = 0; i < 8; i++)
		CHECK_EQ(inb(FW_CFG_DATA), 0);
	printf("guest: fw_cfg signature '%s'\n", sig);

	/*
	 * Selecting rewinds; both ports read data; a 16-bit write to the data
	 * port selects nothing (QEMU splits it at the end of its 2-port region).
	 */
	CHECK_EQ(item(KEY_SIGNATURE, 2), 0x4551);
	select_key(KEY_SIGNATURE);
	CHECK_EQ(inb(FW_CFG_SEL), 'Q');
	CHECK_EQ(inb(FW_CFG_DATA), 'E');
	outw(FW_CFG_DATA, KEY_SIGNATURE);
	CHECK_EQ(read_le(2), 0x554d);
	CHECK_EQ(read_le(1), 0);
	/* The write-channel bit does not change the item read. */
	CHECK_EQ(item(KEY_WRITE_CHANNEL | KEY_SIGNATURE, 4), 0x554d4551);

	/* ID: the traditional interface is always there; DMA (bit 1) only on QEMU. */
	uint32_t id = (uint32_t)item(KEY_ID, 4);

	CHECK(id & 1);
	if (under_vmm())
		CHECK_EQ(id, 1);

	/* RAM size: 64-bit, and where the memory map says RAM ends (QEMU keeps up to 128 KiB for ACPI). */
	uint64_t ram = item(KEY_RAM_SIZE, 8), end = ram_end(mbi);

	printf("guest: fw_cfg id 0x%x ram_size 0x%llx, memory map ends at 0x%llx\n", id,
	       (unsigned long long)ram, (unsigned long long)end);
	CHECK(ram >= 16 * MIB);
	CHECK_EQ64(ram % MIB, 0);
	CHECK(end != 0);
	CHECK(end <= ram);
	CHECK(ram - end < 2 * MIB);
	CHECK_EQ(read_le(8), 0);

	/* One CPU. */
	CHECK_EQ(item(KEY_NB_CPUS, 2), 1);
	CHECK_EQ(read_le(2), 0);
	CHECK_EQ(item(KEY_MAX_CPUS, 2), 1);

	/* No -uuid: zeros.  An unknown key: zeros too. */
	CHECK_EQ64(item(KEY_UUID, 8), 0);
	CHECK_EQ64(read_le(8), 0);
	CHECK_EQ64(item(KEY_UNKNOWN, 8), 0);

	/* Leave the signature selected, as after reset. */
	select_key(KEY_SIGNATURE);
	return guest_pass("fwcfg");
}
