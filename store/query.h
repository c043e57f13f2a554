/* query.h - the one way to read the store: used by alertd, reportgen and
 * the rmon command, each from its own process, while rmon-stored writes.
 *
 * A handle opens the LMDB environment "<data>/db" read-only and reads MVCC
 * snapshots that take no lock against the writer.  The writer commits
 * about every second; each commit that brought samples or names has the
 * next commit sequence (1, 2, 3 ...), stored in the same LMDB transaction
 * as the data, so a snapshot's sequence says exactly which data it holds.
 *
 * Snapshots.  Every reading call reads one snapshot: the one the caller
 * holds between query_begin and query_end, or else one of its own.  Hold
 * one across the calls of an evaluation pass or of a page, so they all see
 * the same commit.
 *
 * Following the writer.  query_wait sleeps until the next commit (a futex
 * on a page the writer publishes its sequence into after each commit, so
 * a waiting reader is woken within about a millisecond and never polls);
 * query_changed then names the series that received samples since the
 * sequence the reader last saw, late or replayed data included, and
 * query_latest gives their newest sample and current minute without
 * decoding a chunk.  A typical loop:
 *
 *     uint64_t seen = 0;                   (0: start with every series)
 *     for (;;) {
 *         query_begin(q, &e);
 *         uint64_t now = query_sequence(q);
 *         rc = query_changed(q, seen, on_changed, ctx, &e);   (-ESTALE: rescan)
 *         ... query_latest / query_range_multi of what changed ...
 *         query_end(q);
 *         seen = now;
 *         query_wait(q, seen, 1000, NULL, &e);                (or -ETIMEDOUT)
 *     }
 *
 * Selectors pick series by their canonical name host/metric{labels}:
 *
 *     web?/node_cpu_seconds_total{mode="idle",cpu=~"[0-3]"}
 *     node_memory_*                       (any host: no '/' means every host)
 *     db[12]/rmon_*{collector!="disk"}
 *
 * Host and metric are shell globs (* ? [...]); label matchers are
 * = (equal), != (not equal), =~ (matches) and !~ (does not match), with
 * POSIX extended regular expressions matched against the whole value.
 * A matcher on a label the series lacks compares against "".
 *
 * Times are ns since the Unix epoch.  Every function returns 0 or a
 * negative errno code and fills the caller's struct err (which may be
 * NULL) with a message naming what and where; LMDB's own codes never come
 * out.  Codes every reading call may return besides those listed:
 * -EIO (the store is damaged), -EAGAIN (LMDB's reader table is full, or
 * the store outgrew the 64 GiB this process maps while another of its
 * snapshots is open: end them and call again), -ENOMEM.
 *
 * A handle is used by one thread at a time: open one per thread (the
 * handles of a process share one LMDB environment per store, as LMDB
 * requires).  No call keeps static state, so all are reentrant.
 */
#ifndef RMON_QUERY_H
#define RMON_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

struct query;

/* ---- opening ---- */

/* Opens the store of data folder data_dir for reading.  *out is the
 * caller's: query_close it.  Errors: -ENOENT when no store exists there
 * yet (the message says to start rmon-stored), -EPROTO when its layout
 * version is not the one this program reads (the message names both),
 * -EACCES. */
int query_open(const char *data_dir, struct query **out, struct err *e);

/* Ends a held snapshot and closes the handle; q may be NULL. */
void query_close(struct query *q);

/* ---- snapshots ---- */

/* Holds a snapshot for the calls that follow, until query_end.  -EBUSY
 * when one is held already. */
int query_begin(struct query *q, struct err *e);

/* Lets the held snapshot go (nothing when none is held). */
void query_end(struct query *q);

/* The commit sequence of the held snapshot; without one, of the newest
 * commit (0 when the store never committed, or cannot be read). */
uint64_t query_sequence(struct query *q);

/* Waits until a commit newer than after_seq is published, at most
 * timeout_ms (negative: without limit); *seq (may be NULL) is then the
 * newest sequence.  Returns at once when one is newer already.  The
 * snapshot held, if any, does not move: query_end and query_begin to see
 * the new commit.  Errors: -ETIMEDOUT, -EINTR (a signal arrived: look at
 * your stop flag), -ENOENT (the store has no commit page: its writer is
 * of an older version). */
int query_wait(struct query *q, uint64_t after_seq, int timeout_ms, uint64_t *seq, struct err *e);

/* Calls fn for every series that received samples in a commit after
 * since_seq up to the snapshot's, each once, in no set order; late data
 * that lands in old windows (a spool replayed, a host back from an
 * outage) counts in the commit that stored it.  Because each
 * series only ever grows at its end, what changed in a series is exactly
 * its samples after the newest timestamp it had at since_seq.  The
 * writer keeps the changes of a horizon (default 1 h, [store]
 * changes_horizon): -ESTALE when since_seq is older than that, or older
 * than the store's upgrade, meaning: read everything again.  since_seq 0
 * on a store still within its horizon since its creation names every
 * series that has samples.  fn returns 0 to go on or a code that stops
 * and is returned.  Costs O(changes read), memory a bit per series. */
typedef int (*query_id_fn)(void *ctx, uint64_t id);
int query_changed(struct query *q, uint64_t since_seq, query_id_fn fn, void *ctx, struct err *e);

/* ---- latest values ---- */

/* The newest sample of a series and the summary of the 1-minute window
 * (aligned on whole minutes) it falls in, as the writer keeps them at
 * each commit. */
struct query_latest {
	int64_t first_ts; /* the oldest sample ever stored (retention may have removed it) */
	int64_t ts;	  /* the newest sample; INT64_MIN: no sample, or no such series */
	double value;	  /* NaN when ts is INT64_MIN */
	int64_t minute_start;
	double minute_min, minute_max, minute_avg, minute_count, minute_last;
	double minute_increase; /* counter rises as QUERY_INCREASE counts them */
};

/* Fills out[i] for ids[i], i < n, from one snapshot, decoding no chunk
 * (0.1 to 0.3 us a series).  An unknown id is not an error: its ts is
 * INT64_MIN. */
int query_latest(struct query *q, const uint64_t *ids, size_t n, struct query_latest *out,
		 struct err *e);

/* ---- selectors and listing ---- */

struct query_selector;

/* Parses a selector; *out is the caller's: query_selector_free it.
 * -EINVAL naming the character position and what was expected. */
int query_selector_parse(const char *text, struct query_selector **out, struct err *e);

void query_selector_free(struct query_selector *sel);

/* True when the canonical name (len bytes) matches the selector (NULL
 * matches everything). */
bool query_selector_match(const struct query_selector *sel, const char *name, size_t len);

/* Calls fn for every series matching sel (NULL matches all), in byte
 * order of their canonical names (so by host, then metric, then labels).
 * A selector naming one host without globs reads only that host's
 * series.  Stored names that break the name rules are skipped
 * (query_bad_names).  name is valid during the call only.  fn returns 0 to go on or
 * a code that stops the listing and is returned.  query_latest gives each
 * series' first and last timestamp. */
typedef int (*query_series_fn)(void *ctx, uint64_t id, const char *name, size_t len);
int query_series(struct query *q, const struct query_selector *sel, query_series_fn fn, void *ctx,
		 struct err *e);

/* How many stored names the last query_series skipped because they break
 * the name rules (lib/series_name.h): such a name, written by an older
 * store or a bug, is never handed out, so no output can be tricked by it. */
uint64_t query_bad_names(const struct query *q);

/* Copies the canonical name of series id into buf (cap bytes, NUL
 * terminated; SERIES_NAME_MAX + 1 always suffices) and returns its length.
 * -ENOENT when no series has that id, -ENAMETOOLONG when cap is short,
 * -EILSEQ when the stored name breaks the name rules. */
int query_series_name(struct query *q, uint64_t id, char *buf, size_t cap, struct err *e);

/* Calls fn once for every distinct value of label across the series
 * matching sel, in byte order, with the number of those series that have
 * it.  label "__host__" means the host part and "__name__" the metric, so
 * ("__host__", NULL) lists every host and ("mountpoint",
 * "web1/node_filesystem_size_bytes") every mount of host web1.  Series
 * without the label are not counted.  -EINVAL for an empty label. */
typedef int (*query_value_fn)(void *ctx, const char *value, size_t len, size_t series);
int query_label_values(struct query *q, const struct query_selector *sel, const char *label,
		       query_value_fn fn, void *ctx, struct err *e);

/* ---- reading samples ---- */

/* Calls fn for every stored sample of series id with from <= ts < to, in
 * time order.  Corrupt chunks are skipped and counted in *skipped (may be
 * NULL).  fn returns 0 to go on or a code that stops and is returned. */
typedef int (*query_sample_fn)(void *ctx, int64_t ts, double value);
int query_raw(struct query *q, uint64_t id, int64_t from, int64_t to, query_sample_fn fn, void *ctx,
	      uint64_t *skipped, struct err *e);

enum query_agg {
	QUERY_AVG,
	QUERY_MIN,
	QUERY_MAX,
	QUERY_LAST,
	QUERY_SUM,
	QUERY_COUNT,
	QUERY_RATE,	/* per second, for counters: resets are handled */
	QUERY_INCREASE, /* for counters: resets are handled */
	QUERY_AGGS	/* how many there are */
};

/* Reads "avg", "min", ... "increase"; -EINVAL naming the choices. */
int query_agg_parse(const char *text, enum query_agg *out, struct err *e);
const char *query_agg_name(enum query_agg agg);

/* Aggregates series id over n windows [from + i*step, from + (i+1)*step)
 * in one pass, filling out[agg][0..n) for every agg whose out[agg] is not
 * NULL (e.g. min, max and avg for an envelope and a line), NaN where a
 * window has no data (count: 0).  n = ceil((to - from) / step) windows
 * cover the range; a smaller n fills only the first n.
 *
 * The resolution comes from the step and from what retention kept: raw
 * samples for steps under a minute, 1-minute rollups under an hour,
 * 1-hour rollups above; where the raw samples are gone (older than the
 * raw retention) the 1-minute rollups stand in, and the 1-hour ones where
 * those are gone too; the newest data, not rolled up yet, is read raw.
 * A value of a coarser resolution lands in the window its bucket starts
 * in.  rate and increase sum the rises between consecutive values (a fall
 * is a counter reset: the new value counts as the rise), starting from
 * the value before the window.  Errors: -EINVAL (step not positive, range
 * empty), -EIO naming the series and time of a damaged chunk or rollup
 * record (query_raw skips those instead). */
int query_range_multi(struct query *q, uint64_t id, int64_t from, int64_t to, int64_t step,
		      double *const out[QUERY_AGGS], size_t n, struct err *e);

/* query_range_multi for the one aggregation agg into out[0..n). */
int query_range(struct query *q, uint64_t id, int64_t from, int64_t to, int64_t step,
		enum query_agg agg, double *out, size_t n, struct err *e);

/* ---- the store as a whole ---- */

struct query_stats {
	uint64_t series;
	uint64_t samples;	   /* samples stored, all time */
	uint64_t duplicates;	   /* skipped: same timestamp as the last */
	uint64_t out_of_order;	   /* skipped: older than the last */
	uint64_t chunk_bytes;	   /* pages of raw chunks */
	uint64_t file_bytes;	   /* the LMDB data file on disk */
	uint64_t applied_position; /* of the write-ahead log */
	uint64_t sequence;	   /* the snapshot's commit sequence */
	/* Now, as rmon-stored publishes it (false from an older one; a store
	 * killed while paused leaves it set until it starts again): a disk
	 * is full, so it does not store. */
	bool db_full;  /* LMDB commits paused (samples wait in the WAL) */
	bool wal_full; /* draining stopped (agents keep or drop samples) */
};

/* What the snapshot holds. */
int query_get_stats(struct query *q, struct query_stats *out, struct err *e);

#endif
