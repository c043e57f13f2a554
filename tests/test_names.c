/* test_names.c - the name rules (lib/series_name.h), strict UTF-8
 * (lib/utf8.h) and the output escapers (lib/escape.h), and where they are
 * applied: log lines (lib/log.c), the agent's names (collectd/output.c),
 * a store that already holds bad names (store/query.c) and the rmon
 * command's outputs (cli/).  Every name class meets control characters,
 * escape sequences, CR/LF, bidi overrides, invalid UTF-8, overlong forms
 * and surrogates. */
#include <errno.h>
#include <getopt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/cli.h"
#include "collectd/output.h"
#include "lib/escape.h"
#include "lib/log.h"
#include "lib/series_name.h"
#include "lib/utf8.h"
#include "net/proto.h"
#include "store/db.h"
#include "store/query.h"

/* Hostile fragments every name class meets. */
static const char *const hostile[] = {
	"\n",		    /* LF: a forged line */
	"\r",		    /* CR: overwrites the line on a terminal */
	"\x1b]0;pwned\x07", /* OSC: sets the terminal's title */
	"\x1b[2J",	    /* CSI: clears the screen */
	"\x7f",		    /* DEL */
	"\xc2\x9b",	    /* U+009B, the C1 CSI */
	"\xe2\x80\xae",	    /* U+202E RIGHT-TO-LEFT OVERRIDE */
	"\xe2\x81\xa6",	    /* U+2066 LEFT-TO-RIGHT ISOLATE */
	"\xe2\x80\xa8",	    /* U+2028 LINE SEPARATOR */
	"\xff",		    /* never UTF-8 */
	"\xc0\xaf",	    /* overlong '/' */
	"\xc0\x8a",	    /* overlong LF */
	"\xed\xa0\x80",	    /* a surrogate, U+D800 */
	"\xf4\x90\x80\x80", /* above U+10FFFF */
	"\xe2\x82",	    /* a sequence cut short */
	"\x80",		    /* a stray continuation byte */
};
#define N_HOSTILE (sizeof hostile / sizeof hostile[0])

/* True when s is well-formed UTF-8 without an unsafe code point: what no
 * output may break.  Written here byte by byte, independently of utf8.c. */
static bool clean_utf8(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n;
		if (u[i] < 0x80)
			cp = u[i], n = 1;
		else if (u[i] >= 0xc2 && u[i] <= 0xdf)
			cp = u[i] & 0x1f, n = 2;
		else if (u[i] >= 0xe0 && u[i] <= 0xef)
			cp = u[i] & 0x0f, n = 3;
		else if (u[i] >= 0xf0 && u[i] <= 0xf4)
			cp = u[i] & 0x07, n = 4;
		else
			return false;
		if (i + n > len)
			return false;
		for (size_t k = 1; k < n; k++) {
			if ((u[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (u[i + k] & 0x3f);
		}
		if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
		    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
			return false;
		i += n;
	}
	return true;
}

static void test_utf8_is_strict(void **state)
{
	static const struct {
		const char *s;
		size_t len, want;
		uint32_t cp;
	} cases[] = {
		{ "a", 1, 1, 'a' },
		{ "\xc3\xbc", 2, 2, 0xfc },
		{ "\xe2\x82\xac", 3, 3, 0x20ac },
		{ "\xf0\x9f\x98\x80", 4, 4, 0x1f600 },
		{ "\xf4\x8f\xbf\xbf", 4, 4, 0x10ffff },
		{ "\xc0\xaf", 2, 0, 0 },	 /* overlong '/' */
		{ "\xe0\x80\xaf", 3, 0, 0 },	 /* overlong '/' */
		{ "\xf0\x80\x80\xaf", 4, 0, 0 }, /* overlong '/' */
		{ "\xc1\xbf", 2, 0, 0 },	 /* overlong DEL */
		{ "\xed\xa0\x80", 3, 0, 0 },	 /* U+D800 */
		{ "\xed\xbf\xbf", 3, 0, 0 },	 /* U+DFFF */
		{ "\xf4\x90\x80\x80", 4, 0, 0 }, /* U+110000 */
		{ "\xf8\x88\x80\x80\x80", 5, 0, 0 },
		{ "\xff", 1, 0, 0 },
		{ "\x80", 1, 0, 0 },
		{ "\xe2\x82\xac", 2, 0, 0 }, /* cut by the length */
		{ "\xe2\x28\xa1", 3, 0, 0 }, /* a bad continuation */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint32_t cp = 0;
		size_t n = utf8_next(cases[i].s, cases[i].len, &cp);
		if (n != cases[i].want || (n && cp != cases[i].cp))
			fail_msg("case %zu: got %zu U+%04X", i, n, cp);
	}
	assert_true(utf8_unsafe(0) && utf8_unsafe('\n') && utf8_unsafe(0x1b) && utf8_unsafe(0x7f) &&
		    utf8_unsafe(0x85) && utf8_unsafe(0x9f) && utf8_unsafe(0x202a) &&
		    utf8_unsafe(0x202e) && utf8_unsafe(0x2066) && utf8_unsafe(0x2069) &&
		    utf8_unsafe(0x2028) && utf8_unsafe(0x2029));
	assert_false(utf8_unsafe(' ') || utf8_unsafe('~') || utf8_unsafe(0xa0) ||
		     utf8_unsafe(0xfc) || utf8_unsafe(0x2030) || utf8_unsafe(0x206a) ||
		     utf8_unsafe(0xfffd) || utf8_unsafe(0x1f600));
}

/* Checks `check` refuses part and its message names byte `at`. */
static void refused_at(int (*check)(const char *, size_t, struct err *), const char *part,
		       size_t len, size_t at)
{
	struct err e = { 0 };
	char want[32];
	if (check(part, len, &e) != -EINVAL)
		fail_msg("accepted %zu bytes starting '%.8s'", len, part);
	snprintf(want, sizeof want, "at byte %zu:", at);
	if (!strstr(e.msg, want))
		fail_msg("'%s' does not say '%s'", e.msg, want);
	assert_true(clean_utf8(e.msg, strlen(e.msg))); /* the message itself is safe */
}

static void test_host_rule(void **state)
{
	static const char *const good[] = { "web1",	   "db-2.example.com",
					    "::1",	   "fe80::1",
					    "under_score", "A",
					    "10.0.0.1:22", "x-" };
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		assert_int_equal(series_check_host(good[i], strlen(good[i]), NULL), 0);
	char long_host[SERIES_HOST_MAX + 2];
	memset(long_host, 'h', sizeof long_host);
	assert_int_equal(series_check_host(long_host, SERIES_HOST_MAX, NULL), 0);
	refused_at(series_check_host, long_host, SERIES_HOST_MAX + 1, 0);
	refused_at(series_check_host, "", 0, 0);
	refused_at(series_check_host, "..", 2, 0);
	refused_at(series_check_host, ".hidden", 7, 0);
	refused_at(series_check_host, "-rf", 3, 0);
	refused_at(series_check_host, "a b", 3, 1);
	refused_at(series_check_host, "a/b", 3, 1);
	refused_at(series_check_host, "a{b", 3, 1);
	refused_at(series_check_host, "a\"b", 3, 1);
	for (size_t i = 0; i < N_HOSTILE; i++) {
		char host[32];
		int n = snprintf(host, sizeof host, "web%s1", hostile[i]);
		refused_at(series_check_host, host, (size_t)n, 3);
	}
	struct err e = { 0 };
	assert_int_equal(series_check_host("lf\nhost", 7, &e), -EINVAL);
	assert_string_equal(e.msg, "bad host name \"lf\\nhost\" at byte 2: byte 0x0a is not "
				   "allowed (letters, digits, '.', '-', '_', ':')");
}

static void test_metric_and_label_name_rules(void **state)
{
	assert_int_equal(series_check_metric("node_cpu_seconds_total", 22, NULL), 0);
	assert_int_equal(series_check_metric(":recorded:rule_1", 16, NULL), 0);
	assert_int_equal(series_check_label_name("_le", 3, NULL), 0);
	refused_at(series_check_metric, "", 0, 0);
	refused_at(series_check_metric, "9up", 3, 0);
	refused_at(series_check_metric, "node-load", 9, 4);
	refused_at(series_check_metric, "a.b", 3, 1);
	refused_at(series_check_label_name, "a:b", 3, 1);
	refused_at(series_check_label_name, "0x", 2, 0);
	refused_at(series_check_label_name, "", 0, 0);
	for (size_t i = 0; i < N_HOSTILE; i++) {
		char part[32];
		int n = snprintf(part, sizeof part, "ab%s", hostile[i]);
		refused_at(series_check_metric, part, (size_t)n, 2);
		refused_at(series_check_label_name, part, (size_t)n, 2);
	}
}

static void test_label_value_rule(void **state)
{
	static const char *const good[] = { "",	   "/var/lib/docker", "a \"quoted\" \\ value",
					    "ü€😀", "\xef\xbf\xbd",    "tab-less\xc2\xa0nbsp" };
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		assert_int_equal(series_check_label_value(good[i], strlen(good[i]), NULL), 0);
	for (size_t i = 0; i < N_HOSTILE; i++) {
		char value[32];
		int n = snprintf(value, sizeof value, "ok %s", hostile[i]);
		refused_at(series_check_label_value, value, (size_t)n, 3);
	}
	refused_at(series_check_label_value, "a\0b", 3, 1);
	struct err e = { 0 };
	assert_int_equal(series_check_label_value("x\xe2\x80\xaey", 5, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "U+202E is a control or bidirectional character"));
	assert_non_null(strstr(e.msg, "\"x\\u202ey\"")); /* shown escaped */
	assert_int_equal(series_check_label_value("\xc0\x8a", 2, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "byte 0xc0 is not valid UTF-8"));
}

static void name_ok(const char *name)
{
	struct err e = { 0 };
	if (series_name_check(name, strlen(name), &e) != 0)
		fail_msg("refused %s: %s", name, e.msg);
}

static void name_refused(const char *name, size_t len, const char *what)
{
	struct err e = { 0 };
	if (series_name_check(name, len, &e) != -EINVAL)
		fail_msg("accepted %.*s", (int)len, name);
	if (!strstr(e.msg, what))
		fail_msg("'%s' does not say '%s'", e.msg, what);
	assert_true(clean_utf8(e.msg, strlen(e.msg)));
}

static void test_whole_name_check(void **state)
{
	name_ok("h/up");
	name_ok("web1/node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"}");
	name_ok("h/m{a=\"\",b=\"x\\\"y\\\\z\",c=\"ü\"}");
	name_ok("::1/node_load1");
	name_refused("", 0, "1 to 1024 bytes");
	name_refused("nohost", 6, "no '/' after the host");
	name_refused("/m", 2, "host at byte 0");
	name_refused("h/", 2, "metric at byte 2");
	name_refused("h/m{}", 5, "label name at byte 4");
	name_refused("h/m{a=1}", 8, "expected name=\"value\"");
	name_refused("h/m{a=\"1\"", 9, "label list at byte 9: expected ',' or a final '}'");
	name_refused("h/m{a=\"1}", 9, "label value at byte 9: the quote is never closed");
	name_refused("h/m{a=\"1\"}x", 11, "label list at byte 9");
	name_refused("h/m{a=\"1\";b=\"2\"}", 16, "expected ',' or a final '}'");
	name_refused("h/m{b=\"1\",a=\"2\"}", 16, "sorted by name, each once");
	name_refused("h/m{a=\"1\",a=\"2\"}", 16, "sorted by name, each once");
	name_refused("h/m{ab=\"1\",a=\"2\"}", 17, "sorted by name, each once");
	name_refused("h/m{a=\"x\\ny\"}", 13,
		     "label value at byte 8: only \\\\ and \\\" are escapes");
	name_refused("h/m{a=\"x\\\"}", 11, "the quote is never closed");
	char big[SERIES_NAME_MAX + 2];
	memset(big, 'x', sizeof big);
	big[0] = 'h', big[1] = '/';
	name_refused(big, sizeof big, "1 to 1024 bytes");
	/* Every hostile fragment in every part, each named with its position. */
	for (size_t i = 0; i < N_HOSTILE; i++) {
		static const char *const shapes[] = { "we%sb/m{k=\"v\"}", "web/m%s{k=\"v\"}",
						      "web/m{k%s=\"v\"}", "web/m{k=\"v%s\"}" };
		static const char *const where[] = { "host at byte 2", "metric at byte 5",
						     "label name at byte 7",
						     "label value at byte 10" };
		for (size_t k = 0; k < 4; k++) {
			char name[64];
			int n = snprintf(name, sizeof name, shapes[k], hostile[i]);
			name_refused(name, (size_t)n, where[k]);
		}
	}
}

/* series_canonical obeys the same rules: what it writes passes the check,
 * and what the check refuses it refuses too. */
static void test_canonical_agrees_with_check(void **state)
{
	char buf[SERIES_NAME_MAX + 1];
	struct err e = { 0 };
	struct series_label labels[] = { { "z", "a\"b\\c" }, { "mode", "ü€" }, { "a", "" } };
	int len = series_canonical(buf, sizeof buf, "db-1.example", "m:x_1", labels, 3, &e);
	assert_true(len > 0);
	assert_int_equal(series_name_check(buf, (size_t)len, &e), 0);
	for (size_t i = 0; i < N_HOSTILE; i++) {
		struct series_label l[1] = { { "comm", hostile[i] } };
		assert_int_equal(series_canonical(buf, sizeof buf, "h", "m", l, 1, &e), -EINVAL);
		assert_non_null(strstr(e.msg, "bad label value"));
		assert_true(clean_utf8(e.msg, strlen(e.msg)));
		char host[32], cleaned[64];
		snprintf(host, sizeof host, "h%s", hostile[i]);
		assert_int_equal(series_canonical(buf, sizeof buf, host, "m", NULL, 0, &e),
				 -EINVAL);
		/* The agent's way out: the value as a terminal would show it. */
		escape(ESCAPE_TEXT, cleaned, sizeof cleaned, hostile[i], strlen(hostile[i]));
		l[0].value = cleaned;
		len = series_canonical(buf, sizeof buf, "h", "m", l, 1, &e);
		assert_true(len > 0);
		assert_int_equal(series_name_check(buf, (size_t)len, NULL), 0);
	}
}

static char *escaped(enum escape_style style, const char *s, size_t len)
{
	static char out[512];
	size_t n = escape(style, out, sizeof out, s, len);
	assert_true(n < sizeof out);
	assert_int_equal(n, strlen(out));
	return out;
}

static void test_escape_table(void **state)
{
	const char in[] = "a\"b\\c\n\r\t\x1b]0;x\x07\x7f\xc2\x85\xe2\x80\xae\xff\xc0\xafü";
	size_t len = sizeof in - 1;
	assert_string_equal(escaped(ESCAPE_TEXT, in, len),
			    "a\"b\\c\\n\\r\\t\\x1b]0;x\\x07\\x7f\\u0085\\u202e\\xff\\xc0\\xafü");
	assert_string_equal(
	    escaped(ESCAPE_CSV, in, len),
	    "\"a\"\"b\\c\\n\\r\\t\\x1b]0;x\\x07\\x7f\\u0085\\u202e\\xff\\xc0\\xafü\"");
	assert_string_equal(
	    escaped(ESCAPE_LOG, in, len),
	    "\"a\\\"b\\\\c\\n\\r\\t\\x1b]0;x\\x07\\x7f\\u0085\\u202e\\xff\\xc0\\xafü\"");
	assert_string_equal(escaped(ESCAPE_JSON, in, len),
			    "\"a\\\"b\\\\c\\n\\r\\t\\u001b]0;x\\u0007\\u007f\\u0085\\u202e\\ufffd"
			    "\\ufffd\\ufffdü\"");
	assert_string_equal(escaped(ESCAPE_JSON, "\b\f\0", 3), "\"\\b\\f\\u0000\"");
	assert_string_equal(escaped(ESCAPE_TEXT, "", 0), "");
	assert_string_equal(escaped(ESCAPE_CSV, "", 0), "\"\"");
	char q[64];
	assert_string_equal(escape_quote(q, sizeof q, "admin\ninfo ingest: x"),
			    "\"admin\\ninfo ingest: x\"");
}

/* A cut keeps whole escapes and the closing quote, and tells the length
 * the whole result needs. */
static void test_escape_cut(void **state)
{
	const char in[] = "ab\x1b"
			  "cd";
	char full[64], out[64];
	for (int style = ESCAPE_TEXT; style <= ESCAPE_LOG; style++) {
		size_t want = escape((enum escape_style)style, full, sizeof full, in, 5);
		assert_int_equal(escape((enum escape_style)style, NULL, 0, in, 5), want);
		for (size_t cap = 0; cap <= want + 1; cap++) {
			memset(out, '#', sizeof out);
			size_t got = escape((enum escape_style)style, out, cap, in, 5);
			assert_int_equal(got, want);
			if (cap == 0) {
				assert_true(out[0] == '#');
				continue;
			}
			size_t n = strlen(out);
			assert_true(n < cap);
			assert_true(n <= want);
			if (n == want)
				assert_string_equal(out, full);
			/* No half escape: a backslash is followed by its whole tail. */
			const char *bs = strchr(out, '\\');
			if (bs)
				assert_true(strncmp(bs, style == ESCAPE_JSON ? "\\u001b" : "\\x1b",
						    style == ESCAPE_JSON ? 6 : 4) == 0);
			if (style != ESCAPE_TEXT && n > 0)
				assert_true(n >= 2 && out[0] == '"' && out[n - 1] == '"');
		}
	}
}

/* Decodes a JSON string literal (the whole of s) into out as UTF-8;
 * false when it is not valid JSON. */
static bool json_decode(const char *s, size_t len, char *out, size_t *out_len)
{
	size_t o = 0;
	if (len < 2 || s[0] != '"' || s[len - 1] != '"')
		return false;
	for (size_t i = 1; i < len - 1; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == '"')
			return false;
		if (c != '\\') {
			out[o++] = (char)c;
			continue;
		}
		if (++i >= len - 1)
			return false;
		const char *simple = strchr("\"\\/bfnrt", s[i]);
		if (simple && s[i]) {
			out[o++] = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
			continue;
		}
		unsigned cp;
		if (s[i] != 'u' || i + 4 >= len - 1 || sscanf(s + i + 1, "%4x", &cp) != 1)
			return false;
		i += 4;
		if (cp >= 0xd800 && cp <= 0xdfff)
			return false; /* never written: no pairs needed below U+10000 */
		if (cp < 0x80) {
			out[o++] = (char)cp;
		} else if (cp < 0x800) {
			out[o++] = (char)(0xc0 | cp >> 6);
			out[o++] = (char)(0x80 | (cp & 0x3f));
		} else {
			out[o++] = (char)(0xe0 | cp >> 12);
			out[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
			out[o++] = (char)(0x80 | (cp & 0x3f));
		}
	}
	*out_len = o;
	/* Valid UTF-8, unsafe code points allowed (they were \u escapes). */
	for (size_t i = 0; i < o;) {
		uint32_t cp;
		size_t n = utf8_next(out + i, o - i, &cp);
		if (!n)
			return false;
		i += n;
	}
	return true;
}

static bool valid_utf8(const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_next(s + i, len - i, &cp);
		if (!n)
			return false;
		i += n;
	}
	return true;
}

/* Random mixes of hostile fragments and random bytes: every style's output
 * is clean UTF-8, quoted styles are balanced, JSON decodes back to the
 * input when the input was UTF-8, and escape and escape_print agree. */
static void test_escape_random(void **state)
{
	static const char *const friendly[] = { "a", "\"", "\\", "ü", "€", "😀", " ", "," };
	srand(20261201);
	for (int round = 0; round < 20000; round++) {
		char in[256], out[2048], printed[2048], decoded[2048];
		size_t len = 0;
		int parts = rand() % 12;
		for (int k = 0; k < parts; k++) {
			int pick = rand() % 3;
			const char *frag = pick == 0   ? hostile[rand() % N_HOSTILE]
					   : pick == 1 ? friendly[rand() % 8]
						       : NULL;
			if (frag) {
				memcpy(in + len, frag, strlen(frag));
				len += strlen(frag);
			} else {
				in[len++] = (char)(rand() & 0xff);
			}
		}
		if (rand() % 7 == 0)
			in[len++] = '\0';
		for (int style = ESCAPE_TEXT; style <= ESCAPE_LOG; style++) {
			size_t n = escape((enum escape_style)style, out, sizeof out, in, len);
			assert_true(n < sizeof out);
			assert_true(clean_utf8(out, n));
			FILE *f = fmemopen(printed, sizeof printed, "w");
			assert_int_equal(escape_print(f, (enum escape_style)style, in, len), 0);
			long m = ftell(f);
			fclose(f);
			assert_int_equal((size_t)m, n);
			assert_memory_equal(printed, out, n);
			if (style == ESCAPE_TEXT && clean_utf8(in, len))
				assert_memory_equal(out, in, len); /* nothing to escape */
			if (style == ESCAPE_CSV || style == ESCAPE_LOG) {
				assert_true(n >= 2 && out[0] == '"' && out[n - 1] == '"');
				for (size_t i = 1; i + 1 < n; i++) {
					if (style == ESCAPE_LOG && out[i] == '\\')
						i++;
					else if (out[i] == '"')
						assert_true(style == ESCAPE_CSV && out[++i] == '"');
				}
			}
			if (style == ESCAPE_JSON) {
				size_t d;
				if (!json_decode(out, n, decoded, &d))
					fail_msg("invalid JSON: %s", out);
				if (valid_utf8(in, len)) {
					assert_int_equal(d, len);
					assert_memory_equal(decoded, in, len);
				}
			}
		}
	}
}

/* ---- where the rules are applied ---- */

/* The decoder refuses a HELLO whose host breaks the rule, before anyone
 * logs or stores it; the message shows the host escaped. */
static void test_hello_refuses_bad_hosts(void **state)
{
	uint8_t nonce[PROTO_NONCE_BYTES] = { 0 };
	for (size_t i = 0; i <= N_HOSTILE; i++) {
		char host[64];
		snprintf(host, sizeof host, "web%s", i < N_HOSTILE ? hostile[i] : "-1.example");
		struct proto_buf b = { 0 };
		struct proto_msg m;
		struct err e = { 0 };
		assert_int_equal(proto_put_hello(&b, host, "agent", nonce, false), 0);
		int rc = proto_decode_control(b.data + PROTO_HEADER_BYTES,
					      b.len - PROTO_HEADER_BYTES, &m, &e);
		if (i == N_HOSTILE) {
			assert_int_equal(rc, 0);
		} else {
			assert_int_equal(rc, -EPROTO);
			assert_non_null(strstr(e.msg, "HELLO frame: bad host name \"web"));
			assert_true(clean_utf8(e.msg, strlen(e.msg)));
		}
		proto_buf_free(&b);
	}
}

/* Runs fn with stdout and stderr going to temporary files; returns what
 * went to fd (malloc'd, NUL-terminated), its length in *len. */
static char *capture(int fd, void (*fn)(void *), void *arg, size_t *len)
{
	fflush(NULL);
	FILE *tmp[2] = { tmpfile(), tmpfile() };
	int saved[2];
	for (int i = 0; i < 2; i++) {
		assert_non_null(tmp[i]);
		saved[i] = dup(i + 1);
		assert_true(saved[i] >= 0 && dup2(fileno(tmp[i]), i + 1) >= 0);
	}
	fn(arg);
	fflush(NULL);
	for (int i = 0; i < 2; i++) {
		assert_true(dup2(saved[i], i + 1) >= 0);
		close(saved[i]);
	}
	int wanted = fd == STDOUT_FILENO ? 0 : 1;
	off_t n = lseek(fileno(tmp[wanted]), 0, SEEK_END); /* written through the descriptor */
	char *text = calloc(1, (size_t)n + 1);
	assert_int_equal(pread(fileno(tmp[wanted]), text, (size_t)n, 0), (ssize_t)n);
	fclose(tmp[0]);
	fclose(tmp[1]);
	*len = (size_t)n;
	return text;
}

/* No byte below 0x20 but the line ends, no DEL, clean UTF-8 per line. */
static void assert_no_raw_controls(const char *text, size_t len)
{
	const char *line = text;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '\n') {
			if (!clean_utf8(line, (size_t)(text + i - line)))
				fail_msg("unsafe line: %.*s", (int)(text + i - line), line);
			line = text + i + 1;
		} else if (c < 0x20 || c == 0x7f) {
			fail_msg("raw control byte 0x%02x at %zu in: %s", c, i, text);
		}
	}
	assert_true(clean_utf8(line, (size_t)(text + len - line)));
}

static void log_forgeries(void *arg)
{
	(void)arg;
	log_info("ingest", "host %s connected from %s",
		 "x\ninfo ingest: host admin connected from 10.0.0.1:4242 (TLS)", "127.0.0.1:1");
	log_warn("ingest", "%s", "\x1b]0;owned\x07\r\xe2\x80\xae\xff");
}

/* A newline in a value cannot start a log line of its own. */
static void test_log_lines_stay_one_line(void **state)
{
	size_t len;
	char *text = capture(STDERR_FILENO, log_forgeries, NULL, &len);
	assert_no_raw_controls(text, len);
	size_t lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	assert_int_equal(lines, 2);
	assert_non_null(strstr(text, "info ingest: host x\\ninfo ingest: host admin"));
	assert_non_null(strstr(text, "warn ingest: \\x1b]0;owned\\x07\\r\\u202e\\xff\n"));
	free(text);
}

static void emit_hostile(void *arg)
{
	struct coll_output *o = arg;
	struct coll_sink *sink = coll_output_sink(o);
	coll_output_begin(o, 1000);
	for (size_t i = 0; i < N_HOSTILE; i++) {
		coll_emit1(sink, "rmon_top_cpu_ratio", "comm", hostile[i], (double)i);
		coll_emit2(sink, "node_filesystem_size_bytes", "mountpoint", hostile[i], "device",
			   "/dev/x\x1b", (double)i);
	}
	coll_emit(sink, "node_vmstat_we(ird-field)", 1);
	coll_emit(sink, "node_memory_\xff\x1b", 2);
	coll_output_end(o);
}

/* The agent escapes what it reads from the system instead of losing the
 * series: every value arrives, under a valid name. */
static void test_agent_cleans_system_names(void **state)
{
	struct coll_config c;
	coll_config_default(&c);
	snprintf(c.host, sizeof c.host, "web1");
	FILE *out = tmpfile();
	struct coll_output *o = coll_output_new(&c, out);
	emit_hostile(o);
	long n = ftell(out);
	char *text = calloc(1, (size_t)n + 1);
	rewind(out);
	assert_int_equal(fread(text, 1, (size_t)n, out), (size_t)n);
	fclose(out);
	struct coll_output_stats st;
	coll_output_stats(o, &st);
	assert_int_equal(st.bad_names, 0);
	assert_no_raw_controls(text, (size_t)n);
	size_t lines = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), lines++) {
		char *space = strrchr(line, ' ');
		assert_non_null(space);
		if (series_name_check(line, (size_t)(space - line), NULL) != 0)
			fail_msg("bad name printed: %s", line);
	}
	assert_int_equal(lines, 2 * N_HOSTILE + 2);
	coll_output_free(o);
	coll_config_release(&c);
	free(text);
}

static char data[64];

static int make_store(void **state)
{
	snprintf(data, sizeof data, "/tmp/rmon-test-names-XXXXXX");
	return mkdtemp(data) ? 0 : -1;
}

static int remove_store(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", data);
	return system(cmd) == 0 ? 0 : -1;
}

static int count_names(void *ctx, uint64_t id, const char *name, size_t len)
{
	size_t *n = ctx;
	assert_int_equal(series_name_check(name, len, NULL), 0);
	(*n)++;
	return 0;
}

static void run_series(void *arg)
{
	char *argv[] = { "series", "--data", data, NULL };
	optind = 0;
	assert_int_equal(cmd_series(3, argv), 0);
}

static void run_query(void *arg)
{
	char *argv[] = { "query",  "--data",   data, "--from", "0", "--to",
			 "now+1d", "--format", arg,  "*",      NULL };
	optind = 0;
	assert_int_equal(cmd_query(10, argv), 0);
}

/* A store written before the rules may hold bad names: readers never hand
 * them out, the outputs stay clean, and the person is told how many. */
static void test_store_with_bad_names(void **state)
{
	char dir[128];
	snprintf(dir, sizeof dir, "%s/db", data);
	struct db_config config;
	db_config_default(&config);
	struct db *db;
	struct err e = { 0 };
	assert_int_equal(db_open(dir, &config, false, &db, &e), 0);
	static const char *const bad[] = {
		"lf\nhost/node_load1",
		"web1/m{k=\"\x1b]0;pwned\x07\"}",
		"web1/m{k=\"\xff\"}",
		"web1/m{k=\"\xe2\x80\xaeXevil\"}",
		"web1/m{k=\"a\\nb\"}",
		"web1/m{k=\"x\ninfo ingest: host admin connected from 1.2.3.4:5 (TLS)\"}",
	};
	static const char *const good[] = { "web1/node_load1", "web1/m{k=\"a\\\"b\\\\c ü\"}" };
	int64_t now = 1700000000LL * 1000000000LL;
	for (size_t i = 0; i < 6 + 2; i++) {
		const char *name = i < 6 ? bad[i] : good[i - 6];
		uint64_t id = series_id(name, strlen(name));
		assert_int_equal(db_register_series(db, id, name, strlen(name), &e), 0);
		struct sample s = { id, now, (double)i };
		assert_int_equal(db_append(db, &s, 1, &e), 0);
	}
	assert_int_equal(db_commit(db, 1, &e), 0);
	db_close(db);

	struct query *q;
	assert_int_equal(query_open(data, &q, &e), 0);
	size_t listed = 0;
	assert_int_equal(query_series(q, NULL, count_names, &listed, &e), 0);
	assert_int_equal(listed, 2);
	assert_int_equal(query_bad_names(q), 6);
	query_close(q);

	size_t len, err_len;
	char *text = capture(STDOUT_FILENO, run_series, NULL, &len);
	assert_no_raw_controls(text, len);
	assert_non_null(strstr(text, "web1/node_load1\n"));
	assert_null(strstr(text, "lf"));
	free(text);
	char *message = capture(STDERR_FILENO, run_series, NULL, &err_len);
	assert_non_null(strstr(message, "6 stored series not shown"));
	free(message);
	static const char *const formats[] = { "text", "csv", "json" };
	for (size_t f = 0; f < 3; f++) {
		text = capture(STDOUT_FILENO, run_query, (void *)formats[f], &len);
		assert_no_raw_controls(text, len);
		assert_null(strstr(text, "pwned"));
		assert_null(strstr(text, "admin"));
		assert_non_null(strstr(text, "node_load1"));
		if (f == 1)
			assert_non_null(strstr(text, "\"web1/m{k=\"\"a\\\"\"b\\\\c ü\"\"}\","));
		if (f == 2)
			assert_non_null(
			    strstr(text, "\"series\":\"web1/m{k=\\\"a\\\\\\\"b\\\\\\\\c ü\\\"}\""));
		free(text);
	}
}

/* cli_json_string (the JSON output's strings) is valid JSON for any bytes:
 * the old one let a raw 0xff and raw C1 controls through. */
static void test_cli_json_string(void **state)
{
	char printed[256], decoded[256];
	const char in[] = "h\xff/m{k=\"\xc2\x9b\x1b\"}";
	FILE *f = fmemopen(printed, sizeof printed, "w");
	cli_json_string(f, in, sizeof in - 1);
	long n = ftell(f);
	fclose(f);
	size_t d;
	assert_true(json_decode(printed, (size_t)n, decoded, &d));
	assert_true(clean_utf8(printed, (size_t)n));
	assert_string_equal(printed, "\"h\\ufffd/m{k=\\\"\\u009b\\u001b\\\"}\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_is_strict),
		cmocka_unit_test(test_host_rule),
		cmocka_unit_test(test_metric_and_label_name_rules),
		cmocka_unit_test(test_label_value_rule),
		cmocka_unit_test(test_whole_name_check),
		cmocka_unit_test(test_canonical_agrees_with_check),
		cmocka_unit_test(test_escape_table),
		cmocka_unit_test(test_escape_cut),
		cmocka_unit_test(test_escape_random),
		cmocka_unit_test(test_hello_refuses_bad_hosts),
		cmocka_unit_test(test_log_lines_stay_one_line),
		cmocka_unit_test(test_agent_cleans_system_names),
		cmocka_unit_test_setup_teardown(test_store_with_bad_names, make_store,
						remove_store),
		cmocka_unit_test(test_cli_json_string),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
