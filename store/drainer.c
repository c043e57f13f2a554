/* drainer.c - ring -> WAL -> LMDB, with recovery; see drainer.h. */
#include "store/drainer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/escape.h"
#include "lib/grow.h"
#include "lib/rtime.h"
#include "lib/series_name.h"
#include "shmring/series.h"
#include "store/commit_signal.h"

#define LATENCY_SLOTS 1024
#define APPLY_SLICE   2048 /* samples filled into heads between looks at the disk */

struct drainer {
	struct drainer_config config;
	char ring_name[64];
	struct ring *ring;
	struct wal *wal;
	struct db *db;
	struct commit_signal *signal; /* where readers learn that a disk is full */
	struct sample *batch;
	struct db_series **series;     /* of each sample of batch */
	size_t pending;		       /* samples peeked whose WAL commit failed: retried */
	bool pending_applied;	       /* ... and already in the head chunks */
	struct sample *net;	       /* samples added (drainer_add), not yet durable */
	struct db_series **net_series; /* of each of them, looked up once */
	size_t n_net, net_cap, net_series_cap, net_applied;
	int64_t net_since;
	int64_t pending_since;
	int64_t last_commit, last_checkpoint, last_self;
	struct drainer_stats stats;
	int64_t latencies[LATENCY_SLOTS]; /* peek-to-durable, a ring of recent batches */
	size_t n_latencies;
	uint64_t last_self_samples;
	char self_host[256];
};

void drainer_config_default(struct drainer_config *c, const char *data_dir)
{
	memset(c, 0, sizeof *c);
	c->data_dir = data_dir;
	ring_config_default(&c->ring, NULL);
	wal_config_default(&c->wal);
	db_config_default(&c->db);
	c->commit_interval_ns = RTIME_NS_PER_SEC;
	c->checkpoint_interval_ns = 60 * RTIME_NS_PER_SEC;
	c->self_interval_ns = 10 * RTIME_NS_PER_SEC;
	c->batch = 16384;
}

/* ---- recovery ---- */

static int replay_record(void *ctx, enum wal_record_type type, const void *payload, size_t len,
			 uint64_t end, struct err *e)
{
	struct drainer *d = ctx;
	if (type == WAL_SERIES) {
		uint64_t id;
		memcpy(&id, payload, sizeof id);
		int rc = db_register_series(d->db, id, (const char *)payload + 8, len - 8, e);
		return rc == -EEXIST ? 0 : rc; /* refused then, refused now */
	}
	/* Samples of a refused id were never written, so every id is known. */
	return db_append(d->db, payload, len / sizeof(struct sample), e);
}

static int recover(struct drainer *d, struct err *e)
{
	uint64_t from = db_applied_position(d->db);
	int rc = wal_replay(d->wal, from, replay_record, d, e);
	if (rc == 0)
		rc = db_commit(d->db, wal_end(d->wal), e);
	if (rc == 0)
		rc = db_checkpoint(d->db, e);
	if (rc == 0)
		rc = wal_truncate_before(d->wal, db_applied_position(d->db), e);
	return rc;
}

int drainer_open(const struct drainer_config *c, struct drainer **out, struct err *e)
{
	struct drainer *d = calloc(1, sizeof *d);
	char path[4096];
	int rc;
	if (!d)
		return err_set(e, -ENOMEM, "drainer: out of memory");
	d->config = *c;
	d->batch = malloc(c->batch * sizeof *d->batch);
	d->series = malloc(c->batch * sizeof *d->series);
	if (!d->batch || !d->series) {
		free(d->batch);
		free(d->series);
		free(d);
		return err_set(e, -ENOMEM, "drainer: out of memory");
	}
	snprintf(d->self_host, sizeof d->self_host, "%s", c->host ? c->host : "localhost");
	if (mkdir(c->data_dir, 0700) != 0 && errno != EEXIST) {
		rc = err_sys(e, -errno, "cannot create data folder %s", c->data_dir);
		goto fail;
	}
	snprintf(path, sizeof path, "%s/db", c->data_dir);
	if ((rc = db_open(path, &c->db, false, &d->db, e)) != 0 ||
	    (rc = commit_signal_create(path, &d->signal, e)) != 0)
		goto fail;
	commit_signal_set_state(d->signal, 0); /* a store killed while paused set it */
	snprintf(path, sizeof path, "%s/wal", c->data_dir);
	if ((rc = wal_open(path, &c->wal, &d->wal, e)) != 0 || (rc = recover(d, e)) != 0)
		goto fail;
	struct ring_config ring = c->ring;
	if (!ring.name) {
		ring_name_for_dir(c->data_dir, d->ring_name, sizeof d->ring_name);
		ring.name = d->ring_name;
	}
	if ((rc = ring_consumer_open(&ring, &d->ring, e)) != 0)
		goto fail;
	struct wal_stats ws;
	wal_get_stats(d->wal, &ws);
	d->stats.io_uring = ws.io_uring;
	d->stats.direct_io = ws.direct_io;
	d->last_commit = d->last_checkpoint = d->last_self = rtime_mono_ns();
	*out = d;
	return 0;
fail:
	drainer_close(d, NULL);
	return rc;
}

/* ---- draining ---- */

/* Tells readers (rmon stats) whether a full disk keeps the store from
 * storing: they cannot see it in LMDB, which is not committed meanwhile. */
static void publish_state(struct drainer *d)
{
	commit_signal_set_state(d->signal, (d->stats.db_full ? COMMIT_SIGNAL_DB_FULL : 0) |
					       (d->stats.disk_full ? COMMIT_SIGNAL_WAL_FULL : 0));
}

static void record_latency(struct drainer *d, int64_t ns)
{
	d->latencies[d->n_latencies++ % LATENCY_SLOTS] = ns;
}

/* A name from the ring breaks the name rules (an agent on this host wrote
 * it; the network's are checked by ingest): its samples are dropped and
 * counted, the first such name is logged, escaped, and the rest counted.
 * Checked before the WAL, so no record of it is written. */
static void refuse_name(struct drainer *d, const char *name, size_t len, const struct err *why)
{
	d->stats.refused_series++;
	if (d->stats.bad_names++ == 0 && d->config.notice) {
		char quoted[300], msg[1024];
		escape(ESCAPE_LOG, quoted, sizeof quoted, name, len);
		snprintf(msg, sizeof msg,
			 "series %s from the local ring refused, its samples dropped (the rest "
			 "are counted): %s",
			 quoted, why->msg);
		d->config.notice(msg);
	}
}

/* Writes the names of ids met for the first time and notes each sample's
 * series; returns how many of the batch's samples remain (samples of
 * unknown or refused ids are dropped). */
static size_t register_new(struct drainer *d, struct sample *s, size_t n)
{
	size_t kept = 0;
	db_find_series(d->db, s, n, d->series);
	for (size_t i = 0; i < n; i++) {
		struct db_series *series = d->series[i];
		if (!series) {
			const char *name;
			int len = series_lookup(ring_series(d->ring), s[i].id, &name);
			if (len < 0) {
				d->stats.unknown_series++;
				continue;
			}
			struct err local = { 0 };
			if (series_name_check(name, (size_t)len, &local) != 0) {
				refuse_name(d, name, (size_t)len, &local);
				continue;
			}
			/* The WAL first: a name the database holds must have its record
			 * there, or samples of it replayed after a crash would find no
			 * name. A record whose name is then refused replays as refused. */
			if (wal_append_series(d->wal, s[i].id, name, (size_t)len, &local) != 0 ||
			    db_register_series(d->db, s[i].id, name, (size_t)len, &local) != 0) {
				if (d->stats.refused_series++ == 0 && d->config.notice)
					d->config.notice(
					    local.msg); /* the first; the rest are counted */
				continue;
			}
			if (d->config.on_series)
				d->config.on_series(d->config.forward_ctx, s[i].id, name,
						    (size_t)len);
			series = db_series(d->db, s[i].id);
		}
		d->series[kept] = series;
		s[kept++] = s[i];
	}
	return kept;
}

/* Samples go into the head chunks while the disk writes them to the WAL:
 * only in memory until then, and written to LMDB by db_commit, which runs
 * only after the commit ended.  Should the WAL write fail, they stay in
 * the ring (or unacked by their agent) and come again: the store skips
 * samples it already holds, so nothing is stored twice. */
static int apply_heads(struct drainer *d, struct err *e)
{
	int rc = 0;
	if (d->n_net > d->net_applied) {
		rc = db_append_to(d->db, d->net_series + d->net_applied, d->net + d->net_applied,
				  d->n_net - d->net_applied, e);
		d->net_applied = d->n_net;
	}
	/* In slices, looking in between whether the disk is done, so the
	 * latency recorded is the commit's, not the time filling took. */
	for (size_t at = 0; rc == 0 && d->pending > 0 && !d->pending_applied; at += APPLY_SLICE) {
		size_t n = d->pending - at < APPLY_SLICE ? d->pending - at : APPLY_SLICE;
		rc = db_append_to(d->db, d->series + at, d->batch + at, n, e);
		wal_commit_done(d->wal);
		d->pending_applied = at + n == d->pending;
	}
	return rc;
}

/* Durable samples are counted, and handed to the relay if any. */
static void durable(struct drainer *d, const struct sample *s, size_t n, int64_t since)
{
	record_latency(d, wal_durable_ns(d->wal) - since);
	if (d->config.on_durable)
		d->config.on_durable(d->config.forward_ctx, s, n);
	d->stats.samples += n;
}

/* A disk filled (flag is which): the state is published for readers, and
 * said once, when it begins. */
static void enter_full(struct drainer *d, bool *flag, const char *what, const char *detail)
{
	bool was_full = *flag;
	*flag = true;
	publish_state(d); /* before the line: who reads it sees the state too */
	if (!was_full && d->config.notice) {
		char msg[700];
		snprintf(msg, sizeof msg, "%s: %s", what, detail);
		d->config.notice(msg);
	}
}

/* Commits the WAL, filling the head chunks meanwhile, and once durable
 * frees the ring slots.  A full disk keeps the batch pending for the next
 * try. */
static int make_durable(struct drainer *d, bool from_ring, struct err *e)
{
	uint64_t end;
	int rc = wal_commit_begin(d->wal, e);
	int applied = rc == 0 ? apply_heads(d, e) : 0;
	if (rc == 0)
		rc = wal_commit_end(d->wal, &end, applied == 0 ? e : NULL);
	if (applied != 0)
		return applied;
	if (rc == -ENOSPC || rc == -EDQUOT) {
		enter_full(d, &d->stats.disk_full,
			   "disk full, draining stopped until space returns (agents count drops "
			   "meanwhile)",
			   e ? e->msg : "");
		return 0;
	}
	if (rc != 0)
		return rc;
	bool was_full = d->stats.disk_full;
	d->stats.disk_full = false;
	publish_state(d); /* before the line: who reads it sees the state too */
	if (was_full && d->config.notice)
		d->config.notice("disk space is back, draining again");
	d->stats.batches++;
	if (d->n_net > 0) /* network samples went into the WAL before this batch */
		durable(d, d->net, d->n_net, d->net_since);
	if (d->pending > 0)
		durable(d, d->batch, d->pending, d->pending_since);
	d->n_net = d->net_applied = d->pending = 0;
	d->pending_applied = false;
	/* Released only now, after a relay spooled the batch too. */
	if (from_ring)
		ring_release(d->ring);
	return 0;
}

static int compare_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static void latency_percentiles(struct drainer *d)
{
	size_t n = d->n_latencies < LATENCY_SLOTS ? d->n_latencies : LATENCY_SLOTS;
	static int64_t sorted[LATENCY_SLOTS];
	if (n == 0)
		return;
	memcpy(sorted, d->latencies, n * sizeof *sorted);
	qsort(sorted, n, sizeof *sorted, compare_i64);
	d->stats.commit_p50_ns = sorted[n / 2];
	d->stats.commit_p99_ns = sorted[n * 99 / 100];
}

static int record_at(struct drainer *d, int64_t now_ns, const struct series_label *label,
		     const struct drainer_metric *m, size_t n, struct err *e)
{
	struct sample samples[DRAINER_RECORD_MAX];
	const char *names[DRAINER_RECORD_MAX];
	char buf[DRAINER_RECORD_MAX][SERIES_NAME_MAX + 1];
	if (n > DRAINER_RECORD_MAX)
		return err_set(e, -E2BIG, "drainer: %zu of the store's own series at once", n);
	for (size_t i = 0; i < n; i++) {
		struct series_label copy = label ? *label : (struct series_label){ NULL, NULL };
		int len = series_canonical(buf[i], sizeof buf[i], d->self_host, m[i].metric,
					   label ? &copy : NULL, label ? 1 : 0, e);
		if (len < 0)
			return len;
		samples[i] = (struct sample){ series_id(buf[i], (size_t)len), now_ns, m[i].value };
		names[i] = buf[i];
	}
	return drainer_submit(d, samples, n, names, e);
}

int drainer_record(struct drainer *d, const struct drainer_metric *m, size_t n, struct err *e)
{
	return record_at(d, rtime_now_ns(), NULL, m, n, e);
}

int drainer_record_labelled(struct drainer *d, const struct series_label *label,
			    const struct drainer_metric *m, size_t n, struct err *e)
{
	return record_at(d, rtime_now_ns(), label, m, n, e);
}

/* The store's own series: written straight to the WAL and LMDB. */
static int record_self(struct drainer *d, int64_t now_ns, double elapsed_s, struct err *e)
{
	struct ring_stats rs;
	struct wal_stats ws;
	struct db_stats ds;
	ring_get_stats(d->ring, &rs);
	wal_get_stats(d->wal, &ws);
	db_get_stats(d->db, &ds, NULL);
	latency_percentiles(d);
	const struct drainer_metric values[] = {
		{ "rmon_store_samples_total", (double)d->stats.samples },
		{ "rmon_store_ingest_samples_per_second",
		  (double)(d->stats.samples - d->last_self_samples) / elapsed_s },
		{ "rmon_store_commit_p99_seconds", (double)d->stats.commit_p99_ns / 1e9 },
		{ "rmon_store_wal_bytes", (double)ws.bytes_on_disk },
		{ "rmon_store_lmdb_bytes", (double)ds.file_bytes },
		{ "rmon_store_series", (double)ds.series },
		{ "rmon_store_lmdb_commit_seconds", (double)ds.commit_ns / 1e9 },
		{ "rmon_store_lmdb_commit_series", (double)ds.commit_series },
		{ "rmon_ring_dropped_total", (double)rs.dropped_full },
		{ "rmon_ring_lost_total", (double)rs.lost_dead },
		{ "rmon_store_unknown_series_samples_total", (double)d->stats.unknown_series },
		{ "rmon_store_refused_series_samples_total", (double)d->stats.refused_series },
	};
	d->last_self_samples = d->stats.samples;
	return record_at(d, now_ns, NULL, values, sizeof values / sizeof values[0], e);
}

/* LMDB's file system is full: commits pause and are retried each commit
 * interval. What they would write stays in memory and its samples in the
 * WAL, so acknowledged samples stay safe; readers see them once it passes. */
static int commit_paused(struct drainer *d, int rc, const struct err *why)
{
	if (rc == -ENOSPC) {
		enter_full(d, &d->stats.db_full,
			   "database disk full, commits paused until space returns (samples are "
			   "kept in the WAL)",
			   why->msg);
		return 0;
	}
	bool was_full = d->stats.db_full;
	if (rc == 0)
		d->stats.db_full = false;
	publish_state(d);
	if (rc == 0 && was_full && d->config.notice)
		d->config.notice("database disk space is back, commits resumed");
	return rc;
}

/* How the last commit of the database's thread ended. */
static int commit_outcome(struct drainer *d, struct err *e)
{
	struct err why = { 0 };
	int rc = db_commit_result(d->db, &why);
	if (rc == 1) /* none ended since the last look */
		return 0;
	rc = commit_paused(d, rc, &why);
	if (rc != 0 && e)
		*e = why;
	return rc;
}

int drainer_wait_commit(struct drainer *d, struct err *e)
{
	db_commit_wait(d->db);
	return commit_outcome(d, e);
}

static int periodic(struct drainer *d, struct err *e)
{
	int64_t now = rtime_mono_ns();
	int rc = 0;
	if (now - d->last_self >= d->config.self_interval_ns && !d->stats.disk_full) {
		rc = record_self(d, rtime_now_ns(), (double)(now - d->last_self) / 1e9, e);
		d->last_self = now;
	}
	/* The commit is written on the database's own thread: the WAL keeps
	 * what it has not written yet, so this loop goes on taking and acking
	 * samples meanwhile, however many series a commit has to write.  The
	 * next begins once the last is done, as often as the interval allows. */
	if (rc == 0 && now - d->last_commit >= d->config.commit_interval_ns &&
	    !db_commit_running(d->db)) {
		rc = commit_outcome(d, e);
		/* LMDB is flushed behind the commit, then WAL segments before the
		 * synced position can go. */
		bool checkpoint = !d->stats.db_full &&
				  now - d->last_checkpoint >= d->config.checkpoint_interval_ns;
		if (rc == 0)
			rc = db_commit_start(d->db, wal_end(d->wal), checkpoint, e);
		if (rc == 0)
			rc = wal_truncate_before(d->wal, db_synced_position(d->db), e);
		if (checkpoint)
			d->last_checkpoint = now;
		d->last_commit = now;
	}
	return rc;
}

int drainer_step(struct drainer *d, int timeout_ms, struct err *e)
{
	int rc;
	if (d->pending > 0) {
		/* A batch waits for disk space: retry it, take nothing new. */
		if ((rc = make_durable(d, true, e)) != 0)
			return rc;
		if (d->pending > 0) {
			ring_wait(d->ring, 1000 < timeout_ms ? 1000 : timeout_ms);
			return periodic(d, e);
		}
	}
	size_t n = ring_peek(d->ring, d->batch, d->config.batch);
	if (n == 0 && timeout_ms > 0) {
		ring_wait(d->ring, timeout_ms);
		n = ring_peek(d->ring, d->batch, d->config.batch);
	}
	if (n > 0) {
		d->pending_since = rtime_mono_ns();
		d->pending = register_new(d, d->batch, n);
		if (d->pending > 0 &&
		    (rc = wal_append_samples(d->wal, d->batch, d->pending, e)) != 0) {
			/* Not in the WAL, so not into the heads either: the ring keeps
			 * the batch (unreleased) for the next start. */
			d->pending = 0;
			return rc;
		}
		if ((rc = make_durable(d, true, e)) != 0)
			return rc;
	}
	return periodic(d, e);
}

/* Registers the names of ids not known yet, in the WAL first. */
static int register_names(struct drainer *d, const struct sample *s, size_t n,
			  const char *const *names, struct err *e)
{
	int rc;
	for (size_t i = 0; names && i < n; i++) {
		if (!names[i] || db_knows_series(d->db, s[i].id))
			continue;
		size_t len = strlen(names[i]);
		/* ingest checked it already; a name reaches the WAL only valid */
		if ((rc = series_name_check(names[i], len, e)) != 0 ||
		    (rc = wal_append_series(d->wal, s[i].id, names[i], len, e)) != 0 ||
		    (rc = db_register_series(d->db, s[i].id, names[i], len, e)) != 0)
			return rc;
		if (d->config.on_series)
			d->config.on_series(d->config.forward_ctx, s[i].id, names[i], len);
	}
	return 0;
}

int drainer_define(struct drainer *d, uint64_t id, const char *name, struct err *e)
{
	/* A known id is compared with its name: ingest relies on it. */
	if (db_knows_series(d->db, id))
		return db_register_series(d->db, id, name, strlen(name), e);
	struct sample s = { .id = id };
	return register_names(d, &s, 1, &name, e);
}

bool drainer_knows(struct drainer *d, uint64_t id)
{
	return db_knows_series(d->db, id);
}

/* Room in d->net and d->net_series for n more samples, unless the disk
 * is full. */
static int net_room(struct drainer *d, size_t n, struct err *e)
{
	if (d->pending > 0 || d->stats.disk_full)
		return err_set(e, -EAGAIN, "drainer: the disk is full, nothing can be stored now");
	if (n == 0)
		return 0;
	if (!grow_array_from(&d->net, &d->net_cap, d->n_net + n, sizeof *d->net, 4096) ||
	    !grow_array_from(&d->net_series, &d->net_series_cap, d->n_net + n,
			     sizeof *d->net_series, 4096))
		return err_set(e, -ENOMEM, "drainer: out of memory");
	return 0;
}

/* The samples, their series in d->net_series already, into the WAL and
 * the group commit under way. */
static int net_take(struct drainer *d, const struct sample *s, size_t n, struct err *e)
{
	int rc = wal_append_samples(d->wal, s, n, e);
	if (rc != 0)
		return rc;
	if (d->n_net == 0)
		d->net_since = rtime_mono_ns();
	memcpy(d->net + d->n_net, s, n * sizeof *s);
	d->n_net += n;
	return 0;
}

static int never_defined(struct err *e, uint64_t id)
{
	return err_set(e, -ENOENT, "drainer: series id %016llx was never defined",
		       (unsigned long long)id);
}

int drainer_add(struct drainer *d, const struct sample *s, size_t n, const char *const *names,
		struct err *e)
{
	int rc = net_room(d, n, e);
	if (rc != 0 || n == 0)
		return rc;
	/* Each sample's series looked up once, the look-ups overlapped: with
	 * a million series nearly every one is a cache miss. */
	struct db_series **series = d->net_series + d->n_net;
	db_find_series(d->db, s, n, series);
	for (size_t i = 0; i < n; i++)
		if (!series[i] && !(names && names[i]))
			return never_defined(e, s[i].id);
	if ((rc = register_names(d, s, n, names, e)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (!series[i])
			series[i] = db_series(d->db, s[i].id);
	return net_take(d, s, n, e);
}

int drainer_add_found(struct drainer *d, const struct sample *s, size_t n,
		      struct db_series **series, struct err *e)
{
	int rc = net_room(d, n, e);
	if (rc != 0 || n == 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (!series[i] && !(series[i] = db_series(d->db, s[i].id)))
			return never_defined(e, s[i].id);
	memcpy(d->net_series + d->n_net, series, n * sizeof *series);
	return net_take(d, s, n, e);
}

int drainer_sync(struct drainer *d, struct err *e)
{
	if (d->n_net == 0 && d->pending == 0)
		return 0;
	int rc = make_durable(d, d->pending > 0, e);
	if (rc != 0)
		return rc;
	return d->n_net > 0 ? -ENOSPC : 0;
}

bool drainer_accepting(struct drainer *d)
{
	return d->pending == 0 && !d->stats.disk_full;
}

int drainer_submit(struct drainer *d, const struct sample *s, size_t n, const char *const *names,
		   struct err *e)
{
	int rc = drainer_add(d, s, n, names, e);
	if (rc == 0 && (rc = drainer_sync(d, e)) == -ENOSPC)
		err_set(e, rc, "drainer: the disk is full, nothing can be stored now");
	return rc;
}

int drainer_close(struct drainer *d, struct err *e)
{
	int rc = 0;
	if (!d)
		return 0;
	if (d->db)
		db_commit_wait(d->db); /* what it failed with, the commit below writes again */
	if (d->db && d->wal && d->pending == 0 && d->n_net == 0) {
		rc = db_commit(d->db, wal_end(d->wal), e);
		if (rc == 0)
			rc = db_checkpoint(d->db, e);
		if (rc == 0)
			rc = wal_truncate_before(d->wal, db_applied_position(d->db), e);
	}
	if (d->signal)
		commit_signal_set_state(d->signal, 0);
	commit_signal_close(d->signal);
	ring_close(d->ring);
	wal_close(d->wal);
	db_close(d->db);
	free(d->batch);
	free(d->series);
	free(d->net);
	free(d->net_series);
	free(d);
	return rc;
}

void drainer_get_stats(struct drainer *d, struct drainer_stats *out)
{
	latency_percentiles(d);
	*out = d->stats;
}

uint64_t drainer_samples(struct drainer *d)
{
	return d->stats.samples;
}
