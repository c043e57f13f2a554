/* test_reportgen.c - rmon-reportgen's site (reportgen/report.h) from a
 * store filled with synthetic data of two hosts, one with a hostile label
 * value: every page parses as HTML5 and every graph it shows exists and
 * is valid SVG (tests/integration/lib/check_site.py), the hostile text is
 * shown as text only, and a second pass rewrites only what changed. */
#include "tests/reader_fixture.h"

#include <limits.h>

#include "alertd/alerts.h"
#include "bench/sitefill.h"
#include "lib/plot.h"
#include "reportgen/graph.h"
#include "reportgen/outfile.h"
#include "reportgen/report.h"

#define HOSTILE "<script>alert(1)</script>"
#define STEP	(10 * SEC)
#define SAMPLES 720 /* two hours */
#define HOUR	(3600 * SEC)
#define DAY_NS	(24 * HOUR)

static int64_t test_now;

static void host_with(struct drainer *d, const char *h, double busy, int interfaces)
{
	struct sitefill f = { .end = test_now,
			      .span = SAMPLES * STEP,
			      .step = STEP,
			      .mounts = 2,
			      .interfaces = interfaces,
			      .odd_label = HOSTILE };
	struct err e = { 0 };
	if (sitefill_host(d, &f, h, busy, &e) != 0)
		fail_msg("sitefill_host: %s", e.msg);
}

static void host(struct drainer *d, const char *h, double busy)
{
	host_with(d, h, busy, 2);
}

/* A now whose 1-month and 1-year grids do not move in the next two
 * minutes, so the second pass knows what must stay. */
static int64_t quiet_now(void)
{
	int64_t month = graph_step(800, 30 * DAY_NS, NULL),
		year = graph_step(800, 365 * DAY_NS, NULL);
	int64_t now = rtime_now_ns() / SEC * SEC;
	while (now % month > month - 3 * MIN || now % year > year - 3 * MIN)
		now -= MIN;
	return now;
}

static uint64_t firing_id, resolved_id;

/* alertd's store: one alert firing on web1 (acknowledged), one resolved on
 * db-2 over the hostile mount, a silence with a hostile comment. */
static void fill_alerts(void)
{
	struct alert_store *s;
	struct err e = { 0 };
	if (alert_store_open(data, ALERT_STORE_CREATE, &s, &e) != 0)
		fail_msg("alert_store_open: %s", e.msg);
	const char *disk = "db-2/node_filesystem_avail_bytes{device=\"/dev/vdb1\",fstype=\"ext4\","
			   "mountpoint=\"" HOSTILE "\"}";
	struct alert_change c[] = {
		{ .key = "cpu_saturated/web1",
		  .rule = "cpu_saturated",
		  .host = "web1",
		  .labels = "",
		  .severity = "warning",
		  .series = "web1/node_cpu_seconds_total{cpu=\"total\",mode=\"user\"}",
		  .to = ALERT_FIRING,
		  .value = 97,
		  .threshold = 95,
		  .since = test_now - 20 * MIN,
		  .at = test_now - 15 * MIN,
		  .summary = "web1: CPU 97% busy for 5 minutes" },
		{ .key = "disk_full/db-2/x",
		  .rule = "disk_full",
		  .host = "db-2",
		  .labels = "{mountpoint=\"" HOSTILE "\"}",
		  .severity = "warning",
		  .series = disk,
		  .to = ALERT_FIRING,
		  .value = 92,
		  .threshold = 90,
		  .since = test_now - 50 * MIN,
		  .at = test_now - 45 * MIN,
		  .summary = "db-2: " HOSTILE " 92% full" },
	};
	struct alert out[2];
	if (alert_store_apply(s, c, 2, out, &e) != 0)
		fail_msg("alert_store_apply: %s", e.msg);
	firing_id = out[0].id;
	resolved_id = out[1].id;
	c[1].to = ALERT_RESOLVED;
	c[1].at = test_now - 30 * MIN;
	c[1].value = 80;
	if (alert_store_apply(s, &c[1], 1, NULL, &e) != 0 ||
	    alert_store_ack(s, firing_id, "alice", "on it: " HOSTILE, test_now - 10 * MIN, &e) !=
		0 ||
	    alert_store_silence_add(s, "db-2/*", test_now - MIN, test_now + 3600 * SEC, "bob",
				    HOSTILE, test_now - MIN, NULL, &e) != 0)
		fail_msg("alert store: %s", e.msg);
	alert_store_close(s);
}

static void fill(void)
{
	test_now = quiet_now();
	struct drainer *d = open_drainer(0);
	host(d, "web1", 30);
	host(d, "db-2", 70);
	close_drainer(d);
	fill_alerts();
}

static struct report *open_report(const char *out)
{
	struct report_options o = { .data_dir = data, .out_dir = out };
	struct report *r;
	struct err e = { 0 };
	int rc = report_open(&o, &r, &e);
	if (rc == -ENOENT && strstr(e.msg, "gnuplot"))
		skip();
	if (rc != 0)
		fail_msg("report_open: %s", e.msg);
	return r;
}

static void pass(struct report *r, int64_t now, struct report_stats *st)
{
	struct err e = { 0 };
	if (report_pass(r, now, st, &e) != 0)
		fail_msg("report_pass: %s", e.msg);
}

static void check_site(const char *out)
{
	char cmd[PATH_MAX + 200];
	snprintf(cmd, sizeof cmd,
		 "/usr/bin/python3 tests/integration/lib/check_site.py %s --hostile '%s'", out,
		 HOSTILE);
	assert_int_equal(system(cmd), 0);
}

static struct stat stat_of(const char *out, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;
	snprintf(path, sizeof path, "%s/%s", out, rel);
	if (stat(path, &st) != 0)
		fail_msg("%s: %s", path, strerror(errno));
	return st;
}

static bool same_file(struct stat a, struct stat b)
{
	return a.st_ino == b.st_ino && a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
	       a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

/* The store filled, and a report of it into out (300 bytes) after its
 * first pass. */
static struct report *first_pass(char *out, struct report_stats *st)
{
	fill();
	snprintf(out, 300, "%s/www", data);
	struct report *r = open_report(out);
	pass(r, test_now, st);
	return r;
}

static void site_is_valid(void **state)
{
	char out[300];
	struct report_stats st;
	struct report *r = first_pass(out, &st);
	assert_int_equal(st.hosts, 2);
	assert_true(st.graphs_drawn > 2 * 10 * 5);
	check_site(out);
	/* Every page of a host exists, and its graphs of every range. */
	static const char *const pages[] = { "index.html", "1d.html", "1w.html", "1mo.html",
					     "1y.html" };
	char rel[200], slug[96];
	for (int i = 0; i < 5; i++) {
		snprintf(rel, sizeof rel, "hosts/web1/%s", pages[i]);
		stat_of(out, rel);
	}
	outfile_slug(HOSTILE, slug, sizeof slug);
	snprintf(rel, sizeof rel, "hosts/db-2/disk-%s-1y.svg", slug);
	assert_true(stat_of(out, rel).st_size > 0);
	stat_of(out, "alerts.html");
	stat_of(out, "config.html");
	/* Kept as an artefact, for a person (or report_browser) to look at. */
	const char *build = getenv("RMON_BUILD");
	if (build) {
		char cmd[PATH_MAX * 2 + 64];
		snprintf(cmd, sizeof cmd,
			 "rm -rf '%s/artefacts/report-site' && mkdir -p '%s/artefacts' && cp -r "
			 "'%s' '%s/artefacts/report-site'",
			 build, build, out, build);
		assert_int_equal(system(cmd), 0);
	}
	snprintf(rel, sizeof rel, "alerts/%llu.html", (unsigned long long)firing_id);
	stat_of(out, rel);
	snprintf(rel, sizeof rel, "alerts/%llu.svg", (unsigned long long)resolved_id);
	assert_true(stat_of(out, rel).st_size > 0);
	report_close(r);
}

static void refresh_is_incremental(void **state)
{
	char out[300];
	struct report_stats st;
	struct report *r = first_pass(out, &st);
	size_t all = st.graphs_drawn;
	struct stat year = stat_of(out, "hosts/web1/cpu-1y.svg"),
		    month = stat_of(out, "hosts/web1/memory-1mo.svg"),
		    hour = stat_of(out, "hosts/web1/cpu-1h.svg"),
		    config = stat_of(out, "config.html"),
		    rule = stat_of(out, "rules/disk_full.html");
	char resolved_rel[64];
	snprintf(resolved_rel, sizeof resolved_rel, "alerts/%llu.html",
		 (unsigned long long)resolved_id);
	struct stat resolved = stat_of(out, resolved_rel);
	/* The same moment again: nothing to draw, no page to rewrite. */
	pass(r, test_now, &st);
	assert_int_equal(st.graphs_drawn, 0);
	assert_int_equal(st.graphs_skipped, all);
	assert_int_equal(st.pages_written, 0);
	report_close(r);
	/* A minute later, by a new process (the state is kept in the output
	 * folder): the hour's graphs move, the year's and month's do not. */
	r = open_report(out);
	pass(r, test_now + MIN, &st);
	assert_true(st.graphs_drawn > 0);
	assert_true(st.graphs_drawn < all);
	assert_true(same_file(year, stat_of(out, "hosts/web1/cpu-1y.svg")));
	assert_true(same_file(month, stat_of(out, "hosts/web1/memory-1mo.svg")));
	assert_false(same_file(hour, stat_of(out, "hosts/web1/cpu-1h.svg")));
	assert_true(same_file(config, stat_of(out, "config.html")));
	assert_true(same_file(rule, stat_of(out, "rules/disk_full.html")));
	assert_true(same_file(resolved, stat_of(out, resolved_rel))); /* it ended: it stays */
	/* A graph removed is drawn again, whatever its signature says. */
	char path[400];
	snprintf(path, sizeof path, "%s/hosts/web1/cpu-1y.svg", out);
	unlink(path);
	pass(r, test_now + MIN, &st);
	assert_int_equal(st.graphs_drawn, 1);
	stat_of(out, "hosts/web1/cpu-1y.svg");
	check_site(out);
	report_close(r);
}

/* The hosts and series are listed once and kept while the store holds
 * as many series: a host that starts sending later must still appear at
 * the next pass, with its page and graphs. */
static void new_hosts_are_listed(void **state)
{
	char out[300];
	struct report_stats st;
	struct report *r = first_pass(out, &st);
	assert_int_equal(st.hosts, 2);
	pass(r, test_now, &st); /* the listing kept */
	assert_int_equal(st.hosts, 2);
	assert_int_equal(st.pages_written, 0);
	struct drainer *d = open_drainer(0);
	host(d, "mail3", 50);
	close_drainer(d);
	pass(r, test_now, &st);
	assert_int_equal(st.hosts, 3);
	assert_true(stat_of(out, "hosts/mail3/cpu-1h.svg").st_size > 0);
	stat_of(out, "hosts/mail3/index.html");
	/* A host listed already that gains a series (a third interface) is
	 * listed again, with the graph of it. */
	char path[400];
	snprintf(path, sizeof path, "%s/hosts/web1/net-eth2-1h.svg", out);
	assert_int_not_equal(access(path, F_OK), 0);
	d = open_drainer(0);
	host_with(d, "web1", 30, 3);
	close_drainer(d);
	pass(r, test_now, &st);
	assert_int_equal(st.hosts, 3);
	assert_true(stat_of(out, "hosts/web1/net-eth2-1h.svg").st_size > 0);
	check_site(out);
	report_close(r);
}

static void slugs_are_safe(void **state)
{
	char a[96], b[96];
	outfile_slug("/var/log", a, sizeof a);
	outfile_slug("_var_log", b, sizeof b);
	assert_string_not_equal(a, b); /* a changed text carries its hash */
	assert_null(strchr(a, '/'));
	outfile_slug("..", a, sizeof a);
	assert_true(a[0] != '.');
	outfile_slug("eth0", a, sizeof a);
	assert_string_equal(a, "eth0");
	outfile_slug(HOSTILE, a, sizeof a);
	assert_null(strpbrk(a, "<>()/\"'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(slugs_are_safe),
		cmocka_unit_test_setup_teardown(site_is_valid, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(refresh_is_incremental, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(new_hosts_are_listed, make_dir, remove_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
