/* expo.c - the Prometheus exposition formats; see expo.h.  Samples are
 * kept as rendered text in one arena (metric name, then the label list
 * already escaped), so writing a scrape is sorting an index by family and
 * copying. */
#include "net/expo.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/escape.h"
#include "lib/grow.h"

/* 24 bytes: the agent keeps a few thousand. */
struct entry {
	uint32_t metric_off;		 /* the labels follow the name */
	uint16_t metric_len, labels_len; /* labels: k="v",k="v" without braces */
	double value;
	int64_t ts;
};

struct expo {
	char *arena;
	size_t len, cap;
	struct entry *entries;
	size_t n, entries_cap;
	uint32_t *order;
	size_t order_cap, order_n; /* order_n: entries the last sort ordered */
};

struct expo *expo_new(void)
{
	return calloc(1, sizeof(struct expo));
}

void expo_free(struct expo *x)
{
	if (!x)
		return;
	free(x->arena);
	free(x->entries);
	free(x->order);
	free(x);
}

void expo_clear(struct expo *x)
{
	x->len = 0;
	x->n = 0;
}

size_t expo_count(const struct expo *x)
{
	return x->n;
}

static bool put(struct expo *x, const char *s, size_t n)
{
	if (!grow_bytes(&x->arena, &x->cap, x->len + n, 64 * 1024))
		return false;
	memcpy(x->arena + x->len, s, n);
	x->len += n;
	return true;
}

/* A name in Prometheus' alphabet: [a-zA-Z_:][a-zA-Z0-9_:]* for metrics,
 * the same without ':' for labels. */
static bool put_name(struct expo *x, const char *s, bool colon)
{
	size_t n = strlen(s);
	if (!grow_bytes(&x->arena, &x->cap, x->len + n + 1, 64 * 1024))
		return false;
	char *d = x->arena + x->len;
	if (n == 0)
		d[n++] = '_';
	for (size_t i = 0; s[i]; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			  (colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
		d[i] = ok ? c : '_';
	}
	x->len += n;
	return true;
}

/* A label value between quotes: shown safely first (lib/escape.h), then
 * \\, \" and newline escaped as both formats require. */
static bool put_value(struct expo *x, const char *v)
{
	char shown[4 * SERIES_NAME_MAX + 8];
	size_t n = strlen(v);
	if (series_check_label_value(v, n, NULL) != 0) {
		size_t need = escape(ESCAPE_TEXT, shown, sizeof shown, v, n);
		v = shown;
		n = need < sizeof shown ? need : strlen(shown);
	}
	if (!grow_bytes(&x->arena, &x->cap, x->len + 2 * n + 2, 64 * 1024))
		return false;
	char *d = x->arena + x->len;
	*d++ = '"';
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '\\' || v[i] == '"') {
			*d++ = '\\';
			*d++ = v[i];
		} else if (v[i] == '\n') {
			*d++ = '\\';
			*d++ = 'n';
		} else {
			*d++ = v[i];
		}
	}
	*d++ = '"';
	x->len = (size_t)(d - x->arena);
	return true;
}

int expo_add(struct expo *x, const char *metric, const struct series_label *labels, size_t n,
	     double value, int64_t ts_ns)
{
	if (!grow_array_from(&x->entries, &x->entries_cap, x->n + 1, sizeof *x->entries, 1024))
		return -ENOMEM;
	size_t start = x->len;
	struct entry *en = &x->entries[x->n];
	en->metric_off = (uint32_t)x->len;
	if (!put_name(x, metric, true))
		goto nomem;
	if (x->len - en->metric_off > UINT16_MAX)
		goto nomem;
	en->metric_len = (uint16_t)(x->len - en->metric_off);
	size_t labels_off = x->len;
	for (size_t i = 0; i < n; i++) {
		if (!labels[i].value[0])
			continue;
		bool twice = false;
		for (size_t j = 0; j < i && !twice; j++)
			twice = labels[j].value[0] && strcmp(labels[j].key, labels[i].key) == 0;
		if (twice)
			continue;
		if ((x->len > labels_off && !put(x, ",", 1)) ||
		    !put_name(x, labels[i].key, false) || !put(x, "=", 1) ||
		    !put_value(x, labels[i].value))
			goto nomem;
	}
	if (x->len - labels_off > UINT16_MAX)
		goto nomem;
	en->labels_len = (uint16_t)(x->len - labels_off);
	en->value = value;
	en->ts = ts_ns;
	if (x->len > UINT32_MAX)
		goto nomem;
	x->n++;
	return 0;
nomem:
	x->len = start;
	return -ENOMEM;
}

int expo_add_text(struct expo *x, const char *metric, size_t metric_len, const char *labels,
		  size_t labels_len, double value, int64_t ts_ns)
{
	if (metric_len > UINT16_MAX || labels_len > UINT16_MAX || x->len > UINT32_MAX ||
	    !grow_array_from(&x->entries, &x->entries_cap, x->n + 1, sizeof *x->entries, 1024) ||
	    !grow_bytes(&x->arena, &x->cap, x->len + metric_len + labels_len, 64 * 1024))
		return -ENOMEM;
	x->entries[x->n++] = (struct entry){ (uint32_t)x->len, (uint16_t)metric_len,
					     (uint16_t)labels_len, value, ts_ns };
	memcpy(x->arena + x->len, metric, metric_len);
	memcpy(x->arena + x->len + metric_len, labels, labels_len);
	x->len += metric_len + labels_len;
	return 0;
}

static int by_family(const void *a, const void *b, void *ctx)
{
	const struct expo *sorting = ctx;
	const struct entry *ea = &sorting->entries[*(const uint32_t *)a];
	const struct entry *eb = &sorting->entries[*(const uint32_t *)b];
	size_t n = ea->metric_len < eb->metric_len ? ea->metric_len : eb->metric_len;
	int c = memcmp(sorting->arena + ea->metric_off, sorting->arena + eb->metric_off, n);
	if (c == 0 && ea->metric_len != eb->metric_len)
		c = ea->metric_len < eb->metric_len ? -1 : 1;
	if (c == 0) /* stable: in the order added */
		c = *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
	return c;
}

/* Writes |m| (below 10^16) in decimal, with a point before the last
 * `decimals` digits and their trailing zeros cut; returns the length. */
static int format_fixed(char *buf, uint64_t m, bool negative, int decimals)
{
	char digits[24];
	int n = 0, len = 0;
	do {
		digits[n++] = (char)('0' + m % 10);
		m /= 10;
	} while (m || n <= decimals);
	int cut = 0; /* trailing zeros of the fraction */
	while (cut < decimals && digits[cut] == '0')
		cut++;
	if (negative)
		buf[len++] = '-';
	for (int i = n - 1; i >= cut; i--) {
		buf[len++] = digits[i];
		if (i == decimals && i > cut)
			buf[len++] = '.';
	}
	return len;
}

/* The shortest text that reads back as the same double.  Most values are
 * whole numbers or have two decimals (percentages, load averages):
 * written without printf, which was most of a scrape's cost.  m / 100.0
 * and the reading of "m/100" in decimal are both the double nearest to
 * the same number, so the text reads back exactly. */
static int format_value(char *buf, size_t cap, double v)
{
	if (isnan(v))
		return snprintf(buf, cap, "NaN");
	if (isinf(v))
		return snprintf(buf, cap, v > 0 ? "+Inf" : "-Inf");
	double a = fabs(v);
	if (a < 1e15) {
		if (a == (double)(uint64_t)a)
			return format_fixed(buf, (uint64_t)a, v < 0, 0);
		double hundredths = nearbyint(a * 100);
		if (hundredths < 1e15 && hundredths / 100.0 == a)
			return format_fixed(buf, (uint64_t)hundredths, v < 0, 2);
	}
	int n = snprintf(buf, cap, "%.15g", v);
	if (strtod(buf, NULL) != v)
		n = snprintf(buf, cap, "%.17g", v);
	return n;
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);
	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

static void family_head(struct httpd_response *r, enum expo_format f, const char *name, size_t n)
{
	bool counter = ends_with(name, n, "_total");
	/* OpenMetrics names a counter's family without its _total. */
	size_t family = counter && f == EXPO_OPENMETRICS ? n - 6 : n;
	httpd_append(r, "# HELP ", 7);
	httpd_append(r, name, family);
	httpd_append(r, " See docs/metrics.md.\n# TYPE ", 29);
	httpd_append(r, name, family);
	if (counter)
		httpd_append(r, " counter\n", 9);
	else
		httpd_append(r, " gauge\n", 7);
}

int expo_write(struct expo *x, enum expo_format f, struct httpd_response *r)
{
	if (!grow_array_from(&x->order, &x->order_cap, x->n + 1, sizeof *x->order, 1024))
		return -ENOMEM;
	/* A collection repeats the last one: its order usually still holds,
	 * and checking it is n comparisons instead of a sort's n log n. */
	bool still = x->order_n == x->n;
	for (size_t i = 1; still && i < x->n; i++)
		still = by_family(&x->order[i - 1], &x->order[i], x) < 0;
	if (!still) {
		for (size_t i = 0; i < x->n; i++)
			x->order[i] = (uint32_t)i;
		qsort_r(x->order, x->n, sizeof *x->order, by_family, x);
		x->order_n = x->n;
	}
	r->content_type = f == EXPO_OPENMETRICS
			      ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
			      : "text/plain; version=0.0.4; charset=utf-8";
	const char *last = NULL;
	size_t last_len = 0;
	for (size_t i = 0; i < x->n && !r->failed; i++) {
		const struct entry *en = &x->entries[x->order[i]];
		const char *name = x->arena + en->metric_off;
		if (!last || last_len != en->metric_len || memcmp(last, name, last_len) != 0) {
			family_head(r, f, name, en->metric_len);
			last = name;
			last_len = en->metric_len;
		}
		char line[96];
		int n = format_value(line + 1, sizeof line - 1, en->value) + 1;
		line[0] = ' ';
		if (en->ts != EXPO_NO_TS) {
			long long ms = (long long)(en->ts / 1000000);
			if (f == EXPO_OPENMETRICS) /* seconds, with the milliseconds */
				n += snprintf(line + n, sizeof line - (size_t)n, " %lld.%03lld",
					      ms / 1000, ms % 1000 < 0 ? -(ms % 1000) : ms % 1000);
			else { /* the common case: no printf (a tenth of a 100,000-series scrape) */
				line[n++] = ' ';
				n += format_fixed(line + n, (uint64_t)(ms < 0 ? -ms : ms), ms < 0,
						  0);
			}
		}
		line[n++] = '\n';
		httpd_append(r, name, en->metric_len);
		if (en->labels_len) {
			httpd_append(r, "{", 1);
			httpd_append(r, x->arena + en->metric_off + en->metric_len, en->labels_len);
			httpd_append(r, "}", 1);
		}
		httpd_append(r, line, (size_t)n);
	}
	if (f == EXPO_OPENMETRICS)
		httpd_append(r, "# EOF\n", 6);
	return r->failed ? -ENOMEM : 0;
}
