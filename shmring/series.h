/* series.h - series names and their 64-bit ids, and the lock-free series
 * table that lives in the ring's shared-memory segment.
 *
 * A series is host + metric + labels, written canonically as
 *     host/metric{k1="v1",k2="v2"}
 * with labels sorted by key; its id is a 64-bit hash of that text.  Agents
 * insert a name once, then push samples that carry only the id; the
 * drainer looks the name up when it first meets an id.
 *
 * The table is append-only and lock-free: a name is copied into a bump-
 * allocated arena record that holds its id, then published by one
 * compare-and-swap of the record's offset into an open-addressing slot.
 * An inserter killed before that CAS leaks only its arena record; after it,
 * the entry is complete.  A different name with an id already present is
 * refused (-EEXIST), never merged.
 */
#ifndef RMON_SERIES_H
#define RMON_SERIES_H

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

/* ---- the shared table ---- */

struct series_table;

/* Bytes of shared memory a table of this capacity needs. */
size_t series_table_size(uint32_t capacity, uint32_t name_bytes);

/* Lays out an empty table in mem (zeroed memory of series_table_size
 * bytes).  Called once, by whoever creates the segment. */
struct series_table *series_table_init(void *mem, uint32_t capacity, uint32_t name_bytes);

/* Attaches to a table laid out earlier; -EPROTO if its sizes disagree. */
int series_table_attach(void *mem, size_t size, struct series_table **out, struct err *e);

/* Inserts name (not NUL-terminated, len bytes) under its id, which it
 * returns in *id.  Inserting a name already present is a cheap success.
 * -EEXIST: another name has the same id (the message shows both);
 * -ENOSPC: the table or its name arena is full (counted, see stats). */
int series_insert(struct series_table *t, const char *name, size_t len, uint64_t *id,
		  struct err *e);

/* Finds the name of id: returns its length and points *name at it (in the
 * shared segment; it never changes once published), or -ENOENT. */
int series_lookup(struct series_table *t, uint64_t id, const char **name);

struct series_table_stats {
	uint32_t capacity;
	uint32_t count;	      /* names published */
	uint64_t full_errors; /* inserts refused for lack of space */
	uint64_t collisions;  /* inserts refused for an id clash */
	uint64_t arena_used;  /* bytes of the name arena in use */
	uint64_t arena_size;
};

void series_table_stats(struct series_table *t, struct series_table_stats *out);

#ifdef RMON_TESTING
/* Tests only: inserts name under a chosen id, to provoke a collision. */
int series_insert_with_id(struct series_table *t, const char *name, size_t len, uint64_t forced_id,
			  struct err *e);
#endif

#endif
