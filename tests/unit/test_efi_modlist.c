/* Unit tests for boot/efi_modlist.c: MODULES.TXT lines as file names and "NAME ARGS" command lines, and its limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "boot/efi_modlist.h"

static struct efi_modlist_entry out[EFI_MODLIST_MAX + 1];

static enum efi_modlist_error parse(const char *text, size_t *count, size_t *line)
{
	memset(out, 0x5a, sizeof(out));
	return efi_modlist_parse(text, strlen(text), out, count, line);
}

static void test_lines(void **state)
{
	size_t count, line;

	(void)state;
	assert_int_equal(parse("hello.elf\n  io.elf   a b  \r\n\n# comment\n\t+modules.cfg\ta b,c\r\nlast", &count,
			       &line), EFI_MODLIST_OK);
	assert_int_equal(count, 4);
	assert_int_equal(line, 0);
	assert_string_equal(out[0].file, "hello.elf");
	assert_string_equal(out[0].cmdline, "hello");
	assert_string_equal(out[1].file, "io.elf");
	assert_string_equal(out[1].cmdline, "io a b");
	assert_string_equal(out[2].file, "+modules.cfg");
	assert_string_equal(out[2].cmdline, "+modules.cfg a b,c");
	/* No newline at the end of the file, no ".elf": the name is kept whole. */
	assert_string_equal(out[3].file, "last");
	assert_string_equal(out[3].cmdline, "last");
	/* Nothing is written past the entries. */
	assert_int_equal((unsigned char)out[4].file[0], 0x5a);
}

static void test_elf_suffix(void **state)
{
	size_t count, line;

	(void)state;
	assert_int_equal(parse(".elf\nx.ELF\na.elf.elf\n", &count, &line), EFI_MODLIST_OK);
	assert_int_equal(count, 3);
	/* ".elf" alone keeps its name: a NAME is never empty. */
	assert_string_equal(out[0].cmdline, ".elf");
	assert_string_equal(out[1].cmdline, "x.ELF");
	assert_string_equal(out[2].cmdline, "a.elf");
}

static void test_empty(void **state)
{
	size_t count = 99, line = 99;

	(void)state;
	assert_int_equal(parse("", &count, &line), EFI_MODLIST_OK);
	assert_int_equal(count, 0);
	assert_int_equal(line, 0);
	assert_int_equal(parse("\n  \r\n# only comments\n", &count, &line), EFI_MODLIST_OK);
	assert_int_equal(count, 0);
}

static void test_too_many(void **state)
{
	char text[2048] = "";
	size_t count, line;

	(void)state;
	for (int i = 0; i < EFI_MODLIST_MAX; i++)
		sprintf(text + strlen(text), "# c\nm%d.elf\n", i);
	assert_int_equal(parse(text, &count, &line), EFI_MODLIST_OK);
	assert_int_equal(count, EFI_MODLIST_MAX);
	assert_string_equal(out[EFI_MODLIST_MAX - 1].cmdline, "m15");
	strcat(text, "\none-more\n");
	assert_int_equal(parse(text, &count, &line), EFI_MODLIST_TOO_MANY);
	assert_int_equal(count, EFI_MODLIST_MAX);
	assert_int_equal(line, 2 * EFI_MODLIST_MAX + 2);
}

static void test_cmdline_limit(void **state)
{
	char text[600];
	size_t count, line;

	(void)state;
	/* "k" + ' ' + 253 bytes = 255: fits with its NUL; one more does not. */
	strcpy(text, "k.elf ");
	memset(text + 6, 'a', 253);
	text[6 + 253] = 0;
	assert_int_equal(parse(text, &count, &line), EFI_MODLIST_OK);
	assert_int_equal(strlen(out[0].cmdline), BOOT_MODULE_CMDLINE_MAX - 1);
	strcpy(text, "ok\nk.elf ");
	memset(text + 9, 'a', 254);
	text[9 + 254] = 0;
	assert_int_equal(parse(text, &count, &line), EFI_MODLIST_CMDLINE_TOO_LONG);
	assert_int_equal(count, 1);
	assert_int_equal(line, 2);
}

static void test_bad_names(void **state)
{
	char text[200];
	size_t count, line;

	(void)state;
	assert_int_equal(parse("a\nguests/hello.elf\n", &count, &line), EFI_MODLIST_BAD_FILE);
	assert_int_equal(line, 2);
	assert_int_equal(parse("..\\vmm.efi", &count, &line), EFI_MODLIST_BAD_FILE);
	assert_int_equal(parse("..", &count, &line), EFI_MODLIST_BAD_FILE);
	assert_int_equal(parse("+ args", &count, &line), EFI_MODLIST_BAD_FILE);
	/* Slashes in the arguments are the guest's business. */
	assert_int_equal(parse("k.elf root=/dev/x", &count, &line), EFI_MODLIST_OK);
	assert_string_equal(out[0].cmdline, "k root=/dev/x");

	memset(text, 'n', EFI_MODLIST_FILE_MAX - 1);
	text[EFI_MODLIST_FILE_MAX - 1] = 0;
	assert_int_equal(parse(text, &count, &line), EFI_MODLIST_OK);
	strcat(text, "n");
	assert_int_equal(parse(text, &count, &line), EFI_MODLIST_FILE_TOO_LONG);
	assert_int_equal(line, 1);
}

static void test_control_bytes(void **state)
{
	static const char nul_text[] = "a\nb\0c\n";
	size_t count, line;

	(void)state;
	assert_int_equal(efi_modlist_parse(nul_text, sizeof(nul_text) - 1, out, &count, &line),
			 EFI_MODLIST_BAD_BYTE);
	assert_int_equal(count, 1);
	assert_int_equal(line, 2);
	assert_int_equal(parse("a\x1b[0m\n", &count, &line), EFI_MODLIST_BAD_BYTE);
	/* The length bounds the parse, not a NUL: bytes past len are not read. */
	assert_int_equal(efi_modlist_parse("abc\x01", 3, out, &count, &line), EFI_MODLIST_OK);
	assert_string_equal(out[0].file, "abc");
	assert_non_null(strstr(efi_modlist_error_text(EFI_MODLIST_TOO_MANY), "16"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_elf_suffix),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_cmdline_limit),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_control_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
