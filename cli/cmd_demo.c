/* cmd_demo.c - `rmon demo`: runs the whole pipeline on this machine with
 * the built-in configuration: rmon-stored drains the ring, rmon-collectd
 * collects every second, and this process reads the store through the
 * query API like any other reader, printing a live summary until Ctrl-C or
 * --duration; then it stops what it started. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/cmdline.h"
#include "lib/rtime.h"
#include "shmring/ring.h"
#include "lib/series_name.h"

#define DEMO_DEFAULT_DATA "var/demo"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Starts bin_dir/program with args, its stderr appended to log. */
static pid_t start(const char *bin_dir, const char *program, char *const args[], const char *log)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", bin_dir, program);
	pid_t pid = fork();
	if (pid == 0) {
		FILE *f = freopen(log, "a", stderr);
		(void)f;
		signal(SIGINT, SIG_IGN); /* Ctrl-C is ours to handle: we stop them in order */
		execv(path, args);
		fprintf(stderr, "rmon demo: cannot run %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	return pid;
}

static void stop_child(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/* The newest value of every series matching a selector, folded by fn. */
struct newest {
	struct query *q;
	int64_t from, to;
	double a, b; /* folded results */
	double last, prev;
	int64_t last_ts, prev_ts;
};

static int keep_two(void *ctx, int64_t ts, double value)
{
	struct newest *n = ctx;
	n->prev = n->last;
	n->prev_ts = n->last_ts;
	n->last = value;
	n->last_ts = ts;
	return 0;
}

static void read_last_two(struct newest *n, uint64_t id)
{
	n->last = n->prev = NAN;
	query_raw(n->q, id, n->from, n->to, keep_two, n, NULL, NULL);
}

/* CPU busy share from the two newest collections: everything but idle
 * and iowait, over everything. */
static int fold_cpu(void *ctx, uint64_t id, const char *name, size_t len)
{
	struct newest *n = ctx;
	read_last_two(n, id);
	if (isnan(n->prev))
		return 0;
	double delta = n->last - n->prev;
	n->b += delta;
	if (!strstr(name, "mode=\"idle\"") && !strstr(name, "mode=\"iowait\"") &&
	    !strstr(name, "mode=\"guest"))
		n->a += delta;
	return 0;
}

static int fold_last(void *ctx, uint64_t id, const char *name, size_t len)
{
	struct newest *n = ctx;
	read_last_two(n, id);
	if (!isnan(n->last))
		n->a = n->last;
	return 0;
}

/* Fullest filesystem: keeps the largest used share, by mount point. */
static int fold_disk(void *ctx, uint64_t id, const char *name, size_t len)
{
	struct newest *n = ctx;
	read_last_two(n, id);
	if (isnan(n->last))
		return 0;
	/* The same series name with the avail metric instead of size. */
	static const char size_metric[] = "node_filesystem_size_bytes";
	char avail_name[SERIES_NAME_MAX + 8];
	const char *metric = memmem(name, len, size_metric, sizeof size_metric - 1);
	if (!metric || n->last <= 0)
		return 0;
	size_t head = (size_t)(metric - name), tail = len - head - (sizeof size_metric - 1);
	snprintf(avail_name, sizeof avail_name, "%.*snode_filesystem_avail_bytes%.*s", (int)head,
		 name, (int)tail, metric + sizeof size_metric - 1);
	double size = n->last;
	read_last_two(n, series_id(avail_name, strlen(avail_name)));
	double used = 1 - n->last / size;
	if (!isnan(used) && used > n->a)
		n->a = used;
	return 0;
}

static double summarise(struct query *q, const char *selector, query_series_fn fn, double *b)
{
	struct query_selector *sel;
	int64_t now = rtime_now_ns();
	struct newest n = { .q = q,
			    .from = now - 10 * RTIME_NS_PER_SEC,
			    .to = now + RTIME_NS_PER_SEC };
	if (query_selector_parse(selector, &sel, NULL) != 0)
		return NAN;
	n.a = fn == fold_disk ? -1 : 0;
	query_series(q, sel, fn, &n, NULL);
	query_selector_free(sel);
	if (b)
		*b = n.b;
	return n.a;
}

static int count_series(void *ctx, uint64_t id, const char *name, size_t len)
{
	(*(size_t *)ctx)++;
	return 0;
}

static void print_summary(const char *data, struct query *q, int64_t elapsed_s,
			  uint64_t *last_samples)
{
	struct query_stats st = { 0 };
	query_get_stats(q, &st, NULL);
	size_t series = 0;
	query_series(q, NULL, count_series, &series, NULL);
	double total = 0,
	       busy = summarise(q, "node_cpu_seconds_total{cpu=\"total\"}", fold_cpu, &total);
	double mem_total = summarise(q, "node_memory_MemTotal_bytes", fold_last, NULL);
	double mem_avail = summarise(q, "node_memory_MemAvailable_bytes", fold_last, NULL);
	double disk = summarise(q, "node_filesystem_size_bytes", fold_disk, NULL);
	printf("%4llds  series %5zu  stored %8llu samples (%6.0f/s)  cpu %5.1f%%  memory %5.1f%%  "
	       "fullest disk %5.1f%%\n",
	       (long long)elapsed_s, series, (unsigned long long)st.samples,
	       (double)(st.samples - *last_samples), total > 0 ? 100 * busy / total : 0.0,
	       mem_total > 0 ? 100 * (1 - mem_avail / mem_total) : 0.0,
	       disk >= 0 ? 100 * disk : 0.0);
	fflush(stdout);
	*last_samples = st.samples;
}

/* Waits for the store to create its database, so readers can open it. */
static struct query *wait_for_store(const char *data, pid_t stored)
{
	for (int i = 0; i < 100 && !stop; i++) {
		struct query *q;
		if (query_open(data, &q, NULL) == 0)
			return q;
		if (waitpid(stored, NULL, WNOHANG) == stored)
			return NULL;
		usleep(50000);
	}
	return NULL;
}

int cmd_demo(int argc, char **argv)
{
	const char *data = DEMO_DEFAULT_DATA;
	int64_t duration = 60 * RTIME_NS_PER_SEC;
	const struct cmdline_option options[] = {
		CMDLINE_DATA(&data),
		{ .name = "duration",
		  .letter = 't',
		  .kind = CMDLINE_DURATION,
		  .field = &duration,
		  .arg = "D",
		  .help = "stop after D (default 60s)" },
		{ 0 },
	};
	const struct cmdline cl = {
		.program = "rmon demo",
		.version = CLI_VERSION,
		.about =
		    "Runs the whole pipeline on this machine with the built-in configuration:\n"
		    "rmon-stored and rmon-collectd (every second) on data folder DIR "
		    "(default\n" DEMO_DEFAULT_DATA
		    "), printing a live summary read back from the store, until\n"
		    "Ctrl-C or the duration ends.  Then it stops both and shows how to query\n"
		    "the data.",
		.options = options,
	};
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	char bin_dir[PATH_MAX], log_path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", bin_dir, sizeof bin_dir - 1);
	if (n <= 0) {
		fprintf(stderr, "rmon demo: cannot find my own binary: %s\n", strerror(errno));
		return 1;
	}
	bin_dir[n] = '\0';
	*strrchr(bin_dir, '/') = '\0';
	char parent[PATH_MAX];
	snprintf(parent, sizeof parent, "%s", data);
	for (char *p = parent + 1; (p = strchr(p, '/')); *p++ = '/') {
		*p = '\0';
		mkdir(parent, 0700);
	}
	if (mkdir(data, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "rmon demo: cannot create data folder %s: %s\n", data,
			strerror(errno));
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	snprintf(log_path, sizeof log_path, "%s/demo.log", data);
	printf("rmon demo: rmon-stored and rmon-collectd (every second) on %s; logs in %s\n", data,
	       log_path);
	char *stored_args[] = { "rmon-stored", "--data", (char *)data, NULL };
	char *collectd_args[] = {
		"rmon-collectd", "--data", (char *)data, "--interval", "1s", NULL
	};
	pid_t stored = start(bin_dir, "rmon-stored", stored_args, log_path), collectd = -1;
	int64_t begin = rtime_mono_ns(), next;
	uint64_t last_samples = 0;
	struct query *q = wait_for_store(data, stored);
	int rc = 0;
	if (!q) {
		fprintf(stderr, "rmon demo: the store did not start; see %s\n", log_path);
		rc = 1;
		goto out;
	}
	collectd = start(bin_dir, "rmon-collectd", collectd_args, log_path);
	begin = rtime_mono_ns();
	next = begin + 2 * RTIME_NS_PER_SEC;
	while (!stop && rtime_mono_ns() - begin < duration) {
		int64_t now = rtime_mono_ns();
		if (now >= next) {
			print_summary(data, q, (now - begin) / RTIME_NS_PER_SEC, &last_samples);
			next += RTIME_NS_PER_SEC;
		}
		struct timespec ts = { 0, 50 * 1000000 };
		nanosleep(&ts, NULL);
		if (waitpid(stored, NULL, WNOHANG) == stored) {
			fprintf(stderr, "rmon demo: rmon-stored stopped; see %s\n", log_path);
			stored = -1;
			rc = 1;
			break;
		}
	}
out:
	stop_child(collectd);
	stop_child(stored);
	/* The demo owns its pipeline: nothing is left in shared memory. */
	char ring[64];
	ring_name_for_dir(data, ring, sizeof ring);
	ring_unlink(ring, NULL);
	if (q) {
		print_summary(data, q, (rtime_mono_ns() - begin) / RTIME_NS_PER_SEC, &last_samples);
		query_close(q);
	}
	printf("rmon demo: stopped rmon-collectd and rmon-stored.  The data stays in %s; try\n"
	       "  %s/rmon series 'node_load*' --data %s\n"
	       "  %s/rmon query 'node_cpu_seconds_total{cpu=\"total\"}' --data %s --from -5m "
	       "--step 10s --agg rate\n"
	       "  %s/rmon query node_memory_MemAvailable_bytes --data %s --from -5m --format csv\n"
	       "  %s/rmon stats --data %s\n",
	       data, bin_dir, data, bin_dir, data, bin_dir, data, bin_dir, data);
	return rc;
}
