/* test_notelog.c - the notification log (alertd/notelog.c): written
 * before a send, owed until done, owed again after a reopen with the same
 * Message-ID, resolved messages threaded under the firing one, and what
 * each receiver was told. */
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

#include "alertd/notelog.h"

static char data[256];

static int make_dir(void **state)
{
	snprintf(data, sizeof data, "/tmp/rmon-test-notelog-XXXXXX");
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

struct owed {
	uint64_t ids[8];
	char message_ids[8][NOTELOG_ID_MAX];
	size_t items[8];
	size_t n;
};

static int collect(void *ctx, const struct notelog_entry *ent)
{
	struct owed *o = ctx;
	if (o->n < 8) {
		o->ids[o->n] = ent->id;
		o->items[o->n] = ent->n_items;
		snprintf(o->message_ids[o->n], NOTELOG_ID_MAX, "%s", ent->message_id);
		o->n++;
	}
	return 0;
}

struct told {
	char what[8][160];
	size_t n;
};

static int collect_told(void *ctx, const char *receiver, enum notice_kind kind, int64_t at)
{
	struct told *t = ctx;
	if (t->n < 8)
		snprintf(t->what[t->n++], sizeof t->what[0], "%s %s %lld", receiver,
			 notelog_kind_name(kind), (long long)at);
	return 0;
}

static void test_log(void **state)
{
	struct alert_store *s = open_store();
	struct err e = { 0 };
	struct notelog_item fire[2] = { { 11, ALERT_FIRING }, { 12, ALERT_FIRING } };
	struct notelog_entry a, b, r, r2;
	assert_int_equal(
	    notelog_add(s, NOTICE_FIRING, "ops", fire, 2, 0, "mon.example.com", 100, &a, &e), 0);
	assert_string_equal(a.thread_id, "");
	assert_true(a.message_id[0] == '<' && strstr(a.message_id, "@mon.example.com>"));
	/* Another receiver gets its own message and Message-ID. */
	assert_int_equal(
	    notelog_add(s, NOTICE_FIRING, "pager", fire, 1, 0, "mon.example.com", 100, &b, &e), 0);
	assert_true(b.id > a.id);
	assert_string_not_equal(a.message_id, b.message_id);

	struct owed o = { 0 };
	assert_int_equal(notelog_owed(s, collect, &o, &e), 0);
	assert_int_equal(o.n, 2);
	assert_int_equal(o.ids[0], a.id);
	assert_int_equal(o.items[0], 2);

	/* Closed without being done (a crash): still owed, same Message-ID. */
	alert_store_close(s);
	s = open_store();
	o.n = 0;
	assert_int_equal(notelog_owed(s, collect, &o, &e), 0);
	assert_int_equal(o.n, 2);
	assert_string_equal(o.message_ids[0], a.message_id);
	assert_int_equal(notelog_done(s, a.id, 0, 200, &e), 0);
	assert_int_equal(notelog_done(s, a.id, 0, 300, &e), 0); /* twice: no error */
	assert_int_equal(notelog_done(s, b.id, -ETIMEDOUT, 200, &e), 0);
	assert_int_equal(notelog_done(s, 999, 0, 200, &e), -ENOENT);
	size_t n;
	assert_int_equal(notelog_count_owed(s, &n, &e), 0);
	assert_int_equal(n, 0);

	/* The resolved message of alert 12 threads under the firing one. */
	struct notelog_item res = { 12, ALERT_RESOLVED };
	assert_int_equal(
	    notelog_add(s, NOTICE_RESOLVED, "ops", &res, 1, 0, "mon.example.com", 400, &r, &e), 0);
	assert_string_equal(r.thread_id, a.message_id);
	assert_non_null(strstr(r.message_id, ".resolved."));
	/* ...and for a receiver never told it fired, there is nothing to answer. */
	assert_int_equal(
	    notelog_add(s, NOTICE_RESOLVED, "mail2", &res, 1, 0, "bad domain\r\n", 400, &r2, &e),
	    0);
	assert_string_equal(r2.thread_id, "");
	assert_non_null(strstr(r2.message_id, "@rmon.invalid>"));
	assert_null(strchr(r2.message_id, '\r'));

	struct told t = { 0 };
	assert_int_equal(notelog_told(s, 12, collect_told, &t, &e), 0);
	assert_int_equal(t.n, 3);
	/* (alert, kind, receiver) in byte order: F before R */
	assert_string_equal(t.what[0], "ops firing 100");
	assert_string_equal(t.what[1], "mail2 resolved 400");
	assert_string_equal(t.what[2], "ops resolved 400");
	t.n = 0;
	assert_int_equal(notelog_told(s, 11, collect_told, &t, &e), 0);
	assert_int_equal(t.n, 2);

	/* The whole log, newest first. */
	o.n = 0;
	assert_int_equal(notelog_list(s, 0, collect, &o, &e), 0);
	assert_int_equal(o.n, 4);
	assert_int_equal(o.ids[0], r2.id);
	assert_int_equal(o.ids[3], a.id);
	o.n = 0;
	assert_int_equal(notelog_list(s, 1, collect, &o, &e), 0);
	assert_int_equal(o.n, 1);

	/* Pruning drops delivered messages and what the store forgot. */
	uint64_t removed;
	assert_int_equal(notelog_prune(s, 300, &removed, &e), 0);
	assert_true(removed >= 2); /* a and b, and alerts 11/12 are not in the store */
	o.n = 0;
	assert_int_equal(notelog_owed(s, collect, &o, &e), 0);
	assert_int_equal(o.n, 2); /* r and r2 */
	t.n = 0;
	assert_int_equal(notelog_told(s, 12, collect_told, &t, &e), 0);
	assert_int_equal(t.n, 0);
	alert_store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_log, make_dir, remove_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
