/* Unit tests of the port I/O and MMIO buses and the emulated devices, driven through the buses as the VMM does. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "devices/debug_exit.h"
#include "devices/io_bus.h"
#include "devices/mmio_bus.h"
#include "devices/mmio_testdev.h"
#include "devices/pic.h"
#include "devices/post_port.h"
#include "devices/uart16550.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- A recording device for the bus tests ---- */

struct probe {
	struct io_device dev;
	uint32_t read_value;
	unsigned reads, writes;
	uint16_t last_port;
	unsigned last_size;
	uint32_t last_value;
};

static uint32_t probe_read(void *opaque, uint16_t port, unsigned size)
{
	struct probe *p = opaque;

	p->reads++;
	p->last_port = port;
	p->last_size = size;
	return p->read_value;
}

static void probe_write(void *opaque, uint16_t port, unsigned size, uint32_t value)
{
	struct probe *p = opaque;

	p->writes++;
	p->last_port = port;
	p->last_size = size;
	p->last_value = value;
}

static void probe_init(struct probe *p, uint16_t base, uint16_t count)
{
	memset(p, 0, sizeof(*p));
	p->dev.name = "probe";
	p->dev.base = base;
	p->dev.count = count;
	p->dev.opaque = p;
	p->dev.read = probe_read;
	p->dev.write = probe_write;
	p->read_value = 0xdeadbeef;
}

/* ---- io_bus ---- */

static void test_bus_routes_by_port(void **state)
{
	struct io_bus bus;
	struct probe a, b;

	(void)state;
	io_bus_init(&bus);
	probe_init(&a, 0x40, 4);
	probe_init(&b, 0x60, 1);
	assert_int_equal(io_bus_register(&bus, &a.dev), 0);
	assert_int_equal(io_bus_register(&bus, &b.dev), 0);
	assert_int_equal(bus.count, 2);

	io_bus_write(&bus, 0x43, 1, 0x5a);
	assert_int_equal(a.writes, 1);
	assert_int_equal(a.last_port, 0x43);
	assert_int_equal(a.last_size, 1);
	assert_int_equal(a.last_value, 0x5a);
	assert_int_equal(b.writes, 0);

	io_bus_write(&bus, 0x60, 4, 0x12345678);
	assert_int_equal(b.writes, 1);
	assert_int_equal(b.last_value, 0x12345678);
	assert_int_equal(b.last_size, 4);

	assert_int_equal(io_bus_read(&bus, 0x40, 2), 0xbeef);
	assert_int_equal(a.reads, 1);
	assert_int_equal(a.last_size, 2);
	assert_ptr_equal(io_bus_find(&bus, 0x41), &a.dev);
	assert_null(io_bus_find(&bus, 0x44));
	assert_int_equal(bus.unclaimed_reads, 0);
	assert_int_equal(bus.unclaimed_writes, 0);
}

static void test_bus_masks_values_to_the_access_size(void **state)
{
	struct io_bus bus;
	struct probe a;

	(void)state;
	io_bus_init(&bus);
	probe_init(&a, 0x100, 8);
	assert_int_equal(io_bus_register(&bus, &a.dev), 0);

	assert_int_equal(io_bus_read(&bus, 0x100, 1), 0xef);
	assert_int_equal(io_bus_read(&bus, 0x100, 2), 0xbeef);
	assert_int_equal(io_bus_read(&bus, 0x100, 4), 0xdeadbeef);
	io_bus_write(&bus, 0x100, 1, 0x12345678);
	assert_int_equal(a.last_value, 0x78);
	io_bus_write(&bus, 0x100, 2, 0x12345678);
	assert_int_equal(a.last_value, 0x5678);
	io_bus_write(&bus, 0x100, 4, 0x12345678);
	assert_int_equal(a.last_value, 0x12345678);
}

static void test_bus_refuses_overlaps(void **state)
{
	static const struct { uint16_t base, count; } clashes[] = {
		{ 0x20, 0x10 },	/* the same range */
		{ 0x18, 0x09 },	/* ends on the first port */
		{ 0x2f, 0x01 },	/* the last port */
		{ 0x24, 0x02 },	/* inside */
		{ 0x10, 0x40 },	/* around */
	};
	struct io_bus bus;
	struct probe a, other, below, above;
	size_t i;

	(void)state;
	io_bus_init(&bus);
	probe_init(&a, 0x20, 0x10);
	assert_int_equal(io_bus_register(&bus, &a.dev), 0);
	for (i = 0; i < ARRAY_SIZE(clashes); i++) {
		probe_init(&other, clashes[i].base, clashes[i].count);
		assert_int_equal(io_bus_register(&bus, &other.dev), -1);
	}
	assert_int_equal(bus.count, 1);

	/* Neighbours touching either end are fine. */
	probe_init(&below, 0x10, 0x10);
	probe_init(&above, 0x30, 0x01);
	assert_int_equal(io_bus_register(&bus, &below.dev), 0);
	assert_int_equal(io_bus_register(&bus, &above.dev), 0);
	assert_int_equal(bus.count, 3);
}

static void test_bus_refuses_bad_ranges_and_devices(void **state)
{
	struct io_bus bus;
	struct probe p;

	(void)state;
	io_bus_init(&bus);
	probe_init(&p, 0x10, 0);
	assert_int_equal(io_bus_register(&bus, &p.dev), -1);
	probe_init(&p, 0xfff0, 0x11);
	assert_int_equal(io_bus_register(&bus, &p.dev), -1);
	probe_init(&p, 0xffff, 0xffff);
	assert_int_equal(io_bus_register(&bus, &p.dev), -1);
	probe_init(&p, 0x10, 1);
	p.dev.read = NULL;
	assert_int_equal(io_bus_register(&bus, &p.dev), -1);
	probe_init(&p, 0x10, 1);
	p.dev.write = NULL;
	assert_int_equal(io_bus_register(&bus, &p.dev), -1);
	assert_int_equal(io_bus_register(&bus, NULL), -1);
	assert_int_equal(bus.count, 0);

	/* The very top of the port space is usable. */
	probe_init(&p, 0xfff0, 0x10);
	assert_int_equal(io_bus_register(&bus, &p.dev), 0);
	assert_int_equal(io_bus_read(&bus, 0xffff, 1), 0xef);
	assert_int_equal(p.last_port, 0xffff);
}

static void test_bus_full(void **state)
{
	struct io_bus bus;
	struct probe p[IO_BUS_MAX_DEVICES + 1];
	unsigned i;

	(void)state;
	io_bus_init(&bus);
	for (i = 0; i < IO_BUS_MAX_DEVICES; i++) {
		probe_init(&p[i], (uint16_t)(0x1000 + 4 * i), 4);
		assert_int_equal(io_bus_register(&bus, &p[i].dev), 0);
	}
	probe_init(&p[i], 0x2000, 1);
	assert_int_equal(io_bus_register(&bus, &p[i].dev), -1);
	assert_int_equal(bus.count, IO_BUS_MAX_DEVICES);
	io_bus_write(&bus, 0x1000 + 4 * (IO_BUS_MAX_DEVICES - 1), 1, 7);
	assert_int_equal(p[IO_BUS_MAX_DEVICES - 1].writes, 1);
}

static void test_bus_unclaimed_ports_read_all_ones(void **state)
{
	struct io_bus bus;
	struct probe a;

	(void)state;
	io_bus_init(&bus);
	probe_init(&a, 0x60, 1);
	assert_int_equal(io_bus_register(&bus, &a.dev), 0);

	assert_int_equal(io_bus_read(&bus, 0x61, 1), 0xff);
	assert_int_equal(io_bus_read(&bus, 0x61, 2), 0xffff);
	assert_int_equal(io_bus_read(&bus, 0x61, 4), 0xffffffff);
	assert_int_equal(io_bus_read(&bus, 0xffff, 4), 0xffffffff);
	assert_int_equal(bus.unclaimed_reads, 4);
	assert_int_equal(bus.unclaimed_writes, 0);

	io_bus_write(&bus, 0x5f, 1, 1);
	io_bus_write(&bus, 0x5f, 2, 1);
	io_bus_write(&bus, 0x5f, 4, 1);
	assert_int_equal(bus.unclaimed_writes, 3);
	assert_int_equal(bus.unclaimed_reads, 4);
	assert_int_equal(a.reads + a.writes, 0);
	assert_int_equal(bus.bad_size_accesses, 0);
}

static void test_bus_empty_reads_all_ones(void **state)
{
	struct io_bus bus;

	(void)state;
	io_bus_init(&bus);
	assert_int_equal(io_bus_read(&bus, 0, 1), 0xff);
	assert_int_equal(io_bus_read(&bus, 0x3f8, 2), 0xffff);
	assert_int_equal(bus.unclaimed_reads, 2);
}

/*
 * The owner of the first port gets the whole access; an access whose first
 * port nobody owns is unclaimed even if later bytes fall on a device.
 */
static void test_bus_routes_by_first_port_only(void **state)
{
	struct io_bus bus;
	struct probe a, b;

	(void)state;
	io_bus_init(&bus);
	probe_init(&a, 0x70, 2);
	probe_init(&b, 0x72, 2);
	assert_int_equal(io_bus_register(&bus, &a.dev), 0);
	assert_int_equal(io_bus_register(&bus, &b.dev), 0);

	io_bus_write(&bus, 0x71, 4, 0xaabbccdd);
	assert_int_equal(a.writes, 1);
	assert_int_equal(a.last_port, 0x71);
	assert_int_equal(a.last_size, 4);
	assert_int_equal(a.last_value, 0xaabbccdd);
	assert_int_equal(b.writes, 0);

	assert_int_equal(io_bus_read(&bus, 0x6f, 4), 0xffffffff);
	io_bus_write(&bus, 0x6e, 4, 0);
	assert_int_equal(a.reads + b.reads, 0);
	assert_int_equal(a.writes, 1);
	assert_int_equal(bus.unclaimed_reads, 1);
	assert_int_equal(bus.unclaimed_writes, 1);
}

static void test_bus_bad_sizes(void **state)
{
	static const unsigned sizes[] = { 0, 3, 5, 8, 16, ~0u };
	struct io_bus bus;
	struct probe a;
	size_t i;

	(void)state;
	io_bus_init(&bus);
	probe_init(&a, 0x80, 4);
	assert_int_equal(io_bus_register(&bus, &a.dev), 0);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		assert_int_equal(io_bus_read(&bus, 0x80, sizes[i]), 0xffffffff);
		io_bus_write(&bus, 0x80, sizes[i], 1);
		assert_int_equal(io_bus_read(&bus, 0x90, sizes[i]), 0xffffffff);
	}
	assert_int_equal(a.reads + a.writes, 0);
	assert_int_equal(bus.bad_size_accesses, 3 * ARRAY_SIZE(sizes));
	assert_int_equal(bus.unclaimed_reads, 0);
	assert_int_equal(bus.unclaimed_writes, 0);
	assert_int_equal(io_size_mask(1), 0xff);
	assert_int_equal(io_size_mask(2), 0xffff);
	assert_int_equal(io_size_mask(4), 0xffffffff);
}

/* ---- The byte-splitting helpers, on a 3-register device ---- */

struct regs3 {
	struct io_device dev;
	uint8_t reg[3];
	unsigned reads, writes;
};

static uint8_t regs3_read8(void *opaque, unsigned offset)
{
	struct regs3 *r = opaque;

	assert_true(offset < 3);
	r->reads++;
	return r->reg[offset];
}

static void regs3_write8(void *opaque, unsigned offset, uint8_t value)
{
	struct regs3 *r = opaque;

	assert_true(offset < 3);
	r->writes++;
	r->reg[offset] = value;
}

static uint32_t regs3_read(void *opaque, uint16_t port, unsigned size)
{
	struct regs3 *r = opaque;

	return io_read_bytewise(&r->dev, port, size, regs3_read8);
}

static void regs3_write(void *opaque, uint16_t port, unsigned size, uint32_t value)
{
	struct regs3 *r = opaque;

	io_write_bytewise(&r->dev, port, size, value, regs3_write8);
}

static void regs3_init(struct regs3 *r, uint16_t base)
{
	memset(r, 0, sizeof(*r));
	r->dev.name = "regs3";
	r->dev.base = base;
	r->dev.count = 3;
	r->dev.opaque = r;
	r->dev.read = regs3_read;
	r->dev.write = regs3_write;
}

static void test_bytewise_split_is_little_endian_and_bounded(void **state)
{
	struct io_bus bus;
	struct regs3 r;

	(void)state;
	io_bus_init(&bus);
	regs3_init(&r, 0x200);
	assert_int_equal(io_bus_register(&bus, &r.dev), 0);

	io_bus_write(&bus, 0x200, 2, 0xbbaa);
	assert_int_equal(r.reg[0], 0xaa);
	assert_int_equal(r.reg[1], 0xbb);
	assert_int_equal(r.reg[2], 0);

	/* Bytes past the device are dropped on writes and read as 0xff. */
	io_bus_write(&bus, 0x201, 4, 0x44332211);
	assert_int_equal(r.reg[0], 0xaa);
	assert_int_equal(r.reg[1], 0x11);
	assert_int_equal(r.reg[2], 0x22);
	assert_int_equal(r.writes, 4);
	assert_int_equal(io_bus_read(&bus, 0x200, 4), 0xff2211aa);
	assert_int_equal(io_bus_read(&bus, 0x202, 2), 0xff22);
	assert_int_equal(io_bus_read(&bus, 0x201, 1), 0x11);
	assert_int_equal(r.reads, 3 + 1 + 1);
}

static void test_bytewise_split_does_not_wrap_the_port_space(void **state)
{
	struct io_bus bus;
	struct regs3 r;

	(void)state;
	io_bus_init(&bus);
	regs3_init(&r, 0xfffd);
	r.reg[0] = 0x01;
	r.reg[1] = 0x02;
	r.reg[2] = 0x03;
	assert_int_equal(io_bus_register(&bus, &r.dev), 0);
	assert_int_equal(io_bus_read(&bus, 0xffff, 4), 0xffffff03);
	io_bus_write(&bus, 0xfffe, 4, 0x44332211);
	assert_int_equal(r.reg[0], 0x01);
	assert_int_equal(r.reg[1], 0x11);
	assert_int_equal(r.reg[2], 0x22);
}

/* ---- uart16550 ---- */

#define COM1 0x3f8
#define MAX_LINES 8

struct capture {
	char line[MAX_LINES][UART16550_LINE_MAX + 1];
	size_t len[MAX_LINES];
	unsigned count;
};

static void capture_line(void *ctx, const char *line, size_t len)
{
	struct capture *c = ctx;

	assert_true(len <= UART16550_LINE_MAX);
	assert_int_equal(line[len], '\0');
	assert_int_equal(strlen(line), len);
	assert_true(c->count < MAX_LINES);
	memcpy(c->line[c->count], line, len + 1);
	c->len[c->count] = len;
	c->count++;
}

struct uart_rig {
	struct io_bus bus;
	struct uart16550 uart;
	struct capture out;
};

static void uart_rig_init(struct uart_rig *r)
{
	memset(r, 0, sizeof(*r));
	io_bus_init(&r->bus);
	uart16550_init(&r->uart, COM1, capture_line, &r->out);
	assert_int_equal(io_bus_register(&r->bus, uart16550_device(&r->uart)), 0);
}

static void uart_puts(struct uart_rig *r, const char *s)
{
	while (*s)
		io_bus_write(&r->bus, COM1, 1, (uint8_t)*s++);
}

static void uart_putn(struct uart_rig *r, char c, size_t n)
{
	while (n--)
		io_bus_write(&r->bus, COM1, 1, (uint8_t)c);
}

static uint8_t uart_in(struct uart_rig *r, unsigned reg)
{
	return (uint8_t)io_bus_read(&r->bus, (uint16_t)(COM1 + reg), 1);
}

static void uart_out(struct uart_rig *r, unsigned reg, uint8_t value)
{
	io_bus_write(&r->bus, (uint16_t)(COM1 + reg), 1, value);
}

static void test_uart_reset_state(void **state)
{
	struct uart_rig r;

	(void)state;
	uart_rig_init(&r);
	assert_int_equal(r.uart.dev.base, COM1);
	assert_int_equal(r.uart.dev.count, 8);
	assert_int_equal(uart_in(&r, 0), 0x00);	/* RBR: nothing received */
	assert_int_equal(uart_in(&r, 1), 0x00);	/* IER */
	assert_int_equal(uart_in(&r, 2), 0x01);	/* IIR: no interrupt */
	assert_int_equal(uart_in(&r, 3), 0x00);	/* LCR */
	assert_int_equal(uart_in(&r, 4), 0x08);	/* MCR: OUT2, as QEMU resets it */
	assert_int_equal(uart_in(&r, 5), 0x60);	/* LSR */
	assert_int_equal(uart_in(&r, 6), 0xb0);	/* MSR: DCD DSR CTS */
	assert_int_equal(uart_in(&r, 7), 0x00);	/* SCR */
	uart_out(&r, 3, 0x80);
	assert_int_equal(uart_in(&r, 0), 0x0c);	/* 9600 baud */
	assert_int_equal(uart_in(&r, 1), 0x00);
	assert_int_equal(r.bus.unclaimed_reads, 0);
	/* The port after the UART is not its own. */
	assert_int_equal(io_bus_read(&r.bus, COM1 + 8, 1), 0xff);
	assert_int_equal(r.bus.unclaimed_reads, 1);
}

static void test_uart_dlab_switches_registers(void **state)
{
	struct uart_rig r;

	(void)state;
	uart_rig_init(&r);
	uart_out(&r, 1, 0xff);
	assert_int_equal(uart_in(&r, 1), 0x0f);	/* IER keeps bits 0-3 */

	/* 115200 8N1, the usual setup sequence. */
	uart_out(&r, 3, 0x80);
	uart_out(&r, 0, 0x01);
	uart_out(&r, 1, 0x00);
	assert_int_equal(uart_in(&r, 0), 0x01);
	assert_int_equal(uart_in(&r, 1), 0x00);
	assert_int_equal(uart_in(&r, 3), 0x80);
	uart_out(&r, 0, 0xab);
	uart_out(&r, 1, 0xcd);
	assert_int_equal(uart_in(&r, 0), 0xab);
	assert_int_equal(uart_in(&r, 1), 0xcd);
	assert_int_equal(r.uart.bytes_written, 0);	/* divisor writes are not output */

	uart_out(&r, 3, 0x03);
	assert_int_equal(uart_in(&r, 3), 0x03);
	assert_int_equal(uart_in(&r, 1), 0x0f);	/* IER untouched by the DLM writes */
	assert_int_equal(uart_in(&r, 0), 0x00);
	uart_out(&r, 0, 'x');
	assert_int_equal(r.uart.bytes_written, 1);

	uart_out(&r, 3, 0x83);
	assert_int_equal(uart_in(&r, 0), 0xab);	/* the divisor survived */
	assert_int_equal(uart_in(&r, 1), 0xcd);
}

static void test_uart_scratch_lcr_mcr_read_back(void **state)
{
	struct uart_rig r;
	unsigned v;

	(void)state;
	uart_rig_init(&r);
	for (v = 0; v < 256; v++) {
		uart_out(&r, 7, (uint8_t)v);
		assert_int_equal(uart_in(&r, 7), v);
	}
	uart_out(&r, 3, 0x1b);
	assert_int_equal(uart_in(&r, 3), 0x1b);
	uart_out(&r, 4, 0xeb);
	assert_int_equal(uart_in(&r, 4), 0x0b);
	/* LSR and MSR ignore writes. */
	uart_out(&r, 5, 0x00);
	uart_out(&r, 6, 0x00);
	assert_int_equal(uart_in(&r, 5), 0x60);
	assert_int_equal(uart_in(&r, 6), 0xb0);
	/* LSR stays "empty" however much is written. */
	uart_putn(&r, 'a', 100);
	assert_int_equal(uart_in(&r, 5), 0x60);
}

static void test_uart_iir_reports_fifos(void **state)
{
	struct uart_rig r;

	(void)state;
	uart_rig_init(&r);
	assert_int_equal(uart_in(&r, 2), 0x01);
	uart_out(&r, 2, 0x01);
	assert_int_equal(uart_in(&r, 2), 0xc1);
	uart_out(&r, 2, 0xc7);	/* enable, clear both FIFOs, trigger 14 */
	assert_int_equal(uart_in(&r, 2), 0xc1);
	assert_int_equal(r.uart.fcr, 0xc1);
	uart_out(&r, 2, 0x06);	/* clear without enable: FIFOs off */
	assert_int_equal(uart_in(&r, 2), 0x01);
	uart_out(&r, 2, 0x00);
	assert_int_equal(uart_in(&r, 2), 0x01);
	assert_int_equal(uart_in(&r, 5), 0x60);
}

static void test_uart_loopback_msr_and_silence(void **state)
{
	static const struct { uint8_t mcr, msr; } cases[] = {
		{ 0x10, 0x00 },
		{ 0x11, 0x20 },	/* DTR -> DSR */
		{ 0x12, 0x10 },	/* RTS -> CTS */
		{ 0x14, 0x40 },	/* OUT1 -> RI */
		{ 0x18, 0x80 },	/* OUT2 -> DCD */
		{ 0x1f, 0xf0 },
	};
	struct uart_rig r;
	size_t i;

	(void)state;
	uart_rig_init(&r);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		uart_out(&r, 4, cases[i].mcr);
		assert_int_equal(uart_in(&r, 6), cases[i].msr);
	}
	uart_puts(&r, "looped\n");
	assert_int_equal(r.out.count, 0);
	assert_int_equal(r.uart.bytes_written, 7);
	uart_out(&r, 4, 0x0b);
	assert_int_equal(uart_in(&r, 6), 0xb0);
	uart_puts(&r, "out\n");
	assert_int_equal(r.out.count, 1);
	assert_string_equal(r.out.line[0], "out");
}

static void test_uart_assembles_lines(void **state)
{
	struct uart_rig r;

	(void)state;
	uart_rig_init(&r);
	uart_puts(&r, "hello");
	assert_int_equal(r.out.count, 0);
	uart_puts(&r, ", guest\nsecond line\n");
	assert_int_equal(r.out.count, 2);
	assert_string_equal(r.out.line[0], "hello, guest");
	assert_int_equal(r.out.len[0], 12);
	assert_string_equal(r.out.line[1], "second line");
	uart_puts(&r, "\n");
	assert_int_equal(r.out.count, 3);
	assert_int_equal(r.out.len[2], 0);
	assert_int_equal(r.uart.bytes_written, 26);
	assert_int_equal(r.uart.lines, 3);
}

static void test_uart_crlf_and_lone_cr(void **state)
{
	struct uart_rig r;

	(void)state;
	uart_rig_init(&r);
	uart_puts(&r, "one\r\ntwo\r\n");
	assert_int_equal(r.out.count, 2);
	assert_string_equal(r.out.line[0], "one");
	assert_string_equal(r.out.line[1], "two");
	uart_puts(&r, "50%\r60%\n");
	assert_string_equal(r.out.line[2], "50%.60%");
	uart_puts(&r, "\r\r\n");
	assert_string_equal(r.out.line[3], ".");
	uart_puts(&r, "\r\n");
	assert_int_equal(r.out.count, 5);
	assert_int_equal(r.out.len[4], 0);
	uart_puts(&r, "\n\r");
	assert_int_equal(r.out.count, 6);
	assert_int_equal(r.out.len[5], 0);
	uart16550_flush(&r.uart);
	assert_int_equal(r.out.count, 7);
	assert_string_equal(r.out.line[6], ".");
}

static void test_uart_line_of_exactly_the_buffer_size(void **state)
{
	struct uart_rig r;

	(void)state;
	uart_rig_init(&r);
	uart_putn(&r, 'a', UART16550_LINE_MAX);
	assert_int_equal(r.out.count, 0);
	uart_puts(&r, "\n");
	assert_int_equal(r.out.count, 1);
	assert_int_equal(r.out.len[0], UART16550_LINE_MAX);
	assert_int_equal(strspn(r.out.line[0], "a"), UART16550_LINE_MAX);

	uart_putn(&r, 'b', UART16550_LINE_MAX);
	uart_puts(&r, "\r\n");
	assert_int_equal(r.out.count, 2);
	assert_int_equal(r.out.len[1], UART16550_LINE_MAX);
	uart16550_flush(&r.uart);
	assert_int_equal(r.out.count, 2);
}

static void test_uart_long_line_comes_in_pieces(void **state)
{
	struct uart_rig r;

	(void)state;
	uart_rig_init(&r);
	uart_putn(&r, 'x', UART16550_LINE_MAX);
	uart_putn(&r, 'y', UART16550_LINE_MAX);
	uart_putn(&r, 'z', 88);
	assert_int_equal(r.out.count, 2);
	uart_puts(&r, "\n");
	assert_int_equal(r.out.count, 3);
	assert_int_equal(r.out.len[0], UART16550_LINE_MAX);
	assert_int_equal(strspn(r.out.line[0], "x"), UART16550_LINE_MAX);
	assert_int_equal(r.out.len[1], UART16550_LINE_MAX);
	assert_int_equal(strspn(r.out.line[1], "y"), UART16550_LINE_MAX);
	assert_int_equal(r.out.len[2], 88);
	assert_int_equal(strspn(r.out.line[2], "z"), 88);

	/* A held '\r' lands on the next piece when the buffer is full. */
	uart_putn(&r, 'w', UART16550_LINE_MAX);
	uart_puts(&r, "\rv\n");
	assert_int_equal(r.out.count, 5);
	assert_int_equal(r.out.len[3], UART16550_LINE_MAX);
	assert_string_equal(r.out.line[4], ".v");
}

static void test_uart_flush_emits_partial_line(void **state)
{
	struct uart_rig r;

	(void)state;
	uart_rig_init(&r);
	uart16550_flush(&r.uart);
	assert_int_equal(r.out.count, 0);
	uart_puts(&r, "done\nPASS");
	assert_int_equal(r.out.count, 1);
	uart16550_flush(&r.uart);
	assert_int_equal(r.out.count, 2);
	assert_string_equal(r.out.line[1], "PASS");
	uart16550_flush(&r.uart);
	assert_int_equal(r.out.count, 2);
	uart_puts(&r, "next\n");
	assert_string_equal(r.out.line[2], "next");
	assert_int_equal(r.uart.lines, 3);
}

static void test_uart_shows_non_printables_as_dots(void **state)
{
	static const uint8_t bytes[] = {
		'a', '\t', 0x00, 0x01, 0x08, 0x1b, '[', '0', 'm', 0x7f, 0x80, 0xc3, 0xa9, 0xff,
		' ', '~', '\n',
	};
	struct uart_rig r;
	size_t i;

	(void)state;
	uart_rig_init(&r);
	for (i = 0; i < ARRAY_SIZE(bytes); i++)
		io_bus_write(&r.bus, COM1, 1, bytes[i]);
	assert_int_equal(r.out.count, 1);
	assert_string_equal(r.out.line[0], "a\t....[0m..... ~");
	assert_int_equal(r.out.len[0], ARRAY_SIZE(bytes) - 1);
}

static void test_uart_wide_accesses_split_into_bytes(void **state)
{
	struct uart_rig r;

	(void)state;
	uart_rig_init(&r);
	/* outw to THR: 'A' is sent, the high byte lands in IER, as in QEMU. */
	io_bus_write(&r.bus, COM1, 2, 0x4241);
	assert_int_equal(uart_in(&r, 1), 0x02);
	assert_int_equal(r.uart.bytes_written, 1);
	uart_puts(&r, "\n");
	assert_string_equal(r.out.line[0], "A");

	uart_out(&r, 7, 0x5c);
	assert_int_equal(io_bus_read(&r.bus, COM1 + 4, 4), 0x5cb06008);
	assert_int_equal(io_bus_read(&r.bus, COM1 + 5, 2), 0xb060);
	/* Past the last register nothing is decoded. */
	assert_int_equal(io_bus_read(&r.bus, COM1 + 7, 2), 0xff5c);
	assert_int_equal(io_bus_read(&r.bus, COM1 + 6, 4), 0xffff5cb0);
	io_bus_write(&r.bus, COM1 + 7, 4, 0x4142435d);
	assert_int_equal(uart_in(&r, 7), 0x5d);
	assert_int_equal(r.uart.bytes_written, 2);
	assert_int_equal(r.bus.unclaimed_reads + r.bus.unclaimed_writes, 0);
}

static void test_uart_without_consumer(void **state)
{
	struct io_bus bus;
	struct uart16550 u;

	(void)state;
	io_bus_init(&bus);
	uart16550_init(&u, 0x2f8, NULL, NULL);
	assert_int_equal(io_bus_register(&bus, uart16550_device(&u)), 0);
	io_bus_write(&bus, 0x2f8, 1, 'h');
	io_bus_write(&bus, 0x2f8, 1, '\n');
	io_bus_write(&bus, 0x2f8, 1, 'i');
	uart16550_flush(&u);
	assert_int_equal(u.bytes_written, 3);
	assert_int_equal(u.lines, 2);
}

/* ---- debug_exit ---- */

struct exits {
	unsigned count;
	uint32_t status;
};

static void record_exit(void *ctx, uint32_t status)
{
	struct exits *e = ctx;

	e->count++;
	e->status = status;
}

static void test_debug_exit_status(void **state)
{
	static const struct { uint16_t port; unsigned size; uint32_t value, status; } cases[] = {
		{ DEBUG_EXIT_BASE, 1, 0x00, 0x01 },
		{ DEBUG_EXIT_BASE, 1, 0x01, 0x03 },
		{ DEBUG_EXIT_BASE, 1, 0x7f, 0xff },
		{ DEBUG_EXIT_BASE, 1, 0xff, 0x1ff },
		{ DEBUG_EXIT_BASE, 1, 0x1234, 0x69 },	/* masked to the byte 0x34 */
		{ DEBUG_EXIT_BASE, 2, 0x00, 0x01 },
		{ DEBUG_EXIT_BASE, 2, 0x01, 0x03 },
		{ DEBUG_EXIT_BASE, 2, 0x7f, 0xff },
		{ DEBUG_EXIT_BASE, 2, 0x1234, 0x2469 },
		{ DEBUG_EXIT_BASE, 2, 0x12345678, 0xacf1 },
		{ DEBUG_EXIT_BASE, 4, 0x00, 0x01 },
		{ DEBUG_EXIT_BASE, 4, 0x01, 0x03 },
		{ DEBUG_EXIT_BASE, 4, 0x7f, 0xff },
		{ DEBUG_EXIT_BASE, 4, 0x12345678, 0x2468acf1 },
		{ DEBUG_EXIT_BASE, 4, 0xffffffff, 0xffffffff },	/* bit 31 is lost */
		{ DEBUG_EXIT_BASE + 1, 1, 0x01, 0x03 },		/* every port of the range */
		{ DEBUG_EXIT_BASE + 1, 4, 0x10, 0x21 },
	};
	struct io_bus bus;
	struct debug_exit d;
	struct exits e = { 0, 0 };
	size_t i;

	(void)state;
	io_bus_init(&bus);
	debug_exit_init(&d, DEBUG_EXIT_BASE, DEBUG_EXIT_PORTS, record_exit, &e);
	assert_int_equal(io_bus_register(&bus, debug_exit_device(&d)), 0);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		io_bus_write(&bus, cases[i].port, cases[i].size, cases[i].value);
		assert_int_equal(e.count, i + 1);
		assert_int_equal(e.status, cases[i].status);
		assert_int_equal(d.last_status, cases[i].status);
	}
	assert_int_equal(d.writes, ARRAY_SIZE(cases));
	io_bus_write(&bus, DEBUG_EXIT_BASE + DEBUG_EXIT_PORTS, 1, 0);
	assert_int_equal(e.count, ARRAY_SIZE(cases));
	assert_int_equal(bus.unclaimed_writes, 1);
}

static void test_debug_exit_reads_zero(void **state)
{
	struct io_bus bus;
	struct debug_exit d;
	struct exits e = { 0, 0 };

	(void)state;
	io_bus_init(&bus);
	debug_exit_init(&d, 0xf4, 1, record_exit, &e);
	assert_int_equal(io_bus_register(&bus, debug_exit_device(&d)), 0);
	assert_int_equal(io_bus_read(&bus, 0xf4, 1), 0);
	assert_int_equal(io_bus_read(&bus, 0xf4, 2), 0);
	assert_int_equal(io_bus_read(&bus, 0xf4, 4), 0);
	assert_int_equal(e.count, 0);
	assert_int_equal(d.last_status, 0);
	io_bus_write(&bus, 0xf4, 1, 0x10);
	assert_int_equal(e.status, 0x21);
	assert_int_equal(bus.unclaimed_reads + bus.unclaimed_writes, 0);
}

static void test_debug_exit_without_callback(void **state)
{
	struct io_bus bus;
	struct debug_exit d;

	(void)state;
	io_bus_init(&bus);
	debug_exit_init(&d, DEBUG_EXIT_BASE, DEBUG_EXIT_PORTS, NULL, NULL);
	assert_int_equal(io_bus_register(&bus, debug_exit_device(&d)), 0);
	io_bus_write(&bus, DEBUG_EXIT_BASE, 1, 2);
	assert_int_equal(d.writes, 1);
	assert_int_equal(d.last_status, 5);
}

/* ---- post_port ---- */

static void test_post_port(void **state)
{
	struct io_bus bus;
	struct post_port p;

	(void)state;
	io_bus_init(&bus);
	post_port_init(&p);
	assert_int_equal(io_bus_register(&bus, post_port_device(&p)), 0);
	assert_int_equal(post_port_last(&p), -1);

	assert_int_equal(io_bus_read(&bus, 0x80, 1), 0xff);
	assert_int_equal(io_bus_read(&bus, 0x80, 2), 0xffff);
	assert_int_equal(io_bus_read(&bus, 0x80, 4), 0xffffffff);

	io_bus_write(&bus, 0x80, 1, 0x55);
	assert_int_equal(post_port_last(&p), 0x55);
	assert_int_equal(io_bus_read(&bus, 0x80, 1), 0xff);	/* not read back, as in QEMU */
	io_bus_write(&bus, 0x80, 1, 0x00);
	assert_int_equal(post_port_last(&p), 0x00);
	io_bus_write(&bus, 0x80, 2, 0xaa42);
	assert_int_equal(post_port_last(&p), 0x42);
	io_bus_write(&bus, 0x80, 4, 0x12345678);
	assert_int_equal(post_port_last(&p), 0x78);
	assert_int_equal(p.writes, 4);

	/* Claimed, so the I/O-delay writes are not counted as strays. */
	assert_int_equal(bus.unclaimed_reads + bus.unclaimed_writes, 0);
	io_bus_write(&bus, 0x81, 1, 0);
	assert_int_equal(bus.unclaimed_writes, 1);
}

/* ---- pic ---- */

struct pic_rig {
	struct io_bus bus;
	struct pic pic;
};

static void pic_rig_init(struct pic_rig *r)
{
	memset(r, 0, sizeof(*r));
	io_bus_init(&r->bus);
	pic_init(&r->pic);
	assert_int_equal(io_bus_register(&r->bus, pic_device(&r->pic, PIC_MASTER)), 0);
	assert_int_equal(io_bus_register(&r->bus, pic_device(&r->pic, PIC_SLAVE)), 0);
}

static void outb(struct pic_rig *r, uint16_t port, uint8_t value)
{
	io_bus_write(&r->bus, port, 1, value);
}

static uint8_t inb(struct pic_rig *r, uint16_t port)
{
	return (uint8_t)io_bus_read(&r->bus, port, 1);
}

/* Linux's init_8259A(): cascade on IRQ 2, 8086 mode, vectors 0x30 and 0x38. */
static void linux_pic_init(struct pic_rig *r)
{
	outb(r, 0x21, 0xff);
	outb(r, 0xa1, 0xff);
	outb(r, 0x20, 0x11);
	outb(r, 0x21, 0x30);
	outb(r, 0x21, 0x04);
	outb(r, 0x21, 0x01);
	outb(r, 0xa0, 0x11);
	outb(r, 0xa1, 0x38);
	outb(r, 0xa1, 0x02);
	outb(r, 0xa1, 0x01);
}

static void test_pic_reset_state(void **state)
{
	struct pic_rig r;

	(void)state;
	pic_rig_init(&r);
	assert_int_equal(pic_device(&r.pic, PIC_MASTER)->base, 0x20);
	assert_int_equal(pic_device(&r.pic, PIC_MASTER)->count, 2);
	assert_int_equal(pic_device(&r.pic, PIC_SLAVE)->base, 0xa0);
	assert_int_equal(pic_mask(&r.pic, PIC_MASTER), 0x00);	/* QEMU: imr = 0 */
	assert_int_equal(pic_mask(&r.pic, PIC_SLAVE), 0x00);
	assert_int_equal(pic_vector_base(&r.pic, PIC_MASTER), 0);
	assert_int_equal(pic_vector_base(&r.pic, PIC_SLAVE), 0);
	assert_false(pic_initialized(&r.pic, PIC_MASTER));
	assert_false(pic_initialized(&r.pic, PIC_SLAVE));
	assert_int_equal(inb(&r, 0x20), 0x00);
	assert_int_equal(inb(&r, 0x21), 0x00);
	assert_int_equal(inb(&r, 0xa0), 0x00);
	assert_int_equal(inb(&r, 0xa1), 0x00);

	/* Before any ICW the data port takes masks. */
	outb(&r, 0x21, 0xfe);
	assert_int_equal(pic_mask(&r.pic, PIC_MASTER), 0xfe);
	assert_int_equal(inb(&r, 0x21), 0xfe);
	assert_int_equal(r.bus.unclaimed_reads + r.bus.unclaimed_writes, 0);
	assert_int_equal(inb(&r, 0x22), 0xff);
	assert_int_equal(r.bus.unclaimed_reads, 1);
}

static void test_pic_init_with_icw4(void **state)
{
	struct pic_rig r;

	(void)state;
	pic_rig_init(&r);
	linux_pic_init(&r);
	assert_true(pic_initialized(&r.pic, PIC_MASTER));
	assert_true(pic_initialized(&r.pic, PIC_SLAVE));
	assert_int_equal(pic_vector_base(&r.pic, PIC_MASTER), 0x30);
	assert_int_equal(pic_vector_base(&r.pic, PIC_SLAVE), 0x38);
	assert_int_equal(r.pic.chip[PIC_MASTER].icw3, 0x04);
	assert_int_equal(r.pic.chip[PIC_SLAVE].icw3, 0x02);
	assert_int_equal(r.pic.chip[PIC_MASTER].icw4, 0x01);
	assert_false(r.pic.chip[PIC_MASTER].auto_eoi);
	/* ICW1 cleared the masks written before it. */
	assert_int_equal(pic_mask(&r.pic, PIC_MASTER), 0x00);
	assert_int_equal(pic_mask(&r.pic, PIC_SLAVE), 0x00);

	/* Then data-port writes are OCW1, one mask per chip. */
	outb(&r, 0x21, 0xfb);
	outb(&r, 0xa1, 0xff);
	assert_int_equal(pic_mask(&r.pic, PIC_MASTER), 0xfb);
	assert_int_equal(pic_mask(&r.pic, PIC_SLAVE), 0xff);
	assert_int_equal(inb(&r, 0x21), 0xfb);
	assert_int_equal(inb(&r, 0xa1), 0xff);
	outb(&r, 0xa1, 0xef);	/* unmask IRQ 12 */
	assert_int_equal(pic_mask(&r.pic, PIC_SLAVE), 0xef);
	assert_int_equal(pic_mask(&r.pic, PIC_MASTER), 0xfb);
	assert_int_equal(pic_vector_base(&r.pic, PIC_MASTER), 0x30);

	/* Auto-EOI and special fully nested mode come from ICW4. */
	outb(&r, 0x20, 0x11);
	outb(&r, 0x21, 0x08);
	outb(&r, 0x21, 0x04);
	outb(&r, 0x21, 0x13);
	assert_true(r.pic.chip[PIC_MASTER].auto_eoi);
	assert_true(r.pic.chip[PIC_MASTER].special_nested);
	assert_int_equal(pic_vector_base(&r.pic, PIC_MASTER), 0x08);
	assert_int_equal(pic_mask(&r.pic, PIC_MASTER), 0x00);
}

static void test_pic_init_without_icw4(void **state)
{
	struct pic_rig r;

	(void)state;
	pic_rig_init(&r);
	/* Cascaded, no ICW4: ICW2, ICW3, then masks. */
	outb(&r, 0x20, 0x10);
	assert_false(pic_initialized(&r.pic, PIC_MASTER));
	outb(&r, 0x21, 0x20);
	outb(&r, 0x21, 0x04);
	assert_true(pic_initialized(&r.pic, PIC_MASTER));
	outb(&r, 0x21, 0xfd);
	assert_int_equal(pic_vector_base(&r.pic, PIC_MASTER), 0x20);
	assert_int_equal(pic_mask(&r.pic, PIC_MASTER), 0xfd);
	assert_int_equal(r.pic.chip[PIC_MASTER].icw4, 0);

	/* Single, no ICW4: ICW2 only. */
	outb(&r, 0xa0, 0x12);
	outb(&r, 0xa1, 0x70);
	assert_true(pic_initialized(&r.pic, PIC_SLAVE));
	outb(&r, 0xa1, 0x7f);
	assert_int_equal(pic_vector_base(&r.pic, PIC_SLAVE), 0x70);
	assert_int_equal(pic_mask(&r.pic, PIC_SLAVE), 0x7f);
	assert_int_equal(r.pic.chip[PIC_SLAVE].icw3, 0);

	/* Single with ICW4: ICW2, ICW4 (no ICW3). */
	outb(&r, 0xa0, 0x13);
	outb(&r, 0xa1, 0x78);
	outb(&r, 0xa1, 0x03);
	assert_true(pic_initialized(&r.pic, PIC_SLAVE));
	assert_int_equal(r.pic.chip[PIC_SLAVE].icw4, 0x03);
	assert_true(r.pic.chip[PIC_SLAVE].auto_eoi);
	outb(&r, 0xa1, 0x55);
	assert_int_equal(pic_mask(&r.pic, PIC_SLAVE), 0x55);
	assert_int_equal(pic_vector_base(&r.pic, PIC_SLAVE), 0x78);

	/* The master was not disturbed. */
	assert_int_equal(pic_mask(&r.pic, PIC_MASTER), 0xfd);
	assert_int_equal(pic_vector_base(&r.pic, PIC_MASTER), 0x20);
}

static void test_pic_icw2_low_bits_ignored_and_ocw_mid_sequence(void **state)
{
	struct pic_rig r;

	(void)state;
	pic_rig_init(&r);
	outb(&r, 0x20, 0x11);
	outb(&r, 0x21, 0x27);
	/* An OCW3 between ICWs does not restart or end the sequence. */
	outb(&r, 0x20, 0x0b);
	assert_int_equal(inb(&r, 0x21), 0x00);	/* data reads give IMR meanwhile */
	outb(&r, 0x21, 0x04);
	outb(&r, 0x21, 0x01);
	assert_true(pic_initialized(&r.pic, PIC_MASTER));
	assert_int_equal(pic_vector_base(&r.pic, PIC_MASTER), 0x20);
	assert_true(r.pic.chip[PIC_MASTER].read_isr);
	outb(&r, 0x21, 0xaa);
	assert_int_equal(pic_mask(&r.pic, PIC_MASTER), 0xaa);

	/* A new ICW1 mid-sequence starts over. */
	outb(&r, 0x20, 0x11);
	outb(&r, 0x21, 0x40);
	outb(&r, 0x20, 0x11);
	assert_false(pic_initialized(&r.pic, PIC_MASTER));
	outb(&r, 0x21, 0x48);
	outb(&r, 0x21, 0x04);
	outb(&r, 0x21, 0x01);
	outb(&r, 0x21, 0xf0);
	assert_int_equal(pic_vector_base(&r.pic, PIC_MASTER), 0x48);
	assert_int_equal(pic_mask(&r.pic, PIC_MASTER), 0xf0);
}

static void test_pic_ocw3_selects_irr_or_isr(void **state)
{
	struct pic_rig r;
	struct pic_chip *m, *s;

	(void)state;
	pic_rig_init(&r);
	linux_pic_init(&r);
	m = &r.pic.chip[PIC_MASTER];
	s = &r.pic.chip[PIC_SLAVE];
	/* No interrupt sources exist yet: both registers read 0. */
	outb(&r, 0x20, 0x0a);
	assert_int_equal(inb(&r, 0x20), 0x00);
	outb(&r, 0x20, 0x0b);
	assert_int_equal(inb(&r, 0x20), 0x00);

	/* With state planted, the selection shows. */
	m->irr = 0x11;
	m->isr = 0x02;
	s->irr = 0x40;
	s->isr = 0x80;
	outb(&r, 0x21, 0x5a);
	assert_int_equal(inb(&r, 0x20), 0x02);	/* still ISR: the choice sticks */
	assert_int_equal(inb(&r, 0x20), 0x02);
	assert_int_equal(inb(&r, 0x21), 0x5a);	/* the data port reads IMR */
	outb(&r, 0x20, 0x0a);
	assert_int_equal(inb(&r, 0x20), 0x11);
	outb(&r, 0x20, 0x09);	/* RR clear: no change */
	assert_int_equal(inb(&r, 0x20), 0x11);
	assert_int_equal(inb(&r, 0xa0), 0x40);	/* each chip has its own choice */
	outb(&r, 0xa0, 0x0b);
	assert_int_equal(inb(&r, 0xa0), 0x80);
	assert_int_equal(inb(&r, 0x20), 0x11);

	/* Special mask mode is set and cleared only with ESMM. */
	outb(&r, 0x20, 0x68);
	assert_true(m->special_mask);
	outb(&r, 0x20, 0x28);
	assert_true(m->special_mask);
	outb(&r, 0x20, 0x48);
	assert_false(m->special_mask);

	/* ICW1 selects IRR again. */
	outb(&r, 0xa0, 0x11);
	assert_false(s->read_isr);
	assert_int_equal(inb(&r, 0xa0), 0x00);
}

static void test_pic_ocw2_end_of_interrupt(void **state)
{
	struct pic_rig r;
	struct pic_chip *m;

	(void)state;
	pic_rig_init(&r);
	linux_pic_init(&r);
	m = &r.pic.chip[PIC_MASTER];

	m->isr = 0x0a;
	outb(&r, 0x20, 0x20);	/* non-specific EOI: the highest priority, IRQ 1 */
	assert_int_equal(m->isr, 0x08);
	outb(&r, 0x20, 0x63);	/* specific EOI for IRQ 3 */
	assert_int_equal(m->isr, 0x00);
	outb(&r, 0x20, 0x20);	/* nothing in service: harmless */
	assert_int_equal(m->isr, 0x00);

	/* Set priority: IRQ 4 lowest, so IRQ 5 is the highest. */
	outb(&r, 0x20, 0xc4);
	assert_int_equal(m->lowest_prio, 4);
	m->isr = 0x21;
	outb(&r, 0x20, 0x20);
	assert_int_equal(m->isr, 0x01);

	/* Rotate on non-specific EOI: the served IRQ becomes the lowest. */
	m->isr = 0x01;
	outb(&r, 0x20, 0xa0);
	assert_int_equal(m->isr, 0x00);
	assert_int_equal(m->lowest_prio, 0);
	/* Rotate on specific EOI. */
	m->isr = 0x40;
	outb(&r, 0x20, 0xe6);
	assert_int_equal(m->isr, 0x00);
	assert_int_equal(m->lowest_prio, 6);
	/* Rotation in automatic EOI mode on and off; NOP. */
	outb(&r, 0x20, 0x80);
	assert_true(m->rotate_on_aeoi);
	outb(&r, 0x20, 0x00);
	assert_false(m->rotate_on_aeoi);
	outb(&r, 0x20, 0x40);
	assert_int_equal(m->lowest_prio, 6);
	assert_int_equal(pic_mask(&r.pic, PIC_MASTER), 0x00);
}

static void test_pic_poll(void **state)
{
	struct pic_rig r;
	struct pic_chip *m;

	(void)state;
	pic_rig_init(&r);
	linux_pic_init(&r);
	m = &r.pic.chip[PIC_MASTER];

	/* Nothing pending: the poll reads 0 and is over. */
	outb(&r, 0x20, 0x0c);
	assert_int_equal(inb(&r, 0x20), 0x00);
	assert_false(m->poll);
	m->irr = 0x10;
	assert_int_equal(inb(&r, 0x20), 0x10);	/* a plain IRR read again */

	/* A pending request is acknowledged: into ISR, out of IRR. */
	outb(&r, 0x20, 0x0c);
	assert_int_equal(inb(&r, 0x21), 0x84);
	assert_int_equal(m->irr, 0x00);
	assert_int_equal(m->isr, 0x10);
	assert_int_equal(inb(&r, 0x21), 0x00);	/* IMR */

	/* A masked request, or one below the level in service, is not offered. */
	m->irr = 0x20;
	outb(&r, 0x21, 0x20);
	outb(&r, 0x20, 0x0c);
	assert_int_equal(inb(&r, 0x20), 0x00);
	outb(&r, 0x21, 0x00);
	outb(&r, 0x20, 0x0c);
	assert_int_equal(inb(&r, 0x20), 0x00);
	/* Until the EOI. */
	outb(&r, 0x20, 0x20);
	outb(&r, 0x20, 0x0c);
	assert_int_equal(inb(&r, 0x20), 0x85);
	assert_int_equal(m->isr, 0x20);
}

static void test_pic_wide_accesses_split_into_bytes(void **state)
{
	struct pic_rig r;

	(void)state;
	pic_rig_init(&r);
	/* outw 0x20: ICW1 to the command port, then ICW2 to the data port. */
	io_bus_write(&r.bus, 0x20, 2, 0x2011);
	io_bus_write(&r.bus, 0x21, 1, 0x04);
	io_bus_write(&r.bus, 0x21, 1, 0x01);
	assert_true(pic_initialized(&r.pic, PIC_MASTER));
	assert_int_equal(pic_vector_base(&r.pic, PIC_MASTER), 0x20);
	io_bus_write(&r.bus, 0x21, 2, 0x12c3);	/* the high byte falls off the chip */
	assert_int_equal(pic_mask(&r.pic, PIC_MASTER), 0xc3);
	r.pic.chip[PIC_MASTER].irr = 0x01;
	assert_int_equal(io_bus_read(&r.bus, 0x20, 2), 0xc301);
	assert_int_equal(io_bus_read(&r.bus, 0x20, 4), 0xffffc301);
	assert_int_equal(io_bus_read(&r.bus, 0x21, 2), 0xffc3);
	assert_int_equal(pic_mask(&r.pic, PIC_SLAVE), 0x00);
}

/* ---- All of them on one bus, as the VMM sets them up ---- */

static void test_pc_layout_on_one_bus(void **state)
{
	struct io_bus bus;
	struct uart16550 uart;
	struct debug_exit dbg;
	struct post_port post;
	struct pic pic;
	struct capture out;
	struct exits e = { 0, 0 };

	(void)state;
	memset(&out, 0, sizeof(out));
	io_bus_init(&bus);
	uart16550_init(&uart, COM1, capture_line, &out);
	debug_exit_init(&dbg, DEBUG_EXIT_BASE, DEBUG_EXIT_PORTS, record_exit, &e);
	post_port_init(&post);
	pic_init(&pic);
	assert_int_equal(io_bus_register(&bus, pic_device(&pic, PIC_MASTER)), 0);
	assert_int_equal(io_bus_register(&bus, post_port_device(&post)), 0);
	assert_int_equal(io_bus_register(&bus, pic_device(&pic, PIC_SLAVE)), 0);
	assert_int_equal(io_bus_register(&bus, uart16550_device(&uart)), 0);
	assert_int_equal(io_bus_register(&bus, debug_exit_device(&dbg)), 0);
	assert_int_equal(bus.count, 5);
	/* Registering a device twice is an overlap with itself. */
	assert_int_equal(io_bus_register(&bus, uart16550_device(&uart)), -1);

	io_bus_write(&bus, 0x21, 1, 0xff);
	io_bus_write(&bus, 0x80, 1, 0x42);
	io_bus_write(&bus, COM1, 1, 'o');
	io_bus_write(&bus, COM1, 1, 'k');
	io_bus_write(&bus, COM1, 1, '\n');
	io_bus_write(&bus, DEBUG_EXIT_BASE, 1, 0);
	assert_int_equal(pic_mask(&pic, PIC_MASTER), 0xff);
	assert_int_equal(pic_mask(&pic, PIC_SLAVE), 0x00);
	assert_int_equal(post_port_last(&post), 0x42);
	assert_int_equal(out.count, 1);
	assert_string_equal(out.line[0], "ok");
	assert_int_equal(e.status, 1);
	assert_int_equal(bus.unclaimed_reads + bus.unclaimed_writes, 0);
	assert_int_equal(io_bus_read(&bus, 0x2f8, 1), 0xff);	/* no COM2 */
	assert_int_equal(bus.unclaimed_reads, 1);
}

/* ---- mmio_bus, with recording devices ---- */

#define MMIO_PROBE_CALLS 32

/* A device that records every call and reads back a per-offset pattern: byte at offset o is 0x40 + o. */
struct mmio_probe {
	struct mmio_device dev;
	unsigned calls;
	struct {
		bool write;
		uint64_t offset;
		unsigned size;
		uint64_t value;
	} call[MMIO_PROBE_CALLS];
	bool garbage_high;	/* reads set bits above the access size */
};

static uint64_t mmio_probe_pattern(uint64_t offset, unsigned size)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < size; i++)
		v |= (uint64_t)(uint8_t)(0x40 + offset + i) << (8 * i);
	return v;
}

static void mmio_probe_record(struct mmio_probe *p, bool write, uint64_t offset, unsigned size, uint64_t value)
{
	/* The bus promises the whole access lies inside the device. */
	assert_true(size == 1 || size == 2 || size == 4 || size == 8);
	assert_true(offset + size <= p->dev.size);
	assert_true(p->calls < MMIO_PROBE_CALLS);
	p->call[p->calls].write = write;
	p->call[p->calls].offset = offset;
	p->call[p->calls].size = size;
	p->call[p->calls].value = value;
	p->calls++;
}

static uint64_t mmio_probe_read(void *opaque, uint64_t offset, unsigned size)
{
	struct mmio_probe *p = opaque;
	uint64_t v = mmio_probe_pattern(offset, size);

	mmio_probe_record(p, false, offset, size, 0);
	if (p->garbage_high && size < 8)
		v |= ~0ull << (8 * size);
	return v;
}

static void mmio_probe_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
	mmio_probe_record(opaque, true, offset, size, value);
}

static void mmio_probe_init(struct mmio_probe *p, uint64_t base, uint64_t size)
{
	memset(p, 0, sizeof(*p));
	p->dev.name = "mmio-probe";
	p->dev.base = base;
	p->dev.size = size;
	p->dev.opaque = p;
	p->dev.read = mmio_probe_read;
	p->dev.write = mmio_probe_write;
}

static uint64_t le_bytes(const uint8_t *b, unsigned n)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static void test_mmio_bus_find_and_claims(void **state)
{
	struct mmio_bus bus;
	struct mmio_probe a, b;

	(void)state;
	mmio_bus_init(&bus);
	mmio_probe_init(&a, 0x1000, 0x100);
	mmio_probe_init(&b, 0x1100, 0x10);	/* right after a */
	assert_int_equal(mmio_bus_register(&bus, &a.dev), 0);
	assert_int_equal(mmio_bus_register(&bus, &b.dev), 0);
	assert_null(mmio_bus_find(&bus, 0xfff));
	assert_ptr_equal(mmio_bus_find(&bus, 0x1000), &a.dev);
	assert_ptr_equal(mmio_bus_find(&bus, 0x10ff), &a.dev);
	assert_ptr_equal(mmio_bus_find(&bus, 0x1100), &b.dev);
	assert_ptr_equal(mmio_bus_find(&bus, 0x110f), &b.dev);
	assert_null(mmio_bus_find(&bus, 0x1110));
	assert_true(mmio_bus_claims(&bus, 0x10f8, 0x18));	/* across both */
	assert_false(mmio_bus_claims(&bus, 0x10f8, 0x19));	/* one byte past b */
	assert_false(mmio_bus_claims(&bus, 0xfff, 2));
	assert_true(mmio_bus_claims(&bus, 0x5000, 0));
	assert_false(mmio_bus_claims(&bus, ~0ull, 2));		/* wraps */
}

static void test_mmio_bus_refuses_bad_devices_and_overlaps(void **state)
{
	struct mmio_bus bus;
	struct mmio_probe a, b, c[MMIO_BUS_MAX_DEVICES + 1];
	unsigned i;

	(void)state;
	mmio_bus_init(&bus);
	mmio_probe_init(&a, 0x2000, 0x1000);
	assert_int_equal(mmio_bus_register(&bus, NULL), -1);
	assert_int_equal(mmio_bus_register(&bus, &a.dev), 0);
	assert_int_equal(mmio_bus_register(&bus, &a.dev), -1);	/* twice: overlaps itself */
	mmio_probe_init(&b, 0x2fff, 1);
	assert_int_equal(mmio_bus_register(&bus, &b.dev), -1);	/* a's last byte */
	mmio_probe_init(&b, 0x1000, 0x1001);
	assert_int_equal(mmio_bus_register(&bus, &b.dev), -1);	/* a's first byte */
	mmio_probe_init(&b, 0x1000, 0x3000);
	assert_int_equal(mmio_bus_register(&bus, &b.dev), -1);	/* covers a */
	mmio_probe_init(&b, 0x4000, 0);
	assert_int_equal(mmio_bus_register(&bus, &b.dev), -1);	/* empty */
	mmio_probe_init(&b, ~0ull - 0xff, 0x101);
	assert_int_equal(mmio_bus_register(&bus, &b.dev), -1);	/* wraps */
	mmio_probe_init(&b, ~0ull - 0xff, 0x100);
	b.dev.read = NULL;
	assert_int_equal(mmio_bus_register(&bus, &b.dev), -1);	/* no handler */
	b.dev.read = mmio_probe_read;
	assert_int_equal(mmio_bus_register(&bus, &b.dev), 0);	/* ends exactly at 2^64 */
	assert_ptr_equal(mmio_bus_find(&bus, ~0ull), &b.dev);
	assert_int_equal(bus.count, 2);

	for (i = 0; i < MMIO_BUS_MAX_DEVICES - 2; i++) {
		mmio_probe_init(&c[i], 0x100000 + i * 0x1000, 0x1000);
		assert_int_equal(mmio_bus_register(&bus, &c[i].dev), 0);
	}
	mmio_probe_init(&c[i], 0x900000, 0x1000);
	assert_int_equal(mmio_bus_register(&bus, &c[i].dev), -1);	/* full */
	assert_int_equal(bus.count, MMIO_BUS_MAX_DEVICES);
}

static void test_mmio_bus_one_call_per_natural_size(void **state)
{
	static const unsigned sizes[] = { 1, 2, 4, 8 };
	struct mmio_bus bus;
	struct mmio_probe p;
	uint8_t buf[16];
	unsigned i;

	(void)state;
	mmio_bus_init(&bus);
	mmio_probe_init(&p, 0xfeb00000, 0x100);
	assert_int_equal(mmio_bus_register(&bus, &p.dev), 0);
	for (i = 0; i < 4; i++) {
		uint64_t gpa = 0xfeb00000 + 0x13 + i;	/* unaligned on purpose */

		p.calls = 0;
		memset(buf, 0xee, sizeof(buf));
		assert_true(mmio_bus_read(&bus, gpa, buf, sizes[i]));
		assert_int_equal(p.calls, 1);
		assert_false(p.call[0].write);
		assert_int_equal(p.call[0].offset, 0x13 + i);
		assert_int_equal(p.call[0].size, sizes[i]);
		assert_int_equal(le_bytes(buf, sizes[i]), mmio_probe_pattern(0x13 + i, sizes[i]));
		assert_int_equal(buf[sizes[i]], 0xee);	/* nothing past the access */

		p.calls = 0;
		memcpy(buf, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
		assert_true(mmio_bus_write(&bus, gpa, buf, sizes[i]));
		assert_int_equal(p.calls, 1);
		assert_true(p.call[0].write);
		assert_int_equal(p.call[0].size, sizes[i]);
		assert_int_equal(p.call[0].value, le_bytes(buf, sizes[i]));
	}
	assert_int_equal(bus.reads, 4);
	assert_int_equal(bus.writes, 4);
	assert_int_equal(bus.split_accesses, 0);
}

static void test_mmio_bus_odd_and_long_accesses_in_one_device(void **state)
{
	struct mmio_bus bus;
	struct mmio_probe p;
	uint8_t buf[16], want[16];
	unsigned i;

	(void)state;
	mmio_bus_init(&bus);
	mmio_probe_init(&p, 0x10000, 0x40);
	assert_int_equal(mmio_bus_register(&bus, &p.dev), 0);

	/* 16 bytes (CMPXCHG16B): 8 + 8, lowest first. */
	assert_true(mmio_bus_read(&bus, 0x10008, buf, 16));
	assert_int_equal(p.calls, 2);
	assert_int_equal(p.call[0].offset, 8);
	assert_int_equal(p.call[0].size, 8);
	assert_int_equal(p.call[1].offset, 16);
	assert_int_equal(p.call[1].size, 8);
	for (i = 0; i < 16; i++)
		want[i] = (uint8_t)(0x48 + i);
	assert_memory_equal(buf, want, 16);

	/* 3 bytes: 2 + 1; 7 bytes: 4 + 2 + 1. */
	p.calls = 0;
	assert_true(mmio_bus_write(&bus, 0x10001, "\xaa\xbb\xcc", 3));
	assert_int_equal(p.calls, 2);
	assert_int_equal(p.call[0].size, 2);
	assert_int_equal(p.call[0].value, 0xbbaa);
	assert_int_equal(p.call[1].offset, 3);
	assert_int_equal(p.call[1].size, 1);
	assert_int_equal(p.call[1].value, 0xcc);
	p.calls = 0;
	assert_true(mmio_bus_read(&bus, 0x10030, buf, 7));
	assert_int_equal(p.calls, 3);
	assert_int_equal(p.call[0].size, 4);
	assert_int_equal(p.call[1].size, 2);
	assert_int_equal(p.call[2].size, 1);
	assert_int_equal(p.call[2].offset, 0x36);
	assert_int_equal(le_bytes(buf, 7), mmio_probe_pattern(0x30, 7));

	/* Out-of-range lengths reach nothing. */
	p.calls = 0;
	assert_false(mmio_bus_read(&bus, 0x10000, buf, 0));
	assert_false(mmio_bus_write(&bus, 0x10000, buf, MMIO_BUS_MAX_ACCESS + 1));
	assert_int_equal(p.calls, 0);
}

static void test_mmio_bus_masks_read_results(void **state)
{
	struct mmio_bus bus;
	struct mmio_probe p;
	uint8_t buf[8];

	(void)state;
	mmio_bus_init(&bus);
	mmio_probe_init(&p, 0x3000, 0x10);
	p.garbage_high = true;
	assert_int_equal(mmio_bus_register(&bus, &p.dev), 0);
	memset(buf, 0x99, sizeof(buf));
	assert_true(mmio_bus_read(&bus, 0x3004, buf, 2));
	assert_int_equal(le_bytes(buf, 2), 0x4544);
	assert_int_equal(buf[2], 0x99);
}

static void test_mmio_bus_splits_across_devices_bytewise(void **state)
{
	struct mmio_bus bus;
	struct mmio_probe a, b;
	uint8_t buf[8];
	unsigned i;

	(void)state;
	mmio_bus_init(&bus);
	mmio_probe_init(&a, 0x5000, 0x10);
	mmio_probe_init(&b, 0x5010, 0x10);
	assert_int_equal(mmio_bus_register(&bus, &a.dev), 0);
	assert_int_equal(mmio_bus_register(&bus, &b.dev), 0);

	/* 8 bytes at 0x500d: 3 bytes of a (0xd-0xf), 5 of b (0-4), one byte each, lowest address first. */
	assert_true(mmio_bus_read(&bus, 0x500d, buf, 8));
	assert_int_equal(a.calls, 3);
	assert_int_equal(b.calls, 5);
	for (i = 0; i < 3; i++) {
		assert_int_equal(a.call[i].offset, 0xd + i);
		assert_int_equal(a.call[i].size, 1);
	}
	for (i = 0; i < 5; i++) {
		assert_int_equal(b.call[i].offset, i);
		assert_int_equal(b.call[i].size, 1);
	}
	assert_int_equal(buf[0], 0x4d);
	assert_int_equal(buf[2], 0x4f);
	assert_int_equal(buf[3], 0x40);
	assert_int_equal(buf[7], 0x44);
	assert_int_equal(bus.split_accesses, 1);

	a.calls = b.calls = 0;
	assert_true(mmio_bus_write(&bus, 0x500f, "\x01\x02", 2));
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.call[0].value, 0x01);
	assert_int_equal(a.call[0].offset, 0xf);
	assert_int_equal(b.calls, 1);
	assert_int_equal(b.call[0].value, 0x02);
	assert_int_equal(b.call[0].offset, 0);
}

static void test_mmio_bus_partly_unclaimed_reaches_nothing(void **state)
{
	struct mmio_bus bus;
	struct mmio_probe a;
	uint8_t buf[8];

	(void)state;
	mmio_bus_init(&bus);
	mmio_probe_init(&a, 0x6000, 0x10);
	assert_int_equal(mmio_bus_register(&bus, &a.dev), 0);
	memset(buf, 0x77, sizeof(buf));
	assert_false(mmio_bus_read(&bus, 0x600c, buf, 8));	/* 4 bytes past the end */
	assert_false(mmio_bus_write(&bus, 0x5ffc, buf, 8));	/* 4 bytes before the start */
	assert_false(mmio_bus_read(&bus, 0x7000, buf, 1));
	assert_int_equal(a.calls, 0);
	assert_int_equal(buf[0], 0x77);
	assert_int_equal(bus.reads + bus.writes, 0);
}

static void test_mmio_bus_move(void **state)
{
	struct mmio_bus bus;
	struct mmio_probe a, b, stray;
	uint8_t buf[1];

	(void)state;
	mmio_bus_init(&bus);
	mmio_probe_init(&a, 0x10000, 0x2000);
	mmio_probe_init(&b, 0x20000, 0x1000);
	mmio_probe_init(&stray, 0x30000, 0x1000);
	assert_int_equal(mmio_bus_register(&bus, &a.dev), 0);
	assert_int_equal(mmio_bus_register(&bus, &b.dev), 0);

	assert_int_equal(mmio_bus_move(&bus, &a.dev, 0x1f000), -1);	/* onto b */
	assert_int_equal(mmio_bus_move(&bus, &a.dev, ~0ull - 0xfff), -1);	/* wraps */
	assert_int_equal(mmio_bus_move(&bus, &stray.dev, 0x40000), -1);	/* not on the bus */
	assert_int_equal(mmio_bus_move(&bus, NULL, 0x40000), -1);
	assert_int_equal(a.dev.base, 0x10000);

	assert_int_equal(mmio_bus_move(&bus, &a.dev, 0x11000), 0);	/* over its own old range */
	assert_int_equal(mmio_bus_move(&bus, &a.dev, 0x1e000), 0);	/* right below b */
	assert_null(mmio_bus_find(&bus, 0x10000));
	assert_ptr_equal(mmio_bus_find(&bus, 0x1e000), &a.dev);
	assert_true(mmio_bus_read(&bus, 0x1e001, buf, 1));
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.call[0].offset, 1);
	assert_false(mmio_bus_read(&bus, 0x10001, buf, 1));
}

/* ---- mmio_testdev, through the bus as the VMM uses it ---- */

struct testdev_rig {
	struct mmio_bus bus;
	struct mmio_testdev dev;
};

static void testdev_rig_init(struct testdev_rig *r)
{
	mmio_bus_init(&r->bus);
	mmio_testdev_init(&r->dev, MMIO_TESTDEV_BASE);
	assert_int_equal(mmio_bus_register(&r->bus, mmio_testdev_device(&r->dev)), 0);
}

static uint64_t td_read(struct testdev_rig *r, uint64_t offset, unsigned size)
{
	uint8_t buf[8] = { 0 };

	assert_true(mmio_bus_read(&r->bus, MMIO_TESTDEV_BASE + offset, buf, size));
	return le_bytes(buf, size);
}

static void td_write(struct testdev_rig *r, uint64_t offset, unsigned size, uint64_t v)
{
	uint8_t buf[8];
	unsigned i;

	for (i = 0; i < 8; i++)
		buf[i] = (uint8_t)(v >> (8 * i));
	assert_true(mmio_bus_write(&r->bus, MMIO_TESTDEV_BASE + offset, buf, size));
}

static void test_testdev_id_at_every_size_and_offset(void **state)
{
	static const char id[] = "TMMIODEV";
	struct testdev_rig r;
	unsigned size, off;

	(void)state;
	testdev_rig_init(&r);
	assert_int_equal(MMIO_TESTDEV_ID, le_bytes((const uint8_t *)id, 8));
	assert_int_equal(td_read(&r, 0, 8), 0x5645444f494d4d54ull);
	for (size = 1; size <= 8; size *= 2)
		for (off = 0; off + size <= 8; off++)
			assert_int_equal(td_read(&r, off, size), le_bytes((const uint8_t *)id + off, size));
	td_write(&r, 0, 8, 0);		/* read-only */
	td_write(&r, 3, 1, 0xff);
	assert_int_equal(td_read(&r, 0, 8), MMIO_TESTDEV_ID);
}

static void test_testdev_scratch_sub_register_writes(void **state)
{
	struct testdev_rig r;

	(void)state;
	testdev_rig_init(&r);
	assert_int_equal(td_read(&r, MMIO_TESTDEV_REG_SCRATCH, 8), 0);
	td_write(&r, MMIO_TESTDEV_REG_SCRATCH, 8, 0x0123456789abcdefull);
	assert_int_equal(td_read(&r, MMIO_TESTDEV_REG_SCRATCH, 8), 0x0123456789abcdefull);
	td_write(&r, MMIO_TESTDEV_REG_SCRATCH + 2, 2, 0xbeef);
	assert_int_equal(td_read(&r, MMIO_TESTDEV_REG_SCRATCH, 8), 0x01234567beefcdefull);
	td_write(&r, MMIO_TESTDEV_REG_SCRATCH + 7, 1, 0xaa);
	assert_int_equal(td_read(&r, MMIO_TESTDEV_REG_SCRATCH + 4, 4), 0xaa234567);
	td_write(&r, MMIO_TESTDEV_REG_SCRATCH + 4, 4, 0x11223344);
	assert_int_equal(td_read(&r, MMIO_TESTDEV_REG_SCRATCH, 8), 0x11223344beefcdefull);
	assert_int_equal(td_read(&r, MMIO_TESTDEV_REG_SCRATCH + 3, 1), 0xbe);
}

static void test_testdev_count_counts_earlier_accesses(void **state)
{
	struct testdev_rig r;
	uint8_t buf[16];

	(void)state;
	testdev_rig_init(&r);
	assert_int_equal(td_read(&r, MMIO_TESTDEV_REG_COUNT, 8), 0);
	assert_int_equal(td_read(&r, MMIO_TESTDEV_REG_COUNT, 8), 1);
	td_write(&r, MMIO_TESTDEV_REG_ID, 4, 1);		/* ignored, still counted */
	td_write(&r, 0x100, 1, 1);				/* a gap: counted */
	(void)td_read(&r, MMIO_TESTDEV_WINDOW, 8);
	td_write(&r, MMIO_TESTDEV_REG_COUNT, 8, 1000);		/* read-only */
	assert_int_equal(td_read(&r, MMIO_TESTDEV_REG_COUNT, 4), 6);
	assert_int_equal(td_read(&r, MMIO_TESTDEV_REG_COUNT + 1, 1), 0);	/* byte 1 of 7 */
	/* A 16-byte access is two calls, so it counts twice. */
	assert_true(mmio_bus_read(&r.bus, MMIO_TESTDEV_BASE + MMIO_TESTDEV_WINDOW, buf, 16));
	assert_int_equal(td_read(&r, MMIO_TESTDEV_REG_COUNT, 8), 10);
	assert_int_equal(r.dev.count, 11);
}

static void test_testdev_doorbell(void **state)
{
	struct testdev_rig r;

	(void)state;
	testdev_rig_init(&r);
	assert_int_equal(td_read(&r, MMIO_TESTDEV_REG_DOORBELL, 8), 0);
	td_write(&r, MMIO_TESTDEV_REG_DOORBELL, 8, 0xfeedfacecafebeefull);
	assert_int_equal(td_read(&r, MMIO_TESTDEV_REG_LAST, 8), 0xfeedfacecafebeefull);
	assert_int_equal(td_read(&r, MMIO_TESTDEV_REG_DOORBELL, 8), 1);
	td_write(&r, MMIO_TESTDEV_REG_DOORBELL, 4, 0x12345678);
	/* A partial write replaces the bytes it covers. */
	assert_int_equal(td_read(&r, MMIO_TESTDEV_REG_LAST, 8), 0xfeedface12345678ull);
	td_write(&r, MMIO_TESTDEV_REG_DOORBELL + 7, 1, 0x00);
	assert_int_equal(td_read(&r, MMIO_TESTDEV_REG_LAST, 8), 0x00edface12345678ull);
	assert_int_equal(td_read(&r, MMIO_TESTDEV_REG_DOORBELL, 2), 3);
	td_write(&r, MMIO_TESTDEV_REG_LAST, 8, 0);		/* read-only */
	assert_int_equal(td_read(&r, MMIO_TESTDEV_REG_LAST + 4, 4), 0x00edface);
	assert_int_equal(r.dev.rings, 3);
	/* One access straddling COUNT (read-only) and DOORBELL rings once; only DOORBELL's bytes land. */
	td_write(&r, MMIO_TESTDEV_REG_DOORBELL - 4, 8, 0xaabbccdd11223344ull);
	assert_int_equal(td_read(&r, MMIO_TESTDEV_REG_DOORBELL, 8), 4);
	assert_int_equal(td_read(&r, MMIO_TESTDEV_REG_LAST, 8), 0x00edfaceaabbccddull);
	assert_int_equal(td_read(&r, MMIO_TESTDEV_REG_COUNT + 4, 4), 0);
	/* ... and one straddling DOORBELL and LAST (read-only) too. */
	td_write(&r, MMIO_TESTDEV_REG_DOORBELL + 4, 8, 0x5566778899aabbccull);
	assert_int_equal(td_read(&r, MMIO_TESTDEV_REG_LAST, 8), 0x99aabbccaabbccddull);
	assert_int_equal(r.dev.rings, 5);
}

static void test_testdev_gaps_read_zero(void **state)
{
	struct testdev_rig r;

	(void)state;
	testdev_rig_init(&r);
	td_write(&r, MMIO_TESTDEV_REGS_END, 8, ~0ull);
	td_write(&r, 0x7f8, 8, ~0ull);
	td_write(&r, 0x1800, 8, ~0ull);
	td_write(&r, MMIO_TESTDEV_SIZE - 8, 8, ~0ull);
	assert_int_equal(td_read(&r, MMIO_TESTDEV_REGS_END, 8), 0);
	assert_int_equal(td_read(&r, 0x7f8, 8), 0);
	assert_int_equal(td_read(&r, 0x1800, 8), 0);
	assert_int_equal(td_read(&r, MMIO_TESTDEV_SIZE - 8, 8), 0);
	/* Nothing of it reached the window. */
	assert_int_equal(td_read(&r, MMIO_TESTDEV_WINDOW, 8), 0);
	assert_int_equal(td_read(&r, MMIO_TESTDEV_WINDOW + MMIO_TESTDEV_WINDOW_SIZE - 8, 8), 0);
}

static void test_testdev_window_is_ram(void **state)
{
	struct testdev_rig r;
	uint8_t buf[16];
	unsigned i;

	(void)state;
	testdev_rig_init(&r);
	for (i = 0; i < MMIO_TESTDEV_WINDOW_SIZE; i += 8)
		assert_int_equal(td_read(&r, MMIO_TESTDEV_WINDOW + i, 8), 0);
	for (i = 0; i < MMIO_TESTDEV_WINDOW_SIZE; i++)
		td_write(&r, MMIO_TESTDEV_WINDOW + i, 1, (uint8_t)(i * 7 + 3));
	for (i = 0; i < MMIO_TESTDEV_WINDOW_SIZE; i++)
		assert_int_equal(td_read(&r, MMIO_TESTDEV_WINDOW + i, 1), (uint8_t)(i * 7 + 3));
	/* Across the page boundary at device offset 0x1000. */
	td_write(&r, 0x0ffc, 8, 0x8877665544332211ull);
	assert_int_equal(td_read(&r, 0x0ffc, 4), 0x44332211);
	assert_int_equal(td_read(&r, 0x1000, 4), 0x88776655);
	assert_int_equal(td_read(&r, 0x0ffe, 4), 0x66554433);
	assert_true(mmio_bus_read(&r.bus, MMIO_TESTDEV_BASE + 0xff8, buf, 16));
	assert_int_equal(le_bytes(buf + 4, 8), 0x8877665544332211ull);
	/* Straddling the window's start and end: half gap (0), half window. */
	td_write(&r, MMIO_TESTDEV_WINDOW - 4, 8, 0xa1a2a3a4b1b2b3b4ull);
	assert_int_equal(td_read(&r, MMIO_TESTDEV_WINDOW - 4, 8), 0xa1a2a3a400000000ull);
	td_write(&r, MMIO_TESTDEV_WINDOW + MMIO_TESTDEV_WINDOW_SIZE - 4, 8, 0xc1c2c3c4d1d2d3d4ull);
	assert_int_equal(td_read(&r, MMIO_TESTDEV_WINDOW + MMIO_TESTDEV_WINDOW_SIZE - 4, 8), 0xd1d2d3d4ull);
}

static void test_testdev_reset_and_move_keep_registers(void **state)
{
	struct testdev_rig r;
	uint64_t new_base = 0x80000000ull;
	uint8_t buf[8];

	(void)state;
	testdev_rig_init(&r);
	td_write(&r, MMIO_TESTDEV_REG_SCRATCH, 8, 42);
	td_write(&r, MMIO_TESTDEV_WINDOW + 5, 1, 9);
	assert_int_equal(mmio_bus_move(&r.bus, mmio_testdev_device(&r.dev), new_base), 0);
	assert_false(mmio_bus_read(&r.bus, MMIO_TESTDEV_BASE, buf, 8));
	assert_true(mmio_bus_read(&r.bus, new_base + MMIO_TESTDEV_REG_SCRATCH, buf, 8));
	assert_int_equal(le_bytes(buf, 8), 42);
	assert_true(mmio_bus_read(&r.bus, new_base + MMIO_TESTDEV_WINDOW + 5, buf, 1));
	assert_int_equal(buf[0], 9);
	assert_true(mmio_bus_read(&r.bus, new_base + MMIO_TESTDEV_REG_COUNT, buf, 8));
	assert_int_equal(le_bytes(buf, 8), 4);

	mmio_testdev_init(&r.dev, MMIO_TESTDEV_BASE);
	assert_int_equal(r.dev.scratch + r.dev.count + r.dev.rings + r.dev.last, 0);
	assert_int_equal(r.dev.window[5], 0);
	assert_int_equal(r.dev.dev.base, MMIO_TESTDEV_BASE);
	assert_int_equal(r.dev.dev.size, MMIO_TESTDEV_SIZE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bus_routes_by_port),
		cmocka_unit_test(test_bus_masks_values_to_the_access_size),
		cmocka_unit_test(test_bus_refuses_overlaps),
		cmocka_unit_test(test_bus_refuses_bad_ranges_and_devices),
		cmocka_unit_test(test_bus_full),
		cmocka_unit_test(test_bus_unclaimed_ports_read_all_ones),
		cmocka_unit_test(test_bus_empty_reads_all_ones),
		cmocka_unit_test(test_bus_routes_by_first_port_only),
		cmocka_unit_test(test_bus_bad_sizes),
		cmocka_unit_test(test_bytewise_split_is_little_endian_and_bounded),
		cmocka_unit_test(test_bytewise_split_does_not_wrap_the_port_space),
		cmocka_unit_test(test_uart_reset_state),
		cmocka_unit_test(test_uart_dlab_switches_registers),
		cmocka_unit_test(test_uart_scratch_lcr_mcr_read_back),
		cmocka_unit_test(test_uart_iir_reports_fifos),
		cmocka_unit_test(test_uart_loopback_msr_and_silence),
		cmocka_unit_test(test_uart_assembles_lines),
		cmocka_unit_test(test_uart_crlf_and_lone_cr),
		cmocka_unit_test(test_uart_line_of_exactly_the_buffer_size),
		cmocka_unit_test(test_uart_long_line_comes_in_pieces),
		cmocka_unit_test(test_uart_flush_emits_partial_line),
		cmocka_unit_test(test_uart_shows_non_printables_as_dots),
		cmocka_unit_test(test_uart_wide_accesses_split_into_bytes),
		cmocka_unit_test(test_uart_without_consumer),
		cmocka_unit_test(test_debug_exit_status),
		cmocka_unit_test(test_debug_exit_reads_zero),
		cmocka_unit_test(test_debug_exit_without_callback),
		cmocka_unit_test(test_post_port),
		cmocka_unit_test(test_pic_reset_state),
		cmocka_unit_test(test_pic_init_with_icw4),
		cmocka_unit_test(test_pic_init_without_icw4),
		cmocka_unit_test(test_pic_icw2_low_bits_ignored_and_ocw_mid_sequence),
		cmocka_unit_test(test_pic_ocw3_selects_irr_or_isr),
		cmocka_unit_test(test_pic_ocw2_end_of_interrupt),
		cmocka_unit_test(test_pic_poll),
		cmocka_unit_test(test_pic_wide_accesses_split_into_bytes),
		cmocka_unit_test(test_pc_layout_on_one_bus),
		cmocka_unit_test(test_mmio_bus_find_and_claims),
		cmocka_unit_test(test_mmio_bus_refuses_bad_devices_and_overlaps),
		cmocka_unit_test(test_mmio_bus_one_call_per_natural_size),
		cmocka_unit_test(test_mmio_bus_odd_and_long_accesses_in_one_device),
		cmocka_unit_test(test_mmio_bus_masks_read_results),
		cmocka_unit_test(test_mmio_bus_splits_across_devices_bytewise),
		cmocka_unit_test(test_mmio_bus_partly_unclaimed_reaches_nothing),
		cmocka_unit_test(test_mmio_bus_move),
		cmocka_unit_test(test_testdev_id_at_every_size_and_offset),
		cmocka_unit_test(test_testdev_scratch_sub_register_writes),
		cmocka_unit_test(test_testdev_count_counts_earlier_accesses),
		cmocka_unit_test(test_testdev_doorbell),
		cmocka_unit_test(test_testdev_gaps_read_zero),
		cmocka_unit_test(test_testdev_window_is_ram),
		cmocka_unit_test(test_testdev_reset_and_move_keep_registers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
