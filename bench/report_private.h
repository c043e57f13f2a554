/* report_private.h - what the parts of rmon-bench's reporting share: the
 * run, its scenarios, their tables and rows and the progress points of
 * the --plot timeline.  Only bench/report*.c include it. */
#ifndef RMON_BENCH_REPORT_PRIVATE_H
#define RMON_BENCH_REPORT_PRIVATE_H

#include <stdio.h>

#include "bench/report.h"
#include "bench/run.h"

enum row_kind {
	ROW_FIGURE,  /* a value and its unit */
	ROW_GOAL,    /* ... with a goal */
	ROW_RATIO,   /* ours / theirs, unit "×", versus a baseline or a peer */
	ROW_LATENCY, /* p50, p90, p99, max in ms; the goal is on p99 */
	ROW_ZERO,    /* a count that must be 0 */
};

struct row {
	enum row_kind kind;
	char *name;
	char *unit;
	char *versus; /* ROW_RATIO: what the figure is divided by */
	double value; /* ROW_LATENCY: p99 */
	double p50, p90, p99, max;
	uint64_t count; /* ROW_LATENCY: values; ROW_ZERO: the count */
	bool has_goal, at_least;
	double goal;
};

struct bench_table {
	char *title;
	struct row *rows;
	size_t n_rows, cap_rows;
	char **notes;
	size_t n_notes, cap_notes;
};

/* A moment of the --plot timeline; p99_ms is NaN until
 * bench_progress_latency gives it. */
struct point {
	double elapsed_s, rate, p99_ms;
};

struct scenario_result {
	char *name;
	int status;	/* the scenario's return: 0 measured, 1 not */
	double seconds; /* wall-clock */
	struct bench_table **tables;
	size_t n_tables, cap_tables;
	struct point *points;
	size_t n_points, cap_points;
	char *rate_unit; /* the unit of the points' rate */
};

struct bench_run {
	struct bench_options opts;
	struct scenario_result *results;
	size_t n_results, cap_results;
	struct scenario_result *now; /* the scenario running, or NULL */
	int64_t started_ns;
	/* progress */
	int64_t last_draw_ns, last_line_ns;
	bool line_shown; /* a redrawn line is on the terminal */
	char scratch[64];
	char **paths; /* bench_bin's answers, freed with the run */
	size_t n_paths, cap_paths;
};

/* Every string a table keeps is its own copy; out of memory ends the run
 * (a benchmark cannot report what it failed to remember). */
char *report_strdup(const char *s);
void *report_grow(void *array_ptr, size_t *cap, size_t need, size_t size);

/* Whether r meets its goal (r->has_goal). */
bool report_row_pass(const struct row *r);

/* The text tables of one scenario, on out. */
void report_print_tables(FILE *out, const struct scenario_result *s);
/* The whole run as one JSON document on out. */
void report_print_json(FILE *out, const struct bench_run *run);
/* The --plot SVG of the run; 0, or -1 after printing why on stderr. */
int report_plot(const struct bench_run *run, const char *path);

/* A value as a person reads it: "1,234,567", "123", "12.3", "1.23", "0.0123". */
void report_format_value(char *buf, size_t cap, double v);

#endif
