/* latest.c - the records of each series' newest sample and minute; see
 * latest.h. */
#include "store/latest.h"

#include <string.h>

#include "store/codec.h"

int latest_put(MDB_cursor *cur, uint64_t id, const struct latest_series *s,
	       const struct layout_tail *tail, const uint8_t *tail_bytes)
{
	const struct latest_minute *m = &s->minute;
	struct layout_latest l = {
		s->ordinal,
		0,
		s->first_ts,
		s->last_ts,
		s->last_value,
		m->end == INT64_MIN ? INT64_MIN : m->end - layout_bucket_ns[LAYOUT_1M],
		m->count ? m->min : NAN,
		m->count ? m->max : NAN,
		m->sum,
		m->count,
		s->last_value,
		m->rise,
	};
	uint8_t value[sizeof l + sizeof *tail + LAYOUT_HEAD_BYTES];
	size_t len = sizeof l;
	memcpy(value, &l, sizeof l);
	if (tail) {
		memcpy(value + len, tail, sizeof *tail);
		memcpy(value + len + sizeof *tail, tail_bytes, tail->n);
		len += sizeof *tail + tail->n;
	}
	MDB_val k = { sizeof id, &id }, v = { len, value };
	return mdb_cursor_put(cur, &k, &v, 0);
}

int latest_get(struct lmdb_env *le, MDB_txn *txn, uint64_t id, int64_t newest_ts,
	       struct latest_series *s)
{
	MDB_val k = { sizeof id, &id }, v;
	struct layout_latest l;
	int rc = mdb_get(txn, le->dbi[LAYOUT_DB_LATEST], &k, &v);
	if (rc == 0 && v.mv_size < sizeof l)
		rc = MDB_NOTFOUND; /* not a record of this layout: written anew */
	if (rc)
		return rc;
	memcpy(&l, v.mv_data, sizeof l);
	*s = (struct latest_series){ l.ordinal, l.first_ts, l.last_ts, l.last_value,
				     LATEST_NO_MINUTE };
	if (l.minute_start == layout_bucket_start(newest_ts, layout_bucket_ns[LAYOUT_1M]) &&
	    newest_ts != INT64_MIN) {
		bool counted = l.minute_count > 0;
		s->minute = (struct latest_minute){ l.minute_start + layout_bucket_ns[LAYOUT_1M],
						    counted ? l.minute_min : INFINITY,
						    counted ? l.minute_max : -INFINITY,
						    l.minute_sum,
						    l.minute_rise,
						    (uint32_t)l.minute_count };
	}
	return 0;
}

void latest_to_query(const MDB_val *v, struct query_latest *out)
{
	struct layout_latest l;
	if (!v || v->mv_size < sizeof l) {
		*out = (struct query_latest){ INT64_MIN, INT64_MIN, NAN, INT64_MIN, NAN,
					      NAN,	 NAN,	    0,	 NAN,	    NAN };
		return;
	}
	memcpy(&l, v->mv_data, sizeof l);
	bool counted = l.minute_count > 0;
	*out = (struct query_latest){
		l.first_ts,
		l.last_ts,
		l.last_ts == INT64_MIN ? NAN : l.last_value,
		l.minute_start,
		counted ? l.minute_min : NAN,
		counted ? l.minute_max : NAN,
		counted ? l.minute_sum / l.minute_count : NAN,
		l.minute_count,
		l.minute_last,
		l.minute_rise,
	};
}

/* The chunk joined from prefix (len bytes) and the tail in latest record
 * v, into out: its length, or 0 when v's tail does not continue it. */
static size_t splice(const MDB_val *v, int64_t chunk_start, const uint8_t *prefix, size_t len,
		     uint8_t out[LAYOUT_HEAD_BYTES])
{
	struct layout_tail t;
	if (!v || v->mv_size < sizeof(struct layout_latest) + sizeof t || len < CODEC_HEADER_BYTES)
		return 0;
	const uint8_t *at = (const uint8_t *)v->mv_data + sizeof(struct layout_latest);
	memcpy(&t, at, sizeof t);
	size_t keep = CODEC_HEADER_BYTES + (size_t)t.from, whole = keep + t.n;
	if (t.chunk_start != chunk_start ||
	    v->mv_size != sizeof(struct layout_latest) + sizeof t + t.n || keep > len ||
	    whole > LAYOUT_HEAD_BYTES)
		return 0;
	memcpy(out, prefix, keep);
	memcpy(out + keep, at + sizeof t, t.n);
	for (int i = 0; i < 4; i++) /* the chunk's header counts the tail's samples too */
		out[4 + i] = (uint8_t)(t.count >> (8 * i));
	return whole;
}

int latest_whole_chunk(struct lmdb_env *le, MDB_txn *txn, uint64_t id, int64_t start,
		       const uint8_t **chunk, size_t *len, uint8_t whole[LAYOUT_HEAD_BYTES])
{
	MDB_val k = { sizeof id, &id }, v;
	int rc = mdb_get(txn, le->dbi[LAYOUT_DB_LATEST], &k, &v);
	size_t n = rc == 0 ? splice(&v, start, *chunk, *len, whole) : 0;
	if (n > 0) {
		*chunk = whole;
		*len = n;
	}
	return rc == MDB_NOTFOUND ? 0 : rc;
}
