/* page_host.c - a page per host and range (hosts/HOST/index.html for the
 * last hour, 1d.html, 1w.html, 1mo.html, 1y.html): its summary, its
 * alerts, a graph per metric family instance, and the top processes.
 * The graphs of all ranges are drawn (or found current) here. */
#include "reportgen/report_private.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/grow.h"
#include "lib/series_name.h"
#include "reportgen/outfile.h"
#include "reportgen/page_forms.h"

#define SPANS_MAX 16

static const char *range_page(size_t i)
{
	static const char *const pages[REPORT_N_RANGES] = { "index.html", "1d.html", "1w.html",
							    "1mo.html", "1y.html" };
	return pages[i];
}

/* The alert periods of this host over the graph's series. */
static size_t spans_for(struct report *r, const struct host_info *hi, const struct graph_inst *g,
			struct plot_span *out)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n_recent && n < SPANS_MAX; i++) {
		const struct alert *a = &r->recent[i];
		if (!a->fired || !a->series[0] || strcmp(a->host, hi->name) != 0 ||
		    !graph_has_series(g, series_id(a->series, strlen(a->series))))
			continue;
		out[n++] = (struct plot_span){ a->fired, a->resolved ? a->resolved : r->now };
	}
	return n;
}

static int draw_all(struct report *r, struct host_info *hi, struct graph_inst *g, size_t n_g,
		    struct err *e)
{
	struct graph_ctx c = { .q = r->q,
			       .latest = &r->latest,
			       .pool = r->pool,
			       .drawn = r->drawn,
			       .format = r->o.format,
			       .width = r->o.width,
			       .height = r->o.height,
			       .cores = hi->cores };
	int rc = 0;
	for (size_t i = 0; i < n_g && rc == 0; i++) {
		double thr[8];
		struct plot_span spans[SPANS_MAX];
		size_t n_thr = report_thresholds(r, &g[i], thr, 7);
		size_t n_spans = spans_for(r, hi, &g[i], spans);
		for (size_t k = 0; k < REPORT_N_RANGES && rc == 0; k++) {
			char path[PATH_MAX];
			snprintf(path, sizeof path, "%s/hosts/%s/%s-%s.%s", r->out, hi->slug,
				 g[i].slug, report_ranges[k].key, r->ext);
			rc = graph_draw(&c, &g[i], r->now, report_ranges[k].span_ns,
					report_ranges[k].min_move_ns, path, thr, n_thr, spans,
					n_spans, e);
		}
	}
	r->st.graphs_drawn += c.drawn_now;
	r->st.graphs_skipped += c.skipped;
	return rc;
}

/* The newest series of each rank of a top-process metric. */
static void top_table(struct report *r, struct host_info *hi, struct html *h, const char *metric,
		      const char *pid_metric, const char *title, enum plot_unit unit, double scale)
{
	enum { RANKS = 10 };
	const struct host_series *best[RANKS] = { 0 };
	int64_t best_ts[RANKS];
	char m[128], v[512];
	for (size_t i = 0; i < hi->n_series; i++) {
		const struct host_series *s = &hi->series[i];
		family_metric_of(s->name, s->len, m, sizeof m);
		if (strcmp(m, metric) != 0 ||
		    family_label_of(s->name, s->len, "rank", v, sizeof v) < 0)
			continue;
		int rank = atoi(v);
		const struct query_latest *l = graph_latest_find(&r->latest, s->id);
		if (rank < 1 || rank > RANKS || !l || l->ts == INT64_MIN)
			continue;
		if (!best[rank - 1] || l->ts > best_ts[rank - 1]) {
			best[rank - 1] = s;
			best_ts[rank - 1] = l->ts;
		}
	}
	if (!best[0])
		return;
	html_rawf(h,
		  "<h3>%s</h3>\n<div class=\"scroll\"><table>\n<tr><th class=\"num\">#</th>"
		  "<th>Command</th><th class=\"num\">PID</th><th class=\"num\">%s</th></tr>\n",
		  title, unit == PLOT_UNIT_BYTES ? "Resident" : "CPU");
	for (int k = 0; k < RANKS; k++) {
		if (!best[k])
			continue;
		const struct host_series *s = best[k];
		const struct query_latest *l = graph_latest_find(&r->latest, s->id);
		char value[64], pid[32] = "-", comm[512] = "";
		family_label_of(s->name, s->len, "comm", comm, sizeof comm);
		char pid_name[SERIES_NAME_MAX + 1];
		size_t head = strlen(hi->name) + 1 + strlen(metric);
		snprintf(pid_name, sizeof pid_name, "%s/%s%.*s", hi->name, pid_metric,
			 (int)(s->len - head), s->name + head);
		/* The pid series is the host's too: in the same table. */
		const struct query_latest *lp =
		    graph_latest_find(&r->latest, series_id(pid_name, strlen(pid_name)));
		if (lp && lp->ts != INT64_MIN)
			snprintf(pid, sizeof pid, "%.0f", lp->value);
		report_format(l->value * scale, unit, value, sizeof value);
		html_rawf(h, "<tr><td class=\"num\">%d</td><td><code>", k + 1);
		html_text(h, comm);
		html_rawf(h,
			  "</code></td><td class=\"num\">%s</td><td class=\"num\">%s</td></tr>\n",
			  pid, value);
	}
	html_raw(h, "</table></div>\n");
}

static void card(struct html *h, const char *label, double v, enum plot_unit unit,
		 const char *below)
{
	char buf[64];
	report_format(v, unit, buf, sizeof buf);
	html_rawf(h, "<div><span class=\"muted\">%s</span><b>%s</b>", label, buf);
	if (below && *below) {
		html_raw(h, "<span class=\"muted\">");
		html_text(h, below);
		html_raw(h, "</span>");
	}
	html_raw(h, "</div>");
}

static int write_range(struct report *r, struct host_info *hi, const struct graph_inst *g,
		       size_t n_g, size_t range, struct err *e)
{
	struct html h = { 0 };
	char title[400], age[64], seen[64], rel[PATH_MAX];
	snprintf(title, sizeof title, "%s, %s", hi->name, report_ranges[range].title);
	html_begin(&h, title, "../../");
	html_rawf(&h, "<h1><span class=\"badge s-%s\">%s</span> ", html_state_class(hi->health),
		  hi->health);
	html_text(&h, hi->name);
	html_raw(&h, "</h1>\n");
	if (page_forms_on(r)) {
		char self[PATH_MAX], host_sel[300];
		snprintf(self, sizeof self, "hosts/%s/%s", hi->slug, range_page(range));
		snprintf(host_sel, sizeof host_sel, "%s/*", hi->name);
		html_raw(&h, "<div class=\"actions\">");
		page_form_silence(r, &h, host_sel, "Silence this host", self);
		html_raw(&h, "</div>\n");
	}
	report_format_age(r->now, hi->last_seen, age, sizeof age);
	report_format_time(hi->last_seen, seen, sizeof seen);
	html_rawf(&h, "<p class=\"sub\">Last seen %s (%s)", age, seen);
	if (hi->cores)
		html_rawf(&h, ", %d CPU%s", hi->cores, hi->cores == 1 ? "" : "s");
	html_rawf(&h, ", %zu series.</p>\n", hi->n_series);
	html_raw(&h, "<div class=\"summary\">");
	card(&h, "CPU", hi->cpu_pct, PLOT_UNIT_PERCENT, NULL);
	card(&h, "Memory", hi->mem_pct, PLOT_UNIT_PERCENT, NULL);
	card(&h, "Fullest disk", hi->disk_pct, PLOT_UNIT_PERCENT, hi->disk_mount);
	card(&h, "Network", hi->net_bps, PLOT_UNIT_BYTES_PER_SEC, NULL);
	card(&h, "Load", hi->load1, PLOT_UNIT_NONE, NULL);
	html_raw(&h, "</div>\n");
	if (hi->n_firing || hi->n_pending) {
		html_raw(&h, "<h2>Alerts</h2>\n");
		page_active_alerts(r, &h, hi->name, "../../");
	}
	html_raw(&h, "<h2>Graphs</h2>\n<p class=\"ranges\">");
	for (size_t k = 0; k < REPORT_N_RANGES; k++)
		html_rawf(&h, k == range ? "<strong>%s</strong>" : "<a href=\"%s\">%s</a>",
			  k == range ? report_ranges[k].title : range_page(k),
			  report_ranges[k].title);
	html_raw(&h, "</p>\n<div class=\"graphs\">\n");
	for (size_t i = 0; i < n_g; i++) {
		html_rawf(&h,
			  "<figure id=\"%s\"><img src=\"%s-%s.%s\" loading=\"lazy\" "
			  "width=\"%d\" height=\"%d\" alt=\"",
			  g[i].slug, g[i].slug, report_ranges[range].key, r->ext, r->o.width,
			  r->o.height);
		html_attr(&h, g[i].title);
		html_raw(&h, "\"><figcaption>");
		html_text(&h, g[i].title);
		html_raw(&h, " &middot; ");
		for (size_t k = 0; k < REPORT_N_RANGES; k++)
			if (k != range)
				html_rawf(&h, " <a href=\"%s#%s\">%s</a>", range_page(k), g[i].slug,
					  report_ranges[k].key);
		html_raw(&h, "</figcaption></figure>\n");
	}
	html_raw(&h, "</div>\n");
	if (range == 0) {
		top_table(r, hi, &h, "rmon_top_cpu_ratio", "rmon_top_cpu_pid",
			  "Top processes by CPU", PLOT_UNIT_PERCENT, 100);
		top_table(r, hi, &h, "rmon_top_resident_memory_bytes",
			  "rmon_top_resident_memory_pid", "Top processes by memory",
			  PLOT_UNIT_BYTES, 1);
	}
	html_end(&h, hi->last_seen > 0 ? hi->last_seen : r->now);
	snprintf(rel, sizeof rel, "hosts/%s/%s", hi->slug, range_page(range));
	int rc = report_write_page(r, rel, &h, e);
	html_free(&h);
	return rc;
}

/* True when some series of g has a newest value other than 0: an
 * interface that never moved a byte, a host without swap, a family whose
 * every line is 0 would only be a flat line. */
static bool has_data(struct report *r, const struct graph_inst *g)
{
	for (size_t l = 0; l < g->n_lines; l++) {
		const struct graph_line *gl = &g->lines[l];
		for (size_t t = 0; t < gl->n_plus; t++) {
			const struct query_latest *q = graph_latest_find(&r->latest, gl->plus[t]);
			if (q && q->ts != INT64_MIN && q->value != 0)
				return true;
		}
	}
	return false;
}

static bool add_id(uint64_t **ids, size_t *n, size_t *cap, uint64_t id)
{
	if (!grow_array(ids, cap, *n + 1, sizeof **ids))
		return false;
	(*ids)[(*n)++] = id;
	return true;
}

/* Finds the host's graphs and the series whose newest sample its page
 * reads (the graphs' lines, for has_data and their oldest sample, and the
 * top-process tables): once for the listing of its series, so a pass
 * reads those alone. */
static int find_graphs(struct host_info *hi, struct err *e)
{
	/* What an attempt that ran out of memory left. */
	graph_insts_free(hi->graphs, hi->n_graphs);
	free(hi->page_ids);
	hi->page_ids = NULL;
	hi->n_page_ids = 0;
	int rc = graph_insts(hi->series, hi->n_series, &hi->graphs, &hi->n_graphs, e);
	size_t cap = 0;
	bool ok = true;
	char m[128];
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < hi->n_graphs && ok; i++)
		for (size_t l = 0; l < hi->graphs[i].n_lines && ok; l++) {
			const struct graph_line *gl = &hi->graphs[i].lines[l];
			for (size_t t = 0; t < gl->n_plus && ok; t++)
				ok = add_id(&hi->page_ids, &hi->n_page_ids, &cap, gl->plus[t]);
		}
	for (size_t i = 0; i < hi->n_series && ok; i++) {
		family_metric_of(hi->series[i].name, hi->series[i].len, m, sizeof m);
		if (strncmp(m, "rmon_top_", 9) == 0)
			ok = add_id(&hi->page_ids, &hi->n_page_ids, &cap, hi->series[i].id);
	}
	if (!ok)
		return err_set(e, -ENOMEM, "out of memory listing the graphs of %s", hi->name);
	hi->graphs_found = true;
	return 0;
}

/* The host's graphs that have data, into out (borrowed: the host's own
 * instances stay theirs). */
static size_t with_data(struct report *r, const struct host_info *hi, struct graph_inst *out)
{
	size_t kept = 0;
	for (size_t i = 0; i < hi->n_graphs; i++)
		if (has_data(r, &hi->graphs[i]))
			out[kept++] = hi->graphs[i];
	return kept;
}

int page_host(struct report *r, struct host_info *hi, struct err *e)
{
	struct graph_inst *g = NULL;
	size_t n_g = 0;
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s/hosts/%s", r->out, hi->slug);
	int rc = outfile_mkdirs(dir, e); /* plot writes the graphs into it */
	if (rc != 0 || (rc = query_begin(r->q, e)) != 0)
		return rc;
	if (!hi->graphs_found)
		rc = find_graphs(hi, e);
	/* The newest samples as of this page's snapshot, in one call (a store
	 * error leaves them unknown: the graphs without data are dropped). */
	struct err ignored = { 0 };
	if (rc == 0 && graph_latest_read_ids(&r->latest, r->q, hi->page_ids, hi->n_page_ids,
					     &ignored) == -ENOMEM)
		rc = err_set(e, -ENOMEM, "%s", ignored.msg);
	if (rc == 0 && hi->n_graphs && !(g = malloc(hi->n_graphs * sizeof *g)))
		rc = err_set(e, -ENOMEM, "out of memory for the graphs of %s", hi->name);
	if (rc == 0) {
		n_g = with_data(r, hi, g);
		rc = draw_all(r, hi, g, n_g, e);
	}
	for (size_t k = 0; k < REPORT_N_RANGES && rc == 0; k++)
		rc = write_range(r, hi, g, n_g, k, e);
	query_end(r->q);
	free(g);
	return rc;
}
