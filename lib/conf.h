/* conf.h - the reader of every Rusty Monitor configuration file.
 *
 * The format is INI-like, one setting a line (docs/config.md is the user's
 * description):
 *
 *     # a comment
 *     interval = 10s           # a comment after a value
 *     [collector cpu]          section "collector", name "cpu"
 *     enabled = true
 *     labels = "a # kept"      a value that is one quoted string is unquoted
 *     expr = cpu{mode="idle"} < 0.1   # quotes inside a value are kept as written
 *     include = rules.d/[a-z]*.conf
 *
 * Comments: '#' starts a comment at the start of a line or after a space or
 * tab, and only outside double quotes ("a#b", "x # y" keep theirs).
 *
 * Quotes: a value that starts with '"' must be exactly one quoted string
 * (\" and \\ are its escapes); it is delivered without the quotes. A quote
 * that opens later in a value is kept, with what it encloses, as written.
 * An unterminated quote is a syntax error.
 *
 * Lists: a key given several times in a section is delivered each time, in
 * order; the program decides whether that builds a list or the last wins.
 *
 * Sections: a section (the pair of its two words) may appear once in all the
 * files read together; a repetition is an error naming both places. A
 * section ends at the next header, at an include line, or at the end of the
 * file that opened it; conf_read_* tell the program so (hooks.section_end),
 * so that it can check a section as a whole.
 *
 * Includes: `include = PATTERN` is read by the reader, not delivered: it
 * ends the current section, then reads each file that PATTERN (a glob,
 * relative to the folder of the file that holds the line) matches, in
 * byte order of their paths, each starting at the top level. What follows
 * the include line, up to the next header, is top level again. A pattern
 * with a wildcard may match nothing; a plain path must exist. Includes nest
 * at most CONF_MAX_DEPTH deep (which also stops a file including itself).
 *
 * Programs give a callback that receives each setting with its file and
 * line, so every error can say where it is (see conf_error). */
#ifndef RMON_CONF_H
#define RMON_CONF_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/err.h"

#define CONF_MAX_DEPTH 8 /* the main file and 7 levels of includes */

struct conf_entry {
	const char *file;    /* path as given (included files: as globbed), or "<embedded>" */
	int line;	     /* 1-based; in a section-end event, the header's line */
	const char *section; /* "" before the first [section] */
	const char *name;    /* the section's second word, or "" */
	const char *key;     /* NULL in a section-end event */
	const char *value;   /* unquoted; NULL in a section-end event */
	int section_line;    /* line of the section's header in file, 0 at the top level */
};
/* Every string of an entry stays valid until conf_read_* returns. */

/* Called for each setting; returns 0 to go on, or a negative code (after
 * filling e) to stop parsing. */
typedef int (*conf_callback)(void *ctx, const struct conf_entry *entry, struct err *e);

struct conf_hooks {
	conf_callback setting;	   /* each key = value; required */
	conf_callback section_end; /* when a [section] ends (key NULL); may be NULL */
};

/* Parses text (NUL-terminated) as if it were the file `file` (includes are
 * relative to file's folder). Returns 0, a syntax error (-EINVAL with
 * "file:line: problem"), an include's error (-ENOENT, -ELOOP, ... naming
 * the file and line), or the first negative code a hook returned. */
int conf_read_text(const char *text, const char *file, const struct conf_hooks *hooks, void *ctx,
		   struct err *e);

/* Reads and parses the file at path; a missing or unreadable file is an
 * error naming it. Otherwise as conf_read_text. */
int conf_read_file(const char *path, const struct conf_hooks *hooks, void *ctx, struct err *e);

/* The same with only a setting callback (no section-end events). */
int conf_parse_text(const char *text, const char *file, conf_callback cb, void *ctx, struct err *e);
int conf_parse_file(const char *path, conf_callback cb, void *ctx, struct err *e);

/* Fills e with "file:line: section.key = 'value': problem" (for a
 * section-end event "file:line: [section name]: problem") and returns
 * -EINVAL. */
int conf_error(struct err *e, const struct conf_entry *entry, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Typed readers of entry->value; each returns 0, or -EINVAL with a message
 * naming the file, line and key. Numbers are decimal: "010" is ten; hex,
 * "inf" and "nan" are refused. */
int conf_bool(const struct conf_entry *entry, bool *out, struct err *e);
int conf_int(const struct conf_entry *entry, int64_t min, int64_t max, int64_t *out, struct err *e);
int conf_double(const struct conf_entry *entry, double *out, struct err *e);
int conf_duration(const struct conf_entry *entry, int64_t min_ns, int64_t *out_ns, struct err *e);
/* Sizes such as "100MiB", "64KiB", "1GB", "4096"; at most 2^64-1 bytes
 * (a larger one, such as "1e30TB", is an error). */
int conf_size(const struct conf_entry *entry, uint64_t *out, struct err *e);

#endif
