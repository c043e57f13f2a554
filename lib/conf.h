/* conf.h - the reader of every Rusty Monitor configuration file.
 *
 * The format is INI-like, one setting a line:
 *
 *     # a comment (also after a value, when preceded by a space)
 *     interval = 10s
 *     [collector cpu]          section "collector", name "cpu"
 *     enabled = true
 *     labels = "a # kept"      quotes keep '#' and outer spaces
 *
 * Programs give a callback that receives each setting with its file and
 * line, so every error can say where it is (see conf_error). */
#ifndef RMON_CONF_H
#define RMON_CONF_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/err.h"

struct conf_entry {
	const char *file;    /* path as given, or "<embedded>" */
	int line;	     /* 1-based */
	const char *section; /* "" before the first [section] */
	const char *name;    /* the section's second word, or "" */
	const char *key;
	const char *value; /* unquoted */
};

/* Called for each setting; returns 0 to go on, or a negative code (after
 * filling e) to stop parsing. */
typedef int (*conf_callback)(void *ctx, const struct conf_entry *entry, struct err *e);

/* Parses text (NUL-terminated) as if it were the file `file`.
 * Returns 0, a syntax error (-EINVAL with "file:line: problem"), or the
 * first negative code the callback returned. */
int conf_parse_text(const char *text, const char *file, conf_callback cb, void *ctx, struct err *e);

/* Reads and parses the file at path; a missing or unreadable file is an
 * error naming it. */
int conf_parse_file(const char *path, conf_callback cb, void *ctx, struct err *e);

/* Fills e with "file:line: key 'value': problem" and returns -EINVAL. */
int conf_error(struct err *e, const struct conf_entry *entry, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Typed readers of entry->value; each returns 0, or -EINVAL with a message
 * naming the file, line and key. */
int conf_bool(const struct conf_entry *entry, bool *out, struct err *e);
int conf_int(const struct conf_entry *entry, int64_t min, int64_t max, int64_t *out, struct err *e);
int conf_double(const struct conf_entry *entry, double *out, struct err *e);
int conf_duration(const struct conf_entry *entry, int64_t min_ns, int64_t *out_ns, struct err *e);
/* Sizes such as "100MiB", "64KiB", "1GB", "4096". */
int conf_size(const struct conf_entry *entry, uint64_t *out, struct err *e);

#endif
