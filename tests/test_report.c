/* test_report.c - rmon-bench's reporting (bench/report.c, report_hist.c,
 * report_out.c): the histogram's quantiles stay within a bucket's width
 * of the exact ones, the text table aligns its columns and states each
 * verdict, and the JSON escapes what it is given. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bench/report_private.h"

static void test_hist_empty(void **state)
{
	struct bench_hist *h = bench_hist_new();
	assert_int_equal(bench_hist_count(h), 0);
	assert_int_equal(bench_hist_quantile(h, 0.99), 0);
	assert_int_equal(bench_hist_max(h), 0);
	bench_hist_free(h);
}

static int compare_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Values spread over 100 ns .. 100 s (log-uniform): every quantile is
 * within 1 % of the exact one. */
static void test_hist_quantiles(void **state)
{
	enum { N = 100000 };
	int64_t *v = malloc(N * sizeof *v);
	struct bench_hist *h = bench_hist_new();
	srand(7);
	for (int i = 0; i < N; i++) {
		double exponent = 2 + 9 * ((double)rand() / RAND_MAX);
		v[i] = (int64_t)pow(10, exponent);
		bench_hist_add(h, v[i]);
	}
	qsort(v, N, sizeof *v, compare_i64);
	const double qs[] = { 0.01, 0.5, 0.9, 0.99, 0.999 };
	for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
		int64_t exact = v[(size_t)ceil(qs[i] * N) - 1];
		int64_t got = bench_hist_quantile(h, qs[i]);
		double err = fabs((double)(got - exact)) / (double)exact;
		if (err > 0.01)
			fail_msg("q %.3f: %lld, exact %lld (%.2f %%)", qs[i], (long long)got,
				 (long long)exact, err * 100);
	}
	assert_int_equal(bench_hist_max(h), v[N - 1]);
	assert_int_equal(bench_hist_quantile(h, 1), v[N - 1]);
	assert_int_equal(bench_hist_count(h), N);
	bench_hist_free(h);
	free(v);
}

/* Small values are exact; longer than 1000 s counts as 1000 s; a merge
 * holds both. */
static void test_hist_edges_and_merge(void **state)
{
	struct bench_hist *a = bench_hist_new(), *b = bench_hist_new();
	for (int i = 0; i < 99; i++)
		bench_hist_add(a, 50);
	bench_hist_add(a, -5);
	assert_int_equal(bench_hist_quantile(a, 0.5), 50);
	bench_hist_add(b, 5000LL * 1000000000);
	assert_int_equal(bench_hist_max(b), 1000LL * 1000000000);
	bench_hist_merge(a, b);
	assert_int_equal(bench_hist_count(a), 101);
	assert_int_equal(bench_hist_max(a), 1000LL * 1000000000);
	assert_int_equal(bench_hist_quantile(a, 0.5), 50);
	bench_hist_free(a);
	bench_hist_free(b);
}

static void test_format_value(void **state)
{
	char buf[64];
	report_format_value(buf, sizeof buf, 1234567.4);
	assert_string_equal(buf, "1,234,567");
	report_format_value(buf, sizeof buf, -12345);
	assert_string_equal(buf, "-12,345");
	report_format_value(buf, sizeof buf, 60);
	assert_string_equal(buf, "60");
	report_format_value(buf, sizeof buf, 12.34);
	assert_string_equal(buf, "12.3");
	report_format_value(buf, sizeof buf, 0.01234);
	assert_string_equal(buf, "0.0123");
	report_format_value(buf, sizeof buf, NAN);
	assert_string_equal(buf, "-");
}

/* A run of one scenario with a table of each kind of row. */
static struct bench_run *sample_run(bool json)
{
	struct bench_options opts = { .json = json, .bin = "/nowhere" };
	struct bench_run *run = bench_run_new(&opts);
	bench_run_begin(run, "demo");
	struct bench_table *t = bench_table(run, "demo: \"quoted\" \\ and a tab\there");
	bench_goal(t, "rate", 75, "M samples/s", true, 60);
	bench_goal(t, "slow rate", 12.5, "M samples/s", true, 60);
	bench_ratio(t, "against the pipe", 50, 5, "pipe", 20);
	bench_zero(t, "drops", 3);
	struct bench_hist *h = bench_hist_new();
	bench_hist_add(h, 2000000);
	bench_latency(t, "ack", h, 1);
	bench_hist_free(h);
	bench_note(t, "a note");
	return run;
}

static char *print_to_memory(struct bench_run *run, bool json)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	if (json)
		report_print_json(out, run);
	else
		report_print_tables(out, &run->results[0]);
	fclose(out);
	return text;
}

static void test_text_table(void **state)
{
	struct bench_run *run = sample_run(false);
	char *text = print_to_memory(run, false);
	/* The title as text: a tab shows as \t, not as a jump. */
	assert_non_null(strstr(text, "demo: \"quoted\" \\ and a tab\\there\n"));
	assert_non_null(
	    strstr(text, "\n  figure                    value  unit                goal\n"));
	assert_non_null(
	    strstr(text, "\n  rate                         75  M samples/s         PASS\n"));
	assert_non_null(strstr(text, "\n  slow rate                  12.5  M samples/s         "
				     "missed: goal ≥ 60 M samples/s\n"));
	/* "×" is one column wide, though two bytes long. */
	assert_non_null(strstr(text, "\n  against the pipe             10  × pipe              "
				     "missed: goal ≥ 20× pipe\n"));
	assert_non_null(strstr(text, "\n  drops                         3                      "
				     "missed: goal = 0\n"));
	assert_non_null(strstr(text, "\n  ack               2 / 2 / 2 / 2  ms p50/p90/p99/max  "
				     "missed: goal p99 ≤ 1 ms\n"));
	assert_non_null(strstr(text, "\n  a note\n"));
	free(text);
	bench_run_free(run);
}

static void test_json(void **state)
{
	struct bench_run *run = sample_run(true);
	char *text = print_to_memory(run, true);
	assert_non_null(strstr(text, "\"title\": \"demo: \\\"quoted\\\" \\\\ and a tab\\there\""));
	assert_non_null(strstr(text,
			       "{\"name\": \"rate\", \"value\": 75, \"unit\": \"M samples/s\", "
			       "\"goal\": {\"op\": \">=\", \"value\": 60}, \"pass\": true}"));
	assert_non_null(strstr(text, "\"name\": \"drops\", \"value\": 3, \"unit\": \"\", \"goal\": "
				     "{\"op\": \"==\", \"value\": 0}, \"pass\": false}"));
	assert_non_null(strstr(text, "\"p99\": 2"));
	free(text);
	bench_run_free(run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hist_empty),	     cmocka_unit_test(test_hist_quantiles),
		cmocka_unit_test(test_hist_edges_and_merge), cmocka_unit_test(test_format_value),
		cmocka_unit_test(test_text_table),	     cmocka_unit_test(test_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
