/* output.h - where a collection goes: printed as "series value" lines,
 * pushed into the local shared-memory ring (series names are inserted into
 * the ring's table the first time they are seen, then only ids travel), or
 * shipped to a central store (net/shipper.h: names are defined once,
 * batches spooled and sent). */
#ifndef RMON_COLL_OUTPUT_H
#define RMON_COLL_OUTPUT_H

#include <stdio.h>

#include "collectd/coll.h"
#include "shmring/ring.h"
#include "net/shipper.h"

struct coll_output;

/* Print mode: lines go to out.  Ring mode (out NULL): samples go to the
 * ring of data_dir once ring_attach succeeds. */
struct coll_output *coll_output_new(const struct coll_config *c, FILE *out);
void coll_output_free(struct coll_output *o);

/* After the configuration it was made with changed (SIGHUP): host name
 * and static labels are read again. */
void coll_output_reconfigure(struct coll_output *o);

/* Attaches to the ring named ring_name; -ENOENT while the store is not
 * running (try again later). */
int coll_output_attach(struct coll_output *o, const char *ring_name, struct err *e);
bool coll_output_attached(struct coll_output *o);

/* Ship mode: every batch goes to sh (owned by the caller). */
void coll_output_ship(struct coll_output *o, struct shipper *sh);

/* Starts a collection stamped ts; values then go to coll_output_sink. */
void coll_output_begin(struct coll_output *o, int64_t ts);
struct coll_sink *coll_output_sink(struct coll_output *o);

/* Ends a collection: pushes the batch into the ring (or flushes stdout).
 * Returns the number of values collected. */
size_t coll_output_end(struct coll_output *o);

struct coll_output_stats {
	uint64_t values, dropped, bad_names, table_full;
};
void coll_output_stats(struct coll_output *o, struct coll_output_stats *out);

#endif
