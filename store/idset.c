/* idset.c - a set of series ids and their places; see idset.h. */
#include "store/idset.h"

#include <errno.h>
#include <stdlib.h>

#include "lib/grow.h"

/* Ids are already hashes (lib/series_name.c): their low bits index. */
static size_t slot_of(const struct idset *s, uint64_t id)
{
	size_t i = (size_t)id & (s->cap - 1);
	while (s->slots[i] != 0 && s->slots[i] != id)
		i = (i + 1) & (s->cap - 1);
	return i;
}

bool idset_has(const struct idset *s, uint64_t id)
{
	return id != 0 && s->cap != 0 && s->slots[slot_of(s, id)] == id;
}

long idset_place(const struct idset *s, uint64_t id)
{
	if (id == 0 || s->cap == 0)
		return -1;
	size_t i = slot_of(s, id);
	return s->slots[i] == id ? (long)s->places[i] : -1;
}

/* Moves every id into a table of cap slots. */
static int rehash(struct idset *s, size_t cap)
{
	struct idset bigger = *s;
	bigger.cap = cap;
	bigger.slots = calloc(cap, sizeof *bigger.slots);
	bigger.places = malloc(cap * sizeof *bigger.places);
	if (!bigger.slots || !bigger.places) {
		free(bigger.slots);
		free(bigger.places);
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->cap; i++)
		if (s->slots[i]) {
			size_t j = slot_of(&bigger, s->slots[i]);
			bigger.slots[j] = s->slots[i];
			bigger.places[j] = s->places[i];
		}
	free(s->slots);
	free(s->places);
	*s = bigger;
	return 0;
}

int idset_add(struct idset *s, uint64_t id)
{
	if (id == 0)
		return -EINVAL;
	if (idset_has(s, id))
		return 0;
	if (s->n >= UINT32_MAX ||
	    !grow_array_from(&s->order, &s->order_cap, s->n + 1, sizeof *s->order, 64))
		return -ENOMEM;
	/* At most half full, so probes stay short. */
	if ((s->n + 1) * 2 > s->cap && rehash(s, s->cap ? s->cap * 2 : 64) != 0)
		return -ENOMEM;
	size_t i = slot_of(s, id);
	s->slots[i] = id;
	s->places[i] = (uint32_t)s->n;
	s->order[s->n++] = id;
	return 1;
}

void idset_free(struct idset *s)
{
	free(s->slots);
	free(s->places);
	free(s->order);
	*s = (struct idset){ 0 };
}
