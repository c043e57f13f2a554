/* expose.h - the store's /metrics ([exposition] listen in rmon-stored):
 * the newest value of every series, or of the series the match[]
 * selectors of the request pick (store/query.h syntax), with the host as
 * a label, in the Prometheus formats (net/expo.h), so one scrape collects
 * a whole fleet, the store's own rmon_* figures and alertd's included.
 *
 * Each sample carries its own timestamp (the time it was collected, not
 * the scrape's); a series whose newest sample is older than max_age is
 * left out, so a host that went away drops out of the scrape.  The
 * scrape reads one snapshot (query_begin) on the daemon's loop. */
#ifndef RMON_STORE_EXPOSE_H
#define RMON_STORE_EXPOSE_H

#include <stdint.h>

#include "lib/err.h"
#include "lib/evloop.h"

struct store_expose_config {
	const char *listen; /* "host:port"; NULL: off */
	int64_t max_age_ns; /* default 5 min */
};

void store_expose_config_default(struct store_expose_config *c);

struct store_expose;

/* Serves /metrics for the store of data_dir on loop (which must outlive
 * it).  *out is the caller's: store_expose_close it. */
int store_expose_open(const char *data_dir, const struct store_expose_config *c,
		      struct evloop *loop, struct store_expose **out, struct err *e);
void store_expose_close(struct store_expose *x); /* x may be NULL */

/* Appends the exposition of the series matching the query string (NULL or
 * "": every one) to r, as a scrape gets it; 0, -EINVAL for a bad
 * selector (r holds a 400 saying why), or the store's error.  For tests
 * and benchmarks, which call it without a socket. */
struct httpd_response;
struct httpd_request;
int store_expose_scrape(struct store_expose *x, const struct httpd_request *req,
			struct httpd_response *r);

#endif
