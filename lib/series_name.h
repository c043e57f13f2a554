/* series_name.h - series names and their 64-bit ids, shared by every part:
 * the agent builds names, the ring's table and the store keep them, the
 * protocol carries them, readers match and print them.
 *
 * A series is host + metric + labels, written canonically as
 *     host/metric{k1="v1",k2="v2"}
 * with labels sorted by key; its id is a 64-bit hash of that text. */
#ifndef RMON_SERIES_NAME_H
#define RMON_SERIES_NAME_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

#define SERIES_NAME_MAX	  1024 /* bytes of a canonical name, without the NUL */
#define SERIES_LABELS_MAX 32

struct series_label {
	const char *key;
	const char *value;
};

/* Writes the canonical name of host/metric{labels} into buf: labels sorted
 * by key, values quoted with \\, \" and \n escaped.  The labels array may be
 * reordered.  Host and metric must be non-empty; metric names must match
 * [a-zA-Z_:][a-zA-Z0-9_:]* and label keys [a-zA-Z_][a-zA-Z0-9_]*; host names
 * may not contain '/', '{' or control characters.  Returns the length, or
 * -EINVAL / -ENAMETOOLONG with a message naming the offending part. */
int series_canonical(char *buf, size_t len, const char *host, const char *metric,
		     struct series_label *labels, size_t n_labels, struct err *e);

/* The 64-bit id of a canonical name (a seeded 64-bit hash; 0 is never
 * returned, as the table uses 0 for "empty"). */
uint64_t series_id(const char *name, size_t len);

/* Splits a canonical name into its host and metric (pointers into buf,
 * which is modified) and the label text between the braces (or ""). */
int series_split(char *buf, const char **host, const char **metric, const char **labels);

#endif
