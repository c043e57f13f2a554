/* bench-drain.c - how soon rmon-stored's network loop drains the ring, and
 * what it costs idle: the loop that serves agents' connections has no
 * descriptor to wait on for the ring, so it looks at it on a timer.
 *
 * For each build (a baseline build's bin folder given with --baseline,
 * then this build) it starts rmon-stored --listen on a scratch data
 * folder, attaches to its ring as a producer and
 *   1. idle: the server's CPU over a few seconds with nothing to do;
 *   2. drain latency: pushes one sample at random moments (1 to 20 ms
 *      apart, as agents' collections come) and times ring_push to the
 *      slot's release, which the store does once the sample is durable in
 *      the WAL; p50 and p99 of --rounds such samples.
 *
 * Usage: bench-drain [--baseline BIN_DIR] [--rounds N]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/procstat.h"
#include "lib/cmdline.h"
#include "lib/rtime.h"
#include "lib/series_name.h"
#include "shmring/ring.h"
#include "shmring/series.h"

struct figures {
	double idle_cpu; /* share of a core */
	int64_t p50, p99;
	double busy_cpu;
};

static pid_t start_stored(const char *bin, const char *data)
{
	char exe[4200], address[32], log[4300];
	snprintf(exe, sizeof exe, "%s/rmon-stored", bin);
	snprintf(address, sizeof address, "127.0.0.1:%d", bench_free_port());
	snprintf(log, sizeof log, "%s.log", data);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		if (!freopen(log, "w", stderr))
			_exit(126);
		execl(exe, "rmon-stored", "--data", data, "--listen", address, (char *)NULL);
		_exit(127);
	}
	if (pid < 0)
		bench_die("fork failed");
	return pid;
}

static void measure(const char *bin, const char *dir, int rounds, struct figures *out)
{
	char data[4200], name[64];
	struct err e = { 0 };
	struct ring *r = NULL;
	struct ring_lane *lane;
	snprintf(data, sizeof data, "%s/data", dir);
	pid_t pid = start_stored(bin, data);
	ring_name_for_dir(data, name, sizeof name);
	for (int i = 0; i < 200 && ring_producer_open(name, &r, &e) != 0; i++)
		usleep(50000);
	if (!r || ring_lane_attach(r, &lane, &e) != 0)
		bench_die("%s/rmon-stored: %s", bin, e.msg);
	char series[SERIES_NAME_MAX + 1];
	uint64_t id;
	int len = series_canonical(series, sizeof series, "bench", "bench_drain", NULL, 0, &e);
	if (len < 0 || series_insert(ring_series(r), series, (size_t)len, &id, &e) != 0)
		bench_die("%s", e.msg);
	usleep(1000000); /* past start-up */

	double cpu = procstat_cpu_seconds(pid);
	int64_t start = rtime_mono_ns();
	usleep(3000000);
	out->idle_cpu =
	    (procstat_cpu_seconds(pid) - cpu) / ((double)(rtime_mono_ns() - start) / 1e9);

	int64_t *lat = malloc((size_t)rounds * sizeof *lat);
	if (!lat)
		bench_die("out of memory");
	srand(1);
	cpu = procstat_cpu_seconds(pid);
	start = rtime_mono_ns();
	for (int i = 0; i < rounds; i++) {
		usleep((useconds_t)(1000 + rand() % 19000));
		struct ring_stats st;
		ring_get_stats(r, &st);
		uint64_t released = st.released;
		struct sample s = { id, rtime_now_ns(), (double)i };
		int64_t t0 = rtime_mono_ns();
		if (ring_push(lane, &s) != 0)
			bench_die("the ring is full");
		do
			ring_get_stats(r, &st);
		while (st.released == released && rtime_mono_ns() - t0 < RTIME_NS_PER_SEC);
		lat[i] = rtime_mono_ns() - t0;
	}
	out->busy_cpu =
	    (procstat_cpu_seconds(pid) - cpu) / ((double)(rtime_mono_ns() - start) / 1e9);
	out->p50 = bench_quantile(lat, (size_t)rounds, 0.50);
	out->p99 = bench_quantile(lat, (size_t)rounds, 0.99);
	free(lat);
	ring_close(r);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	ring_unlink(name, NULL);
	bench_remove_tree(data);
}

static void report(const char *what, const struct figures *f, const struct figures *base)
{
	printf("  %-26s idle %5.2f %% of a core   drain p50 %7.3f ms  p99 %7.3f ms   while "
	       "pushing %5.2f %%",
	       what, f->idle_cpu * 100, (double)f->p50 / 1e6, (double)f->p99 / 1e6,
	       f->busy_cpu * 100);
	if (base && base != f)
		printf("   p50 %.2fx, idle CPU %.2fx the baseline",
		       (double)f->p50 / (double)base->p50, f->idle_cpu / base->idle_cpu);
	printf("\n");
}

int main(int argc, char **argv)
{
	const char *baseline = NULL;
	int64_t rounds = 500;
	const struct cmdline_option options[] = {
		{ .name = "baseline",
		  .kind = CMDLINE_STRING,
		  .field = &baseline,
		  .arg = "BIN_DIR",
		  .help = "also measure the rmon-stored in BIN_DIR, first" },
		{ .name = "rounds",
		  .letter = 'n',
		  .kind = CMDLINE_INT,
		  .field = &rounds,
		  .arg = "N",
		  .help = "samples timed per build (default 500)",
		  .min = 10,
		  .max = 1000000 },
		{ 0 },
	};
	const struct cmdline cl = {
		.program = "bench-drain",
		.about = "How soon rmon-stored --listen drains the ring (push to durable release)\n"
			 "and its CPU idle, against a baseline build in the same run.",
		.options = options,
	};
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	char bin[4096], dir[] = "/tmp/rmon-bench-drain-XXXXXX";
	ssize_t n = readlink("/proc/self/exe", bin, sizeof bin - 1);
	if (n <= 0 || !mkdtemp(dir))
		bench_die("cannot find this program's folder or make a scratch folder");
	bin[n] = '\0';
	*strrchr(bin, '/') = '\0';
	struct figures base = { 0 }, ours = { 0 };
	if (baseline)
		measure(baseline, dir, (int)rounds, &base);
	measure(bin, dir, (int)rounds, &ours);
	printf(
	    "bench-drain: rmon-stored --listen, one sample at random 1-20 ms gaps, %lld rounds\n",
	    (long long)rounds);
	if (baseline)
		report("baseline", &base, NULL);
	report("this build", &ours, baseline ? &base : NULL);
	bench_remove_tree(dir);
	return 0;
}
