/* plot_axis.c - what the axes of a graph say: units and their readable
 * scales on y, local-time ticks on x, and the fixed palette, so every
 * graph of the report reads the same way. */
#include "lib/plot_private.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const unit_names[] = {
	[PLOT_UNIT_NONE] = "",		 [PLOT_UNIT_PERCENT] = "percent",
	[PLOT_UNIT_BYTES] = "bytes",	 [PLOT_UNIT_BYTES_PER_SEC] = "bytes/s",
	[PLOT_UNIT_PER_SEC] = "/s",	 [PLOT_UNIT_SECONDS] = "seconds",
	[PLOT_UNIT_CELSIUS] = "celsius",
};

const char *plot_unit_name(enum plot_unit unit)
{
	if ((unsigned)unit >= sizeof unit_names / sizeof *unit_names)
		return "";
	return unit_names[unit];
}

int plot_unit_parse(const char *text, enum plot_unit *out, struct err *e)
{
	for (size_t i = 0; i < sizeof unit_names / sizeof *unit_names; i++) {
		if (strcmp(text, unit_names[i]) == 0) {
			*out = (enum plot_unit)i;
			return 0;
		}
	}
	return err_set(e, -EINVAL,
		       "unknown unit '%.64s': expected percent, bytes, bytes/s, /s, seconds, "
		       "celsius or nothing",
		       text);
}

/* Binary prefixes for bytes, decimal ones for counts: what df and ip show. */
static void scale_prefixed(double max_abs, double base, const char *const *prefixes,
			   const char *after, struct plot_scale *out)
{
	size_t i = 0;
	double div = 1;
	while (prefixes[i + 1] && max_abs >= div * base) {
		div *= base;
		i++;
	}
	out->div = div;
	snprintf(out->format, sizeof out->format, "%%g %s%s", prefixes[i], after);
}

void plot_scale_for(enum plot_unit unit, double max_abs, struct plot_scale *out)
{
	static const char *const binary[] = { "", "Ki", "Mi", "Gi", "Ti", "Pi", NULL };
	static const char *const decimal[] = { "", "k", "M", "G", "T", NULL };
	if (!isfinite(max_abs))
		max_abs = 0;
	out->div = 1;
	switch (unit) {
	case PLOT_UNIT_PERCENT:
		snprintf(out->format, sizeof out->format, "%%g%%%%");
		break;
	case PLOT_UNIT_BYTES:
		scale_prefixed(max_abs, 1024, binary, "B", out);
		break;
	case PLOT_UNIT_BYTES_PER_SEC:
		scale_prefixed(max_abs, 1024, binary, "B/s", out);
		break;
	case PLOT_UNIT_PER_SEC:
		scale_prefixed(max_abs, 1000, decimal, "/s", out);
		break;
	case PLOT_UNIT_SECONDS:
		if (max_abs > 0 && max_abs < 1e-3) {
			out->div = 1e-6;
			snprintf(out->format, sizeof out->format, "%%g µs");
		} else if (max_abs > 0 && max_abs < 1) {
			out->div = 1e-3;
			snprintf(out->format, sizeof out->format, "%%g ms");
		} else {
			snprintf(out->format, sizeof out->format, "%%g s");
		}
		break;
	case PLOT_UNIT_CELSIUS:
		snprintf(out->format, sizeof out->format, "%%g °C");
		break;
	default:
		scale_prefixed(max_abs, 1000, decimal, "", out);
		break;
	}
}

/* The tick spacings, smallest first; the first that keeps ticks about 70
 * pixels apart wins.  Days, weeks, months and years are counted on the
 * local calendar (mktime), so ticks stay on midnights across DST. */
enum tick_kind { SECONDS, DAYS, WEEKS, MONTHS, YEARS };
static const struct {
	enum tick_kind kind;
	int every; /* seconds for SECONDS, else days, weeks, months, years */
	int64_t approx;
} spacings[] = {
	{ SECONDS, 60, 60 },
	{ SECONDS, 300, 300 },
	{ SECONDS, 600, 600 },
	{ SECONDS, 900, 900 },
	{ SECONDS, 1800, 1800 },
	{ SECONDS, 3600, 3600 },
	{ SECONDS, 7200, 7200 },
	{ SECONDS, 10800, 10800 },
	{ SECONDS, 21600, 21600 },
	{ SECONDS, 43200, 43200 },
	{ DAYS, 1, 86400 },
	{ DAYS, 2, 2 * 86400 },
	{ WEEKS, 1, 7 * 86400 },
	{ MONTHS, 1, 30 * 86400 },
	{ MONTHS, 3, 91 * 86400 },
	{ YEARS, 1, 365 * 86400 },
	{ YEARS, 5, 5 * 365 * 86400 },
};

static bool tick_label(time_t t, enum tick_kind kind, char *buf, size_t cap)
{
	struct tm tm;
	if (!localtime_r(&t, &tm))
		return false;
	const char *format = "%H:%M";
	if (kind == SECONDS && tm.tm_hour == 0 && tm.tm_min == 0)
		format = "%a %d"; /* a midnight among hours says which day */
	else if (kind == DAYS)
		format = "%a %d";
	else if (kind == WEEKS)
		format = "%d %b";
	else if (kind == MONTHS)
		format = tm.tm_mon == 0 ? "%Y" : "%b";
	else if (kind == YEARS)
		format = "%Y";
	return strftime(buf, cap, format, &tm) > 0;
}

size_t plot_ticks(int64_t from, int64_t to, int width, struct plot_tick *out, size_t cap)
{
	if (to <= from || cap == 0)
		return 0;
	int64_t span = to - from, most = width / 70 > 1 ? width / 70 : 2;
	size_t k = 0;
	while (k + 1 < sizeof spacings / sizeof *spacings && span / spacings[k].approx > most)
		k++;
	enum tick_kind kind = spacings[k].kind;
	int every = spacings[k].every;

	time_t start = (time_t)from;
	struct tm tm;
	if (!localtime_r(&start, &tm))
		return 0;
	size_t n = 0;
	if (kind == SECONDS) {
		/* On the local clock's round minutes and hours (tm_gmtoff also
		 * carries half-hour zones); a DST change within the graph moves
		 * later ticks by its hour, which a reader does not mind. */
		int64_t local = from + tm.tm_gmtoff;
		int64_t t = (local + every - 1) / every * every - tm.tm_gmtoff;
		for (; t <= to && n < cap; t += every) {
			if (tick_label((time_t)t, kind, out[n].label, sizeof out[n].label))
				out[n++].at = t;
		}
		return n;
	}
	/* Back to the boundary before from: midnight, the Monday, the first
	 * of the month (of a quarter), the new year. */
	tm.tm_sec = tm.tm_min = tm.tm_hour = 0;
	if (kind == WEEKS)
		tm.tm_mday -= (tm.tm_wday + 6) % 7;
	if (kind == MONTHS) {
		tm.tm_mday = 1;
		tm.tm_mon -= tm.tm_mon % every;
	}
	if (kind == YEARS) {
		tm.tm_mday = 1;
		tm.tm_mon = 0;
		tm.tm_year -= tm.tm_year % every;
	}
	tm.tm_isdst = -1;
	for (int i = 0; n < cap && i < 1000; i++) {
		struct tm at = tm;
		switch (kind) {
		case SECONDS: /* done above */
		case DAYS:
			at.tm_mday += i * every;
			break;
		case WEEKS:
			at.tm_mday += i * 7 * every;
			break;
		case MONTHS:
			at.tm_mon += i * every;
			break;
		case YEARS:
			at.tm_year += i * every;
			break;
		}
		at.tm_isdst = -1;
		time_t t = mktime(&at);
		if (t == (time_t)-1 || t > to)
			break;
		if (t < from)
			continue;
		if (tick_label(t, kind, out[n].label, sizeof out[n].label)) {
			out[n].at = t;
			n++;
		}
	}
	return n;
}

/* Mid-tones that read on white and on near-black alike; the first ones
 * go to the names graphs show most, so CPU states and directions keep
 * their colour everywhere. */
static const char *const palette[] = {
	"#3b82f6", /* 0 blue: user, rx, read, used */
	"#ef4444", /* 1 red: system, tx, write */
	"#f59e0b", /* 2 amber: iowait */
	"#10b981", /* 3 green: nice, free */
	"#8b5cf6", /* 4 violet: irq, cached */
	"#ec4899", /* 5 pink: softirq, buffers */
	"#14b8a6", /* 6 teal: steal */
	"#a3a3a3", /* 7 grey: idle */
	"#84cc16", /* 8 lime */
	"#f97316", /* 9 orange */
	"#06b6d4", /* 10 cyan */
	"#d946ef", /* 11 fuchsia */
};
enum { PALETTE_SIZE = sizeof palette / sizeof *palette };

const char *plot_palette(int colour)
{
	int i = colour % PALETTE_SIZE;
	return palette[i < 0 ? i + PALETTE_SIZE : i];
}

int plot_colour_for(const char *name)
{
	static const struct {
		const char *name;
		int colour;
	} known[] = {
		{ "user", 0 },	  { "system", 1 },    { "iowait", 2 }, { "nice", 3 },
		{ "irq", 4 },	  { "softirq", 5 },   { "steal", 6 },  { "idle", 7 },
		{ "guest", 8 },	  { "rx", 0 },	      { "tx", 1 },     { "read", 0 },
		{ "write", 1 },	  { "used", 0 },      { "free", 3 },   { "cached", 4 },
		{ "buffers", 5 }, { "available", 3 }, { "swap", 9 },   { "load1", 0 },
		{ "load5", 2 },	  { "load15", 1 },    { "cores", 7 },
	};
	for (size_t i = 0; i < sizeof known / sizeof *known; i++)
		if (strcmp(name, known[i].name) == 0)
			return known[i].colour;
	/* Any other name: FNV-1a, so it is the same on every graph and run. */
	uint32_t h = 2166136261u;
	for (const char *c = name; *c; c++)
		h = (h ^ (unsigned char)*c) * 16777619u;
	return (int)(h % PALETTE_SIZE);
}

size_t plot_windows(int width)
{
	/* The plot area: the width less the fixed margins of plot_script.c
	 * (11 characters left, 3 right). */
	int area = width - 108;
	return width <= 0 ? 0 : area < 16 ? 16 : (size_t)area;
}
