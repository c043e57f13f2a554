/* db_heads.c - the writer's in-memory heads: one per series, in a table
 * by id, holding the chunk being filled; appending samples to them, and
 * closing a full chunk for the next commit (db.c) to write.  See
 * db_private.h. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/grow.h"
#include "lib/slab.h"
#include "store/codec.h"
#include "store/db_private.h"
#include "store/latest.h"
#include "store/layout.h"

#define SHORT_CHUNK 64 /* an integer chunk ended this early: use floats next */

/* A head's chunk buffer starts this small and doubles as the chunk grows,
 * up to LAYOUT_HEAD_BYTES; a closed chunk's successor starts small again.
 * With the buffer inside every head (768 bytes), 1.5 M series took 1.4 GB
 * of heads however little their chunks held, and the commit's pass over
 * them ran 1.6 s instead of 1.0 s (docs/benchmarks.md, e2e). */
#define HEAD_FIRST_BYTES 64

/* ---- heads ---- */

static size_t slot_of(struct db *db, uint64_t id)
{
	size_t mask = db->table_cap - 1, i = (size_t)(id * UINT64_C(0x9e3779b97f4a7c15)) & mask;
	while (db->table[i] && db->table[i]->id != id)
		i = (i + 1) & mask;
	return i;
}

struct head *db_head_find(struct db *db, uint64_t id)
{
	return db->table_cap ? db->table[slot_of(db, id)] : NULL;
}

static int grow_table(struct db *db)
{
	size_t old_cap = db->table_cap, cap = old_cap ? old_cap * 2 : 1024;
	struct head **old = db->table;
	db->table = calloc(cap, sizeof *db->table);
	if (!db->table) {
		db->table = old;
		return -ENOMEM;
	}
	db->table_cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i])
			db->table[slot_of(db, old[i]->id)] = old[i];
	free(old);
	return 0;
}

struct head *db_head_add(struct db *db, uint64_t id)
{
	if ((db->n_heads + 1) * 2 > db->table_cap && grow_table(db) != 0)
		return NULL;
	if (!db->heads && !(db->heads = slab_new(sizeof(struct head))))
		return NULL;
	struct head *h = slab_alloc(db->heads);
	if (!h)
		return NULL;
	h->id = id;
	h->chunk_start = 0;
	h->last_ts = INT64_MIN;
	h->last_value = NAN;
	h->before_chunk = NAN;
	h->dirty = false;
	h->unsaved = false;
	h->ordinal = 0;
	h->first_ts = INT64_MIN;
	h->minute = LATEST_NO_MINUTE;
	h->enc.buf = NULL;
	h->enc.cap = 0;
	db_head_restart(h, false);
	if (!grow_array_from(&db->fresh, &db->fresh_cap, db->n_fresh + 1, sizeof *db->fresh,
			     1024)) {
		free(h->enc.buf); /* the slab keeps h: it is reused by nothing, freed at close */
		return NULL;
	}
	db->fresh[db->n_fresh++] = h; /* the next commit sorts it into its order */
	db->table[slot_of(db, id)] = h;
	db->n_heads++;
	return h;
}

void db_head_restart(struct head *h, bool prefer_float)
{
	uint8_t *buf = h->enc.buf;
	size_t cap = h->enc.cap;
	if (cap != HEAD_FIRST_BYTES) {
		/* Shrinking keeps the buffer when it fails; a head without one
		 * tries again at its first append. */
		uint8_t *first = realloc(buf, HEAD_FIRST_BYTES);
		if (first) {
			buf = first;
			cap = HEAD_FIRST_BYTES;
		}
	}
	codec_init(&h->enc, buf, cap, prefer_float); /* nothing of it sealed */
}

int db_head_encode(struct head *h, int64_t ts, double value)
{
	int rc;
	while ((rc = codec_append(&h->enc, ts, value)) == -ENOSPC &&
	       h->enc.cap < LAYOUT_HEAD_BYTES) {
		size_t cap = h->enc.cap < HEAD_FIRST_BYTES ? HEAD_FIRST_BYTES : h->enc.cap * 2;
		cap = cap < LAYOUT_HEAD_BYTES ? cap : LAYOUT_HEAD_BYTES;
		uint8_t *buf = realloc(h->enc.buf, cap);
		if (!buf)
			return -ENOMEM;
		codec_move(&h->enc, buf, cap);
	}
	return rc;
}

void db_heads_free(struct db *db)
{
	for (size_t i = 0; i < db->table_cap; i++)
		if (db->table[i])
			free(db->table[i]->enc.buf);
}

/* Moves the head chunk to the list written (with its rollups) at the next
 * commit, and starts an empty one. */
static int close_head(struct db *db, struct head *h, bool prefer_float)
{
	if (!grow_array_from(&db->closed, &db->closed_cap, db->n_closed + 1, sizeof *db->closed,
			     256))
		return -ENOMEM;
	size_t len = codec_finish(&h->enc);
	uint8_t *bytes = malloc(len + 1);
	if (!bytes)
		return -ENOMEM;
	if (h->first_ts == INT64_MIN)
		h->first_ts = h->chunk_start; /* the series' first chunk closes */
	bytes[0] = VALUE_CLOSED;
	memcpy(bytes + 1, h->enc.buf, len);
	db->closed[db->n_closed++] =
	    (struct closed_chunk){ h->id, h->chunk_start, h->before_chunk, len + 1, bytes };
	h->before_chunk = h->last_value;
	db_head_restart(h, prefer_float);
	return 0;
}

bool db_knows_series(struct db *db, uint64_t id)
{
	return db_head_find(db, id) != NULL;
}

/* ---- appending ---- */

static int append_one(struct db *db, struct head *h, int64_t ts, double value)
{
	if (ts <= h->last_ts) {
		if (ts == h->last_ts)
			db->duplicates++;
		else
			db->out_of_order++;
		return 0;
	}
	int rc = 0;
	if (h->enc.count > 0 && (h->enc.count >= LAYOUT_CHUNK_MAX_SAMPLES ||
				 ts - h->chunk_start >= LAYOUT_CHUNK_MAX_SPAN_NS))
		rc = close_head(db, h, h->enc.prefer_float);
	if (rc == 0 && (rc = db_head_encode(h, ts, value)) != 0 && rc != -ENOMEM) {
		/* A value the integer chunk cannot hold, or a full chunk. */
		bool prefer_float = rc == -ERANGE && h->enc.count < SHORT_CHUNK;
		if ((rc = close_head(db, h, prefer_float)) == 0)
			rc = db_head_encode(h, ts, value);
	}
	if (rc != 0)
		return rc;
	if (h->enc.count == 1)
		h->chunk_start = ts;
	latest_fold(&h->minute, ts, value, h->last_value);
	h->last_ts = ts;
	h->last_value = value;
	h->dirty = true;
	db->samples++;
	return 0;
}

static int append_locked(struct db *db, const struct sample *samples, size_t n, struct err *e)
{
	struct head *h = NULL;
	for (size_t i = 0; i < n; i++) {
		if (!h || h->id != samples[i].id)
			h = db_head_find(db, samples[i].id);
		if (!h)
			return err_set(e, -ENOENT, "db %s: sample for unknown series id %016llx",
				       db->dir, (unsigned long long)samples[i].id);
		int rc = append_one(db, h, samples[i].ts, samples[i].value);
		if (rc != 0)
			return err_set(e, rc, "db %s: out of memory", db->dir);
	}
	return 0;
}

int db_append(struct db *db, const struct sample *samples, size_t n, struct err *e)
{
	pthread_mutex_lock(&db->lock); /* the committer copies heads out */
	int rc = append_locked(db, samples, n, e);
	pthread_mutex_unlock(&db->lock);
	return rc;
}

/* A series handed out is its head: struct db_series is never defined. */
struct db_series *db_series(struct db *db, uint64_t id)
{
	return (struct db_series *)db_head_find(db, id);
}

/* A batch from many agents touches a different series at nearly every
 * sample, each head in cache lines of its own: asked for early, the
 * misses overlap instead of stalling one after the other.  The table slot
 * is fetched twice as far ahead as the head it points to. */
#define PREFETCH_AHEAD 8

static struct head *const *first_slot(const struct db *db, uint64_t id)
{
	return &db->table[(size_t)(id * UINT64_C(0x9e3779b97f4a7c15)) & (db->table_cap - 1)];
}

void db_find_series(struct db *db, const struct sample *samples, size_t n,
		    struct db_series **series)
{
	for (size_t i = 0; i < n; i++) {
		if (db->table_cap && i + 2 * PREFETCH_AHEAD < n)
			__builtin_prefetch(first_slot(db, samples[i + 2 * PREFETCH_AHEAD].id));
		if (db->table_cap && i + PREFETCH_AHEAD < n) {
			/* Where it nearly always is: its first probe slot. */
			const struct head *h = *first_slot(db, samples[i + PREFETCH_AHEAD].id);
			if (h) {
				__builtin_prefetch(h, 1);
				__builtin_prefetch((const char *)h + 64, 1);
				__builtin_prefetch((const char *)h + 128, 1); /* the minute */
			}
		}
		series[i] = db_series(db, samples[i].id);
	}
}

static int append_to_locked(struct db *db, struct db_series *const *series,
			    const struct sample *samples, size_t n, struct err *e)
{
	for (size_t i = 0; i < n; i++) {
		if (i + 2 * PREFETCH_AHEAD < n) {
			__builtin_prefetch(series[i + 2 * PREFETCH_AHEAD], 1);
			__builtin_prefetch((const char *)series[i + 2 * PREFETCH_AHEAD] + 64, 1);
			__builtin_prefetch((const char *)series[i + 2 * PREFETCH_AHEAD] + 128, 1);
		}
		if (i + PREFETCH_AHEAD < n) { /* where its next bits go */
			const struct head *h = (const struct head *)series[i + PREFETCH_AHEAD];
			if (h->enc.buf)
				__builtin_prefetch(h->enc.buf + CODEC_HEADER_BYTES +
						       (h->enc.bits - h->enc.nacc) / 8,
						   1);
		}
		int rc = append_one(db, (struct head *)series[i], samples[i].ts, samples[i].value);
		if (rc != 0)
			return err_set(e, rc, "db %s: out of memory", db->dir);
	}
	return 0;
}

int db_append_to(struct db *db, struct db_series *const *series, const struct sample *samples,
		 size_t n, struct err *e)
{
	pthread_mutex_lock(&db->lock);
	int rc = append_to_locked(db, series, samples, n, e);
	pthread_mutex_unlock(&db->lock);
	return rc;
}
