/* 16550A UART registers over an output-only line: transmitted bytes become text lines. */
#include "devices/uart16550.h"

/* Register offsets from the base port. */
enum {
	UART_THR_RBR = 0,	/* DLL while LCR.DLAB */
	UART_IER = 1,		/* DLM while LCR.DLAB */
	UART_IIR_FCR = 2,
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
	UART_MSR = 6,
	UART_SCR = 7,
};

#define UART_IER_MASK		0x0f
#define UART_IIR_NO_INT		0x01
#define UART_IIR_FIFO		0xc0	/* "FIFOs enabled", as a 16550A reports */
#define UART_FCR_ENABLE		0x01
#define UART_FCR_STICKY		0xc9	/* enable, DMA mode, trigger level */
#define UART_LCR_DLAB		0x80
#define UART_MCR_MASK		0x1f
#define UART_MCR_OUT2		0x08
#define UART_MCR_LOOP		0x10
#define UART_LSR_IDLE		0x60	/* THR empty | transmitter empty */
#define UART_MSR_IDLE		0xb0	/* DCD | DSR | CTS: a peer is always there */

/* Hands line[0, line_len) to the consumer and starts a new line. */
static void emit_line(struct uart16550 *u)
{
	u->line[u->line_len] = '\0';
	u->lines++;
	if (u->line_out)
		u->line_out(u->ctx, u->line, u->line_len);
	u->line_len = 0;
}

/*
 * A full buffer is delivered only when one more character arrives, so a
 * line of exactly UART16550_LINE_MAX characters followed by '\n' comes out
 * as one line, not as that line plus an empty one.
 */
static void put_char(struct uart16550 *u, char c)
{
	if (u->line_len == UART16550_LINE_MAX)
		emit_line(u);
	u->line[u->line_len++] = c;
}

static char shown_as(uint8_t byte)
{
	if (byte == '\t' || (byte >= 0x20 && byte < 0x7f))
		return (char)byte;
	return '.';
}

/*
 * A '\r' is held back until the next byte shows whether it belongs to a
 * "\r\n" line end (dropped) or stands alone (shown as '.').
 */
static void transmit(struct uart16550 *u, uint8_t byte)
{
	u->bytes_written++;
	/* In loopback the chip keeps its serial output idle: nothing goes out. */
	if (u->mcr & UART_MCR_LOOP)
		return;
	if (u->pending_cr) {
		u->pending_cr = false;
		if (byte == '\n') {
			emit_line(u);
			return;
		}
		put_char(u, '.');
	}
	if (byte == '\r')
		u->pending_cr = true;
	else if (byte == '\n')
		emit_line(u);
	else
		put_char(u, shown_as(byte));
}

void uart16550_flush(struct uart16550 *u)
{
	if (u->pending_cr) {
		u->pending_cr = false;
		put_char(u, '.');
	}
	if (u->line_len > 0)
		emit_line(u);
}

/*
 * MSR: with MCR.LOOP set the modem outputs are wired back to the inputs
 * (DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD), which drivers use to probe for
 * a UART; otherwise a peer is always present and nothing ever changes, so
 * the delta bits stay 0.
 */
static uint8_t read_msr(const struct uart16550 *u)
{
	uint8_t mcr = u->mcr;

	if (!(mcr & UART_MCR_LOOP))
		return UART_MSR_IDLE;
	return (uint8_t)(((mcr & 0x01) << 5) | ((mcr & 0x02) << 3) |
			 ((mcr & 0x04) << 4) | ((mcr & 0x08) << 4));
}

static uint8_t uart_read8(void *opaque, unsigned offset)
{
	struct uart16550 *u = opaque;
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (offset) {
	case UART_THR_RBR:
		/* Nothing is ever received: RBR holds 0 as after reset. */
		return dlab ? u->dll : 0;
	case UART_IER:
		return dlab ? u->dlm : u->ier;
	case UART_IIR_FCR:
		return UART_IIR_NO_INT | ((u->fcr & UART_FCR_ENABLE) ? UART_IIR_FIFO : 0);
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		return UART_LSR_IDLE;
	case UART_MSR:
		return read_msr(u);
	default:
		return u->scr;
	}
}

static void uart_write8(void *opaque, unsigned offset, uint8_t value)
{
	struct uart16550 *u = opaque;
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (offset) {
	case UART_THR_RBR:
		if (dlab)
			u->dll = value;
		else
			transmit(u, value);
		break;
	case UART_IER:
		if (dlab)
			u->dlm = value;
		else
			u->ier = value & UART_IER_MASK;
		break;
	case UART_IIR_FCR:
		/* The FIFO/DMA reset bits act once and read back nowhere. */
		u->fcr = value & UART_FCR_STICKY;
		break;
	case UART_LCR:
		u->lcr = value;
		break;
	case UART_MCR:
		u->mcr = value & UART_MCR_MASK;
		break;
	case UART_LSR:
	case UART_MSR:
		/* Read-only status (factory test use on real parts). */
		break;
	default:
		u->scr = value;
		break;
	}
}

/*
 * A 2- or 4-byte access is split into byte accesses to consecutive
 * registers, as the ISA bus does for an 8-bit part and as QEMU does for its
 * serial port (impl.max_access_size = 1): a word write of 0x4241 to THR
 * sends 'A' and stores 0x42 & 0x0f in IER.
 */
static uint32_t uart_read(void *opaque, uint16_t port, unsigned size)
{
	struct uart16550 *u = opaque;

	return io_read_bytewise(&u->dev, port, size, uart_read8);
}

static void uart_write(void *opaque, uint16_t port, unsigned size, uint32_t value)
{
	struct uart16550 *u = opaque;

	io_write_bytewise(&u->dev, port, size, value, uart_write8);
}

void uart16550_init(struct uart16550 *u, uint16_t base, uart16550_line_fn line_out, void *ctx)
{
	u->dev.name = "uart16550";
	u->dev.base = base;
	u->dev.count = UART16550_PORTS;
	u->dev.opaque = u;
	u->dev.read = uart_read;
	u->dev.write = uart_write;
	u->line_out = line_out;
	u->ctx = ctx;

	u->ier = 0;
	u->fcr = 0;
	u->lcr = 0;
	u->mcr = UART_MCR_OUT2;
	u->scr = 0;
	u->dll = 0x0c;
	u->dlm = 0;

	u->line[0] = '\0';
	u->line_len = 0;
	u->pending_cr = false;
	u->bytes_written = 0;
	u->lines = 0;
}

const struct io_device *uart16550_device(struct uart16550 *u)
{
	return &u->dev;
}
