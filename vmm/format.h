/* printf-style formatting for the VMM console and log buffers, without libc. */
#ifndef VMM_FORMAT_H
#define VMM_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

/*
 * Supported: conversions d i u x X o c s p %%; flags - 0 + space #; width
 * and precision as digits or '*' (a negative '*' width means '-' and its
 * magnitude, a negative '*' precision means no precision); length modifiers
 * hh h l ll z t j.  Everything C defines for these behaves as C99 says.
 *
 * Where C leaves the behaviour open, this implementation chooses:
 *  - %s with a NULL pointer prints "(null)"; a precision cuts it like any
 *    other string ("%.3s" gives "(nu").
 *  - %p prints like glibc: 0x followed by lowercase hex, "(nil)" for NULL.
 *    Width and '-' apply to both; '0' and a precision apply to the hex
 *    digits as for %#lx; '+' and space are ignored.
 *  - Length modifiers on c, s and p are ignored (no wide characters).
 *  - '+' and space on unsigned conversions are ignored, as C says.
 *  - An unknown conversion specifier, including %n which is deliberately
 *    not supported, is emitted verbatim: the whole directive from the '%'
 *    through the unknown character.  Any '*' arguments it named have
 *    already been consumed.  A directive cut short by the end of the string
 *    (a lone trailing '%', or "%-5") is emitted verbatim too.
 *  - Width and precision digits saturate at INT_MAX instead of overflowing.
 *  - If the count of emitted characters exceeds INT_MAX, the return value
 *    is -1 (glibc's EOVERFLOW case); the characters are still emitted.
 */

/* Receives each output character in order; ctx is passed through untouched. */
typedef void (*fmt_emit_fn)(char c, void *ctx);

/* Formats into emit; returns the number of characters emitted. */
int fmt_vformat(fmt_emit_fn emit, void *ctx, const char *fmt, va_list ap);

/*
 * C99 vsnprintf/snprintf: writes at most size - 1 characters and a NUL when
 * size > 0 (buf may be NULL when size is 0); returns the length the full
 * output would have had, not counting the NUL.
 */
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
