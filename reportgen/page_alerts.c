/* page_alerts.c - alerts.html (firing, pending, acknowledged, silenced,
 * recently resolved, the history of moves, the silences) and a page per
 * alert, alerts/ID.html, with its graph around the alert's time: the
 * stable URL a mail links to.  A resolved alert's page and graph no
 * longer change, so they are written once. */
#include "reportgen/report_private.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rtime.h"
#include "lib/series_name.h"
#include "reportgen/outfile.h"
#include "reportgen/page_forms.h"

#define HISTORY_SHOWN 200
#define HOUR	      (3600 * RTIME_NS_PER_SEC)

static const char *shown_state(const struct alert *a)
{
	if (a->state == ALERT_FIRING && a->silenced_by)
		return "silenced";
	if (a->state == ALERT_FIRING)
		return strcmp(a->severity, "critical") == 0 ? "critical" : "warning";
	return alert_state_name(a->state);
}

static void alert_rows(struct report *r, struct html *h, const char *title,
		       bool (*want)(const struct alert *a), const char *root)
{
	size_t shown = 0;
	char value[64], thr[64];
	for (size_t i = 0; i < r->n_recent; i++) {
		const struct alert *a = &r->recent[i];
		if (!want(a))
			continue;
		if (shown++ == 0)
			html_rawf(
			    h,
			    "<h2>%s</h2>\n<div class=\"scroll\"><table>\n<tr><th>State</th>"
			    "<th>Alert</th><th>Host</th><th class=\"num\">Value</th>"
			    "<th class=\"num hide-phone\">Threshold</th><th>Since</th></tr>\n",
			    title);
		html_rawf(h, "<tr><td><span class=\"badge s-%s\">%s</span></td>",
			  html_state_class(shown_state(a)), alert_state_name(a->state));
		html_rawf(h, "<td><a href=\"%salerts/%llu.html\">", root,
			  (unsigned long long)a->id);
		html_text(h, a->rule);
		html_raw(h, "</a><br><span class=\"muted\">");
		html_text(h, a->summary);
		html_raw(h, "</span>");
		if (a->labels[0]) {
			html_raw(h, "<br><code>");
			html_text(h, a->labels);
			html_raw(h, "</code>");
		}
		html_raw(h, "</td><td>");
		html_text(h, a->host);
		snprintf(value, sizeof value, "%.4g", a->value);
		snprintf(thr, sizeof thr, "%.4g", a->threshold);
		html_rawf(h,
			  "</td><td class=\"num\">%s</td><td class=\"num hide-phone\">%s</td><td>",
			  value, thr);
		report_time_html(h, a->resolved ? a->resolved : a->fired ? a->fired : a->started);
		html_raw(h, "</td></tr>\n");
	}
	if (shown)
		html_raw(h, "</table></div>\n");
}

static bool is_firing(const struct alert *a)
{
	return a->state == ALERT_FIRING && !a->acked_at && !a->silenced_by;
}
static bool is_pending(const struct alert *a)
{
	return a->state == ALERT_PENDING;
}
static bool is_acked(const struct alert *a)
{
	return a->state == ALERT_FIRING && a->acked_at;
}
static bool is_silenced(const struct alert *a)
{
	return a->state == ALERT_FIRING && a->silenced_by && !a->acked_at;
}
static bool is_resolved(const struct alert *a)
{
	return a->state == ALERT_RESOLVED;
}

struct history {
	struct html *h;
	const struct report *r; /* for the silences' forms */
	uint64_t only;		/* one alert's moves, 0: all */
	size_t shown;
};

static int on_event(void *ctx, const struct alert_event *ev)
{
	struct history *hi = ctx;
	struct html *h = hi->h;
	char when[64], value[64];
	if (hi->only && ev->alert_id != hi->only)
		return 0;
	if (hi->shown++ == 0)
		html_raw(h, "<div class=\"scroll\"><table>\n<tr><th>When</th><th>Move</th>"
			    "<th>Alert</th><th class=\"num\">Value</th></tr>\n");
	report_format_time(ev->at, when, sizeof when);
	snprintf(value, sizeof value, "%.4g", ev->value);
	html_rawf(
	    h,
	    "<tr><td class=\"nw\">%s</td><td>%s &rarr; <span class=\"badge s-%s\">%s</span></td>",
	    when, alert_state_name(ev->from), html_state_class(alert_state_name(ev->to)),
	    alert_state_name(ev->to));
	html_rawf(h, "<td><a href=\"%salerts/%llu.html\">", hi->only ? "../" : "",
		  (unsigned long long)ev->alert_id);
	html_text(h, ev->rule);
	html_raw(h, "</a> on ");
	html_text(h, ev->host);
	if (ev->labels[0]) {
		html_raw(h, " <code>");
		html_text(h, ev->labels);
		html_raw(h, "</code>");
	}
	html_rawf(h, "</td><td class=\"num\">%s</td></tr>\n", value);
	return 0;
}

static int on_silence(void *ctx, const struct alert_silence *s)
{
	struct history *hi = ctx;
	struct html *h = hi->h;
	char from[64], to[64];
	if (hi->shown++ == 0)
		html_raw(
		    h, "<div class=\"scroll\"><table>\n<tr><th>#</th><th>Selector</th>"
		       "<th class=\"hide-phone\">From</th><th>Until</th><th>By</th><th>Comment</th>"
		       "</tr>\n");
	report_format_time(s->start, from, sizeof from);
	report_format_time(s->end, to, sizeof to);
	html_rawf(h, "<tr><td class=\"num\">%llu</td><td><code>", (unsigned long long)s->id);
	html_text(h, s->selector);
	html_rawf(h, "</code></td><td class=\"hide-phone\">%s</td><td class=\"nw\">%s</td><td>",
		  from, to);
	html_text(h, s->by);
	html_raw(h, "</td><td>");
	html_text(h, s->comment);
	if (hi->r && page_forms_on(hi->r)) {
		html_raw(h, " ");
		page_form_unsilence(hi->r, h, s->id, "alerts.html");
	}
	html_raw(h, "</td></tr>\n");
	return 0;
}

int page_silences(struct report *r, struct html *h, struct err *e)
{
	struct history hi = { .h = h, .r = r };
	int rc = r->alerts ? alert_store_silences(r->alerts, true, r->now, on_silence, &hi, e) : 0;
	if (hi.shown)
		html_raw(h, "</table></div>\n");
	else
		html_raw(h, "<p class=\"muted\">No silence is in force.</p>\n");
	return rc;
}

static void detail_row(struct html *h, const char *name, const char *text, bool code)
{
	html_rawf(h, "<tr><th>%s</th><td>%s", name, code ? "<code>" : "");
	html_text(h, text);
	html_rawf(h, "%s</td></tr>\n", code ? "</code>" : "");
}

static int alert_page(struct report *r, const struct alert *a, struct err *e)
{
	struct html h = { 0 };
	char title[300], buf[128], rel[64], path[PATH_MAX], slug[96], host_slug[96];
	int rc = 0;
	snprintf(title, sizeof title, "Alert %llu: %s", (unsigned long long)a->id, a->rule);
	html_begin(&h, title, "../");
	html_rawf(&h, "<h1><span class=\"badge s-%s\">%s</span> ", html_state_class(shown_state(a)),
		  alert_state_name(a->state));
	html_text(&h, a->rule);
	html_raw(&h, " on ");
	html_text(&h, a->host);
	html_raw(&h, "</h1>\n<p class=\"sub\">");
	html_text(&h, a->summary);
	html_raw(&h, "</p>\n");
	if (page_forms_on(r)) {
		char self[64], host_sel[300];
		snprintf(self, sizeof self, "alerts/%llu.html", (unsigned long long)a->id);
		snprintf(host_sel, sizeof host_sel, "%s/*", a->host);
		html_raw(&h, "<div class=\"actions\">");
		page_form_ack(r, &h, a, self);
		page_form_silence(r, &h, host_sel, "Silence this host", self);
		html_raw(&h, "</div>\n");
	}
	/* The graph: the alert's series around its time, its firing shaded. */
	/* The alert in the middle, a quarter of the picture at least, 15
	 * minutes at least; a live alert at the right edge. */
	int64_t began = a->fired ? a->fired : a->started;
	int64_t end = a->resolved ? a->resolved : r->now, lasted = end - a->started;
	int64_t span =
	    4 * lasted < 15 * 60 * RTIME_NS_PER_SEC ? 15 * 60 * RTIME_NS_PER_SEC : 4 * lasted;
	if (a->resolved)
		end += (span - lasted) / 2;
	if (a->series[0]) {
		struct graph_inst g;
		struct graph_ctx c = { .q = r->q,
				       .pool = r->pool,
				       .drawn = r->drawn,
				       .format = r->o.format,
				       .width = r->o.width,
				       .height = r->o.height,
				       /* drawn again while its end is still to come */
				       .salt = end > r->now ? (uint64_t)r->now : 0 };
		struct plot_span shade = { began, a->resolved ? a->resolved : r->now };
		snprintf(path, sizeof path, "%s/alerts/%llu.%s", r->out, (unsigned long long)a->id,
			 r->ext);
		if ((rc = graph_inst_single(series_id(a->series, strlen(a->series)), a->series, &g,
					    e)) != 0)
			goto out;
		if ((rc = query_begin(r->q, e)) == 0) {
			const struct rule *ru = alert_config_rule(r->cfg, a->rule);
			bool own_scale = ru && report_plain_expr(ru->expr);
			rc = graph_draw(&c, &g, end, span, 0, path, &a->threshold,
					own_scale ? 1 : 0, &shade, a->fired ? 1 : 0, e);
			query_end(r->q);
		}
		graph_inst_clear(&g);
		r->st.graphs_drawn += c.drawn_now;
		r->st.graphs_skipped += c.skipped;
		if (rc != 0)
			goto out;
		html_rawf(&h, "<figure><img src=\"%llu.%s\" width=\"%d\" height=\"%d\" alt=\"",
			  (unsigned long long)a->id, r->ext, r->o.width, r->o.height);
		html_attr(&h, a->series);
		html_raw(&h, "\"><figcaption><code>");
		html_text(&h, a->series);
		html_raw(&h, "</code></figcaption></figure>\n");
	}
	html_raw(&h, "<h2>Details</h2>\n<div class=\"scroll\"><table>\n");
	outfile_slug(a->rule, slug, sizeof slug);
	html_rawf(&h, "<tr><th>Rule</th><td><a href=\"../rules/%s.html\">", slug);
	html_text(&h, a->rule);
	html_raw(&h, "</a></td></tr>\n");
	outfile_slug(a->host, host_slug, sizeof host_slug);
	html_rawf(&h, "<tr><th>Host</th><td><a href=\"../hosts/%s/index.html\">", host_slug);
	html_text(&h, a->host);
	html_raw(&h, "</a></td></tr>\n");
	if (a->labels[0])
		detail_row(&h, "Labels", a->labels, true);
	detail_row(&h, "Severity", a->severity, false);
	snprintf(buf, sizeof buf, "%.6g (threshold %.6g)", a->value, a->threshold);
	detail_row(&h, "Value", buf, false);
	if (a->detail[0])
		detail_row(&h, "Why", a->detail, false);
	report_format_time(a->started, buf, sizeof buf);
	detail_row(&h, "Pending since", buf, false);
	report_format_time(a->fired, buf, sizeof buf);
	detail_row(&h, "Fired", buf, false);
	report_format_time(a->resolved, buf, sizeof buf);
	detail_row(&h, "Resolved", buf, false);
	if (a->acked_at) {
		char who[300];
		report_format_time(a->acked_at, buf, sizeof buf);
		snprintf(who, sizeof who, "%s by %s", buf, a->acked_by);
		detail_row(&h, "Acknowledged", who, false);
		if (a->ack_comment[0])
			detail_row(&h, "Comment", a->ack_comment, false);
	}
	if (a->silenced_by) {
		snprintf(buf, sizeof buf, "by silence %llu", (unsigned long long)a->silenced_by);
		detail_row(&h, "Silenced", buf, false);
	}
	if (a->inhibited)
		detail_row(&h, "Inhibited", "by another firing alert", false);
	html_raw(&h, "</table></div>\n<h2>Moves</h2>\n");
	struct history hi = { .h = &h, .only = a->id };
	if (r->alerts &&
	    (rc = alert_store_history(r->alerts, a->started, INT64_MAX, 0, on_event, &hi, e)) != 0)
		goto out;
	html_raw(&h, hi.shown ? "</table></div>\n" : "<p class=\"muted\">No move recorded.</p>\n");
	html_end(&h, a->resolved ? a->resolved : a->updated);
	snprintf(rel, sizeof rel, "alerts/%llu.html", (unsigned long long)a->id);
	rc = report_write_page(r, rel, &h, e);
out:
	html_free(&h);
	return rc;
}

int page_alerts(struct report *r, struct err *e)
{
	struct html h = { 0 };
	int rc = 0;
	html_begin(&h, "Alerts", "");
	html_raw(&h, "<h1>Alerts</h1>\n");
	if (!r->alerts)
		html_raw(&h, "<p class=\"sub\">rmon-alertd has not run on this data folder yet: "
			     "no alert is known.</p>\n");
	else if (r->n_active == 0)
		html_raw(&h, "<p class=\"sub\">No alert is firing or pending.</p>\n");
	alert_rows(r, &h, "Firing", is_firing, "");
	alert_rows(r, &h, "Pending", is_pending, "");
	alert_rows(r, &h, "Acknowledged", is_acked, "");
	alert_rows(r, &h, "Silenced", is_silenced, "");
	alert_rows(r, &h, "Resolved recently", is_resolved, "");
	html_raw(&h, "<h2>Silences</h2>\n");
	if ((rc = page_silences(r, &h, e)) != 0)
		goto out;
	html_raw(&h, "<h2>History (last 7 days)</h2>\n");
	struct history hi = { .h = &h };
	if (r->alerts && (rc = alert_store_history(r->alerts, r->now - 7 * 24 * HOUR, INT64_MAX,
						   HISTORY_SHOWN, on_event, &hi, e)) != 0)
		goto out;
	html_raw(&h, hi.shown ? "</table></div>\n" : "<p class=\"muted\">No move recorded.</p>\n");
	html_end(&h, r->now);
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s/alerts", r->out);
	if ((rc = report_write_page(r, "alerts.html", &h, e)) != 0 ||
	    (rc = outfile_mkdirs(dir, e)) != 0)
		goto out;
	for (size_t i = 0; i < r->n_recent && rc == 0; i++)
		rc = alert_page(r, &r->recent[i], e);
out:
	html_free(&h);
	return rc;
}
