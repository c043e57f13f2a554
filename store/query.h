/* query.h - the one way to read the store: used by alertd, reportgen and
 * the rmon command, each from its own process, while rmon-stored writes.
 *
 * A handle opens the LMDB environment "<data>/db" read-only; every call
 * reads one consistent MVCC snapshot and takes no lock against the writer.
 * Data is visible about a second after it was collected (the writer
 * commits its open chunks about every second).
 *
 * Selectors pick series by their canonical name host/metric{labels}:
 *
 *     web?/node_cpu_seconds_total{mode="idle",cpu=~"[0-3]"}
 *     node_memory_*                       (any host: no '/' means every host)
 *     db[12]/rmon_*{collector!="disk"}
 *
 * Host and metric are shell globs (* ? [...]); label matchers are
 * = (equal), != (not equal), =~ (matches) and !~ (does not match), with
 * POSIX extended regular expressions matched against the whole value.
 * A matcher on a label the series lacks compares against "".
 *
 * Functions return 0 or a negative errno code with a message in struct err
 * naming what is wrong (for selectors, the character position).
 */
#ifndef RMON_QUERY_H
#define RMON_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

struct query;

/* Opens the store of data folder data_dir for reading.  -ENOENT with a
 * clear message when no store exists there yet.  *out is the caller's:
 * query_close it. */
int query_open(const char *data_dir, struct query **out, struct err *e);

void query_close(struct query *q);

struct query_selector;

/* Parses a selector; *out is the caller's: query_selector_free it. */
int query_selector_parse(const char *text, struct query_selector **out, struct err *e);

void query_selector_free(struct query_selector *sel);

/* True when the canonical name (len bytes) matches the selector. */
bool query_selector_match(const struct query_selector *sel, const char *name, size_t len);

/* Calls fn for every series matching sel (NULL matches all), ordered by
 * id, skipping stored names that break the name rules (query_bad_names).
 * name is valid during the call only.  fn returns 0 to go on or a
 * code that stops the listing and is returned. */
typedef int (*query_series_fn)(void *ctx, uint64_t id, const char *name, size_t len);
int query_series(struct query *q, const struct query_selector *sel, query_series_fn fn, void *ctx,
		 struct err *e);

/* How many stored names the last query_series skipped because they break
 * the name rules (lib/series_name.h): such a name, written by an older
 * store or a bug, is never handed out, so no output can be tricked by it. */
uint64_t query_bad_names(const struct query *q);

/* Calls fn for every stored sample of series id with from <= ts < to, in
 * time order.  Corrupt chunks are skipped and counted in *skipped (may be
 * NULL). */
typedef int (*query_sample_fn)(void *ctx, int64_t ts, double value);
int query_raw(struct query *q, uint64_t id, int64_t from, int64_t to, query_sample_fn fn, void *ctx,
	      uint64_t *skipped, struct err *e);

enum query_agg {
	QUERY_AVG,
	QUERY_MIN,
	QUERY_MAX,
	QUERY_LAST,
	QUERY_SUM,
	QUERY_COUNT,
	QUERY_RATE,	/* per second, for counters: resets are handled */
	QUERY_INCREASE, /* for counters: resets are handled */
};

/* Reads "avg", "min", ... "increase"; -EINVAL naming the choices. */
int query_agg_parse(const char *text, enum query_agg *out, struct err *e);
const char *query_agg_name(enum query_agg agg);

/* Aggregates series id over n = ceil((to - from) / step) windows
 * [from + i*step, from + (i+1)*step) into out[0..n), NaN where a window has
 * no data.  The resolution is chosen from the step: raw samples below one
 * minute, 1-minute rollups below one hour, 1-hour rollups above, always
 * completed with raw samples for the newest, not yet rolled up, data.
 * rate and increase sum the rises between consecutive values (a fall is a
 * counter reset: the new value counts as the rise), starting from the
 * value before the window. */
int query_range(struct query *q, uint64_t id, int64_t from, int64_t to, int64_t step,
		enum query_agg agg, double *out, size_t n, struct err *e);

#endif
