/* bench-report.c - the report's graphs against rrdtool's, same run, same
 * data, same parallelism: S series of one day at 10 s, each drawn over
 * 1 hour, 6 hours and 1 day as a min/max band, the average line and a
 * threshold (90).
 *   ours:     query_range_multi (min, max, avg) through store/query.h from
 *             a store filled with the data, then lib/plot's gnuplot pool;
 *   baseline: `rrdtool -` processes, as many as gnuplot ones, drawing the
 *             same graph (DEF MIN/MAX/AVERAGE, AREA+STACK, LINE, HRULE)
 *             from RRD files filled with the same samples.
 * Both write SVG; the figures are wall time for all graphs, per graph, and
 * the average file size.  Without rrdtool the baseline is skipped with a
 * note.
 *
 * Usage: bench-report [--series N] [--processes N] [--rounds N] [--quick]
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench.h"
#include "lib/cmdline.h"
#include "lib/plot.h"
#include "lib/rtime.h"
#include "store/db.h"
#include "store/query.h"

#define SEC RTIME_NS_PER_SEC

extern char **environ;

enum { STEP_S = 10, DAY_S = 86400, WIDTH = 800, HEIGHT = 250 };
static const int64_t ranges[] = { 3600, 6 * 3600, DAY_S };
enum { RANGES = sizeof ranges / sizeof *ranges };

static char dir[256];
static int64_t t_end; /* seconds, a multiple of STEP_S */

/* CPU-like: a slow wave, a daily swing and noise, the same for both. */
static double value_of(uint64_t series, int64_t t)
{
	uint64_t h = (uint64_t)t * 0x9e3779b97f4a7c15u ^ series * 0xbf58476d1ce4e5b9u;
	h ^= h >> 31;
	return 50 + 25 * sin((double)t / (3000 + 100 * (double)series)) +
	       10 * sin((double)t / 13000) + (double)(h % 1000) / 100;
}

static void fill_store(size_t series)
{
	char path[300];
	snprintf(path, sizeof path, "%s/store/db", dir);
	char parent[300];
	snprintf(parent, sizeof parent, "%s/store", dir);
	mkdir(parent, 0700);
	struct db_config c;
	db_config_default(&c);
	struct db *db;
	struct err e = { 0 };
	if (db_open(path, &c, false, &db, &e))
		bench_die("%s", e.msg);
	for (size_t s = 0; s < series; s++) {
		char name[64];
		int len = snprintf(name, sizeof name, "bench/cpu{n=\"%zu\"}", s);
		if (db_register_series(db, s + 1, name, (size_t)len, &e))
			bench_die("%s", e.msg);
	}
	struct sample *batch = malloc(series * sizeof *batch);
	uint64_t k = 0;
	for (int64_t t = t_end - DAY_S; t < t_end; t += STEP_S, k++) {
		for (size_t s = 0; s < series; s++)
			batch[s] = (struct sample){ s + 1, t * SEC, value_of(s, t) };
		if (db_append(db, batch, series, &e))
			bench_die("%s", e.msg);
		if (k % 360 == 359 && db_commit(db, k, &e))
			bench_die("%s", e.msg);
	}
	if (db_commit(db, k, &e))
		bench_die("%s", e.msg);
	db_close(db);
	free(batch);
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
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
		bench_die("pipe: %s", strerror(errno));
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
static void rrd_read(struct rrd_proc *r)
{
	char buf[8192];
	ssize_t n = read(r->out, buf, sizeof buf);
	if (n <= 0)
		bench_die("rrdtool (pid %d) went away", (int)r->pid);
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] != '\n') {
			if (r->len + 1 < sizeof r->line)
				r->line[r->len++] = buf[i];
			continue;
		}
		r->line[r->len] = '\0';
		if (strncmp(r->line, "ERROR", 5) == 0)
			bench_die("rrdtool: %s", r->line);
		if (strncmp(r->line, "OK", 2) == 0)
			r->waiting--;
		r->len = 0;
	}
}

static void rrd_wait(struct rrd_proc *procs, size_t n, int most)
{
	for (;;) {
		struct pollfd fds[n];
		bool busy = false;
		for (size_t i = 0; i < n; i++) {
			fds[i] = (struct pollfd){ .fd = procs[i].out, .events = POLLIN };
			busy |= procs[i].waiting > most;
		}
		if (!busy)
			return;
		if (poll(fds, n, 60000) <= 0)
			bench_die("rrdtool did not answer in 60 s");
		for (size_t i = 0; i < n; i++)
			if (fds[i].revents)
				rrd_read(&procs[i]);
	}
}

static void rrd_stop(struct rrd_proc *r)
{
	fclose(r->in);
	close(r->out);
	waitpid(r->pid, NULL, 0);
}

static void fill_rrds(size_t series)
{
	struct rrd_proc r;
	if (!rrd_start(&r))
		bench_die("rrdtool: cannot start");
	for (size_t s = 0; s < series; s++) {
		/* one row a step, 8640 of them: rrdtool reduces them to the
		 * graph's pixels itself, min by MIN, max by MAX */
		fprintf(r.in,
			"create %s/rrd-%zu.rrd --start %lld --step %d DS:v:GAUGE:%d:U:U "
			"RRA:AVERAGE:0.5:1:%d RRA:MIN:0.5:1:%d RRA:MAX:0.5:1:%d\n",
			dir, s, (long long)(t_end - DAY_S - STEP_S), STEP_S, 3 * STEP_S,
			DAY_S / STEP_S, DAY_S / STEP_S, DAY_S / STEP_S);
		r.waiting++;
		int64_t t = t_end - DAY_S;
		while (t < t_end) {
			fprintf(r.in, "update %s/rrd-%zu.rrd", dir, s);
			for (int k = 0; k < 500 && t < t_end; k++, t += STEP_S)
				fprintf(r.in, " %lld:%.6g", (long long)t, value_of(s, t));
			fputc('\n', r.in);
			r.waiting++;
		}
		fflush(r.in);
		rrd_wait(&r, 1, 0);
	}
	rrd_stop(&r);
}

static double rrd_graphs(size_t series, size_t processes, double *bytes, double *cpu)
{
	double cpu_before = cpu_seconds();
	struct rrd_proc procs[processes];
	for (size_t i = 0; i < processes; i++)
		if (!rrd_start(&procs[i]))
			bench_die("rrdtool: cannot start");
	int64_t start = rtime_mono_ns();
	size_t next = 0;
	for (size_t s = 0; s < series; s++) {
		for (size_t r = 0; r < RANGES; r++) {
			rrd_wait(procs, processes, 3);
			struct rrd_proc *p = &procs[next++ % processes];
			for (size_t i = 0; i < processes; i++)
				if (procs[i].waiting < p->waiting)
					p = &procs[i];
			const char *f = dir;
			fprintf(
			    p->in,
			    "graph %s/rrd-%zu-%zu.svg --imgformat SVG --start %lld --end %lld "
			    "--width %d --height %d --title 'cpu %zu' "
			    "DEF:avg=%s/rrd-%zu.rrd:v:AVERAGE DEF:mn=%s/rrd-%zu.rrd:v:MIN "
			    "DEF:mx=%s/rrd-%zu.rrd:v:MAX CDEF:reach=mx,mn,- AREA:mn#00000000 "
			    "STACK:reach#3b82f640 LINE1.5:avg#3b82f6:used HRULE:90#dc2626:dashes\n",
			    f, s, r, (long long)(t_end - ranges[r]), (long long)t_end,
			    (int)plot_windows(WIDTH), HEIGHT - 70, s, f, s, f, s, f, s);
			fflush(p->in);
			p->waiting++;
		}
	}
	rrd_wait(procs, processes, 0);
	int64_t took = rtime_mono_ns() - start;
	for (size_t i = 0; i < processes; i++)
		rrd_stop(&procs[i]);
	*cpu = cpu_seconds() - cpu_before;
	uint64_t total = 0;
	for (size_t s = 0; s < series; s++) {
		for (size_t r = 0; r < RANGES; r++) {
			char path[400];
			struct stat st;
			snprintf(path, sizeof path, "%s/rrd-%zu-%zu.svg", dir, s, r);
			if (stat(path, &st))
				bench_die("rrdtool wrote no %s", path);
			total += (uint64_t)st.st_size;
		}
	}
	*bytes = (double)total / (double)(series * RANGES);
	return (double)took / 1e9;
}

/* ---- ours ---- */

static double our_graphs(size_t series, size_t processes, double *bytes, double *read_s,
			 double *cpu)
{
	double cpu_before = cpu_seconds();
	struct plot_pool *pool;
	struct query *q;
	struct err e = { 0 };
	char data[300];
	snprintf(data, sizeof data, "%s/store", dir);
	if (plot_pool_new((int)processes, &pool, &e) || query_open(data, &q, &e))
		bench_die("%s", e.msg);
	size_t cap = plot_windows(WIDTH);
	double *mn = malloc(cap * sizeof *mn), *mx = malloc(cap * sizeof *mx),
	       *avg = malloc(cap * sizeof *avg);
	double limit = 90;
	int64_t reading = 0;
	int64_t start = rtime_mono_ns();
	if (query_begin(q, &e))
		bench_die("%s", e.msg);
	for (size_t s = 0; s < series; s++) {
		for (size_t r = 0; r < RANGES; r++) {
			/* a window a pixel, but none shorter than the data's own
			 * step: an empty window would be a gap in the line */
			int64_t step = ranges[r] * SEC / (int64_t)cap;
			if (step < STEP_S * SEC)
				step = STEP_S * SEC;
			size_t n = (size_t)(ranges[r] * SEC / step);
			int64_t from = (t_end - ranges[r]) * SEC;
			double *out[QUERY_AGGS] = {
				[QUERY_AVG] = avg, [QUERY_MIN] = mn, [QUERY_MAX] = mx
			};
			int64_t t0 = rtime_mono_ns();
			if (query_range_multi(q, s + 1, from, t_end * SEC, step, out, n, &e))
				bench_die("%s", e.msg);
			reading += rtime_mono_ns() - t0;
			char path[400], title[64];
			snprintf(path, sizeof path, "%s/plot-%zu-%zu.svg", dir, s, r);
			snprintf(title, sizeof title, "cpu %zu", s);
			struct plot_line line = { "used", avg, mn, mx, plot_colour_for("user") };
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
			if (plot_draw(pool, &g, &e))
				bench_die("%s", e.msg);
		}
	}
	query_end(q);
	if (plot_wait(pool, &e))
		bench_die("%s", e.msg);
	int64_t took = rtime_mono_ns() - start;
	plot_pool_free(pool);
	*cpu = cpu_seconds() - cpu_before;
	query_close(q);
	free(mn);
	free(mx);
	free(avg);
	uint64_t total = 0;
	for (size_t s = 0; s < series; s++) {
		for (size_t r = 0; r < RANGES; r++) {
			char path[400];
			struct stat st;
			snprintf(path, sizeof path, "%s/plot-%zu-%zu.svg", dir, s, r);
			if (stat(path, &st))
				bench_die("plot wrote no %s", path);
			total += (uint64_t)st.st_size;
		}
	}
	*bytes = (double)total / (double)(series * RANGES);
	*read_s = (double)reading / 1e9;
	return (double)took / 1e9;
}

static bool have(const char *program)
{
	char cmd[200];
	snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", program);
	return system(cmd) == 0;
}

int main(int argc, char **argv)
{
	bool quick = false;
	int64_t series_opt = 100, processes_opt = 0, rounds = 3;
	const struct cmdline_option options[] = {
		{ .name = "quick",
		  .letter = 'q',
		  .kind = CMDLINE_FLAG,
		  .field = &quick,
		  .help = "20 series instead of 100" },
		{ .name = "series",
		  .kind = CMDLINE_INT,
		  .field = &series_opt,
		  .arg = "N",
		  .help = "series drawn, each over 3 ranges (default 100)" },
		{ .name = "rounds",
		  .kind = CMDLINE_INT,
		  .field = &rounds,
		  .arg = "N",
		  .help = "rounds, ours and rrdtool's in turn, best kept (default 3)" },
		{ .name = "processes",
		  .kind = CMDLINE_INT,
		  .field = &processes_opt,
		  .arg = "N",
		  .help = "gnuplot and rrdtool processes (default: one a core)" },
		{ 0 },
	};
	const struct cmdline cl = {
		.program = "bench-report",
		.about = "The report's graphs (band, line, threshold) drawn by lib/plot's gnuplot\n"
			 "pool, reads through store/query.h included, against `rrdtool graph`\n"
			 "from RRD files of the same data, with the same parallelism.",
		.options = options,
	};
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	signal(SIGPIPE, SIG_IGN);
	size_t series = quick ? 20 : (size_t)(series_opt > 0 ? series_opt : 100);
	if (rounds < 1)
		rounds = 1;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	size_t processes = processes_opt > 0 ? (size_t)processes_opt
			   : cores > 0	     ? (size_t)cores
					     : 1;
	snprintf(dir, sizeof dir, "/tmp/rmon-bench-report-XXXXXX");
	if (!mkdtemp(dir))
		bench_die("mkdtemp: %s", strerror(errno));
	t_end = rtime_now_ns() / SEC / STEP_S * STEP_S;
	fill_store(series);
	bool rrd = have("rrdtool");
	if (rrd)
		fill_rrds(series);

	/* Rounds take turns, ours then rrdtool's, and each side keeps its best:
	 * on a shared machine the other users' load comes and goes. */
	size_t graphs = series * RANGES;
	double ours = INFINITY, our_cpu = INFINITY, theirs = INFINITY, rrd_cpu = INFINITY;
	double our_bytes = 0, rrd_bytes = 0, read_s = INFINITY;
	for (int64_t round = 0; round < rounds; round++) {
		double wall, cpu, reads;
		wall = our_graphs(series, processes, &our_bytes, &reads, &cpu);
		ours = fmin(ours, wall);
		our_cpu = fmin(our_cpu, cpu);
		read_s = fmin(read_s, reads);
		if (rrd) {
			wall = rrd_graphs(series, processes, &rrd_bytes, &cpu);
			theirs = fmin(theirs, wall);
			rrd_cpu = fmin(rrd_cpu, cpu);
		}
	}
	printf("bench-report: %zu graphs (%zu series of 1 day at 10 s, over 1 h, 6 h and 1 day; "
	       "band, line, threshold; %d px wide), %zu processes, best of %lld rounds\n",
	       graphs, series, WIDTH, processes, (long long)rounds);
	printf("                                       wall    a graph   CPU a graph   SVG\n");
	printf("  plot: gnuplot pool, reads included %6.2f s %6.2f ms %8.2f ms %6.1f KB  "
	       "(reads %.2f ms a graph)\n",
	       ours, ours * 1e3 / (double)graphs, our_cpu * 1e3 / (double)graphs, our_bytes / 1024,
	       read_s * 1e3 / (double)graphs);
	if (rrd) {
		printf("  rrdtool graph (rrdtool -)          %6.2f s %6.2f ms %8.2f ms %6.1f KB\n",
		       theirs, theirs * 1e3 / (double)graphs, rrd_cpu * 1e3 / (double)graphs,
		       rrd_bytes / 1024);
		double ratio = theirs / ours, cpu_ratio = rrd_cpu / our_cpu;
		printf("  ratio rrdtool / plot               %6.2fx wall (goal >= 2x: %s), %.2fx "
		       "CPU\n",
		       ratio, bench_verdict(ratio >= 2), cpu_ratio);
	} else {
		printf("  rrdtool graph: skipped, rrdtool is not installed (Debian: rrdtool)\n");
	}
	printf("  SVG size                            %5.1f KB a graph (goal <= 60 KB: %s)\n",
	       our_bytes / 1024, bench_verdict(our_bytes <= 60 * 1024));
	bench_remove_tree(dir);
	return 0;
}
