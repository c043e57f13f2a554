/* textbuf.c - a growing text buffer; see textbuf.h. */
#include "alertd/textbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/grow.h"

static bool room(struct textbuf *b, size_t more)
{
	if (b->failed)
		return false;
	if (more > SIZE_MAX / 2 - b->len || !grow_bytes(&b->p, &b->cap, b->len + more + 1, 256)) {
		b->failed = true;
		return false;
	}
	return true;
}

void textbuf_put(struct textbuf *b, const char *s, size_t len)
{
	if (!room(b, len))
		return;
	memcpy(b->p + b->len, s, len);
	b->len += len;
	b->p[b->len] = '\0';
}

void textbuf_puts(struct textbuf *b, const char *s)
{
	textbuf_put(b, s, strlen(s));
}

void textbuf_printf(struct textbuf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	if ((size_t)n < sizeof small) {
		textbuf_put(b, small, (size_t)n);
		return;
	}
	if (!room(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *textbuf_take(struct textbuf *b, size_t *len)
{
	char *p = b->p;
	if (b->failed || (!p && !room(b, 0))) {
		textbuf_free(b);
		return NULL;
	}
	p = b->p;
	if (len)
		*len = b->len;
	*b = (struct textbuf){ 0 };
	return p;
}

void textbuf_free(struct textbuf *b)
{
	free(b->p);
	*b = (struct textbuf){ 0 };
}
