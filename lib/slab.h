/* slab.h - many objects of one size that live as long as their owner (the
 * store's head chunks, one per series), packed into 2 MiB blocks that the
 * kernel may back with transparent huge pages.  Touching one object of
 * each of ten thousand series per batch costs a TLB miss per object on
 * 4 KiB pages; on huge pages a handful of entries cover them all. */
#ifndef RMON_SLAB_H
#define RMON_SLAB_H

#include <stddef.h>

struct slab;

/* A slab of objects of size bytes (rounded up to a cache line); NULL when
 * out of memory. */
struct slab *slab_new(size_t size);

/* A zeroed object, cache-line aligned; NULL when out of memory. */
void *slab_alloc(struct slab *s);

/* Frees the slab and every object it gave. */
void slab_free(struct slab *s);

#endif
