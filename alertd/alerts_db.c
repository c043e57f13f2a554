/* alerts_db.c - the LMDB environment "<data>/alertd" shared by the alert
 * store and the notification log; see alerts_db.h. */
#include "alertd/alerts_db.h"

#include <errno.h>
#include <string.h>

#include "lib/fault.h"
#include "lib/utf8.h"

int adb_error(struct alert_store *s, struct err *e, int rc, const char *what)
{
	int code;
	switch (rc) {
	case MDB_NOTFOUND:
		code = -ENOENT;
		break;
	case MDB_MAP_FULL:
		s->map_full = true;
		code = -ENOSPC;
		break;
	case MDB_TXN_FULL:
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
	return err_set(e, code, "alert store %s: %s: %s", s->dir, what, mdb_strerror(rc));
}

/* Begins a transaction, adopting a map that another process grew (LMDB
 * says MDB_MAP_RESIZED; no transaction of ours is open under the lock). */
static int begin(struct alert_store *s, unsigned flags, MDB_txn **txn)
{
	int rc = mdb_txn_begin(s->env, NULL, flags, txn);
	if (rc == MDB_MAP_RESIZED && (rc = mdb_env_set_mapsize(s->env, 0)) == 0) {
		MDB_envinfo info;
		mdb_env_info(s->env, &info);
		s->map_size = info.me_mapsize;
		rc = mdb_txn_begin(s->env, NULL, flags, txn);
	}
	return rc;
}

int adb_write(struct alert_store *s, adb_fn fn, void *ctx, struct err *e)
{
	pthread_mutex_lock(&s->lock);
	int rc;
	for (;;) {
		MDB_txn *txn;
		s->map_full = false;
		if ((rc = begin(s, 0, &txn))) {
			rc = adb_error(s, e, rc, "cannot write");
			break;
		}
		rc = fn(s, txn, ctx, e);
		int mrc = 0;
		if (rc == 0) {
			mrc =
			    adb_meta_put(s, txn, "generation", adb_meta(s, txn, "generation") + 1);
			if (mrc == 0)
				mrc = FAULT("alerts.commit");
			if (mrc == 0)
				mrc = mdb_txn_commit(txn);
			else
				mdb_txn_abort(txn);
		} else {
			mdb_txn_abort(txn);
		}
		if (rc == -ENOSPC && s->map_full)
			mrc = MDB_MAP_FULL;
		else if (rc)
			break;
		if (mrc != MDB_MAP_FULL) {
			if (mrc)
				rc = adb_error(s, e, mrc, "cannot commit");
			break;
		}
		/* Full: twice the map, and the whole transaction again. */
		if ((mrc = mdb_env_set_mapsize(s->env, s->map_size * 2))) {
			rc = adb_error(s, e, mrc, "cannot grow the map");
			break;
		}
		s->map_size *= 2;
		err_clear(e);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int adb_read(struct alert_store *s, adb_fn fn, void *ctx, struct err *e)
{
	pthread_mutex_lock(&s->lock);
	MDB_txn *txn;
	int rc = begin(s, MDB_RDONLY, &txn);
	if (rc) {
		rc = adb_error(s, e, rc, "cannot read");
	} else {
		rc = fn(s, txn, ctx, e);
		mdb_txn_abort(txn);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

uint64_t adb_meta(struct alert_store *s, MDB_txn *txn, const char *name)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	uint64_t value = 0;
	if (mdb_get(txn, s->dbi[ADB_META], &k, &v) == 0 && v.mv_size == sizeof value)
		memcpy(&value, v.mv_data, sizeof value);
	return value;
}

int adb_meta_put(struct alert_store *s, MDB_txn *txn, const char *name, uint64_t value)
{
	MDB_val k = { strlen(name), (void *)name }, v = { sizeof value, &value };
	return mdb_put(txn, s->dbi[ADB_META], &k, &v, 0);
}

int adb_next(struct alert_store *s, MDB_txn *txn, const char *name, uint64_t *out)
{
	*out = adb_meta(s, txn, name) + 1;
	return adb_meta_put(s, txn, name, *out);
}

void adb_copy(char *dst, size_t cap, const char *src)
{
	size_t len = src ? strlen(src) : 0, n = 0;
	while (n < len) {
		uint32_t cp;
		size_t step = utf8_next(src + n, len - n, &cp);
		if (step == 0)
			step = 1;
		if (n + step >= cap)
			break;
		n += step;
	}
	if (cap) {
		memcpy(dst, src ? src : "", n);
		dst[n] = 0;
	}
}
