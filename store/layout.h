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
 *   meta       "applied", "version", "seq", counters -> u64 little-endian
 *   by_name    canonical name (long ones cut, below)  -> u64 id (big-endian)
 *   latest     u64 id (native, MDB_INTEGERKEY)       -> struct layout_latest,
 *                                                       then a tail (below)
 *   ordinals   u32 ordinal (big-endian)              -> u64 id (little-endian)
 *   changes    u64 commit sequence (big-endian)      -> the series changed in
 *                                                       that commit (below)
 * Keys sort by series, then time, so a range read is one cursor walk.
 *
 * Every commit of the writer increments meta "seq" and records, in the
 * same transaction as the data, which series received samples: a reader's
 * snapshot, its sequence and the changes it sees always agree.  A series'
 * ordinal numbers the series 0, 1, 2 ... in the order they were
 * registered, so a change record is a short list of u32 ordinals
 * (little-endian) or, when that is smaller, a bitmap over ordinals 0..n-1:
 *   i64 commit wall time (ns, little-endian), then u8 LAYOUT_CHANGES_LIST
 *   and the u32 ordinals, or LAYOUT_CHANGES_BITMAP and the bitmap bytes
 *   (ordinal i is bit i % 8 of byte i / 8), or LAYOUT_CHANGES_RANGES and
 *   u32 pairs (first ordinal, count) of runs of consecutive ordinals: an
 *   agent's series are registered together, so its batch is one run.
 * Records older than the writer's horizon are removed; meta "changes_floor"
 * is the sequence after which every commit's record is still there.
 *
 * A rollup record holds up to LAYOUT_ROLLUP_BUCKETS buckets as six codec
 * chunks, each preceded by its u32 length: min, max, sum, count, last and
 * rise (see rollup.h), all stamped with the bucket's start time.
 */
#ifndef RMON_LAYOUT_H
#define RMON_LAYOUT_H

#include <stdint.h>
#include <string.h>

/* 2: by_name, latest, ordinals, changes and meta "seq" were added; the
 * writer upgrades a version 1 store when it opens it.
 * 3: a latest record may carry the tail of its series' open chunk. */
#define LAYOUT_VERSION	 3
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

/* The sub-databases, in the order lmdb_env.h opens them. */
enum layout_db {
	LAYOUT_DB_NAMES,
	LAYOUT_DB_CHUNKS,
	LAYOUT_DB_ROLLUP_1M,
	LAYOUT_DB_ROLLUP_1H,
	LAYOUT_DB_META,
	LAYOUT_DB_BY_NAME,
	LAYOUT_DB_LATEST,
	LAYOUT_DB_ORDINALS,
	LAYOUT_DB_CHANGES,
	LAYOUT_DBS
};

static const char *const layout_dbs[LAYOUT_DBS] = {
	"names",   "chunks", "rollup_1m", "rollup_1h", "meta",
	"by_name", "latest", "ordinals",  "changes",
};

/* Each series' newest sample and the summary of the minute it falls in,
 * kept by the writer at every commit so readers decode no chunk for them.
 * first_ts and last_ts are INT64_MIN while the series has no sample. */
struct layout_latest {
	uint32_t ordinal;
	uint32_t reserved;
	int64_t first_ts, last_ts;
	double last_value;
	int64_t minute_start; /* the 1-minute bucket of last_ts */
	double minute_min, minute_max, minute_sum, minute_count, minute_last, minute_rise;
};

/* An open chunk's record holds a prefix of it, written again only once
 * the chunk has grown LAYOUT_TAIL_MAX bytes past it: each commit rewrites
 * every changed series, and a whole head of some 400 bytes a series made
 * the commit three times as slow as this short tail, written in the
 * latest record that is rewritten anyway.  The chunk is the record's
 * first CODEC_HEADER_BYTES + from bytes (after the value's flag byte),
 * then the tail's n bytes, with count samples.  A tail continues only
 * the open record that starts at chunk_start; a closed record is whole. */
struct layout_tail {
	int64_t chunk_start;
	uint32_t count;
	uint16_t from, n;
};

#define LAYOUT_TAIL_MAX 48

#define LAYOUT_CHANGES_LIST   0
#define LAYOUT_CHANGES_BITMAP 1
#define LAYOUT_CHANGES_RANGES 2
#define LAYOUT_CHANGES_HEADER 9 /* commit time and kind */

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
/* LMDB keys hold at most 511 bytes and names up to SERIES_NAME_MAX: a
 * by_name key is the name when it has at most LAYOUT_NAME_KEY_MAX bytes,
 * else its first LAYOUT_NAME_KEY_MAX bytes and the id (big-endian), so a
 * key longer than LAYOUT_NAME_KEY_MAX is a cut name (read the whole one in
 * names).  Names sharing such a prefix sort by id. */
#define LAYOUT_NAME_KEY_MAX   500
#define LAYOUT_NAME_KEY_BYTES (LAYOUT_NAME_KEY_MAX + 8)

/* Fills buf with the by_name key of name (len bytes) and returns its size. */
static inline size_t layout_name_key(uint8_t buf[LAYOUT_NAME_KEY_BYTES], const char *name,
				     size_t len, uint64_t id)
{
	if (len <= LAYOUT_NAME_KEY_MAX) {
		memcpy(buf, name, len);
		return len;
	}
	memcpy(buf, name, LAYOUT_NAME_KEY_MAX);
	layout_put_be64(buf + LAYOUT_NAME_KEY_MAX, id);
	return LAYOUT_NAME_KEY_BYTES;
}

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
