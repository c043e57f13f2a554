/* changes.c - the records of which series each commit changed; see
 * changes.h and layout.h. */
#include "store/changes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/layout.h"

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

int changes_put(struct changes *c, struct lmdb_env *le, MDB_txn *txn, uint64_t seq,
		uint32_t n_ordinals, int64_t now_ns)
{
	size_t list = c->n * 4, bitmap = ((size_t)n_ordinals + 7) / 8;
	size_t len = LAYOUT_CHANGES_HEADER + (list <= bitmap ? list : bitmap);
	if (len > c->record_cap) {
		uint8_t *grown = realloc(c->record, len);
		if (!grown)
			return ENOMEM;
		c->record = grown;
		c->record_cap = len;
	}
	uint8_t *r = c->record;
	memcpy(r, &now_ns, 8);
	r[8] = list <= bitmap ? LAYOUT_CHANGES_LIST : LAYOUT_CHANGES_BITMAP;
	if (list <= bitmap) {
		if (list > 0) /* ordinals may be NULL */
			memcpy(r + LAYOUT_CHANGES_HEADER, c->ordinals, list);
	} else {
		memset(r + LAYOUT_CHANGES_HEADER, 0, bitmap);
		for (size_t i = 0; i < c->n; i++)
			r[LAYOUT_CHANGES_HEADER + c->ordinals[i] / 8] |=
			    (uint8_t)(1u << (c->ordinals[i] % 8));
	}
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
	if (record[8] == LAYOUT_CHANGES_BITMAP && n <= (n_ordinals + 7) / 8) {
		for (size_t i = 0; i < n; i++)
			bitmap[i] |= p[i];
		return 0;
	}
	return -1;
}
