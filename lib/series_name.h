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
#define SERIES_HOST_MAX	  255  /* bytes of a host name */
#define SERIES_LABELS_MAX 32

struct series_label {
	const char *key;
	const char *value;
};

/* The name rules (docs/metrics.md, "Names"), the same on the agent, on the
 * wire, in the store and in every reader:
 *
 *   host         1 to 255 bytes of [A-Za-z0-9_.:-], not starting with '.'
 *                or '-' (so never "..", a hidden file or an option)
 *   metric       [a-zA-Z_:][a-zA-Z0-9_:]*          (Prometheus)
 *   label name   [a-zA-Z_][a-zA-Z0-9_]*            (Prometheus)
 *   label value  valid UTF-8 (no overlong forms, no surrogates) without
 *                the unsafe code points of lib/utf8.h: C0 and C1
 *                controls, DEL, U+2028/U+2029 and the bidi controls
 *
 * Each check takes len bytes at s (no NUL needed) and returns 0, or
 * -EINVAL with a message naming the part, the byte position (from 0) and
 * what is wrong there, the value shown escaped (lib/escape.h). */
int series_check_host(const char *s, size_t len, struct err *e);
int series_check_metric(const char *s, size_t len, struct err *e);
int series_check_label_name(const char *s, size_t len, struct err *e);
int series_check_label_value(const char *s, size_t len, struct err *e);

/* Checks a whole canonical name as series_canonical writes it:
 * host/metric or host/metric{k1="v1",...} with the parts above, keys in
 * strictly increasing byte order (so each once), at most
 * SERIES_LABELS_MAX labels, values quoted with only \\ and \" escaped,
 * at most SERIES_NAME_MAX bytes.  Returns 0, or -EINVAL with a message
 * naming the part and the byte position in the name. */
int series_name_check(const char *name, size_t len, struct err *e);

/* Writes the canonical name of host/metric{labels} into buf: labels sorted
 * by key, values quoted with \\ and \" escaped.  The labels array may be
 * reordered.  Every part must pass its check above (a value from the
 * system, such as a command name, can be made valid with
 * escape(ESCAPE_TEXT, ...) first).  Returns the length, or -EINVAL /
 * -ENAMETOOLONG with a message naming the offending part. */
int series_canonical(char *buf, size_t len, const char *host, const char *metric,
		     struct series_label *labels, size_t n_labels, struct err *e);

/* The 64-bit id of a canonical name (a seeded 64-bit hash; 0 is never
 * returned, as the table uses 0 for "empty"). */
uint64_t series_id(const char *name, size_t len);

/* Splits a canonical name into its host and metric (pointers into buf,
 * which is modified) and the label text between the braces (or ""). */
int series_split(char *buf, const char **host, const char **metric, const char **labels);

/* Splits the label text series_split gives (k1="v1",k2="v2") in place
 * into labels (room for max), the values unescaped; returns how many, or
 * -EINVAL when the text is not as series_canonical writes it. */
int series_split_labels(char *text, struct series_label *labels, size_t max);

#endif
