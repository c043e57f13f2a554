/* eval_read.c - what one evaluation of a rule reads from the snapshot
 * and what it makes of it, one function per kind of rule: thresholds over
 * expressions, absence, linear prediction and anomaly.  Latest values come
 * from query_latest (no chunk decoded); windows from query_range with one
 * window covering [now - w, now]; deriv and predictions fit a line. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alertd/eval_private.h"
#include "lib/grow.h"
#include "lib/rtime.h"

#define SEC	      RTIME_NS_PER_SEC
#define MODEL_REFIT   (5 * 60 * SEC) /* an anomaly model is learnt again this often */
#define PREDICT_STEPS 60	     /* points a prediction fits over its window */

static int grow_buffers(struct eval *ev, size_t n, struct err *e)
{
	if (n <= ev->ids_cap)
		return 0;
	size_t cap = ev->ids_cap;
	if (!grow_array(&ev->ids, &cap, n, sizeof *ev->ids))
		return err_set(e, -ENOMEM, "out of memory");
	struct query_latest *l = realloc(ev->latest, cap * sizeof *l);
	if (l)
		ev->latest = l;
	uint32_t *order = realloc(ev->order, cap * sizeof *order);
	if (order)
		ev->order = order;
	if (!l || !order)
		return err_set(e, -ENOMEM, "out of memory");
	ev->ids_cap = cap;
	return 0;
}

static int grow_points(struct eval *ev, size_t n, struct err *e)
{
	if (n <= ev->points_cap)
		return 0;
	size_t cap = ev->points_cap;
	if (!grow_array(&ev->points, &cap, n, sizeof *ev->points))
		return err_set(e, -ENOMEM, "out of memory");
	double *w = realloc(ev->work, cap * sizeof *w);
	if (!w)
		return err_set(e, -ENOMEM, "out of memory");
	ev->work = w;
	ev->points_cap = cap;
	return 0;
}

int eval_read_latest(struct eval *ev, struct query *q, int64_t now, struct err *e)
{
	uint64_t pass = ev->stats.passes;
	size_t n = 0;
	for (size_t r = 0; r < ev->n_rules; r++) {
		struct rule_state *rs = &ev->rules[r];
		if (!rs->dirty && rs->due > now)
			continue;
		for (size_t l = 0; l < expr_n_leaves(rs->rule->compiled); l++)
			for (size_t i = 0; i < rs->leaves[l].n; i++) {
				uint32_t d = rs->leaves[l].v[i].dense;
				if (ev->dense_read[d] == pass)
					continue;
				ev->dense_read[d] = pass;
				int rc = grow_buffers(ev, n + 1, e);
				if (rc)
					return rc;
				ev->ids[n] = ev->dense_ids[d];
				ev->order[n++] = d;
			}
	}
	int rc = n ? query_latest(q, ev->ids, n, ev->latest, e) : 0;
	for (size_t i = 0; rc == 0 && i < n; i++)
		ev->dense_latest[ev->order[i]] = ev->latest[i];
	ev->stats.series_read += n;
	return rc;
}

/* Least squares over the samples of a window: the slope per second. */
struct fit {
	double n, sx, sy, sxx, sxy;
	int64_t origin;
};

static void fit_add(struct fit *f, int64_t ts, double v)
{
	double x = (double)(ts - f->origin) / SEC;
	f->n++;
	f->sx += x;
	f->sy += v;
	f->sxx += x * x;
	f->sxy += x * v;
}

/* Slope and the value at the origin; false with fewer than 2 distinct x. */
static bool fit_line(const struct fit *f, double *slope, double *at_origin)
{
	double d = f->n * f->sxx - f->sx * f->sx;
	if (f->n < 2 || fabs(d) < 1e-12)
		return false;
	*slope = (f->n * f->sxy - f->sx * f->sy) / d;
	*at_origin = (f->sy - *slope * f->sx) / f->n;
	return true;
}

static int fit_sample(void *ctx, int64_t ts, double v)
{
	if (!isnan(v))
		fit_add(ctx, ts, v);
	return 0;
}

static const enum query_agg agg_of[] = {
	[EXPR_LATEST] = QUERY_LAST,	  [EXPR_AVG] = QUERY_AVG,   [EXPR_MIN] = QUERY_MIN,
	[EXPR_MAX] = QUERY_MAX,		  [EXPR_LAST] = QUERY_LAST, [EXPR_RATE] = QUERY_RATE,
	[EXPR_INCREASE] = QUERY_INCREASE, [EXPR_DERIV] = QUERY_AVG,
};

/* What leaf l of rs reads at now, one element per series, into rs->read[l]. */
static int read_leaf(struct eval *ev, struct query *q, struct rule_state *rs, size_t l, int64_t now,
		     struct err *e)
{
	const struct expr_leaf *leaf = expr_leaf(rs->rule->compiled, l);
	const struct leaf_list *list = &rs->leaves[l];
	struct expr_vec *out = &rs->read[l];
	out->n = 0;
	int rc;
	bool kept = leaf->func != EXPR_LATEST && leaf->window_ns <= WINDOW_CACHE_MAX;
	for (size_t i = 0; i < list->n; i++) {
		const struct leaf_series *s = &list->v[i];
		struct expr_sample x = { s->host, s->labels, NAN, s->id, 0 };
		if (kept && s->window >= 0) {
			struct window *w = &ev->windows[s->window];
			if (w->synced != ev->stats.passes) {
				if ((rc = window_sync(w, q, s->id, &ev->dense_latest[s->dense], now,
						      e)))
					return rc;
				w->synced = ev->stats.passes;
			}
			x.value = window_aggregate(w, leaf->func, leaf->window_ns, now);
		} else if (leaf->func == EXPR_LATEST) {
			const struct query_latest *lt = &ev->dense_latest[s->dense];
			if (lt->ts != INT64_MIN && now - lt->ts <= EXPR_STALE_NS) {
				x.value = lt->value;
				x.ts = lt->ts;
			}
		} else if (leaf->func == EXPR_DERIV) {
			struct fit f = { .origin = now };
			rc = query_raw(q, s->id, now - leaf->window_ns, now + 1, fit_sample, &f,
				       NULL, e);
			if (rc)
				return rc;
			double slope, at;
			if (fit_line(&f, &slope, &at))
				x.value = slope;
			ev->stats.series_read++;
		} else {
			int64_t span = leaf->window_ns + 1, from = now - leaf->window_ns;
			enum query_agg agg = agg_of[leaf->func];
			rc = query_range(q, s->id, from, now + 1, span,
					 agg == QUERY_RATE ? QUERY_INCREASE : agg, &x.value, 1, e);
			if (rc)
				return rc;
			if (agg == QUERY_RATE) {
				/* The rise counts from the sample before the window, so it
				 * spans the window; a series younger than the window spans
				 * only its own life, and dividing by the window would
				 * make a new host's CPU look idle. */
				const struct query_latest *lt = &ev->dense_latest[s->dense];
				double seconds = (double)leaf->window_ns / SEC;
				if (lt->first_ts > from)
					seconds = (double)(lt->ts - lt->first_ts) / SEC;
				x.value = seconds > 0 ? x.value / seconds : NAN;
			}
			ev->stats.series_read++;
		}
		if (!isnan(x.value) && expr_vec_push(out, &x))
			return err_set(e, -ENOMEM, "out of memory");
	}
	return 0;
}

void eval_threshold_detail(const struct rule *r, double value, char *buf, size_t cap)
{
	char v[48], t[48], c[48];
	bool above = r->op == RULE_ABOVE;
	rule_format_value(value, r->unit, v, sizeof v);
	rule_format_value(r->threshold, r->unit, t, sizeof t);
	rule_format_value(r->clear, r->unit, c, sizeof c);
	if (r->clear != r->threshold)
		snprintf(buf, cap, "value %s, fires %s %s, clears at or %s %s", v,
			 above ? "above" : "below", t, above ? "below" : "above", c);
	else
		snprintf(buf, cap, "value %s, fires %s %s", v, above ? "above" : "below", t);
}

static bool breaches(const struct rule *r, double v)
{
	return r->op == RULE_ABOVE ? v > r->threshold : v < r->threshold;
}

static bool clears(const struct rule *r, double v)
{
	return isnan(v) || (r->op == RULE_ABOVE ? v <= r->clear : v >= r->clear);
}

static int read_threshold(struct eval *ev, struct query *q, struct rule_state *rs, int64_t now,
			  struct err *e)
{
	const struct rule *r = rs->rule;
	int rc;
	for (size_t l = 0; l < expr_n_leaves(r->compiled); l++)
		if ((rc = read_leaf(ev, q, rs, l, now, e)))
			return rc;
	if ((rc = expr_eval(r->compiled, rs->read, ev->scratch, &ev->out, e)))
		return rc;
	for (size_t i = 0; i < ev->out.n; i++) {
		const struct expr_sample *x = &ev->out.v[i];
		const char *detail = NULL; /* made when shown: most passes show nothing */
		struct observation o = { x->host,
					 x->labels,
					 x->value,
					 r->threshold,
					 x->series,
					 breaches(r, x->value),
					 clears(r, x->value),
					 detail };
		if ((rc = eval_observe(ev, rs, &o, NULL, e)))
			return rc;
	}
	return 0;
}

static void format_clock(int64_t ts, char *buf, size_t cap)
{
	time_t t = (time_t)(ts / SEC);
	struct tm tm;
	if (!localtime_r(&t, &tm) || !strftime(buf, cap, "%Y-%m-%d %H:%M:%S %Z", &tm))
		snprintf(buf, cap, "?");
}

static int read_absence(struct eval *ev, struct query *q, struct rule_state *rs, int64_t now,
			struct err *e)
{
	const struct rule *r = rs->rule;
	const struct leaf_list *list = &rs->leaves[0];
	int rc;
	for (size_t i = 0; i < list->n; i++) {
		const struct query_latest *lt = &ev->dense_latest[list->v[i].dense];
		if (lt->ts == INT64_MIN)
			continue; /* no sample ever: nothing says it should have one */
		int64_t age = now - lt->ts;
		bool absent = age >= r->absent_ns;
		char detail[192], ago[32], when[64];
		rtime_format_duration(age > 0 ? age / SEC * SEC : 0, ago, sizeof ago);
		format_clock(lt->ts, when, sizeof when);
		if (absent)
			snprintf(detail, sizeof detail, "no sample for %s (the last at %s)", ago,
				 when);
		else
			snprintf(detail, sizeof detail, "the last sample %s ago",
				 age >= SEC ? ago : "0s");
		struct observation o = { list->v[i].host,   list->v[i].labels,
					 (double)age / SEC, (double)r->absent_ns / SEC,
					 list->v[i].id,	    absent,
					 !absent,	    detail };
		if (!absent)
			eval_due(rs, lt->ts + r->absent_ns);
		if ((rc = eval_observe(ev, rs, &o, NULL, e)))
			return rc;
	}
	return 0;
}

static int read_predict(struct eval *ev, struct query *q, struct rule_state *rs, int64_t now,
			struct err *e)
{
	const struct rule *r = rs->rule;
	const struct leaf_list *list = &rs->leaves[0];
	int64_t w = r->window_ns, step = (w + PREDICT_STEPS) / PREDICT_STEPS;
	size_t n = (size_t)((w + 1 + step - 1) / step);
	int rc = grow_points(ev, n, e);
	if (rc)
		return rc;
	for (size_t i = 0; i < list->n; i++) {
		const struct leaf_series *s = &list->v[i];
		int64_t from = now - w;
		if ((rc = query_range(q, s->id, from, now + 1, step, QUERY_AVG, ev->points, n, e)))
			return rc;
		ev->stats.series_read++;
		struct fit f = { .origin = now };
		int64_t first = 0, last = 0;
		for (size_t k = 0; k < n; k++) {
			if (isnan(ev->points[k]))
				continue;
			int64_t mid = from + (int64_t)k * step + step / 2;
			if (!first)
				first = mid;
			last = mid;
			fit_add(&f, mid, ev->points[k]);
		}
		double slope, at_now;
		/* A line through a quarter of the window is a guess, not a trend. */
		if (f.n < 6 || last - first < w / 4 || !fit_line(&f, &slope, &at_now))
			continue;
		double horizon = (double)r->horizon_ns / SEC;
		double ahead = at_now + slope * horizon;
		double worst = r->op == RULE_ABOVE ? fmax(ahead, at_now) : fmin(ahead, at_now);
		char detail[192], t[48], span[32], in[32];
		rule_format_value(r->threshold, r->unit, t, sizeof t);
		rtime_format_duration(w, span, sizeof span);
		double to_cross = slope != 0 ? (r->threshold - at_now) / slope : -1;
		if (to_cross > 0 && to_cross < 3650.0 * 86400) {
			rtime_format_duration((int64_t)(to_cross / 60 + 1) * 60 * SEC, in,
					      sizeof in);
			snprintf(detail, sizeof detail,
				 "reaches %s in about %s at the trend of the last %s", t, in, span);
		} else {
			snprintf(detail, sizeof detail,
				 "not heading for %s at the trend of the last %s", t, span);
		}
		struct observation o = { s->host,	   s->labels, worst,
					 r->threshold,	   s->id,     breaches(r, worst),
					 clears(r, worst), detail };
		if ((rc = eval_observe(ev, rs, &o, NULL, e)))
			return rc;
	}
	return 0;
}

/* The history an anomaly model learns from: the leaf's function over the
 * windows of the baseline before the current one. */
static int refit(struct eval *ev, struct query *q, const struct rule *r,
		 const struct expr_leaf *leaf, uint64_t id, int64_t now, struct anomaly_model *m,
		 struct err *e)
{
	int64_t step = leaf->window_ns > 60 * SEC ? leaf->window_ns : 60 * SEC;
	int64_t to = now - (leaf->window_ns ? leaf->window_ns : step);
	int64_t from = to - r->baseline_ns;
	size_t n = (size_t)(r->baseline_ns / step);
	int rc = grow_points(ev, n, e);
	if (rc)
		return rc;
	enum query_agg agg = leaf->func == EXPR_LATEST ? QUERY_AVG : agg_of[leaf->func];
	if ((rc = query_range(q, id, from, to, step, agg, ev->points, n, e)))
		return rc;
	anomaly_fit(ev->points, n, ev->work, m);
	return 0;
}

static int read_anomaly(struct eval *ev, struct query *q, struct rule_state *rs, int64_t now,
			struct err *e)
{
	const struct rule *r = rs->rule;
	const struct expr_leaf *leaf = expr_leaf(r->compiled, 0);
	int rc = read_leaf(ev, q, rs, 0, now, e);
	if (rc)
		return rc;
	const struct expr_vec *v = &rs->read[0];
	for (size_t i = 0; i < v->n; i++) {
		const struct expr_sample *x = &v->v[i];
		struct observation o = { x->host,   x->labels, x->value, r->deviations,
					 x->series, false,     true,	 NULL };
		struct instance *in;
		if ((rc = eval_observe(ev, rs, &o, &in, e)))
			return rc;
		if (!in->model_at || now - in->model_at >= MODEL_REFIT || now < in->model_at) {
			if ((rc = refit(ev, q, r, leaf, x->series, now, &in->model, e)))
				return rc;
			in->model_at = now;
		}
		in->breach = anomaly_outside(&in->model, x->value, r->deviations);
		in->clear = anomaly_clears(&in->model, x->value, r->deviations);
		double lo, hi;
		anomaly_range(&in->model, r->deviations, &lo, &hi);
		in->obs_threshold = x->value > in->model.median ? hi : lo;
		anomaly_describe(&in->model, x->value, r->deviations, r->baseline_ns, r->unit,
				 in->detail, sizeof in->detail);
		in->detail_from_value = false;
	}
	return 0;
}

int eval_read_rule(struct eval *ev, struct query *q, struct rule_state *rs, int64_t now,
		   struct err *e)
{
	switch (rs->rule->kind) {
	case RULE_ABSENCE:
		return read_absence(ev, q, rs, now, e);
	case RULE_PREDICT:
		return read_predict(ev, q, rs, now, e);
	case RULE_ANOMALY:
		return read_anomaly(ev, q, rs, now, e);
	default:
		return read_threshold(ev, q, rs, now, e);
	}
}
