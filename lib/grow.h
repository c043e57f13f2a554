/* grow.h - room in an array that only grows: the one idiom of every
 * growing table (connections, series, hosts, timers) and of the text
 * arenas (mount lists, directory listings, remembered keys). */
#ifndef RMON_GROW_H
#define RMON_GROW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Makes the array at *array_ptr (a pointer to any pointer, capacity *cap
 * elements of size bytes) hold at least need elements, doubling from
 * first.  Returns false when out of memory (or need * size overflows), and
 * then nothing changed; the new elements are not initialised. */
static inline bool grow_array_from(void *array_ptr, size_t *cap, size_t need, size_t size,
				   size_t first)
{
	if (need <= *cap)
		return true;
	size_t bigger = *cap ? *cap * 2 : first;
	while (bigger < need)
		bigger *= 2;
	if (bigger > SIZE_MAX / size)
		return false;
	void *old, *grown;
	/* memcpy, not a cast to void **: the pointer may be of any type. */
	memcpy(&old, array_ptr, sizeof old);
	if (!(grown = realloc(old, bigger * size)))
		return false;
	memcpy(array_ptr, &grown, sizeof grown);
	*cap = bigger;
	return true;
}

/* grow_array_from 16 elements:
 *
 *     if (!grow_array(&conns, &conns_cap, n + 1, sizeof *conns))
 *             return -ENOMEM; */
static inline bool grow_array(void *array_ptr, size_t *cap, size_t need, size_t size)
{
	return grow_array_from(array_ptr, cap, need, size, 16);
}

/* The same for a byte buffer. */
static inline bool grow_bytes(char **buf, size_t *cap, size_t need, size_t first)
{
	return grow_array_from(buf, cap, need, 1, first);
}

#endif
