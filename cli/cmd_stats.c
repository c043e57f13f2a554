/* cmd_stats.c - `rmon stats`: how much the store holds and what it costs. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "lib/cmdline.h"
#include "lib/rtime.h"

/* Bytes the WAL segments take on disk. */
static uint64_t wal_bytes(const char *data)
{
	char dir[4096], path[8192];
	snprintf(dir, sizeof dir, "%s/wal", data);
	DIR *d = opendir(dir);
	uint64_t total = 0;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if (strstr(de->d_name, ".wal") && stat(path, &st) == 0)
			total += (uint64_t)st.st_blocks * 512;
	}
	if (d)
		closedir(d);
	return total;
}

struct latest {
	struct query *q;
	double value;
	int64_t ts;
};

/* Keeps the newest of the series' latest values if it is recent. */
static int read_latest(void *ctx, uint64_t id, const char *name, size_t len)
{
	struct latest *l = ctx;
	struct query_latest got;
	if (query_latest(l->q, &id, 1, &got, NULL) == 0 && got.ts > l->ts &&
	    got.ts >= rtime_now_ns() - 120 * RTIME_NS_PER_SEC) {
		l->value = got.value;
		l->ts = got.ts;
	}
	return 0;
}

/* The newest value of the store's own series `metric` (NaN when none). */
static struct latest latest_of(struct query *q, const char *metric)
{
	struct latest l = { q, NAN, INT64_MIN };
	struct query_selector *sel;
	struct err e = { 0 };
	if (query_selector_parse(metric, &sel, &e) == 0) {
		query_series(q, sel, read_latest, &l, &e);
		query_selector_free(sel);
	}
	return l;
}

/* The store's own series rmon_stats shows, read once. */
enum {
	RATE,
	RING_DROPPED,
	UNKNOWN,
	REFUSED_NAMES,
	AGENTS,
	RECEIVED,
	REFUSED,
	OWNERSHIP,
	OVER_LIMIT,
	STALLED,
	EVICTED,
	THROTTLED,
	FUTURE,
	N_FIGURES
};

static const char *const figure_metric[N_FIGURES] = {
	[RATE] = "rmon_store_ingest_samples_per_second",
	[RING_DROPPED] = "rmon_ring_dropped_total",
	[UNKNOWN] = "rmon_store_unknown_series_samples_total",
	[REFUSED_NAMES] = "rmon_store_refused_series_samples_total",
	[AGENTS] = "rmon_ingest_connections",
	[RECEIVED] = "rmon_ingest_samples_total",
	[REFUSED] = "rmon_ingest_refused_total",
	[OWNERSHIP] = "rmon_ingest_ownership_refused_total",
	[OVER_LIMIT] = "rmon_ingest_over_limit_total",
	[STALLED] = "rmon_ingest_stalled_total",
	[EVICTED] = "rmon_ingest_evicted_total",
	[THROTTLED] = "rmon_ingest_throttled_total",
	[FUTURE] = "rmon_ingest_future_dropped_total",
};

/* A count for the table: "-" when the store did not record it. */
static const char *count(char *buf, size_t cap, double v)
{
	if (isnan(v))
		snprintf(buf, cap, "-");
	else
		snprintf(buf, cap, "%.0f", v);
	return buf;
}

int cmd_stats(int argc, char **argv)
{
	const char *data = paths_data();
	const struct cmdline_option options[] = { CMDLINE_DATA(&data), { 0 } };
	const struct cmdline cl = {
		.program = "rmon stats",
		.version = CLI_VERSION,
		.about = "Summarises the store in DIR (default " CLI_DEFAULT_DATA
			 "): what it holds, what it dropped, whether a full disk pauses it, "
			 "and with --listen its network side.",
		.options = options,
	};
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	struct query *q = cli_open_store("stats", data);
	if (!q)
		return 1;
	struct query_stats st;
	struct err e = { 0 };
	if (query_begin(q, &e) != 0 || query_get_stats(q, &st, &e) != 0) {
		fprintf(stderr, "rmon stats: %s\n", e.msg);
		query_close(q);
		return 1;
	}
	double f[N_FIGURES];
	for (int i = 0; i < N_FIGURES; i++)
		f[i] = latest_of(q, figure_metric[i]).value;
	query_close(q);
	uint64_t wal = wal_bytes(data);
	char w[3][32];
	if (st.wal_full)
		printf("DISK FULL         under the WAL: draining stopped until space returns "
		       "(agents keep or drop samples meanwhile)\n");
	if (st.db_full)
		printf("DISK FULL         under the database: commits paused until space returns "
		       "(samples wait in the WAL; what follows is as of the last commit)\n");
	printf("series            %llu\n", (unsigned long long)st.series);
	printf("samples           %llu\n", (unsigned long long)st.samples);
	printf("duplicates        %llu skipped\n", (unsigned long long)st.duplicates);
	printf("out of order      %llu skipped\n", (unsigned long long)st.out_of_order);
	printf("chunks            %.1f MiB, %.2f bytes per sample\n",
	       (double)st.chunk_bytes / 1048576.0,
	       st.samples ? (double)st.chunk_bytes / (double)st.samples : 0.0);
	printf("lmdb file         %.1f MiB\n", (double)st.file_bytes / 1048576.0);
	printf("wal               %.1f MiB, applied up to position %llu\n", (double)wal / 1048576.0,
	       (unsigned long long)st.applied_position);
	if (!isnan(f[RATE]))
		printf("ingest rate       %.0f samples/s\n", f[RATE]);
	if (!isnan(f[RING_DROPPED]) || !isnan(f[UNKNOWN]) || !isnan(f[REFUSED_NAMES]))
		printf("dropped           %.0f samples (ring full %s, unknown series %s, names "
		       "refused %s)\n",
		       (isnan(f[RING_DROPPED]) ? 0 : f[RING_DROPPED]) +
			   (isnan(f[UNKNOWN]) ? 0 : f[UNKNOWN]) +
			   (isnan(f[REFUSED_NAMES]) ? 0 : f[REFUSED_NAMES]),
		       count(w[0], sizeof w[0], f[RING_DROPPED]),
		       count(w[1], sizeof w[1], f[UNKNOWN]),
		       count(w[2], sizeof w[2], f[REFUSED_NAMES]));
	if (isnan(f[AGENTS])) /* the store does not listen (or did not lately) */
		return 0;
	printf("network agents    %.0f connected, %s samples received\n", f[AGENTS],
	       count(w[0], sizeof w[0], f[RECEIVED]));
	static const struct {
		int figure;
		const char *label, *what;
	} rows[] = {
		{ REFUSED, "closed", "connections (bad credentials, frames or limits)" },
		{ OWNERSHIP, "not own series", "frames or definitions refused" },
		{ OVER_LIMIT, "over limit", "frames over max_frame, series over max_series" },
		{ STALLED, "stalled",
		  "connections closed, a frame unfinished after frame_timeout" },
		{ EVICTED, "evicted", "unauthenticated connections, over handshake_memory" },
		{ THROTTLED, "throttled", "times paused by max_rate" },
		{ FUTURE, "future", "samples dropped, stamped beyond max_future" },
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		printf("  %-15s %s %s\n", rows[i].label,
		       count(w[0], sizeof w[0], f[rows[i].figure]), rows[i].what);
	return 0;
}
