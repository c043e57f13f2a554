/* drainer.h - the heart of rmon-stored: drains the shared-memory ring into
 * the write-ahead log and the LMDB state, in that order.
 *
 * Each step peeks a batch from the ring, writes any series it has not seen
 * and the samples to the WAL, waits until they are durable (group commit),
 * and only then releases the ring slots and applies the batch to the
 * in-memory chunks.  About every second it commits LMDB (without fsync) so
 * readers see new data, on a thread of the database's own (db.h,
 * db_commit_start): the next commit begins once the last is written, and
 * the WAL holds what it has not written yet.  Every checkpoint interval
 * LMDB is synced behind a commit and WAL segments no longer needed go.  On open it replays the WAL
 * from the position LMDB last recorded, so a kill -9 at any moment loses nothing that was released
 * from the ring and stores nothing twice.
 *
 * Other sources of samples (the network ingest server) feed the same path:
 * drainer_add writes them to the WAL, drainer_sync makes everything added
 * durable in one group commit (then they may be acknowledged), and
 * drainer_submit does both.
 */
#ifndef RMON_DRAINER_H
#define RMON_DRAINER_H

#include <stdint.h>

#include "lib/err.h"
#include "lib/series_name.h"
#include "shmring/ring.h"
#include "store/db.h"
#include "store/wal.h"

struct drainer_config {
	const char *data_dir;
	const char *host;	 /* host name for the store's own series (rmon_*) */
	struct ring_config ring; /* .name is derived from data_dir when NULL */
	struct wal_config wal;
	struct db_config db;
	int64_t commit_interval_ns;	/* LMDB commit; default 1 s */
	int64_t checkpoint_interval_ns; /* LMDB sync + WAL trim; default 60 s */
	int64_t self_interval_ns;	/* the store's own metrics; default 10 s */
	uint32_t batch;			/* samples per ring peek; default 16384 */
	/* Called with news the person should see (disk full, space back);
	 * NULL to ignore them.  The program logs them. */
	void (*notice)(const char *message);
	/* A relay forwards what it stores: on_series is called for each series
	 * met for the first time, on_durable with each batch once durable.
	 * NULL when not relaying. */
	void (*on_series)(void *ctx, uint64_t id, const char *name, size_t len);
	void (*on_durable)(void *ctx, const struct sample *s, size_t n);
	void *forward_ctx;
};

void drainer_config_default(struct drainer_config *c, const char *data_dir);

struct drainer;

/* Creates the data folder layout (wal/, db/), opens LMDB and the WAL,
 * replays the WAL into LMDB, and becomes the ring's consumer.  *out is
 * the caller's: drainer_close it. */
int drainer_open(const struct drainer_config *c, struct drainer **out, struct err *e);

/* Drains what the ring holds (waiting up to timeout_ms for something; 0
 * does not wait) and
 * runs the periodic work that is due.  Returns 0, or an error that stops
 * draining: a full disk is not one of them (it is logged, the batch is
 * kept, and the next step retries). */
int drainer_step(struct drainer *d, int timeout_ms, struct err *e);

/* Waits until the commit drainer_step began is written, and takes its
 * outcome as the next step would (a full disk pauses commits): readers
 * see what was stored before the step.  For tests and tools. */
int drainer_wait_commit(struct drainer *d, struct err *e);

/* Writes n samples of other origin to the WAL, registering names[i]
 * (canonical, NUL-terminated; names or names[i] NULL when the id is known)
 * first.  A name breaking the name rules is -EINVAL (series_name_check's
 * message), an id never defined is -ENOENT, and nothing is added; while the
 * disk is full it is -EAGAIN (see drainer_accepting). */
int drainer_add(struct drainer *d, const struct sample *s, size_t n, const char *const *names,
		struct err *e);

/* drainer_add of samples whose series are all defined, with each one's
 * series as far as the caller knows it: series[i] NULL is looked up and
 * filled in.  A series stays where it is while the store is open, so the
 * caller may keep them (ingest does, a connection's series by place). */
int drainer_add_found(struct drainer *d, const struct sample *s, size_t n,
		      struct db_series **series, struct err *e);

/* Registers one series name (canonical, NUL-terminated) under id:
 * -EEXIST when id names another series (known ids are compared too). */
int drainer_define(struct drainer *d, uint64_t id, const char *name, struct err *e);
bool drainer_knows(struct drainer *d, uint64_t id);

/* Makes everything added durable (one WAL group commit) and applies it.
 * 0 when all of it is durable, -ENOSPC while the disk is full (it is kept
 * and made durable once space returns), or another error. */
int drainer_sync(struct drainer *d, struct err *e);

/* False while the disk is full: do not add. */
bool drainer_accepting(struct drainer *d);

/* drainer_add, then drainer_sync. */
int drainer_submit(struct drainer *d, const struct sample *s, size_t n, const char *const *names,
		   struct err *e);

/* A value of one of the store's own series (rmon_*: no labels, the
 * host of drainer_config.host). */
struct drainer_metric {
	const char *metric;
	double value;
};

#define DRAINER_RECORD_MAX 16 /* values drainer_record takes at once */

/* drainer_submit of the n values (at most DRAINER_RECORD_MAX), timestamped
 * now, as the store's own series: how the drainer records its figures
 * (rmon_store_*) and the programs theirs (rmon_ingest_*, rmon_relay_*). */
int drainer_record(struct drainer *d, const struct drainer_metric *m, size_t n, struct err *e);

/* drainer_record with one label on every value (one sender of several:
 * remote="vm"); label NULL is drainer_record. */
int drainer_record_labelled(struct drainer *d, const struct series_label *label,
			    const struct drainer_metric *m, size_t n, struct err *e);

/* Final commit and checkpoint, then closes everything.  Returns the first
 * error met (the drainer is freed either way). */
int drainer_close(struct drainer *d, struct err *e);

struct drainer_stats {
	uint64_t samples;		      /* made durable and applied */
	uint64_t batches;		      /* WAL group commits */
	uint64_t unknown_series;	      /* samples dropped: id not in the series table */
	uint64_t refused_series;	      /* samples dropped: id collision, name unwritable
					       * or breaking the name rules */
	uint64_t bad_names;		      /* of those, samples whose ring name breaks the
					       * name rules (lib/series_name.h) */
	int64_t commit_p50_ns, commit_p99_ns; /* peek to durable, recent batches */
	bool disk_full;			      /* draining is stopped until space returns */
	bool db_full;			      /* LMDB commits wait for space (WAL keeps all) */
	bool io_uring;
	bool direct_io; /* the WAL is written with O_DIRECT */
};

/* Computes the latency percentiles too (a sort): not for every step. */
void drainer_get_stats(struct drainer *d, struct drainer_stats *out);

/* Samples applied so far, cheaply: whether a step drained something. */
uint64_t drainer_samples(struct drainer *d);

#endif
