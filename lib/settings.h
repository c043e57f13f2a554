/* settings.h - config-file settings read from a table instead of a chain
 * of strcmp: each row names a [section] and key, the kind of value, where
 * it goes and its bounds; the reader (lib/conf.h) hands every entry to
 * settings_apply, which checks and stores it or says what is wrong with
 * the file and line.
 *
 *     static const struct setting rows[] = {
 *             { "store", "commit_interval", SETTING_DURATION,
 *               offsetof(struct my_settings, store.commit_interval_ns),
 *               10 * RTIME_NS_PER_MS, 0 },
 *             { NULL },
 *     };
 *     struct settings s = { rows, &mine };
 *     conf_parse_file(path, my_callback, &s, &e);   // calls settings_apply
 *     ...
 *     settings_release(&s);                         // the strings kept */
#ifndef RMON_SETTINGS_H
#define RMON_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/conf.h"
#include "lib/err.h"

/* The kind of a value, and so the type of its field. */
enum setting_kind {
	SETTING_BOOL,	  /* bool: true/false, yes/no, on/off, 1/0 */
	SETTING_INT,	  /* int, a whole number in [min, max] */
	SETTING_UINT32,	  /* uint32_t, a whole number in [min, max] */
	SETTING_INT64,	  /* int64_t (or uint64_t below 2^63), a whole number in [min, max] */
	SETTING_DURATION, /* int64_t ns ("10s"), at least min (ns) */
	SETTING_SIZE,	  /* uint64_t bytes ("64KiB"), in [min, max] (max 0: no maximum) */
	SETTING_SIZE32,	  /* uint32_t bytes, in [min, max] */
	SETTING_STRING,	  /* const char *, a copy kept until settings_release; at least min bytes */
	SETTING_TEXT,	  /* char[max]: copied in, at least min and at most max - 1 bytes */
};

#define SETTING_POWER_OF_TWO 1u /* flags: the number must be a power of two */

struct setting {
	const char *section; /* "" for settings before any [section]; NULL ends the table */
	const char *key;
	enum setting_kind kind;
	size_t offset; /* of the field, from struct settings.base */
	int64_t min, max;
	unsigned flags;
};

struct settings {
	const struct setting *table;
	void *base; /* the struct the offsets are in */
	/* The copies of string values, owned (settings_release frees them). */
	char **copies;
	size_t n_copies, copies_cap;
};

#define SETTINGS_UNKNOWN 1 /* settings_apply: no row for that section */

/* Stores entry's value in the field its row names.  Returns 0;
 * SETTINGS_UNKNOWN when no row has entry's section (the caller may know
 * it otherwise, or call settings_unknown); or -EINVAL / -ENOMEM with e
 * saying "file:line: section.key = 'value': problem" (an unknown key
 * lists the section's keys). */
int settings_apply(struct settings *s, const struct conf_entry *entry, struct err *e);

/* The error for a section no row and no caller knows: names the table's
 * sections. */
int settings_unknown(const struct settings *s, const struct conf_entry *entry, struct err *e);

/* Keeps a copy of text in s (freed by settings_release): for callers
 * storing strings of their own sections.  NULL when out of memory. */
char *settings_keep(struct settings *s, const char *text);

/* Frees the string copies; the fields pointing to them dangle after. */
void settings_release(struct settings *s);

#endif
