/* breach.c - a breach timed from the ring to the mailbox; see breach.h. */
#include "bench/breach.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/spawn.h"
#include "lib/rtime.h"

int breach_feed_start(struct breach_feed *f, struct bench_run *run, const char *data)
{
	int fds[2];
	const char *exe = bench_bin(run, "rmon-put");
	memset(f, 0, sizeof *f);
	if (pipe2(fds, O_CLOEXEC) != 0) {
		fprintf(stderr, "rmon-bench: pipe: %s\n", strerror(errno));
		return -1;
	}
	fflush(NULL);
	f->pid = bench_fork();
	if (f->pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		/* dup2 clears close-on-exec on the copies only */
		if (dup2(fds[0], 0) < 0 || null < 0 || dup2(null, 1) < 0)
			_exit(126);
		execl(exe, exe, "--data", data, (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	if (f->pid < 0) {
		f->pid = 0;
		close(fds[1]);
		fprintf(stderr, "rmon-bench: fork: %s\n", strerror(errno));
		return -1;
	}
	f->in = fdopen(fds[1], "w");
	if (!f->in) {
		close(fds[1]);
		fprintf(stderr, "rmon-bench: cannot start %s\n", exe);
		return -1;
	}
	return 0;
}

void breach_feed_stop(struct breach_feed *f)
{
	if (f->in)
		fclose(f->in);
	f->in = NULL;
	spawn_stop(&f->pid, SIGKILL);
}

void breach_put(struct breach_feed *f, const char *series, double value)
{
	fprintf(f->in, "%s %g\n", series, value);
	fflush(f->in);
}

void breach_rule_config(FILE *conf, const char *name, const char *receiver)
{
	fprintf(conf,
		"[rule %s]\nexpr = bench_breach\nabove = 10\ngroup_by = t\n"
		"summary = zone {labels.t} is hot\n",
		name);
	if (receiver)
		fprintf(conf, "receivers = %s\n", receiver);
}

int64_t breach_time(struct breach_feed *f, const struct mailsink *sink, const char *host, long i,
		    unsigned *seed, int64_t timeout_ns)
{
	char series[160], tag[64];
	/* A new series each time: a new alert, which neither dedup, the
	 * repeat interval nor the flap window holds back. */
	snprintf(series, sizeof series, "%s/bench_breach{t=\"t%ld\"}", host, i);
	snprintf(tag, sizeof tag, "zone t%ld is hot", i);
	breach_put(f, series, 1);
	usleep(1000000 + (useconds_t)(rand_r(seed) % 1000) * 1000);
	int64_t t0 = rtime_now_ns();
	breach_put(f, series, 20);
	int64_t t1 = mailsink_wait(sink, tag, t0 + timeout_ns);
	if (!t1)
		return 0;
	return t1 > t0 ? t1 - t0 : 1; /* an mtime a tick coarse: not "none" */
}

void breach_rows(struct bench_table *t, const char *name, const struct bench_hist *h)
{
	char p50[128];
	if (!bench_hist_count(h)) {
		bench_note(t, "%s: no breach reached the mailbox", name);
		return;
	}
	snprintf(p50, sizeof p50, "%s p50", name);
	bench_goal(t, p50, bench_ms(bench_hist_quantile(h, 0.5)), "ms", false, BREACH_P50_GOAL_MS);
	bench_latency(t, name, h, BREACH_P99_GOAL_MS);
}
