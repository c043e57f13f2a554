/* plot_text.c - the growing buffer the gnuplot scripts and rewritten SVG
 * graphs are built in, with the few ways text goes into them (numbers,
 * gnuplot strings, XML text). */
#include "lib/plot_private.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/grow.h"
#include "lib/utf8.h"

static bool room(struct plot_buf *b, size_t more)
{
	if (b->failed)
		return false;
	if (!grow_bytes(&b->p, &b->cap, b->len + more + 1, 4096)) {
		b->failed = true;
		return false;
	}
	return true;
}

void plot_buf_put(struct plot_buf *b, const char *s, size_t len)
{
	if (!room(b, len))
		return;
	memcpy(b->p + b->len, s, len);
	b->len += len;
	b->p[b->len] = '\0';
}

void plot_buf_puts(struct plot_buf *b, const char *s)
{
	plot_buf_put(b, s, strlen(s));
}

void plot_buf_printf(struct plot_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !room(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void plot_buf_fixed(struct plot_buf *b, double v, int decimals)
{
	static const double tens[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9 };
	if (decimals < 0)
		decimals = 0;
	if (decimals > 9)
		decimals = 9;
	double scaled = v * tens[decimals];
	if (!isfinite(v) || fabs(scaled) > 9e15) {
		plot_buf_printf(b, "%.6g", v);
		return;
	}
	long long q = llround(scaled);
	char digits[32], *end = digits + sizeof digits, *s = end;
	bool negative = q < 0;
	unsigned long long u = negative ? (unsigned long long)-q : (unsigned long long)q;
	int place = 0;
	bool any = false; /* a fraction digit kept: the trailing zeros end there */
	for (; place < decimals; place++, u /= 10) {
		int d = (int)(u % 10);
		if (d || any) {
			*--s = (char)('0' + d);
			any = true;
		}
	}
	if (any)
		*--s = '.';
	do {
		*--s = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (negative && (any || s[0] != '0' || s + 1 != end))
		*--s = '-';
	plot_buf_put(b, s, (size_t)(end - s));
}

/* Appends s as valid, safe UTF-8 (a byte that is not UTF-8 becomes U+FFFD,
 * a control or bidirectional override a space), each ASCII character
 * through special when it has a replacement there. */
static void put_clean(struct plot_buf *b, const char *s, const char *(*special)(char c))
{
	size_t len = strlen(s);
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_next(s + i, len - i, &cp);
		const char *instead;
		if (!n) {
			plot_buf_puts(b, "\xef\xbf\xbd");
			i++;
			continue;
		}
		if (utf8_unsafe(cp))
			plot_buf_put(b, " ", 1);
		else if (n == 1 && (instead = special(s[i])))
			plot_buf_puts(b, instead);
		else
			plot_buf_put(b, s + i, n);
		i += n;
	}
}

static const char *gnuplot_special(char c)
{
	return c == '\'' ? "''" : NULL;
}

void plot_buf_gnuplot_string(struct plot_buf *b, const char *s)
{
	plot_buf_put(b, "'", 1);
	put_clean(b, s, gnuplot_special);
	plot_buf_put(b, "'", 1);
}

static const char *xml_special(char c)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&apos;";
	}
	return NULL;
}

void plot_buf_xml(struct plot_buf *b, const char *s)
{
	put_clean(b, s, xml_special);
}

void plot_buf_free(struct plot_buf *b)
{
	free(b->p);
	*b = (struct plot_buf){ 0 };
}
