/* test_lib.c - durations, times, the configuration reader and the slab
 * allocator (lib/). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/conf.h"
#include "lib/rtime.h"
#include "lib/slab.h"

/* Objects are zeroed, cache-line aligned, distinct, and keep what was
 * written into them across the 2 MiB blocks they come from. */
static void test_slab(void **state)
{
	struct slab *s = slab_new(900);
	assert_non_null(s);
	enum { N = 5000 }; /* about two blocks' worth */
	static uint32_t *objects[N];
	for (uint32_t i = 0; i < N; i++) {
		objects[i] = slab_alloc(s);
		assert_non_null(objects[i]);
		assert_true((uintptr_t)objects[i] % 64 == 0);
		for (size_t w = 0; w < 900 / sizeof(uint32_t); w++)
			assert_true(objects[i][w] == 0);
		objects[i][0] = i;
		objects[i][900 / sizeof(uint32_t) - 1] = ~i;
	}
	for (uint32_t i = 0; i < N; i++)
		assert_true(objects[i][0] == i && objects[i][900 / sizeof(uint32_t) - 1] == ~i);
	slab_free(s);
	slab_free(NULL);
}

static void test_durations(void **state)
{
	int64_t ns;
	struct err e = { 0 };
	assert_int_equal(rtime_parse_duration("90s", &ns, &e), 0);
	assert_true(ns == 90 * RTIME_NS_PER_SEC);
	assert_int_equal(rtime_parse_duration("100ms", &ns, &e), 0);
	assert_true(ns == 100 * RTIME_NS_PER_MS);
	assert_int_equal(rtime_parse_duration("1h30m", &ns, &e), 0);
	assert_true(ns == 5400 * RTIME_NS_PER_SEC);
	assert_int_equal(rtime_parse_duration("7d", &ns, &e), 0);
	assert_true(ns == 7 * 86400 * RTIME_NS_PER_SEC);
	assert_int_equal(rtime_parse_duration("1.5s", &ns, &e), 0);
	assert_true(ns == 1500 * RTIME_NS_PER_MS);
	assert_int_equal(rtime_parse_duration("10", &ns, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "'10'"));
	assert_int_equal(rtime_parse_duration("5x", &ns, &e), -EINVAL);
	assert_int_equal(rtime_parse_duration("", &ns, &e), -EINVAL);
	assert_int_equal(rtime_parse_duration("-5s", &ns, &e), -EINVAL);
	char buf[32];
	assert_string_equal(rtime_format_duration(5400 * RTIME_NS_PER_SEC, buf, sizeof buf),
			    "1h30m");
	assert_string_equal(rtime_format_duration(250 * RTIME_NS_PER_MS, buf, sizeof buf), "250ms");
}

static void test_times(void **state)
{
	int64_t now = INT64_C(1764000000) * RTIME_NS_PER_SEC, ns;
	struct err e = { 0 };
	assert_int_equal(rtime_parse_time("now", now, &ns, &e), 0);
	assert_true(ns == now);
	assert_int_equal(rtime_parse_time("-1h", now, &ns, &e), 0);
	assert_true(ns == now - 3600 * RTIME_NS_PER_SEC);
	assert_int_equal(rtime_parse_time("now-30m", now, &ns, &e), 0);
	assert_true(ns == now - 1800 * RTIME_NS_PER_SEC);
	assert_int_equal(rtime_parse_time("1764000000", now, &ns, &e), 0);
	assert_true(ns == now);
	assert_int_equal(rtime_parse_time("2025-11-24T16:00:00Z", now, &ns, &e), 0);
	assert_true(ns == now);
	assert_int_equal(rtime_parse_time("yesterday", now, &ns, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "yesterday"));
}

struct seen {
	int count;
	char last[256];
};

static int remember(void *ctx, const struct conf_entry *entry, struct err *e)
{
	struct seen *s = ctx;
	s->count++;
	snprintf(s->last, sizeof s->last, "%d|%s|%s|%s|%s", entry->line, entry->section,
		 entry->name, entry->key, entry->value);
	if (strcmp(entry->key, "interval") == 0) {
		int64_t ns;
		return conf_duration(entry, RTIME_NS_PER_MS * 100, &ns, e);
	}
	return 0;
}

static void test_conf(void **state)
{
	struct seen s = { 0 };
	struct err e = { 0 };
	const char *text = "# top\ninterval = 10s # comment\n\n[collector \"cpu\"]\n"
			   "label = \"a # b \"\n";
	assert_int_equal(conf_parse_text(text, "t.conf", remember, &s, &e), 0);
	assert_int_equal(s.count, 2);
	assert_string_equal(s.last, "5|collector|cpu|label|a # b ");

	memset(&s, 0, sizeof s);
	assert_int_equal(conf_parse_text("a = 1\nbogus line\n", "t.conf", remember, &s, &e),
			 -EINVAL);
	assert_string_equal(e.msg, "t.conf:2: expected 'key = value' or '[section]'");

	assert_int_equal(conf_parse_text("[x]\ninterval = 10ms\n", "t.conf", remember, &s, &e),
			 -EINVAL);
	assert_non_null(strstr(e.msg, "t.conf:2: x.interval = '10ms': must be at least 100ms"));

	assert_int_equal(conf_parse_text("k = \"open\n", "f", remember, &s, &e), -EINVAL);
	assert_string_equal(e.msg, "f:1: unterminated quoted value");
	assert_int_equal(conf_parse_file("/nonexistent/x.conf", remember, &s, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "/nonexistent/x.conf"));
}

static void test_conf_sizes(void **state)
{
	struct conf_entry entry = { "f", 1, "", "", "spool", "100MiB", 0 };
	uint64_t size;
	struct err e = { 0 };
	assert_int_equal(conf_size(&entry, &size, &e), 0);
	assert_true(size == 100ULL << 20);
	entry.value = "12 parsecs";
	assert_int_equal(conf_size(&entry, &size, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "f:1: spool = '12 parsecs'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slab),	   cmocka_unit_test(test_durations),
		cmocka_unit_test(test_times),	   cmocka_unit_test(test_conf),
		cmocka_unit_test(test_conf_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
