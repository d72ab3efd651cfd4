/* printf-style formatting: directive parsing and integer/string rendering. */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/format.h"

enum fmt_flag {
	FLAG_LEFT = 1 << 0,	/* '-' */
	FLAG_ZERO = 1 << 1,	/* '0' */
	FLAG_PLUS = 1 << 2,	/* '+' */
	FLAG_SPACE = 1 << 3,	/* ' ' */
	FLAG_ALT = 1 << 4,	/* '#' */
};

enum fmt_length {
	LEN_NONE,
	LEN_HH,
	LEN_H,
	LEN_L,
	LEN_LL,
	LEN_Z,
	LEN_T,
	LEN_J,
};

#define NO_PRECISION (-1)

struct fmt_spec {
	unsigned int flags;
	int width;		/* >= 0 */
	int precision;		/* >= 0, or NO_PRECISION */
	enum fmt_length length;
	char conv;
};

/*
 * The emit callback plus a running count.  The count is wider than the int
 * the API returns so that overflow can be detected instead of wrapping.
 */
struct fmt_out {
	fmt_emit_fn emit;
	void *ctx;
	unsigned long long count;
};

/* Integer digits of a 64-bit value in base 8 need at most 22 characters. */
#define DIGITS_MAX 24

static void out_char(struct fmt_out *out, char c)
{
	out->emit(c, out->ctx);
	out->count++;
}

static void out_repeat(struct fmt_out *out, char c, int n)
{
	while (n-- > 0)
		out_char(out, c);
}

static void out_chars(struct fmt_out *out, const char *s, size_t n)
{
	while (n--)
		out_char(out, *s++);
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int saturating_add_digit(int value, char digit)
{
	int d = digit - '0';

	if (value > (INT_MAX - d) / 10)
		return INT_MAX;
	return value * 10 + d;
}

/* Reads a digit run at *p (advancing it); saturates at INT_MAX. */
static int parse_number(const char **p)
{
	int value = 0;

	while (is_digit(**p))
		value = saturating_add_digit(value, *(*p)++);
	return value;
}

static unsigned int flag_of(char c)
{
	switch (c) {
	case '-':
		return FLAG_LEFT;
	case '0':
		return FLAG_ZERO;
	case '+':
		return FLAG_PLUS;
	case ' ':
		return FLAG_SPACE;
	case '#':
		return FLAG_ALT;
	default:
		return 0;
	}
}

static void parse_flags(const char **p, struct fmt_spec *spec)
{
	unsigned int flag;

	while ((flag = flag_of(**p)) != 0) {
		spec->flags |= flag;
		(*p)++;
	}
}

/* INT_MIN has no positive counterpart; it saturates like a huge digit run. */
static int magnitude_of(int n)
{
	if (n == INT_MIN)
		return INT_MAX;
	return n < 0 ? -n : n;
}

static void parse_width(const char **p, struct fmt_spec *spec, va_list *ap)
{
	if (**p == '*') {
		int w = va_arg(*ap, int);

		(*p)++;
		if (w < 0)
			spec->flags |= FLAG_LEFT;
		spec->width = magnitude_of(w);
	} else {
		spec->width = parse_number(p);
	}
}

static void parse_precision(const char **p, struct fmt_spec *spec, va_list *ap)
{
	if (**p != '.')
		return;
	(*p)++;
	if (**p == '*') {
		int prec = va_arg(*ap, int);

		(*p)++;
		spec->precision = prec < 0 ? NO_PRECISION : prec;
	} else {
		spec->precision = parse_number(p);
	}
}

static void parse_length(const char **p, struct fmt_spec *spec)
{
	switch (**p) {
	case 'h':
		(*p)++;
		spec->length = LEN_H;
		if (**p == 'h') {
			(*p)++;
			spec->length = LEN_HH;
		}
		break;
	case 'l':
		(*p)++;
		spec->length = LEN_L;
		if (**p == 'l') {
			(*p)++;
			spec->length = LEN_LL;
		}
		break;
	case 'z':
		(*p)++;
		spec->length = LEN_Z;
		break;
	case 't':
		(*p)++;
		spec->length = LEN_T;
		break;
	case 'j':
		(*p)++;
		spec->length = LEN_J;
		break;
	default:
		break;
	}
}

/*
 * Parses the directive after its '%' up to and including the conversion
 * character; on return *p points past what was consumed.  conv is '\0'
 * when the string ended inside the directive.
 */
static void parse_spec(const char **p, struct fmt_spec *spec, va_list *ap)
{
	spec->flags = 0;
	spec->width = 0;
	spec->precision = NO_PRECISION;
	spec->length = LEN_NONE;
	parse_flags(p, spec);
	parse_width(p, spec, ap);
	parse_precision(p, spec, ap);
	parse_length(p, spec);
	spec->conv = **p;
	if (spec->conv != '\0')
		(*p)++;
}

/*
 * Signed arguments are fetched with the promoted type the caller passed and
 * then narrowed, as C requires for hh and h.  z and t read the types of the
 * same width; converting between size_t and ptrdiff_t is modulo 2^N in gcc.
 */
static intmax_t fetch_signed(enum fmt_length length, va_list *ap)
{
	switch (length) {
	case LEN_HH:
		return (signed char)va_arg(*ap, int);
	case LEN_H:
		return (short)va_arg(*ap, int);
	case LEN_L:
		return va_arg(*ap, long);
	case LEN_LL:
		return va_arg(*ap, long long);
	case LEN_Z:
		return (ptrdiff_t)va_arg(*ap, size_t);
	case LEN_T:
		return va_arg(*ap, ptrdiff_t);
	case LEN_J:
		return va_arg(*ap, intmax_t);
	default:
		return va_arg(*ap, int);
	}
}

static uintmax_t fetch_unsigned(enum fmt_length length, va_list *ap)
{
	switch (length) {
	case LEN_HH:
		return (unsigned char)va_arg(*ap, unsigned int);
	case LEN_H:
		return (unsigned short)va_arg(*ap, unsigned int);
	case LEN_L:
		return va_arg(*ap, unsigned long);
	case LEN_LL:
		return va_arg(*ap, unsigned long long);
	case LEN_Z:
		return va_arg(*ap, size_t);
	case LEN_T:
		return (size_t)va_arg(*ap, ptrdiff_t);
	case LEN_J:
		return va_arg(*ap, uintmax_t);
	default:
		return va_arg(*ap, unsigned int);
	}
}

/* Writes the digits of value right-aligned ending at end; returns the count. */
static int render_digits(uintmax_t value, unsigned int base, bool upper,
			 char *end)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	int n = 0;

	do {
		*--end = digits[value % base];
		value /= base;
		n++;
	} while (value != 0);
	return n;
}

/*
 * An integer is laid out as
 *   [spaces] prefix [zeros] digits [spaces]
 * where prefix is the sign or "0x"/"0X", zeros come from the precision and
 * from the '0' flag, and exactly one of the space runs may be non-empty.
 */
struct int_layout {
	char prefix[2];
	int prefix_len;
	char digits[DIGITS_MAX];
	int digits_len;		/* digits occupy the tail of digits[] */
	int zeros;
};

static void set_prefix(struct int_layout *lay, char a, char b)
{
	lay->prefix[0] = a;
	lay->prefix[1] = b;
	lay->prefix_len = b ? 2 : 1;
}

static void layout_digits(struct int_layout *lay, const struct fmt_spec *spec,
			  uintmax_t magnitude, unsigned int base)
{
	lay->prefix_len = 0;
	lay->zeros = 0;
	/* C: a zero value with precision zero produces no digits at all. */
	if (magnitude == 0 && spec->precision == 0)
		lay->digits_len = 0;
	else
		lay->digits_len = render_digits(magnitude, base,
						spec->conv == 'X',
						lay->digits + DIGITS_MAX);
	if (spec->precision > lay->digits_len)
		lay->zeros = spec->precision - lay->digits_len;
}

static const char *digits_start(const struct int_layout *lay)
{
	return lay->digits + DIGITS_MAX - lay->digits_len;
}

/* '#' with o raises the precision just enough that the first digit is 0. */
static void apply_octal_alt(struct int_layout *lay)
{
	if (lay->zeros > 0)
		return;
	if (lay->digits_len > 0 && digits_start(lay)[0] == '0')
		return;
	lay->zeros = 1;
}

static void apply_zero_pad(struct int_layout *lay, const struct fmt_spec *spec)
{
	int used = lay->prefix_len + lay->zeros + lay->digits_len;

	/* C: '-' beats '0', and any precision disables '0' for integers. */
	if (!(spec->flags & FLAG_ZERO) || (spec->flags & FLAG_LEFT) ||
	    spec->precision != NO_PRECISION)
		return;
	if (spec->width > used)
		lay->zeros += spec->width - used;
}

static void emit_padded_int(struct fmt_out *out, const struct fmt_spec *spec,
			    const struct int_layout *lay)
{
	long long used = (long long)lay->prefix_len + lay->zeros +
			 lay->digits_len;
	int pad = spec->width > used ? (int)(spec->width - used) : 0;

	if (!(spec->flags & FLAG_LEFT))
		out_repeat(out, ' ', pad);
	out_chars(out, lay->prefix, lay->prefix_len);
	out_repeat(out, '0', lay->zeros);
	out_chars(out, digits_start(lay), lay->digits_len);
	if (spec->flags & FLAG_LEFT)
		out_repeat(out, ' ', pad);
}

static void format_signed(struct fmt_out *out, const struct fmt_spec *spec,
			  intmax_t value)
{
	struct int_layout lay;
	/* Negating in unsigned arithmetic keeps INTMAX_MIN well defined. */
	uintmax_t magnitude = value < 0 ? 0 - (uintmax_t)value :
					  (uintmax_t)value;

	layout_digits(&lay, spec, magnitude, 10);
	if (value < 0)
		set_prefix(&lay, '-', 0);
	else if (spec->flags & FLAG_PLUS)
		set_prefix(&lay, '+', 0);
	else if (spec->flags & FLAG_SPACE)
		set_prefix(&lay, ' ', 0);
	apply_zero_pad(&lay, spec);
	emit_padded_int(out, spec, &lay);
}

static unsigned int base_of(char conv)
{
	switch (conv) {
	case 'o':
		return 8;
	case 'x':
	case 'X':
	case 'p':
		return 16;
	default:
		return 10;
	}
}

static void format_unsigned(struct fmt_out *out, const struct fmt_spec *spec,
			    uintmax_t value)
{
	struct int_layout lay;
	bool alt = spec->flags & FLAG_ALT;

	layout_digits(&lay, spec, value, base_of(spec->conv));
	if (alt && spec->conv == 'o')
		apply_octal_alt(&lay);
	/* C: the 0x prefix is only for nonzero values. */
	if (alt && value != 0 && spec->conv == 'x')
		set_prefix(&lay, '0', 'x');
	if (alt && value != 0 && spec->conv == 'X')
		set_prefix(&lay, '0', 'X');
	apply_zero_pad(&lay, spec);
	emit_padded_int(out, spec, &lay);
}

static void emit_padded_text(struct fmt_out *out, const struct fmt_spec *spec,
			     const char *s, size_t len)
{
	int pad = 0;

	if ((size_t)spec->width > len)
		pad = spec->width - (int)len;
	if (!(spec->flags & FLAG_LEFT))
		out_repeat(out, ' ', pad);
	out_chars(out, s, len);
	if (spec->flags & FLAG_LEFT)
		out_repeat(out, ' ', pad);
}

/* Never reads past max characters: %.Ns may point at an unterminated array. */
static size_t bounded_strlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n] != '\0')
		n++;
	return n;
}

static void format_string(struct fmt_out *out, const struct fmt_spec *spec,
			  const char *s)
{
	size_t max = spec->precision == NO_PRECISION ? SIZE_MAX :
						      (size_t)spec->precision;

	if (s == NULL)
		s = "(null)";
	emit_padded_text(out, spec, s, bounded_strlen(s, max));
}

static void format_char(struct fmt_out *out, const struct fmt_spec *spec,
			int c)
{
	char ch = (char)(unsigned char)c;

	emit_padded_text(out, spec, &ch, 1);
}

static void format_pointer(struct fmt_out *out, const struct fmt_spec *spec,
			   const void *ptr)
{
	struct fmt_spec hex = *spec;

	if (ptr == NULL) {
		emit_padded_text(out, spec, "(nil)", 5);
		return;
	}
	hex.flags |= FLAG_ALT;
	hex.conv = 'x';
	format_unsigned(out, &hex, (uintptr_t)ptr);
}

/* Handles one directive; returns false if conv is not a known conversion. */
static bool format_directive(struct fmt_out *out, const struct fmt_spec *spec,
			     va_list *ap)
{
	switch (spec->conv) {
	case 'd':
	case 'i':
		format_signed(out, spec, fetch_signed(spec->length, ap));
		return true;
	case 'u':
	case 'o':
	case 'x':
	case 'X':
		format_unsigned(out, spec, fetch_unsigned(spec->length, ap));
		return true;
	case 'c':
		format_char(out, spec, va_arg(*ap, int));
		return true;
	case 's':
		format_string(out, spec, va_arg(*ap, const char *));
		return true;
	case 'p':
		format_pointer(out, spec, va_arg(*ap, const void *));
		return true;
	case '%':
		out_char(out, '%');
		return true;
	default:
		return false;
	}
}

int fmt_vformat(fmt_emit_fn emit, void *ctx, const char *fmt, va_list ap)
{
	struct fmt_out out = { .emit = emit, .ctx = ctx, .count = 0 };
	struct fmt_spec spec;
	va_list args;

	/* A local copy, so helpers can share it through a pointer portably. */
	va_copy(args, ap);
	while (*fmt != '\0') {
		const char *directive = fmt;

		if (*fmt != '%') {
			out_char(&out, *fmt++);
			continue;
		}
		fmt++;
		parse_spec(&fmt, &spec, &args);
		if (!format_directive(&out, &spec, &args))
			out_chars(&out, directive, (size_t)(fmt - directive));
	}
	va_end(args);
	return out.count > INT_MAX ? -1 : (int)out.count;
}

/* Invariant: buf[0 .. min(pos, size - 1)) holds the output so far. */
struct snprintf_buf {
	char *buf;
	size_t size;
	size_t pos;
};

static void snprintf_emit(char c, void *ctx)
{
	struct snprintf_buf *sb = ctx;

	if (sb->pos + 1 < sb->size)
		sb->buf[sb->pos] = c;
	sb->pos++;
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct snprintf_buf sb = { .buf = buf, .size = size, .pos = 0 };
	int n = fmt_vformat(snprintf_emit, &sb, fmt, ap);

	if (size > 0)
		buf[sb.pos < size ? sb.pos : size - 1] = '\0';
	return n;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
