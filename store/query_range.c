/* query_range.c - reading a series' samples: raw, and aggregated into
 * windows from raw chunks and rollups in one pass; see query.h. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fault.h"
#include "store/codec.h"
#include "store/latest.h"
#include "store/layout.h"
#include "store/query_private.h"
#include "store/rollup.h"

#define VALUE_CLOSED 1 /* first byte of a chunk value: the chunk is final (db.c) */

/* ---- raw reads ---- */

int query_seek(MDB_cursor *cur, uint64_t id, int64_t ts, MDB_val *k, MDB_val *v)
{
	uint8_t key[LAYOUT_KEY_BYTES];
	layout_key(key, id, ts);
	*k = (MDB_val){ sizeof key, key };
	int rc = mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
	uint64_t key_id;
	int64_t start;
	if (rc == 0)
		layout_key_parse(k->mv_data, &key_id, &start);
	if (rc == MDB_NOTFOUND || (rc == 0 && (key_id != id || start > ts))) {
		/* Step back one: it may start before ts and reach into it. */
		MDB_val pk, pv;
		int prc = rc == 0 ? mdb_cursor_get(cur, &pk, &pv, MDB_PREV)
				  : mdb_cursor_get(cur, &pk, &pv, MDB_LAST);
		if (prc == 0 && pk.mv_size == LAYOUT_KEY_BYTES) {
			layout_key_parse(pk.mv_data, &key_id, &start);
			if (key_id == id) {
				*k = pk;
				*v = pv;
				return 0;
			}
			/* Not ours: go back to where SET_RANGE landed. */
			if (rc == 0)
				return mdb_cursor_get(cur, k, v, MDB_NEXT);
		} else if (prc != 0 && prc != MDB_NOTFOUND) {
			return prc;
		}
	}
	return rc;
}

static int corrupt(struct query *q, struct err *e, const char *what, uint64_t id, int64_t start)
{
	return err_set(e, -EIO, "store %s: corrupt %s of series %016llx starting at %lld",
		       q->le.dir, what, (unsigned long long)id, (long long)start);
}

/* Calls fn for the samples of id with from <= ts < to, reading from the
 * chunk that holds seek_ts on (seek_ts <= from: the samples before from
 * are decoded, not passed).  A corrupt chunk is counted in *skipped, or
 * is -EIO when skipped is NULL. */
static int read_raw(struct query *q, MDB_txn *txn, uint64_t id, int64_t seek_ts, int64_t from,
		    int64_t to, query_sample_fn fn, void *ctx, uint64_t *skipped, struct err *e)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = FAULT("query.read");
	if (rc == 0)
		rc = mdb_cursor_open(txn, q->le.dbi[LAYOUT_DB_CHUNKS], &cur);
	if (rc)
		return query_lmdb_error(q, e, rc, "cannot read chunks");
	int result = 0;
	for (rc = query_seek(cur, id, seek_ts, &k, &v); rc == 0 && result == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		uint64_t key_id;
		int64_t start, ts;
		double value;
		if (k.mv_size != LAYOUT_KEY_BYTES)
			break;
		layout_key_parse(k.mv_data, &key_id, &start);
		if (key_id != id || start >= to)
			break;
		struct codec_decoder dec;
		const uint8_t *bytes = v.mv_data, *chunk = bytes + 1;
		size_t len = v.mv_size - 1;
		uint8_t whole[LAYOUT_HEAD_BYTES];
		int got = -1;
		/* An open chunk: its tail is in the latest record. */
		if (v.mv_size >= 1 && bytes[0] != VALUE_CLOSED &&
		    (rc = latest_whole_chunk(&q->le, txn, id, start, &chunk, &len, whole)) != 0)
			break;
		if (v.mv_size >= 1 && codec_decoder_init(&dec, chunk, len) == 0)
			while (result == 0 && (got = codec_next(&dec, &ts, &value)) == 1) {
				if (ts >= to)
					break;
				if (ts >= from)
					result = fn(ctx, ts, value);
			}
		if (got < 0 && skipped)
			(*skipped)++;
		else if (got < 0)
			result = corrupt(q, e, "chunk", id, start);
	}
	mdb_cursor_close(cur);
	if (result == 0 && rc != 0 && rc != MDB_NOTFOUND)
		result = query_lmdb_error(q, e, rc, "cannot read chunks");
	return result;
}

int query_raw(struct query *q, uint64_t id, int64_t from, int64_t to, query_sample_fn fn, void *ctx,
	      uint64_t *skipped, struct err *e)
{
	MDB_txn *txn;
	uint64_t ignored = 0;
	int rc = query_snapshot(q, &txn, e);
	if (rc)
		return rc;
	rc = read_raw(q, txn, id, from, from, to, fn, ctx, skipped ? skipped : &ignored, e);
	query_done(q, txn);
	return rc;
}

/* ---- aggregation ---- */

int query_agg_parse(const char *text, enum query_agg *out, struct err *e)
{
	for (int a = 0; a < QUERY_AGGS; a++)
		if (strcmp(text, query_agg_name((enum query_agg)a)) == 0)
			return *out = (enum query_agg)a, 0;
	return err_set(
	    e, -EINVAL,
	    "unknown aggregation '%s' (choose avg, min, max, last, sum, count, rate or increase)",
	    text);
}

const char *query_agg_name(enum query_agg agg)
{
	static const char *const names[] = { "avg", "min",   "max",  "last",
					     "sum", "count", "rate", "increase" };
	return agg >= 0 && agg < QUERY_AGGS ? names[agg] : "?";
}

/* The windows being filled, one rollup bucket each (count 0: empty). */
struct fold {
	struct rollup_bucket *w;
	size_t n;
	int64_t from, step;
	double prev;		       /* the value before the current raw sample, for rises */
	int64_t fold_from;	       /* raw samples before this only set prev */
	struct rollup_bucket *buckets; /* a decoded rollup record */
};

static void fold_bucket(struct fold *f, const struct rollup_bucket *b)
{
	if (b->start < f->from || (b->count == 0 && isnan(b->last)))
		return;
	size_t i = (size_t)((b->start - f->from) / f->step);
	if (i >= f->n)
		return;
	struct rollup_bucket *w = &f->w[i];
	if (w->start == INT64_MIN) {
		*w = *b;
		return;
	}
	rollup_merge(w, b);
}

static int fold_sample(void *ctx, int64_t ts, double value)
{
	struct fold *f = ctx;
	struct rollup_bucket b = { ts, NAN, NAN, 0, 0, NAN, 0 };
	rollup_fold(&b, value, f->prev);
	if (!isnan(value))
		f->prev = value;
	if (ts >= f->fold_from)
		fold_bucket(f, &b);
	return 0;
}

/* The first (oldest) or the newest record start of series id in dbi:
 * INT64_MAX when it has none.  *open is set for chunks: the newest is not
 * closed yet. */
static int record_start(struct query *q, MDB_txn *txn, int dbi, uint64_t id, bool newest,
			int64_t *start, bool *open, struct err *e)
{
	MDB_cursor *cur;
	MDB_val k, v;
	*start = INT64_MAX;
	int rc = mdb_cursor_open(txn, q->le.dbi[dbi], &cur);
	if (rc)
		return query_lmdb_error(q, e, rc, "cannot read");
	rc = query_seek(cur, id, newest ? INT64_MAX : INT64_MIN, &k, &v);
	if (rc == 0 && k.mv_size == LAYOUT_KEY_BYTES) {
		uint64_t key_id;
		int64_t key_start;
		layout_key_parse(k.mv_data, &key_id, &key_start);
		if (key_id == id)
			*start = key_start;
		if (open)
			*open = key_id == id && v.mv_size > 0 &&
				((const uint8_t *)v.mv_data)[0] != VALUE_CLOSED;
	}
	mdb_cursor_close(cur);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : query_lmdb_error(q, e, rc, "cannot read");
}

/* Folds the buckets of rollup resolution res (LAYOUT_1M or LAYOUT_1H)
 * that start in [lo, hi). */
static int fold_rollups(struct query *q, MDB_txn *txn, int res, uint64_t id, int64_t lo, int64_t hi,
			struct fold *f, struct err *e)
{
	MDB_cursor *cur;
	MDB_val k, v;
	if (lo >= hi)
		return 0;
	int dbi = res == LAYOUT_1M ? LAYOUT_DB_ROLLUP_1M : LAYOUT_DB_ROLLUP_1H;
	int rc = mdb_cursor_open(txn, q->le.dbi[dbi], &cur), result = 0;
	if (rc)
		return query_lmdb_error(q, e, rc, "cannot read rollups");
	for (rc = query_seek(cur, id, lo, &k, &v); rc == 0 && result == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		uint64_t key_id;
		int64_t start;
		if (k.mv_size != LAYOUT_KEY_BYTES)
			break;
		layout_key_parse(k.mv_data, &key_id, &start);
		if (key_id != id || start >= hi)
			break;
		int n = rollup_decode(v.mv_data, v.mv_size, f->buckets, LAYOUT_ROLLUP_BUCKETS);
		if (n < 0)
			result = corrupt(q, e, "rollup record", id, start);
		for (int i = 0; i < n; i++)
			if (f->buckets[i].start >= lo && f->buckets[i].start < hi)
				fold_bucket(f, &f->buckets[i]);
	}
	mdb_cursor_close(cur);
	if (result == 0 && rc != 0 && rc != MDB_NOTFOUND)
		result = query_lmdb_error(q, e, rc, "cannot read rollups");
	return result;
}

/* Raw samples of [lo, hi) into the windows; the one before lo gives the
 * first rise its base. */
static int fold_raw(struct query *q, MDB_txn *txn, uint64_t id, int64_t lo, int64_t hi,
		    struct fold *f, struct err *e)
{
	if (lo >= hi)
		return 0;
	f->fold_from = lo;
	return read_raw(q, txn, id, lo == INT64_MIN ? lo : lo - 1, INT64_MIN, hi, fold_sample, f,
			NULL, e);
}

/* Where data of a coarser resolution, kept from coarse_first on, hands
 * over to a finer one kept from first on: from, when the finer one covers
 * the range or the coarse one has nothing older (a series' beginning, not
 * retention); else the end of the coarse bucket first falls in (that
 * bucket holds the finer data before it too), never after limit. */
static int64_t handover(int64_t first, int64_t coarse_first, int64_t from, int64_t bucket,
			int64_t limit)
{
	if (first <= from || coarse_first == INT64_MAX)
		return from;
	if (first == INT64_MAX)
		return limit;
	int64_t start = layout_bucket_start(first, bucket);
	if (coarse_first >= start)
		return from;
	int64_t end = start == first ? first : start + bucket;
	return end < limit ? end : limit;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* Fills the windows oldest data first (so `last` ends newest): the
 * resolution the step asks for where it exists, coarser rollups where
 * retention removed it, raw samples for the chunk not rolled up yet. */
static int fold_all(struct query *q, MDB_txn *txn, uint64_t id, int64_t from, int64_t to,
		    struct fold *f, struct err *e)
{
	int res = f->step >= layout_bucket_ns[LAYOUT_1H]   ? LAYOUT_1H
		  : f->step >= layout_bucket_ns[LAYOUT_1M] ? LAYOUT_1M
							   : LAYOUT_RAW;
	int64_t head, oldest_raw, oldest_1m, oldest_1h;
	bool open = false;
	int rc;
	if ((rc = record_start(q, txn, LAYOUT_DB_CHUNKS, id, true, &head, &open, e)) ||
	    (rc = record_start(q, txn, LAYOUT_DB_CHUNKS, id, false, &oldest_raw, NULL, e)) ||
	    (rc = record_start(q, txn, LAYOUT_DB_ROLLUP_1M, id, false, &oldest_1m, NULL, e)) ||
	    (rc = record_start(q, txn, LAYOUT_DB_ROLLUP_1H, id, false, &oldest_1h, NULL, e)))
		return rc;
	/* Rollups hold the closed chunks: everything before the open one. */
	if (!open)
		head = INT64_MAX;
	int64_t raw_from, from_1m, from_1h = from;
	if (res == LAYOUT_RAW) {
		raw_from = handover(oldest_raw, oldest_1m, from, layout_bucket_ns[LAYOUT_1M], head);
		from_1m =
		    handover(oldest_1m, oldest_1h, from, layout_bucket_ns[LAYOUT_1H], raw_from);
	} else if (res == LAYOUT_1M) {
		raw_from = head > from ? head : from;
		from_1m =
		    handover(oldest_1m, oldest_1h, from, layout_bucket_ns[LAYOUT_1H], raw_from);
	} else {
		raw_from = head > from ? head : from;
		from_1m = raw_from; /* no 1-minute data */
	}
	if ((rc = fold_rollups(q, txn, LAYOUT_1H, id, from_1h, min64(from_1m, to), f, e)) ||
	    (rc = fold_rollups(q, txn, LAYOUT_1M, id, from_1m, min64(raw_from, to), f, e)))
		return rc;
	return fold_raw(q, txn, id, raw_from, to, f, e);
}

static double agg_value(const struct rollup_bucket *w, enum query_agg agg, int64_t step)
{
	bool empty = w->start == INT64_MIN;
	bool counted = !empty && w->count > 0;
	switch (agg) {
	case QUERY_AVG:
		return counted ? w->sum / w->count : NAN;
	case QUERY_MIN:
		return counted ? w->min : NAN;
	case QUERY_MAX:
		return counted ? w->max : NAN;
	case QUERY_LAST:
		return empty ? NAN : w->last;
	case QUERY_SUM:
		return counted ? w->sum : NAN;
	case QUERY_COUNT:
		return counted ? w->count : 0;
	case QUERY_RATE:
		return empty ? NAN : w->rise / ((double)step / 1e9);
	case QUERY_INCREASE:
		return empty ? NAN : w->rise;
	default:
		return NAN;
	}
}

int query_range_multi(struct query *q, uint64_t id, int64_t from, int64_t to, int64_t step,
		      double *const out[QUERY_AGGS], size_t n, struct err *e)
{
	if (step <= 0 || to <= from)
		return err_set(e, -EINVAL, "the step must be positive and the range not empty");
	struct fold f = { FAULT("query.alloc") ? NULL : calloc(n ? n : 1, sizeof *f.w),
			  n,
			  from,
			  step,
			  NAN,
			  from,
			  malloc(LAYOUT_ROLLUP_BUCKETS * sizeof *f.buckets) };
	MDB_txn *txn = NULL;
	int rc = !f.w || !f.buckets
		     ? err_set(e, -ENOMEM, "store %s: out of memory for %zu windows", q->le.dir, n)
		     : query_snapshot(q, &txn, e);
	for (size_t i = 0; rc == 0 && i < n; i++)
		f.w[i].start = INT64_MIN;
	if (rc == 0)
		rc = fold_all(q, txn, id, from, to, &f, e);
	query_done(q, txn);
	for (int agg = 0; rc == 0 && agg < QUERY_AGGS; agg++)
		for (size_t i = 0; out[agg] && i < n; i++)
			out[agg][i] = agg_value(&f.w[i], (enum query_agg)agg, step);
	free(f.w);
	free(f.buckets);
	return rc;
}

int query_range(struct query *q, uint64_t id, int64_t from, int64_t to, int64_t step,
		enum query_agg agg, double *out, size_t n, struct err *e)
{
	double *outs[QUERY_AGGS] = { 0 };
	if (agg < 0 || agg >= QUERY_AGGS)
		return err_set(e, -EINVAL, "unknown aggregation %d", (int)agg);
	outs[agg] = out;
	return query_range_multi(q, id, from, to, step, outs, n, e);
}
