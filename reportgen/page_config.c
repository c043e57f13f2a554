/* page_config.c - config.html, the configuration in force: the agents'
 * collectors as the store knows them, alertd's settings, rules with their
 * thresholds, receivers (described, never their secrets), routes,
 * inhibitions, mute windows, silences and the changes people made; and a
 * page per rule, rules/NAME.html. */
#include "reportgen/report_private.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "lib/rtime.h"
#include "reportgen/outfile.h"
#include "reportgen/page_forms.h"

static const char *kind_name(enum rule_kind k)
{
	switch (k) {
	case RULE_THRESHOLD:
		return "threshold";
	case RULE_ABSENCE:
		return "absence";
	case RULE_PREDICT:
		return "prediction";
	case RULE_ANOMALY:
		return "anomaly";
	}
	return "?";
}

static void duration(int64_t ns, char *buf, size_t cap)
{
	if (ns <= 0)
		snprintf(buf, cap, "-");
	else
		rtime_format_duration(ns, buf, (int)cap);
}

/* "above 90 (clears below 85)" in the rule's unit. */
static void condition(const struct rule *ru, char *buf, size_t cap)
{
	char d[32];
	const char *unit = ru->unit && strcmp(ru->unit, "percent") == 0 ? " %" : "";
	if (ru->kind == RULE_ABSENCE) {
		duration(ru->absent_ns, d, sizeof d);
		snprintf(buf, cap, "no data for %s", d);
		return;
	}
	if (ru->kind == RULE_ANOMALY) {
		snprintf(buf, cap, "outside its usual range");
		return;
	}
	const char *op = ru->op == RULE_ABOVE ? "above" : "below";
	int n = snprintf(buf, cap, "%s %g%s", op, ru->threshold, unit);
	if (ru->clear != ru->threshold && n > 0 && (size_t)n < cap)
		snprintf(buf + n, cap - (size_t)n, " (clears %s %g%s)",
			 ru->op == RULE_ABOVE ? "below" : "above", ru->clear, unit);
	if (ru->kind == RULE_PREDICT && n > 0 && (size_t)n < cap) {
		duration(ru->horizon_ns, d, sizeof d);
		size_t at = strlen(buf);
		snprintf(buf + at, cap - at, " within %s", d);
	}
}

static void list(struct html *h, const char *const *items, size_t n, const char *none)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			html_raw(h, ", ");
		html_text(h, items[i]);
	}
	if (!n)
		html_rawf(h, "<span class=\"muted\">%s</span>", none);
}

static void rule_link(struct html *h, const struct rule *ru, const char *root)
{
	char slug[96];
	outfile_slug(ru->name, slug, sizeof slug);
	html_rawf(h, "<a href=\"%srules/%s.html\">", root, slug);
	html_text(h, ru->name);
	html_raw(h, "</a>");
}

static void where(struct html *h, const char *file, int line)
{
	html_raw(h, "<span class=\"muted mono\">");
	html_text(h, file);
	html_rawf(h, ":%d</span>", line);
}

static int on_collector(void *ctx, const char *value, size_t len, size_t series)
{
	struct html *h = ctx;
	html_raw(h, "<tr><td><code>");
	html_textn(h, value, len);
	html_rawf(h, "</code></td><td class=\"num\">%zu</td></tr>\n", series);
	return 0;
}

/* The table of collectors, from a walk of every host's names: made once
 * for each listing of the hosts (report_private.h), as only new names
 * can change it. */
static int collectors(struct report *r, struct html *h, struct err *e)
{
	struct query_selector *sel;
	if (r->collectors_current) {
		html_raw(h, r->collectors.buf);
		return 0;
	}
	int rc = query_selector_parse("rmon_collector_errors_total", &sel, e);
	if (rc != 0)
		return rc;
	struct html *t = &r->collectors;
	t->len = 0;
	t->failed = false;
	html_raw(t, "<h2>Collectors</h2>\n<p class=\"sub\">As the agents report them: each "
		    "collector and on how many hosts it runs.</p>\n<div class=\"scroll\"><table>\n"
		    "<tr><th>Collector</th><th class=\"num\">Hosts</th></tr>\n");
	if ((rc = query_begin(r->q, e)) == 0) {
		rc = query_label_values(r->q, sel, "collector", on_collector, t, e);
		query_end(r->q);
	}
	query_selector_free(sel);
	html_raw(t, "</table></div>\n");
	if (rc == 0 && t->failed)
		rc = err_set(e, -ENOMEM, "out of memory making the table of collectors");
	r->collectors_current = rc == 0 && r->listed;
	if (rc == 0)
		html_raw(h, t->buf);
	return rc;
}

static void rules_table(struct report *r, struct html *h)
{
	char cond[160], d[32];
	html_raw(h, "<h2>Rules</h2>\n<div class=\"scroll\"><table>\n<tr><th>Rule</th>"
		    "<th>Severity</th><th>Expression</th><th>Fires when</th><th>For</th>"
		    "<th class=\"hide-phone\">Receivers</th></tr>\n");
	for (size_t i = 0; i < r->cfg->n_rules; i++) {
		const struct rule *ru = &r->cfg->rules[i];
		html_raw(h, "<tr><td>");
		rule_link(h, ru, "");
		if (!ru->enabled)
			html_raw(h, " <span class=\"badge s-inactive\">off</span>");
		html_rawf(h, "</td><td><span class=\"badge s-%s\">",
			  html_state_class(ru->severity ? ru->severity : ""));
		html_text(h, ru->severity);
		html_raw(h, "</span></td><td><code>");
		html_text(h, ru->expr);
		condition(ru, cond, sizeof cond);
		duration(ru->for_ns, d, sizeof d);
		html_raw(h, "</code></td><td>");
		html_text(h, cond);
		html_rawf(h, "</td><td>%s</td><td class=\"hide-phone\">", d);
		list(h, ru->receivers, ru->n_receivers, "by route");
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</table></div>\n");
}

static void receivers_table(struct report *r, struct html *h)
{
	char desc[512];
	html_raw(h, "<h2>Receivers</h2>\n<div class=\"scroll\"><table>\n<tr><th>Receiver</th>"
		    "<th>Type</th><th>Delivers</th><th class=\"hide-phone\">Defined</th></tr>\n");
	for (size_t i = 0; i < r->cfg->n_receivers; i++) {
		const struct receiver *rc = r->cfg->receivers[i];
		receiver_describe(rc, desc, sizeof desc);
		html_raw(h, "<tr><td>");
		html_text(h, rc->name);
		html_rawf(h, "</td><td>%s</td><td>", receiver_type_name(rc->type));
		html_text(h, desc);
		html_raw(h, "</td><td class=\"hide-phone\">");
		where(h, rc->file, rc->line);
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</table></div>\n");
}

static void routes_table(struct report *r, struct html *h)
{
	char d[32];
	if (!r->cfg->n_routes)
		return;
	html_raw(h, "<h2>Routes</h2>\n<div class=\"scroll\"><table>\n<tr><th>Route</th>"
		    "<th>Severity</th><th>Match</th><th>Receivers</th><th>Escalation</th></tr>\n");
	for (size_t i = 0; i < r->cfg->n_routes; i++) {
		const struct route *ro = &r->cfg->routes[i];
		html_raw(h, "<tr><td>");
		html_text(h, ro->name);
		html_raw(h, "</td><td>");
		html_text(h, ro->severity ? ro->severity : "any");
		html_raw(h, "</td><td><code>");
		html_text(h, ro->match ? ro->match : "*");
		html_raw(h, "</code></td><td>");
		list(h, ro->receivers, ro->n_receivers, "none");
		html_raw(h, "</td><td>");
		for (size_t k = 0; k < ro->n_escalate; k++) {
			duration(ro->escalate[k].after_ns, d, sizeof d);
			html_rawf(h, "%safter %s: ", k ? "; " : "", d);
			html_text(h, ro->escalate[k].receiver);
		}
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</table></div>\n");
}

static void mutes_table(struct report *r, struct html *h)
{
	static const char *const days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
	html_raw(h, "<h2>Mute windows</h2>\n");
	if (!r->cfg->n_mutes) {
		html_raw(h, "<p class=\"muted\">None.</p>\n");
		return;
	}
	html_raw(h, "<div class=\"scroll\"><table>\n<tr><th>Window</th><th>Days</th>"
		    "<th>Time</th><th>Match</th><th>Now</th></tr>\n");
	for (size_t i = 0; i < r->cfg->n_mutes; i++) {
		const struct mute *m = &r->cfg->mutes[i];
		html_raw(h, "<tr><td>");
		html_text(h, m->name);
		html_raw(h, "</td><td>");
		for (int d = 0, first = 1; d < 7; d++)
			if (m->days & (1u << d)) {
				html_rawf(h, "%s%s", first ? "" : " ", days[d]);
				first = 0;
			}
		html_rawf(h, "</td><td>%02d:%02d-%02d:%02d</td><td><code>", m->start_minute / 60,
			  m->start_minute % 60, m->end_minute / 60, m->end_minute % 60);
		html_text(h, m->match ? m->match : "*");
		html_rawf(h, "</code></td><td>%s</td></tr>\n",
			  mute_open(m, r->now) ? "<span class=\"badge s-silenced\">open</span>"
					       : "");
	}
	html_raw(h, "</table></div>\n");
}

static int on_audit(void *ctx, const struct alert_audit *a)
{
	struct html *h = ctx;
	char when[64];
	report_format_time(a->at, when, sizeof when);
	html_rawf(h, "<tr><td class=\"nw\">%s</td><td>", when);
	html_text(h, a->who);
	html_raw(h, "</td><td>");
	html_text(h, a->what);
	html_raw(h, "</td></tr>\n");
	return 0;
}

static int rule_page(struct report *r, const struct rule *ru, struct err *e)
{
	struct html h = { 0 };
	char cond[160], d[32], slug[96], rel[128], title[200];
	snprintf(title, sizeof title, "Rule %s", ru->name);
	html_begin(&h, title, "../");
	html_raw(&h, "<h1>");
	html_text(&h, ru->name);
	html_rawf(&h, " <span class=\"badge s-%s\">",
		  html_state_class(ru->severity ? ru->severity : ""));
	html_text(&h, ru->severity);
	html_raw(&h, "</span></h1>\n<p class=\"sub\">");
	html_text(&h, ru->description ? ru->description : ru->summary);
	html_raw(&h, "</p>\n<div class=\"scroll\"><table>\n<tr><th>Kind</th><td>");
	html_text(&h, kind_name(ru->kind));
	html_raw(&h, ru->enabled ? "" : " (switched off)");
	html_raw(&h, "</td></tr>\n<tr><th>Expression</th><td><code>");
	html_text(&h, ru->expr);
	condition(ru, cond, sizeof cond);
	html_raw(&h, "</code></td></tr>\n<tr><th>Fires when</th><td>");
	html_text(&h, cond);
	duration(ru->for_ns, d, sizeof d);
	html_rawf(&h, "</td></tr>\n<tr><th>Held for</th><td>%s</td></tr>\n", d);
	duration(ru->window_ns, d, sizeof d);
	html_rawf(&h, "<tr><th>Window</th><td>%s</td></tr>\n", d);
	duration(ru->repeat_ns, d, sizeof d);
	html_rawf(&h, "<tr><th>Repeats every</th><td>%s</td></tr>\n<tr><th>Summary</th><td>", d);
	html_text(&h, ru->summary);
	html_raw(&h, "</td></tr>\n<tr><th>Receivers</th><td>");
	list(&h, ru->receivers, ru->n_receivers, "chosen by the routes");
	html_raw(&h, "</td></tr>\n<tr><th>Instances by</th><td>host ");
	list(&h, ru->group_by, ru->n_group_by, "");
	html_raw(&h, "</td></tr>\n<tr><th>Depends on</th><td>");
	list(&h, ru->depends_on, ru->n_depends_on, "nothing");
	html_raw(&h, "</td></tr>\n<tr><th>Defined</th><td>");
	where(&h, ru->file, ru->line);
	html_raw(&h, "</td></tr>\n</table></div>\n");
	if (page_forms_on(r)) {
		char self[160];
		outfile_slug(ru->name, slug, sizeof slug);
		snprintf(self, sizeof self, "rules/%s.html", slug);
		html_raw(&h, "<div class=\"actions\">");
		page_form_rule(r, &h, ru, self);
		html_raw(&h, "</div>\n");
	}
	html_raw(&h, "<h2>Its alerts</h2>\n");
	size_t shown = 0;
	for (size_t i = 0; i < r->n_recent; i++) {
		const struct alert *a = &r->recent[i];
		if (strcmp(a->rule, ru->name) != 0)
			continue;
		html_rawf(
		    &h,
		    "%s<li><span class=\"badge s-%s\">%s</span> <a href=\"../alerts/%llu.html\">",
		    shown++ ? "" : "<ul>\n", html_state_class(alert_state_name(a->state)),
		    alert_state_name(a->state), (unsigned long long)a->id);
		html_text(&h, a->host);
		if (a->labels[0]) {
			html_raw(&h, " ");
			html_text(&h, a->labels);
		}
		html_raw(&h, "</a></li>\n");
	}
	html_raw(&h, shown ? "</ul>\n" : "<p class=\"muted\">None recently.</p>\n");
	html_end(&h, 0);
	outfile_slug(ru->name, slug, sizeof slug);
	snprintf(rel, sizeof rel, "rules/%s.html", slug);
	int rc = report_write_page(r, rel, &h, e);
	html_free(&h);
	return rc;
}

int page_config(struct report *r, struct err *e)
{
	struct html h = { 0 };
	char d[32];
	int rc;
	html_begin(&h, "Configuration", "");
	html_raw(&h, "<h1>Configuration</h1>\n<p class=\"sub\">alertd reads ");
	html_text(&h, r->cfg->source);
	duration(r->cfg->group_window_ns, d, sizeof d);
	html_rawf(&h, "; alerts are grouped for %s", d);
	duration(r->cfg->repeat_ns, d, sizeof d);
	html_rawf(&h, " and repeated every %s unless the rule says otherwise.</p>\n", d);
	if ((rc = collectors(r, &h, e)) != 0)
		goto out;
	rules_table(r, &h);
	receivers_table(r, &h);
	routes_table(r, &h);
	mutes_table(r, &h);
	html_raw(&h, "<h2>Silences</h2>\n");
	if ((rc = page_silences(r, &h, e)) != 0)
		goto out;
	html_raw(&h, "<h2>Changes made by people</h2>\n<div class=\"scroll\"><table>\n"
		     "<tr><th>When</th><th>Who</th><th>What</th></tr>\n");
	if (r->alerts && (rc = alert_store_audit(r->alerts, 50, on_audit, &h, e)) != 0)
		goto out;
	html_raw(&h, "</table></div>\n");
	html_end(&h, 0);
	if ((rc = report_write_page(r, "config.html", &h, e)) != 0)
		goto out;
	for (size_t i = 0; i < r->cfg->n_rules && rc == 0; i++)
		rc = rule_page(r, &r->cfg->rules[i], e);
out:
	html_free(&h);
	return rc;
}
