/* db.c - the LMDB state of the store: series names, compressed chunks,
 * rollups and the applied WAL position; see db.h and layout.h. */
#include "store/db.h"

#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "lib/fault.h"
#include "lib/grow.h"
#include "lib/rtime.h"
#include "lib/slab.h"
#include "store/changes.h"
#include "store/codec.h"
#include "store/commit_signal.h"
#include "store/latest.h"
#include "store/layout.h"
#include "store/lmdb_env.h"
#include "store/db_private.h"
#include "store/rollup.h"

void db_config_default(struct db_config *c)
{
	c->retention_raw_ns = INT64_C(15) * 86400 * 1000000000;
	c->retention_1m_ns = INT64_C(365) * 86400 * 1000000000;
	c->retention_1h_ns = INT64_C(3650) * 86400 * 1000000000;
	c->initial_map_bytes = 64ull << 20;
	c->changes_horizon_ns = INT64_C(3600) * 1000000000;
}

/* LMDB reports a short write as EIO: a file system with (almost) no room
 * left tells a full disk (-ENOSPC, which the drainer waits out) from a
 * failing one. */
static bool no_room(const char *dir)
{
	struct statvfs st;
	if (statvfs(dir, &st) != 0)
		return false;
	uint64_t room = (uint64_t)(geteuid() == 0 ? st.f_bfree : st.f_bavail) * st.f_frsize;
	return room < (1u << 20) || room < (uint64_t)st.f_blocks * st.f_frsize / 200;
}

int db_lmdb_error(struct err *e, int rc, const char *what, const char *dir)
{
	if (rc == EDQUOT || (rc == EIO && no_room(dir)))
		return err_set(e, -ENOSPC, "store %s: %s: the file system is full (%s)", dir, what,
			       mdb_strerror(rc));
	return lmdb_env_error(e, rc, what, dir);
}

/* ---- opening ---- */

static uint64_t meta_get(struct db *db, MDB_txn *txn, const char *key)
{
	return lmdb_env_meta(&db->le, txn, key);
}

static int meta_put(struct db *db, MDB_txn *txn, const char *key, uint64_t value)
{
	return lmdb_env_meta_put(&db->le, txn, key, value);
}

int db_newest_record(MDB_txn *txn, MDB_dbi dbi, uint64_t id, MDB_val *k, MDB_val *v)
{
	MDB_cursor *cur;
	int rc = mdb_cursor_open(txn, dbi, &cur);
	if (rc)
		return rc;
	uint8_t kbuf[LAYOUT_KEY_BYTES];
	layout_key(kbuf, id + 1, INT64_MIN);
	*k = (MDB_val){ sizeof kbuf, kbuf };
	/* The first key of the next id, then one step back. */
	rc = id == UINT64_MAX ? MDB_NOTFOUND : mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
	rc = rc == 0 ? mdb_cursor_get(cur, k, v, MDB_PREV) : mdb_cursor_get(cur, k, v, MDB_LAST);
	mdb_cursor_close(cur);
	uint64_t key_id;
	int64_t start;
	if (rc == 0 && k->mv_size == LAYOUT_KEY_BYTES) {
		layout_key_parse(k->mv_data, &key_id, &start);
		if (key_id == id)
			return 0;
	}
	return rc == 0 ? MDB_NOTFOUND : rc;
}

/* The first timestamp of series id's oldest chunk, INT64_MIN when none. */
static int64_t oldest_chunk(struct db *db, MDB_txn *txn, uint64_t id)
{
	MDB_cursor *cur;
	uint8_t kbuf[LAYOUT_KEY_BYTES];
	layout_key(kbuf, id, INT64_MIN);
	MDB_val k = { sizeof kbuf, kbuf }, v;
	int64_t result = INT64_MIN;
	if (mdb_cursor_open(txn, db->chunks, &cur) != 0)
		return result;
	if (mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) == 0 && k.mv_size == LAYOUT_KEY_BYTES) {
		uint64_t key_id;
		int64_t start;
		layout_key_parse(k.mv_data, &key_id, &start);
		if (key_id == id)
			result = start;
	}
	mdb_cursor_close(cur);
	return result;
}

/* Takes a series' ordinal, first time and minute from its latest record;
 * a series of a version 1 store has none: it gets the next ordinal and its
 * record is written at the next commit. */
static void load_latest(struct db *db, MDB_txn *txn, struct head *h)
{
	struct latest_series l;
	if (latest_get(&db->le, txn, h->id, h->last_ts, &l) == 0) {
		h->ordinal = l.ordinal;
		h->first_ts = l.first_ts;
		h->minute = l.minute;
		return;
	}
	h->ordinal = db->next_ordinal++;
	h->first_ts = h->last_ts == INT64_MIN ? INT64_MIN : oldest_chunk(db, txn, h->id);
	h->unsaved = true;
}

/* Rebuilds a series' head from its newest chunk, unless that one is closed. */
static int load_head(struct db *db, MDB_txn *txn, uint64_t id)
{
	struct head *h = db_head_add(db, id);
	if (!h)
		return ENOMEM;
	MDB_val k, v;
	int rc = db_newest_record(txn, db->chunks, id, &k, &v);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	uint64_t key_id;
	int64_t start, ts;
	double value;
	if (rc == 0 && v.mv_size > 1) {
		layout_key_parse(k.mv_data, &key_id, &start);
		struct codec_decoder dec;
		const uint8_t *bytes = v.mv_data;
		bool closed = bytes[0] == VALUE_CLOSED;
		const uint8_t *chunk = bytes + 1;
		size_t len = v.mv_size - 1;
		uint8_t whole[LAYOUT_HEAD_BYTES];
		if (!closed &&
		    (rc = latest_whole_chunk(&db->le, txn, id, start, &chunk, &len, whole)) != 0)
			return rc;
		if (codec_decoder_init(&dec, chunk, len) == 0) {
			/* Same mode as before: the first value decides the rest. */
			db_head_restart(h, dec.mode == CODEC_FLOAT);
			while (codec_next(&dec, &ts, &value) == 1) {
				latest_fold(&h->minute, ts, value, h->last_value);
				h->last_ts = ts;
				h->last_value = value;
				if (!closed && db_head_encode(h, ts, value) == -ENOMEM)
					return ENOMEM;
			}
			/* Rises of the first sample after a restart start from
			 * nothing: the value before this chunk is not kept. */
			h->chunk_start = start;
		}
	}
	load_latest(db, txn, h);
	return 0;
}

int db_put_by_name(struct db *db, MDB_txn *txn, MDB_val *id, MDB_val *name)
{
	uint8_t key[LAYOUT_NAME_KEY_BYTES];
	MDB_val k = { layout_name_key(key, name->mv_data, name->mv_size,
				      layout_get_be64(id->mv_data)),
		      key };
	return mdb_put(txn, db->le.dbi[LAYOUT_DB_BY_NAME], &k, id, 0);
}

static int load_heads(struct db *db, MDB_txn *txn)
{
	MDB_cursor *cur, *latest;
	MDB_val k, v;
	int rc = mdb_cursor_open(txn, db->names, &cur);
	if (rc)
		return rc;
	if ((rc = mdb_cursor_open(txn, db->le.dbi[LAYOUT_DB_LATEST], &latest)) != 0) {
		mdb_cursor_close(cur);
		return rc;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8)
			continue;
		int lrc = load_head(db, txn, layout_get_be64(k.mv_data));
		if (lrc == 0 && db->le.version < 2) /* by_name came with version 2 */
			lrc = db_put_by_name(db, txn, &k, &v);
		struct head *h = db_head_find(db, layout_get_be64(k.mv_data));
		struct latest_series l;
		if (lrc == 0 && h->unsaved)
			db_head_latest(h, &l);
		if (lrc == 0 && h->unsaved &&
		    (lrc = db_put_series(db, txn, latest, h->id, &l, true, NULL, NULL)) == 0)
			h->unsaved = false;
		if (lrc) {
			rc = lrc;
			break;
		}
	}
	mdb_cursor_close(latest);
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int db_open(const char *dir, const struct db_config *c, bool read_only, struct db **out,
	    struct err *e)
{
	struct db *db = calloc(1, sizeof *db);
	MDB_txn *txn = NULL;
	int rc;
	if (!db)
		return err_set(e, -ENOMEM, "store %s: out of memory", dir);
	snprintf(db->dir, sizeof db->dir, "%s", dir);
	pthread_mutex_init(&db->lock, NULL);
	pthread_cond_init(&db->committer.wake, NULL);
	pthread_cond_init(&db->committer.done, NULL);
	db->config = *c;
	db->read_only = read_only;
	if ((rc = lmdb_env_open(&db->le, dir, read_only, c->initial_map_bytes, e)) != 0)
		goto fail;
	db->env = db->le.env;
	db->names = db->le.dbi[LAYOUT_DB_NAMES];
	db->chunks = db->le.dbi[LAYOUT_DB_CHUNKS];
	db->rollups[0] = db->le.dbi[LAYOUT_DB_ROLLUP_1M];
	db->rollups[1] = db->le.dbi[LAYOUT_DB_ROLLUP_1H];
	db->meta = db->le.dbi[LAYOUT_DB_META];
	db->map_size = db->le.map_size;
	/* A version 1 store is upgraded below; a newer one is not ours. */
	if (db->le.version > LAYOUT_VERSION || (read_only && db->le.version != LAYOUT_VERSION)) {
		rc = err_set(e, -EPROTO, "store %s: layout version %llu, this program reads %d%s",
			     dir, (unsigned long long)db->le.version, LAYOUT_VERSION,
			     db->le.version < LAYOUT_VERSION ? " (start rmon-stored to upgrade it)"
							     : "");
		goto fail;
	}
	if (read_only)
		rc = lmdb_env_begin_read(&db->le, &txn, e);
	else if ((rc = mdb_txn_begin(db->env, NULL, 0, &txn)) != 0)
		rc = db_lmdb_error(e, rc, "cannot write", dir);
	if (rc)
		goto fail;
	db->applied = db->synced = meta_get(db, txn, "applied");
	db->samples = meta_get(db, txn, "samples");
	db->duplicates = meta_get(db, txn, "duplicates");
	db->out_of_order = meta_get(db, txn, "out_of_order");
	db->seq = meta_get(db, txn, "seq");
	if (read_only) {
		lmdb_env_end_read(&db->le, txn);
		*out = db;
		return 0;
	}
	MDB_stat st;
	if ((rc = mdb_stat(txn, db->le.dbi[LAYOUT_DB_ORDINALS], &st)) != 0 ||
	    (db->next_ordinal = (uint32_t)st.ms_entries, (rc = load_heads(db, txn)) != 0)) {
		rc = db_lmdb_error(e, rc, "cannot load the newest chunks", dir);
		goto fail;
	}
	/* Changes are recorded from here on.  An upgraded store had data
	 * before: the upgrade counts as a commit whose changes are unknown, so
	 * a reader asking since 0 is told to read everything. */
	db->ordinals_written = db->next_ordinal; /* an upgrade's too, written above */
	bool upgraded = db->le.version == 1;
	if (upgraded)
		db->seq++;
	if ((rc = meta_put(db, txn, "version", LAYOUT_VERSION)) ||
	    (upgraded && (rc = meta_put(db, txn, "seq", db->seq))) ||
	    (db->le.version < 2 && (rc = meta_put(db, txn, "changes_floor", db->seq)))) {
		rc = db_lmdb_error(e, rc, "cannot write", dir);
		goto fail;
	}
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc) {
		rc = db_lmdb_error(e, rc, "cannot write", dir);
		goto fail;
	}
	if ((rc = commit_signal_create(dir, &db->signal, e)) != 0)
		goto fail;
	commit_signal_publish(db->signal, db->seq);
	*out = db;
	return 0;
fail:
	if (txn)
		mdb_txn_abort(txn);
	db_close(db);
	return rc;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	db_committer_stop(db);
	db_commit_work_free(db);
	lmdb_env_close(&db->le);
	commit_signal_close(db->signal);
	changes_free(&db->changes);
	db_heads_free(db);
	slab_free(db->heads);
	free(db->table);
	for (size_t i = 0; i < db->n_closed; i++)
		free(db->closed[i].bytes);
	free(db->closed);
	for (size_t i = 0; i < db->n_names; i++)
		free(db->names_pending[i].name);
	free(db->names_pending);
	free(db->order);
	free(db->fresh);
	pthread_cond_destroy(&db->committer.wake);
	pthread_cond_destroy(&db->committer.done);
	pthread_mutex_destroy(&db->lock);
	free(db);
}

/* ---- writing ---- */

static int name_conflict(struct err *e, uint64_t id, const char *name, size_t len, const char *have,
			 size_t have_len)
{
	return err_set(
	    e, -EEXIST,
	    "series id %016llx of '%.*s' is already taken by '%.*s'; refusing to merge them",
	    (unsigned long long)id, (int)len, name, (int)have_len, have);
}

static int register_locked(struct db *db, uint64_t id, const char *name, size_t len, struct err *e)
{
	/* A name waiting for the commit always has its head: a new id has
	 * none, so thousands of new names do not scan each other. */
	bool known = db_head_find(db, id) != NULL;
	for (size_t i = 0; known && i < db->n_names; i++) {
		struct pending_name *p = &db->names_pending[i];
		if (p->id == id)
			return p->len == len && memcmp(p->name, name, len) == 0
				   ? 0
				   : name_conflict(e, id, name, len, p->name, p->len);
	}
	MDB_txn *txn;
	int rc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, &txn);
	if (rc)
		return db_lmdb_error(e, rc, "cannot read names", db->dir);
	uint8_t key[8];
	layout_put_be64(key, id);
	MDB_val k = { sizeof key, key }, v;
	rc = mdb_get(txn, db->names, &k, &v);
	if (rc == 0) {
		int same = v.mv_size == len && memcmp(v.mv_data, name, len) == 0;
		rc = same ? 0 : name_conflict(e, id, name, len, v.mv_data, v.mv_size);
		mdb_txn_abort(txn);
		if (rc == 0 && !db_head_find(db, id) && !db_head_add(db, id))
			return err_set(e, -ENOMEM, "db: out of memory");
		return rc;
	}
	mdb_txn_abort(txn);
	if (!grow_array_from(&db->names_pending, &db->names_cap, db->n_names + 1,
			     sizeof *db->names_pending, 64))
		return err_set(e, -ENOMEM, "db: out of memory");
	char *copy = FAULT("db.alloc") ? NULL : malloc(len);
	struct head *h = db_head_find(db, id);
	if (!copy || (!h && !(h = db_head_add(db, id)))) {
		free(copy);
		return err_set(e, -ENOMEM, "db: out of memory");
	}
	if (!h->unsaved) { /* numbered now, written with its name */
		h->ordinal = db->next_ordinal++;
		h->unsaved = true;
	}
	memcpy(copy, name, len);
	db->names_pending[db->n_names++] = (struct pending_name){ id, len, copy, h->ordinal };
	return 0;
}

int db_register_series(struct db *db, uint64_t id, const char *name, size_t len, struct err *e)
{
	pthread_mutex_lock(&db->lock);
	int rc = register_locked(db, id, name, len, e);
	pthread_mutex_unlock(&db->lock);
	return rc;
}

/* ---- statistics ---- */

int db_get_stats(struct db *db, struct db_stats *out, struct err *e)
{
	MDB_txn *txn;
	MDB_stat st;
	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&db->lock); /* no read while the committer grows the map */
	int rc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, &txn);
	if (rc == MDB_MAP_RESIZED) {
		mdb_env_set_mapsize(db->env, 0);
		rc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, &txn);
	}
	if (rc) {
		pthread_mutex_unlock(&db->lock);
		return db_lmdb_error(e, rc, "cannot read", db->dir);
	}
	if (mdb_stat(txn, db->names, &st) == 0)
		out->series = st.ms_entries;
	if (mdb_stat(txn, db->chunks, &st) == 0)
		out->chunk_bytes =
		    (uint64_t)(st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages) *
		    st.ms_psize;
	out->samples = meta_get(db, txn, "samples");
	out->duplicates = meta_get(db, txn, "duplicates");
	out->out_of_order = meta_get(db, txn, "out_of_order");
	out->applied_position = meta_get(db, txn, "applied");
	mdb_txn_abort(txn);
	out->commit_ns = db->commit_ns;
	out->commit_series = db->commit_series;
	pthread_mutex_unlock(&db->lock);
	char path[4200];
	struct stat fst;
	snprintf(path, sizeof path, "%s/data.mdb", db->dir);
	if (stat(path, &fst) == 0)
		out->file_bytes = (uint64_t)fst.st_blocks * 512;
	return 0;
}
