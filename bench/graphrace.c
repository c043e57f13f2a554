/* graphrace.c - our graphs against `rrdtool graph`; see graphrace.h. */
#include "bench/graphrace.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/plot.h"
#include "lib/rtime.h"
#include "store/db.h"
#include "store/query.h"

#define SEC RTIME_NS_PER_SEC

extern char **environ;

enum { STEP_S = 10, DAY_S = 86400, WIDTH = 800, HEIGHT = 250 };
static const int64_t ranges[] = { 3600, 6 * 3600, DAY_S };
enum { RANGES = sizeof ranges / sizeof *ranges };

struct race {
	char dir[4096];
	int64_t t_end; /* seconds, a multiple of STEP_S */
	size_t series, processes;
};

/* One side's best round. */
struct side {
	double wall, cpu, bytes, reads;
};

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;
	fputs("rmon-bench report: graphs: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/* CPU-like: a slow wave, a daily swing and noise, the same for both. */
static double value_of(uint64_t series, int64_t t)
{
	uint64_t h = (uint64_t)t * 0x9e3779b97f4a7c15u ^ series * 0xbf58476d1ce4e5b9u;
	h ^= h >> 31;
	return 50 + 25 * sin((double)t / (3000 + 100 * (double)series)) +
	       10 * sin((double)t / 13000) + (double)(h % 1000) / 100;
}

static int fill_store(const struct race *r)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/store", r->dir);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/store/db", r->dir);
	struct db_config c;
	db_config_default(&c);
	struct db *db;
	struct err e = { 0 };
	if (db_open(path, &c, false, &db, &e))
		return fail("%s", e.msg);
	struct sample *batch = malloc(r->series * sizeof *batch);
	int rc = batch ? 0 : fail("out of memory");
	for (size_t s = 0; rc == 0 && s < r->series; s++) {
		char name[64];
		int len = snprintf(name, sizeof name, "bench/cpu{n=\"%zu\"}", s);
		if (db_register_series(db, s + 1, name, (size_t)len, &e))
			rc = fail("%s", e.msg);
	}
	uint64_t k = 0;
	for (int64_t t = r->t_end - DAY_S; rc == 0 && t < r->t_end; t += STEP_S, k++) {
		for (size_t s = 0; s < r->series; s++)
			batch[s] = (struct sample){ s + 1, t * SEC, value_of(s, t) };
		if (db_append(db, batch, r->series, &e) || (k % 360 == 359 && db_commit(db, k, &e)))
			rc = fail("%s", e.msg);
	}
	if (rc == 0 && db_commit(db, k, &e))
		rc = fail("%s", e.msg);
	db_close(db);
	free(batch);
	return rc;
}

/* CPU seconds used so far by this process and its reaped children: the
 * figure that the other users of a shared machine do not move. */
static double cpu_seconds(void)
{
	struct rusage self, children;
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &children);
	return (double)(self.ru_utime.tv_sec + self.ru_stime.tv_sec + children.ru_utime.tv_sec +
			children.ru_stime.tv_sec) +
	       (double)(self.ru_utime.tv_usec + self.ru_stime.tv_usec + children.ru_utime.tv_usec +
			children.ru_stime.tv_usec) /
		   1e6;
}

/* The average size of the SVG files prefix-S-R.svg, or -1 when one is missing. */
static double average_size(const struct race *r, const char *prefix)
{
	uint64_t total = 0;
	for (size_t s = 0; s < r->series; s++) {
		for (size_t k = 0; k < RANGES; k++) {
			char path[4300];
			struct stat st;
			snprintf(path, sizeof path, "%s/%s-%zu-%zu.svg", r->dir, prefix, s, k);
			if (stat(path, &st)) {
				fail("no %s was written", path);
				return -1;
			}
			total += (uint64_t)st.st_size;
		}
	}
	return (double)total / (double)(r->series * RANGES);
}

/* ---- rrdtool - ---- */

struct rrd_proc {
	pid_t pid;
	FILE *in;
	int out;
	char line[4096];
	size_t len;
	int waiting; /* commands sent, OK or ERROR not read yet */
};

static bool rrd_start(struct rrd_proc *r)
{
	int in[2], out[2];
	if (pipe2(in, O_CLOEXEC))
		return false;
	if (pipe2(out, O_CLOEXEC)) {
		close(in[0]);
		close(in[1]);
		return false;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, out[1], 2);
	char *argv[] = { "rrdtool", "-", NULL };
	int rc = posix_spawnp(&r->pid, "rrdtool", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(out[1]);
	if (rc) {
		close(in[1]);
		close(out[0]);
		return false;
	}
	r->in = fdopen(in[1], "w");
	r->out = out[0];
	r->len = 0;
	r->waiting = 0;
	return true;
}

/* Reads what r printed; each OK or ERROR line ends one command. */
static int rrd_read(struct rrd_proc *r)
{
	char buf[8192];
	ssize_t n = read(r->out, buf, sizeof buf);
	if (n <= 0)
		return fail("rrdtool (pid %d) went away", (int)r->pid);
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] != '\n') {
			if (r->len + 1 < sizeof r->line)
				r->line[r->len++] = buf[i];
			continue;
		}
		r->line[r->len] = '\0';
		if (strncmp(r->line, "ERROR", 5) == 0)
			return fail("rrdtool: %s", r->line);
		if (strncmp(r->line, "OK", 2) == 0)
			r->waiting--;
		r->len = 0;
	}
	return 0;
}

/* Waits until no process has more than `most` commands unanswered. */
static int rrd_wait(struct rrd_proc *procs, size_t n, int most)
{
	for (;;) {
		struct pollfd fds[n];
		bool busy = false;
		for (size_t i = 0; i < n; i++) {
			fds[i] = (struct pollfd){ .fd = procs[i].out, .events = POLLIN };
			busy |= procs[i].waiting > most;
		}
		if (!busy)
			return 0;
		if (poll(fds, n, 60000) <= 0)
			return fail("rrdtool did not answer in 60 s");
		for (size_t i = 0; i < n; i++)
			if (fds[i].revents && rrd_read(&procs[i]) != 0)
				return -1;
	}
}

static void rrd_stop(struct rrd_proc *r)
{
	fclose(r->in);
	close(r->out);
	waitpid(r->pid, NULL, 0);
}

static int fill_rrds(const struct race *r)
{
	struct rrd_proc p;
	if (!rrd_start(&p))
		return fail("rrdtool: cannot start");
	int rc = 0;
	for (size_t s = 0; rc == 0 && s < r->series; s++) {
		/* one row a step, 8640 of them: rrdtool reduces them to the
		 * graph's pixels itself, min by MIN, max by MAX */
		fprintf(p.in,
			"create %s/rrd-%zu.rrd --start %lld --step %d DS:v:GAUGE:%d:U:U "
			"RRA:AVERAGE:0.5:1:%d RRA:MIN:0.5:1:%d RRA:MAX:0.5:1:%d\n",
			r->dir, s, (long long)(r->t_end - DAY_S - STEP_S), STEP_S, 3 * STEP_S,
			DAY_S / STEP_S, DAY_S / STEP_S, DAY_S / STEP_S);
		p.waiting++;
		int64_t t = r->t_end - DAY_S;
		while (t < r->t_end) {
			fprintf(p.in, "update %s/rrd-%zu.rrd", r->dir, s);
			for (int k = 0; k < 500 && t < r->t_end; k++, t += STEP_S)
				fprintf(p.in, " %lld:%.6g", (long long)t, value_of(s, t));
			fputc('\n', p.in);
			p.waiting++;
		}
		fflush(p.in);
		rc = rrd_wait(&p, 1, 0);
	}
	rrd_stop(&p);
	return rc;
}

/* Sends one graph command to the least busy process. */
static void rrd_graph(const struct race *r, struct rrd_proc *procs, size_t s, size_t k)
{
	struct rrd_proc *p = &procs[0];
	for (size_t i = 1; i < r->processes; i++)
		if (procs[i].waiting < p->waiting)
			p = &procs[i];
	const char *f = r->dir;
	fprintf(p->in,
		"graph %s/rrd-%zu-%zu.svg --imgformat SVG --start %lld --end %lld "
		"--width %d --height %d --title 'cpu %zu' "
		"DEF:avg=%s/rrd-%zu.rrd:v:AVERAGE DEF:mn=%s/rrd-%zu.rrd:v:MIN "
		"DEF:mx=%s/rrd-%zu.rrd:v:MAX CDEF:reach=mx,mn,- AREA:mn#00000000 "
		"STACK:reach#3b82f640 LINE1.5:avg#3b82f6:used HRULE:90#dc2626:dashes\n",
		f, s, k, (long long)(r->t_end - ranges[k]), (long long)r->t_end,
		(int)plot_windows(WIDTH), HEIGHT - 70, s, f, s, f, s, f, s);
	fflush(p->in);
	p->waiting++;
}

static int rrd_graphs(const struct race *r, struct side *out)
{
	double cpu_before = cpu_seconds();
	struct rrd_proc procs[r->processes];
	size_t started = 0;
	int rc = 0;
	for (; started < r->processes; started++)
		if (!rrd_start(&procs[started])) {
			rc = fail("rrdtool: cannot start");
			break;
		}
	int64_t start = rtime_mono_ns();
	for (size_t s = 0; rc == 0 && s < r->series; s++)
		for (size_t k = 0; rc == 0 && k < RANGES; k++)
			if ((rc = rrd_wait(procs, r->processes, 3)) == 0)
				rrd_graph(r, procs, s, k);
	if (rc == 0)
		rc = rrd_wait(procs, r->processes, 0);
	int64_t took = rtime_mono_ns() - start;
	for (size_t i = 0; i < started; i++)
		rrd_stop(&procs[i]);
	out->cpu = cpu_seconds() - cpu_before;
	out->wall = (double)took / 1e9;
	if (rc == 0 && (out->bytes = average_size(r, "rrd")) < 0)
		rc = -1;
	return rc;
}

/* ---- ours ---- */

/* Reads and draws graph k of series s. */
static int our_graph(const struct race *r, struct plot_pool *pool, struct query *q, size_t s,
		     size_t k, double *out[QUERY_AGGS], int64_t *reading)
{
	static const double limit = 90;
	struct err e = { 0 };
	size_t cap = plot_windows(WIDTH);
	/* a window a pixel, but none shorter than the data's own step: an
	 * empty window would be a gap in the line */
	int64_t step = ranges[k] * SEC / (int64_t)cap;
	if (step < STEP_S * SEC)
		step = STEP_S * SEC;
	size_t n = (size_t)(ranges[k] * SEC / step);
	int64_t from = (r->t_end - ranges[k]) * SEC;
	int64_t t0 = rtime_mono_ns();
	if (query_range_multi(q, s + 1, from, r->t_end * SEC, step, out, n, &e))
		return fail("%s", e.msg);
	*reading += rtime_mono_ns() - t0;
	char path[4300], title[64];
	snprintf(path, sizeof path, "%s/plot-%zu-%zu.svg", r->dir, s, k);
	snprintf(title, sizeof title, "cpu %zu", s);
	struct plot_line line = { "used", out[QUERY_AVG], out[QUERY_MIN], out[QUERY_MAX],
				  plot_colour_for("user") };
	struct plot_graph g = { .path = path,
				.format = PLOT_SVG,
				.width = WIDTH,
				.height = HEIGHT,
				.title = title,
				.unit = PLOT_UNIT_PERCENT,
				.from = from,
				.step = step,
				.n = n,
				.lines = &line,
				.n_lines = 1,
				.thresholds = &limit,
				.n_thresholds = 1,
				.ymin = NAN,
				.ymax = NAN };
	return plot_draw(pool, &g, &e) ? fail("%s", e.msg) : 0;
}

static int our_graphs(const struct race *r, struct side *out)
{
	double cpu_before = cpu_seconds();
	struct plot_pool *pool = NULL;
	struct query *q = NULL;
	struct err e = { 0 };
	char data[4200];
	snprintf(data, sizeof data, "%s/store", r->dir);
	size_t cap = plot_windows(WIDTH);
	double *mn = malloc(cap * sizeof *mn), *mx = malloc(cap * sizeof *mx),
	       *avg = malloc(cap * sizeof *avg);
	double *aggs[QUERY_AGGS] = { [QUERY_AVG] = avg, [QUERY_MIN] = mn, [QUERY_MAX] = mx };
	int64_t reading = 0, start = rtime_mono_ns();
	int rc = 0;
	if (!mn || !mx || !avg)
		rc = fail("out of memory");
	else if (plot_pool_new((int)r->processes, &pool, &e) || query_open(data, &q, &e) ||
		 query_begin(q, &e))
		rc = fail("%s", e.msg);
	for (size_t s = 0; rc == 0 && s < r->series; s++)
		for (size_t k = 0; rc == 0 && k < RANGES; k++)
			rc = our_graph(r, pool, q, s, k, aggs, &reading);
	if (q && rc == 0)
		query_end(q);
	if (rc == 0 && plot_wait(pool, &e))
		rc = fail("%s", e.msg);
	int64_t took = rtime_mono_ns() - start;
	if (pool)
		plot_pool_free(pool);
	out->cpu = cpu_seconds() - cpu_before;
	if (q)
		query_close(q);
	free(mn);
	free(mx);
	free(avg);
	out->wall = (double)took / 1e9;
	out->reads = (double)reading / 1e9;
	if (rc == 0 && (out->bytes = average_size(r, "plot")) < 0)
		rc = -1;
	return rc;
}

static bool have(const char *program)
{
	char cmd[200];
	snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", program);
	return system(cmd) == 0;
}

static void keep_best(struct side *best, const struct side *round)
{
	best->wall = fmin(best->wall, round->wall);
	best->cpu = fmin(best->cpu, round->cpu);
	best->reads = fmin(best->reads, round->reads);
	best->bytes = round->bytes;
}

static void report(struct bench_run *run, const struct race *r, int rounds, bool rrd,
		   const struct side *ours, const struct side *theirs)
{
	double graphs = (double)(r->series * RANGES);
	struct bench_table *t = bench_table(
	    run,
	    "report: %zu graphs (%zu series of 1 day at 10 s over 1 h, 6 h, 1 day; band, "
	    "line, threshold; %d px), %zu processes, best of %d rounds",
	    r->series * RANGES, r->series, WIDTH, r->processes, rounds);
	bench_figure(t, "ours: wall, reads included", ours->wall, "s");
	bench_figure(t, "ours: wall a graph", ours->wall * 1e3 / graphs, "ms");
	bench_figure(t, "ours: CPU a graph (gnuplot included)", ours->cpu * 1e3 / graphs, "ms");
	bench_figure(t, "ours: reads a graph", ours->reads * 1e3 / graphs, "ms");
	bench_goal(t, "ours: SVG a graph", ours->bytes / 1024, "KB", false, 60);
	if (!rrd) {
		bench_note(t, "rrdtool not installed (Debian: rrdtool): the peer was skipped");
		return;
	}
	bench_figure(t, "rrdtool graph: wall", theirs->wall, "s");
	bench_figure(t, "rrdtool graph: CPU a graph", theirs->cpu * 1e3 / graphs, "ms");
	bench_figure(t, "rrdtool graph: SVG a graph", theirs->bytes / 1024, "KB");
	/* the ratio is how many times faster ours is: theirs / ours */
	bench_ratio(t, "faster than rrdtool graph, wall", theirs->wall, ours->wall, "rrdtool graph",
		    2);
	bench_ratio(t, "less CPU than rrdtool graph", theirs->cpu, ours->cpu, "rrdtool graph", 0);
}

int graphrace_measure(struct bench_run *run, size_t series, size_t processes, int rounds)
{
	struct race r = { .series = series, .processes = processes };
	snprintf(r.dir, sizeof r.dir, "%s/graphs", bench_scratch(run));
	if (mkdir(r.dir, 0700) != 0)
		return fail("mkdir %s: %s", r.dir, strerror(errno));
	r.t_end = rtime_now_ns() / SEC / STEP_S * STEP_S;
	bench_progress(run, "graphs: filling the store and the RRD files", 0, "", 0, 0);
	if (fill_store(&r) != 0)
		return -1;
	bool rrd = have("rrdtool");
	if (rrd && fill_rrds(&r) != 0)
		return -1;
	struct side ours = { INFINITY, INFINITY, 0, INFINITY };
	struct side theirs = { INFINITY, INFINITY, 0, INFINITY };
	int64_t start = rtime_mono_ns();
	for (int k = 0; k < rounds; k++) {
		struct side round = { 0 };
		if (our_graphs(&r, &round) != 0)
			return -1;
		keep_best(&ours, &round);
		if (rrd) {
			if (rrd_graphs(&r, &round) != 0)
				return -1;
			keep_best(&theirs, &round);
		}
		double elapsed = (double)(rtime_mono_ns() - start) / 1e9;
		bench_progress(run, "graphs: ours and rrdtool's in turn",
			       (double)(series * RANGES) / ours.wall, "graphs/s", elapsed,
			       elapsed * rounds / (k + 1));
	}
	bench_progress_done(run);
	report(run, &r, rounds, rrd, &ours, &theirs);
	return 0;
}
