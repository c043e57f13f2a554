/* scenario_e2e.c - `rmon-bench e2e`: the whole central host under load.
 * N simulated hosts (bench/fleet.h, default 1,000, 750 series each, a
 * batch every second) send to this build's rmon-stored --listen for T
 * seconds while rmon-alertd (the built-in rules, evaluating every commit)
 * and rmon-reportgen (writing the site) read the same store, each started
 * on a scratch data folder and killed after.  It prints what the host
 * sustains (samples/s acked, which is durable: an ack follows the WAL's
 * fdatasync), the ack latency, drops, each daemon's CPU and peak memory,
 * the store's memory per series, a breach's time to a real SMTP server's
 * mailbox under that load (bench/breach.h: rmon-put as a host of its own,
 * a rule of alertd's mailing aiosmtpd on 127.0.0.1, a breach every few
 * seconds; skipped when aiosmtpd is missing), and with --ramp where it
 * saturates: the host count steps up until ack p99 passes 100 ms or
 * batches are dropped, and the last good step is the figure.  The simulated hosts run in this
 * process, on the same cores: their CPU is printed beside the daemons'. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alertd/rules.h"
#include "bench/bench.h"
#include "bench/breach.h"
#include "bench/daemons.h"
#include "bench/fleet.h"
#include "bench/mailsink.h"
#include "bench/procstat.h"
#include "bench/scenarios.h"
#include "bench/spawn.h"
#include "bench/store_parts.h"
#include "lib/cmdline.h"
#include "lib/grow.h"
#include "lib/rtime.h"
#include "lib/series_name.h"
#include "store/db.h"
#include "store/query.h"

#define SEC	    RTIME_NS_PER_SEC
#define MS	    RTIME_NS_PER_MS
#define P99_GOAL_MS 100

struct e2e_options {
	int64_t hosts, series, interval_ns, seconds, max_hosts;
	bool ramp, quick;
};

struct e2e_step {
	uint32_t hosts;
	double offered, acked; /* samples/s */
	double p99_ms;
	uint64_t dropped; /* batches late (window full when due) or never acked */
	double client_cpu_s, seconds;
	double written;		     /* bytes rmon-stored had written to storage a second */
	double cpu_s, cpu_available; /* every process's, and the cores', since the store started */
	double cores_busy; /* the machine's busy share over the measured seconds; -1 unknown */
	struct bench_hist *passes;  /* the LMDB commit pass's length, each second; NULL unknown */
	double pass_series;	    /* changed series a pass wrote, the median of those seconds */
	struct bench_hist *wal_p99; /* rmon-stored's arrival-to-durable p99, each second */
	double readable_s; /* the warm-up's first batch to its last sample readable; -1: not seen */
};

/* What this disk takes, written as the WAL writes (large pwrites, each
 * followed by fdatasync), in bytes a second: rmon-stored's WAL and LMDB's
 * write-back share it, and a virtual machine's disk may be throttled to a
 * fraction of what it gave an hour before. */
static double disk_rate(struct bench_run *run, bool quick)
{
	uint64_t bytes = (uint64_t)(quick ? 64 : 256) << 20, commits = bytes / (4 << 20);
	return store_disk_floor(run, bytes / sizeof(struct sample), commits) *
	       (double)sizeof(struct sample);
}

/* The breaches timed under the load: the SMTP sink, rmon-put as a host of
 * its own (bench-probe) and a thread that times one breach after another
 * while the simulated hosts run, beside them on the same cores.  Its first
 * breach goes while the hosts connect and define their series, as alertd
 * still reads the store for the first time: that one is the figure of a
 * freshly started alertd, not of the steady state, and is shown apart. */
struct probe {
	bool on;	/* the sink runs and alertd mails it */
	char why[4400]; /* when not */
	char root[4300], conf[4400];
	struct mailsink sink;
	struct breach_feed feed;
	struct bench_hist *h;
	pthread_t thread;
	bool threaded;
	const char *alertd_log;
	/* Mono ns, set once by the main thread when the measured load starts
	 * (release; the thread reads them with acquire): no breach is timed
	 * before `from`, and none is put after `until`. */
	_Atomic int64_t from, until;
	int64_t first; /* the first breach's latency; 0: no mail */
	long missed;   /* timed breaches without mail */
	double cpu_s;  /* the thread's while timing: not the simulated hosts' */
	unsigned seed;
};

/* A breach's mail is waited for 30 s at most, and a breach of the measured
 * window no longer than 12 s after the load (its 2 s before the breach,
 * then the 10 s the pipeline may settle). */
#define BREACH_TIMEOUT	  (30 * SEC)
#define BREACH_AFTER_LOAD (12 * SEC)

static double cpu_seconds(int who)
{
	struct rusage ru;
	getrusage(who, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double self_cpu_seconds(void)
{
	return cpu_seconds(RUSAGE_SELF);
}

/* The sink and alertd's configuration: the built-in rules as without one,
 * plus the breach rule mailing the sink.  On failure the probe is off,
 * with the reason, and alertd runs on its defaults as before. */
static void probe_prepare(struct bench_run *run, struct probe *p)
{
	memset(p, 0, sizeof *p);
	snprintf(p->root, sizeof p->root, "%s/e2e-probe", bench_scratch(run));
	snprintf(p->conf, sizeof p->conf, "%s/alertd.conf", p->root);
	if (!mailsink_available(run, p->why, sizeof p->why))
		return;
	snprintf(p->why, sizeof p->why, "the SMTP sink did not start (see %s/sink.log)", p->root);
	if (mkdir(p->root, 0700) != 0 || mailsink_start(&p->sink, run, p->root) != 0)
		return;
	FILE *c = fopen(p->conf, "w");
	if (!c)
		return;
	fputs(alert_config_default, c);
	fputc('\n', c);
	mailsink_receiver_config(&p->sink, c, "bench_mail");
	breach_rule_config(c, "bench_breach", "bench_mail");
	if (fclose(c) != 0)
		return;
	p->h = bench_hist_new();
	p->on = p->h != NULL;
}

static void *probe_thread(void *arg)
{
	struct probe *p = arg;
	/* alertd may still be opening the store */
	for (int i = 0; i < 200 && !spawn_file_has(p->alertd_log, "running on"); i++)
		usleep(50000);
	p->first = breach_time(&p->feed, &p->sink, "bench-probe", 0, &p->seed, BREACH_TIMEOUT);
	int64_t from;
	while (!(from = atomic_load_explicit(&p->from, memory_order_acquire)))
		usleep(10000);
	int64_t until = atomic_load_explicit(&p->until, memory_order_relaxed);
	while (rtime_mono_ns() < from)
		usleep(10000);
	double cpu = cpu_seconds(RUSAGE_THREAD);
	/* a breach is put at most 2 s after its start: under the load, though
	 * its mail may come in the settling after */
	for (long i = 1; rtime_mono_ns() + 2 * SEC <= until; i++) {
		/* Waiting longer than the pipeline runs after the load would only
		 * make the run longer (--quick e2e stays under 40 s). */
		int64_t timeout = until + BREACH_AFTER_LOAD - rtime_mono_ns();
		int64_t took = breach_time(&p->feed, &p->sink, "bench-probe", i, &p->seed,
					   timeout < BREACH_TIMEOUT ? timeout : BREACH_TIMEOUT);
		if (took)
			bench_hist_add(p->h, took);
		else
			p->missed++;
	}
	p->cpu_s = cpu_seconds(RUSAGE_THREAD) - cpu;
	return NULL;
}

/* rmon-put on the store's ring, then the thread; from the main thread, as
 * rmon-put dies with the thread that forked it (bench_fork). */
static void probe_start(struct bench_run *run, struct probe *p, const struct daemon *store,
			const struct daemon *alertd)
{
	if (!p->on)
		return;
	p->alertd_log = alertd->log;
	p->seed = (unsigned)time(NULL);
	if (breach_feed_start(&p->feed, run, store->data) != 0) {
		snprintf(p->why, sizeof p->why, "rmon-put did not start");
		p->on = false;
		return;
	}
	p->threaded = pthread_create(&p->thread, NULL, probe_thread, p) == 0;
	if (!p->threaded) {
		snprintf(p->why, sizeof p->why, "no thread for the breaches");
		p->on = false;
	}
}

/* The measured load runs from `from` to `until` (mono ns). */
static void probe_measure(struct probe *p, int64_t from, int64_t until)
{
	atomic_store_explicit(&p->until, until, memory_order_relaxed);
	atomic_store_explicit(&p->from, from, memory_order_release);
}

/* Waits for the breach under way (BREACH_TIMEOUT at most). */
static void probe_join(struct probe *p)
{
	if (p->threaded)
		pthread_join(p->thread, NULL);
	p->threaded = false;
}

static void probe_rows(struct bench_table *t, const struct probe *p)
{
	if (!p->on) {
		bench_note(t, "breach to mailbox under load: skipped, %s", p->why);
		return;
	}
	if (p->first)
		bench_figure(t, "first breach to mailbox (alertd just started, hosts connecting)",
			     bench_ms(p->first), "ms");
	else
		bench_note(t, "the first breach (alertd just started) had no mail within 30 s");
	bench_figure(t, "breaches timed to the mailbox under load", (double)bench_hist_count(p->h),
		     "breaches");
	if (bench_hist_count(p->h) || p->missed) {
		breach_rows(t, "breach to mailbox under load", p->h);
		bench_zero(t, "breaches with no mail within 30 s (or 10 s after the load)",
			   (uint64_t)p->missed);
	} else {
		bench_note(t,
			   "breach to mailbox under load: none timed, the first breach's mail came "
			   "too late in the run to time more; a longer run (--seconds) does");
	}
}

static void probe_stop(struct probe *p)
{
	probe_join(p);
	breach_feed_stop(&p->feed);
	mailsink_stop(&p->sink);
	if (p->h)
		bench_hist_free(p->h);
	p->h = NULL;
	if (p->root[0])
		bench_remove_tree(p->root);
}

static uint32_t raise_file_limit(uint32_t wanted)
{
	struct rlimit r;
	if (getrlimit(RLIMIT_NOFILE, &r) != 0)
		return 100;
	r.rlim_cur = r.rlim_max;
	setrlimit(RLIMIT_NOFILE, &r);
	getrlimit(RLIMIT_NOFILE, &r);
	return r.rlim_cur >= wanted + 64 ? wanted : (uint32_t)r.rlim_cur - 64;
}

/* Waits up to timeout for every batch sent to be acknowledged; the batches
 * that were not (a saturated store is a finding, not an error). */
static uint64_t settle(struct fleet *f, int64_t timeout_ns)
{
	int64_t deadline = rtime_mono_ns() + timeout_ns;
	while (f->acked_batches < f->sent_batches && rtime_mono_ns() < deadline)
		fleet_poll(f, 10);
	return f->sent_batches - f->acked_batches;
}

/* Whether the readers see agent a's newest sample in one of its series
 * (a different one for each agent, so the check spreads over the store). */
static uint64_t probe_id(const struct fleet *f, uint32_t a)
{
	return f->ids[(size_t)a * f->series + a % f->series];
}

static bool all_readable(struct query *q, const struct fleet *f, const uint64_t *ids,
			 struct query_latest *latest)
{
	struct err e = { 0 };
	if (query_latest(q, ids, f->n, latest, &e) != 0)
		return false;
	for (uint32_t a = 0; a < f->n; a++)
		if (latest[a].ts < fleet_last_ts(f, a))
			return false;
	return true;
}

/* Waits (the agents' connections kept) until readers see every agent's
 * last sample sent: the commit that writes a new fleet's names and first
 * heads takes seconds, and the measured seconds are to begin after it,
 * in the steady state.  Returns the seconds since `since` (rtime_mono_ns),
 * or -1 when timeout_ns passed first. */
static double wait_readable(struct fleet *f, const char *data, int64_t since, int64_t timeout_ns)
{
	uint64_t *ids = malloc(f->n * sizeof *ids);
	struct query_latest *latest = malloc(f->n * sizeof *latest);
	struct query *q = NULL;
	struct err e = { 0 };
	double took = -1;
	int64_t deadline = rtime_mono_ns() + timeout_ns;
	for (uint32_t a = 0; ids && a < f->n; a++)
		ids[a] = probe_id(f, a);
	while (ids && latest && rtime_mono_ns() < deadline) {
		if (!q && query_open(data, &q, &e) != 0)
			q = NULL;
		if (q && all_readable(q, f, ids, latest)) {
			took = (double)(rtime_mono_ns() - since) / 1e9;
			break;
		}
		fleet_poll(f, 100);
	}
	query_close(q);
	free(ids);
	free(latest);
	return took;
}

/* rmon-stored with its own figures (rmon_store_*) recorded every second
 * instead of every 10 s, so the commit's passes can be read back. */
static void start_store(struct bench_run *run, struct daemon *store)
{
	char conf[4300];
	snprintf(conf, sizeof conf, "%s/e2e-store.conf", bench_scratch(run));
	FILE *f = fopen(conf, "w");
	if (!f || fputs("[store]\nself_interval = 1s\n", f) < 0 || fclose(f) != 0)
		bench_die("e2e: cannot write %s", conf);
	const char *extra[] = { "--config", conf, NULL };
	daemon_start_stored(run, store, "e2e", extra);
}

/* The store's own figures of one metric over the measured seconds. */
struct own_figures {
	struct query *q;
	int64_t from, to;
	double *values;
	size_t n, cap;
};

static int own_sample(void *ctx, int64_t ts, double value)
{
	struct own_figures *o = ctx;
	(void)ts;
	if (!grow_array_from(&o->values, &o->cap, o->n + 1, sizeof *o->values, 64))
		return -ENOMEM;
	o->values[o->n++] = value;
	return 0;
}

static int own_series(void *ctx, uint64_t id, const char *name, size_t len)
{
	struct own_figures *o = ctx;
	(void)name;
	(void)len;
	return query_raw(o->q, id, o->from, o->to, own_sample, o, NULL, NULL);
}

/* Every sample of metric (rmon-stored's own, on whichever host name it
 * gave itself) with from <= ts < to, into o->values. */
static int read_own(struct query *q, const char *metric, int64_t from, int64_t to,
		    struct own_figures *o)
{
	struct query_selector *sel;
	struct err e = { 0 };
	*o = (struct own_figures){ .q = q, .from = from, .to = to };
	if (query_selector_parse(metric, &sel, &e) != 0)
		return -EINVAL;
	int rc = query_series(q, sel, own_series, o, &e);
	query_selector_free(sel);
	return rc;
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static struct bench_hist *hist_of_seconds(const struct own_figures *o)
{
	struct bench_hist *h = bench_hist_new();
	for (size_t i = 0; i < o->n; i++)
		bench_hist_add(h, (int64_t)(o->values[i] * 1e9));
	return h;
}

/* The commit's passes over the measured seconds, as rmon-stored recorded
 * them each second (the length of its last pass, and the changed series
 * it wrote), read through the readers' API: a pass longer than the commit
 * interval means the commit's thread runs passes back to back, and a
 * reader sees a sample up to a pass after its ack. */
static void read_passes(const char *data, int64_t from, int64_t to, struct e2e_step *out)
{
	struct query *q;
	struct err e = { 0 };
	struct own_figures secs = { 0 }, series = { 0 }, wal = { 0 };
	if (query_open(data, &q, &e) != 0)
		return;
	if (query_begin(q, &e) == 0 &&
	    read_own(q, "rmon_store_lmdb_commit_seconds", from, to, &secs) == 0 &&
	    read_own(q, "rmon_store_lmdb_commit_series", from, to, &series) == 0 &&
	    read_own(q, "rmon_store_commit_p99_seconds", from, to, &wal) == 0) {
		if (secs.n > 0)
			out->passes = hist_of_seconds(&secs);
		if (wal.n > 0)
			out->wal_p99 = hist_of_seconds(&wal);
		if (series.n > 0) {
			qsort(series.values, series.n, sizeof *series.values, compare_doubles);
			out->pass_series = series.values[series.n / 2];
		}
	}
	query_close(q);
	free(secs.values);
	free(series.values);
	free(wal.values);
}

/* alertd with conf, or its built-in rules when conf is NULL. */
static void start_readers(struct bench_run *run, const struct daemon *store, struct daemon *alertd,
			  struct daemon *reportgen, const char *conf)
{
	char out[4300];
	snprintf(out, sizeof out, "%s/www", bench_scratch(run));
	const char *alert_argv[] = { "rmon-alertd", "--data", store->data, conf ? "--config" : NULL,
				     conf,	    NULL };
	const char *report_argv[] = { "rmon-reportgen", "--data", store->data, "--out", out,
				      "--interval",	"10s",	  NULL };
	daemon_spawn(run, alertd, "alertd", alert_argv);
	daemon_spawn(run, reportgen, "reportgen", report_argv);
}

/* One run at `hosts` hosts; with t, the daemons' figures go in it, and
 * breaches are timed to the mailbox meanwhile. */
static void run_step(struct bench_run *run, const struct e2e_options *o, uint32_t hosts,
		     struct e2e_step *out, struct bench_table *t)
{
	struct daemon store, alertd, reportgen;
	struct fleet f;
	struct probe probe = { 0 };
	uint32_t series = (uint32_t)o->series;
	int64_t period = o->interval_ns;
	uint64_t rounds = (uint64_t)(o->seconds * SEC / period), warmup = 3;
	memset(out, 0, sizeof *out);
	out->hosts = hosts;
	int64_t began = rtime_mono_ns();
	double client_before = self_cpu_seconds();
	start_store(run, &store);
	if (t)
		probe_prepare(run, &probe);
	start_readers(run, &store, &alertd, &reportgen, probe.on ? probe.conf : NULL);
	usleep(300000);
	long idle_rss = procstat_kib(store.pid, "VmRSS:");
	probe_start(run, &probe, &store, &alertd);
	fleet_init(&f, hosts, series, 1, 8, store.port, hosts > 1000);
	fleet_connect(&f);
	/* The first rounds define every series (a burst of names): not the
	 * steady state measured. */
	f.record_from = warmup + 1;
	int64_t warm_from = rtime_mono_ns();
	fleet_pace(&f, period, warmup);
	settle(&f, (o->quick ? 10 : 30) * SEC);
	out->readable_s = wait_readable(&f, store.data, warm_from, (o->quick ? 30 : 90) * SEC);
	uint64_t acked = f.acked_samples, late = f.late;
	double client = self_cpu_seconds();
	long long written = procstat_io(store.pid, "write_bytes:");
	int64_t start = rtime_mono_ns() + 10 * MS; /* one schedule for every round */
	int64_t wall_from = rtime_now_ns() + 10 * MS;
	struct procstat_cores cores_from, cores_to;
	bool cores = procstat_cores(&cores_from);
	probe_measure(&probe, start, start + (int64_t)rounds * period);
	for (uint64_t r = 0; r < rounds; r++) {
		fleet_pace_at(&f, start, period, r, 1);
		double s = (double)(rtime_mono_ns() - start) / 1e9;
		bench_progress(run, "e2e", (double)(f.acked_samples - acked) / s / 1e6,
			       "M samples/s acked", s, (double)rounds * (double)period / 1e9);
		if (f.n_latencies) {
			int64_t *copy = malloc(f.n_latencies * sizeof *copy);
			if (copy) {
				memcpy(copy, f.latencies, f.n_latencies * sizeof *copy);
				bench_progress_latency(
				    run, bench_ms(bench_quantile(copy, f.n_latencies, 0.99)));
				free(copy);
			}
		}
	}
	double measured = (double)(rtime_mono_ns() - start) / 1e9;
	int64_t wall_to = rtime_now_ns();
	out->cores_busy =
	    cores && procstat_cores(&cores_to) ? procstat_cores_busy(&cores_from, &cores_to) : -1;
	long long written_end = procstat_io(store.pid, "write_bytes:");
	out->written =
	    written < 0 || written_end < 0 ? -1 : (double)(written_end - written) / measured;
	uint64_t unacked = settle(&f, 10 * SEC);
	bench_progress_done(run);
	out->seconds = (double)(rtime_mono_ns() - start) / 1e9;
	probe_join(&probe);
	if (t)
		read_passes(store.data, wall_from, wall_to, out);
	out->client_cpu_s = self_cpu_seconds() - client - probe.cpu_s;
	out->offered = (double)hosts * series * ((double)SEC / (double)period);
	out->acked = (double)(f.acked_samples - acked) / out->seconds;
	out->dropped = f.late - late + unacked;
	struct bench_hist *h = bench_hist_new();
	for (size_t i = 0; i < f.n_latencies; i++)
		bench_hist_add(h, f.latencies[i]);
	out->p99_ms = bench_ms(bench_hist_quantile(h, 0.99));
	bool alert_alive = daemon_alive(&alertd), report_alive = daemon_alive(&reportgen);
	out->cpu_s = self_cpu_seconds() - client_before;
	const pid_t daemons[] = { store.pid, alertd.pid, reportgen.pid };
	for (size_t i = 0; i < sizeof daemons / sizeof daemons[0]; i++)
		out->cpu_s += fmax(procstat_cpu_seconds(daemons[i]), 0);
	out->cpu_available =
	    (double)sysconf(_SC_NPROCESSORS_ONLN) * (double)(rtime_mono_ns() - began) / 1e9;
	if (t) {
		bench_latency(t, "ack latency (send to durable ack)", h, P99_GOAL_MS);
		probe_rows(t, &probe);
		long rss = procstat_kib(store.pid, "VmRSS:");
		bench_figure(t, "rmon-stored memory per active series",
			     (double)(rss - idle_rss) * 1024 / ((double)hosts * series), "bytes");
		bench_process(t, "rmon-stored", store.pid);
		if (alert_alive)
			bench_process(t, "rmon-alertd", alertd.pid);
		else
			bench_note(t, "rmon-alertd exited during the run (its log: %s)",
				   alertd.log);
		if (report_alive)
			bench_process(t, "rmon-reportgen", reportgen.pid);
		else
			bench_note(t, "rmon-reportgen exited during the run (its log: %s)",
				   reportgen.log);
		bench_process_figures(t, "the simulated hosts (this process)", out->client_cpu_s,
				      procstat_kib(getpid(), "VmHWM:"));
	}
	bench_hist_free(h);
	probe_stop(&probe);
	daemon_kill(&alertd);
	daemon_kill(&reportgen);
	uint64_t all_acked = f.acked_samples;
	fleet_close(&f);
	uint64_t stored = daemon_stop_stored(&store);
	if (stored < all_acked)
		bench_die("e2e: the store stored %llu samples but acknowledged %llu",
			  (unsigned long long)stored, (unsigned long long)all_acked);
	char www[4300];
	snprintf(www, sizeof www, "%s/www", bench_scratch(run));
	bench_remove_tree(www);
}

static bool step_good(const struct e2e_step *s)
{
	return s->p99_ms <= P99_GOAL_MS && s->dropped == 0;
}

static void step_rows(struct bench_table *t, const struct e2e_step *s)
{
	bench_figure(t, "offered", s->offered / 1e6, "M samples/s");
	bench_goal(t, "acked (durable)", s->acked / 1e6, "M samples/s", true,
		   s->offered / 1e6 * 0.99);
	bench_zero(t, "batches dropped (late when due, or never acked)", s->dropped);
}

/* The commit's cost a changed series: rmon-stored's commit thread writes
 * every changed series' head chunk and latest sample each pass, so this
 * bounds how stale readers (alertd) are at a given number of series and
 * how much of a core the commit takes.  Timed here on a db of 37,500
 * series (50 hosts x 750) with one new sample each a round, in this
 * process: with young heads, as a minute-long run has them, and once the
 * heads hold AGED_SAMPLES samples (a head holds about 250 on average in
 * steady state, its chunk closing at 768 bytes), which costs more: each
 * pass rewrites every changed head whole. */
static void commit_cost(struct bench_run *run, struct bench_table *t, bool quick)
{
	enum { SERIES = 37500 };
	const int aged_samples = quick ? 60 : 240, rounds = aged_samples + 1;
	char path[4200], name[64];
	snprintf(path, sizeof path, "%s/commit-cost", bench_scratch(run));
	struct db_config c;
	struct db *db;
	struct err e = { 0 };
	db_config_default(&c);
	uint64_t *ids = malloc(SERIES * sizeof *ids);
	struct sample *batch = malloc(SERIES * sizeof *batch);
	if (!ids || !batch || db_open(path, &c, false, &db, &e) != 0)
		bench_die("commit cost: %s", e.msg[0] ? e.msg : "out of memory");
	for (uint32_t s = 0; s < SERIES; s++) {
		int len = fleet_series_name(name, sizeof name, s / 750, s % 750);
		ids[s] = series_id(name, (size_t)len);
		if (db_register_series(db, ids[s], name, (size_t)len, &e) != 0)
			bench_die("commit cost: %s", e.msg);
	}
	int64_t ts = (rtime_now_ns() / SEC - 3600) * SEC, young = INT64_MAX, aged = 0;
	for (int r = 0; r < rounds; r++, ts += SEC) {
		for (uint32_t s = 0; s < SERIES; s++)
			batch[s] = (struct sample){ ids[s], ts, fleet_value(ids[s], (uint64_t)r) };
		if (db_append(db, batch, SERIES, &e) != 0)
			bench_die("commit cost: %s", e.msg);
		int64_t start = rtime_mono_ns();
		if (db_commit(db, (uint64_t)r + 1, &e) != 0)
			bench_die("commit cost: %s", e.msg);
		int64_t took = rtime_mono_ns() - start;
		if (r > 0 && r <= 4 && took < young) /* the first also writes every name */
			young = took;
		if (r >= rounds - 4)
			aged += took;
	}
	db_close(db);
	free(ids);
	free(batch);
	bench_remove_tree(path);
	double young_us = (double)young / SERIES / 1e3, aged_us = (double)aged / 4 / SERIES / 1e3;
	bench_figure(t, "LMDB commit a changed series (young heads, best of 4, 37,500 series)",
		     young_us, "µs");
	bench_figure(t, "  changed series one commit thread writes a second", 1e6 / young_us,
		     "series");
	char label[128];
	snprintf(label, sizeof label,
		 "LMDB commit a changed series (heads of %d samples, mean of 4)", aged_samples);
	bench_figure(t, label, aged_us, "µs");
	bench_figure(t, "  changed series one commit thread writes a second then", 1e6 / aged_us,
		     "series");
}

/* The store's commit asks for a pass this often (drainer.c's default). */
#define COMMIT_INTERVAL_NS SEC

/* Which of the disk, the cores and the commit's thread was full, from the
 * figures of one run. */
static void saturation_note(struct bench_table *t, const struct e2e_step *s, double disk)
{
	bool disk_full = s->written >= 0.8 * disk;
	bool cpu_full =
	    s->cores_busy >= 0 ? s->cores_busy >= 0.9 : s->cpu_s >= 0.9 * s->cpu_available;
	int64_t pass = s->passes ? bench_hist_quantile(s->passes, 0.5) : 0;
	bool commit_full = pass > COMMIT_INTERVAL_NS;
	if (disk_full)
		bench_note(t,
			   "where it saturates: the disk (rmon-stored wrote %.0f MB/s, %.1fx what "
			   "it takes synced)",
			   s->written / 1e6, s->written / disk);
	if (cpu_full)
		bench_note(t,
			   "where it saturates: the cores (busy %.0f %% of the measured seconds; "
			   "the benchmark's processes used %.0f of the %.0f CPU-seconds they had)",
			   100 * s->cores_busy, s->cpu_s, s->cpu_available);
	if (commit_full)
		bench_note(t,
			   "where it saturates: the LMDB commit (a pass over %.2f M changed series "
			   "took %.1f s at the median, so passes ran back to back and readers "
			   "such as alertd saw a sample up to that long after its ack)",
			   s->pass_series / 1e6, (double)pass / 1e9);
	if (!disk_full && !cpu_full && !commit_full)
		bench_note(t,
			   "neither the disk, the cores nor the commit was full (the cores busy "
			   "%.0f %%; %.0f of %.0f CPU-seconds used by the benchmark's processes)",
			   100 * s->cores_busy, s->cpu_s, s->cpu_available);
}

static void run_once(struct bench_run *run, const struct e2e_options *o)
{
	struct e2e_step s;
	double disk = disk_rate(run, o->quick);
	char every[32];
	snprintf(every, sizeof every, "%.0f ms", (double)o->interval_ns / 1e6);
	struct bench_table *t = bench_table(
	    run, "e2e: %lld hosts x %lld series every %s for %lld s, with alertd and reportgen",
	    (long long)o->hosts, (long long)o->series, every, (long long)o->seconds);
	run_step(run, o, (uint32_t)o->hosts, &s, t);
	step_rows(t, &s);
	bench_figure(t, "this disk, 4 MiB pwrite + fdatasync at a time (before the run)",
		     disk / 1e6, "MB/s");
	if (s.written >= 0) {
		bench_figure(t, "rmon-stored wrote to storage, WAL and LMDB (measured seconds)",
			     s.written / 1e6, "MB/s");
		bench_figure(t, "  against this disk's rate", s.written / disk, "×");
	}
	if (s.cores_busy >= 0)
		bench_figure(t, "the cores busy over the measured seconds (/proc/stat)",
			     100 * s.cores_busy, "%");
	if (s.readable_s >= 0)
		bench_figure(t,
			     "the fleet's first batch to its warm-up readable (new series' names "
			     "and heads)",
			     s.readable_s, "s");
	else
		bench_note(t, "the fleet's warm-up samples were not all readable in time: the "
			      "measured seconds began inside the commit of its new series");
	if (s.passes) {
		bench_latency(t, "LMDB commit pass under load (rmon-stored's own figure, each s)",
			      s.passes, 0);
		bench_figure(t, "  changed series a pass (median)", s.pass_series, "series");
	} else
		bench_note(t, "rmon-stored's commit passes could not be read back");
	if (s.wal_p99)
		bench_latency(t, "arrival to durable in rmon-stored (its recent p99, each s)",
			      s.wal_p99, 0);
	saturation_note(t, &s, disk);
	if (s.passes)
		bench_hist_free(s.passes);
	if (s.wal_p99)
		bench_hist_free(s.wal_p99);
	bench_note(t, "the goal is 2,000 hosts x 750 series at 1 s; --ramp steps the hosts up to "
		      "where this machine saturates");
	commit_cost(run, t, o->quick);
}

/* Steps the host count up by half each step until one misses the ack p99
 * goal or drops batches (or --max-hosts); the last good step is the figure. */
static void run_ramp(struct bench_run *run, const struct e2e_options *o)
{
	struct e2e_step s, good = { 0 }, missed = { 0 };
	struct bench_table *t = bench_table(
	    run,
	    "e2e --ramp: hosts x %lld series at %.0f ms, %lld s a step, until ack p99 > %d ms "
	    "or drops",
	    (long long)o->series, (double)o->interval_ns / 1e6, (long long)o->seconds, P99_GOAL_MS);
	uint32_t hosts = (uint32_t)o->hosts;
	char name[96];
	bool down = false; /* the first step missed: halve until one holds */
	for (;;) {
		run_step(run, o, hosts, &s, NULL);
		snprintf(name, sizeof name, "%u hosts: acked", hosts);
		bench_figure(t, name, s.acked / 1e6, "M samples/s");
		snprintf(name, sizeof name, "%u hosts: ack p99", hosts);
		bench_figure(t, name, s.p99_ms, "ms");
		snprintf(name, sizeof name, "%u hosts: batches dropped", hosts);
		bench_figure(t, name, (double)s.dropped, "batches");
		if (step_good(&s)) {
			good = s;
			if (down || hosts >= o->max_hosts)
				break;
			hosts = hosts + hosts / 2 > o->max_hosts ? (uint32_t)o->max_hosts
								 : hosts + hosts / 2;
		} else {
			missed = s;
			if (good.hosts || hosts < 2)
				break;
			down = true;
			hosts /= 2;
		}
	}
	bench_goal(t, "hosts sustained (the last good step)", (double)good.hosts, "hosts", true,
		   2000);
	bench_figure(t, "  samples/s acked there", good.acked / 1e6, "M samples/s");
	if (!missed.hosts)
		bench_note(t, "--max-hosts %lld reached without saturating",
			   (long long)o->max_hosts);
	else
		bench_note(t, "saturated at %u hosts: %s", missed.hosts,
			   missed.dropped ? "batches dropped (the store did not ack in time)"
					  : "ack p99 over the goal");
	commit_cost(run, t, o->quick);
}

int scenario_e2e(struct bench_run *run, int argc, char **argv)
{
	struct e2e_options o = { .hosts = 1000,
				 .series = 750,
				 .interval_ns = SEC,
				 .max_hosts = 4000,
				 .quick = bench_opts(run)->quick };
	const struct cmdline_option options[] = {
		{ .name = "hosts",
		  .letter = 'n',
		  .kind = CMDLINE_INT,
		  .field = &o.hosts,
		  .arg = "N",
		  .help = "simulated hosts (default 1000; with --ramp the first step)",
		  .min = 1,
		  .max = 100000 },
		{ .name = "series",
		  .kind = CMDLINE_INT,
		  .field = &o.series,
		  .arg = "N",
		  .help = "series of each host (default 750)",
		  .min = 1,
		  .max = 100000 },
		{ .name = "interval",
		  .kind = CMDLINE_DURATION,
		  .field = &o.interval_ns,
		  .arg = "DURATION",
		  .help = "each host sends a batch every DURATION (default 1s)",
		  .min = 10 * MS,
		  .max = 3600 * SEC },
		{ .name = "seconds",
		  .kind = CMDLINE_INT,
		  .field = &o.seconds,
		  .arg = "T",
		  .help = "how long each run lasts (default 60; --quick 15)",
		  .min = 1,
		  .max = 3600 },
		{ .name = "ramp",
		  .kind = CMDLINE_FLAG,
		  .field = &o.ramp,
		  .help = "step the hosts up by half until ack p99 > 100 ms or drops" },
		{ .name = "max-hosts",
		  .kind = CMDLINE_INT,
		  .field = &o.max_hosts,
		  .arg = "N",
		  .help = "where --ramp stops (default 4000)",
		  .min = 1,
		  .max = 100000 },
		{ 0 },
	};
	const struct cmdline cl = {
		.program = "rmon-bench e2e",
		.about =
		    "The whole central host under simulated hosts: rmon-stored --listen with\n"
		    "rmon-alertd and rmon-reportgen running; samples/s acked and durable,\n"
		    "ack latency, drops, each daemon's CPU and memory, where it saturates;\n"
		    "and breach to mailbox under load: every few seconds rmon-put, as a host\n"
		    "of its own, pushes a sample over a rule's threshold into the store's ring\n"
		    "and the time until a real SMTP server on 127.0.0.1 (aiosmtpd, Debian's\n"
		    "python3-aiosmtpd) accepts the mail is timed (goals p50 <= 1.5 s,\n"
		    "p99 <= 3 s, as rmon-bench alert; skipped with a note without aiosmtpd;\n"
		    "not with --ramp).",
		.options = options,
	};
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	if (!o.seconds)
		o.seconds = o.quick ? 15 : 60;
	signal(SIGPIPE, SIG_IGN);
	uint32_t room = raise_file_limit((uint32_t)(o.ramp ? o.max_hosts : o.hosts));
	if (room < (uint32_t)o.hosts || (o.ramp && room < (uint32_t)o.max_hosts))
		bench_die("e2e: only %u connections fit under RLIMIT_NOFILE", room);
	if (o.ramp)
		run_ramp(run, &o);
	else
		run_once(run, &o);
	return 0;
}
