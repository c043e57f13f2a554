/* lmdb_env.c - the store's LMDB environment, opened one way by the writer
 * and the readers; see lmdb_env.h. */
#include "store/lmdb_env.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/fault.h"

#define READER_MAP_BYTES (64ull << 30)

/* The readers' environments of this process, one per store (by the
 * folder's device and inode); the lock guards the list, the counts and
 * every remap. */
struct lmdb_shared {
	struct lmdb_shared *next;
	dev_t dev;
	ino_t ino;
	MDB_env *env;
	MDB_dbi dbi[LAYOUT_DBS];
	uint64_t version;
	int refs;
	int reading; /* read transactions begun or beginning */
};

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lmdb_shared *shared_envs;

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

static void count_reading(struct lmdb_env *le, int delta)
{
	if (!le->shared)
		return;
	pthread_mutex_lock(&shared_lock);
	le->shared->reading += delta;
	pthread_mutex_unlock(&shared_lock);
}

int lmdb_env_begin_read(struct lmdb_env *le, MDB_txn **txn, struct err *e)
{
	count_reading(le, 1);
	int rc = FAULT("lmdb.begin_read");
	if (rc == 0)
		rc = mdb_txn_begin(le->env, NULL, MDB_RDONLY, txn);
	if (rc == MDB_MAP_RESIZED) {
		/* The writer grew the file past our map: map it whole, which
		 * is safe only while no other snapshot of ours reads the old
		 * mapping (every begin counts itself first). */
		pthread_mutex_lock(&shared_lock);
		bool alone = !le->shared || le->shared->reading == 1;
		if (alone && (rc = mdb_env_set_mapsize(le->env, 0)) == 0)
			rc = mdb_txn_begin(le->env, NULL, MDB_RDONLY, txn);
		pthread_mutex_unlock(&shared_lock);
		if (!alone) {
			count_reading(le, -1);
			return err_set(e, -EAGAIN,
				       "store %s grew past this process's map while another of its "
				       "snapshots is open: end those and read again",
				       le->dir);
		}
	}
	if (rc)
		count_reading(le, -1);
	return rc ? lmdb_env_error(e, rc, "cannot read", le->dir) : 0;
}

void lmdb_env_end_read(struct lmdb_env *le, MDB_txn *txn)
{
	mdb_txn_abort(txn);
	count_reading(le, -1);
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

/* Opens the LMDB environment itself into le. */
static int open_env(struct lmdb_env *le, const char *dir, uint64_t initial_map_bytes, struct err *e)
{
	MDB_txn *txn = NULL;
	bool read_only = le->read_only;
	uint64_t map = read_only ? READER_MAP_BYTES : initial_map_bytes;
	int rc;
	if ((rc = mdb_env_create(&le->env)) || (rc = mdb_env_set_maxdbs(le->env, LAYOUT_DBS + 2)) ||
	    (rc = mdb_env_set_mapsize(le->env, map)))
		return lmdb_env_error(e, rc, "cannot create the environment", dir);
	/* Commits do not fsync: a killed process leaves the page cache, and
	 * LMDB stays at its last committed transaction; the writer syncs at
	 * checkpoints before the WAL is trimmed, which covers a machine crash.
	 * MDB_NOTLS: a read transaction belongs to its handle, not a thread. */
	unsigned flags = (read_only ? MDB_RDONLY : MDB_NOSYNC | MDB_NOMETASYNC) | MDB_NOTLS;
	rc = mdb_env_open(le->env, dir, flags, 0600);
	if (rc == ENOMEM && read_only) {
		/* Address space is limited here (ulimit -v): the file's size. */
		mdb_env_close(le->env);
		if ((rc = mdb_env_create(&le->env)) == 0 &&
		    (rc = mdb_env_set_maxdbs(le->env, LAYOUT_DBS + 2)) == 0)
			rc = mdb_env_open(le->env, dir, flags, 0600);
	}
	if (rc)
		return lmdb_env_error(e, rc, "cannot open", dir);
	if ((rc = size_map(le, initial_map_bytes)))
		return lmdb_env_error(e, rc, "cannot grow the map", dir);
	if ((rc = mdb_txn_begin(le->env, NULL, read_only ? MDB_RDONLY : 0, &txn)))
		return lmdb_env_error(e, rc, read_only ? "cannot read" : "cannot write", dir);
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

/* A reader: the process's environment of that store, opened on first use. */
static int open_shared(struct lmdb_env *le, const char *dir, struct err *e)
{
	struct stat st;
	if (stat(dir, &st) != 0)
		return err_sys(e, -errno, "store: cannot open %s", dir);
	pthread_mutex_lock(&shared_lock);
	struct lmdb_shared *s = shared_envs;
	while (s && (s->dev != st.st_dev || s->ino != st.st_ino))
		s = s->next;
	int rc = 0;
	if (!s && !(s = calloc(1, sizeof *s)))
		rc = err_set(e, -ENOMEM, "store %s: out of memory", dir);
	else if (!s->env && (rc = open_env(le, dir, 0, e)) != 0) {
		if (le->env)
			mdb_env_close(le->env);
		le->env = NULL;
		free(s);
	} else if (!s->env) {
		*s = (struct lmdb_shared){ shared_envs, st.st_dev,   st.st_ino, le->env,
					   { 0 },	le->version, 0,		0 };
		memcpy(s->dbi, le->dbi, sizeof s->dbi);
		shared_envs = s;
	}
	if (rc == 0) {
		s->refs++;
		le->shared = s;
		le->env = s->env;
		le->version = s->version;
		memcpy(le->dbi, s->dbi, sizeof le->dbi);
	}
	pthread_mutex_unlock(&shared_lock);
	return rc;
}

int lmdb_env_open(struct lmdb_env *le, const char *dir, bool read_only, uint64_t initial_map_bytes,
		  struct err *e)
{
	memset(le, 0, sizeof *le);
	le->read_only = read_only;
	snprintf(le->dir, sizeof le->dir, "%s", dir);
	if (read_only)
		return open_shared(le, dir, e);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return err_sys(e, -errno, "store: cannot create folder %s", dir);
	return open_env(le, dir, initial_map_bytes, e);
}

void lmdb_env_close(struct lmdb_env *le)
{
	struct lmdb_shared *s = le->shared;
	if (s) {
		pthread_mutex_lock(&shared_lock);
		if (--s->refs == 0) {
			struct lmdb_shared **p = &shared_envs;
			while (*p != s)
				p = &(*p)->next;
			*p = s->next;
			mdb_env_close(s->env);
			free(s);
		}
		pthread_mutex_unlock(&shared_lock);
	} else if (le->env) {
		mdb_env_close(le->env);
	}
	le->env = NULL;
	le->shared = NULL;
}
