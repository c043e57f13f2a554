/* drawn.c - the signatures of the graphs drawn (see drawn.h): an open
 * addressing table of (hash of the file's path, signature, grid end),
 * saved as a flat file of those triples behind a magic word. */
#include "reportgen/drawn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reportgen/outfile.h"

#define DRAWN_MAGIC 0x726d6f6e64727732ull /* "rmondrw2" */

struct slot {
	uint64_t key, sig; /* key 0: empty */
	int64_t grid_end;
};

struct drawn {
	char *path;
	struct slot *slots;
	size_t cap, used; /* cap: a power of two */
	bool dirty;
};

uint64_t drawn_hash(uint64_t h, const void *p, size_t len)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint64_t key_of(const char *key)
{
	uint64_t h = drawn_hash(DRAWN_HASH_START, key, strlen(key));
	return h ? h : 1;
}

static struct slot *find(const struct drawn *d, uint64_t key)
{
	size_t i = (size_t)(key ^ (key >> 29)) & (d->cap - 1);
	while (d->slots[i].key && d->slots[i].key != key)
		i = (i + 1) & (d->cap - 1);
	return &d->slots[i];
}

static int put(struct drawn *d, uint64_t key, uint64_t sig, int64_t grid_end)
{
	if ((d->used + 1) * 4 > d->cap * 3) {
		struct drawn bigger = { .cap = d->cap ? d->cap * 2 : 1024 };
		if (!(bigger.slots = calloc(bigger.cap, sizeof *bigger.slots)))
			return -ENOMEM;
		for (size_t i = 0; i < d->cap; i++)
			if (d->slots[i].key)
				*find(&bigger, d->slots[i].key) = d->slots[i];
		free(d->slots);
		d->slots = bigger.slots;
		d->cap = bigger.cap;
	}
	struct slot *s = find(d, key);
	if (!s->key)
		d->used++;
	if (s->key != key || s->sig != sig || s->grid_end != grid_end)
		d->dirty = true;
	*s = (struct slot){ key, sig, grid_end };
	return 0;
}

int drawn_open(const char *path, struct drawn **out, struct err *e)
{
	struct drawn *d = calloc(1, sizeof *d);
	if (!d || !(d->path = strdup(path))) {
		free(d);
		return err_set(e, -ENOMEM, "out of memory for the graphs' state %s", path);
	}
	FILE *f = fopen(path, "rb");
	uint64_t t[3];
	if (f && fread(t, sizeof t[0], 1, f) == 1 && t[0] == DRAWN_MAGIC) {
		while (fread(t, sizeof t, 1, f) == 1)
			if (t[0] && put(d, t[0], t[1], (int64_t)t[2]) != 0) {
				fclose(f);
				drawn_free(d);
				return err_set(e, -ENOMEM, "out of memory reading %s", path);
			}
	}
	if (f)
		fclose(f);
	d->dirty = false;
	*out = d;
	return 0;
}

void drawn_free(struct drawn *d)
{
	if (!d)
		return;
	free(d->slots);
	free(d->path);
	free(d);
}

bool drawn_same(const struct drawn *d, const char *key, uint64_t sig, int64_t grid_end,
		int64_t min_move)
{
	if (!d->cap)
		return false;
	uint64_t k = key_of(key);
	const struct slot *s = find(d, k);
	return s->key == k && s->sig == sig && grid_end >= s->grid_end &&
	       grid_end - s->grid_end < min_move;
}

int drawn_set(struct drawn *d, const char *key, uint64_t sig, int64_t grid_end)
{
	return put(d, key_of(key), sig, grid_end);
}

int drawn_save(struct drawn *d, struct err *e)
{
	if (!d->dirty)
		return 0;
	size_t n = 1 + 3 * d->used, o = 1;
	uint64_t *buf = malloc(n * sizeof *buf);
	if (!buf)
		return err_set(e, -ENOMEM, "out of memory writing %s", d->path);
	buf[0] = DRAWN_MAGIC;
	for (size_t i = 0; i < d->cap; i++)
		if (d->slots[i].key) {
			buf[o++] = d->slots[i].key;
			buf[o++] = d->slots[i].sig;
			buf[o++] = (uint64_t)d->slots[i].grid_end;
		}
	int rc = outfile_write(d->path, buf, o * sizeof *buf, NULL, e);
	free(buf);
	if (rc == 0)
		d->dirty = false;
	return rc;
}
