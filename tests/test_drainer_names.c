/* test_drainer_names.c - names that reach the drainer through the local
 * ring (store/drainer.c) obey the name rules of lib/series_name.h as the
 * network's do: a name breaking them is refused before the WAL, its
 * samples dropped and counted, logged once and escaped, and the series
 * beside it stored as before. */
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

#include "lib/rtime.h"
#include "lib/series_name.h"
#include "shmring/ring.h"
#include "shmring/series.h"
#include "store/db.h"
#include "store/drainer.h"
#include "store/wal.h"

static char data[256], ring_name[64];

static int make_dir(void **state)
{
	snprintf(data, sizeof data, "/tmp/rmon-test-drainer-names-XXXXXX");
	assert_non_null(mkdtemp(data));
	snprintf(ring_name, sizeof ring_name, "/rmon-test-drainer-names-%d", (int)getpid());
	return 0;
}

static int remove_dir(void **state)
{
	char cmd[300];
	ring_unlink(ring_name, NULL);
	snprintf(cmd, sizeof cmd, "rm -rf %s", data);
	return system(cmd) == 0 ? 0 : -1;
}

static char notices[8][1024];
static int n_notices;

static void notice(const char *message)
{
	if (n_notices < 8)
		snprintf(notices[n_notices], sizeof notices[0], "%s", message);
	n_notices++;
}

static struct drainer *open_drainer(void)
{
	struct drainer_config c;
	drainer_config_default(&c, data);
	c.ring.name = ring_name;
	c.ring.lanes = 2;
	c.ring.slots_per_lane = 1024;
	c.ring.series_capacity = 1024;
	c.commit_interval_ns = c.checkpoint_interval_ns = 3600 * RTIME_NS_PER_SEC;
	c.self_interval_ns = 3600 * RTIME_NS_PER_SEC;
	c.notice = notice;
	struct drainer *d;
	struct err e = { 0 };
	if (drainer_open(&c, &d, &e) != 0)
		fail_msg("drainer_open: %s", e.msg);
	n_notices = 0;
	return d;
}

/* What an agent on this host could write into the ring's table: the
 * table takes any bytes, so the store must look. */
static const char good[] = "h/up";
static const char escape_seq[] = "h/up\x1b]0;root\x07";	       /* a terminal title */
static const char bad_utf8[] = "h/up{k=\"\xff\xfe\"}";	       /* not UTF-8 */
static const char newline[] = "h/up\ninfo store: forged line"; /* a log line */

static uint64_t insert(struct ring *r, const char *name)
{
	uint64_t id;
	struct err e = { 0 };
	if (series_insert(ring_series(r), name, strlen(name), &id, &e) != 0)
		fail_msg("series_insert: %s", e.msg);
	return id;
}

static void push(struct ring_lane *lane, uint64_t id, int k)
{
	struct sample s = { id, (1764000000 + k) * RTIME_NS_PER_SEC, k };
	assert_int_equal(ring_push(lane, &s), 0);
}

static void test_ring_names_break_no_rule(void **state)
{
	struct drainer *d = open_drainer();
	struct ring *r;
	struct ring_lane *lane;
	struct err e = { 0 };
	assert_int_equal(ring_producer_open(ring_name, &r, &e), 0);
	assert_int_equal(ring_lane_attach(r, &lane, &e), 0);
	uint64_t ok = insert(r, good), esc = insert(r, escape_seq), utf = insert(r, bad_utf8),
		 nl = insert(r, newline);
	push(lane, ok, 1);
	push(lane, esc, 1);
	push(lane, utf, 1);
	push(lane, nl, 1);
	push(lane, ok, 2);
	assert_int_equal(drainer_step(d, 0, &e), 0);

	struct drainer_stats st;
	drainer_get_stats(d, &st);
	assert_true(st.samples == 2); /* the good series is stored as before */
	assert_true(st.bad_names == 3 && st.refused_series == 3);
	assert_true(drainer_knows(d, ok));
	assert_false(drainer_knows(d, esc) || drainer_knows(d, utf) || drainer_knows(d, nl));
	/* one line for the first, the name escaped: no raw control byte */
	assert_int_equal(n_notices, 1);
	assert_non_null(strstr(notices[0], "from the local ring refused"));
	assert_non_null(strstr(notices[0], "\"h/up\\x1b]0;root\\x07\""));
	for (const char *p = notices[0]; *p; p++)
		assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p != 0x7f);

	/* more samples of a refused name: counted, not logged again */
	push(lane, esc, 2);
	push(lane, ok, 3);
	assert_int_equal(drainer_step(d, 0, &e), 0);
	drainer_get_stats(d, &st);
	assert_true(st.samples == 3 && st.bad_names == 4 && st.refused_series == 4);
	assert_int_equal(n_notices, 1);
	ring_close(r);
	assert_int_equal(drainer_close(d, &e), 0);

	/* nothing of them reached the WAL or the database: a restart replays
	 * the good series alone */
	d = open_drainer();
	assert_true(drainer_knows(d, ok));
	assert_false(drainer_knows(d, esc) || drainer_knows(d, utf) || drainer_knows(d, nl));
	assert_int_equal(drainer_close(d, &e), 0);
	char dir[300];
	snprintf(dir, sizeof dir, "%s/db", data);
	struct db_config dc;
	db_config_default(&dc);
	struct db *db;
	struct db_stats ds;
	assert_int_equal(db_open(dir, &dc, true, &db, &e), 0);
	assert_int_equal(db_get_stats(db, &ds, &e), 0);
	db_close(db);
	assert_true(ds.series == 1 && ds.samples == 3);
}

/* Names given with samples of other origin are checked the same way,
 * though ingest checks them first: -EINVAL, nothing added. */
static void test_added_names_break_no_rule(void **state)
{
	struct drainer *d = open_drainer();
	struct err e = { 0 };
	const char *name = escape_seq;
	struct sample s = { series_id(name, strlen(name)), 1764000000 * RTIME_NS_PER_SEC, 1 };
	assert_int_equal(drainer_submit(d, &s, 1, &name, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "metric"));
	assert_false(drainer_knows(d, s.id));
	assert_true(drainer_samples(d) == 0);
	name = good;
	s.id = series_id(name, strlen(name));
	assert_int_equal(drainer_submit(d, &s, 1, &name, &e), 0);
	assert_true(drainer_samples(d) == 1);
	assert_int_equal(drainer_close(d, &e), 0);
}

/* A WAL written before the rules, holding such a name, still replays
 * whole: the refusal is the drainer's, not the database's. */
static void test_old_wal_replays(void **state)
{
	char dir[300];
	struct err e = { 0 };
	struct wal_config wc;
	struct wal *w;
	uint64_t end;
	snprintf(dir, sizeof dir, "%s/wal", data);
	wal_config_default(&wc);
	assert_int_equal(wal_open(dir, &wc, &w, &e), 0);
	uint64_t id = series_id(escape_seq, strlen(escape_seq));
	struct sample s = { id, 1764000000 * RTIME_NS_PER_SEC, 7 };
	assert_int_equal(wal_append_series(w, id, escape_seq, strlen(escape_seq), &e), 0);
	assert_int_equal(wal_append_samples(w, &s, 1, &e), 0);
	assert_int_equal(wal_commit(w, &end, &e), 0);
	wal_close(w);
	struct drainer *d = open_drainer();
	assert_true(drainer_knows(d, id));
	assert_int_equal(drainer_close(d, &e), 0);
}

#define D_TEST(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)

int main(void)
{
	const struct CMUnitTest tests[] = {
		D_TEST(test_ring_names_break_no_rule),
		D_TEST(test_added_names_break_no_rule),
		D_TEST(test_old_wal_replays),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
