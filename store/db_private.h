/* db_private.h - what the files of the writer's LMDB state share (db.c:
 * opening, names and the commit; db_heads.c: the heads of the series and
 * appending to them; db_retention.c: deleting what is older than kept):
 * the handle and the in-memory head of each series.  Not a public API: the
 * store includes db.h. */
#ifndef RMON_DB_PRIVATE_H
#define RMON_DB_PRIVATE_H

#include <lmdb.h>
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
	struct codec_encoder enc;
	struct latest_minute minute; /* shares the encoder's last line (latest.h) */
	uint32_t ordinal : 30;	     /* registration order: its place in change records */
	uint32_t dirty : 1;	     /* appended to since the last commit */
	uint32_t unsaved : 1;	     /* its ordinal and latest record are not in LMDB yet */
	uint8_t buf[LAYOUT_HEAD_BYTES];
};

/* Heads sit an odd number of cache lines apart in their slabs (which
 * round sizes up to a line), 15 here: at 16, 1 KiB, the first line of
 * every head would fall into the same few cache sets, and the drainer,
 * touching a different head at nearly every sample, measured a third
 * slower. */
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
};

struct db {
	struct lmdb_env le;
	MDB_env *env; /* le's, by their old names */
	MDB_dbi names, chunks, rollups[2], meta;
	struct commit_signal *signal;
	uint64_t seq;		/* commits that changed something, meta "seq" */
	uint32_t next_ordinal;	/* the ordinal of the next new series */
	struct changes changes; /* the series changed in the commit being written */
	bool read_only;
	struct db_config config;
	size_t map_size;
	/* Heads by id: open addressing, linear probing, a power-of-two size. */
	struct head **table;
	size_t table_cap, n_heads;
	struct slab *heads; /* where the heads live */
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

/* LMDB code rc as a negative errno with "store DIR: what: ..." in e; a
 * file system out of room is -ENOSPC. */
int db_lmdb_error(struct err *e, int rc, const char *what, const char *dir);

#endif
