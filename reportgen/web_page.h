/* web_page.h - what rmon-web answers: CGI status and headers, and the
 * small HTML pages (a confirmation form, a result, a refusal) in the
 * report's look.  Every text from a request or the store is escaped. */
#ifndef RMON_WEB_PAGE_H
#define RMON_WEB_PAGE_H

#include <stdio.h>

/* Writes s escaped for HTML text and attribute values (& < > " '),
 * control characters and invalid UTF-8 shown as U+FFFD. */
void web_html(FILE *out, const char *s);

/* Status line and the headers every answer carries (no caching, no
 * framing, no scripts, forms only back to us), then the page's head with
 * its title; web_page_end closes it. */
void web_page_begin(FILE *out, int status, const char *reason, const char *title);
void web_page_end(FILE *out);

/* A whole refusal or result page: status, title, one paragraph, and a
 * link back to the page the form was on when back is not NULL. */
void web_page_message(FILE *out, int status, const char *reason, const char *title,
		      const char *text, const char *back);

/* A 303 to location (already checked to be a path on this site). */
void web_page_redirect(FILE *out, const char *location);

#endif
