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
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alertd/alerts.h"
#include "alertd/notelog.h"
#include "bench/anomalyscore.h"
#include "bench/bench.h"
#include "bench/rulecost.h"
#include "bench/scenarios.h"
#include "bench/spawn.h"
#include "lib/cmdline.h"
#include "lib/rtime.h"

#define STORM_SERIES 12

/* The daemons of parts 1 and 2 and their files. */
struct pipeline {
	struct bench_run *run;
	char root[PATH_MAX], data[PATH_MAX + 8], mail[PATH_MAX + 8], conf[PATH_MAX + 16];
	char alertd_log[PATH_MAX + 16];
	pid_t stored, alertd, sink, put;
	FILE *put_in;
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
	fprintf(p->put_in, "%s %g\n", series, value);
	fflush(p->put_in);
}

/* The SMTP sink's script: beside the sources of the build's bin/, else
 * from the current folder (a run from the source tree). */
static int find_sink(const struct bench_options *o, char *path, size_t len)
{
	snprintf(path, len, "%s/../../../tests/integration/lib/smtp_sink.py", o->bin);
	if (access(path, R_OK) == 0)
		return 0;
	snprintf(path, len, "tests/integration/lib/smtp_sink.py");
	if (access(path, R_OK) == 0)
		return 0;
	return fail("cannot find tests/integration/lib/smtp_sink.py (run from the source tree)");
}

static int write_config(struct pipeline *p, int port)
{
	FILE *c = fopen(p->conf, "w");
	if (!c)
		return fail("%s: %s", p->conf, strerror(errno));
	fprintf(c,
		"[alertd]\nflap_window = 1s\n"
		"[receiver ops]\ntype = email\nserver = 127.0.0.1\nport = %d\ntls = none\n"
		"from = rmon@example.com\nto = ops@example.com\n"
		"[route everything]\nreceivers = ops\n"
		"[rule hot]\nexpr = bench_value\nabove = 10\ngroup_by = t\n"
		"summary = zone {labels.t} is hot\n"
		"[rule storm]\nexpr = storm_value\nabove = 10\nclear = 5\ngroup_by = s\n",
		port);
	return fclose(c) == 0 ? 0 : fail("%s: %s", p->conf, strerror(errno));
}

/* rmon-put with its stdin a pipe of ours. */
static int start_put(struct pipeline *p)
{
	int fds[2];
	if (pipe(fds) != 0)
		return fail("pipe: %s", strerror(errno));
	p->put = fork();
	if (p->put == 0) {
		dup2(fds[0], 0);
		close(fds[1]);
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		const char *exe = bench_bin(p->run, "rmon-put");
		execl(exe, exe, "--data", p->data, (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	p->put_in = fdopen(fds[1], "w");
	return p->put > 0 && p->put_in ? 0 : fail("cannot start rmon-put");
}

static int pipeline_start(struct pipeline *p)
{
	char sink[PATH_MAX + 64], log[PATH_MAX + 16], portbuf[16];
	if (access("/usr/bin/python3", X_OK) != 0 ||
	    system("/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null") != 0)
		return fail("needs /usr/bin/python3 with aiosmtpd (Debian: python3-aiosmtpd)");
	if (find_sink(bench_opts(p->run), sink, sizeof sink) != 0)
		return -1;
	snprintf(p->root, sizeof p->root, "%s/alert", bench_scratch(p->run));
	snprintf(p->data, sizeof p->data, "%s/data", p->root);
	snprintf(p->mail, sizeof p->mail, "%s/mail", p->root);
	snprintf(p->conf, sizeof p->conf, "%s/alertd.conf", p->root);
	snprintf(p->alertd_log, sizeof p->alertd_log, "%s/alertd.log", p->root);
	if (mkdir(p->root, 0700) != 0 || mkdir(p->mail, 0700) != 0)
		return fail("mkdir %s: %s", p->mail, strerror(errno));
	int port = bench_free_port();
	if (write_config(p, port) != 0)
		return -1;
	snprintf(portbuf, sizeof portbuf, "%d", port);
	snprintf(log, sizeof log, "%s/sink.log", p->root);
	char *sink_argv[] = { "/usr/bin/python3", sink, "--port", portbuf, "--dir", p->mail, NULL };
	p->sink = spawn_logged(sink_argv, log, false);
	if (!spawn_wait_log(&p->sink, log, "ready", 30))
		return -1;
	snprintf(log, sizeof log, "%s/stored.log", p->root);
	char *stored_argv[] = { (char *)bench_bin(p->run, "rmon-stored"), "--data", p->data, NULL };
	p->stored = spawn_logged(stored_argv, log, false);
	if (!spawn_wait_log(&p->stored, log, "draining into", 30))
		return -1;
	start_alertd(p);
	if (!spawn_wait_log(&p->alertd, p->alertd_log, "running on", 30))
		return -1;
	return start_put(p);
}

static void pipeline_stop(struct pipeline *p)
{
	if (p->put_in)
		fclose(p->put_in);
	p->put_in = NULL;
	spawn_stop(&p->put, SIGKILL);
	spawn_stop(&p->alertd, SIGKILL);
	spawn_stop(&p->stored, SIGTERM);
	spawn_stop(&p->sink, SIGTERM);
}

/* The sink's accepted messages (NNNN.eml) in mail, by name. */
struct mails {
	char (*names)[32];
	size_t n;
};

static void list_mails(const char *mail, struct mails *m)
{
	DIR *d = opendir(mail);
	m->n = 0;
	for (struct dirent *de; d && (de = readdir(d));) {
		size_t len = strlen(de->d_name);
		if (len > 4 && len < 32 && strcmp(de->d_name + len - 4, ".eml") == 0) {
			char(*grown)[32] = realloc(m->names, (m->n + 1) * sizeof *m->names);
			if (!grown)
				break;
			m->names = grown;
			snprintf(m->names[m->n++], 32, "%.31s", de->d_name);
		}
	}
	if (d)
		closedir(d);
}

/* Waits for a mail naming tag; returns its accept time (mtime, ns), or 0
 * when none came by deadline. */
static int64_t wait_mail(const char *mail, const char *tag, int64_t deadline)
{
	struct mails m = { 0 };
	char path[PATH_MAX + 64];
	int64_t accepted = 0;
	while (!accepted && rtime_now_ns() < deadline) {
		list_mails(mail, &m);
		for (size_t i = 0; i < m.n && !accepted; i++) {
			snprintf(path, sizeof path, "%s/%s", mail, m.names[i]);
			struct stat st;
			if (spawn_file_has(path, tag) && stat(path, &st) == 0)
				accepted = (int64_t)st.st_mtim.tv_sec * RTIME_NS_PER_SEC +
					   st.st_mtim.tv_nsec;
		}
		if (!accepted)
			usleep(2000);
	}
	free(m.names);
	return accepted;
}

static int measure_latency(struct pipeline *p, long trials)
{
	struct bench_hist *h = bench_hist_new();
	if (!h)
		return fail("out of memory");
	int64_t started = rtime_mono_ns();
	int rc = 0;
	for (long i = 0; i < trials && rc == 0; i++) {
		char series[128], tag[64];
		snprintf(series, sizeof series, "bench/bench_value{t=\"t%ld\"}", i);
		snprintf(tag, sizeof tag, "zone t%ld is hot", i);
		put(p, series, 1);
		/* a random moment of the store's one-second commit cycle */
		usleep(1000000 + (useconds_t)(rand() % 1000) * 1000);
		int64_t t0 = rtime_now_ns();
		put(p, series, 20);
		int64_t t1 = wait_mail(p->mail, tag, t0 + 30 * RTIME_NS_PER_SEC);
		if (!t1) {
			rc = fail("breach %ld: no mail within 30 s (see %s)", i, p->alertd_log);
			break;
		}
		bench_hist_add(h, t1 - t0);
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
		bench_goal(t, "breach to mailbox p50", bench_ms(bench_hist_quantile(h, 0.5)), "ms",
			   false, 1500);
		bench_latency(t, "breach to mailbox", h, 3000);
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

static int read_received(const char *mail, struct received *r)
{
	struct mails m = { 0 };
	list_mails(mail, &m);
	char path[PATH_MAX + 64], line[2048];
	int rc = 0;
	for (size_t i = 0; i < m.n && rc == 0; i++) {
		snprintf(path, sizeof path, "%s/%s", mail, m.names[i]);
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
	}
	free(m.names);
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
	if (read_received(p->mail, &r) != 0)
		return fail("out of memory");
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
