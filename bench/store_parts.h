/* store_parts.h - the measurements of rmon-bench's store scenario
 * (scenario_store.c puts them in tables): durable ingest with its disk
 * floor and baselines, the peers on the same samples, bytes per sample,
 * reads, following the writer, the drain of rmon-stored --listen,
 * retention, and Prometheus' /metrics and remote_write. */
#ifndef RMON_BENCH_STORE_PARTS_H
#define RMON_BENCH_STORE_PARTS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bench/dataset.h"
#include "bench/report.h"

/* store_ingest.c: the data set's series, `rounds` samples each, pushed
 * into the ring by a producer process and drained by a drainer in this
 * one (WAL group commit, then LMDB). */
struct ingest_figures {
	uint64_t samples;
	double rate, seconds, cpu_s; /* wall samples/s; the drainer's CPU */
	uint64_t commits;	     /* WAL group commits */
	int64_t commit_p50, commit_p99;
	long rss_growth_kib;
	/* per sample: LMDB chunks, the pages in use, the LMDB file */
	double chunk_bytes, live_bytes, file_bytes;
	int64_t t0; /* the first sample's timestamp */
};
void store_ingest(struct bench_run *run, struct dataset *d, uint64_t rounds,
		  struct ingest_figures *out);

/* The disk's floor for the same bytes: `commits` pwrite+fdatasync pairs of
 * the WAL's bytes (a 16-byte header and 24 bytes a sample) into a
 * preallocated file; samples/s. */
double store_disk_floor(struct bench_run *run, uint64_t samples, uint64_t commits);

/* The baseline: one LMDB record per sample keyed (series, time). */
double store_plain_lmdb(struct bench_run *run, uint64_t series, uint64_t rounds);

/* Bytes per sample of closed chunks once `rounds` samples of each series
 * went in (2 h of samples close them); the LMDB file's and its pages in
 * use too. */
double store_closed_bytes(struct bench_run *run, struct dataset *d, uint64_t rounds,
			  double *file_bytes, double *live_bytes);

/* Bytes per sample on real agent output: rmon-collectd collects this
 * machine every 100 ms for `seconds` into an rmon-stored beside it; every
 * chunk then stored (closed or open) counts, against every sample. */
double store_agent_bytes(struct bench_run *run, double seconds, uint64_t *samples);

/* store_peers.c: victoria-metrics fed the same samples through its import
 * API (Prometheus text with timestamps), then flushed. */
struct peer_figures {
	bool ran;
	char why[4500]; /* when it did not */
	double rate, cpu_s, seconds, bytes_per_sample;
	double samples_sent, samples_held; /* victoria-metrics: held -1 when unknown */
	long peak_kib;
};
void store_victoria(struct bench_run *run, struct dataset *d, uint64_t rounds, int64_t t0,
		    struct peer_figures *out);

/* victoria-metrics started by bench/peers/victoria-metrics.sh on
 * 127.0.0.1:port, its data in dir/data; its pid, or 0 with why saying why
 * not (missing, not installable, not starting).  store_vm_stop stops it,
 * removes dir and returns the bytes its data folder held once stopped. */
pid_t store_vm_start(struct bench_run *run, const char *dir, int port, char *why, size_t len);
double store_vm_stop(struct bench_run *run, const char *dir, pid_t pid);

/* `promtool tsdb bench write` on as many series and scrapes. */
void store_promtool(struct bench_run *run, uint64_t series, uint64_t rounds,
		    struct peer_figures *out);

/* store_reads.c: reads of one day and one year, and following the writer. */
void store_reads(struct bench_run *run, bool quick);

/* store_drain.c: rmon-stored --listen's drain latency and idle CPU;
 * retention's cost to a checkpoint. */
void store_drain(struct bench_run *run, int rounds);
void store_retention(struct bench_run *run, long series, long chunks);

/* store_prom.c: /metrics of `series` series; remote_write into
 * victoria-metrics for `seconds`. */
void store_prom(struct bench_run *run, uint64_t series, double seconds);

#endif
