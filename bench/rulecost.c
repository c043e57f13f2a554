/* rulecost.c - rule evaluation's CPU a commit; see rulecost.h. */
#include "bench/rulecost.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
#define RULES_ADDED 91 /* beside the shipped ones: 100 in all */

static const char *const system_series[] = {
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

struct fleet_data {
	char **names;
	uint64_t *ids;
	struct sample *samples;
	double *counters;
	size_t n;
};

/* What one measurement holds; rulecost_measure frees it all. */
struct cost {
	char data[PATH_MAX];
	struct fleet_data f;
	uint64_t *changed;
	size_t n_changed;
	struct query_latest *latest;
	struct drainer *d;
	struct alert_config *cfg;
	struct eval *ev;
	struct query *q;
	char *rules_text;
	struct bench_hist *eval, *base;
	struct err e;
};

static int fail(const char *what, const struct err *e)
{
	fprintf(stderr, "rmon-bench alert: rule evaluation: %s%s%s\n", what, e ? ": " : "",
		e ? e->msg : "");
	return -1;
}

static int64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * SEC + ts.tv_nsec;
}

static int make_fleet(struct fleet_data *f, int hosts)
{
	size_t n = (size_t)hosts * PER_HOST;
	f->names = calloc(n, sizeof *f->names);
	f->ids = calloc(n, sizeof *f->ids);
	f->samples = calloc(n, sizeof *f->samples);
	f->counters = calloc(n, sizeof *f->counters);
	if (!f->names || !f->ids || !f->samples || !f->counters)
		return fail("out of memory", NULL);
	char name[SERIES_NAME_MAX + 1];
	size_t systems = sizeof system_series / sizeof *system_series;
	for (int h = 0; h < hosts; h++) {
		for (size_t i = 0; i < PER_HOST; i++) {
			if (i < systems)
				snprintf(name, sizeof name, "host%03d/%s", h, system_series[i]);
			else
				snprintf(name, sizeof name, "host%03d/app_metric_%02zu", h,
					 i - systems);
			if (!(f->names[f->n] = strdup(name)))
				return fail("out of memory", NULL);
			f->ids[f->n] = series_id(name, strlen(name));
			f->n++;
		}
	}
	return 0;
}

static void free_fleet(struct fleet_data *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->names[i]);
	free(f->names);
	free(f->ids);
	free(f->samples);
	free(f->counters);
}

/* One collection of every series at ts: counters rise, gauges wander. */
static void collect(struct fleet_data *f, int64_t ts, unsigned round)
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

static int submit(struct cost *c)
{
	struct fleet_data *f = &c->f;
	for (size_t at = 0; at < f->n; at += 1000) {
		size_t n = f->n - at < 1000 ? f->n - at : 1000;
		if (drainer_submit(c->d, f->samples + at, n, (const char *const *)f->names + at,
				   &c->e))
			return fail("drainer_submit", &c->e);
	}
	/* The commit is written on the store's thread: readers see it once done. */
	return drainer_step(c->d, 0, &c->e) || drainer_wait_commit(c->d, &c->e)
		   ? fail("drainer_step", &c->e)
		   : 0;
}

/* The shipped rules and RULES_ADDED more. */
static char *make_rules(void)
{
	size_t cap = strlen(alert_config_default) + RULES_ADDED * 200;
	char *text = malloc(cap);
	if (!text)
		return NULL;
	size_t len = (size_t)snprintf(text, cap, "%s", alert_config_default);
	static const char *const forms[] = { "app_metric_%02d", "avg(app_metric_%02d[1m])",
					     "max(app_metric_%02d[5m])",
					     "rate(app_metric_%02d[1m])" };
	for (int r = 0; r < RULES_ADDED; r++) {
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
	struct cost *c = ctx;
	c->changed[c->n_changed++] = id;
	return 0;
}

static int count_events(void *ctx, const struct eval_event *ev)
{
	(void)ev;
	(*(size_t *)ctx)++;
	return 0;
}

/* The store, ten minutes of history at a 10 s interval, the rules. */
static int prepare(struct cost *c, struct bench_run *run, int hosts, int64_t *t)
{
	snprintf(c->data, sizeof c->data, "%s/rulecost", bench_scratch(run));
	if (mkdir(c->data, 0700) != 0)
		return fail("cannot make the scratch folder", NULL);
	if (make_fleet(&c->f, hosts) != 0)
		return -1;
	c->changed = calloc(c->f.n * 2, sizeof *c->changed);
	c->latest = calloc(c->f.n, sizeof *c->latest);
	c->eval = bench_hist_new();
	c->base = bench_hist_new();
	c->rules_text = make_rules();
	if (!c->changed || !c->latest || !c->eval || !c->base || !c->rules_text)
		return fail("out of memory", NULL);
	struct drainer_config dc;
	drainer_config_default(&dc, c->data);
	dc.ring.series_capacity = 1u << 15;
	dc.commit_interval_ns = 0;
	dc.checkpoint_interval_ns = 3600 * SEC;
	dc.self_interval_ns = 3600 * SEC;
	if (drainer_open(&dc, &c->d, &c->e))
		return fail("drainer_open", &c->e);
	*t = rtime_now_ns() / SEC * SEC - 3600 * SEC;
	for (unsigned round = 0; round < 60; round++, *t += 10 * SEC) {
		collect(&c->f, *t, round);
		if (submit(c) != 0)
			return -1;
	}
	if (alert_config_read_text(c->rules_text, "<bench>", &c->cfg, &c->e) ||
	    eval_new(c->cfg, &c->ev, &c->e) || query_open(c->data, &c->q, &c->e))
		return fail("rules and reader", &c->e);
	return 0;
}

/* One commit: the pass timed, and the baseline on the same snapshot,
 * taking turns at reading first (whichever goes first finds pages cold). */
static int one_commit(struct cost *c, int i, uint64_t *seen, int64_t t, size_t *events)
{
	if (query_begin(c->q, &c->e))
		return fail("query_begin", &c->e);
	uint64_t seq = query_sequence(c->q);
	c->n_changed = 0;
	int64_t b = 0, t0 = 0, t1 = 0;
	for (int turn = 0; turn < 2; turn++) {
		if (turn == i % 2) {
			int64_t b0 = cpu_ns();
			if (query_latest(c->q, c->f.ids, c->f.n, c->latest, &c->e))
				return fail("query_latest", &c->e);
			b = cpu_ns() - b0;
			continue;
		}
		t0 = cpu_ns();
		if (query_changed(c->q, *seen, collect_id, c, &c->e) ||
		    eval_pass(c->ev, c->q, t, c->changed, c->n_changed, count_events, events,
			      &c->e))
			return fail("eval_pass", &c->e);
		t1 = cpu_ns();
	}
	query_end(c->q);
	*seen = seq;
	bench_hist_add(c->eval, t1 - t0);
	bench_hist_add(c->base, b);
	if (c->n_changed != c->f.n) {
		fprintf(stderr, "rmon-bench alert: commit %d changed %zu series, not %zu\n", i,
			c->n_changed, c->f.n);
		return -1;
	}
	return 0;
}

static int measure(struct cost *c, struct bench_run *run, int commits, int hosts)
{
	int64_t t = 0;
	if (prepare(c, run, hosts, &t) != 0)
		return -1;
	if (query_begin(c->q, &c->e))
		return fail("query_begin", &c->e);
	uint64_t seen = query_sequence(c->q);
	size_t events = 0;
	int64_t start = cpu_ns();
	if (eval_pass(c->ev, c->q, t, NULL, 0, count_events, &events, &c->e))
		return fail("eval_pass", &c->e);
	int64_t first_pass = cpu_ns() - start;
	query_end(c->q);
	int64_t wall = rtime_mono_ns();
	for (int i = 0; i < commits; i++, t += 10 * SEC) {
		collect(&c->f, t, (unsigned)(60 + i));
		if (submit(c) != 0 || one_commit(c, i, &seen, t, &events) != 0)
			return -1;
		double elapsed = (double)(rtime_mono_ns() - wall) / 1e9;
		bench_progress(run, "rule evaluation", (double)(i + 1) / elapsed, "commits/s",
			       elapsed, elapsed * commits / (i + 1));
	}
	bench_progress_done(run);
	struct eval_stats st;
	eval_get_stats(c->ev, &st);
	struct bench_table *tb = bench_table(
	    run,
	    "alert: %zu rules over %zu series of %d hosts, every series changed at each of "
	    "%d commits",
	    c->cfg->n_rules, c->f.n, hosts, commits);
	double e50 = bench_ms(bench_hist_quantile(c->eval, 0.5));
	double b50 = bench_ms(bench_hist_quantile(c->base, 0.5));
	bench_goal(tb, "eval CPU a commit, p95", bench_ms(bench_hist_quantile(c->eval, 0.95)), "ms",
		   false, 25);
	bench_figure(tb, "eval CPU a commit, p50", e50, "ms");
	bench_figure(tb, "baseline: query_latest of every series, p50", b50, "ms");
	bench_ratio(tb, "eval / baseline", e50, b50, "query_latest", 0);
	bench_figure(tb, "first pass (lists every series, reads every rule)", bench_ms(first_pass),
		     "ms");
	bench_note(tb,
		   "a commit: %" PRIu64 " rules read, %" PRIu64 " series reads, %zu moves in all",
		   st.rules_evaluated, st.series_read, events);
	return 0;
}

int rulecost_measure(struct bench_run *run, int commits, int hosts)
{
	struct cost c = { 0 };
	int rc = measure(&c, run, commits, hosts);
	if (c.q)
		query_close(c.q);
	if (c.ev)
		eval_free(c.ev);
	if (c.cfg)
		alert_config_free(c.cfg);
	if (c.d && drainer_close(c.d, &c.e) && rc == 0)
		rc = fail("drainer_close", &c.e);
	if (c.d) {
		char ring[64];
		ring_name_for_dir(c.data, ring, sizeof ring);
		ring_unlink(ring, NULL);
	}
	free(c.rules_text);
	free_fleet(&c.f);
	free(c.changed);
	free(c.latest);
	if (c.eval)
		bench_hist_free(c.eval);
	if (c.base)
		bench_hist_free(c.base);
	return rc;
}
