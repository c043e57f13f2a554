/* bench-eval.c - what rule evaluation costs a commit: 100 rules (the
 * shipped ones and 91 more over application metrics, with bare values,
 * avg, max and rate windows) over 10,000 series of 100 hosts, every series
 * changing at every commit, as a 10 s collection interval makes them.  The
 * CPU of one eval_pass (query_changed included) against the baseline of
 * reading the latest value of those 10,000 series, on the same snapshot in
 * the same run (the two take turns at reading first, as whichever goes
 * first finds the pages cold).
 *
 * Usage: bench-eval [--commits N] [--hosts N]
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alertd/eval.h"
#include "alertd/rules.h"
#include "bench/bench.h"
#include "lib/rtime.h"
#include "lib/series_name.h"
#include "shmring/ring.h"
#include "store/drainer.h"
#include "store/query.h"

#define SEC	    RTIME_NS_PER_SEC
#define PER_HOST    100
#define APP_METRICS 78 /* per host, beside the 22 system series */

static int64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * SEC + ts.tv_nsec;
}

struct fleet {
	char **names;
	uint64_t *ids;
	struct sample *samples;
	double *counters;
	size_t n;
};

static void add_name(struct fleet *f, const char *name)
{
	f->names[f->n] = strdup(name);
	f->ids[f->n] = series_id(name, strlen(name));
	f->n++;
}

static void make_fleet(struct fleet *f, int hosts)
{
	size_t n = (size_t)hosts * PER_HOST;
	f->names = calloc(n, sizeof *f->names);
	f->ids = calloc(n, sizeof *f->ids);
	f->samples = calloc(n, sizeof *f->samples);
	f->counters = calloc(n, sizeof *f->counters);
	if (!f->names || !f->ids || !f->samples || !f->counters)
		bench_die("out of memory");
	static const char *const system[] = {
		"node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"}",
		"node_cpu_seconds_total{cpu=\"1\",mode=\"idle\"}",
		"node_cpu_seconds_total{cpu=\"2\",mode=\"idle\"}",
		"node_cpu_seconds_total{cpu=\"3\",mode=\"idle\"}",
		"node_cpu_seconds_total{cpu=\"total\",mode=\"idle\"}",
		"node_memory_MemAvailable_bytes",
		"node_memory_MemTotal_bytes",
		"node_filesystem_avail_bytes{fstype=\"ext4\",mountpoint=\"/\"}",
		"node_filesystem_size_bytes{fstype=\"ext4\",mountpoint=\"/\"}",
		"node_filesystem_avail_bytes{fstype=\"ext4\",mountpoint=\"/srv\"}",
		"node_filesystem_size_bytes{fstype=\"ext4\",mountpoint=\"/srv\"}",
		"node_filesystem_avail_bytes{fstype=\"xfs\",mountpoint=\"/var\"}",
		"node_filesystem_size_bytes{fstype=\"xfs\",mountpoint=\"/var\"}",
		"node_load1",
		"node_load5",
		"node_load15",
		"node_vmstat_pswpin",
		"node_vmstat_pswpout",
		"rmon_collect_duration_seconds",
		"rmon_process_count{process=\"nginx\"}",
		"rmon_process_count{process=\"postgres\"}",
		"rmon_ring_dropped_total",
	};
	char name[SERIES_NAME_MAX + 1];
	for (int h = 0; h < hosts; h++) {
		for (size_t i = 0; i < sizeof system / sizeof *system; i++) {
			snprintf(name, sizeof name, "host%03d/%s", h, system[i]);
			add_name(f, name);
		}
		for (int m = 0; m < APP_METRICS; m++) {
			snprintf(name, sizeof name, "host%03d/app_metric_%02d", h, m);
			add_name(f, name);
		}
	}
}

/* One collection of every series at ts: counters rise, gauges wander. */
static void collect(struct fleet *f, int64_t ts, unsigned round)
{
	for (size_t i = 0; i < f->n; i++) {
		const char *metric = strchr(f->names[i], '/') + 1;
		double v;
		if (strstr(metric, "_total") || strstr(metric, "pswp")) {
			f->counters[i] += 5 + (double)((i * 7 + round) % 5);
			v = f->counters[i];
		} else if (strstr(metric, "size_bytes") || strstr(metric, "MemTotal")) {
			v = 1e11;
		} else if (strstr(metric, "avail_bytes") || strstr(metric, "MemAvailable")) {
			v = 5e10 + (double)((i + round) % 100) * 1e6;
		} else if (strstr(metric, "process_count")) {
			v = 1;
		} else if (i < PER_HOST) {
			v = 95; /* one host in trouble: its rules fire */
		} else {
			v = (double)((i * 13 + round * 7) % 80);
		}
		f->samples[i] = (struct sample){ f->ids[i], ts, v };
	}
}

static void submit(struct drainer *d, struct fleet *f)
{
	struct err e = { 0 };
	for (size_t at = 0; at < f->n; at += 1000) {
		size_t n = f->n - at < 1000 ? f->n - at : 1000;
		if (drainer_submit(d, f->samples + at, n, (const char *const *)f->names + at, &e))
			bench_die("drainer_submit: %s", e.msg);
	}
	if (drainer_step(d, 0, &e))
		bench_die("drainer_step: %s", e.msg);
}

/* The shipped rules and 91 more: 100 in all. */
static char *make_config(void)
{
	size_t cap = strlen(alert_config_default) + 91 * 200;
	char *text = malloc(cap);
	if (!text)
		bench_die("out of memory");
	size_t len = (size_t)snprintf(text, cap, "%s", alert_config_default);
	static const char *const forms[] = { "app_metric_%02d", "avg(app_metric_%02d[1m])",
					     "max(app_metric_%02d[5m])",
					     "rate(app_metric_%02d[1m])" };
	for (int r = 0; r < 91; r++) {
		char expr[64];
		snprintf(expr, sizeof expr, forms[r % 4], r % APP_METRICS);
		len += (size_t)snprintf(text + len, cap - len,
					"[rule app_%02d]\nexpr = %s\nabove = %d\nfor = 1m\n", r,
					expr, 90 + r % 10);
	}
	return text;
}

static int collect_id(void *ctx, uint64_t id)
{
	struct fleet *changed = ctx;
	changed->ids[changed->n++] = id;
	return 0;
}

static int count_events(void *ctx, const struct eval_event *ev)
{
	(void)ev;
	(*(size_t *)ctx)++;
	return 0;
}

static int compare_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int commits = 30, hosts = 100;
	static const struct option longs[] = { { "commits", 1, 0, 'c' },
					       { "hosts", 1, 0, 'h' },
					       { 0, 0, 0, 0 } };
	for (int c; (c = getopt_long(argc, argv, "", longs, NULL)) != -1;) {
		if (c == 'c')
			commits = atoi(optarg);
		else if (c == 'h')
			hosts = atoi(optarg);
		else
			bench_die("usage: bench-eval [--commits N] [--hosts N]");
	}
	if (commits < 3 || hosts < 1 || hosts > 999)
		bench_die("--commits at least 3, --hosts 1 to 999");
	char data[] = "/tmp/rmon-bench-eval-XXXXXX";
	if (!mkdtemp(data))
		bench_die("mkdtemp failed");
	struct fleet f = { 0 }, changed = { 0 };
	make_fleet(&f, hosts);
	changed.ids = calloc(f.n * 2, sizeof *changed.ids);
	struct query_latest *latest = calloc(f.n, sizeof *latest);

	struct drainer_config dc;
	drainer_config_default(&dc, data);
	dc.ring.series_capacity = 1u << 15;
	dc.commit_interval_ns = 0;
	dc.checkpoint_interval_ns = 3600 * SEC;
	dc.self_interval_ns = 3600 * SEC;
	struct drainer *d;
	struct err e = { 0 };
	if (drainer_open(&dc, &d, &e))
		bench_die("drainer_open: %s", e.msg);
	/* Ten minutes of history at a 10 s interval. */
	int64_t t = rtime_now_ns() / SEC * SEC - 3600 * SEC;
	unsigned round = 0;
	for (; round < 60; round++, t += 10 * SEC) {
		collect(&f, t, round);
		submit(d, &f);
	}

	char *text = make_config();
	struct alert_config *cfg;
	struct eval *ev;
	struct query *q;
	if (alert_config_read_text(text, "<bench>", &cfg, &e) || eval_new(cfg, &ev, &e) ||
	    query_open(data, &q, &e))
		bench_die("%s", e.msg);
	if (query_begin(q, &e))
		bench_die("%s", e.msg);
	uint64_t seen = query_sequence(q);
	int64_t start = cpu_ns();
	size_t events = 0;
	if (eval_pass(ev, q, t, NULL, 0, count_events, &events, &e))
		bench_die("eval_pass: %s", e.msg);
	int64_t first_pass = cpu_ns() - start;
	query_end(q);

	int64_t *eval = calloc((size_t)commits, sizeof *eval);
	int64_t *base = calloc((size_t)commits, sizeof *base);
	uint64_t rules = 0, series_read = 0;
	for (int c = 0; c < commits; c++, round++, t += 10 * SEC) {
		collect(&f, t, round);
		submit(d, &f);
		if (query_begin(q, &e))
			bench_die("%s", e.msg);
		uint64_t seq = query_sequence(q);
		changed.n = 0;
		/* Whichever reads first finds the pages cold: take turns. */
		int64_t b0 = 0, b1 = 0;
		if (c % 2) {
			b0 = cpu_ns();
			if (query_latest(q, f.ids, f.n, latest, &e))
				bench_die("%s", e.msg);
			b1 = cpu_ns();
		}
		int64_t t0 = cpu_ns();
		if (query_changed(q, seen, collect_id, &changed, &e) ||
		    eval_pass(ev, q, t, changed.ids, changed.n, count_events, &events, &e))
			bench_die("%s", e.msg);
		int64_t t1 = cpu_ns();
		if (c % 2 == 0) {
			b0 = cpu_ns();
			if (query_latest(q, f.ids, f.n, latest, &e))
				bench_die("%s", e.msg);
			b1 = cpu_ns();
		}
		query_end(q);
		seen = seq;
		eval[c] = t1 - t0;
		base[c] = b1 - b0;
		struct eval_stats st;
		eval_get_stats(ev, &st);
		rules = st.rules_evaluated;
		series_read = st.series_read;
		if (changed.n != f.n)
			bench_die("commit %d changed %zu series, not %zu", c, changed.n, f.n);
	}
	qsort(eval, (size_t)commits, sizeof *eval, compare_i64);
	qsort(base, (size_t)commits, sizeof *base, compare_i64);
	double e50 = bench_ms(eval[commits / 2]), e95 = bench_ms(eval[commits * 95 / 100]);
	double b50 = bench_ms(base[commits / 2]);
	printf("%zu rules over %zu series of %d hosts, every series changed at each of %d "
	       "commits\n",
	       cfg->n_rules, f.n, hosts, commits);
	printf("  first pass (lists every series, reads every rule): %.1f ms CPU\n",
	       bench_ms(first_pass));
	printf("  a commit: %" PRIu64 " rules read, %" PRIu64 " series reads, %zu moves in all\n",
	       rules, series_read, events);
	printf("  eval_pass CPU a commit: p50 %.2f ms, p95 %.2f ms (goal <= 25 ms) %s\n", e50, e95,
	       bench_verdict(e95 <= 25));
	printf("  baseline, query_latest of the %zu series: p50 %.2f ms\n", f.n, b50);
	printf("  ratio eval / baseline: %.1f\n", b50 > 0 ? e50 / b50 : 0);

	query_close(q);
	eval_free(ev);
	alert_config_free(cfg);
	free(text);
	if (drainer_close(d, &e))
		bench_die("drainer_close: %s", e.msg);
	char ring[64];
	ring_name_for_dir(data, ring, sizeof ring);
	ring_unlink(ring, NULL);
	bench_remove_tree(data);
	for (size_t i = 0; i < f.n; i++)
		free(f.names[i]);
	free(f.names);
	free(f.ids);
	free(f.samples);
	free(f.counters);
	free(changed.ids);
	free(latest);
	free(eval);
	free(base);
	return 0;
}
