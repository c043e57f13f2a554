/* parse.h - the few scanning helpers the /proc parsers share: no stdio,
 * no allocation, never past the NUL. */
#ifndef RMON_COLL_PARSE_H
#define RMON_COLL_PARSE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static inline const char *parse_skip_spaces(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Reads an unsigned decimal; *ok is false when there are no digits. */
static inline uint64_t parse_u64(const char **p, bool *ok)
{
	const char *s = parse_skip_spaces(*p);
	uint64_t v = 0;
	*ok = *s >= '0' && *s <= '9';
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (uint64_t)(*s++ - '0');
	*p = s;
	return v;
}

/* Copies the next word (ended by a space, tab, newline, any other control
 * character or the NUL) into buf, truncated to len - 1. */
static inline bool parse_word(const char **p, char *buf, size_t len)
{
	const char *s = parse_skip_spaces(*p), *end = s;
	while ((unsigned char)*end > ' ')
		end++;
	size_t n = (size_t)(end - s) < len - 1 ? (size_t)(end - s) : len - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	*p = end;
	return end > s;
}

/* Moves to the start of the next line; false at the end. */
static inline bool parse_next_line(const char **p)
{
	const char *nl = strchr(*p, '\n');
	if (!nl)
		return false;
	*p = nl + 1;
	return **p != '\0';
}

/* The leading unsigned number of text, 0 when there is none. */
static inline uint64_t strtoull_or_zero(const char *text)
{
	bool ok;
	return parse_u64(&text, &ok);
}

/* Writes prefix, then n bytes of middle, then suffix into buf (len
 * bytes, truncating): metric names are built for every value of every
 * collection, and snprintf was a tenth of the agent's own time. */
static inline void parse_join(char *buf, size_t len, const char *prefix, const char *middle,
			      size_t n, const char *suffix)
{
	size_t at = 0;
	const char *parts[3] = { prefix, middle, suffix };
	size_t sizes[3] = { strlen(prefix), n, strlen(suffix) };
	for (int i = 0; i < 3; i++) {
		size_t take = sizes[i] < len - 1 - at ? sizes[i] : len - 1 - at;
		memcpy(buf + at, parts[i], take);
		at += take;
	}
	buf[at] = '\0';
}

#endif
