/* bench-store.c - the store's figures, each against a baseline in the same
 * run:
 *   1. ingest: a producer process floods the ring with 10,000 agent-like
 *      series; the drainer makes them durable (WAL group commit) and
 *      applies them to LMDB.  Baseline: the same samples put one record per
 *      sample into LMDB keyed (series, time), a transaction per batch.
 *   2. disk: bytes per sample once chunks close, on agent-like data.
 *   3. reads: one day of a 1 s series; one year through rollups.
 *   4. following the writer, 10,000 series of 30 min at 1 s: the latest
 *      values of all of them (baseline: query_raw over the last 10 s of
 *      each); one evaluation pass over what the last commit changed
 *      (baseline: query_range over the last minute of each); the wake-up
 *      of a reader in another process after a commit.
 *
 * Usage: bench-store [--quick | --ingest | --reads]
 */
#include <lmdb.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/procstat.h"
#include "lib/cmdline.h"
#include "lib/rtime.h"
#include "shmring/series.h"
#include "store/codec.h"
#include "store/db.h"
#include "store/drainer.h"
#include "store/layout.h"
#include "store/query.h"

#define SEC RTIME_NS_PER_SEC

static char dir[256];

/* Agent-like values: byte counters, slowly moving gauges, constants and
 * two-decimal figures such as load averages. */
static double value_of(uint64_t series, uint64_t k, double prev)
{
	uint64_t h = series_id((const char *)&k, sizeof k) ^ series;
	switch (series % 4) {
	case 0:
		return prev + (double)(h % 4096);
	case 1:
		return k % 16 == 0 ? (double)(4096 * (100000 + h % 64)) : prev;
	case 2:
		return 17179869184.0;
	default: {
		double next = prev + (double)((int)(h % 11) - 5) / 100.0;
		return next < 0 ? 0 : round(next * 100) / 100;
	}
	}
}

static void producer(const char *data, uint64_t series, uint64_t samples, int64_t t0)
{
	char name[64];
	struct ring *r;
	struct ring_lane *lane;
	ring_name_for_dir(data, name, sizeof name);
	while (ring_producer_open(name, &r, NULL) != 0)
		usleep(1000);
	if (ring_lane_attach(r, &lane, NULL) != 0)
		_exit(3);
	uint64_t *ids = malloc(series * sizeof *ids);
	double *last = calloc(series, sizeof *last);
	struct sample *batch = malloc(series * sizeof *batch);
	for (uint64_t s = 0; s < series; s++) {
		char full[SERIES_NAME_MAX + 1];
		snprintf(full, sizeof full, "bench/rmon_bench_value{s=\"%llu\"}",
			 (unsigned long long)s);
		if (series_insert(ring_series(r), full, strlen(full), &ids[s], NULL) != 0)
			_exit(4);
	}
	for (uint64_t k = 0; k < samples; k++) {
		for (uint64_t s = 0; s < series; s++) {
			last[s] = value_of(s, k, last[s]);
			batch[s] = (struct sample){ ids[s], t0 + (int64_t)k * SEC, last[s] };
		}
		for (size_t sent = 0; sent < series;) {
			size_t n = ring_push_many(lane, batch + sent, series - sent);
			sent += n;
			if (n == 0)
				sched_yield();
		}
	}
	ring_close(r);
	_exit(0);
}

static void ingest(uint64_t series, uint64_t samples, double *rate, int64_t *p50, int64_t *p99,
		   long *rss_growth)
{
	char data[300];
	snprintf(data, sizeof data, "%s/ingest", dir);
	struct drainer_config c;
	drainer_config_default(&c, data);
	c.ring.series_capacity = (uint32_t)series * 2;
	c.ring.slots_per_lane = 65536;
	c.self_interval_ns = 3600 * SEC;
	struct drainer *d;
	struct err e = { 0 };
	long rss_before = procstat_kib(getpid(), "VmRSS:");
	if (drainer_open(&c, &d, &e) != 0) {
		fprintf(stderr, "bench-store: %s\n", e.msg);
		exit(1);
	}
	pid_t pid = fork();
	if (pid == 0)
		producer(data, series, samples, 1764000000 * SEC);
	struct drainer_stats st;
	int64_t start = 0;
	do {
		if (drainer_step(d, 10, &e) != 0) {
			fprintf(stderr, "bench-store: %s\n", e.msg);
			exit(1);
		}
		drainer_get_stats(d, &st);
		if (!start && st.samples)
			start = rtime_mono_ns();
	} while (st.samples < series * samples);
	double seconds = (double)(rtime_mono_ns() - start) / 1e9;
	waitpid(pid, NULL, 0);
	*rate = (double)st.samples / seconds;
	*p50 = st.commit_p50_ns;
	*p99 = st.commit_p99_ns;
	*rss_growth = procstat_kib(getpid(), "VmRSS:") - rss_before;
	drainer_close(d, NULL);
	char ring[64];
	ring_name_for_dir(data, ring, sizeof ring);
	ring_unlink(ring, NULL);
}

/* The baseline: one LMDB record per sample, keyed (series, time). */
static double plain_lmdb(uint64_t series, uint64_t samples)
{
	char path[300];
	snprintf(path, sizeof path, "%s/plain", dir);
	mkdir(path, 0700);
	MDB_env *env;
	MDB_dbi dbi;
	MDB_txn *txn;
	mdb_env_create(&env);
	mdb_env_set_mapsize(env, (size_t)series * samples * 100 + (64 << 20));
	mdb_env_open(env, path, MDB_NOSYNC, 0600);
	double *last = calloc(series, sizeof *last);
	int64_t start = rtime_mono_ns();
	size_t in_txn = 0;
	mdb_txn_begin(env, NULL, 0, &txn);
	mdb_dbi_open(txn, NULL, 0, &dbi);
	for (uint64_t k = 0; k < samples; k++) {
		for (uint64_t s = 0; s < series; s++) {
			uint8_t key[LAYOUT_KEY_BYTES];
			last[s] = value_of(s, k, last[s]);
			layout_key(key, series_id((const char *)&s, sizeof s), (int64_t)k * SEC);
			MDB_val kv = { sizeof key, key }, vv = { sizeof last[s], &last[s] };
			mdb_put(txn, dbi, &kv, &vv, 0);
			if (++in_txn == 16384) {
				mdb_txn_commit(txn);
				mdb_txn_begin(env, NULL, 0, &txn);
				in_txn = 0;
			}
		}
	}
	mdb_txn_commit(txn);
	double seconds = (double)(rtime_mono_ns() - start) / 1e9;
	mdb_env_close(env);
	free(last);
	return (double)(series * samples) / seconds;
}

/* Appends agent-like data straight into a db, commits, and reports the
 * bytes of closed chunks per sample. */
static double bytes_per_sample(uint64_t series, uint64_t samples, double *lmdb_bytes_per_sample)
{
	char path[300];
	snprintf(path, sizeof path, "%s/disk", dir);
	struct db_config c;
	db_config_default(&c);
	struct db *db;
	struct err e = { 0 };
	if (db_open(path, &c, false, &db, &e) != 0)
		exit(1);
	double *last = calloc(series, sizeof *last);
	for (uint64_t s = 0; s < series; s++) {
		char name[64];
		snprintf(name, sizeof name, "bench/v{s=\"%llu\"}", (unsigned long long)s);
		db_register_series(db, s + 1, name, strlen(name), &e);
	}
	struct sample *batch = malloc(series * sizeof *batch);
	for (uint64_t k = 0; k < samples; k++) {
		for (uint64_t s = 0; s < series; s++) {
			last[s] = value_of(s, k, last[s]);
			batch[s] =
			    (struct sample){ s + 1, 1764000000 * SEC + (int64_t)k * SEC, last[s] };
		}
		db_append(db, batch, series, &e);
		if (k % 600 == 599)
			db_commit(db, k, &e);
	}
	db_commit(db, samples, &e);
	db_close(db);
	free(batch);
	free(last);
	/* Count closed chunks only: the open head of each series is not final. */
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t bytes = 0, closed_samples = 0;
	mdb_env_create(&env);
	mdb_env_set_maxdbs(env, 8);
	mdb_env_open(env, path, MDB_RDONLY, 0600);
	mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
	mdb_dbi_open(txn, "chunks", 0, &dbi);
	mdb_cursor_open(txn, dbi, &cur);
	while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
		const uint8_t *val = v.mv_data;
		if (val[0] != 1)
			continue;
		bytes += v.mv_size + k.mv_size;
		closed_samples += (uint64_t)codec_count(val + 1, v.mv_size - 1);
	}
	MDB_stat st;
	mdb_env_stat(env, &st);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	char file[400];
	struct stat fst;
	snprintf(file, sizeof file, "%s/data.mdb", path);
	stat(file, &fst);
	*lmdb_bytes_per_sample = (double)fst.st_blocks * 512 / (double)(series * samples);
	return (double)bytes / (double)closed_samples;
}

/* Bytes per sample on real agent output: rmon-collectd collects this
 * machine every 100 ms for `seconds` into an rmon-stored beside it; every
 * chunk then stored (closed or open) counts, against every sample. */
static double real_agent_bytes(double seconds, uint64_t *samples_out)
{
	char data[300], bin[1024], cmd[8192];
	ssize_t n = readlink("/proc/self/exe", bin, sizeof bin - 1);
	if (n <= 0)
		return NAN;
	bin[n] = '\0';
	*strrchr(bin, '/') = '\0';
	snprintf(data, sizeof data, "%s/real", dir);
	snprintf(
	    cmd, sizeof cmd,
	    "%s/rmon-stored --data %s 2>/dev/null & s=$!; sleep 0.5; "
	    "%s/rmon-collectd --data %s --interval 100ms 2>/dev/null & c=$!; sleep %.0f; "
	    "kill $c; wait $c; sleep 0.3; kill $s; wait $s; %s/rmon-stored --data %s --drop-ring",
	    bin, data, bin, data, seconds, bin, data);
	if (system(cmd) != 0)
		return NAN;
	char path[400];
	snprintf(path, sizeof path, "%s/db", data);
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t bytes = 0, samples = 0;
	mdb_env_create(&env);
	mdb_env_set_maxdbs(env, 8);
	if (mdb_env_open(env, path, MDB_RDONLY, 0600) != 0)
		return NAN;
	mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
	mdb_dbi_open(txn, "chunks", 0, &dbi);
	mdb_cursor_open(txn, dbi, &cur);
	while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
		bytes += v.mv_size + k.mv_size;
		samples += (uint64_t)codec_count((const uint8_t *)v.mv_data + 1, v.mv_size - 1);
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	*samples_out = samples;
	return (double)bytes / (double)samples;
}

/* Prometheus' own write benchmark on the same number of series and
 * samples, when Debian's prometheus package provides promtool; NaN if not. */
static double promtool_rate(uint64_t series, uint64_t samples)
{
	if (system("command -v promtool >/dev/null 2>&1") != 0)
		return NAN;
	char path[300], cmd[1024];
	snprintf(path, sizeof path, "%s/series.json", dir);
	FILE *f = fopen(path, "w");
	for (uint64_t s = 0; s < series; s++)
		fprintf(
		    f,
		    "{\"__name__\":\"rmon_bench_value\",\"instance\":\"bench\",\"s\":\"%llu\"}\n",
		    (unsigned long long)s);
	fclose(f);
	snprintf(cmd, sizeof cmd,
		 "promtool tsdb bench write --metrics=%llu --scrapes=%llu --out=%s/prom %s 2>&1",
		 (unsigned long long)series, (unsigned long long)samples, dir, path);
	FILE *p = popen(cmd, "r");
	char line[512];
	double rate = NAN;
	while (p && fgets(line, sizeof line, p))
		if (strstr(line, "samples/sec:"))
			rate = atof(strstr(line, ":") + 1);
	if (p)
		pclose(p);
	return rate;
}

static int count_point(void *ctx, int64_t ts, double value)
{
	(*(uint64_t *)ctx)++;
	return 0;
}

/* One day of a 1 s series read raw; one year of a 1-minute series read
 * through the 1-hour rollups, 365 daily points. */
static void reads(double *day_ms, double *year_ms, uint64_t *day_points)
{
	char path[300];
	snprintf(path, sizeof path, "%s/reads", dir);
	mkdir(path, 0700);
	char db_path[400];
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
	double v = 0;
	for (int64_t t = day0; t < now; t += SEC) {
		struct sample s = { 1, t, v = value_of(0, (uint64_t)t, v) };
		db_append(db, &s, 1, &e);
	}
	for (int64_t t = year0; t < now; t += 60 * SEC) {
		struct sample s = { 2, t, v = value_of(3, (uint64_t)t, v) };
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
		v[s] = value_of(s, (uint64_t)t, v[s]);
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

static void follow(uint64_t series, int64_t span_s, int rounds, struct follow_figures *f)
{
	char data[300], db_path[400];
	snprintf(data, sizeof data, "%s/follow", dir);
	mkdir(data, 0700);
	snprintf(db_path, sizeof db_path, "%s/db", data);
	struct db_config c;
	db_config_default(&c);
	struct db *db;
	struct err e = { 0 };
	if (db_open(db_path, &c, false, &db, &e) != 0) {
		fprintf(stderr, "bench-store: %s\n", e.msg);
		exit(1);
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
		fprintf(stderr, "bench-store: %s\n", e.msg);
		exit(1);
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
		exit(1);
	pid_t pid = fork();
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

static void print_follow(const struct follow_figures *f, uint64_t series)
{
	printf("  latest values of %llu series          %8.2f ms a pass (query_raw of the last "
	       "10 s: %.1f ms, ratio %.0fx)\n",
	       (unsigned long long)series, f->latest_ms, f->latest_raw_ms,
	       f->latest_raw_ms / f->latest_ms);
	printf("  evaluation pass, last commit (%zu)  %8.2f ms (query_range of the last minute: "
	       "%.1f ms, ratio %.0fx)\n",
	       f->eval_series, f->eval_ms, f->eval_range_ms, f->eval_range_ms / f->eval_ms);
	printf("  reader woken after a commit           p50 %.3f ms, p99 %.3f ms (from commit "
	       "start; the commit itself p50 %.3f ms, p99 %.3f ms)\n",
	       f->wake_p50_ms, f->wake_p99_ms, f->commit_p50_ms, f->commit_p99_ms);
}

/* Removes the scratch folder; the exit status of the benchmark. */
static int remove_scratch(void)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : 1;
}

/* --ingest: the ingest alone, with the drainer's CPU per sample. */
static int ingest_only(uint64_t series, uint64_t samples)
{
	double rate;
	int64_t p50, p99;
	long rss_growth;
	ingest(series, samples, &rate, &p50, &p99, &rss_growth);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
		     (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	printf("ingest %.2f M samples/s, commit p50 %.2f ms, p99 %.2f ms, drainer CPU "
	       "%.0f ns/sample\n",
	       rate / 1e6, (double)p50 / 1e6, (double)p99 / 1e6,
	       cpu * 1e9 / (double)(series * samples));
	return remove_scratch();
}

/* --reads: the reads alone, and following the writer. */
static int reads_only(void)
{
	double day_ms, year_ms;
	uint64_t points;
	struct follow_figures f;
	reads(&day_ms, &year_ms, &points);
	printf("day %.2f ms (%llu points), year %.2f ms\n", day_ms, (unsigned long long)points,
	       year_ms);
	follow(10000, 1800, 500, &f);
	print_follow(&f, 10000);
	return remove_scratch();
}

int main(int argc, char **argv)
{
	bool quick = false, ingest_alone = false, reads_alone = false;
	const struct cmdline_option options[] = {
		{ .name = "quick",
		  .letter = 'q',
		  .kind = CMDLINE_FLAG,
		  .field = &quick,
		  .help = "fewer samples" },
		{ .name = "ingest",
		  .kind = CMDLINE_FLAG,
		  .field = &ingest_alone,
		  .help = "only the drainer's ingest (for profiling)" },
		{ .name = "reads",
		  .kind = CMDLINE_FLAG,
		  .field = &reads_alone,
		  .help = "only the reads (for profiling)" },
		{ 0 },
	};
	const struct cmdline cl = {
		.program = "bench-store",
		.about = "The store's ingest rate, bytes per sample and reads, each against a\n"
			 "baseline in the same run.",
		.options = options,
	};
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	uint64_t series = 10000, samples = quick ? 60 : 300;
	snprintf(dir, sizeof dir, "/tmp/rmon-bench-store-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	if (ingest_alone) /* for profiling the drainer alone */
		return ingest_only(series, samples);
	if (reads_alone) /* for profiling reads alone */
		return reads_only();
	double rate, lmdb_rate, bps, lmdb_bps, day_ms, year_ms;
	int64_t p50, p99;
	long rss_growth;
	uint64_t day_points;
	ingest(series, samples, &rate, &p50, &p99, &rss_growth);
	lmdb_rate = plain_lmdb(series, samples / 3);
	double prom_rate = promtool_rate(series, samples);
	bps = bytes_per_sample(quick ? 200 : 1000, 7200, &lmdb_bps);
	reads(&day_ms, &year_ms, &day_points);
	struct follow_figures follow_figures;
	follow(series, quick ? 600 : 1800, quick ? 200 : 500, &follow_figures);
	uint64_t real_samples = 0;
	double real_bps = real_agent_bytes(quick ? 5 : 60, &real_samples);
	printf("bench-store: %llu series\n", (unsigned long long)series);
	printf("  ingest ring -> durable WAL -> LMDB    %8.2f M samples/s\n", rate / 1e6);
	printf("  plain LMDB put per sample (baseline)  %8.2f M samples/s   ratio %.1fx\n",
	       lmdb_rate / 1e6, rate / lmdb_rate);
	if (isnan(prom_rate))
		printf("  promtool tsdb bench write              not installed (Debian: "
		       "prometheus)\n");
	else
		printf("  promtool tsdb bench write (baseline)  %8.2f M samples/s   ratio %.2fx\n",
		       prom_rate / 1e6, rate / prom_rate);
	printf("  group commit, peek to durable         p50 %.2f ms, p99 %.2f ms\n",
	       (double)p50 / 1e6, (double)p99 / 1e6);
	printf("  drainer memory growth                 %.1f MiB (budget 64 MiB + 1 KiB a series "
	       "= %.1f MiB)\n",
	       (double)rss_growth / 1024, 64 + (double)series / 1024);
	printf("  closed chunks, agent-like data        %.3f bytes/sample (LMDB file: %.3f)\n", bps,
	       lmdb_bps);
	printf("  real rmon-collectd output (%llu samples, 100 ms ticks) %.3f bytes/sample\n",
	       (unsigned long long)real_samples, real_bps);
	printf("  read one day of a 1 s series          %.2f ms (%llu points)\n", day_ms,
	       (unsigned long long)day_points);
	printf("  one-year graph through rollups        %.2f ms (365 points)\n", year_ms);
	print_follow(&follow_figures, series);
	return remove_scratch();
}
