/* Polled output on COM1: no interrupts, no initialization beyond what the firmware or VMM left. */
#include <stddef.h>
#include "guest/lib/guest.h"
#include "guest/lib/x86.h"

#define COM1_DATA	0x3f8
#define COM1_LSR	0x3fd
#define LSR_THRE	0x20

/* Enough for a real UART at 9600 baud; a UART that never drains must not hang the guest. */
#define THRE_POLL_LIMIT	1000000

/*
 * The UART is deliberately not programmed (no baud rate, no FIFO setup):
 * the guests then need only the data register and LSR from the VMM.
 */
void serial_putc(char c)
{
	for (int i = 0; i < THRE_POLL_LIMIT; i++) {
		if (inb(COM1_LSR) & LSR_THRE)
			break;
	}
	outb(COM1_DATA, (uint8_t)c);
}

void serial_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		serial_putc(s[i]);
}
