/* lmdb_env.h - opening the store's LMDB environment "<data>/db" and its
 * sub-databases (layout.h): the one opener of the writer (db.c) and the
 * readers (query.c), and the one place LMDB's own codes become the
 * negative errno codes every other function of the store returns.
 *
 * Not a public API: the store's two sides use it, nothing else.
 */
#ifndef RMON_LMDB_ENV_H
#define RMON_LMDB_ENV_H

#include <lmdb.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/err.h"
#include "store/layout.h"

struct lmdb_shared;

struct lmdb_env {
	MDB_env *env;
	struct lmdb_shared *shared; /* a reader's: the process-wide environment it uses */
	MDB_dbi dbi[LAYOUT_DBS];    /* by enum layout_db */
	bool read_only;
	size_t map_size;  /* the writer's current map size */
	uint64_t version; /* meta "version" as found (0: a new store) */
	char dir[4096];
};

/* Opens the environment in folder dir.  The writer (read_only false)
 * creates the folder and every sub-database that is missing and starts
 * with a map of at least initial_map_bytes and twice what is used.  A
 * reader opens what exists; the readers of one process share one LMDB
 * environment per store (LMDB's locks are per process: a second open
 * would reset the first one's reader table), mapped 64 GiB large so the
 * writer's growth seldom means remapping under a reader.  le->version
 * is the layout version found; checking it is the caller's business (the
 * writer upgrades, a reader refuses).  Errors: -ENOENT (no store there,
 * or not all of its databases yet), -ENOMEM, -EACCES, -EPROTO (not an
 * LMDB file of this LMDB version), -EIO.  lmdb_env_close it either way. */
int lmdb_env_open(struct lmdb_env *le, const char *dir, bool read_only, uint64_t initial_map_bytes,
		  struct err *e);

/* Closes the environment (no transaction may be open); le may be zeroed. */
void lmdb_env_close(struct lmdb_env *le);

/* Fills e with "store DIR: what: LMDB's message" and returns the negative
 * errno code for LMDB code rc: MDB_NOTFOUND -ENOENT; MDB_MAP_FULL,
 * MDB_TXN_FULL, MDB_CURSOR_FULL, MDB_PAGE_FULL -ENOSPC; MDB_READERS_FULL,
 * MDB_MAP_RESIZED -EAGAIN; MDB_VERSION_MISMATCH, MDB_INVALID -EPROTO;
 * an errno value (LMDB's positive codes) its negative; anything else
 * (corruption) -EIO. */
int lmdb_env_error(struct err *e, int rc, const char *what, const char *dir);

/* Begins a read-only snapshot, adopting a map the writer has grown past
 * this process's, which LMDB allows only while no other snapshot of the
 * process is open: -EAGAIN then, saying so.  End it with
 * lmdb_env_end_read. */
int lmdb_env_begin_read(struct lmdb_env *le, MDB_txn **txn, struct err *e);
void lmdb_env_end_read(struct lmdb_env *le, MDB_txn *txn);

/* The u64 meta value key of the snapshot txn (0 when absent). */
uint64_t lmdb_env_meta(struct lmdb_env *le, MDB_txn *txn, const char *key);

/* Sets the u64 meta value key in the write transaction txn. */
int lmdb_env_meta_put(struct lmdb_env *le, MDB_txn *txn, const char *key, uint64_t value);

#endif
