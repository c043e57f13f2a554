/* test_settings.c - settings read through a table (lib/settings.c): each
 * kind lands in its field, bounds and unknown keys are errors naming the
 * file and line, strings are kept until released. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/rtime.h"
#include "lib/settings.h"

struct mine {
	bool flag;
	uint32_t lanes, frame;
	int64_t rate, interval;
	uint64_t spool;
	const char *address;
	int depth;
	char name[8];
};

#define AT(f) offsetof(struct mine, f)

static const struct setting rows[] = {
	{ "a", "flag", SETTING_BOOL, AT(flag), 0, 0, 0 },
	{ "a", "lanes", SETTING_UINT32, AT(lanes), 1, 64, SETTING_POWER_OF_TWO },
	{ "a", "rate", SETTING_INT64, AT(rate), 1, INT64_MAX, 0 },
	{ "a", "interval", SETTING_DURATION, AT(interval), RTIME_NS_PER_SEC, 0, 0 },
	{ "b", "spool", SETTING_SIZE, AT(spool), 1 << 20, 0, 0 },
	{ "b", "frame", SETTING_SIZE32, AT(frame), 4096, 64 << 20, 0 },
	{ "b", "address", SETTING_STRING, AT(address), 0, 0, 0 },
	{ "b", "depth", SETTING_INT, AT(depth), 0, 8, 0 },
	{ "b", "name", SETTING_TEXT, AT(name), 0, sizeof(char[8]), 0 },
	{ NULL, NULL, 0, 0, 0, 0, 0 },
};

static int apply(void *ctx, const struct conf_entry *entry, struct err *e)
{
	int rc = settings_apply(ctx, entry, e);
	return rc == SETTINGS_UNKNOWN ? settings_unknown(ctx, entry, e) : rc;
}

static int parse(const char *text, struct mine *m, struct settings *s, struct err *e)
{
	*m = (struct mine){ 0 };
	*s = (struct settings){ .table = rows, .base = m };
	err_clear(e);
	return conf_parse_text(text, "t.conf", apply, s, e);
}

static void test_kinds(void **state)
{
	struct mine m;
	struct settings s;
	struct err e;
	assert_int_equal(parse("[a]\nflag = yes\nlanes = 16\nrate = 2000000\ninterval = 1m\n"
			       "[b]\nspool = 100MiB\nframe = 64KiB\naddress = 10.0.0.1:7470\n"
			       "depth = 3\nname = seven..\n",
			       &m, &s, &e),
			 0);
	assert_true(m.flag);
	assert_int_equal(m.lanes, 16);
	assert_true(m.rate == 2000000);
	assert_true(m.interval == 60 * RTIME_NS_PER_SEC);
	assert_true(m.spool == 100ull << 20);
	assert_int_equal(m.frame, 64 << 10);
	assert_string_equal(m.address, "10.0.0.1:7470");
	assert_int_equal(m.depth, 3);
	assert_string_equal(m.name, "seven..");
	assert_int_equal(s.n_copies, 1);
	settings_release(&s);
	assert_int_equal(s.n_copies, 0);
}

static void test_errors(void **state)
{
	static const struct {
		const char *text, *message;
	} cases[] = {
		{ "[a]\nlanes = 0\n", "t.conf:2: a.lanes = '0': must be between 1 and 64" },
		{ "[a]\nlanes = 12\n", "t.conf:2: a.lanes = '12': must be a power of two" },
		{ "[a]\nflag = perhaps\n", "t.conf:2: a.flag = 'perhaps': expected true or false" },
		{ "[a]\ninterval = 10ms\n", "t.conf:2: a.interval = '10ms': must be at least 1s" },
		{ "[b]\nspool = 64KiB\n", "t.conf:2: b.spool = '64KiB': must be at least 1MiB" },
		{ "[b]\nframe = 1KiB\n", "t.conf:2: b.frame = '1KiB': must be from 4KiB to 64MiB" },
		{ "[b]\nframe = 65MiB\n",
		  "t.conf:2: b.frame = '65MiB': must be from 4KiB to 64MiB" },
		{ "[a]\nsmell = nice\n",
		  "t.conf:2: a.smell = 'nice': unknown setting (flag, lanes, rate, interval)" },
		{ "[c]\nx = 1\n", "t.conf:2: c.x = '1': unknown section (known: [a], [b])" },
		{ "[b]\ndepth = 9\n", "t.conf:2: b.depth = '9': must be between 0 and 8" },
		{ "[b]\nname = eight...\n",
		  "t.conf:2: b.name = 'eight...': longer than 7 characters" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct mine m;
		struct settings s;
		struct err e;
		assert_int_equal(parse(cases[i].text, &m, &s, &e), -EINVAL);
		assert_string_equal(e.msg, cases[i].message);
		settings_release(&s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
