/* idset.h - a set of 64-bit series ids: what one ingest connection has
 * defined, and so may write (store/ingest_frames.c checks every sample against
 * it).  Open addressing with linear probing; 0 marks an empty slot, which
 * is safe because series_id never returns 0 (lib/series_name.h). */
#ifndef RMON_IDSET_H
#define RMON_IDSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct idset {
	uint64_t *slots; /* cap slots, a power of two; NULL while empty */
	size_t n, cap;
};

/* Adds id (not 0): 1 when it is new, 0 when it was there, -ENOMEM (and
 * the set unchanged), -EINVAL for 0. */
int idset_add(struct idset *s, uint64_t id);

/* Whether id is in the set; never for 0. */
bool idset_has(const struct idset *s, uint64_t id);

/* Frees the slots; the set is empty and usable again. */
void idset_free(struct idset *s);

#endif
