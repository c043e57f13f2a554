/* coll_misc.c - file descriptors, entropy, clock synchronisation, and
 * hardware temperatures (hwmon and thermal zones). */
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

/* The first line of a small sysfs file, or fallback. */
static void first_line(struct coll_files *f, const char *path, char *out, size_t len,
		       const char *fallback)
{
	char *text;
	if (coll_read(f, path, &text) > 0)
		snprintf(out, len, "%.*s", (int)strcspn(text, "\n"), text);
	else
		snprintf(out, len, "%s", fallback);
}

/* Sensors are found through listings kept ten seconds (coll_list): they
 * come and go only with hardware or a driver. */
int coll_hwmon(struct coll_state *st, struct coll_sink *sink, struct err *e)
{
	struct coll_files *f = coll_state_files(st);
	const char *chips, *sensors, *zones;
	char path[1024], chip[64];
	long n = coll_list(f, "/sys/class/hwmon", &chips);
	for (const char *c = chips, *end = chips + (n > 0 ? n : 0); c < end; c += strlen(c) + 1) {
		const char *hwmon = c + 1;
		if (strncmp(hwmon, "hwmon", 5) != 0)
			continue;
		snprintf(path, sizeof path, "/sys/class/hwmon/%s/name", hwmon);
		first_line(f, path, chip, sizeof chip, hwmon);
		snprintf(path, sizeof path, "/sys/class/hwmon/%s", hwmon);
		long m = coll_list(f, path, &sensors);
		for (const char *s = sensors, *send = sensors + (m > 0 ? m : 0); s < send;
		     s += strlen(s) + 1) {
			const char *input = s + 1;
			size_t len = strlen(input);
			if (strncmp(input, "temp", 4) != 0 || len < 10 ||
			    strcmp(input + len - 6, "_input") != 0)
				continue;
			char sensor[32];
			snprintf(sensor, sizeof sensor, "%.*s", (int)(len - 6), input);
			snprintf(path, sizeof path, "/sys/class/hwmon/%s/%s", hwmon, input);
			read_temperature(st, path, "node_hwmon_temp_celsius", "chip", chip,
					 "sensor", sensor, sink);
		}
	}
	n = coll_list(f, "/sys/class/thermal", &zones);
	for (const char *z = zones, *end = zones + (n > 0 ? n : 0); z < end; z += strlen(z) + 1) {
		const char *zone = z + 1;
		if (strncmp(zone, "thermal_zone", 12) != 0)
			continue;
		char type[64];
		snprintf(path, sizeof path, "/sys/class/thermal/%s/type", zone);
		first_line(f, path, type, sizeof type, "unknown");
		snprintf(path, sizeof path, "/sys/class/thermal/%s/temp", zone);
		read_temperature(st, path, "node_thermal_zone_temp", "zone", zone + 12, "type",
				 type, sink);
	}
	return 0;
}
