/* store_ingest.c - the store scenario's durable ingest, its disk floor, its
 * plain-LMDB baseline and bytes per sample; see store_parts.h. */
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/daemons.h"
#include "bench/fleet.h"
#include "bench/procstat.h"
#include "bench/store_parts.h"
#include "lib/rtime.h"
#include "lib/series_name.h"
#include "shmring/ring.h"
#include "shmring/series.h"
#include "store/codec.h"
#include "store/db.h"
#include "store/drainer.h"
#include "store/layout.h"

#define SEC RTIME_NS_PER_SEC

static double self_cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Round k of the data set: every series' sample at t0 + k intervals. */
static void fill_round(struct sample *batch, const uint64_t *ids, struct dataset *d, int64_t t0,
		       uint64_t k)
{
	for (uint32_t h = 0; h < d->hosts; h++)
		for (uint32_t s = 0; s < d->per_host; s++) {
			uint64_t i = (uint64_t)h * d->per_host + s;
			batch[i] = (struct sample){ ids[i], t0 + (int64_t)k * d->interval_ns,
						    dataset_value(d, h, s, ids[i], k) };
		}
}

/* The producer process: registers every series in the ring's table, then
 * pushes round after round as agents would, yielding on a full ring. */
static __attribute__((noreturn)) void producer(const char *data, struct dataset *d, uint64_t rounds,
					       int64_t t0)
{
	char ring_name[64], name[DATASET_NAME_MAX];
	struct ring *r;
	struct ring_lane *lane;
	uint64_t series = dataset_series(d);
	ring_name_for_dir(data, ring_name, sizeof ring_name);
	while (ring_producer_open(ring_name, &r, NULL) != 0)
		usleep(1000);
	if (ring_lane_attach(r, &lane, NULL) != 0)
		_exit(3);
	uint64_t *ids = malloc(series * sizeof *ids);
	struct sample *batch = malloc(series * sizeof *batch);
	if (!ids || !batch)
		_exit(4);
	for (uint32_t h = 0; h < d->hosts; h++)
		for (uint32_t s = 0; s < d->per_host; s++) {
			int len = dataset_name(d, h, s, name, sizeof name);
			if (series_insert(ring_series(r), name, (size_t)len,
					  &ids[(uint64_t)h * d->per_host + s], NULL) != 0)
				_exit(5);
		}
	for (uint64_t k = 0; k < rounds; k++) {
		fill_round(batch, ids, d, t0, k);
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

/* Chunk bytes (key and value) and samples of every chunk of an LMDB
 * folder; with closed_only, of closed chunks only (their flag byte 1). */
static void count_chunks(const char *path, bool closed_only, uint64_t *bytes, uint64_t *samples)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *cur;
	MDB_val k, v;
	*bytes = *samples = 0;
	if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 8) ||
	    mdb_env_open(env, path, MDB_RDONLY | MDB_NOTLS, 0600) ||
	    mdb_txn_begin(env, NULL, MDB_RDONLY, &txn))
		bench_die("cannot open the LMDB environment %s", path);
	if (mdb_dbi_open(txn, "chunks", 0, &dbi) || mdb_cursor_open(txn, dbi, &cur))
		bench_die("%s: no chunks database", path);
	while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
		const uint8_t *val = v.mv_data;
		if (v.mv_size < 1 || (closed_only && val[0] != 1))
			continue;
		*bytes += v.mv_size + k.mv_size;
		*samples += (uint64_t)codec_count(val + 1, v.mv_size - 1);
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	mdb_env_close(env);
}

/* The pages of every database of an LMDB folder in use (branch, leaf and
 * overflow): what it holds, without the free pages that copy-on-write
 * leaves in the file until they are reused (mdb_copy -c would drop them). */
static double live_bytes(const char *path)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi main_dbi;
	MDB_cursor *cur;
	MDB_val k, v;
	MDB_stat st;
	double bytes = 0;
	if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 64) ||
	    mdb_env_open(env, path, MDB_RDONLY | MDB_NOTLS, 0600) ||
	    mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) || mdb_dbi_open(txn, NULL, 0, &main_dbi) ||
	    mdb_cursor_open(txn, main_dbi, &cur))
		bench_die("cannot open the LMDB environment %s", path);
	if (mdb_stat(txn, main_dbi, &st) == 0)
		bytes += (double)(st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages) *
			 st.ms_psize;
	while (mdb_cursor_get(cur, &k, &v, MDB_NEXT_NODUP) == 0) {
		char name[128];
		MDB_dbi dbi;
		if (k.mv_size >= sizeof name)
			continue;
		memcpy(name, k.mv_data, k.mv_size);
		name[k.mv_size] = '\0';
		if (mdb_dbi_open(txn, name, 0, &dbi) == 0 && mdb_stat(txn, dbi, &st) == 0)
			bytes +=
			    (double)(st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages) *
			    st.ms_psize;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return bytes;
}

static double file_bytes(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (double)st.st_blocks * 512 : 0;
}

void store_ingest(struct bench_run *run, struct dataset *d, uint64_t rounds,
		  struct ingest_figures *out)
{
	char data[4200];
	uint64_t series = dataset_series(d);
	snprintf(data, sizeof data, "%s/ingest-%s", bench_scratch(run), d->tsbs ? "tsbs" : "agent");
	struct drainer_config c;
	drainer_config_default(&c, data);
	c.ring.series_capacity = (uint32_t)series * 2;
	c.ring.slots_per_lane = 65536;
	c.self_interval_ns = 3600 * SEC;
	struct drainer *dr;
	struct err e = { 0 };
	memset(out, 0, sizeof *out);
	/* Aligned to the interval and ending about now, inside every retention. */
	out->t0 = (rtime_now_ns() - (int64_t)rounds * d->interval_ns - 60 * SEC) / d->interval_ns *
		  d->interval_ns;
	long rss_before = procstat_kib(getpid(), "VmRSS:");
	if (drainer_open(&c, &dr, &e) != 0)
		bench_die("drainer: %s", e.msg);
	fflush(NULL);
	pid_t pid = bench_fork();
	if (pid < 0)
		bench_die("fork: %s", strerror(errno));
	if (pid == 0)
		producer(data, d, rounds, out->t0);
	struct drainer_stats st;
	int64_t start = 0, last_progress = 0, deadline = rtime_mono_ns() + 600 * SEC;
	double cpu = 0;
	uint64_t expected = series * rounds, done = 0;
	while (done < expected) {
		if (drainer_step(dr, 10, &e) != 0)
			bench_die("drainer: %s", e.msg);
		done = drainer_samples(dr);
		int64_t now = rtime_mono_ns();
		if (!start && done) {
			start = now;
			cpu = self_cpu_seconds();
		}
		if (start && now - last_progress > 250 * RTIME_NS_PER_MS) {
			double s = (double)(now - start) / 1e9;
			bench_progress(run, "durable ingest", s > 0 ? (double)done / s / 1e6 : 0,
				       "M samples/s", s, 0);
			last_progress = now;
		}
		int status;
		if (pid > 0 && waitpid(pid, &status, WNOHANG) == pid) {
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
				bench_die("the producer failed (status %#x)", status);
			pid = 0; /* everything is in the ring: drain it */
		}
		if (now > deadline)
			bench_die("only %llu of %llu samples stored within 600 s",
				  (unsigned long long)done, (unsigned long long)expected);
	}
	bench_progress_done(run);
	out->seconds = (double)(rtime_mono_ns() - start) / 1e9;
	out->cpu_s = self_cpu_seconds() - cpu;
	if (pid > 0) {
		waitpid(pid, NULL, 0);
	}
	drainer_get_stats(dr, &st);
	if (st.samples != expected)
		bench_die("the drainer stored %llu samples of %llu pushed",
			  (unsigned long long)st.samples, (unsigned long long)expected);
	out->samples = st.samples;
	out->rate = (double)st.samples / out->seconds;
	out->commits = st.batches;
	out->commit_p50 = st.commit_p50_ns;
	out->commit_p99 = st.commit_p99_ns;
	out->rss_growth_kib = procstat_kib(getpid(), "VmRSS:") - rss_before;
	if (drainer_close(dr, &e) != 0)
		bench_die("drainer: %s", e.msg);
	char ring[64], db[4300];
	ring_name_for_dir(data, ring, sizeof ring);
	ring_unlink(ring, NULL);
	uint64_t bytes, counted;
	snprintf(db, sizeof db, "%s/db", data);
	count_chunks(db, false, &bytes, &counted);
	out->chunk_bytes = counted ? (double)bytes / (double)counted : 0;
	out->live_bytes = live_bytes(db) / (double)out->samples;
	snprintf(db, sizeof db, "%s/db/data.mdb", data);
	out->file_bytes = file_bytes(db) / (double)out->samples;
	bench_remove_tree(data);
}

double store_disk_floor(struct bench_run *run, uint64_t samples, uint64_t commits)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/floor", bench_scratch(run));
	if (commits == 0)
		commits = 1;
	uint64_t total = samples * sizeof(struct sample) + commits * 16;
	size_t per = (size_t)(total / commits) + 1;
	uint8_t *buf = malloc(per);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (!buf || fd < 0)
		bench_die("%s: %s", path, strerror(errno));
	memset(buf, 0x5a, per);
	/* Preallocated, as the WAL's segments are: no metadata to sync. */
	if (posix_fallocate(fd, 0, (off_t)(per * commits)) != 0)
		bench_die("%s: cannot preallocate %llu bytes", path,
			  (unsigned long long)(per * commits));
	fdatasync(fd);
	int64_t start = rtime_mono_ns();
	for (uint64_t i = 0; i < commits; i++)
		if (pwrite(fd, buf, per, (off_t)(i * per)) != (ssize_t)per || fdatasync(fd) != 0)
			bench_die("%s: %s", path, strerror(errno));
	double seconds = (double)(rtime_mono_ns() - start) / 1e9;
	close(fd);
	unlink(path);
	free(buf);
	return (double)samples / seconds;
}

double store_plain_lmdb(struct bench_run *run, uint64_t series, uint64_t rounds)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/plain", bench_scratch(run));
	mkdir(path, 0700);
	MDB_env *env;
	MDB_dbi dbi;
	MDB_txn *txn;
	if (mdb_env_create(&env) ||
	    mdb_env_set_mapsize(env, (size_t)(series * rounds * 100) + (64 << 20)) ||
	    mdb_env_open(env, path, MDB_NOSYNC, 0600) || mdb_txn_begin(env, NULL, 0, &txn) ||
	    mdb_dbi_open(txn, NULL, 0, &dbi))
		bench_die("cannot open an LMDB environment in %s", path);
	int64_t start = rtime_mono_ns();
	size_t in_txn = 0;
	for (uint64_t k = 0; k < rounds; k++) {
		for (uint64_t s = 0; s < series; s++) {
			uint8_t key[LAYOUT_KEY_BYTES];
			double v = fleet_value(s, k);
			layout_key(key, series_id((const char *)&s, sizeof s), (int64_t)k * SEC);
			MDB_val kv = { sizeof key, key }, vv = { sizeof v, &v };
			if (mdb_put(txn, dbi, &kv, &vv, 0) != 0)
				bench_die("plain LMDB: mdb_put failed");
			if (++in_txn == 16384) {
				if (mdb_txn_commit(txn) || mdb_txn_begin(env, NULL, 0, &txn))
					bench_die("plain LMDB: commit failed");
				in_txn = 0;
			}
		}
	}
	if (mdb_txn_commit(txn))
		bench_die("plain LMDB: commit failed");
	double seconds = (double)(rtime_mono_ns() - start) / 1e9;
	mdb_env_close(env);
	bench_remove_tree(path);
	return (double)(series * rounds) / seconds;
}

double store_closed_bytes(struct bench_run *run, struct dataset *d, uint64_t rounds,
			  double *lmdb_file_bytes, double *lmdb_live_bytes)
{
	char path[4200], name[DATASET_NAME_MAX];
	snprintf(path, sizeof path, "%s/disk", bench_scratch(run));
	struct db_config c;
	db_config_default(&c);
	c.retention_raw_ns = c.retention_1m_ns = c.retention_1h_ns = INT64_MAX / 4;
	struct db *db;
	struct err e = { 0 };
	uint64_t series = dataset_series(d);
	if (db_open(path, &c, false, &db, &e) != 0)
		bench_die("db_open %s: %s", path, e.msg);
	uint64_t *ids = malloc(series * sizeof *ids);
	struct sample *batch = malloc(series * sizeof *batch);
	if (!ids || !batch)
		bench_die("out of memory");
	for (uint32_t h = 0; h < d->hosts; h++)
		for (uint32_t s = 0; s < d->per_host; s++) {
			int len = dataset_name(d, h, s, name, sizeof name);
			uint64_t i = (uint64_t)h * d->per_host + s;
			ids[i] = series_id(name, (size_t)len);
			if (db_register_series(db, ids[i], name, (size_t)len, &e) != 0)
				bench_die("%s", e.msg);
		}
	int64_t t0 =
	    (rtime_now_ns() - (int64_t)rounds * d->interval_ns) / (3600 * SEC) * 3600 * SEC;
	dataset_rewind(d);
	for (uint64_t k = 0; k < rounds; k++) {
		fill_round(batch, ids, d, t0, k);
		if (db_append(db, batch, series, &e) != 0)
			bench_die("%s", e.msg);
		if (k % 600 == 599 && db_commit(db, k, &e) != 0)
			bench_die("%s", e.msg);
	}
	if (db_commit(db, rounds, &e) != 0)
		bench_die("%s", e.msg);
	db_close(db);
	dataset_rewind(d);
	free(batch);
	free(ids);
	uint64_t bytes, samples;
	count_chunks(path, true, &bytes, &samples);
	*lmdb_live_bytes = live_bytes(path) / (double)(series * rounds);
	char file[4300];
	snprintf(file, sizeof file, "%s/data.mdb", path);
	*lmdb_file_bytes = file_bytes(file) / (double)(series * rounds);
	bench_remove_tree(path);
	return samples ? (double)bytes / (double)samples : 0;
}

double store_agent_bytes(struct bench_run *run, double seconds, uint64_t *samples_out)
{
	struct daemon store, agent;
	char db[4300];
	daemon_start_stored(run, &store, "real-agent", NULL);
	const char *argv[] = { "rmon-collectd", "--data", store.data, "--interval", "100ms", NULL };
	daemon_spawn(run, &agent, "real-agent-collectd", argv);
	usleep((useconds_t)(seconds * 1e6));
	kill(agent.pid, SIGTERM);
	waitpid(agent.pid, NULL, 0);
	agent.pid = 0;
	usleep(300000); /* the store drains what the agent pushed last */
	/* It commits LMDB on SIGTERM: its chunks are read once it exited. */
	kill(store.pid, SIGTERM);
	waitpid(store.pid, NULL, 0);
	store.pid = 0;
	uint64_t bytes;
	snprintf(db, sizeof db, "%s/db", store.data);
	count_chunks(db, false, &bytes, samples_out);
	char ring[64];
	ring_name_for_dir(store.data, ring, sizeof ring);
	ring_unlink(ring, NULL);
	bench_remove_tree(store.data);
	return *samples_out ? (double)bytes / (double)*samples_out : 0;
}
