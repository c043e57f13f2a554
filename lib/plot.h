/* plot.h - graphs drawn by gnuplot, for reportgen's pages and alertd's
 * mails: a pool of long-running gnuplot processes (one per core by
 * default) fed through pipes, many graphs each, so a graph costs about a
 * millisecond and not a process start.
 *
 * The caller hands over windows, not samples: one or two per pixel of
 * width (plot_windows), each with the min, max and average of its data
 * (store/query.h reads all three in one pass), so a year of 1 s data
 * costs what an hour does.  plot draws the min/max envelope as a band and
 * the average as a line, thresholds as dashed lines, alert periods
 * shaded, local time on the x axis, values in readable units; the same
 * colour index gives the same colour on every graph, and SVG graphs
 * follow the reader's light or dark scheme (prefers-color-scheme).
 * Every text (titles, legends) is escaped for the output format.
 *
 * Each graph is written to path + ".tmp" and renamed to path, so a web
 * server never serves half a graph. */
#ifndef RMON_PLOT_H
#define RMON_PLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

enum plot_format { PLOT_SVG, PLOT_PNG };

enum plot_unit {
	PLOT_UNIT_NONE,
	PLOT_UNIT_PERCENT, /* values 0-100 */
	PLOT_UNIT_BYTES,   /* shown as KiB, MiB, GiB */
	PLOT_UNIT_BYTES_PER_SEC,
	PLOT_UNIT_PER_SEC,
	PLOT_UNIT_SECONDS,
	PLOT_UNIT_CELSIUS,
};

/* "percent", "bytes", "bytes/s", "/s", "seconds", "celsius", "";
 * plot_unit_parse reads them back, -EINVAL naming the choices. */
const char *plot_unit_name(enum plot_unit unit);
int plot_unit_parse(const char *text, enum plot_unit *out, struct err *e);

struct plot_line {
	const char *title;	 /* legend */
	const double *avg;	 /* the line, n values, NaN: a gap */
	const double *min, *max; /* the envelope, may be NULL */
	int colour;		 /* palette index (plot_colour_for) */
};

struct plot_span {
	int64_t from, to; /* ns since the epoch: an alert period, shaded */
};

struct plot_graph {
	const char *path;
	enum plot_format format;
	int width, height; /* pixels */
	const char *title;
	enum plot_unit unit;
	int64_t from, step; /* window i covers [from + i*step, from + (i+1)*step) */
	size_t n;
	const struct plot_line *lines;
	size_t n_lines;
	bool stacked; /* lines are stacked areas (CPU by state) */
	const double *thresholds;
	size_t n_thresholds;
	const struct plot_span *spans;
	size_t n_spans;
	double ymin, ymax; /* NaN: automatic */
};

/* The number of windows for a graph width pixels wide: one a pixel of its
 * plot area.  The band draws each window's min and max, so no spike is
 * lost, and gnuplot's cost grows with the points (plot_draw accepts up to
 * 2 a pixel, still under 60 KB of SVG). */
size_t plot_windows(int width);

/* The palette index for a name ("user", "system", "iowait", "rx", ...):
 * the same name, the same colour, on every graph. */
int plot_colour_for(const char *name);

struct plot_pool;

/* Starts processes gnuplot processes (0: one per online core) and sets
 * *out, to be freed with plot_pool_free.  One pool is used by one thread.
 * -ENOENT with a message naming the Debian package (gnuplot-nox) when
 * gnuplot is not in PATH; -EINVAL for more than 256 processes. */
int plot_pool_new(int processes, struct plot_pool **out, struct err *e);

/* Queues g (its data is copied: g may be reused at once) on the least
 * busy process and returns, waiting only while every process has a few
 * graphs queued.  A relative path is taken from the current folder now.
 * Errors about g itself come back here: -EINVAL naming the field (path,
 * format, size 100-10000 x 60-10000, step, lines), the error of creating
 * path.tmp (-ENOENT for a missing folder, -EACCES), -ENOMEM; a gnuplot
 * that cannot be restarted: as plot_pool_new. */
int plot_draw(struct plot_pool *p, const struct plot_graph *g, struct err *e);

/* Waits until every queued graph is written and renamed into place.  The
 * first failure since the last plot_wait comes back, naming its graph's
 * path (and how many failed): -EINVAL with gnuplot's own message when it
 * refused a graph (an empty y range: ymin == ymax), -EPIPE when gnuplot
 * died before writing it (its queued graphs fail too; the next graph
 * starts another gnuplot), -EPROTO for an unfinished SVG, or the error of
 * writing or renaming the file.  A failed graph leaves no file, not even
 * path.tmp, and the graphs around it are still drawn.  A gnuplot silent
 * for 120 s (plot_pool_set_stall) with graphs queued is killed (-EPIPE). */
int plot_wait(struct plot_pool *p, struct err *e);

/* Ends the processes; graphs still queued (plot_wait not called) are
 * given up and their .tmp files removed.  NULL is fine. */
void plot_pool_free(struct plot_pool *p);

/* How long a gnuplot with graphs queued may say nothing before it is
 * taken for stuck and killed (seconds; 0: the default, 120). */
void plot_pool_set_stall(struct plot_pool *p, int seconds);

/* The process id of gnuplot number i (0 when it is not running), for
 * tests that kill one mid-way. */
int plot_pool_pid(const struct plot_pool *p, size_t i);

/* A sparkline: a small inline SVG (no gnuplot) of v[0..n) (NaN: gaps),
 * w x h pixels, into buf as snprintf counts: the length it needs is
 * returned, buf holds what fits, NUL-terminated.  Its stroke is
 * currentColor, so it takes the text colour of the page (light or dark). */
size_t plot_sparkline(char *buf, size_t cap, const double *v, size_t n, int w, int h);

#endif
