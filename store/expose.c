/* expose.c - the store's /metrics; see expose.h.  A scrape lists the
 * matching series (names in byte order, so by host), reads their latest
 * values in one pass without decoding chunks, and hands them to the
 * exposition writer, which groups them by metric. */
#include "store/expose.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/grow.h"
#include "lib/rtime.h"
#include "lib/series_name.h"
#include "net/expo.h"
#include "net/httpd.h"
#include "store/query.h"

#define MAX_SELECTORS 16

void store_expose_config_default(struct store_expose_config *c)
{
	*c = (struct store_expose_config){ .listen = NULL, .max_age_ns = 300 * RTIME_NS_PER_SEC };
}

struct store_expose {
	struct store_expose_config c;
	struct query *q;
	char *data_dir;
	struct httpd *httpd;
	struct expo *expo;
	/* One scrape's series: ids, and their names in an arena. */
	uint64_t *ids;
	size_t n, ids_cap;
	size_t *name_off;
	size_t name_off_cap;
	char *names;
	size_t names_len, names_cap;
	struct query_latest *latest;
	size_t latest_cap;
	struct query_selector *sel[MAX_SELECTORS];
	size_t n_sel;
};

static int on_series(void *ctx, uint64_t id, const char *name, size_t len)
{
	struct store_expose *x = ctx;
	if (x->n_sel > 1) { /* several selectors: a series matching any */
		bool any = false;
		for (size_t i = 0; i < x->n_sel && !any; i++)
			any = query_selector_match(x->sel[i], name, len);
		if (!any)
			return 0;
	}
	if (!grow_array(&x->ids, &x->ids_cap, x->n + 1, sizeof *x->ids) ||
	    !grow_array(&x->name_off, &x->name_off_cap, x->n + 1, sizeof *x->name_off) ||
	    !grow_bytes(&x->names, &x->names_cap, x->names_len + len + 1, 1 << 20))
		return -ENOMEM;
	x->ids[x->n] = id;
	x->name_off[x->n++] = x->names_len;
	memcpy(x->names + x->names_len, name, len);
	x->names[x->names_len + len] = '\0';
	x->names_len += len + 1;
	return 0;
}

/* One series into the exposition: host first, the series' own labels
 * after (its own "host", if it has one, as exported_host).  The
 * canonical name's label text is valid exposition text already, so it is
 * copied as it is unless it holds a label named host. */
static int add_series(struct store_expose *x, const char *name, const struct query_latest *l)
{
	const char *slash = strchr(name, '/'), *brace = slash ? strchr(slash, '{') : NULL;
	if (!slash)
		return 0; /* the readers' API hands out valid names only */
	const char *metric = slash + 1;
	size_t metric_len = brace ? (size_t)(brace - metric) : strlen(metric);
	if (!brace || !strstr(brace, "host=\"")) { /* host="H" then the labels inside the braces */
		char labels[SERIES_NAME_MAX + 16];
		size_t host_len = (size_t)(slash - name), inner = brace ? strlen(brace) - 2 : 0,
		       n = 0;
		memcpy(labels, "host=\"", 6);
		memcpy(labels + 6, name, host_len);
		n = 6 + host_len;
		labels[n++] = '"';
		if (brace) {
			labels[n++] = ',';
			memcpy(labels + n, brace + 1, inner);
			n += inner;
		}
		return expo_add_text(x->expo, metric, metric_len, labels, n, l->value, l->ts);
	}
	char buf[SERIES_NAME_MAX + 1];
	const char *host, *label_text;
	struct series_label labels[SERIES_LABELS_MAX + 1];
	snprintf(buf, sizeof buf, "%s", name);
	if (series_split(buf, &host, &metric, &label_text) != 0)
		return 0;
	labels[0] = (struct series_label){ "host", host };
	int n = series_split_labels((char *)label_text, labels + 1, SERIES_LABELS_MAX);
	if (n < 0)
		return 0;
	for (int i = 1; i <= n; i++)
		if (strcmp(labels[i].key, "host") == 0)
			labels[i].key = "exported_host";
	return expo_add(x->expo, metric, labels, (size_t)n + 1, l->value, l->ts);
}

/* Reads match[] parameters into x->sel; -EINVAL with r holding the 400. */
static int read_selectors(struct store_expose *x, const struct httpd_request *req,
			  struct httpd_response *r)
{
	const char *at = req ? req->query : NULL, *end = at ? at + req->query_len : NULL;
	char key[32], value[SERIES_NAME_MAX + 1];
	int rc;
	while (at && (rc = httpd_query_next(&at, end, key, sizeof key, value, sizeof value)) != 0) {
		struct err e = { 0 };
		if (rc < 0) {
			r->status = 400;
			httpd_printf(r, "a query parameter is not well encoded\n");
			return -EINVAL;
		}
		if (strcmp(key, "match[]") != 0)
			continue;
		if (x->n_sel == MAX_SELECTORS) {
			r->status = 400;
			httpd_printf(r, "at most %d match[] selectors\n", MAX_SELECTORS);
			return -EINVAL;
		}
		if (query_selector_parse(value, &x->sel[x->n_sel], &e) != 0) {
			r->status = 400;
			httpd_printf(r, "match[]: %s\n", e.msg);
			return -EINVAL;
		}
		x->n_sel++;
	}
	return 0;
}

int store_expose_scrape(struct store_expose *x, const struct httpd_request *req,
			struct httpd_response *r)
{
	struct err e = { 0 };
	int rc;
	x->n = x->names_len = 0;
	expo_clear(x->expo);
	if ((rc = read_selectors(x, req, r)) != 0)
		goto out;
	if (!x->q && (rc = query_open(x->data_dir, &x->q, &e)) != 0)
		goto out;
	if ((rc = query_begin(x->q, &e)) != 0)
		goto out;
	rc = query_series(x->q, x->n_sel == 1 ? x->sel[0] : NULL, on_series, x, &e);
	int64_t oldest = rtime_now_ns() - x->c.max_age_ns;
	/* All at once: query_latest reads them in key order, which is what
	 * makes 100,000 of them cheap (in chunks, each lookup starts afresh). */
	if (rc == 0 && !grow_array(&x->latest, &x->latest_cap, x->n + 1, sizeof *x->latest))
		rc = -ENOMEM;
	if (rc == 0)
		rc = query_latest(x->q, x->ids, x->n, x->latest, &e);
	for (size_t i = 0; rc == 0 && i < x->n; i++)
		if (x->latest[i].ts != INT64_MIN && x->latest[i].ts >= oldest)
			rc = add_series(x, x->names + x->name_off[i], &x->latest[i]);
	query_end(x->q);
	if (rc == 0)
		rc = expo_write(x->expo, req ? expo_format_for(req) : EXPO_TEXT, r);
out:
	for (size_t i = 0; i < x->n_sel; i++)
		query_selector_free(x->sel[i]);
	x->n_sel = 0;
	if (rc == -EINVAL && r->status == 400)
		return 0; /* the answer says why */
	return rc;
}

static int on_scrape(void *ctx, const struct httpd_request *req, struct httpd_response *res)
{
	return store_expose_scrape(ctx, req, res);
}

int store_expose_open(const char *data_dir, const struct store_expose_config *c,
		      struct evloop *loop, struct store_expose **out, struct err *e)
{
	struct store_expose *x = calloc(1, sizeof *x);
	*out = NULL;
	if (!x || !(x->data_dir = strdup(data_dir)) || !(x->expo = expo_new())) {
		store_expose_close(x);
		return err_set(e, -ENOMEM, "exposition: out of memory");
	}
	x->c = *c;
	int rc = 0;
	if (c->listen) {
		struct httpd_config hc;
		httpd_config_default(&hc, c->listen, loop);
		rc = httpd_open(&hc, on_scrape, x, &x->httpd, e);
	}
	if (rc != 0) {
		store_expose_close(x);
		return rc;
	}
	*out = x;
	return 0;
}

void store_expose_close(struct store_expose *x)
{
	if (!x)
		return;
	httpd_close(x->httpd);
	query_close(x->q);
	expo_free(x->expo);
	free(x->data_dir);
	free(x->ids);
	free(x->name_off);
	free(x->names);
	free(x->latest);
	free(x);
}
