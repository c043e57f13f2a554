/* flood.c - rmon-bench ingest --flood, the ack latency under a junk flood; see
 * flood.h. */
#include "bench/flood.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/fleet.h"
#include "bench/junkflood.h"
#include "bench/procstat.h"
#include "lib/rtime.h"

#define SEC RTIME_NS_PER_SEC
#define MS  RTIME_NS_PER_MS

/* `rounds` paced rounds of the fleet, with a crowd at niceness (none: -1). */
static void flood_phase(struct fleet *f, int port, uint64_t rounds, int niceness,
			struct flood_phase *out)
{
	int64_t period = 100 * MS;
	pid_t crowd = -1;
	if (niceness >= 0) {
		crowd = junkflood_start(port, 1000, (double)(rounds + 5) * 0.1 + 1, niceness);
		if (crowd < 0)
			bench_die("cannot fork the junk crowd: %s", strerror((int)-crowd));
		fleet_pace(f, period, 5); /* the crowd connects meanwhile: not counted */
	}
	f->late = 0;
	f->n_latencies = 0;
	fleet_pace(f, period, rounds);
	fleet_settle(f, 30 * SEC);
	if (crowd > 0 && junkflood_wait(crowd, &out->junk) != 0)
		bench_die("the junk crowd failed");
	out->p50 = bench_quantile(f->latencies, f->n_latencies, 0.50);
	out->p99 = bench_quantile(f->latencies, f->n_latencies, 0.99);
	out->late = f->late;
}

void flood_run(struct flood_figures *out, bool quick, int port, pid_t server_pid)
{
	struct fleet f;
	uint64_t rounds = quick ? 30 : 100;
	out->agents = 100;
	out->junk_connections = 1000;
	usleep(300000);
	out->idle_rss = procstat_kib(server_pid, "VmRSS:");
	fleet_init(&f, out->agents, 100, 1, 32, port, false);
	fleet_connect(&f);
	f.record_from = 11;
	fleet_pace(&f, 100 * MS, 10); /* warm-up: the series are registered */
	flood_phase(&f, port, rounds, -1, &out->calm);
	out->calm_rss = procstat_kib(server_pid, "VmRSS:");
	flood_phase(&f, port, rounds, 19, &out->nice);
	flood_phase(&f, port, rounds, 0, &out->even);
	out->hwm = procstat_kib(server_pid, "VmHWM:");
	out->acked = f.acked_samples;
	fleet_close(&f);
}

void flood_report(struct bench_run *run, const struct flood_figures *r)
{
	struct bench_table *t = bench_table(
	    run,
	    "ingest --flood: %u agents x 100 samples every 100 ms, %u unauthenticated junk peers",
	    r->agents, r->junk_connections);
	bench_goal(t, "ack p99, the crowd at nice 19", bench_ms(r->nice.p99), "ms", false, 100);
	bench_figure(t, "  p50", bench_ms(r->nice.p50), "ms");
	bench_ratio(t, "  p99 against the same agents calm", (double)r->nice.p99,
		    (double)r->calm.p99, "calm", 0);
	bench_figure(t, "the same agents just before, no flood, p99 (baseline)",
		     bench_ms(r->calm.p99), "ms");
	bench_figure(t, "  p50", bench_ms(r->calm.p50), "ms");
	bench_figure(t, "ack p99, the crowd at nice 0 (sharing the 2 cores evenly)",
		     bench_ms(r->even.p99), "ms");
	bench_figure(t, "  p50", bench_ms(r->even.p50), "ms");
	bench_goal(t, "the server's peak memory over idle, whole run",
		   (double)(r->hwm - r->idle_rss) / 1024, "MiB", false, 64);
	bench_figure(t, "  VmHWM", r->hwm / 1024.0, "MiB");
	bench_figure(t, "the same server idle (baseline)", r->idle_rss / 1024.0, "MiB");
	bench_figure(t, "  with the agents, before the flood", r->calm_rss / 1024.0, "MiB");
	const struct flood_phase *p[2] = { &r->nice, &r->even };
	for (int i = 0; i < 2; i++) {
		bench_figure(t, i ? "junk connections, nice 0" : "junk connections, nice 19",
			     (double)p[i]->junk.opened, "connections");
		bench_figure(t, "  refused", (double)p[i]->junk.closed, "connections");
		bench_figure(t, "  junk sent", (double)p[i]->junk.bytes_sent / (1 << 20), "MiB");
	}
	bench_zero(t, "batches late, calm", r->calm.late);
	bench_figure(t, "batches late, nice 19", (double)r->nice.late, "batches");
	bench_figure(t, "batches late, nice 0", (double)r->even.late, "batches");
	bench_figure(t, "stored (the server's count, covering every ack)", (double)r->stored,
		     "samples");
}
