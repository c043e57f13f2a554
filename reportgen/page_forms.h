/* page_forms.h - the action forms a page carries when the site is
 * generated with [web] action_url (docs/web.md), and none otherwise, so a
 * read-only site stays read-only.  Each form is a plain GET of rmon-web's
 * confirmation page (which holds the CSRF token bound to the person who
 * opens it), so the pages stay static files and need no JavaScript. */
#ifndef RMON_REPORT_PAGE_FORMS_H
#define RMON_REPORT_PAGE_FORMS_H

#include <stdint.h>

#include "alertd/alerts.h"
#include "alertd/rules.h"
#include "reportgen/html.h"

struct report;

/* True when pages carry forms. */
bool page_forms_on(const struct report *r);

/* Acknowledge (or withdraw the acknowledgement of) alert a; back is the
 * page's path below the site's root ("alerts/42.html"). */
void page_form_ack(const struct report *r, struct html *h, const struct alert *a, const char *back);

/* Silence the alerts of selector (e.g. every series of a host), labelled
 * label. */
void page_form_silence(const struct report *r, struct html *h, const char *selector,
		       const char *label, const char *back);

/* End silence id. */
void page_form_unsilence(const struct report *r, struct html *h, uint64_t id, const char *back);

/* Change rule (enable, disable, threshold, clear, for), and undo. */
void page_form_rule(const struct report *r, struct html *h, const struct rule *rule,
		    const char *back);

#endif
