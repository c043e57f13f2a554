/* rtime.c - clocks, durations and points in time; see rtime.h. */
#include "lib/rtime.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t clock_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * RTIME_NS_PER_SEC + ts.tv_nsec;
}

int64_t rtime_now_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

int64_t rtime_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static const struct {
	const char *name;
	int64_t ns;
} units[] = {
	{ "ns", 1 },
	{ "us", 1000 },
	{ "ms", RTIME_NS_PER_MS },
	{ "s", RTIME_NS_PER_SEC },
	{ "m", 60 * RTIME_NS_PER_SEC },
	{ "h", 3600 * RTIME_NS_PER_SEC },
	{ "d", 86400 * RTIME_NS_PER_SEC },
	{ "w", 7 * 86400 * RTIME_NS_PER_SEC },
};

/* Reads the unit at *p (longest match first: "ms" before "m"), advancing p. */
static int64_t read_unit(const char **p)
{
	int64_t best = 0;
	size_t best_len = 0;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		size_t len = strlen(units[i].name);
		if (len > best_len && strncmp(*p, units[i].name, len) == 0) {
			best = units[i].ns;
			best_len = len;
		}
	}
	*p += best_len;
	return best;
}

int rtime_parse_duration(const char *text, int64_t *ns, struct err *e)
{
	const char *p = text;
	double total = 0;
	if (!text || !*text)
		return err_set(e, -EINVAL, "empty duration (expected e.g. 90s, 5m, 2h, 7d)");
	while (*p) {
		char *end;
		if (*p < '0' || *p > '9')
			goto bad;
		double value = strtod(p, &end);
		if (end == p)
			goto bad;
		p = end;
		int64_t unit = read_unit(&p);
		if (unit == 0)
			goto bad;
		total += value * (double)unit;
	}
	if (total > 9.2e18)
		return err_set(e, -ERANGE, "duration '%s' is too long", text);
	*ns = (int64_t)total;
	return 0;
bad:
	return err_set(e, -EINVAL,
		       "bad duration '%s' (expected a number and a unit: ns, us, ms, s, m, h, d, "
		       "w; e.g. 90s, 5m, 2h, 7d)",
		       text);
}

static int parse_rfc3339(const char *text, int64_t *ns)
{
	struct tm tm = { 0 };
	const char *rest = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!rest)
		rest = strptime(text, "%Y-%m-%d %H:%M:%S", &tm);
	if (!rest)
		return -EINVAL;
	double fraction = 0;
	if (*rest == '.') {
		char *end;
		fraction = strtod(rest, &end);
		rest = end;
	}
	if (strcmp(rest, "Z") != 0 && strcmp(rest, "") != 0 && strcmp(rest, "+00:00") != 0)
		return -EINVAL;
	*ns = (int64_t)timegm(&tm) * RTIME_NS_PER_SEC + (int64_t)(fraction * 1e9);
	return 0;
}

int rtime_parse_time(const char *text, int64_t now_ns, int64_t *ns, struct err *e)
{
	int64_t offset;
	if (!text || !*text)
		return err_set(
		    e, -EINVAL,
		    "empty time (expected now, -1h, unix seconds or 2026-11-24T10:00:00Z)");
	if (strcmp(text, "now") == 0) {
		*ns = now_ns;
		return 0;
	}
	const char *rel = strncmp(text, "now", 3) == 0 ? text + 3 : text;
	if (rel[0] == '-' || rel[0] == '+') {
		if (rtime_parse_duration(rel + 1, &offset, NULL) != 0)
			goto bad;
		*ns = rel[0] == '-' ? now_ns - offset : now_ns + offset;
		return 0;
	}
	char *end;
	errno = 0;
	double seconds = strtod(text, &end);
	if (end != text && *end == '\0' && errno == 0 && seconds >= 0) {
		*ns = (int64_t)(seconds * 1e9);
		return 0;
	}
	if (parse_rfc3339(text, ns) == 0)
		return 0;
bad:
	return err_set(
	    e, -EINVAL,
	    "bad time '%s' (expected now, -1h, now-30m, unix seconds or 2026-11-24T10:00:00Z)",
	    text);
}

char *rtime_format_duration(int64_t ns, char *buf, int len)
{
	int used = 0;
	buf[0] = '\0';
	if (ns == 0) {
		snprintf(buf, (size_t)len, "0s");
		return buf;
	}
	for (int i = (int)(sizeof units / sizeof units[0]) - 1; i >= 0 && ns > 0; i--) {
		if (units[i].ns == 7 * 86400 * RTIME_NS_PER_SEC)
			continue; /* weeks read oddly; 14d is clearer than 2w */
		if (ns >= units[i].ns && used < len) {
			used += snprintf(buf + used, (size_t)(len - used), "%lld%s",
					 (long long)(ns / units[i].ns), units[i].name);
			ns %= units[i].ns;
		}
	}
	return buf;
}
