/* series.c - the lock-free shared series table; see series.h for the contract. */
#include "shmring/series.h"

#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define SERIES_TABLE_MAGIC UINT64_C(0x53454952534e4f4d) /* "MONSRIES" */
#define RECORD_ALIGN	   8
#define ARENA_START	   8 /* offset 0 means "empty slot", so records start after it */

/* The table as laid out in shared memory: this header, then slot_count
 * atomic offsets, then the name arena.  Every field after init is either
 * constant or atomic. */
struct series_table {
	uint64_t magic;
	uint32_t capacity;
	uint32_t slot_count; /* power of two, >= 2 * capacity: probes stay short */
	uint64_t arena_size;
	alignas(64) _Atomic uint64_t arena_used;
	_Atomic uint32_t count;
	_Atomic uint64_t full_errors;
	_Atomic uint64_t collisions;
	alignas(64) _Atomic uint64_t slots[];
};

/* One name in the arena; never changes once its offset is published. */
struct series_record {
	uint64_t id;
	uint32_t len;
	char name[]; /* len bytes and a NUL */
};

/* ---- the shared table ---- */

static uint32_t slot_count_for(uint32_t capacity)
{
	uint32_t n = 16;
	while (n < 2 * capacity)
		n *= 2;
	return n;
}

static uint64_t arena_bytes_for(uint32_t capacity, uint32_t name_bytes)
{
	uint64_t bytes = name_bytes ? name_bytes : (uint64_t)capacity * 128;
	return (bytes + ARENA_START + 63) & ~UINT64_C(63);
}

size_t series_table_size(uint32_t capacity, uint32_t name_bytes)
{
	return sizeof(struct series_table) + (size_t)slot_count_for(capacity) * sizeof(uint64_t) +
	       arena_bytes_for(capacity, name_bytes);
}

static char *arena(struct series_table *t)
{
	return (char *)&t->slots[t->slot_count];
}

struct series_table *series_table_init(void *mem, uint32_t capacity, uint32_t name_bytes)
{
	struct series_table *t = mem;
	t->capacity = capacity;
	t->slot_count = slot_count_for(capacity);
	t->arena_size = arena_bytes_for(capacity, name_bytes);
	atomic_store_explicit(&t->arena_used, ARENA_START, memory_order_relaxed);
	/* The creator publishes the whole segment (with its own release store of
	 * the ring's magic) before anyone attaches, so relaxed is enough here. */
	t->magic = SERIES_TABLE_MAGIC;
	return t;
}

int series_table_attach(void *mem, size_t size, struct series_table **out, struct err *e)
{
	struct series_table *t = mem;
	if (size < sizeof *t || t->magic != SERIES_TABLE_MAGIC)
		return err_set(e, -EPROTO, "series table: bad magic, not a series table");
	if (t->slot_count != slot_count_for(t->capacity) ||
	    size != sizeof *t + (size_t)t->slot_count * sizeof(uint64_t) + t->arena_size)
		return err_set(e, -EPROTO,
			       "series table: sizes disagree (capacity %u, %u slots, %llu arena "
			       "bytes, %zu bytes mapped)",
			       t->capacity, t->slot_count, (unsigned long long)t->arena_size, size);
	*out = t;
	return 0;
}

/* Returns the record at a published offset, or NULL when the offset or the
 * record's length would reach outside the arena (a corrupted segment must
 * not make us read out of bounds). */
static const struct series_record *record_at(struct series_table *t, uint64_t off)
{
	if (off < ARENA_START || off + sizeof(struct series_record) > t->arena_size)
		return NULL;
	const struct series_record *r = (const void *)(arena(t) + off);
	if (off + sizeof *r + r->len + 1 > t->arena_size)
		return NULL;
	return r;
}

static uint64_t record_bytes(size_t len)
{
	return (sizeof(struct series_record) + len + 1 + RECORD_ALIGN - 1) &
	       ~(uint64_t)(RECORD_ALIGN - 1);
}

/* Copies a record into the arena; returns its offset, or 0 when full. */
static uint64_t record_alloc(struct series_table *t, uint64_t id, const char *name, size_t len)
{
	uint64_t need = record_bytes(len);
	/* The cursor hands out disjoint ranges; the record's contents are
	 * published later by the release CAS of its offset.  Acquire pairs with
	 * the release of a range given back (insert_id), so the writes of its
	 * previous user happen before ours. */
	uint64_t off = atomic_fetch_add_explicit(&t->arena_used, need, memory_order_acquire);
	if (off + need > t->arena_size)
		return 0;
	struct series_record *r = (void *)(arena(t) + off);
	r->id = id;
	r->len = (uint32_t)len;
	memcpy(r->name, name, len);
	r->name[len] = '\0';
	return off;
}

static int table_full(struct series_table *t, struct err *e)
{
	atomic_fetch_add_explicit(&t->full_errors, 1, memory_order_relaxed);
	return err_set(
	    e, -ENOSPC,
	    "series table full (%u series, %llu name bytes): raise the series capacity of the ring",
	    t->capacity, (unsigned long long)t->arena_size);
}

static int insert_id(struct series_table *t, const char *name, size_t len, uint64_t id,
		     struct err *e)
{
	uint32_t mask = t->slot_count - 1;
	uint64_t mine = 0;
	if (len == 0 || len > SERIES_NAME_MAX)
		return err_set(e, -EINVAL, "series name of %zu bytes (1 to %d allowed)", len,
			       SERIES_NAME_MAX);
	for (uint32_t probe = 0; probe < t->slot_count; probe++) {
		_Atomic uint64_t *slot = &t->slots[(id + probe) & mask];
		/* Acquire pairs with the release CAS below: seeing an offset
		 * means seeing the record written before it was published. */
		uint64_t off = atomic_load_explicit(slot, memory_order_acquire);
		if (off == 0 &&
		    atomic_load_explicit(&t->count, memory_order_acquire) >= t->capacity) {
			/* Full, unless the name that filled it is ours, published
			 * since we looked: the acquire above pairs with the
			 * release increment after that CAS, so a second look at
			 * the slot sees it. */
			off = atomic_load_explicit(slot, memory_order_acquire);
			if (off == 0)
				return table_full(t, e);
		}
		if (off == 0) {
			if (!mine && !(mine = record_alloc(t, id, name, len)))
				return table_full(t, e);
			if (atomic_compare_exchange_strong_explicit(
				slot, &off, mine, memory_order_release, memory_order_acquire)) {
				/* Release: see the capacity check above. */
				atomic_fetch_add_explicit(&t->count, 1, memory_order_release);
				return 0;
			}
			/* Lost the race for this slot: off now holds the winner's
			 * record, which may be our very name.  Our record leaks. */
		}
		const struct series_record *r = record_at(t, off);
		if (!r)
			return err_set(e, -EPROTO, "series table corrupted at slot %u",
				       (unsigned)((id + probe) & mask));
		if (r->id != id)
			continue;
		if (r->len == len && memcmp(r->name, name, len) == 0) {
			/* Someone published this name first.  If our unused record
			 * is still the arena's last, give its bytes back. */
			uint64_t end = mine + record_bytes(len);
			if (mine)
				atomic_compare_exchange_strong_explicit(&t->arena_used, &end, mine,
									memory_order_release,
									memory_order_relaxed);
			return 0;
		}
		atomic_fetch_add_explicit(&t->collisions, 1, memory_order_relaxed);
		return err_set(
		    e, -EEXIST,
		    "series id %016llx of '%.*s' is already taken by '%s'; refusing to merge them",
		    (unsigned long long)id, (int)len, name, r->name);
	}
	return table_full(t, e);
}

int series_insert(struct series_table *t, const char *name, size_t len, uint64_t *id, struct err *e)
{
	*id = series_id(name, len);
	return insert_id(t, name, len, *id, e);
}

#ifdef RMON_TESTING
int series_insert_with_id(struct series_table *t, const char *name, size_t len, uint64_t forced_id,
			  struct err *e)
{
	return insert_id(t, name, len, forced_id, e);
}
#endif

int series_lookup(struct series_table *t, uint64_t id, const char **name)
{
	uint32_t mask = t->slot_count - 1;
	for (uint32_t probe = 0; probe < t->slot_count; probe++) {
		uint64_t off =
		    atomic_load_explicit(&t->slots[(id + probe) & mask], memory_order_acquire);
		if (off == 0)
			return -ENOENT;
		const struct series_record *r = record_at(t, off);
		if (!r)
			return -EPROTO;
		if (r->id == id) {
			*name = r->name;
			return (int)r->len;
		}
	}
	return -ENOENT;
}

void series_table_stats(struct series_table *t, struct series_table_stats *out)
{
	uint64_t used = atomic_load_explicit(&t->arena_used, memory_order_relaxed);
	out->capacity = t->capacity;
	out->count = atomic_load_explicit(&t->count, memory_order_relaxed);
	out->full_errors = atomic_load_explicit(&t->full_errors, memory_order_relaxed);
	out->collisions = atomic_load_explicit(&t->collisions, memory_order_relaxed);
	out->arena_used = used < t->arena_size ? used : t->arena_size;
	out->arena_size = t->arena_size;
}
