/* bench-ingest.c - the network ingest path's figures (rmon-stored --listen,
 * store/ingest.h), each against a baseline in the same run:
 *   1. decode: proto_decode_samples on 1000-sample SAMPLES frames, against
 *      msgpack-c's generic unpacker walking the same bytes;
 *   2. throughput: 100 agents on 100 connections from this one process,
 *      32 batches in flight each; durably acknowledged samples per second,
 *      against a sink in this program that acknowledges at once (no disk);
 *   3. latency: a steady 100,000 samples/s, send to ack, against fdatasync
 *      of a batch-sized append on the same disk;
 *   4. many agents: 10,000 connections each send 75 samples every 10 s;
 *      the server's memory, against the same server idle;
 *   5. (--flood) the latency run's agents while 1,000 unauthenticated
 *      connections send junk as fast as they can (bench/junkflood.h): ack
 *      p99 against the same agents' just before, and the server's memory
 *      against the same server idle.
 * The server is the real rmon-stored of this build on a temporary data
 * folder; its own count of stored samples must cover every ack.
 *
 * Usage: bench-ingest [--quick] [--flood] (--flood runs 5 only)
 * Exits 1 on a protocol error or a count that does not add up, 0 otherwise
 * (a missed goal is a finding, not a failure).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <msgpack.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/junkflood.h"
#include "bench/procstat.h"
#include "lib/rtime.h"
#include "shmring/ring.h"
#include "lib/series_name.h"
#include "net/link.h"
#include "net/proto.h"

#define SEC	   RTIME_NS_PER_SEC
#define MS	   RTIME_NS_PER_MS
#define WINDOW_MAX 64 /* send times remembered per connection (window <= this) */
/* Connections in the handshake at once: stays well under the listen
 * backlog, so no SYN is dropped and retried a second later. */
#define HANDSHAKES 256

static char dir[4096]; /* the temporary folder, removed at exit */
static char bin[4096]; /* this build's bin folder */
static pid_t main_pid;

struct server {
	pid_t pid;
	char data[4200], log[4200], address[32];
	int port;
};
static struct server server;
static pid_t sink_pid;

/* ---- small helpers ---- */

static void remove_tree(const char *path)
{
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "bench-ingest: could not remove %s\n", path);
}

static void cleanup(void)
{
	if (getpid() != main_pid)
		return;
	if (sink_pid > 0) {
		kill(sink_pid, SIGKILL);
		waitpid(sink_pid, NULL, 0);
	}
	if (server.pid > 0) {
		char ring[64];
		kill(server.pid, SIGKILL);
		waitpid(server.pid, NULL, 0);
		ring_name_for_dir(server.data, ring, sizeof ring);
		ring_unlink(ring, NULL);
	}
	if (dir[0])
		remove_tree(dir);
}

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "bench-ingest: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static int compare_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The q-quantile of n values, sorting them. */
static int64_t quantile(int64_t *v, size_t n, double q)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof *v, compare_i64);
	size_t i = (size_t)((double)n * q);
	return v[i < n ? i : n - 1];
}

static const char *verdict(bool ok)
{
	return ok ? "PASS" : "MISS";
}

/* 24 well-mixed bits of (a, b). */
static uint64_t mix(uint64_t a, uint64_t b)
{
	return (a ^ b) * UINT64_C(0x9e3779b97f4a7c15) >> 40;
}

/* Agent-like values, a quarter each: byte counters with random increments,
 * page-sized gauges that move every 16 rounds, constants, two-decimal
 * figures such as load averages.  Stateless, so 750,000 series need no
 * memory for them. */
static double agent_value(uint64_t id, uint64_t k)
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

/* The canonical name of series s of agent a: bench-agent-A/bench_value{s="S"}. */
static int series_name(char *buf, size_t len, uint32_t agent, uint32_t s)
{
	char host[32], value[16];
	struct series_label label = { "s", value };
	struct err e = { 0 };
	snprintf(host, sizeof host, "bench-agent-%u", agent);
	snprintf(value, sizeof value, "%u", s);
	int n = series_canonical(buf, len, host, "bench_value", &label, 1, &e);
	if (n < 0)
		die("%s", e.msg);
	return n;
}

static double self_cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* A loopback port nobody listens on now (the server binds it a moment later). */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0)
		die("no free loopback port: %s", strerror(errno));
	close(fd);
	return ntohs(a.sin_port);
}

/* ---- 1. decoding ---- */

struct frames {
	struct proto_buf buf;
	size_t n, per_frame;
	size_t *offset, *len;	/* of each payload in buf */
	struct sample *samples; /* what they hold, to check the decoders */
};

/* n frames of one agent's per_frame series, one sample each, a second
 * apart from frame to frame. */
static void make_frames(struct frames *fr, size_t n, size_t per_frame, int64_t t0)
{
	char name[SERIES_NAME_MAX + 1];
	uint64_t *ids = malloc(per_frame * sizeof *ids);
	fr->n = n;
	fr->per_frame = per_frame;
	fr->offset = malloc(n * sizeof *fr->offset);
	fr->len = malloc(n * sizeof *fr->len);
	fr->samples = malloc(n * per_frame * sizeof *fr->samples);
	if (!ids || !fr->offset || !fr->len || !fr->samples)
		die("out of memory");
	for (uint32_t s = 0; s < per_frame; s++)
		ids[s] = series_id(name, (size_t)series_name(name, sizeof name, 0, s));
	for (size_t f = 0; f < n; f++) {
		struct sample *batch = fr->samples + f * per_frame;
		for (size_t s = 0; s < per_frame; s++)
			batch[s] = (struct sample){ ids[s], t0 + (int64_t)f * SEC,
						    agent_value(ids[s], f) };
		fr->offset[f] = fr->buf.len + PROTO_HEADER_BYTES;
		if (proto_put_samples(&fr->buf, f + 1, batch, per_frame) != 0)
			die("out of memory");
		fr->len[f] = fr->buf.len - fr->offset[f];
	}
	free(ids);
}

typedef size_t (*decoder)(void *ctx, const uint8_t *payload, size_t len, struct sample *out,
			  size_t max);

static size_t decode_proto(void *ctx, const uint8_t *payload, size_t len, struct sample *out,
			   size_t max)
{
	uint64_t seq;
	size_t n;
	struct err e = { 0 };
	if (proto_decode_samples(payload, len, &seq, out, max, &n, &e) != 0)
		die("proto_decode_samples: %s", e.msg);
	return n;
}

static bool msgpack_integer(const msgpack_object *o, int64_t *v)
{
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX)
		*v = (int64_t)o->via.u64;
	else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		*v = o->via.i64;
	else
		return false;
	return true;
}

/* The baseline: msgpack-c's generic unpacker builds an object tree, which
 * is then walked into samples with the checks the fixed-schema reader
 * makes (types, counts), as a program using msgpack-c would. */
static size_t decode_msgpack(void *ctx, const uint8_t *payload, size_t len, struct sample *out,
			     size_t max)
{
	msgpack_unpacked *u = ctx;
	size_t offset = 0;
	if (msgpack_unpack_next(u, (const char *)payload, len, &offset) != MSGPACK_UNPACK_SUCCESS ||
	    offset != len)
		die("msgpack_unpack_next: not one msgpack value");
	const msgpack_object *o = &u->data;
	const msgpack_object *f = o->via.array.ptr;
	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 3 ||
	    f[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER || f[0].via.u64 != PROTO_SAMPLES ||
	    f[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER || f[2].type != MSGPACK_OBJECT_ARRAY ||
	    f[2].via.array.size > max)
		die("msgpack: not a SAMPLES frame");
	const msgpack_object *list = f[2].via.array.ptr;
	size_t n = f[2].via.array.size;
	for (size_t i = 0; i < n; i++) {
		const msgpack_object *s = list[i].via.array.ptr;
		int64_t ts, iv;
		if (list[i].type != MSGPACK_OBJECT_ARRAY || list[i].via.array.size != 3 ||
		    s[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER || !msgpack_integer(&s[1], &ts))
			die("msgpack: sample %zu is not [id, timestamp, value]", i);
		out[i].id = s[0].via.u64;
		out[i].ts = ts;
		if (s[2].type == MSGPACK_OBJECT_FLOAT64 || s[2].type == MSGPACK_OBJECT_FLOAT32)
			out[i].value = s[2].via.f64;
		else if (msgpack_integer(&s[2], &iv))
			out[i].value = (double)iv;
		else
			die("msgpack: sample %zu has no number", i);
	}
	return n;
}

/* Samples per second through one decoder, on one core, for `seconds`;
 * every frame is checked against what was encoded first. */
static double decode_rate(decoder fn, void *ctx, const struct frames *fr, double seconds)
{
	struct sample *out = malloc(fr->per_frame * sizeof *out);
	if (!out)
		die("out of memory");
	for (size_t f = 0; f < fr->n; f++)
		if (fn(ctx, fr->buf.data + fr->offset[f], fr->len[f], out, fr->per_frame) !=
			fr->per_frame ||
		    memcmp(out, fr->samples + f * fr->per_frame, fr->per_frame * sizeof *out) != 0)
			die("frame %zu does not decode to the samples encoded", f);
	uint64_t samples = 0;
	int64_t start = rtime_mono_ns(), end = start + (int64_t)(seconds * 1e9), now;
	do {
		for (size_t f = 0; f < fr->n; f++)
			samples +=
			    fn(ctx, fr->buf.data + fr->offset[f], fr->len[f], out, fr->per_frame);
	} while ((now = rtime_mono_ns()) < end);
	free(out);
	return (double)samples / ((double)(now - start) / 1e9);
}

/* ---- the server ---- */

/* The number after the last `needle` in the server's log; false if none. */
static bool log_number(const char *needle, uint64_t *out)
{
	char line[1200];
	bool found = false;
	FILE *f = fopen(server.log, "r");
	while (f && fgets(line, sizeof line, f)) {
		const char *p = strstr(line, needle);
		if (p) {
			*out = strtoull(p + strlen(needle), NULL, 10);
			found = true;
		}
	}
	if (f)
		fclose(f);
	return found;
}

static void show_log(void)
{
	char line[1200];
	FILE *f = fopen(server.log, "r");
	while (f && fgets(line, sizeof line, f))
		fprintf(stderr, "  | %s", line);
	if (f)
		fclose(f);
}

/* Starts this build's rmon-stored on DIR/name, listening on a free
 * loopback port, its log in DIR/name.log; returns once it listens. */
static void server_start(const char *name)
{
	char exe[4200];
	uint64_t ignored;
	snprintf(server.data, sizeof server.data, "%s/%s", dir, name);
	snprintf(server.log, sizeof server.log, "%s/%s.log", dir, name);
	snprintf(exe, sizeof exe, "%s/rmon-stored", bin);
	server.port = free_port();
	snprintf(server.address, sizeof server.address, "127.0.0.1:%d", server.port);
	fflush(stdout);
	fflush(stderr);
	server.pid = fork();
	if (server.pid < 0)
		die("fork: %s", strerror(errno));
	if (server.pid == 0) {
		int fd = open(server.log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
			_exit(126);
		execl(exe, "rmon-stored", "--data", server.data, "--listen", server.address,
		      (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		if (log_number("taking agents' streams on 127.0.0.1:", &ignored))
			return;
		if (waitpid(server.pid, NULL, WNOHANG) == server.pid) {
			server.pid = 0;
			show_log();
			die("%s did not start", exe);
		}
		usleep(20000);
	}
	show_log();
	die("%s did not listen within 10 s", exe);
}

/* Stops the server with SIGTERM (it commits and exits 0) and returns the
 * samples it says it stored. */
static uint64_t server_stop(void)
{
	int status;
	uint64_t stored;
	char ring[64];
	kill(server.pid, SIGTERM);
	waitpid(server.pid, &status, 0);
	server.pid = 0;
	ring_name_for_dir(server.data, ring, sizeof ring);
	ring_unlink(ring, NULL);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		show_log();
		die("rmon-stored did not exit cleanly (status %#x)", status);
	}
	if (!log_number("stopped after storing ", &stored)) {
		show_log();
		die("rmon-stored did not say how many samples it stored");
	}
	/* Its data would otherwise still be written back while the next run
	 * measures, on the disk that run's WAL syncs to. */
	remove_tree(server.data);
	sync();
	return stored;
}

/* ---- the client: many agents on one epoll ---- */

enum agent_state { CONNECTING, WANT_CHALLENGE, WANT_WELCOME, READY };

struct agent {
	struct link link;
	enum agent_state state;
	uint32_t index;	      /* host bench-agent-<index> */
	uint32_t events;      /* asked of epoll */
	bool defined;	      /* SERIES sent */
	uint64_t sent, acked; /* sequence numbers: the last sent, the last acknowledged */
	uint64_t rounds;      /* rounds of samples sent: the timestamp step */
	int64_t sent_at[WINDOW_MAX];
};

struct fleet {
	struct agent *agents;
	uint32_t n, series, rounds_per_batch, window;
	uint64_t *ids; /* n x series */
	char (*names)[64];
	const char **name_ptrs; /* one agent's names, for its SERIES frame */
	struct sample *batch;
	struct sockaddr_in server;
	bool spread; /* connect from 127.0.0.2, .3, ... (1000 connections each) */
	bool flood;  /* keep every window full */
	int epoll_fd;
	uint32_t started, connected;
	int64_t t0; /* timestamp of round 0 */
	uint64_t sent_batches, acked_batches, acked_samples, late;
	uint64_t record_from; /* the first sequence number whose latency counts */
	int64_t *latencies;   /* send to ack, ns */
	size_t n_latencies, latencies_cap;
};

static void fleet_init(struct fleet *f, uint32_t n, uint32_t series, uint32_t rounds_per_batch,
		       uint32_t window, int port, bool spread)
{
	char name[SERIES_NAME_MAX + 1];
	memset(f, 0, sizeof *f);
	f->n = n;
	f->series = series;
	f->rounds_per_batch = rounds_per_batch;
	f->window = window < WINDOW_MAX ? window : WINDOW_MAX;
	f->spread = spread;
	f->agents = calloc(n, sizeof *f->agents);
	f->ids = malloc((size_t)n * series * sizeof *f->ids);
	f->names = malloc(series * sizeof *f->names);
	f->name_ptrs = malloc(series * sizeof *f->name_ptrs);
	f->batch = malloc((size_t)series * rounds_per_batch * sizeof *f->batch);
	f->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (!f->agents || !f->ids || !f->names || !f->name_ptrs || !f->batch || f->epoll_fd < 0)
		die("out of memory");
	for (uint32_t a = 0; a < n; a++) {
		f->agents[a].index = a;
		f->agents[a].link.fd = -1;
		for (uint32_t s = 0; s < series; s++)
			f->ids[(size_t)a * series + s] =
			    series_id(name, (size_t)series_name(name, sizeof name, a, s));
	}
	f->server = (struct sockaddr_in){ .sin_family = AF_INET,
					  .sin_port = htons((uint16_t)port),
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	f->t0 = (rtime_now_ns() / SEC - 86400) * SEC; /* a day ago: well inside retention */
	/* The first batch also defines the series: not the ack path. */
	f->record_from = 2;
}

static void fleet_close(struct fleet *f)
{
	for (uint32_t a = 0; a < f->n; a++)
		link_close(&f->agents[a].link);
	close(f->epoll_fd);
	free(f->agents);
	free(f->ids);
	free(f->names);
	free(f->name_ptrs);
	free(f->batch);
	free(f->latencies);
}

static void agent_watch(struct fleet *f, struct agent *a)
{
	uint32_t events =
	    a->state == CONNECTING ? EPOLLOUT : EPOLLIN | (a->link.out.len ? EPOLLOUT : 0);
	struct epoll_event ev = { .events = events, .data.ptr = a };
	if (events != a->events && epoll_ctl(f->epoll_fd, EPOLL_CTL_MOD, a->link.fd, &ev) != 0)
		die("epoll_ctl: %s", strerror(errno));
	a->events = events;
}

static void agent_flush(struct fleet *f, struct agent *a)
{
	struct err e = { 0 };
	int rc = link_flush(&a->link, &e);
	if (rc != 0 && rc != -EAGAIN)
		die("agent %u: %s", a->index, e.msg);
	agent_watch(f, a);
}

static void agent_start(struct fleet *f, struct agent *a)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s (RLIMIT_NOFILE too low?)", strerror(errno));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (f->spread) {
		/* One source address has only the ephemeral port range (often
		 * 28,000 ports, less where it was narrowed) for one server port. */
		struct sockaddr_in src = { .sin_family = AF_INET,
					   .sin_addr.s_addr = htonl(0x7f000002 + a->index / 1000) };
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
		if (bind(fd, (struct sockaddr *)&src, sizeof src) != 0)
			die("bind 127.0.0.%u: %s", 2 + a->index / 1000, strerror(errno));
	}
	if (connect(fd, (struct sockaddr *)&f->server, sizeof f->server) != 0 &&
	    errno != EINPROGRESS)
		die("connect %s: %s", server.address, strerror(errno));
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = a };
	if (epoll_ctl(f->epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0)
		die("epoll_ctl: %s", strerror(errno));
	a->link.fd = fd;
	a->state = CONNECTING;
	a->events = EPOLLOUT;
	f->started++;
}

/* The connect finished: say HELLO as an agent without a secret. */
static void agent_connected(struct fleet *f, struct agent *a)
{
	struct err e = { 0 };
	uint8_t nonce[PROTO_NONCE_BYTES];
	char host[32];
	int fd = a->link.fd;
	if (link_connected(fd, &e) != 0 || link_init(&a->link, fd, NULL, false, NULL, &e) != 0)
		die("agent %u: %s", a->index, e.msg);
	snprintf(host, sizeof host, "bench-agent-%u", a->index);
	if (proto_nonce(nonce) != 0 ||
	    proto_put_hello(&a->link.out, host, "bench-ingest", nonce, false) != 0)
		die("agent %u: no nonce or no memory for HELLO", a->index);
	a->state = WANT_CHALLENGE;
	agent_flush(f, a);
}

/* Queues the next batch (its SERIES frame first, the first time): one
 * sample per series per round, a second apart round after round. */
static void agent_queue_batch(struct fleet *f, struct agent *a)
{
	const uint64_t *ids = f->ids + (size_t)a->index * f->series;
	size_t n = 0;
	if (!a->defined) {
		for (uint32_t s = 0; s < f->series; s++) {
			series_name(f->names[s], sizeof f->names[s], a->index, s);
			f->name_ptrs[s] = f->names[s];
		}
		if (proto_put_series(&a->link.out, ids, f->name_ptrs, f->series) != 0)
			die("out of memory");
		a->defined = true;
	}
	for (uint32_t r = 0; r < f->rounds_per_batch; r++, a->rounds++)
		for (uint32_t s = 0; s < f->series; s++)
			f->batch[n++] = (struct sample){ ids[s], f->t0 + (int64_t)a->rounds * SEC,
							 agent_value(ids[s], a->rounds) };
	if (proto_put_samples(&a->link.out, ++a->sent, f->batch, n) != 0)
		die("out of memory");
	a->sent_at[a->sent % WINDOW_MAX] = rtime_mono_ns();
	f->sent_batches++;
}

static void agent_top_up(struct fleet *f, struct agent *a)
{
	while (a->sent - a->acked < f->window)
		agent_queue_batch(f, a);
	agent_flush(f, a);
}

/* ACKs are cumulative (the server acknowledges the newest batch of each
 * group commit), so one may cover several batches. */
static void agent_acked(struct fleet *f, struct agent *a, uint64_t seq)
{
	int64_t now = rtime_mono_ns();
	if (seq <= a->acked || seq > a->sent)
		die("agent %u: ACK %llu out of place (acked %llu, sent %llu)", a->index,
		    (unsigned long long)seq, (unsigned long long)a->acked,
		    (unsigned long long)a->sent);
	for (uint64_t s = a->acked + 1; s <= seq; s++) {
		if (s < f->record_from)
			continue;
		if (f->n_latencies == f->latencies_cap) {
			f->latencies_cap = f->latencies_cap ? f->latencies_cap * 2 : 65536;
			f->latencies = realloc(f->latencies, f->latencies_cap * sizeof(int64_t));
			if (!f->latencies)
				die("out of memory");
		}
		f->latencies[f->n_latencies++] = now - a->sent_at[s % WINDOW_MAX];
	}
	f->acked_batches += seq - a->acked;
	f->acked_samples += (seq - a->acked) * f->series * f->rounds_per_batch;
	a->acked = seq;
	if (f->flood)
		agent_top_up(f, a);
}

static void agent_on_frame(struct fleet *f, struct agent *a, const uint8_t *payload, size_t len)
{
	struct proto_msg m;
	struct err e = { 0 };
	if (proto_decode_control(payload, len, &m, &e) != 0)
		die("agent %u: %s", a->index, e.msg);
	if (m.type == PROTO_CHALLENGE && a->state == WANT_CHALLENGE) {
		if (m.auth_required)
			die("the server asks for credentials");
		if (proto_put_auth(&a->link.out, NULL) != 0)
			die("out of memory");
		a->state = WANT_WELCOME;
		agent_flush(f, a);
	} else if (m.type == PROTO_WELCOME && a->state == WANT_WELCOME) {
		a->state = READY;
		f->connected++;
		if (f->flood)
			agent_top_up(f, a);
	} else if (m.type == PROTO_ACK && a->state == READY) {
		agent_acked(f, a, m.seq);
	} else if (m.type == PROTO_ERROR) {
		die("agent %u: the server says: %s (code %u)", a->index, m.message, m.code);
	} else {
		die("agent %u: frame type %d out of place", a->index, (int)m.type);
	}
}

static void agent_read(struct fleet *f, struct agent *a)
{
	struct err e = { 0 };
	const uint8_t *payload;
	int64_t len, got = link_fill(&a->link, 1u << 20, &e);
	if (got < 0 && got != -EAGAIN)
		die("agent %u: %s", a->index, e.msg);
	while ((len = link_next_frame(&a->link, PROTO_MAX_FRAME, &payload, &e)) != -EAGAIN) {
		if (len < 0)
			die("agent %u: %s", a->index, e.msg);
		agent_on_frame(f, a, payload, (size_t)len);
	}
	link_compact(&a->link);
}

/* Starts connections while few handshakes are under way, then handles
 * whatever the sockets say within timeout_ms. */
static void fleet_poll(struct fleet *f, int timeout_ms)
{
	struct epoll_event events[256];
	while (f->started < f->n && f->started - f->connected < HANDSHAKES)
		agent_start(f, &f->agents[f->started]);
	int n = epoll_wait(f->epoll_fd, events, 256, timeout_ms);
	if (n < 0 && errno != EINTR)
		die("epoll_wait: %s", strerror(errno));
	for (int i = 0; i < n; i++) {
		struct agent *a = events[i].data.ptr;
		if (a->state == CONNECTING) {
			agent_connected(f, a);
			continue;
		}
		if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
			agent_read(f, a);
		if (events[i].events & EPOLLOUT)
			agent_flush(f, a);
	}
}

/* Connects every agent through HELLO, CHALLENGE, AUTH and WELCOME. */
static void fleet_connect(struct fleet *f)
{
	int64_t deadline = rtime_mono_ns() + 120 * SEC;
	while (f->connected < f->n) {
		if (rtime_mono_ns() > deadline)
			die("only %u of %u agents connected within 120 s", f->connected, f->n);
		fleet_poll(f, 100);
	}
}

/* Waits until every batch sent is acknowledged. */
static void fleet_settle(struct fleet *f, int64_t timeout_ns)
{
	int64_t deadline = rtime_mono_ns() + timeout_ns;
	while (f->acked_batches < f->sent_batches) {
		if (rtime_mono_ns() > deadline)
			die("%llu of %llu batches not acknowledged within %lld s",
			    (unsigned long long)(f->sent_batches - f->acked_batches),
			    (unsigned long long)f->sent_batches, (long long)(timeout_ns / SEC));
		fleet_poll(f, 10);
	}
}

/* Keeps every connection's window full for `seconds` after a warm-up (the
 * first batches also define the series); returns acknowledged samples/s. */
static double fleet_flood(struct fleet *f, double warmup, double seconds)
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
static void fleet_pace(struct fleet *f, int64_t period, uint64_t rounds)
{
	int64_t start = rtime_mono_ns() + 10 * MS;
	uint64_t r = 0;
	uint32_t i = 0;
	while (r < rounds) {
		int64_t due = start + (int64_t)r * period + (int64_t)i * period / f->n;
		int64_t now = rtime_mono_ns();
		fleet_poll(f, due > now ? (int)((due - now + MS - 1) / MS) : 0);
		for (now = rtime_mono_ns(); r < rounds && due <= now;
		     due = start + (int64_t)r * period + (int64_t)i * period / f->n) {
			struct agent *a = &f->agents[i];
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

/* ---- the throughput baseline: a sink ---- */

/* Answers the same exchange and acknowledges every read's batches at once
 * (no disk, no store): what this client and loopback TCP can do here.
 * Runs in a child process until killed. */
static __attribute__((noreturn)) void sink_serve(int listen_fd)
{
	static const uint8_t nonce[PROTO_NONCE_BYTES];
	struct epoll_event events[256], ev = { .events = EPOLLIN, .data.ptr = NULL };
	struct sample *scratch = malloc(65536 * sizeof *scratch);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (!scratch || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &ev) != 0)
		_exit(1);
	for (;;) {
		int n = epoll_wait(ep, events, 256, -1);
		for (int i = 0; i < n; i++) {
			struct link *l = events[i].data.ptr;
			struct err e = { 0 };
			if (!l) {
				int fd;
				while ((fd = accept4(listen_fd, NULL, NULL,
						     SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					l = calloc(1, sizeof *l);
					ev = (struct epoll_event){ .events = EPOLLIN,
								   .data.ptr = l };
					if (!l || link_init(l, fd, NULL, true, NULL, &e) != 0 ||
					    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0)
						_exit(1);
				}
				continue;
			}
			int64_t got = link_fill(l, 1u << 20, &e), len;
			const uint8_t *payload;
			uint64_t seq = 0;
			size_t count;
			if (got < 0 && got != -EAGAIN) {
				link_close(l); /* the client is done */
				free(l);
				continue;
			}
			while ((len = link_next_frame(l, PROTO_MAX_FRAME, &payload, &e)) >= 0) {
				int type = proto_frame_type(payload, (size_t)len, &e);
				if (type == PROTO_HELLO)
					proto_put_challenge(&l->out, nonce, false);
				else if (type == PROTO_AUTH)
					proto_put_welcome(&l->out, NULL);
				else if (type == PROTO_SAMPLES &&
					 proto_decode_samples(payload, (size_t)len, &seq, scratch,
							      65536, &count, &e) != 0)
					_exit(1);
			}
			if (seq)
				proto_put_ack(&l->out, seq);
			link_compact(l);
			link_flush(l, &e);
			ev = (struct epoll_event){ .events = EPOLLIN | (l->out.len ? EPOLLOUT : 0),
						   .data.ptr = l };
			epoll_ctl(ep, EPOLL_CTL_MOD, l->fd, &ev);
		}
	}
}

static int sink_start(void)
{
	struct err e = { 0 };
	char address[32];
	int fd, port = free_port();
	snprintf(address, sizeof address, "127.0.0.1:%d", port);
	if (link_listen(address, &fd, &e) != 0)
		die("%s", e.msg);
	fflush(stdout);
	fflush(stderr);
	sink_pid = fork();
	if (sink_pid < 0)
		die("fork: %s", strerror(errno));
	if (sink_pid == 0)
		sink_serve(fd);
	close(fd);
	return port;
}

static void sink_stop(void)
{
	kill(sink_pid, SIGKILL);
	waitpid(sink_pid, NULL, 0);
	sink_pid = 0;
}

/* ---- the latency baseline ---- */

/* Every durable ack waits for at least one fdatasync: its time on this
 * disk, after appending one 100-sample batch as the WAL does. */
static void fdatasync_latency(int n, int64_t *p50, int64_t *p99)
{
	char path[4200];
	uint8_t block[100 * sizeof(struct sample)];
	int64_t *lat = malloc((size_t)n * sizeof *lat);
	snprintf(path, sizeof path, "%s/fdatasync-probe", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || !lat)
		die("%s: %s", path, strerror(errno));
	memset(block, 0x5a, sizeof block);
	for (int i = 0; i < n; i++) {
		int64_t start = rtime_mono_ns();
		if (pwrite(fd, block, sizeof block, (off_t)i * (off_t)sizeof block) !=
			(ssize_t)sizeof block ||
		    fdatasync(fd) != 0)
			die("%s: %s", path, strerror(errno));
		lat[i] = rtime_mono_ns() - start;
	}
	close(fd);
	*p50 = quantile(lat, (size_t)n, 0.50);
	*p99 = quantile(lat, (size_t)n, 0.99);
	free(lat);
}

/* ---- the runs ---- */

struct figures {
	double ours_decode, msgpack_decode;
	uint32_t tp_agents;
	double tp_rate, tp_sink_rate, tp_server_cpu, tp_client_cpu, tp_seconds;
	int64_t tp_p50, tp_p99;
	uint64_t tp_acked, tp_stored;
	uint32_t many_agents, many_series;
	long idle_rss, connected_rss, many_rss, many_hwm, many_anon, many_file;
	double many_connect_s;
	int64_t many_p50, many_p99;
	uint64_t many_acked, many_stored, many_late;
	uint32_t lat_agents;
	int64_t lat_p50, lat_p99, lat_max, sync_p50, sync_p99;
	double lat_server_cpu, lat_seconds;
	uint64_t lat_acked, lat_stored, lat_late;
};

static void run_decode(struct figures *out, bool quick)
{
	struct frames fr = { 0 };
	msgpack_unpacked u;
	make_frames(&fr, 64, 1000, (rtime_now_ns() / SEC - 86400) * SEC);
	msgpack_unpacked_init(&u);
	double seconds = quick ? 0.3 : 2;
	out->ours_decode = decode_rate(decode_proto, NULL, &fr, seconds);
	out->msgpack_decode = decode_rate(decode_msgpack, &u, &fr, seconds);
	msgpack_unpacked_destroy(&u);
	proto_buf_free(&fr.buf);
	free(fr.offset);
	free(fr.len);
	free(fr.samples);
}

static void run_throughput(struct figures *out, bool quick)
{
	struct fleet f;
	uint32_t agents = quick ? 20 : 100;
	double seconds = quick ? 2 : 10, warmup = quick ? 0.3 : 1;
	out->tp_agents = agents;
	out->tp_seconds = seconds;

	fleet_init(&f, agents, 100, 1, 32, sink_start(), false);
	fleet_connect(&f);
	out->tp_sink_rate = fleet_flood(&f, warmup, quick ? 1 : 5);
	fleet_close(&f);
	sink_stop();

	server_start("throughput");
	fleet_init(&f, agents, 100, 1, 32, server.port, false);
	fleet_connect(&f);
	double server_cpu = procstat_cpu_seconds(server.pid), client_cpu = self_cpu_seconds();
	out->tp_rate = fleet_flood(&f, warmup, seconds);
	out->tp_server_cpu = procstat_cpu_seconds(server.pid) - server_cpu;
	out->tp_client_cpu = self_cpu_seconds() - client_cpu;
	out->tp_p50 = quantile(f.latencies, f.n_latencies, 0.50);
	out->tp_p99 = quantile(f.latencies, f.n_latencies, 0.99);
	fleet_settle(&f, 30 * SEC);
	out->tp_acked = f.acked_samples;
	fleet_close(&f);
	out->tp_stored = server_stop();
}

static void run_latency(struct figures *out, bool quick)
{
	struct fleet f;
	uint32_t agents = 100;
	int64_t period = 100 * MS;
	uint64_t warmup = 10, rounds = quick ? 20 : 100;
	out->lat_agents = agents;
	out->lat_seconds = (double)rounds * (double)period / 1e9;
	fdatasync_latency(quick ? 200 : 1000, &out->sync_p50, &out->sync_p99);
	server_start("latency");
	fleet_init(&f, agents, 100, 1, 32, server.port, false);
	fleet_connect(&f);
	/* Steady state only: the first second also registers the 10,000
	 * series and makes the first LMDB commits of their names. */
	f.record_from = warmup + 1;
	fleet_pace(&f, period, warmup);
	double server_cpu = procstat_cpu_seconds(server.pid);
	fleet_pace(&f, period, rounds);
	fleet_settle(&f, 30 * SEC);
	out->lat_server_cpu = procstat_cpu_seconds(server.pid) - server_cpu;
	out->lat_p50 = quantile(f.latencies, f.n_latencies, 0.50);
	out->lat_p99 = quantile(f.latencies, f.n_latencies, 0.99);
	out->lat_max = f.n_latencies ? f.latencies[f.n_latencies - 1] : 0;
	out->lat_acked = f.acked_samples;
	out->lat_late = f.late;
	fleet_close(&f);
	out->lat_stored = server_stop();
}

static void run_many(struct figures *out, bool quick, uint32_t agents)
{
	struct fleet f;
	int64_t period = quick ? 2 * SEC : 10 * SEC;
	out->many_agents = agents;
	out->many_series = 75;
	server_start("many");
	usleep(300000); /* let it settle after start-up */
	out->idle_rss = procstat_kib(server.pid, "VmRSS:");
	fleet_init(&f, agents, out->many_series, 1, 32, server.port, true);
	int64_t start = rtime_mono_ns();
	fleet_connect(&f);
	out->many_connect_s = (double)(rtime_mono_ns() - start) / 1e9;
	usleep(300000);
	out->connected_rss = procstat_kib(server.pid, "VmRSS:");
	fleet_pace(&f, period, 2);
	fleet_settle(&f, 120 * SEC);
	out->many_rss = procstat_kib(server.pid, "VmRSS:");
	out->many_hwm = procstat_kib(server.pid, "VmHWM:");
	out->many_anon = procstat_kib(server.pid, "RssAnon:");
	out->many_file = procstat_kib(server.pid, "RssFile:");
	out->many_p50 = quantile(f.latencies, f.n_latencies, 0.50);
	out->many_p99 = quantile(f.latencies, f.n_latencies, 0.99);
	out->many_acked = f.acked_samples;
	out->many_late = f.late;
	fleet_close(&f);
	out->many_stored = server_stop();
}

/* The server's own count must cover every ack: an ack promises durability. */
static void check_counts(const char *what, uint64_t acked, uint64_t stored)
{
	if (stored < acked)
		die("%s: the server stored %llu samples but acknowledged %llu", what,
		    (unsigned long long)stored, (unsigned long long)acked);
}

static double ms(int64_t ns)
{
	return (double)ns / 1e6;
}

struct flood_phase {
	int64_t p50, p99;
	uint64_t late;
	struct junkflood_stats junk;
};

struct flood_figures {
	uint32_t agents, junk_connections;
	long idle_rss, calm_rss, hwm;
	struct flood_phase calm, nice, even; /* no crowd, crowd at nice 19, at nice 0 */
	uint64_t acked, stored;
};

/* `rounds` paced rounds of the fleet, with a crowd at niceness (none: -1). */
static void flood_phase(struct fleet *f, uint64_t rounds, int niceness, struct flood_phase *out)
{
	int64_t period = 100 * MS;
	pid_t crowd = -1;
	if (niceness >= 0) {
		crowd =
		    junkflood_start(server.port, 1000, (double)(rounds + 5) * 0.1 + 1, niceness);
		if (crowd < 0)
			die("cannot fork the junk crowd: %s", strerror((int)-crowd));
		fleet_pace(f, period, 5); /* the crowd connects meanwhile: not counted */
	}
	f->late = 0;
	f->n_latencies = 0;
	fleet_pace(f, period, rounds);
	fleet_settle(f, 30 * SEC);
	if (crowd > 0 && junkflood_wait(crowd, &out->junk) != 0)
		die("the junk crowd failed");
	out->p50 = quantile(f->latencies, f->n_latencies, 0.50);
	out->p99 = quantile(f->latencies, f->n_latencies, 0.99);
	out->late = f->late;
}

/* The latency run's fleet, paced: calm, then under a junk flood. */
static void run_flood(struct flood_figures *out, bool quick)
{
	struct fleet f;
	uint64_t rounds = quick ? 30 : 100;
	out->agents = 100;
	out->junk_connections = 1000;
	server_start("flood");
	usleep(300000);
	out->idle_rss = procstat_kib(server.pid, "VmRSS:");
	fleet_init(&f, out->agents, 100, 1, 32, server.port, false);
	fleet_connect(&f);
	f.record_from = 11;
	fleet_pace(&f, 100 * MS, 10); /* warm-up: the series are registered */
	flood_phase(&f, rounds, -1, &out->calm);
	out->calm_rss = procstat_kib(server.pid, "VmRSS:");
	flood_phase(&f, rounds, 19, &out->nice);
	flood_phase(&f, rounds, 0, &out->even);
	out->hwm = procstat_kib(server.pid, "VmHWM:");
	out->acked = f.acked_samples;
	fleet_close(&f);
	out->stored = server_stop();
}

static void report_flood(const struct flood_figures *r, bool quick)
{
	char text[200], what[100];
	printf("bench-ingest --flood%s: rmon-stored of this build on loopback\n",
	       quick ? " --quick" : "");
	printf("  %-58s %-44s %s\n", "measurement", "result", "goal");
	snprintf(what, sizeof what, "5. %u agents x 100 samples every 100 ms, %u junk peers",
		 r->agents, r->junk_connections);
	snprintf(text, sizeof text, "p50 %.1f ms, p99 %.1f ms, %.2fx calm", ms(r->nice.p50),
		 ms(r->nice.p99), (double)r->nice.p99 / (double)r->calm.p99);
	printf("  %-58s %-44s p99 <= 100 ms %s\n", what, text, verdict(r->nice.p99 <= 100 * MS));
	snprintf(text, sizeof text, "p50 %.1f ms, p99 %.1f ms", ms(r->calm.p50), ms(r->calm.p99));
	printf("  %-58s %s\n", "   the same agents just before, no flood (baseline)", text);
	snprintf(text, sizeof text, "p50 %.1f ms, p99 %.1f ms, %.2fx calm", ms(r->even.p50),
		 ms(r->even.p99), (double)r->even.p99 / (double)r->calm.p99);
	printf("  %-58s %s\n", "   the crowd at nice 0, sharing the 2 cores evenly", text);
	snprintf(text, sizeof text, "%.1f MiB over idle (VmHWM %.1f MiB)",
		 (double)(r->hwm - r->idle_rss) / 1024, r->hwm / 1024.0);
	printf("  %-58s %-44s <= 64 MiB %s\n", "   the server's peak memory, whole run", text,
	       verdict(r->hwm - r->idle_rss <= 64 * 1024));
	snprintf(text, sizeof text, "VmRSS %.1f MiB idle, %.1f MiB with the agents",
		 r->idle_rss / 1024.0, r->calm_rss / 1024.0);
	printf("  %-58s %s\n", "   the same server before the flood (baseline)", text);
	const struct flood_phase *p[2] = { &r->nice, &r->even };
	for (int i = 0; i < 2; i++) {
		snprintf(text, sizeof text, "%llu connections, %llu refused, %.0f MiB",
			 (unsigned long long)p[i]->junk.opened,
			 (unsigned long long)p[i]->junk.closed,
			 (double)p[i]->junk.bytes_sent / (1 << 20));
		printf("  %-58s %s\n", i ? "   junk sent, nice 0" : "   junk sent, nice 19", text);
	}
	snprintf(text, sizeof text, "%llu calm, %llu nice 19, %llu nice 0",
		 (unsigned long long)r->calm.late, (unsigned long long)r->nice.late,
		 (unsigned long long)r->even.late);
	printf("  %-58s %s\n", "   batches late (window full when due)", text);
	snprintf(text, sizeof text, "%llu >= %llu acked", (unsigned long long)r->stored,
		 (unsigned long long)r->acked);
	printf("  %-58s %s\n", "   stored (the server's count)", text);
}

static void report(const struct figures *r, bool quick)
{
	char text[200];
	printf("bench-ingest%s: rmon-stored of this build on loopback, data under %s\n",
	       quick ? " --quick" : "", dir);
	printf("  %-58s %-44s %s\n", "measurement", "result", "goal");

	snprintf(text, sizeof text, "%.1f M samples/s, %.1fx msgpack-c", r->ours_decode / 1e6,
		 r->ours_decode / r->msgpack_decode);
	printf("  %-58s %-44s >= 20 M/s %s\n",
	       "1. decode, proto_decode_samples, 1000-sample frames", text,
	       verdict(r->ours_decode >= 20e6));
	snprintf(text, sizeof text, "%.1f M samples/s", r->msgpack_decode / 1e6);
	printf("  %-58s %s\n", "   msgpack-c msgpack_unpack_next + walk (baseline)", text);

	char what[100];
	snprintf(what, sizeof what, "2. acked durable, %u agents x 100 series, window 32",
		 r->tp_agents);
	snprintf(text, sizeof text, "%.2f M samples/s, %.2fx the sink", r->tp_rate / 1e6,
		 r->tp_rate / r->tp_sink_rate);
	printf("  %-58s %-44s >= 1 M/s %s\n", what, text, verdict(r->tp_rate >= 1e6));
	snprintf(text, sizeof text, "%.2f M samples/s", r->tp_sink_rate / 1e6);
	printf("  %-58s %s\n", "   sink acking at once, no disk (baseline)", text);
	snprintf(text, sizeof text, "p50 %.1f ms, p99 %.1f ms", ms(r->tp_p50), ms(r->tp_p99));
	printf("  %-58s %s\n", "   ack latency at that load", text);
	snprintf(text, sizeof text, "server %.0f %%, client %.0f %% of a core",
		 100 * r->tp_server_cpu / r->tp_seconds, 100 * r->tp_client_cpu / r->tp_seconds);
	printf("  %-58s %s\n", "   CPU", text);
	snprintf(text, sizeof text, "%llu >= %llu acked", (unsigned long long)r->tp_stored,
		 (unsigned long long)r->tp_acked);
	printf("  %-58s %s\n", "   stored (the server's count)", text);

	snprintf(what, sizeof what, "3. latency, %u agents x 100 samples every 100 ms",
		 r->lat_agents);
	snprintf(text, sizeof text, "p50 %.1f ms, p99 %.1f ms, max %.1f ms", ms(r->lat_p50),
		 ms(r->lat_p99), ms(r->lat_max));
	printf("  %-58s %-44s p99 <= 100 ms %s\n", what, text, verdict(r->lat_p99 <= 100 * MS));
	snprintf(text, sizeof text, "p50 %.2f ms, p99 %.2f ms", ms(r->sync_p50), ms(r->sync_p99));
	printf("  %-58s %s\n", "   fdatasync of a 2.4 KB append (baseline)", text);
	snprintf(text, sizeof text, "%.0f %% of a core, %llu batches late",
		 100 * r->lat_server_cpu / r->lat_seconds, (unsigned long long)r->lat_late);
	printf("  %-58s %s\n", "   server CPU", text);
	snprintf(text, sizeof text, "%llu >= %llu acked", (unsigned long long)r->lat_stored,
		 (unsigned long long)r->lat_acked);
	printf("  %-58s %s\n", "   stored (the server's count)", text);

	snprintf(what, sizeof what, "4. %u connections x %u series, a batch each %s",
		 r->many_agents, r->many_series, quick ? "2 s" : "10 s");
	snprintf(text, sizeof text, "VmRSS %.1f MiB, VmHWM %.1f MiB", r->many_rss / 1024.0,
		 r->many_hwm / 1024.0);
	printf("  %-58s %-44s <= 128 MiB %s\n", what, text, verdict(r->many_hwm <= 128 * 1024));
	snprintf(text, sizeof text, "%.1f MiB heap, %.1f MiB file pages (LMDB map)",
		 r->many_anon / 1024.0, r->many_file / 1024.0);
	printf("  %-58s %s\n", "   of which", text);
	snprintf(text, sizeof text, "VmRSS %.1f MiB", r->idle_rss / 1024.0);
	printf("  %-58s %s\n", "   the same server idle (baseline)", text);
	snprintf(text, sizeof text, "VmRSS %.1f MiB: %.2f KiB per connection (%.1f s)",
		 r->connected_rss / 1024.0,
		 (double)(r->connected_rss - r->idle_rss) / r->many_agents, r->many_connect_s);
	printf("  %-58s %s\n", "   all connected, before any series", text);
	snprintf(text, sizeof text, "%.0f bytes per series",
		 (double)(r->many_rss - r->connected_rss) * 1024 /
		     ((double)r->many_agents * r->many_series));
	printf("  %-58s %s\n", "   after two batches each", text);
	snprintf(text, sizeof text, "p50 %.1f ms, p99 %.1f ms, %llu batches late", ms(r->many_p50),
		 ms(r->many_p99), (unsigned long long)r->many_late);
	printf("  %-58s %s\n", "   ack latency", text);
	snprintf(text, sizeof text, "%llu >= %llu acked", (unsigned long long)r->many_stored,
		 (unsigned long long)r->many_acked);
	printf("  %-58s %s\n", "   stored (the server's count)", text);
}

/* Room for the many-agents run; returns how many connections fit. */
static uint32_t raise_file_limit(uint32_t wanted)
{
	struct rlimit r;
	if (getrlimit(RLIMIT_NOFILE, &r) != 0)
		return 100;
	r.rlim_cur = r.rlim_max;
	setrlimit(RLIMIT_NOFILE, &r);
	getrlimit(RLIMIT_NOFILE, &r);
	return r.rlim_cur >= wanted + 64 ? wanted : (uint32_t)r.rlim_cur - 64;
}

int main(int argc, char **argv)
{
	bool quick = false, flood = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			quick = true;
		} else if (strcmp(argv[i], "--flood") == 0) {
			flood = true;
		} else {
			fprintf(stderr, "usage: bench-ingest [--quick] [--flood]\n");
			return 2;
		}
	}
	main_pid = getpid();
	ssize_t n = readlink("/proc/self/exe", bin, sizeof bin - 1);
	if (n <= 0)
		die("cannot find this program's folder");
	bin[n] = '\0';
	*strrchr(bin, '/') = '\0';
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof dir, "%s/rmon-bench-ingest-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		dir[0] = '\0';
		die("cannot create a temporary folder: %s", strerror(errno));
	}
	atexit(cleanup);
	signal(SIGPIPE, SIG_IGN);
	uint32_t many = raise_file_limit(quick ? 1000 : 10000);
	if (flood) {
		struct flood_figures r = { 0 };
		run_flood(&r, quick);
		check_counts("flood", r.acked, r.stored);
		report_flood(&r, quick);
		return 0;
	}

	struct figures r = { 0 };
	run_decode(&r, quick);
	/* Latency before throughput: for a while after the throughput run
	 * wrote (and removed) a gigabyte, the WAL's fdatasync on this VM took
	 * up to 90 ms at times, which is not the steady state measured. */
	run_latency(&r, quick);
	check_counts("latency", r.lat_acked, r.lat_stored);
	run_throughput(&r, quick);
	check_counts("throughput", r.tp_acked, r.tp_stored);
	run_many(&r, quick, many);
	check_counts("many agents", r.many_acked, r.many_stored);
	report(&r, quick);
	return 0;
}
