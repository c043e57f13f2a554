/* layout.h - the LMDB layout shared by the writer (db.c) and the readers
 * (query.c): database names, key encoding, chunk limits and the rollup
 * record format.  Not a public API of its own: it keeps the two sides of
 * the on-disk format in one place.
 *
 * Databases in the environment "<data>/db":
 *   names      u64 id (big-endian)                  -> canonical name
 *   chunks     u64 id, i64 first ts (both big-endian, ts sign-flipped)
 *                                                   -> codec chunk (codec.h)
 *   rollup_1m  same key, first bucket start         -> rollup record
 *   rollup_1h  same key, first bucket start         -> rollup record
 *   meta       "applied", "version", counters       -> u64 little-endian
 * Keys sort by series, then time, so a range read is one cursor walk.
 *
 * A rollup record holds up to LAYOUT_ROLLUP_BUCKETS buckets as six codec
 * chunks, each preceded by its u32 length: min, max, sum, count, last and
 * rise (see rollup.h), all stamped with the bucket's start time.
 */
#ifndef RMON_LAYOUT_H
#define RMON_LAYOUT_H

#include <stdint.h>
#include <string.h>

#define LAYOUT_VERSION	 1
#define LAYOUT_KEY_BYTES 16

/* A raw chunk closes at whichever comes first: this many samples, this
 * span of time, or its encoder buffer filling (LAYOUT_HEAD_BYTES). */
#define LAYOUT_CHUNK_MAX_SAMPLES 2048
#define LAYOUT_CHUNK_MAX_SPAN_NS (INT64_C(2) * 3600 * 1000000000)
#define LAYOUT_HEAD_BYTES	 768

#define LAYOUT_ROLLUP_BUCKETS 256
#define LAYOUT_ROLLUP_COLUMNS 6 /* min, max, sum, count, last, rise */

enum layout_resolution { LAYOUT_RAW = 0, LAYOUT_1M = 1, LAYOUT_1H = 2 };

static const int64_t layout_bucket_ns[] = { 0, INT64_C(60) * 1000000000,
					    INT64_C(3600) * 1000000000 };

/* The longest time one record of each resolution may span: a reader
 * starts its cursor this far before the range it wants. */
static const int64_t layout_record_span_ns[] = {
	LAYOUT_CHUNK_MAX_SPAN_NS,
	INT64_C(60) * 1000000000 * LAYOUT_ROLLUP_BUCKETS,
	INT64_C(3600) * 1000000000 * LAYOUT_ROLLUP_BUCKETS,
};

static const char *const layout_db_names[] = { "chunks", "rollup_1m", "rollup_1h" };

static inline void layout_put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static inline uint64_t layout_get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* Flipping the sign bit makes big-endian bytes of signed times sort in
 * numeric order. */
static inline void layout_key(uint8_t key[LAYOUT_KEY_BYTES], uint64_t id, int64_t ts)
{
	layout_put_be64(key, id);
	layout_put_be64(key + 8, (uint64_t)ts ^ (UINT64_C(1) << 63));
}

static inline void layout_key_parse(const uint8_t *key, uint64_t *id, int64_t *ts)
{
	*id = layout_get_be64(key);
	*ts = (int64_t)(layout_get_be64(key + 8) ^ (UINT64_C(1) << 63));
}

static inline int64_t layout_bucket_start(int64_t ts, int64_t bucket)
{
	int64_t q = ts / bucket;
	if (ts % bucket < 0)
		q--;
	return q * bucket;
}

#endif
