/* Unit tests for vmm/format.c: differential against the host libc snprintf. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include "tests/unit/test_rng.h"

#include "vmm/format.h"

#define BIG_BUF 512
#define SENTINEL 0xa5

/* How many (format, arguments, buffer size) triples matched libc. */
static unsigned long comparisons;

static void report_mismatch(const char *fmt, size_t size, int want_ret,
			    const char *want, int got_ret, const char *got)
{
	print_error("format \"%s\" size %zu:\n  libc returned %d \"%s\"\n"
		    "  fmt  returned %d \"%s\"\n",
		    fmt, size, want_ret, want, got_ret, got);
	fail();
}

/*
 * Runs libc's vsnprintf and fmt_vsnprintf on the same arguments for several
 * buffer sizes and requires identical return values and identical buffers,
 * including the untouched sentinel bytes after what each one wrote.
 */
static void check_v(const char *fmt, ...)
{
	static const size_t sizes[] = { 0, 1, 5, BIG_BUF };
	va_list ap;

	va_start(ap, fmt);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char want[BIG_BUF + 16], got[BIG_BUF + 16];
		size_t size = sizes[i];
		int want_ret, got_ret;
		va_list a, b;

		memset(want, SENTINEL, sizeof(want));
		memset(got, SENTINEL, sizeof(got));
		va_copy(a, ap);
		want_ret = vsnprintf(want, size, fmt, a);
		va_end(a);
		va_copy(b, ap);
		got_ret = fmt_vsnprintf(got, size, fmt, b);
		va_end(b);
		want[sizeof(want) - 1] = got[sizeof(got) - 1] = '\0';
		if (want_ret != got_ret || memcmp(want, got, sizeof(want)) != 0)
			report_mismatch(fmt, size, want_ret, want, got_ret, got);
		comparisons++;
	}
	/* size 0 must not touch the buffer at all, so NULL is allowed. */
	{
		va_list a, b;
		int want_ret, got_ret;

		va_copy(a, ap);
		want_ret = vsnprintf(NULL, 0, fmt, a);
		va_end(a);
		va_copy(b, ap);
		got_ret = fmt_vsnprintf(NULL, 0, fmt, b);
		va_end(b);
		if (want_ret != got_ret)
			report_mismatch(fmt, 0, want_ret, "", got_ret, "");
		comparisons++;
	}
	va_end(ap);
}

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Bit patterns that are edges for some integer width, cast per table. */
static const uint64_t edge_values[] = {
	0, 1, 2, 7, 8, 9, 10, 15, 16, 17, 99, 100, 127, 128, 255, 256,
	1000, 4095, 4096, 32767, 32768, 65535, 65536, 1000000007,
	0x7fffffff, 0x80000000, 0xffffffff, 0x100000000,
	0x123456789abcdef0, 0xfedcba9876543210,
	(uint64_t)INT64_MAX, (uint64_t)INT64_MIN, UINT64_MAX,
	(uint64_t)-1, (uint64_t)-2, (uint64_t)-7, (uint64_t)-128,
	(uint64_t)-129, (uint64_t)-32768, (uint64_t)-32769,
	(uint64_t)-2147483647 - 1, (uint64_t)-1000000007,
};

static const char *const int_formats[] = {
	"%d", "%i", "%1d", "%5d", "%-5d", "%05d", "%+d", "% d", "%+5d",
	"%-+5d", "% 05d", "%+05d", "%.3d", "%8.3d", "%-8.3d", "%08.3d",
	"%.0d", "%5.0d", "%-5.0d", "%+.0d", "% .0d", "%.12d", "%020d",
	"%- 12i", "%hhd", "%hd", "%5hhd", "%-+6hd", "%.4hhd", "%c",
	"%5c", "%-5c", "<%d|%d>", "%%%d%%", "x=%3d;", "%+-020.15d",
};

static const char *const uint_formats[] = {
	"%u", "%x", "%X", "%o", "%#x", "%#X", "%#o", "%#.0o", "%#.0x",
	"%.0o", "%.0x", "%.0u", "%#08x", "%-#8x", "%#8X", "%08o", "%#08o",
	"%#5.3o", "%#.10x", "%+u", "% u", "%+x", "%12u", "%-12X|", "%hhu",
	"%hhx", "%hx", "%ho", "%#hhX", "%#hho", "%.8hx", "%032o",
};

static const char *const long_formats[] = {
	"%ld", "%li", "%25ld", "%-25ld|", "%+ld", "% ld", "%025ld",
	"%.22ld", "%.0ld", "%+.30ld",
};

static const char *const ulong_formats[] = {
	"%lu", "%lx", "%lX", "%lo", "%#lx", "%#lo", "%#25lx", "%025lo",
	"%.0lx", "%#.0lo", "%-#30lo|",
};

static const char *const llong_formats[] = {
	"%lld", "%lli", "%30lld", "%-30lld|", "%+lld", "% lld", "%030lld",
	"%.25lld", "%.0lld", "%+030lld", "%- 30lld|",
};

static const char *const ullong_formats[] = {
	"%llu", "%llx", "%llX", "%llo", "%#llx", "%#llX", "%#llo",
	"%#30llx", "%030llo", "%.25llu", "%.0llx", "%#.0llo", "%#030llX",
};

static const char *const size_formats[] = {
	"%zu", "%zx", "%zX", "%zo", "%#zx", "%20zu", "%-#20zo|", "%.0zu",
	"%tu", "%tx", "%#to",
};

static const char *const ptrdiff_formats[] = {
	"%td", "%ti", "%+td", "% 22td", "%-22td|", "%zd", "%zi", "%022zd",
};

static const char *const intmax_formats[] = {
	"%jd", "%ji", "%+jd", "%025jd", "%.0jd",
};

static const char *const uintmax_formats[] = {
	"%ju", "%jx", "%jX", "%jo", "%#jx", "%#jo", "%-25ju|",
};

/* One table run per C argument type, so each va_arg sees the exact type. */
#define DEFINE_TABLE_TEST(name, type, formats)				\
static void test_table_##name(void **state)				\
{									\
	(void)state;							\
	for (size_t f = 0; f < ARRAY_SIZE(formats); f++)		\
		for (size_t v = 0; v < ARRAY_SIZE(edge_values); v++)	\
			check_v(formats[f], (type)edge_values[v]);	\
}

DEFINE_TABLE_TEST(int, int, int_formats)
DEFINE_TABLE_TEST(uint, unsigned int, uint_formats)
DEFINE_TABLE_TEST(long, long, long_formats)
DEFINE_TABLE_TEST(ulong, unsigned long, ulong_formats)
DEFINE_TABLE_TEST(llong, long long, llong_formats)
DEFINE_TABLE_TEST(ullong, unsigned long long, ullong_formats)
DEFINE_TABLE_TEST(size, size_t, size_formats)
DEFINE_TABLE_TEST(ptrdiff, ptrdiff_t, ptrdiff_formats)
DEFINE_TABLE_TEST(intmax, intmax_t, intmax_formats)
DEFINE_TABLE_TEST(uintmax, uintmax_t, uintmax_formats)

static const char long_text[] =
	"The quick brown fox jumps over the lazy dog; "
	"pack my box with five dozen liquor jugs. 0123456789";

static const char *const test_strings[] = {
	"", "a", "ab", "hello", "hello, world", "tab\there", long_text,
};

static const char *const string_formats[] = {
	"%s", "%10s", "%-10s|", "%.0s", "%.1s", "%.3s", "%.30s", "%5.2s",
	"%-5.2s|", "%.100s", "%1s", "[%s]", "%s%%",
};

static void test_table_string(void **state)
{
	(void)state;
	for (size_t f = 0; f < ARRAY_SIZE(string_formats); f++)
		for (size_t s = 0; s < ARRAY_SIZE(test_strings); s++)
			check_v(string_formats[f], test_strings[s]);
}

static void test_table_pointer(void **state)
{
	static const char *const formats[] = { "%p", "%20p", "%-20p|", "%1p" };
	int local;

	(void)state;
	for (size_t f = 0; f < ARRAY_SIZE(formats); f++) {
		check_v(formats[f], (void *)&local);
		check_v(formats[f], (void *)test_strings);
		for (size_t v = 0; v < ARRAY_SIZE(edge_values); v++)
			if (edge_values[v] != 0)
				check_v(formats[f], (void *)(uintptr_t)edge_values[v]);
	}
}

static void test_table_stars(void **state)
{
	static const int stars[] = { INT_MIN + 1, -40, -7, -1, 0, 1, 3, 12, 40 };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(stars); i++) {
		int s = stars[i];

		/* INT_MIN + 1 as a width would print 2 GiB of padding. */
		if (s > -100) {
			check_v("%*d", s, -1234);
			check_v("%-*d|", s, 1234);
			check_v("%0*x", s, 0xbeefu);
			check_v("%*s|", s, "abc");
			check_v("%*.*d", s, s, 42);
			check_v("%*c|", s, 'z');
		}
		check_v("%.*d", s, 42);
		check_v("%.*s", s, long_text);
		check_v("%8.*x", s, 0u);
		check_v("%#.*o", s, 0u);
		check_v("%0+10.*lld", s, (long long)INT64_MIN);
	}
}

static void test_literals_and_percent(void **state)
{
	(void)state;
	check_v("");
	check_v("plain text");
	check_v("%%");
	check_v("100%% sure");
	check_v("%%%%%%");
	check_v("%d%s%c%x%%%o", -5, "mid", 'q', 0xabcu, 8u);
	check_v("%c", 0);
	check_v("a%cb", 0);
}


static uint64_t random_value(void)
{
	switch (rng_below(3)) {
	case 0:
		return edge_values[rng_below(ARRAY_SIZE(edge_values))];
	case 1:
		return (uint64_t)(int64_t)((int)rng_below(2001) - 1000);
	default:
		return rng_next() >> rng_below(64);
	}
}

enum arg_kind {
	ARG_INT, ARG_UINT, ARG_LONG, ARG_ULONG, ARG_LLONG, ARG_ULLONG,
	ARG_SIZE, ARG_PTRDIFF, ARG_INTMAX, ARG_UINTMAX, ARG_STR, ARG_PTR,
};

/* A generated directive, appended to a format, plus what it consumes. */
struct gen_directive {
	enum arg_kind kind;
	int nstars;
	int star[2];
};

static void append(char *fmt, size_t cap, const char *s)
{
	size_t len = strlen(fmt);

	assert_true(len + strlen(s) < cap);
	strcpy(fmt + len, s);
}

static bool is_signed_conv(char conv)
{
	return conv == 'd' || conv == 'i';
}

static bool is_int_conv(char conv)
{
	return strchr("diuoxX", conv) != NULL;
}

/*
 * Only flags whose meaning C defines for the conversion: '#' and '0' are
 * undefined for some, and c, s, p accept just '-' (and width).
 */
static const char *allowed_flags(char conv)
{
	if (is_signed_conv(conv))
		return "-0+ ";
	if (conv == 'u')
		return "-0+ ";
	if (is_int_conv(conv))
		return "-0+ #";
	return "-";
}

static void gen_flags(char *fmt, size_t cap, char conv)
{
	const char *flags = allowed_flags(conv);
	unsigned int n = rng_below(4);

	for (unsigned int i = 0; i < n; i++) {
		char f[2] = { flags[rng_below(strlen(flags))], '\0' };

		append(fmt, cap, f);
	}
}

static void gen_width(char *fmt, size_t cap, struct gen_directive *d)
{
	char num[16];

	switch (rng_below(4)) {
	case 0:
		break;
	case 1:
		d->star[d->nstars++] = (int)rng_below(81) - 40;
		append(fmt, cap, "*");
		break;
	default:
		snprintf(num, sizeof(num), "%u", (unsigned int)(
			 rng_below(8) == 0 ? 1 + rng_below(120) : 1 + rng_below(30)));
		append(fmt, cap, num);
		break;
	}
}

static void gen_precision(char *fmt, size_t cap, char conv,
			  struct gen_directive *d)
{
	char num[16];

	if (!is_int_conv(conv) && conv != 's')
		return;
	switch (rng_below(5)) {
	case 0:
	case 1:
		break;
	case 2:
		d->star[d->nstars++] = (int)rng_below(46) - 10;
		append(fmt, cap, ".*");
		break;
	case 3:
		append(fmt, cap, ".");
		break;
	default:
		snprintf(num, sizeof(num), ".%u", (unsigned int)rng_below(35));
		append(fmt, cap, num);
		break;
	}
}

static const char *const lengths[] = { "", "hh", "h", "l", "ll", "z", "t", "j" };

static enum arg_kind kind_for(char conv, const char *len)
{
	bool sig = is_signed_conv(conv);

	if (conv == 'c')
		return ARG_INT;
	if (conv == 's')
		return ARG_STR;
	if (conv == 'p')
		return ARG_PTR;
	if (strcmp(len, "l") == 0)
		return sig ? ARG_LONG : ARG_ULONG;
	if (strcmp(len, "ll") == 0)
		return sig ? ARG_LLONG : ARG_ULLONG;
	if (strcmp(len, "z") == 0)
		return sig ? ARG_PTRDIFF : ARG_SIZE;
	if (strcmp(len, "t") == 0)
		return sig ? ARG_PTRDIFF : ARG_SIZE;
	if (strcmp(len, "j") == 0)
		return sig ? ARG_INTMAX : ARG_UINTMAX;
	return sig ? ARG_INT : ARG_UINT;
}

/* Appends one random directive using only conversions in convs. */
static void gen_directive(char *fmt, size_t cap, const char *convs,
			  unsigned int nlengths, struct gen_directive *d)
{
	char conv = convs[rng_below(strlen(convs))];
	const char *len = is_int_conv(conv) ? lengths[rng_below(nlengths)] : "";
	char c[2] = { conv, '\0' };

	d->nstars = 0;
	append(fmt, cap, "%");
	gen_flags(fmt, cap, conv);
	gen_width(fmt, cap, d);
	gen_precision(fmt, cap, conv, d);
	append(fmt, cap, len);
	append(fmt, cap, c);
	d->kind = kind_for(conv, len);
}

static const char *const literals[] = {
	"", "", "", "a", "xyz ", "%%", "=%%=", " [", "] ", "\t", "0x",
};

static void gen_literal(char *fmt, size_t cap)
{
	append(fmt, cap, literals[rng_below(ARRAY_SIZE(literals))]);
}

#define CALL_WITH_STARS(fmt, d, value)					\
	do {								\
		if ((d)->nstars == 0)					\
			check_v(fmt, value);				\
		else if ((d)->nstars == 1)				\
			check_v(fmt, (d)->star[0], value);		\
		else							\
			check_v(fmt, (d)->star[0], (d)->star[1], value); \
	} while (0)

static void check_single(const char *fmt, const struct gen_directive *d)
{
	uint64_t v = random_value();
	const char *s = test_strings[rng_below(ARRAY_SIZE(test_strings))];

	switch (d->kind) {
	case ARG_INT:
		CALL_WITH_STARS(fmt, d, (int)v);
		break;
	case ARG_UINT:
		CALL_WITH_STARS(fmt, d, (unsigned int)v);
		break;
	case ARG_LONG:
		CALL_WITH_STARS(fmt, d, (long)v);
		break;
	case ARG_ULONG:
		CALL_WITH_STARS(fmt, d, (unsigned long)v);
		break;
	case ARG_LLONG:
		CALL_WITH_STARS(fmt, d, (long long)v);
		break;
	case ARG_ULLONG:
		CALL_WITH_STARS(fmt, d, (unsigned long long)v);
		break;
	case ARG_SIZE:
		CALL_WITH_STARS(fmt, d, (size_t)v);
		break;
	case ARG_PTRDIFF:
		CALL_WITH_STARS(fmt, d, (ptrdiff_t)v);
		break;
	case ARG_INTMAX:
		CALL_WITH_STARS(fmt, d, (intmax_t)v);
		break;
	case ARG_UINTMAX:
		CALL_WITH_STARS(fmt, d, (uintmax_t)v);
		break;
	case ARG_STR:
		CALL_WITH_STARS(fmt, d, s);
		break;
	case ARG_PTR:
		/* NULL %p is glibc-specific; it has its own explicit test. */
		CALL_WITH_STARS(fmt, d, (void *)(uintptr_t)(v | 1));
		break;
	}
}

#define RANDOM_SINGLE_RUNS 20000

static void test_random_single_directive(void **state)
{
	(void)state;
	rng_state = 0x5eed0001;
	for (int i = 0; i < RANDOM_SINGLE_RUNS; i++) {
		char fmt[128] = "";
		struct gen_directive d;

		gen_literal(fmt, sizeof(fmt));
		gen_directive(fmt, sizeof(fmt), "diuoxXcsp", ARRAY_SIZE(lengths), &d);
		gen_literal(fmt, sizeof(fmt));
		check_single(fmt, &d);
	}
}

#define MULTI_DIRECTIVES 4
#define MULTI_ARGS (MULTI_DIRECTIVES * 3)
#define RANDOM_MULTI_RUNS 5000

/*
 * Several directives in one format, all taking int-sized arguments (none,
 * hh, h; and c) so that one fixed argument list of ints serves every
 * format.  Unsigned conversions get non-negative ints, which C lets va_arg
 * read as unsigned int.  Unused trailing arguments are allowed by C.
 */
static void test_random_multi_directive(void **state)
{
	(void)state;
	rng_state = 0x5eed0002;
	for (int i = 0; i < RANDOM_MULTI_RUNS; i++) {
		char fmt[256] = "";
		int args[MULTI_ARGS] = { 0 };
		int nargs = 0;
		unsigned int n = 1 + rng_below(MULTI_DIRECTIVES);

		for (unsigned int k = 0; k < n; k++) {
			struct gen_directive d;
			int value = (int)random_value();

			gen_literal(fmt, sizeof(fmt));
			gen_directive(fmt, sizeof(fmt), "diuoxXc", 3, &d);
			for (int s = 0; s < d.nstars; s++)
				args[nargs++] = d.star[s];
			if (d.kind == ARG_UINT)
				value &= INT_MAX;
			args[nargs++] = value;
		}
		gen_literal(fmt, sizeof(fmt));
		check_v(fmt, args[0], args[1], args[2], args[3], args[4],
			args[5], args[6], args[7], args[8], args[9], args[10],
			args[11]);
	}
}

/* Bypasses the format attribute for the formats libc does not define. */
static void expect_unchecked(const char *want, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	int n;

	memset(buf, SENTINEL, sizeof(buf));
	va_start(ap, fmt);
	n = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	assert_string_equal(buf, want);
	assert_int_equal(n, (int)strlen(want));
}

static void test_unknown_specifier_is_verbatim(void **state)
{
	(void)state;
	expect_unchecked("%q", "%q");
	expect_unchecked("a%qb", "a%qb");
	expect_unchecked("%5q", "%5q");
	expect_unchecked("%-08.3lq", "%-08.3lq");
	expect_unchecked("%y 7", "%y %d", 7);
	/* The '*' argument was consumed, so the next directive reads 42. */
	expect_unchecked("%*q42", "%*q%d", 5, 42);
	expect_unchecked("%Lf", "%Lf");
	expect_unchecked("%e %g %a", "%e %g %a");
}

static void test_percent_n_is_not_supported(void **state)
{
	int target = 1234;

	(void)state;
	expect_unchecked("ab%n", "ab%n", &target);
	assert_int_equal(target, 1234);
	expect_unchecked("%hhn5", "%hhn%d", 5);
}

static void test_trailing_percent(void **state)
{
	(void)state;
	expect_unchecked("%", "%");
	expect_unchecked("abc%", "abc%");
	expect_unchecked("5%", "%d%", 5);
	expect_unchecked("%-5", "%-5");
	expect_unchecked("%l", "%l");
	expect_unchecked("%.", "%.");
	expect_unchecked("x%%", "x%%%");
}

static void test_null_string(void **state)
{
	const char *null = NULL;

	(void)state;
	expect_unchecked("(null)", "%s", null);
	expect_unchecked("  (null)", "%8s", null);
	expect_unchecked("(null)  |", "%-8s|", null);
	expect_unchecked("(nu", "%.3s", null);
	expect_unchecked("", "%.0s", null);
}

static void test_pointer_nil_and_value(void **state)
{
	char buf[64];

	(void)state;
	expect_unchecked("(nil)", "%p", (void *)NULL);
	expect_unchecked("   (nil)", "%8p", (void *)NULL);
	expect_unchecked("(nil)   |", "%-8p|", (void *)NULL);
	expect_unchecked("0x1000", "%p", (void *)0x1000);
	expect_unchecked("0xffffffffffffffff", "%p", (void *)UINTPTR_MAX);
	expect_unchecked("0xdeadbeef", "%+p", (void *)0xdeadbeef);
	assert_int_equal(fmt_snprintf(buf, sizeof(buf), "%12p|", (void *)0xabc),
			 13);
	assert_string_equal(buf, "       0xabc|");
}

/* %.Ns must not read beyond N characters of a possibly unterminated array. */
static void test_precision_bounds_string_reads(void **state)
{
	char *unterminated = test_malloc(3);
	char buf[16];

	(void)state;
	memcpy(unterminated, "abc", 3);
	assert_int_equal(fmt_snprintf(buf, sizeof(buf), "%.3s", unterminated), 3);
	assert_string_equal(buf, "abc");
	assert_int_equal(fmt_snprintf(buf, sizeof(buf), "%.2s|", unterminated), 3);
	assert_string_equal(buf, "ab|");
	test_free(unterminated);
}

static void test_truncation(void **state)
{
	char buf[8];

	(void)state;
	memset(buf, SENTINEL, sizeof(buf));
	assert_int_equal(fmt_snprintf(buf, 5, "hello world"), 11);
	assert_string_equal(buf, "hell");
	assert_int_equal((unsigned char)buf[5], SENTINEL);
	assert_int_equal(fmt_snprintf(buf, 1, "%d", 12345), 5);
	assert_int_equal(buf[0], '\0');
	assert_int_equal((unsigned char)buf[1], 'e');
	assert_int_equal(fmt_snprintf(NULL, 0, "%s=%lld", "x", (long long)INT64_MIN),
			 22);
	assert_int_equal(fmt_snprintf(buf, sizeof(buf), "%s", ""), 0);
	assert_string_equal(buf, "");
}

struct collect {
	char text[64];
	size_t len;
};

static void collect_emit(char c, void *ctx)
{
	struct collect *col = ctx;

	assert_true(col->len < sizeof(col->text));
	col->text[col->len++] = c;
}

static int vformat_collect(struct collect *col, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vformat(collect_emit, col, fmt, ap);
	va_end(ap);
	return n;
}

/* The core passes every character, NULs included, in order, and counts them. */
static void test_vformat_emits_each_char(void **state)
{
	struct collect col = { .len = 0 };

	(void)state;
	assert_int_equal(vformat_collect(&col, "a%cb%5x|", 0, 0x2au), 9);
	assert_int_equal(col.len, 9);
	assert_memory_equal(col.text, "a\0b   2a|", 9);
}

/* Signed extremes checked against exact text, not only against libc. */
static void test_extremes_exact(void **state)
{
	char buf[64];

	(void)state;
	fmt_snprintf(buf, sizeof(buf), "%lld", (long long)INT64_MIN);
	assert_string_equal(buf, "-9223372036854775808");
	fmt_snprintf(buf, sizeof(buf), "%llu", (unsigned long long)UINT64_MAX);
	assert_string_equal(buf, "18446744073709551615");
	fmt_snprintf(buf, sizeof(buf), "%#llo", (unsigned long long)UINT64_MAX);
	assert_string_equal(buf, "01777777777777777777777");
	fmt_snprintf(buf, sizeof(buf), "%#llX", 0xabcdefULL);
	assert_string_equal(buf, "0XABCDEF");
	/* hh and h narrow the promoted int; unchecked to pass a wide int. */
	expect_unchecked("-1 -32768", "%hhd %hd", 0x1ff, 0x18000);
}

static int print_comparison_count(void **state)
{
	(void)state;
	print_message("format: %lu libc comparisons matched\n", comparisons);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_int),
		cmocka_unit_test(test_table_uint),
		cmocka_unit_test(test_table_long),
		cmocka_unit_test(test_table_ulong),
		cmocka_unit_test(test_table_llong),
		cmocka_unit_test(test_table_ullong),
		cmocka_unit_test(test_table_size),
		cmocka_unit_test(test_table_ptrdiff),
		cmocka_unit_test(test_table_intmax),
		cmocka_unit_test(test_table_uintmax),
		cmocka_unit_test(test_table_string),
		cmocka_unit_test(test_table_pointer),
		cmocka_unit_test(test_table_stars),
		cmocka_unit_test(test_literals_and_percent),
		cmocka_unit_test(test_random_single_directive),
		cmocka_unit_test(test_random_multi_directive),
		cmocka_unit_test(test_unknown_specifier_is_verbatim),
		cmocka_unit_test(test_percent_n_is_not_supported),
		cmocka_unit_test(test_trailing_percent),
		cmocka_unit_test(test_null_string),
		cmocka_unit_test(test_pointer_nil_and_value),
		cmocka_unit_test(test_precision_bounds_string_reads),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_vformat_emits_each_char),
		cmocka_unit_test(test_extremes_exact),
	};

	return cmocka_run_group_tests(tests, NULL, print_comparison_count);
}
