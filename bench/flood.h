/* flood.h - rmon-bench ingest --flood: the latency run's fleet (bench/fleet.h),
 * paced against a running rmon-stored, first alone (the baseline), then
 * while a crowd of unauthenticated junk senders (bench/junkflood.h) at nice
 * 19 and at nice 0 holds 1,000 connections; ack latency, the server's
 * memory and the junk sent, and the report of them. */
#ifndef RMON_BENCH_FLOOD_H
#define RMON_BENCH_FLOOD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bench/junkflood.h"
#include "bench/report.h"

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

/* Runs the three phases against the server listening on 127.0.0.1:port
 * (its pid: for its memory); the caller starts and stops the server and
 * fills out->stored with the count it says it stored.  Dies (bench_die) on
 * a protocol error. */
void flood_run(struct flood_figures *out, bool quick, int port, pid_t server_pid);

/* The figures, each against its baseline, as one table of the run. */
void flood_report(struct bench_run *run, const struct flood_figures *r);

#endif
