/* test_notify.c - the notifier (alertd/notify.c) on a real event loop:
 * exec receivers get their argv and RMON_* environment intact whatever a
 * host name holds (no shell), and the JSON document on standard input;
 * failing deliveries are retried with back-off and reported once,
 * delivered or given up; a program past its timeout is killed; maildir
 * messages land in new/ under the data folder. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "alertd/notify.h"
#include "alertd/receiver.h"
#include "lib/conf.h"
#include "lib/evloop.h"
#include "lib/rtime.h"

static char folder[256];
static struct receiver *current;

static int on_setting(void *ctx, const struct conf_entry *entry, struct err *e)
{
	(void)ctx;
	int rc;
	if (!current && (rc = receiver_new(entry, &current, e)) != 0)
		return rc;
	return receiver_apply(current, entry, e);
}

static int on_end(void *ctx, const struct conf_entry *entry, struct err *e)
{
	(void)ctx;
	return current ? receiver_check(current, entry, e) : 0;
}

static struct receiver *receiver_from(const char *fmt, ...)
{
	char text[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	struct conf_hooks hooks = { on_setting, on_end };
	struct err e = { 0 };
	current = NULL;
	if (conf_read_text(text, "t.conf", &hooks, NULL, &e) != 0) {
		print_error("%s\n", e.msg);
		fail();
	}
	return current;
}

struct reports {
	int count;
	uint64_t id;
	int result;
	char detail[512];
};

static void on_done(void *ctx, uint64_t id, int result, const char *detail)
{
	struct reports *r = ctx;
	r->count++;
	r->id = id;
	r->result = result;
	snprintf(r->detail, sizeof r->detail, "%s", detail ? detail : "");
}

/* Sends notice through a fresh notifier and runs the loop until it is
 * reported (at most 30 s), then a little longer to see it is not
 * reported twice. */
static void deliver(const struct notice *nt, struct reports *rep, struct notifier_stats *stats)
{
	struct evloop *loop;
	struct notifier *n;
	struct err e = { 0 };
	*rep = (struct reports){ 0 };
	assert_int_equal(evloop_new(&loop, &e), 0);
	assert_int_equal(notifier_new(loop, folder, on_done, rep, &n, &e), 0);
	notifier_set_backoff(n, 50 * RTIME_NS_PER_MS, 200 * RTIME_NS_PER_MS);
	assert_int_equal(notifier_send(n, nt, &e), 0);
	assert_int_equal(rep->count, 0); /* never inside notifier_send */
	int64_t end = rtime_mono_ns() + 30 * RTIME_NS_PER_SEC;
	while (!rep->count && rtime_mono_ns() < end)
		evloop_run_once(loop, 100 * RTIME_NS_PER_MS, &e);
	end = rtime_mono_ns() + 300 * RTIME_NS_PER_MS;
	while (rtime_mono_ns() < end)
		evloop_run_once(loop, 50 * RTIME_NS_PER_MS, &e);
	notifier_get_stats(n, stats);
	notifier_free(n);
	evloop_free(loop);
	assert_int_equal(rep->count, 1);
	assert_int_equal(rep->id, nt->id);
}

static const char hostile_host[] = "web1 $(touch pwned); `id` \"q\" 'x' \n\r\x1b[31m\xff end";

static struct notice_alert hostile_alert(void)
{
	return (struct notice_alert){
		.alert_id = 42,
		.state = ALERT_FIRING,
		.rule = "disk_full",
		.severity = "critical",
		.host = hostile_host,
		.labels = "{mount=\"/srv \\\"x\\\"\"}",
		.summary = "disk \"full\" <b>now</b>",
		.description = "line\nline2",
		.detail = "",
		.value = 97.5,
		.threshold = 90,
		.since = INT64_C(1764583200) * RTIME_NS_PER_SEC,
		.at = INT64_C(1764583500) * RTIME_NS_PER_SEC,
		.link = "https://mon.example.com/alerts/42.html",
	};
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(1 << 20);
	size_t n = fread(buf, 1, (1 << 20) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/* A script that records its argv (NUL-separated), its environment and
 * its standard input. */
static void write_script(const char *name, const char *body)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", folder, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	chmod(path, 0755);
}

static void test_exec_argv_env_stdin(void **state)
{
	(void)state;
	write_script("record.sh", "cd \"$(dirname \"$0\")\"\n"
				  "printf '%s\\0' \"$@\" > argv.out\n"
				  "env > env.out\n"
				  "cat > stdin.out\n");
	struct receiver *r = receiver_from("[receiver page]\ntype = exec\n"
					   "command = %s/record.sh --host \"$RMON_HOST\" 'a b' "
					   "\"two words\" ;rm\n"
					   "env = PAGER_TEAM=ops=1\n",
					   folder);
	struct notice_alert a = hostile_alert();
	struct notice nt = { .id = 5,
			     .message_id = "<m.5@x>",
			     .kind = NOTICE_FIRING,
			     .receiver = r,
			     .alerts = &a,
			     .n_alerts = 1,
			     .created = a.at };
	struct reports rep;
	struct notifier_stats st;
	deliver(&nt, &rep, &st);
	assert_int_equal(rep.result, 0);
	assert_int_equal(st.delivered, 1);
	assert_int_equal(st.failed_attempts, 0);
	assert_int_equal(st.queued, 0);

	char path[512];
	size_t len;
	snprintf(path, sizeof path, "%s/argv.out", folder);
	char *argv = slurp(path, &len);
	assert_non_null(argv);
	/* Every word as the config wrote it: no expansion, no splitting. */
	static const char want[] = "--host\0$RMON_HOST\0'a\0b'\0two words\0;rm\0";
	assert_int_equal(len, sizeof want - 1);
	assert_memory_equal(argv, want, sizeof want - 1);
	free(argv);

	snprintf(path, sizeof path, "%s/env.out", folder);
	char *env = slurp(path, NULL);
	assert_non_null(env);
	assert_non_null(strstr(env, "RMON_HOST=web1 $(touch pwned); `id` \"q\" 'x' \n\r"));
	assert_non_null(strstr(env, "RMON_KIND=firing\n"));
	assert_non_null(strstr(env, "RMON_RULE=disk_full\n"));
	assert_non_null(strstr(env, "RMON_VALUE=97.5\n"));
	assert_non_null(strstr(env, "RMON_THRESHOLD=90\n"));
	assert_non_null(strstr(env, "RMON_ALERT_ID=42\n"));
	assert_non_null(strstr(env, "RMON_MESSAGE_ID=<m.5@x>\n"));
	assert_non_null(strstr(env, "RMON_SINCE=2025-12-01T10:00:00.000Z\n"));
	assert_non_null(strstr(env, "RMON_LINK=https://mon.example.com/alerts/42.html\n"));
	assert_non_null(strstr(env, "PAGER_TEAM=ops=1\n"));
	free(env);
	/* No shell ran the host's $(...). */
	snprintf(path, sizeof path, "%s/pwned", folder);
	assert_int_equal(access(path, F_OK), -1);

	/* Standard input: the JSON document, valid whatever the bytes. */
	char cmd[1024];
	snprintf(cmd, sizeof cmd,
		 "/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
		 "a=d[\"alerts\"][0]; sys.exit(0 if d[\"kind\"]==\"firing\" and "
		 "a[\"host\"].startswith(\"web1 $(touch pwned)\") and "
		 "a[\"host\"].endswith(\"\\ufffd end\") "
		 "and a[\"value\"]==97.5 and d[\"message_id\"]==\"<m.5@x>\" else 1)' %s/stdin.out",
		 folder);
	assert_int_equal(system(cmd), 0);
	receiver_free(r);
}

static void test_retry_then_delivered(void **state)
{
	(void)state;
	/* Fails twice, then succeeds: each attempt adds a line. */
	write_script("flaky.sh",
		     "cd \"$(dirname \"$0\")\"\necho x >> attempts\n"
		     "[ $(wc -l < attempts) -ge 3 ] || { echo 'gateway down' >&2; exit 3; }");
	char path[512];
	snprintf(path, sizeof path, "%s/attempts", folder);
	unlink(path);
	struct receiver *r =
	    receiver_from("[receiver p]\ntype = exec\ncommand = %s/flaky.sh\n", folder);
	struct notice_alert a = hostile_alert();
	struct notice nt = {
		.id = 6, .kind = NOTICE_FIRING, .receiver = r, .alerts = &a, .n_alerts = 1
	};
	struct reports rep;
	struct notifier_stats st;
	deliver(&nt, &rep, &st);
	assert_int_equal(rep.result, 0);
	assert_int_equal(st.delivered, 1);
	assert_int_equal(st.failed_attempts, 2);
	assert_int_equal(st.given_up, 0);
	char *lines = slurp(path, NULL);
	assert_string_equal(lines, "x\nx\nx\n");
	free(lines);
	receiver_free(r);
}

static void test_give_up(void **state)
{
	(void)state;
	write_script("down.sh", "echo 'gateway down' >&2\nexit 3");
	struct receiver *r = receiver_from(
	    "[receiver p]\ntype = exec\ncommand = %s/down.sh\ngive_up = 1s\n", folder);
	struct notice_alert a = hostile_alert();
	struct notice nt = {
		.id = 7, .kind = NOTICE_FIRING, .receiver = r, .alerts = &a, .n_alerts = 1
	};
	struct reports rep;
	struct notifier_stats st;
	int64_t start = rtime_mono_ns();
	deliver(&nt, &rep, &st);
	assert_true(rep.result < 0);
	assert_non_null(strstr(rep.detail, "given up after "));
	assert_non_null(strstr(rep.detail, "down.sh: exit status 3: gateway down"));
	assert_int_equal(st.given_up, 1);
	assert_int_equal(st.delivered, 0);
	/* Back-off from 50 ms, at most 200 ms: several attempts in the second. */
	assert_true(st.failed_attempts >= 4);
	assert_true(rtime_mono_ns() - start >= RTIME_NS_PER_SEC);
	receiver_free(r);

	/* A program that hangs is killed at its timeout. */
	r = receiver_from("[receiver p]\ntype = exec\ncommand = /bin/sleep 30\ntimeout = 200ms\n"
			  "give_up = 1s\n");
	nt.receiver = r;
	start = rtime_mono_ns();
	deliver(&nt, &rep, &st);
	assert_true(rep.result < 0);
	assert_non_null(strstr(rep.detail, "/bin/sleep: killed after the timeout of 200ms"));
	assert_true(rtime_mono_ns() - start < 10 * RTIME_NS_PER_SEC);
	receiver_free(r);

	/* A program that does not exist: a clear error, given up. */
	r = receiver_from("[receiver p]\ntype = exec\ncommand = /nonexistent/page-me\n"
			  "give_up = 1s\n");
	nt.receiver = r;
	deliver(&nt, &rep, &st);
	assert_true(rep.result < 0);
	assert_non_null(strstr(rep.detail, "cannot run /nonexistent/page-me"));
	receiver_free(r);
}

static void test_maildir(void **state)
{
	(void)state;
	struct receiver *r = receiver_from("[receiver local]\ntype = maildir\npath = mail/box\n");
	struct notice_alert a = hostile_alert();
	struct notice nt = { .id = 8,
			     .message_id = "<m.8@x>",
			     .kind = NOTICE_FIRING,
			     .receiver = r,
			     .alerts = &a,
			     .n_alerts = 1,
			     .created = a.at };
	struct reports rep;
	struct notifier_stats st;
	deliver(&nt, &rep, &st);
	assert_int_equal(rep.result, 0);
	char path[1024];
	snprintf(path, sizeof path, "%s/mail/box/new", folder);
	DIR *d = opendir(path);
	assert_non_null(d);
	struct dirent *de;
	int files = 0;
	char name[300] = "";
	while ((de = readdir(d)))
		if (de->d_name[0] != '.') {
			files++;
			snprintf(name, sizeof name, "%s", de->d_name);
		}
	closedir(d);
	assert_int_equal(files, 1);
	snprintf(path, sizeof path, "%s/mail/box/new/%s", folder, name);
	char *mail = slurp(path, NULL);
	assert_non_null(mail);
	assert_null(strchr(mail, '\r')); /* a maildir holds LF lines */
	assert_non_null(strstr(mail, "\nMessage-ID: <m.8@x>\n"));
	assert_non_null(strstr(mail, "\nTo: root@localhost\n"));
	free(mail);
	/* tmp/ is empty again. */
	snprintf(path, sizeof path, "%s/mail/box/tmp", folder);
	d = opendir(path);
	assert_non_null(d);
	files = 0;
	while ((de = readdir(d)))
		files += de->d_name[0] != '.';
	closedir(d);
	assert_int_equal(files, 0);
	receiver_free(r);
}

/* notifier_free while a mail thread still waits for a silent server: it
 * returns at once, and the thread later ends on its own copies. */
static void test_free_with_mail_in_flight(void **state)
{
	(void)state;
	struct sockaddr_in addr = { .sin_family = AF_INET,
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof addr;
	int silent = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(silent, (struct sockaddr *)&addr, sizeof addr), 0);
	assert_int_equal(listen(silent, 4), 0); /* never accepted, never greets */
	assert_int_equal(getsockname(silent, (struct sockaddr *)&addr, &len), 0);
	struct receiver *r = receiver_from("[receiver m]\ntype = email\nserver = 127.0.0.1\n"
					   "port = %d\ntls = none\nfrom = a@b.c\nto = d@e.f\n"
					   "timeout = 1s\n",
					   ntohs(addr.sin_port));
	struct notice_alert a = hostile_alert();
	struct notice nt = {
		.id = 9, .kind = NOTICE_FIRING, .receiver = r, .alerts = &a, .n_alerts = 1
	};
	struct reports rep = { 0 };
	struct evloop *loop;
	struct notifier *n;
	struct err e = { 0 };
	assert_int_equal(evloop_new(&loop, &e), 0);
	assert_int_equal(notifier_new(loop, folder, on_done, &rep, &n, &e), 0);
	assert_int_equal(notifier_send(n, &nt, &e), 0);
	int64_t end = rtime_mono_ns() + 200 * RTIME_NS_PER_MS;
	while (rtime_mono_ns() < end)
		evloop_run_once(loop, 20 * RTIME_NS_PER_MS, &e);
	struct notifier_stats st;
	notifier_get_stats(n, &st);
	assert_int_equal(st.queued, 1);
	int64_t start = rtime_mono_ns();
	notifier_free(n);
	evloop_free(loop);
	receiver_free(r); /* the thread holds its own copy */
	assert_true(rtime_mono_ns() - start < 500 * RTIME_NS_PER_MS);
	assert_int_equal(rep.count, 0); /* abandoned: the log owes it */
	/* The thread gives up on the silent server after its timeout. */
	usleep(2500 * 1000);
	close(silent);
}

static int setup(void **state)
{
	(void)state;
	snprintf(folder, sizeof folder, "/tmp/test_notify.XXXXXX");
	return mkdtemp(folder) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", folder);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_argv_env_stdin),
		cmocka_unit_test(test_retry_then_delivered),
		cmocka_unit_test(test_give_up),
		cmocka_unit_test(test_maildir),
		cmocka_unit_test(test_free_with_mail_in_flight),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
