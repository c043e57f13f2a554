/* test_alerts.c - alertd's own store (alertd/alerts.c): episodes and
 * their history, acknowledgements, silences, audit lines, the generation
 * another process sees, a full map that grows, pruning. */
#include <errno.h>
#include <lmdb.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "alertd/alerts.h"
#include "lib/fault.h"
#include "lib/rtime.h"

#define SEC RTIME_NS_PER_SEC
static char data[256];

static int make_dir(void **state)
{
	snprintf(data, sizeof data, "/tmp/rmon-test-alerts-XXXXXX");
	assert_non_null(mkdtemp(data));
	return 0;
}

static int remove_dir(void **state)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", data);
	return system(cmd) == 0 ? 0 : -1;
}

static struct alert_store *open_store(void)
{
	struct alert_store *s;
	struct err e = { 0 };
	if (alert_store_open(data, ALERT_STORE_CREATE, &s, &e) != 0)
		fail_msg("alert_store_open: %s", e.msg);
	return s;
}

static struct alert_change change(const char *key, enum alert_state to, double value, int64_t at)
{
	return (struct alert_change){ .key = key,
				      .rule = "disk_full",
				      .host = "web1",
				      .labels = "{mountpoint=\"/\"}",
				      .severity = "critical",
				      .series =
					  "web1/node_filesystem_avail_bytes{mountpoint=\"/\"}",
				      .to = to,
				      .value = value,
				      .threshold = 90,
				      .since = at,
				      .at = at,
				      .summary = "disk / of web1 is 95% full",
				      .detail = "" };
}

struct collected {
	struct alert alerts[16];
	struct alert_event events[16];
	struct alert_silence silences[16];
	struct alert_audit audit[16];
	size_t n;
};

static int collect_alert(void *ctx, const struct alert *a)
{
	struct collected *c = ctx;
	if (c->n < 16)
		c->alerts[c->n++] = *a;
	return 0;
}

static int collect_event(void *ctx, const struct alert_event *ev)
{
	struct collected *c = ctx;
	if (c->n < 16)
		c->events[c->n++] = *ev;
	return 0;
}

static int collect_silence(void *ctx, const struct alert_silence *si)
{
	struct collected *c = ctx;
	if (c->n < 16)
		c->silences[c->n++] = *si;
	return 0;
}

static int collect_audit(void *ctx, const struct alert_audit *a)
{
	struct collected *c = ctx;
	if (c->n < 16)
		c->audit[c->n++] = *a;
	return 0;
}

static void test_missing_store(void **state)
{
	struct alert_store *s = NULL;
	struct err e = { 0 };
	assert_int_equal(alert_store_open(data, 0, &s, &e), -ENOENT);
	assert_null(s);
	assert_non_null(strstr(e.msg, "rmon-alertd has not run"));
	assert_non_null(strstr(e.msg, data));
	s = open_store();
	alert_store_close(s);
	assert_int_equal(alert_store_open(data, 0, &s, &e), 0);
	alert_store_close(s);
}

static void test_episode(void **state)
{
	struct alert_store *s = open_store();
	struct err e = { 0 };
	int64_t t0 = 1764000000 * SEC;
	struct alert out[2];
	struct alert_change c[2] = { change("disk_full/web1/{mountpoint=\"/\"}", ALERT_PENDING, 91,
					    t0),
				     change("load/web2", ALERT_FIRING, 40, t0) };
	c[1].rule = "load";
	c[1].host = "web2";
	assert_int_equal(alert_store_apply(s, c, 2, out, &e), 0);
	assert_true(out[0].id > 0 && out[1].id > out[0].id);
	assert_int_equal(out[0].state, ALERT_PENDING);
	assert_int_equal(out[0].fired, 0);
	assert_int_equal(out[1].fired, t0);

	/* The same key moves the same episode. */
	struct alert_change f = change(c[0].key, ALERT_FIRING, 95, t0 + 60 * SEC);
	f.since = t0 + 30 * SEC; /* since does not move started */
	assert_int_equal(alert_store_apply(s, &f, 1, out, &e), 0);
	uint64_t id = out[0].id;
	assert_int_equal(out[0].state, ALERT_FIRING);
	assert_int_equal(out[0].started, t0);
	assert_int_equal(out[0].fired, t0 + 60 * SEC);
	assert_true(out[0].value == 95);

	/* A value update without a move writes no history. */
	f.value = 96;
	f.at += SEC;
	assert_int_equal(alert_store_apply(s, &f, 1, NULL, &e), 0);

	struct collected got = { 0 };
	assert_int_equal(alert_store_alerts(s, true, collect_alert, &got, &e), 0);
	assert_int_equal(got.n, 2);
	assert_string_equal(got.alerts[0].rule, "load");
	assert_true(got.alerts[0].id > got.alerts[1].id); /* newest first */
	assert_string_equal(got.alerts[1].labels, "{mountpoint=\"/\"}");
	assert_true(got.alerts[1].value == 96);

	struct alert_change r = change(c[0].key, ALERT_RESOLVED, 80, t0 + 120 * SEC);
	assert_int_equal(alert_store_apply(s, &r, 1, out, &e), 0);
	assert_int_equal(out[0].id, id);
	assert_int_equal(out[0].resolved, t0 + 120 * SEC);
	/* Resolving what is not active is nothing. */
	assert_int_equal(alert_store_apply(s, &r, 1, out, &e), 0);
	assert_int_equal(out[0].id, 0);

	got.n = 0;
	assert_int_equal(alert_store_alerts(s, true, collect_alert, &got, &e), 0);
	assert_int_equal(got.n, 1);
	/* Resolved long ago (t0 is in 2025): not listed beyond resolved_keep. */
	got.n = 0;
	assert_int_equal(alert_store_alerts(s, false, collect_alert, &got, &e), 0);
	assert_int_equal(got.n, 1);
	assert_int_equal(alert_store_set_keep(s, 100LL * 365 * 24 * 3600 * SEC, &e), 0);
	got.n = 0;
	assert_int_equal(alert_store_alerts(s, false, collect_alert, &got, &e), 0);
	assert_int_equal(got.n, 2);

	/* A new episode of the key gets a new id. */
	struct alert_change again = change(c[0].key, ALERT_FIRING, 99, t0 + 200 * SEC);
	assert_int_equal(alert_store_apply(s, &again, 1, out, &e), 0);
	assert_true(out[0].id > id);

	struct alert a;
	assert_int_equal(alert_store_get(s, id, &a, &e), 0);
	assert_int_equal(a.state, ALERT_RESOLVED);
	assert_string_equal(a.summary, "disk / of web1 is 95% full");
	assert_int_equal(alert_store_get(s, 999, &a, &e), -ENOENT);

	/* History: pending, firing (x2: load), resolved, firing again; newest first. */
	got.n = 0;
	assert_int_equal(alert_store_history(s, 0, INT64_MAX, 0, collect_event, &got, &e), 0);
	assert_int_equal(got.n, 5);
	assert_int_equal(got.events[0].to, ALERT_FIRING);
	assert_int_equal(got.events[0].from, ALERT_INACTIVE);
	assert_int_equal(got.events[1].to, ALERT_RESOLVED);
	assert_int_equal(got.events[1].from, ALERT_FIRING);
	assert_int_equal(got.events[1].alert_id, id);
	for (size_t i = 1; i < got.n; i++)
		assert_true(got.events[i - 1].at >= got.events[i].at);
	got.n = 0;
	assert_int_equal(
	    alert_store_history(s, t0 + SEC, t0 + 200 * SEC, 0, collect_event, &got, &e), 0);
	assert_int_equal(got.n, 2); /* firing at +60 s, resolved at +120 s */
	got.n = 0;
	assert_int_equal(alert_store_history(s, 0, INT64_MAX, 2, collect_event, &got, &e), 0);
	assert_int_equal(got.n, 2);
	alert_store_close(s);
}

static void test_ack(void **state)
{
	struct alert_store *s = open_store();
	struct err e = { 0 };
	int64_t now = rtime_now_ns();
	struct alert out;
	struct alert_change c = change("ack/web1", ALERT_FIRING, 95, now);
	assert_int_equal(alert_store_apply(s, &c, 1, &out, &e), 0);
	/* A comment longer than its field is cut at a character boundary. */
	char comment[ALERT_TEXT_MAX + 40];
	size_t n = 0;
	while (n + 2 < sizeof comment - 1) {
		memcpy(comment + n, "\xc3\xa9", 2); /* é */
		n += 2;
	}
	comment[n] = 0;
	assert_int_equal(alert_store_ack(s, out.id, "alice", comment, now + SEC, &e), 0);
	struct alert a;
	assert_int_equal(alert_store_get(s, out.id, &a, &e), 0);
	assert_int_equal(a.acked_at, now + SEC);
	assert_string_equal(a.acked_by, "alice");
	assert_int_equal(strlen(a.ack_comment) % 2, 0);
	assert_true(strlen(a.ack_comment) >= ALERT_TEXT_MAX - 2);
	/* A state update keeps the acknowledgement. */
	c.value = 97;
	assert_int_equal(alert_store_apply(s, &c, 1, &out, &e), 0);
	assert_int_equal(out.acked_at, now + SEC);

	assert_int_equal(alert_store_unack(s, out.id, "bob", now + 2 * SEC, &e), 0);
	assert_int_equal(alert_store_get(s, out.id, &a, &e), 0);
	assert_int_equal(a.acked_at, 0);

	assert_int_equal(alert_store_ack(s, 12345, "alice", "", now, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "12345"));
	struct alert_change r = change("ack/web1", ALERT_RESOLVED, 50, now + 3 * SEC);
	assert_int_equal(alert_store_apply(s, &r, 1, NULL, &e), 0);
	assert_int_equal(alert_store_ack(s, out.id, "alice", "late", now + 4 * SEC, &e), -EALREADY);
	assert_non_null(strstr(e.msg, "resolved"));

	struct collected got = { 0 };
	assert_int_equal(alert_store_audit(s, 0, collect_audit, &got, &e), 0);
	assert_int_equal(got.n, 2);
	assert_string_equal(got.audit[0].who, "bob");
	char want[64];
	snprintf(want, sizeof want, "unack %llu", (unsigned long long)out.id);
	assert_string_equal(got.audit[0].what, want);
	snprintf(want, sizeof want, "ack %llu: \xc3\xa9", (unsigned long long)out.id);
	assert_memory_equal(got.audit[1].what, want, strlen(want));
	assert_int_equal(alert_store_audit_add(s, "carol", "rule edit", now + 5 * SEC, &e), 0);
	got.n = 0;
	assert_int_equal(alert_store_audit(s, 1, collect_audit, &got, &e), 0);
	assert_int_equal(got.n, 1);
	assert_string_equal(got.audit[0].what, "rule edit");
	alert_store_close(s);
}

static void test_silences(void **state)
{
	struct alert_store *s = open_store();
	struct err e = { 0 };
	int64_t now = rtime_now_ns();
	uint64_t id1, id2;
	assert_int_equal(
	    alert_store_silence_add(s, "web{/x", now, now + 3600 * SEC, "alice", "", now, &id1, &e),
	    -EINVAL);
	assert_int_equal(
	    alert_store_silence_add(s, "web1/*", now, now - SEC, "alice", "", now, &id1, &e),
	    -EINVAL);
	assert_int_equal(alert_store_silence_add(s, "web1/*", now, now + 3600 * SEC, "alice",
						 "disk swap tonight", now, &id1, &e),
			 0);
	assert_int_equal(alert_store_silence_add(s, "db?/node_load1", now - 7200 * SEC,
						 now - 3600 * SEC, "bob", "", now, &id2, &e),
			 0);
	assert_true(id2 > id1);
	struct collected got = { 0 };
	assert_int_equal(alert_store_silences(s, true, now, collect_silence, &got, &e), 0);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.silences[0].id, id1);
	assert_string_equal(got.silences[0].selector, "web1/*");
	assert_string_equal(got.silences[0].comment, "disk swap tonight");
	assert_string_equal(got.silences[0].by, "alice");
	got.n = 0;
	assert_int_equal(alert_store_silences(s, false, now, collect_silence, &got, &e), 0);
	assert_int_equal(got.n, 2);
	assert_int_equal(alert_store_silence_rm(s, id1, "alice", now, &e), 0);
	assert_int_equal(alert_store_silence_rm(s, id1, "alice", now, &e), -ENOENT);
	got.n = 0;
	assert_int_equal(alert_store_silences(s, true, now, collect_silence, &got, &e), 0);
	assert_int_equal(got.n, 0);

	/* Pruning removes the ended silence and what is older. */
	uint64_t removed;
	assert_int_equal(alert_store_prune(s, now, &removed, &e), 0);
	assert_true(removed >= 1);
	got.n = 0;
	assert_int_equal(alert_store_silences(s, false, now, collect_silence, &got, &e), 0);
	assert_int_equal(got.n, 0);
	alert_store_close(s);
}

/* Another process acknowledges: this one sees the generation move and the
 * acknowledgement, with no reopening. */
static void test_other_process(void **state)
{
	struct alert_store *s = open_store();
	struct err e = { 0 };
	int64_t now = rtime_now_ns();
	struct alert out;
	struct alert_change c = change("proc/web1", ALERT_FIRING, 95, now);
	assert_int_equal(alert_store_apply(s, &c, 1, &out, &e), 0);
	uint64_t g = alert_store_generation(s);
	assert_true(g > 0);
	pid_t pid = fork();
	if (pid == 0) {
		struct alert_store *t;
		if (alert_store_open(data, 0, &t, &e) != 0)
			_exit(2);
		int rc = alert_store_ack(t, out.id, "child", "seen", now, &e);
		alert_store_close(t);
		_exit(rc == 0 ? 0 : 1);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(alert_store_generation(s) > g);
	struct alert a;
	assert_int_equal(alert_store_get(s, out.id, &a, &e), 0);
	assert_string_equal(a.acked_by, "child");
	assert_int_equal(alert_store_mark(s, out.id, 7, true, &e), 0);
	assert_int_equal(alert_store_get(s, out.id, &a, &e), 0);
	assert_int_equal(a.silenced_by, 7);
	assert_true(a.inhibited);
	assert_int_equal(alert_store_mark(s, 99999, 0, false, &e), -ENOENT);
	alert_store_close(s);
}

static int full_times;
static int map_full(const char *point)
{
	if (strcmp(point, "alerts.commit") == 0 && full_times > 0) {
		full_times--;
		return MDB_MAP_FULL;
	}
	return 0;
}

/* A full map is doubled and the transaction run again: nothing is lost,
 * nothing written twice. */
static void test_map_full(void **state)
{
	struct alert_store *s = open_store();
	struct err e = { 0 };
	int64_t now = rtime_now_ns();
	full_times = 2;
	fault_hook = map_full;
	struct alert out;
	struct alert_change c = change("full/web1", ALERT_FIRING, 95, now);
	int rc = alert_store_apply(s, &c, 1, &out, &e);
	fault_hook = NULL;
	assert_int_equal(rc, 0);
	assert_int_equal(full_times, 0);
	struct collected got = { 0 };
	assert_int_equal(alert_store_history(s, now, now + 1, 0, collect_event, &got, &e), 0);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.events[0].alert_id, out.id);
	/* And a real one: far more than the first map holds. */
	static char big[ALERT_TEXT_MAX];
	memset(big, 'x', sizeof big - 1);
	struct alert_change many[500];
	char keys[500][32];
	for (int round = 0; round < 80; round++) {
		for (int i = 0; i < 500; i++) {
			snprintf(keys[i], sizeof keys[i], "big/%d/%d", round, i);
			many[i] = change(keys[i], ALERT_FIRING, i, now);
			many[i].summary = big;
		}
		if (alert_store_apply(s, many, 500, NULL, &e) != 0)
			fail_msg("round %d: %s", round, e.msg);
	}
	char file[300];
	snprintf(file, sizeof file, "%s/alertd/data.mdb", data);
	struct stat st;
	assert_int_equal(stat(file, &st), 0);
	assert_true(st.st_size > 16 << 20); /* past the first map */
	alert_store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_missing_store, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_episode, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_ack, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_silences, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_other_process, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_map_full, make_dir, remove_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
