/* spool.h - the sender's disk spool: every batch a shipper (shipper.h)
 * sends is first appended here as the very SAMPLES frame that goes on the
 * wire, and stays until the server acknowledges it, so neither a network or
 * server outage nor a kill -9 of the sender loses it.
 *
 * Layout of the spool folder:
 *   <first seq, 16 hex digits>.spool  segments of records
 *                                     { u32 frame length, u32 check,
 *                                       u64 seq, u32 samples } + frame
 *   series                            every series definition the frames use
 *                                     { u32 name length, u64 id } + name
 *   acked                             the highest acknowledged seq (u64)
 *
 * Appends are write(2)s without fsync: a killed process loses nothing (the
 * kernel holds the bytes); a power cut may tear the last record, which the
 * next open cuts off.  Beyond max_bytes the oldest segment is dropped, and
 * its batches and samples are counted. */
#ifndef RMON_SPOOL_H
#define RMON_SPOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/err.h"
#include "lib/sample.h"
#include "net/proto.h"

struct spool_config {
	const char *dir;
	uint64_t max_bytes;	/* default 100 MiB */
	uint64_t segment_bytes; /* default 1 MiB */
};

void spool_config_default(struct spool_config *c, const char *dir);

struct spool;

/* Opens (creating) the folder, reads what an earlier run left: unacked
 * batches and series definitions. */
int spool_open(const struct spool_config *c, struct spool **out, struct err *e);
void spool_close(struct spool *s);

/* Records a series definition: 1 when new, 0 when known (repeats are
 * free), or an error. */
int spool_define(struct spool *s, uint64_t id, const char *name, struct err *e);

/* Appends a batch under the next sequence number (*seq).  When the disk
 * is full (ENOSPC, EDQUOT) the batch is held in memory instead and 0 is
 * returned (see held_batches); once max_bytes are held, -ENOSPC.  Series
 * definitions refused by a full disk are kept in memory too and written
 * before any later batch. */
int spool_append(struct spool *s, const struct sample *samples, size_t n, uint64_t *seq,
		 struct err *e);

/* Tries to write the batches (and definitions) held in memory while the
 * disk was full, oldest first; stats.disk_full tells whether it could. */
void spool_write_held(struct spool *s);

/* Notes that every batch up to seq is durable at the server; segments
 * holding only such batches are removed. */
int spool_ack(struct spool *s, uint64_t seq, struct err *e);

/* Appends to out the frame of the first unacked batch after `after`
 * (0: from the start) and sets *seq.  Returns 1, 0 when there is none, or
 * an error. */
int spool_read_after(struct spool *s, uint64_t after, struct proto_buf *out, uint64_t *seq,
		     struct err *e);

/* Appends SERIES frames (up to `per_frame` definitions each) holding every
 * definition recorded, for a new connection. */
int spool_put_definitions(struct spool *s, struct proto_buf *out, size_t per_frame);

struct spool_stats {
	uint64_t bytes;		  /* on disk, segments */
	uint64_t pending_batches; /* not acknowledged */
	uint64_t acked;		  /* highest acknowledged seq */
	uint64_t last_seq;	  /* highest appended */
	uint64_t dropped_batches; /* removed unacked because the spool was full */
	uint64_t dropped_samples;
	uint64_t torn; /* torn records cut off at open */
	uint64_t series;
	/* The disk was full: batches held in memory (sent from there, written
	 * in order once space returns, lost only if the process dies first),
	 * at most max_bytes of them; why the disk refused the first. */
	uint64_t held_batches, held_bytes;
	char held_why[200];
	bool disk_full; /* the last write was refused for want of space */
};

void spool_get_stats(struct spool *s, struct spool_stats *out);

#endif
