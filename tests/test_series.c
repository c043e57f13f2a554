/* test_series.c - canonical names and the shared series table
 * (shmring/series.c), including concurrent inserts from threads and
 * processes. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "shmring/series.h"

static void test_canonical_sorts_and_escapes(void **state)
{
	char buf[SERIES_NAME_MAX + 1];
	struct err e = { 0 };
	struct series_label labels[] = { { "mode", "user" },
					 { "cpu", "0" },
					 { "path", "a\"b\\c d" } };
	int len =
	    series_canonical(buf, sizeof buf, "web1", "node_cpu_seconds_total", labels, 3, &e);
	assert_true(len > 0);
	assert_string_equal(
	    buf, "web1/node_cpu_seconds_total{cpu=\"0\",mode=\"user\",path=\"a\\\"b\\\\c d\"}");
	assert_int_equal(len, (int)strlen(buf));
	len = series_canonical(buf, sizeof buf, "h", "up", NULL, 0, &e);
	assert_string_equal(buf, "h/up");
}

static void test_canonical_rejects_bad_parts(void **state)
{
	char buf[256];
	struct err e = { 0 };
	struct series_label bad_key[] = { { "0x", "v" } };
	struct series_label twice[] = { { "a", "1" }, { "a", "2" } };
	assert_int_equal(series_canonical(buf, sizeof buf, "a/b", "up", NULL, 0, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "host name \"a/b\""));
	assert_int_equal(series_canonical(buf, sizeof buf, "h", "9up", NULL, 0, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "metric name \"9up\""));
	assert_int_equal(series_canonical(buf, sizeof buf, "h", "up", bad_key, 1, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "label name \"0x\""));
	assert_int_equal(series_canonical(buf, sizeof buf, "h", "up", twice, 2, &e), -EINVAL);
	char big[600];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	struct series_label long_value[] = { { "a", big }, { "b", big } };
	char huge[SERIES_NAME_MAX + 1];
	assert_int_equal(series_canonical(huge, sizeof huge, "h", "up", long_value, 2, &e),
			 -ENAMETOOLONG);
}

static void test_split(void **state)
{
	char buf[] = "web1/node_load1{a=\"b\"}";
	const char *host, *metric, *labels;
	assert_int_equal(series_split(buf, &host, &metric, &labels), 0);
	assert_string_equal(host, "web1");
	assert_string_equal(metric, "node_load1");
	assert_string_equal(labels, "a=\"b\"");
}

/* Room for every name several times over: inserters that lose a race for
 * the same name may leak their copy (see series.h). */
static void *table_mem(uint32_t capacity, size_t *size)
{
	*size = series_table_size(capacity, capacity * 512);
	void *mem = mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(mem != MAP_FAILED);
	return mem;
}

static void test_insert_lookup_and_collision(void **state)
{
	size_t size;
	void *mem = table_mem(100, &size);
	struct series_table *t = series_table_init(mem, 100, 100 * 512), *again;
	struct err e = { 0 };
	assert_int_equal(series_table_attach(mem, size, &again, &e), 0);
	assert_int_equal(series_table_attach(mem, size - 8, &again, &e), -EPROTO);
	uint64_t id, id2;
	const char *name = "h/up{job=\"a\"}";
	assert_int_equal(series_insert(t, name, strlen(name), &id, &e), 0);
	assert_true(id == series_id(name, strlen(name)));
	assert_int_equal(series_insert(t, name, strlen(name), &id2, &e), 0);
	assert_true(id == id2);
	const char *found;
	assert_int_equal(series_lookup(t, id, &found), (int)strlen(name));
	assert_string_equal(found, name);
	assert_int_equal(series_lookup(t, id ^ 1, &found), -ENOENT);
	/* A different name under the same id is refused, never merged. */
	assert_int_equal(series_insert_with_id(t, "h/other", 7, id, &e), -EEXIST);
	assert_non_null(strstr(e.msg, "h/other"));
	assert_non_null(strstr(e.msg, name));
	assert_int_equal(series_lookup(t, id, &found), (int)strlen(name));
	assert_string_equal(found, name);
	struct series_table_stats st;
	series_table_stats(t, &st);
	assert_int_equal(st.count, 1);
	assert_int_equal(st.collisions, 1);
	munmap(mem, size);
}

static void test_capacity_is_a_counted_error(void **state)
{
	size_t size;
	void *mem = table_mem(10, &size);
	struct series_table *t = series_table_init(mem, 10, 10 * 512);
	struct err e = { 0 };
	char name[64];
	uint64_t id;
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof name, "h/m{i=\"%d\"}", i);
		assert_int_equal(series_insert(t, name, strlen(name), &id, &e), 0);
	}
	assert_int_equal(series_insert(t, "h/extra", 7, &id, &e), -ENOSPC);
	assert_non_null(strstr(e.msg, "series table full"));
	/* Names already present still succeed. */
	assert_int_equal(series_insert(t, "h/m{i=\"3\"}", 10, &id, &e), 0);
	struct series_table_stats st;
	series_table_stats(t, &st);
	assert_int_equal(st.count, 10);
	assert_int_equal(st.full_errors, 1);
	munmap(mem, size);
}

#define WORKERS 4
#define NAMES	2000

struct worker {
	struct series_table *t;
	int seed;
};

/* Every worker inserts the same names in a different order. */
static void *insert_all(void *arg)
{
	struct worker *w = arg;
	char name[64];
	for (int k = 0; k < NAMES; k++) {
		int i = (k * 7 + w->seed * 131) % NAMES;
		snprintf(name, sizeof name, "host%d/metric_%d", i % 13, i);
		uint64_t id;
		struct err e = { 0 };
		if (series_insert(w->t, name, strlen(name), &id, &e) != 0) {
			fprintf(stderr, "insert of %s failed: %s\n", name, e.msg);
			return (void *)1;
		}
	}
	return NULL;
}

static void check_all_present(struct series_table *t)
{
	char name[64];
	for (int i = 0; i < NAMES; i++) {
		snprintf(name, sizeof name, "host%d/metric_%d", i % 13, i);
		const char *found;
		assert_int_equal(series_lookup(t, series_id(name, strlen(name)), &found),
				 (int)strlen(name));
		assert_string_equal(found, name);
	}
	struct series_table_stats st;
	series_table_stats(t, &st);
	assert_int_equal(st.count, NAMES);
}

static void test_concurrent_threads(void **state)
{
	size_t size;
	void *mem = table_mem(NAMES, &size);
	struct series_table *t = series_table_init(mem, NAMES, NAMES * 512);
	pthread_t th[WORKERS];
	struct worker w[WORKERS];
	for (int i = 0; i < WORKERS; i++) {
		w[i] = (struct worker){ t, i };
		pthread_create(&th[i], NULL, insert_all, &w[i]);
	}
	for (int i = 0; i < WORKERS; i++) {
		void *rc;
		pthread_join(th[i], &rc);
		assert_null(rc);
	}
	check_all_present(t);
	munmap(mem, size);
}

static void test_concurrent_processes(void **state)
{
	size_t size;
	void *mem = table_mem(NAMES, &size);
	struct series_table *t = series_table_init(mem, NAMES, NAMES * 512);
	pid_t pids[WORKERS];
	for (int i = 0; i < WORKERS; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			struct worker w = { t, i };
			_exit(insert_all(&w) ? 1 : 0);
		}
	}
	for (int i = 0; i < WORKERS; i++) {
		int status;
		waitpid(pids[i], &status, 0);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	check_all_present(t);
	munmap(mem, size);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical_sorts_and_escapes),
		cmocka_unit_test(test_canonical_rejects_bad_parts),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_insert_lookup_and_collision),
		cmocka_unit_test(test_capacity_is_a_counted_error),
		cmocka_unit_test(test_concurrent_threads),
		cmocka_unit_test(test_concurrent_processes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
