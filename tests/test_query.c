/* test_query.c - the LMDB state (store/db.c) and the query API
 * (store/query.c): what is appended and committed reads back exactly;
 * aggregations match a naive reference on random data; selectors; counter
 * resets; restarts; duplicates; map growth; name collisions. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>

#include "lib/fault.h"
#include "lib/rtime.h"
#include "lib/series_name.h"
#include "store/codec.h"
#include "store/db.h"
#include "store/layout.h"
#include "store/query.h"

#define SEC RTIME_NS_PER_SEC
static char data[256], dbdir[300];

static int make_dir(void **state)
{
	snprintf(data, sizeof data, "/tmp/rmon-test-query-XXXXXX");
	assert_non_null(mkdtemp(data));
	snprintf(dbdir, sizeof dbdir, "%s/db", data);
	return 0;
}

static int remove_dir(void **state)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", data);
	return system(cmd) == 0 ? 0 : -1;
}

static struct db *open_db(uint64_t map_bytes)
{
	struct db_config c;
	db_config_default(&c);
	if (map_bytes)
		c.initial_map_bytes = map_bytes;
	struct db *db;
	struct err e = { 0 };
	if (db_open(dbdir, &c, false, &db, &e) != 0)
		fail_msg("db_open: %s", e.msg);
	return db;
}

static uint64_t reg(struct db *db, const char *name)
{
	struct err e = { 0 };
	uint64_t id = series_id(name, strlen(name));
	if (db_register_series(db, id, name, strlen(name), &e) != 0)
		fail_msg("register: %s", e.msg);
	return id;
}

static void append(struct db *db, uint64_t id, int64_t ts, double v)
{
	struct sample s = { id, ts, v };
	struct err e = { 0 };
	assert_int_equal(db_append(db, &s, 1, &e), 0);
}

static void commit(struct db *db, uint64_t pos)
{
	struct err e = { 0 };
	if (db_commit(db, pos, &e) != 0)
		fail_msg("commit: %s", e.msg);
}

struct collected {
	size_t n;
	int64_t ts[20000];
	double v[20000];
};

static int collect(void *ctx, int64_t ts, double v)
{
	struct collected *c = ctx;
	c->ts[c->n] = ts;
	c->v[c->n] = v;
	c->n++;
	return 0;
}

static struct query *open_query(void)
{
	struct query *q;
	struct err e = { 0 };
	if (query_open(data, &q, &e) != 0)
		fail_msg("query_open: %s", e.msg);
	return q;
}

static void test_read_back_exactly_across_chunks_and_restart(void **state)
{
	struct db *db = open_db(0);
	uint64_t id = reg(db, "h/m{a=\"1\"}");
	static struct collected got;
	int64_t t0 = 1764000000 * SEC;
	/* 5000 samples: several chunks close; values switch to fractions. */
	for (int i = 0; i < 5000; i++)
		append(db, id, t0 + i * SEC, i < 3000 ? i * 7 : i * 0.37);
	commit(db, 100);
	assert_true(db_applied_position(db) == 100);
	db_close(db);
	db = open_db(0);
	assert_true(db_applied_position(db) == 100);
	/* Appends continue after a restart; old timestamps are skipped. */
	append(db, id, t0 + 4999 * SEC, -1);
	append(db, id, t0 + 10 * SEC, -1);
	for (int i = 5000; i < 6000; i++)
		append(db, id, t0 + i * SEC, i);
	commit(db, 200);
	struct db_stats st;
	struct err e = { 0 };
	assert_int_equal(db_get_stats(db, &st, &e), 0);
	assert_true(st.duplicates == 1 && st.out_of_order == 1 && st.samples == 6000);
	struct query *q = open_query();
	got.n = 0;
	assert_int_equal(query_raw(q, id, t0, t0 + 6000 * SEC, collect, &got, NULL, &e), 0);
	assert_int_equal(got.n, 6000);
	for (int i = 0; i < 6000; i++) {
		assert_true(got.ts[i] == t0 + i * SEC);
		double want = i < 3000 ? i * 7 : i < 5000 ? i * 0.37 : i;
		assert_true(got.v[i] == want);
	}
	/* A sub-range. */
	got.n = 0;
	assert_int_equal(
	    query_raw(q, id, t0 + 2500 * SEC, t0 + 2600 * SEC, collect, &got, NULL, &e), 0);
	assert_int_equal(got.n, 100);
	assert_true(got.ts[0] == t0 + 2500 * SEC);
	query_close(q);
	db_close(db);
}

/* The naive reference: aggregate raw samples per window. */
static double reference(const int64_t *ts, const double *v, size_t n, int64_t from, int64_t step,
			size_t window, enum query_agg agg)
{
	double min = NAN, max = NAN, sum = 0, count = 0, last = NAN, increase = 0, prev = NAN;
	bool any = false;
	int64_t lo = from + (int64_t)window * step, hi = lo + step;
	for (size_t i = 0; i < n; i++) {
		if (ts[i] >= lo && ts[i] < hi) {
			any = true;
			min = count == 0 || v[i] < min ? v[i] : min;
			max = count == 0 || v[i] > max ? v[i] : max;
			sum += v[i];
			count++;
			last = v[i];
			if (!isnan(prev))
				increase += v[i] >= prev ? v[i] - prev : v[i];
		}
		if (ts[i] < hi)
			prev = v[i];
	}
	switch (agg) {
	case QUERY_AVG:
		return count ? sum / count : NAN;
	case QUERY_MIN:
		return min;
	case QUERY_MAX:
		return max;
	case QUERY_LAST:
		return last;
	case QUERY_SUM:
		return count ? sum : NAN;
	case QUERY_COUNT:
		return count;
	case QUERY_RATE:
		return any ? increase / ((double)step / 1e9) : NAN;
	default:
		return any ? increase : NAN;
	}
}

static void check_aggregates(struct query *q, uint64_t id, const int64_t *ts, const double *v,
			     size_t n, int64_t from, int64_t to, int64_t step)
{
	size_t windows = (size_t)((to - from + step - 1) / step);
	double *out = malloc(windows * sizeof *out);
	struct err e = { 0 };
	for (int a = QUERY_AVG; a <= QUERY_INCREASE; a++) {
		assert_int_equal(
		    query_range(q, id, from, to, step, (enum query_agg)a, out, windows, &e), 0);
		for (size_t w = 0; w < windows; w++) {
			double want = reference(ts, v, n, from, step, w, (enum query_agg)a);
			if (isnan(want) != isnan(out[w]) ||
			    (!isnan(want) && fabs(want - out[w]) > 1e-6 * (1 + fabs(want))))
				fail_msg("%s window %zu of step %llds: got %g, want %g",
					 query_agg_name((enum query_agg)a), w,
					 (long long)(step / SEC), out[w], want);
		}
	}
	free(out);
}

static void test_aggregates_match_reference(void **state)
{
	struct db *db = open_db(0);
	uint64_t counter = reg(db, "h/c_total"), gauge = reg(db, "h/g");
	static int64_t ts[12000];
	static double cv[12000], gv[12000];
	int64_t t0 = 1764000000 * SEC - (1764000000 * SEC) % (3600 * SEC);
	srand(3);
	double c = 0;
	size_t n = 0;
	for (int i = 0; i < 12000; i++) {
		ts[n] = t0 + i * 10 * SEC + (rand() % 3) * SEC;
		c = rand() % 500 == 0 ? rand() % 10 : c + rand() % 100; /* with resets */
		cv[n] = c;
		gv[n] = (double)(rand() % 10000) / 100.0;
		append(db, counter, ts[n], cv[n]);
		append(db, gauge, ts[n], gv[n]);
		n++;
	}
	commit(db, 1);
	struct query *q = open_query();
	int64_t end = ts[n - 1] + SEC;
	/* Raw (10 s step), 1-minute rollups (5 min) and 1-hour rollups (3 h). */
	check_aggregates(q, counter, ts, cv, n, t0, end, 10 * SEC);
	check_aggregates(q, gauge, ts, gv, n, t0, end, 10 * SEC);
	check_aggregates(q, counter, ts, cv, n, t0, end, 300 * SEC);
	check_aggregates(q, gauge, ts, gv, n, t0, end, 300 * SEC);
	check_aggregates(q, counter, ts, cv, n, t0, end, 3 * 3600 * SEC);
	check_aggregates(q, gauge, ts, gv, n, t0, end, 3 * 3600 * SEC);
	query_close(q);
	db_close(db);
}

static int list_names(void *ctx, uint64_t id, const char *name, size_t len)
{
	char *out = ctx;
	strncat(out, name, len);
	strcat(out, ";");
	return 0;
}

static void test_selectors(void **state)
{
	struct db *db = open_db(0);
	reg(db, "web1/node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"}");
	reg(db, "web1/node_cpu_seconds_total{cpu=\"0\",mode=\"user\"}");
	reg(db, "db1/node_cpu_seconds_total{cpu=\"12\",mode=\"idle\"}");
	reg(db, "db1/node_memory_MemFree_bytes");
	commit(db, 1);
	struct query *q = open_query();
	struct query_selector *sel;
	struct err e = { 0 };
	static const struct {
		const char *selector;
		int matches;
	} cases[] = {
		{ "*", 4 },
		{ "node_cpu_seconds_total", 3 },
		{ "web?/node_cpu_seconds_total{mode=\"idle\"}", 1 },
		{ "node_cpu_seconds_total{cpu=~\"[0-9]\"}", 2 },
		{ "node_cpu_seconds_total{mode!=\"idle\"}", 1 },
		{ "*/node_*{cpu!~\"1.*\"}", 3 },
		{ "db1/node_memory_*", 1 },
		{ "node_memory_MemFree_bytes{cpu=\"\"}", 1 },
		{ "{mode=\"idle\"}", 2 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[4096] = "";
		if (query_selector_parse(cases[i].selector, &sel, &e) != 0)
			fail_msg("%s: %s", cases[i].selector, e.msg);
		assert_int_equal(query_series(q, sel, list_names, out, &e), 0);
		int count = 0;
		for (char *p = out; (p = strchr(p, ';')); p++)
			count++;
		if (count != cases[i].matches)
			fail_msg("%s matched %d: %s", cases[i].selector, count, out);
		query_selector_free(sel);
	}
	static const char *const bad[] = { "node{mode}", "node{mode=idle}", "node{mode=\"x\"",
					   "no de", "x{a=~\"(\"}", "/m", "m{a=\"1\"}x",
					   /* would take gigabytes to compile */
					   "m{a=~\"((a{255}){255}){255}\"}",
					   "m{a=~\"l+++++++++++++++++++++++++++++++\"}",
					   "m{a=~\"(a{300,}b+c+d+e+)\"}" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(query_selector_parse(bad[i], &sel, &e), -EINVAL);
		assert_non_null(strstr(e.msg, "at character"));
	}
	query_close(q);
	db_close(db);
}

static void test_collisions_and_unknown_ids(void **state)
{
	struct db *db = open_db(0);
	struct err e = { 0 };
	assert_int_equal(db_register_series(db, 42, "h/a", 3, &e), 0);
	assert_int_equal(db_register_series(db, 42, "h/a", 3, &e), 0);
	assert_int_equal(db_register_series(db, 42, "h/b", 3, &e), -EEXIST);
	commit(db, 1);
	assert_int_equal(db_register_series(db, 42, "h/b", 3, &e), -EEXIST);
	assert_non_null(strstr(e.msg, "h/a"));
	struct sample s = { 43, 1, 1 };
	assert_int_equal(db_append(db, &s, 1, &e), -ENOENT);
	db_close(db);
	struct query *q;
	char empty[300];
	snprintf(empty, sizeof empty, "%s/nothing", data);
	assert_int_equal(query_open(empty, &q, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "no store in"));
}

static void test_map_grows_by_itself(void **state)
{
	struct db *db = open_db(256 * 1024);
	char name[64];
	int64_t t0 = 1764000000 * SEC;
	for (int s = 0; s < 2000; s++) {
		snprintf(name, sizeof name, "h/m{s=\"%d\"}", s);
		uint64_t id = reg(db, name);
		for (int i = 0; i < 50; i++)
			append(db, id, t0 + i * SEC, (double)rand());
	}
	commit(db, 7);
	db_close(db);
	db = open_db(256 * 1024);
	assert_true(db_applied_position(db) == 7);
	struct db_stats st;
	struct err e = { 0 };
	assert_int_equal(db_get_stats(db, &st, &e), 0);
	assert_true(st.series == 2000 && st.samples == 100000);
	db_close(db);
}

static int count_series(void *ctx, uint64_t id, const char *name, size_t len)
{
	(void)id;
	(void)name;
	(void)len;
	++*(size_t *)ctx;
	return 0;
}

/* A fleet that connects at once registers more names than one
 * transaction of names takes: after one commit every one of them is
 * readable by id and by name, in a map that had to grow many times. */
static void test_a_fleet_registered_at_once_is_readable_after_one_commit(void **state)
{
	enum { N = 70000 };
	struct db *db = open_db(256 * 1024);
	static uint64_t ids[N];
	char name[64];
	int64_t t0 = 1764000000 * SEC;
	for (int s = 0; s < N; s++) {
		snprintf(name, sizeof name, "host-%d/cpu{s=\"%d\"}", s / 100, s % 100);
		ids[s] = reg(db, name);
		append(db, ids[s], t0, s);
	}
	commit(db, 9);
	struct query *q = open_query();
	struct err e = { 0 };
	char got[64];
	for (int s = 0; s < N; s++) {
		snprintf(name, sizeof name, "host-%d/cpu{s=\"%d\"}", s / 100, s % 100);
		assert_int_equal(query_series_name(q, ids[s], got, sizeof got, &e),
				 (int)strlen(name));
		assert_string_equal(got, name);
	}
	struct query_selector *sel;
	assert_int_equal(query_selector_parse("cpu{s=\"42\"}", &sel, &e), 0);
	size_t matched = 0;
	assert_int_equal(query_series(q, sel, count_series, &matched, &e), 0);
	assert_int_equal(matched, N / 100);
	query_selector_free(sel);
	query_close(q);
	db_close(db);
}

static int commits_left;

/* Every transaction's commit after the first commits_left fails. */
static int commit_fails_later(const char *point)
{
	if (strcmp(point, "db.commit") != 0)
		return 0;
	return commits_left-- > 0 ? 0 : EIO;
}

static int count_ids(void *ctx, uint64_t id)
{
	(void)id;
	++*(size_t *)ctx;
	return 0;
}

/* A fleet's first commit takes several transactions: two of names, then
 * heads in id order, 16,384 at a time.  Readers following the changes
 * (alertd) may read between any two of them: what changed reads without
 * error at each step, and names every series whose head is in. */
static void test_changes_read_between_a_fleets_transactions(void **state)
{
	enum { N = 70000 };
	struct db *db = open_db(0);
	char name[64];
	int64_t t0 = 1764000000 * SEC;
	for (int s = 0; s < N; s++) {
		snprintf(name, sizeof name, "host-%d/cpu{s=\"%d\"}", s / 100, s % 100);
		append(db, reg(db, name), t0, s);
	}
	commits_left = 3; /* the names, then the first heads */
	fault_hook = commit_fails_later;
	struct err e = { 0 };
	assert_int_equal(db_commit(db, 9, &e), -EIO);
	fault_hook = NULL;
	struct query *q = open_query();
	size_t changed = 0;
	if (query_changed(q, 0, count_ids, &changed, &e) != 0)
		fail_msg("query_changed: %s", e.msg);
	assert_int_equal(changed, 16384);
	commit(db, 9);
	changed = 0;
	if (query_changed(q, 0, count_ids, &changed, &e) != 0)
		fail_msg("query_changed: %s", e.msg);
	assert_int_equal(changed, N);
	query_close(q);
	db_close(db);
}

/* How many chunks of series id the committed store holds (LMDB read
 * directly: chunk sizes are not the readers' business). */
static size_t count_chunks(uint64_t id)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *cur;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_open(env, dbdir, MDB_RDONLY, 0), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "chunks", 0, &dbi), 0);
	assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
	uint8_t start[LAYOUT_KEY_BYTES];
	layout_key(start, id, INT64_MIN);
	MDB_val k = { sizeof start, start }, v;
	size_t n = 0;
	for (int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		uint64_t key_id;
		int64_t ts;
		layout_key_parse(k.mv_data, &key_id, &ts);
		if (key_id != id)
			break;
		n++;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return n;
}

/* A head's chunk buffer starts small and grows with its chunk: chunks
 * still close full, at LAYOUT_HEAD_BYTES (as many as one encoder of that
 * size makes of the same samples), however often they were committed or
 * reloaded by a restart while growing, and read back exactly. */
static void test_chunks_close_full_while_their_buffer_grows(void **state)
{
	enum { N = 1500 };
	static int64_t ts[N];
	static double v[N];
	int64_t t0 = 1764000000 * SEC;
	uint64_t x = 88172645463325252u;
	for (int i = 0; i < N; i++) { /* random doubles: float chunks of ~90 samples */
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		ts[i] = t0 + i * SEC;
		v[i] = (double)(x >> 11) / 9007199254740992.0;
	}
	size_t expected = 1;
	static uint8_t buf[LAYOUT_HEAD_BYTES];
	struct codec_encoder enc;
	codec_init(&enc, buf, sizeof buf, false);
	for (int i = 0; i < N; i++)
		if (codec_append(&enc, ts[i], v[i]) == -ENOSPC) {
			expected++;
			codec_init(&enc, buf, sizeof buf, false);
			assert_int_equal(codec_append(&enc, ts[i], v[i]), 0);
		}
	assert_true(expected > 10);

	struct db *db = open_db(0);
	uint64_t id = reg(db, "h/m{grow=\"1\"}");
	uint64_t pos = 1;
	for (int i = 0; i < N; i++) {
		append(db, id, ts[i], v[i]);
		if (i % 7 == 0)
			commit(db, pos++);
		if (i == 3 || i == 40 || i == 700) { /* restarts with a chunk still small */
			commit(db, pos++);
			db_close(db);
			db = open_db(0);
		}
	}
	commit(db, pos++);
	db_close(db);
	assert_int_equal(count_chunks(id), expected);
	static struct collected got;
	struct query *q = open_query();
	struct err e = { 0 };
	got.n = 0;
	assert_int_equal(query_raw(q, id, t0, t0 + N * SEC, collect, &got, NULL, &e), 0);
	assert_int_equal(got.n, N);
	for (int i = 0; i < N; i++)
		assert_true(got.ts[i] == ts[i] && got.v[i] == v[i]);
	query_close(q);
}

/* An open chunk's record is written whole only now and then, its newer
 * samples going as a tail in the series' latest record: a reader sees
 * every sample after every commit, whichever of the two holds it, for
 * float, counter and two-decimal series alike, also after the writer
 * reopens the store (its heads rebuilt from record and tail) and as chunks
 * close. */
static void test_every_sample_visible_at_each_commit(void **state)
{
	enum { SERIES = 3, N = 700 };
	const char *names[SERIES] = { "h/m{kind=\"float\"}", "h/m{kind=\"counter\"}",
				      "h/m{kind=\"gauge\"}" };
	int64_t t0 = 1764000000 * SEC;
	uint64_t x = 88172645463325252u;
	static double v[SERIES][N];
	for (int i = 0; i < N; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		v[0][i] = (double)(x >> 11) / 9007199254740992.0;
		v[1][i] = 3.0 * i;
		v[2][i] = (double)(x % 10000) / 100;
	}
	struct db *db = open_db(0);
	uint64_t id[SERIES];
	for (int s = 0; s < SERIES; s++)
		id[s] = reg(db, names[s]);
	struct query *q = open_query();
	static struct collected got;
	struct err e = { 0 };
	for (int i = 0; i < N; i++) {
		for (int s = 0; s < SERIES; s++)
			append(db, id[s], t0 + i * SEC, v[s][i]);
		commit(db, (uint64_t)i + 1);
		if (i % 150 == 149) {
			db_close(db);
			db = open_db(0);
		}
		for (int s = 0; s < SERIES; s++) {
			got.n = 0;
			assert_int_equal(
			    query_raw(q, id[s], t0, t0 + N * SEC, collect, &got, NULL, &e), 0);
			assert_int_equal(got.n, i + 1);
			for (int j = 0; j <= i; j++)
				assert_true(got.ts[j] == t0 + j * SEC && got.v[j] == v[s][j]);
		}
	}
	db_close(db);
	query_close(q);
}

#define Q_TEST(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)

int main(void)
{
	const struct CMUnitTest tests[] = {
		Q_TEST(test_read_back_exactly_across_chunks_and_restart),
		Q_TEST(test_aggregates_match_reference),
		Q_TEST(test_selectors),
		Q_TEST(test_collisions_and_unknown_ids),
		Q_TEST(test_map_grows_by_itself),
		Q_TEST(test_a_fleet_registered_at_once_is_readable_after_one_commit),
		Q_TEST(test_changes_read_between_a_fleets_transactions),
		Q_TEST(test_chunks_close_full_while_their_buffer_grows),
		Q_TEST(test_every_sample_visible_at_each_commit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
