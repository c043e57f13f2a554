/* test_query_faults.c - the readers' path (store/query*.c,
 * store/lmdb_env.c) when memory or LMDB fails, made to happen through
 * lib/fault.h: each call says so with a negative errno and a message
 * naming the store, leaves nothing behind (the asan build checks for
 * leaks), reads correctly once the fault is gone, and the writer never
 * passes through these points. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>

#include "lib/fault.h"
#include "lib/rtime.h"
#include "lib/series_name.h"
#include "store/drainer.h"
#include "store/query.h"

static char data[256], ring_name[64];

#define T0     (1764000000 * RTIME_NS_PER_SEC)
#define SERIES 3
#define POINTS 10
static const char *const names[SERIES] = { "h/a", "h/b", "web1/c" };

static void config(struct drainer_config *c)
{
	drainer_config_default(c, data);
	c->ring.name = ring_name;
	c->ring.lanes = 2;
	c->ring.slots_per_lane = 1024;
	c->ring.series_capacity = 1024;
	c->self_interval_ns = 3600 * RTIME_NS_PER_SEC;
}

/* Writes POINTS samples of each series at T0 + k s, value k, from round
 * `from` on. */
static void write_samples(struct drainer *d, int from)
{
	struct err e = { 0 };
	for (int k = from; k < from + POINTS; k++)
		for (int i = 0; i < SERIES; i++) {
			struct sample s = { series_id(names[i], strlen(names[i])),
					    T0 + k * RTIME_NS_PER_SEC, k };
			if (drainer_submit(d, &s, 1, &names[i], &e) != 0)
				fail_msg("drainer_submit: %s", e.msg);
		}
}

static int make_store(void **state)
{
	snprintf(data, sizeof data, "/tmp/rmon-test-query-faults-XXXXXX");
	assert_non_null(mkdtemp(data));
	snprintf(ring_name, sizeof ring_name, "/rmon-test-query-faults-%d", (int)getpid());
	struct drainer_config c;
	config(&c);
	struct drainer *d;
	struct err e = { 0 };
	if (drainer_open(&c, &d, &e) != 0)
		fail_msg("drainer_open: %s", e.msg);
	write_samples(d, 0);
	assert_int_equal(drainer_close(d, &e), 0);
	return 0;
}

static int remove_store(void **state)
{
	char cmd[300];
	fault_hook = NULL;
	ring_unlink(ring_name, NULL);
	snprintf(cmd, sizeof cmd, "rm -rf %s", data);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *fail_point;
static int fail_code, fail_times, failed;

static int inject(const char *point)
{
	if (fail_times != 0 && strcmp(point, fail_point) == 0) {
		if (fail_times > 0)
			fail_times--;
		failed++;
		return fail_code;
	}
	return 0;
}

/* times < 0: every time until fault_off */
static void fault_on(const char *point, int code, int times)
{
	fail_point = point;
	fail_code = code;
	fail_times = times;
	failed = 0;
	fault_hook = inject;
}

static void fault_off(void)
{
	fault_hook = NULL;
}

/* The message names the store's folder and what failed. */
static void assert_names_store(const struct err *e, const char *what)
{
	if (!strstr(e->msg, "store ") || !strstr(e->msg, data) || !strstr(e->msg, what))
		fail_msg("message \"%s\" does not name the store %s and \"%s\"", e->msg, data,
			 what);
}

static uint64_t id_of(int i)
{
	return series_id(names[i], strlen(names[i]));
}

static int count_sample(void *ctx, int64_t ts, double value)
{
	++*(int *)ctx;
	return 0;
}

static int count_series(void *ctx, uint64_t id, const char *name, size_t len)
{
	++*(int *)ctx;
	return 0;
}

static int count_id(void *ctx, uint64_t id)
{
	++*(int *)ctx;
	return 0;
}

/* Everything reads as written: the faults left no trace. */
static void assert_reads_all(struct query *q, int points)
{
	struct err e = { 0 };
	int n = 0;
	assert_int_equal(query_series(q, NULL, count_series, &n, &e), 0);
	assert_int_equal(n, SERIES);
	n = 0;
	assert_int_equal(
	    query_raw(q, id_of(0), T0, T0 + 3600 * RTIME_NS_PER_SEC, count_sample, &n, NULL, &e),
	    0);
	assert_int_equal(n, points);
	uint64_t ids[SERIES] = { id_of(0), id_of(1), id_of(2) };
	struct query_latest got[SERIES];
	assert_int_equal(query_latest(q, ids, SERIES, got, &e), 0);
	for (int i = 0; i < SERIES; i++)
		assert_true(got[i].ts == T0 + (points - 1) * RTIME_NS_PER_SEC &&
			    got[i].value == points - 1);
	double avg[1];
	assert_int_equal(query_range(q, id_of(1), T0, T0 + 60 * RTIME_NS_PER_SEC,
				     60 * RTIME_NS_PER_SEC, QUERY_AVG, avg, 1, &e),
			 0);
	assert_true(avg[0] == (points - 1) / 2.0);
	n = 0;
	assert_int_equal(query_changed(q, 0, count_id, &n, &e), 0);
	assert_int_equal(n, SERIES);
	assert_int_equal(query_begin(q, &e), 0);
	query_end(q);
}

static struct query *open_query(void)
{
	struct query *q;
	struct err e = { 0 };
	if (query_open(data, &q, &e) != 0)
		fail_msg("query_open: %s", e.msg);
	return q;
}

static void test_open_out_of_memory(void **state)
{
	struct query *q = NULL;
	struct err e = { 0 };
	fault_on("query.alloc", 1, 1);
	assert_int_equal(query_open(data, &q, &e), -ENOMEM);
	assert_null(q);
	assert_names_store(&e, "out of memory");
	q = open_query();
	assert_reads_all(q, POINTS);
	query_close(q);
}

/* A snapshot cannot begin (the reader table is full, or an I/O error):
 * every call that needs one says so; the next begins. */
static void test_begin_fails(void **state)
{
	struct query *q = open_query();
	struct err e = { 0 };
	const struct {
		int code, want;
	} cases[] = { { MDB_READERS_FULL, -EAGAIN }, { EIO, -EIO } };
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		fault_on("lmdb.begin_read", cases[c].code, -1);
		assert_int_equal(query_begin(q, &e), cases[c].want);
		assert_names_store(&e, "cannot read");
		assert_non_null(strstr(e.msg, mdb_strerror(cases[c].code)));
		int n = 0;
		uint64_t id = id_of(0);
		struct query_latest got;
		assert_int_equal(query_latest(q, &id, 1, &got, &e), cases[c].want);
		assert_int_equal(query_series(q, NULL, count_series, &n, &e), cases[c].want);
		assert_int_equal(
		    query_raw(q, id, T0, T0 + RTIME_NS_PER_SEC, count_sample, &n, NULL, &e),
		    cases[c].want);
		assert_int_equal(query_changed(q, 0, count_id, &n, &e), cases[c].want);
		assert_int_equal(n, 0);
		assert_true(query_sequence(q) == 0); /* "unknown", documented */
		assert_true(failed >= 6);
		fault_off();
		assert_reads_all(q, POINTS);
	}
	query_close(q);
}

/* LMDB fails while reading: names, chunks, latest values. */
static void test_read_fails(void **state)
{
	struct query *q = open_query();
	struct err e = { 0 };
	int n = 0;
	uint64_t id = id_of(2);
	struct query_latest got;
	fault_on("query.read", EIO, -1);
	assert_int_equal(query_series(q, NULL, count_series, &n, &e), -EIO);
	assert_names_store(&e, "cannot list series");
	assert_int_equal(query_raw(q, id, T0, T0 + RTIME_NS_PER_SEC, count_sample, &n, NULL, &e),
			 -EIO);
	assert_names_store(&e, "cannot read chunks");
	assert_int_equal(query_latest(q, &id, 1, &got, &e), -EIO);
	assert_names_store(&e, "cannot read the latest values");
	assert_int_equal(n, 0);
	/* inside a held snapshot too, which stays usable */
	fault_off();
	assert_int_equal(query_begin(q, &e), 0);
	fault_on("query.read", MDB_CORRUPTED, 1);
	assert_int_equal(query_latest(q, &id, 1, &got, &e), -EIO);
	assert_non_null(strstr(e.msg, mdb_strerror(MDB_CORRUPTED)));
	assert_int_equal(query_latest(q, &id, 1, &got, &e), 0);
	assert_true(got.value == POINTS - 1);
	query_end(q);
	fault_off();
	assert_reads_all(q, POINTS);
	query_close(q);
}

/* Out of memory for windows, the id cache, the lookup order. */
static void test_out_of_memory(void **state)
{
	struct query *q = open_query();
	struct err e = { 0 };
	double out[4];
	uint64_t ids[SERIES] = { id_of(0), id_of(1), id_of(2) };
	struct query_latest got[SERIES];
	int n = 0;
	fault_on("query.alloc", 1, -1);
	assert_int_equal(query_range(q, ids[0], T0, T0 + 240 * RTIME_NS_PER_SEC,
				     60 * RTIME_NS_PER_SEC, QUERY_MAX, out, 4, &e),
			 -ENOMEM);
	assert_names_store(&e, "out of memory");
	/* A few ids need no memory; more are put in order in a table. */
	assert_int_equal(query_latest(q, ids, SERIES, got, &e), 0);
	assert_true(got[0].value == POINTS - 1);
	uint64_t many[40];
	struct query_latest many_got[40];
	for (size_t i = 0; i < 40; i++)
		many[i] = ids[i % SERIES];
	assert_int_equal(query_latest(q, many, 40, many_got, &e), -ENOMEM);
	assert_names_store(&e, "out of memory");
	assert_int_equal(query_changed(q, 0, count_id, &n, &e), -ENOMEM);
	assert_names_store(&e, "out of memory");
	assert_int_equal(n, 0);
	fault_off();
	assert_reads_all(q, POINTS);
	query_close(q);
}

/* The writer goes through none of the readers' points: with every one of
 * them failing, it stores and commits as before, and a reader opened
 * before sees it all once the faults end. */
static void test_writer_unaffected(void **state)
{
	struct query *q = open_query();
	struct drainer_config c;
	config(&c);
	c.commit_interval_ns = 1; /* every step commits */
	struct drainer *d;
	struct err e = { 0 };
	assert_int_equal(drainer_open(&c, &d, &e), 0);
	const char *points[] = { "lmdb.begin_read", "query.read", "query.alloc" };
	for (size_t p = 0; p < 3; p++) {
		fault_on(points[p], EIO, -1);
		write_samples(d, POINTS * (int)(p + 1));
		assert_int_equal(drainer_step(d, 0, &e), 0);
		assert_int_equal(drainer_wait_commit(d, &e), 0); /* its thread wrote it */
		uint64_t ids[40]; /* more than query_latest orders without memory */
		struct query_latest got[40];
		for (size_t i = 0; i < 40; i++)
			ids[i] = id_of(0);
		assert_true(query_latest(q, ids, 40, got, &e) < 0); /* the reader fails */
		fault_off();
		assert_int_equal(query_latest(q, ids, 40, got, &e), 0); /* and sees the commit */
		assert_true(got[0].value == POINTS * (p + 2) - 1);
	}
	assert_int_equal(drainer_close(d, &e), 0);
	assert_reads_all(q, POINTS * 4);
	query_close(q);
}

#define Q_TEST(f) cmocka_unit_test_setup_teardown(f, make_store, remove_store)

int main(void)
{
	const struct CMUnitTest tests[] = {
		Q_TEST(test_open_out_of_memory), Q_TEST(test_begin_fails),
		Q_TEST(test_read_fails),	 Q_TEST(test_out_of_memory),
		Q_TEST(test_writer_unaffected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
