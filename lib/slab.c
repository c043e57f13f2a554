/* slab.c - see slab.h. */
#include "lib/slab.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

/* Objects in a slab may hold the only pointer to memory from malloc (a
 * head's chunk buffer).  LeakSanitizer looks for pointers in what malloc
 * gave, in stacks and in globals, not in mappings of our own: under it
 * the blocks are registered as places to look. */
#if defined(__SANITIZE_ADDRESS__)
#define SLAB_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLAB_LSAN 1
#endif
#endif
#ifdef SLAB_LSAN
#include <sanitizer/lsan_interface.h>
#define LSAN_WATCH(p, n)   __lsan_register_root_region(p, n)
#define LSAN_UNWATCH(p, n) __lsan_unregister_root_region(p, n)
#else
#define LSAN_WATCH(p, n)   ((void)0)
#define LSAN_UNWATCH(p, n) ((void)0)
#endif

#define BLOCK_BYTES ((size_t)2 << 20)
#define LINE	    64

struct block {
	struct block *next;
	void *base; /* the mapping, BLOCK_BYTES long and BLOCK_BYTES aligned */
};

struct slab {
	size_t size;
	struct block *blocks; /* newest first; objects are taken from it */
	size_t used;	      /* bytes of the newest block given out */
};

struct slab *slab_new(size_t size)
{
	struct slab *s = calloc(1, sizeof *s);
	if (s)
		s->size = (size + LINE - 1) / LINE * LINE;
	return s;
}

/* Maps a block aligned to its size, as a huge page must be: twice the size
 * is reserved and the unaligned ends given back. */
static void *map_aligned_block(void)
{
	uint8_t *p =
	    mmap(NULL, 2 * BLOCK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	size_t lead = (BLOCK_BYTES - (uintptr_t)p % BLOCK_BYTES) % BLOCK_BYTES;
	if (lead)
		munmap(p, lead);
	munmap(p + lead + BLOCK_BYTES, BLOCK_BYTES - lead);
	/* Advice only: without huge pages it is an ordinary mapping. */
	madvise(p + lead, BLOCK_BYTES, MADV_HUGEPAGE);
	LSAN_WATCH(p + lead, BLOCK_BYTES);
	return p + lead;
}

void *slab_alloc(struct slab *s)
{
	if (s->size > BLOCK_BYTES)
		return NULL;
	if (!s->blocks || s->used + s->size > BLOCK_BYTES) {
		struct block *b = malloc(sizeof *b);
		if (!b || !(b->base = map_aligned_block())) {
			free(b);
			return NULL;
		}
		b->next = s->blocks;
		s->blocks = b;
		s->used = 0;
	}
	void *object = (uint8_t *)s->blocks->base + s->used;
	s->used += s->size;
	return object; /* fresh anonymous memory is zero */
}

void slab_free(struct slab *s)
{
	if (!s)
		return;
	for (struct block *b = s->blocks, *next; b; b = next) {
		next = b->next;
		LSAN_UNWATCH(b->base, BLOCK_BYTES);
		munmap(b->base, BLOCK_BYTES);
		free(b);
	}
	free(s);
}
