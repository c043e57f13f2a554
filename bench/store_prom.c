/* store_prom.c - what speaking Prometheus costs the store (the store
 * scenario's --prom part):
 *   scrape  /metrics of a store of N series (default 100,000), rendered in
 *           process as a scrape gets it, against only reading the same
 *           newest values through the readers' API;
 *   write   remote_write into a real victoria-metrics on 127.0.0.1 as fast
 *           as it takes it (100,000 samples a request), against only
 *           building the requests (protobuf + snappy), with both processes'
 *           CPU; then paced at 100,000 samples/s: the age of the oldest
 *           undelivered batch, sampled every 10 ms (p50, p99).
 * See store_parts.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/procstat.h"
#include "bench/store_parts.h"
#include "lib/evloop.h"
#include "lib/rtime.h"
#include "lib/series_name.h"
#include "net/httpd.h"
#include "shmring/ring.h"
#include "store/drainer.h"
#include "store/expose.h"
#include "store/query.h"
#include "store/remote_write.h"

static double self_cpu(void)
{
	struct rusage u;
	getrusage(RUSAGE_SELF, &u);
	return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 +
	       (double)u.ru_stime.tv_sec + (double)u.ru_stime.tv_usec / 1e6;
}

static void name_of(char *buf, size_t cap, size_t i)
{
	snprintf(buf, cap, "host%zu/node_cpu_seconds_total{cpu=\"%zu\",mode=\"idle\"}", i / 100,
		 i % 100);
}

/* A store of n series, one sample each, now. */
static void fill_store(const char *data, size_t n)
{
	struct drainer_config c;
	struct drainer *d;
	struct err e = { 0 };
	drainer_config_default(&c, data);
	c.host = "bench";
	if (drainer_open(&c, &d, &e) != 0)
		bench_die("%s", e.msg);
	int64_t now = rtime_now_ns() / RTIME_NS_PER_SEC * RTIME_NS_PER_SEC;
	enum { CHUNK = 8192 };
	static struct sample s[CHUNK];
	static char names[CHUNK][128];
	const char *ptrs[CHUNK];
	for (size_t at = 0; at < n; at += CHUNK) {
		size_t k = n - at < CHUNK ? n - at : CHUNK;
		for (size_t i = 0; i < k; i++) {
			name_of(names[i], sizeof names[i], at + i);
			s[i] = (struct sample){ series_id(names[i], strlen(names[i])), now,
						(double)(at + i) / 100 };
			ptrs[i] = names[i];
		}
		if (drainer_submit(d, s, k, ptrs, &e) != 0)
			bench_die("%s", e.msg);
	}
	if (drainer_close(d, &e) != 0)
		bench_die("%s", e.msg);
}

struct reading {
	struct query *q;
	uint64_t *ids;
	size_t n;
};

static int keep_id(void *ctx, uint64_t id, const char *name, size_t len)
{
	struct reading *r = ctx;
	r->ids[r->n++] = id;
	return 0;
}

static void scrape_bench(struct bench_run *run, const char *data, size_t n)
{
	struct err e = { 0 };
	struct store_expose_config c;
	struct store_expose *x;
	struct evloop *loop;
	store_expose_config_default(&c);
	if (evloop_new(&loop, &e) != 0 || store_expose_open(data, &c, loop, &x, &e) != 0)
		bench_die("%s", e.msg);
	int64_t best_scrape = INT64_MAX, best_read = INT64_MAX;
	size_t bytes = 0;
	struct reading r = { .ids = malloc(n * sizeof(uint64_t)) };
	struct query_latest *latest = malloc(n * sizeof *latest);
	if (!r.ids || !latest || query_open(data, &r.q, &e) != 0)
		bench_die("%s", e.msg[0] ? e.msg : "out of memory");
	for (int round = 0; round < 5; round++) {
		struct httpd_response res = { 0 };
		int64_t t0 = rtime_mono_ns();
		if (store_expose_scrape(x, NULL, &res) != 0)
			bench_die("the scrape failed");
		int64_t t1 = rtime_mono_ns();
		bytes = res.len;
		free(res.body);
		/* The baseline: the same series and newest values, nothing rendered. */
		r.n = 0;
		query_begin(r.q, &e);
		if (query_series(r.q, NULL, keep_id, &r, &e) != 0)
			bench_die("%s", e.msg);
		query_latest(r.q, r.ids, r.n, latest, &e);
		query_end(r.q);
		int64_t t2 = rtime_mono_ns();
		if (t1 - t0 < best_scrape)
			best_scrape = t1 - t0;
		if (t2 - t1 < best_read)
			best_read = t2 - t1;
	}
	struct bench_table *t = bench_table(run, "store --prom: /metrics of %zu series", r.n);
	bench_goal(t, "a scrape, rendered as a scraper gets it (best of 5)", bench_ms(best_scrape),
		   "ms", false, 100);
	bench_figure(t, "  text", (double)bytes / 1e6, "MB");
	bench_figure(t, "reading the same newest values only (baseline)", bench_ms(best_read),
		     "ms");
	bench_ratio(t, "  the scrape against the reading", (double)best_scrape, (double)best_read,
		    "reading", 0);
	query_close(r.q);
	free(r.ids);
	free(latest);
	store_expose_close(x);
	evloop_free(loop);
}

/* ---- remote_write ---- */

#define WRITE_SERIES 1000

static void make_batch(struct sample *s, const uint64_t *ids, int64_t ts, size_t round)
{
	for (size_t i = 0; i < WRITE_SERIES; i++)
		s[i] = (struct sample){ ids[i], ts, (double)(round + i) };
}

static void write_bench(struct bench_run *run, const char *dir, double seconds)
{
	struct err e = { 0 };
	struct evloop *loop;
	int port = bench_free_port();
	char vm_dir[4300], why[4500];
	snprintf(vm_dir, sizeof vm_dir, "%s/victoria-metrics", dir);
	pid_t vm = store_vm_start(run, vm_dir, port, why, sizeof why);
	if (!vm) {
		struct bench_table *t = bench_table(run, "store --prom: remote_write");
		bench_note(t, "%s: skipped", why);
		return;
	}
	char url[128];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/api/v1/write", port);
	if (evloop_new(&loop, &e) != 0)
		bench_die("%s", e.msg);
	struct remote_write_config c;
	remote_write_config_default(&c, "bench", dir, loop);
	c.url = url;
	c.batch_samples = 100000; /* what a big fleet would set */
	c.min_backoff_ns = 20 * RTIME_NS_PER_MS;
	struct remote_write *rw;
	if (remote_write_open(&c, &rw, &e) != 0)
		bench_die("%s", e.msg);
	uint64_t ids[WRITE_SERIES];
	char name[128];
	for (size_t i = 0; i < WRITE_SERIES; i++) {
		name_of(name, sizeof name, i);
		ids[i] = series_id(name, strlen(name));
		remote_write_define(rw, ids[i], name, strlen(name));
	}
	remote_write_start(rw);
	static struct sample batch[WRITE_SERIES * 50];
	int64_t ts = (rtime_now_ns() / RTIME_NS_PER_SEC - 3600) * RTIME_NS_PER_SEC;
	/* Baseline: building requests only, as many samples as a request holds. */
	for (size_t k = 0; k < 50; k++)
		make_batch(batch + k * WRITE_SERIES, ids, ts + (int64_t)k * RTIME_NS_PER_MS, k);
	int64_t t0 = rtime_mono_ns();
	size_t built = 0;
	while (rtime_mono_ns() - t0 < RTIME_NS_PER_SEC) {
		char *body;
		size_t len;
		if (remote_write_encode(rw, batch, sizeof batch / sizeof batch[0], &body, &len, &e))
			bench_die("%s", e.msg);
		free(body);
		built += sizeof batch / sizeof batch[0];
	}
	double encode_rate = (double)built / ((double)(rtime_mono_ns() - t0) / 1e9);
	/* As fast as the receiver takes it: batches of 1000 samples (one each
	 * of 1000 series) spooled, the loop sending, for `seconds`. */
	double cpu0 = self_cpu(), vm0 = procstat_cpu_seconds(vm);
	size_t round = 0;
	struct remote_write_stats st;
	t0 = rtime_mono_ns();
	while (rtime_mono_ns() - t0 < (int64_t)(seconds * 1e9)) {
		remote_write_get_stats(rw, &st);
		if (st.pending_batches < 400) { /* a backlog of four requests, not more */
			for (int k = 0; k < 20; k++, round++) {
				make_batch(batch, ids, ts + (int64_t)round * RTIME_NS_PER_MS,
					   round);
				if (remote_write_samples(rw, batch, WRITE_SERIES, &e) != 0)
					bench_die("%s", e.msg);
			}
		}
		evloop_run_once(loop, RTIME_NS_PER_MS, &e);
	}
	remote_write_get_stats(rw, &st);
	double elapsed = (double)(rtime_mono_ns() - t0) / 1e9;
	double cpu = self_cpu() - cpu0, vm_cpu = procstat_cpu_seconds(vm) - vm0;
	double rate = (double)st.sent_samples / elapsed;
	struct bench_table *t =
	    bench_table(run, "store --prom: remote_write into victoria-metrics on 127.0.0.1");
	bench_goal(t, "sent, 100,000 samples a request", rate / 1e6, "M samples/s", true, 1);
	bench_figure(t, "  requests", (double)st.sent_requests, "requests");
	bench_zero(t, "  requests failed", st.failed_requests);
	bench_figure(t, "building requests only (protobuf + snappy, baseline)", encode_rate / 1e6,
		     "M samples/s");
	bench_process_figures(t, "sender (this process)", cpu, procstat_kib(getpid(), "VmHWM:"));
	bench_process_figures(t, "victoria-metrics", vm_cpu, procstat_kib(vm, "VmHWM:"));
	/* Lag at 100,000 samples/s: a 1000-sample batch every 10 ms. */
	for (int k = 0; k < 2000 && st.pending_batches; k++) { /* drain the backlog first */
		evloop_run_once(loop, 5 * RTIME_NS_PER_MS, &e);
		remote_write_get_stats(rw, &st);
	}
	size_t n_lag = 0, cap = (size_t)(seconds * 100) + 16;
	int64_t *lags = malloc(cap * sizeof *lags), next = rtime_mono_ns();
	t0 = next;
	while (rtime_mono_ns() - t0 < (int64_t)(seconds * 1e9) && n_lag < cap) {
		if (rtime_mono_ns() >= next) {
			round++;
			make_batch(batch, ids, ts + (int64_t)round * RTIME_NS_PER_MS, round);
			if (remote_write_samples(rw, batch, WRITE_SERIES, &e) != 0)
				bench_die("%s", e.msg);
			remote_write_get_stats(rw, &st);
			lags[n_lag++] = (int64_t)(st.lag_seconds * 1e9);
			next += 10 * RTIME_NS_PER_MS;
		}
		int64_t wait = next - rtime_mono_ns();
		evloop_run_once(loop, wait > 0 ? wait : 0, &e);
	}
	int64_t p50 = bench_quantile(lags, n_lag, 0.5), p99 = bench_quantile(lags, n_lag, 0.99);
	bench_goal(t, "lag at 100,000 samples/s, p50", bench_ms(p50), "ms", false, 5000);
	bench_goal(t, "lag at 100,000 samples/s, p99", bench_ms(p99), "ms", false, 5000);
	bench_figure(t, "  lag samples (every 10 ms)", (double)n_lag, "samples");
	free(lags);
	remote_write_close(rw);
	remote_write_config_release(&c);
	evloop_free(loop);
	store_vm_stop(run, vm_dir, vm);
}

void store_prom(struct bench_run *run, uint64_t series, double seconds)
{
	char dir[4200], data[4300];
	snprintf(dir, sizeof dir, "%s/prom", bench_scratch(run));
	snprintf(data, sizeof data, "%s/data", dir);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		bench_die("%s: %s", dir, strerror(errno));
	fill_store(data, (size_t)series);
	scrape_bench(run, data, (size_t)series);
	char ring[64];
	ring_name_for_dir(data, ring, sizeof ring);
	ring_unlink(ring, NULL);
	if (system("command -v victoria-metrics >/dev/null 2>&1") == 0) {
		write_bench(run, dir, seconds);
	} else {
		struct bench_table *t = bench_table(run, "store --prom: remote_write");
		bench_note(t,
			   "victoria-metrics is not installed (Debian: victoria-metrics): skipped");
	}
	bench_remove_tree(dir);
}
