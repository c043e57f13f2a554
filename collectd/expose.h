/* expose.h - the agent's /metrics ([exposition] listen): the latest
 * collection in the Prometheus exposition formats (net/expo.h), served on
 * the agent's event loop (net/httpd.h), so a Prometheus that scrapes
 * node_exporter can scrape the agent in its place.  Names and labels are
 * the collectors' own, which follow node_exporter's (docs/metrics.md);
 * the agent's host name is not a label: the scraper's target names it.
 *
 * Off unless configured.  A collection runs within one pass of the
 * loop, so a scrape gets the last whole one. */
#ifndef RMON_COLL_EXPOSE_H
#define RMON_COLL_EXPOSE_H

#include "collectd/coll.h"
#include "lib/err.h"
#include "lib/evloop.h"

struct coll_expose;

/* Listens on c->expose_listen on loop.  c must outlive the exposition
 * (its static labels are read at each collection).  *out is the
 * caller's: coll_expose_close it. */
int coll_expose_open(const struct coll_config *c, struct evloop *loop, struct coll_expose **out,
		     struct err *e);
void coll_expose_close(struct coll_expose *x); /* x may be NULL */

/* Starts a collection: the sink returned records every value for the
 * exposition and hands it on to next (NULL: to nobody). */
struct coll_sink *coll_expose_begin(struct coll_expose *x, struct coll_sink *next);

/* Ends it: from now on scrapes get this collection (call it before the
 * loop runs again). */
void coll_expose_end(struct coll_expose *x);

#endif
