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

int cmd_stats(int argc, char **argv)
{
	const char *data = CLI_DEFAULT_DATA;
	const struct cmdline_option options[] = { CMDLINE_DATA(&data), { 0 } };
	const struct cmdline cl = {
		.program = "rmon stats",
		.version = CLI_VERSION,
		.about = "Summarises the store in DIR (default " CLI_DEFAULT_DATA ").",
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
	struct latest rate = latest_of(q, "rmon_store_ingest_samples_per_second");
	struct latest agents = latest_of(q, "rmon_ingest_connections");
	query_close(q);
	uint64_t wal = wal_bytes(data);
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
	if (!isnan(rate.value))
		printf("ingest rate       %.0f samples/s\n", rate.value);
	if (!isnan(agents.value))
		printf("network agents    %.0f connected\n", agents.value);
	return 0;
}
