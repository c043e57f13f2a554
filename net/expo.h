/* expo.h - the Prometheus exposition of a set of samples: the text format
 * 0.0.4 and OpenMetrics 1.0, families grouped, HELP and TYPE lines, names
 * made valid and label values escaped, so any host, metric or label value
 * a store holds reaches a scraper as data and never as syntax.  The agent
 * exposes its latest collection with it, the store the latest value of
 * each series (net/httpd.h serves the result).
 *
 *     struct expo *x = expo_new();
 *     expo_add(x, "node_load1", NULL, 0, 0.5, EXPO_NO_TS);
 *     expo_write(x, EXPO_TEXT, &response);
 *     expo_clear(x);                           (for the next collection)
 *
 * Types follow the names, as node_exporter's do: a name ending in _total
 * is a counter, every other a gauge. */
#ifndef RMON_EXPO_H
#define RMON_EXPO_H

#include <stddef.h>
#include <stdint.h>

#include "lib/series_name.h"
#include "net/httpd.h"

#define EXPO_NO_TS INT64_MIN /* expo_add: the sample carries no timestamp */

enum expo_format {
	EXPO_TEXT,	  /* text/plain; version=0.0.4 */
	EXPO_OPENMETRICS, /* application/openmetrics-text; version=1.0.0 */
};

struct expo;

/* NULL when out of memory; expo_free it. */
struct expo *expo_new(void);
void expo_free(struct expo *x);

/* Forgets the samples (keeps the memory for the next set). */
void expo_clear(struct expo *x);

/* Adds a sample.  Bytes of metric and label names outside Prometheus'
 * alphabet become '_'; a label value that is not valid UTF-8 or holds a
 * control character is shown as rmon shows it on a terminal (\xff, \x1b;
 * lib/escape.h) and then escaped for the format.  A label named twice
 * keeps its first value, an empty value is left out (Prometheus reads an
 * empty label as absent).  ts_ns is the sample's time or EXPO_NO_TS.
 * Returns 0, or -ENOMEM (also for a name or a label list over 64 KiB). */
int expo_add(struct expo *x, const char *metric, const struct series_label *labels, size_t n,
	     double value, int64_t ts_ns);

/* expo_add of a sample whose metric name (metric_len bytes) and label
 * list (k="v",k="v", labels_len bytes, without braces) are already valid
 * exposition text, copied as they are: the store's canonical names are
 * (lib/series_name.h: the same alphabet, values escaped with \\ and \",
 * no control characters), which spares splitting and escaping each. */
int expo_add_text(struct expo *x, const char *metric, size_t metric_len, const char *labels,
		  size_t labels_len, double value, int64_t ts_ns);

size_t expo_count(const struct expo *x);

/* Appends the exposition of every sample added to r, families in byte
 * order of their names, samples in the order added, and sets
 * r->content_type.  Returns 0 or -ENOMEM. */
int expo_write(struct expo *x, enum expo_format f, struct httpd_response *r);

/* The format a request asks for. */
static inline enum expo_format expo_format_for(const struct httpd_request *req)
{
	return req->openmetrics ? EXPO_OPENMETRICS : EXPO_TEXT;
}

#endif
