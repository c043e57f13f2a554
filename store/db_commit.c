/* db_commit.c - the commit: what was appended since the last one written
 * to LMDB, either on the caller's thread (db_commit) or on a thread of
 * its own (db_commit_start), so that who appends and acks never waits for
 * LMDB; see db.h.
 *
 * A commit is a pass over the heads in id order, LMDB's key order, so each
 * page is touched once.  It copies the changed heads out in slices,
 * holding the lock only while it copies, and writes them in transactions
 * of at most TXN_HEADS heads.  Whatever is appended meanwhile goes into
 * this pass if its head was not copied yet, else into the next: the WAL
 * position the pass's last transaction stores is the one asked for before
 * the first slice, and a replay from it skips the samples a head already
 * holds. */
#include "store/db.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/fault.h"
#include "lib/grow.h"
#include "lib/rtime.h"
#include "store/changes.h"
#include "store/codec.h"
#include "store/db_private.h"
#include "store/latest.h"
#include "store/layout.h"
#include "store/rollup.h"

/* Heads copied out under the lock at a time: some 50 µs.  Should the
 * scheduler preempt the committer while it holds the lock, the appender
 * waits until it runs again: the shorter the slice, the rarer that is
 * (at 2,048 heads, waits of 100-240 ms were seen on a busy machine). */
#define SLICE 256

/* A changed head as copied out of the table. */
struct staged {
	bool dirty, unsaved;
	uint64_t id;
	int64_t chunk_start;
	struct latest_series latest;
	size_t len; /* of value; 0 when the record is not written again */
	uint8_t value[LAYOUT_HEAD_BYTES + 1];
	bool has_tail; /* the record holds a prefix: the rest goes with latest */
	struct layout_tail tail;
	uint8_t tail_bytes[LAYOUT_TAIL_MAX + 8];
};

/* A head the transaction being written copied, and the flags it had. */
struct mark {
	struct head *h;
	bool dirty, unsaved;
};

/* What one commit took, so that it can write it outside the lock and,
 * should LMDB fail, give the heads their changes back. */
struct commit_work {
	struct staged stage[SLICE];
	struct mark *marks; /* every head the transaction copied */
	size_t n_marks, marks_cap;
	struct pending_name *names;
	size_t n_names, names_cap;
	struct closed_chunk *closed;
	size_t n_closed, closed_cap;
	struct head **fresh;
	size_t fresh_cap;
	size_t written;	       /* changed heads the commit's transactions wrote so far */
	uint32_t ordinals_end; /* the ordinals in LMDB once the transaction commits */
	struct rollup_bucket buckets[2][LAYOUT_CHUNK_MAX_SAMPLES]; /* of a closed chunk */
	struct rollup_bucket merged[LAYOUT_ROLLUP_BUCKETS + 256];  /* a rollup record */
};

/* ---- writing records ---- */

static int meta_put(struct db *db, MDB_txn *txn, const char *key, uint64_t value)
{
	return lmdb_env_meta_put(&db->le, txn, key, value);
}

/* Folds a closed chunk's buckets into the newest rollup record of its
 * series at one resolution, starting a new record when that one is full. */
static int write_rollup(struct db *db, MDB_txn *txn, struct commit_work *w, int res, uint64_t id,
			struct rollup_bucket *fresh, size_t n_fresh)
{
	struct rollup_bucket *merged = w->merged;
	MDB_dbi dbi = db->rollups[res];
	MDB_val k, v;
	size_t n = 0;
	int64_t key_start = fresh[0].start;
	int rc = db_newest_record(txn, dbi, id, &k, &v);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	if (rc == 0) {
		uint64_t key_id;
		int64_t start;
		layout_key_parse(k.mv_data, &key_id, &start);
		int got = rollup_decode(v.mv_data, v.mv_size, merged, LAYOUT_ROLLUP_BUCKETS);
		/* Extend the newest record while it has room, comes before and
		 * stays within a record's span (readers and retention rely on it). */
		if (got > 0 && merged[got - 1].start <= fresh[0].start &&
		    (size_t)got + n_fresh <= LAYOUT_ROLLUP_BUCKETS &&
		    fresh[n_fresh - 1].start - start < layout_record_span_ns[res + 1]) {
			n = (size_t)got;
			key_start = start;
		}
	}
	for (size_t i = 0; i < n_fresh; i++) {
		if (n > 0 && merged[n - 1].start == fresh[i].start)
			rollup_merge(&merged[n - 1], &fresh[i]);
		else
			merged[n++] = fresh[i];
	}
	uint8_t *record;
	size_t len;
	if (rollup_encode(merged, n, &record, &len) != 0)
		return ENOMEM;
	uint8_t kbuf[LAYOUT_KEY_BYTES];
	layout_key(kbuf, id, key_start);
	k = (MDB_val){ sizeof kbuf, kbuf };
	v = (MDB_val){ len, record };
	rc = mdb_put(txn, dbi, &k, &v, 0);
	free(record);
	return rc;
}

static int write_closed(struct db *db, MDB_txn *txn, struct commit_work *w,
			const struct closed_chunk *c)
{
	struct rollup_bucket(*buckets)[LAYOUT_CHUNK_MAX_SAMPLES] = w->buckets;
	uint8_t kbuf[LAYOUT_KEY_BYTES];
	layout_key(kbuf, c->id, c->start);
	MDB_val k = { sizeof kbuf, kbuf }, v = { c->len, c->bytes };
	int rc = mdb_put(txn, db->chunks, &k, &v, 0);
	if (rc)
		return rc;
	struct codec_decoder dec;
	if (codec_decoder_init(&dec, c->bytes + 1, c->len - 1) != 0)
		return 0;
	size_t n[2] = { 0, 0 };
	int64_t ts;
	double value, prev = c->before;
	while (codec_next(&dec, &ts, &value) == 1) {
		for (int r = 0; r < 2; r++)
			n[r] = rollup_add(buckets[r], n[r], LAYOUT_CHUNK_MAX_SAMPLES,
					  layout_bucket_ns[r + 1], ts, value, prev);
		prev = value;
	}
	for (int r = 0; r < 2 && rc == 0; r++)
		if (n[r] > 0)
			rc = write_rollup(db, txn, w, r, c->id, buckets[r], n[r]);
	return rc;
}

void db_head_latest(struct head *h, struct latest_series *l)
{
	if (h->first_ts == INT64_MIN && h->enc.count > 0)
		h->first_ts = h->chunk_start; /* the first chunk's start */
	*l =
	    (struct latest_series){ h->ordinal, h->first_ts, h->last_ts, h->last_value, h->minute };
}

int db_put_series(struct db *db, MDB_txn *txn, MDB_cursor *latest, uint64_t id,
		  const struct latest_series *l, bool unsaved, const struct layout_tail *tail,
		  const uint8_t *tail_bytes)
{
	int rc = latest_put(latest, id, l, tail, tail_bytes);
	if (rc == 0 && unsaved) {
		uint8_t okey[4] = { (uint8_t)(l->ordinal >> 24), (uint8_t)(l->ordinal >> 16),
				    (uint8_t)(l->ordinal >> 8), (uint8_t)l->ordinal };
		MDB_val ok = { sizeof okey, okey }, ov = { sizeof id, &id };
		rc = mdb_put(txn, db->le.dbi[LAYOUT_DB_ORDINALS], &ok, &ov, 0);
	}
	return rc;
}

/* ---- taking what to write, under the lock ---- */

/* Copies up to max_names of the pending names and, with closed, the
 * closed chunks, from the given counts on: the arrays may move as the
 * appender grows them, their contents not. */
static int take_lists(struct db *db, struct commit_work *w, size_t max_names, bool closed_too)
{
	size_t names = db->n_names - w->n_names, closed = db->n_closed - w->n_closed;
	if (names > max_names)
		names = max_names;
	if (!closed_too)
		closed = 0;
	if (!grow_array_from(&w->names, &w->names_cap, w->n_names + names, sizeof *w->names, 64) ||
	    !grow_array_from(&w->closed, &w->closed_cap, w->n_closed + closed, sizeof *w->closed,
			     256))
		return ENOMEM;
	if (names > 0)
		memcpy(w->names + w->n_names, db->names_pending + w->n_names,
		       names * sizeof *w->names);
	if (closed > 0)
		memcpy(w->closed + w->n_closed, db->closed + w->n_closed,
		       closed * sizeof *w->closed);
	w->n_names += names;
	w->n_closed += closed;
	return 0;
}

static int by_id(const void *a, const void *b)
{
	uint64_t x = (*(struct head *const *)a)->id, y = (*(struct head *const *)b)->id;
	return (x > y) - (x < y);
}

/* Merges the heads added since the last commit into the id order. */
static int sort_in_fresh(struct db *db, struct commit_work *w)
{
	pthread_mutex_lock(&db->lock);
	size_t n = db->n_fresh;
	bool ok =
	    grow_array_from(&w->fresh, &w->fresh_cap, n, sizeof *w->fresh, 1024) &&
	    grow_array_from(&db->order, &db->order_cap, db->n_order + n, sizeof *db->order, 1024);
	if (ok && n > 0) {
		memcpy(w->fresh, db->fresh, n * sizeof *w->fresh);
		db->n_fresh = 0;
	}
	pthread_mutex_unlock(&db->lock);
	if (!ok)
		return ENOMEM;
	if (n == 0)
		return 0;
	qsort(w->fresh, n, sizeof *w->fresh, by_id);
	/* From the back, so the order array merges in place. */
	size_t i = db->n_order, j = n, to = db->n_order + n;
	while (j > 0) {
		if (i > 0 && db->order[i - 1]->id > w->fresh[j - 1]->id)
			db->order[--to] = db->order[--i];
		else
			db->order[--to] = w->fresh[--j];
	}
	db->n_order += n;
	return 0;
}

#define STAGE_AHEAD 6 /* heads: about the misses that overlap on this machine */

/* What a changed head's chunk writes: its record whole when none was
 * written for this chunk yet or it grew LAYOUT_TAIL_MAX bytes past what
 * was, else only the tail past that, beside the latest record. */
static void stage_chunk(struct head *h, struct staged *s)
{
	s->len = 0;
	s->has_tail = false;
	if (h->enc.count == 0)
		return;
	size_t len = codec_finish(&h->enc), stream = len - CODEC_HEADER_BYTES;
	if (h->enc.sealed_count == 0 || stream - h->enc.sealed_bytes > LAYOUT_TAIL_MAX) {
		s->value[0] = 0;
		memcpy(s->value + 1, h->enc.buf, len);
		s->len = len + 1;
		/* The byte the stream ends in takes more bits later. */
		h->enc.sealed_bytes = (uint16_t)(h->enc.bits / 8);
		h->enc.sealed_count = (uint16_t)h->enc.count;
		return;
	}
	if (h->enc.count == h->enc.sealed_count)
		return;
	size_t n = stream - h->enc.sealed_bytes;
	s->has_tail = true;
	s->tail =
	    (struct layout_tail){ h->chunk_start, h->enc.count, h->enc.sealed_bytes, (uint16_t)n };
	memcpy(s->tail_bytes, h->enc.buf + CODEC_HEADER_BYTES + h->enc.sealed_bytes, n);
}

/* Copies the changed heads of order[from, from + SLICE) into the stage,
 * their flags cleared; how many were. */
static size_t stage_slice(struct db *db, struct commit_work *w, size_t from, int *rc)
{
	size_t to = from + SLICE < db->n_order ? from + SLICE : db->n_order, n = 0;
	pthread_mutex_lock(&db->lock);
	if (!grow_array_from(&w->marks, &w->marks_cap, w->n_marks + (to - from), sizeof *w->marks,
			     1024)) {
		pthread_mutex_unlock(&db->lock);
		*rc = ENOMEM;
		return 0;
	}
	for (size_t i = from; i < to; i++) {
		/* The heads lie all over the heap, and the lock is held: their
		 * flags and encoder, then the start of their chunk, asked for ahead
		 * (nearly all of the staging's own time waited on the flags'
		 * line, 14 % of rmon-stored's CPU at 1.5 M series). */
		if (i + 2 * STAGE_AHEAD < to) {
			const char *ahead = (const char *)db->order[i + 2 * STAGE_AHEAD];
			for (int line = 0; line < (int)HEAD_LINES; line++)
				__builtin_prefetch(ahead + 64 * line);
		}
		if (i + STAGE_AHEAD < to) { /* its chunk, whose buffer is elsewhere */
			const uint8_t *chunk = db->order[i + STAGE_AHEAD]->enc.buf;
			if (chunk) {
				__builtin_prefetch(chunk);
				__builtin_prefetch(chunk + 64);
			}
		}
		struct head *h = db->order[i];
		if (!h->dirty && !h->unsaved)
			continue;
		struct staged *s = &w->stage[n++];
		s->dirty = h->dirty;
		s->unsaved = h->unsaved;
		s->id = h->id;
		s->chunk_start = h->chunk_start;
		stage_chunk(h, s);
		db_head_latest(h, &s->latest);
		h->dirty = h->unsaved = false;
		w->marks[w->n_marks++] = (struct mark){ h, s->dirty, s->unsaved };
	}
	pthread_mutex_unlock(&db->lock);
	return n;
}

/* The commit failed: the heads it copied are changed again. */
static void give_back(struct db *db, struct commit_work *w)
{
	pthread_mutex_lock(&db->lock);
	for (size_t i = 0; i < w->n_marks; i++) {
		w->marks[i].h->dirty |= w->marks[i].dirty;
		w->marks[i].h->unsaved |= w->marks[i].unsaved;
		w->marks[i].h->enc.sealed_count = 0; /* its record may not be in LMDB */
	}
	pthread_mutex_unlock(&db->lock);
}

/* The commit is in LMDB: the names and chunks it wrote leave the lists. */
static void drop_written(struct db *db, struct commit_work *w)
{
	pthread_mutex_lock(&db->lock); /* out of the lists first: register reads them */
	db->n_names -= w->n_names;
	if (w->n_names > 0) /* the arrays are NULL until a first name or chunk */
		memmove(db->names_pending, db->names_pending + w->n_names,
			db->n_names * sizeof *db->names_pending);
	db->n_closed -= w->n_closed;
	if (w->n_closed > 0)
		memmove(db->closed, db->closed + w->n_closed, db->n_closed * sizeof *db->closed);
	pthread_mutex_unlock(&db->lock);
	for (size_t i = 0; i < w->n_names; i++)
		free(w->names[i].name);
	for (size_t i = 0; i < w->n_closed; i++)
		free(w->closed[i].bytes);
}

/* ---- one commit: a pass over the heads, in transactions ---- */

/* Changed heads one transaction of a commit writes at most: a commit of a
 * million series reaches readers in steps of some 15 ms rather than all
 * at its end, so a series' new samples wait half a pass on average, not a
 * whole one.  Smaller, too, because LMDB keeps a transaction's dirty pages
 * in a sorted array, inserting each page the freelist gives (in no order)
 * with a memmove: at 131,072 heads that insertion was 14 % of the pass,
 * and heads of 180 samples cost 1.59 against 1.18 us a series at 32,768
 * (300,000 series).  Only the pass's last transaction stores the WAL
 * position it was asked for; the ones before leave the previous one, from
 * which a replay skips what their heads hold. */
#define TXN_HEADS 16384

static int name_by_id(const void *a, const void *b)
{
	uint64_t x = ((const struct pending_name *)a)->id, y = ((const struct pending_name *)b)->id;
	return (x > y) - (x < y);
}

/* As LMDB orders by_name's keys (layout_name_key): bytes, then length. */
static int name_by_name(const void *a, const void *b)
{
	const struct pending_name *x = a, *y = b;
	int c = memcmp(x->name, y->name, x->len < y->len ? x->len : y->len);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* The ordinal of each of n names, as they wait: in ordinal order, so
 * that the ordinals in LMDB stay dense after every transaction (readers
 * map a change record's ordinals to ids through them; a series' heads go
 * in id order, in other transactions). */
static int write_ordinals(struct db *db, MDB_txn *txn, struct commit_work *w,
			  const struct pending_name *names, size_t n)
{
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		uint32_t o = names[i].ordinal;
		uint8_t key[4] = { (uint8_t)(o >> 24), (uint8_t)(o >> 16), (uint8_t)(o >> 8),
				   (uint8_t)o };
		MDB_val k = { sizeof key, key }, v = { sizeof names[i].id, (void *)&names[i].id };
		rc = mdb_put(txn, db->le.dbi[LAYOUT_DB_ORDINALS], &k, &v, 0);
		if (o >= w->ordinals_end)
			w->ordinals_end = o + 1;
	}
	return rc;
}

/* Writes n names into both name tables, each in its own key order, so
 * that the inserts walk each B-tree's leaves in turn and dirty each leaf
 * once; in arrival order, 1.5 M names of hosts that all connected at once
 * dirtied tens of thousands of leaves at random in one transaction. */
static int write_names(struct db *db, MDB_txn *txn, struct commit_work *w,
		       struct pending_name *names, size_t n)
{
	int rc = write_ordinals(db, txn, w, names, n);
	qsort(names, n, sizeof *names, name_by_id);
	for (size_t i = 0; i < n && rc == 0; i++) {
		uint8_t key[8];
		layout_put_be64(key, names[i].id);
		MDB_val k = { sizeof key, key }, v = { names[i].len, names[i].name };
		rc = mdb_put(txn, db->names, &k, &v, 0);
	}
	qsort(names, n, sizeof *names, name_by_name);
	for (size_t i = 0; i < n && rc == 0; i++) {
		uint8_t key[8];
		layout_put_be64(key, names[i].id);
		MDB_val k = { sizeof key, key }, v = { names[i].len, names[i].name };
		rc = db_put_by_name(db, txn, &k, &v);
	}
	return rc;
}

/* Takes the chunks that closed since the last take and writes them. */
static int take_and_write_closed(struct db *db, MDB_txn *txn, struct commit_work *w)
{
	size_t from = w->n_closed;
	pthread_mutex_lock(&db->lock);
	int rc = take_lists(db, w, 0, true);
	pthread_mutex_unlock(&db->lock);
	for (size_t i = from; i < w->n_closed && rc == 0; i++)
		rc = write_closed(db, txn, w, &w->closed[i]);
	return rc;
}

static int write_staged(struct db *db, MDB_txn *txn, MDB_cursor *chunks, MDB_cursor *latest,
			const struct staged *s, size_t n)
{
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (s[i].len > 0) {
			uint8_t kbuf[LAYOUT_KEY_BYTES];
			layout_key(kbuf, s[i].id, s[i].chunk_start);
			MDB_val k = { sizeof kbuf, kbuf }, v = { s[i].len, (void *)s[i].value };
			rc = mdb_cursor_put(chunks, &k, &v, 0);
		}
		if (rc == 0)
			rc = db_put_series(db, txn, latest, s[i].id, &s[i].latest, false,
					   s[i].has_tail ? &s[i].tail : NULL, s[i].tail_bytes);
		if (rc == 0 && s[i].dirty)
			rc = changes_add(&db->changes, s[i].latest.ordinal);
	}
	return rc;
}

/* A write transaction with a cursor on the chunks and one on the latest
 * records, which the heads are written through in id order. */
struct txn {
	MDB_txn *txn;
	MDB_cursor *chunks, *latest;
};

/* Grows the map to at least `need` bytes, doubling it.  No transaction
 * of this process may be open: the appender's reads of names happen
 * under the lock. */
static int grow_map(struct db *db, size_t need)
{
	pthread_mutex_lock(&db->lock);
	size_t size = db->map_size;
	while (size < need)
		size *= 2;
	int rc = mdb_env_set_mapsize(db->env, size);
	if (rc == 0)
		db->map_size = size;
	pthread_mutex_unlock(&db->lock);
	return rc;
}

/* Before each transaction, the map grows while the file fills more than
 * half of it: a transaction that finds the map full is aborted and
 * written again, and a store filling up from nothing (a fleet's first
 * minute) met that at every doubling. */
static int room_to_write(struct db *db)
{
	MDB_envinfo info;
	MDB_stat st;
	if (mdb_env_info(db->env, &info) != 0 || mdb_env_stat(db->env, &st) != 0)
		return 0; /* a full map still grows when met */
	size_t used = (size_t)(info.me_last_pgno + 1) * st.ms_psize;
	return db->map_size < used * 2 ? grow_map(db, used * 2) : 0;
}

static int txn_begin(struct db *db, struct txn *t)
{
	*t = (struct txn){ 0 };
	db->changes.n = 0;
	int rc = room_to_write(db);
	if (rc == 0)
		rc = mdb_txn_begin(db->env, NULL, 0, &t->txn);
	if (rc == 0 && (rc = mdb_cursor_open(t->txn, db->chunks, &t->chunks)) == 0)
		rc = mdb_cursor_open(t->txn, db->le.dbi[LAYOUT_DB_LATEST], &t->latest);
	if (rc && t->txn) {
		mdb_txn_abort(t->txn); /* and its cursors */
		t->txn = NULL;
	}
	return rc;
}

/* The counters, as the appender has them now. */
struct tally {
	uint64_t samples, duplicates, out_of_order;
};

/* The change record, the sequence and the counters of a transaction, and
 * with wal_position (its pass's last) the position it was asked for. */
static int write_meta(struct db *db, MDB_txn *txn, const struct commit_work *w,
		      const uint64_t *wal_position, bool *news)
{
	pthread_mutex_lock(&db->lock);
	struct tally t = { db->samples, db->duplicates, db->out_of_order };
	pthread_mutex_unlock(&db->lock);
	*news = w->n_names > 0 || w->n_closed > 0 || w->n_marks > 0;
	int64_t now = rtime_now_ns();
	int rc = 0;
	if (*news)
		rc = changes_put(&db->changes, &db->le, txn, db->seq + 1, w->ordinals_end, now);
	if (rc == 0 && *news)
		rc = meta_put(db, txn, "seq", db->seq + 1);
	if (rc == 0)
		rc = changes_prune(&db->le, txn, now - db->config.changes_horizon_ns);
	if (rc == 0 && wal_position)
		rc = meta_put(db, txn, "applied", *wal_position);
	if (rc == 0)
		rc = meta_put(db, txn, "samples", t.samples);
	if (rc == 0)
		rc = meta_put(db, txn, "duplicates", t.duplicates);
	if (rc == 0)
		rc = meta_put(db, txn, "out_of_order", t.out_of_order);
	return rc;
}

/* Commits t (a failed write before rc given: aborts it).  Failed, the
 * heads it copied are changed again and its names and chunks stay in the
 * lists; committed, these leave them and readers are told. */
static int txn_end(struct db *db, struct txn *t, struct commit_work *w, int rc,
		   const uint64_t *wal_position)
{
	bool news = false;
	if (rc == 0)
		rc = write_meta(db, t->txn, w, wal_position, &news);
	if (rc == 0)
		rc = FAULT("db.commit"); /* as if LMDB's commit had failed */
	if (rc == 0)
		rc = mdb_txn_commit(t->txn);
	else
		mdb_txn_abort(t->txn);
	t->txn = NULL;
	if (rc) {
		give_back(db, w);
		w->ordinals_end = db->ordinals_written;
		return rc;
	}
	db->ordinals_written = w->ordinals_end;
	drop_written(db, w);
	w->written += w->n_marks;
	w->n_marks = w->n_names = w->n_closed = 0;
	if (wal_position) {
		pthread_mutex_lock(&db->lock);
		db->applied = *wal_position;
		pthread_mutex_unlock(&db->lock);
	}
	if (news) {
		db->seq++;
		commit_signal_publish(db->signal, db->seq);
	}
	return 0;
}

/* Names one transaction writes at most.  More than TXN_HEADS: every
 * transaction of names dirties much of both name tables again, so fewer,
 * larger ones write less.  Registering 1.5 M series at once took 5.8 s
 * of names at 16,384 a transaction, 3.4 s at 65,536 and 3.6 s at 262,144. */
#define TXN_NAMES 65536

/* The names pending when the pass begins, in transactions of their own
 * ahead of the heads: every head in the pass's order was registered with
 * its name before that, and a name may reach readers before its samples.
 * Names that come later wait for the next pass, as their heads do. */
static int write_pending_names(struct db *db, struct commit_work *w)
{
	pthread_mutex_lock(&db->lock);
	size_t due = db->n_names;
	pthread_mutex_unlock(&db->lock);
	int rc = 0;
	while (rc == 0 && due > 0) {
		pthread_mutex_lock(&db->lock);
		rc = take_lists(db, w, due < TXN_NAMES ? due : TXN_NAMES, false);
		pthread_mutex_unlock(&db->lock);
		size_t n = w->n_names;
		if (rc != 0 || n == 0) /* only this thread drops names: n is never 0 */
			break;
		struct txn t;
		if ((rc = txn_begin(db, &t)) != 0)
			return rc;
		due -= n;
		rc = txn_end(db, &t, w, write_names(db, t.txn, w, w->names, n), NULL);
	}
	return rc;
}

static int commit_pass(struct db *db, struct commit_work *w, uint64_t wal_position)
{
	struct txn t;
	w->n_marks = w->n_names = w->n_closed = 0;
	w->ordinals_end = db->ordinals_written;
	int rc = write_pending_names(db, w);
	if (rc == 0)
		rc = txn_begin(db, &t);
	if (rc)
		return rc;
	rc = take_and_write_closed(db, t.txn, w);
	for (size_t at = 0; rc == 0 && at < db->n_order; at += SLICE) {
		size_t n = stage_slice(db, w, at, &rc);
		if (rc == 0)
			rc = write_staged(db, t.txn, t.chunks, t.latest, w->stage, n);
		/* A chunk that closed before its head was copied goes in the same
		 * transaction as the head: its record is whole, and the latest
		 * record then carries the next chunk's tail. */
		if (rc == 0 && w->n_marks >= TXN_HEADS && at + SLICE < db->n_order &&
		    (rc = take_and_write_closed(db, t.txn, w)) == 0 &&
		    (rc = txn_end(db, &t, w, 0, NULL)) == 0)
			rc = txn_begin(db, &t);
		if (rc && !t.txn)
			return rc; /* txn_end gave the heads back */
	}
	/* Chunks that closed while the heads were written hold samples from
	 * before wal_position. */
	if (rc == 0)
		rc = take_and_write_closed(db, t.txn, w);
	return txn_end(db, &t, w, rc, &wal_position);
}

static int commit_round(struct db *db, uint64_t wal_position, struct err *e)
{
	if (!db->work && !(db->work = calloc(1, sizeof *db->work)))
		return err_set(e, -ENOMEM, "store %s: out of memory", db->dir);
	struct commit_work *w = db->work;
	int64_t start = rtime_mono_ns();
	w->written = 0;
	int rc = sort_in_fresh(db, w);
	/* A full map: what the transaction had copied was given back, those
	 * before it stay written; the pass goes on in a bigger map. */
	while (rc == 0 && (rc = commit_pass(db, w, wal_position)) == MDB_MAP_FULL)
		if ((rc = grow_map(db, db->map_size * 2)) != 0)
			return db_lmdb_error(e, rc, "cannot grow the map", db->dir);
	if (rc != 0)
		return db_lmdb_error(e, rc, "commit failed", db->dir);
	pthread_mutex_lock(&db->lock);
	db->commit_ns = rtime_mono_ns() - start;
	db->commit_series = w->written;
	pthread_mutex_unlock(&db->lock);
	return 0;
}

/* ---- the committer's thread ---- */

/* LMDB's file is written back after every commit of the committer's
 * thread, this much at a time, each step waited for.  Left to the kernel,
 * the pages a commit dirtied went out 30 s later, all at once, and the
 * WAL's next fdatasync, which acks wait for, waited behind them: 680 ms
 * once at 750,000 series (ack p99 450 ms; 44 ms written back so).  A step
 * of 16 MiB at a time lets the WAL's small writes in between; the
 * checkpoint's fdatasync then finds little left to write. */
#define FLUSH_STEP (16 << 20)

/* A commit writes back one slice of the file, the next one after it, so
 * that the whole file goes round in WRITE_BACK_ROUND commits.  A commit
 * that changes every series rewrites pages LMDB freed two commits before
 * (copy on write), so writing back the whole file after every commit
 * wrote each of those pages once a commit; in a round, a page rewritten
 * by several commits reaches the disk once. */
#define WRITE_BACK_ROUND 8

static void write_back(int fd, off_t from, off_t bytes)
{
	for (off_t at = from; at < from + bytes; at += FLUSH_STEP)
		sync_file_range(fd, at, FLUSH_STEP,
				SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
				    SYNC_FILE_RANGE_WAIT_AFTER);
}

static bool lmdb_file(struct db *db, int *fd, off_t *size)
{
	struct stat st;
	if (mdb_env_get_fd(db->env, fd) != 0 || fstat(*fd, &st) != 0)
		return false; /* the fdatasync that follows does it all */
	*size = st.st_size;
	return true;
}

static void flush_in_steps(struct db *db)
{
	int fd;
	off_t size;
	if (lmdb_file(db, &fd, &size))
		write_back(fd, 0, size);
}

static void write_back_slice(struct db *db)
{
	int fd;
	off_t size;
	if (!lmdb_file(db, &fd, &size))
		return;
	off_t slice = (size / WRITE_BACK_ROUND + FLUSH_STEP - 1) / FLUSH_STEP * FLUSH_STEP;
	off_t *at = &db->committer.written_back;
	if (*at >= size)
		*at = 0;
	write_back(fd, *at, slice);
	*at += slice;
}

static int sync_now(struct db *db, uint64_t wal_position, struct err *e)
{
	flush_in_steps(db);
	int rc = mdb_env_sync(db->env, 1);
	if (rc)
		return db_lmdb_error(e, rc, "cannot sync", db->dir);
	pthread_mutex_lock(&db->lock);
	db->synced = wal_position;
	pthread_mutex_unlock(&db->lock);
	return 0;
}

static void *committer_main(void *arg)
{
	struct db *db = arg;
	struct committer *c = &db->committer;
	pthread_mutex_lock(&db->lock);
	for (;;) {
		while (!c->asked && !c->stop)
			pthread_cond_wait(&c->wake, &db->lock);
		if (!c->asked)
			break;
		uint64_t position = c->wal_position;
		bool checkpoint = c->checkpoint;
		c->asked = false;
		c->running = true;
		pthread_mutex_unlock(&db->lock);
		struct err e = { 0 };
		int rc = commit_round(db, position, &e);
		if (rc == 0 && !checkpoint)
			write_back_slice(db);
		if (rc == 0 && checkpoint)
			rc = sync_now(db, position, &e);
		if (rc == 0 && checkpoint)
			rc = db_retention_step(db, rtime_now_ns(), &e);
		pthread_mutex_lock(&db->lock);
		c->running = false;
		c->finished = true;
		c->rc = rc;
		c->err = e;
		pthread_cond_broadcast(&c->done);
	}
	pthread_mutex_unlock(&db->lock);
	return NULL;
}

int db_commit_start(struct db *db, uint64_t wal_position, bool checkpoint, struct err *e)
{
	struct committer *c = &db->committer;
	int rc = 0;
	pthread_mutex_lock(&db->lock);
	if (c->asked || c->running)
		rc = err_set(e, -EBUSY, "store %s: a commit is still being written", db->dir);
	else if (!c->started && (rc = pthread_create(&c->thread, NULL, committer_main, db)) != 0)
		rc = err_set(e, -rc, "store %s: cannot start the commit's thread", db->dir);
	else {
		c->started = true;
		c->asked = true;
		c->wal_position = wal_position;
		c->checkpoint = checkpoint;
		pthread_cond_signal(&c->wake);
	}
	pthread_mutex_unlock(&db->lock);
	return rc;
}

bool db_commit_running(struct db *db)
{
	pthread_mutex_lock(&db->lock);
	bool running = db->committer.asked || db->committer.running;
	pthread_mutex_unlock(&db->lock);
	return running;
}

void db_commit_wait(struct db *db)
{
	struct committer *c = &db->committer;
	pthread_mutex_lock(&db->lock);
	while (c->asked || c->running)
		pthread_cond_wait(&c->done, &db->lock);
	pthread_mutex_unlock(&db->lock);
}

int db_commit_result(struct db *db, struct err *e)
{
	struct committer *c = &db->committer;
	pthread_mutex_lock(&db->lock);
	int rc = c->finished && !c->asked && !c->running ? c->rc : 1;
	if (rc < 0 && e)
		*e = c->err;
	if (rc != 1)
		c->finished = false;
	pthread_mutex_unlock(&db->lock);
	return rc;
}

void db_committer_stop(struct db *db)
{
	struct committer *c = &db->committer;
	pthread_mutex_lock(&db->lock);
	bool started = c->started;
	c->stop = true;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&db->lock);
	if (started)
		pthread_join(c->thread, NULL);
}

void db_commit_work_free(struct db *db)
{
	struct commit_work *w = db->work;
	if (!w)
		return;
	free(w->marks);
	free(w->names);
	free(w->closed);
	free(w->fresh);
	free(w);
	db->work = NULL;
}

/* ---- on the caller's thread ---- */

int db_commit(struct db *db, uint64_t wal_position, struct err *e)
{
	db_commit_wait(db);
	return commit_round(db, wal_position, e);
}

int db_checkpoint(struct db *db, struct err *e)
{
	db_commit_wait(db);
	return sync_now(db, db_applied_position(db), e);
}

uint64_t db_applied_position(struct db *db)
{
	pthread_mutex_lock(&db->lock);
	uint64_t applied = db->applied;
	pthread_mutex_unlock(&db->lock);
	return applied;
}

uint64_t db_synced_position(struct db *db)
{
	pthread_mutex_lock(&db->lock);
	uint64_t synced = db->synced;
	pthread_mutex_unlock(&db->lock);
	return synced;
}
