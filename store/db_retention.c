/* db_retention.c - retention in the writer's LMDB state: each call deletes
 * a bounded number of expired chunk and rollup records and goes on where
 * the last one stopped.  See db.h (db_apply_retention). */
#include <lmdb.h>

#include "store/db_private.h"
#include "store/layout.h"

static bool is_live_head(struct db *db, uint64_t id, int64_t start)
{
	struct head *h = db_head_find(db, id);
	return h && h->enc.count > 0 && h->chunk_start == start;
}

/* Deletes expired records of one resolution, at most `budget` keys looked
 * at, starting with series *next. Keys sort by id then time, so a series'
 * expired records are the first of its run: seek to it, delete while they
 * are old, then seek past it. *next is where the next call goes on (0
 * again after the last series), so each call costs the same however much
 * the database holds, and every record is met within a few calls. */
static int expire(struct db *db, MDB_txn *txn, int r, int64_t cutoff, size_t budget, uint64_t *next,
		  bool *done)
{
	MDB_dbi dbis[] = { db->chunks, db->rollups[0], db->rollups[1] };
	MDB_cursor *cur;
	int rc = mdb_cursor_open(txn, dbis[r], &cur);
	if (rc)
		return rc;
	uint8_t kbuf[LAYOUT_KEY_BYTES];
	layout_key(kbuf, *next, INT64_MIN);
	MDB_val k = { sizeof kbuf, kbuf }, v;
	int got = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	for (; got == 0 && budget > 0; budget--) {
		uint64_t id;
		int64_t start;
		if (k.mv_size != LAYOUT_KEY_BYTES) {
			got = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
			continue;
		}
		layout_key_parse(k.mv_data, &id, &start);
		*next = id;
		if (start < cutoff && !(r == 0 && is_live_head(db, id, start))) {
			if ((rc = mdb_cursor_del(cur, 0)) != 0)
				break;
			got = mdb_cursor_get(cur, &k, &v, MDB_NEXT); /* the one after */
			continue;
		}
		if (id == UINT64_MAX)
			break;
		layout_key(kbuf, id + 1, INT64_MIN); /* the rest of this series is newer */
		k = (MDB_val){ sizeof kbuf, kbuf };
		got = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	}
	if (rc == 0 && got != 0 && got != MDB_NOTFOUND)
		rc = got;
	*done = got == MDB_NOTFOUND || (rc == 0 && got == 0 && budget > 0);
	if (*done)
		*next = 0; /* the whole resolution was walked: the next pass starts over */
	mdb_cursor_close(cur);
	return rc;
}

int db_retention_step(struct db *db, int64_t now_ns, struct err *e)
{
	const int64_t keep[] = { db->config.retention_raw_ns, db->config.retention_1m_ns,
				 db->config.retention_1h_ns };
	bool *done = db->retention_done;
	if (!db->retention_began) /* the first pass starts now */
		db->retention_began = now_ns;
	if (done[0] && done[1] && done[2]) { /* between passes */
		if (now_ns - db->retention_began < DB_RETENTION_EVERY_NS)
			return 0;
		db->retention_began = now_ns;
		done[0] = done[1] = done[2] = false;
	}
	MDB_txn *txn;
	int rc = mdb_txn_begin(db->env, NULL, 0, &txn);
	/* A record starting before the cutoff holds nothing newer than what
	 * retention keeps. */
	for (int r = 0; r < 3 && rc == 0; r++)
		if (!done[r])
			rc = expire(db, txn, r, now_ns - keep[r] - layout_record_span_ns[r],
				    DB_RETENTION_BUDGET, &db->retention_next[r], &done[r]);
	if (rc == 0)
		rc = mdb_txn_commit(txn);
	else
		mdb_txn_abort(txn);
	return rc ? db_lmdb_error(e, rc, "retention failed", db->dir) : 0;
}

int db_apply_retention(struct db *db, int64_t now_ns, struct err *e)
{
	db_commit_wait(db); /* one write transaction at a time */
	return db_retention_step(db, now_ns, e);
}
