/* test_rules.c - alertd's configuration reader (alertd/rules.c): good files
 * read into what alertd, reportgen and `rmon rules check` see; bad files
 * refused with the exact file:line message; the shipped defaults; the
 * expression compiler's refusals; templates and mute windows. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "alertd/expr.h"
#include "alertd/rules.h"
#include "lib/rtime.h"

#define SEC RTIME_NS_PER_SEC

static struct alert_config *read_ok(const char *text)
{
	struct alert_config *cfg = NULL;
	struct err e = { 0 };
	if (alert_config_read_text(text, "t.conf", &cfg, &e) != 0)
		fail_msg("alert_config_read_text: %s", e.msg);
	return cfg;
}

static int mismatches;

/* The config is refused with exactly this message. */
static void refused(const char *text, const char *message)
{
	struct alert_config *cfg = NULL;
	struct err e = { 0 };
	int rc = alert_config_read_text(text, "t.conf", &cfg, &e);
	if (rc != -EINVAL)
		fail_msg("expected -EINVAL for:\n%s\ngot %d (%s)", text, rc, e.msg);
	if (strcmp(e.msg, message) != 0) {
		print_error("expected\n  %s\ngot\n  %s\n", message, e.msg);
		mismatches++;
	}
	assert_null(cfg);
}

static void test_good_file(void **state)
{
	(void)state;
	struct alert_config *cfg =
	    read_ok("[alertd]\n"
		    "group_window = 1s\n"
		    "flap_window = 5m\n"
		    "[report]\n"
		    "url = https://mon.example.com/\n"
		    "[rule disk]\n"
		    "expr = 100 * (1 - node_filesystem_avail_bytes / node_filesystem_size_bytes)\n"
		    "above = 90\n"
		    "clear = 85\n"
		    "for = 5m\n"
		    "severity = critical\n"
		    "group_by = mountpoint\n"
		    "summary = {host}: {labels.mountpoint} is {value}% full since {since}\n"
		    "[rule down]\n"
		    "expr = web*/rmon_collect_duration_seconds\n"
		    "absent = 2m\n"
		    "[rule soon]\n"
		    "expr = node_filesystem_avail_bytes[6h]\n"
		    "predict = 4h\n"
		    "below = 0\n"
		    "depends_on = down\n"
		    "repeat = never\n"
		    "[rule odd]\n"
		    "expr = rate(node_network_receive_bytes_total[1m])\n"
		    "anomaly = 6h\n"
		    "[receiver ops]\n"
		    "type = maildir\n"
		    "path = /tmp/rmon-maildir\n"
		    "[route night]\n"
		    "receivers = ops\n"
		    "severity = critical\n"
		    "match = db*/*\n"
		    "[mute nightly]\n"
		    "days = mon-fri\n"
		    "time = 22:00-06:00\n"
		    "[inhibit down]\n"
		    "source = down\n"
		    "target = *\n");
	assert_true(cfg->group_window_ns == 1 * SEC);
	assert_true(cfg->flap_window_ns == 300 * SEC);
	assert_true(cfg->repeat_ns == 4 * 3600 * SEC);
	assert_string_equal(cfg->report_url, "https://mon.example.com/");
	assert_int_equal(cfg->n_rules, 4);
	const struct rule *r = alert_config_rule(cfg, "disk");
	assert_non_null(r);
	assert_int_equal(r->kind, RULE_THRESHOLD);
	assert_int_equal(r->op, RULE_ABOVE);
	assert_true(r->threshold == 90 && r->clear == 85);
	assert_true(r->for_ns == 300 * SEC && r->repeat_ns == 4 * 3600 * SEC);
	assert_string_equal(r->severity, "critical");
	assert_string_equal(r->selector, "node_filesystem_avail_bytes");
	assert_string_equal(r->metric, "node_filesystem_avail_bytes");
	assert_int_equal(r->n_group_by, 1);
	assert_string_equal(r->group_by[0], "mountpoint");
	assert_string_equal(r->file, "t.conf");
	assert_int_equal(r->line, 6);
	assert_non_null(r->compiled);
	assert_int_equal(expr_n_leaves(r->compiled), 2);

	r = alert_config_rule(cfg, "down");
	assert_int_equal(r->kind, RULE_ABSENCE);
	assert_true(r->absent_ns == 120 * SEC);
	assert_string_equal(r->metric, "rmon_collect_duration_seconds");
	assert_string_equal(r->severity, "warning");
	assert_non_null(strstr(r->summary, "{detail}"));

	r = alert_config_rule(cfg, "soon");
	assert_int_equal(r->kind, RULE_PREDICT);
	assert_int_equal(r->op, RULE_BELOW);
	assert_true(r->horizon_ns == 4 * 3600 * SEC && r->window_ns == 6 * 3600 * SEC);
	assert_true(r->repeat_ns == 0);
	assert_int_equal(r->n_depends_on, 1);

	r = alert_config_rule(cfg, "odd");
	assert_int_equal(r->kind, RULE_ANOMALY);
	assert_true(r->baseline_ns == 6 * 3600 * SEC && r->deviations == 6);
	assert_true(r->window_ns == 60 * SEC);

	assert_int_equal(cfg->n_routes, 0 + 1);
	assert_string_equal(cfg->routes[0].severity, "critical");
	assert_int_equal(cfg->n_mutes, 1);
	assert_int_equal(cfg->mutes[0].days, 0x1f);
	assert_int_equal(cfg->mutes[0].start_minute, 22 * 60);
	assert_int_equal(cfg->mutes[0].end_minute, 6 * 60);
	assert_int_equal(cfg->n_inhibits, 1);
	assert_string_equal(cfg->inhibits[0].equal[0], "host");
	alert_config_free(cfg);
}

static const char route_tail[] = "";

static void test_bad_files(void **state)
{
	(void)state;
	(void)route_tail;
	refused("[rule a]\nexpr = x\nabove = 1\n[rule a]\nexpr = y\nabove = 2\n",
		"t.conf:4: [rule a] repeats the section at t.conf:1");
	refused("[rule a]\nexpr = avg(x[5m])\nabove = 90\nclear = 95\n",
		"t.conf:1: [rule a]: clear = 95 is above the threshold 90: a rule that fires above "
		"90 clears at or below it");
	refused(
	    "[rule a]\nexpr = x\nbelow = 10\nclear = 5\n",
	    "t.conf:1: [rule a]: clear = 5 is below the threshold 10: a rule that fires below 10 "
	    "clears at or above it");
	refused("[rule a]\nexpr = x\nabove = 1\nreceivers = ops\n",
		"t.conf:4: [rule a]: receiver 'ops' is not defined (none is defined)");
	refused(
	    "[rule a]\nexpr = avg(x{mode=\"idle\"[5m])\nabove = 1\n",
	    "t.conf:2: rule.expr = 'avg(x{mode=\"idle\"[5m])': at character 23: '}' expected to "
	    "close the labels");
	refused("[rule a]\nexpr = avg(x{mode=~\"(\"}[5m])\nabove = 1\n",
		"t.conf:2: rule.expr = 'avg(x{mode=~\"(\"}[5m])': at character 5: bad selector "
		"'x{mode=~\"(\"}' at character 9: bad regular expression");
	refused("[rule a]\nexpr = rate(x)\nabove = 1\n",
		"t.conf:2: rule.expr = 'rate(x)': at character 7: this function needs a window: "
		"selector[5m]");
	refused("[rule a]\nexpr = x[5m] / 2\nabove = 1\n",
		"t.conf:2: rule.expr = 'x[5m] / 2': x: a window needs a function: avg, min, max, "
		"last, rate, increase or deriv");
	refused("[rule a]\nexpr = x\nabove = 1\nfor = 2d\n",
		"t.conf:4: rule.for = '2d': at most 1d");
	refused("[rule a]\nexpr = x\nabsent = 1s\n",
		"t.conf:3: rule.absent = '1s': must be at least 10s");
	refused("[rule a]\nexpr = x[5m]\npredict = 90d\nbelow = 0\n",
		"t.conf:3: rule.predict = '90d': at most 30d");
	refused("[rule a]\nexpr = x[5m]\npredict = 1h\nbelow = 0\n",
		"t.conf:1: [rule a]: a prediction fits a window of at least 10m");
	refused("[rule a]\nexpr = x\nabove = 1\nsummary = {host} is {valeu}\n",
		"t.conf:4: rule.summary = '{host} is {valeu}': unknown field {valeu} (host, value, "
		"threshold, since, labels, labels.NAME, rule, severity, detail, unit)");
	refused("[rule a]\nexpr = x\n", "t.conf:1: [rule a]: no threshold: give 'above = N' or "
					"'below = N'");
	refused("[rule a]\nabove = 1\n", "t.conf:1: [rule a]: no expr: what does the rule watch?");
	refused(
	    "[rule a]\nexpr = x\nabove = 1\nbelow = 2\n",
	    "t.conf:4: rule.below = '2': a rule is either above or below a threshold, not both");
	refused("[rule a]\nexpr = x\nabsent = 2m\nabove = 1\n",
		"t.conf:1: [rule a]: an 'absent' rule takes no threshold: it fires when the "
		"selector has no sample for a");
	refused("[rule a]\nexpr = x\nabove = 1\nseverity = urgent\n",
		"t.conf:4: rule.severity = 'urgent': critical, warning or info expected");
	refused("[rule a]\nexpr = x\nabove = 1\ndepends_on = b\n",
		"t.conf:4: [rule a]: depends_on 'b': no such rule");
	refused(
	    "[rule a]\nexpr = x\nabove = 1\ncolour = red\n",
	    "t.conf:4: rule.colour = 'red': unknown key (expr, above, below, clear, for, absent, "
	    "predict, anomaly, deviations, severity, unit, summary, description, receivers, "
	    "group_by, depends_on, repeat, enabled)");
	refused(
	    "[rule a b]\nexpr = x\nabove = 1\n",
	    "t.conf:2: rule.expr = 'x': [rule NAME]: the name must be 1 to 127 letters, digits, "
	    "'_', '.' or '-'");
	refused("[rule]\nexpr = x\n", "t.conf:2: rule.expr = 'x': [rule NAME]: the section needs a "
				      "name");
	refused("[rules a]\nexpr = x\n", "t.conf:2: rules.expr = 'x': unknown section [rules] "
					 "(alertd, report, web, rule, route, "
					 "receiver, inhibit, mute, override)");
	refused("expr = x\n", "t.conf:1: expr = 'x': unknown setting outside a section (only "
			      "'include' is read there)");
	refused("[alertd]\ngroup_window = soon\n",
		"t.conf:2: alertd.group_window = 'soon': expected a duration such as 500ms, 10s, "
		"5m, 2h, 7d");
	refused("[route r]\nseverity = critical\n",
		"t.conf:1: [route r]: no receivers: whom does the route tell?");
	refused("[mute m]\ntime = 25:00-03:00\n",
		"t.conf:2: mute.time = '25:00-03:00': 'HH:MM-HH:MM' expected (time = 02:00-04:00)");
	refused("[mute m]\ndays = someday\ntime = 01:00-02:00\n",
		"t.conf:2: mute.days = 'someday': days such as 'mon-fri, sun' or '*' expected");
	refused("[inhibit i]\nsource = nothing\ntarget = *\n",
		"t.conf:1: inhibit source 'nothing': no such rule");
	refused("[rule a]\nexpr = 100 * (1 - x\nabove = 1\n",
		"t.conf:2: rule.expr = '100 * (1 - x': at character 13: ')' expected");
	refused("[rule a]\nexpr = 1 + 2\nabove = 1\n",
		"t.conf:2: rule.expr = '1 + 2': no selector: the expression reads nothing");
	refused("[rule a]\nexpr = avg by (host mode) (x)\nabove = 1\n",
		"t.conf:2: rule.expr = 'avg by (host mode) (x)': at character 14: ',' or ')' "
		"expected in the label list");
	refused(
	    "[rule a]\nexpr = median(x[5m])\nabove = 1\n",
	    "t.conf:2: rule.expr = 'median(x[5m])': at character 1: unknown function (avg, min, "
	    "max, last, rate, increase, deriv, sum, count)");
	assert_int_equal(mismatches, 0);
}

/* The bad-file messages above say whatever the reader's words are; these
 * check the words of the parts it delegates, so a change there is seen. */
static void test_errors_name_included_files(void **state)
{
	(void)state;
	char dir[] = "/tmp/rmon-test-rules-XXXXXX", path[300], cmd[400];
	assert_non_null(mkdtemp(dir));
	snprintf(
	    cmd, sizeof cmd,
	    "mkdir %s/rules.d && printf '[alertd]\\nrepeat = 1h\\ninclude = rules.d/*.conf\\n' "
	    "> %s/alertd.conf && printf '[rule ok]\\nexpr = x\\nabove = 1\\n' > "
	    "%s/rules.d/a.conf && printf '\\n[rule bad]\\nexpr = x\\nabove = 1\\nfor = -1m\\n' > "
	    "%s/rules.d/b.conf",
	    dir, dir, dir, dir);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof path, "%s/alertd.conf", dir);
	struct alert_config *cfg = NULL;
	struct err e = { 0 };
	assert_int_equal(alert_config_read_file(path, &cfg, &e), -EINVAL);
	char want[400];
	snprintf(want, sizeof want, "%s/rules.d/b.conf:5: rule.for = '-1m': ", dir);
	if (strncmp(e.msg, want, strlen(want)) != 0)
		fail_msg("got %s", e.msg);
	/* Fixed, the rules of both files are read with the main file's settings. */
	snprintf(cmd, sizeof cmd, "sed -i s/-1m/1m/ %s/rules.d/b.conf", dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(alert_config_read_file(path, &cfg, &e), 0);
	assert_int_equal(cfg->n_rules, 2);
	assert_true(alert_config_rule(cfg, "bad")->repeat_ns == 3600 * SEC);
	assert_string_equal(cfg->source, path);
	alert_config_free(cfg);
	snprintf(path, sizeof path, "%s/missing.conf", dir);
	assert_int_equal(alert_config_read_file(path, &cfg, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "missing.conf"));
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_receivers(void **state)
{
	(void)state;
	struct alert_config *cfg = read_ok("[receiver ops]\ntype = maildir\npath = /tmp/x\n"
					   "[rule a]\nexpr = x\nabove = 1\nreceivers = ops\n"
					   "[route r]\nreceivers = ops\nescalate = 30m ops\n");
	assert_int_equal(cfg->n_receivers, 1);
	assert_non_null(alert_config_receiver(cfg, "ops"));
	assert_null(alert_config_receiver(cfg, "sms"));
	assert_true(cfg->routes[0].escalate[0].after_ns == 1800 * SEC);
	assert_true(cfg->routes[0].group_window_ns == 500 * RTIME_NS_PER_MS);
	alert_config_free(cfg);
	refused("[receiver ops]\ntype = maildir\npath = /tmp/x\n[route r]\nreceivers = ops\n"
		"escalate = 30m sms\n",
		"t.conf:4: [route r]: receiver 'sms' is not defined (ops)");
}

static void test_default_config(void **state)
{
	(void)state;
	struct alert_config *cfg = NULL;
	struct err e = { 0 };
	if (alert_config_read_file(NULL, &cfg, &e) != 0)
		fail_msg("the default config: %s", e.msg);
	static const char *const expected[] = { "cpu_saturated",   "memory_exhausted",
						"disk_full",	   "disk_full_soon",
						"swap_storm",	   "load_high",
						"host_down",	   "process_gone",
						"store_ring_drops" };
	for (size_t i = 0; i < sizeof expected / sizeof *expected; i++)
		if (!alert_config_rule(cfg, expected[i]))
			fail_msg("no default rule %s", expected[i]);
	assert_int_equal(alert_config_rule(cfg, "host_down")->kind, RULE_ABSENCE);
	assert_int_equal(alert_config_rule(cfg, "disk_full_soon")->kind, RULE_PREDICT);
	/* Quiet: every threshold rule waits a while or counts loss. */
	assert_true(alert_config_rule(cfg, "cpu_saturated")->for_ns >= 300 * SEC);
	assert_non_null(alert_config_receiver(cfg, "local"));
	assert_int_equal(cfg->n_routes, 1);
	assert_string_equal(cfg->source, "<embedded>");
	alert_config_free(cfg);
}

static void test_expand(void **state)
{
	(void)state;
	char buf[256];
	struct rule_vars v = { .rule = "disk",
			       .host = "web1",
			       .labels = "{device=\"/dev/sda1\",mountpoint=\"/var \\\"x\\\"\"}",
			       .value = 93.25,
			       .threshold = 90,
			       .detail = "usual range 20-35",
			       .severity = "critical" };
	size_t n = rule_expand("{rule} {host}:{labels.mountpoint} {value}>{threshold} "
			       "{labels.none}|{{x}",
			       &v, buf, sizeof buf);
	assert_string_equal(buf, "disk web1:/var \"x\" 93.2>90 |{x}");
	assert_int_equal(n, strlen(buf));
	/* Cut like snprintf: the count says how much was wanted. */
	assert_int_equal(rule_expand("{host}{host}", &v, buf, 6), 8);
	assert_string_equal(buf, "web1w");
	v.unit = "bytes";
	v.value = 3.5 * 1024 * 1024 * 1024;
	rule_expand("{value}", &v, buf, sizeof buf);
	assert_string_equal(buf, "3.5 GiB");
	v.value = NAN;
	rule_expand("{value}", &v, buf, sizeof buf);
	assert_string_equal(buf, "no data");
	struct err e = { 0 };
	assert_int_equal(rule_template_check("{host", &e), -EINVAL);
	assert_string_equal(e.msg, "'{' at character 1 is not closed by '}'");
	assert_int_equal(rule_template_check("{labels.x} {since} {{}", &e), 0);
}

static void test_mute_window(void **state)
{
	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	struct mute m = { .days = 1u << 0, .start_minute = 22 * 60, .end_minute = 2 * 60 };
	/* 2026-11-30 is a Monday. */
	int64_t monday = INT64_C(1795996800) * SEC;
	assert_false(mute_open(&m, monday + 21 * 3600 * SEC));
	assert_true(mute_open(&m, monday + 23 * 3600 * SEC));
	assert_true(mute_open(&m, monday + 25 * 3600 * SEC));  /* Tuesday 01:00 */
	assert_false(mute_open(&m, monday + 26 * 3600 * SEC)); /* Tuesday 02:00 */
	assert_false(mute_open(&m, monday + 1 * 3600 * SEC));  /* Monday 01:00: Sunday not listed */
	struct mute day = { .days = 0x7f, .start_minute = 120, .end_minute = 240 };
	assert_true(mute_open(&day, monday + 3 * 3600 * SEC));
	assert_false(mute_open(&day, monday + 4 * 3600 * SEC));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_file),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_errors_name_included_files),
		cmocka_unit_test(test_receivers),
		cmocka_unit_test(test_default_config),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_mute_window),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
