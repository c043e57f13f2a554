/* series.h - the lock-free series table that lives in the ring's
 * shared-memory segment (names and ids: lib/series_name.h).  Agents
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
#include "lib/series_name.h"

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
