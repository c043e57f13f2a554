/* test_eval.c - rule evaluation (alertd/eval.c) on a fake clock over a real
 * store filled through the drainer and read through store/query.h, as
 * rmon-alertd reads it: each pass holds one snapshot and is given the
 * series changed since the last (query_changed).  Tables of (time, value,
 * the moves expected) drive `for`, hysteresis, absence, prediction, the
 * anomaly model's warm-up, flapping, late data and restarts. */
#include "tests/reader_fixture.h"

#include "alertd/eval.h"
#include "alertd/rules.h"

/* A fixed past day, whole minutes, so windows fall the same every run. */
#define T0 (INT64_C(1795996800) * SEC)

struct run {
	struct alert_config *cfg;
	struct eval *ev;
	struct drainer *d;
	struct query *q;
	uint64_t seen;
	char log[8192]; /* "firing h1 95; resolved h1 79; " */
	size_t len;
	struct eval_event last;
	char last_detail[192];
	int events;
};

static const char *state_name(enum alert_state s)
{
	static const char *const names[] = { "inactive", "pending", "firing", "resolved" };
	return names[s];
}

static int on_event(void *ctx, const struct eval_event *ev)
{
	struct run *r = ctx;
	char value[32];
	snprintf(value, sizeof value, "%g", ev->value);
	r->len += (size_t)snprintf(r->log + r->len, sizeof r->log - r->len, "%s %s%s %s; ",
				   state_name(ev->to), ev->host, ev->labels, value);
	r->last = *ev;
	snprintf(r->last_detail, sizeof r->last_detail, "%s", ev->detail);
	r->events++;
	return 0;
}

static struct run *start(const char *config)
{
	struct run *r = calloc(1, sizeof *r);
	struct err e = { 0 };
	if (alert_config_read_text(config, "test.conf", &r->cfg, &e) != 0)
		fail_msg("config: %s", e.msg);
	if (eval_new(r->cfg, &r->ev, &e) != 0)
		fail_msg("eval_new: %s", e.msg);
	r->d = open_drainer(0);
	return r;
}

static int collect(void *ctx, uint64_t id)
{
	struct {
		uint64_t v[4096];
		size_t n;
	} *c = ctx;
	if (c->n < 4096)
		c->v[c->n++] = id;
	return 0;
}

/* One pass at now over what was committed, as rmon-alertd makes it; the
 * moves it made go to r->log (emptied first). */
static const char *pass(struct run *r, int64_t now)
{
	struct err e = { 0 };
	commit(r->d);
	if (!r->q)
		r->q = open_query();
	assert_int_equal(query_begin(r->q, &e), 0);
	uint64_t seq = query_sequence(r->q);
	static struct {
		uint64_t v[4096];
		size_t n;
	} changed;
	changed.n = 0;
	bool first = r->seen == 0;
	if (!first)
		assert_int_equal(query_changed(r->q, r->seen, collect, &changed, &e), 0);
	r->len = 0;
	r->log[0] = 0;
	int rc = eval_pass(r->ev, r->q, now, first ? NULL : changed.v, changed.n, on_event, r, &e);
	if (rc)
		fail_msg("eval_pass: %s", e.msg);
	query_end(r->q);
	r->seen = seq;
	return r->log;
}

static void stop(struct run *r)
{
	query_close(r->q);
	close_drainer(r->d);
	eval_free(r->ev);
	alert_config_free(r->cfg);
	free(r);
}

/* A table row: at T0 + s seconds, value v for series name (NaN: none),
 * then a pass; the moves it must make. */
struct row {
	int s;
	const char *name;
	double v;
	const char *moves;
};

static void play(struct run *r, const struct row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int64_t t = T0 + rows[i].s * SEC;
		if (rows[i].name && !isnan(rows[i].v))
			put1(r->d, rows[i].name, t, rows[i].v);
		const char *got = pass(r, t);
		if (strcmp(got, rows[i].moves) != 0)
			fail_msg("at %ds: expected '%s', got '%s'", rows[i].s, rows[i].moves, got);
	}
}

#define ROWS(r, ...)                                                                               \
	do {                                                                                       \
		const struct row rows_[] = { __VA_ARGS__ };                                        \
		play(r, rows_, sizeof rows_ / sizeof *rows_);                                      \
	} while (0)

static void test_for_and_hysteresis(void **state)
{
	(void)state;
	struct run *r = start("[alertd]\nflap_window = 0s\n"
			      "[rule hot]\nexpr = h1/x\nabove = 90\nclear = 80\nfor = 30s\n");
	ROWS(r, { 0, "h1/x", 50, "" }, { 10, "h1/x", 95, "pending h1 95; " },
	     { 20, "h1/x", 85, "" }, /* above the clear level: still pending */
	     { 40, "h1/x", 85, "firing h1 85; " }, { 50, "h1/x", 85, "" },
	     { 60, "h1/x", 79, "resolved h1 79; " }, { 70, "h1/x", 85, "" },
	     { 80, "h1/x", 91, "pending h1 91; " }, { 90, "h1/x", 70, "inactive h1 70; " });
	assert_string_equal(r->last.key, "hot/h1");
	assert_true(r->last.threshold == 90);
	stop(r);
}

static void test_for_fires_on_its_timer(void **state)
{
	(void)state;
	struct run *r = start("[rule hot]\nexpr = max(x[5m])\nabove = 90\nfor = 1m\n");
	ROWS(r, { 0, "h1/x", 95, "pending h1 95; " });
	/* No new sample: the timers alone move it, at the minute exactly
	 * (before it, the rule's periodic re-read changes nothing). */
	int64_t due;
	while ((due = eval_next_due(r->ev)) < T0 + 60 * SEC)
		assert_string_equal(pass(r, due), "");
	assert_true(due == T0 + 60 * SEC);
	assert_string_equal(pass(r, due), "firing h1 95; ");
	assert_true(r->last.since == T0);
	assert_string_equal(r->last_detail, "value 95, fires above 90");
	stop(r);
}

static void test_absence_per_host(void **state)
{
	(void)state;
	struct run *r = start("[alertd]\nflap_window = 0s\n"
			      "[rule down]\nexpr = rmon_collect_duration_seconds\nabsent = 2m\n");
	ROWS(r, { 0, "h1/rmon_collect_duration_seconds", 0.01, "" },
	     { 0, "h2/rmon_collect_duration_seconds", 0.01, "" },
	     { 60, "h1/rmon_collect_duration_seconds", 0.01, "" });
	assert_true(eval_next_due(r->ev) <= T0 + 120 * SEC);
	ROWS(r, { 120, "h1/rmon_collect_duration_seconds", 0.01, "firing h2 nan; " });
	assert_non_null(strstr(r->last_detail, "no sample for 2m (the last at "));
	ROWS(r, { 130, "h1/rmon_collect_duration_seconds", 0.01, "" },
	     { 140, "h2/rmon_collect_duration_seconds", 0.01, "resolved h2 nan; " });
	/* Both stop: each host fires when its own two minutes are over. */
	assert_string_equal(pass(r, T0 + 250 * SEC), "firing h1 nan; ");
	assert_string_equal(pass(r, T0 + 260 * SEC), "firing h2 nan; ");
	/* A new evaluator (alertd started again without its store) finds the
	 * hosts whose series stopped long ago. */
	eval_free(r->ev);
	struct err e = { 0 };
	assert_int_equal(eval_new(r->cfg, &r->ev, &e), 0);
	r->seen = 0;
	assert_string_equal(pass(r, T0 + 3600 * SEC), "firing h1 nan; firing h2 nan; ");
	stop(r);
}

static void test_expressions_join_and_average(void **state)
{
	(void)state;
	struct run *r =
	    start("[rule disk]\n"
		  "expr = 100 * (1 - node_filesystem_avail_bytes / node_filesystem_size_bytes)\n"
		  "above = 90\ngroup_by = mountpoint\n"
		  "[rule cpu]\n"
		  "expr = 100 * (1 - "
		  "avg(rate(node_cpu_seconds_total{cpu!=\"total\",mode=\"idle\"}[1m])))\n"
		  "above = 70\n");
	put1(r->d, "h1/node_filesystem_size_bytes{device=\"a\",mountpoint=\"/\"}", T0, 1000);
	put1(r->d, "h1/node_filesystem_avail_bytes{device=\"a\",mountpoint=\"/\"}", T0, 50);
	put1(r->d, "h1/node_filesystem_size_bytes{device=\"b\",mountpoint=\"/srv\"}", T0, 1000);
	put1(r->d, "h1/node_filesystem_avail_bytes{device=\"b\",mountpoint=\"/srv\"}", T0, 500);
	/* cpu0 idle 10 % of its time, cpu1 30 %: busy 80 % on average. */
	for (int i = 0; i <= 6; i++) {
		put1(r->d, "h1/node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"}", T0 + i * 10 * SEC,
		     i * 1.0);
		put1(r->d, "h1/node_cpu_seconds_total{cpu=\"1\",mode=\"idle\"}", T0 + i * 10 * SEC,
		     i * 3.0);
		put1(r->d, "h1/node_cpu_seconds_total{cpu=\"total\",mode=\"idle\"}",
		     T0 + i * 10 * SEC, i * 4.0);
	}
	assert_string_equal(pass(r, T0 + 60 * SEC),
			    "firing h1{mountpoint=\"/\"} 95; firing h1 80; ");
	assert_string_equal(r->last.key, "cpu/h1");
	stop(r);
}

static void test_prediction(void **state)
{
	(void)state;
	struct run *r = start("[rule soon]\nexpr = node_filesystem_avail_bytes[1h]\npredict = 4h\n"
			      "below = 0\nunit = bytes\n");
	/* h1 loses 10 bytes a second with 64 000 left at the end: empty in
	 * under two hours; h2 is flat. */
	for (int m = 0; m <= 60; m++) {
		put1(r->d, "h1/node_filesystem_avail_bytes{mountpoint=\"/\"}", T0 + m * 60 * SEC,
		     100000 - 600.0 * m);
		put1(r->d, "h2/node_filesystem_avail_bytes{mountpoint=\"/\"}", T0 + m * 60 * SEC,
		     100000);
	}
	const char *got = pass(r, T0 + 3600 * SEC);
	assert_non_null(strstr(got, "firing h1{mountpoint=\"/\"} "));
	assert_null(strstr(got, "h2"));
	/* 64 000 bytes at 10 a second: 1h46m40s, said in minutes. */
	assert_non_null(
	    strstr(r->last_detail, "reaches 0 in about 1h47m at the trend of the last 1h"));
	assert_true(r->last.value < -70000 && r->last.value > -90000);
	stop(r);
	/* Too short a history is no trend. */
	remove_dir(NULL);
	make_dir(NULL);
	struct run *r2 = start("[rule soon]\nexpr = x[1h]\npredict = 4h\nbelow = 0\n");
	for (int m = 0; m <= 5; m++)
		put1(r2->d, "h1/x", T0 + m * 60 * SEC, 1000 - 200.0 * m);
	assert_string_equal(pass(r2, T0 + 5 * 60 * SEC), "");
	stop(r2);
}

/* Deterministic noise in [-1, 1]. */
static double noise(unsigned i)
{
	uint32_t x = i * 2654435761u;
	x ^= x >> 15;
	x *= 2246822519u;
	x ^= x >> 13;
	return (double)(x % 20001) / 10000.0 - 1;
}

static void test_anomaly_warm_up(void **state)
{
	(void)state;
	const char *config = "[rule odd]\nexpr = x\nanomaly = 1h\ndeviations = 6\n";
	/* Twenty minutes of history: still learning, a spike says nothing. */
	struct run *r = start(config);
	for (int m = 0; m < 20; m++)
		put1(r->d, "h1/x", T0 + m * 60 * SEC, 27 + 5 * noise((unsigned)m));
	ROWS(r, { 20 * 60, "h1/x", 93, "" });
	stop(r);
	remove_dir(NULL);
	make_dir(NULL);
	/* Two hours: the same spike fires, and says why in words. */
	r = start(config);
	for (int m = 0; m < 120; m++)
		put1(r->d, "h1/x", T0 + m * 60 * SEC, 27 + 5 * noise((unsigned)m));
	ROWS(r, { 119 * 60 + 30, "h1/x", 27, "" }, { 120 * 60, "h1/x", 93, "firing h1 93; " });
	if (!strstr(r->last_detail, "value 93, usual range ") ||
	    !strstr(r->last_detail, " over the last 1 h"))
		fail_msg("detail: %s", r->last_detail);
	stop(r);
}

static void test_flapping_is_one_episode(void **state)
{
	(void)state;
	struct run *r = start("[alertd]\nflap_window = 5m\n[rule hot]\nexpr = x\nabove = 90\n");
	int firing = 0, resolved = 0;
	/* Crossing at every pass for an hour. */
	for (int s = 0; s < 3600; s += 10) {
		put1(r->d, "h1/x", T0 + s * SEC, (s / 10) % 2 ? 50 : 95);
		pass(r, T0 + s * SEC);
		firing += strstr(r->log, "firing") != NULL;
		resolved += strstr(r->log, "resolved") != NULL;
	}
	assert_int_equal(firing, 1);
	assert_int_equal(resolved, 0);
	/* Calm for the flap window: one resolution. */
	for (int s = 3600; s <= 3600 + 300; s += 10) {
		put1(r->d, "h1/x", T0 + s * SEC, 50);
		pass(r, T0 + s * SEC);
		resolved += strstr(r->log, "resolved") != NULL;
	}
	assert_int_equal(resolved, 1);
	stop(r);
}

static void test_late_data(void **state)
{
	(void)state;
	struct run *r = start("[rule hot]\nexpr = max(x[1m])\nabove = 90\n");
	ROWS(r, { 0, "h1/x", 50, "" }, { 60, "h1/x", 50, "" });
	/* A spool replayed: a sample from 30 s ago lands in the window. */
	put1(r->d, "h1/x", T0 + 40 * SEC, 95);
	assert_string_equal(pass(r, T0 + 70 * SEC), "");
	/* Older than the newest sample: the store keeps series growing at their
	 * end, so a late sample is one of another series, e.g. a host back. */
	put1(r->d, "h2/x", T0 + 30 * SEC, 95);
	assert_string_equal(pass(r, T0 + 75 * SEC), "firing h2 95; ");
	put1(r->d, "h2/x", T0 + 40 * SEC, 97);
	assert_string_equal(pass(r, T0 + 80 * SEC), "");
	assert_string_equal(pass(r, T0 + 85 * SEC), "");
	stop(r);
}

static void test_restore_keeps_state(void **state)
{
	(void)state;
	const char *config = "[alertd]\nflap_window = 0s\n[rule hot]\nexpr = x\nabove = 90\n";
	struct run *r = start(config);
	struct err e = { 0 };
	assert_int_equal(eval_restore(r->ev, "hot/h1", ALERT_FIRING, T0 - 600 * SEC, &e), 0);
	assert_int_equal(eval_restore(r->ev, "hot/h2", ALERT_FIRING, T0 - 600 * SEC, &e), 0);
	assert_int_equal(eval_restore(r->ev, "gone/h1", ALERT_FIRING, T0, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "gone/h1"));
	put1(r->d, "h1/x", T0, 95);
	put1(r->d, "h2/x", T0, 10);
	/* h1 still breaches: no second firing; h2 does not: it resolves. */
	assert_string_equal(pass(r, T0), "resolved h2 10; ");
	assert_true(r->last.since == T0 - 600 * SEC);
	struct eval_stats st;
	eval_get_stats(r->ev, &st);
	assert_true(st.instances == 1 && st.passes == 1 && st.rules_evaluated == 1);
	stop(r);
}

static int refuse(void *ctx, const struct eval_event *ev)
{
	(void)ev;
	return (*(int *)ctx)++ == 0 ? -EIO : 0;
}

/* A move the caller could not take (its store failed) is offered again at
 * the next pass, though nothing changed. */
static void test_refused_move_comes_again(void **state)
{
	(void)state;
	struct run *r = start("[rule hot]\nexpr = x\nabove = 90\n");
	put1(r->d, "h1/x", T0, 95);
	commit(r->d);
	r->q = open_query();
	struct err e = { 0 };
	int calls = 0;
	assert_int_equal(query_begin(r->q, &e), 0);
	assert_int_equal(eval_pass(r->ev, r->q, T0, NULL, 0, refuse, &calls, &e), -EIO);
	uint64_t none = 0;
	assert_int_equal(eval_pass(r->ev, r->q, T0 + SEC, &none, 0, refuse, &calls, &e), 0);
	assert_int_equal(calls, 2);
	assert_int_equal(eval_pass(r->ev, r->q, T0 + 2 * SEC, &none, 0, refuse, &calls, &e), 0);
	assert_int_equal(calls, 2);
	query_end(r->q);
	stop(r);
}

static void test_only_changed_rules_are_read(void **state)
{
	(void)state;
	struct run *r = start("[rule a]\nexpr = a\nabove = 1\n[rule b]\nexpr = b\nabove = 1\n");
	ROWS(r, { 0, "h1/a", 0, "" }, { 0, "h1/b", 0, "" });
	struct eval_stats st;
	put1(r->d, "h1/a", T0 + SEC, 5);
	assert_string_equal(pass(r, T0 + SEC), "firing h1 5; ");
	eval_get_stats(r->ev, &st);
	assert_int_equal(st.rules_evaluated, 1);
	assert_int_equal(st.series_read, 1);
	/* A series that appears later is learnt at its first change. */
	put1(r->d, "h9/b", T0 + 2 * SEC, 5);
	assert_string_equal(pass(r, T0 + 2 * SEC), "firing h9 5; ");
	stop(r);
}

/* An instance's labels are read by parsing the canonical name, so a value
 * that looks like another label does not become one. */
static void test_group_by_reads_labels_not_text(void **state)
{
	(void)state;
	struct run *r = start("[rule a]\nexpr = x\nabove = 1\ngroup_by = mountpoint\n");
	put1(r->d, "h1/x{a=\"b,mountpoint=\",mountpoint=\"/srv\"}", T0, 5);
	put1(r->d, "h2/x{a=\",mountpoint=\\\"/etc\\\"\"}", T0, 5);
	assert_string_equal(pass(r, T0), "firing h1{mountpoint=\"/srv\"} 5; firing h2 5; ");
	stop(r);
}

struct seen_value {
	const char *rule;
	double value;
};

static int find_value(void *ctx, const struct eval_instance *in)
{
	struct seen_value *s = ctx;
	if (strcmp(in->rule->name, s->rule) == 0)
		s->value = in->value;
	return 0;
}

/* The windows eval keeps in memory give what the store gives for the same
 * window: one sample a commit, several a commit (a spool replayed),
 * minute turns, counter resets. */
static void test_kept_windows_match_the_store(void **state)
{
	(void)state;
	struct run *r = start("[rule a]\nexpr = avg(h1/g[1m])\nabove = 1e9\n"
			      "[rule m]\nexpr = max(h1/g[5m])\nabove = 1e9\n"
			      "[rule r]\nexpr = rate(h1/c[1m])\nabove = 1e9\n"
			      "[rule i]\nexpr = increase(h1/c[2m])\nabove = 1e9\n"
			      "[rule d]\nexpr = deriv(h1/g[1m])\nabove = 1e9\n");
	static const struct {
		const char *rule, *series;
		enum query_agg agg;
		int64_t window;
	} checks[] = { { "a", "h1/g", QUERY_AVG, 60 * SEC },
		       { "m", "h1/g", QUERY_MAX, 300 * SEC },
		       { "r", "h1/c", QUERY_RATE, 60 * SEC },
		       { "i", "h1/c", QUERY_INCREASE, 120 * SEC } };
	double counter = 0;
	int64_t t = T0;
	for (int step = 0; step < 120; step++) {
		/* Mostly one sample of each a pass, every seventh pass three. */
		int samples = step % 7 == 3 ? 3 : 1;
		for (int k = 0; k < samples; k++) {
			t += 5 * SEC;
			counter = step % 50 == 49 ? 3 : counter + (step * 7 + k) % 11;
			put1(r->d, "h1/g", t, (step * 37 + k * 11) % 101);
			put1(r->d, "h1/c", t, counter);
		}
		pass(r, t);
		struct err e = { 0 };
		for (size_t c = 0; c < sizeof checks / sizeof *checks; c++) {
			struct seen_value got = { checks[c].rule, NAN };
			eval_instances(r->ev, find_value, &got);
			double want;
			assert_int_equal(
			    query_range(r->q, id_of(checks[c].series), t - checks[c].window, t + 1,
					checks[c].window + 1, checks[c].agg, &want, 1, &e),
			    0);
			if (checks[c].agg == QUERY_RATE) /* per second of the window */
				want = want * (double)(checks[c].window + 1) /
				       (double)checks[c].window;
			if (step > 12 && fabs(got.value - want) > 1e-9 * (1 + fabs(want)))
				fail_msg("step %d rule %s: eval %g, store %g", step, checks[c].rule,
					 got.value, want);
		}
	}
	/* deriv: a line of slope 2 a second is read as 2. */
	stop(r);
	remove_dir(NULL);
	make_dir(NULL);
	r = start("[rule d]\nexpr = deriv(x[1m])\nabove = 1e9\n");
	for (int s2 = 0; s2 < 120; s2 += 10) {
		put1(r->d, "h1/x", T0 + s2 * SEC, 2.0 * s2);
		pass(r, T0 + s2 * SEC);
	}
	struct seen_value got = { "d", NAN };
	eval_instances(r->ev, find_value, &got);
	assert_true(fabs(got.value - 2) < 1e-9);
	stop(r);
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_for_and_hysteresis, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_for_fires_on_its_timer, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_absence_per_host, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_expressions_join_and_average, make_dir,
						remove_dir),
		cmocka_unit_test_setup_teardown(test_prediction, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_anomaly_warm_up, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_flapping_is_one_episode, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_late_data, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_restore_keeps_state, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_only_changed_rules_are_read, make_dir,
						remove_dir),
		cmocka_unit_test_setup_teardown(test_kept_windows_match_the_store, make_dir,
						remove_dir),
		cmocka_unit_test_setup_teardown(test_group_by_reads_labels_not_text, make_dir,
						remove_dir),
		cmocka_unit_test_setup_teardown(test_refused_move_comes_again, make_dir,
						remove_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
