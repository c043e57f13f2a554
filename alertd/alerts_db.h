/* alerts_db.h - the LMDB environment "<data>/alertd" that alerts.c and
 * notelog.c share: its databases, and transactions that grow the map when
 * it fills and adopt a map another process grew.  Private to alertd/:
 * everyone else goes through alerts.h and notelog.h. */
#ifndef RMON_ALERTD_ALERTS_DB_H
#define RMON_ALERTD_ALERTS_DB_H

#include <lmdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "alertd/alerts.h"
#include "alertd/record.h"
#include "lib/err.h"

enum adb {
	ADB_META,     /* name -> u64: version, counters, generation, resolved_keep */
	ADB_ALERTS,   /* alert id (BE) -> alert */
	ADB_ACTIVE,   /* instance key -> id of its pending or firing alert */
	ADB_EVENTS,   /* (at, seq) (BE) -> alert_event */
	ADB_SILENCES, /* silence id (BE) -> alert_silence */
	ADB_AUDIT,    /* (at, seq) (BE) -> alert_audit */
	ADB_NOTICES,  /* notice id (BE) -> notice (notelog.c) */
	ADB_OWED,     /* notice id (BE) -> "": logged, not delivered yet */
	ADB_SENT,     /* (alert id, kind, receiver) -> notice id: what was logged for an alert */
	ADB_COUNT
};

struct alert_store {
	MDB_env *env;
	MDB_dbi dbi[ADB_COUNT];
	/* One transaction at a time in this process: LMDB may change the map
	 * size only while none is open. */
	pthread_mutex_t lock;
	size_t map_size;
	bool map_full;	    /* adb_error saw MDB_MAP_FULL in this transaction */
	struct rec_out rec; /* reused by writers, under lock */
	char dir[4096];
};

/* The body of a transaction: it may run more than once (after the map
 * grew), so it changes nothing outside txn but ctx's results. */
typedef int (*adb_fn)(struct alert_store *s, MDB_txn *txn, void *ctx, struct err *e);

/* Runs fn in a write transaction and commits it, bumping the generation;
 * a full map is doubled and fn run again. */
int adb_write(struct alert_store *s, adb_fn fn, void *ctx, struct err *e);

/* Runs fn in a read-only transaction. */
int adb_read(struct alert_store *s, adb_fn fn, void *ctx, struct err *e);

/* LMDB's code rc as a negative errno code, with "alert store DIR: what:
 * LMDB's message" in e. */
int adb_error(struct alert_store *s, struct err *e, int rc, const char *what);

/* Meta counters: the value, and the next number of a sequence (from 1). */
uint64_t adb_meta(struct alert_store *s, MDB_txn *txn, const char *name);
int adb_meta_put(struct alert_store *s, MDB_txn *txn, const char *name, uint64_t value);
int adb_next(struct alert_store *s, MDB_txn *txn, const char *name, uint64_t *out);

/* Copies src into dst (cap bytes), cut at a UTF-8 character boundary. */
void adb_copy(char *dst, size_t cap, const char *src);

#endif
