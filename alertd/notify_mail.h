/* notify_mail.h - the email a notice becomes: RFC 5322 headers and a MIME
 * body, built in memory for the SMTP sender (notify_smtp.c) and for
 * maildir (notify_maildir.c), so both carry the same message.
 *
 * The body is multipart/alternative: a text/plain part and an HTML part
 * (tables and inline styles only, no external resource, so it renders in
 * the common clients and in dark mode), inside multipart/related with the
 * graph as an inline PNG (Content-ID) when there is one.  Every value from
 * a host or a label is hostile: headers never carry a CR, LF or other
 * control character whatever the values hold, non-ASCII header text goes
 * out as RFC 2047 encoded words, and the HTML part escapes everything it
 * shows.  Lines end in CRLF and the parts are quoted-printable or base64,
 * so the message is 7-bit clean. */
#ifndef RMON_ALERTD_NOTIFY_MAIL_H
#define RMON_ALERTD_NOTIFY_MAIL_H

#include <stddef.h>
#include <stdint.h>

#include "alertd/notify.h"
#include "lib/err.h"

/* A PNG graph of the first alert's series, drawn by the caller. */
struct mail_graph {
	const unsigned char *png;
	size_t len;
	const char *alt; /* text for clients that show no images */
};

/* Builds the message for notice to its receiver (an email or maildir
 * receiver: From, To, Cc and the subject template come from it) into
 * *out (malloc'd, NUL-terminated, the caller's to free) of *len bytes.
 * graph may be NULL.  The Date header is notice->created (now when 0).
 * -ENOMEM, or -EINVAL when the receiver is not a mail receiver. */
int notify_mail_build(const struct notice *notice, const struct mail_graph *graph, char **out,
		      size_t *len, struct err *e);

/* The subject alone (as the template gives it, before encoding), into buf
 * as snprintf counts: for exec's RMON_SUBJECT and for push titles. */
size_t notify_mail_subject(const struct notice *notice, char *buf, size_t cap);

/* The plain-text body alone, as the text/plain part says it, into a
 * malloc'd string (NULL when out of memory): for exec's standard input,
 * push bodies and SMS. */
char *notify_mail_text(const struct notice *notice);

#endif
