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

struct boot_option {
	const char *key;
	const struct option_value *values;	/* NULL-terminated */
	size_t offset;				/* of the int-sized field in struct boot_options */
};

static const struct option_value log_values[] = {
	{ "debug", LOG_DEBUG }, { "info", LOG_INFO }, { "warn", LOG_WARN }, { NULL, 0 },
};

static const struct option_value crash_values[] = {
	{ "pf", CRASH_PAGE_FAULT }, { "ud", CRASH_INVALID_OPCODE }, { "panic", CRASH_PANIC },
	{ NULL, 0 },
};

_Static_assert(sizeof(enum log_level) == sizeof(int) && sizeof(enum crash_kind) == sizeof(int),
	       "boot option fields are stored as int");

static const struct boot_option boot_option_table[] = {
	{ "log", log_values, offsetof(struct boot_options, log_level) },
	{ "crash", crash_values, offsetof(struct boot_options, crash) },
};

#define TOKEN_SHOWN_MAX 64	/* longer words are cut in messages */

void boot_options_default(struct boot_options *opts)
{
	opts->log_level = LOG_INFO;
	opts->crash = CRASH_NONE;
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

static int set_option(const struct boot_option *opt, struct word key, struct word value,
		      struct boot_options *opts, char *err, size_t errlen)
{
	const struct option_value *v;
	char expected[64];

	for (v = opt->values; v->name; v++) {
		if (word_equals(value, v->name)) {
			*(int *)((char *)opts + opt->offset) = v->value;
			return 0;
		}
	}
	list_values(opt->values, expected, sizeof(expected));
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

			list_values(opt->values, expected, sizeof(expected));
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
