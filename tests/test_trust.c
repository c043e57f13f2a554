/* test_trust.c - the ingest server's trust model (store/ingest.c), tried as
 * a hostile host would: a real server on 127.0.0.1 in this process, its
 * drainer on a scratch folder, and raw clients speaking the protocol (the
 * handshake is done by hand, so each can lie where it likes).  Every
 * connection goes to 127.0.0.1, also when the server binds 0.0.0.0. */
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/evloop.h"
#include "lib/fault.h"
#include "lib/rtime.h"
#include "lib/series_name.h"
#include "net/proto.h"
#include "store/drainer.h"
#include "store/ingest.h"
#include "store/query.h"

#define SECRET_WEB1   "web1's own long secret"
#define SECRET_SHARED "the shared long secret"
#define NO_REPLY      (-1000) /* read_reply: nothing came in time */
#define CLOSED	      (-1001) /* read_reply: the server closed */

static char dir[256];
static struct drainer *drainer;
static struct ingest *server;
static struct ingest_config config;
static int port;

/* ---- the server ---- */

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static int make_dir(void **state)
{
	snprintf(dir, sizeof dir, "/tmp/rmon-test-trust-XXXXXX");
	assert_non_null(mkdtemp(dir));
	struct drainer_config dc;
	struct err e = { 0 };
	drainer_config_default(&dc, dir);
	dc.host = "central";
	dc.ring.lanes = 1;
	dc.ring.slots_per_lane = 64;
	dc.ring.series_capacity = 64;
	if (drainer_open(&dc, &drainer, &e) != 0)
		fail_msg("%s", e.msg);
	ingest_config_default(&config);
	port = free_port();
	return 0;
}

static void stop_drainer(void)
{
	struct err e = { 0 };
	if (drainer && drainer_close(drainer, &e) != 0)
		fail_msg("%s", e.msg);
	drainer = NULL;
}

static int remove_dir(void **state)
{
	char cmd[300], ring[64];
	ingest_close(server);
	server = NULL;
	stop_drainer();
	ring_name_for_dir(dir, ring, sizeof ring);
	ring_unlink(ring, NULL);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void start(const char *address)
{
	static char listen[64];
	struct err e = { 0 };
	snprintf(listen, sizeof listen, "%s:%d", address, port);
	config.listen = listen;
	if (ingest_open(&config, drainer, &server, &e) != 0)
		fail_msg("%s", e.msg);
}

/* One turn of rmon-stored's loop. */
static void turn(void)
{
	struct err e = { 0 };
	assert_int_equal(ingest_poll(server, 1, &e), 0);
	if (drainer_sync(drainer, &e) == 0)
		ingest_acknowledge(server);
}

static void turn_for(int64_t ns)
{
	int64_t until = rtime_mono_ns() + ns;
	while (rtime_mono_ns() < until)
		turn();
}

static struct ingest_stats stats(void)
{
	struct ingest_stats st;
	ingest_get_stats(server, &st);
	return st;
}

/* ---- a raw client ---- */

struct client {
	int fd;
	char host[64];
	uint8_t nonce[PROTO_NONCE_BYTES];
	uint8_t in[1 << 16];
	size_t len;
};

static struct client *client_connect(const char *host)
{
	struct client *c = calloc(1, sizeof *c);
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_non_null(c);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(c->fd >= 0);
	int rc = connect(c->fd, (struct sockaddr *)&a, sizeof a);
	assert_true(rc == 0 || errno == EINPROGRESS);
	snprintf(c->host, sizeof c->host, "%s", host);
	for (int i = 0; i < 20; i++)
		turn(); /* accepted */
	return c;
}

static void client_close(struct client *c)
{
	close(c->fd);
	free(c);
}

static void send_bytes(struct client *c, const void *bytes, size_t len)
{
	const uint8_t *p = bytes;
	while (len) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN) {
			turn();
			continue;
		}
		if (n < 0)
			return; /* closed by the server: the reply says why */
		p += n;
		len -= (size_t)n;
	}
}

static void send_buf(struct client *c, struct proto_buf *b)
{
	send_bytes(c, b->data, b->len);
	proto_buf_free(b);
}

/* Serves until the server's next frame to c: its type (ACK's seq or
 * ERROR's code in *value), CLOSED or NO_REPLY. */
static int read_reply(struct client *c, struct proto_msg *m, int64_t timeout_ns)
{
	int64_t until = rtime_mono_ns() + timeout_ns;
	bool closed = false;
	while (rtime_mono_ns() < until) {
		if (c->len >= PROTO_HEADER_BYTES) {
			uint32_t n = proto_frame_length(c->in);
			if (c->len >= PROTO_HEADER_BYTES + n) {
				struct err e = { 0 };
				assert_int_equal(
				    proto_decode_control(c->in + PROTO_HEADER_BYTES, n, m, &e), 0);
				memmove(c->in, c->in + PROTO_HEADER_BYTES + n,
					c->len - PROTO_HEADER_BYTES - n);
				c->len -= PROTO_HEADER_BYTES + n;
				return m->type;
			}
		}
		if (closed)
			return CLOSED;
		turn();
		ssize_t got = recv(c->fd, c->in + c->len, sizeof c->in - c->len, MSG_DONTWAIT);
		if (got > 0)
			c->len += (size_t)got;
		else if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			closed = true;
	}
	return NO_REPLY;
}

/* HELLO, CHALLENGE, AUTH (with a MAC of secret, or nil), WELCOME: 0, or
 * the ERROR code the server answered. */
static int handshake(struct client *c, const char *secret, bool relay)
{
	struct proto_buf b = { 0 };
	struct proto_msg m;
	struct err e = { 0 };
	uint8_t mac[PROTO_MAC_BYTES];
	assert_int_equal(proto_nonce(c->nonce), 0);
	assert_int_equal(proto_put_hello(&b, c->host, "test_trust", c->nonce, relay), 0);
	send_buf(c, &b);
	int type = read_reply(c, &m, RTIME_NS_PER_SEC);
	if (type == PROTO_ERROR)
		return (int)m.code;
	assert_int_equal(type, PROTO_CHALLENGE);
	if (secret)
		assert_int_equal(
		    proto_mac(secret, "rmon/1 agent", m.nonce, c->nonce, c->host, mac, &e), 0);
	assert_int_equal(proto_put_auth(&b, secret ? mac : NULL), 0);
	send_buf(c, &b);
	type = read_reply(c, &m, RTIME_NS_PER_SEC);
	if (type == PROTO_ERROR)
		return (int)m.code;
	assert_int_equal(type, PROTO_WELCOME);
	return 0;
}

static struct client *agent(const char *host, const char *secret)
{
	struct client *c = client_connect(host);
	assert_int_equal(handshake(c, secret, false), 0);
	return c;
}

static uint64_t define(struct client *c, const char *name)
{
	struct proto_buf b = { 0 };
	uint64_t id = series_id(name, strlen(name));
	assert_int_equal(proto_put_series(&b, &id, &name, 1), 0);
	send_buf(c, &b);
	return id;
}

/* n samples of id, values first.. at ts, ts + 1 s, ...: the reply. */
static int send_samples(struct client *c, uint64_t seq, uint64_t id, int64_t ts, size_t n,
			double first, struct proto_msg *m)
{
	struct sample s[64];
	struct proto_buf b = { 0 };
	assert_true(n <= 64);
	for (size_t i = 0; i < n; i++)
		s[i] = (struct sample){ id, ts + (int64_t)i * RTIME_NS_PER_SEC, first + (double)i };
	assert_int_equal(proto_put_samples(&b, seq, s, n), 0);
	send_buf(c, &b);
	return read_reply(c, m, RTIME_NS_PER_SEC);
}

static void expect_error(int type, const struct proto_msg *m, enum proto_error_code code)
{
	assert_int_equal(type, PROTO_ERROR);
	if (m->code != (uint32_t)code)
		fail_msg("ERROR %u (%s), expected %d", m->code, m->message, code);
}

static void expect_ack(int type, const struct proto_msg *m, uint64_t seq)
{
	if (type == PROTO_ERROR)
		fail_msg("ERROR %u: %s", m->code, m->message);
	assert_int_equal(type, PROTO_ACK);
	assert_int_equal(m->seq, seq);
}

/* ---- what was stored, read back after the drainer's final commit ---- */

struct stored {
	size_t n;
	double sum, last;
};

static int add_sample(void *ctx, int64_t ts, double value)
{
	struct stored *st = ctx;
	st->n++;
	st->sum += value;
	st->last = value;
	return 0;
}

static struct stored read_back(const char *name)
{
	struct query *q;
	struct err e = { 0 };
	struct stored st = { 0 };
	ingest_close(server);
	server = NULL;
	stop_drainer();
	if (query_open(dir, &q, &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(query_raw(q, series_id(name, strlen(name)), INT64_MIN, INT64_MAX,
				   add_sample, &st, NULL, &e),
			 0);
	query_close(q);
	return st;
}

/* ---- 1. ownership ---- */

/* Host evil sends web1's id without defining it: refused, counted, and
 * web1's series has only web1's samples. */
static void test_foreign_id_without_definition(void **state)
{
	struct proto_msg m;
	start("127.0.0.1");
	int64_t now = rtime_now_ns();
	struct client *web1 = agent("web1", NULL);
	uint64_t id = define(web1, "web1/node_load1");
	expect_ack(send_samples(web1, 1, id, now - 100 * RTIME_NS_PER_SEC, 5, 1, &m), &m, 1);

	struct client *evil = agent("evil", NULL);
	define(evil, "evil/node_load1");
	expect_error(send_samples(evil, 1, id, now - 50 * RTIME_NS_PER_SEC, 1, 666, &m), &m,
		     PROTO_ERR_OWNERSHIP);
	assert_int_equal(stats().ownership_refused, 1);
	client_close(evil);
	client_close(web1);
	struct stored st = read_back("web1/node_load1");
	assert_int_equal(st.n, 5);
	assert_true(st.sum == 15);
}

/* Host evil defines web1's series itself (right id, right name): the
 * definition is left out (counted), so its samples are refused. */
static void test_foreign_definition(void **state)
{
	struct proto_msg m;
	start("127.0.0.1");
	int64_t now = rtime_now_ns();
	struct client *web1 = agent("web1", NULL);
	uint64_t id = define(web1, "web1/node_load1");
	expect_ack(send_samples(web1, 1, id, now - 10 * RTIME_NS_PER_SEC, 1, 1, &m), &m, 1);
	struct client *evil = agent("evil", NULL);
	define(evil, "web1/node_load1");
	expect_error(send_samples(evil, 1, id, now - 5 * RTIME_NS_PER_SEC, 1, 666, &m), &m,
		     PROTO_ERR_OWNERSHIP);
	assert_int_equal(stats().ownership_refused, 2);
	client_close(evil);
	client_close(web1);
}

/* A series known to the store is writable only on a connection that
 * defined it: web1 reconnecting must define again. */
static void test_own_id_needs_definition_on_the_connection(void **state)
{
	struct proto_msg m;
	start("127.0.0.1");
	struct client *web1 = agent("web1", NULL);
	uint64_t id = define(web1, "web1/node_load1");
	int64_t now = rtime_now_ns();
	expect_ack(send_samples(web1, 1, id, now - 10 * RTIME_NS_PER_SEC, 1, 1, &m), &m, 1);
	client_close(web1);
	web1 = agent("web1", NULL);
	expect_error(send_samples(web1, 2, id, now - 9 * RTIME_NS_PER_SEC, 1, 2, &m), &m,
		     PROTO_ERR_OWNERSHIP);
	client_close(web1);
	web1 = agent("web1", NULL);
	define(web1, "web1/node_load1");
	expect_ack(send_samples(web1, 2, id, now - 9 * RTIME_NS_PER_SEC, 1, 2, &m), &m, 2);
	client_close(web1);
}

/* Many series on one connection (the set of its ids grows): every one
 * writable, a neighbour's id still not. */
static void test_many_series_on_one_connection(void **state)
{
	enum { N = 1000 };
	static char names[N][64];
	static const char *name_ptrs[N];
	static uint64_t ids[N];
	static struct sample s[N];
	struct proto_msg m;
	struct proto_buf b = { 0 };
	start("127.0.0.1");
	int64_t now = rtime_now_ns();
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof names[i], "web1/node_load1{i=\"%d\"}", i);
		name_ptrs[i] = names[i];
		ids[i] = series_id(names[i], strlen(names[i]));
		s[i] = (struct sample){ ids[i], now - RTIME_NS_PER_SEC, i };
	}
	struct client *web1 = agent("web1", NULL);
	assert_int_equal(proto_put_series(&b, ids, name_ptrs, N), 0);
	assert_int_equal(proto_put_samples(&b, 1, s, N), 0);
	send_buf(web1, &b);
	expect_ack(read_reply(web1, &m, 3 * RTIME_NS_PER_SEC), &m, 1);
	uint64_t other = series_id("web2/node_load1", strlen("web2/node_load1"));
	expect_error(send_samples(web1, 2, other, now, 1, 1, &m), &m, PROTO_ERR_OWNERSHIP);
	client_close(web1);
	assert_int_equal(stats().samples, N);
}

/* The series a connection defined, sent in their order, in another, in
 * part, twice in a row, with more defined on the way and around a refused
 * batch: every sample reaches its own series (the server remembers where
 * each place's series is and guesses the next sample's from the last). */
static void test_samples_in_any_order_reach_their_series(void **state)
{
	enum { N = 8, ROUNDS = 6, MAX = 2 * N };
	static const int order[ROUNDS][MAX] = {
		{ 0, 1, 2, 3, -1 },		      /* the order they were defined in */
		{ 3, 2, 1, 0, -1 },		      /* backwards */
		{ 1, 3, -1 },			      /* in part */
		{ 2, 2, 3, 3, 0, -1 },		      /* twice in a row */
		{ 4, 5, 6, 7, 0, 1, 2, 3, -1 },	      /* the later ones first */
		{ 0, 1, 2, 3, 4, 5, 6, 7, 7, 0, -1 }, /* all, around the end */
	};
	static char names[N][64];
	uint64_t ids[N];
	size_t want_n[N] = { 0 };
	double want_sum[N] = { 0 };
	struct proto_msg m;
	start("127.0.0.1");
	int64_t now = rtime_now_ns() - 3600 * RTIME_NS_PER_SEC;
	struct client *web1 = agent("web1", NULL);
	for (int k = 0; k < N; k++)
		snprintf(names[k], sizeof names[k], "web1/node_load1{k=\"%d\"}", k);
	for (int k = 0; k < N / 2; k++)
		ids[k] = define(web1, names[k]);
	uint64_t seq = 0;
	for (int r = 0; r < ROUNDS; r++) {
		if (r == 4) /* more series: the places grow */
			for (int k = N / 2; k < N; k++)
				ids[k] = define(web1, names[k]);
		struct sample batch[MAX];
		size_t n = 0;
		for (int i = 0; order[r][i] >= 0; i++) {
			int k = order[r][i];
			double value = 1000.0 * k + 10 * r + i;
			batch[n++] =
			    (struct sample){ ids[k], now + (r * MAX + i) * RTIME_NS_PER_SEC,
					     value };
			want_n[k]++;
			want_sum[k] += value;
		}
		struct proto_buf b = { 0 };
		assert_int_equal(proto_put_samples(&b, ++seq, batch, n), 0);
		send_buf(web1, &b);
		expect_ack(read_reply(web1, &m, RTIME_NS_PER_SEC), &m, seq);
		if (r == 2) { /* a batch with a foreign series at its end: none of it */
			uint64_t foreign = series_id("web2/node_load1", strlen("web2/node_load1"));
			struct sample bad[2] = { { ids[0], now, 1e9 }, { foreign, now, 1e9 } };
			assert_int_equal(proto_put_samples(&b, ++seq, bad, 2), 0);
			send_buf(web1, &b);
			expect_error(read_reply(web1, &m, RTIME_NS_PER_SEC), &m,
				     PROTO_ERR_OWNERSHIP);
			client_close(web1);
			web1 = agent("web1", NULL);
			for (int k = 0; k < N / 2; k++)
				define(web1, names[k]);
		}
	}
	client_close(web1);
	ingest_close(server);
	server = NULL;
	stop_drainer();
	struct query *q;
	struct err e = { 0 };
	if (query_open(dir, &q, &e) != 0)
		fail_msg("%s", e.msg);
	for (int k = 0; k < N; k++) {
		struct stored st = { 0 };
		assert_int_equal(
		    query_raw(q, ids[k], INT64_MIN, INT64_MAX, add_sample, &st, NULL, &e), 0);
		if (st.n != want_n[k] || st.sum != want_sum[k])
			fail_msg("%s: %zu samples summing to %g, sent %zu summing to %g", names[k],
				 st.n, st.sum, want_n[k], want_sum[k]);
	}
	query_close(q);
}

/* A timestamp in 2100 is not stored (counted), so it cannot make web1's
 * real samples look out of order afterwards; the batch is still acked. */
static void test_far_future_does_not_block_real_samples(void **state)
{
	struct proto_msg m;
	start("127.0.0.1");
	int64_t now = rtime_now_ns();
	int64_t year_2100 = INT64_C(4102444800) * RTIME_NS_PER_SEC;
	struct client *evil = agent("evil", NULL);
	struct client *web1 = agent("web1", NULL);
	uint64_t id = define(web1, "web1/node_load1");
	/* The attack of the issue: another host's id with a 2100 stamp. */
	int type = send_samples(evil, 1, id, year_2100, 1, 666, &m);
	assert_int_equal(type, PROTO_ERROR);
	/* web1's own clock goes wrong once: the sample is left out. */
	expect_ack(send_samples(web1, 1, id, year_2100, 1, 666, &m), &m, 1);
	assert_int_equal(stats().future_dropped, 1);
	/* Nine minutes ahead is within the default skew of ten. */
	expect_ack(send_samples(web1, 2, id, now - 60 * RTIME_NS_PER_SEC, 5, 1, &m), &m, 2);
	expect_ack(send_samples(web1, 3, id, now + 9 * 60 * RTIME_NS_PER_SEC, 1, 6, &m), &m, 3);
	client_close(web1);
	client_close(evil);
	struct stored st = read_back("web1/node_load1");
	assert_int_equal(st.n, 6);
	assert_true(st.sum == 21);
	assert_true(st.last == 6);
}

/* A relay writes its own series and those its carries patterns match. */
static void test_relay_carries_only_its_hosts(void **state)
{
	static const char *const carries[] = { "web*", "db1" };
	static const struct ingest_host hosts[] = {
		{ .host = "relay1", .carries = carries, .n_carries = 2 },
	};
	struct proto_msg m;
	config.hosts = hosts;
	config.n_hosts = 1;
	start("127.0.0.1");
	struct client *relay = client_connect("relay1");
	assert_int_equal(handshake(relay, NULL, true), 0);
	uint64_t ids[3] = { define(relay, "relay1/rmon_up"), define(relay, "web7/node_load1"),
			    define(relay, "db1/node_load1") };
	for (int i = 0; i < 3; i++)
		expect_ack(send_samples(relay, (uint64_t)i + 1, ids[i], rtime_now_ns(), 1, 1, &m),
			   &m, (uint64_t)i + 1);
	uint64_t db2 = define(relay, "db2/node_load1");
	expect_error(send_samples(relay, 4, db2, rtime_now_ns(), 1, 1, &m), &m,
		     PROTO_ERR_OWNERSHIP);
	client_close(relay);
	/* A host without carries may not relay at all. */
	struct client *other = client_connect("web1");
	assert_int_equal(handshake(other, NULL, true), PROTO_ERR_AUTH);
	client_close(other);
}

/* ---- 2. credentials off loopback ---- */

/* Only per-host secrets, listening on 0.0.0.0: every other host name is
 * refused, as an agent and as a relay; web1 with its secret gets in. */
static void test_per_host_secrets_only_on_any_address(void **state)
{
	static const char *const carries[] = { "*" };
	static const struct ingest_host hosts[] = {
		{ .host = "web1", .secret = SECRET_WEB1 },
		{ .host = "stranger", .carries = carries, .n_carries = 1 }, /* no secret */
	};
	config.hosts = hosts;
	config.n_hosts = 2;
	start("0.0.0.0");
	struct client *c = client_connect("nobody");
	assert_int_equal(handshake(c, NULL, false), PROTO_ERR_AUTH);
	client_close(c);
	c = client_connect("nobody");
	assert_int_equal(handshake(c, NULL, true), PROTO_ERR_AUTH);
	client_close(c);
	c = client_connect("stranger");
	assert_int_equal(handshake(c, NULL, true), PROTO_ERR_AUTH);
	client_close(c);
	c = client_connect("web1");
	assert_int_equal(handshake(c, NULL, false), PROTO_ERR_AUTH);
	client_close(c);
	c = client_connect("web1");
	assert_int_equal(handshake(c, SECRET_WEB1, false), 0);
	client_close(c);
	assert_int_equal(stats().refused, 4);
}

/* With a shared secret too, any host proving it gets in on 0.0.0.0. */
static void test_shared_secret_on_any_address(void **state)
{
	config.secret = SECRET_SHARED;
	start("0.0.0.0");
	struct client *c = client_connect("anyone");
	assert_int_equal(handshake(c, SECRET_SHARED, false), 0);
	client_close(c);
	c = client_connect("anyone");
	assert_int_equal(handshake(c, NULL, false), PROTO_ERR_AUTH);
	client_close(c);
}

static void test_empty_and_short_secrets_refused(void **state)
{
	static const char *const secrets[] = { "", "x", "fifteen bytes!!" };
	struct err e = { 0 };
	start("127.0.0.1"); /* the port is free again after each refusal */
	ingest_close(server);
	server = NULL;
	for (size_t i = 0; i < 3; i++) {
		config.secret = secrets[i];
		assert_int_equal(ingest_open(&config, drainer, &server, &e), -EINVAL);
		assert_non_null(strstr(e.msg, "shorter than 16 bytes"));
		struct ingest_host host = { .host = "web1", .secret = secrets[i] };
		config.secret = NULL;
		config.hosts = &host;
		config.n_hosts = 1;
		assert_int_equal(ingest_open(&config, drainer, &server, &e), -EINVAL);
		assert_non_null(strstr(e.msg, "host web1"));
		config.n_hosts = 0;
	}
	config.secret = "sixteen bytes!!!";
	start("127.0.0.1");
}

/* ---- 3. bounded before trust ---- */

/* Before AUTH, a header announcing more than PROTO_HANDSHAKE_MAX is
 * refused at once, not waited for. */
static void test_big_frame_before_auth_refused_at_the_header(void **state)
{
	struct proto_msg m;
	start("127.0.0.1");
	struct client *c = client_connect("evil");
	uint8_t header[PROTO_HEADER_BYTES + 16] = { 0, 0x10, 0, 0, 0x96 }; /* 1 MiB announced */
	send_bytes(c, header, sizeof header);
	expect_error(read_reply(c, &m, RTIME_NS_PER_SEC), &m, PROTO_ERR_TOO_BIG);
	client_close(c);
	assert_int_equal(stats().over_limit, 1);
}

/* Peers that never authenticate hold at most handshake_memory together:
 * past it, the oldest goes to make room, and an honest agent still gets
 * in. */
static void test_unauthenticated_memory_is_bounded(void **state)
{
	enum { PEERS = 60 };
	struct client *peers[PEERS];
	struct proto_msg m;
	config.handshake_memory = 64 << 10; /* room for a handful */
	start("127.0.0.1");
	uint8_t half[PROTO_HEADER_BYTES + 3000] = { 0, 0, 0x0f, 0xa0, 0x96 }; /* 4000 announced */
	for (int i = 0; i < PEERS; i++) {
		peers[i] = client_connect("evil");
		send_bytes(peers[i], half, sizeof half);
		turn();
	}
	turn_for(50 * RTIME_NS_PER_MS);
	struct ingest_stats st = stats();
	size_t bound = (64 << 10) / 8192; /* each holds at least its input buffer */
	if (st.connections > bound)
		fail_msg("%llu unauthenticated connections open, at most %zu fit",
			 (unsigned long long)st.connections, bound);
	assert_true(st.evicted >= PEERS - bound);
	struct client *web1 = agent("web1", NULL);
	uint64_t id = define(web1, "web1/node_load1");
	expect_ack(send_samples(web1, 1, id, rtime_now_ns(), 1, 1, &m), &m, 1);
	client_close(web1);
	for (int i = 0; i < PEERS; i++)
		client_close(peers[i]);
}

/* An authenticated connection that sends half a frame and stops is closed
 * after frame_timeout; one that is merely idle between frames is not. */
static void test_stalled_frame_closed(void **state)
{
	struct proto_msg m;
	config.frame_timeout_ns = 300 * RTIME_NS_PER_MS;
	start("127.0.0.1");
	struct client *idle = agent("idle", NULL);
	struct client *stall = agent("stall", NULL);
	uint8_t half[PROTO_HEADER_BYTES + 10] = { 0, 0, 0, 100, 0x93, 0x06 };
	send_bytes(stall, half, sizeof half);
	assert_int_equal(read_reply(stall, &m, 1500 * RTIME_NS_PER_MS), CLOSED);
	assert_int_equal(stats().stalled, 1);
	uint64_t id = define(idle, "idle/node_load1");
	expect_ack(send_samples(idle, 1, id, rtime_now_ns(), 1, 1, &m), &m, 1);
	client_close(stall);
	client_close(idle);
}

/* [host NAME] limits win over [ingest]'s for that host only. */
static void test_per_host_limits(void **state)
{
	static const struct ingest_host hosts[] = {
		{ .host = "small", .max_frame = 4096, .max_series = 2 },
	};
	struct proto_msg m;
	config.hosts = hosts;
	config.n_hosts = 1;
	start("127.0.0.1");
	struct client *small = agent("small", NULL);
	define(small, "small/a");
	define(small, "small/b");
	define(small, "small/c");
	expect_error(read_reply(small, &m, RTIME_NS_PER_SEC), &m, PROTO_ERR_LIMIT);
	client_close(small);

	small = agent("small", NULL);
	struct client *big = agent("big", NULL);
	uint64_t ids[2] = { define(small, "small/a"), define(big, "big/a") };
	struct sample s[300];
	for (int i = 0; i < 300; i++)
		s[i] = (struct sample){ 0, rtime_now_ns() - (300 - i) * RTIME_NS_PER_SEC, i };
	struct client *who[2] = { small, big };
	for (int k = 0; k < 2; k++) {
		struct proto_buf b = { 0 };
		for (int i = 0; i < 300; i++)
			s[i].id = ids[k];
		assert_int_equal(proto_put_samples(&b, 1, s, 300), 0); /* about 8 KiB */
		send_buf(who[k], &b);
	}
	expect_error(read_reply(small, &m, RTIME_NS_PER_SEC), &m, PROTO_ERR_TOO_BIG);
	expect_ack(read_reply(big, &m, RTIME_NS_PER_SEC), &m, 1);
	assert_int_equal(stats().over_limit, 2);
	client_close(small);
	client_close(big);
}

/* A [host NAME] max_rate slows that host only. */
static void test_per_host_rate(void **state)
{
	static const struct ingest_host hosts[] = { { .host = "slow", .max_rate = 10 } };
	struct proto_msg m;
	config.hosts = hosts;
	config.n_hosts = 1;
	start("127.0.0.1");
	int64_t now = rtime_now_ns();
	struct client *fast = agent("fast", NULL);
	uint64_t id = define(fast, "fast/a");
	expect_ack(send_samples(fast, 1, id, now - 100 * RTIME_NS_PER_SEC, 40, 1, &m), &m, 1);
	assert_int_equal(stats().throttled, 0);
	struct client *slow = agent("slow", NULL);
	id = define(slow, "slow/a");
	expect_ack(send_samples(slow, 1, id, now - 100 * RTIME_NS_PER_SEC, 40, 1, &m), &m, 1);
	assert_int_equal(stats().throttled, 1);
	client_close(fast);
	client_close(slow);
}

/* ---- 4. the server's own failures ---- */

/* The store out of memory for the decoding scratch: a retryable
 * UNAVAILABLE (not MALFORMED), and the batch sent again is stored. */
static void test_scratch_out_of_memory_is_unavailable(void **state)
{
	struct proto_msg m;
	start("127.0.0.1");
	int64_t now = rtime_now_ns();
	struct client *web1 = agent("web1", NULL);
	uint64_t id = define(web1, "web1/node_load1");
	ingest_testing_scratch_failures = 1;
	expect_error(send_samples(web1, 1, id, now - 60 * RTIME_NS_PER_SEC, 10, 1, &m), &m,
		     PROTO_ERR_UNAVAILABLE);
	client_close(web1);
	web1 = agent("web1", NULL);
	define(web1, "web1/node_load1");
	expect_ack(send_samples(web1, 1, id, now - 60 * RTIME_NS_PER_SEC, 10, 1, &m), &m, 1);
	client_close(web1);
	struct stored st = read_back("web1/node_load1");
	assert_int_equal(st.n, 10);
}

/* Paused connections (over max_rate) resumed while one of them has gone:
 * the one dropped is in slot 0, the others are all resumed and acked. */
static void test_resume_with_a_dropped_connection(void **state)
{
	enum { N = 4 };
	struct client *c[N];
	uint64_t ids[N];
	struct proto_msg m;
	config.max_rate = 20; /* a 40-sample batch pauses for a second */
	start("127.0.0.1");
	for (int i = 0; i < N; i++) {
		char host[16], name[64];
		snprintf(host, sizeof host, "h%d", i);
		snprintf(name, sizeof name, "h%d/node_load1", i);
		c[i] = agent(host, NULL);
		ids[i] = define(c[i], name);
	}
	int64_t now = rtime_now_ns();
	for (int i = 0; i < N; i++)
		expect_ack(send_samples(c[i], 1, ids[i], now - 100 * RTIME_NS_PER_SEC, 40, 1, &m),
			   &m, 1);
	assert_true(stats().throttled >= N);
	/* While paused each sends another batch; the first one then leaves. */
	for (int i = 0; i < N; i++) {
		struct sample s = { ids[i], now - 10 * RTIME_NS_PER_SEC, 2 };
		struct proto_buf b = { 0 };
		assert_int_equal(proto_put_samples(&b, 2, &s, 1), 0);
		send_buf(c[i], &b);
	}
	shutdown(c[0]->fd, SHUT_RDWR);
	for (int i = 1; i < N; i++)
		expect_ack(read_reply(c[i], &m, 3 * RTIME_NS_PER_SEC), &m, 2);
	for (int i = 0; i < N; i++)
		client_close(c[i]);
}

static int disk_full(const char *point)
{
	return strcmp(point, "wal.write") == 0 ? -ENOSPC : 0;
}

/* The disk fills while many connections have something to read: the
 * first event holds them all (none of that pass is read), one
 * timer looks for room, and once there is room every batch is stored and
 * acknowledged. */
static void test_disk_full_holds_every_connection(void **state)
{
	enum { N = 6 };
	struct client *c[N];
	uint64_t ids[N];
	struct proto_msg m;
	struct evloop *loop;
	struct err e = { 0 };
	assert_int_equal(evloop_new(&loop, &e), 0);
	config.loop = loop; /* ours, so that its passes can be counted */
	start("127.0.0.1");
	for (int i = 0; i < N; i++) {
		char host[16], name[64];
		snprintf(host, sizeof host, "h%d", i);
		snprintf(name, sizeof name, "h%d/node_load1", i);
		c[i] = agent(host, NULL);
		ids[i] = define(c[i], name);
	}
	turn_for(50 * RTIME_NS_PER_MS); /* the last definition read */
	int64_t now = rtime_now_ns() - 100 * RTIME_NS_PER_SEC;
	fault_hook = disk_full;
	for (int i = 0; i < N; i++) {
		struct sample s = { ids[i], now, 1 };
		struct proto_buf b = { 0 };
		assert_int_equal(proto_put_samples(&b, 1, &s, 1), 0);
		send_buf(c[i], &b);
		if (i > 0)
			continue;
		/* The first batch finds the disk full; the others then come. */
		usleep(20000);
		assert_true(evloop_run_once(loop, 0, &e) >= 1);
		assert_int_equal(drainer_sync(drainer, &e), -ENOSPC);
		assert_false(drainer_accepting(drainer));
	}
	usleep(20000);
	int ran = evloop_run_once(loop, 0, &e);
	assert_true(ran >= 1 && ran <= 2); /* the first connection (and the sweep) */
	usleep(150000);			   /* the hold's timers are due */
	ran = evloop_run_once(loop, 0, &e);
	assert_true(ran >= 1 && ran <= 2); /* the hold's one timer (and the sweep's) */
	fault_hook = NULL;
	for (int i = 0; i < N; i++)
		expect_ack(read_reply(c[i], &m, 3 * RTIME_NS_PER_SEC), &m, 1);
	for (int i = 0; i < N; i++)
		client_close(c[i]);
	ingest_close(server);
	server = NULL;
	config.loop = NULL;
	evloop_free(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, make_dir, remove_dir)
		T(test_foreign_id_without_definition),
		T(test_foreign_definition),
		T(test_own_id_needs_definition_on_the_connection),
		T(test_many_series_on_one_connection),
		T(test_samples_in_any_order_reach_their_series),
		T(test_far_future_does_not_block_real_samples),
		T(test_relay_carries_only_its_hosts),
		T(test_per_host_secrets_only_on_any_address),
		T(test_shared_secret_on_any_address),
		T(test_empty_and_short_secrets_refused),
		T(test_big_frame_before_auth_refused_at_the_header),
		T(test_unauthenticated_memory_is_bounded),
		T(test_stalled_frame_closed),
		T(test_per_host_limits),
		T(test_per_host_rate),
		T(test_scratch_out_of_memory_is_unavailable),
		T(test_resume_with_a_dropped_connection),
		T(test_disk_full_holds_every_connection),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
