/* bench-alert.c - rmon-alertd against a real SMTP server on 127.0.0.1
 * (tests/integration/lib/smtp_sink.py, Debian's aiosmtpd), with
 * rmon-stored committing every second as it ships:
 *
 *   1. breach to mailbox: a sample crossing a rule's threshold (for 0s,
 *      the default 500 ms group window) is pushed into the ring; the time
 *      until the SMTP server has accepted its mail (the file's mtime),
 *      p50 and p99 over --trials breaches at random moments (goals:
 *      p50 <= 1.5 s, p99 <= 3 s);
 *   2. kill -9 of rmon-alertd --kills times at random moments of a storm of
 *      firing and resolving alerts, restarted each time: messages logged,
 *      lost (logged or owed but never received: goal 0) and received twice
 *      (only under the same Message-ID);
 *
 * Usage: bench-alert [--trials 40] [--kills 200]
 * Needs rmon-stored, rmon-alertd and rmon-put beside it and
 * /usr/bin/python3 with aiosmtpd. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alertd/alerts.h"
#include "alertd/notelog.h"
#include "bench/bench.h"
#include "lib/cmdline.h"
#include "lib/rtime.h"

static char bin[PATH_MAX], root[PATH_MAX], data[PATH_MAX + 16], mail[PATH_MAX + 16];
static char conf[PATH_MAX + 32], sink_script[PATH_MAX + 64];
static pid_t stored_pid, alertd_pid, sink_pid;
static FILE *put_in;
static pid_t put_pid;

static pid_t spawn(char *const argv[], const char *log)
{
	pid_t pid = fork();
	if (pid < 0)
		bench_die("fork: %s", strerror(errno));
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static void stop(pid_t *pid, int sig)
{
	if (*pid > 0) {
		kill(*pid, sig);
		waitpid(*pid, NULL, 0);
	}
	*pid = 0;
}

static void cleanup(void)
{
	if (put_in)
		fclose(put_in);
	stop(&put_pid, SIGKILL);
	stop(&alertd_pid, SIGKILL);
	stop(&stored_pid, SIGTERM);
	stop(&sink_pid, SIGTERM);
	if (root[0])
		bench_remove_tree(root);
}

static void on_signal(int signo)
{
	exit(1); /* through cleanup */
}

static bool file_has(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	bool found = false;
	while (f && !found && fgets(line, sizeof line, f))
		found = strstr(line, needle) != NULL;
	if (f)
		fclose(f);
	return found;
}

static void wait_for(const char *path, const char *needle, int seconds)
{
	for (int i = 0; i < seconds * 20; i++) {
		if (file_has(path, needle))
			return;
		usleep(50000);
	}
	bench_die("%s never said '%s'", path, needle);
}

static void start_alertd(void)
{
	char log[PATH_MAX + 32], exe[PATH_MAX + 16];
	snprintf(log, sizeof log, "%s/alertd.log", root);
	snprintf(exe, sizeof exe, "%s/rmon-alertd", bin);
	char *argv[] = { exe, "--data", data, "--config", conf, NULL };
	alertd_pid = spawn(argv, log);
}

static void put(const char *series, double value)
{
	fprintf(put_in, "%s %g\n", series, value);
	fflush(put_in);
}

/* The sink's files in mail, by name; each .eml an accepted message. */
struct mails {
	char (*names)[32];
	size_t n;
};

static void list_mails(struct mails *m)
{
	DIR *d = opendir(mail);
	struct dirent *de;
	m->n = 0;
	while (d && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len > 4 && len < 32 && strcmp(de->d_name + len - 4, ".eml") == 0) {
			m->names = realloc(m->names, (m->n + 1) * sizeof *m->names);
			snprintf(m->names[m->n++], 32, "%.31s", de->d_name);
		}
	}
	if (d)
		closedir(d);
}

/* Waits for a mail naming tag; returns its accept time (mtime, ns). */
static int64_t wait_mail(const char *tag, int64_t deadline)
{
	struct mails m = { 0 };
	char path[PATH_MAX + 64];
	while (rtime_now_ns() < deadline) {
		list_mails(&m);
		for (size_t i = 0; i < m.n; i++) {
			snprintf(path, sizeof path, "%s/%s", mail, m.names[i]);
			struct stat st;
			if (file_has(path, tag) && stat(path, &st) == 0) {
				free(m.names);
				return (int64_t)st.st_mtim.tv_sec * RTIME_NS_PER_SEC +
				       st.st_mtim.tv_nsec;
			}
		}
		usleep(2000);
	}
	free(m.names);
	return 0;
}

static void latency(long trials)
{
	int64_t *lat = calloc((size_t)trials, sizeof *lat);
	size_t n = 0;
	for (long i = 0; i < trials; i++) {
		char series[128], tag[64];
		snprintf(series, sizeof series, "bench/bench_value{t=\"t%ld\"}", i);
		snprintf(tag, sizeof tag, "zone t%ld is hot", i);
		put(series, 1);
		/* a random moment of the store's one-second commit cycle */
		usleep(1000000 + (useconds_t)(rand() % 1000) * 1000);
		int64_t t0 = rtime_now_ns();
		put(series, 20);
		int64_t t1 = wait_mail(tag, t0 + 30 * RTIME_NS_PER_SEC);
		if (!t1)
			bench_die("trial %ld: no mail within 30 s", i);
		lat[n++] = t1 - t0;
	}
	int64_t p50 = bench_quantile(lat, n, 0.5), p99 = bench_quantile(lat, n, 0.99);
	int64_t max = bench_quantile(lat, n, 1.0);
	printf("breach to mailbox (%zu breaches, 1 s commits, for 0s, group window 500 ms):\n", n);
	printf("  p50 %.0f ms (goal <= 1500) %s\n", bench_ms(p50),
	       bench_verdict(p50 <= 1500 * RTIME_NS_PER_MS));
	printf("  p99 %.0f ms (goal <= 3000) %s\n", bench_ms(p99),
	       bench_verdict(p99 <= 3000 * RTIME_NS_PER_MS));
	printf("  max %.0f ms\n", bench_ms(max));
	free(lat);
}

/* Message-IDs the sink received, with how often. */
struct received {
	char (*ids)[NOTELOG_ID_MAX];
	int *count;
	size_t n;
};

static void read_received(struct received *r)
{
	struct mails m = { 0 };
	list_mails(&m);
	char path[PATH_MAX + 64], line[2048];
	for (size_t i = 0; i < m.n; i++) {
		snprintf(path, sizeof path, "%s/%s", mail, m.names[i]);
		FILE *f = fopen(path, "r");
		while (f && fgets(line, sizeof line, f)) {
			if (strncasecmp(line, "Message-ID: ", 12) != 0)
				continue;
			line[strcspn(line, "\r\n")] = 0;
			size_t j = 0;
			while (j < r->n && strcmp(r->ids[j], line + 12) != 0)
				j++;
			if (j == r->n) {
				r->ids = realloc(r->ids, (r->n + 1) * sizeof *r->ids);
				r->count = realloc(r->count, (r->n + 1) * sizeof *r->count);
				snprintf(r->ids[j], NOTELOG_ID_MAX, "%.250s", line + 12);
				r->count[r->n++] = 0;
			}
			r->count[j]++;
			break;
		}
		if (f)
			fclose(f);
	}
	free(m.names);
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

static void kill_storm(long kills)
{
	const int series = 12;
	long done = 0;
	int64_t started = rtime_now_ns();
	while (done < kills) {
		for (int phase = 0; phase < 2 && done < kills; phase++) {
			for (int s = 0; s < series; s++) {
				char name[96];
				snprintf(name, sizeof name, "storm/storm_value{s=\"%d\"}", s);
				put(name, phase == 0 ? 20 : 1);
			}
			usleep(200000 + (useconds_t)(rand() % 1300) * 1000);
			kill(alertd_pid, SIGKILL);
			waitpid(alertd_pid, NULL, 0);
			done++;
			start_alertd();
		}
	}
	/* Settle: all resolved, nothing owed. */
	struct alert_store *s;
	struct err e = { 0 };
	size_t active = 1, owed = 1;
	for (int i = 0; i < 1200 && (active || owed); i++) {
		for (int k = 0; k < series; k++) {
			char name[96];
			snprintf(name, sizeof name, "storm/storm_value{s=\"%d\"}", k);
			put(name, 1);
		}
		usleep(250000);
		if (alert_store_open(data, 0, &s, &e) != 0)
			continue;
		active = 0;
		alert_store_alerts(s, true, count_active, &active, &e);
		notelog_count_owed(s, &owed, &e);
		alert_store_close(s);
	}
	usleep(500000);
	struct received r = { 0 };
	read_received(&r);
	struct tally t = { &r, calloc(r.n + 1, sizeof(bool)), 0, 0, 0 };
	if (alert_store_open(data, 0, &s, &e) != 0)
		bench_die("%s", e.msg);
	if (notelog_list(s, 0, check_logged, &t, &e) != 0)
		bench_die("%s", e.msg);
	alert_store_close(s);
	size_t dups = 0, received = 0, strangers = 0;
	for (size_t i = 0; i < r.n; i++) {
		received += (size_t)r.count[i];
		dups += (size_t)r.count[i] - 1;
		strangers += !t.logged_ids[i];
	}
	free(t.logged_ids);
	printf("kill -9 of rmon-alertd %ld times in a storm (%d series firing and resolving, "
	       "%.0f s):\n",
	       kills, series, bench_ms(rtime_now_ns() - started) / 1000);
	printf("  messages logged %zu, received %zu, still owed %zu\n", t.logged, received, t.owed);
	printf("  lost %zu (goal 0) %s\n", t.lost + t.owed, bench_verdict(t.lost + t.owed == 0));
	printf("  duplicates %zu, each under the Message-ID of a logged message; received but "
	       "never logged: %zu %s\n",
	       dups, strangers, bench_verdict(strangers == 0));
	free(r.ids);
	free(r.count);
}

int main(int argc, char **argv)
{
	int64_t trials = 40, kills = 200;
	const struct cmdline_option options[] = {
		{ "trials", 't', CMDLINE_INT, &trials, "N", "breaches timed (default 40)", 1,
		  10000 },
		{ "kills", 'k', CMDLINE_INT, &kills, "N",
		  "kill -9 of rmon-alertd (default 200; 0: none)", 0, 100000 },
		{ 0 },
	};
	const struct cmdline cl = {
		.program = "bench-alert",
		.about = "Times a breach from the ring to a real SMTP server's mailbox, and kills "
			 "rmon-alertd during a storm counting lost and duplicated messages.",
		.options = options,
	};
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (access("/usr/bin/python3", X_OK) != 0 ||
	    system("/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null") != 0)
		bench_die("needs /usr/bin/python3 with aiosmtpd (python3-aiosmtpd)");
	ssize_t len = readlink("/proc/self/exe", bin, sizeof bin - 1);
	if (len <= 0)
		bench_die("readlink /proc/self/exe");
	bin[len] = 0;
	*strrchr(bin, '/') = 0;
	snprintf(sink_script, sizeof sink_script, "%s/../../../tests/integration/lib/smtp_sink.py",
		 bin);
	if (access(sink_script, R_OK) != 0)
		snprintf(sink_script, sizeof sink_script, "tests/integration/lib/smtp_sink.py");
	snprintf(root, sizeof root, "/tmp/bench-alert-XXXXXX");
	if (!mkdtemp(root))
		bench_die("mkdtemp: %s", strerror(errno));
	atexit(cleanup);
	srand((unsigned)time(NULL));
	snprintf(data, sizeof data, "%s/data", root);
	snprintf(mail, sizeof mail, "%s/mail", root);
	snprintf(conf, sizeof conf, "%s/alertd.conf", root);
	mkdir(mail, 0700);
	int port = bench_free_port();
	FILE *c = fopen(conf, "w");
	if (!c)
		bench_die("%s: %s", conf, strerror(errno));
	fprintf(c,
		"[alertd]\nflap_window = 1s\n"
		"[receiver ops]\ntype = email\nserver = 127.0.0.1\nport = %d\ntls = none\n"
		"from = rmon@example.com\nto = ops@example.com\n"
		"[route everything]\nreceivers = ops\n"
		"[rule hot]\nexpr = bench_value\nabove = 10\ngroup_by = t\n"
		"summary = zone {labels.t} is hot\n"
		"[rule storm]\nexpr = storm_value\nabove = 10\nclear = 5\ngroup_by = s\n",
		port);
	fclose(c);

	char log[PATH_MAX + 32], exe[PATH_MAX + 16], portbuf[16];
	snprintf(portbuf, sizeof portbuf, "%d", port);
	snprintf(log, sizeof log, "%s/sink.log", root);
	char *sink_argv[] = {
		"/usr/bin/python3", sink_script, "--port", portbuf, "--dir", mail, NULL
	};
	sink_pid = spawn(sink_argv, log);
	wait_for(log, "ready", 30);
	snprintf(log, sizeof log, "%s/stored.log", root);
	snprintf(exe, sizeof exe, "%s/rmon-stored", bin);
	char *stored_argv[] = { exe, "--data", data, NULL };
	stored_pid = spawn(stored_argv, log);
	wait_for(log, "draining into", 30);
	start_alertd();
	snprintf(log, sizeof log, "%s/alertd.log", root);
	wait_for(log, "running on", 30);

	int fds[2];
	if (pipe(fds) != 0)
		bench_die("pipe");
	put_pid = fork();
	if (put_pid == 0) {
		dup2(fds[0], 0);
		close(fds[1]);
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		snprintf(exe, sizeof exe, "%s/rmon-put", bin);
		execl(exe, exe, "--data", data, (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	put_in = fdopen(fds[1], "w");

	latency(trials);
	if (kills)
		kill_storm(kills);
	return 0;
}
