/* graph.c - a host's graph instances and their reading and drawing (see
 * graph.h). */
#include "reportgen/graph.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/grow.h"
#include "lib/rtime.h"
#include "reportgen/outfile.h"

#define DAY (24 * 3600 * RTIME_NS_PER_SEC)

/* The day's graph (windows of 54 s) is redrawn every 5 minutes, not at
 * every window: it moves less than 3 pixels in that time. */
const struct graph_range report_ranges[REPORT_N_RANGES] = {
	{ "1h", "1 hour", 3600 * RTIME_NS_PER_SEC, 0 },
	{ "1d", "1 day", DAY, 300 * RTIME_NS_PER_SEC },
	{ "1w", "1 week", 7 * DAY, 0 },
	{ "1mo", "1 month", 30 * DAY, 0 },
	{ "1y", "1 year", 365 * DAY, 0 },
};

/* The first series of metric whose label key has value (key NULL: any). */
static const struct host_series *find_series(const struct host_series *s, size_t n,
					     const char *metric, const char *key, const char *value)
{
	char m[128], v[512];
	for (size_t i = 0; i < n; i++) {
		family_metric_of(s[i].name, s[i].len, m, sizeof m);
		if (strcmp(m, metric) != 0)
			continue;
		if (!key)
			return &s[i];
		if (family_label_of(s[i].name, s[i].len, key, v, sizeof v) >= 0 &&
		    strcmp(v, value) == 0)
			return &s[i];
	}
	return NULL;
}

static void add_metric(struct graph_inst *g, const char *metric)
{
	for (size_t i = 0; i < g->n_metrics; i++)
		if (strcmp(g->metrics[i], metric) == 0)
			return;
	if (g->n_metrics < sizeof g->metrics / sizeof g->metrics[0])
		snprintf(g->metrics[g->n_metrics++], sizeof g->metrics[0], "%s", metric);
}

/* Resolves the metric names of terms into ids; false when one is missing. */
static bool resolve(const struct host_series *s, size_t n, const char *const names[FAMILY_TERMS],
		    const char *key, const char *value, uint64_t ids[FAMILY_TERMS], size_t *n_ids,
		    struct graph_inst *g)
{
	*n_ids = 0;
	for (size_t t = 0; t < FAMILY_TERMS && names[t]; t++) {
		const struct host_series *hs = find_series(s, n, names[t], key, value);
		if (!hs)
			return false;
		ids[(*n_ids)++] = hs->id;
		add_metric(g, names[t]);
	}
	return true;
}

static int add_line(struct graph_inst *g, size_t *cap, const struct graph_line *line)
{
	if (!grow_array(&g->lines, cap, g->n_lines + 1, sizeof *g->lines))
		return -ENOMEM;
	g->lines[g->n_lines++] = *line;
	return 0;
}

static void name_inst(struct graph_inst *g, const struct family *f, const char *split)
{
	char slug[64];
	g->fam = f;
	g->counter = f->counter;
	snprintf(g->split, sizeof g->split, "%s", split);
	if (*split) {
		outfile_slug(split, slug, sizeof slug);
		snprintf(g->slug, sizeof g->slug, "%s-%s", f->key, slug);
		snprintf(g->title, sizeof g->title, "%s %s", f->title, split);
	} else {
		snprintf(g->slug, sizeof g->slug, "%s", f->key);
		snprintf(g->title, sizeof g->title, "%s", f->title);
	}
}

/* A family of explicit lines, for one value of its split label (or none). */
static int explicit_inst(const struct host_series *s, size_t n, const struct family *f,
			 const char *split, struct graph_inst *g)
{
	size_t cap = 0;
	const char *key = f->split_label;
	name_inst(g, f, split);
	for (size_t i = 0; i < f->n_lines; i++) {
		const struct family_line *fl = &f->lines[i];
		struct graph_line l = { .scale = fl->scale ? fl->scale : 1 };
		snprintf(l.title, sizeof l.title, "%s", fl->title);
		if (!resolve(s, n, fl->plus, key, split, l.plus, &l.n_plus, g) ||
		    !resolve(s, n, fl->minus, key, split, l.minus, &l.n_minus, g) ||
		    !resolve(s, n, fl->per, key, split, l.per, &l.n_per, g))
			continue;
		if (add_line(g, &cap, &l) != 0)
			return -ENOMEM;
	}
	return 0;
}

/* A family whose lines are the values of a label of one metric. */
static int labelled_inst(const struct host_series *s, size_t n, const struct family *f,
			 struct graph_inst *g)
{
	size_t cap = 0;
	char m[128], v[512];
	name_inst(g, f, "");
	for (size_t i = 0; i < n; i++) {
		family_metric_of(s[i].name, s[i].len, m, sizeof m);
		if (strcmp(m, f->metric) != 0)
			continue;
		if (f->match_key &&
		    (family_label_of(s[i].name, s[i].len, f->match_key, v, sizeof v) < 0 ||
		     strcmp(v, f->match_value) != 0))
			continue;
		if (family_label_of(s[i].name, s[i].len, f->line_label, v, sizeof v) < 0)
			snprintf(v, sizeof v, "%s", m);
		if (family_in_list(f->skip, v))
			continue;
		struct graph_line l = { .scale = f->scale ? f->scale : 1,
					.hidden = family_in_list(f->hide, v),
					.plus = { s[i].id },
					.n_plus = 1 };
		snprintf(l.title, sizeof l.title, "%.*s", (int)sizeof l.title - 1, v);
		if (add_line(g, &cap, &l) != 0)
			return -ENOMEM;
	}
	add_metric(g, f->metric);
	return 0;
}

/* Collects the values of the split label among the series of metric. */
static int split_values(const struct host_series *s, size_t n, const char *metric, const char *key,
			char ***out, size_t *n_out)
{
	char m[128], v[512];
	size_t cap = 0;
	*out = NULL;
	*n_out = 0;
	for (size_t i = 0; i < n; i++) {
		family_metric_of(s[i].name, s[i].len, m, sizeof m);
		if (strcmp(m, metric) != 0 ||
		    family_label_of(s[i].name, s[i].len, key, v, sizeof v) < 0)
			continue;
		bool seen = false;
		for (size_t j = 0; j < *n_out && !seen; j++)
			seen = strcmp((*out)[j], v) == 0;
		if (seen)
			continue;
		if (!grow_array(out, &cap, *n_out + 1, sizeof **out) ||
		    !((*out)[*n_out] = strdup(v)))
			return -ENOMEM;
		(*n_out)++;
	}
	return 0;
}

static int keep_inst(struct graph_inst **out, size_t *n_out, size_t *cap, struct graph_inst *g)
{
	if (g->n_lines == 0) {
		graph_inst_clear(g);
		return 0;
	}
	if (!grow_array(out, cap, *n_out + 1, sizeof **out)) {
		graph_inst_clear(g);
		return -ENOMEM;
	}
	(*out)[(*n_out)++] = *g;
	return 0;
}

int graph_insts(const struct host_series *s, size_t n, struct graph_inst **out, size_t *n_out,
		struct err *e)
{
	size_t cap = 0;
	int rc = 0;
	*out = NULL;
	*n_out = 0;
	for (size_t fi = 0; fi < report_n_families && rc == 0; fi++) {
		const struct family *f = &report_families[fi];
		struct graph_inst g = { 0 };
		if (!f->lines) {
			if ((rc = labelled_inst(s, n, f, &g)) == 0)
				rc = keep_inst(out, n_out, &cap, &g);
			continue;
		}
		if (!f->split_label) {
			if ((rc = explicit_inst(s, n, f, "", &g)) == 0)
				rc = keep_inst(out, n_out, &cap, &g);
			continue;
		}
		char **values;
		size_t n_values;
		rc = split_values(s, n, f->lines[0].plus[0], f->split_label, &values, &n_values);
		for (size_t i = 0; i < n_values; i++) {
			if (rc == 0) {
				memset(&g, 0, sizeof g);
				if ((rc = explicit_inst(s, n, f, values[i], &g)) == 0)
					rc = keep_inst(out, n_out, &cap, &g);
			}
			free(values[i]);
		}
		free(values);
	}
	if (rc != 0) {
		graph_insts_free(*out, *n_out);
		*out = NULL;
		*n_out = 0;
		return err_set(e, -ENOMEM, "out of memory listing a host's graphs");
	}
	return 0;
}

void graph_inst_clear(struct graph_inst *g)
{
	free(g->lines);
	g->lines = NULL;
	g->n_lines = 0;
}

void graph_insts_free(struct graph_inst *g, size_t n)
{
	for (size_t i = 0; i < n; i++)
		graph_inst_clear(&g[i]);
	free(g);
}

int graph_inst_single(uint64_t id, const char *name, struct graph_inst *out, struct err *e)
{
	char metric[128];
	size_t len = strlen(name);
	memset(out, 0, sizeof *out);
	family_metric_of(name, len, metric, sizeof metric);
	size_t mlen = strlen(metric);
	out->counter = mlen > 6 && strcmp(metric + mlen - 6, "_total") == 0;
	snprintf(out->title, sizeof out->title, "%s%s", name, out->counter ? " (per second)" : "");
	snprintf(out->slug, sizeof out->slug, "series-%016llx", (unsigned long long)id);
	add_metric(out, metric);
	if (!(out->lines = calloc(1, sizeof *out->lines)))
		return err_set(e, -ENOMEM, "out of memory for the graph of %s", name);
	out->n_lines = 1;
	out->lines[0] = (struct graph_line){ .plus = { id }, .n_plus = 1, .scale = 1 };
	const char *brace = strchr(name, '{');
	snprintf(out->lines[0].title, sizeof out->lines[0].title, "%s", brace ? brace : metric);
	return 0;
}

bool graph_has_series(const struct graph_inst *g, uint64_t id)
{
	for (size_t i = 0; i < g->n_lines; i++) {
		const struct graph_line *l = &g->lines[i];
		for (size_t t = 0; t < l->n_plus; t++)
			if (l->plus[t] == id)
				return true;
		for (size_t t = 0; t < l->n_minus; t++)
			if (l->minus[t] == id)
				return true;
	}
	return false;
}

/* ---- the newest samples ---- */

static int compare_ids(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Room in t for n ids and their values. */
static int latest_room(struct graph_latest *t, size_t n, struct err *e)
{
	size_t ids_cap = t->cap; /* the two grow alike from the same capacity */
	t->n = 0;
	if (!grow_array(&t->ids, &ids_cap, n, sizeof *t->ids) ||
	    !grow_array(&t->values, &t->cap, n, sizeof *t->values))
		return err_set(e, -ENOMEM, "out of memory for the latest values of %zu series", n);
	return 0;
}

/* Sorts the n ids in t, drops repeats, and reads their values. */
static int latest_fill(struct graph_latest *t, struct query *q, size_t n, struct err *e)
{
	size_t kept = 0;
	t->n = 0;
	if (n == 0) /* t->ids may not be allocated yet */
		return 0;
	qsort(t->ids, n, sizeof *t->ids, compare_ids);
	for (size_t i = 0; i < n; i++)
		if (kept == 0 || t->ids[kept - 1] != t->ids[i])
			t->ids[kept++] = t->ids[i];
	int rc = kept ? query_latest(q, t->ids, kept, t->values, e) : 0;
	t->n = rc == 0 ? kept : 0;
	return rc;
}

int graph_latest_read(struct graph_latest *t, struct query *q, const struct host_series *s,
		      size_t n, struct err *e)
{
	int rc = latest_room(t, n, e);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		t->ids[i] = s[i].id;
	return latest_fill(t, q, n, e);
}

int graph_latest_read_ids(struct graph_latest *t, struct query *q, const uint64_t *ids, size_t n,
			  struct err *e)
{
	int rc = latest_room(t, n, e);
	if (rc != 0)
		return rc;
	if (n)
		memcpy(t->ids, ids, n * sizeof *ids);
	return latest_fill(t, q, n, e);
}

const struct query_latest *graph_latest_find(const struct graph_latest *t, uint64_t id)
{
	const uint64_t *found = t->n ? bsearch(&id, t->ids, t->n, sizeof id, compare_ids) : NULL;
	return found ? &t->values[found - t->ids] : NULL;
}

void graph_latest_free(struct graph_latest *t)
{
	free(t->ids);
	free(t->values);
	*t = (struct graph_latest){ 0 };
}

/* ---- reading and drawing ---- */

struct line_data {
	double *avg, *min, *max; /* min, max NULL: no envelope */
	double mean;
	bool drop;
};

/* Adds sign * the series' windows into acc (NaN stays NaN where the
 * series has no data). */
static int add_series(struct graph_ctx *c, const struct graph_inst *g, uint64_t id, double sign,
		      int64_t from, int64_t step, size_t n, double *acc, double *tmp, struct err *e)
{
	int rc = query_range(c->q, id, from, from + (int64_t)n * step, step,
			     g->counter ? QUERY_RATE : QUERY_AVG, tmp, n, e);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		acc[i] += sign * tmp[i];
	return 0;
}

static int read_line(struct graph_ctx *c, const struct graph_inst *g, const struct graph_line *l,
		     int64_t from, int64_t step, size_t n, struct line_data *d, double *tmp,
		     struct err *e)
{
	int rc = 0;
	bool envelope = !g->counter && l->n_plus == 1 && !l->n_minus && !l->n_per;
	if (envelope) {
		double *out[QUERY_AGGS] = { 0 };
		out[QUERY_AVG] = d->avg;
		out[QUERY_MIN] = d->min;
		out[QUERY_MAX] = d->max;
		rc = query_range_multi(c->q, l->plus[0], from, from + (int64_t)n * step, step, out,
				       n, e);
		for (size_t i = 0; i < n && rc == 0; i++) {
			d->avg[i] *= l->scale;
			d->min[i] *= l->scale;
			d->max[i] *= l->scale;
		}
		return rc;
	}
	d->min = d->max = NULL;
	for (size_t i = 0; i < n; i++)
		d->avg[i] = 0;
	for (size_t t = 0; t < l->n_plus && rc == 0; t++)
		rc = add_series(c, g, l->plus[t], 1, from, step, n, d->avg, tmp, e);
	for (size_t t = 0; t < l->n_minus && rc == 0; t++)
		rc = add_series(c, g, l->minus[t], -1, from, step, n, d->avg, tmp, e);
	if (rc == 0 && l->n_per) {
		double *den = tmp + n;
		for (size_t i = 0; i < n; i++)
			den[i] = 0;
		for (size_t t = 0; t < l->n_per && rc == 0; t++)
			rc = add_series(c, g, l->per[t], 1, from, step, n, den, tmp, e);
		for (size_t i = 0; i < n; i++)
			d->avg[i] = den[i] > 0 ? 100 * d->avg[i] / den[i] : NAN;
	}
	for (size_t i = 0; i < n; i++)
		d->avg[i] *= l->scale;
	return rc;
}

/* Closes short holes: a window without a sample between two with one (data
 * sent every 10 s in windows of 3 s, hourly rollups in windows of 27 min)
 * is drawn from its neighbours, so a line does not look dotted; a hole
 * longer than a minute or four windows is an outage and stays one. */
static void fill_holes(double *v, size_t n, int64_t step)
{
	if (!v)
		return;
	size_t max_gap = (size_t)((60 * RTIME_NS_PER_SEC + step - 1) / step);
	max_gap = max_gap < 4 ? 4 : max_gap;
	size_t last = SIZE_MAX; /* the last window with a value */
	for (size_t i = 0; i < n; i++) {
		if (isnan(v[i]))
			continue;
		if (last != SIZE_MAX && i - last > 1 && i - last - 1 <= max_gap)
			for (size_t k = last + 1; k < i; k++)
				v[k] = v[last] +
				       (v[i] - v[last]) * (double)(k - last) / (double)(i - last);
		last = i;
	}
}

/* The post-processing of lines by label: shares of their sum, zero lines
 * dropped, the largest kept. */
static void shape_lines(const struct family *f, const struct graph_inst *g, struct line_data *d,
			size_t n)
{
	if (f && f->percent_of_sum)
		for (size_t i = 0; i < n; i++) {
			double sum = 0;
			for (size_t l = 0; l < g->n_lines; l++)
				if (!isnan(d[l].avg[i]))
					sum += d[l].avg[i];
			for (size_t l = 0; l < g->n_lines; l++)
				d[l].avg[i] = sum > 0 ? 100 * d[l].avg[i] / sum : NAN;
		}
	size_t kept = 0;
	for (size_t l = 0; l < g->n_lines; l++) {
		double total = 0;
		size_t count = 0;
		for (size_t i = 0; i < n; i++)
			if (!isnan(d[l].avg[i])) {
				total += fabs(d[l].avg[i]);
				count++;
			}
		d[l].mean = count ? total / (double)count : 0;
		d[l].drop = g->lines[l].hidden || (f && f->drop_zero_lines && d[l].mean == 0);
		kept += !d[l].drop;
	}
	if (kept == 0 && g->n_lines > 0 && !g->lines[0].hidden)
		d[0].drop = false;
	if (f && f->max_lines)
		while (kept > f->max_lines) {
			size_t smallest = SIZE_MAX;
			for (size_t l = 0; l < g->n_lines; l++)
				if (!d[l].drop &&
				    (smallest == SIZE_MAX || d[l].mean < d[smallest].mean))
					smallest = l;
			d[smallest].drop = true;
			kept--;
		}
}

static uint64_t signature(const struct graph_ctx *c, const struct graph_inst *g, const char *path,
			  int64_t step, int64_t shape, const double *thr, size_t n_thr,
			  const struct plot_span *spans, size_t n_spans, int64_t grid_end)
{
	uint64_t h = drawn_hash(DRAWN_HASH_START, path, strlen(path));
	int64_t grid[2] = { step, shape };
	int dims[3] = { c->width, c->height, (int)c->format };
	h = drawn_hash(h, grid, sizeof grid);
	h = drawn_hash(h, dims, sizeof dims);
	h = drawn_hash(h, g->title, strlen(g->title));
	h = drawn_hash(h, &g->n_lines, sizeof g->n_lines);
	h = drawn_hash(h, &c->salt, sizeof c->salt);
	if (n_thr)
		h = drawn_hash(h, thr, n_thr * sizeof *thr);
	/* A span still going ends with the grid: it moves the graph only as
	 * far as the grid itself does. */
	for (size_t i = 0; i < n_spans; i++) {
		int64_t span[2] = { spans[i].from,
				    spans[i].to == grid_end ? INT64_MAX : spans[i].to };
		h = drawn_hash(h, span, sizeof span);
	}
	return h;
}

#define MIN_WINDOWS 20

/* The oldest sample of g's series (INT64_MIN when unknown). */
static int64_t oldest_sample(struct graph_ctx *c, const struct graph_inst *g)
{
	int64_t oldest = INT64_MAX;
	for (size_t l = 0; l < g->n_lines; l++)
		for (size_t t = 0; t < g->lines[l].n_plus; t++) {
			struct query_latest own;
			const struct query_latest *q =
			    c->latest ? graph_latest_find(c->latest, g->lines[l].plus[t]) : &own;
			if (!c->latest &&
			    query_latest(c->q, &g->lines[l].plus[t], 1, &own, NULL) != 0)
				q = NULL;
			if (q && q->ts != INT64_MIN && q->first_ts < oldest)
				oldest = q->first_ts;
		}
	return oldest == INT64_MAX ? INT64_MIN : oldest;
}

int64_t graph_step(int width, int64_t span_ns, size_t *n_out)
{
	size_t n = plot_windows(width);
	int64_t step = (span_ns + (int64_t)n - 1) / (int64_t)n;
	step = (step + RTIME_NS_PER_SEC - 1) / RTIME_NS_PER_SEC * RTIME_NS_PER_SEC;
	if (n_out)
		*n_out = (size_t)((span_ns + step - 1) / step);
	return step;
}

int graph_draw(struct graph_ctx *c, const struct graph_inst *g, int64_t end, int64_t span_ns,
	       int64_t min_move, const char *path, const double *thresholds, size_t n_thresholds,
	       const struct plot_span *spans, size_t n_spans, struct err *e)
{
	size_t n;
	int64_t step = graph_step(c->width, span_ns, &n);
	/* The grid is aligned to the step, so it moves only when a window
	 * ends: that is what the signature follows. */
	int64_t grid_end = (end / step + 1) * step, from = grid_end - (int64_t)n * step;
	/* A host younger than the range is drawn over its own data (the
	 * demo's minute fills the hour's graph, not its last pixels), as long
	 * as that is 20 windows at least. */
	int64_t first = oldest_sample(c, g), shape = (int64_t)n;
	if (first > from && (grid_end - first / step * step) / step >= MIN_WINDOWS) {
		from = first / step * step;
		n = (size_t)((grid_end - from) / step);
		shape = -from; /* fixed while the grid moves: min_move still holds */
	}
	double thr[8];
	size_t n_thr = 0;
	for (size_t i = 0; i < n_thresholds && n_thr < 7; i++)
		thr[n_thr++] = thresholds[i];
	if (g->fam && g->fam->cores_threshold && c->cores > 0)
		thr[n_thr++] = c->cores;
	/* Spans to whole windows: what a window shows, and an alert still
	 * firing moves a coarse graph only when its grid moves. */
	struct plot_span shade[16];
	size_t n_shade = 0;
	for (size_t i = 0; i < n_spans && n_shade < 16; i++) {
		int64_t a = spans[i].from / step * step, b = (spans[i].to / step + 1) * step;
		if (b > from && a < grid_end)
			shade[n_shade++] =
			    (struct plot_span){ a < from ? from : a, b > grid_end ? grid_end : b };
	}
	spans = shade;
	n_spans = n_shade;
	uint64_t sig = signature(c, g, path, step, shape, thr, n_thr, spans, n_spans, grid_end);
	if (drawn_same(c->drawn, path, sig, grid_end, min_move > step ? min_move : step) &&
	    access(path, F_OK) == 0) {
		c->skipped++;
		return 0;
	}
	int rc = 0;
	size_t nl = g->n_lines;
	struct line_data *d = calloc(nl, sizeof *d);
	double *values = malloc((3 * nl + 2) * n * sizeof *values);
	struct plot_line *pl = calloc(nl, sizeof *pl);
	if (!d || !values || !pl) {
		rc = err_set(e, -ENOMEM, "out of memory drawing %s", path);
		goto out;
	}
	double *tmp = values + 3 * nl * n;
	for (size_t l = 0; l < nl && rc == 0; l++) {
		d[l].avg = values + 3 * l * n;
		d[l].min = d[l].avg + n;
		d[l].max = d[l].min + n;
		rc = read_line(c, g, &g->lines[l], from, step, n, &d[l], tmp, e);
	}
	if (rc != 0)
		goto out;
	for (size_t l = 0; l < nl; l++) {
		fill_holes(d[l].avg, n, step);
		fill_holes(d[l].min, n, step);
		fill_holes(d[l].max, n, step);
	}
	shape_lines(g->fam, g, d, n);
	size_t np = 0;
	for (size_t l = 0; l < nl; l++) {
		if (d[l].drop)
			continue;
		pl[np++] = (struct plot_line){ .title = g->lines[l].title,
					       .avg = d[l].avg,
					       .min = d[l].min,
					       .max = d[l].max,
					       .colour = plot_colour_for(g->lines[l].title) };
	}
	bool percent = g->fam && g->fam->percent_axis;
	struct plot_graph pg = {
		.path = path,
		.format = c->format,
		.width = c->width,
		.height = c->height,
		.title = g->title,
		.unit = g->fam ? g->fam->unit : (g->counter ? PLOT_UNIT_PER_SEC : PLOT_UNIT_NONE),
		.from = from,
		.step = step,
		.n = n,
		.lines = pl,
		.n_lines = np,
		.stacked = g->fam && g->fam->stacked,
		.thresholds = thr,
		.n_thresholds = n_thr,
		.spans = spans,
		.n_spans = n_spans,
		.ymin = percent || (g->fam && g->fam->stacked) ? 0 : NAN,
		.ymax = percent ? 100 : NAN,
	};
	if ((rc = plot_draw(c->pool, &pg, e)) == 0) {
		c->drawn_now++;
		rc = drawn_set(c->drawn, path, sig, grid_end);
		if (rc != 0)
			err_set(e, rc, "out of memory recording %s", path);
	}
out:
	free(d);
	free(values);
	free(pl);
	return rc;
}
