/* evloop.c - epoll, timers and signalfd behind one wait; see evloop.h.
 * Files are kept in a table indexed by fd (fds are small and dense), so an
 * event is dispatched to what the fd is registered as *now*: a callback
 * that removed another fd earlier in the same pass is safe.  Timers are
 * few (a handful per program), so an unsorted array scanned for the
 * nearest is simpler than a heap and as fast. */
#include "lib/evloop.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "lib/grow.h"
#include "lib/rtime.h"

#define MAX_EVENTS 256

struct file {
	evloop_file_fn fn; /* NULL: not registered */
	void *ctx;
	unsigned mask;
	bool in_epoll; /* mask 0 takes it out of epoll, which would still
			* report hang-ups and errors */
};

struct timer {
	uint64_t id; /* 0: a free slot */
	int64_t when;
	evloop_timer_fn fn;
	void *ctx;
};

struct signal_handler {
	int signo;
	evloop_signal_fn fn;
	void *ctx;
};

struct evloop {
	int epoll_fd;
	struct file *files;
	size_t files_cap;
	struct timer *timers;
	size_t n_timers, timers_cap;
	uint64_t next_id;
	int signal_fd;
	sigset_t signals, old_mask;
	struct signal_handler handlers[16];
	size_t n_handlers;
	bool stopped;
};

int evloop_new(struct evloop **out, struct err *e)
{
	struct evloop *loop = calloc(1, sizeof *loop);
	if (!loop)
		return err_set(e, -ENOMEM, "event loop: out of memory");
	loop->signal_fd = -1;
	loop->next_id = 1;
	sigemptyset(&loop->signals);
	loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epoll_fd < 0) {
		int rc = err_sys(e, -errno, "event loop: epoll_create1");
		free(loop);
		return rc;
	}
	*out = loop;
	return 0;
}

void evloop_free(struct evloop *loop)
{
	if (!loop)
		return;
	if (loop->signal_fd >= 0) {
		/* Signals that came since the last pass were the loop's: taken
		 * now, they do not kill the process once unblocked. */
		struct signalfd_siginfo info;
		while (read(loop->signal_fd, &info, sizeof info) == (ssize_t)sizeof info)
			;
		close(loop->signal_fd);
		pthread_sigmask(SIG_SETMASK, &loop->old_mask, NULL);
	}
	close(loop->epoll_fd);
	free(loop->files);
	free(loop->timers);
	free(loop);
}

static struct file *file_at(struct evloop *loop, int fd)
{
	return fd >= 0 && (size_t)fd < loop->files_cap && loop->files[fd].fn ? &loop->files[fd]
									     : NULL;
}

/* Brings epoll in line with f->mask. */
static int apply_mask(struct evloop *loop, int fd, struct file *f, unsigned mask, struct err *e)
{
	struct epoll_event ev = { .events = (mask & EVLOOP_READ ? EPOLLIN : 0u) |
					    (mask & EVLOOP_WRITE ? EPOLLOUT : 0u),
				  .data.fd = fd };
	int op = !mask ? EPOLL_CTL_DEL : f->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if ((mask || f->in_epoll) && epoll_ctl(loop->epoll_fd, op, fd, &ev) != 0)
		return err_sys(e, -errno, "event loop: watching fd %d", fd);
	f->mask = mask;
	f->in_epoll = mask != 0;
	return 0;
}

int evloop_add_file(struct evloop *loop, int fd, unsigned mask, evloop_file_fn fn, void *ctx,
		    struct err *e)
{
	if (fd < 0 || !fn)
		return err_set(e, -EINVAL, "event loop: bad fd %d", fd);
	if (file_at(loop, fd))
		return err_set(e, -EEXIST, "event loop: fd %d is registered already", fd);
	size_t old_cap = loop->files_cap;
	if (!grow_array_from(&loop->files, &loop->files_cap, (size_t)fd + 1, sizeof *loop->files,
			     64))
		return err_set(e, -ENOMEM, "event loop: out of memory");
	memset(loop->files + old_cap, 0, (loop->files_cap - old_cap) * sizeof *loop->files);
	struct file *f = &loop->files[fd];
	*f = (struct file){ .fn = fn, .ctx = ctx };
	int rc = apply_mask(loop, fd, f, mask, e);
	if (rc != 0)
		f->fn = NULL;
	return rc;
}

int evloop_set_file(struct evloop *loop, int fd, unsigned mask, struct err *e)
{
	struct file *f = file_at(loop, fd);
	if (!f)
		return err_set(e, -ENOENT, "event loop: fd %d is not registered", fd);
	return f->mask == mask ? 0 : apply_mask(loop, fd, f, mask, e);
}

void evloop_del_file(struct evloop *loop, int fd)
{
	struct file *f = file_at(loop, fd);
	if (!f)
		return;
	if (f->in_epoll)
		epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
	*f = (struct file){ 0 };
}

static struct timer *timer_with(struct evloop *loop, uint64_t id)
{
	for (size_t i = 0; i < loop->n_timers; i++)
		if (loop->timers[i].id == id)
			return &loop->timers[i];
	return NULL;
}

int evloop_add_timer(struct evloop *loop, int64_t after_ns, evloop_timer_fn fn, void *ctx,
		     uint64_t *id, struct err *e)
{
	struct timer *t = timer_with(loop, 0); /* a free slot */
	if (!t) {
		if (!grow_array(&loop->timers, &loop->timers_cap, loop->n_timers + 1,
				sizeof *loop->timers))
			return err_set(e, -ENOMEM, "event loop: out of memory");
		t = &loop->timers[loop->n_timers++];
	}
	*t = (struct timer){ loop->next_id++, rtime_mono_ns() + (after_ns > 0 ? after_ns : 0), fn,
			     ctx };
	if (id)
		*id = t->id;
	return 0;
}

int evloop_set_timer(struct evloop *loop, uint64_t id, int64_t after_ns)
{
	struct timer *t = id ? timer_with(loop, id) : NULL;
	if (!t)
		return -ENOENT;
	t->when = rtime_mono_ns() + (after_ns > 0 ? after_ns : 0);
	return 0;
}

void evloop_del_timer(struct evloop *loop, uint64_t id)
{
	struct timer *t = id ? timer_with(loop, id) : NULL;
	if (t)
		t->id = 0;
}

/* The signalfd's reader: one callback per signal that came. */
static void on_signal_fd(struct evloop *loop, int fd, unsigned events, void *ctx)
{
	struct signalfd_siginfo info;
	while (read(fd, &info, sizeof info) == (ssize_t)sizeof info)
		for (size_t i = 0; i < loop->n_handlers; i++)
			if (loop->handlers[i].signo == (int)info.ssi_signo)
				loop->handlers[i].fn(loop, (int)info.ssi_signo,
						     loop->handlers[i].ctx);
}

int evloop_add_signal(struct evloop *loop, int signo, evloop_signal_fn fn, void *ctx, struct err *e)
{
	if (loop->n_handlers == sizeof loop->handlers / sizeof loop->handlers[0])
		return err_set(e, -ENOSPC, "event loop: too many signal handlers");
	sigset_t one;
	sigemptyset(&one);
	sigaddset(&one, signo);
	sigset_t old;
	/* Blocked first, so none is lost between here and the signalfd. */
	if (pthread_sigmask(SIG_BLOCK, &one, &old) != 0)
		return err_set(e, -EINVAL, "event loop: cannot block signal %d", signo);
	if (loop->signal_fd < 0)
		loop->old_mask = old;
	sigaddset(&loop->signals, signo);
	int fd = signalfd(loop->signal_fd, &loop->signals, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return err_sys(e, -errno, "event loop: signalfd");
	if (loop->signal_fd < 0) {
		int rc = evloop_add_file(loop, fd, EVLOOP_READ, on_signal_fd, NULL, e);
		if (rc != 0) {
			close(fd);
			return rc;
		}
		loop->signal_fd = fd;
	}
	loop->handlers[loop->n_handlers++] = (struct signal_handler){ signo, fn, ctx };
	return 0;
}

/* How long to wait: until the nearest timer, within timeout_ns. */
static int64_t wait_ns(struct evloop *loop, int64_t timeout_ns, int64_t now)
{
	int64_t wait = timeout_ns;
	for (size_t i = 0; i < loop->n_timers; i++) {
		struct timer *t = &loop->timers[i];
		if (!t->id)
			continue;
		int64_t left = t->when > now ? t->when - now : 0;
		if (wait < 0 || left < wait)
			wait = left;
	}
	return wait;
}

static int wait_events(struct evloop *loop, struct epoll_event *events, int64_t wait)
{
	if (wait < 0)
		return epoll_wait(loop->epoll_fd, events, MAX_EVENTS, -1);
	struct timespec ts = { (time_t)(wait / RTIME_NS_PER_SEC), (long)(wait % RTIME_NS_PER_SEC) };
	int n = epoll_pwait2(loop->epoll_fd, events, MAX_EVENTS, &ts, NULL);
	if (n < 0 && errno == ENOSYS) /* before Linux 5.11: whole milliseconds */
		n = epoll_wait(loop->epoll_fd, events, MAX_EVENTS,
			       (int)((wait + RTIME_NS_PER_MS - 1) / RTIME_NS_PER_MS));
	return n;
}

/* Runs the timers due by now, each at most once a pass (a timer asking
 * for 0 runs at the next pass, so it cannot starve the files). */
static int run_timers(struct evloop *loop, int64_t now)
{
	int ran = 0;
	uint64_t last = loop->next_id; /* timers added by callbacks wait a pass */
	for (size_t i = 0; i < loop->n_timers; i++) {
		struct timer *t = &loop->timers[i];
		if (!t->id || t->id >= last || t->when > now)
			continue;
		uint64_t id = t->id;
		int64_t next = t->fn(loop, t->ctx);
		ran++;
		t = timer_with(loop, id); /* the array may have moved */
		if (!t)
			continue; /* it ended itself */
		if (next < 0)
			t->id = 0;
		else if (t->when <= now) /* not moved by evloop_set_timer meanwhile */
			t->when = rtime_mono_ns() + next;
	}
	while (loop->n_timers && !loop->timers[loop->n_timers - 1].id)
		loop->n_timers--;
	return ran;
}

int evloop_run_once(struct evloop *loop, int64_t timeout_ns, struct err *e)
{
	struct epoll_event events[MAX_EVENTS];
	int n = wait_events(loop, events, wait_ns(loop, timeout_ns, rtime_mono_ns()));
	if (n < 0) {
		if (errno == EINTR)
			return 0;
		return err_sys(e, -errno, "event loop: epoll_wait");
	}
	int ran = 0;
	for (int i = 0; i < n; i++) {
		int fd = events[i].data.fd;
		struct file *f = file_at(loop, fd);
		if (!f || !f->mask)
			continue; /* removed by an earlier callback of this pass */
		unsigned got = (events[i].events & EPOLLIN ? EVLOOP_READ : 0u) |
			       (events[i].events & EPOLLOUT ? EVLOOP_WRITE : 0u);
		if (events[i].events & (EPOLLERR | EPOLLHUP))
			got |= EVLOOP_READ | EVLOOP_WRITE;
		f->fn(loop, fd, got, f->ctx);
		ran++;
	}
	return ran + run_timers(loop, rtime_mono_ns());
}

int evloop_run(struct evloop *loop, struct err *e)
{
	while (!loop->stopped) {
		int rc = evloop_run_once(loop, -1, e);
		if (rc < 0)
			return rc;
	}
	return 0;
}

void evloop_stop(struct evloop *loop)
{
	loop->stopped = true;
}

bool evloop_stopped(const struct evloop *loop)
{
	return loop->stopped;
}
