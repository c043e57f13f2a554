/* page_index.c - index.html: every host with its health colour, last
 * seen, CPU, memory, fullest disk, network and a CPU sparkline, the
 * firing alerts above them (what the operator needs first). */
#include "reportgen/report_private.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lib/plot.h"

void page_active_alerts(struct report *r, struct html *h, const char *host, const char *root)
{
	size_t shown = 0;
	char value[64];
	for (size_t i = 0; i < r->n_active; i++) {
		const struct alert *a = &r->active[i];
		if (host && strcmp(a->host, host) != 0)
			continue;
		if (shown++ == 0)
			html_raw(h,
				 "<div class=\"scroll\"><table>\n<tr><th>State</th><th>Alert</th>"
				 "<th>Host</th><th class=\"num\">Value</th>"
				 "<th class=\"hide-phone\">Since</th></tr>\n");
		const char *state = a->silenced_by	       ? "silenced"
				    : a->state == ALERT_FIRING ? a->severity
							       : alert_state_name(a->state);
		html_rawf(h, "<tr><td><span class=\"badge s-%s\">", html_state_class(state));
		html_text(h, a->state == ALERT_FIRING ? alert_state_name(a->state) : state);
		html_rawf(h, "</span></td><td><a href=\"%salerts/%llu.html\">", root,
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
		html_rawf(h, "</td><td class=\"num\">%s</td><td class=\"hide-phone\">", value);
		report_time_html(h, a->fired ? a->fired : a->started);
		html_raw(h, "</td></tr>\n");
	}
	if (shown)
		html_raw(h, "</table></div>\n");
	else
		html_raw(h, "<p class=\"muted\">No alert is firing or pending.</p>\n");
}

static void cell(struct html *h, double v, enum plot_unit unit, const char *extra)
{
	char buf[64];
	report_format(v, unit, buf, sizeof buf);
	html_rawf(h, "<td class=\"num%s\">%s</td>", extra, buf);
}

int page_index(struct report *r, struct err *e)
{
	struct html h = { 0 };
	size_t firing = 0, pending = 0;
	for (size_t i = 0; i < r->n_active; i++) {
		firing += r->active[i].state == ALERT_FIRING;
		pending += r->active[i].state == ALERT_PENDING;
	}
	html_begin(&h, "Hosts", "");
	html_raw(&h, "<h1>Hosts</h1>\n");
	html_rawf(&h,
		  "<p class=\"sub\">%zu host%s, <a href=\"alerts.html\">%zu alert%s firing, "
		  "%zu pending</a>%s</p>\n",
		  r->n_hosts, r->n_hosts == 1 ? "" : "s", firing, firing == 1 ? "" : "s", pending,
		  r->alerts ? "" : " (rmon-alertd has not run on this data folder)");
	html_raw(&h, "<h2>Alerts</h2>\n");
	page_active_alerts(r, &h, NULL, "");
	html_raw(&h, "<h2>All hosts</h2>\n");
	if (r->n_hosts == 0)
		html_raw(&h, "<p class=\"muted\">The store holds no series yet.</p>\n");
	else
		html_raw(&h, "<div class=\"scroll\"><table>\n<tr><th>Health</th><th>Host</th>"
			     "<th class=\"hide-phone\">Last seen</th><th class=\"num\">CPU</th>"
			     "<th class=\"hide-phone\">last hour</th><th class=\"num\">Memory</th>"
			     "<th class=\"num\">Fullest disk</th>"
			     "<th class=\"num hide-phone\">Network</th>"
			     "<th class=\"num hide-phone\">Load</th></tr>\n");
	for (size_t i = 0; i < r->n_hosts; i++) {
		struct host_info *hi = &r->hosts[i];
		char age[64], spark[4096];
		report_format_age(r->now, hi->last_seen, age, sizeof age);
		html_rawf(&h, "<tr><td><span class=\"badge s-%s\">%s</span></td>",
			  html_state_class(hi->health), hi->health);
		html_rawf(&h, "<td><a href=\"hosts/%s/index.html\">", hi->slug);
		html_text(&h, hi->name);
		html_raw(&h, "</a>");
		if (hi->n_firing)
			html_rawf(&h, " <span class=\"muted\">(%zu firing)</span>", hi->n_firing);
		html_rawf(&h, "</td><td class=\"hide-phone\">%s</td>", age);
		cell(&h, hi->cpu_pct, PLOT_UNIT_PERCENT, "");
		size_t n =
		    plot_sparkline(spark, sizeof spark, hi->spark, REPORT_SPARK_POINTS, 120, 24);
		html_raw(&h, "<td class=\"hide-phone\">");
		if (n < sizeof spark)
			html_raw(&h, spark);
		html_raw(&h, "</td>");
		cell(&h, hi->mem_pct, PLOT_UNIT_PERCENT, "");
		char disk[64];
		report_format(hi->disk_pct, PLOT_UNIT_PERCENT, disk, sizeof disk);
		html_rawf(&h, "<td class=\"num\">%s", disk);
		if (hi->disk_mount[0]) {
			html_raw(&h, "<br><span class=\"muted\">");
			html_text(&h, hi->disk_mount);
			html_raw(&h, "</span>");
		}
		html_raw(&h, "</td>");
		cell(&h, hi->net_bps, PLOT_UNIT_BYTES_PER_SEC, " hide-phone");
		cell(&h, hi->load1, PLOT_UNIT_NONE, " hide-phone");
		html_raw(&h, "</tr>\n");
	}
	if (r->n_hosts)
		html_raw(&h, "</table></div>\n");
	html_end(&h, r->data_time);
	int rc = report_write_page(r, "index.html", &h, e);
	html_free(&h);
	return rc;
}
