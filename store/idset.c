/* idset.c - a set of series ids; see idset.h. */
#include "store/idset.h"

#include <errno.h>
#include <stdlib.h>

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

/* Moves every id into a table of cap slots. */
static int rehash(struct idset *s, size_t cap)
{
	struct idset bigger = { calloc(cap, sizeof *bigger.slots), s->n, cap };
	if (!bigger.slots)
		return -ENOMEM;
	for (size_t i = 0; i < s->cap; i++)
		if (s->slots[i])
			bigger.slots[slot_of(&bigger, s->slots[i])] = s->slots[i];
	free(s->slots);
	*s = bigger;
	return 0;
}

int idset_add(struct idset *s, uint64_t id)
{
	if (id == 0)
		return -EINVAL;
	if (idset_has(s, id))
		return 0;
	/* At most half full, so probes stay short. */
	if ((s->n + 1) * 2 > s->cap && rehash(s, s->cap ? s->cap * 2 : 64) != 0)
		return -ENOMEM;
	s->slots[slot_of(s, id)] = id;
	s->n++;
	return 1;
}

void idset_free(struct idset *s)
{
	free(s->slots);
	*s = (struct idset){ 0 };
}
