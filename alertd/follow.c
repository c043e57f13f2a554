/* follow.c - a thread that waits for the store's commits and wakes the
 * loop; see follow.h. */
#include "alertd/follow.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "store/query.h"

#define WAIT_MS 200 /* how soon the thread sees its stop flag */

struct follow {
	struct evloop *loop;
	char data_dir[4096];
	follow_fn fn;
	void *ctx;
	int fd;
	pthread_t thread;
	atomic_bool stop;
	atomic_uint_fast64_t seq; /* the newest sequence the thread saw */
	uint64_t reported;
};

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

static void wake(struct follow *f, uint64_t seq)
{
	/* Release: the loop that reads the eventfd reads seq after it. */
	atomic_store_explicit(&f->seq, seq, memory_order_release);
	uint64_t one = 1;
	if (write(f->fd, &one, sizeof one) < 0 && errno != EAGAIN)
		log_warn("alertd", "cannot wake the loop: %s", strerror(errno));
}

static void *run(void *arg)
{
	struct follow *f = arg;
	struct query *q = NULL;
	struct err e = { 0 };
	bool told = false;
	uint64_t seen = 0;
	while (!atomic_load_explicit(&f->stop, memory_order_relaxed)) {
		if (!q) {
			if (query_open(f->data_dir, &q, &e) != 0) {
				if (!told)
					log_warn("alertd", "waiting for the store: %s", e.msg);
				told = true;
				q = NULL;
				sleep_ms(WAIT_MS * 5);
				continue;
			}
			if (told)
				log_info("alertd", "the store is there: following its commits");
			seen = query_sequence(q);
			wake(f, seen);
		}
		uint64_t seq;
		int rc = query_wait(q, seen, WAIT_MS, &seq, &e);
		if (rc == 0 && seq != seen) {
			seen = seq;
			wake(f, seq);
		} else if (rc == -ENOENT) {
			/* A writer without a commit page: look once a second. */
			sleep_ms(1000);
			seq = query_sequence(q);
			if (seq != seen)
				wake(f, seen = seq);
		} else if (rc && rc != -ETIMEDOUT && rc != -EINTR) {
			log_warn("alertd", "waiting for the next commit: %s", e.msg);
			sleep_ms(1000);
		}
	}
	query_close(q);
	return NULL;
}

static void on_wake(struct evloop *loop, int fd, unsigned events, void *ctx)
{
	struct follow *f = ctx;
	uint64_t n;
	if (read(fd, &n, sizeof n) < 0)
		return;
	uint64_t seq = atomic_load_explicit(&f->seq, memory_order_acquire);
	if (seq != f->reported || seq == 0) {
		f->reported = seq;
		f->fn(f->ctx, seq);
	}
}

int follow_start(struct evloop *loop, const char *data_dir, follow_fn fn, void *ctx,
		 struct follow **out, struct err *e)
{
	struct follow *f = calloc(1, sizeof *f);
	if (!f)
		return err_set(e, -ENOMEM, "out of memory");
	f->loop = loop;
	f->fn = fn;
	f->ctx = ctx;
	f->reported = UINT64_MAX;
	snprintf(f->data_dir, sizeof f->data_dir, "%s", data_dir);
	int rc;
	if ((f->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		rc = err_sys(e, -errno, "eventfd");
		free(f);
		return rc;
	}
	if ((rc = evloop_add_file(loop, f->fd, EVLOOP_READ, on_wake, f, e)))
		goto fail;
	if ((rc = -pthread_create(&f->thread, NULL, run, f))) {
		evloop_del_file(loop, f->fd);
		err_sys(e, rc, "cannot start the thread that follows the store");
		goto fail;
	}
	*out = f;
	return 0;
fail:
	close(f->fd);
	free(f);
	return rc;
}

void follow_stop(struct follow *f)
{
	if (!f)
		return;
	atomic_store(&f->stop, true);
	pthread_join(f->thread, NULL);
	evloop_del_file(f->loop, f->fd);
	close(f->fd);
	free(f);
}
