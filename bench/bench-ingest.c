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
 *      connections send junk as fast as they can (bench/flood.h): ack
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
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/fleet.h"
#include "bench/flood.h"
#include "bench/procstat.h"
#include "lib/cmdline.h"
#include "lib/evloop.h"
#include "lib/grow.h"
#include "lib/rtime.h"
#include "shmring/ring.h"
#include "lib/series_name.h"
#include "net/link.h"
#include "net/proto.h"

#define SEC RTIME_NS_PER_SEC
#define MS  RTIME_NS_PER_MS

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
		bench_remove_tree(dir);
}

static double self_cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
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
		bench_die("out of memory");
	for (uint32_t s = 0; s < per_frame; s++)
		ids[s] = series_id(name, (size_t)fleet_series_name(name, sizeof name, 0, s));
	for (size_t f = 0; f < n; f++) {
		struct sample *batch = fr->samples + f * per_frame;
		for (size_t s = 0; s < per_frame; s++)
			batch[s] = (struct sample){ ids[s], t0 + (int64_t)f * SEC,
						    fleet_value(ids[s], f) };
		fr->offset[f] = fr->buf.len + PROTO_HEADER_BYTES;
		if (proto_put_samples(&fr->buf, f + 1, batch, per_frame) != 0)
			bench_die("out of memory");
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
		bench_die("proto_decode_samples: %s", e.msg);
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
		bench_die("msgpack_unpack_next: not one msgpack value");
	const msgpack_object *o = &u->data;
	const msgpack_object *f = o->via.array.ptr;
	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 3 ||
	    f[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER || f[0].via.u64 != PROTO_SAMPLES ||
	    f[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER || f[2].type != MSGPACK_OBJECT_ARRAY ||
	    f[2].via.array.size > max)
		bench_die("msgpack: not a SAMPLES frame");
	const msgpack_object *list = f[2].via.array.ptr;
	size_t n = f[2].via.array.size;
	for (size_t i = 0; i < n; i++) {
		const msgpack_object *s = list[i].via.array.ptr;
		int64_t ts, iv;
		if (list[i].type != MSGPACK_OBJECT_ARRAY || list[i].via.array.size != 3 ||
		    s[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER || !msgpack_integer(&s[1], &ts))
			bench_die("msgpack: sample %zu is not [id, timestamp, value]", i);
		out[i].id = s[0].via.u64;
		out[i].ts = ts;
		if (s[2].type == MSGPACK_OBJECT_FLOAT64 || s[2].type == MSGPACK_OBJECT_FLOAT32)
			out[i].value = s[2].via.f64;
		else if (msgpack_integer(&s[2], &iv))
			out[i].value = (double)iv;
		else
			bench_die("msgpack: sample %zu has no number", i);
	}
	return n;
}

/* Samples per second through one decoder, on one core, for `seconds`;
 * every frame is checked against what was encoded first. */
static double decode_rate(decoder fn, void *ctx, const struct frames *fr, double seconds)
{
	struct sample *out = malloc(fr->per_frame * sizeof *out);
	if (!out)
		bench_die("out of memory");
	for (size_t f = 0; f < fr->n; f++)
		if (fn(ctx, fr->buf.data + fr->offset[f], fr->len[f], out, fr->per_frame) !=
			fr->per_frame ||
		    memcmp(out, fr->samples + f * fr->per_frame, fr->per_frame * sizeof *out) != 0)
			bench_die("frame %zu does not decode to the samples encoded", f);
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
	server.port = bench_free_port();
	snprintf(server.address, sizeof server.address, "127.0.0.1:%d", server.port);
	fflush(stdout);
	fflush(stderr);
	server.pid = fork();
	if (server.pid < 0)
		bench_die("fork: %s", strerror(errno));
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
			bench_die("%s did not start", exe);
		}
		usleep(20000);
	}
	show_log();
	bench_die("%s did not listen within 10 s", exe);
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
		bench_die("rmon-stored did not exit cleanly (status %#x)", status);
	}
	if (!log_number("stopped after storing ", &stored)) {
		show_log();
		bench_die("rmon-stored did not say how many samples it stored");
	}
	/* Its data would otherwise still be written back while the next run
	 * measures, on the disk that run's WAL syncs to. */
	bench_remove_tree(server.data);
	sync();
	return stored;
}

/* ---- the throughput baseline: a sink ---- */

static struct sample sink_scratch[65536];

/* One connection's turn: answer the handshake, acknowledge what came. */
static void sink_read(struct evloop *loop, int fd, unsigned events, void *ctx)
{
	static const uint8_t nonce[PROTO_NONCE_BYTES];
	struct link *l = ctx;
	struct err e = { 0 };
	int64_t got = link_fill(l, 1u << 20, &e), len;
	const uint8_t *payload;
	uint64_t seq = 0;
	size_t count;
	if (got < 0 && got != -EAGAIN) {
		evloop_del_file(loop, fd);
		link_close(l); /* the client is done */
		free(l);
		return;
	}
	while ((len = link_next_frame(l, PROTO_MAX_FRAME, &payload, &e)) >= 0) {
		int type = proto_frame_type(payload, (size_t)len, &e);
		if (type == PROTO_HELLO)
			proto_put_challenge(&l->out, nonce, false);
		else if (type == PROTO_AUTH)
			proto_put_welcome(&l->out, NULL);
		else if (type == PROTO_SAMPLES &&
			 proto_decode_samples(payload, (size_t)len, &seq, sink_scratch, 65536,
					      &count, &e) != 0)
			_exit(1);
	}
	if (seq)
		proto_put_ack(&l->out, seq);
	link_compact(l);
	link_flush(l, &e);
	evloop_set_file(loop, fd, EVLOOP_READ | (l->out.len ? EVLOOP_WRITE : 0), NULL);
}

static void sink_accept(struct evloop *loop, int listen_fd, unsigned events, void *ctx)
{
	struct err e = { 0 };
	for (int fd; (fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0;) {
		struct link *l = calloc(1, sizeof *l);
		if (!l || link_init(l, fd, NULL, true, NULL, &e) != 0 ||
		    evloop_add_file(loop, fd, EVLOOP_READ, sink_read, l, &e) != 0)
			_exit(1);
	}
}

/* Answers the same exchange and acknowledges every read's batches at once
 * (no disk, no store): what this client and loopback TCP can do here.
 * Runs in a child process until killed. */
static __attribute__((noreturn)) void sink_serve(int listen_fd)
{
	struct evloop *loop;
	if (evloop_new(&loop, NULL) != 0 ||
	    evloop_add_file(loop, listen_fd, EVLOOP_READ, sink_accept, NULL, NULL) != 0 ||
	    evloop_run(loop, NULL) != 0)
		_exit(1);
	_exit(0);
}

static int sink_start(void)
{
	struct err e = { 0 };
	char address[32];
	int fd, port = bench_free_port();
	snprintf(address, sizeof address, "127.0.0.1:%d", port);
	if (link_listen(address, &fd, &e) != 0)
		bench_die("%s", e.msg);
	fflush(stdout);
	fflush(stderr);
	sink_pid = fork();
	if (sink_pid < 0)
		bench_die("fork: %s", strerror(errno));
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
		bench_die("%s: %s", path, strerror(errno));
	memset(block, 0x5a, sizeof block);
	for (int i = 0; i < n; i++) {
		int64_t start = rtime_mono_ns();
		if (pwrite(fd, block, sizeof block, (off_t)i * (off_t)sizeof block) !=
			(ssize_t)sizeof block ||
		    fdatasync(fd) != 0)
			bench_die("%s: %s", path, strerror(errno));
		lat[i] = rtime_mono_ns() - start;
	}
	close(fd);
	*p50 = bench_quantile(lat, (size_t)n, 0.50);
	*p99 = bench_quantile(lat, (size_t)n, 0.99);
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
	out->tp_p50 = bench_quantile(f.latencies, f.n_latencies, 0.50);
	out->tp_p99 = bench_quantile(f.latencies, f.n_latencies, 0.99);
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
	out->lat_p50 = bench_quantile(f.latencies, f.n_latencies, 0.50);
	out->lat_p99 = bench_quantile(f.latencies, f.n_latencies, 0.99);
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
	out->many_p50 = bench_quantile(f.latencies, f.n_latencies, 0.50);
	out->many_p99 = bench_quantile(f.latencies, f.n_latencies, 0.99);
	out->many_acked = f.acked_samples;
	out->many_late = f.late;
	fleet_close(&f);
	out->many_stored = server_stop();
}

/* The server's own count must cover every ack: an ack promises durability. */
static void check_counts(const char *what, uint64_t acked, uint64_t stored)
{
	if (stored < acked)
		bench_die("%s: the server stored %llu samples but acknowledged %llu", what,
			  (unsigned long long)stored, (unsigned long long)acked);
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
	       bench_verdict(r->ours_decode >= 20e6));
	snprintf(text, sizeof text, "%.1f M samples/s", r->msgpack_decode / 1e6);
	printf("  %-58s %s\n", "   msgpack-c msgpack_unpack_next + walk (baseline)", text);

	char what[100];
	snprintf(what, sizeof what, "2. acked durable, %u agents x 100 series, window 32",
		 r->tp_agents);
	snprintf(text, sizeof text, "%.2f M samples/s, %.2fx the sink", r->tp_rate / 1e6,
		 r->tp_rate / r->tp_sink_rate);
	printf("  %-58s %-44s >= 1 M/s %s\n", what, text, bench_verdict(r->tp_rate >= 1e6));
	snprintf(text, sizeof text, "%.2f M samples/s", r->tp_sink_rate / 1e6);
	printf("  %-58s %s\n", "   sink acking at once, no disk (baseline)", text);
	snprintf(text, sizeof text, "p50 %.1f ms, p99 %.1f ms", bench_ms(r->tp_p50),
		 bench_ms(r->tp_p99));
	printf("  %-58s %s\n", "   ack latency at that load", text);
	snprintf(text, sizeof text, "server %.0f %%, client %.0f %% of a core",
		 100 * r->tp_server_cpu / r->tp_seconds, 100 * r->tp_client_cpu / r->tp_seconds);
	printf("  %-58s %s\n", "   CPU", text);
	snprintf(text, sizeof text, "%llu >= %llu acked", (unsigned long long)r->tp_stored,
		 (unsigned long long)r->tp_acked);
	printf("  %-58s %s\n", "   stored (the server's count)", text);

	snprintf(what, sizeof what, "3. latency, %u agents x 100 samples every 100 ms",
		 r->lat_agents);
	snprintf(text, sizeof text, "p50 %.1f ms, p99 %.1f ms, max %.1f ms", bench_ms(r->lat_p50),
		 bench_ms(r->lat_p99), bench_ms(r->lat_max));
	printf("  %-58s %-44s p99 <= 100 ms %s\n", what, text,
	       bench_verdict(r->lat_p99 <= 100 * MS));
	snprintf(text, sizeof text, "p50 %.2f ms, p99 %.2f ms", bench_ms(r->sync_p50),
		 bench_ms(r->sync_p99));
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
	printf("  %-58s %-44s <= 128 MiB %s\n", what, text,
	       bench_verdict(r->many_hwm <= 128 * 1024));
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
	snprintf(text, sizeof text, "p50 %.1f ms, p99 %.1f ms, %llu batches late",
		 bench_ms(r->many_p50), bench_ms(r->many_p99), (unsigned long long)r->many_late);
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
	const struct cmdline_option options[] = {
		{ .name = "quick",
		  .letter = 'q',
		  .kind = CMDLINE_FLAG,
		  .field = &quick,
		  .help = "fewer samples and agents" },
		{ .name = "flood",
		  .letter = 'f',
		  .kind = CMDLINE_FLAG,
		  .field = &flood,
		  .help = "only the ack latency while 1,000 unauthenticated peers send junk" },
		{ 0 },
	};
	const struct cmdline cl = {
		.program = "bench-ingest",
		.about = "The ingest server's decode rate, ack latency, throughput and many-agent\n"
			 "figures, each against a baseline in the same run.",
		.options = options,
	};
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	main_pid = getpid();
	ssize_t n = readlink("/proc/self/exe", bin, sizeof bin - 1);
	if (n <= 0)
		bench_die("cannot find this program's folder");
	bin[n] = '\0';
	*strrchr(bin, '/') = '\0';
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof dir, "%s/rmon-bench-ingest-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		dir[0] = '\0';
		bench_die("cannot create a temporary folder: %s", strerror(errno));
	}
	atexit(cleanup);
	signal(SIGPIPE, SIG_IGN);
	uint32_t many = raise_file_limit(quick ? 1000 : 10000);
	if (flood) {
		struct flood_figures r = { 0 };
		server_start("flood");
		flood_run(&r, quick, server.port, server.pid);
		r.stored = server_stop();
		check_counts("flood", r.acked, r.stored);
		flood_report(&r, quick);
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
