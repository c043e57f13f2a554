/* expr_eval.c - computing a rule expression (alertd/expr.h): the vector
 * arithmetic over what eval read for each selector.  Joins match host and
 * labels exactly; the aggregations group by host and the labels they name. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertd/expr_private.h"
#include "lib/grow.h"

/* A bare window anywhere but alone is meaningless: checked at evaluation
 * time too, so a caller that skipped expr_is_bare_window gets no garbage. */
static bool leaf_is_bare_window(const struct expr_leaf *l)
{
	return l->func == EXPR_LATEST && l->window_ns > 0;
}

/* ---- labels ---- */

/* Finds key in canonical label text: *value and *len the raw (escaped)
 * value between its quotes. */
bool expr_label_raw(const char *labels, const char *key, const char **value, size_t *len)
{
	size_t klen = strlen(key);
	const char *p = labels;
	if (*p != '{')
		return false;
	p++;
	while (*p && *p != '}') {
		const char *k = p;
		while (*p && *p != '=')
			p++;
		if (*p != '=' || p[1] != '"')
			return false;
		size_t this_len = (size_t)(p - k);
		p += 2;
		const char *v = p;
		while (*p && *p != '"') {
			if (*p == '\\' && p[1])
				p++;
			p++;
		}
		if (this_len == klen && memcmp(k, key, klen) == 0) {
			*value = v;
			*len = (size_t)(p - v);
			return true;
		}
		if (*p == '"')
			p++;
		if (*p == ',')
			p++;
	}
	return false;
}

bool expr_label_value(const char *labels, const char *key, char *buf, size_t cap)
{
	const char *v;
	size_t len, o = 0;
	if (!cap)
		return false;
	if (!expr_label_raw(labels ? labels : "", key, &v, &len)) {
		buf[0] = 0;
		return false;
	}
	for (size_t i = 0; i < len && o + 1 < cap; i++) {
		if (v[i] == '\\' && i + 1 < len)
			i++;
		buf[o++] = v[i];
	}
	buf[o] = 0;
	return true;
}

/* ---- vectors and the scratch ---- */

int expr_vec_push(struct expr_vec *v, const struct expr_sample *s)
{
	if (!grow_array(&v->v, &v->cap, v->n + 1, sizeof *v->v))
		return -ENOMEM;
	v->v[v->n++] = *s;
	return 0;
}

void expr_vec_free(struct expr_vec *v)
{
	free(v->v);
	*v = (struct expr_vec){ 0 };
}

struct chunk {
	char *buf;
	size_t used, cap;
};

struct expr_scratch {
	struct expr_vec *vecs; /* one per node, reused */
	size_t n_vecs;
	struct chunk *chunks; /* label text made by aggregations */
	size_t n_chunks, chunks_cap, current;
};

int expr_scratch_new(struct expr_scratch **out)
{
	return (*out = calloc(1, sizeof **out)) ? 0 : -ENOMEM;
}

void expr_scratch_free(struct expr_scratch *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_vecs; i++)
		expr_vec_free(&s->vecs[i]);
	for (size_t i = 0; i < s->n_chunks; i++)
		free(s->chunks[i].buf);
	free(s->vecs);
	free(s->chunks);
	free(s);
}

static char *scratch_alloc(struct expr_scratch *s, size_t len)
{
	while (s->current < s->n_chunks) {
		struct chunk *c = &s->chunks[s->current];
		if (c->cap - c->used >= len) {
			char *p = c->buf + c->used;
			c->used += len;
			return p;
		}
		s->current++;
	}
	if (!grow_array(&s->chunks, &s->chunks_cap, s->n_chunks + 1, sizeof *s->chunks))
		return NULL;
	size_t cap = len > 65536 ? len : 65536;
	struct chunk c = { malloc(cap), 0, cap };
	if (!c.buf)
		return NULL;
	s->chunks[s->n_chunks++] = c;
	s->current = s->n_chunks - 1;
	return scratch_alloc(s, len);
}

static void scratch_reset(struct expr_scratch *s)
{
	for (size_t i = 0; i < s->n_chunks; i++)
		s->chunks[i].used = 0;
	s->current = 0;
}

/* ---- evaluation ---- */

struct value {
	bool scalar;
	double num;
	struct expr_vec *vec; /* a scratch vector: ours to sort and change */
};

static int compare_key(const void *pa, const void *pb)
{
	const struct expr_sample *a = pa, *b = pb;
	int c = strcmp(a->host, b->host);
	return c ? c : strcmp(a->labels, b->labels);
}

static double apply_op(enum node_kind k, double a, double b)
{
	switch (k) {
	case N_ADD:
		return a + b;
	case N_SUB:
		return a - b;
	case N_MUL:
		return a * b;
	default:
		return b == 0 ? NAN : a / b;
	}
}

/* Drops the NaN elements of v (divisions by zero, windows with no data). */
static void drop_nan(struct expr_vec *v)
{
	size_t o = 0;
	for (size_t i = 0; i < v->n; i++)
		if (!isnan(v->v[i].value))
			v->v[o++] = v->v[i];
	v->n = o;
}

static int eval_node(const struct rule_expr *x, int n, const struct expr_vec *leaves,
		     struct expr_scratch *s, struct value *out, struct err *e);

static int binary(const struct rule_expr *x, const struct node *node, struct expr_vec *dst,
		  const struct expr_vec *leaves, struct expr_scratch *s, struct value *out,
		  struct err *e)
{
	struct value a, b;
	int rc = eval_node(x, node->a, leaves, s, &a, e);
	if (rc == 0)
		rc = eval_node(x, node->b, leaves, s, &b, e);
	if (rc)
		return rc;
	if (a.scalar && b.scalar) {
		*out = (struct value){ .scalar = true, .num = apply_op(node->kind, a.num, b.num) };
		return 0;
	}
	dst->n = 0;
	if (a.scalar || b.scalar) {
		const struct expr_vec *v = a.scalar ? b.vec : a.vec;
		for (size_t i = 0; i < v->n; i++) {
			struct expr_sample e1 = v->v[i];
			e1.value = a.scalar ? apply_op(node->kind, a.num, e1.value)
					    : apply_op(node->kind, e1.value, b.num);
			if (expr_vec_push(dst, &e1))
				return err_set(e, -ENOMEM, "out of memory");
		}
	} else {
		/* Both sorted by (host, labels): one merge pairs them. */
		qsort(a.vec->v, a.vec->n, sizeof *a.vec->v, compare_key);
		qsort(b.vec->v, b.vec->n, sizeof *b.vec->v, compare_key);
		size_t i = 0, j = 0;
		while (i < a.vec->n && j < b.vec->n) {
			int c = compare_key(&a.vec->v[i], &b.vec->v[j]);
			if (c < 0) {
				i++;
			} else if (c > 0) {
				j++;
			} else {
				struct expr_sample e1 = a.vec->v[i];
				e1.value = apply_op(node->kind, e1.value, b.vec->v[j].value);
				if (b.vec->v[j].ts > e1.ts)
					e1.ts = b.vec->v[j].ts;
				if (expr_vec_push(dst, &e1))
					return err_set(e, -ENOMEM, "out of memory");
				i++;
				j++;
			}
		}
	}
	drop_nan(dst);
	*out = (struct value){ .vec = dst };
	return 0;
}

/* The labels of sample for an aggregation by names: {a="..",b=".."} of
 * those it has, in the scratch. */
static const char *group_labels(struct expr_scratch *s, const struct node *node, const char *labels)
{
	size_t need = 3;
	const char *vals[16];
	size_t lens[16], n = node->n_by < 16 ? node->n_by : 16;
	bool any = false;
	for (size_t i = 0; i < n; i++) {
		vals[i] = NULL;
		lens[i] = 0;
		if (expr_label_raw(labels, node->by[i], &vals[i], &lens[i])) {
			need += strlen(node->by[i]) + lens[i] + 4;
			any = true;
		}
	}
	if (!any)
		return "";
	char *buf = scratch_alloc(s, need);
	if (!buf)
		return NULL;
	char *o = buf;
	*o++ = '{';
	for (size_t i = 0; i < n; i++) {
		if (!vals[i])
			continue;
		if (o > buf + 1)
			*o++ = ',';
		size_t kl = strlen(node->by[i]);
		memcpy(o, node->by[i], kl);
		o += kl;
		*o++ = '=';
		*o++ = '"';
		memcpy(o, vals[i], lens[i]);
		o += lens[i];
		*o++ = '"';
	}
	*o++ = '}';
	*o = 0;
	return buf;
}

static int aggregate(const struct rule_expr *x, const struct node *node, struct expr_vec *dst,
		     const struct expr_vec *leaves, struct expr_scratch *s, struct value *out,
		     struct err *e)
{
	struct value a;
	int rc = eval_node(x, node->a, leaves, s, &a, e);
	if (rc)
		return rc;
	if (a.scalar) {
		*out = (struct value){ .scalar = true, .num = node->agg == AGG_COUNT ? 1 : a.num };
		return 0;
	}
	struct expr_vec *v = a.vec;
	for (size_t i = 0; i < v->n; i++)
		if (!(v->v[i].labels = group_labels(s, node, v->v[i].labels)))
			return err_set(e, -ENOMEM, "out of memory");
	qsort(v->v, v->n, sizeof *v->v, compare_key);
	dst->n = 0;
	for (size_t i = 0; i < v->n;) {
		struct expr_sample g = v->v[i];
		double sum = 0, count = 0;
		size_t j = i;
		for (; j < v->n && compare_key(&v->v[i], &v->v[j]) == 0; j++) {
			const struct expr_sample *m = &v->v[j];
			sum += m->value;
			count++;
			if ((node->agg == AGG_MAX && m->value > g.value) ||
			    (node->agg == AGG_MIN && m->value < g.value)) {
				g.value = m->value;
				g.series = m->series;
			}
			if (m->ts > g.ts)
				g.ts = m->ts;
		}
		if (node->agg == AGG_SUM)
			g.value = sum;
		else if (node->agg == AGG_AVG)
			g.value = sum / count;
		else if (node->agg == AGG_COUNT)
			g.value = count;
		if (expr_vec_push(dst, &g))
			return err_set(e, -ENOMEM, "out of memory");
		i = j;
	}
	*out = (struct value){ .vec = dst };
	return 0;
}

static int eval_node(const struct rule_expr *x, int n, const struct expr_vec *leaves,
		     struct expr_scratch *s, struct value *out, struct err *e)
{
	const struct node *node = &x->nodes[n];
	struct expr_vec *dst = &s->vecs[n];
	switch (node->kind) {
	case N_NUM:
		*out = (struct value){ .scalar = true, .num = node->num };
		return 0;
	case N_LEAF: {
		const struct expr_vec *src = &leaves[node->leaf];
		dst->n = 0;
		if (leaf_is_bare_window(&x->leaves[node->leaf]) && x->n_nodes > 1)
			return err_set(e, -EINVAL, "%s: a window needs a function",
				       x->leaves[node->leaf].text);
		for (size_t i = 0; i < src->n; i++)
			if (!isnan(src->v[i].value) && expr_vec_push(dst, &src->v[i]))
				return err_set(e, -ENOMEM, "out of memory");
		*out = (struct value){ .vec = dst }; /* sorted by a join, when one needs it */
		return 0;
	}
	case N_NEG: {
		struct value a;
		int rc = eval_node(x, node->a, leaves, s, &a, e);
		if (rc)
			return rc;
		if (a.scalar) {
			*out = (struct value){ .scalar = true, .num = -a.num };
			return 0;
		}
		for (size_t i = 0; i < a.vec->n; i++)
			a.vec->v[i].value = -a.vec->v[i].value;
		*out = a;
		return 0;
	}
	case N_AGG:
		return aggregate(x, node, dst, leaves, s, out, e);
	default:
		return binary(x, node, dst, leaves, s, out, e);
	}
}

int expr_eval(const struct rule_expr *x, const struct expr_vec *leaves, struct expr_scratch *s,
	      struct expr_vec *out, struct err *e)
{
	if (s->n_vecs < x->n_nodes) {
		struct expr_vec *v = realloc(s->vecs, x->n_nodes * sizeof *v);
		if (!v)
			return err_set(e, -ENOMEM, "out of memory");
		memset(v + s->n_vecs, 0, (x->n_nodes - s->n_vecs) * sizeof *v);
		s->vecs = v;
		s->n_vecs = x->n_nodes;
	}
	scratch_reset(s);
	struct value r;
	int rc = eval_node(x, x->root, leaves, s, &r, e);
	if (rc)
		return rc;
	out->n = 0;
	if (r.scalar)
		return 0; /* constant: no host to alert on (the reader refuses these) */
	for (size_t i = 0; i < r.vec->n; i++)
		if (!isnan(r.vec->v[i].value) && expr_vec_push(out, &r.vec->v[i]))
			return err_set(e, -ENOMEM, "out of memory");
	return 0;
}
