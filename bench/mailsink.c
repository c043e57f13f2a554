/* mailsink.c - the SMTP server the alert scenarios mail; see mailsink.h. */
#include "bench/mailsink.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/daemons.h"
#include "bench/spawn.h"
#include "lib/rtime.h"

#define PYTHON "/usr/bin/python3"

/* The sink's script: beside the sources of the build's bin/, else from the
 * current folder (a run from the source tree). */
static bool find_script(struct bench_run *run, char *path, size_t len)
{
	snprintf(path, len, "%s/../../../tests/integration/lib/smtp_sink.py", bench_opts(run)->bin);
	if (access(path, R_OK) == 0)
		return true;
	snprintf(path, len, "tests/integration/lib/smtp_sink.py");
	return access(path, R_OK) == 0;
}

bool mailsink_available(struct bench_run *run, char *why, size_t len)
{
	char script[PATH_MAX + 64];
	if (access(PYTHON, X_OK) != 0 || system(PYTHON " -c 'import aiosmtpd' 2>/dev/null") != 0) {
		snprintf(why, len, "needs " PYTHON " with aiosmtpd (Debian: python3-aiosmtpd)");
		return false;
	}
	if (!find_script(run, script, sizeof script)) {
		snprintf(why, len,
			 "cannot find tests/integration/lib/smtp_sink.py (run from the "
			 "source tree)");
		return false;
	}
	return true;
}

int mailsink_start(struct mailsink *s, struct bench_run *run, const char *root)
{
	char script[PATH_MAX + 64], port[16];
	memset(s, 0, sizeof *s);
	if (!find_script(run, script, sizeof script)) {
		fprintf(stderr, "rmon-bench: cannot find tests/integration/lib/smtp_sink.py\n");
		return -1;
	}
	snprintf(s->dir, sizeof s->dir, "%s/mail", root);
	snprintf(s->log, sizeof s->log, "%s/sink.log", root);
	if (mkdir(s->dir, 0700) != 0) {
		fprintf(stderr, "rmon-bench: mkdir %s: %s\n", s->dir, strerror(errno));
		return -1;
	}
	s->port = bench_free_port();
	snprintf(port, sizeof port, "%d", s->port);
	char *argv[] = { PYTHON, script, "--port", port, "--dir", s->dir, NULL };
	s->pid = spawn_logged(argv, s->log, false);
	if (s->pid < 0) {
		s->pid = 0;
		fprintf(stderr, "rmon-bench: fork: %s\n", strerror(errno));
		return -1;
	}
	/* Not a bench_fork child: a scenario that gives up (bench_die) would
	 * leave it listening. */
	pid_t pid = s->pid;
	daemon_track(pid);
	if (spawn_wait_log(&s->pid, s->log, "ready", 30))
		return 0;
	if (!s->pid) /* it ended and was reaped */
		daemon_untrack(pid);
	return -1;
}

void mailsink_stop(struct mailsink *s)
{
	daemon_untrack(s->pid);
	spawn_stop(&s->pid, SIGTERM);
}

void mailsink_receiver_config(const struct mailsink *s, FILE *conf, const char *name)
{
	fprintf(conf,
		"[receiver %s]\ntype = email\nserver = 127.0.0.1\nport = %d\ntls = none\n"
		"from = rmon@example.com\nto = ops@example.com\n",
		name, s->port);
}

int mailsink_each(const struct mailsink *s, int (*fn)(void *ctx, const char *path), void *ctx)
{
	char path[sizeof s->dir + 1 + sizeof((struct dirent *)0)->d_name];
	DIR *d = opendir(s->dir);
	if (!d)
		return -errno;
	int rc = 0;
	for (struct dirent *de; rc == 0 && (de = readdir(d));) {
		size_t len = strlen(de->d_name);
		if (len <= 4 || strcmp(de->d_name + len - 4, ".eml") != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", s->dir, de->d_name);
		rc = fn(ctx, path);
	}
	closedir(d);
	return rc;
}

struct wanted {
	const char *tag;
	int64_t accepted;
};

static int match_tag(void *ctx, const char *path)
{
	struct wanted *w = ctx;
	struct stat st;
	if (!spawn_file_has(path, w->tag) || stat(path, &st) != 0)
		return 0;
	w->accepted = (int64_t)st.st_mtim.tv_sec * RTIME_NS_PER_SEC + st.st_mtim.tv_nsec;
	return 1;
}

int64_t mailsink_wait(const struct mailsink *s, const char *tag, int64_t deadline)
{
	struct wanted w = { tag, 0 };
	while (mailsink_each(s, match_tag, &w) != 1 && rtime_now_ns() < deadline)
		usleep(2000);
	return w.accepted;
}
