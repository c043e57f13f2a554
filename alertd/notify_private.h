/* notify_private.h - what the notifier's parts share inside alertd/:
 * notify.c keeps the queue and the retries; each transport starts one
 * attempt of a job and reports its end with notify_attempt_done, on the
 * event loop's thread:
 *
 *   notify_worker.c   email and maildir, in worker threads (libesmtp blocks)
 *   notify_http.c     webhook, SMS and push through libcurl's multi interface
 *   notify_exec.c     a program, watched through a pidfd */
#ifndef RMON_ALERTD_NOTIFY_PRIVATE_H
#define RMON_ALERTD_NOTIFY_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "alertd/notify.h"

struct notify_job {
	struct notifier *n;
	struct notify_job *prev, *next;
	struct notice notice; /* a deep copy: every pointer is into this block */
	int attempts;
	int64_t first_try; /* monotonic */
	uint64_t timer;	   /* the retry's, 0: none */
	bool in_flight;
	bool waiting; /* for a free worker thread */
	/* the transport's state of the attempt in flight */
	void *http;
	uint64_t sms_sent; /* bit i: sms_to[i] took it (not sent again on a retry) */
	pid_t pid;
	int pidfd, stderr_fd;
	uint64_t exec_timer;
	bool timed_out;
	char stderr_head[200];
	size_t stderr_len;
};

struct notify_workers;
struct notify_http;

struct notifier {
	struct evloop *loop;
	char *data_dir;
	notifier_done_fn done;
	void *ctx;
	struct notify_job *jobs; /* every job not yet reported */
	struct notifier_stats stats;
	int64_t backoff_first_ns, backoff_max_ns;
	uint64_t random; /* xorshift state for the jitter */
	struct notify_workers *workers;
	struct notify_http *http;
};

/* A job holding a deep copy of nt in one block (free() frees it all);
 * not linked anywhere.  NULL when out of memory. */
struct notify_job *notify_job_copy(const struct notice *nt);

/* The end of one attempt: rc 0 delivered, negative failed (detail says
 * why, may be NULL).  Frees the job when it is reported. */
void notify_attempt_done(struct notify_job *job, int rc, const char *detail);

int notify_worker_start(struct notify_job *job, struct err *e);
void notify_workers_free(struct notify_workers *w);

int notify_http_start(struct notify_job *job, struct err *e);
void notify_http_abandon(struct notify_job *job);
void notify_http_free(struct notify_http *h);

int notify_exec_start(struct notify_job *job, struct err *e);
void notify_exec_abandon(struct notify_job *job);

#endif
