/* The boot option table and its parser. */
#include <stdbool.h>
#include "vmm/cmdline.h"
#include "vmm/format.h"
#include "vmm/string.h"

struct word {
	const char *s;
	size_t len;
};

struct option_value {
	const char *name;
	int value;
};

enum option_kind {
	OPTION_ENUM,		/* one of `values`, stored as int */
	OPTION_SIZE,		/* bytes, with K/M/G meaning 2^10/2^20/2^30, within [min, max] */
	OPTION_COUNT,		/* a number, with K/M/G meaning 10^3/10^6/10^9 */
	OPTION_STRING,		/* copied into a char[BOOT_GUESTS_MAX] */
};

struct boot_option {
	const char *key;
	enum option_kind kind;
	const struct option_value *values;	/* OPTION_ENUM: NULL-terminated */
	size_t offset;				/* of the field in struct boot_options */
	uint64_t min, max;			/* OPTION_SIZE */
	const char *expected;			/* shown when the value is bad */
};

static const struct option_value log_values[] = {
	{ "debug", LOG_DEBUG }, { "info", LOG_INFO }, { "warn", LOG_WARN }, { NULL, 0 },
};

static const struct option_value crash_values[] = {
	{ "pf", CRASH_PAGE_FAULT }, { "ud", CRASH_INVALID_OPCODE }, { "panic", CRASH_PANIC },
	{ NULL, 0 },
};

static const struct option_value mmu_values[] = {
	{ "ept", MMU_MODE_EPT }, { "shadow", MMU_MODE_SHADOW }, { NULL, 0 },
};

static const struct option_value zap_values[] = {
	{ "fast", ZAP_FAST }, { "slow", ZAP_SLOW }, { NULL, 0 },
};

static const struct option_value bool_values[] = {
	{ "0", 0 }, { "1", 1 }, { NULL, 0 },
};

_Static_assert(sizeof(enum log_level) == sizeof(int) && sizeof(enum crash_kind) == sizeof(int) &&
	       sizeof(enum mmu_mode) == sizeof(int) && sizeof(enum zap_mode) == sizeof(int),
	       "boot option fields are stored as int");

static const struct boot_option boot_option_table[] = {
	{ "log", OPTION_ENUM, log_values, offsetof(struct boot_options, log_level), 0, 0, NULL },
	{ "crash", OPTION_ENUM, crash_values, offsetof(struct boot_options, crash), 0, 0, NULL },
	{ "guest", OPTION_STRING, NULL, offsetof(struct boot_options, guests), 0, 0,
	  "module names separated by commas" },
	{ "guest_mem", OPTION_SIZE, NULL, offsetof(struct boot_options, guest_mem),
	  GUEST_MEM_MIN, GUEST_MEM_MAX, "a size from 2M to 3G, e.g. 128M" },
	{ "watchdog", OPTION_COUNT, NULL, offsetof(struct boot_options, watchdog_cycles), 0,
	  UINT64_MAX, "TSC cycles, e.g. 500M or 30G; 0 turns it off" },
	{ "mmu", OPTION_ENUM, mmu_values, offsetof(struct boot_options, mmu), 0, 0, NULL },
	{ "mmio_caching", OPTION_ENUM, bool_values, offsetof(struct boot_options, mmio_caching), 0, 0, NULL },
	{ "zap", OPTION_ENUM, zap_values, offsetof(struct boot_options, zap), 0, 0, NULL },
	{ "mmu_pages", OPTION_COUNT, NULL, offsetof(struct boot_options, mmu_pages), 0, MMU_PAGES_MAX,
	  "up to 1M shadow pages; 0: from guest_mem" },
};

#define TOKEN_SHOWN_MAX 64	/* longer words are cut in messages */

void boot_options_default(struct boot_options *opts)
{
	opts->log_level = LOG_INFO;
	opts->crash = CRASH_NONE;
	opts->guests[0] = '\0';
	opts->guest_mem = GUEST_MEM_DEFAULT;
	opts->watchdog_cycles = WATCHDOG_DEFAULT;
	opts->mmu = MMU_MODE_AUTO;
	opts->mmio_caching = 1;
	opts->zap = ZAP_FAST;
	opts->mmu_pages = 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const char *skip_spaces(const char *p)
{
	while (*p && is_space(*p))
		p++;
	return p;
}

static struct word next_word(const char **cursor)
{
	const char *p = skip_spaces(*cursor);
	struct word w = { p, 0 };

	while (p[w.len] && !is_space(p[w.len]))
		w.len++;
	*cursor = p + w.len;
	return w;
}

static bool word_equals(struct word w, const char *s)
{
	return strlen(s) == w.len && memcmp(w.s, s, w.len) == 0;
}

static const char *find_equals(struct word w)
{
	size_t i;

	for (i = 0; i < w.len; i++)
		if (w.s[i] == '=')
			return w.s + i;
	return NULL;
}

static const struct boot_option *find_option(struct word key)
{
	size_t i;

	for (i = 0; i < sizeof(boot_option_table) / sizeof(boot_option_table[0]); i++)
		if (word_equals(key, boot_option_table[i].key))
			return &boot_option_table[i];
	return NULL;
}

static void list_values(const struct option_value *v, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (; v->name && used < len; v++)
		used += (size_t)fmt_snprintf(buf + used, len - used, "%s%s",
					     used ? "|" : "", v->name);
}

/* Decimal digits and an optional K/M/G suffix; false on anything else or on overflow. */
static bool parse_number(struct word w, bool binary, uint64_t *out)
{
	uint64_t n = 0, unit = 1;
	size_t i, digits = w.len;

	if (digits && (w.s[digits - 1] == 'K' || w.s[digits - 1] == 'k'))
		unit = binary ? 1ull << 10 : 1000ull, digits--;
	else if (digits && (w.s[digits - 1] == 'M' || w.s[digits - 1] == 'm'))
		unit = binary ? 1ull << 20 : 1000000ull, digits--;
	else if (digits && (w.s[digits - 1] == 'G' || w.s[digits - 1] == 'g'))
		unit = binary ? 1ull << 30 : 1000000000ull, digits--;
	if (!digits)
		return false;
	for (i = 0; i < digits; i++) {
		uint64_t digit = (uint64_t)(w.s[i] - '0');

		if (w.s[i] < '0' || w.s[i] > '9' || n > (UINT64_MAX - digit) / 10)
			return false;
		n = n * 10 + digit;
	}
	if (n > UINT64_MAX / unit)
		return false;
	*out = n * unit;
	return true;
}

static bool set_value(const struct boot_option *opt, struct word value, struct boot_options *opts)
{
	char *field = (char *)opts + opt->offset;
	const struct option_value *v;
	uint64_t n;

	switch (opt->kind) {
	case OPTION_ENUM:
		for (v = opt->values; v->name; v++) {
			if (word_equals(value, v->name)) {
				*(int *)field = v->value;
				return true;
			}
		}
		return false;
	case OPTION_SIZE:
	case OPTION_COUNT:
		if (!parse_number(value, opt->kind == OPTION_SIZE, &n) || n < opt->min || n > opt->max)
			return false;
		*(uint64_t *)field = n;
		return true;
	case OPTION_STRING:
		if (!value.len || value.len >= BOOT_GUESTS_MAX)
			return false;
		memcpy(field, value.s, value.len);
		field[value.len] = '\0';
		return true;
	}
	return false;
}

static void describe_expected(const struct boot_option *opt, char *buf, size_t len)
{
	if (opt->kind == OPTION_ENUM)
		list_values(opt->values, buf, len);
	else
		fmt_snprintf(buf, len, "%s", opt->expected);
}

static int set_option(const struct boot_option *opt, struct word key, struct word value,
		      struct boot_options *opts, char *err, size_t errlen)
{
	char expected[64];

	if (set_value(opt, value, opts))
		return 0;
	describe_expected(opt, expected, sizeof(expected));
	fmt_snprintf(err, errlen, "bad value '%.*s' for boot option '%.*s' (expected %s)",
		     (int)(value.len < TOKEN_SHOWN_MAX ? value.len : TOKEN_SHOWN_MAX), value.s,
		     (int)key.len, key.s, expected);
	return -1;
}

int cmdline_parse(const char *cmdline, struct boot_options *opts, char *err, size_t errlen)
{
	const char *cursor = cmdline;

	for (;;) {
		struct word w = next_word(&cursor), key, value;
		const struct boot_option *opt;
		const char *eq;
		int shown = (int)(w.len < TOKEN_SHOWN_MAX ? w.len : TOKEN_SHOWN_MAX);

		if (!w.len)
			return 0;
		eq = find_equals(w);
		key.s = w.s;
		key.len = eq ? (size_t)(eq - w.s) : w.len;
		opt = find_option(key);
		if (!opt) {
			fmt_snprintf(err, errlen, "unknown boot option '%.*s'%s", shown, w.s,
				     w.len > TOKEN_SHOWN_MAX ? "..." : "");
			return -1;
		}
		if (!eq) {
			char expected[64];

			describe_expected(opt, expected, sizeof(expected));
			fmt_snprintf(err, errlen, "boot option '%s' needs a value (%s=%s)",
				     opt->key, opt->key, expected);
			return -1;
		}
		value.s = eq + 1;
		value.len = w.len - key.len - 1;
		if (set_option(opt, key, value, opts, err, errlen))
			return -1;
	}
}

const char *cmdline_skip_program_name(const char *cmdline)
{
	const char *cursor = cmdline;

	next_word(&cursor);
	return skip_spaces(cursor);
}
