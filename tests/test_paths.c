/* test_paths.c - the default data and configuration folders (lib/paths.c)
 * of a build-tree build: ./var, $RMON_DATA over it, no config file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/paths.h"

static void test_data(void **state)
{
	unsetenv(PATHS_DATA_ENV);
	const char *data = paths_data();
	assert_string_equal(data, PATHS_DATA_DIR);
	assert_true(paths_is_default_data(data));
	assert_false(paths_is_default_data("var")); /* "--data var": a choice */
	setenv(PATHS_DATA_ENV, "/srv/rmon", 1);
	data = paths_data();
	assert_string_equal(data, "/srv/rmon");
	assert_true(paths_is_default_data(data));
	setenv(PATHS_DATA_ENV, "", 1); /* empty: as if unset */
	assert_string_equal(paths_data(), PATHS_DATA_DIR);
	unsetenv(PATHS_DATA_ENV);
}

static void test_config(void **state)
{
	/* Tests are built in the build tree, where no folder is compiled in. */
	assert_false(paths_installed());
	assert_string_equal(PATHS_CONFIG_DIR, "");
	assert_null(paths_config("collectd.conf"));
}

static void test_absolute(void **state)
{
	char cwd[4096], buf[4200], want[4200];
	assert_non_null(getcwd(cwd, sizeof cwd));
	snprintf(want, sizeof want, "%s/var", cwd);
	assert_string_equal(paths_absolute("var", buf, sizeof buf), want);
	assert_string_equal(paths_absolute("/var/lib/rmon", buf, sizeof buf), "/var/lib/rmon");
	char tiny[4];
	assert_string_equal(paths_absolute("var", tiny, sizeof tiny), "var"); /* as given */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_data),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_absolute),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
