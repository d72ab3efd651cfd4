/* Unit tests of the interrupt devices: 8259A IRQ lines, INTA, EOI and cascade; 8254 counting, IRQ 0 and port 0x61. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "devices/io_bus.h"
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
