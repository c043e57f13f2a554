/* families.c - the graph specs of a host page (see families.h) and the
 * reading of canonical names they need. */
#include "reportgen/families.h"

#include <string.h>

static const struct family_line load_lines[] = {
	{ .title = "1 min", .plus = { "node_load1" } },
	{ .title = "5 min", .plus = { "node_load5" } },
	{ .title = "15 min", .plus = { "node_load15" } },
};

/* The kernel's own breakdown: what "used" means in free(1). */
static const struct family_line memory_lines[] = {
	{ .title = "used",
	  .plus = { "node_memory_MemTotal_bytes" },
	  .minus = { "node_memory_MemFree_bytes", "node_memory_Buffers_bytes",
		     "node_memory_Cached_bytes", "node_memory_SReclaimable_bytes" } },
	{ .title = "buffers", .plus = { "node_memory_Buffers_bytes" } },
	{ .title = "cached",
	  .plus = { "node_memory_Cached_bytes", "node_memory_SReclaimable_bytes" } },
	{ .title = "free", .plus = { "node_memory_MemFree_bytes" } },
};

static const struct family_line swap_lines[] = {
	{ .title = "used",
	  .plus = { "node_memory_SwapTotal_bytes" },
	  .minus = { "node_memory_SwapFree_bytes" } },
	{ .title = "swap cached", .plus = { "node_memory_SwapCached_bytes" } },
};

static const struct family_line disk_space_lines[] = {
	{ .title = "used",
	  .plus = { "node_filesystem_size_bytes" },
	  .minus = { "node_filesystem_avail_bytes" },
	  .per = { "node_filesystem_size_bytes" } },
	{ .title = "inodes used",
	  .plus = { "node_filesystem_files" },
	  .minus = { "node_filesystem_files_free" },
	  .per = { "node_filesystem_files" } },
};

static const struct family_line disk_io_lines[] = {
	{ .title = "read", .plus = { "node_disk_read_bytes_total" } },
	{ .title = "written", .plus = { "node_disk_written_bytes_total" } },
};

static const struct family_line network_lines[] = {
	{ .title = "received", .plus = { "node_network_receive_bytes_total" } },
	{ .title = "sent", .plus = { "node_network_transmit_bytes_total" } },
};

static const struct family_line pressure_lines[] = {
	{ .title = "cpu some", .plus = { "node_pressure_cpu_some_seconds_total" }, .scale = 100 },
	{ .title = "memory some",
	  .plus = { "node_pressure_memory_some_seconds_total" },
	  .scale = 100 },
	{ .title = "memory full",
	  .plus = { "node_pressure_memory_full_seconds_total" },
	  .scale = 100 },
	{ .title = "io some", .plus = { "node_pressure_io_some_seconds_total" }, .scale = 100 },
	{ .title = "io full", .plus = { "node_pressure_io_full_seconds_total" }, .scale = 100 },
};

#define LINES(a) .lines = (a), .n_lines = sizeof(a) / sizeof(a)[0]

const struct family report_families[] = {
	{ .key = "cpu",
	  .title = "CPU",
	  .unit = PLOT_UNIT_PERCENT,
	  .counter = true,
	  .stacked = true,
	  .metric = "node_cpu_seconds_total",
	  .match_key = "cpu",
	  .match_value = "total",
	  .line_label = "mode",
	  .skip = "guest,guest_nice", /* counted in user and nice already */
	  .hide = "idle",
	  .percent_of_sum = true,
	  .percent_axis = true },
	{ .key = "load",
	  .title = "Load",
	  .unit = PLOT_UNIT_NONE,
	  LINES(load_lines),
	  .cores_threshold = true },
	{ .key = "memory",
	  .title = "Memory",
	  .unit = PLOT_UNIT_BYTES,
	  .stacked = true,
	  LINES(memory_lines) },
	{ .key = "swap", .title = "Swap", .unit = PLOT_UNIT_BYTES, LINES(swap_lines) },
	{ .key = "disk",
	  .title = "Disk space",
	  .unit = PLOT_UNIT_PERCENT,
	  LINES(disk_space_lines),
	  .split_label = "mountpoint",
	  .percent_axis = true },
	{ .key = "diskio",
	  .title = "Disk I/O",
	  .unit = PLOT_UNIT_BYTES_PER_SEC,
	  .counter = true,
	  LINES(disk_io_lines),
	  .split_label = "device" },
	{ .key = "net",
	  .title = "Network",
	  .unit = PLOT_UNIT_BYTES_PER_SEC,
	  .counter = true,
	  LINES(network_lines),
	  .split_label = "device" },
	{ .key = "tcp",
	  .title = "TCP connections",
	  .metric = "node_tcp_connections",
	  .line_label = "state",
	  .drop_zero_lines = true },
	{ .key = "procs",
	  .title = "Processes",
	  .stacked = true,
	  .metric = "node_processes_state",
	  .line_label = "state",
	  .drop_zero_lines = true },
	{ .key = "pressure",
	  .title = "Pressure (share of time stalled)",
	  .unit = PLOT_UNIT_PERCENT,
	  .counter = true,
	  LINES(pressure_lines) },
	{ .key = "cgcpu",
	  .title = "cgroups: CPU",
	  .unit = PLOT_UNIT_PERCENT,
	  .counter = true,
	  .metric = "rmon_cgroup_cpu_usage_seconds_total",
	  .line_label = "cgroup",
	  .scale = 100,
	  .drop_zero_lines = true,
	  .max_lines = 8 },
	{ .key = "cgmem",
	  .title = "cgroups: memory",
	  .unit = PLOT_UNIT_BYTES,
	  .metric = "rmon_cgroup_memory_bytes",
	  .line_label = "cgroup",
	  .drop_zero_lines = true,
	  .max_lines = 8 },
	{ .key = "temp",
	  .title = "Temperatures",
	  .unit = PLOT_UNIT_CELSIUS,
	  .metric = "node_hwmon_temp_celsius",
	  .line_label = "sensor" },
	{ .key = "thermal",
	  .title = "Thermal zones",
	  .unit = PLOT_UNIT_CELSIUS,
	  .metric = "node_thermal_zone_temp",
	  .line_label = "type" },
};
const size_t report_n_families = sizeof report_families / sizeof report_families[0];

void family_metric_of(const char *name, size_t len, char *buf, size_t cap)
{
	const char *slash = memchr(name, '/', len);
	const char *m = slash ? slash + 1 : name;
	size_t n = 0;
	while (m + n < name + len && m[n] != '{' && n + 1 < cap)
		n++;
	memcpy(buf, m, n);
	buf[n] = '\0';
}

int family_label_of(const char *name, size_t len, const char *key, char *buf, size_t cap)
{
	const char *p = memchr(name, '{', len), *end = name + len;
	size_t klen = strlen(key);
	if (!p)
		return -1;
	p++;
	while (p < end && *p != '}') {
		const char *k = p;
		while (p < end && *p != '=')
			p++;
		bool match = (size_t)(p - k) == klen && memcmp(k, key, klen) == 0;
		p += 2; /* =" */
		size_t n = 0;
		while (p < end && *p != '"') {
			char c = *p++;
			if (c == '\\' && p < end)
				c = *p++;
			if (match && n + 1 < cap)
				buf[n++] = c;
		}
		p++; /* closing quote */
		if (match) {
			buf[n] = '\0';
			return (int)n;
		}
		if (p < end && *p == ',')
			p++;
	}
	return -1;
}

bool family_in_list(const char *list, const char *value)
{
	size_t vlen = strlen(value);
	while (list && *list) {
		const char *comma = strchr(list, ',');
		size_t n = comma ? (size_t)(comma - list) : strlen(list);
		if (n == vlen && memcmp(list, value, n) == 0)
			return true;
		list = comma ? comma + 1 : NULL;
	}
	return false;
}
