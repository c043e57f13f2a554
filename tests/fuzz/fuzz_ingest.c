/* fuzz_ingest.c - libFuzzer harness for the ingest server's authenticated
 * path (store/ingest.c over net/proto.c): a real server on 127.0.0.1 in
 * this process, one connection per input that authenticates as host
 * "fuzz", defines fuzz/a and fuzz/b, then sends the input.  The first
 * byte says how: 0, the rest is the raw stream; 1, each part between
 * 0xff 0xfe markers is a frame payload (the header added); otherwise one
 * SAMPLES frame of the rest read as [id selector, ts, value] triples.
 * Whatever comes, the server stays up, answers or closes, and stores no
 * series of another host (its drainer's on_series hook checks each). */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/rtime.h"
#include "lib/series_name.h"
#include "net/proto.h"
#include "store/drainer.h"
#include "store/ingest.h"

static struct drainer *drainer;
static struct ingest *server;
static int port;
static const char *const names[2] = { "fuzz/a", "fuzz/b" };
static uint64_t ids[2];

static void must(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_ingest: %s\n", what);
		abort();
	}
}

/* Every series the store meets first: the connection's own only. */
static void on_series(void *ctx, uint64_t id, const char *name, size_t len)
{
	must(len > 5 && memcmp(name, "fuzz/", 5) == 0, "another host's series was defined");
}

static void turn(void)
{
	struct err e = { 0 };
	must(ingest_poll(server, 0, &e) == 0, e.msg);
	int rc = drainer_sync(drainer, &e);
	must(rc == 0 || rc == -ENOSPC, e.msg);
	if (rc == 0)
		ingest_acknowledge(server);
}

static void set_up(void)
{
	static char dir[] = "/dev/shm/rmon-fuzz-ingest-XXXXXX";
	static char listen[32];
	struct drainer_config dc;
	struct ingest_config ic;
	struct err e = { 0 };
	must(mkdtemp(dir) != NULL, "mkdtemp");
	drainer_config_default(&dc, dir);
	dc.host = "central";
	dc.ring.lanes = 1;
	dc.ring.slots_per_lane = 64;
	dc.ring.series_capacity = 64;
	dc.on_series = on_series;
	dc.on_durable = NULL;
	must(drainer_open(&dc, &drainer, &e) == 0, e.msg);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	must(bind(fd, (struct sockaddr *)&a, sizeof a) == 0, "bind");
	must(getsockname(fd, (struct sockaddr *)&a, &len) == 0, "getsockname");
	close(fd);
	port = ntohs(a.sin_port);
	snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
	ingest_config_default(&ic);
	ic.listen = listen;
	ic.max_frame = 1 << 20;
	must(ingest_open(&ic, drainer, &server, &e) == 0, e.msg);
	for (int i = 0; i < 2; i++)
		ids[i] = series_id(names[i], strlen(names[i]));
}

/* Reads what the server sent; false once it closed. */
static bool drain(int fd, struct proto_buf *in)
{
	for (;;) {
		if (proto_buf_reserve(in, 4096) != 0)
			abort();
		ssize_t n = recv(fd, in->data + in->len, in->cap - in->len, MSG_DONTWAIT);
		if (n > 0) {
			in->len += (size_t)n;
			continue;
		}
		return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
	}
}

static void send_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN) {
			turn();
			continue;
		}
		if (n < 0)
			return; /* closed by the server */
		p += n;
		len -= (size_t)n;
	}
}

/* The server's reply frames from offset *at of in: the type of the next. */
static int next_type(struct proto_buf *in, size_t *at, struct proto_msg *m)
{
	struct err e;
	if (in->len - *at < PROTO_HEADER_BYTES)
		return -1;
	uint32_t n = proto_frame_length(in->data + *at);
	if (in->len - *at - PROTO_HEADER_BYTES < n)
		return -1;
	must(proto_decode_control(in->data + *at + PROTO_HEADER_BYTES, n, m, &e) == 0,
	     "the server sent a frame that does not decode");
	*at += PROTO_HEADER_BYTES + n;
	return m->type;
}

/* HELLO, CHALLENGE, AUTH, WELCOME as host fuzz, then its definitions. */
static int authenticate(struct proto_buf *in)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct proto_buf out = { 0 };
	struct proto_msg m;
	uint8_t nonce[PROTO_NONCE_BYTES] = { 0 };
	size_t at = 0;
	must(fd >= 0, "socket");
	must(connect(fd, (struct sockaddr *)&a, sizeof a) == 0 || errno == EINPROGRESS, "connect");
	must(proto_put_hello(&out, "fuzz", "fuzz_ingest", nonce, false) == 0, "hello");
	must(proto_put_auth(&out, NULL) == 0, "auth");
	must(proto_put_series(&out, ids, names, 2) == 0, "series");
	send_all(fd, out.data, out.len);
	proto_buf_free(&out);
	int want[2] = { PROTO_CHALLENGE, PROTO_WELCOME };
	for (int k = 0; k < 2;) {
		turn();
		must(drain(fd, in), "closed during the handshake");
		int type = next_type(in, &at, &m);
		if (type < 0)
			continue;
		must(type == want[k++], "the handshake went wrong");
	}
	proto_buf_consume(in, at);
	return fd;
}

/* The input as the stream to send after the definitions. */
static void shape(const uint8_t *data, size_t size, struct proto_buf *out)
{
	if (size == 0)
		return;
	uint8_t how = data[0];
	data++;
	size--;
	if (how == 0) {
		must(proto_buf_append(out, data, size) == 0, "append");
	} else if (how == 1) {
		size_t start = 0;
		for (size_t i = 0; i <= size; i++) {
			if (i < size && !(data[i] == 0xff && i + 1 < size && data[i + 1] == 0xfe))
				continue;
			uint8_t header[PROTO_HEADER_BYTES] = { (uint8_t)((i - start) >> 24),
							       (uint8_t)((i - start) >> 16),
							       (uint8_t)((i - start) >> 8),
							       (uint8_t)(i - start) };
			must(proto_buf_append(out, header, sizeof header) == 0 &&
				 proto_buf_append(out, data + start, i - start) == 0,
			     "append");
			start = i + 2;
			i++;
		}
	} else {
		/* 1 + 8 + 8 bytes a sample: which id (ours, or the byte's own
		 * made-up id), a timestamp and a value, both raw. */
		struct sample s[256];
		size_t n = 0;
		for (size_t i = 0; i + 17 <= size && n < 256; i += 17, n++) {
			s[n].id = data[i] < 128 ? ids[data[i] & 1] : data[i];
			memcpy(&s[n].ts, data + i + 1, 8);
			memcpy(&s[n].value, data + i + 9, 8);
		}
		must(proto_put_samples(out, how, s, n) == 0, "samples");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!server)
		set_up();
	struct proto_buf in = { 0 }, out = { 0 };
	struct proto_msg m;
	int fd = authenticate(&in);
	shape(data, size, &out);
	send_all(fd, out.data, out.len);
	shutdown(fd, SHUT_WR);
	/* Until the server closes: an ERROR or nothing, and ACKs before. */
	bool open = true;
	for (int quiet = 0; open && quiet < 200; quiet++) {
		size_t before = in.len;
		turn();
		open = drain(fd, &in);
		if (in.len != before)
			quiet = 0;
	}
	must(!open, "the server kept a connection whose stream had ended");
	size_t at = 0;
	int type;
	while ((type = next_type(&in, &at, &m)) >= 0)
		must(type == PROTO_ACK || type == PROTO_ERROR, "an unexpected frame");
	close(fd);
	proto_buf_free(&in);
	proto_buf_free(&out);
	turn(); /* the server notices the close */
	return 0;
}
