/* report.h - how every rmon-bench scenario measures and reports: the run's
 * options, a latency histogram, the live progress line, one summary table
 * per scenario (figures, goals with PASS or a plain "missed", ratios to a
 * baseline or a peer, per-daemon CPU and peak RSS), --json and --plot.
 *
 * A scenario is a function  int scenario_NAME(struct bench_run *run,
 * int argc, char **argv)  (bench/scenarios.h): argv holds the options
 * after the scenario's name; it parses its own with lib/cmdline.h, prints
 * usage and returns 0 for --help without running anything, measures, and
 * fills one or more tables.  It returns 0 when it measured (missed goals
 * are not errors), 1 when it could not (a count that does not add up). */
#ifndef RMON_BENCH_REPORT_H
#define RMON_BENCH_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The options of the whole run, given before the scenario's name. */
struct bench_options {
	bool quick;	  /* --quick: the whole of `all` in under 3 minutes */
	bool json;	  /* --json: one JSON document on stdout, no tables */
	const char *plot; /* --plot FILE.svg, or NULL */
	const char *bin;  /* the folder of the rmon programs (the build's bin/) */
	bool tty;	  /* stderr is a terminal: the progress line redraws */
};

struct bench_table;
struct bench_run;

/* --- latency histogram ----------------------------------------------------
 * Log-linear buckets (about 1 % wide) from 100 ns to 1000 s: constant
 * memory whatever the count, quantiles within a bucket's width. */
struct bench_hist;
struct bench_hist *bench_hist_new(void);
void bench_hist_free(struct bench_hist *h);
void bench_hist_add(struct bench_hist *h, int64_t ns);
void bench_hist_merge(struct bench_hist *into, const struct bench_hist *from);
uint64_t bench_hist_count(const struct bench_hist *h);
int64_t bench_hist_quantile(const struct bench_hist *h, double q); /* q in 0..1; 0 when empty */
int64_t bench_hist_max(const struct bench_hist *h);

/* --- progress ---------------------------------------------------------------
 * One line on stderr: "scenario: what  1.23 M samples/s  12 s / 60 s".  On
 * a terminal it is redrawn in place at most 4 times a second; otherwise a
 * plain line every 10 s.  Nothing under --json but the plain lines on
 * stderr.  Each call also records a point of the --plot timeline. */
void bench_progress(struct bench_run *run, const char *what, double rate, const char *unit,
		    double elapsed_s, double total_s);
/* The latency of the same moment, for the --plot timeline (ms). */
void bench_progress_latency(struct bench_run *run, double p99_ms);
void bench_progress_done(struct bench_run *run); /* clears the line */

/* --- tables -------------------------------------------------------------- */
/* A new table for the scenario that runs now, titled e.g.
 * "ring: 4 M samples of 32 bytes, cross-process". */
struct bench_table *bench_table(struct bench_run *run, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A figure with its unit ("M samples/s", "ms", "bytes/sample", "×"). */
void bench_figure(struct bench_table *t, const char *name, double value, const char *unit);

/* A figure and its goal: at_least true for "≥ goal", false for "≤ goal".
 * The table shows "PASS" or "missed: goal ≥ 500 requests/s". */
void bench_goal(struct bench_table *t, const char *name, double value, const char *unit,
		bool at_least, double goal);

/* ours / theirs as "12.3× peer" beside a figure; with a goal when goal > 0
 * (the ratio must be ≥ goal). */
void bench_ratio(struct bench_table *t, const char *name, double ours, double theirs,
		 const char *versus, double goal);

/* p50, p90, p99 and max of h, in ms, as one row; with a goal on p99 when
 * p99_goal_ms > 0. */
void bench_latency(struct bench_table *t, const char *name, const struct bench_hist *h,
		   double p99_goal_ms);

/* CPU seconds and peak RSS (VmHWM) of a process, read now from /proc: call
 * before the process is reaped. */
void bench_process(struct bench_table *t, const char *daemon, pid_t pid);
/* The same from figures measured otherwise (a peer, the benchmark itself). */
void bench_process_figures(struct bench_table *t, const char *daemon, double cpu_s, long peak_kib);

/* A count that must be zero (drops, errors, lost samples): PASS when 0. */
void bench_zero(struct bench_table *t, const char *name, uint64_t count);

/* A plain line under the table ("victoria-metrics not installed: skipped"). */
void bench_note(struct bench_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --- the run (bench/run.c; rmon-bench.c drives it through bench/run.h) ----- */
const struct bench_options *bench_opts(const struct bench_run *run);
/* A scratch folder of the run's own under /tmp, removed at the end. */
const char *bench_scratch(struct bench_run *run);
/* The path of an rmon program: bench_bin(run, "rmon-stored"). */
const char *bench_bin(struct bench_run *run, const char *program);
/* The folder of the peer scripts (bench/peers/: install, run and stop a
 * peer from Debian's packages): $RMON_BENCH_PEERS, else the source tree's
 * bench/peers beside the build (BIN/../../../bench/peers); NULL when
 * neither holds them. */
const char *bench_peers(struct bench_run *run);

#endif
