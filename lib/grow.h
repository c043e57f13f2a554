/* grow.h - room in a byte buffer that only grows: the one idiom of the
 * text arenas (mount lists, directory listings, remembered keys). */
#ifndef RMON_GROW_H
#define RMON_GROW_H

#include <stdbool.h>
#include <stdlib.h>

/* Makes *buf (capacity *cap) hold at least need bytes, doubling from
 * first; false when out of memory, and then nothing changed. */
static inline bool grow_bytes(char **buf, size_t *cap, size_t need, size_t first)
{
	if (need <= *cap)
		return true;
	size_t bigger = *cap ? *cap * 2 : first;
	while (bigger < need)
		bigger *= 2;
	char *p = realloc(*buf, bigger);
	if (!p)
		return false;
	*buf = p;
	*cap = bigger;
	return true;
}

#endif
