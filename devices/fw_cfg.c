/* QEMU's fw_cfg, traditional I/O interface: a few read-only items behind a selector and a byte-wide data port. */
#include "devices/fw_cfg.h"

/* The longest item we serve (the UUID). */
#define ITEM_MAX 16

static void put_le(uint8_t *buf, uint64_t v, unsigned bytes)
{
	unsigned i;

	for (i = 0; i < bytes; i++)
		buf[i] = (uint8_t)(v >> (8 * i));
}

/*
 * Fills buf with item key's bytes and returns its length; 0 for an item we
 * do not have, which then reads as zeros like QEMU's empty or invalid ones.
 * Built on each read: the items are tiny and this keeps no copy to go stale.
 */
static unsigned item(const struct fw_cfg *f, uint16_t key, uint8_t buf[ITEM_MAX])
{
	unsigned i;

	switch (key) {
	case FW_CFG_SIGNATURE:
		buf[0] = 'Q';
		buf[1] = 'E';
		buf[2] = 'M';
		buf[3] = 'U';
		return 4;
	case FW_CFG_ID:
		put_le(buf, FW_CFG_ID_TRADITIONAL, 4);
		return 4;
	case FW_CFG_UUID:
		for (i = 0; i < 16; i++)
			buf[i] = 0;
		return 16;
	case FW_CFG_RAM_SIZE:
		put_le(buf, f->ram_size, 8);
		return 8;
	case FW_CFG_NB_CPUS:
	case FW_CFG_MAX_CPUS:
		put_le(buf, f->nb_cpus, 2);
		return 2;
	default:
		return 0;
	}
}

static uint8_t data_read(struct fw_cfg *f)
{
	uint8_t buf[ITEM_MAX];
	unsigned len = item(f, f->key, buf);

	f->data_reads++;
	if (f->offset >= len)
		return 0;
	return buf[f->offset++];
}

/* Both ports behave alike: QEMU maps one 2-port region whose handlers ignore the offset. */
static uint32_t fw_cfg_read(void *opaque, uint16_t port, unsigned size)
{
	(void)port;
	if (size != 1)
		return 0;
	return data_read(opaque);
}

static void fw_cfg_write(void *opaque, uint16_t port, unsigned size, uint32_t value)
{
	struct fw_cfg *f = opaque;

	/*
	 * A word at 0x511 runs past QEMU's 2-port region, which splits it into
	 * byte writes: no select.  Byte writes (data) and dwords are refused.
	 */
	if (size != 2 || port != FW_CFG_PORT_SEL)
		return;
	f->key = (uint16_t)value & (uint16_t)~FW_CFG_WRITE_CHANNEL;
	f->offset = 0;
	f->selects++;
}

void fw_cfg_init(struct fw_cfg *f, uint64_t ram_size, uint16_t nb_cpus)
{
	f->dev.name = "fw_cfg";
	f->dev.base = FW_CFG_PORT_SEL;
	f->dev.count = FW_CFG_PORTS;
	f->dev.opaque = f;
	f->dev.read = fw_cfg_read;
	f->dev.write = fw_cfg_write;
	f->key = FW_CFG_SIGNATURE;
	f->offset = 0;
	f->ram_size = ram_size;
	f->nb_cpus = nb_cpus;
	f->selects = 0;
	f->data_reads = 0;
}

const struct io_device *fw_cfg_device(struct fw_cfg *f)
{
	return &f->dev;
}
