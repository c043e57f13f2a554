/* graphrace.h - part of `rmon-bench report`: the report's graphs against
 * rrdtool's, same run, same data, same parallelism.  S series of one day
 * at 10 s, each drawn over 1 hour, 6 hours and 1 day as a min/max band,
 * the average line and a threshold (90):
 *   ours:     query_range_multi (min, max, avg) through store/query.h from
 *             a store filled with the data, then lib/plot's gnuplot pool;
 *   the peer: `rrdtool -` processes, as many as gnuplot ones, drawing the
 *             same graph (DEF MIN/MAX/AVERAGE, AREA+STACK, LINE, HRULE)
 *             from RRD files filled with the same samples.
 * Both write SVG.  Rounds take turns, ours then rrdtool's, and each side
 * keeps its best: on a shared machine the others' load comes and goes.
 * Without rrdtool the peer is skipped with a note. */
#ifndef RMON_BENCH_GRAPHRACE_H
#define RMON_BENCH_GRAPHRACE_H

#include <stddef.h>

#include "bench/report.h"

/* Fills one table; 0, or -1 with a message on stderr. */
int graphrace_measure(struct bench_run *run, size_t series, size_t processes, int rounds);

#endif
