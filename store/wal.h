/* wal.h - the write-ahead log: every sample and series definition is made
 * durable here before the ring slot is freed or a remote agent is acked.
 *
 * The log is a sequence of records in preallocated segment files
 * "<dir>/<start position, 16 hex digits>.wal".  A position is a byte offset
 * in one global log space (it only grows), so "applied up to position P"
 * (db.h) compares directly.  A record is a 16-byte header (magic "WA2" and
 * type, payload length, 32-bit checksum of header and payload; records of
 * magic "WAL", written before, carry the first checksum and are still
 * read) and its payload:
 *   SERIES:  u64 id, then the canonical name;
 *   SAMPLES: n x { u64 id, i64 ts, f64 value }, little-endian.
 *
 * Appends go to a user-space buffer; wal_commit writes it and fdatasyncs in
 * one go (io_uring: the write linked to the fdatasync; without io_uring,
 * pwrite then fdatasync).  Where the filesystem allows, the write is
 * O_DIRECT, in whole 4 KiB blocks from the block the log's end falls in
 * (that block's durable bytes are written again, zeros after the records),
 * so the log's bytes are never copied into the page cache.  A crash may
 * leave a torn record at the end; the next wal_open cuts the log there
 * (counted in stats), since such a record was never acknowledged.  A bad
 * record in the middle is an error.
 */
#ifndef RMON_WAL_H
#define RMON_WAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "lib/sample.h"

enum wal_record_type { WAL_SERIES = 1, WAL_SAMPLES = 2 };

struct wal_config {
	uint64_t segment_bytes; /* preallocated size of each segment; default 64 MiB */
	uint64_t buffer_bytes;	/* appends held before a forced write; default 8 MiB */
	bool use_io_uring;	/* default true; false or no kernel support: pwrite */
};

void wal_config_default(struct wal_config *c);

struct wal;

/* Opens the log in dir (creating dir's first segment if empty), finds its
 * end and cuts a torn tail.  *out is the caller's: wal_close it. */
int wal_open(const char *dir, const struct wal_config *c, struct wal **out, struct err *e);

/* Closes without committing what was appended since the last commit. */
void wal_close(struct wal *w);

/* Buffer a record.  Nothing is durable before wal_commit. */
int wal_append_series(struct wal *w, uint64_t id, const char *name, size_t len, struct err *e);
int wal_append_samples(struct wal *w, const struct sample *s, size_t n, struct err *e);

/* Writes everything appended and waits until it is on disk.  On success
 * *end is the position after the last durable record.  On failure (e.g.
 * -ENOSPC) nothing appended since the last commit counts as written; the
 * appends stay buffered and a later wal_commit retries them. */
int wal_commit(struct wal *w, uint64_t *end, struct err *e);

/* wal_commit in two halves, so the caller can work while the disk does:
 * begin starts the writes (with io_uring; without, end does them all),
 * end waits for them and reports as wal_commit does.  In between nothing
 * may be appended (-EBUSY). */
int wal_commit_begin(struct wal *w, struct err *e);
int wal_commit_end(struct wal *w, uint64_t *end, struct err *e);

/* True once the commit begun is on disk (it still needs wal_commit_end);
 * never waits.  Without io_uring it is false until the end. */
bool wal_commit_done(struct wal *w);

/* When the last commit was seen on disk (rtime_mono_ns), by
 * wal_commit_done or wal_commit_end. */
int64_t wal_durable_ns(struct wal *w);

/* The position after the last durable record. */
uint64_t wal_end(struct wal *w);

/* Calls fn for each record at or after position `from`, in order; `end` is
 * the position after the record.  fn returns 0 to go on, or an error code
 * that stops the replay and is returned. */
typedef int (*wal_replay_fn)(void *ctx, enum wal_record_type type, const void *payload, size_t len,
			     uint64_t end, struct err *e);
int wal_replay(struct wal *w, uint64_t from, wal_replay_fn fn, void *ctx, struct err *e);

/* Removes the segments that lie wholly before position (after a
 * checkpoint made them unnecessary): they leave the log at once and are
 * unlinked on a thread of their own, which the next call (or wal_close)
 * waits for; an unlink that failed is that call's error. */
int wal_truncate_before(struct wal *w, uint64_t position, struct err *e);

struct wal_stats {
	uint64_t end; /* durable end position */
	uint64_t segments;
	uint64_t bytes_on_disk; /* segments x segment size */
	uint64_t commits;
	uint64_t torn_tail_bytes; /* cut at open */
	bool io_uring;		  /* the io_uring path is in use */
	bool direct_io;		  /* commits bypass the page cache (O_DIRECT) */
};

void wal_get_stats(struct wal *w, struct wal_stats *out);

#endif
