/* fleet.c - many fake agents on one event loop; see fleet.h. */
#include "bench/fleet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench/bench.h"
#include "lib/grow.h"
#include "lib/rtime.h"
#include "lib/series_name.h"
#include "net/proto.h"

#define SEC RTIME_NS_PER_SEC
#define MS  RTIME_NS_PER_MS
/* Connections in the handshake at once: stays well under the listen
 * backlog, so no SYN is dropped and retried a second later. */
#define HANDSHAKES 256

/* 24 well-mixed bits of (a, b): splitmix64's finalizer.  A single
 * multiply of a ^ b left the values of a series a few fixed steps apart,
 * which a general-purpose compressor (victoria-metrics' zstd) found and
 * squeezed to a quarter of the samples' real entropy. */
static uint64_t mix(uint64_t a, uint64_t b)
{
	uint64_t x = a * UINT64_C(0x9e3779b97f4a7c15) + b;
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return (x ^ (x >> 31)) >> 40;
}

double fleet_value(uint64_t id, uint64_t k)
{
	switch (id % 4) {
	case 0:
		return (double)(k * 4096 + mix(id, k) % 4096);
	case 1:
		return 4096.0 * (double)(100000 + mix(id, k / 16) % 64);
	case 2:
		return 17179869184.0;
	default:
		return (double)(mix(id, k) % 400) / 100.0;
	}
}

int fleet_series_name(char *buf, size_t len, uint32_t agent, uint32_t s)
{
	char host[32], value[16];
	struct series_label label = { "s", value };
	struct err e = { 0 };
	snprintf(host, sizeof host, "bench-agent-%u", agent);
	snprintf(value, sizeof value, "%u", s);
	int n = series_canonical(buf, len, host, "bench_value", &label, 1, &e);
	if (n < 0)
		bench_die("%s", e.msg);
	return n;
}

void fleet_init(struct fleet *f, uint32_t n, uint32_t series, uint32_t rounds_per_batch,
		uint32_t window, int port, bool spread)
{
	char name[DATASET_NAME_MAX];
	memset(f, 0, sizeof *f);
	f->n = n;
	f->series = series;
	f->rounds_per_batch = rounds_per_batch;
	f->window = window < FLEET_WINDOW_MAX ? window : FLEET_WINDOW_MAX;
	f->spread = spread;
	f->agents = calloc(n, sizeof *f->agents);
	f->ids = malloc((size_t)n * series * sizeof *f->ids);
	f->names = malloc(series * sizeof *f->names);
	f->name_ptrs = malloc(series * sizeof *f->name_ptrs);
	f->batch = malloc((size_t)series * rounds_per_batch * sizeof *f->batch);
	struct err e = { 0 };
	if (!f->agents || !f->ids || !f->names || !f->name_ptrs || !f->batch)
		bench_die("out of memory");
	if (evloop_new(&f->loop, &e) != 0)
		bench_die("%s", e.msg);
	for (uint32_t a = 0; a < n; a++) {
		f->agents[a].index = a;
		f->agents[a].fleet = f;
		f->agents[a].link.fd = -1;
		for (uint32_t s = 0; s < series; s++)
			f->ids[(size_t)a * series + s] =
			    series_id(name, (size_t)fleet_series_name(name, sizeof name, a, s));
	}
	f->server = (struct sockaddr_in){ .sin_family = AF_INET,
					  .sin_port = htons((uint16_t)port),
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	f->t0 = (rtime_now_ns() / SEC - 86400) * SEC; /* a day ago: well inside retention */
	/* The first batch also defines the series: not the ack path. */
	f->record_from = 2;
}

void fleet_use_data(struct fleet *f, struct dataset *data)
{
	char name[DATASET_NAME_MAX];
	if (data->hosts < f->n || data->per_host < f->series)
		bench_die("a data set of %u hosts x %u series for %u agents x %u series",
			  data->hosts, data->per_host, f->n, f->series);
	f->data = data;
	for (uint32_t a = 0; a < f->n; a++)
		for (uint32_t s = 0; s < f->series; s++)
			f->ids[(size_t)a * f->series + s] =
			    series_id(name, (size_t)dataset_name(data, a, s, name, sizeof name));
}

void fleet_close(struct fleet *f)
{
	for (uint32_t a = 0; a < f->n; a++)
		link_close(&f->agents[a].link);
	evloop_free(f->loop);
	free(f->agents);
	free(f->ids);
	free(f->names);
	free(f->name_ptrs);
	free(f->batch);
	free(f->latencies);
}

static void agent_watch(struct fleet *f, struct fleet_agent *a)
{
	struct err e = { 0 };
	unsigned events = a->state == AGENT_CONNECTING
			      ? EVLOOP_WRITE
			      : EVLOOP_READ | (a->link.out.len ? EVLOOP_WRITE : 0);
	if (events != a->events && evloop_set_file(f->loop, a->link.fd, events, &e) != 0)
		bench_die("%s", e.msg);
	a->events = events;
}

static void agent_flush(struct fleet *f, struct fleet_agent *a)
{
	struct err e = { 0 };
	int rc = link_flush(&a->link, &e);
	if (rc != 0 && rc != -EAGAIN)
		bench_die("agent %u: %s", a->index, e.msg);
	agent_watch(f, a);
}

static void agent_read(struct fleet *f, struct fleet_agent *a);
static void agent_connected(struct fleet *f, struct fleet_agent *a);

static void on_agent(struct evloop *loop, int fd, unsigned events, void *ctx)
{
	struct fleet_agent *a = ctx;
	if (a->state == AGENT_CONNECTING) {
		agent_connected(a->fleet, a);
		return;
	}
	if (events & EVLOOP_READ)
		agent_read(a->fleet, a);
	if (events & EVLOOP_WRITE)
		agent_flush(a->fleet, a);
}

static void agent_start(struct fleet *f, struct fleet_agent *a)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		bench_die("socket: %s (RLIMIT_NOFILE too low?)", strerror(errno));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (f->spread) {
		/* One source address has only the ephemeral port range (often
		 * 28,000 ports, less where it was narrowed) for one server port. */
		struct sockaddr_in src = { .sin_family = AF_INET,
					   .sin_addr.s_addr = htonl(0x7f000002 + a->index / 1000) };
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
		if (bind(fd, (struct sockaddr *)&src, sizeof src) != 0)
			bench_die("bind 127.0.0.%u: %s", 2 + a->index / 1000, strerror(errno));
	}
	if (connect(fd, (struct sockaddr *)&f->server, sizeof f->server) != 0 &&
	    errno != EINPROGRESS)
		bench_die("connect 127.0.0.1:%d: %s", ntohs(f->server.sin_port), strerror(errno));
	struct err e = { 0 };
	if (evloop_add_file(f->loop, fd, EVLOOP_WRITE, on_agent, a, &e) != 0)
		bench_die("%s", e.msg);
	a->link.fd = fd;
	a->state = AGENT_CONNECTING;
	a->events = EVLOOP_WRITE;
	f->started++;
}

/* The connect finished: say HELLO as an agent without a secret. */
static void agent_connected(struct fleet *f, struct fleet_agent *a)
{
	struct err e = { 0 };
	uint8_t nonce[PROTO_NONCE_BYTES];
	char host[32];
	int fd = a->link.fd;
	if (link_connected(fd, &e) != 0 || link_init(&a->link, fd, NULL, false, NULL, &e) != 0)
		bench_die("agent %u: %s", a->index, e.msg);
	if (f->data)
		dataset_host(f->data, a->index, host, sizeof host);
	else
		snprintf(host, sizeof host, "bench-agent-%u", a->index);
	if (proto_nonce(nonce) != 0 ||
	    proto_put_hello(&a->link.out, host, "rmon-bench", nonce, false) != 0)
		bench_die("agent %u: no nonce or no memory for HELLO", a->index);
	a->state = AGENT_WANT_CHALLENGE;
	agent_flush(f, a);
}

/* The time between an agent's rounds of samples. */
static int64_t fleet_step(const struct fleet *f)
{
	return f->data ? f->data->interval_ns : SEC;
}

int64_t fleet_last_ts(const struct fleet *f, uint32_t a)
{
	return f->t0 + ((int64_t)f->agents[a].rounds - 1) * fleet_step(f);
}

/* Queues the next batch (its SERIES frame first, the first time): one
 * sample per series per round, a step apart round after round. */
static void agent_queue_batch(struct fleet *f, struct fleet_agent *a)
{
	const uint64_t *ids = f->ids + (size_t)a->index * f->series;
	size_t n = 0;
	if (!a->defined) {
		for (uint32_t s = 0; s < f->series; s++) {
			if (f->data)
				dataset_name(f->data, a->index, s, f->names[s], sizeof f->names[s]);
			else
				fleet_series_name(f->names[s], sizeof f->names[s], a->index, s);
			f->name_ptrs[s] = f->names[s];
		}
		if (proto_put_series(&a->link.out, ids, f->name_ptrs, f->series) != 0)
			bench_die("out of memory");
		a->defined = true;
	}
	int64_t step = fleet_step(f);
	for (uint32_t r = 0; r < f->rounds_per_batch; r++, a->rounds++)
		for (uint32_t s = 0; s < f->series; s++)
			f->batch[n++] =
			    (struct sample){ ids[s], f->t0 + (int64_t)a->rounds * step,
					     f->data ? dataset_value(f->data, a->index, s, ids[s],
								     a->rounds)
						     : fleet_value(ids[s], a->rounds) };
	if (proto_put_samples(&a->link.out, ++a->sent, f->batch, n) != 0)
		bench_die("out of memory");
	a->sent_at[a->sent % FLEET_WINDOW_MAX] = rtime_mono_ns();
	f->sent_batches++;
}

static void agent_top_up(struct fleet *f, struct fleet_agent *a)
{
	while (a->sent - a->acked < f->window)
		agent_queue_batch(f, a);
	agent_flush(f, a);
}

/* ACKs are cumulative (the server acknowledges the newest batch of each
 * group commit), so one may cover several batches. */
static void agent_acked(struct fleet *f, struct fleet_agent *a, uint64_t seq)
{
	int64_t now = rtime_mono_ns();
	if (seq <= a->acked || seq > a->sent)
		bench_die("agent %u: ACK %llu out of place (acked %llu, sent %llu)", a->index,
			  (unsigned long long)seq, (unsigned long long)a->acked,
			  (unsigned long long)a->sent);
	for (uint64_t s = a->acked + 1; s <= seq; s++) {
		if (s < f->record_from)
			continue;
		if (!grow_array_from(&f->latencies, &f->latencies_cap, f->n_latencies + 1,
				     sizeof *f->latencies, 65536))
			bench_die("out of memory");
		f->latencies[f->n_latencies++] = now - a->sent_at[s % FLEET_WINDOW_MAX];
	}
	f->acked_batches += seq - a->acked;
	f->acked_samples += (seq - a->acked) * f->series * f->rounds_per_batch;
	a->acked = seq;
	if (f->flood)
		agent_top_up(f, a);
}

static void agent_on_frame(struct fleet *f, struct fleet_agent *a, const uint8_t *payload,
			   size_t len)
{
	struct proto_msg m;
	struct err e = { 0 };
	if (proto_decode_control(payload, len, &m, &e) != 0)
		bench_die("agent %u: %s", a->index, e.msg);
	if (m.type == PROTO_CHALLENGE && a->state == AGENT_WANT_CHALLENGE) {
		if (m.auth_required)
			bench_die("the server asks for credentials");
		if (proto_put_auth(&a->link.out, NULL) != 0)
			bench_die("out of memory");
		a->state = AGENT_WANT_WELCOME;
		agent_flush(f, a);
	} else if (m.type == PROTO_WELCOME && a->state == AGENT_WANT_WELCOME) {
		a->state = AGENT_READY;
		f->connected++;
		if (f->flood)
			agent_top_up(f, a);
	} else if (m.type == PROTO_ACK && a->state == AGENT_READY) {
		agent_acked(f, a, m.seq);
	} else if (m.type == PROTO_ERROR) {
		bench_die("agent %u: the server says: %s (code %u)", a->index, m.message, m.code);
	} else {
		bench_die("agent %u: frame type %d out of place", a->index, (int)m.type);
	}
}

static void agent_read(struct fleet *f, struct fleet_agent *a)
{
	struct err e = { 0 };
	const uint8_t *payload;
	int64_t len, got = link_fill(&a->link, 1u << 20, &e);
	if (got < 0 && got != -EAGAIN)
		bench_die("agent %u: %s", a->index, e.msg);
	while ((len = link_next_frame(&a->link, PROTO_MAX_FRAME, &payload, &e)) != -EAGAIN) {
		if (len < 0)
			bench_die("agent %u: %s", a->index, e.msg);
		agent_on_frame(f, a, payload, (size_t)len);
	}
	link_compact(&a->link);
}

/* Starts connections while few handshakes are under way, then handles
 * whatever the sockets say within timeout_ms. */
void fleet_poll(struct fleet *f, int timeout_ms)
{
	struct err e = { 0 };
	while (f->started < f->n && f->started - f->connected < HANDSHAKES)
		agent_start(f, &f->agents[f->started]);
	if (evloop_run_once(f->loop, (int64_t)timeout_ms * MS, &e) < 0)
		bench_die("%s", e.msg);
}

/* Connects every agent through HELLO, CHALLENGE, AUTH and WELCOME. */
void fleet_connect(struct fleet *f)
{
	int64_t deadline = rtime_mono_ns() + 120 * SEC;
	while (f->connected < f->n) {
		if (rtime_mono_ns() > deadline)
			bench_die("only %u of %u agents connected within 120 s", f->connected,
				  f->n);
		fleet_poll(f, 100);
	}
}

/* Waits until every batch sent is acknowledged. */
void fleet_settle(struct fleet *f, int64_t timeout_ns)
{
	int64_t deadline = rtime_mono_ns() + timeout_ns;
	while (f->acked_batches < f->sent_batches) {
		if (rtime_mono_ns() > deadline)
			bench_die("%llu of %llu batches not acknowledged within %lld s",
				  (unsigned long long)(f->sent_batches - f->acked_batches),
				  (unsigned long long)f->sent_batches,
				  (long long)(timeout_ns / SEC));
		fleet_poll(f, 10);
	}
}

/* Keeps every connection's window full for `seconds` after a warm-up (the
 * first batches also define the series); returns acknowledged samples/s. */
double fleet_flood(struct fleet *f, double warmup, double seconds)
{
	f->flood = true;
	for (uint32_t a = 0; a < f->n; a++)
		agent_top_up(f, &f->agents[a]);
	int64_t start = rtime_mono_ns() + (int64_t)(warmup * 1e9), now;
	while (rtime_mono_ns() < start)
		fleet_poll(f, 10);
	uint64_t acked = f->acked_samples;
	f->n_latencies = 0;
	int64_t end = start + (int64_t)(seconds * 1e9);
	while ((now = rtime_mono_ns()) < end)
		fleet_poll(f, 10);
	f->flood = false;
	return (double)(f->acked_samples - acked) / ((double)(now - start) / 1e9);
}

/* Sends `rounds` rounds, each agent once per period at its own phase
 * (index / n of the period), so the server sees an even stream.  A batch
 * due while its window is full is skipped and counted late. */
void fleet_pace(struct fleet *f, int64_t period, uint64_t rounds)
{
	fleet_pace_at(f, rtime_mono_ns() + 10 * MS, period, 0, rounds);
}

void fleet_pace_at(struct fleet *f, int64_t start, int64_t period, uint64_t from, uint64_t rounds)
{
	uint64_t r = from;
	uint32_t i = 0;
	rounds += from;
	while (r < rounds) {
		int64_t due = start + (int64_t)r * period + (int64_t)i * period / f->n;
		int64_t now = rtime_mono_ns();
		fleet_poll(f, due > now ? (int)((due - now + MS - 1) / MS) : 0);
		for (now = rtime_mono_ns(); r < rounds && due <= now;
		     due = start + (int64_t)r * period + (int64_t)i * period / f->n) {
			struct fleet_agent *a = &f->agents[i];
			if (a->sent - a->acked >= f->window) {
				f->late++;
			} else {
				agent_queue_batch(f, a);
				agent_flush(f, a);
			}
			if (++i == f->n) {
				i = 0;
				r++;
			}
		}
	}
}