/* test_evloop.c - the shared event loop (lib/evloop.c): file events,
 * timers one-shot, repeating, moved and ended, signals, and stopping. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/evloop.h"
#include "lib/rtime.h"

#define MS RTIME_NS_PER_MS

static struct evloop *new_loop(void)
{
	struct evloop *loop;
	struct err e = { 0 };
	assert_int_equal(evloop_new(&loop, &e), 0);
	return loop;
}

struct seen {
	int calls;
	unsigned events;
	int fd;
};

static void record(struct evloop *loop, int fd, unsigned events, void *ctx)
{
	struct seen *s = ctx;
	s->calls++;
	s->events |= events;
	s->fd = fd;
	char buf[64];
	if (events & EVLOOP_READ)
		while (read(fd, buf, sizeof buf) > 0)
			;
}

/* A socket is reported readable when data comes and writable when asked;
 * mask 0 silences it; a hang-up comes as READ and WRITE. */
static void test_files(void **state)
{
	struct evloop *loop = new_loop();
	struct err e = { 0 };
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	struct seen s = { 0 };
	assert_int_equal(evloop_add_file(loop, sv[0], EVLOOP_READ, record, &s, &e), 0);
	assert_int_equal(evloop_add_file(loop, sv[0], EVLOOP_READ, record, &s, &e), -EEXIST);

	assert_int_equal(evloop_run_once(loop, 0, &e), 0); /* nothing yet */
	assert_int_equal(write(sv[1], "x", 1), 1);
	assert_int_equal(evloop_run_once(loop, 100 * MS, &e), 1);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.events, EVLOOP_READ);
	assert_int_equal(s.fd, sv[0]);

	s = (struct seen){ 0 };
	assert_int_equal(evloop_set_file(loop, sv[0], EVLOOP_READ | EVLOOP_WRITE, &e), 0);
	assert_int_equal(evloop_run_once(loop, 100 * MS, &e), 1);
	assert_int_equal(s.events, EVLOOP_WRITE);

	/* Unwatched: data waits, nothing is called. */
	s = (struct seen){ 0 };
	assert_int_equal(evloop_set_file(loop, sv[0], 0, &e), 0);
	assert_int_equal(write(sv[1], "y", 1), 1);
	assert_int_equal(evloop_run_once(loop, 20 * MS, &e), 0);
	assert_int_equal(s.calls, 0);
	assert_int_equal(evloop_set_file(loop, sv[0], EVLOOP_READ, &e), 0);
	assert_int_equal(evloop_run_once(loop, 100 * MS, &e), 1);
	assert_int_equal(s.calls, 1);

	s = (struct seen){ 0 };
	close(sv[1]);
	assert_int_equal(evloop_run_once(loop, 100 * MS, &e), 1);
	assert_int_equal(s.events, EVLOOP_READ | EVLOOP_WRITE);

	evloop_del_file(loop, sv[0]);
	assert_int_equal(evloop_set_file(loop, sv[0], EVLOOP_READ, &e), -ENOENT);
	assert_int_equal(evloop_run_once(loop, 0, &e), 0);
	close(sv[0]);
	evloop_free(loop);
}

/* A callback that removes another ready fd: that one is not called with
 * events read before its removal. */
struct pair {
	int calls;
	int other;
};

static void remove_other(struct evloop *loop, int fd, unsigned events, void *ctx)
{
	struct pair *p = ctx;
	p->calls++;
	evloop_del_file(loop, p->other);
}

static void test_removal_in_a_pass(void **state)
{
	struct evloop *loop = new_loop();
	struct err e = { 0 };
	int a[2], b[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, a), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, b), 0);
	struct pair pa = { 0, b[0] }, pb = { 0, a[0] };
	assert_int_equal(evloop_add_file(loop, a[0], EVLOOP_READ, remove_other, &pa, &e), 0);
	assert_int_equal(evloop_add_file(loop, b[0], EVLOOP_READ, remove_other, &pb, &e), 0);
	assert_int_equal(write(a[1], "x", 1), 1);
	assert_int_equal(write(b[1], "x", 1), 1);
	assert_int_equal(evloop_run_once(loop, 100 * MS, &e), 1);
	assert_int_equal(pa.calls + pb.calls, 1);
	for (int i = 0; i < 2; i++) {
		close(a[i]);
		close(b[i]);
	}
	evloop_free(loop);
}

struct ticks {
	int count;
	int limit;     /* ends itself after this many */
	int64_t every; /* ns */
	int64_t first_at, last_at;
};

static int64_t tick(struct evloop *loop, void *ctx)
{
	struct ticks *t = ctx;
	t->last_at = rtime_mono_ns();
	if (!t->count++)
		t->first_at = t->last_at;
	return t->count >= t->limit ? EVLOOP_TIMER_DONE : t->every;
}

static void run_for(struct evloop *loop, int64_t ns)
{
	struct err e = { 0 };
	for (int64_t end = rtime_mono_ns() + ns, now; (now = rtime_mono_ns()) < end;)
		assert_true(evloop_run_once(loop, end - now, &e) >= 0);
}

/* A one-shot timer runs once, not before its time; a repeating one keeps
 * its period until it ends itself; the wait is shorter than a millisecond
 * when the timer is. */
static void test_timers(void **state)
{
	struct evloop *loop = new_loop();
	struct err e = { 0 };
	struct ticks once = { .limit = 1 }, every = { .limit = 5, .every = 10 * MS };
	int64_t start = rtime_mono_ns();
	assert_int_equal(evloop_add_timer(loop, 30 * MS, tick, &once, NULL, &e), 0);
	assert_int_equal(evloop_add_timer(loop, 10 * MS, tick, &every, NULL, &e), 0);
	/* Until both ended (a busy machine may take its time), then a while
	 * more: neither runs again. */
	for (int64_t end = start + 5000 * MS; rtime_mono_ns() < end;)
		if (once.count == 1 && every.count == 5)
			break;
		else
			assert_true(evloop_run_once(loop, 10 * MS, &e) >= 0);
	run_for(loop, 30 * MS);
	assert_int_equal(once.count, 1);
	assert_true(once.first_at - start >= 30 * MS);
	assert_int_equal(every.count, 5);
	assert_true(every.first_at - start >= 10 * MS);
	assert_true(every.last_at - every.first_at >= 40 * MS);

	/* A 200 us timer: epoll_wait's whole milliseconds would make it 1 ms
	 * every time; a busy machine may delay a few, so the best of ten. */
	int64_t best = INT64_MAX;
	for (int i = 0; i < 10; i++) {
		struct ticks quick = { .limit = 1 };
		start = rtime_mono_ns();
		assert_int_equal(evloop_add_timer(loop, 200000, tick, &quick, NULL, &e), 0);
		while (!quick.count)
			assert_true(evloop_run_once(loop, -1, &e) >= 0);
		assert_true(quick.first_at - start >= 200000);
		if (quick.first_at - start < best)
			best = quick.first_at - start;
	}
	evloop_free(loop);
	assert_true(best < 900000);
}

/* Moved, then ended before its time: never runs; its id stays dead. */
static void test_timer_moved_and_ended(void **state)
{
	struct evloop *loop = new_loop();
	struct err e = { 0 };
	struct ticks t = { .limit = 1 }, later = { .limit = 1 };
	uint64_t id, later_id;
	assert_int_equal(evloop_add_timer(loop, 10 * MS, tick, &t, &id, &e), 0);
	assert_int_equal(evloop_add_timer(loop, 200 * MS, tick, &later, &later_id, &e), 0);
	assert_int_equal(evloop_set_timer(loop, id, 500 * MS), 0);
	assert_int_equal(evloop_set_timer(loop, later_id, 5 * MS), 0);
	run_for(loop, 40 * MS);
	assert_int_equal(t.count, 0);
	assert_int_equal(later.count, 1);
	assert_int_equal(evloop_set_timer(loop, later_id, 0), -ENOENT); /* it ended */
	evloop_del_timer(loop, id);
	assert_int_equal(evloop_set_timer(loop, id, 0), -ENOENT);
	run_for(loop, 20 * MS);
	assert_int_equal(t.count, 0);
	evloop_free(loop);
}

static void on_usr1(struct evloop *loop, int signo, void *ctx)
{
	(*(int *)ctx)++;
	evloop_stop(loop);
}

/* A signal is taken from normal delivery (SIGUSR1 would end the process)
 * and handled in the loop; evloop_run returns once it stops; freeing the
 * loop gives the signal back, dropping one that came after the last pass. */
static void test_signals_and_stop(void **state)
{
	struct evloop *loop = new_loop();
	struct err e = { 0 };
	int got = 0;
	assert_int_equal(evloop_add_signal(loop, SIGUSR1, on_usr1, &got, &e), 0);
	assert_int_equal(raise(SIGUSR1), 0);
	assert_false(evloop_stopped(loop));
	assert_int_equal(evloop_run(loop, &e), 0);
	assert_int_equal(got, 1);
	assert_true(evloop_stopped(loop));
	/* One more after the last pass: freeing the loop must not let it end
	 * the process (SIGUSR1's default) as it is unblocked. */
	assert_int_equal(raise(SIGUSR1), 0);
	evloop_free(loop);
	sigset_t now;
	pthread_sigmask(SIG_SETMASK, NULL, &now);
	assert_false(sigismember(&now, SIGUSR1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_removal_in_a_pass),
		cmocka_unit_test(test_timers),
		cmocka_unit_test(test_timer_moved_and_ended),
		cmocka_unit_test(test_signals_and_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
