/* report.h - rmon-reportgen's site: static HTML pages and gnuplot graphs of
 * the metrics store and of alertd's alerts and configuration, in an output
 * folder any web server (or file://) can serve (docs/reports.md).
 *
 * A pass reads the store through store/query.h, one snapshot per page,
 * the newest samples many series a call (every series in key order for
 * when each host was last seen), and lists the hosts and their series
 * again only when the store holds another number of series than at the
 * last listing; alertd's store through alertd/alerts.h.  It rewrites only the files
 * whose content changed and redraws only the graphs whose window grid,
 * thresholds or alert spans moved (reportgen/drawn.h), each file written
 * under a temporary name and renamed.  Errors are negative errno codes
 * with e filled; nothing is printed. */
#ifndef RMON_REPORT_H
#define RMON_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "lib/plot.h"

struct report_options {
	const char *data_dir;	 /* the data folder of the stores */
	const char *out_dir;	 /* where the site goes */
	const char *config_path; /* alertd's configuration, NULL: the embedded default */
	enum plot_format format; /* of the graphs */
	int width, height;	 /* of a graph, pixels (0: 800 x 360) */
	int processes;		 /* gnuplot processes (0: one per core) */
};

struct report_stats {
	size_t hosts;
	size_t pages_written, pages_same; /* HTML files rewritten, and left as they were */
	size_t graphs_drawn, graphs_skipped;
	int64_t elapsed_ns;
};

struct report;

/* Opens the metrics store, reads the configuration, starts the gnuplot
 * processes, and removes the temporary files a killed pass left in the
 * output folder.  *out is the caller's (report_close).  Errors: those of
 * query_open (-ENOENT: no store yet), alert_config_read_file (-EINVAL
 * with file:line), plot_pool_new (-ENOENT: gnuplot missing), and
 * outfile_mkdirs for the output folder. */
int report_open(const struct report_options *o, struct report **out, struct err *e);

/* Writes the whole site as of now (ns since the epoch); *st (may be NULL)
 * says what it did. */
int report_pass(struct report *r, int64_t now, struct report_stats *st, struct err *e);

/* alertd's store generation (alertd/alerts.h), 0 while it has none. */
uint64_t report_alerts_generation(struct report *r);

/* True when alertd's store changed since the alerts were last read: a
 * daemon then calls report_pass_alerts at once.  (report_pass itself
 * looks between host pages, so a long pass does not delay them.) */
bool report_alerts_changed(struct report *r);

/* Rewrites what shows the alerts (alerts.html, alerts/ID.html and the
 * index, with the hosts' figures of the last report_pass) as of now. */
int report_pass_alerts(struct report *r, int64_t now, struct report_stats *st, struct err *e);

/* The metrics store's handle, for query_wait. */
struct query *report_query(struct report *r);

void report_close(struct report *r);

#endif
