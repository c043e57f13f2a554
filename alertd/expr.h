/* expr.h - the rule expression language of docs/alerting.md ("Expressions"):
 * compiled once by the config reader (alertd/rules.h), computed by eval
 * (alertd/eval.h) at every pass over what the store gave for each of its
 * selectors.  This module knows nothing of the store: the caller reads the
 * leaves, this one does the arithmetic, the joins and the aggregations.
 *
 *     100 * (1 - avg(rate(node_cpu_seconds_total{cpu!="total",mode="idle"}[1m])))
 *     100 * (1 - node_filesystem_avail_bytes / node_filesystem_size_bytes)
 *     node_load5 / count(node_cpu_seconds_total{cpu!="total",mode="idle"})
 *
 * A value is a vector: one number per host and label set.  Every join and
 * every aggregation keeps the host, so a rule's instances are per host. */
#ifndef RMON_ALERTD_EXPR_H
#define RMON_ALERTD_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "store/query.h"

/* What a leaf reads of each series its selector matches. */
enum expr_func {
	EXPR_LATEST, /* a bare selector: the newest sample, if not older than EXPR_STALE_NS */
	EXPR_AVG,    /* avg(sel[w]) ... over the window [now - w, now] */
	EXPR_MIN,
	EXPR_MAX,
	EXPR_LAST,
	EXPR_RATE,     /* per second, counter resets handled */
	EXPR_INCREASE, /* over the window, counter resets handled */
	EXPR_DERIV,    /* least-squares slope per second, for gauges */
};

#define EXPR_STALE_NS (5 * 60 * INT64_C(1000000000)) /* a bare selector's newest sample */

struct expr_leaf {
	char *text; /* the selector as written, without its window */
	struct query_selector *sel;
	enum expr_func func;
	int64_t window_ns; /* 0 for EXPR_LATEST */
};

/* One element of a vector.  host and labels point into memory the caller
 * (for leaves) or the scratch (for computed elements) keeps until the next
 * expr_eval; labels are canonical {k="v",...} or "". */
struct expr_sample {
	const char *host;
	const char *labels;
	double value;
	uint64_t series; /* a series it came from, to draw */
	int64_t ts;	 /* the newest sample it came from */
};

struct expr_vec {
	struct expr_sample *v;
	size_t n, cap;
};

struct rule_expr;
struct expr_scratch;

/* Compiles text; *out is the caller's (expr_free).  -EINVAL with
 * "at character N: what was expected" (selectors: query_selector_parse's
 * words), -ENOMEM. */
int expr_compile(const char *text, struct rule_expr **out, struct err *e);
void expr_free(struct rule_expr *x);

/* The selectors the expression reads, in the order they are written. */
size_t expr_n_leaves(const struct rule_expr *x);
const struct expr_leaf *expr_leaf(const struct rule_expr *x, size_t i);

/* The widest window of its leaves (0: only latest values). */
int64_t expr_window(const struct rule_expr *x);

/* True when the expression is one selector with a window and no function
 * ("node_filesystem_avail_bytes[6h]"): what a prediction fits. */
bool expr_is_bare_window(const struct rule_expr *x);

/* True for a single leaf with or without a function: what an anomaly
 * model learns (its history is the same function over past windows). */
bool expr_is_single_leaf(const struct rule_expr *x);

/* Appends one element to v; -ENOMEM. */
int expr_vec_push(struct expr_vec *v, const struct expr_sample *s);
void expr_vec_free(struct expr_vec *v);

/* Computes x: leaves[i] holds what leaf i read (the caller's, not
 * changed).  out is emptied and filled; its strings live in scratch until
 * the next call with it.  Elements whose value is NaN are left out. */
int expr_eval(const struct rule_expr *x, const struct expr_vec *leaves,
	      struct expr_scratch *scratch, struct expr_vec *out, struct err *e);

int expr_scratch_new(struct expr_scratch **out);
void expr_scratch_free(struct expr_scratch *s);

/* Copies the value of label key out of canonical label text into buf
 * (unescaped, cap bytes, NUL terminated); false when absent. */
bool expr_label_value(const char *labels, const char *key, char *buf, size_t cap);

/* The value of label key as it is written in canonical label text (still
 * escaped): *value and *len; false when absent. */
bool expr_label_raw(const char *labels, const char *key, const char **value, size_t *len);

#endif
