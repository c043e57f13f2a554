/* scenario_alert.c - `rmon-bench alert`: rmon-alertd against a real SMTP
 * server on 127.0.0.1 (tests/integration/lib/smtp_sink.py, Debian's
 * aiosmtpd), with rmon-stored committing every second as it ships:
 *
 *   1. breach to mailbox: a sample crossing a rule's threshold (for 0s,
 *      the default 500 ms group window) is pushed into the ring through
 *      rmon-put; the time until the SMTP server has accepted its mail
 *      (the file's mtime), over --trials breaches at random moments of the
 *      commit cycle (goals: p50 <= 1.5 s, p99 <= 3 s);
 *   2. kill -9 of rmon-alertd --kills times at random moments of a storm
 *      of firing and resolving alerts, restarted each time: messages
 *      logged, lost (logged or owed but never received: goal 0) and
 *      received twice (only under a logged Message-ID);
 *   3. what rule evaluation costs a commit (bench/rulecost.h);
 *   4. the anomaly model's recall and false alerts (bench/anomalyscore.h).
 * Each part is skipped by giving its count 0. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alertd/alerts.h"
#include "alertd/notelog.h"
#include "bench/anomalyscore.h"
#include "bench/bench.h"
#include "bench/breach.h"
#include "bench/mailsink.h"
#include "bench/rulecost.h"
#include "bench/scenarios.h"
#include "bench/spawn.h"
#include "lib/cmdline.h"
#include "lib/rtime.h"

#define STORM_SERIES 12

/* The daemons of parts 1 and 2 and their files. */
struct pipeline {
	struct bench_run *run;
	char root[PATH_MAX], data[PATH_MAX + 8], conf[PATH_MAX + 16];
	char alertd_log[PATH_MAX + 16];
	pid_t stored, alertd;
	struct mailsink sink;
	struct breach_feed feed;
};

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;
	fputs("rmon-bench alert: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

static void start_alertd(struct pipeline *p)
{
	char *argv[] = { (char *)bench_bin(p->run, "rmon-alertd"),
			 "--data",
			 p->data,
			 "--config",
			 p->conf,
			 NULL };
	p->alertd = spawn_logged(argv, p->alertd_log, false);
}

static void put(struct pipeline *p, const char *series, double value)
{
	breach_put(&p->feed, series, value);
}

static int write_config(struct pipeline *p)
{
	FILE *c = fopen(p->conf, "w");
	if (!c)
		return fail("%s: %s", p->conf, strerror(errno));
	fputs("[alertd]\nflap_window = 1s\n", c);
	mailsink_receiver_config(&p->sink, c, "ops");
	fputs("[route everything]\nreceivers = ops\n", c);
	breach_rule_config(c, "hot", NULL);
	fputs("[rule storm]\nexpr = storm_value\nabove = 10\nclear = 5\ngroup_by = s\n", c);
	return fclose(c) == 0 ? 0 : fail("%s: %s", p->conf, strerror(errno));
}

static int pipeline_start(struct pipeline *p)
{
	char log[PATH_MAX + 16], why[256];
	if (!mailsink_available(p->run, why, sizeof why))
		return fail("%s", why);
	snprintf(p->root, sizeof p->root, "%s/alert", bench_scratch(p->run));
	snprintf(p->data, sizeof p->data, "%s/data", p->root);
	snprintf(p->conf, sizeof p->conf, "%s/alertd.conf", p->root);
	snprintf(p->alertd_log, sizeof p->alertd_log, "%s/alertd.log", p->root);
	if (mkdir(p->root, 0700) != 0)
		return fail("mkdir %s: %s", p->root, strerror(errno));
	if (mailsink_start(&p->sink, p->run, p->root) != 0 || write_config(p) != 0)
		return -1;
	snprintf(log, sizeof log, "%s/stored.log", p->root);
	char *stored_argv[] = { (char *)bench_bin(p->run, "rmon-stored"), "--data", p->data, NULL };
	p->stored = spawn_logged(stored_argv, log, false);
	if (!spawn_wait_log(&p->stored, log, "draining into", 30))
		return -1;
	start_alertd(p);
	if (!spawn_wait_log(&p->alertd, p->alertd_log, "running on", 30))
		return -1;
	return breach_feed_start(&p->feed, p->run, p->data);
}

static void pipeline_stop(struct pipeline *p)
{
	breach_feed_stop(&p->feed);
	spawn_stop(&p->alertd, SIGKILL);
	spawn_stop(&p->stored, SIGTERM);
	mailsink_stop(&p->sink);
}

static int measure_latency(struct pipeline *p, long trials)
{
	struct bench_hist *h = bench_hist_new();
	if (!h)
		return fail("out of memory");
	int64_t started = rtime_mono_ns();
	int rc = 0;
	unsigned seed = (unsigned)time(NULL);
	for (long i = 0; i < trials && rc == 0; i++) {
		int64_t took =
		    breach_time(&p->feed, &p->sink, "bench", i, &seed, 30 * RTIME_NS_PER_SEC);
		if (!took) {
			rc = fail("breach %ld: no mail within 30 s (see %s)", i, p->alertd_log);
			break;
		}
		bench_hist_add(h, took);
		double elapsed = (double)(rtime_mono_ns() - started) / 1e9;
		bench_progress(p->run, "breach to mailbox", (double)(i + 1) / elapsed, "breaches/s",
			       elapsed, elapsed * (double)trials / (double)(i + 1));
		bench_progress_latency(p->run, bench_ms(bench_hist_quantile(h, 0.99)));
	}
	bench_progress_done(p->run);
	if (rc == 0) {
		struct bench_table *t = bench_table(
		    p->run,
		    "alert: breach to mailbox, %ld breaches (1 s commits, for 0s, group "
		    "window 500 ms, aiosmtpd on 127.0.0.1)",
		    trials);
		breach_rows(t, "breach to mailbox", h);
		bench_process(t, "rmon-alertd", p->alertd);
		bench_process(t, "rmon-stored", p->stored);
	}
	bench_hist_free(h);
	return rc;
}

/* Message-IDs the sink received, with how often. */
struct received {
	char (*ids)[NOTELOG_ID_MAX];
	int *count;
	size_t n;
};

static int add_received(struct received *r, const char *id)
{
	size_t j = 0;
	while (j < r->n && strcmp(r->ids[j], id) != 0)
		j++;
	if (j == r->n) {
		char(*ids)[NOTELOG_ID_MAX] = realloc(r->ids, (r->n + 1) * sizeof *r->ids);
		if (ids)
			r->ids = ids;
		int *count = realloc(r->count, (r->n + 1) * sizeof *r->count);
		if (count)
			r->count = count;
		if (!ids || !count)
			return -1;
		snprintf(r->ids[j], NOTELOG_ID_MAX, "%.250s", id);
		r->count[r->n++] = 0;
	}
	r->count[j]++;
	return 0;
}

/* The Message-ID of one accepted message, counted in r (a struct received). */
static int read_received(void *r, const char *path)
{
	char line[2048];
	int rc = 0;
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof line, f)) {
		if (strncasecmp(line, "Message-ID: ", 12) != 0)
			continue;
		line[strcspn(line, "\r\n")] = 0;
		rc = add_received(r, line + 12);
		break;
	}
	if (f)
		fclose(f);
	return rc;
}

struct tally {
	struct received *r;
	bool *logged_ids; /* by index in r: the log has that Message-ID */
	size_t logged, lost, owed;
};

static int check_logged(void *ctx, const struct notelog_entry *ent)
{
	struct tally *t = ctx;
	t->logged++;
	if (!ent->delivered)
		t->owed++;
	size_t j = 0;
	while (j < t->r->n && strcmp(t->r->ids[j], ent->message_id) != 0)
		j++;
	if (j == t->r->n)
		t->lost++;
	else
		t->logged_ids[j] = true;
	return 0;
}

static int count_active(void *ctx, const struct alert *a)
{
	if (strcmp(a->rule, "storm") == 0)
		(*(size_t *)ctx)++;
	return 0;
}

static void storm_set(struct pipeline *p, double value)
{
	for (int s = 0; s < STORM_SERIES; s++) {
		char name[96];
		snprintf(name, sizeof name, "storm/storm_value{s=\"%d\"}", s);
		put(p, name, value);
	}
}

/* Every storm series back under its clear level until nothing is active
 * or owed for 2 s running (at most 5 minutes): a resolution waits out the
 * flap window and the group window before it is logged, so one quiet look
 * is not enough.  What is not received then is lost. */
static void storm_settle(struct pipeline *p)
{
	int quiet = 0;
	for (int i = 0; i < 1200 && quiet < 8; i++) {
		struct alert_store *s;
		struct err e = { 0 };
		size_t active = 0, owed = 0;
		storm_set(p, 1);
		usleep(250000);
		if (alert_store_open(p->data, 0, &s, &e) != 0) {
			quiet = 0;
			continue;
		}
		if (alert_store_alerts(s, true, count_active, &active, &e) != 0 ||
		    notelog_count_owed(s, &owed, &e) != 0)
			active = 1;
		alert_store_close(s);
		quiet = active || owed ? 0 : quiet + 1;
	}
}

static int storm_report(struct pipeline *p, long kills, double seconds)
{
	struct received r = { 0 };
	struct alert_store *s;
	struct err e = { 0 };
	if (mailsink_each(&p->sink, read_received, &r) != 0) {
		free(r.ids);
		free(r.count);
		return fail("%s: cannot read the messages (out of memory?)", p->sink.dir);
	}
	struct tally t = { &r, calloc(r.n + 1, sizeof(bool)), 0, 0, 0 };
	int rc = 0;
	if (!t.logged_ids)
		rc = fail("out of memory");
	else if (alert_store_open(p->data, 0, &s, &e) != 0)
		rc = fail("alertd's store: %s", e.msg);
	else {
		if (notelog_list(s, 0, check_logged, &t, &e) != 0)
			rc = fail("notification log: %s", e.msg);
		alert_store_close(s);
	}
	size_t dups = 0, received = 0, strangers = 0;
	for (size_t i = 0; rc == 0 && i < r.n; i++) {
		received += (size_t)r.count[i];
		dups += (size_t)r.count[i] - 1;
		strangers += !t.logged_ids[i];
	}
	if (rc == 0) {
		struct bench_table *tb = bench_table(
		    p->run,
		    "alert: kill -9 of rmon-alertd %ld times in a storm (%d series firing "
		    "and resolving, %.0f s)",
		    kills, STORM_SERIES, seconds);
		bench_figure(tb, "messages logged", (double)t.logged, "messages");
		bench_figure(tb, "messages received", (double)received, "messages");
		bench_figure(tb, "still owed at the end", (double)t.owed, "messages");
		bench_zero(tb, "messages lost (logged, never received)", t.lost);
		bench_figure(tb, "received twice, under their logged Message-ID", (double)dups,
			     "messages");
		bench_zero(tb, "received but never logged", strangers);
		bench_process(tb, "rmon-alertd (the last one)", p->alertd);
		bench_note(tb, "a duplicate is allowed only where the server accepted the mail "
			       "before the kill: it carries the logged Message-ID");
	}
	free(t.logged_ids);
	free(r.ids);
	free(r.count);
	return rc;
}

static int measure_storm(struct pipeline *p, long kills)
{
	int64_t started = rtime_mono_ns();
	long done = 0;
	while (done < kills) {
		for (int phase = 0; phase < 2 && done < kills; phase++) {
			storm_set(p, phase == 0 ? 20 : 1);
			usleep(200000 + (useconds_t)(rand() % 1300) * 1000);
			spawn_stop(&p->alertd, SIGKILL);
			done++;
			start_alertd(p);
			double elapsed = (double)(rtime_mono_ns() - started) / 1e9;
			bench_progress(p->run, "kill -9 storm", (double)done / elapsed, "kills/s",
				       elapsed, elapsed * (double)kills / (double)done);
		}
	}
	bench_progress_done(p->run);
	storm_settle(p);
	return storm_report(p, kills, (double)(rtime_mono_ns() - started) / 1e9);
}

static int run_pipeline(struct bench_run *run, long trials, long kills)
{
	struct pipeline p = { .run = run };
	int rc = pipeline_start(&p);
	if (rc == 0 && trials > 0)
		rc = measure_latency(&p, trials);
	if (rc == 0 && kills > 0)
		rc = measure_storm(&p, kills);
	pipeline_stop(&p);
	return rc;
}

int scenario_alert(struct bench_run *run, int argc, char **argv)
{
	bool quick = bench_opts(run)->quick;
	int64_t trials = quick ? 3 : 40, kills = quick ? 4 : 200;
	int64_t commits = quick ? 5 : 30, hosts = 100, series = quick ? 30 : 300, days = 1;
	const char *deviations_text = "6";
	const struct cmdline_option options[] = {
		{ "trials", 't', CMDLINE_INT, &trials, "N",
		  "breaches timed to the mailbox (default 40, --quick 3; 0: none)", 0, 10000 },
		{ "kills", 'k', CMDLINE_INT, &kills, "N",
		  "kill -9 of rmon-alertd in the storm (default 200, --quick 4; 0: none)", 0,
		  100000 },
		{ "commits", 0, CMDLINE_INT, &commits, "N",
		  "commits whose rule evaluation is timed (default 30, --quick 5; 0: none)", 0,
		  100000 },
		{ "hosts", 0, CMDLINE_INT, &hosts, "N",
		  "hosts of 100 series for the evaluation (default 100)", 1, 999 },
		{ "series", 0, CMDLINE_INT, &series, "N",
		  "series of the anomaly model's trial (default 300, --quick 30; 0: none)", 0,
		  1000000 },
		{ "days", 0, CMDLINE_INT, &days, "D", "days of normal data a series (default 1)", 1,
		  365 },
		{ "deviations", 0, CMDLINE_STRING, &deviations_text, "K",
		  "the anomaly model's robust deviations (default 6)", 0, 0 },
		{ 0 },
	};
	const struct cmdline cl = {
		.program = "rmon-bench alert",
		.about = "Times a breach from the ring to a real SMTP server's mailbox, kills "
			 "rmon-alertd\nduring a storm counting lost and duplicated messages, "
			 "times rule evaluation\nper commit and scores the anomaly model.",
		.options = options,
	};
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	char *end;
	double deviations = strtod(deviations_text, &end);
	if (*end || !(deviations > 0)) {
		fprintf(stderr, "rmon-bench alert: --deviations '%s': expected a number above 0\n",
			deviations_text);
		return 2;
	}
	srand((unsigned)time(NULL));
	int rc = 0;
	if (trials > 0 || kills > 0)
		rc = run_pipeline(run, trials, kills);
	if (rc == 0 && commits > 0)
		rc = rulecost_measure(run, (int)commits, (int)hosts);
	if (rc == 0 && series > 0)
		rc = anomalyscore_measure(run, (int)series, (int)days, deviations);
	return rc ? 1 : 0;
}
