/* scenario_ingest.c - `rmon-bench ingest`: the network ingest path
 * (rmon-stored --listen, store/ingest.h) under simulated agents over TCP
 * (bench/fleet.h), each figure against a baseline in the same run:
 *   decode      proto_decode_samples on 1000-sample SAMPLES frames, against
 *               msgpack-c's generic unpacker walking the same bytes;
 *   paced       --agents N x --series N every --interval (default 100 x 100
 *               every 100 ms: 100,000 samples/s), send to durable ack,
 *               against fdatasync of a batch-sized append on the same disk;
 *   throughput  100 agents x 100 series, 32 batches in flight each; acked
 *               durable samples/s, against a sink in this program that
 *               acknowledges at once (no disk);
 *   many        10,000 connections x 75 series, a batch each 10 s: the
 *               server's memory, against the same server idle;
 *   --flood     the paced agents while 1,000 unauthenticated connections
 *               send junk (bench/flood.h), against the same agents before.
 * With --tsbs the paced run sends the TSBS cpu-only shape instead
 * (--scale hosts x 10 metrics, 10 s apart; bench/dataset.h).  The server
 * is this build's rmon-stored on a scratch folder; its own count of
 * stored samples must cover every ack. */
#include <errno.h>
#include <fcntl.h>
#include <msgpack.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/daemons.h"
#include "bench/dataset.h"
#include "bench/fleet.h"
#include "bench/flood.h"
#include "bench/procstat.h"
#include "bench/scenarios.h"
#include "lib/cmdline.h"
#include "lib/evloop.h"
#include "lib/rtime.h"
#include "lib/series_name.h"
#include "net/link.h"
#include "net/proto.h"

#define SEC RTIME_NS_PER_SEC
#define MS  RTIME_NS_PER_MS

static pid_t sink_pid;

static double self_cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* The fleet's send-to-ack latencies as a histogram (the caller frees it). */
static struct bench_hist *fleet_hist(const struct fleet *f)
{
	struct bench_hist *h = bench_hist_new();
	if (!h)
		bench_die("out of memory");
	for (size_t i = 0; i < f->n_latencies; i++)
		bench_hist_add(h, f->latencies[i]);
	return h;
}

/* The server's own count must cover every ack: an ack promises durability. */
static void check_counts(const char *what, uint64_t acked, uint64_t stored)
{
	if (stored < acked)
		bench_die("%s: the server stored %llu samples but acknowledged %llu", what,
			  (unsigned long long)stored, (unsigned long long)acked);
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
	sink_pid = bench_fork();
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
static void fdatasync_latency(struct bench_run *run, int n, int64_t *p50, int64_t *p99)
{
	char path[4200];
	uint8_t block[100 * sizeof(struct sample)];
	int64_t *lat = malloc((size_t)n * sizeof *lat);
	snprintf(path, sizeof path, "%s/fdatasync-probe", bench_scratch(run));
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
	unlink(path);
	*p50 = bench_quantile(lat, (size_t)n, 0.50);
	*p99 = bench_quantile(lat, (size_t)n, 0.99);
	free(lat);
}

/* ---- the runs ---- */

struct ingest_options {
	bool quick, flood, tsbs, paced_only;
	int64_t agents, series, interval_ns, seconds, scale;
};

static void run_decode(struct bench_run *run, bool quick)
{
	struct frames fr = { 0 };
	msgpack_unpacked u;
	make_frames(&fr, 64, 1000, (rtime_now_ns() / SEC - 86400) * SEC);
	msgpack_unpacked_init(&u);
	double seconds = quick ? 0.3 : 2;
	double ours = decode_rate(decode_proto, NULL, &fr, seconds);
	double theirs = decode_rate(decode_msgpack, &u, &fr, seconds);
	msgpack_unpacked_destroy(&u);
	proto_buf_free(&fr.buf);
	free(fr.offset);
	free(fr.len);
	free(fr.samples);
	struct bench_table *t =
	    bench_table(run, "ingest: decoding 1000-sample SAMPLES frames, one core");
	bench_goal(t, "proto_decode_samples", ours / 1e6, "M samples/s", true, 20);
	bench_figure(t, "msgpack-c msgpack_unpack_next and a walk (baseline)", theirs / 1e6,
		     "M samples/s");
	bench_ratio(t, "  against msgpack-c", ours, theirs, "msgpack-c", 0);
}

/* Agents paced at their interval: the ack latency of a steady load. */
static void run_paced(struct bench_run *run, const struct ingest_options *o)
{
	struct fleet f;
	struct daemon server;
	struct dataset d;
	int64_t sync_p50, sync_p99;
	uint32_t agents = (uint32_t)o->agents, series = (uint32_t)o->series;
	int64_t period = o->interval_ns;
	if (o->tsbs) {
		agents = (uint32_t)(o->scale ? o->scale : o->quick ? 100 : 1000);
		series = DATASET_TSBS_METRICS;
		dataset_tsbs(&d, agents);
		period = d.interval_ns;
	}
	uint64_t rounds = (uint64_t)(o->seconds * SEC / period), warmup = 2 + SEC / period;
	if (rounds < 2)
		rounds = 2;
	fdatasync_latency(run, o->quick ? 200 : 1000, &sync_p50, &sync_p99);
	daemon_start_stored(run, &server, "paced", NULL);
	fleet_init(&f, agents, series, 1, 32, server.port, agents > 1000);
	if (o->tsbs)
		fleet_use_data(&f, &d);
	fleet_connect(&f);
	/* Steady state only: the first rounds also register the series and
	 * make the first LMDB commits of their names. */
	f.record_from = warmup + 1;
	fleet_pace(&f, period, warmup);
	double cpu = procstat_cpu_seconds(server.pid), client = self_cpu_seconds();
	int64_t start = rtime_mono_ns() + 10 * MS; /* one schedule for every round */
	uint64_t acked = f.acked_samples;
	for (uint64_t done = 0; done < rounds; done++) { /* a round at a time: progress */
		fleet_pace_at(&f, start, period, done, 1);
		double s = (double)(rtime_mono_ns() - start) / 1e9;
		bench_progress(run, "paced agents", (double)(f.acked_samples - acked) / s / 1e6,
			       "M samples/s acked", s, (double)rounds * (double)period / 1e9);
	}
	fleet_settle(&f, 30 * SEC);
	bench_progress_done(run);
	double seconds = (double)(rtime_mono_ns() - start) / 1e9;
	double server_cpu = procstat_cpu_seconds(server.pid) - cpu;
	client = self_cpu_seconds() - client;
	struct bench_table *t;
	char every[32];
	snprintf(every, sizeof every, "%.0f ms", (double)period / 1e6);
	t = bench_table(run, "ingest: %u %s agents x %u series every %s, send to durable ack",
			agents, o->tsbs ? "TSBS" : "agent-like", series, every);
	struct bench_hist *h = fleet_hist(&f);
	bench_latency(t, "ack latency", h, 100);
	bench_hist_free(h);
	bench_figure(t, "fdatasync of a 2.4 KB append, p50 (the floor)", bench_ms(sync_p50), "ms");
	bench_figure(t, "fdatasync of a 2.4 KB append, p99", bench_ms(sync_p99), "ms");
	bench_figure(t, "acked", (double)(f.acked_samples - acked) / seconds / 1e6, "M samples/s");
	bench_zero(t, "batches late (window full when due)", f.late);
	bench_figure(t, "server CPU", 100 * server_cpu / seconds, "% of a core");
	bench_figure(t, "client CPU (the simulated agents)", 100 * client / seconds, "% of a core");
	bench_process(t, "rmon-stored", server.pid);
	uint64_t all_acked = f.acked_samples;
	fleet_close(&f);
	uint64_t stored = daemon_stop_stored(&server);
	check_counts("paced", all_acked, stored);
	bench_figure(t, "stored (the server's count, covering every ack)", (double)stored,
		     "samples");
	if (o->tsbs)
		dataset_free(&d);
}

static void run_throughput(struct bench_run *run, bool quick)
{
	struct fleet f;
	struct daemon server;
	uint32_t agents = quick ? 20 : 100;
	double seconds = quick ? 2 : 10, warmup = quick ? 0.3 : 1;

	fleet_init(&f, agents, 100, 1, 32, sink_start(), false);
	fleet_connect(&f);
	double sink_rate = fleet_flood(&f, warmup, quick ? 1 : 5);
	fleet_close(&f);
	sink_stop();

	daemon_start_stored(run, &server, "throughput", NULL);
	fleet_init(&f, agents, 100, 1, 32, server.port, false);
	fleet_connect(&f);
	double server_cpu = procstat_cpu_seconds(server.pid), client_cpu = self_cpu_seconds();
	double rate = fleet_flood(&f, warmup, seconds);
	server_cpu = procstat_cpu_seconds(server.pid) - server_cpu;
	client_cpu = self_cpu_seconds() - client_cpu;
	struct bench_hist *h = fleet_hist(&f);
	fleet_settle(&f, 30 * SEC);
	struct bench_table *t = bench_table(
	    run, "ingest: throughput, %u agents x 100 series, 32 batches in flight each", agents);
	bench_goal(t, "acked durable", rate / 1e6, "M samples/s", true, 1);
	bench_figure(t, "a sink acking at once, no disk (baseline)", sink_rate / 1e6,
		     "M samples/s");
	bench_ratio(t, "  against the sink", rate, sink_rate, "sink", 0);
	bench_latency(t, "ack latency at that load", h, 0);
	bench_hist_free(h);
	bench_figure(t, "server CPU", 100 * server_cpu / seconds, "% of a core");
	bench_figure(t, "client CPU", 100 * client_cpu / seconds, "% of a core");
	bench_process(t, "rmon-stored", server.pid);
	uint64_t acked = f.acked_samples;
	fleet_close(&f);
	uint64_t stored = daemon_stop_stored(&server);
	check_counts("throughput", acked, stored);
	bench_figure(t, "stored (the server's count, covering every ack)", (double)stored,
		     "samples");
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

static void run_many(struct bench_run *run, bool quick)
{
	struct fleet f;
	struct daemon server;
	uint32_t agents = raise_file_limit(quick ? 1000 : 10000), series = 75;
	int64_t period = quick ? 2 * SEC : 10 * SEC;
	daemon_start_stored(run, &server, "many", NULL);
	usleep(300000); /* let it settle after start-up */
	long idle_rss = procstat_kib(server.pid, "VmRSS:");
	fleet_init(&f, agents, series, 1, 32, server.port, true);
	int64_t start = rtime_mono_ns();
	fleet_connect(&f);
	double connect_s = (double)(rtime_mono_ns() - start) / 1e9;
	usleep(300000);
	long connected_rss = procstat_kib(server.pid, "VmRSS:");
	fleet_pace(&f, period, 2);
	fleet_settle(&f, 120 * SEC);
	long rss = procstat_kib(server.pid, "VmRSS:"), hwm = procstat_kib(server.pid, "VmHWM:");
	long anon = procstat_kib(server.pid, "RssAnon:"),
	     file = procstat_kib(server.pid, "RssFile:");
	struct bench_table *t =
	    bench_table(run, "ingest: %u connections x %u series, a batch each %s", agents, series,
			quick ? "2 s" : "10 s");
	bench_goal(t, "server VmHWM", (double)hwm / 1024, "MiB", false, 128);
	bench_figure(t, "server VmRSS", (double)rss / 1024, "MiB");
	bench_figure(t, "  of which heap", (double)anon / 1024, "MiB");
	bench_figure(t, "  of which file pages (LMDB map)", (double)file / 1024, "MiB");
	bench_figure(t, "the same server idle (baseline)", (double)idle_rss / 1024, "MiB");
	bench_figure(t, "per connection, all connected, before any series",
		     (double)(connected_rss - idle_rss) / agents, "KiB");
	bench_figure(t, "  connecting them all", connect_s, "s");
	bench_figure(t, "per series, after two batches each",
		     (double)(rss - connected_rss) * 1024 / ((double)agents * series), "bytes");
	struct bench_hist *h = fleet_hist(&f);
	bench_latency(t, "ack latency", h, 0);
	bench_hist_free(h);
	bench_zero(t, "batches late (window full when due)", f.late);
	bench_process(t, "rmon-stored", server.pid);
	uint64_t acked = f.acked_samples;
	fleet_close(&f);
	uint64_t stored = daemon_stop_stored(&server);
	check_counts("many agents", acked, stored);
}

static void run_flood(struct bench_run *run, bool quick)
{
	struct flood_figures r = { 0 };
	struct daemon server;
	raise_file_limit(2000);
	daemon_start_stored(run, &server, "flood", NULL);
	flood_run(&r, quick, server.port, server.pid);
	r.stored = daemon_stop_stored(&server);
	check_counts("flood", r.acked, r.stored);
	flood_report(run, &r);
}

int scenario_ingest(struct bench_run *run, int argc, char **argv)
{
	struct ingest_options o = { .quick = bench_opts(run)->quick,
				    .agents = 100,
				    .series = 100,
				    .interval_ns = 100 * MS };
	const struct cmdline_option options[] = {
		{ .name = "agents",
		  .letter = 'n',
		  .kind = CMDLINE_INT,
		  .field = &o.agents,
		  .arg = "N",
		  .help = "simulated agents of the paced run (default 100)",
		  .min = 1,
		  .max = 100000 },
		{ .name = "series",
		  .kind = CMDLINE_INT,
		  .field = &o.series,
		  .arg = "N",
		  .help = "series of each agent (default 100)",
		  .min = 1,
		  .max = 100000 },
		{ .name = "interval",
		  .kind = CMDLINE_DURATION,
		  .field = &o.interval_ns,
		  .arg = "DURATION",
		  .help = "each agent sends a batch every DURATION (default 100ms)",
		  .min = RTIME_NS_PER_MS,
		  .max = 3600 * SEC },
		{ .name = "seconds",
		  .kind = CMDLINE_INT,
		  .field = &o.seconds,
		  .arg = "S",
		  .help = "how long the paced run lasts (default 10; --quick 2; --tsbs 60)",
		  .min = 1,
		  .max = 3600 },
		{ .name = "paced",
		  .kind = CMDLINE_FLAG,
		  .field = &o.paced_only,
		  .help = "the paced run only" },
		{ .name = "tsbs",
		  .kind = CMDLINE_FLAG,
		  .field = &o.tsbs,
		  .help = "the paced run only, of the TSBS cpu-only shape (10 metrics a\n"
			  "host, 10 s apart)" },
		{ .name = "scale",
		  .kind = CMDLINE_INT,
		  .field = &o.scale,
		  .arg = "HOSTS",
		  .help = "TSBS hosts (default 1000; --quick 100)",
		  .min = 1,
		  .max = 100000 },
		{ .name = "flood",
		  .letter = 'f',
		  .kind = CMDLINE_FLAG,
		  .field = &o.flood,
		  .help = "only the paced agents while 1,000 unauthenticated peers send junk" },
		{ 0 },
	};
	const struct cmdline cl = {
		.program = "rmon-bench ingest",
		.about = "The ingest server's decode rate, ack latency under paced agents,\n"
			 "throughput and many-agent memory, each against a baseline in the\n"
			 "same run.",
		.options = options,
	};
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	if (!o.seconds)
		o.seconds = o.tsbs ? (o.quick ? 20 : 60) : (o.quick ? 2 : 10);
	signal(SIGPIPE, SIG_IGN);
	if (o.flood) {
		run_flood(run, o.quick);
		return 0;
	}
	if (o.tsbs || o.paced_only) {
		run_paced(run, &o);
		return 0;
	}
	run_decode(run, o.quick);
	/* Paced before throughput: for a while after the throughput run wrote
	 * (and removed) a gigabyte, the WAL's fdatasync on this VM took up to
	 * 90 ms at times, which is not the steady state measured. */
	run_paced(run, &o);
	run_throughput(run, o.quick);
	run_many(run, o.quick);
	return 0;
}
