/* The COM1 serial console: every line the VMM prints goes here. */
#ifndef VMM_CONSOLE_H
#define VMM_CONSOLE_H

#include <stddef.h>

#define COM1_PORT 0x3f8

void console_init(void);
void console_putc(char c);
void console_write(const char *s, size_t len);

/* Returns once the UART has sent every byte: an emulator ended sooner drops the tail. */
void console_flush(void);
int kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
