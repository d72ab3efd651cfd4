/* A small printf on the serial console: %d %i %u %x %X %p %s %c %%, with '-', '0', a width, %.*s and l/ll sizes. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/string.h"

struct spec {
	bool left;		/* '-': pad on the right */
	bool zero;		/* '0': pad numbers with zeros */
	bool star_precision;	/* '.*': the precision is the next argument */
	bool wide;		/* the argument is 64 bits: 'll', or 'l' where long has 64 */
	int width;
	int precision;		/* %s only: at most this many bytes; -1 = no limit */
};

static void pad(char c, int n)
{
	for (; n > 0; n--)
		serial_putc(c);
}

/* Emits `len` bytes of `s` padded to the spec's width; `sign` goes before zero padding. */
static void emit_field(const struct spec *sp, const char *sign, const char *s, int len)
{
	int sign_len = sign ? (int)strlen(sign) : 0;
	int fill = sp->width - len - sign_len;

	if (!sp->left && !sp->zero)
		pad(' ', fill);
	if (sign)
		serial_write(sign, sign_len);
	if (!sp->left && sp->zero)
		pad('0', fill);
	serial_write(s, len);
	if (sp->left)
		pad(' ', fill);
}

/*
 * *v /= base, returning the remainder. Long division in 16-bit digits keeps
 * every step within 32 bits: 32-bit guests have no libgcc for 64-bit division.
 */
static unsigned divide_in_place(uint64_t *v, unsigned base)
{
	uint64_t q = 0;
	uint32_t r = 0;

	for (int shift = 48; shift >= 0; shift -= 16) {
		uint32_t cur = r << 16 | (uint32_t)(*v >> shift & 0xffff);

		q |= (uint64_t)(cur / base) << shift;
		r = cur % base;
	}
	*v = q;
	return r;
}

/* Digits of v in `base` (at most 16), written backwards from the end of buf; returns the first digit. */
static char *format_unsigned(char *end, uint64_t v, unsigned base, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char *p = end;

	do {
		*--p = digits[divide_in_place(&v, base)];
	} while (v);
	return p;
}

/* v holds the argument zero-extended; a signed conversion looks at its sign bit by the spec's width. */
static void emit_number(const struct spec *sp, char conv, uint64_t v)
{
	char buf[24];
	char *end = buf + sizeof(buf);
	const char *sign = NULL;
	char *p;

	switch (conv) {
	case 'd':
	case 'i':
		if (sp->wide ? (int64_t)v < 0 : (int32_t)v < 0) {
			sign = "-";
			v = sp->wide ? -v : (uint32_t)-v;
		}
		p = format_unsigned(end, v, 10, false);
		break;
	case 'u':
		p = format_unsigned(end, v, 10, false);
		break;
	case 'p':
		sign = "0x";
		p = format_unsigned(end, v, 16, false);
		break;
	default:
		p = format_unsigned(end, v, 16, conv == 'X');
		break;
	}
	emit_field(sp, sign, p, end - p);
}

/* Stops at the precision without reading past it: the string need not be NUL-terminated there. */
static void emit_string(struct spec *sp, const char *s)
{
	int len = 0;

	if (!s)
		s = "(null)";
	while (s[len] && (sp->precision < 0 || len < sp->precision))
		len++;
	sp->zero = false;
	emit_field(sp, NULL, s, len);
}

/* Parses flags, width and precision after '%'; returns the conversion character's position. */
static const char *parse_spec(const char *f, struct spec *sp)
{
	*sp = (struct spec){ .precision = -1 };
	for (;; f++) {
		if (*f == '-')
			sp->left = true;
		else if (*f == '0')
			sp->zero = true;
		else
			break;
	}
	while (*f >= '0' && *f <= '9')
		sp->width = sp->width * 10 + (*f++ - '0');
	if (*f == '.') {
		f++;
		sp->precision = 0;
		if (*f == '*') {
			sp->star_precision = true;
			f++;
		}
		while (*f >= '0' && *f <= '9')
			sp->precision = sp->precision * 10 + (*f++ - '0');
	}
	for (int longs = 0; *f == 'l'; f++) {
		longs++;
		sp->wide = longs == 2 || sizeof(long) == sizeof(uint64_t);
	}
	return f;
}

static void vprintf(const char *fmt, va_list ap)
{
	for (const char *f = fmt; *f; f++) {
		struct spec sp;

		if (*f != '%') {
			serial_putc(*f);
			continue;
		}
		f = parse_spec(f + 1, &sp);
		if (sp.star_precision)
			sp.precision = va_arg(ap, int);
		switch (*f) {
		case 'd': case 'i': case 'u': case 'x': case 'X':
			emit_number(&sp, *f, sp.wide ? va_arg(ap, uint64_t) : va_arg(ap, uint32_t));
			break;
		case 'p':
			emit_number(&sp, 'p', (uintptr_t)va_arg(ap, void *));
			break;
		case 's':
			emit_string(&sp, va_arg(ap, const char *));
			break;
		case 'c': {
			char c = (char)va_arg(ap, int);

			sp.zero = false;
			emit_field(&sp, NULL, &c, 1);
			break;
		}
		case '%':
			serial_putc('%');
			break;
		case '\0':	/* a lone '%' at the end */
			return;
		default:	/* unknown: show it rather than guess */
			serial_putc('%');
			serial_putc(*f);
			break;
		}
	}
}

void printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}
