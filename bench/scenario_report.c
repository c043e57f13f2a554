/* scenario_report.c - `rmon-bench report`: the report's cost.
 *   1. graphs: ours against `rrdtool graph` in the same run
 *      (bench/graphrace.h);
 *   2. the site: rmon-reportgen's whole site, reads and HTML included, for
 *      H synthetic hosts (bench/sitefill.h) with M mounts, I interfaces
 *      and D disks each (about 40 graphs a host with the defaults), every
 *      graph over the five ranges, written once from nothing; then, after
 *      one more minute of data, the refresh, which redraws only the graphs
 *      whose grid moved.  The full pass is the refresh's baseline, same
 *      store, same run.  Also weighs the pages and graphs against the
 *      goals of docs/reports.md.
 * Each part is skipped by giving its count 0. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/graphrace.h"
#include "bench/scenarios.h"
#include "bench/sitefill.h"
#include "lib/cmdline.h"
#include "lib/rtime.h"
#include "reportgen/report.h"
#include "store/drainer.h"

#define SEC RTIME_NS_PER_SEC

struct site_size {
	int64_t hosts, hours, mounts, interfaces, disks, processes;
};

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

static int fail(const char *what, const struct err *e)
{
	fprintf(stderr, "rmon-bench report: site: %s: %s\n", what, e->msg);
	return -1;
}

static int fill(const char *data, int64_t hosts, const struct sitefill *f)
{
	struct drainer_config c;
	struct drainer *d;
	struct err e = { 0 };
	drainer_config_default(&c, data);
	c.commit_interval_ns = 0;
	c.checkpoint_interval_ns = 3600 * SEC;
	c.self_interval_ns = 3600 * SEC;
	if (drainer_open(&c, &d, &e) != 0)
		return fail("drainer_open", &e);
	int rc = 0;
	for (int64_t h = 0; h < hosts && rc == 0; h++) {
		char name[32];
		snprintf(name, sizeof name, "host-%03lld", (long long)h);
		if (sitefill_host(d, f, name, 10 + (double)(h * 37 % 80), &e) != 0)
			rc = fail("sitefill_host", &e);
	}
	if (drainer_close(d, &e) != 0 && rc == 0)
		rc = fail("drainer_close", &e);
	return rc;
}

struct passes {
	struct report_stats full, refresh, idle;
	double full_cpu, refresh_cpu, idle_cpu;
};

static int timed_pass(struct report *r, int64_t now, struct report_stats *st, double *cpu)
{
	struct err e = { 0 };
	double c0 = cpu_s();
	if (report_pass(r, now, st, &e) != 0)
		return fail("report_pass", &e);
	*cpu = cpu_s() - c0;
	return 0;
}

/* The full pass, one more minute of data, the refresh, the same again. */
static int run_passes(struct bench_run *run, const char *dir, const char *out,
		      const struct site_size *z, struct sitefill *f, int64_t now, struct passes *p)
{
	struct report_options o = { .data_dir = dir,
				    .out_dir = out,
				    .processes = (int)z->processes };
	struct report *r;
	struct err e = { 0 };
	if (report_open(&o, &r, &e) != 0)
		return fail("report_open", &e);
	bench_progress(run, "site: the full pass", 0, "", 0, 0);
	int rc = timed_pass(r, now, &p->full, &p->full_cpu);
	f->end = now + 60 * SEC;
	f->span = 60 * SEC;
	if (rc == 0)
		rc = fill(dir, z->hosts, f);
	bench_progress(run, "site: the refresh a minute later", 0, "", 0, 0);
	if (rc == 0)
		rc = timed_pass(r, now + 60 * SEC, &p->refresh, &p->refresh_cpu);
	if (rc == 0)
		rc = timed_pass(r, now + 60 * SEC, &p->idle, &p->idle_cpu);
	bench_progress_done(run);
	report_close(r);
	return rc;
}

static void site_table(struct bench_run *run, const struct site_size *z, const struct passes *p,
		       const struct weights *w, double fill_s)
{
	double full_s = (double)p->full.elapsed_ns / 1e9;
	double refresh_s = (double)p->refresh.elapsed_ns / 1e9;
	double drawn = (double)(p->full.graphs_drawn ? p->full.graphs_drawn : 1);
	struct bench_table *t = bench_table(
	    run, "report: the site of %zu hosts (%lld h of 10 s data; %zu graphs, %zu pages)",
	    p->full.hosts, (long long)z->hours, p->full.graphs_drawn, p->full.pages_written);
	bench_figure(t, "store filled in", fill_s, "s");
	bench_figure(t, "full site, wall", full_s, "s");
	bench_figure(t, "full site, a graph", 1e3 * full_s / drawn, "ms");
	bench_figure(t, "full site, our CPU (gnuplot not counted)", p->full_cpu, "s");
	bench_goal(t, "full site scaled to 20,000 graphs", full_s * 20000 / drawn, "s", false, 45);
	bench_goal(t, "refresh a minute later", refresh_s, "s", false, 2);
	bench_ratio(t, "refresh / full pass", refresh_s, full_s, "full pass", 0);
	bench_figure(t, "refresh, our CPU", p->refresh_cpu, "s");
	bench_note(t, "the refresh drew %zu graphs, left %zu, wrote %zu pages",
		   p->refresh.graphs_drawn, p->refresh.graphs_skipped, p->refresh.pages_written);
	bench_figure(t, "the same pass again, nothing to draw", (double)p->idle.elapsed_ns / 1e9,
		     "s");
	double index_goal = 300 * (z->hosts > 100 ? (double)z->hosts / 100.0 : 1);
	bench_goal(t, "index.html", (double)w->index / 1024, "KB", false, index_goal);
	bench_goal(t, "largest host page", (double)w->host_max / 1024, "KB", false, 100);
	bench_figure(t, "graphs: SVG on average",
		     (double)w->svg_total / 1024 / (double)(w->svgs ? w->svgs : 1), "KB");
	bench_goal(t, "graphs: the largest SVG", (double)w->svg_max / 1024, "KB", false, 60);
}

static int measure_site(struct bench_run *run, const struct site_size *z)
{
	char dir[PATH_MAX], out[PATH_MAX + 16];
	snprintf(dir, sizeof dir, "%s/site", bench_scratch(run));
	snprintf(out, sizeof out, "%s/www", dir);
	if (mkdir(dir, 0700) != 0) {
		fprintf(stderr, "rmon-bench report: mkdir %s: %s\n", dir, strerror(errno));
		return -1;
	}
	int64_t now = rtime_now_ns() / SEC * SEC;
	struct sitefill f = { .end = now,
			      .span = z->hours * 3600 * SEC,
			      .step = 10 * SEC,
			      .mounts = (int)z->mounts,
			      .interfaces = (int)z->interfaces,
			      .disks = (int)z->disks };
	bench_progress(run, "site: filling the store", 0, "", 0, 0);
	int64_t t0 = rtime_mono_ns();
	if (fill(dir, z->hosts, &f) != 0)
		return -1;
	double fill_s = (double)(rtime_mono_ns() - t0) / 1e9;
	struct passes p = { 0 };
	if (run_passes(run, dir, out, z, &f, now, &p) != 0)
		return -1;
	struct weights w = { 0 };
	struct stat st;
	weigh(out, false, &w);
	snprintf(out + strlen(out), sizeof out - strlen(out), "/index.html");
	w.index = stat(out, &st) == 0 ? st.st_size : 0;
	site_table(run, z, &p, &w, fill_s);
	return 0;
}

int scenario_report(struct bench_run *run, int argc, char **argv)
{
	bool quick = bench_opts(run)->quick;
	int64_t series = quick ? 20 : 100, rounds = quick ? 1 : 3;
	struct site_size z = { quick ? 5 : 100, 2, 10, 10, 10, 0 };
	const struct cmdline_option options[] = {
		{ "series", 0, CMDLINE_INT, &series, "N",
		  "series drawn against rrdtool, each over 3 ranges (default 100, --quick 20; "
		  "0: none)",
		  0, 100000 },
		{ "rounds", 0, CMDLINE_INT, &rounds, "N",
		  "rounds, ours and rrdtool's in turn, best kept (default 3, --quick 1)", 1, 100 },
		{ "hosts", 'n', CMDLINE_INT, &z.hosts, "N",
		  "synthetic hosts of the site (default 100, --quick 5; 0: none)", 0, 100000 },
		{ "hours", 0, CMDLINE_INT, &z.hours, "N", "hours of 10 s data each (default 2)", 1,
		  8760 },
		{ "mounts", 0, CMDLINE_INT, &z.mounts, "N", "file systems a host (default 10)", 1,
		  100 },
		{ "interfaces", 0, CMDLINE_INT, &z.interfaces, "N",
		  "interfaces a host (default 10)", 1, 100 },
		{ "disks", 0, CMDLINE_INT, &z.disks, "N", "disks a host (default 10)", 1, 100 },
		{ "processes", 'p', CMDLINE_INT, &z.processes, "N",
		  "gnuplot and rrdtool processes (default 0: one per core)", 0, 64 },
		{ 0 },
	};
	const struct cmdline cl = {
		.program = "rmon-bench report",
		.about = "The report's graphs (band, line, threshold) drawn by lib/plot's gnuplot "
			 "pool,\nreads included, against `rrdtool graph` from RRD files of the "
			 "same data with\nthe same parallelism; then rmon-reportgen's whole site "
			 "and its refresh a\nminute later.",
		.options = options,
	};
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	size_t processes = z.processes > 0 ? (size_t)z.processes : cores > 0 ? (size_t)cores : 1;
	if (series > 0 && graphrace_measure(run, (size_t)series, processes, (int)rounds) != 0)
		return 1;
	if (z.hosts > 0 && measure_site(run, &z) != 0)
		return 1;
	return 0;
}
