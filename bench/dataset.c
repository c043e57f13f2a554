/* dataset.c - the samples the scenarios write; see dataset.h. */
#include "bench/dataset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "bench/fleet.h"
#include "lib/err.h"
#include "lib/rtime.h"
#include "lib/series_name.h"

static const char *const tsbs_metric[DATASET_TSBS_METRICS] = {
	"cpu_usage_user",   "cpu_usage_system",	    "cpu_usage_idle",	 "cpu_usage_nice",
	"cpu_usage_iowait", "cpu_usage_irq",	    "cpu_usage_softirq", "cpu_usage_steal",
	"cpu_usage_guest",  "cpu_usage_guest_nice",
};

/* TSBS's tags of a host, drawn from its lists by the host's number. */
struct tsbs_tags {
	char rack[8], service[8], version[8], datacenter[32];
	const char *region, *os, *arch, *team, *environment;
};

static void tsbs_tags(uint32_t h, struct tsbs_tags *t)
{
	static const char *const regions[] = { "us-east-1",	 "us-west-1",	   "us-west-2",
					       "eu-west-1",	 "eu-central-1",   "ap-southeast-1",
					       "ap-southeast-2", "ap-northeast-1", "sa-east-1" };
	static const char *const os[] = { "Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10" };
	static const char *const arch[] = { "x64", "x86" };
	static const char *const team[] = { "SF", "NYC", "LON", "CHI" };
	static const char *const env[] = { "production", "staging", "test" };
	static const char letters[] = "abc";
	size_t r = h % 9;
	t->region = regions[r];
	snprintf(t->datacenter, sizeof t->datacenter, "%s%c", regions[r], letters[h / 9 % 3]);
	snprintf(t->rack, sizeof t->rack, "%u", h % 100);
	snprintf(t->service, sizeof t->service, "%u", h % 20);
	snprintf(t->version, sizeof t->version, "%u", h % 2);
	t->os = os[h % 3];
	t->arch = arch[h % 2];
	t->team = team[h % 4];
	t->environment = env[h % 3];
}

void dataset_agent(struct dataset *d, uint32_t hosts, uint32_t per_host)
{
	*d = (struct dataset){ .hosts = hosts,
			       .per_host = per_host,
			       .interval_ns = RTIME_NS_PER_SEC };
}

/* A uniform double in (0, 1) from 53 bits of a hash of (a, b). */
static double uniform(uint64_t a, uint64_t b)
{
	uint64_t x = (a ^ (b * UINT64_C(0x9e3779b97f4a7c15))) + UINT64_C(0x632be59bd9b4e019);
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	x *= UINT64_C(0xc4ceb9fe1a85ec53);
	x ^= x >> 33;
	return ((double)(x >> 11) + 0.5) / 9007199254740992.0;
}

void dataset_tsbs(struct dataset *d, uint32_t hosts)
{
	*d = (struct dataset){ .tsbs = true,
			       .hosts = hosts,
			       .per_host = DATASET_TSBS_METRICS,
			       .interval_ns = 10 * RTIME_NS_PER_SEC };
	uint64_t n = dataset_series(d);
	d->walk = malloc(n * sizeof *d->walk);
	if (!d->walk)
		bench_die("out of memory for %llu series", (unsigned long long)n);
	dataset_rewind(d);
}

void dataset_rewind(struct dataset *d)
{
	uint64_t n = dataset_series(d);
	for (uint64_t s = 0; d->walk && s < n; s++) /* TSBS starts each walk in [0, 100) */
		d->walk[s] = 100 * uniform(s, UINT64_MAX);
}

void dataset_free(struct dataset *d)
{
	free(d->walk);
	d->walk = NULL;
}

uint64_t dataset_series(const struct dataset *d)
{
	return (uint64_t)d->hosts * d->per_host;
}

const char *dataset_what(const struct dataset *d)
{
	return d->tsbs ? "TSBS cpu-only" : "agent-like";
}

int dataset_host(const struct dataset *d, uint32_t h, char *buf, size_t len)
{
	return snprintf(buf, len, d->tsbs ? "host_%u" : "bench-agent-%u", h);
}

int dataset_name(const struct dataset *d, uint32_t h, uint32_t s, char *buf, size_t len)
{
	if (!d->tsbs)
		return fleet_series_name(buf, len, h, s);
	char host[32];
	struct tsbs_tags t;
	struct err e = { 0 };
	dataset_host(d, h, host, sizeof host);
	tsbs_tags(h, &t);
	struct series_label labels[] = {
		{ "arch", t.arch },
		{ "datacenter", t.datacenter },
		{ "os", t.os },
		{ "rack", t.rack },
		{ "region", t.region },
		{ "service", t.service },
		{ "service_environment", t.environment },
		{ "service_version", t.version },
		{ "team", t.team },
	};
	int n = series_canonical(buf, len, host, tsbs_metric[s % DATASET_TSBS_METRICS], labels,
				 sizeof labels / sizeof labels[0], &e);
	if (n < 0)
		bench_die("%s", e.msg);
	return n;
}

/* host/metric{labels} becomes metric{host="host",labels}: both spell the
 * labels alike, and neither name needs escaping. */
int dataset_prom_name(const struct dataset *d, uint32_t h, uint32_t s, char *buf, size_t len)
{
	char canonical[DATASET_NAME_MAX];
	dataset_name(d, h, s, canonical, sizeof canonical);
	char *slash = strchr(canonical, '/'), *brace = strchr(canonical, '{');
	*slash = '\0';
	if (!brace)
		return snprintf(buf, len, "%s{host=\"%s\"}", slash + 1, canonical);
	*brace = '\0';
	return snprintf(buf, len, "%s{host=\"%s\",%s", slash + 1, canonical, brace + 1);
}

double dataset_value(struct dataset *d, uint32_t h, uint32_t s, uint64_t id, uint64_t k)
{
	if (!d->tsbs)
		return fleet_value(id, k);
	uint64_t i = (uint64_t)h * d->per_host + s;
	/* Box-Muller: a normal step from two uniforms of (series, k). */
	double step = sqrt(-2 * log(uniform(i, 2 * k))) * cos(2 * M_PI * uniform(i, 2 * k + 1));
	double v = d->walk[i] + step;
	d->walk[i] = v < 0 ? 0 : v > 100 ? 100 : v;
	return d->walk[i];
}
