/* run.h - the life of one rmon-bench run, for rmon-bench.c: it makes the
 * run, brackets each scenario with begin and end (end prints the
 * scenario's tables unless --json), and finish writes the --json document
 * and the --plot graph.  The scenarios see the run through report.h only. */
#ifndef RMON_BENCH_RUN_H
#define RMON_BENCH_RUN_H

#include "bench/report.h"

/* A run with a copy of opts; ends the program with a message when out of
 * memory.  Its scratch folder (made on first use) is removed by
 * bench_run_free, and also at exit when a scenario gives up with exit(),
 * and when SIGINT, SIGTERM or SIGHUP ends the run (the tracked daemons
 * killed, then bench_end_scratch in a fresh process). */
struct bench_run *bench_run_new(const struct bench_options *opts);

/* `rmon-bench --end-scratch DIR PID`: removes the rings of the data
 * folders under the scratch folder DIR, the ring scenario's ring of run
 * PID, and DIR.  Returns the exit status. */
int bench_end_scratch(const char *dir, const char *run_pid_text);

/* The scenario name starts; its tables and progress points go to it. */
void bench_run_begin(struct bench_run *run, const char *name);

/* The scenario ended with status (0 measured, 1 not); prints its tables
 * on stdout unless --json. */
void bench_run_end(struct bench_run *run, int status);

/* Writes the --json document and the --plot graph when asked.  Returns 0,
 * or 1 when the graph could not be drawn (the reason is on stderr). */
int bench_run_finish(struct bench_run *run);

void bench_run_free(struct bench_run *run);

#endif
