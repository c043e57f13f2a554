/* test_receiver.c - [receiver NAME] sections (alertd/receiver.c): each
 * type with its settings, the checks of a section as a whole, errors that
 * name file, line and key, and descriptions that never show a secret. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "alertd/receiver.h"
#include "alertd/receiver_private.h"
#include "lib/conf.h"
#include "lib/rtime.h"

/* What alertd/rules.c does with receiver sections, in small. */
struct reader {
	struct receiver *r;
	int line;
};

static int on_setting(void *ctx, const struct conf_entry *entry, struct err *e)
{
	struct reader *rd = ctx;
	int rc;
	if (strcmp(entry->section, "receiver") != 0)
		return conf_error(e, entry, "not a receiver");
	if (!rd->r) {
		if ((rc = receiver_new(entry, &rd->r, e)) != 0)
			return rc;
	}
	return receiver_apply(rd->r, entry, e);
}

static int on_end(void *ctx, const struct conf_entry *entry, struct err *e)
{
	struct reader *rd = ctx;
	if (!rd->r)
		return 0;
	return receiver_check(rd->r, entry, e);
}

/* Reads text, returns the code; *out the receiver when 0. */
static int read_one(const char *text, struct receiver **out, struct err *e)
{
	struct reader rd = { 0 };
	struct conf_hooks hooks = { on_setting, on_end };
	err_clear(e);
	int rc = conf_read_text(text, "a.conf", &hooks, &rd, e);
	if (rc != 0) {
		receiver_free(rd.r);
		*out = NULL;
		return rc;
	}
	*out = rd.r;
	return 0;
}

static void expect_error(const char *text, const char *message)
{
	struct receiver *r;
	struct err e;
	int rc = read_one(text, &r, &e);
	if (rc == 0 || !strstr(e.msg, message)) {
		print_error("wanted an error with \"%s\", got %d \"%s\"\n", message, rc, e.msg);
		fail();
	}
	assert_null(r);
}

static void test_email(void **state)
{
	(void)state;
	struct receiver *r;
	struct err e;
	char buf[512];
	assert_int_equal(read_one("[receiver ops]\n"
				  "type = email\n"
				  "server = smtp.example.com\n"
				  "user = alerts\n"
				  "password = s3cret-pw\n"
				  "from = Rusty Monitor <rmon@example.com>\n"
				  "to = ops@example.com, oncall@example.com\n"
				  "to = boss@example.com\n"
				  "cc = audit@example.com\n"
				  "subject = {rule} on {host}\n"
				  "rate_limit = 10/1h\n"
				  "give_up = 2h\n",
				  &r, &e),
			 0);
	const struct receiver_private *p = r->priv;
	assert_string_equal(r->name, "ops");
	assert_string_equal(r->file, "a.conf");
	assert_int_equal(r->line, 1);
	assert_int_equal(r->type, RECEIVER_EMAIL);
	assert_string_equal(p->server, "smtp.example.com");
	assert_int_equal(p->port, 587); /* STARTTLS's port by default */
	assert_int_equal(p->tls, RECEIVER_TLS_STARTTLS);
	assert_true(p->tls_verify);
	assert_string_equal(p->from, "rmon@example.com");
	assert_string_equal(p->from_name, "Rusty Monitor");
	assert_int_equal(p->n_to, 3);
	assert_string_equal(p->to[0], "ops@example.com");
	assert_string_equal(p->to[1], "oncall@example.com");
	assert_string_equal(p->to[2], "boss@example.com");
	assert_null(p->to[3]);
	assert_int_equal(p->n_cc, 1);
	assert_string_equal(p->subject, "{rule} on {host}");
	assert_int_equal(r->rate_limit, 10);
	assert_int_equal(r->rate_window_ns, 3600 * RTIME_NS_PER_SEC);
	assert_int_equal(r->give_up_ns, 7200 * RTIME_NS_PER_SEC);
	receiver_describe(r, buf, sizeof buf);
	assert_string_equal(buf,
			    "email to ops@example.com, oncall@example.com, boss@example.com via "
			    "smtp.example.com:587 (STARTTLS, AUTH as alerts), at most 10 per 1h");
	assert_null(strstr(buf, "s3cret"));
	/* A copy outlives its original and says the same. */
	struct receiver *copy;
	char again[512];
	assert_int_equal(receiver_dup(r, &copy, &e), 0);
	receiver_free(r);
	receiver_describe(copy, again, sizeof again);
	assert_string_equal(again, buf);
	assert_string_equal(copy->priv->password, "s3cret-pw");
	assert_string_equal(copy->priv->from_name, "Rusty Monitor");
	assert_int_equal(copy->rate_limit, 10);
	assert_int_equal(copy->line, 1);
	receiver_free(copy);

	assert_int_equal(read_one("[receiver relay]\ntype = email\nserver = 127.0.0.1\n"
				  "tls = none\nfrom = a@b.c\nto = d@e.f\n",
				  &r, &e),
			 0);
	assert_int_equal(r->priv->port, 25);
	assert_int_equal(r->give_up_ns, 3600 * RTIME_NS_PER_SEC);
	receiver_free(r);
	assert_int_equal(read_one("[receiver s]\ntype = email\nserver = mx\ntls = implicit\n"
				  "tls_verify = false\nca_file = /etc/ca.pem\nport = 2465\n"
				  "from = a@b.c\nto = d@e.f\ntimeout = 5s\n",
				  &r, &e),
			 0);
	assert_int_equal(r->priv->port, 2465);
	assert_int_equal(r->priv->tls, RECEIVER_TLS_IMPLICIT);
	assert_false(r->priv->tls_verify);
	assert_int_equal(r->priv->timeout_ns, 5 * RTIME_NS_PER_SEC);
	receiver_describe(r, buf, sizeof buf);
	assert_string_equal(buf, "email to d@e.f via mx:2465 (TLS)");
	receiver_free(r);
}

static void test_http_types(void **state)
{
	(void)state;
	struct receiver *r;
	struct err e;
	char buf[512];
	assert_int_equal(read_one("[receiver hook]\ntype = webhook\n"
				  "url = https://hooks.example.com/services/T000/B000/XXXXSECRET\n"
				  "token = tok-123\ntimeout = 3s\n",
				  &r, &e),
			 0);
	assert_string_equal(r->priv->token, "tok-123");
	receiver_describe(r, buf, sizeof buf);
	assert_string_equal(buf, "webhook: JSON POST to https://hooks.example.com/...");
	receiver_free(r);

	assert_int_equal(
	    read_one("[receiver sms]\ntype = sms\n"
		     "url = https://api.example.com/2010-04-01/Accounts/AC1/Messages.json\n"
		     "user = AC1\npassword = authtoken\n"
		     "sms_to = +15550001111, +15550002222\nsms_from = +15559990000\n",
		     &r, &e),
	    0);
	assert_int_equal(r->priv->n_sms_to, 2);
	assert_string_equal(r->priv->sms_to[1], "+15550002222");
	receiver_describe(r, buf, sizeof buf);
	assert_string_equal(buf, "sms to +15550001111, +15550002222 from +15559990000 via "
				 "https://api.example.com/...");
	assert_null(strstr(buf, "authtoken"));
	receiver_free(r);

	assert_int_equal(read_one("[receiver phone]\ntype = push\nurl = https://ntfy.sh\n"
				  "topic = rmon-alerts\npriority = 4\n",
				  &r, &e),
			 0);
	assert_int_equal(r->priv->format, RECEIVER_PUSH_NTFY);
	assert_int_equal(r->priv->priority, 4);
	receiver_describe(r, buf, sizeof buf);
	assert_string_equal(buf, "push (ntfy) to topic rmon-alerts via https://ntfy.sh/...");
	receiver_free(r);

	assert_int_equal(read_one("[receiver g]\ntype = push\nformat = gotify\n"
				  "url = http://user:pw@gotify.lan:8080/\ntoken = AbCd\n",
				  &r, &e),
			 0);
	receiver_describe(r, buf, sizeof buf);
	assert_string_equal(buf, "push (gotify) via http://gotify.lan:8080/...");
	receiver_free(r);
}

static void test_exec_and_maildir(void **state)
{
	(void)state;
	struct receiver *r;
	struct err e;
	char buf[512];
	assert_int_equal(read_one("[receiver page]\ntype = exec\n"
				  "command = /usr/local/bin/page  --to \"on call\" a\"b c\"d "
				  "\"q\\\"\\\\\" ''\n"
				  "env = PAGER_KEY=abc=def\nenv = LANG=C\n",
				  &r, &e),
			 0);
	const struct receiver_private *p = r->priv;
	assert_int_equal(p->argc, 6);
	assert_string_equal(p->argv[0], "/usr/local/bin/page");
	assert_string_equal(p->argv[1], "--to");
	assert_string_equal(p->argv[2], "on call");
	assert_string_equal(p->argv[3], "ab cd");
	assert_string_equal(p->argv[4], "q\"\\");
	assert_string_equal(p->argv[5], "''"); /* single quotes mean nothing: no shell */
	assert_null(p->argv[6]);
	assert_int_equal(p->n_env, 2);
	assert_string_equal(p->env[0], "PAGER_KEY=abc=def");
	receiver_describe(r, buf, sizeof buf);
	assert_string_equal(buf, "exec /usr/local/bin/page (5 arguments, no shell)");
	receiver_free(r);

	assert_int_equal(read_one("[receiver demo]\ntype = maildir\npath = mail\n", &r, &e), 0);
	assert_string_equal(r->priv->path, "mail");
	assert_string_equal(r->priv->from, "rmon@localhost");
	assert_string_equal(r->priv->to[0], "root@localhost");
	receiver_describe(r, buf, sizeof buf);
	assert_string_equal(buf, "maildir <data>/mail");
	receiver_free(r);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("[receiver x]\nserver = a\n", "a.conf:1: [receiver x]: type = email, webhook");
	expect_error("[receiver x]\ntype = pager\n",
		     "a.conf:2: receiver.type = 'pager': expected email, webhook, sms, push, exec "
		     "or maildir");
	expect_error("[receiver x]\ntype = email\nsevrer = a\n",
		     "a.conf:3: receiver.sevrer = 'a': unknown setting; a receiver takes type, "
		     "rate_limit");
	expect_error("[receiver x]\ntype = webhook\nurl = http://a\nserver = b\n",
		     "a.conf:4: [receiver x]: server is not a setting of a webhook receiver");
	expect_error("[receiver x]\ntype = email\nserver = a\nfrom = a@b.c\n",
		     "a.conf:1: [receiver x]: an email receiver needs to = ADDRESS");
	expect_error("[receiver x]\ntype = email\nserver = a\nto = a@b.c\n",
		     "needs from = ADDRESS");
	expect_error("[receiver x]\ntype = email\nto = a@b.c\nfrom = a@b.c\n",
		     "needs server = HOST");
	expect_error("[receiver x]\ntype = email\nto = a@b.c\tBcc: x@y.z\n",
		     "a.conf:3: receiver.to = 'a@b.c\tBcc: x@y.z': holds a control character");
	expect_error("[receiver x]\ntype = email\nto = <a@b.c>\n",
		     "a.conf:3: receiver.to = '<a@b.c>': '<a@b.c>' is not an address");
	expect_error("[receiver x]\ntype = email\nto = a@b.c,\n", "an empty address");
	expect_error("[receiver x]\ntype = email\nfrom = Bad \"Name\" <a@b.c>\n", "display name");
	expect_error("[receiver x]\ntype = email\nserver = a\nserver = b\n",
		     "a.conf:4: receiver.server = 'b': given twice (first at line 3)");
	expect_error("[receiver x]\ntype = email\nport = 0\n", "must be between 1 and 65535");
	expect_error("[receiver x]\ntype = email\ntls = ssl\n",
		     "expected none, starttls or implicit");
	expect_error("[receiver x]\ntype = email\nserver = smtp.example.com\nfrom = a@b.c\n"
		     "to = a@b.c\ntls = none\nuser = u\npassword = p\n",
		     "a.conf:6: [receiver x]: tls = none would send the password in clear");
	expect_error("[receiver x]\ntype = email\nserver = s\nfrom = a@b.c\nto = a@b.c\n"
		     "user = u\n",
		     "a.conf:6: [receiver x]: user and password go together");
	expect_error("[receiver x]\ntype = email\nrate_limit = 10\n", "expected COUNT/DURATION");
	expect_error("[receiver x]\ntype = email\nrate_limit = 0/1h\n", "from 1 to");
	expect_error("[receiver x]\ntype = email\nrate_limit = 5/10ms\n", "at least 1s");
	expect_error("[receiver x]\ntype = email\ngive_up = 10ms\n", "a.conf:3: receiver.give_up");
	expect_error("[receiver x]\ntype = webhook\n", "a webhook receiver needs url");
	expect_error("[receiver x]\ntype = webhook\nurl = ftp://a/b\n", "http:// or https://");
	expect_error("[receiver x]\ntype = webhook\nurl = not a url\n", "not a URL");
	expect_error("[receiver x]\ntype = sms\nurl = https://a/b\nuser = u\npassword = p\n"
		     "sms_from = +1555\n",
		     "needs sms_to");
	expect_error("[receiver x]\ntype = sms\nsms_to = 555-1234\n", "expected numbers like");
	expect_error("[receiver x]\ntype = push\nurl = https://a\n", "format = ntfy needs topic");
	expect_error("[receiver x]\ntype = push\nformat = gotify\nurl = https://a\n",
		     "format = gotify needs token");
	expect_error("[receiver x]\ntype = push\npriority = 9\n", "between 1 and 5");
	expect_error("[receiver x]\ntype = exec\n", "needs command = PROGRAM");
	expect_error("[receiver x]\ntype = exec\ncommand = /bin/echo \"open\n",
		     "a.conf:3: unterminated quoted value");
	expect_error("[receiver x]\ntype = exec\ncommand = /bin/true\nenv = 1A=b\n",
		     "letters, digits and _");
	expect_error("[receiver x]\ntype = exec\ncommand = /bin/true\nenv = novalue\n",
		     "expected NAME=VALUE");
	expect_error("[receiver x]\ntype = maildir\n", "needs path = FOLDER");
	expect_error("[receiver]\ntype = maildir\n", "a receiver needs a name");
}

/* A secret's value never appears in a message, whatever went wrong. */
static void test_secrets_not_shown(void **state)
{
	(void)state;
	struct receiver *r;
	struct err e;
	static const char *const texts[] = {
		"[receiver x]\ntype = email\npassword = hunter2\npassword = hunter2\n",
		"[receiver x]\ntype = email\npasswort = hunter2\n",
		"[receiver x]\ntype = webhook\ntoken = hunter2\ntoken = hunter2\n",
		"[receiver x]\ntype = webhook\napi_key = hunter2\n",
		"[receiver x]\ntype = webhook\nurl = https://a\ntoken = hunter2\npassword = "
		"hunter2\n"
		"user = u\n",
	};
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		assert_int_equal(read_one(texts[i], &r, &e), -EINVAL);
		assert_null(strstr(e.msg, "hunter2"));
		assert_non_null(strstr(e.msg, "a.conf:"));
	}
	expect_error("[receiver x]\ntype = email\npassword = \"\"\n",
		     "a.conf:3: receiver.password: must not be empty");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_email),
		cmocka_unit_test(test_http_types),
		cmocka_unit_test(test_exec_and_maildir),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_secrets_not_shown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
