/* test_web.c - rmon-web as nginx runs it through fcgiwrap: the CGI
 * program is started with a request's environment and body, and its
 * answer and alertd's store are checked.  Every refusal leaves the store
 * as it was; the one accepted change lands with who made it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "alertd/alerts.h"
#include "alertd/rules.h"
#include "lib/rtime.h"

static char data[256], users[300], config[300];
static uint64_t alert_id;

struct answer {
	int status;
	char text[65536];
};

/* Runs rmon-web with the request; env: "NAME=value" strings, NULL-ended. */
static void run_web(const char *method, const char *user, const char *query, const char *body,
		    const char *content_type, struct answer *a)
{
	char bin[4096];
	const char *dir = getenv("RMON_BIN");
	snprintf(bin, sizeof bin, "%s/rmon-web", dir ? dir : "build/bin");
	int in[2], out[2];
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		char e_method[64], e_user[128], e_query[8192], e_len[64], e_type[128], e_data[300],
		    e_users[320];
		snprintf(e_method, sizeof e_method, "REQUEST_METHOD=%s", method);
		snprintf(e_user, sizeof e_user, "REMOTE_USER=%s", user ? user : "");
		snprintf(e_query, sizeof e_query, "QUERY_STRING=%s", query ? query : "");
		snprintf(e_len, sizeof e_len, "CONTENT_LENGTH=%zu", body ? strlen(body) : 0);
		snprintf(e_type, sizeof e_type, "CONTENT_TYPE=%s",
			 content_type ? content_type : "application/x-www-form-urlencoded");
		snprintf(e_data, sizeof e_data, "RMON_DATA=%s", data);
		snprintf(e_users, sizeof e_users, "RMON_WEB_USERS=%s", users);
		char e_config[320];
		snprintf(e_config, sizeof e_config, "RMON_CONFIG=%s", config);
		char *env[] = { e_method, e_user,   e_query,
				e_len,	  e_type,   e_data,
				e_users,  e_config, "SCRIPT_NAME=/rmon/action",
				NULL };
		char *argv[] = { bin, NULL };
		execve(bin, argv, env);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	if (body)
		assert_int_equal(write(in[1], body, strlen(body)), (ssize_t)strlen(body));
	close(in[1]);
	size_t got = 0;
	ssize_t n;
	while ((n = read(out[0], a->text + got, sizeof a->text - 1 - got)) > 0)
		got += (size_t)n;
	a->text[got] = '\0';
	close(out[0]);
	int st;
	waitpid(pid, &st, 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	a->status = 0;
	sscanf(a->text, "Status: %d", &a->status);
}

/* The token of the confirmation form in a->text. */
static void token_of(const struct answer *a, char *buf, size_t cap)
{
	const char *t = strstr(a->text, "name=\"token\" value=\"");
	assert_non_null(t);
	t += strlen("name=\"token\" value=\"");
	size_t len = strcspn(t, "\"");
	assert_true(len < cap);
	memcpy(buf, t, len);
	buf[len] = '\0';
}

static struct alert get_alert(void)
{
	struct alert_store *s;
	struct alert a;
	assert_int_equal(alert_store_open(data, 0, &s, NULL), 0);
	assert_int_equal(alert_store_get(s, alert_id, &a, NULL), 0);
	alert_store_close(s);
	return a;
}

static int count(void *ctx, const struct alert_silence *sil)
{
	(void)sil;
	++*(size_t *)ctx;
	return 0;
}

static size_t count_silences(void)
{
	struct alert_store *s;
	size_t n = 0;
	assert_int_equal(alert_store_open(data, 0, &s, NULL), 0);
	assert_int_equal(alert_store_silences(s, false, rtime_now_ns(), count, &n, NULL), 0);
	alert_store_close(s);
	return n;
}

static int count_alice(void *ctx, const struct alert_audit *a)
{
	if (strcmp(a->who, "alice") == 0 && strncmp(a->what, "rule", 4) == 0)
		++*(size_t *)ctx;
	return 0;
}

static int setup(void **state)
{
	(void)state;
	snprintf(data, sizeof data, "/tmp/rmon-test-web-XXXXXX");
	assert_non_null(mkdtemp(data));
	snprintf(users, sizeof users, "%s/web-users.conf", data);
	FILE *f = fopen(users, "w");
	fputs("[roles]\nalice = admin\nbob = operator\n* = viewer\n", f);
	fclose(f);
	snprintf(config, sizeof config, "%s/alertd.conf", data);
	f = fopen(config, "w");
	fputs("[rule load_high]\nexpr = avg(node_load1[5m])\nabove = 8\nclear = 6\nfor = 5m\n"
	      "\ninclude = rules.d/*.conf\n",
	      f);
	fclose(f);
	struct alert_store *s;
	struct err e = { 0 };
	assert_int_equal(alert_store_open(data, ALERT_STORE_CREATE, &s, &e), 0);
	int64_t now = rtime_now_ns();
	struct alert_change c = { .key = "cpu_busy/web1",
				  .rule = "cpu_busy",
				  .host = "web1",
				  .labels = "",
				  .severity = "warning",
				  .series = "web1/node_load1",
				  .to = ALERT_FIRING,
				  .value = 97,
				  .threshold = 90,
				  .since = now,
				  .at = now,
				  .summary = "CPU busy <b>97</b>",
				  .detail = "" };
	struct alert out;
	assert_int_equal(alert_store_apply(s, &c, 1, &out, &e), 0);
	alert_id = out.id;
	alert_store_close(s);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", data);
	return system(cmd) == 0 ? 0 : -1;
}

static void ack_with_token_once(void **state)
{
	(void)state;
	struct answer a;
	char q[256], body[1024], token[256];
	snprintf(q, sizeof q, "do=ack&id=%llu&back=/alerts/1.html", (unsigned long long)alert_id);
	run_web("GET", "bob", q, NULL, NULL, &a);
	assert_int_equal(a.status, 200);
	assert_non_null(strstr(a.text, "method=\"post\""));
	assert_non_null(strstr(a.text, "CPU busy &lt;b&gt;97&lt;/b&gt;")); /* shown as text */
	token_of(&a, token, sizeof token);
	assert_int_equal(get_alert().acked_at, 0); /* a GET changes nothing */

	/* the token is bob's: alice cannot use it */
	snprintf(body, sizeof body, "do=ack&id=%llu&token=%s&comment=x",
		 (unsigned long long)alert_id, token);
	run_web("POST", "alice", NULL, body, NULL, &a);
	assert_int_equal(a.status, 403);
	assert_int_equal(get_alert().acked_at, 0);

	/* a GET carrying the token is not a change either */
	run_web("GET", "bob", body, NULL, NULL, &a);
	assert_int_equal(a.status, 405);
	assert_int_equal(get_alert().acked_at, 0);

	snprintf(
	    body, sizeof body,
	    "do=ack&id=%llu&token=%s&back=%%2Falerts%%2F1.html&comment=%%3Cscript%%3Ealert(1)%%"
	    "3C%%2Fscript%%3E%%0Adisk+swap",
	    (unsigned long long)alert_id, token);
	run_web("POST", "bob", NULL, body, NULL, &a);
	assert_int_equal(a.status, 303);
	assert_non_null(strstr(a.text, "Location: /alerts/1.html\r\n"));
	struct alert got = get_alert();
	assert_true(got.acked_at > 0);
	assert_string_equal(got.acked_by, "bob");
	assert_string_equal(got.ack_comment, "<script>alert(1)</script>\ndisk swap");

	/* replayed: refused */
	run_web("POST", "bob", NULL, body, NULL, &a);
	assert_int_equal(a.status, 403);
	assert_non_null(strstr(a.text, "already used"));
}

static void refusals_change_nothing(void **state)
{
	(void)state;
	struct answer a;
	char q[256], body[2048], token[256];
	size_t silences = count_silences();

	run_web("GET", NULL, "do=silence", NULL, NULL, &a); /* nginx let nobody in */
	assert_int_equal(a.status, 403);
	run_web("GET", "bad user", "do=silence", NULL, NULL, &a);
	assert_int_equal(a.status, 403);
	run_web("PUT", "bob", "do=silence", NULL, NULL, &a);
	assert_int_equal(a.status, 405);
	run_web("GET", "carol", "do=silence", NULL, NULL, &a); /* a viewer */
	assert_int_equal(a.status, 403);
	assert_non_null(strstr(a.text, "operator"));

	snprintf(q, sizeof q, "do=silence&selector=web1%%2F*");
	run_web("GET", "bob", q, NULL, NULL, &a);
	assert_int_equal(a.status, 200);
	assert_non_null(strstr(a.text, "value=\"web1/*\""));
	token_of(&a, token, sizeof token);

	const char *bad[] = {
		"selector=web1%2F%7Bmode%3D&for=2h",	     /* selector does not parse */
		"selector=web1%2F*&for=2",		     /* no unit */
		"selector=web1%2F*&for=1s",		     /* too short */
		"selector=web1%2F*&for=400d",		     /* too long */
		"selector=web1%2F*&for=2h&comment=%1b%5b2J", /* a terminal escape */
		"selector=web1%2F*&for=2h&comment=%ff",	     /* not UTF-8 */
		"selector=web1%2F*&for=2h&for=3h",	     /* twice */
		"selector=web1%2F*&for=2h&comment=%zz",	     /* bad escape */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(body, sizeof body, "do=silence&token=%s&%s", token, bad[i]);
		run_web("POST", "bob", NULL, body, NULL, &a);
		assert_int_equal(a.status, 400);
	}
	snprintf(body, sizeof body, "do=silence&token=%s&selector=x&for=2h", token);
	run_web("POST", "bob", NULL, body, "text/plain", &a);
	assert_int_equal(a.status, 415);
	char big[20000];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	memcpy(big, "comment=", 8);
	run_web("POST", "bob", NULL, big, NULL, &a);
	assert_int_equal(a.status, 413);
	snprintf(body, sizeof body, "do=silence&token=1.2.3&selector=web1%%2F*&for=2h");
	run_web("POST", "bob", NULL, body, NULL, &a);
	assert_int_equal(a.status, 403);
	run_web("POST", "bob", NULL, "do=silence&selector=web1%2F*&for=2h", NULL, &a);
	assert_int_equal(a.status, 403);
	assert_int_equal(count_silences(), silences);

	/* and the good one, once */
	snprintf(body, sizeof body, "do=silence&token=%s&selector=web1%%2F*&for=2h&comment=m",
		 token);
	run_web("POST", "bob", NULL, body, NULL, &a);
	assert_int_equal(a.status, 200);
	assert_int_equal(count_silences(), silences + 1);
}

static void open_redirects_are_not_followed(void **state)
{
	(void)state;
	struct answer a;
	run_web("GET", "bob", "do=silence&back=%2F%2Fevil.example%2F", NULL, NULL, &a);
	assert_int_equal(a.status, 200);
	assert_null(strstr(a.text, "evil.example"));
	run_web("GET", "bob", "do=nothing", NULL, NULL, &a);
	assert_int_equal(a.status, 400);
}

static char *read_file(const char *path)
{
	static char buf[8192];
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void post_rule(const char *user, const char *fields, struct answer *a)
{
	struct answer form;
	char token[256], body[1024];
	run_web("GET", user, "do=rule&rule=load_high", NULL, NULL, &form);
	assert_int_equal(form.status, 200);
	token_of(&form, token, sizeof token);
	snprintf(body, sizeof body, "do=rule&rule=load_high&token=%s&%s", token, fields);
	run_web("POST", user, NULL, body, NULL, a);
}

static void rule_edits_are_checked_kept_and_undone(void **state)
{
	(void)state;
	struct answer a;
	char dropin[400], prev[420];
	snprintf(dropin, sizeof dropin, "%s/rules.d/50-web.conf", data);
	snprintf(prev, sizeof prev, "%s.prev", dropin);

	run_web("GET", "bob", "do=rule&rule=load_high", NULL, NULL, &a); /* an operator */
	assert_int_equal(a.status, 403);
	run_web("GET", "alice", "do=rule&rule=load_high", NULL, NULL, &a);
	assert_int_equal(a.status, 200);
	if (!strstr(a.text, "value=\"8\"")) /* the threshold as configured */
		fail_msg("%s", strstr(a.text, "<h1>"));

	post_rule("alice", "threshold=12&for=10m", &a);
	assert_int_equal(a.status, 200);
	const char *text = read_file(dropin);
	assert_non_null(text);
	assert_non_null(strstr(text, "[override load_high]\nthreshold = 12\nfor = 10m\n"));
	struct alert_config *cfg;
	assert_int_equal(alert_config_read_file(config, &cfg, NULL), 0);
	assert_true(alert_config_rule(cfg, "load_high")->threshold == 12);
	assert_true(alert_config_rule(cfg, "load_high")->clear == 6);
	alert_config_free(cfg);

	/* a clear level above the threshold breaks the rule: refused with the
	 * checker's words, the drop-in as it was */
	char before[8192];
	snprintf(before, sizeof before, "%s", read_file(dropin));
	post_rule("alice", "clear=20", &a);
	assert_int_equal(a.status, 400);
	assert_non_null(strstr(a.text, "clear 20 is above the threshold 12"));
	assert_string_equal(read_file(dropin), before);
	post_rule("alice", "threshold=1e999", &a);
	assert_int_equal(a.status, 400);
	post_rule("alice", "enabled=maybe", &a);
	assert_int_equal(a.status, 400);

	post_rule("alice", "enabled=false", &a);
	assert_int_equal(a.status, 200);
	assert_non_null(strstr(read_file(dropin), "enabled = false"));
	assert_string_equal(read_file(prev), before);

	/* undo: the drop-in before the last edit is back */
	struct answer form;
	char token[256], body[512];
	run_web("GET", "alice", "do=rule_undo", NULL, NULL, &form);
	token_of(&form, token, sizeof token);
	snprintf(body, sizeof body, "do=rule_undo&token=%s", token);
	run_web("POST", "alice", NULL, body, NULL, &a);
	assert_int_equal(a.status, 200);
	assert_string_equal(read_file(dropin), before);
	assert_int_equal(alert_config_read_file(config, &cfg, NULL), 0);
	assert_true(alert_config_rule(cfg, "load_high")->enabled);
	alert_config_free(cfg);

	/* who did it is logged */
	struct alert_store *s;
	assert_int_equal(alert_store_open(data, 0, &s, NULL), 0);
	size_t by_alice = 0;
	assert_int_equal(alert_store_audit(s, 0, count_alice, &by_alice, NULL), 0);
	alert_store_close(s);
	assert_true(by_alice >= 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ack_with_token_once),
		cmocka_unit_test(refusals_change_nothing),
		cmocka_unit_test(open_redirects_are_not_followed),
		cmocka_unit_test(rule_edits_are_checked_kept_and_undone),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
