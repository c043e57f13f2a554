/* html.h - an HTML page built in memory, with every piece of text escaped
 * for where it goes: html_text for element content, html_attr for
 * attribute values.  Pages are built whole, then written once
 * (reportgen/outfile.h), so a page is never seen half written.
 *
 * The page frame (html_begin, html_end) carries the one stylesheet inline:
 * no external resource, so a site works from nginx, a USB stick or
 * file://, in light and dark (prefers-color-scheme), on a phone. */
#ifndef RMON_REPORT_HTML_H
#define RMON_REPORT_HTML_H

#include <stdbool.h>
#include <stddef.h>

struct html {
	char *buf;
	size_t len, cap;
	bool failed; /* out of memory: the page is not to be written */
};

/* Appends raw markup (the caller's own, never a value from outside). */
void html_raw(struct html *h, const char *markup);

/* Appends printf-formatted raw markup: every %s argument must be markup
 * already (numbers are fine); text from outside goes through html_text. */
void html_rawf(struct html *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends s[0..len) as text: & < > " ' escaped, invalid UTF-8 and unsafe
 * code points (lib/utf8.h) shown as U+FFFD, so no byte of it can start
 * markup.  Safe in element content and in double-quoted attributes. */
void html_textn(struct html *h, const char *s, size_t len);
void html_text(struct html *h, const char *s);
#define html_attr html_text

/* Appends s as one URL path segment: everything but [A-Za-z0-9._~-]
 * percent-encoded. */
void html_url_segment(struct html *h, const char *s);

/* Starts a page: doctype, head with the title (escaped) and the
 * stylesheet, the navigation bar (links relative to root, e.g. "../../"),
 * and opens <main>. */
void html_begin(struct html *h, const char *title, const char *root);

/* Closes <main> with a footer saying of when its data are (0: no time,
 * for pages that must not change unless their content does). */
void html_end(struct html *h, long long generated_ns);

void html_free(struct html *h);

/* The CSS class for a health/state word ("ok", "firing", "pending",
 * "warning", "critical", "stale", "resolved"): the same colours on every
 * page. */
const char *html_state_class(const char *state);

#endif
