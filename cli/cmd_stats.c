/* cmd_stats.c - `rmon stats`: how much the store holds and what it costs. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "lib/cmdline.h"
#include "lib/rtime.h"
#include "store/db.h"

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
	double value;
	int64_t ts;
};

static int keep_last(void *ctx, int64_t ts, double value)
{
	struct latest *l = ctx;
	l->value = value;
	l->ts = ts;
	return 0;
}

struct rate {
	struct query *q;
	struct latest latest;
};

static int read_rate(void *ctx, uint64_t id, const char *name, size_t len)
{
	struct rate *r = ctx;
	int64_t now = rtime_now_ns();
	return query_raw(r->q, id, now - 120 * RTIME_NS_PER_SEC, now + RTIME_NS_PER_SEC, keep_last,
			 &r->latest, NULL, NULL);
}

/* The newest value of the store's own series `metric` (NaN when none). */
static struct rate latest_of(struct query *q, const char *metric)
{
	struct rate r = { q, { NAN, 0 } };
	struct query_selector *sel;
	struct err e = { 0 };
	if (query_selector_parse(metric, &sel, &e) == 0) {
		query_series(q, sel, read_rate, &r, &e);
		query_selector_free(sel);
	}
	return r;
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
	char path[4096];
	snprintf(path, sizeof path, "%s/db", data);
	struct db_config config;
	db_config_default(&config);
	struct db *db;
	struct db_stats st;
	struct err e = { 0 };
	if (db_open(path, &config, true, &db, &e) != 0 || db_get_stats(db, &st, &e) != 0) {
		fprintf(stderr, "rmon stats: %s\n", e.msg);
		query_close(q);
		return 1;
	}
	db_close(db);
	struct rate rate = latest_of(q, "rmon_store_ingest_samples_per_second");
	struct rate agents = latest_of(q, "rmon_ingest_connections");
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
	if (!isnan(rate.latest.value))
		printf("ingest rate       %.0f samples/s\n", rate.latest.value);
	if (!isnan(agents.latest.value))
		printf("network agents    %.0f connected\n", agents.latest.value);
	return 0;
}
