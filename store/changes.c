/* changes.c - the records of which series each commit changed; see
 * changes.h and layout.h. */
#include "store/changes.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "store/layout.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "change records are written as little-endian words");

int changes_add(struct changes *c, uint32_t ordinal)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 1024;
		uint32_t *grown = realloc(c->ordinals, cap * sizeof *grown);
		if (!grown)
			return ENOMEM;
		c->ordinals = grown;
		c->cap = cap;
	}
	c->ordinals[c->n++] = ordinal;
	return 0;
}

/* Room for need bytes in *buf (capacity *cap); false when out of memory. */
static bool room(void **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return true;
	void *grown = realloc(*buf, need);
	if (!grown)
		return false;
	*buf = grown;
	*cap = need;
	return true;
}

/* The number of runs of set bits in words[0..n): the bits set whose
 * lower neighbour is clear.  A word at a time: a commit's transaction of
 * 16,384 series sets bits scattered over all the ordinals, and testing
 * them bit by bit took a tenth of the commit's thread. */
static size_t count_runs(const uint64_t *words, size_t n)
{
	size_t count = 0;
	uint64_t below = 0; /* the top bit of the word before */
	for (size_t w = 0; w < n; w++) {
		uint64_t x = words[w];
		count += (size_t)__builtin_popcountll(x & ~(x << 1 | below));
		below = x >> 63;
	}
	return count;
}

/* The runs of set bits in words[0..n): counts them, and writes them as
 * (first, count) u32 pairs to out when it is not NULL. */
static size_t runs(const uint64_t *words, size_t n, uint8_t *out)
{
	size_t count = 0;
	uint32_t start = 0;
	bool in_run = false;
	for (size_t w = 0; w < n; w++) {
		uint64_t x = words[w];
		if ((x == 0 && !in_run) || (x == UINT64_MAX && in_run))
			continue;
		for (unsigned b = 0; b < 64; b++) {
			bool set = x >> b & 1;
			uint32_t at = (uint32_t)(w * 64 + b);
			if (set && !in_run)
				start = at, in_run = true;
			else if (!set && in_run) {
				if (out) {
					uint32_t pair[2] = { start, at - start };
					memcpy(out + count * 8, pair, 8);
				}
				count++, in_run = false;
			}
		}
	}
	if (in_run && out) {
		uint32_t pair[2] = { start, (uint32_t)(n * 64) - start };
		memcpy(out + count * 8, pair, 8);
	}
	return count + in_run;
}

int changes_put(struct changes *c, struct lmdb_env *le, MDB_txn *txn, uint64_t seq,
		uint32_t n_ordinals, int64_t now_ns)
{
	for (size_t i = 0; i < c->n; i++) /* none should be past n_ordinals */
		if (c->ordinals[i] >= n_ordinals)
			n_ordinals = c->ordinals[i] + 1;
	size_t words = ((size_t)n_ordinals + 63) / 64;
	if (!room((void **)&c->bits, &c->bits_cap, (words ? words : 1) * 8))
		return ENOMEM;
	memset(c->bits, 0, words * 8);
	for (size_t i = 0; i < c->n; i++)
		c->bits[c->ordinals[i] / 64] |= UINT64_C(1) << (c->ordinals[i] % 64);
	size_t list = c->n * 4, bitmap = ((size_t)n_ordinals + 7) / 8;
	size_t ranges = count_runs(c->bits, words) * 8;
	int kind = list <= bitmap && list <= ranges ? LAYOUT_CHANGES_LIST
		   : ranges < bitmap		    ? LAYOUT_CHANGES_RANGES
						    : LAYOUT_CHANGES_BITMAP;
	size_t body = kind == LAYOUT_CHANGES_LIST     ? list
		      : kind == LAYOUT_CHANGES_RANGES ? ranges
						      : bitmap;
	size_t len = LAYOUT_CHANGES_HEADER + body;
	if (!room((void **)&c->record, &c->record_cap, len))
		return ENOMEM;
	uint8_t *r = c->record;
	memcpy(r, &now_ns, 8);
	r[8] = (uint8_t)kind;
	if (kind == LAYOUT_CHANGES_LIST && list > 0) /* ordinals may be NULL */
		memcpy(r + LAYOUT_CHANGES_HEADER, c->ordinals, list);
	else if (kind == LAYOUT_CHANGES_RANGES)
		runs(c->bits, words, r + LAYOUT_CHANGES_HEADER);
	else if (kind == LAYOUT_CHANGES_BITMAP) /* little-endian words are the bytes */
		memcpy(r + LAYOUT_CHANGES_HEADER, c->bits, bitmap);
	c->n = 0;
	uint8_t key[8];
	layout_put_be64(key, seq);
	MDB_val k = { sizeof key, key }, v = { len, r };
	return mdb_put(txn, le->dbi[LAYOUT_DB_CHANGES], &k, &v, 0);
}

int changes_prune(struct lmdb_env *le, MDB_txn *txn, int64_t cutoff_ns)
{
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t floor = 0;
	int rc = mdb_cursor_open(txn, le->dbi[LAYOUT_DB_CHANGES], &cur);
	if (rc)
		return rc;
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0) {
		int64_t when;
		if (k.mv_size != 8 || v.mv_size < LAYOUT_CHANGES_HEADER)
			break;
		memcpy(&when, v.mv_data, 8);
		if (when >= cutoff_ns)
			break;
		floor = layout_get_be64(k.mv_data);
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	return floor ? lmdb_env_meta_put(le, txn, "changes_floor", floor) : 0;
}

void changes_free(struct changes *c)
{
	free(c->ordinals);
	free(c->bits);
	free(c->record);
	memset(c, 0, sizeof *c);
}

int changes_mark(const uint8_t *record, size_t len, uint8_t *bitmap, size_t n_ordinals)
{
	if (len < LAYOUT_CHANGES_HEADER)
		return -1;
	const uint8_t *p = record + LAYOUT_CHANGES_HEADER;
	size_t n = len - LAYOUT_CHANGES_HEADER;
	if (record[8] == LAYOUT_CHANGES_LIST && n % 4 == 0) {
		for (size_t i = 0; i < n; i += 4) {
			uint32_t ordinal;
			memcpy(&ordinal, p + i, 4);
			if (ordinal >= n_ordinals)
				return -1;
			bitmap[ordinal / 8] |= (uint8_t)(1u << (ordinal % 8));
		}
		return 0;
	}
	if (record[8] == LAYOUT_CHANGES_RANGES && n % 8 == 0) {
		for (size_t i = 0; i < n; i += 8) {
			uint32_t pair[2];
			memcpy(pair, p + i, 8);
			if (pair[0] > n_ordinals || pair[1] > n_ordinals - pair[0])
				return -1;
			for (uint32_t o = pair[0]; o < pair[0] + pair[1]; o++)
				bitmap[o / 8] |= (uint8_t)(1u << (o % 8));
		}
		return 0;
	}
	if (record[8] == LAYOUT_CHANGES_BITMAP && n <= (n_ordinals + 7) / 8) {
		for (size_t i = 0; i < n; i++)
			bitmap[i] |= p[i];
		return 0;
	}
	return -1;
}
