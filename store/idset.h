/* idset.h - a set of 64-bit series ids: what one ingest connection has
 * defined, and so may write (store/ingest_frames.c checks every sample against
 * it), each with its place: the order it was added in, 0, 1, 2 ...  An
 * agent sends its series in the order it defined them, so the place of the
 * sample before tells where the next one's series is (ingest keeps what
 * each place resolved to).  Open addressing with linear probing; 0 marks an
 * empty slot, which is safe because series_id never returns 0
 * (lib/series_name.h). */
#ifndef RMON_IDSET_H
#define RMON_IDSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct idset {
	uint64_t *slots;  /* cap slots, a power of two; NULL while empty */
	uint32_t *places; /* the place of the id in slots[i] */
	uint64_t *order;  /* the ids by place: order[p] was added p-th */
	size_t n, cap, order_cap;
};

/* Adds id (not 0) at place n: 1 when it is new, 0 when it was there,
 * -ENOMEM (and the set unchanged), -EINVAL for 0. */
int idset_add(struct idset *s, uint64_t id);

/* Whether id is in the set; never for 0. */
bool idset_has(const struct idset *s, uint64_t id);

/* The place of id, or -1 when it is not in the set. */
long idset_place(const struct idset *s, uint64_t id);

/* Frees the slots; the set is empty and usable again. */
void idset_free(struct idset *s);

#endif
