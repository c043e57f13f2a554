/* eval_window.c - the recent samples of each series a windowed function
 * reads (avg(x[1m]), rate(x[5m]) ...), kept in memory so a pass costs a
 * query_latest (no chunk decoded) instead of decoding the series' head
 * chunk for every window at every commit.
 *
 * Exactness: a series only grows at its end, and query_latest says how
 * many samples the current minute holds.  When the newest sample is the
 * only one since the last pass (same minute, one more in its count), it is
 * appended, and so is the first of a new minute when it comes one
 * interval after the last; otherwise (a commit with several samples, a
 * spool replayed, a gap) the samples since the last one kept are read
 * with query_raw, so the window holds what the store holds. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alertd/eval_private.h"
#include "lib/grow.h"
#include "lib/rtime.h"

#define SEC RTIME_NS_PER_SEC

/* Besides its span, a window keeps a minute before it, so a rate has the
 * sample before the window to count from. */
#define BEFORE (60 * SEC)

static int append(void *ctx, int64_t ts, double v)
{
	struct window *w = ctx;
	if (ts <= w->last_ts)
		return 0;
	if (w->start > 0 && w->start + w->n == w->cap) { /* slide down before growing */
		memmove(w->p, w->p + w->start, w->n * sizeof *w->p);
		w->start = 0;
	}
	if (!grow_array(&w->p, &w->cap, w->start + w->n + 1, sizeof *w->p))
		return -ENOMEM;
	w->p[w->start + w->n++] = (struct window_point){ ts, v };
	if (w->last_ts != INT64_MIN)
		w->interval = ts - w->last_ts;
	w->last_ts = ts;
	return 0;
}

static void trim(struct window *w, int64_t now)
{
	int64_t keep_from = now - w->span - BEFORE;
	/* One sample older than the window stays: the value before it. */
	while (w->n > 1 && w->p[w->start + 1].ts < keep_from) {
		w->start++;
		w->n--;
	}
}

int window_sync(struct window *w, struct query *q, uint64_t id, const struct query_latest *lt,
		int64_t now, struct err *e)
{
	int rc = 0;
	if (!w->primed) {
		w->n = w->start = 0;
		w->last_ts = INT64_MIN;
		w->interval = 0;
		rc = query_raw(q, id, now - w->span - BEFORE, INT64_MAX, append, w, NULL, e);
		w->primed = rc == 0;
	} else if (lt->ts != INT64_MIN && lt->ts > w->last_ts) {
		/* Within a minute, its count says whether one sample came.  At a
		 * minute's turn, one sample within 1.5 intervals of the last is
		 * taken as the only one (agents collect at a steady interval);
		 * anything else is read from the store. */
		int64_t gap = lt->ts - w->last_ts, interval = w->interval;
		bool one_more =
		    lt->minute_start == w->minute_start
			? lt->minute_count == w->minute_count + 1
			: lt->minute_count == 1 && interval > 0 && gap <= interval + interval / 2;
		if (one_more)
			rc = append(w, lt->ts, lt->value);
		else
			rc = query_raw(q, id, w->last_ts + 1, INT64_MAX, append, w, NULL, e);
	}
	if (rc == -ENOMEM)
		return err_set(e, -ENOMEM, "out of memory");
	if (rc)
		return rc;
	w->minute_start = lt->minute_start;
	w->minute_count = lt->minute_count;
	trim(w, now);
	return 0;
}

void window_free(struct window *w)
{
	free(w->p);
	*w = (struct window){ 0 };
}

double window_aggregate(const struct window *w, enum expr_func func, int64_t span, int64_t now)
{
	int64_t from = now - span;
	const struct window_point *p = w->p + w->start;
	size_t n = w->n, i = 0;
	while (i < n && p[i].ts < from)
		i++;
	size_t first = i;
	double sum = 0, min = INFINITY, max = -INFINITY, last = NAN, count = 0, rise = 0;
	double sx = 0, sy = 0, sxx = 0, sxy = 0;
	double prev = first > 0 ? p[first - 1].v : NAN;
	int64_t last_ts = 0;
	for (; i < n && p[i].ts <= now; i++) {
		double v = p[i].v;
		if (isnan(v))
			continue;
		sum += v;
		count++;
		min = v < min ? v : min;
		max = v > max ? v : max;
		last = v;
		last_ts = p[i].ts;
		if (!isnan(prev))
			rise += v >= prev ? v - prev : v; /* a fall is a counter reset */
		prev = v;
		double x = (double)(p[i].ts - now) / SEC;
		sx += x;
		sy += v;
		sxx += x * x;
		sxy += x * v;
	}
	if (count == 0)
		return NAN;
	switch (func) {
	case EXPR_AVG:
		return sum / count;
	case EXPR_MIN:
		return min;
	case EXPR_MAX:
		return max;
	case EXPR_LAST:
		return last;
	case EXPR_INCREASE:
		return rise;
	case EXPR_RATE: {
		/* The rise counts from the sample before the window, so it spans
		 * the window; a series younger than the window spans only its
		 * own life, and dividing by the window would make a new host's
		 * CPU look idle. */
		double seconds = (double)span / SEC;
		if (first == 0)
			seconds = (double)(last_ts - p[0].ts) / SEC;
		return seconds > 0 ? rise / seconds : NAN;
	}
	case EXPR_DERIV: {
		double d = count * sxx - sx * sx;
		return count >= 2 && fabs(d) > 1e-12 ? (count * sxy - sx * sy) / d : NAN;
	}
	default:
		return last;
	}
}
