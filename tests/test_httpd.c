/* test_httpd.c - the /metrics server (net/httpd.c): the request parser and
 * its refusals, Accept and Accept-Encoding negotiation, query strings, and
 * a server on a real socket: keep-alive, gzip, 404, a head too long, the
 * client limit and the idle timeout. */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "lib/evloop.h"
#include "lib/rtime.h"
#include "net/httpd.h"

static long parse(const char *text, struct httpd_request *r)
{
	return httpd_parse(text, strlen(text), 8192, r, NULL);
}

static void test_parse_good(void **state)
{
	struct httpd_request r;
	const char *req = "GET /metrics?match%5B%5D=web1%2F%2A HTTP/1.1\r\nHost: x\r\n"
			  "Accept: application/openmetrics-text;version=1.0.0,application/"
			  "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/"
			  "*;q=0.1\r\nAccept-Encoding: gzip\r\n\r\nGET /next";
	long n = parse(req, &r);
	assert_int_equal(n, (long)(strstr(req, "\r\n\r\n") - req + 4));
	assert_int_equal(r.path_len, 8);
	assert_memory_equal(r.path, "/metrics", 8);
	assert_int_equal(r.query_len, strlen("match%5B%5D=web1%2F%2A"));
	assert_true(r.openmetrics);
	assert_true(r.gzip);
	assert_true(r.keep_alive);
	assert_false(r.head);

	/* Plain text preferred, gzip refused by q=0, HTTP/1.0 closes. */
	assert_true(parse("HEAD /metrics HTTP/1.0\nAccept: text/plain;q=1, application/"
			  "openmetrics-text;q=0.5\nAccept-Encoding: gzip;q=0, deflate\n\n",
			  &r) > 0);
	assert_false(r.openmetrics);
	assert_false(r.gzip);
	assert_false(r.keep_alive);
	assert_true(r.head);
	assert_null(r.query);
	/* No Accept at all: the text format. */
	assert_true(parse("GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n", &r) > 0);
	assert_false(r.openmetrics);
	assert_false(r.keep_alive);
	/* Incomplete: more bytes needed. */
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost: x\r\n", &r), 0);
	assert_int_equal(parse("GET /met", &r), 0);
}

static void test_parse_refusals(void **state)
{
	struct httpd_request r;
	struct err e = { 0 };
	assert_int_equal(parse("POST /metrics HTTP/1.1\r\n\r\n", &r), -405);
	assert_int_equal(parse("GET /metrics HTTP/2.0\r\n\r\n", &r), -505);
	assert_int_equal(parse("GET metrics HTTP/1.1\r\n\r\n", &r), -400);
	assert_int_equal(parse("GET /metrics\r\n\r\n", &r), -400);
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nNoColon\r\n\r\n", &r), -400);
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nA: b\rc\r\n\r\n", &r), -400);
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\n folded\r\n\r\n", &r), -400);
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nBad Name: x\r\n\r\n", &r), -400);
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", &r),
			 -413);
	assert_true(parse("GET /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &r) > 0);
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &r),
			 -413);
	char nul[] = "GET /metrics HTTP/1.1\r\nA: \0\r\n\r\n";
	assert_int_equal(httpd_parse(nul, sizeof nul - 1, 8192, &r, &e), -400);
	assert_non_null(strstr(e.msg, "line 2"));
	/* Too long: whether complete or not. */
	char big[600];
	memset(big, 'a', sizeof big);
	memcpy(big, "GET /", 5);
	assert_int_equal(httpd_parse(big, sizeof big, 512, &r, NULL), -431);
	snprintf(big, sizeof big, "GET /metrics HTTP/1.1\r\nX: %0400d\r\n\r\n", 1);
	assert_int_equal(httpd_parse(big, strlen(big), 256, &r, NULL), -431);
}

static void test_query(void **state)
{
	const char *q = "match[]=web%2F*&&x=a+b&match%5B%5D=%7Bmode%3D%22idle%22%7D&flag&bad=%zz";
	const char *at = q, *end = q + strlen(q);
	char k[64], v[64];
	assert_int_equal(httpd_query_next(&at, end, k, sizeof k, v, sizeof v), 1);
	assert_string_equal(k, "match[]");
	assert_string_equal(v, "web/*");
	assert_int_equal(httpd_query_next(&at, end, k, sizeof k, v, sizeof v), 1);
	assert_string_equal(k, "x");
	assert_string_equal(v, "a b");
	assert_int_equal(httpd_query_next(&at, end, k, sizeof k, v, sizeof v), 1);
	assert_string_equal(k, "match[]");
	assert_string_equal(v, "{mode=\"idle\"}");
	assert_int_equal(httpd_query_next(&at, end, k, sizeof k, v, sizeof v), 1);
	assert_string_equal(k, "flag");
	assert_string_equal(v, "");
	assert_int_equal(httpd_query_next(&at, end, k, sizeof k, v, sizeof v), -EINVAL);
	assert_int_equal(httpd_query_next(&at, end, k, sizeof k, v, sizeof v), 0);
	const char *cut = "a=%4", *at2 = cut;
	assert_int_equal(httpd_query_next(&at2, cut + 4, k, sizeof k, v, sizeof v), -EINVAL);
	const char *longer = "a=0123456789", *at3 = longer;
	assert_int_equal(httpd_query_next(&at3, longer + 12, k, sizeof k, v, 4), -ENAMETOOLONG);
}

/* ---- a live server ---- */

struct live {
	struct evloop *loop;
	struct httpd *h;
	int port;
	int calls;
	size_t body_bytes; /* what the handler writes */
	bool fail;
};

static int handler(void *ctx, const struct httpd_request *req, struct httpd_response *res)
{
	struct live *l = ctx;
	l->calls++;
	if (l->fail)
		return -EIO;
	httpd_printf(res, "# %s\n", req->openmetrics ? "om" : "text");
	for (size_t i = 0; res->len < l->body_bytes; i++)
		httpd_printf(res, "metric_%zu %zu\n", i % 100, i);
	return 0;
}

static int free_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
	getsockname(s, (struct sockaddr *)&a, &len);
	close(s);
	return ntohs(a.sin_port);
}

static void live_open(struct live *l, uint32_t max_clients, int64_t timeout_ns)
{
	struct err e = { 0 };
	char addr[64];
	memset(l, 0, sizeof *l);
	assert_int_equal(evloop_new(&l->loop, &e), 0);
	l->port = free_port();
	snprintf(addr, sizeof addr, "127.0.0.1:%d", l->port);
	struct httpd_config c;
	httpd_config_default(&c, addr, l->loop);
	c.max_clients = max_clients;
	c.timeout_ns = timeout_ns;
	c.max_request = 1024;
	assert_int_equal(httpd_open(&c, handler, l, &l->h, &e), 0);
}

static void live_close(struct live *l)
{
	httpd_close(l->h);
	evloop_free(l->loop);
}

static int client(struct live *l)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)l->port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(connect(s, (struct sockaddr *)&a, sizeof a), 0);
	return s;
}

/* Runs the loop until the socket has a whole answer (head and
 * Content-Length bytes) or closed; returns the bytes in buf. */
static size_t receive(struct live *l, int s, char *buf, size_t cap)
{
	size_t len = 0;
	int64_t end = rtime_mono_ns() + 20 * RTIME_NS_PER_SEC;
	struct err e = { 0 };
	while (rtime_mono_ns() < end) {
		evloop_run_once(l->loop, 2 * RTIME_NS_PER_MS, &e);
		ssize_t n = recv(s, buf + len, cap - len - 1, MSG_DONTWAIT);
		if (n == 0)
			break;
		if (n > 0)
			len += (size_t)n;
		buf[len] = '\0';
		char *body = strstr(buf, "\r\n\r\n"), *cl = strstr(buf, "Content-Length: ");
		if (body && cl && (size_t)(body + 4 - buf) + strtoul(cl + 16, NULL, 10) <= len)
			break;
	}
	buf[len] = '\0';
	return len;
}

static void send_text(int s, const char *text)
{
	assert_int_equal(send(s, text, strlen(text), 0), (ssize_t)strlen(text));
}

static void test_live_keep_alive_and_errors(void **state)
{
	struct live l;
	static char buf[1 << 20];
	live_open(&l, 4, 30 * RTIME_NS_PER_SEC);
	int s = client(&l);
	/* Two requests in one packet: two answers, in order. */
	send_text(s, "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\nGET /metrics HTTP/1.1\r\nAccept: "
		     "application/openmetrics-text\r\n\r\n");
	size_t n = receive(&l, s, buf, sizeof buf);
	assert_true(n > 0);
	assert_non_null(strstr(buf, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(buf, "\r\n\r\n# text\n"));
	char *second = strstr(buf + 10, "HTTP/1.1 200");
	if (!second) /* the second answer came in another read */
		receive(&l, s, buf, sizeof buf), second = buf;
	assert_non_null(strstr(second, "# om"));
	assert_int_equal(l.calls, 2);
	/* Another path: 404 and the handler is not called. */
	send_text(s, "GET /other HTTP/1.1\r\n\r\n");
	receive(&l, s, buf, sizeof buf);
	assert_non_null(strstr(buf, "HTTP/1.1 404 Not Found"));
	assert_int_equal(l.calls, 2);
	/* A handler failure: 500. */
	l.fail = true;
	send_text(s, "GET /metrics HTTP/1.1\r\n\r\n");
	receive(&l, s, buf, sizeof buf);
	assert_non_null(strstr(buf, "HTTP/1.1 500"));
	l.fail = false;
	/* A bad request: 400, and the connection is closed after it. */
	send_text(s, "GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n");
	receive(&l, s, buf, sizeof buf);
	assert_non_null(strstr(buf, "HTTP/1.1 400"));
	assert_non_null(strstr(buf, "Connection: close"));
	assert_int_equal(receive(&l, s, buf, sizeof buf), 0); /* closed */
	close(s);
	/* A head that never ends within max_request: 431. */
	s = client(&l);
	char big[2048];
	snprintf(big, sizeof big, "GET /metrics HTTP/1.1\r\nX: %01500d", 7);
	send_text(s, big);
	receive(&l, s, buf, sizeof buf);
	assert_non_null(strstr(buf, "HTTP/1.1 431"));
	close(s);
	live_close(&l);
}

static void test_live_gzip(void **state)
{
	struct live l;
	static char buf[1 << 21];
	static unsigned char plain[1 << 21];
	live_open(&l, 4, 30 * RTIME_NS_PER_SEC);
	l.body_bytes = 500000; /* larger than a socket buffer: written in pieces */
	int s = client(&l);
	send_text(s, "GET /metrics HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n");
	size_t n = receive(&l, s, buf, sizeof buf);
	assert_non_null(strstr(buf, "Content-Encoding: gzip"));
	char *body = strstr(buf, "\r\n\r\n") + 4;
	size_t zlen = n - (size_t)(body - buf);
	assert_true(zlen < 200000);
	z_stream z = { 0 };
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (unsigned char *)body;
	z.avail_in = (uInt)zlen;
	z.next_out = plain;
	z.avail_out = sizeof plain;
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	assert_true(z.total_out >= 500000);
	assert_memory_equal(plain, "# text\nmetric_0 0\n", 18);
	inflateEnd(&z);
	/* HEAD: the same head, no body. */
	send_text(s, "HEAD /metrics HTTP/1.1\r\n\r\n");
	buf[0] = '\0';
	int64_t end = rtime_mono_ns() + 10 * RTIME_NS_PER_SEC;
	n = 0;
	while (rtime_mono_ns() < end && !strstr(buf, "\r\n\r\n")) {
		struct err e = { 0 };
		evloop_run_once(l.loop, 2 * RTIME_NS_PER_MS, &e);
		ssize_t k = recv(s, buf + n, sizeof buf - n - 1, MSG_DONTWAIT);
		if (k > 0)
			n += (size_t)k;
		buf[n] = '\0';
	}
	char *head_end = strstr(buf, "\r\n\r\n");
	assert_non_null(head_end);
	assert_int_equal(n, (size_t)(head_end + 4 - buf));
	close(s);
	live_close(&l);
}

static void test_live_limits(void **state)
{
	struct live l;
	static char buf[65536];
	live_open(&l, 2, 300 * RTIME_NS_PER_MS);
	int a = client(&l), b = client(&l), c = client(&l);
	struct err e = { 0 };
	for (int i = 0; i < 20; i++)
		evloop_run_once(l.loop, RTIME_NS_PER_MS, &e);
	struct httpd_stats st;
	httpd_get_stats(l.h, &st);
	assert_int_equal(st.clients, 2); /* the third waits in the backlog */
	/* The idle ones time out, then the third is taken and served. */
	send_text(c, "GET /metrics HTTP/1.1\r\n\r\n");
	receive(&l, c, buf, sizeof buf);
	assert_non_null(strstr(buf, "HTTP/1.1 200"));
	assert_int_equal(receive(&l, a, buf, sizeof buf), 0); /* closed by the timeout */
	close(a);
	close(b);
	close(c);
	live_close(&l);
}

static void test_bad_listen(void **state)
{
	struct evloop *loop;
	struct err e = { 0 };
	struct httpd *h;
	struct httpd_config c;
	assert_int_equal(evloop_new(&loop, &e), 0);
	httpd_config_default(&c, "127.0.0.1", loop);
	assert_int_equal(httpd_open(&c, handler, NULL, &h, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "127.0.0.1"));
	evloop_free(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_refusals),
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_live_keep_alive_and_errors),
		cmocka_unit_test(test_live_gzip),
		cmocka_unit_test(test_live_limits),
		cmocka_unit_test(test_bad_listen),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
