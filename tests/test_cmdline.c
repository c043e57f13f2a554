/* test_cmdline.c - the command-line reader every program's main uses
 * (lib/cmdline.c): options of each kind, operands in any place, the
 * built-ins, and errors that name the option. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/cmdline.h"
#include "lib/log.h"
#include "lib/rtime.h"

struct values {
	const char *data, *listen;
	bool once, print;
	int64_t interval, count;
	uint64_t size;
};

static struct values v;

static const struct cmdline_option options[] = {
	CMDLINE_DATA(&v.data),
	{ "listen", 0, CMDLINE_STRING, &v.listen, "ADDR", "take streams on ADDR", 0, 0 },
	{ "once", '1', CMDLINE_FLAG, &v.once, NULL, "collect once", 0, 0 },
	{ "print", 'p', CMDLINE_FLAG, &v.print, NULL, "print lines\ninstead of storing", 0, 0 },
	{ "interval", 'i', CMDLINE_DURATION, &v.interval, "D", "how often", 100 * RTIME_NS_PER_MS,
	  3600 * RTIME_NS_PER_SEC },
	{ "count", 'n', CMDLINE_INT, &v.count, "N", "how many", 1, 1000 },
	{ "size", 0, CMDLINE_SIZE, &v.size, "BYTES", "how much", 0, 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0, 0 },
};

static const struct cmdline cl = {
	.program = "rmon-test",
	.synopsis = "[SELECTOR] [OPTIONS]",
	.about = "Tests the reader.",
	.options = options,
	.max_operands = 1,
};

/* Parses the words (NULL-ended) after "rmon-test", from fresh values. */
static int parse(char **argv, struct err *e)
{
	int argc = 0;
	while (argv[argc])
		argc++;
	v = (struct values){ .data = "var", .interval = 10 * RTIME_NS_PER_SEC, .count = 5 };
	err_clear(e);
	return cmdline_parse(&cl, argc, argv, e);
}

static void test_kinds(void **state)
{
	struct err e;
	char *argv[] = { "rmon-test", "--data",	    "/d",   "--listen=127.0.0.1:1",
			 "-1p",	      "--interval", "1.5s", "-n7",
			 "--size",    "64KiB",	    NULL };
	assert_int_equal(parse(argv, &e), 10);
	assert_string_equal(v.data, "/d");
	assert_string_equal(v.listen, "127.0.0.1:1");
	assert_true(v.once && v.print);
	assert_true(v.interval == 1500 * RTIME_NS_PER_MS);
	assert_true(v.count == 7);
	assert_true(v.size == 64 << 10);

	char *defaults[] = { "rmon-test", NULL };
	assert_int_equal(parse(defaults, &e), 1);
	assert_string_equal(v.data, "var"); /* untouched: the default */
	assert_false(v.once);
	assert_true(v.interval == 10 * RTIME_NS_PER_SEC);
}

/* Operands may come first, as in "rmon query SELECTOR --data DIR"; they
 * end up after the options, in their order; "--" ends the options. */
static void test_operands(void **state)
{
	struct err e;
	char *argv[] = { "rmon-test", "node_load1", "-d", "/d", NULL };
	assert_int_equal(parse(argv, &e), 3);
	assert_string_equal(argv[3], "node_load1");
	assert_string_equal(v.data, "/d");

	char *dash[] = { "rmon-test", "--", "--once", NULL };
	assert_int_equal(parse(dash, &e), 2);
	assert_string_equal(dash[2], "--once");
	assert_false(v.once);

	char *two[] = { "rmon-test", "a", "b", NULL };
	assert_int_equal(parse(two, &e), -EINVAL);
	assert_string_equal(e.msg, "unexpected argument 'b'");

	/* A value that looks like an option is still the value. */
	char *negative[] = { "rmon-test", "--listen", "-1h", NULL };
	assert_int_equal(parse(negative, &e), 3);
	assert_string_equal(v.listen, "-1h");
	assert_false(v.once);
}

static void test_errors(void **state)
{
	struct err e;
	char *unknown[] = { "rmon-test", "--colour", NULL };
	assert_int_equal(parse(unknown, &e), -EINVAL);
	assert_string_equal(e.msg, "unknown option '--colour'");

	char *letter[] = { "rmon-test", "-1x", NULL };
	assert_int_equal(parse(letter, &e), -EINVAL);
	assert_string_equal(e.msg, "unknown option '-x'");

	char *missing[] = { "rmon-test", "--data", NULL };
	assert_int_equal(parse(missing, &e), -EINVAL);
	assert_string_equal(e.msg, "option '--data' needs a value (DIR)");

	char *flag_value[] = { "rmon-test", "--once=yes", NULL };
	assert_int_equal(parse(flag_value, &e), -EINVAL);
	assert_string_equal(e.msg, "option '--once' takes no value");

	char *short_dur[] = { "rmon-test", "-i", "5ms", NULL };
	assert_int_equal(parse(short_dur, &e), -EINVAL);
	assert_string_equal(e.msg, "-i '5ms': must be at least 100ms");

	char *long_dur[] = { "rmon-test", "--interval", "2h1s", NULL };
	assert_int_equal(parse(long_dur, &e), -EINVAL);
	assert_string_equal(e.msg, "--interval '2h1s': must be at most 1h");

	char *no_unit[] = { "rmon-test", "--interval", "10", NULL };
	assert_int_equal(parse(no_unit, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "--interval: bad duration '10'"));

	char *not_int[] = { "rmon-test", "--count", "7x", NULL };
	assert_int_equal(parse(not_int, &e), -EINVAL);
	assert_string_equal(e.msg, "--count '7x': expected a whole number");

	char *octal[] = { "rmon-test", "--count", "010", NULL }; /* decimal, not 8 */
	assert_int_equal(parse(octal, &e), 3);
	assert_true(v.count == 10);

	char *range[] = { "rmon-test", "--count", "1001", NULL };
	assert_int_equal(parse(range, &e), -EINVAL);
	assert_string_equal(e.msg, "--count '1001': must be from 1 to 1000");

	char *size[] = { "rmon-test", "--size", "12 parsecs", NULL };
	assert_int_equal(parse(size, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "--size '12 parsecs': expected a size"));
}

static void test_builtins(void **state)
{
	struct err e;
	char *help[] = { "rmon-test", "--data", "/d", "--help", "--colour", NULL };
	assert_int_equal(parse(help, &e), CMDLINE_HELP); /* nothing after it matters */
	char *h[] = { "rmon-test", "-h", NULL };
	assert_int_equal(parse(h, &e), CMDLINE_HELP);
	char *version[] = { "rmon-test", "--version", NULL };
	assert_int_equal(parse(version, &e), CMDLINE_VERSION_ASKED);

	log_set_level(LOG_INFO);
	char *verbose[] = { "rmon-test", "-v", NULL };
	assert_int_equal(parse(verbose, &e), 2);
	assert_int_equal(log_get_level(), LOG_DEBUG);
	log_set_level(LOG_INFO);
}

/* The usage comes from the table: every option, its placeholder, each
 * help line aligned under the first. */
static void test_usage(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	assert_non_null(out);
	cmdline_usage(&cl, out);
	fclose(out);
	assert_non_null(
	    strstr(text, "usage: rmon-test [SELECTOR] [OPTIONS]\n\nTests the reader.\n"));
	assert_non_null(strstr(text, "  -d, --data DIR"));
	assert_non_null(strstr(text, "      --listen ADDR"));
	assert_non_null(strstr(text, "  -p, --print"));
	assert_non_null(strstr(text, "print lines\n"));
	char *second = strstr(text, "print lines\n") + strlen("print lines\n");
	char *first = strstr(text, "  -p, --print");
	size_t column = (size_t)(strstr(first, "print lines") - first);
	assert_true(strspn(second, " ") == column);
	assert_non_null(strstr(text, "  -v, --verbose"));
	assert_non_null(strstr(text, "  -V, --version"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds),  cmocka_unit_test(test_operands),
		cmocka_unit_test(test_errors), cmocka_unit_test(test_builtins),
		cmocka_unit_test(test_usage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
