/* query_private.h - what the files of the readers' API share (query.c,
 * query_selector.c, query_range.c, query_follow.c): the handle and its
 * snapshot.  Not a public API: readers include query.h. */
#ifndef RMON_QUERY_PRIVATE_H
#define RMON_QUERY_PRIVATE_H

#include "store/commit_signal.h"
#include "store/lmdb_env.h"
#include "store/query.h"

struct query {
	struct lmdb_env le;
	struct commit_signal *signal; /* NULL until a writer of this version ran */
	MDB_txn *held;		      /* the snapshot of query_begin, or NULL */
	uint64_t held_seq;
	uint64_t *ids; /* by ordinal: a cache of the "ordinals" database */
	size_t n_ids, ids_cap;
	uint8_t *seen; /* query_changed's bitmap over ordinals */
	size_t seen_cap;
	uint64_t bad_names; /* skipped by the last query_series */
	char data_dir[4096];
};

/* The snapshot a call reads: the held one, or a new one that query_done
 * ends.  lmdb_env_begin_read's errors. */
int query_snapshot(struct query *q, MDB_txn **txn, struct err *e);
void query_done(struct query *q, MDB_txn *txn);

/* LMDB code rc as a negative errno with "store DIR: what: ..." in e. */
int query_lmdb_error(struct query *q, struct err *e, int rc, const char *what);

/* Positions cur at the first record of series id that may hold data at or
 * after ts: the last record starting at or before ts, else the first
 * after; MDB_NOTFOUND when id has none there. */
int query_seek(MDB_cursor *cur, uint64_t id, int64_t ts, MDB_val *k, MDB_val *v);

/* Finds label's value in the canonical name (len bytes), unescaped into
 * buf (cap bytes); false when the series lacks it.  "__host__" is the host
 * part, "__name__" the metric. */
bool query_name_label(const char *name, size_t len, const char *label, char *buf, size_t cap);

/* The host a selector names without globs, or NULL. */
const char *query_selector_host(const struct query_selector *sel);

#endif
