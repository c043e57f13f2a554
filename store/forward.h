/* forward.h - where rmon-stored sends on what it stores: upstream to
 * another rmon-stored as a relay (net/shipper.h) and to every
 * [remote_write NAME] receiver (store/remote_write.h).  The drainer calls
 * these hooks with each series met for the first time and each batch once
 * it is durable, before the ring slots are freed and the agents are
 * acknowledged, so what the store acknowledged is either sent or spooled
 * by each of them. */
#ifndef RMON_FORWARD_H
#define RMON_FORWARD_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "lib/evloop.h"
#include "lib/sample.h"
#include "net/shipper.h"
#include "store/drainer.h"
#include "store/remote_write.h"

struct forward {
	struct shipper *up; /* NULL: not a relay */
	struct remote_write **rw;
	size_t n_rw;
};

/* The drainer's on_series and on_durable, with ctx a struct forward. */
void forward_series(void *ctx, uint64_t id, const char *name, size_t len);
void forward_samples(void *ctx, const struct sample *s, size_t n);

/* The relay's spool forgets definitions when nothing is pending, and the
 * remote writers start with none, while the drainer names only series it
 * meets for the first time: so every series stored in data is named to
 * each at start; then the remote writers start sending. */
int forward_start(struct forward *f, const char *data, struct err *e);

/* Records how far behind each one is as the store's own series:
 * rmon_relay_* and rmon_remote_write_*{remote="NAME"}. */
int forward_record(struct forward *f, struct drainer *d, struct err *e);

/* At stop: runs loop up to max_ns while a remote writer that is not
 * failing still has batches to send (they stay spooled for the next run
 * anyway; the relay drains its own shipper). */
void forward_drain(struct forward *f, struct evloop *loop, int64_t max_ns);

#endif
