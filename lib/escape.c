/* escape.c - escaping for terminals, CSV, JSON and logs; see escape.h for
 * the table of what becomes what. */
#include "lib/escape.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "lib/utf8.h"

#define UNIT_MAX 8 /* the longest unit: \u202e or \ufffd (6), "" (2) */

static const char hex[] = "0123456789abcdef";

static size_t put_hex(char *out, const char *prefix, uint32_t v, int digits)
{
	size_t n = strlen(prefix);
	memcpy(out, prefix, n);
	for (int i = digits - 1; i >= 0; i--)
		out[n++] = hex[(v >> (4 * i)) & 0xf];
	return n;
}

/* The escaped text of the next character of s (at most UNIT_MAX bytes into
 * out, not NUL-terminated); *used is how many input bytes it stood for. */
static size_t next_unit(enum escape_style style, const char *s, size_t len, size_t *used, char *out)
{
	uint32_t cp;
	size_t n = utf8_next(s, len, &cp);
	bool json = style == ESCAPE_JSON;
	*used = n ? n : 1;
	if (n == 0) /* not UTF-8 */
		return json ? put_hex(out, "\\u", 0xfffd, 4)
			    : put_hex(out, "\\x", (unsigned char)s[0], 2);
	if (cp == '"' && style != ESCAPE_TEXT) {
		memcpy(out, style == ESCAPE_CSV ? "\"\"" : "\\\"", 2);
		return 2;
	}
	if (cp == '\\' && (json || style == ESCAPE_LOG)) {
		memcpy(out, "\\\\", 2);
		return 2;
	}
	if (!utf8_unsafe(cp)) {
		memcpy(out, s, n);
		return n;
	}
	const char *shorthand = cp == '\n'	     ? "\\n"
				: cp == '\r'	     ? "\\r"
				: cp == '\t'	     ? "\\t"
				: json && cp == '\b' ? "\\b"
				: json && cp == '\f' ? "\\f"
						     : NULL;
	if (shorthand) {
		memcpy(out, shorthand, 2);
		return 2;
	}
	if (cp < 0x80 && !json)
		return put_hex(out, "\\x", cp, 2);
	return put_hex(out, "\\u", cp, 4);
}

/* How many bytes from s on need no escape in style: printable ASCII but
 * the quote and backslash the style escapes.  Names are mostly such runs,
 * copied whole instead of a character at a time. */
static size_t plain_run(enum escape_style style, const char *s, size_t len)
{
	size_t i = 0;
	for (; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c > 0x7e || (style != ESCAPE_TEXT && c == '"') ||
		    (c == '\\' && (style == ESCAPE_JSON || style == ESCAPE_LOG)))
			break;
	}
	return i;
}

static const char *opening(enum escape_style style)
{
	return style == ESCAPE_TEXT ? "" : "\"";
}

size_t escape(enum escape_style style, char *dst, size_t cap, const char *s, size_t len)
{
	const char *quote = opening(style);
	size_t q = strlen(quote), total = q, at = 0;
	bool opened = cap > 2 * q, cut = !opened; /* opened: room for both quotes */
	if (opened) {
		memcpy(dst, quote, q);
		at = q;
	}
	for (size_t i = 0; i < len;) {
		size_t run = plain_run(style, s + i, len - i);
		if (run) {
			/* Each plain byte is a unit of its own: the run may be cut anywhere. */
			size_t fits = cut || at + q + 1 >= cap ? 0 : cap - at - q - 1;
			size_t n = run < fits ? run : fits;
			if (n) /* dst may be NULL when cap is 0 */
				memcpy(dst + at, s + i, n);
			at += n;
			cut = cut || n < run;
			total += run;
			i += run;
			continue;
		}
		char unit[UNIT_MAX];
		size_t used, n = next_unit(style, s + i, len - i, &used, unit);
		i += used;
		total += n;
		/* Room for the unit, the closing quote and the NUL. */
		if (!cut && at + n + q < cap) {
			memcpy(dst + at, unit, n);
			at += n;
		} else {
			cut = true;
		}
	}
	total += q;
	if (opened) {
		memcpy(dst + at, quote, q); /* fits: every unit left room for it */
		at += q;
	}
	if (cap > 0)
		dst[at] = '\0';
	return total;
}

const char *escape_quote(char *dst, size_t cap, const char *s)
{
	escape(ESCAPE_LOG, dst, cap, s, strlen(s));
	return dst;
}

int escape_print(FILE *out, enum escape_style style, const char *s, size_t len)
{
	char buf[512];
	const char *quote = opening(style);
	size_t at = 0;
	if (fputs(quote, out) == EOF)
		return EOF;
	for (size_t i = 0; i < len;) {
		size_t used, run = plain_run(style, s + i, len - i);
		if (run) {
			if (fwrite(buf, 1, at, out) != at || fwrite(s + i, 1, run, out) != run)
				return EOF;
			at = 0;
			i += run;
			continue;
		}
		at += next_unit(style, s + i, len - i, &used, buf + at);
		i += used;
		if (at + UNIT_MAX > sizeof buf) {
			if (fwrite(buf, 1, at, out) != at)
				return EOF;
			at = 0;
		}
	}
	if (fwrite(buf, 1, at, out) != at || fputs(quote, out) == EOF)
		return EOF;
	return 0;
}
