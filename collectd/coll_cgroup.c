/* coll_cgroup.c - cgroup v2 figures (systemd services, containers) per
 * cgroup down to a configured depth: CPU, throttling, memory, I/O, pids
 * and pressure.  Hosts with only cgroup v1 have no such hierarchy: the
 * collector then reports nothing, which is not an error. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "collectd/coll.h"
#include "collectd/parse.h"

/* Finds where cgroup2 is mounted (usually /sys/fs/cgroup, or
 * /sys/fs/cgroup/unified on hybrid hosts). */
static bool find_cgroup2(struct coll_state *st, char *mount, size_t len)
{
	char *text;
	if (coll_read_mounts(coll_state_files(st), &text) <= 0)
		return false;
	for (const char *p = text; (p = strstr(p, " - cgroup2 ")); p++) {
		const char *line = p;
		while (line > text && line[-1] != '\n')
			line--;
		/* The fifth field is the mount point. */
		const char *s = line;
		for (int i = 0; i < 4 && s; i++) {
			s = strchr(s, ' ');
			s = s ? s + 1 : NULL;
		}
		if (!s)
			return false;
		snprintf(mount, len, "%.*s", (int)strcspn(s, " "), s);
		return true;
	}
	return false;
}

static double key_value(const char *text, const char *key)
{
	size_t n = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, key, n) == 0 && p[n] == ' ')
			return (double)strtoull_or_zero(p + n + 1);
	return NAN;
}

static void one_cgroup(struct coll_state *st, const char *dir, const char *name,
		       struct coll_sink *sink)
{
	struct coll_files *f = coll_state_files(st);
	char path[1024], *text;
	snprintf(path, sizeof path, "%s/cpu.stat", dir);
	if (coll_read(f, path, &text) > 0) {
		static const struct {
			const char *key, *metric;
			double divisor; /* to seconds: dividing rounds exactly */
		} cpu[] = {
			{ "usage_usec", "rmon_cgroup_cpu_usage_seconds_total", 1e6 },
			{ "user_usec", "rmon_cgroup_cpu_user_seconds_total", 1e6 },
			{ "system_usec", "rmon_cgroup_cpu_system_seconds_total", 1e6 },
			{ "nr_throttled", "rmon_cgroup_cpu_throttled_periods_total", 1 },
			{ "throttled_usec", "rmon_cgroup_cpu_throttled_seconds_total", 1e6 },
		};
		for (size_t i = 0; i < sizeof cpu / sizeof cpu[0]; i++) {
			double v = key_value(text, cpu[i].key);
			if (!isnan(v))
				coll_emit1(sink, cpu[i].metric, "cgroup", name, v / cpu[i].divisor);
		}
	}
	static const struct {
		const char *file, *metric;
	} single[] = {
		{ "memory.current", "rmon_cgroup_memory_bytes" },
		{ "memory.max", "rmon_cgroup_memory_max_bytes" },
		{ "memory.swap.current", "rmon_cgroup_swap_bytes" },
		{ "pids.current", "rmon_cgroup_pids" },
	};
	for (size_t i = 0; i < sizeof single / sizeof single[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, single[i].file);
		/* "max" means no limit: reported as +Inf. */
		if (coll_read(f, path, &text) > 0)
			coll_emit1(sink, single[i].metric, "cgroup", name,
				   strncmp(text, "max", 3) == 0 ? INFINITY
								: (double)strtoull_or_zero(text));
	}
	snprintf(path, sizeof path, "%s/io.stat", dir);
	if (coll_read(f, path, &text) >= 0) {
		static const char *const keys[] = { "rbytes=", "wbytes=", "rios=", "wios=" };
		static const char *const metrics[] = { "rmon_cgroup_io_read_bytes_total",
						       "rmon_cgroup_io_written_bytes_total",
						       "rmon_cgroup_io_reads_total",
						       "rmon_cgroup_io_writes_total" };
		double sums[4] = { 0 };
		for (int k = 0; k < 4; k++)
			for (const char *p = text; (p = strstr(p, keys[k])); p++)
				sums[k] += (double)strtoull_or_zero(p + strlen(keys[k]));
		for (int k = 0; k < 4; k++)
			coll_emit1(sink, metrics[k], "cgroup", name, sums[k]);
	}
	static const char *const resources[] = { "cpu", "memory", "io" };
	for (int r = 0; r < 3; r++) {
		snprintf(path, sizeof path, "%s/%s.pressure", dir, resources[r]);
		if (coll_read(f, path, &text) <= 0)
			continue;
		for (const char *p = text; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
			const char *kind = strncmp(p, "some", 4) == 0	? "some"
					   : strncmp(p, "full", 4) == 0 ? "full"
									: NULL;
			const char *total = kind ? strstr(p, "total=") : NULL;
			if (!total)
				continue;
			char metric[64];
			snprintf(metric, sizeof metric, "rmon_cgroup_pressure_%s_%s_seconds_total",
				 resources[r], kind);
			coll_emit1(sink, metric, "cgroup", name,
				   (double)strtoull_or_zero(total + 6) / 1e6);
		}
	}
}

/* Reports the cgroups below path (root-relative) down to the configured
 * depth; the tree is listed again only every ten seconds (coll_list), so a
 * new cgroup shows within that, and one removed meanwhile reads nothing. */
static void walk(struct coll_state *st, const char *path, const char *name, int depth,
		 struct coll_sink *sink)
{
	const struct coll_config *c = coll_state_config(st);
	if (depth > 0)
		one_cgroup(st, path, name, sink);
	if (depth >= c->cgroup_depth)
		return;
	const char *names;
	long len = coll_list(coll_state_files(st), path, &names);
	for (const char *p = names, *end = names + (len > 0 ? len : 0); p < end;
	     p += strlen(p) + 1) {
		if (p[0] != 'd')
			continue;
		char child[1024], child_name[512];
		snprintf(child, sizeof child, "%s/%s", path, p + 1);
		snprintf(child_name, sizeof child_name, "%s/%s", depth ? name : "", p + 1);
		if (!coll_glob_list_match(c->cgroup_exclude, child_name))
			walk(st, child, child_name, depth + 1, sink);
	}
}

int coll_cgroup(struct coll_state *st, struct coll_sink *sink, struct err *e)
{
	char mount[512];
	if (!find_cgroup2(st, mount, sizeof mount))
		return 0;
	walk(st, mount, "/", 0, sink);
	return 0;
}
