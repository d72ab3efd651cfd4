/* modules: the multiboot modules the loader gave us: list, placement, strings, and KEY=VALUE text. */
#include <stdbool.h>
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/multiboot.h"
#include "guest/lib/string.h"

/*
 * Arguments (words of the command line after the program name):
 *   mods=N          exactly N modules
 *   name=NAME       some module's string has NAME as its first word
 *   arg=WORD        some module's string has WORD among the words after its name
 *   line=KEY=VALUE  some module's text has the line KEY=VALUE
 * Every module must be text: lines of KEY=VALUE, '#' comments or blank.
 */

#define MBI_FLAG_MODS		(1u << 3)
#define PAGE_SIZE		4096u
#define KERNEL_START		0x100000u	/* guest/lib/guest.ld */
#define MAX_MODS		16

struct mb_module {
	uint32_t start, end;	/* end exclusive */
	uint32_t string;
	uint32_t reserved;
};

extern char __bss_end[];	/* the end of this kernel's image, .bss included */

static bool overlaps(uint32_t a, uint32_t a_end, uint32_t b, uint32_t b_end)
{
	return a < b_end && b < a_end;
}

/* True when [start, end) lies inside one region the memory map calls usable. */
static bool in_usable_ram(const struct multiboot_info *mbi, uint32_t start, uint32_t end)
{
	uint32_t addr = mbi->mmap_addr, stop = mbi->mmap_addr + mbi->mmap_length;

	CHECK(mbi->flags & MBI_FLAG_MMAP);
	while (addr < stop) {
		const struct multiboot_mmap_entry *e = (const void *)addr;

		CHECK(e->size >= 20);	/* also what keeps this loop finite */
		if (e->type == MMAP_TYPE_USABLE && start >= e->base && end <= e->base + e->length)
			return true;
		addr += e->size + sizeof(e->size);
	}
	return false;
}

static uint32_t crc32(const uint8_t *p, uint32_t n)
{
	uint32_t crc = 0xffffffffu;

	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

static bool key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

/* Checks that the module is KEY=VALUE text; returns how many KEY=VALUE lines it has. */
static int parse_key_values(uint32_t index, const char *p, uint32_t n)
{
	uint32_t i = 0;
	int pairs = 0;

	while (i < n) {
		uint32_t line = i, line_end, key_end;

		while (i < n && p[i] != '\n') {
			char c = p[i];

			if ((c < 0x20 || c > 0x7e) && c != '\t' && c != '\r') {
				printf("guest: modules: module %u: byte %u is 0x%x, not text\n", index, i,
				       (unsigned)(uint8_t)c);
				CHECK(false);
			}
			i++;
		}
		/* [line, i) is one line without its newline; a CR before the newline is no part of it. */
		line_end = i;
		if (line_end > line && p[line_end - 1] == '\r')
			line_end--;
		key_end = line;
		while (key_end < line_end && key_char(p[key_end]))
			key_end++;
		if (line == line_end || p[line] == '#') {
			/* a blank line or a comment */
		} else if (key_end > line && key_end < line_end && p[key_end] == '=') {
			printf("guest: modules: module %u: %.*s\n", index, (int)(line_end - line), p + line);
			pairs++;
		} else {
			printf("guest: modules: module %u: line '%.*s' is not KEY=VALUE\n", index,
			       (int)(line_end - line), p + line);
			CHECK(false);
		}
		i++;	/* the newline */
	}
	return pairs;
}

/* The words of a string, one at a time: returns the next word's length and moves *s to it. */
static uint32_t next_word(const char **s)
{
	uint32_t n = 0;

	while (**s == ' ')
		(*s)++;
	while ((*s)[n] && (*s)[n] != ' ')
		n++;
	return n;
}

static bool word_is(const char *w, uint32_t n, const char *want, uint32_t want_len)
{
	return n == want_len && !memcmp(w, want, n);
}

/* True when the module's string has want (want_len bytes) as its first word (first) or a later one. */
static bool string_has_word(const char *s, const char *want, uint32_t want_len, bool first)
{
	uint32_t n = next_word(&s);

	if (first)
		return word_is(s, n, want, want_len);
	for (s += n; (n = next_word(&s)) != 0; s += n)
		if (word_is(s, n, want, want_len))
			return true;
	return false;
}

/* True when the module's text has the whole line want. */
static bool text_has_line(const char *p, uint32_t n, const char *want, uint32_t want_len)
{
	uint32_t i = 0;

	while (i < n) {
		uint32_t line = i, len;

		while (i < n && p[i] != '\n')
			i++;
		len = i - line;
		if (len && p[line + len - 1] == '\r')
			len--;
		if (word_is(p + line, len, want, want_len))
			return true;
		i++;
	}
	return false;
}

static uint32_t parse_u32(const char *s, uint32_t n)
{
	uint32_t v = 0;

	CHECK(n > 0);
	for (uint32_t i = 0; i < n; i++) {
		CHECK(s[i] >= '0' && s[i] <= '9');
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	return v;
}

/* Checks one argument word against the modules. */
static void check_argument(const struct mb_module *mods, uint32_t count, const char *w, uint32_t n)
{
	static const char *const keys[] = { "name=", "arg=", "line=" };
	uint32_t k, i;

	if (n > 5 && !memcmp(w, "mods=", 5)) {
		CHECK_EQ(count, parse_u32(w + 5, n - 5));
		return;
	}
	for (k = 0; k < 3; k++)
		if (n > strlen(keys[k]) && !memcmp(w, keys[k], strlen(keys[k])))
			break;
	if (k == 3) {
		printf("guest: modules: unknown argument '%.*s'\n", (int)n, w);
		CHECK(false);
	}
	w += strlen(keys[k]);
	n -= strlen(keys[k]);
	for (i = 0; i < count; i++) {
		const char *s = (const char *)mods[i].string;
		bool found = k == 2 ? text_has_line((const char *)mods[i].start,
						     mods[i].end - mods[i].start, w, n)
				    : string_has_word(s, w, n, k == 0);

		if (found) {
			printf("guest: modules: %s%.*s found in module %u\n", keys[k], (int)n, w, i);
			return;
		}
	}
	printf("guest: modules: %s%.*s: in no module\n", keys[k], (int)n, w);
	CHECK(false);
}

/* Where each module is: page aligned, above this kernel, in usable RAM, clear of the info it came with. */
static void check_placement(const struct multiboot_info *mbi, const struct mb_module *mods,
			    uint32_t count, uint32_t i)
{
	const struct mb_module *m = &mods[i];
	const char *cmdline = (const char *)mbi->cmdline;
	uint32_t list_end = mbi->mods_addr + count * sizeof(*m);

	CHECK_EQ(m->start % PAGE_SIZE, 0);
	CHECK(m->end >= m->start);
	CHECK(m->start >= (uint32_t)__bss_end);
	CHECK(!overlaps(m->start, m->end, KERNEL_START, (uint32_t)__bss_end));
	CHECK(in_usable_ram(mbi, m->start, m->end));
	CHECK(!overlaps(m->start, m->end, (uint32_t)mbi, (uint32_t)mbi + sizeof(*mbi)));
	CHECK(!overlaps(m->start, m->end, mbi->mods_addr, list_end));
	CHECK(!overlaps(m->start, m->end, mbi->mmap_addr, mbi->mmap_addr + mbi->mmap_length));
	CHECK(!overlaps(m->start, m->end, mbi->cmdline, mbi->cmdline + strlen(cmdline) + 1));
	for (uint32_t j = 0; j < count; j++) {
		const char *s = (const char *)mods[j].string;

		CHECK(!overlaps(m->start, m->end, mods[j].string, mods[j].string + strlen(s) + 1));
		if (j != i)
			CHECK(!overlaps(m->start, m->end, mods[j].start, mods[j].end));
	}
}

int guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
	const struct mb_module *mods;
	const char *args;
	uint32_t count, i, n;

	CHECK_EQ(magic, MULTIBOOT_LOADER_MAGIC);
	CHECK(mbi->flags & MBI_FLAG_CMDLINE);
	CHECK(mbi->flags & MBI_FLAG_MODS);
	count = mbi->mods_count;
	mods = (const struct mb_module *)mbi->mods_addr;
	printf("guest: modules: %u modules, list at 0x%x\n", count, mbi->mods_addr);
	CHECK(count <= MAX_MODS);
	CHECK(count == 0 || (mbi->mods_addr != 0 && mbi->mods_addr % 4 == 0));
	for (i = 0; i < count; i++) {
		const char *s = (const char *)mods[i].string;
		uint32_t size = mods[i].end - mods[i].start;
		int pairs;

		CHECK(mods[i].string != 0);
		CHECK(next_word(&s) > 0);
		printf("guest: modules: module %u '%s' at [0x%x, 0x%x) %u bytes crc32=%08x\n", i,
		       (const char *)mods[i].string, mods[i].start, mods[i].end, size,
		       crc32((const uint8_t *)mods[i].start, size));
		check_placement(mbi, mods, count, i);
		pairs = parse_key_values(i, (const char *)mods[i].start, size);
		printf("guest: modules: module %u: %d KEY=VALUE lines\n", i, pairs);
	}

	/* The program name, then the checks the run asked for. */
	args = (const char *)mbi->cmdline;
	args += next_word(&args);
	while ((n = next_word(&args)) != 0) {
		check_argument(mods, count, args, n);
		args += n;
	}
	return guest_pass("modules");
}
