/* Unit tests of fw_cfg, the PCI host bridge and pc-testdev, driven through the I/O and MMIO buses as the VMM does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/fw_cfg.h"
#include "devices/io_bus.h"
#include "devices/mmio_bus.h"
#include "devices/pc_testdev.h"
#include "devices/pci_host.h"
#include "devices/pic.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define RAM_128M 0x8000000ull

/* ---- fw_cfg ---- */

static struct io_bus fw_bus;
static struct fw_cfg fw;

static void fw_setup(uint64_t ram, uint16_t cpus)
{
	io_bus_init(&fw_bus);
	fw_cfg_init(&fw, ram, cpus);
	assert_int_equal(io_bus_register(&fw_bus, fw_cfg_device(&fw)), 0);
}

static void fw_select(uint16_t key)
{
	io_bus_write(&fw_bus, FW_CFG_PORT_SEL, 2, key);
}

/* n bytes of the selected item, little-endian, as guests read it: byte reads of 0x511. */
static uint64_t fw_read_le(unsigned n)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)io_bus_read(&fw_bus, FW_CFG_PORT_DATA, 1) << (8 * i);
	return v;
}

static void test_fw_cfg_signature_and_reset_selection(void **state)
{
	char sig[5] = { 0 };
	unsigned i;

	(void)state;
	fw_setup(RAM_128M, 1);
	/* Reset selects the signature, as QEMU's fw_cfg_reset(). */
	for (i = 0; i < 4; i++)
		sig[i] = (char)io_bus_read(&fw_bus, FW_CFG_PORT_DATA, 1);
	assert_string_equal(sig, "QEMU");
	/* Past the end: zeros, for as long as the guest reads. */
	for (i = 0; i < 10; i++)
		assert_int_equal(io_bus_read(&fw_bus, FW_CFG_PORT_DATA, 1), 0);
	/* Selecting again rewinds. */
	fw_select(FW_CFG_SIGNATURE);
	assert_int_equal(fw_read_le(4), 0x554d4551);	/* "QEMU" */
	assert_int_equal(fw.selects, 1);
}

static void test_fw_cfg_items(void **state)
{
	(void)state;
	fw_setup(0x12345678abcull, 1);
	fw_select(FW_CFG_ID);
	assert_int_equal(fw_read_le(4), FW_CFG_ID_TRADITIONAL);
	assert_int_equal(fw_read_le(4), 0);
	fw_select(FW_CFG_RAM_SIZE);
	assert_int_equal(fw_read_le(8), 0x12345678abcull);
	assert_int_equal(fw_read_le(1), 0);
	fw_select(FW_CFG_NB_CPUS);
	assert_int_equal(fw_read_le(2), 1);
	assert_int_equal(fw_read_le(2), 0);
	fw_select(FW_CFG_MAX_CPUS);
	assert_int_equal(fw_read_le(2), 1);
	fw_select(FW_CFG_UUID);
	assert_int_equal(fw_read_le(8), 0);
	assert_int_equal(fw_read_le(8), 0);
}

static void test_fw_cfg_ram_size_is_the_vms(void **state)
{
	(void)state;
	fw_setup(RAM_128M, 1);
	fw_select(FW_CFG_RAM_SIZE);
	assert_int_equal(fw_read_le(8), RAM_128M);
}

static void test_fw_cfg_unknown_keys_read_zero(void **state)
{
	static const uint16_t keys[] = { 0x04, 0x06, 0x19, 0x20, 0x3fff, 0x8000, 0x8003, 0xffff };
	unsigned i;

	(void)state;
	fw_setup(RAM_128M, 1);
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		fw_select(keys[i]);
		assert_int_equal(fw_read_le(8), 0);
	}
	/* Bit 14 (write channel) does not change which item is read. */
	fw_select(FW_CFG_WRITE_CHANNEL | FW_CFG_SIGNATURE);
	assert_int_equal(fw_read_le(4), 0x554d4551);
	fw_select(FW_CFG_WRITE_CHANNEL | FW_CFG_RAM_SIZE);
	assert_int_equal(fw_read_le(8), RAM_128M);
}

static void test_fw_cfg_both_ports_and_refused_sizes(void **state)
{
	(void)state;
	fw_setup(RAM_128M, 1);
	/* A word write to the data port selects nothing: QEMU splits it at its region's end. */
	io_bus_write(&fw_bus, FW_CFG_PORT_DATA, 2, FW_CFG_NB_CPUS);
	assert_int_equal(fw.selects, 0);
	assert_int_equal(io_bus_read(&fw_bus, FW_CFG_PORT_SEL, 1), 'Q');
	fw_select(FW_CFG_NB_CPUS);
	/* A byte read of the selector port reads data. */
	assert_int_equal(io_bus_read(&fw_bus, FW_CFG_PORT_SEL, 1), 1);
	fw_select(FW_CFG_SIGNATURE);
	/* Word and dword reads are refused: 0, and the offset stays. */
	assert_int_equal(io_bus_read(&fw_bus, FW_CFG_PORT_SEL, 2), 0);
	assert_int_equal(io_bus_read(&fw_bus, FW_CFG_PORT_DATA, 4), 0);
	assert_int_equal(fw_read_le(1), 'Q');
	/* Byte and dword writes change nothing: still reading "EMU". */
	io_bus_write(&fw_bus, FW_CFG_PORT_SEL, 1, FW_CFG_RAM_SIZE);
	io_bus_write(&fw_bus, FW_CFG_PORT_DATA, 1, 0x55);
	io_bus_write(&fw_bus, FW_CFG_PORT_SEL, 4, FW_CFG_RAM_SIZE);
	assert_int_equal(fw_read_le(3), 0x554d45);
	assert_int_equal(fw.selects, 2);
	/* Nothing at 0x512: the device covers exactly two ports. */
	assert_null(io_bus_find(&fw_bus, 0x512));
	assert_null(io_bus_find(&fw_bus, 0x50f));
}

static void test_fw_cfg_cpu_count(void **state)
{
	(void)state;
	fw_setup(RAM_128M, 3);
	fw_select(FW_CFG_NB_CPUS);
	assert_int_equal(fw_read_le(2), 3);
}

/* ---- PCI host bridge ---- */

static struct io_bus pci_bus;
static struct pci_host pci;

static void pci_setup(void)
{
	io_bus_init(&pci_bus);
	pci_host_init(&pci);
	assert_int_equal(io_bus_register(&pci_bus, pci_host_address_device(&pci)), 0);
	assert_int_equal(io_bus_register(&pci_bus, pci_host_data_device(&pci)), 0);
}

static uint32_t cfg_addr(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	return PCI_CONFIG_ENABLE | bus << 16 | dev << 11 | fn << 8 | reg;
}

static void test_pci_address_reads_back(void **state)
{
	static const uint32_t values[] = { 0, 0x80000000, 0x8000f804, 0x7fffffff, 0xffffffff, 0x12345677 };
	unsigned i;

	(void)state;
	pci_setup();
	assert_int_equal(io_bus_read(&pci_bus, 0xcf8, 4), 0);
	for (i = 0; i < ARRAY_SIZE(values); i++) {
		io_bus_write(&pci_bus, 0xcf8, 4, values[i]);
		/* All 32 bits come back, reserved and low bits too, as in QEMU. */
		assert_int_equal(io_bus_read(&pci_bus, 0xcf8, 4), values[i]);
		assert_int_equal(io_bus_read(&pci_bus, 0xcf8, 2), values[i] & 0xffff);
		assert_int_equal(io_bus_read(&pci_bus, 0xcf8, 1), values[i] & 0xff);
		/* QEMU ignores the port's offset on reads. */
		assert_int_equal(io_bus_read(&pci_bus, 0xcfa, 1), values[i] & 0xff);
	}
}

static void test_pci_address_only_dword_writes_at_cf8(void **state)
{
	(void)state;
	pci_setup();
	io_bus_write(&pci_bus, 0xcf8, 4, 0x80001234);
	io_bus_write(&pci_bus, 0xcf8, 1, 0x55);
	io_bus_write(&pci_bus, 0xcf8, 2, 0x5555);
	io_bus_write(&pci_bus, 0xcfa, 2, 0x5555);
	io_bus_write(&pci_bus, 0xcf9, 1, 0x06);	/* PIIX3 reset control on QEMU: not ours */
	assert_int_equal(io_bus_read(&pci_bus, 0xcf8, 4), 0x80001234);
}

static void test_pci_empty_bus_reads_all_ones(void **state)
{
	static const uint32_t addrs[][4] = {
		{ 0, 0, 0, 0 }, { 0, 0, 0, 0x08 }, { 0, 1, 0, 0 }, { 0, 31, 7, 0xfc }, { 255, 31, 7, 0 }, { 3, 5, 2, 0x3c },
	};
	unsigned i, port;

	(void)state;
	pci_setup();
	for (i = 0; i < ARRAY_SIZE(addrs); i++) {
		io_bus_write(&pci_bus, 0xcf8, 4, cfg_addr(addrs[i][0], addrs[i][1], addrs[i][2], addrs[i][3]));
		assert_int_equal(io_bus_read(&pci_bus, 0xcfc, 4), 0xffffffff);
		for (port = 0xcfc; port < 0xd00; port++)
			assert_int_equal(io_bus_read(&pci_bus, (uint16_t)port, 1), 0xff);
		assert_int_equal(io_bus_read(&pci_bus, 0xcfc, 2), 0xffff);
		assert_int_equal(io_bus_read(&pci_bus, 0xcfe, 2), 0xffff);
		/* Writes reach no function: the vendor ID stays absent. */
		io_bus_write(&pci_bus, 0xcfc, 4, 0);
		io_bus_write(&pci_bus, 0xcfd, 1, 0);
		assert_int_equal(io_bus_read(&pci_bus, 0xcfc, 4), 0xffffffff);
	}
	assert_int_equal(pci.config_reads, ARRAY_SIZE(addrs) * (1 + 4 + 2 + 1));
	assert_int_equal(pci.config_writes, ARRAY_SIZE(addrs) * 2);
	/* The address register is untouched by data accesses. */
	assert_int_equal(io_bus_read(&pci_bus, 0xcf8, 4), cfg_addr(3, 5, 2, 0x3c));
}

static void test_pci_disabled_reads_all_ones_and_counts_nothing(void **state)
{
	(void)state;
	pci_setup();
	io_bus_write(&pci_bus, 0xcf8, 4, 0x00000000);
	assert_int_equal(io_bus_read(&pci_bus, 0xcfc, 4), 0xffffffff);
	assert_int_equal(io_bus_read(&pci_bus, 0xcfe, 1), 0xff);
	io_bus_write(&pci_bus, 0xcfc, 4, 0x1234);
	assert_int_equal(pci.config_reads, 0);
	assert_int_equal(pci.config_writes, 0);
}

/* ---- pc-testdev ---- */

struct irq_record {
	unsigned calls;
	unsigned last_irq;
	bool last_level;
};

static struct io_bus td_io;
static struct mmio_bus td_mmio;
static struct pc_testdev *td;
static struct irq_record irqs;

static void record_irq(void *ctx, unsigned irq, bool level)
{
	struct irq_record *r = ctx;

	r->calls++;
	r->last_irq = irq;
	r->last_level = level;
}

static int td_setup(void **state)
{
	(void)state;
	td = malloc(sizeof(*td));
	assert_non_null(td);
	memset(td, 0xa5, sizeof(*td));	/* init must set every field */
	memset(&irqs, 0, sizeof(irqs));
	io_bus_init(&td_io);
	mmio_bus_init(&td_mmio);
	pc_testdev_init(td, record_irq, &irqs);
	assert_int_equal(pc_testdev_attach(td, &td_io, &td_mmio), 0);
	return 0;
}

static int td_teardown(void **state)
{
	(void)state;
	free(td);
	td = NULL;
	return 0;
}

static void test_testdev_layout(void **state)
{
	(void)state;
	assert_int_equal(td->ioport_data, 0);
	assert_int_equal(td->irq_levels, 0);
	assert_int_equal(td->iomem_buf[0], 0);
	assert_int_equal(td->iomem_buf[PC_TESTDEV_IOMEM_SIZE - 1], 0);
	assert_ptr_equal(io_bus_find(&td_io, 0xe0), &td->ioport);
	assert_ptr_equal(io_bus_find(&td_io, 0xe3), &td->ioport);
	assert_ptr_equal(io_bus_find(&td_io, 0xe4), &td->flush);
	assert_ptr_equal(io_bus_find(&td_io, 0xeb), &td->ioport_byte);
	assert_null(io_bus_find(&td_io, 0xdf));
	assert_null(io_bus_find(&td_io, 0xec));
	assert_ptr_equal(io_bus_find(&td_io, 0x2000), &td->irq);
	assert_ptr_equal(io_bus_find(&td_io, 0x2017), &td->irq);
	assert_null(io_bus_find(&td_io, 0x2018));
	assert_ptr_equal(mmio_bus_find(&td_mmio, 0xff000000), &td->iomem);
	assert_ptr_equal(mmio_bus_find(&td_mmio, 0xff00ffff), &td->iomem);
	assert_null(mmio_bus_find(&td_mmio, 0xff010000));
	assert_null(mmio_bus_find(&td_mmio, 0xfeffffff));
	/* Registering twice overlaps. */
	assert_int_equal(pc_testdev_attach(td, &td_io, &td_mmio), -1);
}

static void test_testdev_ioport_reads_back_every_size(void **state)
{
	(void)state;
	io_bus_write(&td_io, 0xe0, 4, 0x11223344);
	assert_int_equal(io_bus_read(&td_io, 0xe0, 4), 0x11223344);
	assert_int_equal(io_bus_read(&td_io, 0xe0, 2), 0x3344);
	assert_int_equal(io_bus_read(&td_io, 0xe2, 2), 0x1122);
	assert_int_equal(io_bus_read(&td_io, 0xe1, 1), 0x33);
	assert_int_equal(io_bus_read(&td_io, 0xe3, 1), 0x11);
	io_bus_write(&td_io, 0xe2, 1, 0xab);
	assert_int_equal(io_bus_read(&td_io, 0xe0, 4), 0x11ab3344);
	io_bus_write(&td_io, 0xe0, 2, 0xcdef);
	assert_int_equal(io_bus_read(&td_io, 0xe0, 4), 0x11abcdef);
	/* The same register through the byte-wise alias at 0xe8. */
	assert_int_equal(io_bus_read(&td_io, 0xe8, 4), 0x11abcdef);
	io_bus_write(&td_io, 0xea, 2, 0x7788);
	assert_int_equal(io_bus_read(&td_io, 0xe0, 4), 0x7788cdef);
}

static void test_testdev_ioport_misaligned_stays_in_the_register(void **state)
{
	(void)state;
	io_bus_write(&td_io, 0xe0, 4, 0x44332211);
	/* A dword at 0xe2 covers register bytes 2-3; the rest reads 0 and is not written. */
	assert_int_equal(io_bus_read(&td_io, 0xe2, 4), 0x4433);
	io_bus_write(&td_io, 0xe3, 4, 0xffffff99);
	assert_int_equal(io_bus_read(&td_io, 0xe0, 4), 0x99332211);
	assert_int_equal(td->flushes, 0);
}

static void test_testdev_flush_takes_dwords_only(void **state)
{
	(void)state;
	io_bus_write(&td_io, 0xe4, 1, 0x12);
	io_bus_write(&td_io, 0xe4, 2, 0x1234);
	io_bus_write(&td_io, 0xe5, 4, 0x1234);
	assert_int_equal(td->flushes, 0);
	io_bus_write(&td_io, 0xe4, 4, 0x00123456);
	assert_int_equal(td->flushes, 1);
	assert_int_equal(td->last_flush, 0x00123456);
	assert_int_equal(io_bus_read(&td_io, 0xe4, 4), 0);
	/* Flushing never touches the read-back register. */
	assert_int_equal(td->ioport_data, 0);
}

static void test_testdev_irq_lines(void **state)
{
	(void)state;
	io_bus_write(&td_io, 0x2000 + 5, 1, 1);
	assert_int_equal(irqs.calls, 1);
	assert_int_equal(irqs.last_irq, 5);
	assert_true(irqs.last_level);
	assert_int_equal(td->irq_levels, 1u << 5);
	/* Any nonzero value is a high level; every write reaches the hook. */
	io_bus_write(&td_io, 0x2000 + 5, 1, 0x80);
	assert_int_equal(irqs.calls, 2);
	assert_true(irqs.last_level);
	io_bus_write(&td_io, 0x2000 + 23, 1, 7);
	assert_int_equal(irqs.last_irq, 23);
	assert_int_equal(td->irq_levels, (1u << 5) | (1u << 23));
	io_bus_write(&td_io, 0x2000 + 5, 1, 0);
	assert_int_equal(irqs.last_irq, 5);
	assert_false(irqs.last_level);
	assert_int_equal(td->irq_levels, 1u << 23);
	/* Wider accesses are refused, reads give 0. */
	io_bus_write(&td_io, 0x2000 + 1, 2, 0x0101);
	io_bus_write(&td_io, 0x2000 + 2, 4, 1);
	assert_int_equal(irqs.calls, 4);
	assert_int_equal(io_bus_read(&td_io, 0x2000 + 23, 1), 0);
	assert_int_equal(td->irq_levels, 1u << 23);
}

static void test_testdev_irq_without_hook(void **state)
{
	(void)state;
	pc_testdev_init(td, NULL, NULL);
	io_bus_write(&td_io, 0x2003, 1, 1);
	assert_int_equal(td->irq_levels, 1u << 3);
	assert_int_equal(irqs.calls, 0);
}

/* Lines 0-15 into the 8259 pair, as vm_isa_irq() (vmx/interrupts.c) wires them besides the IOAPIC. */
static void testdev_to_pic(void *pic, unsigned irq, bool level)
{
	if (irq < PIC_IRQS)
		pic_set_irq(pic, irq, level);
}

/* pc-testdev's lines into the 8259 pair. */
static void test_testdev_irq_reaches_the_pic(void **state)
{
	struct pic pic;

	(void)state;
	pic_init(&pic);
	pc_testdev_init(td, testdev_to_pic, &pic);
	/* ICW1 (ICW4 needed), ICW2 vector base 0x20 / 0x28, ICW3, ICW4 8086 mode; all unmasked. */
	io_bus_register(&td_io, pic_device(&pic, PIC_MASTER));
	io_bus_register(&td_io, pic_device(&pic, PIC_SLAVE));
	io_bus_write(&td_io, 0x20, 1, 0x11);
	io_bus_write(&td_io, 0x21, 1, 0x20);
	io_bus_write(&td_io, 0x21, 1, 0x04);
	io_bus_write(&td_io, 0x21, 1, 0x01);
	io_bus_write(&td_io, 0xa0, 1, 0x11);
	io_bus_write(&td_io, 0xa1, 1, 0x28);
	io_bus_write(&td_io, 0xa1, 1, 0x02);
	io_bus_write(&td_io, 0xa1, 1, 0x01);
	io_bus_write(&td_io, 0x21, 1, 0x00);
	io_bus_write(&td_io, 0xa1, 1, 0x00);
	assert_int_equal(pic_pending_vector(&pic), -1);
	io_bus_write(&td_io, 0x2000 + 4, 1, 1);
	assert_int_equal(pic_pending_vector(&pic), 0x24);
	assert_int_equal(pic_ack(&pic), 0x24);
	/* Edge-triggered: a line still high raises nothing new. */
	io_bus_write(&td_io, 0x2000 + 4, 1, 1);
	assert_int_equal(pic_irr(&pic, PIC_MASTER), 0);
	io_bus_write(&td_io, 0x2000 + 4, 1, 0);
	/* A slave line, and lines past 15 that no 8259 input takes. */
	io_bus_write(&td_io, 0x2000 + 10, 1, 1);
	assert_int_equal(pic_irr(&pic, PIC_SLAVE), 1u << 2);
	io_bus_write(&td_io, 0x2000 + 20, 1, 1);
	assert_int_equal(td->irq_levels, (1u << 10) | (1u << 20));
	/* The slave's request cascades through master IR2, above IRQ 4 still in service. */
	assert_int_equal(pic_pending_vector(&pic), 0x2a);
}

static void test_testdev_iomem_is_ram_like(void **state)
{
	uint8_t buf[16], want[16];
	uint64_t v;
	unsigned i;

	(void)state;
	for (i = 0; i < 16; i++)
		want[i] = (uint8_t)(0x10 + i);
	/* A 16-byte write (an SSE move) across the 4 KiB boundary inside the window. */
	assert_true(mmio_bus_write(&td_mmio, 0xff000ff8, want, 16));
	memset(buf, 0, sizeof(buf));
	assert_true(mmio_bus_read(&td_mmio, 0xff000ff8, buf, 16));
	assert_memory_equal(buf, want, 16);
	/* Sub-accesses see the same bytes, little-endian. */
	assert_true(mmio_bus_read(&td_mmio, 0xff000ffb, &v, 8));
	assert_int_equal(v, 0x1a19181716151413ull);
	v = 0xdeadbeef;
	assert_true(mmio_bus_write(&td_mmio, 0xff000ffd, &v, 4));
	assert_int_equal(td->iomem_buf[0xffd], 0xef);
	assert_int_equal(td->iomem_buf[0xfff], 0xad);
	assert_int_equal(td->iomem_buf[0x1000], 0xde);
	assert_int_equal(td->iomem_buf[0x1001], 0x19);
	/* The last bytes of the window, and nothing past it. */
	v = 0x0102030405060708ull;
	assert_true(mmio_bus_write(&td_mmio, 0xff00fff8, &v, 8));
	assert_int_equal(td->iomem_buf[0xffff], 0x01);
	assert_false(mmio_bus_write(&td_mmio, 0xff00fffc, &v, 8));
	assert_false(mmio_bus_read(&td_mmio, 0xfefffffc, &v, 8));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fw_cfg_signature_and_reset_selection),
		cmocka_unit_test(test_fw_cfg_items),
		cmocka_unit_test(test_fw_cfg_ram_size_is_the_vms),
		cmocka_unit_test(test_fw_cfg_unknown_keys_read_zero),
		cmocka_unit_test(test_fw_cfg_both_ports_and_refused_sizes),
		cmocka_unit_test(test_fw_cfg_cpu_count),
		cmocka_unit_test(test_pci_address_reads_back),
		cmocka_unit_test(test_pci_address_only_dword_writes_at_cf8),
		cmocka_unit_test(test_pci_empty_bus_reads_all_ones),
		cmocka_unit_test(test_pci_disabled_reads_all_ones_and_counts_nothing),
		cmocka_unit_test_setup_teardown(test_testdev_layout, td_setup, td_teardown),
		cmocka_unit_test_setup_teardown(test_testdev_ioport_reads_back_every_size, td_setup, td_teardown),
		cmocka_unit_test_setup_teardown(test_testdev_ioport_misaligned_stays_in_the_register, td_setup,
						td_teardown),
		cmocka_unit_test_setup_teardown(test_testdev_flush_takes_dwords_only, td_setup, td_teardown),
		cmocka_unit_test_setup_teardown(test_testdev_irq_lines, td_setup, td_teardown),
		cmocka_unit_test_setup_teardown(test_testdev_irq_without_hook, td_setup, td_teardown),
		cmocka_unit_test_setup_teardown(test_testdev_irq_reaches_the_pic, td_setup, td_teardown),
		cmocka_unit_test_setup_teardown(test_testdev_iomem_is_ram_like, td_setup, td_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
