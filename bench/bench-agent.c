/* bench-agent.c - what the agent costs: CPU per collection and per value,
 * and memory, measured on the real rmon-collectd binary; and side by side
 * in the same run, Debian's collectd (cpu, memory, swap, df, disk,
 * interface, load and processes plugins, 1 s) and prometheus-node-exporter
 * (scraped every second) where they are installed; and our agent serving
 * /metrics ([exposition]) collecting and scraped every second like
 * node_exporter, with the ratio of the two per value.
 *
 * CPU comes from /proc/PID/stat (user + system) of each program after it
 * ran for the same time; values are counted from each program's output.
 *
 * Usage: bench-agent [--seconds 20]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/procstat.h"
#include "lib/cmdline.h"
#include "lib/rtime.h"

struct cost {
	bool ran;
	double cpu_seconds, collections, values_per_collection;
	long rss_kib;
};

static pid_t spawn(char *const argv[], const char *out_path)
{
	pid_t pid = fork();
	if (pid == 0) {
		FILE *out = freopen(out_path, "w", stdout);
		FILE *err = freopen("/dev/null", "w", stderr);
		(void)out;
		(void)err;
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static void finish(pid_t pid, struct cost *c, double seconds)
{
	c->cpu_seconds = procstat_cpu_seconds(pid);
	c->rss_kib = procstat_kib(pid, "VmHWM:");
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	c->ran = c->cpu_seconds >= 0;
	(void)seconds;
}

static size_t count_lines(const char *path, const char *skip_prefix)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	size_t n = 0;
	while (f && fgets(line, sizeof line, f))
		n += !(skip_prefix && strncmp(line, skip_prefix, strlen(skip_prefix)) == 0);
	if (f)
		fclose(f);
	return n;
}

static void ours(const char *bin_dir, double seconds, struct cost *c, const char *tmp)
{
	char exe[4200], out[4200];
	snprintf(exe, sizeof exe, "%s/rmon-collectd", bin_dir);
	snprintf(out, sizeof out, "%s/ours.once", tmp);
	char *once[] = { exe, "--once", "--print", NULL };
	pid_t pid = spawn(once, out);
	waitpid(pid, NULL, 0);
	c->values_per_collection = (double)count_lines(out, NULL);
	/* Collect every 100 ms, for enough collections to time precisely, into
	 * the ring of a store running beside (its CPU is not counted). */
	char stored[4200], data[4200];
	snprintf(stored, sizeof stored, "%s/rmon-stored", bin_dir);
	snprintf(data, sizeof data, "%s/data", tmp);
	char *store_args[] = { stored, "--data", data, NULL };
	pid_t store = spawn(store_args, "/dev/null");
	usleep(500000);
	char *run[] = { exe, "--data", data, "--interval", "100ms", NULL };
	pid = spawn(run, "/dev/null");
	usleep((useconds_t)(seconds * 1e6));
	c->collections = seconds * 10;
	finish(pid, c, seconds);
	kill(store, SIGTERM);
	waitpid(store, NULL, 0);
	char *drop[] = { stored, "--data", data, "--drop-ring", NULL };
	waitpid(spawn(drop, "/dev/null"), NULL, 0);
}

static void collectd(double seconds, struct cost *c, const char *tmp)
{
	const char *exe = "/usr/sbin/collectd";
	char conf[4200], csv[4200], cmd[8600];
	if (access(exe, X_OK) != 0)
		return;
	snprintf(conf, sizeof conf, "%s/collectd.conf", tmp);
	snprintf(csv, sizeof csv, "%s/csv", tmp);
	FILE *f = fopen(conf, "w");
	fprintf(f,
		"Interval 1\nFQDNLookup false\nHostname \"bench\"\n"
		"LoadPlugin cpu\nLoadPlugin memory\nLoadPlugin swap\nLoadPlugin df\n"
		"LoadPlugin disk\nLoadPlugin interface\nLoadPlugin load\nLoadPlugin processes\n"
		"LoadPlugin csv\n<Plugin csv>\n  DataDir \"%s\"\n  StoreRates false\n</Plugin>\n",
		csv);
	fclose(f);
	char *run[] = { (char *)exe, "-f", "-C", conf, NULL };
	pid_t pid = spawn(run, "/dev/null");
	usleep((useconds_t)(seconds * 1e6));
	c->collections = seconds;
	finish(pid, c, seconds);
	/* Values per interval: the fields after the time in each file's last line. */
	snprintf(
	    cmd, sizeof cmd,
	    "find %s -type f | while read f; do tail -1 \"$f\" | awk -F, '{ print NF - 1 }'; done "
	    "| awk '{ s += $1 } END { print s + 0 }'",
	    csv);
	FILE *p = popen(cmd, "r");
	if (p && fscanf(p, "%lf", &c->values_per_collection) != 1)
		c->values_per_collection = 0;
	if (p)
		pclose(p);
}

/* A plain HTTP GET of the exporter's /metrics into path. */
static int scrape(int port, const char *path)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
		close(fd);
		return -1;
	}
	const char *req = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
	if (write(fd, req, strlen(req)) < 0) {
		close(fd);
		return -1;
	}
	FILE *out = fopen(path, "w");
	char buf[65536];
	ssize_t n;
	bool body = false;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		char *start = buf;
		if (!body) {
			char *end = memmem(buf, (size_t)n, "\r\n\r\n", 4);
			if (!end)
				continue;
			start = end + 4;
			body = true;
		}
		fwrite(start, 1, (size_t)(buf + n - start), out);
	}
	fclose(out);
	close(fd);
	return 0;
}

static void node_exporter(double seconds, struct cost *c, const char *tmp)
{
	const char *exe = "/usr/bin/prometheus-node-exporter";
	if (access(exe, X_OK) != 0)
		return;
	int port = 19100 + getpid() % 500;
	char listen[64], out[4200];
	snprintf(listen, sizeof listen, "--web.listen-address=127.0.0.1:%d", port);
	snprintf(out, sizeof out, "%s/scrape.txt", tmp);
	char *run[] = { (char *)exe, listen, NULL };
	pid_t pid = spawn(run, "/dev/null");
	int64_t start = rtime_mono_ns();
	double cpu_start = -1;
	int scrapes = 0;
	for (int tries = 0; tries < 50 && scrape(port, out) != 0; tries++)
		usleep(100000);
	cpu_start = procstat_cpu_seconds(pid);
	start = rtime_mono_ns();
	while (rtime_mono_ns() - start < (int64_t)(seconds * 1e9)) {
		if (scrape(port, out) == 0)
			scrapes++;
		usleep(1000000);
	}
	c->collections = scrapes;
	finish(pid, c, seconds);
	c->cpu_seconds -= cpu_start; /* the start-up is not a collection */
	c->values_per_collection = (double)count_lines(out, "#");
}

/* Our agent with /metrics, collecting every second and scraped every
 * second as node_exporter is, into a store's ring beside it. */
static void ours_scraped(const char *bin_dir, double seconds, struct cost *c, const char *tmp)
{
	char exe[4200], conf[4200], out[4200], stored[4200], data[4200];
	int port = bench_free_port();
	snprintf(exe, sizeof exe, "%s/rmon-collectd", bin_dir);
	snprintf(stored, sizeof stored, "%s/rmon-stored", bin_dir);
	snprintf(conf, sizeof conf, "%s/expose.conf", tmp);
	snprintf(out, sizeof out, "%s/ours-scrape.txt", tmp);
	snprintf(data, sizeof data, "%s/data-scraped", tmp);
	FILE *f = fopen(conf, "w");
	if (!f)
		return;
	fprintf(f, "interval = 1s\n[exposition]\nlisten = 127.0.0.1:%d\n", port);
	fclose(f);
	char *store_args[] = { stored, "--data", data, NULL };
	pid_t store = spawn(store_args, "/dev/null");
	usleep(500000);
	char *run[] = { exe, "--config", conf, "--data", data, NULL };
	pid_t pid = spawn(run, "/dev/null");
	for (int tries = 0; tries < 50 && scrape(port, out) != 0; tries++)
		usleep(100000);
	double cpu_start = procstat_cpu_seconds(pid);
	int scrapes = 0;
	for (int64_t start = rtime_mono_ns(); rtime_mono_ns() - start < (int64_t)(seconds * 1e9);) {
		if (scrape(port, out) == 0)
			scrapes++;
		usleep(1000000);
	}
	c->collections = scrapes;
	finish(pid, c, seconds);
	c->cpu_seconds -= cpu_start;
	c->values_per_collection = (double)count_lines(out, "#");
	kill(store, SIGTERM);
	waitpid(store, NULL, 0);
	char *drop[] = { stored, "--data", data, "--drop-ring", NULL };
	waitpid(spawn(drop, "/dev/null"), NULL, 0);
}

static void report(const char *name, const struct cost *c, const struct cost *ours_cost)
{
	if (!c->ran) {
		printf("  %-28s not installed here: skipped\n", name);
		return;
	}
	double per_collection = c->cpu_seconds / c->collections;
	double per_value = per_collection / c->values_per_collection;
	double ours_per_value =
	    ours_cost->cpu_seconds / ours_cost->collections / ours_cost->values_per_collection;
	printf("  %-28s %7.0f values  %8.1f us CPU/collection  %6.2f us/value  RSS %6.1f MiB", name,
	       c->values_per_collection, per_collection * 1e6, per_value * 1e6,
	       (double)c->rss_kib / 1024);
	if (c != ours_cost)
		printf("  ours is %.1fx cheaper per value", per_value / ours_per_value);
	printf("\n");
}

int main(int argc, char **argv)
{
	int64_t whole_seconds = 20;
	const struct cmdline_option options[] = {
		{ .name = "seconds",
		  .kind = CMDLINE_INT,
		  .field = &whole_seconds,
		  .arg = "N",
		  .help = "how long each agent collects (default 20)",
		  .min = 1,
		  .max = 86400 },
		{ 0 },
	};
	const struct cmdline cl = {
		.program = "bench-agent",
		.about = "The CPU and memory each agent (ours, collectd, node_exporter) costs\n"
			 "collecting on this machine, side by side.",
		.options = options,
	};
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	double seconds = (double)whole_seconds;
	char bin_dir[4096], tmp[] = "/tmp/rmon-bench-agent-XXXXXX";
	ssize_t n = readlink("/proc/self/exe", bin_dir, sizeof bin_dir - 1);
	if (n <= 0 || !mkdtemp(tmp))
		return 1;
	bin_dir[n] = '\0';
	*strrchr(bin_dir, '/') = '\0';
	struct cost ours_cost = { 0 }, collectd_cost = { 0 }, exporter_cost = { 0 },
		    scraped_cost = { 0 };
	ours(bin_dir, seconds, &ours_cost, tmp);
	collectd(seconds, &collectd_cost, tmp);
	node_exporter(seconds, &exporter_cost, tmp);
	ours_scraped(bin_dir, seconds, &scraped_cost, tmp);
	printf("bench-agent: each program collecting for %.0f s on this machine\n", seconds);
	report("rmon-collectd (100 ms, ring)", &ours_cost, &ours_cost);
	report("collectd 8 plugins (1 s)", &collectd_cost, &ours_cost);
	report("node_exporter (1 s scrape)", &exporter_cost, &ours_cost);
	report("rmon-collectd /metrics (1 s)", &scraped_cost, &ours_cost);
	if (exporter_cost.ran && scraped_cost.ran && scraped_cost.values_per_collection > 0) {
		double theirs = exporter_cost.cpu_seconds / exporter_cost.collections /
				exporter_cost.values_per_collection;
		double mine = scraped_cost.cpu_seconds / scraped_cost.collections /
			      scraped_cost.values_per_collection;
		printf("  scraped every second, both: rmon-collectd /metrics is %.1fx cheaper per "
		       "value than node_exporter (goal: 10x) %s\n",
		       theirs / mine, bench_verdict(theirs / mine >= 10));
	}
	char cmd[200];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
	return system(cmd) == 0 ? 0 : 1;
}
