/* test_expo.c - the Prometheus exposition (net/expo.c): families grouped
 * with one HELP and TYPE each, counters by their _total, OpenMetrics'
 * family names, timestamps and # EOF, values that read back exactly, and
 * hostile names and label values escaped. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/expo.h"

static char *render(struct expo *x, enum expo_format f)
{
	struct httpd_response r = { 0 };
	assert_int_equal(expo_write(x, f, &r), 0);
	httpd_append(&r, "", 1);
	return r.body;
}

static void test_families(void **state)
{
	struct expo *x = expo_new();
	struct series_label l1[] = { { "cpu", "0" }, { "mode", "idle" } };
	struct series_label l2[] = { { "cpu", "1" }, { "mode", "idle" } };
	assert_int_equal(expo_add(x, "node_cpu_seconds_total", l1, 2, 12.5, EXPO_NO_TS), 0);
	assert_int_equal(expo_add(x, "node_load1", NULL, 0, 0.1, EXPO_NO_TS), 0);
	assert_int_equal(expo_add(x, "node_cpu_seconds_total", l2, 2, 1e300, EXPO_NO_TS), 0);
	assert_int_equal(expo_add(x, "a_gauge", NULL, 0, NAN, EXPO_NO_TS), 0);
	assert_int_equal(expo_add(x, "b_gauge", NULL, 0, -INFINITY, EXPO_NO_TS), 0);
	assert_int_equal(expo_count(x), 5);
	char *text = render(x, EXPO_TEXT);
	const char *want = "# HELP a_gauge See docs/metrics.md.\n"
			   "# TYPE a_gauge gauge\n"
			   "a_gauge NaN\n"
			   "# HELP b_gauge See docs/metrics.md.\n"
			   "# TYPE b_gauge gauge\n"
			   "b_gauge -Inf\n"
			   "# HELP node_cpu_seconds_total See docs/metrics.md.\n"
			   "# TYPE node_cpu_seconds_total counter\n"
			   "node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 12.5\n"
			   "node_cpu_seconds_total{cpu=\"1\",mode=\"idle\"} 1e+300\n"
			   "# HELP node_load1 See docs/metrics.md.\n"
			   "# TYPE node_load1 gauge\n"
			   "node_load1 0.1\n";
	assert_string_equal(text, want);
	free(text);
	text = render(x, EXPO_OPENMETRICS);
	assert_non_null(strstr(text, "# TYPE node_cpu_seconds counter\n"
				     "node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 12.5\n"));
	assert_non_null(strstr(text, "# HELP node_cpu_seconds See"));
	size_t len = strlen(text);
	assert_true(len > 6 && strcmp(text + len - 6, "# EOF\n") == 0);
	free(text);
	/* Cleared: nothing but the end. */
	expo_clear(x);
	text = render(x, EXPO_OPENMETRICS);
	assert_string_equal(text, "# EOF\n");
	free(text);
	expo_free(x);
}

static void test_values_and_times(void **state)
{
	struct expo *x = expo_new();
	double v = 0.1 + 0.2; /* needs 17 digits */
	assert_int_equal(expo_add(x, "m", NULL, 0, v, 1700000000123456789LL), 0);
	char *text = render(x, EXPO_TEXT);
	char *line = strstr(text, "\nm ");
	assert_non_null(line);
	char *stop;
	assert_true(strtod(line + 3, &stop) == v);
	assert_string_equal(stop, " 1700000000123\n");
	free(text);
	text = render(x, EXPO_OPENMETRICS);
	assert_non_null(strstr(text, " 1700000000.123\n# EOF\n"));
	free(text);
	expo_free(x);
}

/* Every value reads back as the same double, whatever path wrote it. */
static void test_values_read_back(void **state)
{
	const double fixed[] = { 0,	-0.0,	 1,	 -1,	     0.05,     1.5,
				 -2.25, 99.99,	 123,	 1e15,	     1e15 - 1, 4503599627370497.0,
				 0.1,	0.3,	 1e-300, 12345678.9, 0.01,     0.07,
				 -0.5,	3.14159, 42.10 };
	struct expo *x = expo_new();
	srand(7);
	for (int i = 0; i < 2000; i++) {
		double v = i < (int)(sizeof fixed / sizeof fixed[0])
			       ? fixed[i]
			       : (i % 3 == 0   ? (double)(rand() % 100000) / 100
				  : i % 3 == 1 ? (double)rand() / RAND_MAX * 1e6
					       : (double)rand() * rand());
		expo_clear(x);
		assert_int_equal(expo_add(x, "v", NULL, 0, v, EXPO_NO_TS), 0);
		char *text = render(x, EXPO_TEXT), *line = strstr(text, "\nv "), *stop;
		assert_non_null(line);
		double back = strtod(line + 3, &stop);
		if (back != v || *stop != '\n')
			fail_msg("%.17g came out as '%s'", v, line + 3);
		if (i == 4)
			assert_string_equal(line, "\nv 0.05\n");
		if (i == 20)
			assert_string_equal(line, "\nv 42.1\n");
		free(text);
	}
	expo_free(x);
}

/* Text that is valid exposition already is copied as it is, and groups
 * with the samples added the other way. */
static void test_text_as_is(void **state)
{
	struct expo *x = expo_new();
	struct series_label l[] = { { "host", "web1" } };
	const char *labels = "host=\"web2\",k=\"a\\\"b\"";
	assert_int_equal(expo_add_text(x, "m_total", 7, labels, strlen(labels), 2, 5000000), 0);
	assert_int_equal(expo_add(x, "m_total", l, 1, 1, EXPO_NO_TS), 0);
	assert_int_equal(expo_add_text(x, "a", 1, "", 0, 3, EXPO_NO_TS), 0);
	char *text = render(x, EXPO_TEXT);
	assert_string_equal(text, "# HELP a See docs/metrics.md.\n# TYPE a gauge\na 3\n"
				  "# HELP m_total See docs/metrics.md.\n# TYPE m_total counter\n"
				  "m_total{host=\"web2\",k=\"a\\\"b\"} 2 5\n"
				  "m_total{host=\"web1\"} 1\n");
	free(text);
	expo_free(x);
}

static void test_hostile(void **state)
{
	struct expo *x = expo_new();
	struct series_label l[] = {
		{ "path", "a\"b\\c\nd" },	     /* the format's own escapes, a newline */
		{ "bad-name", "x" },		     /* a name outside the alphabet */
		{ "path", "second" },		     /* the same name again: left out */
		{ "empty", "" },		     /* left out */
		{ "ctl", "\x1b[31mred\xff" },	     /* control and invalid UTF-8 */
		{ "inj", "\"} 1\nevil_metric 666" }, /* an injection attempt */
	};
	assert_int_equal(expo_add(x, "bad metric.name", l, 6, 1, EXPO_NO_TS), 0);
	assert_int_equal(expo_add(x, "9lives", NULL, 0, 2, EXPO_NO_TS), 0);
	char *text = render(x, EXPO_TEXT);
	/* A newline is a control character: shown as \n first, then that
	 * backslash escaped, so the value reads back as what rmon shows. */
	assert_non_null(strstr(text, "\nbad_metric_name{path=\"a\\\"b\\\\c\\\\nd\",bad_name=\"x\","
				     "ctl=\"\\\\x1b[31mred\\\\xff\",inj=\"\\\"} 1\\\\nevil_metric "
				     "666\"} 1\n"));
	assert_non_null(strstr(text, "\n_lives 2\n"));
	/* Every line is a comment or starts with a known name: nothing injected. */
	for (char *p = text; *p; p = strchr(p, '\n') + 1)
		assert_true(*p == '#' || strncmp(p, "bad_metric_name{", 16) == 0 ||
			    strncmp(p, "_lives ", 7) == 0);
	free(text);
	expo_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_families),	 cmocka_unit_test(test_values_and_times),
		cmocka_unit_test(test_values_read_back), cmocka_unit_test(test_text_as_is),
		cmocka_unit_test(test_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
