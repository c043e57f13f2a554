/* store_reads.c - the store scenario's reads: one day of a 1 s series,
 * one year through the rollups, and readers following the writer (the
 * latest values of every series, an evaluation pass over what the last
 * commit changed, a reader woken in another process), each against the
 * plain way of reading the same in the same run; see store_parts.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/fleet.h"
#include "bench/store_parts.h"
#include "lib/rtime.h"
#include "lib/series_name.h"
#include "store/db.h"
#include "store/layout.h"
#include "store/query.h"

#define SEC RTIME_NS_PER_SEC

static int count_point(void *ctx, int64_t ts, double value)
{
	(*(uint64_t *)ctx)++;
	return 0;
}

/* One day of a 1 s series read raw; one year of a 1-minute series read
 * through the 1-hour rollups, 365 daily points. */
static void reads(struct bench_run *run, double *day_ms, double *year_ms, uint64_t *day_points)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/reads", bench_scratch(run));
	mkdir(path, 0700);
	char db_path[4300];
	snprintf(db_path, sizeof db_path, "%s/db", path);
	struct db_config c;
	db_config_default(&c);
	c.retention_raw_ns = c.retention_1m_ns = c.retention_1h_ns = INT64_MAX / 4;
	struct db *db;
	struct err e = { 0 };
	db_open(db_path, &c, false, &db, &e);
	db_register_series(db, 1, "bench/day", 9, &e);
	db_register_series(db, 2, "bench/year", 10, &e);
	int64_t now = rtime_now_ns() / SEC * SEC, day0 = now - 86400 * SEC,
		year0 = now - INT64_C(365) * 86400 * SEC;
	for (int64_t t = day0; t < now; t += SEC) {
		struct sample s = { 1, t, fleet_value(1, (uint64_t)(t / SEC)) };
		db_append(db, &s, 1, &e);
	}
	for (int64_t t = year0; t < now; t += 60 * SEC) {
		struct sample s = { 2, t, fleet_value(3, (uint64_t)(t / SEC)) };
		db_append(db, &s, 1, &e);
	}
	db_commit(db, 1, &e);
	db_close(db);
	struct query *q;
	query_open(path, &q, &e);
	uint64_t points = 0;
	int64_t start = rtime_mono_ns();
	for (int i = 0; i < 10; i++) {
		points = 0;
		query_raw(q, 1, day0, now, count_point, &points, NULL, &e);
	}
	*day_ms = (double)(rtime_mono_ns() - start) / 10 / 1e6;
	*day_points = points;
	double out[366];
	start = rtime_mono_ns();
	for (int i = 0; i < 10; i++)
		query_range(q, 2, year0, now, 86400 * SEC, QUERY_AVG, out, 366, &e);
	*year_ms = (double)(rtime_mono_ns() - start) / 10 / 1e6;
	query_close(q);
}

/* ---- following the writer ---- */

struct follow_figures {
	double latest_ms, latest_raw_ms; /* a pass over every series: new, baseline */
	double eval_ms, eval_range_ms;	 /* an evaluation pass: new, baseline */
	size_t eval_series;		 /* series the last commit changed */
	size_t breaching;		 /* of which the rule found above its threshold */
	double wake_p50_ms, wake_p99_ms; /* commit start to the reader awake */
	double commit_p50_ms;		 /* the commit itself */
	double commit_p99_ms;
};

struct id_list {
	uint64_t *id;
	size_t n, cap;
};

static int add_id(void *ctx, uint64_t id)
{
	struct id_list *l = ctx;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16384;
		l->id = realloc(l->id, l->cap * sizeof *l->id);
	}
	l->id[l->n++] = id;
	return 0;
}

static int add_series(void *ctx, uint64_t id, const char *name, size_t len)
{
	return add_id(ctx, id);
}

static int keep_newest(void *ctx, int64_t ts, double value)
{
	*(double *)ctx = value;
	return 0;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof *v, compare_double);
	return v[n / 2];
}

/* Appends one sample at t to every series (ids[0..series)). */
static void append_all(struct db *db, const uint64_t *ids, struct sample *batch, uint64_t series,
		       int64_t t, double *v)
{
	struct err e = { 0 };
	for (uint64_t s = 0; s < series; s++) {
		v[s] = fleet_value(ids[s], (uint64_t)(t / SEC));
		batch[s] = (struct sample){ ids[s], t, v[s] };
	}
	db_append(db, batch, series, &e);
}

/* A child that waits for each commit and reports when it woke. */
static void waiter(const char *data, int to_parent, int rounds)
{
	struct query *q;
	if (query_open(data, &q, NULL) != 0)
		_exit(1);
	uint64_t seq = query_sequence(q);
	for (int r = 0; r < rounds; r++) {
		int64_t woke = 0;
		if (query_wait(q, seq, 5000, &seq, NULL) == 0)
			woke = rtime_mono_ns();
		if (write(to_parent, &woke, sizeof woke) != sizeof woke)
			_exit(2);
	}
	query_close(q);
	_exit(0);
}

static void follow(struct bench_run *run, uint64_t series, int64_t span_s, int rounds,
		   struct follow_figures *f)
{
	char data[4200], db_path[4300];
	snprintf(data, sizeof data, "%s/follow", bench_scratch(run));
	mkdir(data, 0700);
	snprintf(db_path, sizeof db_path, "%s/db", data);
	struct db_config c;
	db_config_default(&c);
	struct db *db;
	struct err e = { 0 };
	if (db_open(db_path, &c, false, &db, &e) != 0) {
		bench_die("%s", e.msg);
	}
	char name[64];
	uint64_t *ids = malloc(series * sizeof *ids);
	for (uint64_t s = 0; s < series; s++) {
		int len = snprintf(name, sizeof name, "host%llu/bench_metric{n=\"%llu\"}",
				   (unsigned long long)(s % 100), (unsigned long long)s);
		ids[s] = series_id(name, (size_t)len);
		db_register_series(db, ids[s], name, (size_t)len, &e);
	}
	struct sample *batch = malloc(series * sizeof *batch);
	double *v = calloc(series, sizeof *v);
	int64_t now = rtime_now_ns() / SEC * SEC, t = now - span_s * SEC;
	for (; t < now; t += SEC) {
		append_all(db, ids, batch, series, t, v);
		if ((now - t) / SEC % 120 == 0)
			db_commit(db, 1, &e);
	}
	db_commit(db, 1, &e);
	struct query *q;
	if (query_open(data, &q, &e) != 0) {
		bench_die("%s", e.msg);
	}
	struct id_list all = { 0 }, changed = { 0 };
	query_series(q, NULL, add_series, &all, &e);
	struct query_latest *latest = malloc(all.n * sizeof *latest);
	/* 1. Latest values of every series, against reading the last 10 s;
	 * medians of several passes, as the machine is shared. */
	double passes[20];
	for (int r = 0; r < 20; r++) {
		int64_t start = rtime_mono_ns();
		query_latest(q, all.id, all.n, latest, &e);
		passes[r] = (double)(rtime_mono_ns() - start) / 1e6;
	}
	f->latest_ms = median(passes, 20);
	for (int r = 0; r < 3; r++) {
		int64_t start = rtime_mono_ns();
		for (size_t i = 0; i < all.n; i++) {
			double newest = NAN;
			query_raw(q, all.id[i], t - 10 * SEC, t + SEC, keep_newest, &newest, NULL,
				  &e);
		}
		passes[r] = (double)(rtime_mono_ns() - start) / 1e6;
	}
	f->latest_raw_ms = median(passes, 3);
	/* 2. An evaluation pass over what the last commit changed: which
	 * series, then each one's newest minute, in one snapshot. */
	for (int r = 0; r < 10; r++) {
		uint64_t seen = query_sequence(q);
		append_all(db, ids, batch, series, t, v);
		db_commit(db, 1, &e);
		t += SEC;
		int64_t start = rtime_mono_ns();
		query_begin(q, &e);
		changed.n = 0;
		query_changed(q, seen, add_id, &changed, &e);
		query_latest(q, changed.id, changed.n, latest, &e);
		f->breaching = 0; /* a rule: the minute's average above a threshold */
		for (size_t i = 0; i < changed.n; i++)
			f->breaching += latest[i].minute_avg > 1e9;
		query_end(q);
		passes[r] = (double)(rtime_mono_ns() - start) / 1e6;
		f->eval_series = changed.n;
	}
	f->eval_ms = median(passes, 10);
	int64_t start = rtime_mono_ns();
	double avg[1];
	int64_t minute = layout_bucket_start(t - SEC, 60 * SEC);
	query_begin(q, &e);
	for (size_t i = 0; i < changed.n; i++)
		query_range(q, changed.id[i], minute, minute + 60 * SEC, 60 * SEC, QUERY_AVG, avg,
			    1, &e);
	query_end(q);
	f->eval_range_ms = (double)(rtime_mono_ns() - start) / 1e6;
	/* 3. Wake-up of a reader in another process. */
	int fds[2];
	if (pipe(fds) != 0)
		bench_die("pipe failed");
	fflush(NULL);
	pid_t pid = bench_fork();
	if (pid == 0)
		waiter(data, fds[1], rounds);
	double *wake = malloc((size_t)rounds * sizeof *wake),
	       *commit = malloc((size_t)rounds * sizeof *commit);
	usleep(100000);
	for (int r = 0; r < rounds; r++) {
		struct sample one = { ids[(uint64_t)r % series], t, (double)r };
		t += SEC;
		db_append(db, &one, 1, &e);
		int64_t before = rtime_mono_ns();
		db_commit(db, 1, &e);
		int64_t after = rtime_mono_ns(), woke;
		if (read(fds[0], &woke, sizeof woke) != sizeof woke)
			break;
		wake[r] = woke ? (double)(woke - before) / 1e6 : 5000;
		commit[r] = (double)(after - before) / 1e6;
		usleep(2000); /* the reader is asleep again */
	}
	waitpid(pid, NULL, 0);
	close(fds[0]);
	close(fds[1]);
	qsort(wake, (size_t)rounds, sizeof *wake, compare_double);
	qsort(commit, (size_t)rounds, sizeof *commit, compare_double);
	f->wake_p50_ms = wake[rounds / 2];
	f->wake_p99_ms = wake[rounds * 99 / 100];
	f->commit_p50_ms = commit[rounds / 2];
	f->commit_p99_ms = commit[rounds * 99 / 100];
	free(wake);
	free(commit);
	free(latest);
	free(all.id);
	free(changed.id);
	free(batch);
	free(v);
	free(ids);
	query_close(q);
	db_close(db);
}

void store_reads(struct bench_run *run, bool quick)
{
	double day_ms, year_ms;
	uint64_t points, series = 10000;
	struct follow_figures f;
	reads(run, &day_ms, &year_ms, &points);
	int64_t span = quick ? 600 : 1800;
	follow(run, series, span, quick ? 200 : 500, &f);
	struct bench_table *t =
	    bench_table(run, "store: reads, and %llu series of %lld min at 1 s followed",
			(unsigned long long)series, (long long)span / 60);
	bench_figure(t, "read one day of a 1 s series (raw)", day_ms, "ms");
	bench_figure(t, "  points read", (double)points, "points");
	bench_figure(t, "one-year graph through rollups (365 points)", year_ms, "ms");
	bench_figure(t, "latest values of every series, a pass", f.latest_ms, "ms");
	bench_figure(t, "  query_raw of the last 10 s of each (baseline)", f.latest_raw_ms, "ms");
	bench_ratio(t, "  latest values against the baseline", f.latest_raw_ms, f.latest_ms,
		    "query_raw", 0);
	bench_figure(t, "evaluation pass over what the last commit changed", f.eval_ms, "ms");
	bench_figure(t, "  series changed", (double)f.eval_series, "series");
	bench_figure(t, "  query_range of the last minute of each (baseline)", f.eval_range_ms,
		     "ms");
	bench_ratio(t, "  evaluation pass against the baseline", f.eval_range_ms, f.eval_ms,
		    "query_range", 0);
	bench_figure(t, "reader in another process woken after a commit, p50", f.wake_p50_ms, "ms");
	bench_figure(t, "  p99", f.wake_p99_ms, "ms");
	bench_figure(t, "  the commit itself, p50", f.commit_p50_ms, "ms");
	bench_figure(t, "  the commit itself, p99", f.commit_p99_ms, "ms");
}
