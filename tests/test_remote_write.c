/* test_remote_write.c - the remote-write sender (store/remote_write.c and
 * remote_write_encode.c): its settings and their errors, and the request
 * it builds, read back with snappy and libprotobuf-c as a receiver does:
 * series grouped, labels sorted with __name__ and host, escapes undone, a
 * label named host kept as exported_host, millisecond timestamps, and an
 * out-of-order or repeated sample left out. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <snappy-c.h>

#include "lib/conf.h"
#include "lib/evloop.h"
#include "store/remote_write.h"
#include "store/remote_write.pb-c.h"

static int apply(void *ctx, const struct conf_entry *entry, struct err *e)
{
	return remote_write_config_apply(ctx, entry, e);
}

static int parse(struct remote_write_config *c, const char *text, struct err *e)
{
	remote_write_config_default(c, "vm", "/tmp/nowhere", NULL);
	int rc = conf_parse_text(text, "rw.conf", apply, c, e);
	return rc ? rc : remote_write_config_check(c, e);
}

static void test_settings(void **state)
{
	struct remote_write_config c;
	struct err e = { 0 };
	assert_int_equal(parse(&c,
			       "[remote_write vm]\nurl = http://127.0.0.1:8428/api/v1/write\n"
			       "batch_samples = 500\ntimeout = 5s\nusername = u\npassword = p\n",
			       &e),
			 0);
	assert_string_equal(c.url, "http://127.0.0.1:8428/api/v1/write");
	assert_int_equal(c.batch_samples, 500);
	assert_string_equal(c.spool_dir, "/tmp/nowhere/remote_write/vm");
	remote_write_config_release(&c);

	assert_int_equal(parse(&c, "[remote_write vm]\nurl = ftp://x/\n", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "rw.conf:2"));
	assert_non_null(strstr(e.msg, "http://"));
	remote_write_config_release(&c);
	assert_int_equal(parse(&c, "[remote_write vm]\nbatch_samples = 10\n", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "rw.conf:1: [remote_write vm]: url"));
	remote_write_config_release(&c);
	assert_int_equal(parse(&c, "[remote_write vm]\nurl = http://a/\nusername = u\n", &e),
			 -EINVAL);
	assert_non_null(strstr(e.msg, "username and password go together"));
	remote_write_config_release(&c);
	assert_int_equal(parse(&c,
			       "[remote_write vm]\nurl = http://a/\nusername = u\npassword = p\n"
			       "bearer_token = t\n",
			       &e),
			 -EINVAL);
	assert_non_null(strstr(e.msg, "not both"));
	remote_write_config_release(&c);
	assert_int_equal(parse(&c, "[remote_write vm]\nurl = http://a/\nbatch = 3\n", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "rw.conf:3"));
	remote_write_config_release(&c);
}

static const char *label(const Prometheus__TimeSeries *ts, const char *name)
{
	for (size_t i = 0; i < ts->n_labels; i++)
		if (strcmp(ts->labels[i]->name, name) == 0)
			return ts->labels[i]->value;
	return NULL;
}

static void test_encode(void **state)
{
	char dir[] = "/tmp/rmon-test-rw-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct evloop *loop;
	struct err e = { 0 };
	assert_int_equal(evloop_new(&loop, &e), 0);
	struct remote_write_config c;
	remote_write_config_default(&c, "t", dir, loop);
	c.url = "http://127.0.0.1:1/api/v1/write";
	struct remote_write *rw;
	assert_int_equal(remote_write_open(&c, &rw, &e), 0);
	const char *a = "web1/node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"}";
	const char *b = "db1/m{Zeta=\"z\",host=\"inner\",k=\"a\\\"b\\\\c \xc3\xbc\"}";
	assert_int_equal(remote_write_define(rw, 1, a, strlen(a)), 0);
	assert_int_equal(remote_write_define(rw, 2, b, strlen(b)), 0);
	assert_int_equal(remote_write_define(rw, 2, b, strlen(b)), 0); /* again: nothing */
	const struct sample s[] = {
		{ 1, 1000000000123456789LL, 1.5 },
		{ 2, 2000000000000000000LL, -2 },
		{ 1, 1000000000223456789LL, 2.5 },
		{ 1, 1000000000223456789LL, 9 }, /* repeat */
		{ 1, 1000000000000000000LL, 7 }, /* older */
		{ 3, 5, 5 },			 /* never named */
	};
	char *body;
	size_t len;
	assert_int_equal(remote_write_encode(rw, s, 6, &body, &len, &e), 0);
	size_t plain_len;
	assert_int_equal(snappy_uncompressed_length(body, len, &plain_len), SNAPPY_OK);
	char *plain = malloc(plain_len);
	assert_int_equal(snappy_uncompress(body, len, plain, &plain_len), SNAPPY_OK);
	Prometheus__WriteRequest *req =
	    prometheus__write_request__unpack(NULL, plain_len, (const uint8_t *)plain);
	assert_non_null(req);
	assert_int_equal(req->n_timeseries, 2);
	const Prometheus__TimeSeries *t1 = req->timeseries[0], *t2 = req->timeseries[1];
	for (int k = 0; k < 2; k++) { /* labels sorted by name, as the protocol wants */
		const Prometheus__TimeSeries *t = req->timeseries[k];
		for (size_t i = 1; i < t->n_labels; i++)
			assert_true(strcmp(t->labels[i - 1]->name, t->labels[i]->name) < 0);
	}
	assert_string_equal(label(t1, "__name__"), "node_cpu_seconds_total");
	assert_string_equal(label(t1, "host"), "web1");
	assert_string_equal(label(t1, "mode"), "idle");
	assert_int_equal(t1->n_labels, 4);
	assert_int_equal(t1->n_samples, 2);
	assert_int_equal(t1->samples[0]->timestamp, 1000000000123LL);
	assert_true(t1->samples[0]->value == 1.5);
	assert_int_equal(t1->samples[1]->timestamp, 1000000000223LL);
	assert_true(t1->samples[1]->value == 2.5);
	assert_string_equal(label(t2, "host"), "db1");
	assert_string_equal(label(t2, "exported_host"), "inner");
	assert_string_equal(label(t2, "k"), "a\"b\\c \xc3\xbc");
	assert_string_equal(label(t2, "Zeta"), "z");
	assert_int_equal(t2->n_samples, 1);
	assert_int_equal(t2->samples[0]->timestamp, 2000000000000LL);
	prometheus__write_request__free_unpacked(req, NULL);
	free(plain);
	free(body);
	struct remote_write_stats st;
	remote_write_get_stats(rw, &st);
	assert_int_equal(st.skipped_samples, 3);
	remote_write_close(rw);
	evloop_free(loop);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_settings),
		cmocka_unit_test(test_encode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
