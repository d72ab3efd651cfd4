/* COM1 console output and log levels. */
#include <stdint.h>
#include "vmm/console.h"
#include "vmm/format.h"
#include "vmm/log.h"
#include "vmm/x86.h"

#define UART_DATA	0
#define UART_IER	1
#define UART_FCR	2
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_LSR_THRE	0x20
#define UART_LSR_TEMT	0x40	/* holding and shift registers both empty */
#define UART_LCR_DLAB	0x80

enum log_level log_threshold = LOG_INFO;

void console_init(void)
{
	outb(COM1_PORT + UART_IER, 0);
	outb(COM1_PORT + UART_LCR, UART_LCR_DLAB);
	outb(COM1_PORT + UART_DATA, 1);		/* divisor 1: 115200 baud */
	outb(COM1_PORT + UART_IER, 0);
	outb(COM1_PORT + UART_LCR, 0x03);	/* 8N1 */
	outb(COM1_PORT + UART_FCR, 0x07);	/* FIFOs on and cleared */
	outb(COM1_PORT + UART_MCR, 0x03);	/* DTR, RTS */
}

/*
 * Lines end in a bare '\n': the runner and the tests read the console as a
 * Unix text file.  Set "add carriage return" in a terminal program on real
 * hardware.
 */
void console_putc(char c)
{
	while (!(inb(COM1_PORT + UART_LSR) & UART_LSR_THRE))
		;
	outb(COM1_PORT + UART_DATA, (uint8_t)c);
}

void console_flush(void)
{
	while (!(inb(COM1_PORT + UART_LSR) & UART_LSR_TEMT))
		;
}

void console_write(const char *s, size_t len)
{
	while (len--)
		console_putc(*s++);
}

static void emit_to_console(char c, void *ctx)
{
	(void)ctx;
	console_putc(c);
}

int kprintf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vformat(emit_to_console, NULL, fmt, ap);
	va_end(ap);
	return n;
}

void log_vat(enum log_level level, const char *fmt, va_list ap)
{
	if (level < log_threshold)
		return;
	fmt_vformat(emit_to_console, NULL, fmt, ap);
}

void log_at(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vat(level, fmt, ap);
	va_end(ap);
}
