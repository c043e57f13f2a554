/* expose.c - the agent's /metrics; see expose.h.  One sample set: a
 * collection runs within one pass of the loop, so no scrape can see it
 * half done, and a second set would double the memory. */
#include "collectd/expose.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/expo.h"
#include "net/httpd.h"

struct coll_expose {
	struct coll_sink sink; /* first: the collectors see only this */
	struct coll_sink *next;
	const struct coll_config *config;
	struct expo *served;
	struct httpd *httpd;
	struct series_label statics[COLL_MAX_LABELS];
	char statics_text[COLL_LIST_BYTES];
	size_t n_statics;
};

/* Where the agent's series differ from node_exporter's, a scraper gets
 * node_exporter's, so queries written for it add up the same: the agent's
 * cpu="total" (node_exporter has none: sum() makes it) is left out, and
 * guest time, which the kernel counts in user and nice already, goes to
 * node_cpu_guest_seconds_total as node_exporter has it.  False: leave the
 * value out. */
static bool as_node_exporter(const char **metric, struct series_label *labels, size_t n,
			     struct series_label *out)
{
	if (strcmp(*metric, "node_cpu_seconds_total") != 0)
		return true;
	for (size_t i = 0; i < n; i++) {
		out[i] = labels[i];
		if (strcmp(labels[i].key, "cpu") == 0 && strcmp(labels[i].value, "total") == 0)
			return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(labels[i].key, "mode") != 0)
			continue;
		bool guest = strcmp(labels[i].value, "guest") == 0;
		if (guest || strcmp(labels[i].value, "guest_nice") == 0) {
			*metric = "node_cpu_guest_seconds_total";
			out[i].value = guest ? "user" : "nice";
		}
	}
	return true;
}

static void on_value(struct coll_sink *sink, const char *metric, struct series_label *labels,
		     size_t n_labels, double value)
{
	struct coll_expose *x = (struct coll_expose *)sink;
	struct series_label all[COLL_MAX_LABELS + 8];
	size_t n = 0;
	const char *exposed = metric;
	if (n_labels > COLL_MAX_LABELS + 8 || !as_node_exporter(&exposed, labels, n_labels, all))
		goto pass_on;
	/* The collector's labels first: they win over a static one of the same name. */
	if (exposed == metric)
		for (size_t i = 0; i < n_labels; i++)
			all[i] = labels[i];
	n = n_labels;
	for (size_t i = 0; i < x->n_statics && n < sizeof all / sizeof all[0]; i++)
		all[n++] = x->statics[i];
	expo_add(x->served, exposed, all, n, value, EXPO_NO_TS); /* -ENOMEM: one value less */
pass_on:
	if (x->next)
		x->next->value(x->next, metric, labels, n_labels, value);
}

static int on_scrape(void *ctx, const struct httpd_request *req, struct httpd_response *res)
{
	struct coll_expose *x = ctx;
	return expo_write(x->served, expo_format_for(req), res);
}

int coll_expose_open(const struct coll_config *c, struct evloop *loop, struct coll_expose **out,
		     struct err *e)
{
	struct coll_expose *x = calloc(1, sizeof *x);
	*out = NULL;
	if (!x || !(x->served = expo_new())) {
		coll_expose_close(x);
		return err_set(e, -ENOMEM, "exposition: out of memory");
	}
	x->sink.value = on_value;
	x->config = c;
	struct httpd_config hc;
	httpd_config_default(&hc, c->expose_listen, loop);
	int rc = httpd_open(&hc, on_scrape, x, &x->httpd, e);
	if (rc != 0) {
		coll_expose_close(x);
		return rc;
	}
	*out = x;
	return 0;
}

void coll_expose_close(struct coll_expose *x)
{
	if (!x)
		return;
	httpd_close(x->httpd);
	expo_free(x->served);
	free(x);
}

/* labels = "k=v,k=v" of the configuration, read again at each
 * collection so a reload changes them. */
static void read_statics(struct coll_expose *x)
{
	x->n_statics = 0;
	snprintf(x->statics_text, sizeof x->statics_text, "%s", x->config->labels);
	for (char *save = NULL, *pair = strtok_r(x->statics_text, ",", &save);
	     pair && x->n_statics < COLL_MAX_LABELS; pair = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(pair, '=');
		if (eq) {
			*eq = '\0';
			x->statics[x->n_statics++] = (struct series_label){ pair, eq + 1 };
		}
	}
}

struct coll_sink *coll_expose_begin(struct coll_expose *x, struct coll_sink *next)
{
	x->next = next;
	read_statics(x);
	expo_clear(x->served);
	return &x->sink;
}

void coll_expose_end(struct coll_expose *x)
{
	(void)x; /* served as it is */
}
