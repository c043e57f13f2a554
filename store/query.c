/* query.c - the readers' handle: opening the store read-only, the snapshot
 * a caller holds across calls, series listing in name order, label
 * values and the store's counters; see query.h.  Selectors live in
 * query_selector.c, sample reads and aggregates in query_range.c, the
 * wait, the changes and the latest values in query_follow.c. */
#include "store/query_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/fault.h"
#include "lib/series_name.h"
#include "store/layout.h"

/* ---- opening ---- */

int query_lmdb_error(struct query *q, struct err *e, int rc, const char *what)
{
	return lmdb_env_error(e, rc, what, q->le.dir);
}

int query_open(const char *data_dir, struct query **out, struct err *e)
{
	struct query *q = FAULT("query.alloc") ? NULL : calloc(1, sizeof *q);
	int rc;
	if (!q)
		return err_set(e, -ENOMEM, "store %s: out of memory", data_dir);
	snprintf(q->data_dir, sizeof q->data_dir, "%s", data_dir);
	char dir[4200], path[4300];
	snprintf(dir, sizeof dir, "%s/db", data_dir);
	snprintf(path, sizeof path, "%s/data.mdb", dir);
	struct stat st;
	if (stat(path, &st) != 0) {
		rc = err_set(e, -ENOENT, "no store in %s (start rmon-stored --data %s first)",
			     data_dir, data_dir);
		goto fail;
	}
	if ((rc = lmdb_env_open(&q->le, dir, true, 0, e)) != 0)
		goto fail;
	if (q->le.version != LAYOUT_VERSION) {
		rc = err_set(e, -EPROTO,
			     "store %s has layout version %llu, this program reads version %d%s",
			     dir, (unsigned long long)q->le.version, LAYOUT_VERSION,
			     q->le.version < LAYOUT_VERSION
				 ? " (start this version's rmon-stored once to upgrade it)"
				 : " (use the programs of the rmon-stored that wrote it)");
		goto fail;
	}
	/* Absent only until the writer of this version ran: query_wait says so. */
	struct err ignored = { 0 };
	commit_signal_open(dir, &q->signal, &ignored);
	*out = q;
	return 0;
fail:
	query_close(q);
	return rc;
}

void query_close(struct query *q)
{
	if (!q)
		return;
	query_end(q);
	lmdb_env_close(&q->le);
	commit_signal_close(q->signal);
	free(q->ids);
	free(q->seen);
	free(q);
}

/* ---- snapshots ---- */

int query_snapshot(struct query *q, MDB_txn **txn, struct err *e)
{
	if (q->held) {
		*txn = q->held;
		return 0;
	}
	return lmdb_env_begin_read(&q->le, txn, e);
}

void query_done(struct query *q, MDB_txn *txn)
{
	if (txn && txn != q->held)
		lmdb_env_end_read(&q->le, txn);
}

int query_begin(struct query *q, struct err *e)
{
	if (q->held)
		return err_set(e, -EBUSY, "store %s: a snapshot is held already (query_end it)",
			       q->le.dir);
	MDB_txn *txn;
	int rc = lmdb_env_begin_read(&q->le, &txn, e);
	if (rc)
		return rc;
	q->held = txn;
	q->held_seq = lmdb_env_meta(&q->le, txn, "seq");
	return 0;
}

void query_end(struct query *q)
{
	if (q->held)
		lmdb_env_end_read(&q->le, q->held);
	q->held = NULL;
}

uint64_t query_sequence(struct query *q)
{
	if (q->held)
		return q->held_seq;
	MDB_txn *txn;
	if (lmdb_env_begin_read(&q->le, &txn, NULL) != 0)
		return 0;
	uint64_t seq = lmdb_env_meta(&q->le, txn, "seq");
	lmdb_env_end_read(&q->le, txn);
	return seq;
}

/* ---- listing ---- */

/* Walks the names (by_name: in byte order) that match sel, starting at
 * the host's first name when sel names one host. */
static int walk_names(struct query *q, MDB_txn *txn, const struct query_selector *sel,
		      query_series_fn fn, void *ctx, struct err *e)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = FAULT("query.read");
	if (rc == 0)
		rc = mdb_cursor_open(txn, q->le.dbi[LAYOUT_DB_BY_NAME], &cur);
	if (rc)
		return query_lmdb_error(q, e, rc, "cannot list series");
	const char *host = query_selector_host(sel);
	char prefix[SERIES_NAME_MAX + 2];
	size_t prefix_len = host ? (size_t)snprintf(prefix, sizeof prefix, "%s/", host) : 0;
	if (prefix_len >= sizeof prefix)
		prefix_len = 0;
	k = (MDB_val){ prefix_len, prefix };
	int got = prefix_len ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)
			     : mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	int result = 0;
	for (; got == 0 && result == 0; got = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (prefix_len && (k.mv_size < prefix_len || memcmp(k.mv_data, prefix, prefix_len)))
			break;
		if (v.mv_size != 8)
			continue;
		MDB_val name = k;
		if (k.mv_size > LAYOUT_NAME_KEY_MAX && /* a cut name: the whole one */
		    mdb_get(txn, q->le.dbi[LAYOUT_DB_NAMES], &v, &name) != 0)
			continue;
		/* A name stored before the rules (or by a bug) is never handed out. */
		if (series_name_check(name.mv_data, name.mv_size, NULL) != 0)
			q->bad_names++;
		else if (query_selector_match(sel, name.mv_data, name.mv_size))
			result = fn(ctx, layout_get_be64(v.mv_data), name.mv_data, name.mv_size);
	}
	mdb_cursor_close(cur);
	if (result == 0 && got != 0 && got != MDB_NOTFOUND)
		result = query_lmdb_error(q, e, got, "cannot list series");
	return result;
}

int query_series(struct query *q, const struct query_selector *sel, query_series_fn fn, void *ctx,
		 struct err *e)
{
	MDB_txn *txn;
	int rc = query_snapshot(q, &txn, e);
	if (rc)
		return rc;
	q->bad_names = 0;
	rc = walk_names(q, txn, sel, fn, ctx, e);
	query_done(q, txn);
	return rc;
}

uint64_t query_bad_names(const struct query *q)
{
	return q->bad_names;
}

int query_series_name(struct query *q, uint64_t id, char *buf, size_t cap, struct err *e)
{
	MDB_txn *txn;
	int rc = query_snapshot(q, &txn, e);
	if (rc)
		return rc;
	uint8_t key[8];
	layout_put_be64(key, id);
	MDB_val k = { sizeof key, key }, v;
	rc = mdb_get(txn, q->le.dbi[LAYOUT_DB_NAMES], &k, &v);
	if (rc == MDB_NOTFOUND)
		rc = err_set(e, -ENOENT, "store %s: no series has id %016llx", q->le.dir,
			     (unsigned long long)id);
	else if (rc)
		rc = query_lmdb_error(q, e, rc, "cannot read names");
	else if (series_name_check(v.mv_data, v.mv_size, NULL) != 0)
		rc =
		    err_set(e, -EILSEQ, "store %s: series %016llx has a name that breaks the rules",
			    q->le.dir, (unsigned long long)id);
	else if (v.mv_size >= cap)
		rc = err_set(e, -ENAMETOOLONG, "series name of %zu bytes, room for %zu", v.mv_size,
			     cap);
	else {
		memcpy(buf, v.mv_data, v.mv_size);
		buf[v.mv_size] = '\0';
		rc = (int)v.mv_size;
	}
	query_done(q, txn);
	return rc;
}

/* ---- label values ---- */

struct value_count {
	char *value;
	size_t len, series;
};

struct values {
	const char *label;
	struct value_count *v;
	size_t n, cap;
	int rc;
};

static int collect_value(void *ctx, uint64_t id, const char *name, size_t len)
{
	struct values *vs = ctx;
	char buf[SERIES_NAME_MAX + 1];
	(void)id;
	if (!query_name_label(name, len, vs->label, buf, sizeof buf))
		return 0;
	size_t value_len = strlen(buf);
	/* Series in name order bring a host's values together, so the value
	 * seen last is the one met again most often. */
	for (size_t i = vs->n; i-- > 0 && i + 8 >= vs->n;)
		if (vs->v[i].len == value_len && memcmp(vs->v[i].value, buf, value_len) == 0)
			return vs->v[i].series++, 0;
	if (vs->n == vs->cap) {
		size_t cap = vs->cap ? vs->cap * 2 : 64;
		struct value_count *grown = realloc(vs->v, cap * sizeof *grown);
		if (!grown)
			return -ENOMEM;
		vs->v = grown;
		vs->cap = cap;
	}
	if (!(vs->v[vs->n].value = malloc(value_len + 1)))
		return -ENOMEM;
	memcpy(vs->v[vs->n].value, buf, value_len + 1);
	vs->v[vs->n].len = value_len;
	vs->v[vs->n++].series = 1;
	return 0;
}

static int compare_values(const void *a, const void *b)
{
	const struct value_count *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->value, y->value, n);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

int query_label_values(struct query *q, const struct query_selector *sel, const char *label,
		       query_value_fn fn, void *ctx, struct err *e)
{
	if (!label || !*label)
		return err_set(e, -EINVAL, "label values: the label name is empty");
	struct values vs = { label, NULL, 0, 0, 0 };
	int rc = query_series(q, sel, collect_value, &vs, e);
	if (rc == -ENOMEM)
		err_set(e, rc, "label values of %s: out of memory", label);
	size_t kept = 0;
	if (rc == 0 && vs.n > 0) {
		/* The look-back above misses repeats far apart: merge them. */
		qsort(vs.v, vs.n, sizeof *vs.v, compare_values);
		for (size_t i = 0; i < vs.n; i++) {
			if (kept > 0 && compare_values(&vs.v[kept - 1], &vs.v[i]) == 0) {
				vs.v[kept - 1].series += vs.v[i].series;
				free(vs.v[i].value);
			} else {
				vs.v[kept++] = vs.v[i];
			}
		}
		vs.n = kept;
	}
	for (size_t i = 0; rc == 0 && i < vs.n; i++)
		rc = fn(ctx, vs.v[i].value, vs.v[i].len, vs.v[i].series);
	for (size_t i = 0; i < vs.n; i++)
		free(vs.v[i].value);
	free(vs.v);
	return rc;
}

/* ---- the store as a whole ---- */

int query_get_stats(struct query *q, struct query_stats *out, struct err *e)
{
	MDB_txn *txn;
	MDB_stat st;
	memset(out, 0, sizeof *out);
	int rc = query_snapshot(q, &txn, e);
	if (rc)
		return rc;
	if ((rc = mdb_stat(txn, q->le.dbi[LAYOUT_DB_NAMES], &st)) == 0)
		out->series = st.ms_entries;
	if (rc == 0 && (rc = mdb_stat(txn, q->le.dbi[LAYOUT_DB_CHUNKS], &st)) == 0)
		out->chunk_bytes =
		    (uint64_t)(st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages) *
		    st.ms_psize;
	out->samples = lmdb_env_meta(&q->le, txn, "samples");
	out->duplicates = lmdb_env_meta(&q->le, txn, "duplicates");
	out->out_of_order = lmdb_env_meta(&q->le, txn, "out_of_order");
	out->applied_position = lmdb_env_meta(&q->le, txn, "applied");
	out->sequence = lmdb_env_meta(&q->le, txn, "seq");
	query_done(q, txn);
	if (rc)
		return query_lmdb_error(q, e, rc, "cannot read statistics");
	char path[4200];
	struct stat fst;
	snprintf(path, sizeof path, "%s/data.mdb", q->le.dir);
	if (stat(path, &fst) == 0)
		out->file_bytes = (uint64_t)fst.st_blocks * 512;
	struct err ignored = { 0 };
	if (q->signal || commit_signal_open(q->le.dir, &q->signal, &ignored) == 0) {
		uint32_t state = commit_signal_state(q->signal);
		out->db_full = state & COMMIT_SIGNAL_DB_FULL;
		out->wal_full = state & COMMIT_SIGNAL_WAL_FULL;
	}
	return 0;
}
