/* coll_misc.c - file descriptors, entropy, clock synchronisation, and
 * hardware temperatures (hwmon and thermal zones). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/timex.h>

#include "collectd/coll.h"
#include "collectd/parse.h"

int coll_misc(struct coll_state *st, struct coll_sink *sink, struct err *e)
{
	struct coll_files *f = coll_state_files(st);
	char *text;
	if (coll_read(f, "/proc/sys/fs/file-nr", &text) > 0) {
		const char *p = text;
		bool ok;
		uint64_t allocated = parse_u64(&p, &ok);
		parse_u64(&p, &ok); /* always 0 since 2.6 */
		uint64_t maximum = parse_u64(&p, &ok);
		if (ok) {
			coll_emit(sink, "node_filefd_allocated", (double)allocated);
			coll_emit(sink, "node_filefd_maximum", (double)maximum);
		}
	}
	if (coll_read(f, "/proc/sys/kernel/random/entropy_avail", &text) > 0)
		coll_emit(sink, "node_entropy_available_bits", (double)strtoull_or_zero(text));
	/* adjtimex with modes 0 only reads: is the kernel clock synchronised? */
	struct timex tx = { 0 };
	int state = adjtimex(&tx);
	if (state >= 0) {
		coll_emit(sink, "node_timex_sync_status",
			  state != TIME_ERROR && !(tx.status & STA_UNSYNC));
		coll_emit(sink, "node_timex_offset_seconds",
			  (double)tx.offset / ((tx.status & STA_NANO) ? 1e9 : 1e6));
	}
	return 0;
}

static void read_temperature(struct coll_state *st, const char *path, const char *metric,
			     const char *k1, const char *v1, const char *k2, const char *v2,
			     struct coll_sink *sink)
{
	char *text;
	if (coll_read(coll_state_files(st), path, &text) <= 0)
		return;
	const char *p = text;
	bool negative = *p == '-';
	p += negative;
	bool ok;
	uint64_t millidegrees = parse_u64(&p, &ok);
	if (ok)
		coll_emit2(sink, metric, k1, v1, k2, v2,
			   (negative ? -1.0 : 1.0) * (double)millidegrees / 1000.0);
}

int coll_hwmon(struct coll_state *st, struct coll_sink *sink, struct err *e)
{
	const char *root = coll_root(coll_state_files(st));
	char path[1024], *text;
	DIR *d;
	snprintf(path, sizeof path, "%s/sys/class/hwmon", root);
	if ((d = opendir(path))) {
		for (struct dirent *de; (de = readdir(d));) {
			if (strncmp(de->d_name, "hwmon", 5) != 0)
				continue;
			char chip[64] = "", dir[1024];
			snprintf(path, sizeof path, "/sys/class/hwmon/%s/name", de->d_name);
			if (coll_read(coll_state_files(st), path, &text) > 0)
				snprintf(chip, sizeof chip, "%.*s", (int)strcspn(text, "\n"), text);
			snprintf(dir, sizeof dir, "%s/sys/class/hwmon/%s", root, de->d_name);
			DIR *sensors = opendir(dir);
			for (struct dirent *s; sensors && (s = readdir(sensors));) {
				size_t n = strlen(s->d_name);
				if (strncmp(s->d_name, "temp", 4) != 0 || n < 10 ||
				    strcmp(s->d_name + n - 6, "_input") != 0)
					continue;
				char sensor[32];
				snprintf(sensor, sizeof sensor, "%.*s", (int)(n - 6), s->d_name);
				snprintf(path, sizeof path, "/sys/class/hwmon/%s/%s", de->d_name,
					 s->d_name);
				read_temperature(st, path, "node_hwmon_temp_celsius", "chip",
						 chip[0] ? chip : de->d_name, "sensor", sensor,
						 sink);
			}
			if (sensors)
				closedir(sensors);
		}
		closedir(d);
	}
	snprintf(path, sizeof path, "%s/sys/class/thermal", root);
	if ((d = opendir(path))) {
		for (struct dirent *de; (de = readdir(d));) {
			if (strncmp(de->d_name, "thermal_zone", 12) != 0)
				continue;
			char type[64] = "unknown";
			snprintf(path, sizeof path, "/sys/class/thermal/%s/type", de->d_name);
			if (coll_read(coll_state_files(st), path, &text) > 0)
				snprintf(type, sizeof type, "%.*s", (int)strcspn(text, "\n"), text);
			snprintf(path, sizeof path, "/sys/class/thermal/%s/temp", de->d_name);
			read_temperature(st, path, "node_thermal_zone_temp", "zone",
					 de->d_name + 12, "type", type, sink);
		}
		closedir(d);
	}
	return 0;
}
