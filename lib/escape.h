/* escape.h - every output shows what it was given, never what it would do:
 * text for a terminal, CSV fields, JSON strings and log values are written
 * so that no control character, escape sequence, bidirectional override or
 * invalid UTF-8 byte a peer sent can reach the reader raw (docs/query.md,
 * "Output escaping").
 *
 * Input is any bytes.  It is read as UTF-8 (lib/utf8.h): well-formed,
 * safe characters pass unchanged; the rest becomes an escape:
 *
 *   what                         TEXT, CSV, LOG      JSON
 *   newline, CR, tab             \n \r \t            \n \r \t
 *   other C0 controls, DEL       \xNN (ESC = \x1b)   \u00NN (\b \f)
 *   C1, U+2028/9, bidi controls  \uNNNN              \uNNNN
 *   a byte that is not UTF-8     \xNN                \ufffd
 *   "                            (CSV: "", LOG: \")  \"
 *   \                            (LOG: \\)           \\
 *
 * TEXT leaves backslashes alone so that a valid series name prints exactly
 * as it is typed in a selector; CSV and LOG enclose the value in double
 * quotes, JSON makes a complete string literal.  JSON output is always
 * valid UTF-8 and valid JSON; invalid input bytes become U+FFFD, the
 * replacement character, because JSON has no way to carry a raw byte. */
#ifndef RMON_ESCAPE_H
#define RMON_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

enum escape_style {
	ESCAPE_TEXT, /* for a terminal or a text file: escapes only */
	ESCAPE_CSV,  /* one RFC 4180 field, always quoted */
	ESCAPE_JSON, /* one JSON string literal, quotes included */
	ESCAPE_LOG,  /* a peer's value inside a log line, quoted */
};

/* Writes s[0..len) escaped in style into dst (cap bytes, NUL-terminated
 * when cap > 0; dst may be NULL when cap is 0) and returns the length the
 * whole result needs, as snprintf does: a result >= cap means it was cut.  A cut never splits a
 * character or an escape, and a quoted style keeps its closing quote. */
size_t escape(enum escape_style style, char *dst, size_t cap, const char *s, size_t len);

/* escape() of the NUL-terminated s in ESCAPE_LOG style, returning dst, for
 * use as a printf argument: log_warn("x", "host %s", escape_quote(q, sizeof q, host)). */
const char *escape_quote(char *dst, size_t cap, const char *s);

/* Writes s[0..len) escaped in style to out (no cut); 0, or EOF when out
 * fails. */
int escape_print(FILE *out, enum escape_style style, const char *s, size_t len);

#endif
