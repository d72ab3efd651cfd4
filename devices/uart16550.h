/* An output-only 16550A UART (COM1 style) whose transmitted text is delivered line by line. */
#ifndef DEVICES_UART16550_H
#define DEVICES_UART16550_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/io_bus.h"

#define UART16550_PORTS 8

/* Longest line handed to line_out in one piece; longer lines come in pieces. */
#define UART16550_LINE_MAX 256

/*
 * Called with each complete line, without its '\n' (nor a '\r' just before
 * it); line[len] is '\0' and line holds no other '\0'.  Bytes outside
 * 0x20-0x7e other than '\t' are shown as '.'.  The buffer is only valid
 * during the call.
 */
typedef void (*uart16550_line_fn)(void *ctx, const char *line, size_t len);

/*
 * Register state as the guest sees it.  Nothing is ever received, so LSR
 * reads 0x60 (transmitter empty, no data ready) and IIR reports no
 * interrupt pending: the guest can poll LSR but never waits.
 */
struct uart16550 {
	struct io_device dev;
	uart16550_line_fn line_out;
	void *ctx;

	uint8_t ier;		/* bits 0-3 only */
	uint8_t fcr;		/* the FCR bits that stick: 0xc9 */
	uint8_t lcr;
	uint8_t mcr;		/* bits 0-4 only */
	uint8_t scr;
	uint8_t dll, dlm;	/* divisor latch, visible while LCR.DLAB is set */

	/* line[0, line_len) is pending output; pending_cr: a '\r' not yet shown. */
	char line[UART16550_LINE_MAX + 1];
	size_t line_len;
	bool pending_cr;

	/* Bytes written to THR (loopback ones included), line_out calls. */
	uint64_t bytes_written;
	uint64_t lines;
};

/*
 * Puts the UART in QEMU's reset state (9600 baud divisor 0x000c, MCR OUT2,
 * everything else 0) at ports [base, base + 8).  line_out may be NULL to
 * discard the output.
 */
void uart16550_init(struct uart16550 *u, uint16_t base, uart16550_line_fn line_out, void *ctx);

/* The device to register on the bus; it lives inside u. */
const struct io_device *uart16550_device(struct uart16550 *u);

/* Delivers a pending partial line, if any (a pending '\r' shows as '.'). */
void uart16550_flush(struct uart16550 *u);

#endif
