/* test_expr.c - the rule expression language (alertd/expr.c, expr_eval.c)
 * without a store: a table of expressions over given series and what they
 * compute, element by element; what the parser takes for a window, a glob,
 * a number or an operator. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alertd/expr.h"

/* The series every leaf reads: its selector's metric picks them. */
static const struct {
	const char *metric, *host, *labels;
	double value;
} store[] = {
	{ "avail", "h1", "{mountpoint=\"/\"}", 10 },
	{ "avail", "h1", "{mountpoint=\"/srv\"}", 50 },
	{ "avail", "h2", "{mountpoint=\"/\"}", 90 },
	{ "size", "h1", "{mountpoint=\"/\"}", 100 },
	{ "size", "h1", "{mountpoint=\"/srv\"}", 100 },
	{ "size", "h2", "{mountpoint=\"/\"}", 0 }, /* a division by zero: dropped */
	{ "idle", "h1", "{cpu=\"0\",mode=\"idle\"}", 0.2 },
	{ "idle", "h1", "{cpu=\"1\",mode=\"idle\"}", 0.4 },
	{ "idle", "h2", "{cpu=\"0\",mode=\"idle\"}", 0.9 },
	{ "load", "h1", "", 3 },
	{ "load", "h2", "", 1 },
};

/* Computes text over the store and writes "h1{...}=v h2=v" sorted. */
static void compute(const char *text, char *out, size_t cap)
{
	struct rule_expr *x;
	struct err e = { 0 };
	if (expr_compile(text, &x, &e) != 0)
		fail_msg("%s: %s", text, e.msg);
	size_t n = expr_n_leaves(x);
	struct expr_vec *leaves = calloc(n, sizeof *leaves);
	for (size_t i = 0; i < n; i++) {
		const char *sel = expr_leaf(x, i)->text;
		for (size_t s = 0; s < sizeof store / sizeof *store; s++) {
			size_t len = strlen(store[s].metric);
			if (strncmp(sel, store[s].metric, len) || (sel[len] && sel[len] != '{'))
				continue;
			struct expr_sample v = { store[s].host, store[s].labels, store[s].value,
						 s + 1, 0 };
			assert_int_equal(expr_vec_push(&leaves[i], &v), 0);
		}
	}
	struct expr_scratch *scratch;
	assert_int_equal(expr_scratch_new(&scratch), 0);
	struct expr_vec res = { 0 };
	if (expr_eval(x, leaves, scratch, &res, &e) != 0)
		fail_msg("%s: %s", text, e.msg);
	char parts[16][128];
	size_t k = 0;
	for (size_t i = 0; i < res.n && k < 16; i++)
		snprintf(parts[k++], sizeof parts[0], "%s%s=%g", res.v[i].host, res.v[i].labels,
			 res.v[i].value);
	qsort(parts, k, sizeof parts[0], (int (*)(const void *, const void *))strcmp);
	size_t len = 0;
	out[0] = 0;
	for (size_t i = 0; i < k; i++)
		len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? " " : "", parts[i]);
	expr_vec_free(&res);
	for (size_t i = 0; i < n; i++)
		expr_vec_free(&leaves[i]);
	free(leaves);
	expr_scratch_free(scratch);
	expr_free(x);
}

static void test_table(void **state)
{
	(void)state;
	static const struct {
		const char *expr, *want;
	} table[] = {
		{ "load", "h1=3 h2=1" },
		{ "load * 2 + 1", "h1=7 h2=3" },
		{ "-load", "h1=-3 h2=-1" },
		{ "10 / load", "h1=3.33333 h2=10" },
		{ "100 * (1 - avail / size)",
		  "h1{mountpoint=\"/\"}=90 h1{mountpoint=\"/srv\"}=50" },
		{ "100 * (1 - avg(idle))", "h1=70 h2=10" },
		{ "load / count(idle)", "h1=1.5 h2=1" },
		{ "sum by (mode) (idle)", "h1{mode=\"idle\"}=0.6 h2{mode=\"idle\"}=0.9" },
		{ "max by (cpu) (idle)", "h1{cpu=\"0\"}=0.2 h1{cpu=\"1\"}=0.4 h2{cpu=\"0\"}=0.9" },
		{ "min(avail)", "h1=10 h2=90" },
		{ "max(avail) - min(avail)", "h1=40 h2=0" },
		{ "avail + load", "" }, /* no host and label set in common */
		{ "avg by (none) (load)", "h1=3 h2=1" },
		{ "count(avail) * 0 + 5", "h1=5 h2=5" },
	};
	char got[512];
	for (size_t i = 0; i < sizeof table / sizeof *table; i++) {
		compute(table[i].expr, got, sizeof got);
		if (strcmp(got, table[i].want) != 0)
			fail_msg("%s: expected '%s', got '%s'", table[i].expr, table[i].want, got);
	}
}

static void test_parse(void **state)
{
	(void)state;
	struct rule_expr *x;
	struct err e = { 0 };
	/* A trailing duration in brackets is the window; other brackets glob. */
	assert_int_equal(expr_compile("avg(web[12]/node_load1[5m])", &x, &e), 0);
	assert_string_equal(expr_leaf(x, 0)->text, "web[12]/node_load1");
	assert_true(expr_leaf(x, 0)->window_ns == 300 * INT64_C(1000000000));
	assert_int_equal(expr_leaf(x, 0)->func, EXPR_AVG);
	expr_free(x);
	assert_int_equal(expr_compile("node_load[15]", &x, &e), 0);
	assert_string_equal(expr_leaf(x, 0)->text, "node_load[15]");
	assert_true(expr_leaf(x, 0)->window_ns == 0);
	expr_free(x);
	/* A host that starts with digits is a selector, not a number. */
	assert_int_equal(expr_compile("10.0.0.1/node_load1 * 100", &x, &e), 0);
	assert_string_equal(expr_leaf(x, 0)->text, "10.0.0.1/node_load1");
	expr_free(x);
	/* Without spaces an operator after a number is still one. */
	assert_int_equal(expr_compile("100*(1-x)", &x, &e), 0);
	assert_int_equal(expr_n_leaves(x), 1);
	assert_string_equal(expr_leaf(x, 0)->text, "x");
	expr_free(x);
	/* A bare window is only for predictions. */
	assert_int_equal(expr_compile("node_filesystem_avail_bytes[6h]", &x, &e), 0);
	assert_true(expr_is_bare_window(x));
	assert_false(expr_is_single_leaf(x));
	expr_free(x);
	assert_int_equal(expr_compile("rate(x[1m])", &x, &e), 0);
	assert_true(expr_is_single_leaf(x) && !expr_is_bare_window(x));
	expr_free(x);
	/* Refusals name the character. */
	assert_int_equal(expr_compile("avg(x[5m]", &x, &e), -EINVAL);
	assert_string_equal(e.msg, "at character 10: ')' expected");
	assert_int_equal(expr_compile("x )", &x, &e), -EINVAL);
	assert_string_equal(e.msg, "at character 3: ')' without its '('");
	assert_int_equal(expr_compile("1e999 * x", &x, &e), -EINVAL);
	assert_string_equal(e.msg, "at character 1: a finite number expected");
	char deep[200];
	memset(deep, '(', 100);
	strcpy(deep + 100, "x");
	assert_int_equal(expr_compile(deep, &x, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "nested too deep"));
	/* Labels read back unescaped. */
	char buf[32];
	assert_true(expr_label_value("{a=\"x\\\"y\",b=\"2\"}", "a", buf, sizeof buf));
	assert_string_equal(buf, "x\"y");
	assert_false(expr_label_value("{a=\"b=\\\"1\\\"\"}", "b", buf, sizeof buf));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
