/* test_conf.c - the configuration reader (lib/conf.c) as rules need it:
 * comments and quotes, decimal numbers, size bounds, repeated sections,
 * section-end events, repeated keys and includes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "lib/conf.h"

/* Every event in order: "key=value" for a setting, "end [section name]" for
 * a section's end, each with the base name of its file and its line. */
struct log {
	char text[4096];
	size_t len;
};

static const char *base(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

static int log_setting(void *ctx, const struct conf_entry *entry, struct err *e)
{
	struct log *l = ctx;
	l->len +=
	    (size_t)snprintf(l->text + l->len, sizeof l->text - l->len, "%s:%d [%s %s]@%d %s=%s\n",
			     base(entry->file), entry->line, entry->section, entry->name,
			     entry->section_line, entry->key, entry->value);
	return 0;
}

static int log_end(void *ctx, const struct conf_entry *entry, struct err *e)
{
	struct log *l = ctx;
	assert_null(entry->key);
	assert_null(entry->value);
	l->len += (size_t)snprintf(l->text + l->len, sizeof l->text - l->len, "%s:%d end [%s %s]\n",
				   base(entry->file), entry->line, entry->section, entry->name);
	return 0;
}

static const struct conf_hooks hooks = { log_setting, log_end };

static int parse(const char *text, struct log *l, struct err *e)
{
	memset(l, 0, sizeof *l);
	return conf_read_text(text, "t.conf", &hooks, l, e);
}

static void test_comments_and_quotes(void **state)
{
	struct log l;
	struct err e = { 0 };
	assert_int_equal(parse("expr = cpu{mode=\"idle\"} < 0.1 # busy\n"
			       "b = cpu{mode=\"a # b\"} > 1\n"
			       "c = \"x \\\" # y\" # z\n"
			       "d = a#b\n",
			       &l, &e),
			 0);
	assert_string_equal(l.text, "t.conf:1 [ ]@0 expr=cpu{mode=\"idle\"} < 0.1\n"
				    "t.conf:2 [ ]@0 b=cpu{mode=\"a # b\"} > 1\n"
				    "t.conf:3 [ ]@0 c=x \" # y\n"
				    "t.conf:4 [ ]@0 d=a#b\n");
	assert_int_equal(parse("ok = 1\nk = cpu{mode=\"idle} # x\n", &l, &e), -EINVAL);
	assert_string_equal(e.msg, "t.conf:2: unterminated quoted value");
	assert_int_equal(parse("k = \"a\" b\n", &l, &e), -EINVAL);
	assert_string_equal(e.msg, "t.conf:1: text after a quoted value");
}

static void test_decimal_numbers(void **state)
{
	struct conf_entry entry = { "f", 3, "rule", "x", "for", "010", 2 };
	struct err e = { 0 };
	int64_t i = 0;
	double d = 0;
	uint64_t u = 0;
	assert_int_equal(conf_int(&entry, 0, 100, &i, &e), 0);
	assert_int_equal(i, 10);
	assert_int_equal(conf_double(&entry, &d, &e), 0);
	assert_true(d == 10.0);
	assert_int_equal(conf_size(&entry, &u, &e), 0);
	assert_true(u == 10);
	static const char *const refused[] = { "0x10", "inf", "nan", "1e", "", "-" };
	for (size_t k = 0; k < sizeof refused / sizeof refused[0]; k++) {
		entry.value = refused[k];
		assert_int_equal(conf_int(&entry, -100, 100, &i, &e), -EINVAL);
		assert_int_equal(conf_double(&entry, &d, &e), -EINVAL);
		assert_int_equal(conf_size(&entry, &u, &e), -EINVAL);
		assert_non_null(strstr(e.msg, "f:3: rule.for = '"));
	}
	entry.value = "-2.5e1";
	assert_int_equal(conf_double(&entry, &d, &e), 0);
	assert_true(d == -25.0);
}

static void test_size_bounds(void **state)
{
	struct conf_entry entry = { "f", 7, "store", "", "map_size", "1e30TB", 0 };
	struct err e = { 0 };
	uint64_t u = 1;
	assert_int_equal(conf_size(&entry, &u, &e), -EINVAL);
	assert_string_equal(e.msg, "f:7: store.map_size = '1e30TB': too large (at most 16EiB)");
	assert_true(u == 1);
	entry.value = "16777216TiB"; /* 2^64 */
	assert_int_equal(conf_size(&entry, &u, &e), -EINVAL);
	entry.value = "16777215TiB";
	assert_int_equal(conf_size(&entry, &u, &e), 0);
	assert_true(u == 16777215ULL << 40);
	entry.value = "1.5KiB";
	assert_int_equal(conf_size(&entry, &u, &e), 0);
	assert_true(u == 1536);
}

static void test_repeated_section(void **state)
{
	struct log l;
	struct err e = { 0 };
	assert_int_equal(parse("[rule a]\nx = 1\n[rule b]\n[store]\n# c\n[rule a]\n", &l, &e),
			 -EINVAL);
	assert_string_equal(e.msg, "t.conf:6: [rule a] repeats the section at t.conf:1");
	assert_int_equal(parse("[store]\n[store]\n", &l, &e), -EINVAL);
	assert_string_equal(e.msg, "t.conf:2: [store] repeats the section at t.conf:1");
	/* the same first word with another name, or the other way round, is fine */
	assert_int_equal(parse("[rule a]\n[rule]\n[alert a]\n", &l, &e), 0);
}

static void test_section_end_and_lists(void **state)
{
	struct log l;
	struct err e = { 0 };
	assert_int_equal(parse("top = 1\n[rule cpu]\nlabel = a\nlabel = b\n\n[rule \"disk x\"]\n"
			       "[store]\nk = v",
			       &l, &e),
			 0);
	assert_string_equal(l.text, "t.conf:1 [ ]@0 top=1\n"
				    "t.conf:3 [rule cpu]@2 label=a\n"
				    "t.conf:4 [rule cpu]@2 label=b\n"
				    "t.conf:2 end [rule cpu]\n"
				    "t.conf:6 end [rule disk x]\n"
				    "t.conf:8 [store ]@7 k=v\n"
				    "t.conf:7 end [store ]\n");
	/* the old entry point still works and sends no end events */
	memset(&l, 0, sizeof l);
	assert_int_equal(conf_parse_text("[a]\nk = v\n", "t.conf", log_setting, &l, &e), 0);
	assert_string_equal(l.text, "t.conf:2 [a ]@1 k=v\n");
	/* an error about a whole section names its header */
	struct conf_entry end = { "t.conf", 4, "rule", "cpu", NULL, NULL, 4 };
	assert_int_equal(conf_error(&e, &end, "needs expr"), -EINVAL);
	assert_string_equal(e.msg, "t.conf:4: [rule cpu]: needs expr");
}

static char dir[] = "/tmp/test_conf.XXXXXX";

static void put(const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int read_main(struct log *l, struct err *e)
{
	char path[512];
	snprintf(path, sizeof path, "%s/main.conf", dir);
	memset(l, 0, sizeof *l);
	return conf_read_file(path, &hooks, l, e);
}

static void test_include(void **state)
{
	struct log l;
	struct err e = { 0 };
	assert_non_null(mkdtemp(dir));
	char sub[512];
	snprintf(sub, sizeof sub, "%s/rules.d", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	put("rules.d/b.conf", "[rule b]\nexpr = 2\n");
	put("rules.d/a.conf", "[rule a]\nexpr = 1\n");
	put("rules.d/notes.txt", "not a config\n");
	put("main.conf", "[store]\nk = v\ninclude = rules.d/*.conf\nafter = 1\n[ingest]\n");
	assert_int_equal(chdir("/"), 0); /* relative to the including file, not the cwd */
	assert_int_equal(read_main(&l, &e), 0);
	assert_string_equal(l.text, "main.conf:2 [store ]@1 k=v\n"
				    "main.conf:1 end [store ]\n"
				    "a.conf:2 [rule a]@1 expr=1\n"
				    "a.conf:1 end [rule a]\n"
				    "b.conf:2 [rule b]@1 expr=2\n"
				    "b.conf:1 end [rule b]\n"
				    "main.conf:4 [ ]@0 after=1\n"
				    "main.conf:5 end [ingest ]\n");

	/* an error in an included file names that file and line */
	put("rules.d/c.conf", "[rule c]\nexpr\n");
	assert_int_equal(read_main(&l, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "rules.d/c.conf:2: expected 'key = value'"));
	/* so does a section repeated across files */
	put("rules.d/c.conf", "\n[store]\n");
	assert_int_equal(read_main(&l, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "rules.d/c.conf:2: [store] repeats the section at "));
	assert_non_null(strstr(e.msg, "/main.conf:1"));
	snprintf(sub, sizeof sub, "%s/rules.d/c.conf", dir);
	unlink(sub);

	/* a pattern may match nothing; a plain path must exist */
	put("main.conf", "include = none.d/*.conf\n\ninclude = missing.conf\n");
	assert_int_equal(read_main(&l, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "main.conf:3: include '"));
	assert_non_null(strstr(e.msg, "missing.conf': no such file"));

	/* a file including itself stops at the depth limit */
	put("main.conf", "include = main.conf\n");
	assert_int_equal(read_main(&l, &e), -ELOOP);
	assert_non_null(strstr(e.msg, "main.conf:1: include 'main.conf': includes nest deeper"));
}

static int teardown(void **state)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return strchr(dir, 'X') ? 0 : system(cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_comments_and_quotes),
		cmocka_unit_test(test_decimal_numbers),
		cmocka_unit_test(test_size_bounds),
		cmocka_unit_test(test_repeated_section),
		cmocka_unit_test(test_section_end_and_lists),
		cmocka_unit_test_teardown(test_include, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
