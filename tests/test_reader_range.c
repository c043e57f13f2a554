/* test_reader_range.c - the readers' aggregation (store/query_range.c)
 * against a real store: several aggregates in one pass against a naive
 * reference from the raw samples, two threads aggregating at once, short
 * steps past the raw retention read from rollups, and a damaged rollup
 * record as an error. */
#include <pthread.h>

#include "tests/reader_fixture.h"

/* ---- several aggregates in one pass ---- */

struct series_data {
	size_t n;
	int64_t ts[6000];
	double v[6000];
};

/* The reference: each aggregate straight from the raw samples. */
static double naive(const struct series_data *s, enum query_agg agg, int64_t from, int64_t step)
{
	double min = NAN, max = NAN, sum = 0, count = 0, last = NAN, inc = 0, prev = NAN;
	bool any = false;
	for (size_t i = 0; i < s->n; i++) {
		double v = s->v[i];
		if (s->ts[i] >= from && s->ts[i] < from + step) {
			any = true;
			last = v;
			if (!isnan(prev))
				inc += v >= prev ? v - prev : v;
			min = count == 0 || v < min ? v : min;
			max = count == 0 || v > max ? v : max;
			sum += v;
			count++;
		}
		prev = v;
	}
	switch (agg) {
	case QUERY_AVG:
		return count ? sum / count : NAN;
	case QUERY_MIN:
		return count ? min : NAN;
	case QUERY_MAX:
		return count ? max : NAN;
	case QUERY_LAST:
		return any ? last : NAN;
	case QUERY_SUM:
		return count ? sum : NAN;
	case QUERY_COUNT:
		return count;
	case QUERY_RATE:
		return any ? inc / ((double)step / 1e9) : NAN;
	default:
		return any ? inc : NAN;
	}
}

static void assert_close(double want, double got, const char *what, size_t i)
{
	if (isnan(want) && isnan(got))
		return;
	if (isnan(want) || isnan(got) || fabs(want - got) > 1e-6 * (fabs(want) + 1))
		fail_msg("%s window %zu: want %.17g, got %.17g", what, i, want, got);
}

static void test_multi_aggregate_matches_naive_reference(void **state)
{
	(void)state;
	struct drainer *d = open_drainer(0);
	static struct series_data s;
	int64_t hour = (rtime_now_ns() / (3600 * SEC) - 20) * 3600 * SEC;
	double value = 1000;
	srand(7);
	/* 20 h of a counter every 15 s with resets and gaps: chunks close
	 * (and roll up) every 2 h; the newest is open. */
	s.n = 0;
	for (int64_t t = hour + 3 * SEC; t < hour + 20 * 3600 * SEC; t += 15 * SEC) {
		if (rand() % 50 == 0)
			continue;
		value = rand() % 400 == 0 ? rand() % 10 : value + rand() % 100 / 10.0;
		s.ts[s.n] = t, s.v[s.n] = value, s.n++;
	}
	put(d, "h/c", s.ts, s.v, s.n);
	commit(d);
	struct query *q = open_query();
	const int64_t steps[] = {
		10 * SEC, 45 * SEC, 60 * SEC, 5 * MIN, 3600 * SEC, 3 * 3600 * SEC
	};
	for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
		int64_t step = steps[k], from = hour - step, to = hour + 21 * 3600 * SEC;
		size_t n = (size_t)((to - from + step - 1) / step);
		double *buf = malloc(n * QUERY_AGGS * sizeof *buf), *outs[QUERY_AGGS];
		for (int a = 0; a < QUERY_AGGS; a++)
			outs[a] = buf + (size_t)a * n;
		struct err e = { 0 };
		assert_int_equal(query_range_multi(q, id_of("h/c"), from, to, step, outs, n, &e),
				 0);
		for (int a = 0; a < QUERY_AGGS; a++)
			for (size_t i = 0; i < n; i++)
				assert_close(
				    naive(&s, (enum query_agg)a, from + (int64_t)i * step, step),
				    outs[a][i], query_agg_name((enum query_agg)a), i);
		/* One aggregate alone gives the same figures. */
		double *one = malloc(n * sizeof *one);
		assert_int_equal(
		    query_range(q, id_of("h/c"), from, to, step, QUERY_RATE, one, n, &e), 0);
		for (size_t i = 0; i < n; i++)
			assert_close(outs[QUERY_RATE][i], one[i], "rate alone", i);
		free(one);
		free(buf);
	}
	query_close(q);
	close_drainer(d);
}

/* Two threads, each with its handle, aggregate through rollups at once:
 * with a shared decoding buffer (the old static one) they mix up their
 * records. */
struct worker {
	const double *want;
	int64_t from, to, step;
	size_t n;
	uint64_t id;
	int bad;
};

static void *aggregate_often(void *arg)
{
	struct worker *w = arg;
	struct query *q;
	double out[64];
	if (query_open(data, &q, NULL) != 0)
		return (void *)1;
	for (int r = 0; r < 200; r++) {
		if (query_range(q, w->id, w->from, w->to, w->step, QUERY_AVG, out, w->n, NULL) != 0)
			w->bad++;
		for (size_t i = 0; i < w->n; i++)
			if (!(isnan(out[i]) && isnan(w->want[i])) && out[i] != w->want[i])
				w->bad++;
	}
	query_close(q);
	return NULL;
}

static void test_aggregation_is_reentrant(void **state)
{
	(void)state;
	struct db_config c;
	db_config_default(&c);
	struct db *db;
	struct err e = { 0 };
	char dir[300];
	snprintf(dir, sizeof dir, "%s/db", data);
	assert_int_equal(db_open(dir, &c, false, &db, &e), 0);
	int64_t hour = (rtime_now_ns() / (3600 * SEC) - 30) * 3600 * SEC;
	uint64_t ids[2] = { 11, 22 };
	db_register_series(db, ids[0], "h/x", 3, &e);
	db_register_series(db, ids[1], "h/y", 3, &e);
	for (int64_t t = hour; t < hour + 30 * 3600 * SEC; t += 20 * SEC) {
		struct sample s[2] = { { ids[0], t, (double)(t / SEC % 977) },
				       { ids[1], t, -(double)(t / SEC % 613) * 1000 } };
		assert_int_equal(db_append(db, s, 2, &e), 0);
	}
	assert_int_equal(db_commit(db, 1, &e), 0);
	db_close(db);
	struct worker w[2];
	double want[2][64];
	struct query *q = open_query();
	for (int i = 0; i < 2; i++) {
		w[i] = (struct worker){ want[i], hour, hour + 28 * 3600 * SEC, 3600 * SEC, 28,
					ids[i],	 0 };
		assert_int_equal(query_range(q, ids[i], w[i].from, w[i].to, w[i].step, QUERY_AVG,
					     want[i], w[i].n, &e),
				 0);
		assert_false(isnan(want[i][3]));
	}
	query_close(q);
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, aggregate_often, &w[i]);
	for (int i = 0; i < 2; i++) {
		void *rc;
		pthread_join(th[i], &rc);
		assert_null(rc);
		assert_int_equal(w[i].bad, 0);
	}
}

/* ---- retention: raw samples gone, rollups stand in ---- */

static void test_short_step_past_raw_retention_reads_rollups(void **state)
{
	(void)state;
	struct db_config c;
	db_config_default(&c);
	c.retention_raw_ns = 3600 * SEC;
	struct db *db;
	struct err e = { 0 };
	char dir[300];
	snprintf(dir, sizeof dir, "%s/db", data);
	assert_int_equal(db_open(dir, &c, false, &db, &e), 0);
	int64_t now = rtime_now_ns() / MIN * MIN, start = now - 12 * 3600 * SEC;
	static struct series_data s;
	s.n = 0;
	db_register_series(db, 5, "h/r", 3, &e);
	for (int64_t t = start; t < now; t += 10 * SEC) {
		struct sample smp = { 5, t, (double)(t / SEC % 7919) };
		s.ts[s.n] = t, s.v[s.n] = smp.value, s.n++;
		assert_int_equal(db_append(db, &smp, 1, &e), 0);
	}
	assert_int_equal(db_commit(db, 1, &e), 0);
	assert_int_equal(db_apply_retention(db, now, &e), 0);
	db_close(db);
	struct query *q = open_query();
	/* The raw samples of the first hours are gone... */
	size_t raw = 0;
	assert_int_equal(query_raw(q, 5, start, start + 3600 * SEC, count_sample, &raw, NULL, &e),
			 0);
	assert_int_equal(raw, 0);
	/* ... yet a 10 s step over them gives each minute's figures, in the
	 * window its minute starts in. */
	int64_t step = 10 * SEC, from = start, to = start + 3 * 3600 * SEC;
	size_t n = (size_t)((to - from) / step);
	double *avg = calloc(n, sizeof *avg), *count = calloc(n, sizeof *count);
	double *outs[QUERY_AGGS] = { [QUERY_AVG] = avg, [QUERY_COUNT] = count };
	assert_int_equal(query_range_multi(q, 5, from, to, step, outs, n, &e), 0);
	double total = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t w = from + (int64_t)i * step;
		total += count[i];
		if (w % MIN == 0) {
			assert_close(naive(&s, QUERY_AVG, w, MIN), avg[i], "minute avg", i);
			assert_true(count[i] == 6);
		} else {
			assert_true(isnan(avg[i]) && count[i] == 0);
		}
	}
	assert_true(total == 3 * 360);
	free(avg);
	free(count);
	query_close(q);
}

static void damage_rollup(void)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *cur;
	MDB_val k, v;
	char dir[300];
	snprintf(dir, sizeof dir, "%s/db", data);
	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 16);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "rollup_1h", 0, &dbi), 0);
	assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
	assert_int_equal(mdb_cursor_get(cur, &k, &v, MDB_FIRST), 0);
	uint8_t key[16], junk[40];
	memcpy(key, k.mv_data, sizeof key);
	memset(junk, 0xee, sizeof junk);
	mdb_cursor_close(cur);
	MDB_val nk = { sizeof key, key }, nv = { sizeof junk, junk };
	assert_int_equal(mdb_put(txn, dbi, &nk, &nv, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void test_damaged_rollup_is_an_error(void **state)
{
	(void)state;
	struct drainer *d = open_drainer(0);
	int64_t hour = (rtime_now_ns() / (3600 * SEC) - 10) * 3600 * SEC;
	static struct series_data s;
	s.n = 0;
	for (int64_t t = hour; t < hour + 10 * 3600 * SEC; t += 30 * SEC)
		s.ts[s.n] = t, s.v[s.n] = 1, s.n++;
	put(d, "h/a", s.ts, s.v, s.n);
	close_drainer(d);
	damage_rollup();
	struct query *q = open_query();
	double out[10];
	struct err e = { 0 };
	assert_int_equal(query_range(q, id_of("h/a"), hour, hour + 10 * 3600 * SEC, 3600 * SEC,
				     QUERY_AVG, out, 10, &e),
			 -EIO);
	assert_non_null(strstr(e.msg, "corrupt rollup record"));
	query_close(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)
		T(test_multi_aggregate_matches_naive_reference),
		T(test_aggregation_is_reentrant),
		T(test_short_step_past_raw_retention_reads_rollups),
		T(test_damaged_rollup_is_an_error),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
