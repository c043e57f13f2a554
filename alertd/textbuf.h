/* textbuf.h - a growing text buffer for the messages the notifiers build
 * (mail, JSON, form bodies): appends never fail one by one; a failed
 * allocation is remembered and reported once at the end (textbuf_take). */
#ifndef RMON_ALERTD_TEXTBUF_H
#define RMON_ALERTD_TEXTBUF_H

#include <stdbool.h>
#include <stddef.h>

struct textbuf {
	char *p; /* NUL-terminated while not failed */
	size_t len, cap;
	bool failed; /* out of memory at some append: the content is incomplete */
};

void textbuf_put(struct textbuf *b, const char *s, size_t len);
void textbuf_puts(struct textbuf *b, const char *s);
void textbuf_printf(struct textbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Hands the text over (the caller frees it) and empties b; NULL, with b
 * freed, when an append failed. */
char *textbuf_take(struct textbuf *b, size_t *len);

void textbuf_free(struct textbuf *b);

#endif
