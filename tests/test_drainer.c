/* test_drainer.c - the drainer (store/drainer.c) when things fail: a name
 * that could not reach the WAL must not reach the database either, and a
 * store that dies after acknowledging samples finds them all again. Faults
 * are injected through lib/fault.h; a "crash" is a child that _exits. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/fault.h"
#include "lib/rtime.h"
#include "lib/series_name.h"
#include "shmring/ring.h"
#include "shmring/series.h"
#include "store/db.h"
#include "store/drainer.h"

static char data[256], ring_name[64];

static int make_dir(void **state)
{
	snprintf(data, sizeof data, "/tmp/rmon-test-drainer-XXXXXX");
	assert_non_null(mkdtemp(data));
	snprintf(ring_name, sizeof ring_name, "/rmon-test-drainer-%d", (int)getpid());
	return 0;
}

static int remove_dir(void **state)
{
	char cmd[300];
	fault_hook = NULL;
	ring_unlink(ring_name, NULL);
	snprintf(cmd, sizeof cmd, "rm -rf %s", data);
	return system(cmd) == 0 ? 0 : -1;
}

/* In a child, cmocka cannot report: a failed check exits with 1. */
#define CHECK(x)                                                                                   \
	do {                                                                                       \
		if (!(x)) {                                                                        \
			fprintf(stderr, "child: %s failed at line %d: %s\n", #x, __LINE__, e.msg); \
			_exit(1);                                                                  \
		}                                                                                  \
	} while (0)

static void config(struct drainer_config *c)
{
	drainer_config_default(c, data);
	c->ring.name = ring_name;
	c->ring.lanes = 2;
	c->ring.slots_per_lane = 1024;
	c->ring.series_capacity = 1024;
	/* nothing reaches LMDB but what drainer_open's recovery writes */
	c->commit_interval_ns = c->checkpoint_interval_ns = 3600 * RTIME_NS_PER_SEC;
	c->self_interval_ns = 3600 * RTIME_NS_PER_SEC;
}

static int fail_at; /* how many more times the point fails */
static const char *fail_point;
static int fail_code;

static int inject(const char *point)
{
	if (fail_at > 0 && strcmp(point, fail_point) == 0) {
		fail_at--;
		return fail_code;
	}
	return 0;
}

static void fail_next(const char *point, int code, int times)
{
	fail_point = point;
	fail_code = code;
	fail_at = times;
	fault_hook = inject;
}

/* Runs body in a child that dies without closing anything, as a crash. */
static void crash_after(void (*body)(void))
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		body();
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Opens the store again (replaying the WAL) and returns its sample count. */
static uint64_t samples_after_restart(void)
{
	struct drainer_config c;
	config(&c);
	struct drainer *d;
	struct err e = { 0 };
	if (drainer_open(&c, &d, &e) != 0)
		fail_msg("reopening the store after the crash: %s", e.msg);
	assert_int_equal(drainer_close(d, &e), 0);
	char dir[300];
	snprintf(dir, sizeof dir, "%s/db", data);
	struct db *db;
	struct db_stats st;
	assert_int_equal(db_open(dir, &c.db, true, &db, &e), 0);
	assert_int_equal(db_get_stats(db, &st, &e), 0);
	db_close(db);
	return st.samples;
}

static void ring_body(void)
{
	struct drainer_config c;
	config(&c);
	struct drainer *d;
	struct ring *r;
	struct ring_lane *lane;
	struct err e = { 0 };
	uint64_t id;
	CHECK(drainer_open(&c, &d, &e) == 0);
	CHECK(ring_producer_open(ring_name, &r, &e) == 0);
	CHECK(ring_lane_attach(r, &lane, &e) == 0);
	CHECK(series_insert(ring_series(r), "h/up", 4, &id, &e) == 0);
	struct sample s = { id, 1764000000 * RTIME_NS_PER_SEC, 1 };
	fail_next("wal.append_series", -ENOMEM, 1);
	CHECK(ring_push(lane, &s) == 0);
	CHECK(drainer_step(d, 0, &e) == 0);
	struct drainer_stats st;
	drainer_get_stats(d, &st);
	CHECK(st.refused_series == 1 && st.samples == 0); /* dropped, counted */
	s.ts += RTIME_NS_PER_SEC;
	CHECK(ring_push(lane, &s) == 0);
	CHECK(drainer_step(d, 0, &e) == 0);
	drainer_get_stats(d, &st);
	CHECK(st.samples == 1); /* durable in the WAL: its name must be there too */
}

static void test_ring_name_reaches_the_wal(void **state)
{
	crash_after(ring_body);
	assert_true(samples_after_restart() == 1);
}

static void net_body(void)
{
	struct drainer_config c;
	config(&c);
	struct drainer *d;
	struct err e = { 0 };
	CHECK(drainer_open(&c, &d, &e) == 0);
	const char *name = "h/up";
	struct sample s = { series_id(name, 4), 1764000000 * RTIME_NS_PER_SEC, 1 };
	fail_next("wal.append_series", -ENOMEM, 1);
	CHECK(drainer_submit(d, &s, 1, &name, &e) == -ENOMEM);
	/* the agent was not acknowledged and sends it again, with its name */
	CHECK(drainer_submit(d, &s, 1, &name, &e) == 0);
}

static void test_net_name_reaches_the_wal(void **state)
{
	crash_after(net_body);
	assert_true(samples_after_restart() == 1);
}

#define D_TEST(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)

int main(void)
{
	const struct CMUnitTest tests[] = {
		D_TEST(test_ring_name_reaches_the_wal),
		D_TEST(test_net_name_reaches_the_wal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
