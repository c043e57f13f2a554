/* dataset.h - the samples that rmon-bench's store, ingest and e2e scenarios
 * write, as one definition each scenario and each peer is fed from:
 *   agent-like  hosts bench-agent-H, series bench_value{s="I"}, the mix of
 *               fleet_value (byte counters, page-sized gauges, constants,
 *               two-decimal figures), 1 s apart;
 *   TSBS        the cpu-only devops shape of the Time Series Benchmark
 *               Suite: hosts host_H, 10 metrics each (cpu_usage_user ...
 *               cpu_usage_guest_nice) with TSBS's nine tags as labels,
 *               10 s apart, each a random walk of normal steps (mean 0, sd 1)
 *               clamped to [0, 100], as TSBS generates them (full-precision
 *               floats, the hard case for XOR compression).
 * Series s of host h is number h * per_host + s. */
#ifndef RMON_BENCH_DATASET_H
#define RMON_BENCH_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DATASET_NAME_MAX     256 /* bytes of a canonical name, its NUL included */
#define DATASET_TSBS_METRICS 10

struct dataset {
	bool tsbs;
	uint32_t hosts, per_host;
	int64_t interval_ns;
	double *walk; /* TSBS: each series' last value; NULL for agent-like */
};

/* The agent-like mix: hosts x per_host series. */
void dataset_agent(struct dataset *d, uint32_t hosts, uint32_t per_host);

/* The TSBS cpu-only shape at `hosts` hosts (TSBS --scale); dies (bench_die)
 * when out of memory.  dataset_free releases it. */
void dataset_tsbs(struct dataset *d, uint32_t hosts);
void dataset_free(struct dataset *d);

/* Back to sample 0: the next values asked are the same as the first were
 * (another writer, a peer, is fed the same samples). */
void dataset_rewind(struct dataset *d);

uint64_t dataset_series(const struct dataset *d);

/* "agent-like" or "TSBS cpu-only", for table titles. */
const char *dataset_what(const struct dataset *d);

/* The host name of host h into buf; its length. */
int dataset_host(const struct dataset *d, uint32_t h, char *buf, size_t len);

/* The canonical name (lib/series_name.h) of series s of host h; its length. */
int dataset_name(const struct dataset *d, uint32_t h, uint32_t s, char *buf, size_t len);

/* The same series in the Prometheus text format, without value and
 * timestamp: metric{host="H",labels}; its length. */
int dataset_prom_name(const struct dataset *d, uint32_t h, uint32_t s, char *buf, size_t len);

/* Sample k of series s of host h whose id is id.  TSBS values are a walk:
 * each series' samples must be asked for in the order of k, each once. */
double dataset_value(struct dataset *d, uint32_t h, uint32_t s, uint64_t id, uint64_t k);

#endif
