/* site.c - one pass over the site: the hosts of the store with their
 * summaries, the alerts, then every page (reportgen/page_*.c); and the
 * helpers the page writers share.  See report.h. */
#include "reportgen/report_private.h"

#include <errno.h>
#include <fnmatch.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/grow.h"
#include "lib/rtime.h"
#include "reportgen/outfile.h"

#define ALERTS_MAX 2000 /* listed per pass: the history page shows the moves */

/* A temporary file left by a pass that was killed: never renamed, so no
 * page refers to it, and it must not pile up. */
static int remove_tmp(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	size_t len = strlen(path);
	if (type == FTW_F && len > 4 && strcmp(path + len - 4, ".tmp") == 0)
		unlink(path);
	return 0;
}

int report_open(const struct report_options *o, struct report **out, struct err *e)
{
	struct report *r = calloc(1, sizeof *r);
	char path[PATH_MAX];
	int rc;
	if (!r)
		return err_set(e, -ENOMEM, "out of memory");
	r->o = *o;
	if (!r->o.width)
		r->o.width = 800;
	if (!r->o.height)
		r->o.height = 360;
	r->ext = o->format == PLOT_PNG ? "png" : "svg";
	snprintf(r->out, sizeof r->out, "%s", o->out_dir);
	if ((rc = outfile_mkdirs(r->out, e)) != 0)
		goto fail;
	nftw(r->out, remove_tmp, 16, FTW_PHYS);
	if ((rc = query_open(o->data_dir, &r->q, e)) != 0)
		goto fail;
	rc = o->config_path
		 ? alert_config_read_file(o->config_path, &r->cfg, e)
		 : alert_config_read_text(alert_config_default, "<embedded>", &r->cfg, e);
	if (rc != 0)
		goto fail;
	if ((rc = plot_pool_new(o->processes, &r->pool, e)) != 0)
		goto fail;
	snprintf(path, sizeof path, "%s/.reportgen-state", r->out);
	if ((rc = drawn_open(path, &r->drawn, e)) != 0)
		goto fail;
	*out = r;
	return 0;
fail:
	report_close(r);
	return rc;
}

static void free_hosts(struct report *r);

void report_close(struct report *r)
{
	if (!r)
		return;
	free_hosts(r);
	plot_pool_free(r->pool);
	drawn_free(r->drawn);
	alert_store_close(r->alerts);
	alert_config_free(r->cfg);
	query_close(r->q);
	graph_latest_free(&r->latest);
	html_free(&r->collectors);
	free(r->sweep);
	free(r->active);
	free(r->recent);
	free(r);
}

struct query *report_query(struct report *r)
{
	return r->q;
}

uint64_t report_alerts_generation(struct report *r)
{
	if (!r->alerts && alert_store_open(r->o.data_dir, 0, &r->alerts, NULL) != 0)
		r->alerts = NULL;
	return r->alerts ? alert_store_generation(r->alerts) : 0;
}

/* ---- formatting ---- */

void report_format(double v, enum plot_unit unit, char *buf, size_t cap)
{
	static const char *const binary[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	if (isnan(v) || isinf(v)) {
		snprintf(buf, cap, "-");
		return;
	}
	switch (unit) {
	case PLOT_UNIT_PERCENT:
		snprintf(buf, cap, "%.1f %%", v);
		return;
	case PLOT_UNIT_BYTES:
	case PLOT_UNIT_BYTES_PER_SEC: {
		size_t i = 0;
		while (fabs(v) >= 1024 && i + 1 < sizeof binary / sizeof binary[0]) {
			v /= 1024;
			i++;
		}
		snprintf(buf, cap, i ? "%.1f %s%s" : "%.0f %s%s", v, binary[i],
			 unit == PLOT_UNIT_BYTES ? "" : "/s");
		return;
	}
	case PLOT_UNIT_PER_SEC:
		snprintf(buf, cap, "%.3g/s", v);
		return;
	case PLOT_UNIT_SECONDS:
		snprintf(buf, cap, "%.3g s", v);
		return;
	case PLOT_UNIT_CELSIUS:
		snprintf(buf, cap,
			 "%.1f \xc2\xb0"
			 "C",
			 v);
		return;
	default:
		snprintf(buf, cap, "%.4g", v);
	}
}

void report_format_time(int64_t ns, char *buf, size_t cap)
{
	time_t t = (time_t)(ns / RTIME_NS_PER_SEC);
	struct tm tm;
	if (ns <= 0 || !localtime_r(&t, &tm) || !strftime(buf, cap, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, cap, "-");
}

void report_time_html(struct html *h, int64_t ns)
{
	char buf[64];
	report_format_time(ns, buf, sizeof buf);
	char *space = strchr(buf, ' ');
	if (!space) {
		html_raw(h, buf);
		return;
	}
	*space = '\0';
	html_rawf(h, "<span class=\"nw\">%s</span> <span class=\"nw\">%s</span>", buf, space + 1);
}

void report_format_age(int64_t now, int64_t then, char *buf, size_t cap)
{
	int64_t s = (now - then) / RTIME_NS_PER_SEC;
	if (then <= 0 || then == INT64_MIN)
		snprintf(buf, cap, "never");
	else if (s < 90)
		snprintf(buf, cap, "%lld s ago", (long long)(s < 0 ? 0 : s));
	else if (s < 90 * 60)
		snprintf(buf, cap, "%lld min ago", (long long)(s / 60));
	else if (s < 48 * 3600)
		snprintf(buf, cap, "%lld h ago", (long long)(s / 3600));
	else
		snprintf(buf, cap, "%lld days ago", (long long)(s / 86400));
}

int report_write_page(struct report *r, const char *rel, struct html *h, struct err *e)
{
	char path[PATH_MAX];
	bool written;
	if (h->failed)
		return err_set(e, -ENOMEM, "out of memory making %s", rel);
	snprintf(path, sizeof path, "%s/%s", r->out, rel);
	int rc = outfile_write(path, h->buf, h->len, &written, e);
	if (rc == 0 && written)
		r->st.pages_written++;
	else if (rc == 0)
		r->st.pages_same++;
	return rc;
}

/* True when a rule's expression is its series as it is (no function, no
 * arithmetic): only then is its threshold on the series' own scale. */
bool report_plain_expr(const char *expr)
{
	int depth = 0;
	bool quoted = false;
	for (const char *p = expr; p && *p; p++) {
		if (quoted) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '"')
				quoted = false;
		} else if (*p == '"')
			quoted = true;
		else if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']')
			depth--;
		else if (depth == 0 && strchr("()*/+- ", *p))
			return false;
	}
	return expr != NULL;
}

size_t report_thresholds(const struct report *r, const struct graph_inst *g, double *out,
			 size_t cap)
{
	size_t n = 0;
	if (!g->fam)
		return 0;
	const char *unit = plot_unit_name(g->fam->unit);
	for (size_t i = 0; i < r->cfg->n_rules && n < cap; i++) {
		const struct rule *rule = &r->cfg->rules[i];
		/* A threshold is on the graph's scale when the units agree and the
		 * rule reads its series as they are, or when both are percentages
		 * (a ratio rule over a ratio graph). */
		if (!rule->enabled || rule->kind == RULE_ABSENCE || !rule->metric ||
		    strcmp(rule->unit ? rule->unit : "", unit) != 0 ||
		    (g->fam->unit != PLOT_UNIT_PERCENT && !report_plain_expr(rule->expr)))
			continue;
		for (size_t m = 0; m < g->n_metrics; m++)
			if (fnmatch(rule->metric, g->metrics[m], 0) == 0) {
				out[n++] = rule->threshold;
				break;
			}
	}
	return n;
}

/* ---- the hosts ---- */

struct host_list {
	struct host_info *hosts;
	size_t n, cap;
};

static int on_host(void *ctx, const char *value, size_t len, size_t series)
{
	struct host_list *l = ctx;
	if (!grow_array(&l->hosts, &l->cap, l->n + 1, sizeof *l->hosts))
		return -ENOMEM;
	struct host_info *h = &l->hosts[l->n++];
	memset(h, 0, sizeof *h);
	snprintf(h->name, sizeof h->name, "%.*s", (int)len, value);
	outfile_slug(h->name, h->slug, sizeof h->slug);
	h->counted = series;
	return 0;
}

struct series_list {
	struct host_info *h;
	size_t cap, arena_len, arena_cap;
};

static int on_series(void *ctx, uint64_t id, const char *name, size_t len)
{
	struct series_list *l = ctx;
	struct host_info *h = l->h;
	if (!grow_array(&h->series, &l->cap, h->n_series + 1, sizeof *h->series) ||
	    !grow_bytes(&h->names, &l->arena_cap, l->arena_len + len + 1, 65536))
		return -ENOMEM;
	memcpy(h->names + l->arena_len, name, len);
	h->names[l->arena_len + len] = '\0';
	/* name points into the arena once it stops moving (below) */
	h->series[h->n_series++] =
	    (struct host_series){ id, (const char *)(uintptr_t)l->arena_len, len };
	l->arena_len += len + 1;
	return 0;
}

static int list_series(struct report *r, struct host_info *h, struct err *e)
{
	char text[300];
	struct query_selector *sel;
	snprintf(text, sizeof text, "%s/*", h->name);
	int rc = query_selector_parse(text, &sel, e);
	if (rc != 0)
		return rc;
	struct series_list l = { .h = h };
	rc = query_series(r->q, sel, on_series, &l, e);
	query_selector_free(sel);
	if (rc == -ENOMEM)
		err_set(e, rc, "out of memory listing the series of %s", h->name);
	for (size_t i = 0; i < h->n_series; i++)
		h->series[i].name = h->names + (uintptr_t)h->series[i].name;
	return rc;
}

static const struct host_series *host_find(const struct host_info *h, const char *metric,
					   const char *key, const char *value)
{
	char m[128], v[512];
	for (size_t i = 0; i < h->n_series; i++) {
		family_metric_of(h->series[i].name, h->series[i].len, m, sizeof m);
		if (strcmp(m, metric) != 0)
			continue;
		if (!key ||
		    (family_label_of(h->series[i].name, h->series[i].len, key, v, sizeof v) >= 0 &&
		     strcmp(v, value) == 0))
			return &h->series[i];
	}
	return NULL;
}

/* The newest value of s from the host's latest values (r->latest). */
static double latest(struct report *r, const struct host_series *s)
{
	const struct query_latest *l = s ? graph_latest_find(&r->latest, s->id) : NULL;
	return l && l->ts != INT64_MIN ? l->value : NAN;
}

/* ---- when each host was last seen ---- */

#define SWEEP_SLICE 8192 /* series a query_latest call of the sweep */

static int compare_series_host(const void *a, const void *b)
{
	uint64_t x = ((const struct report_series_host *)a)->id,
		 y = ((const struct report_series_host *)b)->id;
	return x < y ? -1 : x > y;
}

/* Every series of the listing in id order, once a listing. */
static int index_series(struct report *r, struct err *e)
{
	size_t n = 0, at = 0;
	for (size_t i = 0; i < r->n_hosts; i++)
		n += r->hosts[i].n_series;
	r->all = malloc((n ? n : 1) * sizeof *r->all);
	r->all_ids = malloc((n ? n : 1) * sizeof *r->all_ids);
	if (!r->sweep)
		r->sweep = malloc(SWEEP_SLICE * sizeof *r->sweep);
	if (!r->all || !r->all_ids || !r->sweep)
		return err_set(e, -ENOMEM, "out of memory for the index of %zu series", n);
	for (size_t i = 0; i < r->n_hosts; i++)
		for (size_t k = 0; k < r->hosts[i].n_series; k++)
			r->all[at++] = (struct report_series_host){ r->hosts[i].series[k].id, i };
	qsort(r->all, n, sizeof *r->all, compare_series_host);
	for (size_t i = 0; i < n; i++)
		r->all_ids[i] = r->all[i].id;
	r->n_all = n;
	return 0;
}

/* Each host's newest sample of all its series.  Its series are spread
 * over the whole "latest" database (ids are hashes), so a call a host
 * would descend from the root for nearly every one of them; all series
 * in id order meet each leaf page once, a few dozen on it.  A store that
 * cannot be read leaves the hosts unseen, as a series without data
 * would. */
static int sweep_last_seen(struct report *r, struct err *e)
{
	struct err ignored = { 0 };
	for (size_t i = 0; i < r->n_hosts; i++)
		r->hosts[i].last_seen = INT64_MIN;
	for (size_t at = 0; at < r->n_all; at += SWEEP_SLICE) {
		size_t n = r->n_all - at < SWEEP_SLICE ? r->n_all - at : SWEEP_SLICE;
		int rc = query_latest(r->q, r->all_ids + at, n, r->sweep, &ignored);
		if (rc == -ENOMEM)
			return err_set(e, rc, "%s", ignored.msg);
		for (size_t k = 0; k < n && rc == 0; k++) {
			struct host_info *h = &r->hosts[r->all[at + k].host];
			if (r->sweep[k].ts > h->last_seen)
				h->last_seen = r->sweep[k].ts;
		}
	}
	return 0;
}

/* The series whose newest values the summary shows, once a listing. */
static int find_summary_series(struct host_info *h, struct err *e)
{
	static const char *const metrics[] = { "node_filesystem_size_bytes",
					       "node_filesystem_avail_bytes",
					       "node_memory_MemTotal_bytes",
					       "node_memory_MemAvailable_bytes", "node_load1" };
	char m[128];
	size_t cap = 0;
	for (size_t i = 0; i < h->n_series; i++) {
		family_metric_of(h->series[i].name, h->series[i].len, m, sizeof m);
		for (size_t k = 0; k < sizeof metrics / sizeof metrics[0]; k++)
			if (strcmp(m, metrics[k]) == 0) {
				if (!grow_array(&h->summary_ids, &cap, h->n_summary_ids + 1,
						sizeof *h->summary_ids))
					return err_set(e, -ENOMEM, "out of memory listing %s",
						       h->name);
				h->summary_ids[h->n_summary_ids++] = h->series[i].id;
				break;
			}
	}
	return 0;
}

/* The figures of the index: CPU busy share and its sparkline, memory,
 * the fullest disk, the network rate, from the newest data (last_seen
 * comes from sweep_last_seen). */
static int summarise(struct report *r, struct host_info *h, struct err *e)
{
	char m[128], v[512];
	int64_t minute = 60 * RTIME_NS_PER_SEC;
	int64_t end = (r->now / minute + 1) * minute;
	double busy[REPORT_SPARK_POINTS] = { 0 }, all[REPORT_SPARK_POINTS] = { 0 };
	double rate[REPORT_SPARK_POINTS], now_busy = 0, now_all = 0;
	h->cpu_pct = h->mem_pct = h->disk_pct = h->net_bps = NAN;
	h->cores = 0; /* the host's figures of the last pass are done again */
	h->disk_mount[0] = '\0';
	h->net_bps = 0;
	bool net_seen = false;
	/* A store that cannot be read leaves the figures unknown, as they
	 * were when each series was read alone; memory would fail the next
	 * host too. */
	struct err ignored = { 0 };
	int rc =
	    graph_latest_read_ids(&r->latest, r->q, h->summary_ids, h->n_summary_ids, &ignored);
	if (rc == -ENOMEM)
		return err_set(e, rc, "%s", ignored.msg);
	for (size_t i = 0; i < h->n_series; i++) {
		const struct host_series *s = &h->series[i];
		family_metric_of(s->name, s->len, m, sizeof m);
		if (strcmp(m, "node_cpu_seconds_total") == 0) {
			if (family_label_of(s->name, s->len, "cpu", v, sizeof v) < 0)
				continue;
			if (strcmp(v, "total") != 0) {
				if (family_label_of(s->name, s->len, "mode", v, sizeof v) >= 0 &&
				    strcmp(v, "idle") == 0)
					h->cores++;
				continue;
			}
			family_label_of(s->name, s->len, "mode", v, sizeof v);
			if (strncmp(v, "guest", 5) == 0)
				continue;
			bool idle = strcmp(v, "idle") == 0 || strcmp(v, "iowait") == 0;
			if (query_range(r->q, s->id, end - REPORT_SPARK_POINTS * minute, end,
					minute, QUERY_RATE, rate, REPORT_SPARK_POINTS, NULL) != 0)
				continue;
			for (int k = 0; k < REPORT_SPARK_POINTS; k++)
				if (!isnan(rate[k])) {
					all[k] += rate[k];
					busy[k] += idle ? 0 : rate[k];
				}
			double last;
			if (query_range(r->q, s->id, r->now - minute, r->now, minute, QUERY_RATE,
					&last, 1, NULL) == 0 &&
			    !isnan(last)) {
				now_all += last;
				now_busy += idle ? 0 : last;
			}
		} else if (strcmp(m, "node_network_receive_bytes_total") == 0 ||
			   strcmp(m, "node_network_transmit_bytes_total") == 0) {
			if (family_label_of(s->name, s->len, "device", v, sizeof v) >= 0 &&
			    strcmp(v, "lo") == 0)
				continue;
			double last;
			if (query_range(r->q, s->id, r->now - minute, r->now, minute, QUERY_RATE,
					&last, 1, NULL) == 0 &&
			    !isnan(last)) {
				h->net_bps += last;
				net_seen = true;
			}
		} else if (strcmp(m, "node_filesystem_size_bytes") == 0) {
			if (family_label_of(s->name, s->len, "mountpoint", v, sizeof v) < 0)
				continue;
			double size = latest(r, s);
			double avail =
			    latest(r, host_find(h, "node_filesystem_avail_bytes", "mountpoint", v));
			double used = size > 0 ? 100 * (1 - avail / size) : NAN;
			if (!isnan(used) && (isnan(h->disk_pct) || used > h->disk_pct)) {
				h->disk_pct = used;
				snprintf(h->disk_mount, sizeof h->disk_mount, "%.*s",
					 (int)sizeof h->disk_mount - 1, v);
			}
		}
	}
	if (!net_seen)
		h->net_bps = NAN;
	for (int k = 0; k < REPORT_SPARK_POINTS; k++)
		h->spark[k] = all[k] > 0 ? 100 * busy[k] / all[k] : NAN;
	h->cpu_pct = now_all > 0 ? 100 * now_busy / now_all : NAN;
	double total = latest(r, host_find(h, "node_memory_MemTotal_bytes", NULL, NULL));
	double avail = latest(r, host_find(h, "node_memory_MemAvailable_bytes", NULL, NULL));
	h->mem_pct = total > 0 ? 100 * (1 - avail / total) : NAN;
	h->load1 = latest(r, host_find(h, "node_load1", NULL, NULL));
	return 0;
}

/* The health colour: the worst of the host's alerts, or stale when it
 * sent nothing for a while. */
static void rate_health(struct report *r, struct host_info *h)
{
	int worst = 0; /* 0 ok, 1 pending, 2 warning or info, 3 critical */
	h->n_firing = h->n_pending = 0;
	for (size_t i = 0; i < r->n_active; i++) {
		const struct alert *a = &r->active[i];
		if (strcmp(a->host, h->name) != 0)
			continue;
		if (a->state == ALERT_PENDING) {
			h->n_pending++;
			worst = worst < 1 ? 1 : worst;
		} else if (a->state == ALERT_FIRING) {
			h->n_firing++;
			int level = strcmp(a->severity, "critical") == 0 ? 3 : 2;
			worst = worst < level ? level : worst;
		}
	}
	static const char *const names[] = { "ok", "pending", "warning", "critical" };
	h->health = names[worst];
	if (worst == 0 && (h->last_seen == INT64_MIN || r->now - h->last_seen > REPORT_STALE_NS))
		h->health = "stale";
}

/* ---- the alerts ---- */

struct alert_list {
	struct alert **a;
	size_t *n, cap;
};

static int on_alert(void *ctx, const struct alert *a)
{
	struct alert_list *l = ctx;
	if (*l->n >= ALERTS_MAX)
		return 1; /* enough: stops the listing */
	if (!grow_array(l->a, &l->cap, *l->n + 1, sizeof **l->a))
		return -ENOMEM;
	(*l->a)[(*l->n)++] = *a;
	return 0;
}

static int read_alerts(struct report *r, struct err *e)
{
	r->n_active = r->n_recent = 0;
	/* Read before the alerts, so a write during the read shows as a
	 * change next time. */
	r->seen_generation = report_alerts_generation(r);
	if (!r->alerts)
		return 0;
	struct alert_list active = { &r->active, &r->n_active, 0 },
			  recent = { &r->recent, &r->n_recent, 0 };
	int rc = alert_store_alerts(r->alerts, true, on_alert, &active, e);
	if (rc == 0 || rc == 1)
		rc = alert_store_alerts(r->alerts, false, on_alert, &recent, e);
	return rc == 1 ? 0 : rc;
}

/* ---- the pass ---- */

static void free_host(struct host_info *h)
{
	free(h->series);
	free(h->names);
	graph_insts_free(h->graphs, h->n_graphs);
	free(h->page_ids);
	free(h->summary_ids);
}

static void free_hosts(struct report *r)
{
	for (size_t i = 0; i < r->n_hosts; i++)
		free_host(&r->hosts[i]);
	free(r->hosts);
	free(r->all);
	free(r->all_ids);
	r->hosts = NULL;
	r->all = NULL;
	r->all_ids = NULL;
	r->n_hosts = r->n_all = 0;
	r->listed = r->collectors_current = false;
}

/* Lists the hosts and their series again unless the store holds as many
 * series as at the last listing (report_private.h), in the snapshot
 * held.  A host listed then with as many series as it has now keeps its
 * listing, graph instances and ids: the same count is the same names
 * (while hosts connect one after the other, only the new ones are
 * listed). */
static int list_hosts(struct report *r, struct err *e)
{
	struct query_stats qs;
	bool counted = query_get_stats(r->q, &qs, NULL) == 0;
	if (r->listed && counted && qs.series == r->listed_series)
		return 0;
	struct host_list hosts = { 0 };
	struct host_info *old = r->listed ? r->hosts : NULL;
	size_t n_old = old ? r->n_hosts : 0, o = 0;
	int rc = query_label_values(r->q, NULL, "__host__", on_host, &hosts, e);
	for (size_t i = 0; i < hosts.n && rc == 0; i++) {
		struct host_info *h = &hosts.hosts[i];
		/* Both lists are in byte order of the names. */
		while (o < n_old && strcmp(old[o].name, h->name) < 0)
			o++;
		if (o < n_old && strcmp(old[o].name, h->name) == 0 &&
		    old[o].n_series == h->counted) {
			*h = old[o];
			memset(&old[o], 0, sizeof old[o]); /* moved: nothing to free */
		} else if ((rc = list_series(r, h, e)) == 0) {
			rc = find_summary_series(h, e);
		}
	}
	free_hosts(r); /* what was not moved */
	r->hosts = hosts.hosts;
	r->n_hosts = hosts.n;
	if (rc == 0)
		rc = index_series(r, e);
	r->listed = rc == 0 && counted;
	r->listed_series = counted ? qs.series : 0;
	return rc;
}

bool report_alerts_changed(struct report *r)
{
	return report_alerts_generation(r) != r->seen_generation;
}

/* The alerts read again, and the pages that show them written. */
static int alerts_refresh(struct report *r, struct err *e)
{
	int rc = read_alerts(r, e);
	for (size_t i = 0; i < r->n_hosts; i++)
		rate_health(r, &r->hosts[i]);
	if (rc == 0)
		rc = page_alerts(r, e);
	if (rc == 0)
		rc = page_index(r, e);
	return rc;
}

static int finish(struct report *r, int rc, int64_t began, struct report_stats *st, struct err *e)
{
	if (rc == 0)
		rc = plot_wait(r->pool, e);
	else
		plot_wait(r->pool, NULL);
	if (rc == 0)
		rc = drawn_save(r->drawn, e);
	r->st.hosts = r->n_hosts;
	r->st.elapsed_ns = rtime_mono_ns() - began;
	if (st)
		*st = r->st;
	return rc;
}

int report_pass_alerts(struct report *r, int64_t now, struct report_stats *st, struct err *e)
{
	int64_t began = rtime_mono_ns();
	memset(&r->st, 0, sizeof r->st);
	r->now = now;
	return finish(r, alerts_refresh(r, e), began, st, e);
}

int report_pass(struct report *r, int64_t now, struct report_stats *st, struct err *e)
{
	int64_t began = rtime_mono_ns();
	int rc;
	memset(&r->st, 0, sizeof r->st);
	r->now = r->data_time = now;
	if ((rc = read_alerts(r, e)) != 0)
		return rc;
	if ((rc = query_begin(r->q, e)) != 0)
		return rc;
	if ((rc = list_hosts(r, e)) == 0)
		rc = sweep_last_seen(r, e);
	for (size_t i = 0; i < r->n_hosts && rc == 0; i++)
		if ((rc = summarise(r, &r->hosts[i], e)) == 0)
			rate_health(r, &r->hosts[i]);
	query_end(r->q);
	if (rc == 0)
		rc = page_index(r, e);
	for (size_t i = 0; i < r->n_hosts && rc == 0; i++) {
		rc = page_host(r, &r->hosts[i], e);
		/* An alert that moved meanwhile is shown now, not after the
		 * remaining hosts. */
		if (rc == 0 && i + 1 < r->n_hosts && report_alerts_changed(r))
			rc = alerts_refresh(r, e);
	}
	if (rc == 0)
		rc = page_alerts(r, e);
	if (rc == 0)
		rc = page_config(r, e);
	return finish(r, rc, began, st, e);
}
