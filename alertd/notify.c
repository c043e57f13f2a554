/* notify.c - the notifier's queue: each notice is copied into a job, handed
 * to its receiver type's transport, retried with exponential back-off and
 * jitter while it fails, and reported once through the done callback,
 * delivered or given up after the receiver's give_up time.  See notify.h;
 * the transports are notify_worker.c, notify_http.c and notify_exec.c. */
#include "alertd/notify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alertd/notify_private.h"
#include "lib/rtime.h"

#define BACKOFF_FIRST (RTIME_NS_PER_SEC)
#define BACKOFF_MAX   (300 * RTIME_NS_PER_SEC)

int notifier_new(struct evloop *loop, const char *data_dir, notifier_done_fn done, void *ctx,
		 struct notifier **out, struct err *e)
{
	struct notifier *n = calloc(1, sizeof *n);
	*out = NULL;
	if (!n || !(n->data_dir = strdup(data_dir ? data_dir : "."))) {
		free(n);
		return err_set(e, -ENOMEM, "out of memory starting the notifier");
	}
	n->loop = loop;
	n->done = done;
	n->ctx = ctx;
	n->backoff_first_ns = BACKOFF_FIRST;
	n->backoff_max_ns = BACKOFF_MAX;
	n->random = (uint64_t)rtime_mono_ns() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15u;
	*out = n;
	return 0;
}

void notifier_set_backoff(struct notifier *n, int64_t first_ns, int64_t max_ns)
{
	n->backoff_first_ns = first_ns > 0 ? first_ns : BACKOFF_FIRST;
	n->backoff_max_ns = max_ns >= n->backoff_first_ns ? max_ns : n->backoff_first_ns;
}

static void unlink_job(struct notify_job *job)
{
	struct notifier *n = job->n;
	if (job->prev)
		job->prev->next = job->next;
	else
		n->jobs = job->next;
	if (job->next)
		job->next->prev = job->prev;
	if (job->timer)
		evloop_del_timer(n->loop, job->timer);
	n->stats.queued--;
	free(job);
}

void notifier_free(struct notifier *n)
{
	if (!n)
		return;
	while (n->jobs) {
		struct notify_job *job = n->jobs;
		if (job->http)
			notify_http_abandon(job);
		if (job->pid > 0)
			notify_exec_abandon(job);
		unlink_job(job);
	}
	/* Mail threads still running finish on their own copies. */
	notify_workers_free(n->workers);
	notify_http_free(n->http);
	free(n->data_dir);
	free(n);
}

/* ---- copying a notice into one block ---- */

static size_t text_size(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

static const char *copy_text(char **at, const char *s)
{
	if (!s)
		return NULL;
	size_t len = strlen(s) + 1;
	char *d = memcpy(*at, s, len);
	*at += len;
	return d;
}

struct notify_job *notify_job_copy(const struct notice *nt)
{
	size_t size = sizeof(struct notify_job) + nt->n_alerts * sizeof(struct notice_alert);
	size += text_size(nt->message_id) + text_size(nt->thread_id);
	for (size_t i = 0; i < nt->n_alerts; i++) {
		const struct notice_alert *a = &nt->alerts[i];
		size += text_size(a->rule) + text_size(a->severity) + text_size(a->host) +
			text_size(a->labels) + text_size(a->summary) + text_size(a->description) +
			text_size(a->detail) + text_size(a->series) + text_size(a->unit) +
			text_size(a->link);
	}
	struct notify_job *job = calloc(1, size);
	if (!job)
		return NULL;
	struct notice_alert *alerts = (struct notice_alert *)(job + 1);
	char *at = (char *)(alerts + nt->n_alerts);
	job->notice = *nt;
	job->notice.alerts = alerts;
	job->notice.message_id = copy_text(&at, nt->message_id);
	job->notice.thread_id = copy_text(&at, nt->thread_id);
	for (size_t i = 0; i < nt->n_alerts; i++) {
		const struct notice_alert *a = &nt->alerts[i];
		struct notice_alert *c = &alerts[i];
		*c = *a;
		c->rule = copy_text(&at, a->rule);
		c->severity = copy_text(&at, a->severity);
		c->host = copy_text(&at, a->host);
		c->labels = copy_text(&at, a->labels);
		c->summary = copy_text(&at, a->summary);
		c->description = copy_text(&at, a->description);
		c->detail = copy_text(&at, a->detail);
		c->series = copy_text(&at, a->series);
		c->unit = copy_text(&at, a->unit);
		c->link = copy_text(&at, a->link);
	}
	job->pid = -1;
	job->pidfd = job->stderr_fd = -1;
	return job;
}

/* ---- attempts ---- */

static int start_attempt(struct notify_job *job, struct err *e)
{
	job->attempts++;
	job->in_flight = true;
	switch (job->notice.receiver->type) {
	case RECEIVER_EMAIL:
	case RECEIVER_MAILDIR:
		return notify_worker_start(job, e);
	case RECEIVER_WEBHOOK:
	case RECEIVER_SMS:
	case RECEIVER_PUSH:
		return notify_http_start(job, e);
	case RECEIVER_EXEC:
		return notify_exec_start(job, e);
	}
	return err_set(e, -EINVAL, "receiver %s: unknown type", job->notice.receiver->name);
}

static int64_t on_retry(struct evloop *loop, void *ctx)
{
	struct notify_job *job = ctx;
	struct err e = { 0 };
	(void)loop;
	job->timer = 0;
	if (start_attempt(job, &e) != 0)
		notify_attempt_done(job, e.code ? e.code : -EIO, e.msg);
	return EVLOOP_TIMER_DONE;
}

static uint64_t next_random(struct notifier *n)
{
	uint64_t x = n->random;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return n->random = x;
}

/* The wait before attempt number attempts + 1: doubling from the first
 * back-off up to the largest, then spread over [0.5, 1.0] of it, so that
 * receivers failing together do not come back together. */
static int64_t backoff(struct notifier *n, int attempts)
{
	int64_t wait = n->backoff_first_ns;
	for (int i = 1; i < attempts && wait < n->backoff_max_ns; i++)
		wait *= 2;
	if (wait > n->backoff_max_ns)
		wait = n->backoff_max_ns;
	double spread = 0.5 + 0.5 * (double)(next_random(n) >> 11) / (double)(UINT64_C(1) << 53);
	return (int64_t)((double)wait * spread);
}

static void report(struct notify_job *job, int rc, const char *detail)
{
	struct notifier *n = job->n;
	uint64_t id = job->notice.id;
	if (rc == 0)
		n->stats.delivered++;
	else
		n->stats.given_up++;
	unlink_job(job);
	if (n->done)
		n->done(n->ctx, id, rc, detail);
}

void notify_attempt_done(struct notify_job *job, int rc, const char *detail)
{
	struct notifier *n = job->n;
	char why[512];
	job->in_flight = false;
	if (rc == 0) {
		report(job, 0, NULL);
		return;
	}
	n->stats.failed_attempts++;
	int64_t now = rtime_mono_ns(), deadline = job->first_try + job->notice.receiver->give_up_ns;
	if (now >= deadline) {
		snprintf(why, sizeof why, "given up after %d attempt%s: %s", job->attempts,
			 job->attempts == 1 ? "" : "s", detail ? detail : "failed");
		report(job, rc, why);
		return;
	}
	int64_t wait = backoff(n, job->attempts);
	if (now + wait > deadline) /* the last try at the deadline itself */
		wait = deadline - now;
	if (evloop_add_timer(n->loop, wait, on_retry, job, &job->timer, NULL) != 0) {
		snprintf(why, sizeof why, "cannot schedule a retry: %s", detail ? detail : "");
		report(job, -ENOMEM, why);
	}
}

int notifier_send(struct notifier *n, const struct notice *notice, struct err *e)
{
	if (!notice->receiver)
		return err_set(e, -EINVAL, "notice %llu has no receiver",
			       (unsigned long long)notice->id);
	struct notify_job *job = notify_job_copy(notice);
	if (!job)
		return err_set(e, -ENOMEM, "out of memory queueing notice %llu",
			       (unsigned long long)notice->id);
	job->n = n;
	job->first_try = rtime_mono_ns();
	job->next = n->jobs;
	if (n->jobs)
		n->jobs->prev = job;
	n->jobs = job;
	n->stats.queued++;
	/* Started from the loop, never from inside the caller: a transport
	 * that fails at once reports through done, and done must not run
	 * inside notifier_send. */
	if (evloop_add_timer(n->loop, 0, on_retry, job, &job->timer, e) != 0) {
		unlink_job(job);
		return e && e->code ? e->code : -ENOMEM;
	}
	return 0;
}

void notifier_get_stats(const struct notifier *n, struct notifier_stats *out)
{
	*out = n->stats;
}
