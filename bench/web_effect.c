/* web_effect.c - the time from a form's submit to its effect in alertd
 * (see web_effect.h).  A notification's time is its maildir file's mtime,
 * written by alertd as it delivers; the submit's is taken just before
 * rmon-web starts, as fcgiwrap would start it for nginx.  One loop looks
 * at every host's alert every 5 ms: its mails, its action when due, the
 * mark alertd writes when a silence holds it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alertd/alerts.h"
#include "alertd/notelog.h"
#include "bench/spawn.h"
#include "bench/web_effect.h"
#include "lib/rtime.h"
#include "reportgen/web_token.h"
#include "shmring/ring.h"

#define ROUNDS	     10
#define ROUNDS_QUICK 3
#define CONTROLS     2 /* alerts left alone: their repeat must come */
#define GOAL_MS	     2000
#define REPEAT_NS    (60 * RTIME_NS_PER_SEC) /* alertd's shortest repeat */
#define STAGGER_NS   (1500 * RTIME_NS_PER_MS)
#define LEAD_MIN_MS  200  /* the action comes this long before the repeat is due, */
#define LEAD_MAX_MS  2000 /* at most this: within the goal */
#define WATCH_NS     (6 * RTIME_NS_PER_SEC)  /* after the repeat was due */
#define FIRST_NS     (20 * RTIME_NS_PER_SEC) /* for an alert's first notification */
#define HOSTS_MAX    (2 * ROUNDS + CONTROLS)
#define USER	     "bench"

enum act { ACT_ACK, ACT_SILENCE, ACT_NONE };

/* One host's alert, from its first sample to the end of its watch. */
struct host {
	enum act act;
	int64_t begin;	  /* mono: its samples start */
	int64_t first;	  /* wall: its first notification's mtime, 0 before */
	int64_t told;	  /* wall: when alertd logged that message: the repeat is due from it */
	int64_t submit;	  /* wall: the action's submit, 0 before */
	int64_t answered; /* wall: rmon-web's answer: the action is in alertd's store */
	int64_t lead_ns;  /* how long before the repeat was due the action came */
	int64_t effect;	  /* wall: alertd's mark of the silence, 0 before */
	uint64_t id;	  /* its alert */
	int mails;	  /* notifications so far */
	int64_t repeat;	  /* wall: the control's repeat, 0 before */
	bool done;
};

struct effect {
	struct bench_run *run;
	char root[PATH_MAX], data[PATH_MAX + 8], maildir[PATH_MAX + 32], conf[PATH_MAX + 16];
	char users[PATH_MAX + 32];
	pid_t stored, alertd, put;
	FILE *put_in;
	struct alert_store *alerts;	 /* read: the alerts' ids and marks */
	struct host host[HOSTS_MAX + 1]; /* round01 is host[1] */
	int n;
};

/* Fires per host and repeats as often as alertd allows; the summary names
 * the host so each mail is told apart. */
static const char config[] = "[alertd]\n"
			     "group_window = 0s\n"
			     "repeat = 1m\n"
			     "flap_window = 1s\n"
			     "[receiver box]\n"
			     "type = maildir\n"
			     "path = maildir\n"
			     "[route everything]\n"
			     "receivers = box\n"
			     "[rule hot]\n"
			     "expr = effect_value\n"
			     "above = 10\n"
			     "summary = effect {host} is hot\n";

static pid_t spawn(char *const argv[], const char *log, int stdin_fd)
{
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (stdin_fd >= 0)
			dup2(stdin_fd, 0);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static bool wait_log(const struct effect *x, const char *name, const char *needle, pid_t pid)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/%s", x->root, name);
	for (int i = 0; i < 600; i++) {
		if (spawn_file_has(path, needle))
			return true;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			break;
		usleep(50000);
	}
	fprintf(stderr, "web_effect: %s never said '%s'\n", path, needle);
	return false;
}

static bool write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	bool ok = f && fputs(text, f) >= 0;
	if (f && fclose(f) != 0)
		ok = false;
	if (!ok)
		fprintf(stderr, "web_effect: cannot write %s: %s\n", path, strerror(errno));
	return ok;
}

static int start(struct effect *x)
{
	char path[PATH_MAX + 32];
	snprintf(x->root, sizeof x->root, "%s/web_effect", bench_scratch(x->run));
	snprintf(x->data, sizeof x->data, "%s/data", x->root);
	snprintf(x->maildir, sizeof x->maildir, "%s/maildir/new", x->data);
	snprintf(x->conf, sizeof x->conf, "%s/alertd.conf", x->root);
	snprintf(x->users, sizeof x->users, "%s/web-users.conf", x->root);
	mkdir(x->root, 0700);
	mkdir(x->data, 0700);
	if (!write_text(x->conf, config) || !write_text(x->users, "[roles]\n" USER " = operator\n"))
		return -1;
	char *stored[] = { (char *)bench_bin(x->run, "rmon-stored"), "--data", x->data, NULL };
	snprintf(path, sizeof path, "%s/stored.log", x->root);
	x->stored = spawn(stored, path, -1);
	if (!wait_log(x, "stored.log", "draining into", x->stored))
		return -1;
	char *alertd[] = { (char *)bench_bin(x->run, "rmon-alertd"),
			   "--data",
			   x->data,
			   "--config",
			   x->conf,
			   NULL };
	snprintf(path, sizeof path, "%s/alertd.log", x->root);
	x->alertd = spawn(alertd, path, -1);
	if (!wait_log(x, "alertd.log", "running on", x->alertd))
		return -1;
	int fds[2];
	if (pipe(fds) != 0)
		return -1;
	char *put[] = { (char *)bench_bin(x->run, "rmon-put"), "--data", x->data, NULL };
	snprintf(path, sizeof path, "%s/put.log", x->root);
	x->put = spawn(put, path, fds[0]);
	close(fds[0]);
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	x->put_in = fdopen(fds[1], "w");
	return x->put_in ? 0 : -1;
}

static void stop(pid_t *pid, int sig)
{
	if (*pid > 0) {
		kill(*pid, sig);
		waitpid(*pid, NULL, 0);
	}
	*pid = 0;
}

static void finish(struct effect *x)
{
	if (x->put_in)
		fclose(x->put_in);
	x->put_in = NULL;
	stop(&x->put, SIGTERM);
	stop(&x->alertd, SIGTERM);
	stop(&x->stored, SIGTERM);
	alert_store_close(x->alerts);
	x->alerts = NULL;
	char ring[64];
	ring_name_for_dir(x->data, ring, sizeof ring);
	ring_unlink(ring, NULL);
}

/* A hot sample for every host begun, to the end, so each alert stays
 * firing (an acked or silenced one too: it must stay quiet, not resolve
 * and say so). */
static void feed(struct effect *x, int64_t now)
{
	for (int i = 1; i <= x->n; i++)
		if (x->host[i].begin <= now)
			fprintf(x->put_in, "round%02d/effect_value 20\n", i);
	fflush(x->put_in);
}

/* The round whose host a mail names, or 0. */
static int round_in(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	int round = 0;
	while (f && !round && fgets(line, sizeof line, f)) {
		const char *at = strstr(line, "effect round");
		if (at)
			round = atoi(at + 12);
	}
	if (f)
		fclose(f);
	return round;
}

/* A host's mail, at wall time at: its first, or a control's repeat. */
static void on_mail(struct host *h, int64_t at)
{
	if (h->mails++ == 0)
		h->first = at;
	else if (h->act == ACT_NONE && !h->repeat)
		h->repeat = at;
}

/* Reads the mails that arrived since the last look, moving each out of
 * new/ once read. */
static void take_mails(struct effect *x)
{
	DIR *d = opendir(x->maildir);
	char path[PATH_MAX + 300], done[PATH_MAX + 300];
	for (struct dirent *de; d && (de = readdir(d));) {
		struct stat st;
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", x->maildir, de->d_name);
		if (stat(path, &st) != 0)
			continue;
		int of = round_in(path);
		if (of >= 1 && of <= x->n)
			on_mail(&x->host[of],
				(int64_t)st.st_mtim.tv_sec * RTIME_NS_PER_SEC + st.st_mtim.tv_nsec);
		snprintf(done, sizeof done, "%s/../cur", x->maildir);
		mkdir(done, 0700);
		snprintf(done, sizeof done, "%s/../cur/%s", x->maildir, de->d_name);
		rename(path, done);
	}
	if (d)
		closedir(d);
}

struct find {
	const char *host;
	uint64_t id;
};

static int find_firing(void *ctx, const struct alert *a)
{
	struct find *f = ctx;
	if (a->state == ALERT_FIRING && strcmp(a->host, f->host) == 0)
		f->id = a->id;
	return 0;
}

static uint64_t alert_of(struct effect *x, int round)
{
	char host[16];
	snprintf(host, sizeof host, "round%02d", round);
	struct find f = { host, 0 };
	if (!x->alerts && alert_store_open(x->data, 0, &x->alerts, NULL) != 0)
		x->alerts = NULL;
	if (x->alerts)
		alert_store_alerts(x->alerts, true, find_firing, &f, NULL);
	return f.id;
}

/* Runs rmon-web on body as fcgiwrap does for nginx's POST; its status
 * (a CGI answer without Status: is 200). */
static int submit(const struct effect *x, const char *body)
{
	int in[2], out[2];
	if (pipe(in) != 0 || pipe(out) != 0)
		return -1;
	char env[8][PATH_MAX + 64];
	snprintf(env[0], sizeof env[0], "REQUEST_METHOD=POST");
	snprintf(env[1], sizeof env[1], "CONTENT_TYPE=application/x-www-form-urlencoded");
	snprintf(env[2], sizeof env[2], "CONTENT_LENGTH=%zu", strlen(body));
	snprintf(env[3], sizeof env[3], "REMOTE_USER=" USER);
	snprintf(env[4], sizeof env[4], "RMON_DATA=%s", x->data);
	snprintf(env[5], sizeof env[5], "RMON_WEB_USERS=%s", x->users);
	snprintf(env[6], sizeof env[6], "SCRIPT_NAME=/rmon/action");
	snprintf(env[7], sizeof env[7], "GATEWAY_INTERFACE=CGI/1.1");
	char *envp[] = { env[0], env[1], env[2], env[3], env[4], env[5], env[6], env[7], NULL };
	const char *web = bench_bin(x->run, "rmon-web");
	pid_t pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		char *argv[] = { (char *)web, NULL };
		execve(web, argv, envp);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	ssize_t w = write(in[1], body, strlen(body));
	close(in[1]);
	char answer[16384];
	size_t got = 0;
	for (ssize_t n; got < sizeof answer - 1 &&
			(n = read(out[0], answer + got, sizeof answer - 1 - got)) > 0;)
		got += (size_t)n;
	answer[got] = '\0';
	close(out[0]);
	int st;
	waitpid(pid, &st, 0);
	if (w < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	const char *status = strstr(answer, "Status: ");
	int code = status && status < strstr(answer, "\r\n\r\n") ? atoi(status + 8) : 200;
	if (code != 200 && code != 303)
		fprintf(stderr, "web_effect: rmon-web answered %d: %.300s\n", code, answer);
	return code;
}

struct action {
	struct bench_hist *effect, *answer;
};

/* Submits host i's action through rmon-web; -1 when it was refused. */
static int act(struct effect *x, int i, struct action *a)
{
	struct host *h = &x->host[i];
	char token[WEB_TOKEN_LEN + 1], body[512];
	if (web_token_make(x->data, USER, rtime_now_ns(), token, sizeof token, NULL) < 0)
		return -1;
	if (h->act == ACT_ACK)
		snprintf(body, sizeof body, "do=ack&id=%llu&comment=bench&token=%s",
			 (unsigned long long)h->id, token);
	else
		snprintf(body, sizeof body,
			 "do=silence&selector=round%02d%%2F*&for=1h&comment=bench&token=%s", i,
			 token);
	int64_t m0 = rtime_mono_ns();
	h->submit = rtime_now_ns();
	int code = submit(x, body);
	if (code != 200 && code != 303)
		return -1;
	int64_t answered = rtime_mono_ns() - m0;
	h->answered = rtime_now_ns();
	bench_hist_add(a[h->act].answer, answered);
	/* An ack is alertd's as soon as it is in its store: alertd reads the
	 * store before it routes, so before any repeat; what the repeat does
	 * is checked all the same. */
	if (h->act == ACT_ACK)
		bench_hist_add(a[h->act].effect, answered);
	return 0;
}

static int on_told(void *ctx, const char *receiver, enum notice_kind kind, int64_t at)
{
	int64_t *told = ctx;
	if (kind == NOTICE_FIRING && (!*told || at < *told))
		*told = at;
	return 0;
}

/* One look at host i: its id once it notified, its action when the
 * repeat is due within its lead, alertd's mark of a silence, its end. */
static int step(struct effect *x, int i, struct action *a, int64_t now)
{
	struct host *h = &x->host[i];
	if (h->done || h->begin > rtime_mono_ns())
		return 0;
	if (!h->first) {
		if (rtime_mono_ns() - h->begin > FIRST_NS) {
			fprintf(stderr,
				"web_effect: round%02d's alert did not notify in %d s (see %s)\n",
				i, (int)(FIRST_NS / RTIME_NS_PER_SEC), x->root);
			return -1;
		}
		return 0;
	}
	if (!h->id && !(h->id = alert_of(x, i)))
		return 0;
	if (!h->told && (notelog_told(x->alerts, h->id, on_told, &h->told, NULL) != 0 || !h->told))
		return 0;
	int64_t due = h->told + REPEAT_NS;
	if (h->act != ACT_NONE && !h->submit && now >= due - h->lead_ns && act(x, i, a) != 0)
		return -1;
	if (h->act == ACT_SILENCE && h->submit && !h->effect) {
		struct alert al;
		if (alert_store_get(x->alerts, h->id, &al, NULL) == 0 && al.silenced_by) {
			h->effect = rtime_now_ns();
			bench_hist_add(a[ACT_SILENCE].effect, h->effect - h->submit);
		}
	}
	if (now >= due + WATCH_NS)
		h->done = true;
	return 0;
}

static bool all_done(const struct effect *x)
{
	for (int i = 1; i <= x->n; i++)
		if (!x->host[i].done)
			return false;
	return true;
}

/* Acks and silences alternate; the controls come last. Each action's
 * lead is drawn between LEAD_MIN_MS and LEAD_MAX_MS. */
static void plan(struct effect *x, int rounds)
{
	x->n = 2 * rounds + CONTROLS;
	int64_t t0 = rtime_mono_ns();
	for (int i = 1; i <= x->n; i++) {
		struct host *h = &x->host[i];
		h->act = i > 2 * rounds ? ACT_NONE : i % 2 ? ACT_ACK : ACT_SILENCE;
		h->begin = t0 + (i - 1) * STAGGER_NS;
		h->lead_ns =
		    (LEAD_MIN_MS + rand() % (LEAD_MAX_MS - LEAD_MIN_MS + 1)) * RTIME_NS_PER_MS;
	}
}

struct late {
	const struct effect *x;
	uint64_t n[3];
};

/* A message alertd logged about an alert after its action was in
 * alertd's store: what the action should have stopped. */
static int count_late(void *ctx, const struct notelog_entry *ent)
{
	struct late *l = ctx;
	for (size_t k = 0; k < ent->n_items; k++)
		for (int i = 1; i <= l->x->n; i++) {
			const struct host *h = &l->x->host[i];
			if (h->id == ent->items[k].alert_id && h->answered &&
			    ent->created > h->answered)
				l->n[h->act]++;
		}
	return 0;
}

static void report(struct effect *x, int rounds, struct action *a)
{
	struct late late = { x, { 0 } };
	if (notelog_list(x->alerts, 0, count_late, &late, NULL) != 0)
		late.n[ACT_ACK] = late.n[ACT_SILENCE] = UINT64_MAX; /* unknown is not zero */
	uint64_t missing = 0;
	struct bench_hist *control = bench_hist_new();
	for (int i = 1; i <= x->n; i++)
		if (x->host[i].act == ACT_NONE) {
			if (x->host[i].repeat)
				bench_hist_add(control, x->host[i].repeat - x->host[i].told);
			else
				missing++;
		}
	struct bench_table *t = bench_table(
	    x->run,
	    "web: actions through rmon-web (as CGI) taking effect in rmon-alertd, %d acks and "
	    "%d silences each submitted 0.2-2 s before its alert's 1 m repeat",
	    rounds, rounds);
	bench_latency(t, "ack: submit to in alertd's store", a[ACT_ACK].effect, GOAL_MS);
	bench_zero(t, "messages logged after an ack was stored", late.n[ACT_ACK]);
	bench_latency(t, "silence: submit to alertd's mark", a[ACT_SILENCE].effect, GOAL_MS);
	bench_zero(t, "messages logged after a silence was stored", late.n[ACT_SILENCE]);
	bench_latency(t, "silence: rmon-web's answer", a[ACT_SILENCE].answer, 0);
	bench_latency(t, "control: first message logged to its repeat's mail", control, 0);
	bench_zero(t, "controls (no action) whose repeat did not come", missing);
	bench_process(t, "rmon-alertd", x->alertd);
	bench_note(t, "alertd repeats at most once a minute, so each action is timed against "
		      "a repeat it must stop; the controls show the repeat would have come");
	bench_hist_free(control);
}

int web_effect_measure(struct bench_run *run, bool quick)
{
	struct effect x = { .run = run };
	int rounds = quick ? ROUNDS_QUICK : ROUNDS, rc = 1;
	struct action a[2] = { { bench_hist_new(), bench_hist_new() },
			       { bench_hist_new(), bench_hist_new() } };
	srand((unsigned)rtime_now_ns());
	if (start(&x) != 0)
		goto out;
	plan(&x, rounds);
	int64_t begin = rtime_mono_ns(), next_feed = 0;
	double total = (double)((x.n - 1) * STAGGER_NS + REPEAT_NS + WATCH_NS) / 1e9;
	while (!all_done(&x)) {
		int64_t mono = rtime_mono_ns(), now = rtime_now_ns();
		if (mono >= next_feed) {
			feed(&x, mono);
			next_feed = mono + 250 * RTIME_NS_PER_MS;
			bench_progress(run, "actions", 0, "", (double)(mono - begin) / 1e9, total);
		}
		take_mails(&x);
		for (int i = 1; i <= x.n; i++)
			if (step(&x, i, a, now) != 0)
				goto out;
		usleep(5000);
	}
	bench_progress_done(run);
	report(&x, rounds, a);
	rc = 0;
out:
	finish(&x);
	for (int k = 0; k < 2; k++) {
		bench_hist_free(a[k].effect);
		bench_hist_free(a[k].answer);
	}
	return rc;
}
