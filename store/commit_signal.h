/* commit_signal.h - how readers in other processes learn, within a
 * millisecond and without polling LMDB, that the writer committed.
 *
 * The writer keeps a one-page file "<data>/db/commit-seq" mapped shared and
 * publishes into it, right after each LMDB commit, the commit's sequence
 * (meta "seq").  A reader maps the same page read-only and sleeps in
 * FUTEX_WAIT on a 32-bit word of it, which the writer bumps and wakes with
 * FUTEX_WAKE (shared futexes: the kernel keys them by file and offset, so
 * they work across processes).  The writer makes the system call only
 * while a reader waits.
 *
 * The page also carries what keeps the writer from storing (a full disk),
 * which readers cannot learn from LMDB: while its disk is full nothing is
 * committed, the store's own series included.
 *
 * Not a public API: db.c publishes, the drainer sets the state, query.h's
 * query_wait waits and query_get_stats reads the state.
 */
#ifndef RMON_COMMIT_SIGNAL_H
#define RMON_COMMIT_SIGNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/err.h"

struct commit_signal;

/* The writer: creates or opens the page in folder dir, read-write.
 * Errors: negative errno of open/ftruncate/mmap with the path. */
int commit_signal_create(const char *dir, struct commit_signal **out, struct err *e);

/* A reader: maps the page in folder dir read-only.  -ENOENT when the
 * writer has never created it, -EPROTO when it is not a commit page. */
int commit_signal_open(const char *dir, struct commit_signal **out, struct err *e);

void commit_signal_close(struct commit_signal *s);

/* The writer: makes seq the published sequence and wakes every waiter. */
void commit_signal_publish(struct commit_signal *s, uint64_t seq);

/* The sequence published last. */
uint64_t commit_signal_seq(const struct commit_signal *s);

#define COMMIT_SIGNAL_DB_FULL  1u /* LMDB commits paused: the database's disk is full */
#define COMMIT_SIGNAL_WAL_FULL 2u /* draining stopped: the WAL's disk is full */

/* The writer: publishes its state, COMMIT_SIGNAL_* bits (0: storing). */
void commit_signal_set_state(struct commit_signal *s, uint32_t state);

/* The state published last. */
uint32_t commit_signal_state(const struct commit_signal *s);

/* Waits until the published sequence exceeds after, at most timeout_ms
 * (negative: no limit).  0 with *seq set, -ETIMEDOUT, or -EINTR when a
 * signal arrived (so a daemon can look at its stop flag). */
int commit_signal_wait(struct commit_signal *s, uint64_t after, int timeout_ms, uint64_t *seq);

#endif
