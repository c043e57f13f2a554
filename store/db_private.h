/* db_private.h - what the files of the writer's LMDB state share (db.c:
 * opening, names and the commit; db_heads.c: the heads of the series and
 * appending to them; db_retention.c: deleting what is older than kept):
 * the handle and the in-memory head of each series.  Not a public API: the
 * store includes db.h. */
#ifndef RMON_DB_PRIVATE_H
#define RMON_DB_PRIVATE_H

#include <lmdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "lib/slab.h"
#include "store/changes.h"
#include "store/codec.h"
#include "store/commit_signal.h"
#include "store/db.h"
#include "store/latest.h"
#include "store/layout.h"
#include "store/lmdb_env.h"

#define VALUE_CLOSED 1 /* first byte of a chunk value: the chunk is final */

struct head {
	uint64_t id;
	int64_t chunk_start; /* first timestamp of the head chunk (when count > 0) */
	int64_t last_ts;     /* newest timestamp stored, INT64_MIN when none */
	double last_value;   /* newest value stored, NaN when none */
	double before_chunk; /* the value before the head chunk's first, NaN when none */
	int64_t first_ts; /* oldest timestamp ever stored, INT64_MIN when none or not known yet */
	/* Its buffer grows with the chunk (db_heads.c).  Its sealed_count
	 * first samples are in the chunk's record in LMDB, in bytes of the
	 * stream that do not change before sealed_bytes; the rest goes in the
	 * latest record as a tail (layout.h).  sealed_count 0: the next commit
	 * writes the record whole. */
	struct codec_encoder enc;
	struct latest_minute minute; /* shares the encoder's last line (latest.h) */
	uint32_t ordinal : 30;	     /* registration order: its place in change records */
	uint32_t dirty : 1;	     /* appended to since the last commit */
	uint32_t unsaved : 1;	     /* its ordinal and latest record are not in LMDB yet */
};

/* Heads sit an odd number of cache lines apart in their slabs (which
 * round sizes up to a line), 3 here: at an even number (16 lines, when
 * the chunk's buffer was part of the head) the first line of every head
 * fell into the same few cache sets, and the drainer, touching a
 * different head at nearly every sample, measured a third slower. */
#define HEAD_LINES ((sizeof(struct head) + 63) / 64)
_Static_assert(HEAD_LINES % 2 == 1, "struct head: an odd number of cache lines");

struct closed_chunk {
	uint64_t id;
	int64_t start;
	double before; /* the series' value before this chunk, for rollup rises */
	size_t len;
	uint8_t *bytes; /* value: VALUE_CLOSED then the codec chunk */
};

struct pending_name {
	uint64_t id;
	size_t len;
	char *name;
	uint32_t ordinal; /* written with the name: names wait in ordinal order */
};

/* The commit on its own thread (db_commit.c): what the caller asked for
 * and what the last round ended with. */
struct committer {
	pthread_t thread;
	pthread_cond_t wake, done;
	bool started, stop;
	bool asked, running;   /* a round waits to begin / is being written */
	uint64_t wal_position; /* the round asked for: its WAL position ... */
	bool checkpoint;       /* ... whether it syncs and applies retention */
	bool finished;	       /* a round ended since db_commit_result looked */
	int rc;		       /* how it ended */
	struct err err;
	off_t written_back; /* where the next commit's write-back starts */
};

struct db {
	struct lmdb_env le;
	MDB_env *env; /* le's, by their old names */
	MDB_dbi names, chunks, rollups[2], meta;
	struct commit_signal *signal;
	uint64_t seq;		   /* commits that changed something, meta "seq" */
	uint32_t next_ordinal;	   /* the ordinal of the next new series */
	uint32_t ordinals_written; /* the committer's: ordinals below it are in LMDB */
	struct changes changes;	   /* the series changed in the commit being written */
	bool read_only;
	struct db_config config;
	size_t map_size;
	/* Who appends and the committer's thread share the heads, the table,
	 * the pending names and closed chunks and the counters: this lock
	 * guards them.  The committer holds it only to copy a slice of heads
	 * out, never while LMDB writes. */
	pthread_mutex_t lock;
	struct committer committer;
	uint64_t synced;	  /* the WAL position the last checkpoint made durable in LMDB */
	int64_t commit_ns;	  /* the last commit's length ... */
	uint64_t commit_series;	  /* ... and the changed series it wrote */
	struct commit_work *work; /* the committer's buffers (db_commit.c) */
	/* Heads by id: open addressing, linear probing, a power-of-two size. */
	struct head **table;
	size_t table_cap, n_heads;
	struct slab *heads; /* where the heads live */
	/* The heads sorted by id, the order the commit writes them in (LMDB's
	 * keys start with the id: in key order each page is touched once);
	 * heads added since the last commit wait in fresh to be merged in. */
	struct head **order, **fresh;
	size_t n_order, order_cap, n_fresh, fresh_cap;
	struct closed_chunk *closed;
	size_t n_closed, closed_cap;
	struct pending_name *names_pending;
	size_t n_names, names_cap;
	uint64_t applied, samples, duplicates, out_of_order;
	/* Retention passes: when the last began, and per resolution the series
	 * it goes on with and whether this pass is done with it. */
	int64_t retention_began;
	uint64_t retention_next[3];
	bool retention_done[3];
	char dir[4096];
};

/* The head of series id, or NULL when the table has none. */
struct head *db_head_find(struct db *db, uint64_t id);

/* Adds an empty head for series id, which the table must not hold yet
 * (its ordinal 0, no samples); NULL when out of memory. */
struct head *db_head_add(struct db *db, uint64_t id);

/* Starts an empty chunk in h, in a buffer of the first size. */
void db_head_restart(struct head *h, bool prefer_float);

/* Appends a sample to h's chunk, its buffer grown as the chunk needs:
 * codec_append's answers, or -ENOMEM. */
int db_head_encode(struct head *h, int64_t ts, double value);

/* Frees the chunk buffers of every head (at close). */
void db_heads_free(struct db *db);

/* The newest record of series id in dbi: 0 with *k and *v set (valid
 * while txn lives) when one exists, else MDB_NOTFOUND. */
int db_newest_record(MDB_txn *txn, MDB_dbi dbi, uint64_t id, MDB_val *k, MDB_val *v);

/* What series h's latest record holds (its first time set when it was
 * not known yet). */
void db_head_latest(struct head *h, struct latest_series *l);

/* Writes series id's latest record through cursor latest (on the latest
 * database of txn), with its chunk's tail when tail is not NULL, and its
 * ordinal when unsaved (new). */
int db_put_series(struct db *db, MDB_txn *txn, MDB_cursor *latest, uint64_t id,
		  const struct latest_series *l, bool unsaved, const struct layout_tail *tail,
		  const uint8_t *tail_bytes);

/* by_name's record of a series: key id (8 bytes) and name as in names. */
int db_put_by_name(struct db *db, MDB_txn *txn, MDB_val *id, MDB_val *name);

/* Stops the committer's thread, after the commit it is writing, and frees
 * its buffers. */
void db_committer_stop(struct db *db);
void db_commit_work_free(struct db *db);

/* db_apply_retention's work, on the committer's thread or the caller's. */
int db_retention_step(struct db *db, int64_t now_ns, struct err *e);

/* LMDB code rc as a negative errno with "store DIR: what: ..." in e; a
 * file system out of room is -ENOSPC. */
int db_lmdb_error(struct err *e, int rc, const char *what, const char *dir);

#endif
