/* flood.c - bench-ingest --flood, the ack latency under a junk flood; see
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

void flood_report(const struct flood_figures *r, bool quick)
{
	char text[200], what[100];
	printf("bench-ingest --flood%s: rmon-stored of this build on loopback\n",
	       quick ? " --quick" : "");
	printf("  %-58s %-44s %s\n", "measurement", "result", "goal");
	snprintf(what, sizeof what, "5. %u agents x 100 samples every 100 ms, %u junk peers",
		 r->agents, r->junk_connections);
	snprintf(text, sizeof text, "p50 %.1f ms, p99 %.1f ms, %.2fx calm", bench_ms(r->nice.p50),
		 bench_ms(r->nice.p99), (double)r->nice.p99 / (double)r->calm.p99);
	printf("  %-58s %-44s p99 <= 100 ms %s\n", what, text,
	       bench_verdict(r->nice.p99 <= 100 * MS));
	snprintf(text, sizeof text, "p50 %.1f ms, p99 %.1f ms", bench_ms(r->calm.p50),
		 bench_ms(r->calm.p99));
	printf("  %-58s %s\n", "   the same agents just before, no flood (baseline)", text);
	snprintf(text, sizeof text, "p50 %.1f ms, p99 %.1f ms, %.2fx calm", bench_ms(r->even.p50),
		 bench_ms(r->even.p99), (double)r->even.p99 / (double)r->calm.p99);
	printf("  %-58s %s\n", "   the crowd at nice 0, sharing the 2 cores evenly", text);
	snprintf(text, sizeof text, "%.1f MiB over idle (VmHWM %.1f MiB)",
		 (double)(r->hwm - r->idle_rss) / 1024, r->hwm / 1024.0);
	printf("  %-58s %-44s <= 64 MiB %s\n", "   the server's peak memory, whole run", text,
	       bench_verdict(r->hwm - r->idle_rss <= 64 * 1024));
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
