/* notify_graph.h - the graph a mail carries: the alert's series over the
 * hour before the notice, its threshold drawn and the breach shaded, read
 * through store/query.h and drawn as a PNG by lib/plot.h.  Used from the
 * notifier's worker threads: one store handle and one gnuplot process,
 * shared under a lock (graphs are few and take milliseconds). */
#ifndef RMON_ALERTD_NOTIFY_GRAPH_H
#define RMON_ALERTD_NOTIFY_GRAPH_H

#include <stddef.h>

#include "alertd/notify.h"
#include "lib/err.h"

#define NOTIFY_GRAPH_WIDTH  600
#define NOTIFY_GRAPH_HEIGHT 220

struct notify_graph;

/* Keeps data_dir; the store and gnuplot are opened at the first graph,
 * so a notifier starts before the store exists.  *out is the caller's. */
int notify_graph_new(const char *data_dir, struct notify_graph **out, struct err *e);
void notify_graph_free(struct notify_graph *g);

/* Draws a->series from a->at - 1 h to a->at (a->since to a->at shaded,
 * a->threshold dashed) into *png (malloc'd, *len bytes) and a one-line
 * description of it into alt.  -ENOENT: no store or no such series;
 * -ENODATA: no sample in the hour; gnuplot's errors as plot_wait says. */
int notify_graph_draw(struct notify_graph *g, const struct notice_alert *a, unsigned char **png,
		      size_t *len, char *alt, size_t alt_cap, struct err *e);

#endif
