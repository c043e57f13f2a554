/* graph.h - a host's graphs: the instances of each metric family found in
 * its series (one disk-space graph per mount, one network graph per
 * interface...), and their drawing for a range: windows from
 * plot_windows(width) on a grid aligned to the step, min, max and average
 * (or the rate, for counters) from one query_range_multi pass per series,
 * handed to lib/plot.h.  A graph whose signature (reportgen/drawn.h) has
 * not moved is neither read nor drawn. */
#ifndef RMON_REPORT_GRAPH_H
#define RMON_REPORT_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "lib/plot.h"
#include "reportgen/drawn.h"
#include "reportgen/families.h"
#include "store/query.h"

struct graph_line {
	char title[128];
	uint64_t plus[FAMILY_TERMS], minus[FAMILY_TERMS], per[FAMILY_TERMS];
	size_t n_plus, n_minus, n_per;
	double scale;
	bool hidden; /* counted in a percent_of_sum, not drawn */
};

struct graph_inst {
	const struct family *fam; /* NULL: one series (an alert's) */
	bool counter;
	char split[256]; /* the split label's value, "" none */
	char slug[96];	 /* file name part: "disk-_var-1a2b3c4d" */
	char title[384];
	char metrics[4][96]; /* metric names, for matching rule thresholds */
	size_t n_metrics;
	struct graph_line *lines;
	size_t n_lines;
};

/* The ranges of a host page. */
struct graph_range {
	const char *key;   /* "1h": file names */
	const char *title; /* "1 hour" */
	int64_t span_ns;
	int64_t min_move_ns; /* redrawn when its grid moved this far (or a window) */
};
extern const struct graph_range report_ranges[];
#define REPORT_N_RANGES 5

/* Finds the graphs of a host in its series s[0..n) (sorted by name), in
 * family order; *out (n_out of them) is the caller's (graph_insts_free). */
int graph_insts(const struct host_series *s, size_t n, struct graph_inst **out, size_t *n_out,
		struct err *e);
void graph_insts_free(struct graph_inst *g, size_t n);

/* A graph of the one series id named name (an alert's): counters (by
 * name: *_total) drawn as rates. */
int graph_inst_single(uint64_t id, const char *name, struct graph_inst *out, struct err *e);
void graph_inst_clear(struct graph_inst *g);

/* The newest sample of each series of a host, read in one query_latest
 * call: the store's lookup is built for many ids at once (it orders them
 * through a table of 4,096 counters), so a call a series cost a page of
 * fresh memory each, which at 750,000 series a pass was most of the
 * report's CPU.  Reused from host to host; the arrays are the table's. */
struct graph_latest {
	uint64_t *ids;		     /* ascending */
	struct query_latest *values; /* of ids[i] */
	size_t n, cap;
};

/* Fills t with the newest samples of the n series s, from q's snapshot.
 * -ENOMEM, or query_latest's errors, with e filled. */
int graph_latest_read(struct graph_latest *t, struct query *q, const struct host_series *s,
		      size_t n, struct err *e);

/* The same for the n series ids (in any order, repeats allowed). */
int graph_latest_read_ids(struct graph_latest *t, struct query *q, const uint64_t *ids, size_t n,
			  struct err *e);

/* Series id's newest sample in t, or NULL when t does not hold it. */
const struct query_latest *graph_latest_find(const struct graph_latest *t, uint64_t id);

void graph_latest_free(struct graph_latest *t);

struct graph_ctx {
	struct query *q; /* a snapshot held by the caller */
	/* The newest samples of the graphs' series (NULL: asked of q). */
	const struct graph_latest *latest;
	struct plot_pool *pool;
	struct drawn *drawn;
	enum plot_format format;
	int width, height;
	int cores;     /* of the host, for cores_threshold (0: unknown) */
	uint64_t salt; /* mixed into the signatures: a change redraws */
	/* counted */
	size_t drawn_now, skipped;
};

/* The step of the windows of a graph width pixels wide over span_ns
 * (whole seconds, about two windows a pixel); *n (may be NULL) is their
 * number.  The grid is aligned to the step, so a graph's picture moves
 * only when now crosses a multiple of it. */
int64_t graph_step(int width, int64_t span_ns, size_t *n);

/* Draws g over span_ns ending at end (its grid aligned to the step) into
 * path, unless it is drawn already with the same signature and a grid
 * less than min_move behind (and a window; 0: redrawn whenever its grid
 * moves).  Thresholds and
 * shaded spans are the caller's.  Errors from the store or plot, with e
 * naming the graph. */
int graph_draw(struct graph_ctx *c, const struct graph_inst *g, int64_t end, int64_t span_ns,
	       int64_t min_move, const char *path, const double *thresholds, size_t n_thresholds,
	       const struct plot_span *spans, size_t n_spans, struct err *e);

/* True when series id is one of g's (for shading its alerts). */
bool graph_has_series(const struct graph_inst *g, uint64_t id);

#endif
