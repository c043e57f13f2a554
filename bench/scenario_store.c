/* scenario_store.c - `rmon-bench store`: the central store's durable
 * ingest beside the disk's own floor and its peers on the same samples
 * (victoria-metrics, promtool), bytes per sample, reads and readers
 * following the writer, the drain of rmon-stored --listen, retention, and
 * (--prom) the store's /metrics and remote_write.  The parts are in
 * store_*.c (store_parts.h); this file reads the options and makes the
 * tables. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench/dataset.h"
#include "bench/procstat.h"
#include "bench/scenarios.h"
#include "bench/store_parts.h"
#include "lib/cmdline.h"

struct store_options {
	bool ingest, reads, drain, retention, prom, tsbs;
	int64_t series, samples, scale, prom_series, prom_seconds;
};

static void ingest_table(struct bench_run *run, struct dataset *d, uint64_t rounds)
{
	struct ingest_figures in;
	struct peer_figures vm, pt;
	uint64_t series = dataset_series(d);
	store_ingest(run, d, rounds, &in);
	double floor = store_disk_floor(run, in.samples, in.commits);
	double plain = d->tsbs ? 0 : store_plain_lmdb(run, series, rounds / 3 ? rounds / 3 : 1);
	store_victoria(run, d, rounds, in.t0, &vm);
	store_promtool(run, series, rounds, &pt);

	struct bench_table *t = bench_table(
	    run, "store: durable ingest, %llu %s series x %llu samples (ring, WAL fdatasync, LMDB)",
	    (unsigned long long)series, dataset_what(d), (unsigned long long)rounds);
	double ours_per_core = in.cpu_s > 0 ? (double)in.samples / in.cpu_s : 0;
	bench_figure(t, "durable ingest (wall clock)", in.rate / 1e6, "M samples/s");
	bench_figure(t, "  per CPU-second of the drainer", ours_per_core / 1e6, "M samples/s");
	bench_figure(t, "disk floor: pwrite+fdatasync of the same bytes, as many commits",
		     floor / 1e6, "M samples/s");
	bench_ratio(t, "  ingest against the disk floor", in.rate, floor, "disk floor", 0);
	if (plain > 0) {
		bench_figure(t, "plain LMDB, a record per sample (baseline)", plain / 1e6,
			     "M samples/s");
		bench_ratio(t, "  ingest against plain LMDB", in.rate, plain, "plain LMDB", 0);
	}
	bench_figure(t, "group commits", (double)in.commits, "commits");
	bench_figure(t, "group commit, peek to durable, p50", (double)in.commit_p50 / 1e6, "ms");
	bench_figure(t, "group commit, peek to durable, p99", (double)in.commit_p99 / 1e6, "ms");
	bench_figure(t, "drainer memory growth", (double)in.rss_growth_kib / 1024, "MiB");
	bench_process_figures(t, "drainer (this process)", in.cpu_s,
			      procstat_kib(getpid(), "VmHWM:"));
	if (vm.ran) {
		double vm_per_core = vm.cpu_s > 0 ? (double)in.samples / vm.cpu_s : 0;
		bench_figure(t, "victoria-metrics: import API, then flushed (wall clock)",
			     vm.rate / 1e6, "M samples/s");
		bench_figure(t, "  per CPU-second of victoria-metrics", vm_per_core / 1e6,
			     "M samples/s");
		bench_ratio(t, "durable ingest per core against victoria-metrics", ours_per_core,
			    vm_per_core, "victoria-metrics", 10);
		bench_process_figures(t, "victoria-metrics", vm.cpu_s, vm.peak_kib);
		bench_note(t, "victoria-metrics does not fsync each request; its import here is "
			      "flushed once at the end (/internal/force_flush)");
	} else {
		bench_note(t, "%s: skipped", vm.why);
	}
	if (pt.ran) {
		bench_figure(t, "promtool tsdb bench write (its own samples/sec)", pt.rate / 1e6,
			     "M samples/s");
		bench_ratio(t, "durable ingest against promtool", in.rate, pt.rate, "promtool", 1);
		bench_process_figures(t, "promtool", pt.cpu_s, pt.peak_kib);
	} else {
		bench_note(t, "%s: skipped", pt.why);
	}

	double lmdb_closed_file, lmdb_closed_live;
	uint64_t closed_rounds = d->tsbs ? 720 : 7200; /* 2 h: the chunks close */
	struct dataset small;
	if (d->tsbs)
		dataset_tsbs(&small, d->hosts < 100 ? d->hosts : 100);
	else
		dataset_agent(&small, 10, 100);
	double closed =
	    store_closed_bytes(run, &small, closed_rounds, &lmdb_closed_file, &lmdb_closed_live);
	dataset_free(&small);
	t = bench_table(run, "store: bytes per sample, %s", dataset_what(d));
	bench_figure(t, "LMDB pages in use after the ingest above (open heads)", in.live_bytes,
		     "bytes/sample");
	bench_figure(t, "  of which chunks (keys and values)", in.chunk_bytes, "bytes/sample");
	bench_figure(t, "  the LMDB file (free pages too)", in.file_bytes, "bytes/sample");
	bench_figure(t, "closed chunks, 2 h of samples a series", closed, "bytes/sample");
	bench_figure(t, "  LMDB pages in use then", lmdb_closed_live, "bytes/sample");
	bench_figure(t, "  the LMDB file then", lmdb_closed_file, "bytes/sample");
	if (!d->tsbs) {
		uint64_t real_samples;
		double seconds = bench_opts(run)->quick ? 5 : 30;
		double real = store_agent_bytes(run, seconds, &real_samples);
		bench_goal(t, "real rmon-collectd output, 100 ms ticks, every chunk", real,
			   "bytes/sample", false, 1.0);
		bench_figure(t, "  samples of it", (double)real_samples, "samples");
	}
	if (vm.ran) {
		bench_figure(t, "victoria-metrics data folder once it stopped, same samples",
			     vm.bytes_per_sample, "bytes/sample");
		bench_figure(t, "  samples victoria-metrics answers for, of those sent",
			     vm.samples_held, "samples");
		bench_figure(t, "  samples sent", vm.samples_sent, "samples");
		bench_goal(t, "LMDB pages in use against victoria-metrics' folder, same samples",
			   in.live_bytes, "bytes/sample", false, vm.bytes_per_sample);
	}
	if (pt.ran)
		bench_figure(t, "promtool's folder after its run (its own samples, WAL and head)",
			     pt.bytes_per_sample, "bytes/sample");
}

int scenario_store(struct bench_run *run, int argc, char **argv)
{
	bool quick = bench_opts(run)->quick;
	struct store_options o = { .series = 10000, .scale = 0, .prom_series = 100000 };
	const struct cmdline_option options[] = {
		{ .name = "ingest",
		  .kind = CMDLINE_FLAG,
		  .field = &o.ingest,
		  .help = "durable ingest, its floor and peers, bytes per sample" },
		{ .name = "reads",
		  .kind = CMDLINE_FLAG,
		  .field = &o.reads,
		  .help = "reads, and readers following the writer" },
		{ .name = "drain",
		  .kind = CMDLINE_FLAG,
		  .field = &o.drain,
		  .help = "how soon rmon-stored --listen drains the ring, its idle CPU" },
		{ .name = "retention",
		  .kind = CMDLINE_FLAG,
		  .field = &o.retention,
		  .help = "what retention costs a checkpoint" },
		{ .name = "prom",
		  .kind = CMDLINE_FLAG,
		  .field = &o.prom,
		  .help = "/metrics of --prom-series series, remote_write into victoria-metrics" },
		{ .name = "tsbs",
		  .kind = CMDLINE_FLAG,
		  .field = &o.tsbs,
		  .help = "ingest the TSBS cpu-only shape (10 metrics a host, 10 s apart)" },
		{ .name = "scale",
		  .kind = CMDLINE_INT,
		  .field = &o.scale,
		  .arg = "HOSTS",
		  .help = "TSBS hosts (default 4000: 40,000 series; --quick 1000)",
		  .min = 1,
		  .max = 1000000 },
		{ .name = "series",
		  .kind = CMDLINE_INT,
		  .field = &o.series,
		  .arg = "N",
		  .help = "agent-like series to ingest, in hosts of 100 (default 10000)",
		  .min = 100,
		  .max = 10000000 },
		{ .name = "samples",
		  .kind = CMDLINE_INT,
		  .field = &o.samples,
		  .arg = "N",
		  .help = "samples a series (default: 3 M samples in all; --quick 600,000)",
		  .min = 3,
		  .max = 1000000 },
		{ .name = "prom-series",
		  .kind = CMDLINE_INT,
		  .field = &o.prom_series,
		  .arg = "N",
		  .help = "series in the store /metrics serves (default 100000)",
		  .min = 1,
		  .max = 10000000 },
		{ .name = "prom-seconds",
		  .kind = CMDLINE_INT,
		  .field = &o.prom_seconds,
		  .arg = "S",
		  .help = "seconds of each remote_write run (default 10; --quick 2)",
		  .min = 1,
		  .max = 3600 },
		{ 0 },
	};
	const struct cmdline cl = {
		.program = "rmon-bench store",
		.about =
		    "The store's durable ingest beside the disk's pwrite+fdatasync floor and\n"
		    "its peers on the same samples (victoria-metrics, promtool), bytes per\n"
		    "sample, reads, the drain, retention, /metrics and remote_write.  With no\n"
		    "part named, every part runs.",
		.options = options,
	};
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	bool all = !o.ingest && !o.reads && !o.drain && !o.retention && !o.prom;
	struct dataset d;
	if (o.tsbs)
		dataset_tsbs(&d, (uint32_t)(o.scale ? o.scale : quick ? 1000 : 4000));
	else
		dataset_agent(&d, (uint32_t)(o.series / 100), 100);
	uint64_t series = dataset_series(&d);
	uint64_t rounds = o.samples ? (uint64_t)o.samples : (quick ? 600000 : 3000000) / series;
	if (rounds < 3)
		rounds = 3;
	if (all || o.ingest)
		ingest_table(run, &d, rounds);
	dataset_free(&d);
	if (all || o.reads)
		store_reads(run, quick);
	if (all || o.drain)
		store_drain(run, quick ? 100 : 500);
	if (all || o.retention)
		store_retention(run, quick ? 2000 : 10000, 20);
	if (all || o.prom)
		store_prom(run, (uint64_t)o.prom_series,
			   o.prom_seconds ? (double)o.prom_seconds
			   : quick	  ? 2
					  : 10);
	return 0;
}
