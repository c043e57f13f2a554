/* follow.h - following the metrics store's commits from an event loop.
 * query_wait blocks, so a small thread waits on a handle of its own and
 * wakes the loop through an eventfd at each new commit; the loop then reads
 * the commit on its own handle.  The thread also opens the store when it
 * appears, so rmon-alertd may start before rmon-stored. */
#ifndef RMON_ALERTD_FOLLOW_H
#define RMON_ALERTD_FOLLOW_H

#include <stdint.h>

#include "lib/err.h"
#include "lib/evloop.h"

struct follow;

/* Called in the loop when a commit newer than the last one reported was
 * published (seq), at most once per wake-up. */
typedef void (*follow_fn)(void *ctx, uint64_t seq);

/* Starts following the store of data_dir; *out is the caller's
 * (follow_stop).  Errors: those of eventfd, the thread, the loop. */
int follow_start(struct evloop *loop, const char *data_dir, follow_fn fn, void *ctx,
		 struct follow **out, struct err *e);

/* Stops the thread (within about 200 ms) and frees f; f may be NULL. */
void follow_stop(struct follow *f);

#endif
