/* fuzz_names.c - libFuzzer harness for the name rules and the escapers:
 * any bytes through series_name_check and every escape style.  A name the
 * check accepts must print unchanged as text and be exactly what
 * series_canonical writes for its parts; every escaped output must be
 * well-formed UTF-8 without an unsafe code point. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/escape.h"
#include "lib/series_name.h"
#include "lib/utf8.h"

static void clean_or_die(const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_next(s + i, len - i, &cp);
		if (n == 0 || utf8_unsafe(cp))
			abort();
		i += n;
	}
}

/* Rebuilds an accepted name from its parts with series_canonical. */
static void rebuild_or_die(const char *name, size_t len)
{
	static char copy[SERIES_NAME_MAX + 1], values[SERIES_NAME_MAX + 1],
	    out[SERIES_NAME_MAX + 1];
	struct series_label labels[SERIES_LABELS_MAX];
	size_t n = 0, v = 0;
	memcpy(copy, name, len);
	copy[len] = '\0';
	char *slash = strchr(copy, '/'), *brace = strchr(copy, '{');
	*slash = '\0';
	if (brace) {
		*brace = '\0';
		for (char *p = brace + 1; *p && *p != '}';) {
			char *eq = strchr(p, '=');
			*eq = '\0';
			labels[n].key = p;
			labels[n].value = values + v;
			for (p = eq + 2; *p != '"'; p++) {
				if (*p == '\\')
					p++;
				values[v++] = *p;
			}
			values[v++] = '\0';
			n++;
			p++; /* past the closing quote: ',' or '}' follows */
			if (*p == ',')
				p++;
		}
	}
	int got = series_canonical(out, sizeof out, copy, slash + 1, labels, n, NULL);
	if (got != (int)len || memcmp(out, name, len) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	static char out[8 * 4096 + 16];
	if (size > 4096)
		return 0;
	for (int style = ESCAPE_TEXT; style <= ESCAPE_LOG; style++) {
		size_t n = escape((enum escape_style)style, out, sizeof out, s, size);
		if (n >= sizeof out || strlen(out) != n)
			abort();
		clean_or_die(out, n);
		escape((enum escape_style)style, out, size % 64, s, size); /* cuts */
		clean_or_die(out, strlen(out));
	}
	series_check_host(s, size, NULL);
	series_check_metric(s, size, NULL);
	series_check_label_name(s, size, NULL);
	series_check_label_value(s, size, NULL);
	struct err e;
	if (series_name_check(s, size, &e) != 0) {
		clean_or_die(e.msg, strlen(e.msg));
		return 0;
	}
	size_t n = escape(ESCAPE_TEXT, out, sizeof out, s, size);
	if (n != size || memcmp(out, s, size) != 0)
		abort(); /* a valid name prints as it is */
	rebuild_or_die(s, size);
	return 0;
}
