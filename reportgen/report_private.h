/* report_private.h - what the page writers of reportgen share: the
 * report's state, the hosts of a pass with their summaries, the alerts
 * read once per pass.  Included by reportgen/ files only. */
#ifndef RMON_REPORT_PRIVATE_H
#define RMON_REPORT_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alertd/alerts.h"
#include "alertd/rules.h"
#include "lib/err.h"
#include "lib/plot.h"
#include "reportgen/drawn.h"
#include "reportgen/families.h"
#include "reportgen/graph.h"
#include "reportgen/html.h"
#include "reportgen/report.h"
#include "store/query.h"

#define REPORT_SPARK_POINTS 60
#define REPORT_STALE_NS	    (5 * 60 * INT64_C(1000000000)) /* no sample this long: stale */

struct host_info {
	char name[256];
	char slug[96]; /* its folder under hosts/ */
	struct host_series *series;
	size_t n_series;
	size_t counted; /* its series as the listing of hosts counted them */
	char *names;	/* the series' names, one arena */
	int64_t last_seen;
	int cores;
	double cpu_pct, mem_pct, disk_pct, net_bps, load1; /* NaN: unknown */
	char disk_mount[256];
	double spark[REPORT_SPARK_POINTS]; /* CPU busy % a minute over the last hour */
	const char *health;		   /* "ok", "pending", "warning", "critical", "stale" */
	size_t n_firing, n_pending;
	/* Its graph instances, all of them (page_host shows those with
	 * data), found once for the listing of its series. */
	struct graph_inst *graphs;
	size_t n_graphs;
	bool graphs_found;
	uint64_t *page_ids; /* the series its page reads the newest sample of */
	size_t n_page_ids;
	uint64_t *summary_ids; /* and its summary (disks, memory, load) */
	size_t n_summary_ids;
};

/* A series of the listing and its host (an index into report.hosts). */
struct report_series_host {
	uint64_t id;
	size_t host;
};

struct report {
	struct report_options o;
	char out[1024];
	struct query *q;
	struct alert_config *cfg;
	struct alert_store *alerts; /* NULL while alertd has not run here */
	struct plot_pool *pool;
	struct drawn *drawn;
	const char *ext; /* "svg" or "png" */
	/* this pass */
	int64_t now;
	int64_t data_time;	  /* of the hosts' figures: the last full pass */
	uint64_t seen_generation; /* alertd's store as the alerts were read */
	/* The hosts and their series, kept from pass to pass while the store
	 * holds as many series as when they were listed: a name once stored
	 * is never removed, so the same count is the same names, and the
	 * listing (a walk of every name: 750,000 at a big central host) and
	 * what comes of it need not be redone. */
	struct host_info *hosts;
	size_t n_hosts;
	bool listed;		 /* hosts is a listing of listed_series series */
	uint64_t listed_series;	 /* the store's series when hosts were listed */
	struct html collectors;	 /* the configuration page's table, of the listing */
	bool collectors_current; /* made since the listing */
	/* Every series of the listing by id, for the sweep that finds when
	 * each host was last seen (site.c), and its buffer. */
	uint64_t *all_ids; /* ascending */
	struct report_series_host *all;
	size_t n_all;
	struct query_latest *sweep;
	struct alert *active; /* pending and firing, newest first */
	size_t n_active;
	struct alert *recent; /* active and recently resolved */
	size_t n_recent;
	struct report_stats st;
	struct graph_latest latest; /* of the host being summarised or paged */
};

/* Writes the page at out/rel unless it holds that already (counted). */
int report_write_page(struct report *r, const char *rel, struct html *h, struct err *e);

/* The thresholds of the enabled rules that apply to graph g (their metric
 * glob matches one of its metrics and their unit is the graph's). */
size_t report_thresholds(const struct report *r, const struct graph_inst *g, double *out,
			 size_t cap);

/* True when a rule's expression is its series as they are (no function,
 * no arithmetic): only then is its threshold on the series' own scale. */
bool report_plain_expr(const char *expr);

/* Number formatting for tables: "12.3 %", "1.5 GiB", "3.2 MiB/s", "-". */
void report_format(double v, enum plot_unit unit, char *buf, size_t cap);
/* "2026-12-01 10:04:05" in local time, "-" for 0. */
void report_format_time(int64_t ns, char *buf, size_t cap);
/* The same as markup that wraps between the date and the time only. */
void report_time_html(struct html *h, int64_t ns);
/* "3 min ago", "2 h ago". */
void report_format_age(int64_t now, int64_t then, char *buf, size_t cap);

/* The alerts that fire or wait as a table (host NULL: of every host);
 * root leads back to the site's top ("", "../../"). */
void page_active_alerts(struct report *r, struct html *h, const char *host, const char *root);

/* The silences in force as a table. */
int page_silences(struct report *r, struct html *h, struct err *e);

/* The page writers. */
int page_index(struct report *r, struct err *e);
int page_host(struct report *r, struct host_info *h, struct err *e);
int page_alerts(struct report *r, struct err *e);
int page_config(struct report *r, struct err *e);

#endif
