/* test_ring.c - the shared-memory ring (shmring/ring.c): order and
 * exactly-once delivery across threads and processes, full lanes, restarts
 * of the consumer, producers killed at every step of a push, and segments
 * that do not match. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/rtime.h"
#include "shmring/ring.h"
#include "lib/series_name.h"

static char ring_name[64];

static int make_name(void **state)
{
	static int n;
	snprintf(ring_name, sizeof ring_name, "/rmon-test-%d-%d", (int)getpid(), n++);
	shm_unlink(ring_name);
	return 0;
}

static int drop_name(void **state)
{
	shm_unlink(ring_name);
	return 0;
}

static struct ring *consumer(uint32_t lanes, uint32_t slots)
{
	struct ring_config c;
	ring_config_default(&c, ring_name);
	c.lanes = lanes;
	c.slots_per_lane = slots;
	c.series_capacity = 1024;
	c.reclaim_interval_ms = 10;
	struct ring *r = NULL;
	struct err e = { 0 };
	int rc = ring_consumer_open(&c, &r, &e);
	if (rc != 0)
		fail_msg("ring_consumer_open: %s", e.msg);
	return r;
}

/* Pushes n samples (id = producer, ts = value = sequence), retrying while
 * the lane is full. */
static void push_sequence(struct ring_lane *lane, uint64_t producer, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		struct sample s = { producer, (int64_t)i, (double)i };
		while (ring_push(lane, &s) != 0)
			sched_yield();
	}
}

/* Drains until every producer's expected count arrived, checking that each
 * producer's samples come exactly once and in order. */
static void drain_and_check(struct ring *r, int producers, uint64_t per_producer, size_t batch)
{
	uint64_t *next = calloc((size_t)producers, sizeof *next);
	struct sample *buf = malloc(batch * sizeof *buf);
	uint64_t total = 0, want = (uint64_t)producers * per_producer;
	int64_t deadline = rtime_mono_ns() + 60 * RTIME_NS_PER_SEC;
	while (total < want) {
		size_t n = ring_peek(r, buf, batch);
		for (size_t i = 0; i < n; i++) {
			assert_true(buf[i].id < (uint64_t)producers);
			assert_true((uint64_t)buf[i].ts == next[buf[i].id]);
			assert_true(buf[i].value == (double)next[buf[i].id]);
			next[buf[i].id]++;
		}
		total += n;
		ring_release(r);
		if (n == 0)
			ring_wait(r, 10);
		assert_true(rtime_mono_ns() < deadline);
	}
	for (int p = 0; p < producers; p++)
		assert_true(next[p] == per_producer);
	assert_int_equal(ring_peek(r, buf, batch), 0);
	free(next);
	free(buf);
}

static void test_single_producer_order(void **state)
{
	struct ring *r = consumer(4, 1024);
	struct ring_lane *lane;
	assert_int_equal(ring_lane_attach(r, &lane, NULL), 0);
	push_sequence(lane, 0, 1000);
	drain_and_check(r, 1, 1000, 64);
	struct ring_stats st;
	ring_get_stats(r, &st);
	assert_true(st.pushed == 1000 && st.released == 1000 && st.dropped_full == 0);
	ring_close(r);
}

static void test_wraps_around_many_laps(void **state)
{
	struct ring *r = consumer(1, 64);
	struct ring_lane *lane;
	struct sample out[64];
	assert_int_equal(ring_lane_attach(r, &lane, NULL), 0);
	uint64_t next = 0;
	for (int lap = 0; lap < 500; lap++) {
		for (int i = 0; i < 50; i++) {
			struct sample s = { 0, (int64_t)(lap * 50 + i), 0 };
			assert_int_equal(ring_push(lane, &s), 0);
		}
		size_t n = ring_peek(r, out, 64);
		assert_int_equal(n, 50);
		for (size_t i = 0; i < n; i++)
			assert_true((uint64_t)out[i].ts == next++);
		ring_release(r);
	}
	ring_close(r);
}

static void test_full_lane_drops_and_recovers(void **state)
{
	struct ring *r = consumer(1, 64);
	struct ring_lane *lane;
	struct sample out[128], s = { 1, 0, 0 };
	assert_int_equal(ring_lane_attach(r, &lane, NULL), 0);
	for (int i = 0; i < 64; i++)
		assert_int_equal(ring_push(lane, &s), 0);
	assert_int_equal(ring_push(lane, &s), -ENOSPC);
	struct sample many[10] = { { 0 } };
	assert_int_equal(ring_push_many(lane, many, 10), 0);
	/* Peeked but unreleased slots are still not free. */
	assert_int_equal(ring_peek(r, out, 128), 64);
	assert_int_equal(ring_push(lane, &s), -ENOSPC);
	ring_release(r);
	assert_int_equal(ring_push(lane, &s), 0);
	struct ring_stats st;
	ring_get_stats(r, &st);
	assert_true(st.dropped_full == 12);
	assert_int_equal(ring_peek(r, out, 128), 1);
	ring_close(r);
}

struct thread_producer {
	struct ring *r;
	uint64_t index, count;
};

static void *thread_push(void *arg)
{
	struct thread_producer *p = arg;
	struct ring_lane *lane;
	if (ring_lane_attach(p->r, &lane, NULL) != 0)
		return (void *)1;
	push_sequence(lane, p->index, p->count);
	ring_lane_detach(lane);
	return NULL;
}

static void test_threads_exactly_once_in_order(void **state)
{
	enum { THREADS = 4, EACH = 200000 };
	struct ring *r = consumer(8, 1024);
	pthread_t th[THREADS];
	struct thread_producer p[THREADS];
	for (int i = 0; i < THREADS; i++) {
		p[i] = (struct thread_producer){ r, (uint64_t)i, EACH };
		pthread_create(&th[i], NULL, thread_push, &p[i]);
	}
	drain_and_check(r, THREADS, EACH, 4096);
	for (int i = 0; i < THREADS; i++) {
		void *rc;
		pthread_join(th[i], &rc);
		assert_null(rc);
	}
	ring_close(r);
}

static pid_t fork_producer(uint64_t index, uint64_t count)
{
	pid_t pid = fork();
	if (pid == 0) {
		struct ring *r;
		struct ring_lane *lane;
		if (ring_producer_open(ring_name, &r, NULL) != 0 ||
		    ring_lane_attach(r, &lane, NULL) != 0)
			_exit(3);
		push_sequence(lane, index, count);
		ring_close(r);
		_exit(0);
	}
	return pid;
}

static void test_processes_exactly_once_in_order(void **state)
{
	enum { PROCS = 3, EACH = 300000 };
	struct ring *r = consumer(8, 4096);
	pid_t pids[PROCS];
	for (int i = 0; i < PROCS; i++)
		pids[i] = fork_producer((uint64_t)i, EACH);
	drain_and_check(r, PROCS, EACH, 4096);
	for (int i = 0; i < PROCS; i++) {
		int status;
		waitpid(pids[i], &status, 0);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	ring_close(r);
}

static void test_restarted_consumer_resumes_at_release(void **state)
{
	struct ring *r = consumer(2, 256);
	struct ring_lane *lane;
	struct sample out[256];
	assert_int_equal(ring_lane_attach(r, &lane, NULL), 0);
	push_sequence(lane, 0, 100);
	assert_int_equal(ring_peek(r, out, 40), 40);
	ring_release(r); /* 0..39 are durable */
	assert_int_equal(ring_peek(r, out, 30), 30);
	/* The consumer dies here: 40..69 were peeked, never released. */
	struct ring *producer;
	assert_int_equal(ring_producer_open(ring_name, &producer, NULL), 0);
	ring_close(r);
	r = consumer(2, 256);
	size_t n = ring_peek(r, out, 256);
	assert_int_equal(n, 60);
	for (size_t i = 0; i < n; i++)
		assert_true(out[i].ts == (int64_t)(40 + i));
	ring_release(r);
	ring_close(r);
	ring_close(producer);
}

static void test_second_consumer_is_busy(void **state)
{
	struct ring *r = consumer(2, 64);
	pid_t pid = fork();
	if (pid == 0) {
		struct ring_config c;
		ring_config_default(&c, ring_name);
		c.lanes = 2;
		c.slots_per_lane = 64;
		c.series_capacity = 1024;
		struct ring *other;
		struct err e = { 0 };
		int rc = ring_consumer_open(&c, &other, &e);
		_exit(rc == -EBUSY && strstr(e.msg, "already drained") ? 0 : 1);
	}
	int status;
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ring_close(r);
	/* Once the first consumer is gone, another may take over. */
	r = consumer(2, 64);
	ring_close(r);
}

static void test_lanes_run_out(void **state)
{
	struct ring *r = consumer(2, 64);
	struct ring_lane *a, *b, *c;
	struct err e = { 0 };
	assert_int_equal(ring_lane_attach(r, &a, &e), 0);
	assert_int_equal(ring_lane_attach(r, &b, &e), 0);
	assert_int_equal(ring_lane_attach(r, &c, &e), -EAGAIN);
	assert_non_null(strstr(e.msg, "lanes are taken"));
	ring_lane_detach(a);
	assert_int_equal(ring_lane_attach(r, &c, &e), 0);
	ring_close(r);
}

static void test_segment_mode_is_0600(void **state)
{
	struct ring *r = consumer(2, 64);
	int fd = shm_open(ring_name, O_RDONLY, 0);
	struct stat st;
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	close(fd);
	ring_close(r);
}

static void test_mismatched_segments_are_refused(void **state)
{
	struct ring *r = consumer(2, 64);
	ring_close(r);
	struct ring_config c;
	ring_config_default(&c, ring_name);
	c.lanes = 2;
	c.slots_per_lane = 128;
	c.series_capacity = 1024;
	struct err e = { 0 };
	assert_int_equal(ring_consumer_open(&c, &r, &e), -EPROTO);
	assert_non_null(strstr(e.msg, "slots_per_lane is 64 in the segment but 128 here"));
	shm_unlink(ring_name);

	/* Garbage of a plausible size, and an object too small for a header. */
	int fd = shm_open(ring_name, O_RDWR | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 65536), 0);
	char junk[4096];
	memset(junk, 0x5a, sizeof junk);
	assert_int_equal(pwrite(fd, junk, sizeof junk, 0), (ssize_t)sizeof junk);
	assert_int_equal(ring_producer_open(ring_name, &r, &e), -EPROTO);
	assert_non_null(strstr(e.msg, "bad magic"));
	assert_int_equal(ftruncate(fd, 16), 0);
	assert_int_equal(ring_producer_open(ring_name, &r, &e), -EPROTO);
	assert_non_null(strstr(e.msg, "too small"));
	close(fd);
	assert_int_equal(ring_producer_open("/rmon-test-none", &r, &e), -ENOENT);
}

/* ---- producers killed at each step of a push ---- */

static const char *kill_point;
static int pushes_before_kill;

static void kill_at_point(const char *point)
{
	if (strcmp(point, kill_point) == 0 && pushes_before_kill-- == 0)
		raise(SIGKILL);
}

static void run_kill_case(const char *point, uint64_t expect_delivered, uint64_t expect_lost)
{
	struct ring *r = consumer(1, 256);
	pid_t pid = fork();
	if (pid == 0) {
		struct ring *pr;
		struct ring_lane *lane;
		if (ring_producer_open(ring_name, &pr, NULL) != 0 ||
		    ring_lane_attach(pr, &lane, NULL) != 0)
			_exit(3);
		kill_point = point;
		pushes_before_kill = 10;
		ring_test_hook = kill_at_point;
		push_sequence(lane, 0, 100);
		_exit(4); /* not reached: the hook kills us on the 11th push */
	}
	int status;
	waitpid(pid, &status, 0);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	/* The consumer never waits for the half-written slot: what was
	 * published arrives at once, and the lane is reclaimed promptly. */
	struct sample out[256];
	int64_t start = rtime_mono_ns();
	size_t n = ring_peek(r, out, 256);
	assert_int_equal(n, expect_delivered);
	for (size_t i = 0; i < n; i++)
		assert_true(out[i].ts == (int64_t)i);
	ring_release(r);
	struct ring_stats st;
	do {
		ring_wait(r, 5);
		ring_get_stats(r, &st);
	} while (st.reclaimed_lanes == 0 && rtime_mono_ns() - start < 2 * RTIME_NS_PER_SEC);
	assert_int_equal(st.reclaimed_lanes, 1);
	assert_int_equal(st.lost_dead, expect_lost);
	assert_true(rtime_mono_ns() - start < RTIME_NS_PER_SEC);

	/* A new producer takes the lane and its samples flow. */
	struct ring_lane *lane;
	assert_int_equal(ring_lane_attach(r, &lane, NULL), 0);
	push_sequence(lane, 7, 200);
	n = ring_peek(r, out, 256);
	assert_int_equal(n, 200);
	for (size_t i = 0; i < n; i++)
		assert_true(out[i].id == 7 && out[i].ts == (int64_t)i);
	ring_release(r);
	ring_close(r);
}

static void test_killed_after_claim(void **state)
{
	run_kill_case("claimed", 10, 1);
}

static void test_killed_after_write(void **state)
{
	run_kill_case("written", 10, 1);
}

static void test_killed_after_publish(void **state)
{
	run_kill_case("published", 11, 0);
}

#define RING_TEST(f) cmocka_unit_test_setup_teardown(f, make_name, drop_name)

int main(void)
{
	const struct CMUnitTest tests[] = {
		RING_TEST(test_single_producer_order),
		RING_TEST(test_wraps_around_many_laps),
		RING_TEST(test_full_lane_drops_and_recovers),
		RING_TEST(test_threads_exactly_once_in_order),
		RING_TEST(test_processes_exactly_once_in_order),
		RING_TEST(test_restarted_consumer_resumes_at_release),
		RING_TEST(test_second_consumer_is_busy),
		RING_TEST(test_lanes_run_out),
		RING_TEST(test_segment_mode_is_0600),
		RING_TEST(test_mismatched_segments_are_refused),
		RING_TEST(test_killed_after_claim),
		RING_TEST(test_killed_after_write),
		RING_TEST(test_killed_after_publish),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
