/* latest.h - each series' newest sample and newest minute: the "latest"
 * database (layout.h), which the writer (db.c) keeps as samples arrive and
 * writes at every commit, and which readers (query_latest) read instead of
 * decoding chunks.  Not a public API: the record format's one home. */
#ifndef RMON_LATEST_H
#define RMON_LATEST_H

#include <math.h>
#include <stdint.h>

#include "store/layout.h"
#include "store/lmdb_env.h"
#include "store/query.h"
#include "store/rollup.h"

/* The samples of a series' newest minute.  Packed: the writer keeps it in
 * the cache line its encoder's end shares (struct head, db_private.h). */
struct __attribute__((packed)) latest_minute {
	int64_t end; /* of the minute; INT64_MIN: none yet */
	double min, max, sum, rise;
	uint32_t count;
};

#define LATEST_NO_MINUTE ((struct latest_minute){ INT64_MIN, INFINITY, -INFINITY, 0, 0, 0 })

/* Folds a sample into m as rollup_fold would, starting the next minute
 * when ts leaves it (samples come in time order); prev is the value
 * before.  Branch-free with an empty minute at +-infinity. */
static inline void latest_fold(struct latest_minute *m, int64_t ts, double value, double prev)
{
	if (ts >= m->end) {
		int64_t minute = layout_bucket_ns[LAYOUT_1M];
		*m = LATEST_NO_MINUTE;
		m->end = layout_bucket_start(ts, minute) + minute;
	}
	m->rise += rollup_rise(prev, value);
	if (value != value) /* NaN: only the last value changes */
		return;
	m->min = value < m->min ? value : m->min;
	m->max = value > m->max ? value : m->max;
	m->sum += value;
	m->count++;
}

/* What a record holds. */
struct latest_series {
	uint32_t ordinal;
	int64_t first_ts, last_ts; /* INT64_MIN: none */
	double last_value;
	struct latest_minute minute; /* the minute of last_ts */
};

/* Writes series id's record through cur, a cursor on the latest database
 * of a write transaction (series written in id order find their page at
 * once), with the tail of its open chunk when tail is not NULL (its n
 * bytes at tail_bytes); LMDB's code. */
int latest_put(MDB_cursor *cur, uint64_t id, const struct latest_series *s,
	       const struct layout_tail *tail, const uint8_t *tail_bytes);

/* Series id's open chunk that starts at start, whole: its record's chunk
 * (*chunk, *len bytes, after the flag byte) joined to the tail in the
 * series' latest record, in whole, and *chunk and *len then point there;
 * left as they are when no tail continues this chunk (the record is then
 * the whole chunk).  LMDB's code. */
int latest_whole_chunk(struct lmdb_env *le, MDB_txn *txn, uint64_t id, int64_t start,
		       const uint8_t **chunk, size_t *len, uint8_t whole[LAYOUT_HEAD_BYTES]);

/* Reads series id's record into *s; its minute is LATEST_NO_MINUTE unless
 * it is the minute of newest_ts (the writer's own newest sample).  LMDB's
 * code: MDB_NOTFOUND when there is none. */
int latest_get(struct lmdb_env *le, MDB_txn *txn, uint64_t id, int64_t newest_ts,
	       struct latest_series *s);

/* A record as readers get it (v NULL: no such series). */
void latest_to_query(const MDB_val *v, struct query_latest *out);

#endif
