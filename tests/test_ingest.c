/* test_ingest.c - the ingest server (store/ingest.c) on the shared event
 * loop, end to end in one process: the benchmarks' fake agents
 * (bench/fleet.h) and the real shipper (net/shipper.h) connect, send and
 * are acknowledged only for what the drainer made durable; a shipper
 * started before its server reconnects on its back-off timer. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bench/bench.h"
#include "bench/fleet.h"
#include "lib/evloop.h"
#include "lib/rtime.h"
#include "lib/series_name.h"
#include "net/shipper.h"
#include "store/drainer.h"
#include "store/ingest.h"

static char dir[256];

/* rmon-stored's serving loop in miniature, on a thread of its own. */
struct server {
	struct drainer *d;
	struct ingest *in;
	struct evloop *loop;
	int port;
	char address[32];
	pthread_t thread;
	atomic_bool stop;
	int rc;
	struct err e;
};

static void *serve(void *arg)
{
	struct server *s = arg;
	while (!atomic_load(&s->stop) && s->rc == 0) {
		if ((s->rc = drainer_step(s->d, 0, &s->e)) != 0 ||
		    (s->rc = ingest_poll(s->in, 2, &s->e)) != 0)
			break;
		if ((s->rc = drainer_sync(s->d, &s->e)) == 0)
			ingest_acknowledge(s->in);
	}
	return NULL;
}

static void server_start(struct server *s, int port)
{
	char data[300];
	struct drainer_config dc;
	struct ingest_config ic;
	struct err e = { 0 };
	memset(s, 0, sizeof *s);
	snprintf(data, sizeof data, "%s/data", dir);
	drainer_config_default(&dc, data);
	dc.host = "test";
	assert_int_equal(drainer_open(&dc, &s->d, &e), 0);
	assert_int_equal(evloop_new(&s->loop, &e), 0);
	s->port = port ? port : bench_free_port();
	snprintf(s->address, sizeof s->address, "127.0.0.1:%d", s->port);
	ingest_config_default(&ic);
	ic.listen = s->address;
	ic.loop = s->loop; /* shared, as in rmon-stored */
	if (ingest_open(&ic, s->d, &s->in, &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

/* Stops the server; returns the samples the drainer stored. */
static uint64_t server_stop(struct server *s, struct ingest_stats *st)
{
	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
	if (s->rc != 0)
		fail_msg("the server stopped: %s", s->e.msg);
	ingest_get_stats(s->in, st);
	ingest_close(s->in);
	evloop_free(s->loop);
	struct drainer_stats ds;
	drainer_get_stats(s->d, &ds);
	struct err e = { 0 };
	assert_int_equal(drainer_close(s->d, &e), 0);
	return ds.samples;
}

static int make_dir(void **state)
{
	snprintf(dir, sizeof dir, "/tmp/rmon-test-ingest-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int remove_dir(void **state)
{
	char data[300], ring[64];
	snprintf(data, sizeof data, "%s/data", dir);
	ring_name_for_dir(data, ring, sizeof ring);
	ring_unlink(ring, NULL);
	bench_remove_tree(dir);
	return 0;
}

/* Agents connect through the handshake, send paced batches and get every
 * one acknowledged; the drainer stored at least what was acknowledged. */
static void test_fleet(void **state)
{
	struct server s;
	struct fleet f;
	server_start(&s, 0);
	fleet_init(&f, 5, 20, 2, 4, s.port, false);
	fleet_connect(&f);
	fleet_pace(&f, 20 * RTIME_NS_PER_MS, 10);
	fleet_settle(&f, 30 * RTIME_NS_PER_SEC);
	assert_int_equal(f.connected, 5);
	assert_true(f.acked_batches == f.sent_batches);
	assert_true(f.acked_samples == f.acked_batches * 20 * 2);
	assert_true(f.acked_samples + f.late * 20 * 2 == 5 * 10 * 20 * 2);
	uint64_t acked = f.acked_samples;
	fleet_close(&f);
	struct ingest_stats st;
	uint64_t stored = server_stop(&s, &st);
	assert_true(stored >= acked);
	assert_true(st.accepted == 5);
	assert_true(st.samples == acked);
	assert_true(st.refused == 0);
}

static void quiet(enum log_level level, const char *message)
{
}

/* n batches of 10 samples of series test/t{s="I"} through sh. */
static void ship(struct shipper *sh, int batches)
{
	struct err e = { 0 };
	uint64_t ids[10];
	for (int i = 0; i < 10; i++) {
		char name[SERIES_NAME_MAX + 1], value[8];
		snprintf(value, sizeof value, "%d", i);
		struct series_label label = { "s", value };
		int len = series_canonical(name, sizeof name, "test", "t", &label, 1, &e);
		assert_true(len > 0);
		ids[i] = series_id(name, (size_t)len);
		assert_int_equal(shipper_define(sh, ids[i], name, &e), 0);
	}
	int64_t t0 = (rtime_now_ns() / RTIME_NS_PER_SEC - 3600) * RTIME_NS_PER_SEC;
	for (int b = 0; b < batches; b++) {
		struct sample batch[10];
		for (int i = 0; i < 10; i++)
			batch[i] = (struct sample){ ids[i], t0 + b * RTIME_NS_PER_SEC, b + i };
		assert_int_equal(shipper_send(sh, batch, 10, &e), 0);
	}
}

/* Steps the shipper until nothing is pending or the time is up. */
static bool shipped(struct shipper *sh, int64_t timeout_ns)
{
	struct err e = { 0 };
	struct shipper_stats st;
	for (int64_t end = rtime_mono_ns() + timeout_ns; rtime_mono_ns() < end;) {
		shipper_get_stats(sh, &st);
		if (st.connected && st.spool.pending_batches == 0)
			return true;
		assert_int_equal(shipper_step(sh, 10, &e), 0);
	}
	return false;
}

static struct shipper *open_shipper(const char *address)
{
	char spool[300];
	struct shipper_config c;
	struct shipper *sh;
	struct err e = { 0 };
	snprintf(spool, sizeof spool, "%s/spool", dir);
	shipper_config_default(&c, address, spool);
	c.host = "test";
	c.notice = quiet;
	c.backoff_min_ns = 50 * RTIME_NS_PER_MS;
	c.backoff_max_ns = 100 * RTIME_NS_PER_MS;
	if (shipper_open(&c, &sh, &e) != 0)
		fail_msg("%s", e.msg);
	return sh;
}

/* The shipper on its own loop: connects, authenticates, sends the spool
 * and forgets each batch once acknowledged. */
static void test_shipper(void **state)
{
	struct server s;
	server_start(&s, 0);
	struct shipper *sh = open_shipper(s.address);
	ship(sh, 30);
	assert_true(shipped(sh, 10 * RTIME_NS_PER_SEC));
	struct shipper_stats st;
	shipper_get_stats(sh, &st);
	assert_true(st.connects == 1);
	assert_true(st.spool.acked == 30);
	shipper_close(sh);
	struct ingest_stats is;
	assert_true(server_stop(&s, &is) >= 300);
	assert_true(is.samples == 300);
}

/* Started before its server, the shipper fails, keeps the batches and
 * connects on its back-off timer once the server listens. */
static void test_shipper_reconnects(void **state)
{
	int port = bench_free_port();
	char address[32];
	snprintf(address, sizeof address, "127.0.0.1:%d", port);
	struct shipper *sh = open_shipper(address);
	ship(sh, 5);
	assert_false(shipped(sh, 200 * RTIME_NS_PER_MS));
	struct shipper_stats st;
	shipper_get_stats(sh, &st);
	assert_true(st.failures >= 1);
	assert_true(st.spool.pending_batches == 5);
	struct server s;
	server_start(&s, port);
	assert_true(shipped(sh, 5 * RTIME_NS_PER_SEC));
	shipper_close(sh);
	struct ingest_stats is;
	server_stop(&s, &is);
	assert_true(is.samples == 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fleet, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_shipper, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_shipper_reconnects, make_dir, remove_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
