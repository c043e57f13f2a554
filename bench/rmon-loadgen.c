/* rmon-loadgen.c - pushes a known, deterministic sample set into the ring
 * of a data folder, as agents would, and says how many the ring accepted.
 * The kill -9 tests compare that with what the store holds; the store
 * benchmarks use it as the producer.
 *
 * Series "loadgen/rmon_loadgen_value{s="I"}" for I in 0..series-1; sample K
 * of every series has timestamp start + K ms and value K.
 *
 * Usage: rmon-loadgen --data DIR [--series 100] [--samples 10000]
 *                     [--start-ns T] [--pace-us U] [--no-wait]
 * --pace-us sleeps U microseconds after each round (one sample per series),
 * to spread the load over time.
 * Without --no-wait a full lane is waited out (nothing is dropped), so
 * after a successful run every sample was accepted. */
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/rtime.h"
#include "shmring/ring.h"
#include "shmring/series.h"

static int attach(const char *data, struct ring **r, struct ring_lane **lane)
{
	char name[64];
	struct err e = { 0 };
	ring_name_for_dir(data, name, sizeof name);
	/* The store may not be up yet: wait for its ring for up to 30 s. */
	for (int tries = 0; tries < 300; tries++) {
		if (ring_producer_open(name, r, &e) == 0)
			return ring_lane_attach(*r, lane, &e) == 0
				   ? 0
				   : (fprintf(stderr, "rmon-loadgen: %s\n", e.msg), -1);
		usleep(100000);
	}
	fprintf(stderr, "rmon-loadgen: %s\n", e.msg);
	return -1;
}

int main(int argc, char **argv)
{
	const char *data = NULL;
	long series = 100, samples = 10000;
	int64_t start = rtime_now_ns() / RTIME_NS_PER_SEC * RTIME_NS_PER_SEC;
	bool wait = true;
	long pace_us = 0;
	static const struct option options[] = { { "data", required_argument, NULL, 'd' },
						 { "series", required_argument, NULL, 's' },
						 { "samples", required_argument, NULL, 'n' },
						 { "start-ns", required_argument, NULL, 't' },
						 { "no-wait", no_argument, NULL, 'w' },
						 { "pace-us", required_argument, NULL, 'p' },
						 { NULL, 0, NULL, 0 } };
	for (int c; (c = getopt_long(argc, argv, "d:s:n:t:wp:", options, NULL)) != -1;) {
		if (c == 'd')
			data = optarg;
		else if (c == 's')
			series = atol(optarg);
		else if (c == 'n')
			samples = atol(optarg);
		else if (c == 't')
			start = atoll(optarg);
		else if (c == 'w')
			wait = false;
		else if (c == 'p')
			pace_us = atol(optarg);
		else
			return 2;
	}
	if (!data || series < 1 || series > 100000 || samples < 1) {
		fprintf(stderr, "usage: rmon-loadgen --data DIR [--series N] [--samples N] "
				"[--start-ns T] [--no-wait]\n");
		return 2;
	}
	struct ring *r;
	struct ring_lane *lane;
	if (attach(data, &r, &lane) != 0)
		return 1;
	uint64_t *ids = malloc((size_t)series * sizeof *ids);
	struct ring_sample *batch = malloc((size_t)series * sizeof *batch);
	struct err e = { 0 };
	for (long s = 0; s < series; s++) {
		char value[16], name[SERIES_NAME_MAX + 1];
		snprintf(value, sizeof value, "%ld", s);
		struct series_label label = { "s", value };
		int len = series_canonical(name, sizeof name, "loadgen", "rmon_loadgen_value",
					   &label, 1, &e);
		if (len < 0 || series_insert(ring_series(r), name, (size_t)len, &ids[s], &e) != 0) {
			fprintf(stderr, "rmon-loadgen: %s\n", e.msg);
			return 1;
		}
	}
	uint64_t accepted = 0, dropped = 0;
	for (long k = 0; k < samples; k++) {
		for (long s = 0; s < series; s++)
			batch[s] =
			    (struct ring_sample){ ids[s], start + k * RTIME_NS_PER_MS, (double)k };
		for (size_t sent = 0; sent < (size_t)series;) {
			size_t n = ring_push_many(lane, batch + sent, (size_t)series - sent);
			sent += n;
			accepted += n;
			if (n == 0 && !wait) {
				dropped += (size_t)series - sent;
				break;
			}
			if (n == 0)
				usleep(200);
		}
		if (pace_us)
			usleep((useconds_t)pace_us);
	}
	printf("accepted %llu dropped %llu\n", (unsigned long long)accepted,
	       (unsigned long long)dropped);
	ring_close(r);
	free(ids);
	free(batch);
	return 0;
}
