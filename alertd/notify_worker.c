/* notify_worker.c - email and maildir deliveries in threads of their own,
 * because libesmtp blocks and a graph takes milliseconds to draw: the
 * event loop never waits for either.  Each attempt is a task holding its
 * own copies (the notice, the receiver), so a thread still talking to a
 * slow server after notifier_free harms nothing: it finishes, sees the
 * pool closed and frees what it holds.  Results come back to the loop
 * through a pipe. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alertd/notify_graph.h"
#include "alertd/notify_mail.h"
#include "alertd/notify_private.h"
#include "alertd/notify_send.h"
#include "alertd/receiver_private.h"
#include "lib/evloop.h"

#define MAX_THREADS 4

struct notify_workers {
	pthread_mutex_t lock;
	int refs;    /* the notifier's and one per running thread */
	bool closed; /* the notifier is gone */
	int pipe[2];
	int running;
	struct evloop *loop;
	struct notifier *n;
	struct notify_graph *graph; /* shared, locked inside */
};

struct task {
	struct notify_workers *w;
	struct notify_job *job; /* the loop's, only looked at in the loop */
	struct notify_job *copy;
	struct receiver *receiver;
	char *data_dir;
	int rc;
	char detail[512];
};

static void workers_unref(struct notify_workers *w)
{
	pthread_mutex_lock(&w->lock);
	bool last = --w->refs == 0;
	pthread_mutex_unlock(&w->lock);
	if (!last)
		return;
	close(w->pipe[0]);
	close(w->pipe[1]);
	notify_graph_free(w->graph);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

static void task_free(struct task *t)
{
	receiver_free(t->receiver);
	free(t->copy);
	free(t->data_dir);
	free(t);
}

static int deliver(struct task *t, struct err *e)
{
	struct notice *nt = &t->copy->notice;
	const struct notice_alert *a = nt->n_alerts ? &nt->alerts[0] : NULL;
	struct mail_graph graph = { 0 };
	unsigned char *png = NULL;
	char *mail = NULL, alt[512];
	size_t len;
	int rc;
	nt->receiver = t->receiver;
	/* A graph that cannot be drawn leaves the mail without it, never
	 * undelivered. */
	if (a && a->series && t->w->graph &&
	    notify_graph_draw(t->w->graph, a, &png, &graph.len, alt, sizeof alt, NULL) == 0) {
		graph.png = png;
		graph.alt = alt;
	}
	rc = notify_mail_build(nt, graph.png ? &graph : NULL, &mail, &len, e);
	free(png);
	if (rc != 0)
		return rc;
	const struct receiver_private *p = t->receiver->priv;
	if (t->receiver->type == RECEIVER_EMAIL) {
		rc = notify_smtp_send(t->receiver, mail, len, e);
	} else {
		char dir[4096];
		if (p->path[0] == '/')
			snprintf(dir, sizeof dir, "%s", p->path);
		else
			snprintf(dir, sizeof dir, "%s/%s", t->data_dir, p->path);
		rc = notify_maildir_write(dir, mail, len, e);
	}
	free(mail);
	return rc;
}

static void *worker(void *arg)
{
	struct task *t = arg;
	struct notify_workers *w = t->w;
	struct err e = { 0 };
	sigset_t all;
	/* A server closing on us must not SIGPIPE the daemon, and signals
	 * belong to the loop's signalfd. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	t->rc = deliver(t, &e);
	snprintf(t->detail, sizeof t->detail, "%s", t->rc ? e.msg : "");
	pthread_mutex_lock(&w->lock);
	bool closed = w->closed;
	if (!closed && write(w->pipe[1], &t, sizeof t) != (ssize_t)sizeof t)
		closed = true; /* cannot happen with a pipe of pointers */
	pthread_mutex_unlock(&w->lock);
	if (closed)
		task_free(t);
	workers_unref(w);
	return NULL;
}

static int start_thread(struct task *t, struct err *e)
{
	struct notify_workers *w = t->w;
	pthread_attr_t attr;
	pthread_t thread;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_mutex_lock(&w->lock);
	w->refs++;
	pthread_mutex_unlock(&w->lock);
	int rc = pthread_create(&thread, &attr, worker, t);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		workers_unref(w);
		return err_sys(e, -rc, "cannot start a mail thread");
	}
	w->running++;
	return 0;
}

static int launch(struct notify_job *job, struct err *e)
{
	struct notify_workers *w = job->n->workers;
	struct task *t = calloc(1, sizeof *t);
	int rc;
	if (!t)
		return err_set(e, -ENOMEM, "out of memory");
	t->w = w;
	t->job = job;
	if (!(t->data_dir = strdup(job->n->data_dir)) ||
	    !(t->copy = notify_job_copy(&job->notice))) {
		task_free(t);
		return err_set(e, -ENOMEM, "out of memory");
	}
	if ((rc = receiver_dup(job->notice.receiver, &t->receiver, e)) != 0 ||
	    (rc = start_thread(t, e)) != 0) {
		task_free(t);
		return rc;
	}
	return 0;
}

/* Starts the jobs that waited for a thread, oldest first. */
static void start_waiting(struct notifier *n)
{
	struct notify_job *oldest;
	while (n->workers->running < MAX_THREADS) {
		oldest = NULL;
		for (struct notify_job *j = n->jobs; j; j = j->next)
			if (j->waiting)
				oldest = j; /* the list is newest first */
		if (!oldest)
			return;
		struct err e = { 0 };
		oldest->waiting = false;
		if (launch(oldest, &e) != 0)
			notify_attempt_done(oldest, e.code ? e.code : -EIO, e.msg);
	}
}

static void on_result(struct evloop *loop, int fd, unsigned events, void *ctx)
{
	struct notify_workers *w = ctx;
	struct task *t;
	(void)loop;
	(void)events;
	while (read(fd, &t, sizeof t) == (ssize_t)sizeof t) {
		w->running--;
		struct notify_job *job = t->job;
		int rc = t->rc;
		char detail[sizeof t->detail];
		memcpy(detail, t->detail, sizeof detail);
		task_free(t);
		notify_attempt_done(job, rc, rc ? detail : NULL);
	}
	start_waiting(w->n);
}

static int workers_new(struct notifier *n, struct err *e)
{
	struct notify_workers *w = calloc(1, sizeof *w);
	if (!w)
		return err_set(e, -ENOMEM, "out of memory");
	pthread_mutex_init(&w->lock, NULL);
	w->refs = 1;
	w->loop = n->loop;
	w->n = n;
	if (pipe2(w->pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		int rc = err_sys(e, -errno, "cannot make the mail threads' pipe");
		free(w);
		return rc;
	}
	/* Without gnuplot or a store, mails go out without their graph. */
	notify_graph_new(n->data_dir, &w->graph, NULL);
	int rc = evloop_add_file(n->loop, w->pipe[0], EVLOOP_READ, on_result, w, e);
	if (rc != 0) {
		workers_unref(w);
		return rc;
	}
	n->workers = w;
	return 0;
}

int notify_worker_start(struct notify_job *job, struct err *e)
{
	struct notifier *n = job->n;
	int rc;
	if (!n->workers && (rc = workers_new(n, e)) != 0)
		return rc;
	if (n->workers->running >= MAX_THREADS) {
		job->waiting = true;
		return 0;
	}
	return launch(job, e);
}

void notify_workers_free(struct notify_workers *w)
{
	if (!w)
		return;
	evloop_del_file(w->loop, w->pipe[0]);
	pthread_mutex_lock(&w->lock);
	w->closed = true;
	pthread_mutex_unlock(&w->lock);
	/* Results already in the pipe belong to tasks nobody will read. */
	struct task *t;
	while (read(w->pipe[0], &t, sizeof t) == (ssize_t)sizeof t)
		task_free(t);
	workers_unref(w);
}
