/* scenario_agent.c - `rmon-bench agent`: what the agent costs, CPU per
 * value and peak RSS of the real rmon-collectd, beside its physical floor
 * (pread of exactly the files one steady collection reads, descriptors
 * kept open, and one listing of /proc) and beside the peers in the same
 * run (collectd and prometheus-node-exporter, from bench/peers/: the same
 * families at the same interval).  A missing peer is a note, not a failure.
 *
 * CPU is the scheduler's count of every thread (/proc/PID/task/N/schedstat,
 * bench/procstat.h) over the measured window only: start-up and the first
 * collections are left out for every program alike. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/procstat.h"
#include "bench/scenarios.h"
#include "lib/cmdline.h"
#include "lib/rtime.h"

#define WARM_UP_US 2000000 /* the first collections set up tables and rates */

/* What one program cost over the measured window. */
struct cost {
	bool ran;
	double cpu_ns, collections, values; /* values: per collection */
	long peak_kib;
	char why[512]; /* why it did not run */
};

static double per_value_ns(const struct cost *c)
{
	return c->cpu_ns / c->collections / c->values;
}

/* fork + exec argv with stdout to out_path and stderr to err_path. */
static pid_t spawn(char *const argv[], const char *out_path, const char *err_path)
{
	pid_t pid = bench_fork();
	if (pid == 0) {
		if (!freopen(out_path, "w", stdout) || !freopen(err_path, "w", stderr))
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* SIGTERM, and SIGKILL when it is still there 5 s later. */
static void stop(pid_t pid)
{
	kill(pid, SIGTERM);
	kill(pid, SIGCONT); /* one stopped for the floor */
	for (int i = 0; i < 500; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static bool still_running(pid_t pid)
{
	return waitpid(pid, NULL, WNOHANG) == 0;
}

/* The last line of a file (a peer script's message), into buf. */
static void last_line(const char *path, char *buf, size_t cap)
{
	char line[512];
	FILE *f = fopen(path, "r");
	buf[0] = '\0';
	while (f && fgets(line, sizeof line, f))
		if (line[0] != '\n')
			snprintf(buf, cap, "%.*s", (int)strcspn(line, "\n"), line);
	if (f)
		fclose(f);
}

static size_t count_lines(const char *path, const char *prefix, bool want_prefix)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	size_t n = 0;
	while (f && fgets(line, sizeof line, f))
		n += (strncmp(line, prefix, strlen(prefix)) == 0) == want_prefix;
	if (f)
		fclose(f);
	return n;
}

/* A plain HTTP GET of /metrics into path; 0, or -1. */
static int scrape(int port, const char *path)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	const char *req = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
	    write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	FILE *out = fopen(path, "w");
	static char buf[65536];
	ssize_t n;
	bool body = false;
	size_t kept = 0; /* header bytes carried to the next read */
	while (out && (n = read(fd, buf + kept, sizeof buf - kept)) > 0) {
		size_t have = kept + (size_t)n;
		char *start = buf;
		if (!body) {
			char *end = memmem(buf, have, "\r\n\r\n", 4);
			if (!end) {
				kept = have < sizeof buf ? have : 0;
				continue;
			}
			start = end + 4;
			body = true;
		}
		fwrite(start, 1, (size_t)(buf + have - start), out);
		kept = 0;
	}
	if (out)
		fclose(out);
	close(fd);
	return body ? 0 : -1;
}

/* Measures pid for seconds, a collection a second; with a port it scrapes
 * /metrics into scrape_path each second (a scrape is a collection). */
static void measure(struct bench_run *run, const char *what, pid_t pid, int64_t seconds, int port,
		    const char *scrape_path, struct cost *c)
{
	double cpu0 = procstat_cpu_ns(pid);
	int64_t start = rtime_mono_ns();
	int scrapes = 0;
	for (int64_t i = 0; i < seconds; i++) {
		if (port && scrape(port, scrape_path) == 0)
			scrapes++;
		int64_t next = start + (i + 1) * RTIME_NS_PER_SEC, now = rtime_mono_ns();
		if (next > now)
			usleep((useconds_t)((next - now) / 1000));
		double elapsed = (double)(rtime_mono_ns() - start) / 1e9;
		bench_progress(run, what, (procstat_cpu_ns(pid) - cpu0) / 1e3 / elapsed, "µs CPU/s",
			       elapsed, (double)seconds);
	}
	double cpu1 = procstat_cpu_ns(pid);
	c->peak_kib = procstat_kib(pid, "VmHWM:");
	c->collections = port ? scrapes : (double)seconds;
	c->cpu_ns = cpu1 - cpu0;
	c->ran = cpu0 >= 0 && cpu1 >= 0 && c->peak_kib >= 0 && c->collections > 0;
	if (!c->ran)
		snprintf(c->why, sizeof c->why, "%s ended or answered no scrape while measured",
			 what);
}

/* --- the floor ----------------------------------------------------------- */

struct files {
	char **paths;
	size_t n;
};

static void files_free(struct files *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->paths[i]);
	free(f->paths);
	*f = (struct files){ 0 };
}

/* The /proc and /sys files pid holds open: what its steady collections
 * re-read with pread (collectd/files.c keeps them open for that). */
static void open_files_of(pid_t pid, struct files *out)
{
	char dir[64], link[320], target[512];
	snprintf(dir, sizeof dir, "/proc/%d/fd", (int)pid);
	DIR *d = opendir(dir);
	size_t cap = 0;
	for (struct dirent *de; d && (de = readdir(d));) {
		snprintf(link, sizeof link, "%s/%.32s", dir, de->d_name);
		ssize_t n = readlink(link, target, sizeof target - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strncmp(target, "/proc/", 6) != 0 && strncmp(target, "/sys/", 5) != 0)
			continue;
		if (out->n == cap) {
			cap = cap ? cap * 2 : 256;
			char **grown = realloc(out->paths, cap * sizeof *grown);
			if (!grown)
				bench_die("out of memory");
			out->paths = grown;
		}
		if (!(out->paths[out->n++] = strdup(target)))
			bench_die("out of memory");
	}
	if (d)
		closedir(d);
}

static double thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* One floor collection: every file read in full with pread from offset
 * 0, then /proc listed once.  Returns the entries of /proc. */
static size_t floor_once(const int *fds, size_t n, char *buf, size_t cap)
{
	for (size_t i = 0; i < n; i++) {
		if (fds[i] < 0)
			continue;
		off_t at = 0;
		ssize_t got;
		while ((got = pread(fds[i], buf, cap, at)) == (ssize_t)cap)
			at += got;
	}
	size_t entries = 0;
	DIR *d = opendir("/proc");
	while (d && readdir(d))
		entries++;
	if (d)
		closedir(d);
	return entries;
}

/* The floor's CPU per collection in ns, over enough rounds to be read
 * well above the clock's grain; *readable counts the files still there. */
static double floor_ns(const struct files *f, size_t *readable, size_t *proc_entries)
{
	int *fds = malloc((f->n ? f->n : 1) * sizeof *fds);
	static char buf[1 << 16];
	if (!fds)
		bench_die("out of memory");
	*readable = 0;
	for (size_t i = 0; i < f->n; i++)
		*readable += (fds[i] = open(f->paths[i], O_RDONLY | O_CLOEXEC)) >= 0;
	floor_once(fds, f->n, buf, sizeof buf); /* page cache and dentries warm, as the agent's */
	double start = thread_cpu_ns(), spent = 0;
	int rounds = 0;
	while (rounds < 20 || (spent < 3e8 && rounds < 2000)) {
		*proc_entries = floor_once(fds, f->n, buf, sizeof buf);
		rounds++;
		spent = thread_cpu_ns() - start;
	}
	for (size_t i = 0; i < f->n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	return spent / rounds;
}

/* --- the programs ------------------------------------------------------- */

struct agent_run {
	struct bench_run *run;
	int64_t seconds;
	const char *scratch;
	char path[4096]; /* scratch for file names */
};

static const char *in_scratch(struct agent_run *a, const char *name)
{
	snprintf(a->path, sizeof a->path, "%s/%s", a->scratch, name);
	return a->path;
}

/* A store for the agent's ring: its CPU is not counted. */
static pid_t start_store(struct agent_run *a, const char *data)
{
	char *argv[] = { (char *)bench_bin(a->run, "rmon-stored"), "--data", (char *)data, NULL };
	pid_t pid = spawn(argv, "/dev/null", in_scratch(a, "stored.log"));
	usleep(500000);
	return pid;
}

static void drop_store(struct agent_run *a, pid_t store, const char *data)
{
	stop(store);
	char *argv[] = { (char *)bench_bin(a->run, "rmon-stored"), "--data", (char *)data,
			 "--drop-ring", NULL };
	waitpid(spawn(argv, "/dev/null", "/dev/null"), NULL, 0);
}

/* The floor of one steady collection of the agent pid. */
struct floor {
	double ns;		/* CPU of a floor collection */
	size_t files, readable; /* the files held open, those that read */
	size_t proc_entries;
};

/* Measured while the agent is stopped (SIGSTOP), right after its last
 * collection: the processes whose files it holds still live, and it
 * takes no CPU from the floor. */
static void measure_floor(pid_t pid, struct floor *out)
{
	struct files files = { 0 };
	kill(pid, SIGSTOP);
	open_files_of(pid, &files);
	out->files = files.n;
	out->ns = floor_ns(&files, &out->readable, &out->proc_entries);
	files_free(&files);
}

/* rmon-collectd every second into a store's ring, and its floor. */
static void ours(struct agent_run *a, struct cost *c, struct floor *floor)
{
	const char *exe = bench_bin(a->run, "rmon-collectd");
	char out[4200], data[4200];
	snprintf(out, sizeof out, "%s/ours.once", a->scratch);
	snprintf(data, sizeof data, "%s/data", a->scratch);
	char *once[] = { (char *)exe, "--once", "--print", NULL };
	waitpid(spawn(once, out, "/dev/null"), NULL, 0);
	c->values = (double)count_lines(out, "#", false);
	pid_t store = start_store(a, data);
	char *argv[] = { (char *)exe, "--data", data, "--interval", "1s", NULL };
	pid_t pid = spawn(argv, "/dev/null", in_scratch(a, "collectd.log"));
	usleep(WARM_UP_US);
	measure(a->run, "rmon-collectd", pid, a->seconds, 0, NULL, c);
	if (c->ran)
		measure_floor(pid, floor);
	stop(pid);
	drop_store(a, store, data);
	if (c->values <= 0) {
		c->ran = false;
		snprintf(c->why, sizeof c->why, "rmon-collectd --once --print printed no value");
	}
}

/* Runs `peers/SCRIPT install`: true when the peer is there now, else
 * c->why holds the script's message. */
static bool install_peer(struct agent_run *a, const char *peers, const char *script, struct cost *c)
{
	char exe[4200], err[4200];
	snprintf(exe, sizeof exe, "%s/%s", peers, script);
	snprintf(err, sizeof err, "%s/%s.install", a->scratch, script);
	char *argv[] = { exe, "install", NULL };
	int status;
	if (waitpid(spawn(argv, "/dev/null", err), &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		last_line(err, c->why, sizeof c->why);
		if (!c->why[0])
			snprintf(c->why, sizeof c->why, "%s install failed", script);
		return false;
	}
	return true;
}

static void collectd_peer(struct agent_run *a, const char *peers, struct cost *c)
{
	if (!install_peer(a, peers, "collectd.sh", c))
		return;
	char exe[4200], dir[1024], log[1100], cmd[8600];
	snprintf(exe, sizeof exe, "%s/collectd.sh", peers);
	snprintf(dir, sizeof dir, "%s/collectd", a->scratch);
	snprintf(log, sizeof log, "%s/collectd.log", dir);
	mkdir(dir, 0755);
	char *argv[] = { exe, "run", dir, "1", NULL };
	pid_t pid = spawn(argv, "/dev/null", log);
	usleep(WARM_UP_US);
	if (!still_running(pid)) {
		last_line(log, c->why, sizeof c->why);
		return;
	}
	measure(a->run, "collectd", pid, a->seconds, 0, NULL, c);
	snprintf(cmd, sizeof cmd, "'%s' values '%s'", exe, dir);
	FILE *p = popen(cmd, "r");
	if (!p || fscanf(p, "%lf", &c->values) != 1 || c->values <= 0) {
		c->ran = false;
		snprintf(c->why, sizeof c->why, "collectd's unixsock gave no count of its values");
	}
	if (p)
		pclose(p);
	stop(pid);
}

/* Waits up to 5 s for the first answer on port. */
static bool wait_for_scrape(int port, const char *path, pid_t pid)
{
	for (int tries = 0; tries < 50; tries++) {
		if (scrape(port, path) == 0)
			return true;
		if (!still_running(pid))
			return false;
		usleep(100000);
	}
	return false;
}

static void node_exporter_peer(struct agent_run *a, const char *peers, struct cost *c)
{
	if (!install_peer(a, peers, "node-exporter.sh", c))
		return;
	char exe[4200], dir[1024], log[1100], out[4200], port_text[16];
	int port = bench_free_port();
	snprintf(exe, sizeof exe, "%s/node-exporter.sh", peers);
	snprintf(dir, sizeof dir, "%s/node-exporter", a->scratch);
	snprintf(log, sizeof log, "%s.log", dir);
	snprintf(out, sizeof out, "%s/node-exporter.scrape", a->scratch);
	snprintf(port_text, sizeof port_text, "%d", port);
	char *argv[] = { exe, "run", dir, port_text, NULL };
	pid_t pid = spawn(argv, "/dev/null", log);
	if (!wait_for_scrape(port, out, pid)) {
		last_line(log, c->why, sizeof c->why);
		stop(pid);
		return;
	}
	usleep(WARM_UP_US);
	measure(a->run, "node_exporter", pid, a->seconds, port, out, c);
	/* Its own go_, process_ and promhttp_ figures are not machine values. */
	c->values = (double)count_lines(out, "node_", true);
	stop(pid);
}

/* rmon-collectd with /metrics, collecting every second and scraped every
 * second as node_exporter is. */
static void ours_scraped(struct agent_run *a, struct cost *c)
{
	char conf[4200], out[4200], data[4200];
	int port = bench_free_port();
	snprintf(conf, sizeof conf, "%s/expose.conf", a->scratch);
	snprintf(out, sizeof out, "%s/ours.scrape", a->scratch);
	snprintf(data, sizeof data, "%s/data-scraped", a->scratch);
	FILE *f = fopen(conf, "w");
	if (!f) {
		snprintf(c->why, sizeof c->why, "%.300s: %s", conf, strerror(errno));
		return;
	}
	fprintf(f, "interval = 1s\n[exposition]\nlisten = 127.0.0.1:%d\n", port);
	fclose(f);
	pid_t store = start_store(a, data);
	char *argv[] = {
		(char *)bench_bin(a->run, "rmon-collectd"), "--config", conf, "--data", data, NULL
	};
	pid_t pid = spawn(argv, "/dev/null", in_scratch(a, "collectd-metrics.log"));
	if (wait_for_scrape(port, out, pid)) {
		usleep(WARM_UP_US);
		measure(a->run, "rmon-collectd /metrics", pid, a->seconds, port, out, c);
		c->values = (double)count_lines(out, "#", false);
	} else
		last_line(in_scratch(a, "collectd-metrics.log"), c->why, sizeof c->why);
	stop(pid);
	drop_store(a, store, data);
}

/* --- the tables ----------------------------------------------------------- */

static void ours_table(struct agent_run *a, const struct cost *c, const struct floor *floor)
{
	struct bench_table *t =
	    bench_table(a->run, "agent: rmon-collectd collecting every 1 s for %lld s, into a ring",
			(long long)a->seconds);
	if (!c->ran) {
		bench_note(t, "rmon-collectd did not run: %s", c->why);
		return;
	}
	bench_figure(t, "values per collection", c->values, "values");
	bench_figure(t, "CPU per collection", c->cpu_ns / c->collections / 1e3, "µs");
	bench_figure(t, "CPU per value", per_value_ns(c) / 1e3, "µs");
	bench_process_figures(t, "rmon-collectd", c->cpu_ns / 1e9, c->peak_kib);
	bench_figure(t, "floor: pread of the same files, /proc listed", floor->ns / 1e3, "µs");
	bench_ratio(t, "rmon-collectd's CPU per collection", c->cpu_ns / c->collections, floor->ns,
		    "floor", 0);
	bench_note(
	    t,
	    "floor: the %zu /proc and /sys files the agent holds open (%zu of them readable), "
	    "each pread in full, and one listing of /proc (%zu entries), a collection",
	    floor->files, floor->readable, floor->proc_entries);
	bench_note(t, "peak RSS includes the ring pages the agent writes");
}

static void peer_rows(struct bench_table *t, const char *name, const struct cost *peer,
		      const struct cost *mine, const char *mine_name, double goal)
{
	char row[160];
	if (!peer->ran) {
		bench_note(t, "%s skipped: %s", name, peer->why[0] ? peer->why : "it did not run");
		return;
	}
	snprintf(row, sizeof row, "%s values per collection", name);
	bench_figure(t, row, peer->values, "values");
	snprintf(row, sizeof row, "%s CPU per value", name);
	bench_figure(t, row, per_value_ns(peer) / 1e3, "µs");
	bench_process_figures(t, name, peer->cpu_ns / 1e9, peer->peak_kib);
	if (!mine->ran)
		return;
	snprintf(row, sizeof row, "%s's CPU per value", name);
	bench_ratio(t, row, per_value_ns(peer), per_value_ns(mine), mine_name, goal);
}

static void peers_table(struct agent_run *a, const struct cost *mine, const struct cost *cd,
			const struct cost *ne, const struct cost *scraped)
{
	struct bench_table *t = bench_table(
	    a->run, "agent: peers, the same families every 1 s for %lld s, in the same run",
	    (long long)a->seconds);
	peer_rows(t, "collectd", cd, mine, "rmon-collectd", 50);
	peer_rows(t, "node_exporter", ne, mine, "rmon-collectd", 15);
	if (!scraped->ran) {
		bench_note(t, "rmon-collectd /metrics skipped: %s", scraped->why);
		return;
	}
	bench_figure(t, "rmon-collectd /metrics values per scrape", scraped->values, "values");
	bench_figure(t, "rmon-collectd /metrics CPU per value", per_value_ns(scraped) / 1e3, "µs");
	bench_process_figures(t, "rmon-collectd /metrics", scraped->cpu_ns / 1e9,
			      scraped->peak_kib);
	if (ne->ran)
		bench_ratio(t, "node_exporter's CPU per value, both scraped", per_value_ns(ne),
			    per_value_ns(scraped), "rmon-collectd /metrics", 10);
	bench_note(t, "collectd: read plugins only, values stopped after its cache (no csv, no "
		      "network); node_exporter: its collectors of the same families only");
}

int scenario_agent(struct bench_run *run, int argc, char **argv)
{
	int64_t seconds = 0;
	bool quick = bench_opts(run)->quick;
	const struct cmdline_option options[] = {
		{ .name = "quick",
		  .letter = 'q',
		  .kind = CMDLINE_FLAG,
		  .field = &quick,
		  .help = "each program collects for 5 s" },
		{ .name = "seconds",
		  .kind = CMDLINE_INT,
		  .field = &seconds,
		  .arg = "N",
		  .help = "how long each program is measured (default 20)",
		  .min = 1,
		  .max = 86400 },
		{ 0 },
	};
	const struct cmdline cl = {
		.program = "rmon-bench agent",
		.about = "The CPU per value and peak RSS of rmon-collectd, beside the floor of\n"
			 "reading the same files and beside collectd and node_exporter\n"
			 "(bench/peers/ installs them from Debian's packages), in the same run.",
		.options = options,
	};
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	struct agent_run a = { .run = run, .seconds = seconds ? seconds : quick ? 5 : 20 };
	a.scratch = bench_scratch(run);
	const char *peers = bench_peers(run);
	struct cost mine = { 0 }, cd = { 0 }, ne = { 0 }, scraped = { 0 };
	struct floor floor = { 0 };
	ours(&a, &mine, &floor);
	if (peers) {
		collectd_peer(&a, peers, &cd);
		node_exporter_peer(&a, peers, &ne);
	} else {
		snprintf(cd.why, sizeof cd.why, "no bench/peers folder (set RMON_BENCH_PEERS)");
		snprintf(ne.why, sizeof ne.why, "no bench/peers folder (set RMON_BENCH_PEERS)");
	}
	ours_scraped(&a, &scraped);
	bench_progress_done(run);
	ours_table(&a, &mine, &floor);
	peers_table(&a, &mine, &cd, &ne, &scraped);
	return mine.ran ? 0 : 1;
}
