/* Unit tests of the interrupt devices: 8259A IRQ lines, INTA, EOI and cascade; 8254 counting, IRQ 0 and port 0x61; the local APIC; the I/O APIC. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "devices/io_bus.h"
#include "devices/ioapic.h"
#include "devices/lapic.h"
#include "devices/mmio_bus.h"
#include "devices/pic.h"
#include "devices/pit.h"

/* ---- PIC ---- */

static struct io_bus bus;
static struct pic pic;

static void outb(uint16_t port, uint8_t v)
{
	io_bus_write(&bus, port, 1, v);
}

static uint8_t inb(uint16_t port)
{
	return (uint8_t)io_bus_read(&bus, port, 1);
}

/* The PC BIOS / Linux sequence: edge, cascade, ICW4 8086 mode; vectors 0x20 and 0x28; nothing masked. */
static void pic_setup(bool auto_eoi)
{
	io_bus_init(&bus);
	pic_init(&pic);
	assert_int_equal(io_bus_register(&bus, pic_device(&pic, PIC_MASTER)), 0);
	assert_int_equal(io_bus_register(&bus, pic_device(&pic, PIC_SLAVE)), 0);
	outb(0x20, 0x11);
	outb(0x21, 0x20);
	outb(0x21, 0x04);
	outb(0x21, auto_eoi ? 0x03 : 0x01);
	outb(0xa0, 0x11);
	outb(0xa1, 0x28);
	outb(0xa1, 0x02);
	outb(0xa1, auto_eoi ? 0x03 : 0x01);
	outb(0x21, 0x00);
	outb(0xa1, 0x00);
}

static void test_pic_nothing_pending_after_init(void **state)
{
	(void)state;
	pic_setup(false);
	assert_int_equal(pic_pending_vector(&pic), -1);
	/* INTA with nothing pending: the master's spurious IRQ 7, ISR untouched. */
	assert_int_equal(pic_ack(&pic), 0x27);
	assert_int_equal(pic_isr(&pic, PIC_MASTER), 0);
}

static void test_pic_edge_sets_irr_once(void **state)
{
	(void)state;
	pic_setup(false);
	pic_set_irq(&pic, 3, true);
	assert_int_equal(pic_irr(&pic, PIC_MASTER), 0x08);
	assert_int_equal(pic_pending_vector(&pic), 0x23);
	assert_int_equal(pic_ack(&pic), 0x23);
	assert_int_equal(pic_irr(&pic, PIC_MASTER), 0);
	assert_int_equal(pic_isr(&pic, PIC_MASTER), 0x08);
	/* The line is still high: no new edge, no new request. */
	pic_set_irq(&pic, 3, true);
	assert_int_equal(pic_irr(&pic, PIC_MASTER), 0);
	pic_set_irq(&pic, 3, false);
	pic_set_irq(&pic, 3, true);
	assert_int_equal(pic_irr(&pic, PIC_MASTER), 0x08);
	/* In service blocks the same level until EOI. */
	assert_int_equal(pic_pending_vector(&pic), -1);
	outb(0x20, 0x20);
	assert_int_equal(pic_isr(&pic, PIC_MASTER), 0);
	assert_int_equal(pic_pending_vector(&pic), 0x23);
}

static void test_pic_mask_holds_request(void **state)
{
	(void)state;
	pic_setup(false);
	outb(0x21, 0x01);
	pic_raise_irq(&pic, 0);
	assert_int_equal(pic_irr(&pic, PIC_MASTER), 0x01);
	assert_int_equal(pic_pending_vector(&pic), -1);
	outb(0x21, 0x00);
	assert_int_equal(pic_pending_vector(&pic), 0x20);
	/* IRR reads through OCW3 (the default read selection after ICW1 is IRR). */
	assert_int_equal(inb(0x20), 0x01);
	outb(0x20, 0x0b);
	assert_int_equal(inb(0x20), 0x00);
}

static void test_pic_priority_and_nesting(void **state)
{
	(void)state;
	pic_setup(false);
	pic_raise_irq(&pic, 5);
	pic_raise_irq(&pic, 1);
	assert_int_equal(pic_ack(&pic), 0x21);
	/* IRQ 5 has a lower priority than IRQ 1 in service. */
	assert_int_equal(pic_pending_vector(&pic), -1);
	pic_raise_irq(&pic, 0);
	assert_int_equal(pic_ack(&pic), 0x20);	/* a higher priority nests */
	assert_int_equal(pic_isr(&pic, PIC_MASTER), 0x03);
	outb(0x20, 0x20);			/* non-specific: the highest in service, IRQ 0 */
	assert_int_equal(pic_isr(&pic, PIC_MASTER), 0x02);
	assert_int_equal(pic_pending_vector(&pic), -1);
	outb(0x20, 0x61);			/* specific EOI of IRQ 1 */
	assert_int_equal(pic_isr(&pic, PIC_MASTER), 0x00);
	assert_int_equal(pic_ack(&pic), 0x25);
}

static void test_pic_cascade(void **state)
{
	(void)state;
	pic_setup(false);
	pic_raise_irq(&pic, 12);
	assert_int_equal(pic_irr(&pic, PIC_SLAVE), 0x10);
	assert_int_equal(pic_pending_vector(&pic), 0x2c);
	/* The master's mask of IRQ 2 masks the whole slave. */
	outb(0x21, 0x04);
	assert_int_equal(pic_pending_vector(&pic), -1);
	outb(0x21, 0x00);
	assert_int_equal(pic_ack(&pic), 0x2c);
	assert_int_equal(pic_isr(&pic, PIC_SLAVE), 0x10);
	assert_int_equal(pic_isr(&pic, PIC_MASTER), 0x04);
	/* A master IRQ below 2 still nests; IRQ 3 does not. */
	pic_raise_irq(&pic, 3);
	assert_int_equal(pic_pending_vector(&pic), -1);
	pic_raise_irq(&pic, 1);
	assert_int_equal(pic_pending_vector(&pic), 0x21);
	/* EOI to the slave then the master, as kernels do. */
	outb(0xa0, 0x20);
	assert_int_equal(pic_isr(&pic, PIC_SLAVE), 0);
	outb(0x20, 0x20);
	assert_int_equal(pic_isr(&pic, PIC_MASTER), 0);
	assert_int_equal(pic_ack(&pic), 0x21);
}

static void test_pic_slave_mask(void **state)
{
	(void)state;
	pic_setup(false);
	outb(0xa1, 0x01);
	pic_raise_irq(&pic, 8);
	assert_int_equal(pic_pending_vector(&pic), -1);
	pic_raise_irq(&pic, 15);
	assert_int_equal(pic_ack(&pic), 0x2f);
}

static void test_pic_auto_eoi(void **state)
{
	(void)state;
	pic_setup(true);
	pic_raise_irq(&pic, 4);
	assert_int_equal(pic_ack(&pic), 0x24);
	assert_int_equal(pic_isr(&pic, PIC_MASTER), 0);
	pic_raise_irq(&pic, 4);
	assert_int_equal(pic_pending_vector(&pic), 0x24);
}

static void test_pic_out_of_range_irq_ignored(void **state)
{
	(void)state;
	pic_setup(false);
	pic_raise_irq(&pic, 16);
	pic_set_irq(&pic, 1000, true);
	assert_int_equal(pic_irr(&pic, PIC_MASTER), 0);
	assert_int_equal(pic_irr(&pic, PIC_SLAVE), 0);
}

static void test_pic_icw1_clears_requests(void **state)
{
	(void)state;
	pic_setup(false);
	pic_raise_irq(&pic, 6);
	outb(0x20, 0x11);
	assert_int_equal(pic_irr(&pic, PIC_MASTER), 0);
	outb(0x21, 0x30);
	outb(0x21, 0x04);
	outb(0x21, 0x01);
	pic_raise_irq(&pic, 6);
	assert_int_equal(pic_ack(&pic), 0x36);
}

/* ---- PIT ---- */

#define CLOCK_HZ 1193182000ull	/* 1000 clock cycles per PIT tick: exact arithmetic */

static struct pit pit;
static uint64_t clock_now;
static unsigned irq0_edges;

static uint64_t fake_now(void *ctx)
{
	(void)ctx;
	return clock_now;
}

static void fake_irq0(void *ctx)
{
	(void)ctx;
	irq0_edges++;
}

static void pit_setup(void)
{
	io_bus_init(&bus);
	clock_now = 5000000;
	irq0_edges = 0;
	pit_init(&pit, CLOCK_HZ, fake_now, fake_irq0, NULL);
	assert_int_equal(io_bus_register(&bus, pit_device(&pit)), 0);
	assert_int_equal(io_bus_register(&bus, pit_port61_device(&pit)), 0);
}

static void ticks(uint64_t n)
{
	clock_now += n * 1000;
}

static void test_pit_conversions(void **state)
{
	(void)state;
	assert_int_equal(pit_cycles_to_ticks(1000, CLOCK_HZ, PIT_HZ), 1);
	assert_int_equal(pit_cycles_to_ticks(999, CLOCK_HZ, PIT_HZ), 0);
	assert_int_equal(pit_ticks_to_cycles(3, CLOCK_HZ, PIT_HZ), 3000);
	/* Large values do not overflow: 10^6 seconds of a 3 GHz TSC. */
	assert_int_equal(pit_cycles_to_ticks(3000000000ull * 1000000, 3000000000ull, PIT_HZ),
			 PIT_HZ * 1000000);
	/* Rounding up: the deadline is never before the tick. */
	assert_true(pit_cycles_to_ticks(pit_ticks_to_cycles(7, 3000000000ull, PIT_HZ),
					 3000000000ull, PIT_HZ) >= 7);
}

static void test_pit_no_irq0_until_programmed(void **state)
{
	(void)state;
	pit_setup();
	ticks(1000000);
	pit_update(&pit);
	assert_int_equal(irq0_edges, 0);
	assert_true(pit_next_deadline(&pit) == PIT_NO_DEADLINE);
}

static void test_pit_mode2_rate(void **state)
{
	(void)state;
	pit_setup();
	outb(0x43, 0x34);		/* channel 0, LSB then MSB, mode 2 */
	outb(0x40, 100);
	/* Half a count written: still not running. */
	assert_true(pit_next_deadline(&pit) == PIT_NO_DEADLINE);
	outb(0x40, 0);
	assert_true(pit_next_deadline(&pit) == clock_now + 100 * 1000);
	ticks(99);
	pit_update(&pit);
	assert_int_equal(irq0_edges, 0);
	ticks(1);
	pit_update(&pit);
	assert_int_equal(irq0_edges, 1);
	pit_update(&pit);
	assert_int_equal(irq0_edges, 1);
	/* Three periods at once coalesce into one edge, and the next deadline is the fourth. */
	ticks(300);
	pit_update(&pit);
	assert_int_equal(irq0_edges, 2);
	assert_true(pit_next_deadline(&pit) == clock_now + 100 * 1000);
	/* The count reads back going down from 100. */
	ticks(30);
	outb(0x43, 0x00);		/* latch channel 0 */
	ticks(10);
	assert_int_equal(inb(0x40), 70);
	assert_int_equal(inb(0x40), 0);
	assert_int_equal(pit_read_count(&pit, 0), 60);
}

static void test_pit_mode0_one_shot(void **state)
{
	(void)state;
	pit_setup();
	outb(0x43, 0x30);		/* mode 0 */
	outb(0x40, 0x10);
	outb(0x40, 0x00);
	assert_false(pit_output(&pit, 0));
	ticks(16);
	assert_true(pit_output(&pit, 0));
	pit_update(&pit);
	ticks(1000);
	pit_update(&pit);
	assert_int_equal(irq0_edges, 1);
	assert_true(pit_next_deadline(&pit) == PIT_NO_DEADLINE);
	/* A new count re-arms it. */
	outb(0x40, 0x05);
	outb(0x40, 0x00);
	ticks(5);
	pit_update(&pit);
	assert_int_equal(irq0_edges, 2);
}

static void test_pit_mode3_counts_by_two(void **state)
{
	(void)state;
	pit_setup();
	outb(0x43, 0x36);		/* mode 3 */
	outb(0x40, 100);
	outb(0x40, 0);
	ticks(10);
	assert_int_equal(pit_read_count(&pit, 0), 80);
	assert_true(pit_output(&pit, 0));
	ticks(45);
	assert_false(pit_output(&pit, 0));
	ticks(45);
	pit_update(&pit);
	assert_int_equal(irq0_edges, 1);
}

static void test_pit_lsb_only_and_msb_only(void **state)
{
	(void)state;
	pit_setup();
	outb(0x43, 0x14);		/* LSB only, mode 2 */
	outb(0x40, 50);
	ticks(5);
	assert_int_equal(inb(0x40), 45);
	outb(0x43, 0x24);		/* MSB only */
	outb(0x40, 0x01);		/* 256 */
	ticks(6);
	assert_int_equal(inb(0x40), 0x00);	/* 250 = 0x00fa: MSB 0 */
	assert_int_equal(pit_read_count(&pit, 0), 250);
}

static void test_pit_read_back_status(void **state)
{
	(void)state;
	pit_setup();
	outb(0x43, 0xb0);		/* channel 2, word, mode 0 */
	/* Null count until the count is written. */
	outb(0x43, 0xe8);		/* read-back: status only, channel 2 */
	assert_int_equal(inb(0x42), 0x40 | 0x30);
	outb(0x42, 0x20);
	outb(0x42, 0x00);
	ticks(0x20);
	outb(0x43, 0xc8);		/* read-back: status and count of channel 2 */
	assert_int_equal(inb(0x42), 0x80 | 0x30);	/* OUT high, status first */
	assert_int_equal(inb(0x42), 0x00);
	assert_int_equal(inb(0x42), 0x00);
}

static void test_port61_gate_and_out2(void **state)
{
	uint8_t first;

	(void)state;
	pit_setup();
	assert_int_equal(inb(0x61) & 0x01, 0);	/* gate 2 low after reset */
	/* Linux's calibration: gate on, speaker off, channel 2 mode 0, poll bit 5. */
	outb(0x61, (inb(0x61) & ~0x02) | 0x01);
	outb(0x43, 0xb0);
	outb(0x42, 0xe8);
	outb(0x42, 0x03);		/* 1000 */
	assert_int_equal(inb(0x61) & 0x21, 0x01);
	ticks(999);
	assert_int_equal(inb(0x61) & 0x20, 0);
	ticks(1);
	assert_int_equal(inb(0x61) & 0x20, 0x20);
	/* Bit 4 toggles on every read; bit 1 reads what was written. */
	first = inb(0x61) & 0x10;
	assert_int_not_equal(inb(0x61) & 0x10, first);
	outb(0x61, 0x03);
	assert_int_equal(inb(0x61) & 0x03, 0x03);
	/* Channel 2 raises no IRQ 0. */
	pit_update(&pit);
	assert_int_equal(irq0_edges, 0);
}

static void test_port61_gate_restarts_mode2(void **state)
{
	(void)state;
	pit_setup();
	outb(0x43, 0xb4);		/* channel 2, mode 2 */
	outb(0x42, 100);
	outb(0x42, 0);
	ticks(40);
	assert_int_equal(pit_read_count(&pit, 2), 60);
	outb(0x61, 0x01);		/* rising gate: reload */
	assert_int_equal(pit_read_count(&pit, 2), 100);
}

/* ---- Local APIC ---- */

/* The VM clock at 1 GHz, the APIC bus's rate: one cycle is one bus tick before the divider. */
static uint64_t apic_clock;
static struct lapic apic;
static struct mmio_bus apic_bus;

static uint64_t apic_now(void *ctx)
{
	(void)ctx;
	return apic_clock;
}

static uint32_t apic_rd(uint32_t reg)
{
	uint32_t v = 0;

	assert_true(mmio_bus_read(&apic_bus, LAPIC_DEFAULT_BASE + reg, &v, 4));
	return v;
}

static void apic_wr(uint32_t reg, uint32_t v)
{
	assert_true(mmio_bus_write(&apic_bus, LAPIC_DEFAULT_BASE + reg, &v, 4));
}

/* Reset, on the bus; sw_enable: SVR = 0x1ff (spurious vector 0xff, enabled). */
static void apic_setup(bool sw_enable)
{
	apic_clock = 5000;
	lapic_init(&apic, LAPIC_BUS_HZ, apic_now, NULL);
	mmio_bus_init(&apic_bus);
	assert_int_equal(mmio_bus_register(&apic_bus, lapic_device(&apic)), 0);
	if (sw_enable)
		apic_wr(LAPIC_REG_SVR, 0x1ff);
}

static void test_lapic_reset_state(void **state)
{
	unsigned i;

	(void)state;
	apic_setup(false);
	assert_int_equal(apic_rd(LAPIC_REG_VERSION), 0x50014);
	assert_int_equal(apic_rd(LAPIC_REG_ID), 0);
	assert_int_equal(apic_rd(LAPIC_REG_SVR), 0xff);
	assert_int_equal(apic_rd(LAPIC_REG_DFR), 0xffffffffu);
	assert_int_equal(apic_rd(LAPIC_REG_LVT_LINT0), 0x700);
	for (i = 0; i < LAPIC_LVTS; i++)
		if (i != LAPIC_LVT_LINT0)
			assert_int_equal(apic_rd(LAPIC_REG_LVT_TIMER + 0x10 * i), LAPIC_LVT_MASKED);
	assert_int_equal(lapic_base_msr(&apic), 0xfee00900ull);
	/* Software-disabled: nothing of its own is presented, the PIC passes. */
	assert_false(lapic_enabled(&apic));
	assert_true(lapic_accepts_pic(&apic));
	lapic_set_irq(&apic, 0x40);
	assert_int_equal(lapic_pending_vector(&apic), -1);
	apic_wr(LAPIC_REG_SVR, 0x1ff);
	assert_int_equal(lapic_pending_vector(&apic), 0x40);
}

static void test_lapic_access_sizes(void **state)
{
	uint8_t b = 0xaa;
	uint16_t w = 0x1234;

	(void)state;
	apic_setup(true);
	assert_true(mmio_bus_read(&apic_bus, LAPIC_DEFAULT_BASE + LAPIC_REG_VERSION + 2, &b, 1));
	assert_int_equal(b, 0x05);
	assert_true(mmio_bus_read(&apic_bus, LAPIC_DEFAULT_BASE + LAPIC_REG_VERSION + 4, &b, 1));
	assert_int_equal(b, 0);
	/* Writes shorter than 4 bytes, or not at a register's start, are dropped. */
	assert_true(mmio_bus_write(&apic_bus, LAPIC_DEFAULT_BASE + LAPIC_REG_TPR, &w, 2));
	assert_int_equal(apic_rd(LAPIC_REG_TPR), 0);
	apic_wr(LAPIC_REG_TPR, 0xffffff34);
	assert_int_equal(apic_rd(LAPIC_REG_TPR), 0x34);
	apic_wr(LAPIC_REG_ID, 0x05123456);
	assert_int_equal(apic_rd(LAPIC_REG_ID), 0x05000000);
	apic_wr(LAPIC_REG_LDR, 0x01ffffff);
	assert_int_equal(apic_rd(LAPIC_REG_LDR), 0x01000000);
	apic_wr(LAPIC_REG_DFR, 0);
	assert_int_equal(apic_rd(LAPIC_REG_DFR), 0x0fffffff);
	/* Read-only registers keep their value. */
	apic_wr(LAPIC_REG_VERSION, 0);
	assert_int_equal(apic_rd(LAPIC_REG_VERSION), 0x50014);
	/* A reserved register: ESR bit 7, seen after the next ESR write. */
	assert_int_equal(apic_rd(0x2a0), 0);
	assert_int_equal(apic_rd(LAPIC_REG_ESR), 0);
	apic_wr(LAPIC_REG_ESR, 0);
	assert_int_equal(apic_rd(LAPIC_REG_ESR), LAPIC_ESR_ILLEGAL_REGISTER);
	apic_wr(LAPIC_REG_ESR, 0);
	assert_int_equal(apic_rd(LAPIC_REG_ESR), 0);
}

static void test_lapic_priority_and_eoi(void **state)
{
	(void)state;
	apic_setup(true);
	lapic_set_irq(&apic, 0x31);
	lapic_set_irq(&apic, 0x52);
	assert_int_equal(apic_rd(LAPIC_REG_IRR + 0x10), 1u << 0x11);
	assert_int_equal(apic_rd(LAPIC_REG_IRR + 0x20), 1u << 0x12);
	assert_int_equal(lapic_pending_vector(&apic), 0x52);
	assert_int_equal(lapic_ack(&apic), 0x52);
	assert_int_equal(apic_rd(LAPIC_REG_ISR + 0x20), 1u << 0x12);
	assert_int_equal(apic_rd(LAPIC_REG_PPR), 0x50);
	/* Class 3 waits behind class 5 in service; class 5 itself too (same class). */
	assert_int_equal(lapic_pending_vector(&apic), -1);
	lapic_set_irq(&apic, 0x5f);
	assert_int_equal(lapic_pending_vector(&apic), -1);
	lapic_set_irq(&apic, 0x60);
	assert_int_equal(lapic_pending_vector(&apic), 0x60);
	assert_int_equal(lapic_ack(&apic), 0x60);
	/* EOI ends the highest in service first. */
	apic_wr(LAPIC_REG_EOI, 0);
	assert_int_equal(apic_rd(LAPIC_REG_ISR + 0x30), 0);
	assert_int_equal(apic_rd(LAPIC_REG_ISR + 0x20), 1u << 0x12);
	apic_wr(LAPIC_REG_EOI, 0);
	assert_int_equal(apic_rd(LAPIC_REG_PPR), 0);
	assert_int_equal(lapic_pending_vector(&apic), 0x5f);
	assert_int_equal(lapic_ack(&apic), 0x5f);
	apic_wr(LAPIC_REG_EOI, 0);
	assert_int_equal(lapic_ack(&apic), 0x31);
	apic_wr(LAPIC_REG_EOI, 0);
	/* An EOI with nothing in service changes nothing. */
	apic_wr(LAPIC_REG_EOI, 0);
	assert_int_equal(lapic_pending_vector(&apic), -1);
	/* Illegal vectors never reach IRR. */
	lapic_set_irq(&apic, 15);
	assert_int_equal(apic_rd(LAPIC_REG_IRR), 0);
	apic_wr(LAPIC_REG_ESR, 0);
	assert_int_equal(apic_rd(LAPIC_REG_ESR), LAPIC_ESR_RECEIVE_ILLEGAL);
}

static void test_lapic_tpr_masks(void **state)
{
	(void)state;
	apic_setup(true);
	lapic_set_tpr(&apic, 0x50);
	assert_int_equal(apic_rd(LAPIC_REG_TPR), 0x50);
	assert_int_equal(apic_rd(LAPIC_REG_PPR), 0x50);
	lapic_set_irq(&apic, 0x55);
	assert_int_equal(lapic_pending_vector(&apic), -1);
	/* The TPR's low bits do not matter for delivery: classes do. */
	apic_wr(LAPIC_REG_TPR, 0x4f);
	assert_int_equal(lapic_tpr(&apic), 0x4f);
	assert_int_equal(lapic_pending_vector(&apic), 0x55);
	assert_int_equal(lapic_ack(&apic), 0x55);
	/* PPR: the in-service class when above the TPR's. */
	assert_int_equal(apic_rd(LAPIC_REG_PPR), 0x50);
	apic_wr(LAPIC_REG_TPR, 0x61);
	assert_int_equal(apic_rd(LAPIC_REG_PPR), 0x61);
	apic_wr(LAPIC_REG_EOI, 0);
	assert_int_equal(apic_rd(LAPIC_REG_PPR), 0x61);
}

static void test_lapic_icr(void **state)
{
	(void)state;
	apic_setup(true);
	/* Shorthand self, fixed. */
	apic_wr(LAPIC_REG_ICR_LO, (1u << 18) | 0x40);
	assert_int_equal(apic_rd(LAPIC_REG_ICR_LO) & (1u << 12), 0);
	assert_int_equal(lapic_pending_vector(&apic), 0x40);
	assert_int_equal(lapic_ack(&apic), 0x40);
	apic_wr(LAPIC_REG_EOI, 0);
	/* No shorthand, physical destination: the own ID reaches it, another does not. */
	apic_wr(LAPIC_REG_ID, 0x03000000);
	apic_wr(LAPIC_REG_ICR_HI, 0x03000000);
	apic_wr(LAPIC_REG_ICR_LO, 0x41);
	assert_int_equal(lapic_pending_vector(&apic), 0x41);
	lapic_ack(&apic);
	apic_wr(LAPIC_REG_EOI, 0);
	apic_wr(LAPIC_REG_ICR_HI, 0x01000000);
	apic_wr(LAPIC_REG_ICR_LO, 0x42);
	assert_int_equal(lapic_pending_vector(&apic), -1);
	/* All excluding self: nobody here. */
	apic_wr(LAPIC_REG_ICR_LO, (3u << 18) | 0x43);
	assert_int_equal(lapic_pending_vector(&apic), -1);
	/* INIT and start-up IPIs (the AP bring-up sequence) to absent CPUs: ignored. */
	apic_wr(LAPIC_REG_ICR_LO, (3u << 18) | 0x4500);
	apic_wr(LAPIC_REG_ICR_LO, (3u << 18) | 0x4608);
	apic_wr(LAPIC_REG_ICR_LO, 0x4500);
	assert_int_equal(lapic_pending_vector(&apic), -1);
	assert_int_equal(apic_rd(LAPIC_REG_IRR + 0x00), 0);
	assert_int_equal(apic.ignored_ipis, 5);
	assert_int_equal(apic.self_ipis, 2);
	/* Logical flat: an LDR bit in common. */
	apic_wr(LAPIC_REG_LDR, 0x02000000);
	apic_wr(LAPIC_REG_ICR_HI, 0x06000000);
	apic_wr(LAPIC_REG_ICR_LO, (1u << 11) | 0x44);
	assert_int_equal(lapic_pending_vector(&apic), 0x44);
	lapic_ack(&apic);
	apic_wr(LAPIC_REG_EOI, 0);
	/* A fixed IPI with an illegal vector: send-illegal error, nothing delivered. */
	apic_wr(LAPIC_REG_ICR_LO, (1u << 18) | 0x05);
	assert_int_equal(lapic_pending_vector(&apic), -1);
	apic_wr(LAPIC_REG_ESR, 0);
	assert_int_equal(apic_rd(LAPIC_REG_ESR), LAPIC_ESR_SEND_ILLEGAL);
}

static void test_lapic_timer_one_shot(void **state)
{
	(void)state;
	apic_setup(true);
	apic_wr(LAPIC_REG_TIMER_DIV, 0xb);	/* divide by 1 */
	apic_wr(LAPIC_REG_LVT_TIMER, 0x30);
	assert_int_equal(lapic_next_deadline(&apic), LAPIC_NO_DEADLINE);
	apic_wr(LAPIC_REG_TIMER_INIT, 1000);
	assert_int_equal(apic_rd(LAPIC_REG_TIMER_INIT), 1000);
	assert_int_equal(apic_rd(LAPIC_REG_TIMER_CUR), 1000);
	assert_int_equal(lapic_next_deadline(&apic), 5000 + 1000);
	apic_clock += 999;
	lapic_update(&apic);
	assert_int_equal(apic_rd(LAPIC_REG_TIMER_CUR), 1);
	assert_int_equal(lapic_pending_vector(&apic), -1);
	apic_clock += 1;
	lapic_update(&apic);
	assert_int_equal(apic_rd(LAPIC_REG_TIMER_CUR), 0);
	assert_int_equal(lapic_pending_vector(&apic), 0x30);
	assert_int_equal(lapic_next_deadline(&apic), LAPIC_NO_DEADLINE);
	/* One shot: no more however long it waits. */
	lapic_ack(&apic);
	apic_wr(LAPIC_REG_EOI, 0);
	apic_clock += 100000;
	lapic_update(&apic);
	assert_int_equal(lapic_pending_vector(&apic), -1);
	assert_int_equal(apic.timer_irqs, 1);
	/* Divide by 128 (1010b): 10 timer ticks are 1280 cycles. */
	apic_wr(LAPIC_REG_TIMER_DIV, 0xa);
	apic_wr(LAPIC_REG_TIMER_INIT, 10);
	assert_int_equal(lapic_next_deadline(&apic), apic_clock + 1280);
	apic_clock += 128 * 3;
	assert_int_equal(apic_rd(LAPIC_REG_TIMER_CUR), 7);
	/* Initial count 0 stops it. */
	apic_wr(LAPIC_REG_TIMER_INIT, 0);
	assert_int_equal(apic_rd(LAPIC_REG_TIMER_CUR), 0);
	assert_int_equal(lapic_next_deadline(&apic), LAPIC_NO_DEADLINE);
}

static void test_lapic_timer_periodic(void **state)
{
	uint64_t start;

	(void)state;
	apic_setup(true);
	apic_wr(LAPIC_REG_TIMER_DIV, 0x3);	/* divide by 16 */
	apic_wr(LAPIC_REG_LVT_TIMER, LAPIC_LVT_PERIODIC | 0x31);
	start = apic_clock;
	apic_wr(LAPIC_REG_TIMER_INIT, 100);	/* a period of 1600 cycles */
	assert_int_equal(lapic_next_deadline(&apic), start + 1600);
	apic_clock = start + 1600;
	lapic_update(&apic);
	assert_int_equal(lapic_ack(&apic), 0x31);
	apic_wr(LAPIC_REG_EOI, 0);
	assert_int_equal(lapic_next_deadline(&apic), start + 3200);
	/* Three periods more in one go: one interrupt (one IRR bit), the count keeps its phase. */
	apic_clock = start + 4 * 1600 + 5 * 16;
	lapic_update(&apic);
	assert_int_equal(apic.timer_irqs, 2);
	assert_int_equal(apic_rd(LAPIC_REG_TIMER_CUR), 95);
	assert_int_equal(lapic_next_deadline(&apic), start + 5 * 1600);
	assert_int_equal(lapic_ack(&apic), 0x31);
	/* In service: the next period's interrupt waits in IRR (same class). */
	apic_clock = start + 5 * 1600;
	lapic_update(&apic);
	assert_int_equal(lapic_pending_vector(&apic), -1);
	apic_wr(LAPIC_REG_EOI, 0);
	assert_int_equal(lapic_pending_vector(&apic), 0x31);
	/* Masked: it counts, raises nothing and wakes nobody. */
	lapic_ack(&apic);
	apic_wr(LAPIC_REG_EOI, 0);
	apic_wr(LAPIC_REG_LVT_TIMER, LAPIC_LVT_MASKED | LAPIC_LVT_PERIODIC | 0x31);
	assert_int_equal(lapic_next_deadline(&apic), LAPIC_NO_DEADLINE);
	apic_clock += 10 * 1600;
	lapic_update(&apic);
	assert_int_equal(lapic_pending_vector(&apic), -1);
	assert_int_equal(apic.timer_irqs, 3);
}

static void test_lapic_software_disable_and_lint0(void **state)
{
	(void)state;
	apic_setup(true);
	/* Enabled, LINT0 ExtINT unmasked: the PIC passes; masked: it does not. */
	assert_true(lapic_accepts_pic(&apic));
	apic_wr(LAPIC_REG_LVT_LINT0, LAPIC_LVT_MASKED | 0x700);
	assert_false(lapic_accepts_pic(&apic));
	apic_wr(LAPIC_REG_LVT_LINT0, 0x0020);	/* fixed mode: not the PIC's */
	assert_false(lapic_accepts_pic(&apic));
	/* Software disable masks every LVT and keeps them masked; the PIC then passes. */
	apic_wr(LAPIC_REG_LVT_TIMER, 0x30);
	apic_wr(LAPIC_REG_SVR, 0x0ff);
	assert_int_equal(apic_rd(LAPIC_REG_LVT_TIMER), LAPIC_LVT_MASKED | 0x30);
	apic_wr(LAPIC_REG_LVT_TIMER, 0x30);
	assert_int_equal(apic_rd(LAPIC_REG_LVT_TIMER), LAPIC_LVT_MASKED | 0x30);
	assert_true(lapic_accepts_pic(&apic));
	/* Enabled again, the masks stay until written. */
	apic_wr(LAPIC_REG_SVR, 0x1ff);
	assert_int_equal(apic_rd(LAPIC_REG_LVT_TIMER), LAPIC_LVT_MASKED | 0x30);
	apic_wr(LAPIC_REG_LVT_TIMER, 0x60030);	/* TSC-deadline mode (bit 18) is hidden: not kept */
	assert_int_equal(apic_rd(LAPIC_REG_LVT_TIMER), 0x20030);
}

static void test_lapic_base_msr(void **state)
{
	(void)state;
	apic_setup(true);
	/* x2APIC (EXTD), a reserved bit, an address past MAXPHYADDR, a move: #GP, nothing changed. */
	assert_false(lapic_write_base_msr(&apic, 0xfee00d00ull, 40));
	assert_false(lapic_write_base_msr(&apic, 0xfee00901ull, 40));
	assert_false(lapic_write_base_msr(&apic, (1ull << 40) | 0xfee00900ull, 40));
	assert_false(lapic_write_base_msr(&apic, 0xfec00900ull, 40));
	assert_int_equal(lapic_base_msr(&apic), 0xfee00900ull);
	/* The same value again; BSP is read-only. */
	assert_true(lapic_write_base_msr(&apic, 0xfee00800ull, 40));
	assert_int_equal(lapic_base_msr(&apic), 0xfee00900ull);
	/* Global disable: power-up state, nothing presented, the PIC passes. */
	apic_wr(LAPIC_REG_ID, 0x02000000);
	apic_wr(LAPIC_REG_TPR, 0x20);
	lapic_set_irq(&apic, 0x40);
	assert_true(lapic_write_base_msr(&apic, 0xfee00100ull, 40));
	assert_int_equal(lapic_base_msr(&apic), 0xfee00100ull);
	assert_int_equal(lapic_pending_vector(&apic), -1);
	assert_true(lapic_accepts_pic(&apic));
	lapic_set_irq(&apic, 0x41);
	assert_true(lapic_write_base_msr(&apic, 0xfee00900ull, 40));
	assert_int_equal(apic_rd(LAPIC_REG_SVR), 0xff);
	assert_int_equal(apic_rd(LAPIC_REG_TPR), 0);
	assert_int_equal(apic_rd(LAPIC_REG_ID), 0x02000000);
	apic_wr(LAPIC_REG_SVR, 0x1ff);
	assert_int_equal(lapic_pending_vector(&apic), -1);
}

/* ---- I/O APIC ---- */

/* The I/O APIC on the same bus as the local APIC, wired as vmx/interrupts.c wires them. */
static struct ioapic ioa;
static struct ioapic_message last_msg;
static unsigned msgs;

static void ioa_deliver(void *ctx, const struct ioapic_message *msg)
{
	(void)ctx;
	last_msg = *msg;
	msgs++;
	if ((msg->mode == IOAPIC_DM_FIXED || msg->mode == IOAPIC_DM_LOWEST) &&
	    lapic_match_destination(&apic, msg->dest, msg->logical))
		lapic_accept_irq(&apic, msg->vector, msg->level);
}

static void ioa_eoi(void *ctx, uint8_t vector)
{
	(void)ctx;
	ioapic_eoi(&ioa, vector);
}

static uint32_t ioa_rd(uint8_t index)
{
	uint32_t v = 0;

	assert_true(mmio_bus_write(&apic_bus, IOAPIC_DEFAULT_BASE + IOAPIC_IOREGSEL, &index, 1));
	assert_true(mmio_bus_read(&apic_bus, IOAPIC_DEFAULT_BASE + IOAPIC_IOWIN, &v, 4));
	return v;
}

static void ioa_wr(uint8_t index, uint32_t v)
{
	assert_true(mmio_bus_write(&apic_bus, IOAPIC_DEFAULT_BASE + IOAPIC_IOREGSEL, &index, 1));
	assert_true(mmio_bus_write(&apic_bus, IOAPIC_DEFAULT_BASE + IOAPIC_IOWIN, &v, 4));
}

/* Entry n = lo (vector, mode, trigger, mask), destination dest. */
static void ioa_route(unsigned n, uint32_t lo, uint8_t dest)
{
	ioa_wr((uint8_t)(IOAPIC_REG_REDTBL + 2 * n + 1), (uint32_t)dest << 24);
	ioa_wr((uint8_t)(IOAPIC_REG_REDTBL + 2 * n), lo);
}

static void ioa_setup(void)
{
	apic_setup(true);
	ioapic_init(&ioa, ioa_deliver, NULL);
	lapic_set_eoi_hook(&apic, ioa_eoi, NULL);
	assert_int_equal(mmio_bus_register(&apic_bus, ioapic_device(&ioa)), 0);
	msgs = 0;
}

/* The INTA and EOI a guest's handler does: the vector taken from the local APIC. */
static int take_and_eoi(void)
{
	int v = lapic_pending_vector(&apic);

	if (v >= 0) {
		assert_int_equal(lapic_ack(&apic), v);
		apic_wr(LAPIC_REG_EOI, 0);
	}
	return v;
}

static void test_ioapic_registers(void **state)
{
	unsigned n;
	uint8_t sel = 0;
	uint16_t w = 0;

	(void)state;
	ioa_setup();
	assert_int_equal(ioa_rd(IOAPIC_REG_VERSION), 0x170020);
	assert_int_equal(ioa_rd(IOAPIC_REG_ID), 0);
	for (n = 0; n < IOAPIC_PINS; n++) {
		assert_int_equal(ioa_rd((uint8_t)(IOAPIC_REG_REDTBL + 2 * n)), 0x10000);
		assert_int_equal(ioa_rd((uint8_t)(IOAPIC_REG_REDTBL + 2 * n + 1)), 0);
	}
	/* ID: 4 bits at 27:24; ARB reads as the ID; version and ARB are read only. */
	ioa_wr(IOAPIC_REG_ID, 0xffffffffu);
	assert_int_equal(ioa_rd(IOAPIC_REG_ID), 0x0f000000);
	assert_int_equal(ioa_rd(IOAPIC_REG_ARB), 0x0f000000);
	ioa_wr(IOAPIC_REG_VERSION, 0);
	ioa_wr(IOAPIC_REG_ARB, 0);
	assert_int_equal(ioa_rd(IOAPIC_REG_VERSION), 0x170020);
	assert_int_equal(ioa_rd(IOAPIC_REG_ARB), 0x0f000000);
	/* An entry reads back except remote IRR and delivery status (read only, 0 here). */
	ioa_wr(IOAPIC_REG_REDTBL + 2 * 5, 0xffffffffu);
	ioa_wr(IOAPIC_REG_REDTBL + 2 * 5 + 1, 0xa5000000u);
	assert_int_equal(ioa_rd(IOAPIC_REG_REDTBL + 2 * 5), 0xffffffffu & ~(1u << 12) & ~(1u << 14));
	assert_int_equal(ioa_rd(IOAPIC_REG_REDTBL + 2 * 5 + 1), 0xa5000000u);
	/* Past entry 23, and below 0x10: 0, writes ignored. */
	ioa_wr(IOAPIC_REG_REDTBL + 2 * IOAPIC_PINS, 0x1234);
	assert_int_equal(ioa_rd(IOAPIC_REG_REDTBL + 2 * IOAPIC_PINS), 0);
	assert_int_equal(ioa_rd(0x03), 0);
	/* IOREGSEL reads back at any size; IOWIN ignores other sizes; the window repeats every 256 bytes. */
	ioa_rd(0x21);
	assert_true(mmio_bus_read(&apic_bus, IOAPIC_DEFAULT_BASE, &sel, 1));
	assert_int_equal(sel, 0x21);
	assert_true(mmio_bus_read(&apic_bus, IOAPIC_DEFAULT_BASE + IOAPIC_IOWIN, &w, 2));
	assert_int_equal(w, 0);
	w = 0x77;
	assert_true(mmio_bus_write(&apic_bus, IOAPIC_DEFAULT_BASE + IOAPIC_IOWIN, &w, 2));
	assert_int_equal(ioa_rd(0x21), 0);
	sel = IOAPIC_REG_VERSION;
	assert_true(mmio_bus_write(&apic_bus, IOAPIC_DEFAULT_BASE + 0x300, &sel, 1));
	{
		uint32_t v = 0;

		assert_true(mmio_bus_read(&apic_bus, IOAPIC_DEFAULT_BASE + 0x710, &v, 4));
		assert_int_equal(v, 0x170020);
	}
}

static void test_ioapic_edge_delivery_and_mask(void **state)
{
	(void)state;
	ioa_setup();
	/* Masked at reset: a rising edge is lost, not held. */
	ioapic_set_irq(&ioa, 2, true);
	ioapic_set_irq(&ioa, 2, false);
	assert_int_equal(msgs, 0);
	ioa_route(2, 0x30, 0);
	assert_int_equal(msgs, 0);
	assert_int_equal(lapic_pending_vector(&apic), -1);
	/* Unmasked: one message per rising edge; a line held high gives no second one. */
	ioapic_set_irq(&ioa, 2, true);
	ioapic_set_irq(&ioa, 2, true);
	assert_int_equal(msgs, 1);
	assert_int_equal(last_msg.vector, 0x30);
	assert_false(last_msg.level);
	assert_int_equal(last_msg.mode, IOAPIC_DM_FIXED);
	assert_int_equal(take_and_eoi(), 0x30);
	ioapic_set_irq(&ioa, 2, false);
	ioapic_set_irq(&ioa, 2, true);
	ioapic_set_irq(&ioa, 2, false);
	assert_int_equal(msgs, 2);
	assert_int_equal(take_and_eoi(), 0x30);
	/* Edge entries never show remote IRR, and the TMR bit stays clear. */
	assert_int_equal(ioa_rd(IOAPIC_REG_REDTBL + 4) & (1u << 14), 0);
	assert_int_equal(apic_rd(LAPIC_REG_TMR + 0x10), 0);
	/* Mask again: edges are dropped. */
	ioa_route(2, 0x10000 | 0x30, 0);
	ioapic_set_irq(&ioa, 2, true);
	ioapic_set_irq(&ioa, 2, false);
	assert_int_equal(msgs, 2);
	assert_int_equal(lapic_pending_vector(&apic), -1);
	/* Out-of-range pins are ignored; ISA IRQ 0 is GSI 2, the others their own number. */
	ioapic_set_irq(&ioa, 24, true);
	assert_int_equal(msgs, 2);
	assert_int_equal(ioapic_gsi_of_isa_irq(0), 2);
	assert_int_equal(ioapic_gsi_of_isa_irq(1), 1);
	assert_int_equal(ioapic_gsi_of_isa_irq(9), 9);
}

static void test_ioapic_level_remote_irr(void **state)
{
	uint32_t v;

	(void)state;
	ioa_setup();
	ioa_route(9, 0x8000 | 0x41, 0);	/* level, fixed, vector 0x41 */
	ioapic_set_irq(&ioa, 9, true);
	assert_int_equal(msgs, 1);
	assert_true(last_msg.level);
	assert_true(ioa_rd(IOAPIC_REG_REDTBL + 18) & (1u << 14));	/* remote IRR */
	assert_true(apic_rd(LAPIC_REG_TMR + 0x20) & (1u << 1));	/* TMR bit of 0x41 */
	/* Remote IRR holds the line off until the EOI, however it is raised. */
	ioapic_set_irq(&ioa, 9, true);
	assert_int_equal(msgs, 1);
	/* EOI with the line still high: delivered again at once. */
	assert_int_equal(take_and_eoi(), 0x41);
	assert_int_equal(msgs, 2);
	assert_true(ioa_rd(IOAPIC_REG_REDTBL + 18) & (1u << 14));
	/* Lowered before the EOI: the EOI clears remote IRR and nothing comes again. */
	ioapic_set_irq(&ioa, 9, false);
	assert_int_equal(take_and_eoi(), 0x41);
	assert_int_equal(msgs, 2);
	assert_int_equal(ioa_rd(IOAPIC_REG_REDTBL + 18) & (1u << 14), 0);
	assert_int_equal(lapic_pending_vector(&apic), -1);
	/* A high line while masked is held and delivered on unmask. */
	ioa_route(9, 0x18000 | 0x41, 0);
	ioapic_set_irq(&ioa, 9, true);
	assert_int_equal(msgs, 2);
	ioa_route(9, 0x8000 | 0x41, 0);
	assert_int_equal(msgs, 3);
	/* The EOI register (version 0x20) ends it too; an EOI for another vector does not. */
	assert_int_equal(lapic_ack(&apic), 0x41);
	v = 0x42;
	assert_true(mmio_bus_write(&apic_bus, IOAPIC_DEFAULT_BASE + IOAPIC_EOI, &v, 4));
	assert_true(ioa_rd(IOAPIC_REG_REDTBL + 18) & (1u << 14));
	ioapic_set_irq(&ioa, 9, false);
	v = 0x41;
	assert_true(mmio_bus_write(&apic_bus, IOAPIC_DEFAULT_BASE + IOAPIC_EOI, &v, 4));
	assert_int_equal(ioa_rd(IOAPIC_REG_REDTBL + 18) & (1u << 14), 0);
	assert_int_equal(msgs, 3);
	/* Switching a stuck entry to edge clears remote IRR (Linux's EOI emulation). */
	ioapic_set_irq(&ioa, 9, true);
	assert_int_equal(msgs, 4);
	assert_true(ioa_rd(IOAPIC_REG_REDTBL + 18) & (1u << 14));
	ioa_route(9, 0x10000 | 0x41, 0);
	assert_int_equal(ioa_rd(IOAPIC_REG_REDTBL + 18) & (1u << 14), 0);
}

static void test_ioapic_destination(void **state)
{
	(void)state;
	ioa_setup();
	/* Physical: APIC ID 0 or broadcast 0xff; ID 1 reaches nobody. */
	ioa_route(4, 0x50, 1);
	ioapic_set_irq(&ioa, 4, true);
	ioapic_set_irq(&ioa, 4, false);
	assert_int_equal(msgs, 1);
	assert_int_equal(lapic_pending_vector(&apic), -1);
	ioa_route(4, 0x50, 0xff);
	ioapic_set_irq(&ioa, 4, true);
	ioapic_set_irq(&ioa, 4, false);
	assert_int_equal(take_and_eoi(), 0x50);
	/* Logical, flat model: a bit in common with LDR; lowest priority behaves as fixed with one CPU. */
	apic_wr(LAPIC_REG_LDR, 0x02000000);
	ioa_route(4, 0x800 | 0x100 | 0x51, 0x01);
	ioapic_set_irq(&ioa, 4, true);
	ioapic_set_irq(&ioa, 4, false);
	assert_int_equal(lapic_pending_vector(&apic), -1);
	ioa_route(4, 0x800 | 0x100 | 0x51, 0x03);
	ioapic_set_irq(&ioa, 4, true);
	ioapic_set_irq(&ioa, 4, false);
	assert_true(last_msg.logical);
	assert_int_equal(last_msg.mode, IOAPIC_DM_LOWEST);
	assert_int_equal(take_and_eoi(), 0x51);
	/* Cluster model: same cluster (high nibble) and a common bit. */
	apic_wr(LAPIC_REG_DFR, 0x0fffffff);
	apic_wr(LAPIC_REG_LDR, 0x12000000);
	assert_false(lapic_match_destination(&apic, 0x22, true));
	assert_true(lapic_match_destination(&apic, 0x13, true));
	assert_false(lapic_match_destination(&apic, 0x11, true));
	/* NMI mode is not a fixed interrupt: nothing reaches IRR. */
	ioa_route(4, 0x400 | 0x52, 0);
	ioapic_set_irq(&ioa, 4, true);
	assert_int_equal(last_msg.mode, IOAPIC_DM_NMI);
	assert_int_equal(lapic_pending_vector(&apic), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pic_nothing_pending_after_init),
		cmocka_unit_test(test_pic_edge_sets_irr_once),
		cmocka_unit_test(test_pic_mask_holds_request),
		cmocka_unit_test(test_pic_priority_and_nesting),
		cmocka_unit_test(test_pic_cascade),
		cmocka_unit_test(test_pic_slave_mask),
		cmocka_unit_test(test_pic_auto_eoi),
		cmocka_unit_test(test_pic_out_of_range_irq_ignored),
		cmocka_unit_test(test_pic_icw1_clears_requests),
		cmocka_unit_test(test_pit_conversions),
		cmocka_unit_test(test_pit_no_irq0_until_programmed),
		cmocka_unit_test(test_pit_mode2_rate),
		cmocka_unit_test(test_pit_mode0_one_shot),
		cmocka_unit_test(test_pit_mode3_counts_by_two),
		cmocka_unit_test(test_pit_lsb_only_and_msb_only),
		cmocka_unit_test(test_pit_read_back_status),
		cmocka_unit_test(test_port61_gate_and_out2),
		cmocka_unit_test(test_port61_gate_restarts_mode2),
		cmocka_unit_test(test_lapic_reset_state),
		cmocka_unit_test(test_lapic_access_sizes),
		cmocka_unit_test(test_lapic_priority_and_eoi),
		cmocka_unit_test(test_lapic_tpr_masks),
		cmocka_unit_test(test_lapic_icr),
		cmocka_unit_test(test_lapic_timer_one_shot),
		cmocka_unit_test(test_lapic_timer_periodic),
		cmocka_unit_test(test_lapic_software_disable_and_lint0),
		cmocka_unit_test(test_lapic_base_msr),
		cmocka_unit_test(test_ioapic_registers),
		cmocka_unit_test(test_ioapic_edge_delivery_and_mask),
		cmocka_unit_test(test_ioapic_level_remote_irr),
		cmocka_unit_test(test_ioapic_destination),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
