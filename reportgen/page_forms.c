/* page_forms.c - the pages' action forms (see page_forms.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "reportgen/page_forms.h"
#include "reportgen/report_private.h"

bool page_forms_on(const struct report *r)
{
	return r->cfg && r->cfg->web_action_url;
}

/* The path part of [report] url ("http://h/rmon/" -> "/rmon/"), so back
 * names the page on the same site; "" when the url is unset. */
static void site_path(const struct report *r, char *buf, size_t cap)
{
	const char *url = r->cfg ? r->cfg->report_url : NULL;
	const char *p = url ? strstr(url, "://") : NULL;
	p = p ? strchr(p + 3, '/') : url;
	snprintf(buf, cap, "%s%s", p && *p == '/' ? p : "/",
		 p && *p && p[strlen(p) - 1] == '/' ? "" : "/");
	if (!url)
		buf[0] = '\0';
}

static void open_form(const struct report *r, struct html *h, const char *action, const char *back)
{
	html_raw(h, "<form class=\"act\" method=\"get\" action=\"");
	html_attr(h, r->cfg->web_action_url);
	html_raw(h, "\"><input type=\"hidden\" name=\"do\" value=\"");
	html_attr(h, action);
	html_raw(h, "\">");
	char base[512];
	site_path(r, base, sizeof base);
	if (base[0] && back) {
		html_raw(h, "<input type=\"hidden\" name=\"back\" value=\"");
		html_attr(h, base);
		html_attr(h, back);
		html_raw(h, "\">");
	}
}

static void hidden(struct html *h, const char *name, const char *value)
{
	html_rawf(h, "<input type=\"hidden\" name=\"%s\" value=\"", name);
	html_attr(h, value);
	html_raw(h, "\">");
}

static void button(struct html *h, const char *label)
{
	html_raw(h, "<button type=\"submit\">");
	html_text(h, label);
	html_raw(h, "</button></form>\n");
}

void page_form_ack(const struct report *r, struct html *h, const struct alert *a, const char *back)
{
	if (!page_forms_on(r) || a->state == ALERT_RESOLVED || a->state == ALERT_INACTIVE)
		return;
	char id[24];
	snprintf(id, sizeof id, "%" PRIu64, a->id);
	open_form(r, h, a->acked_at ? "unack" : "ack", back);
	hidden(h, "id", id);
	button(h, a->acked_at ? "Withdraw acknowledgement" : "Acknowledge");
}

void page_form_silence(const struct report *r, struct html *h, const char *selector,
		       const char *label, const char *back)
{
	if (!page_forms_on(r))
		return;
	open_form(r, h, "silence", back);
	hidden(h, "selector", selector);
	button(h, label);
}

void page_form_unsilence(const struct report *r, struct html *h, uint64_t id, const char *back)
{
	if (!page_forms_on(r))
		return;
	char text[24];
	snprintf(text, sizeof text, "%" PRIu64, id);
	open_form(r, h, "unsilence", back);
	hidden(h, "id", text);
	button(h, "End silence");
}

void page_form_rule(const struct report *r, struct html *h, const struct rule *rule,
		    const char *back)
{
	if (!page_forms_on(r))
		return;
	open_form(r, h, "rule", back);
	hidden(h, "rule", rule->name);
	button(h, "Change threshold, for, or switch off");
	open_form(r, h, "rule_undo", back);
	button(h, "Undo the last rule change");
}
