/* test_url.c - lib/url: what a receiver's url= accepts and refuses, and
 * the origin shown in place of a URL that may hold secrets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/url.h"

static void span_is(struct url_span s, const char *want)
{
	assert_int_equal(s.len, strlen(want));
	assert_memory_equal(s.at, want, s.len);
}

static void splits_parts(void **state)
{
	(void)state;
	struct url_parts u;
	assert_true(url_split("https://bot:s3cr@t@hooks.example.com:8443/T0/B1?key=x#f", &u));
	span_is(u.scheme, "https");
	span_is(u.userinfo, "bot:s3cr@t");
	span_is(u.host, "hooks.example.com");
	span_is(u.port, "8443");
	span_is(u.rest, "/T0/B1?key=x#f");
	assert_true(url_split("http://[::1]:9093", &u));
	span_is(u.host, "[::1]");
	span_is(u.port, "9093");
	assert_int_equal(u.rest.len, 0);
	assert_true(url_split("HTTP://127.0.0.1?x", &u));
	assert_true(url_scheme_is(&u, "http"));
	span_is(u.rest, "?x");
}

static void refuses_what_is_not_a_url(void **state)
{
	(void)state;
	struct url_parts u;
	const char *bad[] = { "example.com/path", "://host",	     "https://",
			      "https:///path",	  "https://host:0/", "https://host:65536",
			      "https://host:8x",  "https://ho st/",  "1http://host",
			      "https://user@/p",  "https://[::1/",   "https://a]b/" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (url_split(bad[i], &u))
			fail_msg("accepted '%s'", bad[i]);
}

static void origin_drops_secrets(void **state)
{
	(void)state;
	char buf[64];
	url_origin("HTTPS://bot:pw@Hooks.example.com:8443/T0/B1?key=x", buf, sizeof buf);
	assert_string_equal(buf, "https://Hooks.example.com:8443");
	url_origin("http://127.0.0.1/notify", buf, sizeof buf);
	assert_string_equal(buf, "http://127.0.0.1");
	url_origin("not a url", buf, sizeof buf);
	assert_string_equal(buf, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(splits_parts),
		cmocka_unit_test(refuses_what_is_not_a_url),
		cmocka_unit_test(origin_drops_secrets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
