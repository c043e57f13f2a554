/* test_reader.c - the readers' API (store/query.h) against a real store
 * written through the drainer: snapshots held across calls, the wait for
 * the next commit woken from another process, the series changed since a
 * commit (late, replayed data included) and past the horizon, latest
 * values, listing in name order and label values, the version check, and
 * a reader in another process while the writer's map grows.  Aggregation
 * is in test_reader_range.c. */
#include "tests/reader_fixture.h"

/* ---- snapshots ---- */

static void test_snapshot_holds_one_commit_across_calls(void **state)
{
	(void)state;
	struct drainer *d = open_drainer(0);
	int64_t t0 = rtime_now_ns() / SEC * SEC - 100 * SEC;
	for (int i = 0; i < 50; i++)
		put1(d, "h/a", t0 + i * SEC, i);
	commit(d);
	struct query *q = open_query();
	struct err e = { 0 };
	assert_int_equal(query_begin(q, &e), 0);
	assert_int_equal(query_begin(q, &e), -EBUSY);
	uint64_t seq = query_sequence(q);
	assert_true(seq > 0);
	/* The writer goes on: more samples, a new series. */
	for (int i = 50; i < 80; i++)
		put1(d, "h/a", t0 + i * SEC, i);
	put1(d, "h/b", t0, 1);
	commit(d);
	/* Every call still reads the held commit. */
	assert_true(query_sequence(q) == seq);
	assert_int_equal(count_raw(q, "h/a"), 50);
	size_t series = 0;
	assert_int_equal(query_series(q, NULL, count_series, &series, &e), 0);
	assert_int_equal(series, 1);
	struct query_latest l;
	uint64_t a = id_of("h/a");
	assert_int_equal(query_latest(q, &a, 1, &l, &e), 0);
	assert_true(l.ts == t0 + 49 * SEC);
	struct query_stats st;
	assert_int_equal(query_get_stats(q, &st, &e), 0);
	assert_true(st.sequence == seq && st.series == 1 && st.samples == 50);
	query_end(q);
	/* A new snapshot sees the new commit; without one, each call its own. */
	assert_true(query_sequence(q) > seq);
	assert_int_equal(count_raw(q, "h/a"), 80);
	series = 0;
	assert_int_equal(query_series(q, NULL, count_series, &series, &e), 0);
	assert_int_equal(series, 2);
	query_close(q);
	close_drainer(d);
}

/* ---- waiting for the next commit ---- */

static void test_wait_times_out_without_commit(void **state)
{
	(void)state;
	struct drainer *d = open_drainer(0);
	put1(d, "h/a", rtime_now_ns(), 1);
	commit(d);
	struct query *q = open_query();
	struct err e = { 0 };
	uint64_t seq = query_sequence(q), got = 0;
	/* Newer already: at once. */
	assert_int_equal(query_wait(q, seq - 1, 1000, &got, &e), 0);
	assert_true(got == seq);
	/* A commit that brought nothing is no news. */
	commit(d);
	int64_t start = rtime_mono_ns();
	assert_int_equal(query_wait(q, seq, 50, &got, &e), -ETIMEDOUT);
	int64_t waited = rtime_mono_ns() - start;
	assert_true(waited >= 45 * RTIME_NS_PER_MS && waited < 2000 * RTIME_NS_PER_MS);
	assert_non_null(strstr(e.msg, "no commit after"));
	query_close(q);
	close_drainer(d);
}

static int compare_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* A reader in another process sleeps in query_wait; the writer commits;
 * the reader reports when it woke.  The bound is on the median of several
 * rounds (this machine is shared), each round well under a second. */
static void test_wait_wakes_reader_in_other_process(void **state)
{
	(void)state;
	struct drainer *d = open_drainer(0);
	int64_t t0 = rtime_now_ns();
	put1(d, "h/a", t0, 0);
	commit(d);
	enum { ROUNDS = 9 };
	int to_child[2], to_parent[2];
	assert_int_equal(pipe(to_child), 0);
	assert_int_equal(pipe(to_parent), 0);
	pid_t pid = fork();
	if (pid == 0) {
		struct query *q;
		if (query_open(data, &q, NULL) != 0)
			_exit(1);
		uint64_t seq = query_sequence(q);
		for (int r = 0; r < ROUNDS; r++) {
			char go;
			if (write(to_parent[1], &seq, sizeof seq) != sizeof seq ||
			    read(to_child[0], &go, 1) != 1)
				_exit(2);
			int64_t woke = 0;
			if (query_wait(q, seq, 5000, &seq, NULL) == 0)
				woke = rtime_mono_ns();
			if (write(to_parent[1], &woke, sizeof woke) != sizeof woke)
				_exit(3);
		}
		query_close(q);
		_exit(0);
	}
	int64_t latency[ROUNDS];
	for (int r = 0; r < ROUNDS; r++) {
		uint64_t child_seq;
		assert_int_equal(read(to_parent[0], &child_seq, sizeof child_seq),
				 sizeof child_seq);
		assert_int_equal(write(to_child[1], "g", 1), 1);
		usleep(20000); /* the child is asleep in the futex by now */
		put1(d, "h/a", t0 + (r + 1) * SEC, r + 1);
		int64_t before = rtime_mono_ns();
		commit(d);
		int64_t woke;
		assert_int_equal(read(to_parent[0], &woke, sizeof woke), sizeof woke);
		assert_true(woke != 0);	     /* woken, not timed out */
		assert_true(woke >= before); /* by this commit, not earlier */
		latency[r] = woke - before;
		assert_true(latency[r] < SEC);
	}
	int status;
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	qsort(latency, ROUNDS, sizeof *latency, compare_i64);
	print_message("wake-up after commit: median %.3f ms, max %.3f ms\n",
		      (double)latency[ROUNDS / 2] / 1e6, (double)latency[ROUNDS - 1] / 1e6);
	assert_true(latency[ROUNDS / 2] < 5 * RTIME_NS_PER_MS);
	close(to_child[0]);
	close(to_child[1]);
	close(to_parent[0]);
	close(to_parent[1]);
	close_drainer(d);
}

/* ---- changed series ---- */

struct ids {
	size_t n;
	uint64_t id[64];
};

static int collect_id(void *ctx, uint64_t id)
{
	struct ids *s = ctx;
	for (size_t i = 0; i < s->n; i++)
		if (s->id[i] == id)
			fail_msg("id %016llx named twice", (unsigned long long)id);
	if (s->n < 64)
		s->id[s->n++] = id;
	return 0;
}

static bool has_id(const struct ids *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->id[i] == id_of(name))
			return true;
	return false;
}

static struct ids changed_since(struct query *q, uint64_t seq)
{
	struct ids s = { 0 };
	struct err e = { 0 };
	if (query_changed(q, seq, collect_id, &s, &e) != 0)
		fail_msg("query_changed: %s", e.msg);
	return s;
}

static void test_changed_series_include_late_replayed_data(void **state)
{
	(void)state;
	struct drainer *d = open_drainer(0);
	int64_t now = rtime_now_ns() / SEC * SEC;
	/* host c was cut off two hours ago; a and b are current. */
	put1(d, "a/m", now, 1);
	put1(d, "b/m", now, 2);
	put1(d, "c/m", now - 7200 * SEC, 3);
	commit(d);
	struct query *q = open_query();
	uint64_t seq1 = query_sequence(q);
	struct ids all = changed_since(q, 0);
	assert_int_equal(all.n, 3);
	assert_int_equal(changed_since(q, seq1).n, 0);
	/* Its spool replays: an hour of samples into windows long past. */
	int64_t ts[360];
	double v[360];
	for (int i = 0; i < 360; i++)
		ts[i] = now - 7200 * SEC + (i + 1) * 10 * SEC, v[i] = i;
	put(d, "c/m", ts, v, 360);
	put1(d, "a/m", now + SEC, 5);
	commit(d);
	uint64_t seq2 = query_sequence(q);
	assert_true(seq2 == seq1 + 1);
	struct ids late = changed_since(q, seq1);
	assert_int_equal(late.n, 2);
	assert_true(has_id(&late, "c/m") && has_id(&late, "a/m") && !has_id(&late, "b/m"));
	/* What changed in c is what follows its newest sample at seq1. */
	double count[1];
	double *outs[QUERY_AGGS] = { [QUERY_COUNT] = count };
	struct err e = { 0 };
	assert_int_equal(query_range_multi(q, id_of("c/m"), now - 7200 * SEC + 1,
					   now - 3600 * SEC + 1, 3600 * SEC, outs, 1, &e),
			 0);
	assert_true(count[0] == 360);
	/* A new series counts too, and a union of several commits names each
	 * series once. */
	put1(d, "d/m", now, 4);
	commit(d);
	put1(d, "a/m", now + 2 * SEC, 6);
	commit(d);
	struct ids union_ = changed_since(q, seq1);
	assert_int_equal(union_.n, 3);
	assert_true(has_id(&union_, "d/m"));
	/* Inside a held snapshot the changes stop at its commit. */
	assert_int_equal(query_begin(q, &e), 0);
	uint64_t held = query_sequence(q);
	put1(d, "b/m", now + SEC, 7);
	commit(d);
	assert_int_equal(changed_since(q, held).n, 0);
	query_end(q);
	struct ids b = changed_since(q, held);
	assert_true(b.n == 1 && has_id(&b, "b/m"));
	query_close(q);
	close_drainer(d);
}

/* 100 series registered together have consecutive ordinals: a run of
 * them, every other one, and one alone take each of the three record
 * kinds (ranges, bitmap, list). */
/* A reader that starts before the first sample: nothing changed, no
 * error (a follower started beside a fresh rmon-stored does this). */
static void test_changes_of_a_store_with_no_series_are_none(void **state)
{
	(void)state;
	struct drainer *d = open_drainer(0);
	commit(d);
	struct query *q = open_query();
	struct ids s = changed_since(q, 0);
	assert_int_equal(s.n, 0);
	put1(d, "h/a", rtime_now_ns(), 1);
	commit(d);
	s = changed_since(q, 0);
	assert_int_equal(s.n, 1);
	query_close(q);
	close_drainer(d);
}

static void test_changes_in_runs_bitmaps_and_lists(void **state)
{
	(void)state;
	struct drainer *d = open_drainer(0);
	int64_t now = rtime_now_ns();
	char names[100][32];
	struct sample s[100];
	const char *np[100];
	for (int i = 0; i < 100; i++) {
		snprintf(names[i], sizeof names[i], "h/m{i=\"%02d\"}", i);
		s[i] = (struct sample){ id_of(names[i]), now, i };
		np[i] = names[i];
	}
	struct err e = { 0 };
	assert_int_equal(drainer_submit(d, s, 100, np, &e), 0);
	commit(d);
	struct query *q = open_query();
	const int stride[] = { 1, 2, 100 }; /* 10..59, every other, one */
	for (int k = 0; k < 3; k++) {
		uint64_t seq = query_sequence(q);
		int picked[100] = { 0 }, n = 0;
		for (int i = 10; i < 60; i += stride[k]) {
			put1(d, names[i], now + (k + 1) * SEC, i);
			picked[i] = 1, n++;
		}
		commit(d);
		struct ids got = changed_since(q, seq);
		assert_int_equal(got.n, n);
		for (int i = 0; i < 100; i++)
			assert_true(has_id(&got, names[i]) == (picked[i] == 1));
	}
	query_close(q);
	close_drainer(d);
}

static void test_changes_past_the_horizon_are_stale(void **state)
{
	(void)state;
	struct drainer *d = open_drainer(RTIME_NS_PER_MS); /* a 1 ms horizon */
	int64_t now = rtime_now_ns();
	for (int i = 0; i < 4; i++) {
		put1(d, "a/m", now + i * SEC, i);
		commit(d);
		usleep(5000);
	}
	struct query *q = open_query();
	uint64_t seq = query_sequence(q);
	struct ids s = { 0 };
	struct err e = { 0 };
	assert_int_equal(query_changed(q, 0, collect_id, &s, &e), -ESTALE);
	assert_non_null(strstr(e.msg, "read everything again"));
	assert_int_equal(query_changed(q, seq - 2, collect_id, &s, &e), -ESTALE);
	/* The newest record is always within reach. */
	assert_int_equal(query_changed(q, seq - 1, collect_id, &s, &e), 0);
	assert_true(s.n == 1 && has_id(&s, "a/m"));
	query_close(q);
	close_drainer(d);
}

/* ---- latest values ---- */

static void test_latest_values_and_minute_without_decoding(void **state)
{
	(void)state;
	struct drainer *d = open_drainer(0);
	int64_t minute = (rtime_now_ns() / MIN - 5) * MIN;
	char names[5][32];
	uint64_t ids[6];
	for (int s = 0; s < 5; s++) {
		snprintf(names[s], sizeof names[s], "h/m{s=\"%d\"}", s);
		ids[s] = id_of(names[s]);
		/* Samples in the minute before and, for all but s=4, in this one. */
		for (int i = 0; i < 6; i++)
			put1(d, names[s], minute - MIN + i * 10 * SEC, 100 + i);
		for (int i = 0; s < 4 && i <= s; i++)
			put1(d, names[s], minute + i * 7 * SEC, s * 10 + i);
	}
	ids[5] = 42; /* unknown */
	commit(d);
	struct query *q = open_query();
	struct query_latest l[6];
	struct err e = { 0 };
	assert_int_equal(query_latest(q, ids, 6, l, &e), 0);
	for (int s = 0; s < 4; s++) {
		assert_true(l[s].ts == minute + s * 7 * SEC);
		assert_true(l[s].value == s * 10 + s);
		assert_true(l[s].first_ts == minute - MIN);
		assert_true(l[s].minute_start == minute);
		assert_true(l[s].minute_count == s + 1);
		assert_true(l[s].minute_min == s * 10 && l[s].minute_max == s * 10 + s);
		assert_true(fabs(l[s].minute_avg - (s * 10 + s / 2.0)) < 1e-9);
		assert_true(l[s].minute_last == s * 10 + s);
	}
	/* Series 4's newest minute is the one before. */
	assert_true(l[4].ts == minute - MIN + 50 * SEC && l[4].minute_start == minute - MIN);
	assert_true(l[4].minute_count == 6 && l[4].minute_avg == 102.5);
	assert_true(l[5].ts == INT64_MIN && isnan(l[5].value));
	query_close(q);
	/* Across a restart of the writer the minute goes on where it was. */
	close_drainer(d);
	d = open_drainer(0);
	put1(d, names[0], minute + 30 * SEC, -5);
	commit(d);
	q = open_query();
	assert_int_equal(query_latest(q, ids, 1, l, &e), 0);
	assert_true(l[0].ts == minute + 30 * SEC && l[0].value == -5);
	assert_true(l[0].minute_count == 2 && l[0].minute_min == -5 && l[0].minute_max == 0);
	assert_true(l[0].minute_increase == -5); /* two falls: resets, counting 0 and -5 */
	query_close(q);
	close_drainer(d);
}

/* ---- listing ---- */

struct names {
	size_t n;
	char name[16][SERIES_NAME_MAX + 1];
};

static int collect_name(void *ctx, uint64_t id, const char *name, size_t len)
{
	struct names *s = ctx;
	(void)id;
	if (s->n < 16)
		snprintf(s->name[s->n++], sizeof s->name[0], "%.*s", (int)len, name);
	return 0;
}

struct values {
	size_t n;
	char text[16][64];
	size_t series[16];
};

static int collect_value(void *ctx, const char *value, size_t len, size_t series)
{
	struct values *s = ctx;
	if (s->n < 16) {
		snprintf(s->text[s->n], 64, "%.*s", (int)len, value);
		s->series[s->n++] = series;
	}
	return 0;
}

static struct values label_values(struct query *q, const char *selector, const char *label)
{
	struct values v = { 0 };
	struct query_selector *sel = NULL;
	struct err e = { 0 };
	if (selector && query_selector_parse(selector, &sel, &e) != 0)
		fail_msg("selector: %s", e.msg);
	if (query_label_values(q, sel, label, collect_value, &v, &e) != 0)
		fail_msg("label values: %s", e.msg);
	query_selector_free(sel);
	return v;
}

static void test_listing_in_name_order_and_label_values(void **state)
{
	(void)state;
	struct drainer *d = open_drainer(0);
	const char *names[] = {
		"web2/node_filesystem_size_bytes{mountpoint=\"/\"}",
		"db1/node_load1",
		"web1/node_filesystem_size_bytes{mountpoint=\"/var\"}",
		"web1/node_filesystem_size_bytes{mountpoint=\"/\"}",
		"web1/node_load1",
		"web10/node_filesystem_size_bytes{mountpoint=\"/srv\"}",
	};
	for (size_t i = 0; i < 6; i++)
		put1(d, names[i], rtime_now_ns(), (double)i);
	commit(d);
	struct query *q = open_query();
	struct names got = { 0 };
	struct err e = { 0 };
	assert_int_equal(query_series(q, NULL, collect_name, &got, &e), 0);
	assert_int_equal(got.n, 6);
	for (size_t i = 1; i < got.n; i++)
		assert_true(strcmp(got.name[i - 1], got.name[i]) < 0);
	/* One host named: only its series (web10 is another host). */
	struct query_selector *sel;
	assert_int_equal(query_selector_parse("web1/node_filesystem_*", &sel, &e), 0);
	got.n = 0;
	assert_int_equal(query_series(q, sel, collect_name, &got, &e), 0);
	query_selector_free(sel);
	assert_int_equal(got.n, 2);
	assert_string_equal(got.name[0], "web1/node_filesystem_size_bytes{mountpoint=\"/\"}");
	struct values hosts = label_values(q, NULL, "__host__");
	assert_int_equal(hosts.n, 4);
	assert_string_equal(hosts.text[0], "db1");
	assert_string_equal(hosts.text[1], "web1");
	assert_int_equal(hosts.series[1], 3);
	assert_string_equal(hosts.text[3], "web2");
	struct values mounts = label_values(q, "web1/node_filesystem_size_bytes", "mountpoint");
	assert_int_equal(mounts.n, 2);
	assert_string_equal(mounts.text[0], "/");
	assert_string_equal(mounts.text[1], "/var");
	struct values all_mounts = label_values(q, NULL, "mountpoint");
	assert_int_equal(all_mounts.n, 3);
	assert_true(all_mounts.series[0] == 2); /* "/" on web1 and web2 */
	struct values metrics = label_values(q, "web1/*", "__name__");
	assert_int_equal(metrics.n, 2);
	assert_int_equal(query_label_values(q, NULL, "", collect_value, &metrics, &e), -EINVAL);
	char name[SERIES_NAME_MAX + 1];
	assert_int_equal(query_series_name(q, id_of(names[1]), name, sizeof name, &e),
			 (int)strlen(names[1]));
	assert_string_equal(name, names[1]);
	assert_int_equal(query_series_name(q, 42, name, sizeof name, &e), -ENOENT);
	assert_int_equal(query_series_name(q, id_of(names[1]), name, 4, &e), -ENAMETOOLONG);
	query_close(q);
	close_drainer(d);
}

/* Names up to SERIES_NAME_MAX are valid, LMDB keys only 511 bytes: long
 * names must commit, list whole and in order, and be found by host. */
static void test_long_names_commit_and_list_whole(void **state)
{
	(void)state;
	struct drainer *d = open_drainer(0);
	char a[SERIES_NAME_MAX + 1], b[SERIES_NAME_MAX + 1];
	int len = snprintf(a, sizeof a, "web1/node_long{path=\"");
	memset(a + len, 'x', 900);
	snprintf(a + len + 900, sizeof a - (size_t)len - 900, "a\"}");
	memcpy(b, a, sizeof b);
	b[strlen(b) - 3] = 'b'; /* the same first 900 bytes and more */
	put1(d, a, rtime_now_ns(), 1);
	put1(d, b, rtime_now_ns(), 2);
	put1(d, "web1/node_load1", rtime_now_ns(), 3);
	commit(d);
	struct query *q = open_query();
	struct names got = { 0 };
	struct err e = { 0 };
	struct query_selector *sel;
	assert_int_equal(query_selector_parse("web1/*", &sel, &e), 0);
	assert_int_equal(query_series(q, sel, collect_name, &got, &e), 0);
	query_selector_free(sel);
	assert_int_equal(got.n, 3);
	assert_string_equal(got.name[0], "web1/node_load1"); /* "load" < "long" */
	assert_true(strcmp(got.name[1], a) == 0 || strcmp(got.name[1], b) == 0);
	assert_true(strcmp(got.name[2], a) == 0 || strcmp(got.name[2], b) == 0);
	assert_string_not_equal(got.name[1], got.name[2]);
	query_close(q);
	close_drainer(d);
}

/* ---- the error contract ---- */

/* Sets meta key of the store to value, behind the writer's back. */
static void poke_meta(const char *key, uint64_t value)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	char dir[300];
	snprintf(dir, sizeof dir, "%s/db", data);
	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 16);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	MDB_val k = { strlen(key), (void *)key }, v = { sizeof value, &value };
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void test_open_checks_layout_version(void **state)
{
	(void)state;
	struct drainer *d = open_drainer(0);
	put1(d, "h/a", rtime_now_ns(), 1);
	close_drainer(d);
	poke_meta("version", 99);
	struct query *q = NULL;
	struct err e = { 0 };
	assert_int_equal(query_open(data, &q, &e), -EPROTO);
	assert_null(q);
	assert_non_null(strstr(e.msg, "layout version 99"));
	assert_non_null(strstr(e.msg, "reads version 3"));
	/* No store at all: -ENOENT saying what to do. */
	char empty[300];
	snprintf(empty, sizeof empty, "%s/nothing", data);
	assert_int_equal(query_open(empty, &q, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "start rmon-stored"));
	/* Not an LMDB file: a negative errno code, not LMDB's own. */
	char path[400];
	snprintf(path, sizeof path, "%s/db", empty);
	mkdir(empty, 0700);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/db/data.mdb", empty);
	FILE *f = fopen(path, "w");
	for (int i = 0; i < 8192; i++)
		fputc('x', f);
	fclose(f);
	int rc = query_open(empty, &q, &e);
	assert_true(rc < 0 && rc > -4096);
	assert_non_null(strstr(e.msg, "store "));
}

/* Replaces the first rollup record's value with garbage. */
/* Turns the store back into layout version 1: without the databases
 * and meta keys version 2 added. */
static void downgrade_to_version_1(void)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	char dir[300];
	snprintf(dir, sizeof dir, "%s/db", data);
	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 16);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	const char *added[] = { "by_name", "latest", "ordinals", "changes" };
	for (int i = 0; i < 4; i++) {
		assert_int_equal(mdb_dbi_open(txn, added[i], 0, &dbi), 0);
		assert_int_equal(mdb_drop(txn, dbi, 1), 0);
	}
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	const char *keys[] = { "seq", "changes_floor" };
	for (int i = 0; i < 2; i++) {
		MDB_val k = { strlen(keys[i]), (void *)keys[i] };
		assert_int_equal(mdb_del(txn, dbi, &k, NULL), 0);
	}
	uint64_t one = 1;
	MDB_val k = { 7, "version" }, v = { sizeof one, &one };
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void test_version_1_store_is_upgraded(void **state)
{
	(void)state;
	struct drainer *d = open_drainer(0);
	int64_t now = rtime_now_ns() / SEC * SEC;
	put1(d, "b/m", now - 10 * SEC, 1);
	put1(d, "a/m", now - 20 * SEC, 2);
	put1(d, "a/m", now - 5 * SEC, 3);
	close_drainer(d);
	downgrade_to_version_1();
	struct query *q = NULL;
	struct err e = { 0 };
	assert_int_equal(query_open(data, &q, &e), -EPROTO);
	assert_non_null(strstr(e.msg, "layout version 1"));
	assert_non_null(strstr(e.msg, "upgrade"));
	/* The writer upgrades it as it opens it. */
	d = open_drainer(0);
	q = open_query();
	struct names got = { 0 };
	assert_int_equal(query_series(q, NULL, collect_name, &got, &e), 0);
	assert_int_equal(got.n, 2);
	assert_string_equal(got.name[0], "a/m");
	uint64_t ids[2] = { id_of("a/m"), id_of("b/m") };
	struct query_latest l[2];
	assert_int_equal(query_latest(q, ids, 2, l, &e), 0);
	assert_true(l[0].ts == now - 5 * SEC && l[0].value == 3 && l[0].first_ts == now - 20 * SEC);
	assert_true(l[1].ts == now - 10 * SEC && l[1].value == 1);
	/* What changed before the upgrade is not known: read everything. */
	uint64_t seq = query_sequence(q);
	struct ids s = { 0 };
	assert_int_equal(query_changed(q, 0, collect_id, &s, &e), -ESTALE);
	put1(d, "b/m", now, 4);
	commit(d);
	s = changed_since(q, seq);
	assert_true(s.n == 1 && has_id(&s, "b/m"));
	query_close(q);
	close_drainer(d);
}

/* A version 2 store (before open chunks' tails) is refused by readers
 * until the writer opens it, and then read as before. */
static void test_version_2_store_is_upgraded(void **state)
{
	(void)state;
	struct drainer *d = open_drainer(0);
	int64_t now = rtime_now_ns() / SEC * SEC;
	put1(d, "a/m", now - 20 * SEC, 2);
	put1(d, "a/m", now - 5 * SEC, 3);
	close_drainer(d);
	poke_meta("version", 2);
	struct query *q = NULL;
	struct err e = { 0 };
	assert_int_equal(query_open(data, &q, &e), -EPROTO);
	assert_non_null(strstr(e.msg, "layout version 2"));
	assert_non_null(strstr(e.msg, "upgrade"));
	d = open_drainer(0);
	put1(d, "a/m", now, 4);
	commit(d);
	q = open_query();
	uint64_t id = id_of("a/m");
	struct query_latest l;
	assert_int_equal(query_latest(q, &id, 1, &l, &e), 0);
	assert_true(l.ts == now && l.value == 4 && l.first_ts == now - 20 * SEC);
	query_close(q);
	close_drainer(d);
}

/* ---- a reader while the writer's map grows ---- */

/* The reader, in its own process as in production: it holds a snapshot
 * while the writer's map doubles again and again, reads it on, and a
 * second handle reads the new commits meanwhile.  Exit status 0 when
 * everything read back as it should. */
static void grow_reader(int from_parent, int to_parent, int rounds)
{
	struct query *q, *fresh;
	struct err e = { 0 };
	size_t n = 0;
	char go;
	if (query_open(data, &q, &e) != 0 || query_open(data, &fresh, &e) != 0 ||
	    query_begin(q, &e) != 0)
		_exit(10);
	if (write(to_parent, "r", 1) != 1)
		_exit(11);
	for (int r = 0; r < rounds; r++) {
		struct query_stats st;
		if (read(from_parent, &go, 1) != 1)
			_exit(12);
		n = 0;
		if (query_raw(q, 1, INT64_MIN, INT64_MAX, count_sample, &n, NULL, &e) != 0 ||
		    n != 100)
			_exit(13);
		if (query_get_stats(q, &st, &e) != 0 || st.series != 1)
			_exit(14);
		if (query_get_stats(fresh, &st, &e) != 0 ||
		    st.series != 1 + (uint64_t)(r + 1) * 500)
			_exit(15);
		if (write(to_parent, "r", 1) != 1)
			_exit(16);
	}
	query_end(q);
	uint64_t last = 1 + (uint64_t)rounds * 500;
	struct query_latest l;
	if (query_latest(q, &last, 1, &l, &e) != 0 || l.ts == INT64_MIN)
		_exit(17);
	query_close(q);
	query_close(fresh);
	_exit(0);
}

static void test_reader_keeps_working_while_map_grows(void **state)
{
	(void)state;
	struct db_config c;
	db_config_default(&c);
	c.initial_map_bytes = 256 << 10;
	struct db *db;
	struct err e = { 0 };
	char dir[300];
	snprintf(dir, sizeof dir, "%s/db", data);
	assert_int_equal(db_open(dir, &c, false, &db, &e), 0);
	int64_t t0 = rtime_now_ns() - 86400 * SEC;
	db_register_series(db, 1, "h/first", 7, &e);
	for (int i = 0; i < 100; i++) {
		struct sample s = { 1, t0 + i * SEC, i };
		db_append(db, &s, 1, &e);
	}
	assert_int_equal(db_commit(db, 1, &e), 0);
	enum { ROUNDS = 12 };
	int down[2], up[2];
	assert_int_equal(pipe(down), 0);
	assert_int_equal(pipe(up), 0);
	pid_t pid = fork();
	if (pid == 0)
		grow_reader(down[0], up[1], ROUNDS);
	char ready;
	assert_int_equal(read(up[0], &ready, 1), 1);
	char name[64];
	uint64_t id = 2;
	for (int r = 0; r < ROUNDS; r++) {
		/* 500 more series of 40 samples a round: the map doubles often. */
		for (int k = 0; k < 500; k++, id++) {
			int len = snprintf(name, sizeof name, "h/m%llu", (unsigned long long)id);
			assert_int_equal(db_register_series(db, id, name, (size_t)len, &e), 0);
			for (int i = 0; i < 40; i++) {
				struct sample s = { id, t0 + i * SEC, (double)(id * i) };
				assert_int_equal(db_append(db, &s, 1, &e), 0);
			}
		}
		assert_int_equal(db_commit(db, id, &e), 0);
		assert_int_equal(write(down[1], "g", 1), 1);
		assert_int_equal(read(up[0], &ready, 1), 1);
	}
	int status;
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	struct db_stats st;
	assert_int_equal(db_get_stats(db, &st, &e), 0);
	assert_true(st.file_bytes > 4 * (256 << 10)); /* it did grow */
	close(down[0]);
	close(down[1]);
	close(up[0]);
	close(up[1]);
	db_close(db);
}

/* The commit is written on a thread of its own while appending goes on:
 * samples appended meanwhile (to series it is writing, to new series, and
 * enough to close chunks) all reach LMDB by the next commit, each once. */
static void test_appends_during_a_background_commit_reach_the_next(void **state)
{
	(void)state;
	enum { SERIES = 20000 };
	struct db_config c;
	db_config_default(&c);
	struct db *db;
	struct err e = { 0 };
	char dir[300], name[64];
	snprintf(dir, sizeof dir, "%s/db", data);
	assert_int_equal(db_open(dir, &c, false, &db, &e), 0);
	int64_t t0 = rtime_now_ns() - 86400 * SEC;
	for (uint64_t id = 1; id <= SERIES; id++) {
		int len = snprintf(name, sizeof name, "h/s%llu", (unsigned long long)id);
		assert_int_equal(db_register_series(db, id, name, (size_t)len, &e), 0);
		struct sample s = { id, t0, (double)id };
		assert_int_equal(db_append(db, &s, 1, &e), 0);
	}
	assert_int_equal(db_commit_start(db, 1, false, &e), 0);
	assert_int_equal(db_commit_start(db, 1, false, &e), -EBUSY);
	/* While it runs: a new sample for every series, a new series a round,
	 * and series 1 many samples of random values (its chunks close). */
	size_t rounds = 0, hot = 1;
	uint64_t next_id = SERIES + 1;
	do {
		rounds++;
		for (uint64_t id = 2; id <= SERIES; id++) {
			struct sample s = { id, t0 + (int64_t)rounds * SEC, (double)(id + rounds) };
			assert_int_equal(db_append(db, &s, 1, &e), 0);
		}
		int len = snprintf(name, sizeof name, "h/new%llu", (unsigned long long)next_id);
		assert_int_equal(db_register_series(db, next_id, name, (size_t)len, &e), 0);
		struct sample s = { next_id++, t0, 1 };
		assert_int_equal(db_append(db, &s, 1, &e), 0);
		for (int k = 0; k < 200; k++, hot++) {
			struct sample h = { 1, t0 + (int64_t)hot * SEC + (int64_t)rounds,
					    drand48() };
			assert_int_equal(db_append(db, &h, 1, &e), 0);
		}
	} while (db_commit_running(db) && rounds < 50);
	db_commit_wait(db);
	assert_int_equal(db_commit_result(db, &e), 0);
	assert_int_equal(db_commit_result(db, &e), 1); /* told once */
	assert_int_equal(db_commit(db, 2, &e), 0);

	struct query *q = open_query();
	for (uint64_t id = 2; id <= SERIES; id += 997) {
		struct query_latest l;
		assert_int_equal(query_latest(q, &id, 1, &l, &e), 0);
		assert_true(l.ts == t0 + (int64_t)rounds * SEC);
		assert_true(l.value == (double)(id + rounds));
	}
	for (uint64_t id = SERIES + 1; id < next_id; id++) {
		struct query_latest l;
		assert_int_equal(query_latest(q, &id, 1, &l, &e), 0);
		assert_true(l.ts == t0);
	}
	size_t n = 0;
	uint64_t hot_id = 1;
	assert_int_equal(query_raw(q, hot_id, t0, INT64_MAX, count_sample, &n, NULL, &e), 0);
	assert_true(n == hot); /* the first sample and every hot one, once */
	struct query_stats st;
	assert_int_equal(query_get_stats(q, &st, &e), 0);
	assert_true(st.samples ==
		    SERIES + (SERIES - 1) * rounds + (next_id - SERIES - 1) + hot - 1);
	query_close(q);
	db_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)
		T(test_snapshot_holds_one_commit_across_calls),
		T(test_wait_times_out_without_commit),
		T(test_wait_wakes_reader_in_other_process),
		T(test_changed_series_include_late_replayed_data),
		T(test_changes_of_a_store_with_no_series_are_none),
		T(test_changes_in_runs_bitmaps_and_lists),
		T(test_changes_past_the_horizon_are_stale),
		T(test_latest_values_and_minute_without_decoding),
		T(test_listing_in_name_order_and_label_values),
		T(test_long_names_commit_and_list_whole),
		T(test_open_checks_layout_version),
		T(test_version_1_store_is_upgraded),
		T(test_version_2_store_is_upgraded),
		T(test_reader_keeps_working_while_map_grows),
		T(test_appends_during_a_background_commit_reach_the_next),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
