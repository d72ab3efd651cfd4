/* Unit tests of boot option parsing: every option, every error, the multiboot program name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include "vmm/cmdline.h"

struct parse_result {
	int rc;
	struct boot_options opts;
	char err[160];
};

static struct parse_result parse(const char *cmdline)
{
	struct parse_result r;

	memset(&r, 0, sizeof(r));
	boot_options_default(&r.opts);
	r.rc = cmdline_parse(cmdline, &r.opts, r.err, sizeof(r.err));
	return r;
}

static void test_empty_and_blank_lines_give_defaults(void **state)
{
	const char *lines[] = { "", " ", "\t \t", "\n" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct parse_result r = parse(lines[i]);

		assert_int_equal(r.rc, 0);
		assert_int_equal(r.opts.log_level, LOG_INFO);
		assert_int_equal(r.opts.crash, CRASH_NONE);
	}
}

static void test_log_levels(void **state)
{
	(void)state;
	assert_int_equal(parse("log=debug").opts.log_level, LOG_DEBUG);
	assert_int_equal(parse("log=info").opts.log_level, LOG_INFO);
	assert_int_equal(parse("log=warn").opts.log_level, LOG_WARN);
}

static void test_later_words_override_earlier_ones(void **state)
{
	struct parse_result r = parse("  log=debug\tcrash=ud   log=warn  ");

	(void)state;
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.opts.log_level, LOG_WARN);
	assert_int_equal(r.opts.crash, CRASH_INVALID_OPCODE);
	assert_int_equal(parse("crash=pf").opts.crash, CRASH_PAGE_FAULT);
	assert_int_equal(parse("").opts.mmu, MMU_MODE_AUTO);
	assert_int_equal(parse("mmu=shadow").opts.mmu, MMU_MODE_SHADOW);
	assert_int_equal(parse("mmu=shadow mmu=ept").opts.mmu, MMU_MODE_EPT);
	assert_int_equal(parse("mmu=tdp").rc, -1);
	assert_int_equal(parse("crash=panic").opts.crash, CRASH_PANIC);
}

static void test_unknown_option_is_named(void **state)
{
	struct parse_result r = parse("log=debug bogus=1");

	(void)state;
	assert_int_equal(r.rc, -1);
	assert_string_equal(r.err, "unknown boot option 'bogus=1'");
	r = parse("verbose");
	assert_string_equal(r.err, "unknown boot option 'verbose'");
}

static void test_option_names_must_match_whole(void **state)
{
	(void)state;
	assert_string_equal(parse("logx=debug").err, "unknown boot option 'logx=debug'");
	assert_string_equal(parse("lo=debug").err, "unknown boot option 'lo=debug'");
	assert_string_equal(parse("=debug").err, "unknown boot option '=debug'");
}

static void test_bad_value_lists_the_good_ones(void **state)
{
	struct parse_result r = parse("log=loud");

	(void)state;
	assert_int_equal(r.rc, -1);
	assert_string_equal(r.err, "bad value 'loud' for boot option 'log' (expected debug|info|warn)");
	assert_string_equal(parse("log=").err,
			    "bad value '' for boot option 'log' (expected debug|info|warn)");
	assert_string_equal(parse("log=debugx").err,
			    "bad value 'debugx' for boot option 'log' (expected debug|info|warn)");
	assert_string_equal(parse("crash=yes").err,
			    "bad value 'yes' for boot option 'crash' (expected pf|ud|panic)");
}

static void test_option_without_value(void **state)
{
	(void)state;
	assert_string_equal(parse("log").err, "boot option 'log' needs a value (log=debug|info|warn)");
}

static void test_long_words_are_cut_in_messages(void **state)
{
	char line[400];
	struct parse_result r;

	(void)state;
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	r = parse(line);
	assert_int_equal(r.rc, -1);
	assert_true(strlen(r.err) < 120);
	assert_non_null(strstr(r.err, "..."));
}

static void test_small_error_buffer_is_terminated(void **state)
{
	struct boot_options opts;
	char err[8];

	(void)state;
	boot_options_default(&opts);
	memset(err, '#', sizeof(err));
	assert_int_equal(cmdline_parse("bogus", &opts, err, sizeof(err)), -1);
	assert_int_equal(err[sizeof(err) - 1], '\0');
	assert_string_equal(err, "unknown");
}

static void test_guest_options(void **state)
{
	struct parse_result r = parse("guest=hello,io guest_mem=64M watchdog=500M");

	(void)state;
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.opts.guests, "hello,io");
	assert_int_equal(r.opts.guest_mem, 64ull << 20);
	assert_int_equal(r.opts.watchdog_cycles, 500000000ull);
	r = parse("guest_mem=2g watchdog=0 guest_mem=131072k");
	assert_int_equal(r.opts.guest_mem, 128ull << 20);
	assert_int_equal(r.opts.watchdog_cycles, 0);
	assert_int_equal(parse("").opts.guest_mem, GUEST_MEM_DEFAULT);
	assert_int_equal(parse("").opts.watchdog_cycles, WATCHDOG_DEFAULT);
	assert_int_equal(parse("watchdog=18446744073709551615").opts.watchdog_cycles, UINT64_MAX);
}

static void test_bad_numbers_are_refused(void **state)
{
	(void)state;
	assert_string_equal(parse("guest_mem=1M").err,
			    "bad value '1M' for boot option 'guest_mem' (expected a size from 2M to 3G, e.g. 128M)");
	assert_int_equal(parse("guest_mem=4G").rc, -1);
	assert_int_equal(parse("guest_mem=12X").rc, -1);
	assert_int_equal(parse("guest_mem=M").rc, -1);
	assert_int_equal(parse("guest_mem=-5M").rc, -1);
	assert_int_equal(parse("watchdog=18446744073709551616").rc, -1);
	assert_int_equal(parse("watchdog=20000000000G").rc, -1);
	assert_int_equal(parse("guest=").rc, -1);
}

static void test_skip_program_name(void **state)
{
	(void)state;
	assert_string_equal(cmdline_skip_program_name("/boot/vmm.elf32 log=debug crash=pf"),
			    "log=debug crash=pf");
	assert_string_equal(cmdline_skip_program_name("vmm"), "");
	assert_string_equal(cmdline_skip_program_name(""), "");
	assert_string_equal(cmdline_skip_program_name("  build/vmm.elf32   log=warn"), "log=warn");
}

static void test_mmio_caching(void **state)
{
	struct parse_result r;

	(void)state;
	assert_int_equal(parse("").opts.mmio_caching, 1);
	assert_int_equal(parse("mmio_caching=0").opts.mmio_caching, 0);
	assert_int_equal(parse("mmio_caching=0 mmio_caching=1").opts.mmio_caching, 1);
	assert_int_equal(parse("mmu=shadow mmio_caching=0").opts.mmu, MMU_MODE_SHADOW);
	r = parse("mmio_caching=yes");
	assert_int_equal(r.rc, -1);
	assert_string_equal(r.err, "bad value 'yes' for boot option 'mmio_caching' (expected 0|1)");
	r = parse("mmio_caching=01");
	assert_int_equal(r.rc, -1);
	r = parse("mmio_caching");
	assert_int_equal(r.rc, -1);
	assert_string_equal(r.err, "boot option 'mmio_caching' needs a value (mmio_caching=0|1)");
}

static void test_zap_mode(void **state)
{
	struct parse_result r;

	(void)state;
	assert_int_equal(parse("").opts.zap, ZAP_FAST);
	assert_int_equal(parse("zap=slow").opts.zap, ZAP_SLOW);
	assert_int_equal(parse("zap=slow zap=fast").opts.zap, ZAP_FAST);
	r = parse("mmu=shadow zap=slow mmio_caching=0");
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.opts.zap, ZAP_SLOW);
	assert_int_equal(r.opts.mmu, MMU_MODE_SHADOW);
	assert_int_equal(r.opts.mmio_caching, 0);
	r = parse("zap=all");
	assert_int_equal(r.rc, -1);
	assert_string_equal(r.err, "bad value 'all' for boot option 'zap' (expected fast|slow)");
	r = parse("zap=Slow");
	assert_int_equal(r.rc, -1);
	r = parse("zap");
	assert_int_equal(r.rc, -1);
	assert_string_equal(r.err, "boot option 'zap' needs a value (zap=fast|slow)");
}

static void test_mmu_pages(void **state)
{
	struct parse_result r;

	(void)state;
	assert_int_equal(parse("").opts.mmu_pages, 0);
	assert_int_equal(parse("mmu_pages=12000").opts.mmu_pages, 12000);
	/* A count: K and M are powers of ten, as for watchdog=. */
	assert_int_equal(parse("mmu_pages=12K").opts.mmu_pages, 12000);
	assert_int_equal(parse("mmu_pages=1M").opts.mmu_pages, MMU_PAGES_MAX);
	assert_int_equal(parse("mmu_pages=5000 mmu_pages=0").opts.mmu_pages, 0);
	r = parse("mmu_pages=1000001");
	assert_int_equal(r.rc, -1);
	assert_string_equal(r.err, "bad value '1000001' for boot option 'mmu_pages' "
				   "(expected up to 1M shadow pages; 0: from guest_mem)");
	assert_int_equal(parse("mmu_pages=2G").rc, -1);
	assert_int_equal(parse("mmu_pages=-1").rc, -1);
	assert_int_equal(parse("mmu_pages=").rc, -1);
	/* The error message fits the VMM's 160-byte buffer even with the longest value shown. */
	{
		char line[100] = "mmu_pages=";

		memset(line + 10, '9', 80);
		line[90] = '\0';
		r = parse(line);
		assert_int_equal(r.rc, -1);
		assert_true(strlen(r.err) < 159);
		assert_non_null(strstr(r.err, "0: from guest_mem)"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_and_blank_lines_give_defaults),
		cmocka_unit_test(test_log_levels),
		cmocka_unit_test(test_zap_mode),
		cmocka_unit_test(test_mmu_pages),
		cmocka_unit_test(test_later_words_override_earlier_ones),
		cmocka_unit_test(test_unknown_option_is_named),
		cmocka_unit_test(test_option_names_must_match_whole),
		cmocka_unit_test(test_bad_value_lists_the_good_ones),
		cmocka_unit_test(test_option_without_value),
		cmocka_unit_test(test_long_words_are_cut_in_messages),
		cmocka_unit_test(test_small_error_buffer_is_terminated),
		cmocka_unit_test(test_guest_options),
		cmocka_unit_test(test_bad_numbers_are_refused),
		cmocka_unit_test(test_skip_program_name),
		cmocka_unit_test(test_mmio_caching),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
