/* QEMU's fw_cfg on I/O ports 0x510-0x511: the selector and the byte-wide data port of the traditional interface. */
#ifndef DEVICES_FW_CFG_H
#define DEVICES_FW_CFG_H

#include <stdint.h>

#include "devices/io_bus.h"

/*
 * The guest ABI (QEMU docs/specs/fw_cfg.rst, hw/nvram/fw_cfg.c, x86 "comb"
 * region at 0x510 of 2 ports):
 *  - a 16-bit write to 0x510 selects an item and rewinds its data
 *    offset to 0; bit 14 (write channel) is ignored in the lookup, bit 15
 *    (arch-local items) is kept, so 0x4000 selects the signature and 0x8000
 *    up select items we do not have;
 *  - a byte read of 0x510 or 0x511 returns the next byte of the selected
 *    item and advances; past the item's end, and for items we lack, it reads
 *    0 (QEMU pads with zeros);
 *  - a 16-bit write to 0x511 selects nothing: it runs past QEMU's region,
 *    which splits it into byte writes (QEMU 7.2 TCG shows it);
 *  - anything else is an access QEMU refuses (fw_cfg_comb_valid: reads of 1
 *    byte, writes of 1 or 2): wider reads read 0 and move nothing, byte and
 *    dword writes are ignored (data writes are no-ops since QEMU 2.4).
 * After reset the signature item is selected, as fw_cfg_reset() does.
 * No DMA interface: FW_CFG_ID reads 1 (traditional interface only), and
 * ports 0x514-0x51b stay unclaimed.
 */
#define FW_CFG_PORT_SEL		0x510
#define FW_CFG_PORT_DATA	0x511
#define FW_CFG_PORTS		2

#define FW_CFG_SIGNATURE	0x00	/* "QEMU" */
#define FW_CFG_ID		0x01	/* 32-bit feature bits: 1 = traditional interface */
#define FW_CFG_UUID		0x02	/* 16 bytes, zero as with QEMU without -uuid */
#define FW_CFG_RAM_SIZE		0x03	/* 64-bit little-endian bytes of RAM */
#define FW_CFG_NB_CPUS		0x05	/* 16-bit */
#define FW_CFG_MAX_CPUS		0x0f	/* 16-bit */

#define FW_CFG_WRITE_CHANNEL	0x4000
#define FW_CFG_ID_TRADITIONAL	1u

struct fw_cfg {
	struct io_device dev;
	uint16_t key;		/* as selected, minus FW_CFG_WRITE_CHANNEL */
	uint32_t offset;	/* next byte of the item; never past its length */
	uint64_t ram_size;
	uint16_t nb_cpus;
	uint64_t selects, data_reads;	/* guest accesses, for tests and stats */
};

/* Resets the device (signature selected) for a VM with ram_size bytes of RAM and nb_cpus CPUs. */
void fw_cfg_init(struct fw_cfg *f, uint64_t ram_size, uint16_t nb_cpus);

/* The device to register on the bus; it lives inside f. */
const struct io_device *fw_cfg_device(struct fw_cfg *f);

#endif
