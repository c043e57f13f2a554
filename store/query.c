/* query.c - selectors, series listing, raw reads and aggregated reads of
 * the store, from any process, read-only; see query.h. */
#include "store/query.h"

#include <errno.h>
#include <fnmatch.h>
#include <lmdb.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/codec.h"
#include "store/layout.h"
#include "store/rollup.h"
#include "lib/series_name.h"

struct query {
	MDB_env *env;
	MDB_dbi names, chunks, rollups[2];
	uint64_t bad_names; /* skipped by the last query_series */
	char dir[4096];
};

/* ---- opening ---- */

static int lmdb_error(struct err *e, int rc, const char *what, const char *dir)
{
	return err_set(e, rc > 0 ? -rc : -EIO, "store %s: %s: %s", dir, what, mdb_strerror(rc));
}

/* Begins a read snapshot, adopting a map the writer has grown meanwhile. */
static int begin(struct query *q, MDB_txn **txn, struct err *e)
{
	int rc = mdb_txn_begin(q->env, NULL, MDB_RDONLY, txn);
	if (rc == MDB_MAP_RESIZED) {
		mdb_env_set_mapsize(q->env, 0);
		rc = mdb_txn_begin(q->env, NULL, MDB_RDONLY, txn);
	}
	return rc ? lmdb_error(e, rc, "cannot read", q->dir) : 0;
}

int query_open(const char *data_dir, struct query **out, struct err *e)
{
	struct query *q = calloc(1, sizeof *q);
	MDB_txn *txn = NULL;
	int rc;
	if (!q)
		return err_set(e, -ENOMEM, "out of memory");
	snprintf(q->dir, sizeof q->dir, "%s/db", data_dir);
	char path[4200];
	snprintf(path, sizeof path, "%s/data.mdb", q->dir);
	FILE *probe = fopen(path, "r");
	if (!probe) {
		rc = err_set(e, -ENOENT, "no store in %s (start rmon-stored --data %s first)",
			     data_dir, data_dir);
		goto fail;
	}
	fclose(probe);
	if ((rc = mdb_env_create(&q->env)) || (rc = mdb_env_set_maxdbs(q->env, 8)) ||
	    (rc = mdb_env_open(q->env, q->dir, MDB_RDONLY | MDB_NOTLS, 0600))) {
		rc = lmdb_error(e, rc, "cannot open", q->dir);
		goto fail;
	}
	if ((rc = begin(q, &txn, e)) != 0)
		goto fail;
	if ((rc = mdb_dbi_open(txn, "names", 0, &q->names)) ||
	    (rc = mdb_dbi_open(txn, "chunks", 0, &q->chunks)) ||
	    (rc = mdb_dbi_open(txn, "rollup_1m", 0, &q->rollups[0])) ||
	    (rc = mdb_dbi_open(txn, "rollup_1h", 0, &q->rollups[1]))) {
		rc = lmdb_error(e, rc, "not a Rusty Monitor store", q->dir);
		goto fail;
	}
	/* Committing, even read-only, keeps the database handles open. */
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc) {
		rc = lmdb_error(e, rc, "cannot read", q->dir);
		goto fail;
	}
	*out = q;
	return 0;
fail:
	if (txn)
		mdb_txn_abort(txn);
	query_close(q);
	return rc;
}

void query_close(struct query *q)
{
	if (!q)
		return;
	if (q->env)
		mdb_env_close(q->env);
	free(q);
}

/* ---- selectors ---- */

enum match_op { OP_EQ, OP_NE, OP_RE, OP_NRE };

struct matcher {
	char *key, *value;
	enum match_op op;
	regex_t re;
};

struct query_selector {
	char *host, *metric; /* globs */
	struct matcher matchers[16];
	int n;
};

void query_selector_free(struct query_selector *sel)
{
	if (!sel)
		return;
	for (int i = 0; i < sel->n; i++) {
		if (sel->matchers[i].op >= OP_RE)
			regfree(&sel->matchers[i].re);
		free(sel->matchers[i].key);
		free(sel->matchers[i].value);
	}
	free(sel->host);
	free(sel->metric);
	free(sel);
}

static int syntax(struct err *e, const char *text, const char *at, const char *what)
{
	return err_set(e, -EINVAL, "bad selector '%s' at character %d: %s", text,
		       (int)(at - text) + 1, what);
}

/* Reads a double-quoted string with \" \\ \n escapes; *p moves past it. */
static char *read_quoted(const char **p)
{
	const char *s = *p;
	if (*s != '"')
		return NULL;
	char *out = malloc(strlen(s) + 1), *o = out;
	if (!out)
		return NULL;
	for (s++; *s && *s != '"'; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			*o++ = *s == 'n' ? '\n' : *s;
		} else {
			*o++ = *s;
		}
	}
	if (*s != '"') {
		free(out);
		return NULL;
	}
	*o = '\0';
	*p = s + 1;
	return out;
}

/* glibc's regcomp expands counted repetitions, so nested ones such as
 * ((a{255}){255}){255} take gigabytes: a selector may hold a short
 * expression with at most one {n,m}. */
static bool tame_regex(const char *re)
{
	size_t counted = 0;
	for (const char *p = re; *p; p++)
		if (*p == '{')
			counted++;
	return strlen(re) <= 256 && counted <= 1;
}

static int parse_matcher(struct query_selector *sel, const char *text, const char **p,
			 struct err *e)
{
	const char *s = *p;
	size_t key_len =
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
	if (key_len == 0)
		return syntax(e, text, s, "expected a label name");
	if (sel->n == 16)
		return syntax(e, text, s, "more than 16 label matchers");
	struct matcher *m = &sel->matchers[sel->n];
	m->key = strndup(s, key_len);
	s += key_len;
	if (strncmp(s, "=~", 2) == 0)
		m->op = OP_RE, s += 2;
	else if (strncmp(s, "!~", 2) == 0)
		m->op = OP_NRE, s += 2;
	else if (strncmp(s, "!=", 2) == 0)
		m->op = OP_NE, s += 2;
	else if (*s == '=')
		m->op = OP_EQ, s += 1;
	else {
		free(m->key);
		return syntax(e, text, s, "expected =, !=, =~ or !~");
	}
	const char *value_at = s;
	if (!(m->value = read_quoted(&s))) {
		free(m->key);
		return syntax(e, text, value_at, "expected a double-quoted value");
	}
	if (m->op >= OP_RE && !tame_regex(m->value)) {
		free(m->key);
		free(m->value);
		return syntax(e, text, value_at,
			      "regular expression too complex (at most 256 bytes and one {n,m} "
			      "repetition)");
	}
	if (m->op >= OP_RE) {
		size_t len = strlen(m->value) + 5;
		char *anchored = malloc(len);
		snprintf(anchored, len, "^(%s)$", m->value);
		int rc = regcomp(&m->re, anchored, REG_EXTENDED | REG_NOSUB);
		free(anchored);
		if (rc != 0) {
			free(m->key);
			free(m->value);
			return syntax(e, text, value_at, "bad regular expression");
		}
	}
	sel->n++;
	*p = s;
	return 0;
}

int query_selector_parse(const char *text, struct query_selector **out, struct err *e)
{
	struct query_selector *sel = calloc(1, sizeof *sel);
	if (!sel)
		return err_set(e, -ENOMEM, "out of memory");
	const char *brace = strchr(text, '{');
	size_t head_len = brace ? (size_t)(brace - text) : strlen(text);
	const char *slash = memchr(text, '/', head_len);
	sel->host = slash ? strndup(text, (size_t)(slash - text)) : strdup("*");
	const char *metric = slash ? slash + 1 : text;
	sel->metric = strndup(metric, (size_t)(text + head_len - metric));
	int rc = 0;
	if (!*sel->host)
		rc = syntax(e, text, text, "empty host before '/'");
	if (rc == 0 && !*sel->metric) {
		free(sel->metric);
		sel->metric = strdup("*");
	}
	for (const char *c = metric; rc == 0 && c < text + head_len; c++)
		if (!strchr(
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:*?[]!-",
			*c))
			rc = syntax(e, text, c,
				    "metric names hold letters, digits, _ and : (and globs)");
	if (rc == 0 && brace) {
		const char *p = brace + 1;
		while (rc == 0 && *p != '}') {
			while (*p == ' ')
				p++;
			if ((rc = parse_matcher(sel, text, &p, e)) != 0)
				break;
			while (*p == ' ')
				p++;
			if (*p == ',')
				p++;
			else if (*p != '}')
				rc = syntax(e, text, p, "expected ',' or '}'");
		}
		if (rc == 0 && p[1] != '\0')
			rc = syntax(e, text, p + 1, "text after '}'");
	}
	if (rc != 0) {
		query_selector_free(sel);
		return rc;
	}
	*out = sel;
	return 0;
}

/* Finds label key's value in the canonical label text (k="v",...),
 * unescaped into buf; "" when absent. */
static void label_value(const char *labels, size_t len, const char *key, char *buf, size_t cap)
{
	const char *p = labels, *end = labels + len;
	size_t key_len = strlen(key);
	buf[0] = '\0';
	while (p < end) {
		const char *eq = memchr(p, '=', (size_t)(end - p));
		if (!eq || eq + 1 >= end || eq[1] != '"')
			return;
		bool hit = (size_t)(eq - p) == key_len && memcmp(p, key, key_len) == 0;
		size_t o = 0;
		const char *s = eq + 2;
		for (; s < end && *s != '"'; s++) {
			char c = *s;
			if (c == '\\' && s + 1 < end) {
				s++;
				c = *s == 'n' ? '\n' : *s;
			}
			if (hit && o + 1 < cap)
				buf[o++] = c;
		}
		if (hit) {
			buf[o] = '\0';
			return;
		}
		p = s + 2; /* past the quote and the comma */
	}
}

bool query_selector_match(const struct query_selector *sel, const char *name, size_t len)
{
	char host[SERIES_NAME_MAX + 1], metric[SERIES_NAME_MAX + 1], value[SERIES_NAME_MAX + 1];
	if (!sel)
		return true;
	const char *slash = memchr(name, '/', len);
	if (!slash || len >= sizeof host)
		return false;
	const char *brace = memchr(slash, '{', len - (size_t)(slash - name));
	const char *metric_end = brace ? brace : name + len;
	snprintf(host, sizeof host, "%.*s", (int)(slash - name), name);
	snprintf(metric, sizeof metric, "%.*s", (int)(metric_end - slash - 1), slash + 1);
	if (fnmatch(sel->host, host, 0) != 0 || fnmatch(sel->metric, metric, 0) != 0)
		return false;
	const char *labels = brace ? brace + 1 : "";
	size_t labels_len = brace ? len - (size_t)(brace - name) - 2 : 0;
	for (int i = 0; i < sel->n; i++) {
		const struct matcher *m = &sel->matchers[i];
		label_value(labels, labels_len, m->key, value, sizeof value);
		bool ok = m->op == OP_EQ   ? strcmp(value, m->value) == 0
			  : m->op == OP_NE ? strcmp(value, m->value) != 0
			  : m->op == OP_RE ? regexec(&m->re, value, 0, NULL, 0) == 0
					   : regexec(&m->re, value, 0, NULL, 0) != 0;
		if (!ok)
			return false;
	}
	return true;
}

/* ---- listing ---- */

int query_series(struct query *q, const struct query_selector *sel, query_series_fn fn, void *ctx,
		 struct err *e)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = begin(q, &txn, e);
	if (rc)
		return rc;
	if ((rc = mdb_cursor_open(txn, q->names, &cur)) != 0) {
		mdb_txn_abort(txn);
		return lmdb_error(e, rc, "cannot list series", q->dir);
	}
	int got, result = 0;
	q->bad_names = 0;
	for (got = mdb_cursor_get(cur, &k, &v, MDB_FIRST); got == 0 && result == 0;
	     got = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		/* A name stored before the rules (or by a bug) is never handed out. */
		if (k.mv_size == 8 && series_name_check(v.mv_data, v.mv_size, NULL) != 0)
			q->bad_names++;
		else if (k.mv_size == 8 && query_selector_match(sel, v.mv_data, v.mv_size))
			result = fn(ctx, layout_get_be64(k.mv_data), v.mv_data, v.mv_size);
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return result;
}

uint64_t query_bad_names(const struct query *q)
{
	return q->bad_names;
}

/* ---- raw reads ---- */

/* Positions cur at the first record of id that may hold data at or after
 * from: the last record starting at or before from, else the first after. */
static int seek(MDB_cursor *cur, uint64_t id, int64_t from, MDB_val *k, MDB_val *v)
{
	uint8_t key[LAYOUT_KEY_BYTES];
	layout_key(key, id, from);
	*k = (MDB_val){ sizeof key, key };
	int rc = mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
	uint64_t key_id;
	int64_t start;
	if (rc == 0)
		layout_key_parse(k->mv_data, &key_id, &start);
	if (rc != 0 || key_id != id || start > from) {
		/* Step back one: it may start before `from` and reach into it. */
		MDB_val pk, pv;
		int prc = rc == 0 ? mdb_cursor_get(cur, &pk, &pv, MDB_PREV)
				  : mdb_cursor_get(cur, &pk, &pv, MDB_LAST);
		if (prc == 0 && pk.mv_size == LAYOUT_KEY_BYTES) {
			layout_key_parse(pk.mv_data, &key_id, &start);
			if (key_id == id) {
				*k = pk;
				*v = pv;
				return 0;
			}
			/* Not ours: go back to where SET_RANGE landed. */
			if (rc == 0)
				return mdb_cursor_get(cur, k, v, MDB_NEXT);
		}
	}
	return rc;
}

static int read_raw(struct query *q, MDB_txn *txn, uint64_t id, int64_t from, int64_t to,
		    query_sample_fn fn, void *ctx, uint64_t *skipped)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = mdb_cursor_open(txn, q->chunks, &cur);
	if (rc)
		return rc;
	int result = 0;
	for (rc = seek(cur, id, from, &k, &v); rc == 0 && result == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		uint64_t key_id;
		int64_t start, ts;
		double value;
		if (k.mv_size != LAYOUT_KEY_BYTES)
			break;
		layout_key_parse(k.mv_data, &key_id, &start);
		if (key_id != id || start >= to)
			break;
		struct codec_decoder dec;
		const uint8_t *bytes = v.mv_data;
		if (v.mv_size < 1 || codec_decoder_init(&dec, bytes + 1, v.mv_size - 1) != 0) {
			if (skipped)
				(*skipped)++;
			continue;
		}
		int got;
		while (result == 0 && (got = codec_next(&dec, &ts, &value)) == 1) {
			if (ts >= to)
				break;
			if (ts >= from)
				result = fn(ctx, ts, value);
		}
		if (got < 0 && skipped)
			(*skipped)++;
	}
	mdb_cursor_close(cur);
	return result;
}

int query_raw(struct query *q, uint64_t id, int64_t from, int64_t to, query_sample_fn fn, void *ctx,
	      uint64_t *skipped, struct err *e)
{
	MDB_txn *txn;
	int rc = begin(q, &txn, e);
	if (rc)
		return rc;
	rc = read_raw(q, txn, id, from, to, fn, ctx, skipped);
	mdb_txn_abort(txn);
	return rc;
}

/* ---- aggregation ---- */

int query_agg_parse(const char *text, enum query_agg *out, struct err *e)
{
	for (int a = QUERY_AVG; a <= QUERY_INCREASE; a++)
		if (strcmp(text, query_agg_name((enum query_agg)a)) == 0)
			return *out = (enum query_agg)a, 0;
	return err_set(
	    e, -EINVAL,
	    "unknown aggregation '%s' (choose avg, min, max, last, sum, count, rate or increase)",
	    text);
}

const char *query_agg_name(enum query_agg agg)
{
	static const char *const names[] = { "avg", "min",   "max",  "last",
					     "sum", "count", "rate", "increase" };
	return names[agg];
}

/* Window accumulators, one per output step. */
struct window {
	double min, max, sum, count, last, increase;
};

struct fold {
	struct window *w;
	size_t n;
	int64_t from, step;
	double prev;	   /* the value before the current raw sample, for rises */
	int64_t fold_from; /* raw samples before this only set prev */
};

static void fold_bucket(struct fold *f, int64_t ts, const struct rollup_bucket *b)
{
	if (ts < f->from || (b->count == 0 && isnan(b->last)))
		return;
	size_t i = (size_t)((ts - f->from) / f->step);
	if (i >= f->n)
		return;
	struct window *w = &f->w[i];
	if (b->count > 0) {
		w->min = w->count == 0 || b->min < w->min ? b->min : w->min;
		w->max = w->count == 0 || b->max > w->max ? b->max : w->max;
		w->sum += b->sum;
		w->count += b->count;
	}
	w->increase += b->rise;
	w->last = b->last;
}

static int fold_sample(void *ctx, int64_t ts, double value)
{
	struct fold *f = ctx;
	struct rollup_bucket b = { ts, value, value, value, 1, value, rollup_rise(f->prev, value) };
	if (isnan(value))
		b.count = 0, b.sum = 0;
	else
		f->prev = value;
	if (ts >= f->fold_from)
		fold_bucket(f, ts, &b);
	return 0;
}

/* The start of the newest chunk that is still open (not rolled up), or
 * INT64_MAX when every chunk is closed. */
static int64_t head_start(struct query *q, MDB_txn *txn, uint64_t id)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int64_t result = INT64_MAX;
	if (mdb_cursor_open(txn, q->chunks, &cur) != 0)
		return result;
	if (seek(cur, id, INT64_MAX, &k, &v) == 0 && k.mv_size == LAYOUT_KEY_BYTES &&
	    v.mv_size > 0) {
		uint64_t key_id;
		int64_t start;
		layout_key_parse(k.mv_data, &key_id, &start);
		if (key_id == id && ((const uint8_t *)v.mv_data)[0] != 1)
			result = start;
	}
	mdb_cursor_close(cur);
	return result;
}

static int fold_rollups(struct query *q, MDB_txn *txn, int res, uint64_t id, int64_t from,
			int64_t to, int64_t raw_from, struct fold *f)
{
	static struct rollup_bucket buckets[LAYOUT_ROLLUP_BUCKETS];
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = mdb_cursor_open(txn, q->rollups[res], &cur);
	if (rc)
		return rc;
	for (rc = seek(cur, id, from, &k, &v); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		uint64_t key_id;
		int64_t start;
		if (k.mv_size != LAYOUT_KEY_BYTES)
			break;
		layout_key_parse(k.mv_data, &key_id, &start);
		if (key_id != id || start >= to || start >= raw_from)
			break;
		int n = rollup_decode(v.mv_data, v.mv_size, buckets, LAYOUT_ROLLUP_BUCKETS);
		for (int i = 0; i < n; i++)
			if (buckets[i].start < to && buckets[i].start < raw_from)
				fold_bucket(f, buckets[i].start, &buckets[i]);
	}
	mdb_cursor_close(cur);
	return 0;
}

int query_range(struct query *q, uint64_t id, int64_t from, int64_t to, int64_t step,
		enum query_agg agg, double *out, size_t n, struct err *e)
{
	if (step <= 0 || to <= from)
		return err_set(e, -EINVAL, "the step must be positive and the range not empty");
	struct window *w = calloc(n, sizeof *w);
	if (!w)
		return err_set(e, -ENOMEM, "out of memory for %zu steps", n);
	for (size_t i = 0; i < n; i++)
		w[i].last = NAN;
	struct fold f = { w, n, from, step, NAN, from };
	MDB_txn *txn;
	int rc = begin(q, &txn, e);
	if (rc) {
		free(w);
		return rc;
	}
	int res = step >= layout_bucket_ns[LAYOUT_1H]	? LAYOUT_1H
		  : step >= layout_bucket_ns[LAYOUT_1M] ? LAYOUT_1M
							: LAYOUT_RAW;
	/* Raw reads start a chunk's span early, so the first rise has its
	 * base (samples before fold_from only set it). */
	int64_t raw_from = from - LAYOUT_CHUNK_MAX_SPAN_NS;
	if (res != LAYOUT_RAW) {
		/* Rollups cover every closed chunk; the open one is read raw. */
		int64_t head = head_start(q, txn, id);
		f.fold_from = head > from ? head : from;
		raw_from = head == INT64_MAX ? INT64_MAX : f.fold_from - LAYOUT_CHUNK_MAX_SPAN_NS;
		fold_rollups(q, txn, res - 1, id, from, to, f.fold_from, &f);
	}
	if (raw_from < to)
		rc = read_raw(q, txn, id, raw_from, to, fold_sample, &f, NULL);
	mdb_txn_abort(txn);
	for (size_t i = 0; i < n; i++) {
		double seconds = (double)step / 1e9;
		bool empty = w[i].count == 0 && isnan(w[i].last);
		switch (agg) {
		case QUERY_AVG:
			out[i] = w[i].count ? w[i].sum / w[i].count : NAN;
			break;
		case QUERY_MIN:
			out[i] = w[i].count ? w[i].min : NAN;
			break;
		case QUERY_MAX:
			out[i] = w[i].count ? w[i].max : NAN;
			break;
		case QUERY_LAST:
			out[i] = w[i].last;
			break;
		case QUERY_SUM:
			out[i] = w[i].count ? w[i].sum : NAN;
			break;
		case QUERY_COUNT:
			out[i] = w[i].count;
			break;
		case QUERY_RATE:
			out[i] = empty ? NAN : w[i].increase / seconds;
			break;
		case QUERY_INCREASE:
			out[i] = empty ? NAN : w[i].increase;
			break;
		}
	}
	free(w);
	return rc < 0 ? rc : 0;
}
