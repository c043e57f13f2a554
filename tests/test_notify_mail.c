/* test_notify_mail.c - the email a notice becomes (alertd/notify_mail.c):
 * headers, both parts, the inline graph, threading, encoded words, and
 * hostile host and label values that try to inject headers or markup. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alertd/notify_mail.h"
#include "alertd/receiver.h"
#include "lib/conf.h"
#include "lib/rtime.h"

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

static struct receiver *receiver_from(const char *text)
{
	struct conf_hooks hooks = { on_setting, on_end };
	struct err e = { 0 };
	current = NULL;
	if (conf_read_text(text, "t.conf", &hooks, NULL, &e) != 0) {
		print_error("%s\n", e.msg);
		fail();
	}
	return current;
}

#define MAIL_CONF                                                                                  \
	"[receiver ops]\ntype = email\nserver = 127.0.0.1\ntls = none\n"                           \
	"from = Rusty Monitor <rmon@example.com>\nto = ops@example.com, b@example.com\n"           \
	"cc = c@example.com\n"

static const int64_t T0 = INT64_C(1764583200) * RTIME_NS_PER_SEC; /* 2025-12-01 10:00 UTC */

static struct notice_alert sample_alert(void)
{
	return (struct notice_alert){
		.alert_id = 42,
		.state = ALERT_FIRING,
		.rule = "cpu_busy",
		.severity = "critical",
		.host = "web1",
		.labels = "{cpu=\"0\"}",
		.summary = "CPU busy above 90 %",
		.description = "Line one.\nLine two.",
		.detail = "usual range 20-35 over the last 6 h",
		.series = "web1/cpu_busy{cpu=\"0\"}",
		.unit = "percent",
		.value = 97.25,
		.threshold = 90,
		.since = T0 - 300 * RTIME_NS_PER_SEC,
		.at = T0,
		.link = "https://mon.example.com/alerts/42.html",
	};
}

/* The headers (before the first empty line), unfolded. */
static char *headers_of(const char *mail)
{
	const char *end = strstr(mail, "\r\n\r\n");
	assert_non_null(end);
	size_t len = (size_t)(end - mail) + 2;
	char *h = malloc(len + 1), *o = h;
	for (size_t i = 0; i < len; i++) {
		if (mail[i] == '\r' && mail[i + 1] == '\n' &&
		    (mail[i + 2] == ' ' || mail[i + 2] == '\t'))
			i += 1; /* a fold: drop CRLF, keep the blank */
		else
			*o++ = mail[i];
	}
	*o = '\0';
	return h;
}

/* The header named name, unfolded, or NULL. */
static char *header_value(const char *headers, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = headers; *p;) {
		const char *eol = strstr(p, "\r\n");
		if (!eol)
			break;
		if (strncmp(p, name, n) == 0 && p[n] == ':' && p[n + 1] == ' ')
			return strndup(p + n + 2, (size_t)(eol - p - n - 2));
		p = eol + 2;
	}
	return NULL;
}

/* Decodes quoted-printable text (soft breaks removed). */
static char *qp_decode(const char *s, size_t len)
{
	char *out = malloc(len + 1), *o = out;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '=' && i + 2 < len && s[i + 1] == '\r' && s[i + 2] == '\n') {
			i += 2;
		} else if (s[i] == '=' && i + 2 < len) {
			char hex[3] = { s[i + 1], s[i + 2], 0 };
			*o++ = (char)strtol(hex, NULL, 16);
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

/* The decoded body of the part whose Content-Type starts with type. */
static char *part(const char *mail, const char *type)
{
	char needle[128];
	snprintf(needle, sizeof needle, "Content-Type: %s", type);
	const char *p = strstr(mail, needle);
	assert_non_null(p);
	const char *body = strstr(p, "\r\n\r\n");
	assert_non_null(body);
	body += 4;
	const char *end = strstr(body, "\r\n--=_rmon_");
	assert_non_null(end);
	return qp_decode(body, (size_t)(end - body));
}

/* Every line ends in CRLF, no bare CR or LF, no line over 998 bytes. */
static void assert_lines_ok(const char *mail, size_t len)
{
	size_t col = 0;
	for (size_t i = 0; i < len; i++) {
		if (mail[i] == '\r') {
			assert_true(i + 1 < len && mail[i + 1] == '\n');
			i++;
			col = 0;
			continue;
		}
		assert_true(mail[i] != '\n');
		assert_true((unsigned char)mail[i] < 0x80); /* 7-bit clean */
		assert_true(++col <= 998);
	}
}

static void test_firing_mail(void **state)
{
	(void)state;
	struct receiver *r = receiver_from(MAIL_CONF);
	struct notice_alert a = sample_alert();
	struct notice nt = {
		.id = 7,
		.message_id = "<alert.42.fire@rmon.example.com>",
		.kind = NOTICE_FIRING,
		.receiver = r,
		.alerts = &a,
		.n_alerts = 1,
		.created = T0,
	};
	static const unsigned char png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 1, 2, 3 };
	struct mail_graph graph = { png, sizeof png, "CPU of web1 over the last hour" };
	char *mail;
	size_t len;
	struct err e = { 0 };
	assert_int_equal(notify_mail_build(&nt, &graph, &mail, &len, &e), 0);
	assert_int_equal(strlen(mail), len);
	assert_lines_ok(mail, len);

	char *h = headers_of(mail), *v;
	assert_non_null(v = header_value(h, "Date"));
	assert_string_equal(v, "Mon, 01 Dec 2025 10:00:00 +0000");
	free(v);
	assert_non_null(v = header_value(h, "From"));
	assert_string_equal(v, "\"Rusty Monitor\" <rmon@example.com>");
	free(v);
	assert_non_null(v = header_value(h, "To"));
	assert_string_equal(v, "ops@example.com, b@example.com");
	free(v);
	assert_non_null(v = header_value(h, "Cc"));
	assert_string_equal(v, "c@example.com");
	free(v);
	assert_non_null(v = header_value(h, "Subject"));
	assert_string_equal(v, "FIRING [critical] CPU busy above 90 %");
	free(v);
	assert_non_null(v = header_value(h, "Message-ID"));
	assert_string_equal(v, "<alert.42.fire@rmon.example.com>");
	free(v);
	assert_null(header_value(h, "In-Reply-To"));
	assert_null(header_value(h, "References"));
	assert_non_null(v = header_value(h, "Content-Type"));
	assert_non_null(strstr(v, "multipart/related"));
	free(v);
	free(h);

	char *text = part(mail, "text/plain; charset=utf-8");
	assert_non_null(strstr(text, "FIRING: CPU busy above 90 %\r\n"));
	assert_non_null(strstr(text, "  Value      97.2 % (threshold 90.0 %)"));
	assert_non_null(strstr(text, "  Since      2025-12-01 09:55:00 UTC (5m ago)"));
	assert_non_null(strstr(text, "usual range 20-35 over the last 6 h"));
	assert_non_null(strstr(text, "Line one.\r\nLine two.\r\n"));
	assert_non_null(strstr(text, "Graphs and history: https://mon.example.com/alerts/42.html"));
	free(text);
	char *html = part(mail, "text/html");
	assert_non_null(strstr(html, "<img src=\"cid:graph.7@rmon\""));
	assert_non_null(strstr(html, "alt=\"CPU of web1 over the last hour\""));
	assert_non_null(strstr(html, "href=\"https://mon.example.com/alerts/42.html\""));
	assert_non_null(strstr(html, "Line one.<br>"));
	assert_null(strstr(html, "http-equiv")); /* no refresh, no external anything */
	assert_null(strstr(html, "src=\"http"));
	free(html);
	assert_non_null(strstr(mail, "Content-ID: <graph.7@rmon>\r\n"));
	assert_non_null(strstr(mail, "Content-Type: image/png"));
	assert_non_null(strstr(mail, "iVBORw0KGgoBAgM=\r\n")); /* the PNG's bytes in base64 */
	free(mail);
	receiver_free(r);
}

static void test_resolved_threads(void **state)
{
	(void)state;
	struct receiver *r = receiver_from(MAIL_CONF "subject = {state}: {rule} on {host} = "
						     "{value}\n");
	struct notice_alert a = sample_alert();
	a.state = ALERT_RESOLVED;
	a.value = 41;
	a.at = T0 + 600 * RTIME_NS_PER_SEC;
	struct notice nt = {
		.id = 8,
		.message_id = "<alert.42.resolved@rmon.example.com>",
		.thread_id = "<alert.42.fire@rmon.example.com>",
		.kind = NOTICE_RESOLVED,
		.receiver = r,
		.alerts = &a,
		.n_alerts = 1,
		.created = T0 + 600 * RTIME_NS_PER_SEC,
	};
	char *mail, *h, *v;
	size_t len;
	assert_int_equal(notify_mail_build(&nt, NULL, &mail, &len, NULL), 0);
	assert_lines_ok(mail, len);
	h = headers_of(mail);
	assert_non_null(v = header_value(h, "In-Reply-To"));
	assert_string_equal(v, "<alert.42.fire@rmon.example.com>");
	free(v);
	assert_non_null(v = header_value(h, "References"));
	assert_string_equal(v, "<alert.42.fire@rmon.example.com>");
	free(v);
	assert_non_null(v = header_value(h, "Subject"));
	assert_string_equal(v, "RESOLVED: cpu_busy on web1 = 41.0 %");
	free(v);
	assert_non_null(v = header_value(h, "Content-Type"));
	assert_non_null(strstr(v, "multipart/alternative")); /* no graph: no related part */
	free(v);
	free(h);
	char *text = part(mail, "text/plain");
	assert_non_null(strstr(text, "RESOLVED: CPU busy above 90 %"));
	assert_non_null(strstr(text, "  Resolved   2025-12-01 10:10:00 UTC, after 15m"));
	free(text);
	assert_null(strstr(mail, "image/png"));
	free(mail);
	receiver_free(r);
}

/* Host and label values that try to end a header, add a Bcc, or inject
 * markup; a Message-ID that tries the same. */
static void test_hostile_values(void **state)
{
	(void)state;
	struct receiver *r = receiver_from(MAIL_CONF "subject = {host} {labels} {summary}\n");
	struct notice_alert a = sample_alert();
	a.host = "web1\r\nBcc: victim@example.org\r\n\r\n<b>x";
	a.labels = "{path=\"</td><script>alert(1)</script>\"}";
	a.summary = "disk \x1b[31mred\n\rBcc: a@b.c";
	a.description = "<img src=http://evil/x.png onerror=alert(1)>";
	a.link = "javascript:alert(1)";
	struct notice nt = {
		.id = 9,
		.message_id = "<x@y>\r\nBcc: victim@example.org",
		.thread_id = "<a@b>\nBcc: c@d",
		.kind = NOTICE_FIRING,
		.receiver = r,
		.alerts = &a,
		.n_alerts = 1,
		.created = T0,
	};
	char *mail, *h, *v;
	size_t len;
	assert_int_equal(notify_mail_build(&nt, NULL, &mail, &len, NULL), 0);
	assert_lines_ok(mail, len);
	h = headers_of(mail);
	assert_null(header_value(h, "Bcc"));
	assert_null(strstr(h, "\r\nBcc:"));
	assert_non_null(v = header_value(h, "Message-ID"));
	assert_string_equal(v, "<notice.9@rmon.invalid>"); /* the bad one replaced */
	free(v);
	assert_null(header_value(h, "In-Reply-To"));
	assert_non_null(v = header_value(h, "Subject"));
	assert_non_null(strstr(v, "web1\\r\\nBcc: victim@example.org\\r\\n\\r\\n<b>x"));
	assert_non_null(strstr(v, "disk \\x1b[31mred\\n\\rBcc: a@b.c"));
	free(v);
	free(h);
	char *html = part(mail, "text/html");
	assert_null(strstr(html, "<script"));
	assert_null(strstr(html, "<b>"));
	assert_null(strstr(html, "<img src=http"));
	assert_null(strstr(html, "javascript:"));
	assert_non_null(strstr(html, "&lt;/td&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
	assert_non_null(strstr(html, "&lt;img src=http://evil/x.png onerror=alert(1)&gt;"));
	free(html);
	char *text = part(mail, "text/plain");
	assert_null(strstr(text, "\x1b"));
	assert_null(strstr(text, "javascript:"));
	free(text);
	free(mail);
	receiver_free(r);
}

/* Non-ASCII subjects and names go out as RFC 2047 encoded words, cut at
 * character boundaries, each line short. */
static void test_encoded_words(void **state)
{
	(void)state;
	struct receiver *r = receiver_from(
	    "[receiver m]\ntype = maildir\npath = mail\nfrom = Überwachung <rmon@example.com>\n");
	struct notice_alert a = sample_alert();
	a.summary = "Plattenplatz fast erschöpft – noch 3 % frei auf /srv/daten (äöü ÄÖÜ ß)";
	struct notice nt = {
		.id = 10,
		.message_id = "<a.10@example.com>",
		.kind = NOTICE_FIRING,
		.receiver = r,
		.alerts = &a,
		.n_alerts = 1,
		.created = T0,
	};
	char *mail, *h, *v;
	size_t len;
	assert_int_equal(notify_mail_build(&nt, NULL, &mail, &len, NULL), 0);
	assert_lines_ok(mail, len);
	h = headers_of(mail);
	assert_non_null(v = header_value(h, "Subject"));
	assert_true(strncmp(v, "=?UTF-8?B?", 10) == 0);
	/* Decoding the words gives the subject back. */
	char decoded[512] = "", *p = v;
	while ((p = strstr(p, "=?UTF-8?B?"))) {
		p += 10;
		char *end = strstr(p, "?=");
		assert_non_null(end);
		static const char digits[] =
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		unsigned bits = 0, n = 0;
		size_t o = strlen(decoded);
		for (char *c = p; c < end && *c != '='; c++) {
			bits = bits << 6 | (unsigned)(strchr(digits, *c) - digits);
			if ((n += 6) >= 8)
				decoded[o++] = (char)(bits >> (n -= 8));
		}
		decoded[o] = '\0';
		p = end + 2;
	}
	assert_string_equal(decoded,
			    "FIRING [critical] Plattenplatz fast erschöpft – noch 3 % frei "
			    "auf /srv/daten (äöü ÄÖÜ ß)");
	free(v);
	assert_non_null(v = header_value(h, "From"));
	assert_string_equal(v, "=?UTF-8?B?w5xiZXJ3YWNodW5n?= <rmon@example.com>");
	free(v);
	assert_non_null(v = header_value(h, "To"));
	assert_string_equal(v, "root@localhost"); /* a maildir's default */
	free(v);
	free(h);
	/* Each physical header line stays within 78 characters. */
	for (const char *line = mail; line < strstr(mail, "\r\n\r\n");) {
		const char *eol = strstr(line, "\r\n");
		assert_true(eol - line <= 78);
		line = eol + 2;
	}
	free(mail);
	receiver_free(r);
}

static void test_digest_and_groups(void **state)
{
	(void)state;
	struct receiver *r = receiver_from(MAIL_CONF);
	struct notice_alert a[2] = { sample_alert(), sample_alert() };
	a[1].host = "web2";
	a[1].alert_id = 43;
	a[1].state = ALERT_RESOLVED;
	struct notice nt = {
		.id = 11,
		.message_id = "<d.11@example.com>",
		.kind = NOTICE_DIGEST,
		.receiver = r,
		.alerts = a,
		.n_alerts = 2,
		.n_held = 17,
		.created = T0,
	};
	char *mail, *h, *v;
	size_t len;
	assert_int_equal(notify_mail_build(&nt, NULL, &mail, &len, NULL), 0);
	h = headers_of(mail);
	assert_non_null(v = header_value(h, "Subject"));
	assert_string_equal(v, "DIGEST [critical] CPU busy above 90 % (and 1 more) - 17 held back");
	free(v);
	free(h);
	char *text = part(mail, "text/plain");
	assert_non_null(strstr(text, "held back 17 messages"));
	assert_non_null(strstr(text, "  Host       web2"));
	free(text);
	free(mail);

	/* Not a mail receiver: refused. */
	struct receiver *hook = receiver_from("[receiver h]\ntype = webhook\nurl = http://a/\n");
	nt.receiver = hook;
	struct err e = { 0 };
	assert_int_equal(notify_mail_build(&nt, NULL, &mail, &len, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "receiver h is not an email"));
	receiver_free(hook);
	receiver_free(r);
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_firing_mail),	  cmocka_unit_test(test_resolved_threads),
		cmocka_unit_test(test_hostile_values),	  cmocka_unit_test(test_encoded_words),
		cmocka_unit_test(test_digest_and_groups),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
