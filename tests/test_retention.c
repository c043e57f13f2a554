/* test_retention.c - retention (db_apply_retention in store/db_retention.c): records
 * past their resolution's retention go, every other record stays, and the
 * work is spread over calls of bounded cost. Records are counted straight
 * in LMDB, by age. */
#include <errno.h>
#include <lmdb.h>
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
#include "store/db.h"
#include "store/layout.h"

#define SEC  RTIME_NS_PER_SEC
#define HOUR (3600 * SEC)
#define DAY  (24 * HOUR)
#define N    (DB_RETENTION_BUDGET + 904) /* more series than one call looks at */

static char data[256];
static const int64_t now = INT64_C(1764000000) * SEC;

static int make_dir(void **state)
{
	snprintf(data, sizeof data, "/tmp/rmon-test-retention-XXXXXX");
	assert_non_null(mkdtemp(data));
	return 0;
}

static int remove_dir(void **state)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", data);
	return system(cmd) == 0 ? 0 : -1;
}

/* Records of one LMDB database that start before and after `boundary`. */
struct count {
	size_t older, newer;
};

static struct count count(const char *dbname, int64_t boundary)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *cur;
	MDB_val k, v;
	struct count c = { 0, 0 };
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
	assert_int_equal(mdb_env_open(env, data, MDB_RDONLY | MDB_NOTLS, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, dbname, 0, &dbi), 0);
	assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
	for (int got = mdb_cursor_get(cur, &k, &v, MDB_FIRST); got == 0;
	     got = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		uint64_t id;
		int64_t start;
		layout_key_parse(k.mv_data, &id, &start);
		if (start < boundary)
			c.older++;
		else
			c.newer++;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return c;
}

static void test_expired_records_go_others_stay(void **state)
{
	struct db_config c;
	db_config_default(&c);
	c.retention_raw_ns = 1 * DAY;
	c.retention_1m_ns = 10 * DAY;
	c.retention_1h_ns = 100 * DAY;
	struct db *db;
	struct err e = { 0 };
	assert_int_equal(db_open(data, &c, false, &db, &e), 0);
	/* Each series: a chunk 30 days old, one 5 days old, and a head of the
	 * last hour. Sparse, so that one rollup record could hold the buckets
	 * of both old chunks if nothing bounded its span. */
	const int64_t ages[] = { 30 * DAY, 5 * DAY, 1 * HOUR };
	for (uint64_t id = 1; id <= N; id++) {
		char name[32];
		int len = snprintf(name, sizeof name, "h/m{i=\"%llu\"}", (unsigned long long)id);
		assert_int_equal(db_register_series(db, id, name, (size_t)len, &e), 0);
		for (int a = 0; a < 3; a++)
			for (int i = 0; i < 3; i++) {
				struct sample s = { id, now - ages[a] + i * 60 * SEC, (double)i };
				assert_int_equal(db_append(db, &s, 1, &e), 0);
			}
	}
	assert_int_equal(db_commit(db, 1, &e), 0);
	struct count raw = count("chunks", now - 2 * DAY), m1 = count("rollup_1m", now - 20 * DAY),
		     h1 = count("rollup_1h", now - 20 * DAY);
	assert_true(raw.older == 2 * N && raw.newer == N);
	assert_true(m1.older == N && m1.newer == N);
	assert_true(h1.older + h1.newer >= N);
	size_t hours = h1.older + h1.newer;

	/* One call cannot see everything: it looks at a budget of keys. Each
	 * series takes three (two expired chunks and its head), so the whole
	 * takes ceil(3 * N / budget) calls. */
	assert_int_equal(db_apply_retention(db, now, &e), 0);
	raw = count("chunks", now - 2 * DAY);
	size_t deleted = 2 * (DB_RETENTION_BUDGET / 3) + DB_RETENTION_BUDGET % 3;
	assert_true(raw.older == 2 * N - deleted);
	assert_true(raw.newer == N);
	for (int i = 1; i < (3 * N + DB_RETENTION_BUDGET - 1) / DB_RETENTION_BUDGET; i++)
		assert_int_equal(db_apply_retention(db, now, &e), 0);
	raw = count("chunks", now - 2 * DAY);
	m1 = count("rollup_1m", now - 20 * DAY);
	h1 = count("rollup_1h", now - 20 * DAY);
	assert_true(raw.older == 0 && raw.newer == N); /* heads and live chunks stay */
	assert_true(m1.older == 0 && m1.newer == N);   /* the 5-day-old minutes stay */
	assert_true(h1.older + h1.newer == hours);     /* all within 100 days */

	/* Nothing more expires at the same time; between passes (10 min) a
	 * call does nothing; later, the minutes go too. */
	assert_int_equal(db_apply_retention(db, now, &e), 0);
	assert_true(count("chunks", now - 2 * DAY).newer == N);
	assert_int_equal(db_register_series(db, N + 1, "h/late", 6, &e), 0);
	for (int a = 0; a < 3; a += 2) { /* a late series, with a month-old chunk */
		struct sample s = { N + 1, now - ages[a], 1 };
		assert_int_equal(db_append(db, &s, 1, &e), 0);
	}
	assert_int_equal(db_commit(db, 2, &e), 0);
	assert_true(count("chunks", now - 2 * DAY).older == 1);
	assert_int_equal(db_apply_retention(db, now + DB_RETENTION_EVERY_NS - 1, &e), 0);
	assert_true(count("chunks", now - 2 * DAY).older == 1); /* no pass began */
	for (int i = 0; i < 3; i++)
		assert_int_equal(db_apply_retention(db, now + DB_RETENTION_EVERY_NS, &e), 0);
	assert_true(count("chunks", now - 2 * DAY).older == 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(db_apply_retention(db, now + 6 * DAY, &e), 0);
	m1 = count("rollup_1m", now - 20 * DAY);
	assert_true(m1.older == 0 && m1.newer == 0);
	assert_true(count("chunks", now - 2 * DAY).newer == N + 1); /* the heads are live */
	db_close(db);
}

#define R_TEST(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)

int main(void)
{
	const struct CMUnitTest tests[] = {
		R_TEST(test_expired_records_go_others_stay),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
