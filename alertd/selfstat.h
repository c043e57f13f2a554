/* selfstat.h - rmon-alertd's own figures as series of this host, written
 * into the local ring like an agent's samples (shmring/ring.h): the store
 * drains them with the rest, so they are graphed and alerted on like any
 * metric.  The ring is attached when first needed and again after it
 * went away (rmon-stored restarted); while there is none the figures are
 * dropped, and the daemon goes on. */
#ifndef RMON_ALERTD_SELFSTAT_H
#define RMON_ALERTD_SELFSTAT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

struct selfstat;

/* For the ring of data_dir, as series host/NAME.  *out is the caller's. */
int selfstat_new(const char *data_dir, const char *host, struct selfstat **out, struct err *e);
void selfstat_free(struct selfstat *s);

/* Queues metric = value (metric a valid metric name, e.g.
 * "rmon_alertd_deliveries_total") for the next flush. */
void selfstat_set(struct selfstat *s, const char *metric, double value);

/* Pushes what was queued, stamped ts; returns how many samples went into
 * the ring (0 when there is none yet). */
size_t selfstat_flush(struct selfstat *s, int64_t ts);

#endif
