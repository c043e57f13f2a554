/* lmdb_env.c - the store's LMDB environment, opened one way by the writer
 * and the readers; see lmdb_env.h. */
#include "store/lmdb_env.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int lmdb_env_error(struct err *e, int rc, const char *what, const char *dir)
{
	int code;
	switch (rc) {
	case MDB_NOTFOUND:
		code = -ENOENT;
		break;
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
	case MDB_CURSOR_FULL:
	case MDB_PAGE_FULL:
		code = -ENOSPC;
		break;
	case MDB_READERS_FULL:
	case MDB_MAP_RESIZED:
		code = -EAGAIN;
		break;
	case MDB_VERSION_MISMATCH:
	case MDB_INVALID:
		code = -EPROTO;
		break;
	default:
		code = rc > 0 ? -rc : -EIO;
	}
	return err_set(e, code, "store %s: %s: %s", dir, what, mdb_strerror(rc));
}

int lmdb_env_begin_read(struct lmdb_env *le, MDB_txn **txn, struct err *e)
{
	int rc = mdb_txn_begin(le->env, NULL, MDB_RDONLY, txn);
	if (rc == MDB_MAP_RESIZED) {
		/* The writer grew the file: map it whole, then read. */
		if ((rc = mdb_env_set_mapsize(le->env, 0)) == 0)
			rc = mdb_txn_begin(le->env, NULL, MDB_RDONLY, txn);
	}
	return rc ? lmdb_env_error(e, rc, "cannot read", le->dir) : 0;
}

uint64_t lmdb_env_meta(struct lmdb_env *le, MDB_txn *txn, const char *key)
{
	MDB_val k = { strlen(key), (void *)key }, v;
	uint64_t value = 0;
	if (mdb_get(txn, le->dbi[LAYOUT_DB_META], &k, &v) == 0 && v.mv_size == sizeof value)
		memcpy(&value, v.mv_data, sizeof value);
	return value;
}

int lmdb_env_meta_put(struct lmdb_env *le, MDB_txn *txn, const char *key, uint64_t value)
{
	MDB_val k = { strlen(key), (void *)key }, v = { sizeof value, &value };
	return mdb_put(txn, le->dbi[LAYOUT_DB_META], &k, &v, 0);
}

/* The writer leaves room to write: a map nearly as full as the file would
 * fail the very first commit. */
static int size_map(struct lmdb_env *le, uint64_t initial_map_bytes)
{
	MDB_envinfo info;
	MDB_stat st;
	mdb_env_info(le->env, &info);
	mdb_env_stat(le->env, &st);
	le->map_size = info.me_mapsize;
	size_t used = (size_t)(info.me_last_pgno + 1) * st.ms_psize;
	if (le->read_only || le->map_size >= used * 2 + initial_map_bytes)
		return 0;
	le->map_size = used * 2 + initial_map_bytes;
	return mdb_env_set_mapsize(le->env, le->map_size);
}

/* Opens the sub-databases; a reader stops after meta when the layout
 * version is not its own, so the caller can say which it is. */
static int open_dbs(struct lmdb_env *le, MDB_txn *txn)
{
	unsigned flags = le->read_only ? 0 : MDB_CREATE;
	int rc = mdb_dbi_open(txn, layout_dbs[LAYOUT_DB_META], flags, &le->dbi[LAYOUT_DB_META]);
	if (rc)
		return rc;
	le->version = lmdb_env_meta(le, txn, "version");
	if (le->read_only && le->version != LAYOUT_VERSION)
		return 0;
	/* Integer keys compare without memcmp: readers look up thousands of
	 * latest records a pass. */
	for (int i = 0; i < LAYOUT_DBS && rc == 0; i++)
		if (i != LAYOUT_DB_META)
			rc = mdb_dbi_open(txn, layout_dbs[i],
					  flags | (i == LAYOUT_DB_LATEST ? MDB_INTEGERKEY : 0),
					  &le->dbi[i]);
	return rc;
}

int lmdb_env_open(struct lmdb_env *le, const char *dir, bool read_only, uint64_t initial_map_bytes,
		  struct err *e)
{
	MDB_txn *txn = NULL;
	int rc;
	memset(le, 0, sizeof *le);
	le->read_only = read_only;
	snprintf(le->dir, sizeof le->dir, "%s", dir);
	if (!read_only && mkdir(dir, 0700) != 0 && errno != EEXIST)
		return err_sys(e, -errno, "store: cannot create folder %s", dir);
	if ((rc = mdb_env_create(&le->env)) || (rc = mdb_env_set_maxdbs(le->env, LAYOUT_DBS + 2)) ||
	    (!read_only && (rc = mdb_env_set_mapsize(le->env, initial_map_bytes))))
		return lmdb_env_error(e, rc, "cannot create the environment", dir);
	/* Commits do not fsync: a killed process leaves the page cache, and
	 * LMDB stays at its last committed transaction; the writer syncs at
	 * checkpoints before the WAL is trimmed, which covers a machine crash.
	 * MDB_NOTLS: a read transaction belongs to its handle, not a thread. */
	unsigned flags = (read_only ? MDB_RDONLY : MDB_NOSYNC | MDB_NOMETASYNC) | MDB_NOTLS;
	if ((rc = mdb_env_open(le->env, dir, flags, 0600)))
		return lmdb_env_error(e, rc, "cannot open", dir);
	if ((rc = size_map(le, initial_map_bytes)))
		return lmdb_env_error(e, rc, "cannot grow the map", dir);
	if (read_only)
		rc = lmdb_env_begin_read(le, &txn, e);
	else if ((rc = mdb_txn_begin(le->env, NULL, 0, &txn)))
		return lmdb_env_error(e, rc, "cannot write", dir);
	if (rc)
		return rc;
	if ((rc = open_dbs(le, txn))) {
		mdb_txn_abort(txn);
		return lmdb_env_error(
		    e, rc, read_only ? "not a Rusty Monitor store (yet)" : "cannot open databases",
		    dir);
	}
	/* Committing, even read-only, keeps the database handles open. */
	if ((rc = mdb_txn_commit(txn)))
		return lmdb_env_error(e, rc, "cannot open databases", dir);
	return 0;
}

void lmdb_env_close(struct lmdb_env *le)
{
	if (le->env)
		mdb_env_close(le->env);
	le->env = NULL;
}
