/* test_demo_web.c - what `rmon demo --web` lets into nginx's configuration
 * (cli/demo_web.c): the listen address, the settings it adds to alertd's
 * configuration, and the paths it refuses before anything is written.
 * tests/integration/web_demo.sh runs the servers themselves. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/demo_web.h"

static void test_listen(void **state)
{
	char addr[64];
	int port = 0;
	struct err e = { 0 };
	assert_int_equal(demo_web_parse_listen("8080", addr, sizeof addr, &port, &e), 0);
	assert_string_equal(addr, "127.0.0.1");
	assert_int_equal(port, 8080);
	assert_int_equal(demo_web_parse_listen("127.0.0.2:1", addr, sizeof addr, &port, &e), 0);
	assert_string_equal(addr, "127.0.0.2");
	assert_int_equal(port, 1);
	assert_int_equal(demo_web_parse_listen("0.0.0.0:65535", addr, sizeof addr, &port, &e), 0);
	assert_int_equal(port, 65535);
}

static void test_listen_refused(void **state)
{
	/* Each would reach nginx's configuration, or is no port at all. */
	static const char *const bad[] = {
		"",
		"0",
		"65536",
		"99999999",
		"80a",
		" 80",
		"-1",
		":80",
		"x:80",
		"localhost:80",
		"1.2.3.4;:80",
		"1.2.3.4 :80",
		"[::1]:80",
		"1.2.3:80",
		"1.2.3.4.5:80",
		"127.0.0.1:",
		"8080\n",
		"1.2.3.4:80;",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char addr[64] = "";
		int port = -1;
		struct err e = { 0 };
		assert_int_equal(demo_web_parse_listen(bad[i], addr, sizeof addr, &port, &e),
				 -EINVAL);
		assert_true(e.msg[0] != '\0');
	}
}

static void test_config(void **state)
{
	struct demo_web_options o = { .addr = "127.0.0.1", .port = 8080 };
	char buf[512];
	demo_web_config(&o, buf, sizeof buf);
	assert_non_null(strstr(buf, "[report]\nurl = http://127.0.0.1:8080/\n"));
	assert_non_null(strstr(buf, "[web]\naction_url = " DEMO_WEB_ACTION_URL "\n"));
}

/* A path with a quote, a backslash, '$' or a newline would change what
 * nginx's configuration says: refused, naming it, before any file. */
static void test_paths_refused(void **state)
{
	static const char *const bad[] = { "/tmp/a\"b", "/tmp/a\\b", "/tmp/$host", "/tmp/a\nb" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct demo_web_options o = { .addr = "127.0.0.1",
					      .port = 1,
					      .data = bad[i],
					      .www = "/tmp/www",
					      .config = "/tmp/alertd.conf",
					      .web_bin = "/usr/bin/rmon-web" };
		struct demo_web *w = NULL;
		struct err e = { 0 };
		assert_int_equal(demo_web_start(&o, &w, &e), -EINVAL);
		assert_null(w);
		assert_non_null(strstr(e.msg, "nginx's configuration cannot hold"));
		char written[64];
		snprintf(written, sizeof written, "%s/web-password", bad[i]);
		assert_int_not_equal(access(written, F_OK), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_listen_refused),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_paths_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
