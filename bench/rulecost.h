/* rulecost.h - part of `rmon-bench alert`: what rule evaluation costs a
 * commit.  100 rules (the shipped ones and 91 more over application
 * metrics: bare values, avg, max and rate windows) over hosts x 100 series,
 * every series changing at every commit as a 10 s interval makes them, in
 * a store written through the drainer.  The CPU of one pass (query_changed
 * and eval_pass) against the baseline of reading the newest value of the
 * same series with query_latest on the same snapshot, in the same run. */
#ifndef RMON_BENCH_RULECOST_H
#define RMON_BENCH_RULECOST_H

#include "bench/report.h"

/* Measures `commits` commits after ten minutes of history and fills one
 * table; 0, or -1 with a message on stderr when it could not measure. */
int rulecost_measure(struct bench_run *run, int commits, int hosts);

#endif
