/* db.h - the queryable state of the store: one LMDB environment holding the
 * series names, the compressed chunks of raw samples, the rollups and the
 * position of the write-ahead log that it reflects.
 *
 * Only the drainer (rmon-stored) opens it read-write; alertd, reportgen and
 * the CLI read it through query.h, from their own processes, with
 * read-only MVCC transactions.
 *
 * Durability contract with the WAL (wal.h): every change applied here came
 * from a WAL record first.  db_commit stores, in the same LMDB transaction
 * as the data, the WAL position up to which records have been applied, so
 * after a crash the drainer replays exactly the records after
 * db_applied_position: nothing is lost, nothing is applied twice.  Commits
 * do not fsync (a crashed process leaves the OS page cache intact);
 * db_checkpoint does, after which WAL segments before the position may be
 * removed.
 */
#ifndef RMON_DB_H
#define RMON_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "lib/sample.h"

struct db_config {
	int64_t retention_raw_ns;   /* raw chunks older than this are removed; default 15 days */
	int64_t retention_1m_ns;    /* 1-minute rollups; default 1 year */
	int64_t retention_1h_ns;    /* 1-hour rollups; default 10 years */
	uint64_t initial_map_bytes; /* LMDB map size to start with; it grows by itself */
	int64_t changes_horizon_ns; /* how long readers can ask what changed; default 1 h */
};

void db_config_default(struct db_config *c);

struct db;

/* Opens (creating if absent, unless read_only) the environment in folder
 * dir (e.g. "<data>/db").  *out is the caller's: db_close it. */
int db_open(const char *dir, const struct db_config *c, bool read_only, struct db **out,
	    struct err *e);

void db_close(struct db *db);

/* Records that id names the canonical series name (len bytes).  Registering
 * the same pair again is a cheap success; a different name under a known id
 * is -EEXIST with both names in the message, and nothing changes. */
int db_register_series(struct db *db, uint64_t id, const char *name, size_t len, struct err *e);

/* True when id is registered (a cheap in-memory look-up). */
bool db_knows_series(struct db *db, uint64_t id);

/* A registered series' in-memory state, or NULL: looked up once, it lets
 * db_append_to skip the look-up of each sample (the drainer checks every
 * id of a batch before writing it to the WAL anyway).  Valid until
 * db_close. */
struct db_series;
struct db_series *db_series(struct db *db, uint64_t id);

/* db_series of each sample's id, into series[0..n). */
void db_find_series(struct db *db, const struct sample *samples, size_t n,
		    struct db_series **series);

/* Adds samples to the in-memory head chunks of their series (ids must be
 * registered: an unknown id is -ENOENT).  A sample whose timestamp equals
 * the series' last one is a duplicate and is skipped (counted); one older
 * than the last is out of order and is skipped (counted).  Nothing reaches
 * LMDB before db_commit. */
int db_append(struct db *db, const struct sample *samples, size_t n, struct err *e);

/* db_append with samples[i]'s series given as series[i]. */
int db_append_to(struct db *db, struct db_series *const *series, const struct sample *samples,
		 size_t n, struct err *e);

/* Writes every changed head chunk, every chunk that closed and its rollups,
 * each changed series' latest record and the list of series changed, in
 * LMDB transactions of at most some 16,384 series (no fsync), the last of
 * which also stores wal_position.  Grows the map when it fills instead of
 * failing.  Each transaction that brought samples or names increments the
 * commit sequence and publishes it to waiting readers (commit_signal.h,
 * query_wait).  A full file system is -ENOSPC (also when LMDB saw only a
 * short write): what the failed transaction held is kept in memory, so a
 * later call writes it.  Other failures are -EIO and the like, with a
 * message. */
int db_commit(struct db *db, uint64_t wal_position, struct err *e);

/* db_commit on a thread of the store's own, so that who appends (and
 * acks what the WAL holds) never waits for LMDB: returns at once, -EBUSY
 * while the previous one is still being written.  Appending may go on
 * meanwhile, from the caller's thread (db_append, db_register_series
 * and the rest are safe against the committer, not against each other);
 * what is appended before a head is copied out goes into this commit,
 * the rest into the next.  With checkpoint, LMDB is flushed after it and
 * retention applied (db_checkpoint, db_apply_retention): see
 * db_synced_position. */
int db_commit_start(struct db *db, uint64_t wal_position, bool checkpoint, struct err *e);

/* True while a commit db_commit_start began is being written. */
bool db_commit_running(struct db *db);

/* How the last commit db_commit_start began ended, told once: 0 when it
 * succeeded, else db_commit's error (-ENOSPC for a full disk: what it
 * would have written stays in memory for the next), with its message in
 * e; 1 while it runs or when none ended since the last call. */
int db_commit_result(struct db *db, struct err *e);

/* Waits until no commit of db_commit_start is being written. */
void db_commit_wait(struct db *db);

/* Flushes LMDB to disk (fsync).  After it returns 0, WAL records up to the
 * last committed wal_position are no longer needed. */
int db_checkpoint(struct db *db, struct err *e);

/* The WAL position stored by the last db_commit (0 for a new database). */
uint64_t db_applied_position(struct db *db);

/* The WAL position the last checkpoint made durable in LMDB: WAL records
 * before it are no longer needed. */
uint64_t db_synced_position(struct db *db);

/* Removes chunks and rollups past their retention.  Called by the drainer
 * at each checkpoint.  Incremental: a pass over the database starts at most
 * every DB_RETENTION_EVERY_NS (of now_ns), and each call of a pass looks at
 * no more than DB_RETENTION_BUDGET records of each resolution, going on
 * where the previous call stopped, so no call's cost grows with the
 * database; a pass takes about (series + expired records) / budget calls,
 * and calls between passes do nothing. */
#define DB_RETENTION_BUDGET   4096
#define DB_RETENTION_EVERY_NS (INT64_C(600) * 1000000000) /* 10 min */
int db_apply_retention(struct db *db, int64_t now_ns, struct err *e);

struct db_stats {
	uint64_t series;
	uint64_t samples;      /* samples stored, all time */
	uint64_t duplicates;   /* skipped: same timestamp as the last */
	uint64_t out_of_order; /* skipped: older than the last */
	uint64_t chunk_bytes;  /* compressed bytes of raw chunks */
	uint64_t file_bytes;   /* size of the LMDB data file */
	uint64_t applied_position;
	int64_t commit_ns;	/* how long the last commit took to write */
	uint64_t commit_series; /* and how many changed series it wrote */
};

int db_get_stats(struct db *db, struct db_stats *out, struct err *e);

#endif
