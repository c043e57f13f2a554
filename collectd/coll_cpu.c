/* coll_cpu.c - CPU time per core and in total, scheduler counters, CPU
 * frequency, load averages, uptime and pressure stall information. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "collectd/coll.h"
#include "collectd/parse.h"

static const char *const cpu_modes[] = { "user", "nice",    "system", "idle",  "iowait",
					 "irq",	 "softirq", "steal",  "guest", "guest_nice" };

/* "cpu" / "cpuN" lines: as many mode columns as this kernel has (older
 * kernels lack steal, guest and guest_nice).  Guest time is also counted
 * in user and nice, as in node_exporter. */
static void cpu_line(const char *p, long hz, struct coll_sink *sink)
{
	char cpu[16];
	const char *label = "total";
	if (p[3] != ' ') {
		const char *s = p + 3;
		size_t n = strspn(s, "0123456789");
		snprintf(cpu, sizeof cpu, "%.*s", (int)n, s);
		label = cpu;
	}
	p += strcspn(p, " ");
	for (size_t m = 0; m < sizeof cpu_modes / sizeof cpu_modes[0]; m++) {
		bool ok;
		uint64_t ticks = parse_u64(&p, &ok);
		if (!ok)
			break;
		coll_emit2(sink, "node_cpu_seconds_total", "cpu", label, "mode", cpu_modes[m],
			   (double)ticks / (double)hz);
	}
}

int coll_parse_stat(const char *text, long hz, struct coll_sink *sink)
{
	static const struct {
		const char *key, *metric;
	} counters[] = {
		{ "ctxt ", "node_context_switches_total" },
		{ "intr ", "node_intr_total" },
		{ "processes ", "node_forks_total" },
		{ "procs_running ", "node_procs_running" },
		{ "procs_blocked ", "node_procs_blocked" },
		{ "btime ", "node_boot_time_seconds" },
	};
	const char *p = text;
	int found = 0;
	do {
		if (strncmp(p, "cpu", 3) == 0) {
			cpu_line(p, hz, sink);
			found++;
			continue;
		}
		for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++) {
			size_t n = strlen(counters[i].key);
			if (strncmp(p, counters[i].key, n) == 0) {
				const char *v = p + n;
				bool ok;
				uint64_t value = parse_u64(&v, &ok);
				if (ok)
					coll_emit(sink, counters[i].metric, (double)value);
			}
		}
	} while (parse_next_line(&p));
	return found ? 0 : -EPROTO;
}

int coll_parse_loadavg(const char *text, struct coll_sink *sink)
{
	double l1, l5, l15;
	int running, total;
	if (sscanf(text, "%lf %lf %lf %d/%d", &l1, &l5, &l15, &running, &total) != 5)
		return -EPROTO;
	coll_emit(sink, "node_load1", l1);
	coll_emit(sink, "node_load5", l5);
	coll_emit(sink, "node_load15", l15);
	return 0;
}

int coll_parse_uptime(const char *text, struct coll_sink *sink)
{
	double up;
	if (sscanf(text, "%lf", &up) != 1)
		return -EPROTO;
	coll_emit(sink, "node_uptime_seconds", up);
	return 0;
}

/* "some avg10=0.00 avg60=0.00 avg300=0.00 total=12345" (µs). */
int coll_parse_pressure(const char *text, const char *resource, struct coll_sink *sink)
{
	const char *p = text;
	int found = 0;
	do {
		const char *kind = strncmp(p, "some ", 5) == 0	 ? "some"
				   : strncmp(p, "full ", 5) == 0 ? "full"
								 : NULL;
		const char *total = strstr(p, "total=");
		const char *nl = strchr(p, '\n');
		if (!kind || !total || (nl && total > nl))
			continue;
		const char *v = total + 6;
		bool ok;
		uint64_t us = parse_u64(&v, &ok);
		if (!ok)
			continue;
		char metric[64];
		snprintf(metric, sizeof metric, "node_pressure_%s_%s_seconds_total", resource,
			 kind);
		coll_emit(sink, metric, (double)us / 1e6);
		found++;
	} while (parse_next_line(&p));
	return found ? 0 : -EPROTO;
}

static void cpu_frequencies(struct coll_state *st, struct coll_sink *sink)
{
	struct coll_files *f = coll_state_files(st);
	char path[256];
	for (int cpu = 0; cpu < 4096; cpu++) {
		char *text, label[16];
		snprintf(path, sizeof path,
			 "/sys/devices/system/cpu/cpu%d/cpufreq/scaling_cur_freq", cpu);
		if (coll_read(f, path, &text) <= 0)
			break;
		snprintf(label, sizeof label, "%d", cpu);
		const char *p = text;
		bool ok;
		uint64_t khz = parse_u64(&p, &ok);
		if (ok)
			coll_emit1(sink, "node_cpu_frequency_hertz", "cpu", label,
				   (double)khz * 1000);
	}
}

int coll_cpu(struct coll_state *st, struct coll_sink *sink, struct err *e)
{
	char *text;
	long n = coll_read(coll_state_files(st), "/proc/stat", &text);
	if (n < 0)
		return err_sys(e, (int)n, "cannot read /proc/stat");
	if (coll_parse_stat(text, sysconf(_SC_CLK_TCK), sink) != 0)
		return err_set(e, -EPROTO, "/proc/stat has no cpu lines");
	cpu_frequencies(st, sink);
	return 0;
}

int coll_load(struct coll_state *st, struct coll_sink *sink, struct err *e)
{
	char *text;
	struct coll_files *f = coll_state_files(st);
	long n = coll_read(f, "/proc/loadavg", &text);
	if (n < 0 || coll_parse_loadavg(text, sink) != 0)
		return err_sys(e, n < 0 ? (int)n : -EPROTO, "cannot read /proc/loadavg");
	n = coll_read(f, "/proc/uptime", &text);
	if (n < 0 || coll_parse_uptime(text, sink) != 0)
		return err_sys(e, n < 0 ? (int)n : -EPROTO, "cannot read /proc/uptime");
	return 0;
}

int coll_pressure(struct coll_state *st, struct coll_sink *sink, struct err *e)
{
	static const char *const resources[] = { "cpu", "memory", "io" };
	struct coll_files *f = coll_state_files(st);
	int found = 0;
	for (int i = 0; i < 3; i++) {
		char path[64], *text;
		snprintf(path, sizeof path, "/proc/pressure/%s", resources[i]);
		if (coll_read(f, path, &text) > 0 &&
		    coll_parse_pressure(text, resources[i], sink) == 0)
			found++;
	}
	/* Kernels without PSI (before 4.20, or psi=0) simply have none. */
	(void)found;
	return 0;
}
