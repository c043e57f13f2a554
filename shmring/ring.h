/* ring.h - the lock-free shared-memory sample ring between the agents
 * (producers, many processes and threads) and the drainer (one consumer).
 *
 * A ring is one POSIX shared-memory segment (shm_open + mmap) holding a
 * header (magic, layout version, sizes), the series table (series.h) and a
 * fixed number of lanes.  Each producer owns one lane while attached; a lane
 * is a single-producer ring of fixed 32-byte slots, each with its own
 * sequence number (Vyukov-style), so a push is a few plain stores and one
 * release store, with no compare-and-swap and no shared index:
 *
 *   - a producer never blocks: a full lane is a counted drop;
 *   - a producer killed at any instruction leaves at most one half-written
 *     slot, which is never published, so the consumer never waits for it
 *     (the stall is zero, not merely bounded); the consumer notices the dead
 *     owner within `reclaim_interval_ms`, counts the sample it lost, drains
 *     what it had published and frees the lane for the next producer;
 *   - the consumer peeks batches and releases them only when told, after the
 *     WAL made them durable; released positions live in the segment, so a
 *     restarted consumer resumes exactly where the last release stopped.  A
 *     sample peeked but not released before a consumer crash is delivered
 *     again (at-least-once): the store ignores exact duplicates.
 *
 * Samples of one producer arrive in the order pushed; samples of different
 * producers interleave.  All functions return 0 or a negative errno code,
 * with a message in the optional struct err; none prints or exits.
 */
#ifndef RMON_RING_H
#define RMON_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/err.h"
#include "lib/sample.h"

#define RING_MAGIC	    UINT64_C(0x474e49524e4f4d52) /* "RMONRING" little-endian */
#define RING_LAYOUT_VERSION 1
#define RING_MAX_LANES	    64

struct ring_config {
	/* Shared-memory object name, e.g. "/rmon-var-1a2b" (see ring_name_for_dir). */
	const char *name;
	uint32_t lanes;		      /* producers attached at once, 1..RING_MAX_LANES */
	uint32_t slots_per_lane;      /* a power of two, >= 64 */
	uint32_t series_capacity;     /* series the table holds */
	uint32_t name_bytes;	      /* bytes for canonical names; 0 = 128 per series */
	uint32_t reclaim_interval_ms; /* how often the consumer checks for dead producers */
	mode_t mode;		      /* permission bits, default 0600 */
	gid_t group;		      /* owner group when mode grants group access; -1 = keep */
};

/* Fills c with the defaults: 16 lanes of 16384 slots (8 MiB), 16384 series,
 * reclaim interval 100 ms, mode 0600. */
void ring_config_default(struct ring_config *c, const char *name);

/* Derives the shared-memory name for a data folder, so every program
 * given the same --data finds the same ring: "/rmon-<hash of the absolute
 * path>".  buf must hold 64 bytes. */
void ring_name_for_dir(const char *data_dir, char *buf, size_t len);

struct ring;

/* The consumer's call: creates the segment exclusively (O_EXCL, the
 * configured mode) or, if it exists, attaches to it after checking magic,
 * layout version and sizes against c.  A mismatch is -EPROTO with a message
 * naming the field and both values; a segment that is too small or not a
 * ring is -EPROTO too.  *out is owned by the caller: ring_close it.
 * Only one consumer may be attached; a second gets -EBUSY while the first
 * lives. */
int ring_consumer_open(const struct ring_config *c, struct ring **out, struct err *e);

/* The producer's call: attaches to an existing segment by name (it never
 * creates one; -ENOENT says the store is not running) and checks the
 * header.  The handle may be shared by the threads of a process; each
 * thread that pushes takes its own lane with ring_lane_attach. */
int ring_producer_open(const char *name, struct ring **out, struct err *e);

/* Unmaps the segment and frees the handle (NULL is fine).  A producer's
 * lanes are detached first.  The segment itself stays. */
void ring_close(struct ring *r);

/* Removes the named segment (for tests and `rmon-stored --reset`). */
int ring_unlink(const char *name, struct err *e);

/* ---- producers ---- */

struct ring_lane;

/* Takes a free lane for the calling thread (owner = pid and tid).
 * -EAGAIN if every lane is taken. */
int ring_lane_attach(struct ring *r, struct ring_lane **out, struct err *e);

/* Gives the lane back; samples already pushed are still delivered. */
void ring_lane_detach(struct ring_lane *lane);

/* Pushes one sample.  Returns 0, or -ENOSPC when the lane is full: the
 * sample is dropped and counted, and the call never waits. */
int ring_push(struct ring_lane *lane, const struct sample *s);

/* Pushes n samples in order; returns how many fit (the rest are dropped
 * and counted). */
size_t ring_push_many(struct ring_lane *lane, const struct sample *s, size_t n);

/* ---- the consumer ---- */

/* Copies up to max samples that producers published and that were not yet
 * peeked, into out, and returns how many.  Peeked samples stay in the
 * segment until ring_release. */
size_t ring_peek(struct ring *r, struct sample *out, size_t max);

/* Frees every slot peeked so far, for producers to reuse.  Call it only
 * once the samples are durable elsewhere. */
void ring_release(struct ring *r);

/* Waits until a sample may be ready or timeout_ms passes: spins briefly,
 * then sleeps in short steps, so an idle consumer costs nearly nothing.
 * Also runs the dead-producer check when reclaim_interval_ms has passed. */
void ring_wait(struct ring *r, int timeout_ms);

/* Checks every attached lane's owner; a lane whose owner died is drained
 * of nothing further (its published samples stay peekable), its lost
 * half-written sample counted, and it is freed once fully released.
 * ring_wait calls this; returns how many lanes were reclaimed. */
int ring_reclaim_dead(struct ring *r);

/* ---- counters (readable by any attached process) ---- */

struct ring_stats {
	uint64_t pushed;	  /* samples published */
	uint64_t dropped_full;	  /* samples refused because a lane was full */
	uint64_t lost_dead;	  /* samples half-written by producers that died */
	uint64_t released;	  /* samples released by the consumer */
	uint64_t reclaimed_lanes; /* lanes freed after their owner died */
	uint32_t lanes_in_use;
	uint32_t lanes;
	uint32_t slots_per_lane;
};

void ring_get_stats(struct ring *r, struct ring_stats *out);

/* The series table inside the segment (see series.h). */
struct series_table *ring_series(struct ring *r);

#ifdef RMON_TESTING
/* Fault injection for tests only: when set, the producer calls this at
 * named points of ring_push ("claimed", "written", "published") so a test
 * can kill the process exactly there. */
extern void (*ring_test_hook)(const char *point);
#endif

#endif
