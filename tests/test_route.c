/* test_route.c - routing (alertd/route.c) on a fake clock: the group
 * window, repeats, escalation, inhibition, silences, mute windows, the
 * rate limit's digest, acknowledgements, and what a restart was told. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "alertd/route.h"
#include "lib/rtime.h"

#define MS  RTIME_NS_PER_MS
#define SEC RTIME_NS_PER_SEC
#define MIN (60 * SEC)
/* Monday 2026-11-30 12:00:00 UTC (the tests run in UTC) */
#define T0 (INT64_C(1796040000) * SEC)

static const char config_text[] = "[alertd]\n"
				  "group_window = 500ms\n"
				  "repeat = 1h\n"
				  "[receiver mail]\n"
				  "type = maildir\n"
				  "path = m1\n"
				  "[receiver pager]\n"
				  "type = maildir\n"
				  "path = m2\n"
				  "[receiver limited]\n"
				  "type = maildir\n"
				  "path = m3\n"
				  "rate_limit = 2/1h\n"
				  "[route limited]\n"
				  "match = lim*/*\n"
				  "receivers = limited\n"
				  "[route critical]\n"
				  "severity = critical\n"
				  "receivers = mail\n"
				  "escalate = 10m pager\n"
				  "[route rest]\n"
				  "receivers = mail\n"
				  "[rule cpu]\n"
				  "expr = node_load1\n"
				  "above = 4\n"
				  "depends_on = host_down\n"
				  "[rule quiet]\n"
				  "expr = node_load5\n"
				  "above = 4\n"
				  "repeat = never\n"
				  "[rule host_down]\n"
				  "expr = rmon_collect_duration_seconds\n"
				  "absent = 2m\n"
				  "severity = critical\n"
				  "[rule disk]\n"
				  "expr = node_load15\n"
				  "above = 4\n"
				  "[inhibit disk_by_down]\n"
				  "source = host_down\n"
				  "target = disk\n"
				  "[mute night]\n"
				  "days = *\n"
				  "time = 02:00-04:00\n"
				  "match = night*/*\n";

static struct alert_config *cfg;

struct sent {
	enum notice_kind kind;
	char receiver[32];
	uint64_t ids[16];
	size_t n, held;
};

static struct sent sent[64];
static size_t n_sent;

static int record(void *ctx, const struct route_notice *n)
{
	assert_true(n_sent < 64);
	struct sent *s = &sent[n_sent++];
	s->kind = n->kind;
	snprintf(s->receiver, sizeof s->receiver, "%s", n->receiver->name);
	s->n = n->n_alerts;
	s->held = n->n_held;
	for (size_t i = 0; i < n->n_alerts && i < 16; i++)
		s->ids[i] = n->alerts[i]->id;
	return 0;
}

static int setup(void **state)
{
	setenv("TZ", "UTC", 1);
	tzset();
	struct err e = { 0 };
	if (alert_config_read_text(config_text, "t.conf", &cfg, &e) != 0)
		fail_msg("config: %s", e.msg);
	return 0;
}

static int teardown(void **state)
{
	alert_config_free(cfg);
	return 0;
}

static struct router *new_router(void)
{
	struct router *r;
	struct err e = { 0 };
	if (router_new(cfg, &r, &e) != 0)
		fail_msg("router_new: %s", e.msg);
	n_sent = 0;
	return r;
}

static struct alert make(uint64_t id, const char *rule, const char *host, const char *severity,
			 enum alert_state state, int64_t at)
{
	struct alert a = { .id = id, .state = state, .value = 5, .threshold = 4 };
	snprintf(a.rule, sizeof a.rule, "%s", rule);
	snprintf(a.host, sizeof a.host, "%s", host);
	snprintf(a.severity, sizeof a.severity, "%s", severity);
	snprintf(a.series, sizeof a.series, "%s/node_load1", host);
	a.started = at;
	a.fired = state == ALERT_FIRING ? at : 0;
	return a;
}

static void update(struct router *r, struct alert *a, int64_t now)
{
	struct err e = { 0 };
	if (router_update(r, a, now, &e) != 0)
		fail_msg("router_update: %s", e.msg);
}

static void tick(struct router *r, int64_t now)
{
	struct err e = { 0 };
	if (router_tick(r, now, record, NULL, &e) != 0)
		fail_msg("router_tick: %s", e.msg);
}

/* Runs the router's timers from `from` up to `to` as the daemon would. */
static void run_until(struct router *r, int64_t to)
{
	for (int64_t due; (due = router_next_due(r)) <= to;)
		tick(r, due);
}

static void test_group_window(void **state)
{
	struct router *r = new_router();
	struct alert a = make(1, "cpu", "web1", "warning", ALERT_FIRING, T0);
	struct alert b = make(2, "cpu", "web2", "warning", ALERT_FIRING, T0 + 200 * MS);
	update(r, &a, T0);
	tick(r, T0);
	assert_int_equal(n_sent, 0);
	assert_int_equal(router_next_due(r), T0 + 500 * MS);
	update(r, &b, T0 + 200 * MS);
	tick(r, T0 + 200 * MS);
	assert_int_equal(n_sent, 0);
	assert_int_equal(router_queued(r), 2);
	tick(r, T0 + 500 * MS);
	assert_int_equal(n_sent, 1);
	assert_int_equal(sent[0].kind, NOTICE_FIRING);
	assert_string_equal(sent[0].receiver, "mail");
	assert_int_equal(sent[0].n, 2);
	/* An alert after the window opens a new group. */
	struct alert c = make(3, "cpu", "web3", "warning", ALERT_FIRING, T0 + 600 * MS);
	update(r, &c, T0 + 600 * MS);
	tick(r, T0 + 600 * MS);
	run_until(r, T0 + 2 * SEC);
	assert_int_equal(n_sent, 2);
	assert_int_equal(sent[1].n, 1);
	assert_int_equal(sent[1].ids[0], 3);
	/* Resolved together: one resolved message. */
	a.state = b.state = ALERT_RESOLVED;
	update(r, &a, T0 + 10 * SEC);
	update(r, &b, T0 + 10 * SEC);
	tick(r, T0 + 10 * SEC);
	run_until(r, T0 + 11 * SEC);
	assert_int_equal(n_sent, 3);
	assert_int_equal(sent[2].kind, NOTICE_RESOLVED);
	assert_int_equal(sent[2].n, 2);
	assert_int_equal(router_tracked(r), 1); /* a and b forgotten */
	router_free(r);
}

/* Firing then resolved inside one group window: nothing at all. */
static void test_blip(void **state)
{
	struct router *r = new_router();
	struct alert a = make(1, "cpu", "web1", "warning", ALERT_FIRING, T0);
	update(r, &a, T0);
	tick(r, T0);
	a.state = ALERT_RESOLVED;
	update(r, &a, T0 + 300 * MS);
	tick(r, T0 + 300 * MS);
	run_until(r, T0 + 10 * MIN);
	assert_int_equal(n_sent, 0);
	assert_int_equal(router_tracked(r), 0);
	router_free(r);
}

static void test_repeat_and_ack(void **state)
{
	struct router *r = new_router();
	struct alert a = make(1, "cpu", "web1", "warning", ALERT_FIRING, T0);
	update(r, &a, T0);
	tick(r, T0);
	run_until(r, T0 + SEC);
	assert_int_equal(n_sent, 1);
	/* [alertd] repeat = 1h */
	run_until(r, T0 + 61 * MIN);
	assert_int_equal(n_sent, 2);
	assert_int_equal(sent[1].kind, NOTICE_REPEAT);
	/* Acknowledged: no more repeats. */
	a.acked_at = T0 + 62 * MIN;
	update(r, &a, T0 + 62 * MIN);
	tick(r, T0 + 62 * MIN);
	run_until(r, T0 + 10 * 60 * MIN);
	assert_int_equal(n_sent, 2);
	/* ...but the resolution is told. */
	a.state = ALERT_RESOLVED;
	update(r, &a, T0 + 11 * 60 * MIN);
	tick(r, T0 + 11 * 60 * MIN);
	run_until(r, T0 + 12 * 60 * MIN);
	assert_int_equal(n_sent, 3);
	assert_int_equal(sent[2].kind, NOTICE_RESOLVED);

	/* A rule with repeat = never never repeats. */
	struct alert q = make(2, "quiet", "web1", "warning", ALERT_FIRING, T0);
	update(r, &q, T0);
	tick(r, T0);
	run_until(r, T0 + 24 * 60 * MIN);
	assert_int_equal(n_sent, 4);
	router_free(r);
}

static void test_escalation(void **state)
{
	struct router *r = new_router();
	struct alert a = make(1, "host_down", "web1", "critical", ALERT_FIRING, T0);
	update(r, &a, T0);
	tick(r, T0);
	run_until(r, T0 + 9 * MIN);
	assert_int_equal(n_sent, 1);
	assert_string_equal(sent[0].receiver, "mail");
	run_until(r, T0 + 11 * MIN);
	assert_int_equal(n_sent, 2);
	assert_int_equal(sent[1].kind, NOTICE_ESCALATION);
	assert_string_equal(sent[1].receiver, "pager");
	a.state = ALERT_RESOLVED;
	update(r, &a, T0 + 20 * MIN);
	tick(r, T0 + 20 * MIN);
	run_until(r, T0 + 21 * MIN);
	assert_int_equal(n_sent, 4); /* both told it resolved */
	assert_int_equal(sent[2].kind, NOTICE_RESOLVED);
	assert_int_equal(sent[3].kind, NOTICE_RESOLVED);

	/* Acknowledged before the step: the pager never hears of it. */
	n_sent = 0;
	struct alert b = make(2, "host_down", "web2", "critical", ALERT_FIRING, T0 + 30 * MIN);
	update(r, &b, T0 + 30 * MIN);
	tick(r, T0 + 30 * MIN);
	b.acked_at = T0 + 35 * MIN;
	update(r, &b, T0 + 35 * MIN);
	run_until(r, T0 + 90 * MIN);
	assert_int_equal(n_sent, 1);
	assert_string_equal(sent[0].receiver, "mail");
	router_free(r);
}

static void test_inhibition(void **state)
{
	struct router *r = new_router();
	struct alert down = make(1, "host_down", "web1", "critical", ALERT_FIRING, T0);
	struct alert cpu1 = make(2, "cpu", "web1", "warning", ALERT_FIRING, T0);
	struct alert cpu2 = make(3, "cpu", "web2", "warning", ALERT_FIRING, T0);
	struct alert disk1 = make(4, "disk", "web1", "warning", ALERT_FIRING, T0);
	update(r, &down, T0);
	update(r, &cpu1, T0);
	update(r, &cpu2, T0);
	update(r, &disk1, T0);
	tick(r, T0);
	run_until(r, T0 + SEC);
	/* host_down to mail alone (critical route); cpu of web2 to mail (rest) */
	size_t told = 0;
	for (size_t i = 0; i < n_sent; i++)
		for (size_t j = 0; j < sent[i].n; j++) {
			assert_true(sent[i].ids[j] == 1 || sent[i].ids[j] == 3);
			told++;
		}
	assert_int_equal(told, 2);
	uint64_t silenced;
	bool inhibited;
	assert_true(router_marks(r, 2, &silenced, &inhibited));
	assert_true(inhibited); /* depends_on */
	assert_true(router_marks(r, 4, &silenced, &inhibited));
	assert_true(inhibited); /* [inhibit] */
	/* The host is back: what still fires is told. */
	n_sent = 0;
	down.state = ALERT_RESOLVED;
	update(r, &down, T0 + MIN);
	tick(r, T0 + MIN);
	run_until(r, T0 + 2 * MIN);
	size_t firing = 0, resolved = 0;
	for (size_t i = 0; i < n_sent; i++)
		*(sent[i].kind == NOTICE_FIRING ? &firing : &resolved) += sent[i].n;
	assert_int_equal(firing, 2); /* cpu1 and disk1 */
	assert_int_equal(resolved, 1);
	router_free(r);
}

static void test_silence(void **state)
{
	struct router *r = new_router();
	struct err e = { 0 };
	struct alert_silence si = { .id = 7, .start = T0 - MIN, .end = T0 + 30 * MIN };
	snprintf(si.selector, sizeof si.selector, "web1/*");
	assert_int_equal(router_set_silences(r, &si, 1, &e), 0);
	struct alert a = make(1, "cpu", "web1", "warning", ALERT_FIRING, T0);
	struct alert b = make(2, "cpu", "web2", "warning", ALERT_FIRING, T0);
	update(r, &a, T0);
	update(r, &b, T0);
	tick(r, T0);
	run_until(r, T0 + 10 * MIN);
	assert_int_equal(n_sent, 1);
	assert_int_equal(sent[0].ids[0], 2);
	uint64_t silenced;
	bool inhibited;
	assert_true(router_marks(r, 1, &silenced, &inhibited));
	assert_int_equal(silenced, 7);
	/* The silence ends with the alert still firing: now it is told. */
	run_until(r, T0 + 31 * MIN);
	assert_int_equal(n_sent, 2);
	assert_int_equal(sent[1].ids[0], 1);
	assert_int_equal(sent[1].kind, NOTICE_FIRING);

	/* By rule name; resolved while silenced: never told at all. */
	n_sent = 0;
	snprintf(si.selector, sizeof si.selector, "quiet");
	si.end = T0 + 5 * 60 * MIN;
	assert_int_equal(router_set_silences(r, &si, 1, &e), 0);
	struct alert q = make(3, "quiet", "db1", "warning", ALERT_FIRING, T0 + 40 * MIN);
	update(r, &q, T0 + 40 * MIN);
	tick(r, T0 + 40 * MIN);
	q.state = ALERT_RESOLVED;
	update(r, &q, T0 + 50 * MIN);
	tick(r, T0 + 50 * MIN);
	run_until(r, T0 + 6 * 60 * MIN);
	for (size_t i = 0; i < n_sent; i++)
		for (size_t j = 0; j < sent[i].n; j++)
			assert_int_not_equal(sent[i].ids[j], 3);
	assert_int_equal(router_set_silences(r, NULL, 0, &e), 0);
	router_free(r);
}

static void test_mute(void **state)
{
	struct router *r = new_router();
	int64_t night = T0 + 14 * 60 * MIN + 30 * MIN; /* 02:30 the next day */
	struct alert a = make(1, "cpu", "nightly1", "warning", ALERT_FIRING, night);
	struct alert b = make(2, "cpu", "nightly2", "warning", ALERT_FIRING, night);
	update(r, &a, night);
	update(r, &b, night);
	tick(r, night);
	/* b resolves in the window: never told; a still fires at 04:00. */
	b.state = ALERT_RESOLVED;
	update(r, &b, night + 10 * MIN);
	tick(r, night + 10 * MIN);
	run_until(r, night + 89 * MIN);
	assert_int_equal(n_sent, 0);
	run_until(r, night + 91 * MIN);
	assert_int_equal(n_sent, 1);
	assert_int_equal(sent[0].n, 1);
	assert_int_equal(sent[0].ids[0], 1);
	router_free(r);
}

static void test_rate_limit_digest(void **state)
{
	struct router *r = new_router();
	/* 2 messages an hour to "limited"; five alerts a minute apart. */
	struct alert a[5];
	for (int i = 0; i < 5; i++) {
		char host[16];
		snprintf(host, sizeof host, "lim%d", i);
		a[i] = make((uint64_t)i + 1, "cpu", host, "warning", ALERT_FIRING, T0 + i * MIN);
		update(r, &a[i], T0 + i * MIN);
		tick(r, T0 + i * MIN);
		run_until(r, T0 + i * MIN + SEC);
	}
	assert_int_equal(n_sent, 2);
	run_until(r, T0 + 59 * MIN);
	assert_int_equal(n_sent, 2);
	run_until(r, T0 + 60 * MIN + 600 * MS); /* the window ends; repeats come after */
	assert_int_equal(n_sent, 3);
	assert_int_equal(sent[2].kind, NOTICE_DIGEST);
	assert_int_equal(sent[2].n, 3);
	assert_int_equal(sent[2].held, 3);
	assert_string_equal(sent[2].receiver, "limited");
	router_free(r);
}

/* After a restart: what the log says was told is not told again. */
static void test_told(void **state)
{
	struct router *r = new_router();
	struct alert a = make(1, "host_down", "web1", "critical", ALERT_FIRING, T0);
	struct alert b = make(2, "cpu", "web2", "warning", ALERT_FIRING, T0);
	update(r, &a, T0 + 20 * MIN);
	update(r, &b, T0 + 20 * MIN);
	router_told(r, 1, "mail", NOTICE_FIRING, T0);
	router_told(r, 1, "pager", NOTICE_ESCALATION, T0 + 10 * MIN);
	tick(r, T0 + 20 * MIN);
	run_until(r, T0 + 21 * MIN);
	/* Only b, never told, goes out. */
	assert_int_equal(n_sent, 1);
	assert_int_equal(sent[0].ids[0], 2);
	a.state = ALERT_RESOLVED;
	update(r, &a, T0 + 30 * MIN);
	tick(r, T0 + 30 * MIN);
	run_until(r, T0 + 31 * MIN);
	assert_int_equal(n_sent, 3);
	router_free(r);
}

static void test_reload(void **state)
{
	struct router *r = new_router();
	struct alert a = make(1, "cpu", "web1", "warning", ALERT_FIRING, T0);
	update(r, &a, T0);
	tick(r, T0);
	run_until(r, T0 + SEC);
	assert_int_equal(n_sent, 1);
	struct alert_config *again;
	struct err e = { 0 };
	assert_int_equal(alert_config_read_text(config_text, "t.conf", &again, &e), 0);
	assert_int_equal(router_set_config(r, again, &e), 0);
	tick(r, T0 + 2 * SEC);
	run_until(r, T0 + 30 * MIN);
	assert_int_equal(n_sent, 1); /* told before the reload: not again */
	router_free(r);
	alert_config_free(again);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_group_window),   cmocka_unit_test(test_blip),
		cmocka_unit_test(test_repeat_and_ack), cmocka_unit_test(test_escalation),
		cmocka_unit_test(test_inhibition),     cmocka_unit_test(test_silence),
		cmocka_unit_test(test_mute),	       cmocka_unit_test(test_rate_limit_digest),
		cmocka_unit_test(test_told),	       cmocka_unit_test(test_reload),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
