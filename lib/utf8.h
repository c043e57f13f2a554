/* utf8.h - reading UTF-8 strictly, and the code points that must never
 * reach a terminal, a log or a page raw.  Shared by the name rules
 * (lib/series_name.h) and the output escapers (lib/escape.h), so "valid"
 * and "safe" mean the same everywhere. */
#ifndef RMON_UTF8_H
#define RMON_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decodes the code point at s (len > 0 bytes available) into *cp and
 * returns its length, 1 to 4.  Returns 0 when the bytes there are not
 * well-formed UTF-8 (RFC 3629): a stray continuation byte, a sequence cut
 * short, an overlong encoding (0xc0 0xaf for '/'), a surrogate
 * (U+D800-U+DFFF) or a value above U+10FFFF.  The caller then treats the
 * one byte at s as invalid and goes on after it. */
size_t utf8_next(const char *s, size_t len, uint32_t *cp);

/* True for a code point that can change what a reader sees beyond its own
 * glyph: the C0 controls (U+0000-U+001F: newline, escape, ...), DEL
 * (U+007F), the C1 controls (U+0080-U+009F, CSI among them), the line and
 * paragraph separators U+2028 and U+2029, and the bidirectional embeddings,
 * overrides and isolates (U+202A-U+202E, U+2066-U+2069) that reorder text
 * on screen. */
bool utf8_unsafe(uint32_t cp);

#endif
