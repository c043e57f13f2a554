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
#include <lmdb.h>

#include "lib/fault.h"
#include "lib/rtime.h"
#include "lib/series_name.h"
#include "shmring/ring.h"
#include "shmring/series.h"
#include "store/db.h"
#include "store/drainer.h"
#include "store/query.h"

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

/* ---- faults beyond names: each shows its error, and loses nothing that
 * was acknowledged (ring slots are released, agents answered, only once
 * the WAL holds the batch) ---- */

static char notices[8][700];
static int n_notices;

static void notice(const char *message)
{
	if (n_notices < 8)
		snprintf(notices[n_notices], sizeof notices[0], "%s", message);
	n_notices++;
}

/* A producer in this process pushes one sample of h/up at second k. */
static struct ring *producer;
static struct ring_lane *lane;

static void push(int k)
{
	struct err e = { 0 };
	uint64_t id;
	if (!producer) {
		assert_int_equal(ring_producer_open(ring_name, &producer, &e), 0);
		assert_int_equal(ring_lane_attach(producer, &lane, &e), 0);
	}
	assert_int_equal(series_insert(ring_series(producer), "h/up", 4, &id, &e), 0);
	struct sample s = { id, (1764000000 + k) * RTIME_NS_PER_SEC, k };
	assert_int_equal(ring_push(lane, &s), 0);
}

static void close_producer(void)
{
	ring_close(producer);
	producer = NULL;
}

static struct drainer *open_drainer(int64_t commit_interval_ns)
{
	struct drainer_config c;
	config(&c);
	c.notice = notice;
	if (commit_interval_ns)
		c.commit_interval_ns = commit_interval_ns;
	struct drainer *d;
	struct err e = { 0 };
	if (drainer_open(&c, &d, &e) != 0)
		fail_msg("drainer_open: %s", e.msg);
	n_notices = 0;
	return d;
}

/* What a reader (rmon stats) learns of a full disk: 1 the database's, 2
 * the WAL's. */
static int reader_sees_full(void)
{
	struct query *q;
	struct query_stats qs;
	struct err e = { 0 };
	if (query_open(data, &q, &e) != 0 || query_get_stats(q, &qs, &e) != 0)
		fail_msg("reader: %s", e.msg);
	query_close(q);
	return (qs.db_full ? 1 : 0) | (qs.wal_full ? 2 : 0);
}

static uint64_t stored(struct drainer *d)
{
	struct drainer_stats st;
	drainer_get_stats(d, &st);
	return st.samples;
}

/* The WAL's write fails: the step says so and the store would stop; the
 * ring still holds the batch, which the next start stores. */
static void wal_write_body(void)
{
	struct drainer *d = open_drainer(0);
	struct err e = { 0 };
	push(1);
	fail_next("wal.write", -EIO, 1);
	CHECK(drainer_step(d, 0, &e) == -EIO);
	CHECK(strstr(e.msg, "wal: cannot write") != NULL);
}

static void test_wal_write_error_keeps_the_ring_batch(void **state)
{
	crash_after(wal_write_body);
	struct drainer *d = open_drainer(0);
	struct err e = { 0 };
	assert_int_equal(drainer_step(d, 0, &e), 0);
	assert_true(stored(d) == 1);
	assert_int_equal(drainer_close(d, &e), 0);
	assert_true(samples_after_restart() == 1);
}

/* The WAL's disk is full: one line, the batch waits, then goes. */
static void test_wal_disk_full_pauses_and_resumes(void **state)
{
	struct drainer *d = open_drainer(0);
	struct err e = { 0 };
	push(1);
	fail_next("wal.write", -ENOSPC, 2);
	assert_int_equal(drainer_step(d, 0, &e), 0);
	assert_int_equal(drainer_step(d, 0, &e), 0);
	assert_false(drainer_accepting(d));
	assert_true(stored(d) == 0);
	assert_int_equal(reader_sees_full(), 2);
	assert_int_equal(n_notices, 1);
	assert_non_null(strstr(notices[0], "disk full, draining stopped"));
	assert_int_equal(drainer_step(d, 0, &e), 0);
	assert_true(stored(d) == 1);
	assert_int_equal(n_notices, 2);
	assert_string_equal(notices[1], "disk space is back, draining again");
	assert_int_equal(reader_sees_full(), 0);
	close_producer();
	assert_int_equal(drainer_close(d, &e), 0);
	assert_true(samples_after_restart() == 1);
}

/* Out of memory appending to the WAL: an error, and the ring keeps it. */
static void wal_oom_body(void)
{
	struct drainer *d = open_drainer(0);
	struct err e = { 0 };
	push(1);
	fail_next("wal.append_samples", -ENOMEM, 1);
	CHECK(drainer_step(d, 0, &e) == -ENOMEM);
	CHECK(strstr(e.msg, "out of memory") != NULL);
}

static void test_wal_out_of_memory_keeps_the_ring_batch(void **state)
{
	crash_after(wal_oom_body);
	struct drainer *d = open_drainer(0);
	struct err e = { 0 };
	assert_int_equal(drainer_step(d, 0, &e), 0);
	assert_true(stored(d) == 1);
	assert_int_equal(drainer_close(d, &e), 0);
	assert_true(samples_after_restart() == 1);
}

/* Out of memory holding a new name: the agent is told, sends again. */
static void db_oom_body(void)
{
	struct drainer *d = open_drainer(0);
	struct err e = { 0 };
	const char *name = "h/up";
	struct sample s = { series_id(name, 4), 1764000000 * RTIME_NS_PER_SEC, 1 };
	fail_next("db.alloc", -ENOMEM, 1);
	CHECK(drainer_submit(d, &s, 1, &name, &e) == -ENOMEM);
	CHECK(strstr(e.msg, "db: out of memory") != NULL);
	CHECK(drainer_submit(d, &s, 1, &name, &e) == 0);
}

static void test_db_out_of_memory_then_resent(void **state)
{
	crash_after(db_oom_body);
	assert_true(samples_after_restart() == 1);
}

/* LMDB's commit fails (an I/O error): a clear error; what was
 * acknowledged is in the WAL and the next start replays it. */
static void commit_body(void)
{
	struct drainer *d = open_drainer(0);
	struct err e = { 0 };
	const char *name = "h/up";
	struct sample s = { series_id(name, 4), 1764000000 * RTIME_NS_PER_SEC, 1 };
	CHECK(drainer_submit(d, &s, 1, &name, &e) == 0); /* acknowledged */
	fail_next("db.commit", EIO, 1000);
	CHECK(drainer_close(d, &e) == -EIO);
	CHECK(strstr(e.msg, "commit failed: Input/output error") != NULL);
}

static void test_failed_commit_replays_from_the_wal(void **state)
{
	crash_after(commit_body);
	assert_true(samples_after_restart() == 1);
}

/* A full map is grown and the commit done again, whole. */
static void test_map_full_is_grown(void **state)
{
	struct drainer *d = open_drainer(0);
	struct err e = { 0 };
	const char *name = "h/up";
	struct sample s = { series_id(name, 4), 1764000000 * RTIME_NS_PER_SEC, 1 };
	assert_int_equal(drainer_submit(d, &s, 1, &name, &e), 0);
	fail_next("db.commit", MDB_MAP_FULL, 3);
	assert_int_equal(drainer_close(d, &e), 0);
	assert_int_equal(fail_at, 0);
	fault_hook = NULL;
	/* nothing left to replay: the commit itself stored it */
	char dir[300];
	snprintf(dir, sizeof dir, "%s/db", data);
	struct db_config dc;
	db_config_default(&dc);
	struct db *db;
	struct db_stats st;
	assert_int_equal(db_open(dir, &dc, true, &db, &e), 0);
	assert_int_equal(db_get_stats(db, &st, &e), 0);
	db_close(db);
	assert_true(st.samples == 1);
}

/* LMDB's disk is full: commits pause with one line, the store goes on
 * taking samples into the WAL, and commits resume by themselves. */
static void test_db_disk_full_pauses_and_resumes(void **state)
{
	struct drainer *d = open_drainer(1);
	struct err e = { 0 };
	const char *name = "h/up";
	struct sample s = { series_id(name, 4), 1764000000 * RTIME_NS_PER_SEC, 1 };
	fail_next("db.commit", ENOSPC, 1000);
	for (int k = 0; k < 3; k++) {
		s.ts += RTIME_NS_PER_SEC;
		assert_int_equal(drainer_submit(d, &s, 1, &name, &e), 0);
		assert_int_equal(drainer_step(d, 0, &e), 0);
		assert_int_equal(drainer_wait_commit(d, &e), 0); /* the commit's thread */
	}
	struct drainer_stats st;
	drainer_get_stats(d, &st);
	assert_true(st.db_full && !st.disk_full && st.samples == 3);
	assert_int_equal(n_notices, 1);
	assert_non_null(strstr(notices[0], "database disk full, commits paused"));
	assert_int_equal(reader_sees_full(), 1);
	fault_hook = NULL;
	assert_int_equal(drainer_step(d, 0, &e), 0);
	assert_int_equal(drainer_wait_commit(d, &e), 0);
	drainer_get_stats(d, &st);
	assert_false(st.db_full);
	assert_int_equal(n_notices, 2);
	assert_string_equal(notices[1], "database disk space is back, commits resumed");
	assert_int_equal(reader_sees_full(), 0);
	assert_int_equal(drainer_close(d, &e), 0);
	assert_true(samples_after_restart() == 3);
}

/* A store killed while paused leaves its state on the page: its next
 * start clears it, so rmon stats does not tell of an old full disk. */
static void paused_body(void)
{
	struct drainer *d = open_drainer(1);
	struct err e = { 0 };
	const char *name = "h/up";
	struct sample s = { series_id(name, 4), 1764000000 * RTIME_NS_PER_SEC, 1 };
	fail_next("db.commit", ENOSPC, 1000);
	CHECK(drainer_submit(d, &s, 1, &name, &e) == 0);
	CHECK(drainer_step(d, 0, &e) == 0);
	CHECK(drainer_wait_commit(d, &e) == 0);
	CHECK(reader_sees_full() == 1);
}

static void test_restart_clears_the_paused_state(void **state)
{
	crash_after(paused_body);
	fault_hook = NULL;
	assert_int_equal(reader_sees_full(), 1); /* as the killed store left it */
	struct drainer *d = open_drainer(0);
	assert_int_equal(reader_sees_full(), 0);
	struct err e = { 0 };
	assert_int_equal(drainer_close(d, &e), 0);
	assert_true(samples_after_restart() == 1);
}

#define D_TEST(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)

int main(void)
{
	const struct CMUnitTest tests[] = {
		D_TEST(test_ring_name_reaches_the_wal),
		D_TEST(test_net_name_reaches_the_wal),
		D_TEST(test_wal_write_error_keeps_the_ring_batch),
		D_TEST(test_wal_disk_full_pauses_and_resumes),
		D_TEST(test_wal_out_of_memory_keeps_the_ring_batch),
		D_TEST(test_db_out_of_memory_then_resent),
		D_TEST(test_failed_commit_replays_from_the_wal),
		D_TEST(test_map_full_is_grown),
		D_TEST(test_db_disk_full_pauses_and_resumes),
		D_TEST(test_restart_clears_the_paused_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
