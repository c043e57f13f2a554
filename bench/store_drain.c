/* store_drain.c - two figures of the store scenario about what the store
 * does between agents' samples: how soon rmon-stored --listen drains the
 * ring (its network loop looks at the ring on a timer) and what it costs
 * idle; and what retention costs a checkpoint (db_apply_retention, a
 * bounded number of keys a call) against a walk over every record, which
 * is what any whole-database pass costs; see store_parts.h. */
#include <fcntl.h>
#include <lmdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/procstat.h"
#include "bench/store_parts.h"
#include "lib/rtime.h"
#include "lib/series_name.h"
#include "shmring/ring.h"
#include "shmring/series.h"
#include "store/db.h"
#include "store/layout.h"

#define HOUR (3600 * RTIME_NS_PER_SEC)

__attribute__((noreturn)) static void die(const char *what, const struct err *e)
{
	bench_die("retention: %s%s%s", what, e ? ": " : "", e ? e->msg : "");
}

struct figures {
	double idle_cpu; /* share of a core */
	int64_t p50, p99;
	double busy_cpu;
};

static pid_t start_stored(struct bench_run *run, const char *data)
{
	char exe[4200], address[32], log[4300];
	snprintf(exe, sizeof exe, "%s", bench_bin(run, "rmon-stored"));
	snprintf(address, sizeof address, "127.0.0.1:%d", bench_free_port());
	snprintf(log, sizeof log, "%s.log", data);
	fflush(stdout);
	pid_t pid = bench_fork();
	if (pid == 0) {
		if (!freopen(log, "w", stderr))
			_exit(126);
		execl(exe, "rmon-stored", "--data", data, "--listen", address, (char *)NULL);
		_exit(127);
	}
	if (pid < 0)
		bench_die("fork failed");
	return pid;
}

static void measure(struct bench_run *run, const char *dir, int rounds, struct figures *out)
{
	char data[4200], name[64];
	struct err e = { 0 };
	struct ring *r = NULL;
	struct ring_lane *lane;
	snprintf(data, sizeof data, "%s/data", dir);
	pid_t pid = start_stored(run, data);
	ring_name_for_dir(data, name, sizeof name);
	for (int i = 0; i < 200 && ring_producer_open(name, &r, &e) != 0; i++)
		usleep(50000);
	if (!r || ring_lane_attach(r, &lane, &e) != 0)
		bench_die("rmon-stored: %s", e.msg);
	char series[SERIES_NAME_MAX + 1];
	uint64_t id;
	int len = series_canonical(series, sizeof series, "bench", "bench_drain", NULL, 0, &e);
	if (len < 0 || series_insert(ring_series(r), series, (size_t)len, &id, &e) != 0)
		bench_die("%s", e.msg);
	usleep(1000000); /* past start-up */

	double cpu = procstat_cpu_seconds(pid);
	int64_t start = rtime_mono_ns();
	usleep(3000000);
	out->idle_cpu =
	    (procstat_cpu_seconds(pid) - cpu) / ((double)(rtime_mono_ns() - start) / 1e9);

	int64_t *lat = malloc((size_t)rounds * sizeof *lat);
	if (!lat)
		bench_die("out of memory");
	srand(1);
	cpu = procstat_cpu_seconds(pid);
	start = rtime_mono_ns();
	for (int i = 0; i < rounds; i++) {
		usleep((useconds_t)(1000 + rand() % 19000));
		struct ring_stats st;
		ring_get_stats(r, &st);
		uint64_t released = st.released;
		struct sample s = { id, rtime_now_ns(), (double)i };
		int64_t t0 = rtime_mono_ns();
		if (ring_push(lane, &s) != 0)
			bench_die("the ring is full");
		do
			ring_get_stats(r, &st);
		while (st.released == released && rtime_mono_ns() - t0 < RTIME_NS_PER_SEC);
		lat[i] = rtime_mono_ns() - t0;
	}
	out->busy_cpu =
	    (procstat_cpu_seconds(pid) - cpu) / ((double)(rtime_mono_ns() - start) / 1e9);
	out->p50 = bench_quantile(lat, (size_t)rounds, 0.50);
	out->p99 = bench_quantile(lat, (size_t)rounds, 0.99);
	free(lat);
	ring_close(r);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	ring_unlink(name, NULL);
	bench_remove_tree(data);
}

/* The floor under a drain: one fdatasync of a small append on this disk. */
static void fdatasync_floor(struct bench_run *run, int n, int64_t *p50)
{
	char path[4200];
	uint8_t block[64];
	int64_t *lat = malloc((size_t)n * sizeof *lat);
	snprintf(path, sizeof path, "%s/fdatasync-floor", bench_scratch(run));
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || !lat || posix_fallocate(fd, 0, (off_t)n * (off_t)sizeof block) != 0)
		bench_die("%s: cannot write", path);
	memset(block, 0x5a, sizeof block);
	fdatasync(fd);
	for (int i = 0; i < n; i++) {
		int64_t start = rtime_mono_ns();
		if (pwrite(fd, block, sizeof block, (off_t)i * (off_t)sizeof block) !=
			(ssize_t)sizeof block ||
		    fdatasync(fd) != 0)
			bench_die("%s: cannot write", path);
		lat[i] = rtime_mono_ns() - start;
	}
	close(fd);
	unlink(path);
	*p50 = bench_quantile(lat, (size_t)n, 0.50);
	free(lat);
}

void store_drain(struct bench_run *run, int rounds)
{
	struct figures f = { 0 };
	int64_t floor_p50;
	measure(run, bench_scratch(run), rounds, &f);
	fdatasync_floor(run, 200, &floor_p50);
	struct bench_table *t = bench_table(run,
					    "store: rmon-stored --listen drains the ring, one "
					    "sample at random 1-20 ms gaps, %d rounds",
					    rounds);
	bench_figure(t, "idle", f.idle_cpu * 100, "% of a core");
	bench_figure(t, "ring push to durable release, p50", bench_ms(f.p50), "ms");
	bench_figure(t, "ring push to durable release, p99", bench_ms(f.p99), "ms");
	bench_figure(t, "fdatasync of a 64-byte append, p50 (the floor)", bench_ms(floor_p50),
		     "ms");
	bench_figure(t, "CPU while a sample comes every 1-20 ms", f.busy_cpu * 100, "% of a core");
}

/* Every record of the three resolutions visited with a cursor, keys
 * parsed: the least a whole-database retention pass costs. */
static size_t walk_all(const char *dir)
{
	MDB_env *env;
	MDB_txn *txn;
	size_t n = 0;
	if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 8) ||
	    mdb_env_open(env, dir, MDB_RDONLY | MDB_NOTLS, 0600) ||
	    mdb_txn_begin(env, NULL, MDB_RDONLY, &txn))
		die("cannot open LMDB", NULL);
	for (int r = 0; r < 3; r++) {
		MDB_dbi dbi;
		MDB_cursor *cur;
		MDB_val k, v;
		if (mdb_dbi_open(txn, layout_db_names[r], 0, &dbi) ||
		    mdb_cursor_open(txn, dbi, &cur))
			die("cannot open a database", NULL);
		for (int got = mdb_cursor_get(cur, &k, &v, MDB_FIRST); got == 0;
		     got = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			uint64_t id;
			int64_t start;
			layout_key_parse(k.mv_data, &id, &start);
			n += start != INT64_MIN;
		}
		mdb_cursor_close(cur);
	}
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return n;
}

void store_retention(struct bench_run *run, long series, long chunks)
{
	char dir[4200];
	snprintf(dir, sizeof dir, "%s/retention", bench_scratch(run));
	struct db_config c;
	db_config_default(&c);
	struct db *db;
	struct err e = { 0 };
	if (db_open(dir, &c, false, &db, &e) != 0)
		die("db_open", &e);
	/* One sample every 2 h: each closes the chunk before it. */
	const int64_t t0 = INT64_C(1764000000) * RTIME_NS_PER_SEC;
	for (long s = 0; s < series; s++) {
		char name[48];
		int len = snprintf(name, sizeof name, "h/m{s=\"%ld\"}", s);
		if (db_register_series(db, (uint64_t)s + 1, name, (size_t)len, &e) != 0)
			die("register", &e);
		for (long k = 0; k <= chunks; k++) {
			struct sample x = { (uint64_t)s + 1, t0 + k * 2 * HOUR, (double)k };
			if (db_append(db, &x, 1, &e) != 0)
				die("append", &e);
		}
		if ((s + 1) % 1000 == 0 && db_commit(db, (uint64_t)s + 1, &e) != 0)
			die("commit", &e);
	}
	if (db_commit(db, (uint64_t)series + 1, &e) != 0)
		die("commit", &e);
	int64_t now = t0 + chunks * 2 * HOUR; /* nothing expired yet: the usual checkpoint */

	int64_t began = rtime_mono_ns();
	size_t records = walk_all(dir);
	double walk_ms = (double)(rtime_mono_ns() - began) / 1e6;

	/* Checkpoints a minute apart, nothing to expire: passes start every
	 * DB_RETENTION_EVERY_NS, the calls in between do nothing. */
	int checkpoints = 60, calls = 0;
	double total_ms = 0, worst_ms = 0;
	for (int i = 1; i <= checkpoints; i++) {
		int64_t t = now + i * 60 * RTIME_NS_PER_SEC;
		began = rtime_mono_ns();
		if (db_apply_retention(db, t, &e) != 0)
			die("retention", &e);
		double ms = (double)(rtime_mono_ns() - began) / 1e6;
		total_ms += ms;
		calls += ms > 0.05; /* one that did work */
		worst_ms = ms > worst_ms ? ms : worst_ms;
	}
	double call_ms = total_ms / checkpoints;
	/* Then everything but the heads expires: calls until it is all gone. */
	int64_t later = now + c.retention_1h_ns + 400 * 24 * HOUR;
	began = rtime_mono_ns();
	int passes = 0;
	size_t before = records + 1;
	for (size_t left = records; left < before || passes < 3; passes++) {
		if (db_apply_retention(db, later, &e) != 0)
			die("retention", &e);
		if (passes % 4 == 3) { /* looking costs a walk: only now and then */
			before = left;
			left = walk_all(dir);
		}
	}
	double expire_ms = (double)(rtime_mono_ns() - began) / 1e6;
	size_t remaining = walk_all(dir);
	db_close(db);
	bench_remove_tree(dir);

	struct bench_table *t = bench_table(
	    run, "store: retention, %zu records (%ld series x %ld chunks, and their rollups)",
	    records, series, chunks);
	bench_figure(t, "walk over every record (baseline: what a whole pass costs)", walk_ms,
		     "ms");
	bench_figure(t, "retention a checkpoint, nothing to expire (average)", call_ms, "ms");
	bench_ratio(t, "  against the walk", walk_ms, call_ms, "walk", 0);
	bench_figure(t, "  checkpoints of 60 that did work", (double)calls, "checkpoints");
	bench_figure(t, "  the longest", worst_ms, "ms");
	bench_figure(t, "expiring all but the heads", expire_ms, "ms");
	bench_figure(t, "  calls", (double)passes, "calls");
	bench_figure(t, "  records left (the heads)", (double)remaining, "records");
}
