/* io: port I/O through the VMM's devices: UART, PIC masks, port 0x80, absent ports, and string I/O. */
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/string.h"
#include "guest/lib/x86.h"

#define COM1_DATA	0x3f8
#define COM1_MCR	0x3fc
#define COM1_LSR	0x3fd
#define COM1_MSR	0x3fe
#define COM1_SCRATCH	0x3ff
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define PIC1_DATA	0x21
#define PIC2_DATA	0xa1
#define POST_PORT	0x80
#define NO_DEVICE_PORT	0x1234
#define NO_DEVICE_PORT2	0xe9a0

#define PAGE_SIZE	4096
#define LSR_POLL_LIMIT	1000000

/* Where string instructions leave ESI/EDI and ECX, to check the VMM's register updates. */
struct string_io_result {
	uintptr_t ptr;
	uint32_t count;
};

static struct string_io_result rep_outsb(uint16_t port, const void *buf, uint32_t n)
{
	asm volatile("rep outsb" : "+S"(buf), "+c"(n) : "d"(port) : "memory");
	return (struct string_io_result){ (uintptr_t)buf, n };
}

static struct string_io_result rep_outsw(uint16_t port, const void *buf, uint32_t n)
{
	asm volatile("rep outsw" : "+S"(buf), "+c"(n) : "d"(port) : "memory");
	return (struct string_io_result){ (uintptr_t)buf, n };
}

static struct string_io_result rep_outsl(uint16_t port, const void *buf, uint32_t n)
{
	asm volatile("rep outsl" : "+S"(buf), "+c"(n) : "d"(port) : "memory");
	return (struct string_io_result){ (uintptr_t)buf, n };
}

static struct string_io_result rep_insb(uint16_t port, void *buf, uint32_t n)
{
	asm volatile("rep insb" : "+D"(buf), "+c"(n) : "d"(port) : "memory");
	return (struct string_io_result){ (uintptr_t)buf, n };
}

static struct string_io_result rep_insw(uint16_t port, void *buf, uint32_t n)
{
	asm volatile("rep insw" : "+D"(buf), "+c"(n) : "d"(port) : "memory");
	return (struct string_io_result){ (uintptr_t)buf, n };
}

static struct string_io_result rep_insl(uint16_t port, void *buf, uint32_t n)
{
	asm volatile("rep insl" : "+D"(buf), "+c"(n) : "d"(port) : "memory");
	return (struct string_io_result){ (uintptr_t)buf, n };
}

/* DF = 1 only inside the asm: compiled code must always see DF = 0. */
static struct string_io_result rep_insb_backwards(uint16_t port, void *last, uint32_t n)
{
	asm volatile("std\n\trep insb\n\tcld" : "+D"(last), "+c"(n) : "d"(port) : "memory", "cc");
	return (struct string_io_result){ (uintptr_t)last, n };
}

/* rep outs to the UART does not poll LSR, so start from an empty transmitter. */
static void wait_uart_idle(void)
{
	for (int i = 0; i < LSR_POLL_LIMIT; i++) {
		if ((inb(COM1_LSR) & (LSR_THRE | LSR_TEMT)) == (LSR_THRE | LSR_TEMT))
			return;
	}
}

static void check_bytes(const uint8_t *p, uint32_t n, uint8_t want)
{
	for (uint32_t i = 0; i < n; i++)
		CHECK_EQ(p[i], want);
}

static void check_uart_registers(void)
{
	static const uint8_t values[] = { 0x00, 0x5a, 0xa5, 0xff, 0x01, 0x80 };

	for (unsigned i = 0; i < sizeof(values); i++) {
		outb(COM1_SCRATCH, values[i]);
		CHECK_EQ(inb(COM1_SCRATCH), values[i]);
	}
	wait_uart_idle();
	CHECK_EQ(inb(COM1_LSR) & (LSR_THRE | LSR_TEMT), LSR_THRE | LSR_TEMT);
}

/* Interrupts stay off (IF = 0) throughout, so unmasking lines here cannot deliver anything. */
static void check_pic_masks(void)
{
	static const uint8_t values[] = { 0xff, 0x00, 0xa5, 0x5a, 0xfb };
	uint8_t saved1 = inb(PIC1_DATA), saved2 = inb(PIC2_DATA);

	for (unsigned i = 0; i < sizeof(values); i++) {
		outb(PIC1_DATA, values[i]);
		outb(PIC2_DATA, (uint8_t)~values[i]);
		CHECK_EQ(inb(PIC1_DATA), values[i]);
		CHECK_EQ(inb(PIC2_DATA), (uint8_t)~values[i]);
	}
	outb(PIC1_DATA, saved1);
	outb(PIC2_DATA, saved2);
}

static void check_post_port(void)
{
	outb(POST_PORT, 0x00);
	outb(POST_PORT, 0x42);
	outb(POST_PORT, 0xff);
}

/* An absent device floats the bus high: all ones at every width. */
static void check_no_device(uint16_t port)
{
	CHECK_EQ(inb(port), 0xff);
	CHECK_EQ(inw(port), 0xffff);
	CHECK_EQ(inl(port), 0xffffffff);
}

static void check_outs_to_console(void)
{
	static const char msg[] = "guest: rep outsb works\n";
	uint32_t n = sizeof(msg) - 1;

	wait_uart_idle();
	struct string_io_result r = rep_outsb(COM1_DATA, msg, n);

	CHECK_EQ(r.count, 0);
	CHECK_EQ(r.ptr, (uintptr_t)msg + n);
}

/*
 * A wide access to the 8-bit UART is split into byte accesses, lowest port
 * first, as on ISA (and in QEMU, which aborts on one running past 0x3ff).
 * So the string goes to a port below the scratch register such that each
 * element's last byte lands in it: outsw at 0x3fe (MSR, SCR), outsd at
 * 0x3fc (MCR, LSR, MSR, SCR). MSR and LSR ignore writes; the MCR byte
 * rewrites the current value, so the console keeps working.
 */
static void check_wide_outs_to_scratch(void)
{
	static const uint8_t words[] = { 0x00, 0x11, 0x00, 0x22, 0x00, 0x44 };
	uint8_t mcr = inb(COM1_MCR);
	const uint8_t dwords[] = { mcr, 0x00, 0x00, 0x55, mcr, 0x00, 0x00, 0x88 };
	struct string_io_result r;

	outb(COM1_SCRATCH, 0);
	r = rep_outsw(COM1_MSR, words, sizeof(words) / 2);
	CHECK_EQ(r.count, 0);
	CHECK_EQ(r.ptr, (uintptr_t)words + sizeof(words));
	CHECK_EQ(inb(COM1_SCRATCH), 0x44);

	r = rep_outsl(COM1_MCR, dwords, sizeof(dwords) / 4);
	CHECK_EQ(r.count, 0);
	CHECK_EQ(r.ptr, (uintptr_t)dwords + sizeof(dwords));
	CHECK_EQ(inb(COM1_SCRATCH), 0x88);
	CHECK_EQ(inb(COM1_MCR), mcr);
}

/* The guard bytes after the filled part catch a VMM that writes too much. */
static void check_ins_from_no_device(void)
{
	uint8_t buf[32];
	struct string_io_result r;

	memset(buf, 0, sizeof(buf));
	r = rep_insb(NO_DEVICE_PORT, buf, 16);
	CHECK_EQ(r.count, 0);
	CHECK_EQ(r.ptr, (uintptr_t)buf + 16);
	check_bytes(buf, 16, 0xff);
	check_bytes(buf + 16, 16, 0);

	memset(buf, 0, sizeof(buf));
	r = rep_insw(NO_DEVICE_PORT, buf, 8);
	CHECK_EQ(r.count, 0);
	CHECK_EQ(r.ptr, (uintptr_t)buf + 16);
	check_bytes(buf, 16, 0xff);
	check_bytes(buf + 16, 16, 0);

	memset(buf, 0, sizeof(buf));
	r = rep_insl(NO_DEVICE_PORT2, buf, 4);
	CHECK_EQ(r.count, 0);
	CHECK_EQ(r.ptr, (uintptr_t)buf + 16);
	check_bytes(buf, 16, 0xff);
	check_bytes(buf + 16, 16, 0);
}

/* With DF = 1, EDI starts at the last byte and moves down: bytes 8..11 filled, EDI ends at byte 7. */
static void check_ins_backwards(void)
{
	uint8_t buf[16];

	memset(buf, 0, sizeof(buf));
	struct string_io_result r = rep_insb_backwards(NO_DEVICE_PORT, buf + 11, 4);

	CHECK_EQ(r.count, 0);
	CHECK_EQ(r.ptr, (uintptr_t)buf + 7);
	check_bytes(buf, 8, 0);
	check_bytes(buf + 8, 4, 0xff);
	check_bytes(buf + 12, 4, 0);
}

/*
 * The guest runs with paging off, but the VMM backs guest pages with host
 * pages that need not be adjacent: string I/O must be split per page.
 */
static void check_string_io_across_pages(void)
{
	static uint8_t pages[2 * PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
	static const char msg[] = "guest: rep outsb across a page boundary works\n";
	uint32_t n = sizeof(msg) - 1;
	uint8_t *start = pages + PAGE_SIZE - 10;
	struct string_io_result r;

	memcpy(start, msg, n);
	wait_uart_idle();
	r = rep_outsb(COM1_DATA, start, n);
	CHECK_EQ(r.count, 0);
	CHECK_EQ(r.ptr, (uintptr_t)start + n);

	start[n - 1] = 0xc3;	/* on the second page */
	r = rep_outsb(COM1_SCRATCH, start, n);
	CHECK_EQ(r.count, 0);
	CHECK_EQ(inb(COM1_SCRATCH), 0xc3);

	memset(pages, 0, sizeof(pages));
	r = rep_insb(NO_DEVICE_PORT, start, 20);
	CHECK_EQ(r.count, 0);
	CHECK_EQ(r.ptr, (uintptr_t)start + 20);
	check_bytes(start, 20, 0xff);
	check_bytes(start - 16, 16, 0);
	check_bytes(start + 20, 16, 0);
}

int guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	check_uart_registers();
	check_pic_masks();
	check_post_port();
	check_no_device(NO_DEVICE_PORT);
	check_no_device(NO_DEVICE_PORT2);
	check_outs_to_console();
	check_wide_outs_to_scratch();
	check_ins_from_no_device();
	check_ins_backwards();
	check_string_io_across_pages();
	return guest_pass("io");
}
