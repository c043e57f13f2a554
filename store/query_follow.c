/* query_follow.c - following the writer: waiting for its next commit,
 * the series changed since a commit sequence, and the latest sample of
 * many series, all without decoding a chunk; see query.h and, for the
 * records read here, layout.h. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fault.h"
#include "store/changes.h"
#include "store/latest.h"
#include "store/layout.h"
#include "store/query_private.h"

int query_wait(struct query *q, uint64_t after_seq, int timeout_ms, uint64_t *seq, struct err *e)
{
	uint64_t got;
	if (!q->signal) {
		/* The writer may have created it since the handle was opened. */
		struct err ignored = { 0 };
		if (commit_signal_open(q->le.dir, &q->signal, &ignored) != 0)
			return err_set(e, -ENOENT,
				       "store %s publishes no commits (%s): is its rmon-stored of "
				       "this version?",
				       q->le.dir, ignored.msg);
	}
	int rc = commit_signal_wait(q->signal, after_seq, timeout_ms, &got);
	if (rc == -ETIMEDOUT)
		return err_set(e, rc, "store %s: no commit after %llu within %d ms", q->le.dir,
			       (unsigned long long)after_seq, timeout_ms);
	if (rc == -EINTR)
		return err_set(e, rc, "store %s: waiting interrupted by a signal", q->le.dir);
	if (seq)
		*seq = got;
	return 0;
}

/* ---- changed series ---- */

/* Extends the ordinal -> id cache to the snapshot's series: the ordinals
 * only grow, so only new ones are read. */
static int load_ids(struct query *q, MDB_txn *txn, struct err *e)
{
	MDB_stat st;
	int rc = mdb_stat(txn, q->le.dbi[LAYOUT_DB_ORDINALS], &st);
	if (rc)
		return query_lmdb_error(q, e, rc, "cannot read ordinals");
	if (st.ms_entries <= q->n_ids)
		return 0;
	if (st.ms_entries > q->ids_cap) {
		size_t cap = st.ms_entries + st.ms_entries / 4 + 64;
		uint64_t *grown =
		    FAULT("query.alloc") ? NULL : realloc(q->ids, cap * sizeof *grown);
		if (!grown)
			return err_set(e, -ENOMEM, "store %s: out of memory for %zu series",
				       q->le.dir, cap);
		q->ids = grown;
		q->ids_cap = cap;
	}
	MDB_cursor *cur;
	if ((rc = mdb_cursor_open(txn, q->le.dbi[LAYOUT_DB_ORDINALS], &cur)))
		return query_lmdb_error(q, e, rc, "cannot read ordinals");
	uint8_t key[4] = { (uint8_t)(q->n_ids >> 24), (uint8_t)(q->n_ids >> 16),
			   (uint8_t)(q->n_ids >> 8), (uint8_t)q->n_ids };
	MDB_val k = { sizeof key, key }, v;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *kb = k.mv_data;
		uint32_t ordinal =
		    (uint32_t)kb[0] << 24 | (uint32_t)kb[1] << 16 | (uint32_t)kb[2] << 8 | kb[3];
		/* Ordinals are dense and written in order; a gap is damage. */
		if (k.mv_size != 4 || v.mv_size != 8 || ordinal != q->n_ids ||
		    q->n_ids >= q->ids_cap)
			break;
		memcpy(&q->ids[q->n_ids++], v.mv_data, 8);
	}
	mdb_cursor_close(cur);
	if (q->n_ids < st.ms_entries)
		return err_set(e, -EIO, "store %s: the series ordinals are damaged at %zu",
			       q->le.dir, q->n_ids);
	return 0;
}

static int read_changes(struct query *q, MDB_txn *txn, uint64_t since, query_id_fn fn, void *ctx,
			struct err *e)
{
	uint64_t floor = lmdb_env_meta(&q->le, txn, "changes_floor");
	if (since < floor)
		return err_set(e, -ESTALE,
			       "store %s: the changes after commit %llu are no longer kept (the "
			       "oldest kept follow %llu): read everything again",
			       q->le.dir, (unsigned long long)since, (unsigned long long)floor);
	int rc = load_ids(q, txn, e);
	if (rc)
		return rc;
	size_t bytes = (q->n_ids + 7) / 8;
	if (bytes > q->seen_cap) {
		uint8_t *grown = realloc(q->seen, bytes);
		if (!grown)
			return err_set(e, -ENOMEM, "store %s: out of memory", q->le.dir);
		q->seen = grown;
		q->seen_cap = bytes;
	}
	if (bytes) /* a store with no series yet has no table to clear */
		memset(q->seen, 0, bytes);
	MDB_cursor *cur;
	if ((rc = mdb_cursor_open(txn, q->le.dbi[LAYOUT_DB_CHANGES], &cur)))
		return query_lmdb_error(q, e, rc, "cannot read changes");
	uint8_t key[8];
	layout_put_be64(key, since + 1);
	MDB_val k = { sizeof key, key }, v;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8 || changes_mark(v.mv_data, v.mv_size, q->seen, q->n_ids) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc == 0)
		return err_set(e, -EIO, "store %s: a damaged change record at commit %llu",
			       q->le.dir, (unsigned long long)layout_get_be64(k.mv_data));
	if (rc != MDB_NOTFOUND)
		return query_lmdb_error(q, e, rc, "cannot read changes");
	int result = 0;
	for (size_t i = 0; i < bytes && result == 0; i++)
		for (uint8_t b = q->seen[i]; b && result == 0; b &= (uint8_t)(b - 1))
			result = fn(ctx, q->ids[i * 8 + (size_t)__builtin_ctz(b)]);
	return result;
}

int query_changed(struct query *q, uint64_t since_seq, query_id_fn fn, void *ctx, struct err *e)
{
	MDB_txn *txn;
	int rc = query_snapshot(q, &txn, e);
	if (rc)
		return rc;
	rc = read_changes(q, txn, since_seq, fn, ctx, e);
	query_done(q, txn);
	return rc;
}

/* ---- latest values ---- */

#define ORDER_BITS 12

/* The order to look ids up in: by their ORDER_BITS bits below the
 * highest one in which they differ (one counting pass).  Neighbours in
 * that order mostly sit on the same LMDB leaf page, where a cursor finds
 * them without descending from the root again. */
static size_t *lookup_order(const uint64_t *ids, size_t n)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	for (size_t i = 0; i < n; i++) {
		lo = ids[i] < lo ? ids[i] : lo;
		hi = ids[i] > hi ? ids[i] : hi;
	}
	int width = n ? 64 - __builtin_clzll((hi - lo) | 1) : 1;
	int shift = width > ORDER_BITS ? width - ORDER_BITS : 0;
	size_t *order = FAULT("query.alloc") ? NULL : malloc((n ? n : 1) * sizeof *order);
	size_t *start = calloc((1u << ORDER_BITS) + 1, sizeof *start);
	if (order && start) {
		for (size_t i = 0; i < n; i++)
			start[((ids[i] - lo) >> shift) + 1]++;
		for (size_t b = 1; b <= 1u << ORDER_BITS; b++)
			start[b] += start[b - 1];
		for (size_t i = 0; i < n; i++)
			order[start[(ids[i] - lo) >> shift]++] = i;
	} else {
		free(order);
		order = NULL;
	}
	free(start);
	return order;
}

/* A few ids are put in order in place: the bucket table (32 KiB) would
 * cost more than it saves, and reportgen and rmon stats ask for one. */
#define FEW_IDS 32

static void order_few(const uint64_t *ids, size_t n, size_t *order)
{
	for (size_t i = 0; i < n; i++) {
		size_t j = i;
		for (; j > 0 && ids[order[j - 1]] > ids[i]; j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
}

static int read_latest(struct query *q, MDB_txn *txn, const uint64_t *ids, size_t n,
		       struct query_latest *out, struct err *e)
{
	size_t few[FEW_IDS];
	size_t *order = n <= FEW_IDS ? few : lookup_order(ids, n);
	if (n <= FEW_IDS)
		order_few(ids, n, few);
	MDB_cursor *cur = NULL;
	if (!order)
		return err_set(e, -ENOMEM, "store %s: out of memory for %zu series", q->le.dir, n);
	int rc = FAULT("query.read");
	if (rc == 0)
		rc = mdb_cursor_open(txn, q->le.dbi[LAYOUT_DB_LATEST], &cur);
	for (size_t i = 0; i < n && rc == 0; i++) {
		size_t at = order[i];
		uint64_t key = ids[at];
		MDB_val k = { sizeof key, &key }, v;
		int got = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
		if (got != 0 && got != MDB_NOTFOUND)
			rc = got;
		latest_to_query(got == 0 ? &v : NULL, &out[at]);
	}
	if (cur) /* NULL when it could not be opened */
		mdb_cursor_close(cur);
	if (order != few)
		free(order);
	return rc ? query_lmdb_error(q, e, rc, "cannot read the latest values") : 0;
}

int query_latest(struct query *q, const uint64_t *ids, size_t n, struct query_latest *out,
		 struct err *e)
{
	MDB_txn *txn;
	int rc = query_snapshot(q, &txn, e);
	if (rc)
		return rc;
	rc = read_latest(q, txn, ids, n, out, e);
	query_done(q, txn);
	return rc;
}
