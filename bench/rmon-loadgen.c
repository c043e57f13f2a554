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
 *        rmon-loadgen --server ADDR --spool DIR [--host NAME] [--secret S]
 *                     [--tls-ca FILE] [--rounds-per-batch R] [--timeout S] ...
 * --pace-us sleeps U microseconds after each round (one sample per series),
 * to spread the load over time.
 * Without --no-wait a full lane is waited out (nothing is dropped), so
 * after a successful run every sample was accepted.
 *
 * With --server it ships instead, as a remote agent does (net/shipper.h,
 * with its disk spool): R rounds make one batch; it prints "spooled N" once
 * every batch is in the spool, waits until the server acknowledged all of
 * them, prints "acked N" and exits 0 (1 when refused or out of time).
 * --samples 0 only sends what an earlier run left in the spool. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/cmdline.h"
#include "lib/log.h"
#include "lib/rtime.h"
#include "net/shipper.h"
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

struct ship_options {
	const char *server, *spool, *host, *secret, *tls_ca;
	int64_t rounds_per_batch, timeout_s;
};

static void ship_notice(enum log_level level, const char *message)
{
	log_msg(level, "loadgen", "%s", message);
}

/* Ships the sample set through a shipper; see the usage above. */
static int ship(const struct ship_options *o, long series, long samples, int64_t start,
		long pace_us)
{
	struct shipper_config c;
	struct shipper *sh;
	struct err e = { 0 };
	shipper_config_default(&c, o->server, o->spool);
	c.host = o->host;
	c.agent = "rmon-loadgen";
	c.secret = o->secret;
	c.tls = o->tls_ca != NULL;
	c.tls_ca = o->tls_ca;
	c.backoff_min_ns = 100 * RTIME_NS_PER_MS; /* tests restart servers often */
	c.backoff_max_ns = RTIME_NS_PER_SEC;
	c.notice = ship_notice;
	if (shipper_open(&c, &sh, &e) != 0) {
		fprintf(stderr, "rmon-loadgen: %s\n", e.msg);
		return 1;
	}
	size_t cap = (size_t)(series * o->rounds_per_batch);
	struct sample *batch = malloc(cap * sizeof *batch);
	uint64_t *ids = malloc((size_t)series * sizeof *ids);
	for (long s = 0; s < series; s++) {
		char value[24], name[SERIES_NAME_MAX + 1];
		snprintf(value, sizeof value, "%ld", s);
		struct series_label label = { "s", value };
		int len = series_canonical(name, sizeof name, o->host, "rmon_loadgen_value", &label,
					   1, &e);
		if (len < 0)
			break;
		ids[s] = series_id(name, (size_t)len);
		if (samples > 0 && shipper_define(sh, ids[s], name, &e) != 0)
			break;
	}
	size_t n = 0, batches = 0;
	for (long k = 0; k < samples && !e.msg[0]; k++) {
		for (long s = 0; s < series; s++)
			batch[n++] =
			    (struct sample){ ids[s], start + k * RTIME_NS_PER_MS, (double)k };
		if (n == cap || k == samples - 1) {
			if (shipper_send(sh, batch, n, &e) != 0)
				break;
			batches++;
			n = 0;
		}
		shipper_step(sh, 0, &e);
		if (pace_us)
			usleep((useconds_t)pace_us);
	}
	printf("spooled %zu\n", batches);
	fflush(stdout);
	int64_t deadline = rtime_mono_ns() + o->timeout_s * RTIME_NS_PER_SEC;
	struct shipper_stats st;
	int rc = e.msg[0] ? 1 : 0;
	for (;;) {
		shipper_get_stats(sh, &st);
		if (rc || st.spool.pending_batches == 0 || st.auth_refused ||
		    rtime_mono_ns() > deadline)
			break;
		shipper_step(sh, 50, &e);
	}
	if (e.msg[0])
		fprintf(stderr, "rmon-loadgen: %s\n", e.msg);
	if (st.spool.pending_batches) {
		fprintf(stderr, "rmon-loadgen: %llu batches not acknowledged: %s\n",
			(unsigned long long)st.spool.pending_batches, st.last_error);
		rc = 1;
	}
	printf("acked %llu dropped %llu\n", (unsigned long long)st.spool.acked,
	       (unsigned long long)st.spool.dropped_batches);
	shipper_close(sh);
	free(batch);
	free(ids);
	return rc;
}

int main(int argc, char **argv)
{
	struct ship_options ship_o = { .host = "loadgen", .rounds_per_batch = 1, .timeout_s = 120 };
	const char *data = NULL;
	int64_t series = 100, samples = 10000;
	int64_t start = rtime_now_ns() / RTIME_NS_PER_SEC * RTIME_NS_PER_SEC;
	bool no_wait = false;
	int64_t pace_us = 0;
	const struct cmdline_option options[] = {
		CMDLINE_DATA(&data),
		{ .name = "series",
		  .letter = 's',
		  .kind = CMDLINE_INT,
		  .field = &series,
		  .arg = "N",
		  .help = "how many series (default 100)" },
		{ .name = "samples",
		  .letter = 'n',
		  .kind = CMDLINE_INT,
		  .field = &samples,
		  .arg = "N",
		  .help = "samples per series (default 10000)" },
		{ .name = "start-ns",
		  .letter = 't',
		  .kind = CMDLINE_INT,
		  .field = &start,
		  .arg = "T",
		  .help = "the first timestamp (default: this second)" },
		{ .name = "no-wait",
		  .letter = 'w',
		  .kind = CMDLINE_FLAG,
		  .field = &no_wait,
		  .help = "drop what a full lane refuses instead of waiting" },
		{ .name = "pace-us",
		  .letter = 'p',
		  .kind = CMDLINE_INT,
		  .field = &pace_us,
		  .arg = "U",
		  .help = "sleep U microseconds after each round" },
		{ .name = "server",
		  .kind = CMDLINE_STRING,
		  .field = &ship_o.server,
		  .arg = "ADDR",
		  .help = "ship to the rmon-stored at ADDR instead" },
		{ .name = "spool",
		  .kind = CMDLINE_STRING,
		  .field = &ship_o.spool,
		  .arg = "DIR",
		  .help = "the shipper's spool folder" },
		{ .name = "host",
		  .kind = CMDLINE_STRING,
		  .field = &ship_o.host,
		  .arg = "NAME",
		  .help = "the host name to ship as (default loadgen)" },
		{ .name = "secret",
		  .kind = CMDLINE_STRING,
		  .field = &ship_o.secret,
		  .arg = "S",
		  .help = "the shared secret" },
		{ .name = "tls-ca",
		  .kind = CMDLINE_STRING,
		  .field = &ship_o.tls_ca,
		  .arg = "FILE",
		  .help = "use TLS, trusting the CA in FILE" },
		{ .name = "rounds-per-batch",
		  .kind = CMDLINE_INT,
		  .field = &ship_o.rounds_per_batch,
		  .arg = "R",
		  .help = "rounds in one batch (default 1)" },
		{ .name = "timeout",
		  .kind = CMDLINE_INT,
		  .field = &ship_o.timeout_s,
		  .arg = "S",
		  .help = "seconds to wait for the acks (default 120)" },
		{ 0 },
	};
	const struct cmdline cl = {
		.program = "rmon-loadgen",
		.synopsis =
		    "--data DIR [OPTIONS]\n       rmon-loadgen --server ADDR --spool DIR [OPTIONS]",
		.about = "Pushes a known sample set into the ring of DIR, or ships it as a\n"
			 "remote agent does; sample K of series I has time start + K ms, value K.",
		.options = options,
	};
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	bool wait = !no_wait;
	if (ship_o.server && ship_o.spool && series >= 1 && series <= 100000 && samples >= 0 &&
	    ship_o.rounds_per_batch >= 1)
		return ship(&ship_o, series, samples, start, pace_us);
	if (!data || series < 1 || series > 100000 || samples < 1) {
		cmdline_usage(&cl, stderr);
		return 2;
	}
	struct ring *r;
	struct ring_lane *lane;
	if (attach(data, &r, &lane) != 0)
		return 1;
	uint64_t *ids = malloc((size_t)series * sizeof *ids);
	struct sample *batch = malloc((size_t)series * sizeof *batch);
	struct err e = { 0 };
	for (long s = 0; s < series; s++) {
		char value[24], name[SERIES_NAME_MAX + 1];
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
			    (struct sample){ ids[s], start + k * RTIME_NS_PER_MS, (double)k };
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
