/* report_hist.c - the latency histogram of report.h: log-linear buckets,
 * 128 linear ones per power of two (under 0.8 % wide), so memory is
 * constant whatever the count and a quantile is off by half a bucket at
 * most.  Values run from 0 to 1000 s; longer ones count as 1000 s. */
#include "bench/report.h"

#include <stdlib.h>

#define SUB_BITS  7
#define SUB	  (1 << SUB_BITS) /* linear buckets per power of two */
#define MAX_NS	  1000000000000LL /* 1000 s < 2^40 */
#define MAX_POWER 40		  /* the leading bit of MAX_NS is below 2^40 */
#define BUCKETS	  (SUB + (MAX_POWER - SUB_BITS) * SUB)

struct bench_hist {
	uint64_t count;
	int64_t max;
	uint64_t bucket[BUCKETS];
};

struct bench_hist *bench_hist_new(void)
{
	return calloc(1, sizeof(struct bench_hist));
}

void bench_hist_free(struct bench_hist *h)
{
	free(h);
}

/* Values below SUB are their own bucket; above, a power of two 2^e holds
 * SUB buckets, told apart by the SUB_BITS bits after the leading one. */
static size_t bucket_of(int64_t ns)
{
	uint64_t v = (uint64_t)ns;
	if (v < SUB)
		return (size_t)v;
	int e = 63 - __builtin_clzll(v);
	uint64_t sub = (v >> (e - SUB_BITS)) & (SUB - 1);
	return SUB + (size_t)(e - SUB_BITS) * SUB + (size_t)sub;
}

/* The middle of bucket i, in ns. */
static int64_t bucket_middle(size_t i)
{
	if (i < SUB)
		return (int64_t)i;
	size_t e = (i - SUB) / SUB + SUB_BITS, sub = (i - SUB) % SUB;
	uint64_t low = ((uint64_t)SUB + sub) << (e - SUB_BITS);
	uint64_t width = (uint64_t)1 << (e - SUB_BITS);
	return (int64_t)(low + width / 2);
}

void bench_hist_add(struct bench_hist *h, int64_t ns)
{
	if (ns < 0)
		ns = 0; /* two clocks' readings a hair apart */
	if (ns > MAX_NS)
		ns = MAX_NS;
	h->bucket[bucket_of(ns)]++;
	h->count++;
	if (ns > h->max)
		h->max = ns;
}

void bench_hist_merge(struct bench_hist *into, const struct bench_hist *from)
{
	for (size_t i = 0; i < BUCKETS; i++)
		into->bucket[i] += from->bucket[i];
	into->count += from->count;
	if (from->max > into->max)
		into->max = from->max;
}

uint64_t bench_hist_count(const struct bench_hist *h)
{
	return h->count;
}

int64_t bench_hist_max(const struct bench_hist *h)
{
	return h->max;
}

/* The value of rank ceil(q * count): the smallest v with at least that
 * share of the values <= v, as the middle of its bucket (never above the
 * largest value seen). */
int64_t bench_hist_quantile(const struct bench_hist *h, double q)
{
	if (h->count == 0)
		return 0;
	if (q >= 1)
		return h->max;
	double want = q * (double)h->count;
	uint64_t rank = (uint64_t)want;
	if ((double)rank < want || rank == 0)
		rank++;
	uint64_t seen = 0;
	for (size_t i = 0; i < BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			int64_t v = bucket_middle(i);
			return v < h->max ? v : h->max;
		}
	}
	return h->max;
}
