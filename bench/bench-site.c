/* bench-site.c - rmon-reportgen's whole site, reads and HTML included:
 * H synthetic hosts (bench/sitefill.h) with M mounts, I interfaces and D
 * disks each (about 40 graphs a host with the defaults), every graph over
 * the five ranges, written once from nothing; then, after one more minute
 * of data, the refresh, which redraws only the graphs whose grid moved.
 * The full pass is the refresh's baseline, same store, same run.  Also
 * weighs the pages and graphs against the goals of docs/reports.md.
 *
 * Usage: bench-site [--hosts N] [--hours N] [--mounts N] [--interfaces N]
 *                   [--disks N] [--processes N] [--quick]
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "bench/bench.h"
#include "bench/sitefill.h"
#include "lib/cmdline.h"
#include "lib/rtime.h"
#include "reportgen/report.h"
#include "store/drainer.h"

#define SEC RTIME_NS_PER_SEC

struct weights {
	off_t index, host_max, svg_max;
	off_t svg_total;
	size_t svgs;
};

static void weigh(const char *dir, bool in_hosts, struct weights *w)
{
	DIR *d = opendir(dir);
	char path[PATH_MAX];
	for (struct dirent *de; d && (de = readdir(d));) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		struct stat st;
		if (stat(path, &st) != 0)
			continue;
		size_t len = strlen(de->d_name);
		if (S_ISDIR(st.st_mode))
			weigh(path, in_hosts || strcmp(de->d_name, "hosts") == 0, w);
		else if (len > 4 && strcmp(de->d_name + len - 4, ".svg") == 0) {
			w->svgs++;
			w->svg_total += st.st_size;
			w->svg_max = st.st_size > w->svg_max ? st.st_size : w->svg_max;
		} else if (in_hosts && len > 5 && strcmp(de->d_name + len - 5, ".html") == 0)
			w->host_max = st.st_size > w->host_max ? st.st_size : w->host_max;
	}
	if (d)
		closedir(d);
}

/* CPU seconds of this process (reads, pages, writing plot's scripts; not
 * gnuplot's), steadier than wall time on a shared machine. */
static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void fill(const char *data, int64_t hosts, const struct sitefill *f)
{
	struct drainer_config c;
	struct drainer *d;
	struct err e = { 0 };
	drainer_config_default(&c, data);
	c.commit_interval_ns = 0;
	c.checkpoint_interval_ns = 3600 * SEC;
	c.self_interval_ns = 3600 * SEC;
	if (drainer_open(&c, &d, &e) != 0)
		bench_die("drainer_open: %s", e.msg);
	for (int64_t h = 0; h < hosts; h++) {
		char name[32];
		snprintf(name, sizeof name, "host-%03lld", (long long)h);
		if (sitefill_host(d, f, name, 10 + (double)(h * 37 % 80), &e) != 0)
			bench_die("sitefill_host: %s", e.msg);
	}
	if (drainer_close(d, &e) != 0)
		bench_die("drainer_close: %s", e.msg);
}

int main(int argc, char **argv)
{
	int64_t hosts = 100, hours = 2, mounts = 10, interfaces = 10, disks = 10, processes = 0;
	bool quick = false;
	const struct cmdline_option options[] = {
		{ "hosts", 'n', CMDLINE_INT, &hosts, "N", "synthetic hosts (default 100)", 1,
		  100000 },
		{ "hours", 0, CMDLINE_INT, &hours, "N", "hours of 10 s data each (default 2)", 1,
		  8760 },
		{ "mounts", 0, CMDLINE_INT, &mounts, "N", "file systems a host (default 10)", 1,
		  100 },
		{ "interfaces", 0, CMDLINE_INT, &interfaces, "N", "interfaces a host (default 10)",
		  1, 100 },
		{ "disks", 0, CMDLINE_INT, &disks, "N", "disks a host (default 10)", 1, 100 },
		{ "processes", 'p', CMDLINE_INT, &processes, "N",
		  "gnuplot processes (default 0: one per core)", 0, 64 },
		{ "quick", 'q', CMDLINE_FLAG, &quick, NULL, "10 hosts, for a smoke run", 0, 0 },
		{ 0 },
	};
	const struct cmdline cl = { .program = "bench-site",
				    .about = "rmon-reportgen's whole site, then its refresh a "
					     "minute later.",
				    .options = options };
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	if (quick)
		hosts = 10;
	char dir[] = "/tmp/bench-site-XXXXXX", out[300];
	if (!mkdtemp(dir))
		bench_die("mkdtemp: %s", strerror(errno));
	snprintf(out, sizeof out, "%s/www", dir);
	int64_t now = rtime_now_ns() / SEC * SEC;
	struct sitefill f = { .end = now,
			      .span = hours * 3600 * SEC,
			      .step = 10 * SEC,
			      .mounts = (int)mounts,
			      .interfaces = (int)interfaces,
			      .disks = (int)disks };
	int64_t t0 = rtime_mono_ns();
	fill(dir, hosts, &f);
	printf("bench-site: %lld hosts x %lld h of 10 s data stored in %.1f s\n", (long long)hosts,
	       (long long)hours, (double)(rtime_mono_ns() - t0) / 1e9);
	struct report_options o = { .data_dir = dir, .out_dir = out, .processes = (int)processes };
	struct report *r;
	struct report_stats full, refresh;
	struct err e = { 0 };
	double c0 = cpu_s();
	if (report_open(&o, &r, &e) != 0 || report_pass(r, now, &full, &e) != 0)
		bench_die("report: %s", e.msg);
	double full_cpu = cpu_s() - c0;
	/* One more minute of data, then the refresh a minute later. */
	f.end = now + 60 * SEC;
	f.span = 60 * SEC;
	fill(dir, hosts, &f);
	struct report_stats idle;
	c0 = cpu_s();
	if (report_pass(r, now + 60 * SEC, &refresh, &e) != 0)
		bench_die("report: %s", e.msg);
	double refresh_cpu = cpu_s() - c0;
	c0 = cpu_s();
	if (report_pass(r, now + 60 * SEC, &idle, &e) != 0)
		bench_die("report: %s", e.msg);
	double idle_cpu = cpu_s() - c0;
	report_close(r);
	struct weights w = { 0 };
	struct stat st;
	weigh(out, false, &w);
	snprintf(out + strlen(out), sizeof out - strlen(out), "/index.html");
	w.index = stat(out, &st) == 0 ? st.st_size : 0;
	double full_s = (double)full.elapsed_ns / 1e9, refresh_s = (double)refresh.elapsed_ns / 1e9;
	double per_20k = full_s * 20000 / (double)(full.graphs_drawn ? full.graphs_drawn : 1);
	printf("\n| measure | figure | goal | |\n| --- | --- | --- | --- |\n");
	printf("| full site: %zu hosts, %zu graphs, %zu pages | %.2f s (%.2f ms a graph); our CPU "
	       "%.2f s | | |\n",
	       full.hosts, full.graphs_drawn, full.pages_written, full_s,
	       1e3 * full_s / (double)(full.graphs_drawn ? full.graphs_drawn : 1), full_cpu);
	printf("| the same for 20,000 graphs | %.1f s | <= 45 s | %s |\n", per_20k,
	       bench_verdict(per_20k <= 45));
	printf(
	    "| refresh a minute later: %zu graphs drawn, %zu current, %zu pages written | %.2f s "
	    "(%.1f %% of the full pass); our CPU %.2f s | <= 2 s | %s |\n",
	    refresh.graphs_drawn, refresh.graphs_skipped, refresh.pages_written, refresh_s,
	    100 * refresh_s / full_s, refresh_cpu, bench_verdict(refresh_s <= 2));
	printf("| the same pass again: %zu graphs drawn, %zu pages written (reads, pages, no "
	       "drawing) | %.2f s; our CPU %.2f s | | |\n",
	       idle.graphs_drawn, idle.pages_written, (double)idle.elapsed_ns / 1e9, idle_cpu);
	printf("| index.html | %.1f KB | <= 300 KB with 100 hosts | %s |\n", (double)w.index / 1024,
	       bench_verdict(w.index <= 300 * 1024 * (hosts > 100 ? hosts / 100.0 : 1)));
	printf("| largest host page | %.1f KB | <= 100 KB | %s |\n", (double)w.host_max / 1024,
	       bench_verdict(w.host_max <= 100 * 1024));
	printf(
	    "| graphs: %zu SVG files | %.1f KB on average, %.1f KB the largest | <= 60 KB | %s |\n",
	    w.svgs, (double)w.svg_total / 1024 / (double)(w.svgs ? w.svgs : 1),
	    (double)w.svg_max / 1024, bench_verdict(w.svg_max <= 60 * 1024));
	bench_remove_tree(dir);
	return 0;
}
