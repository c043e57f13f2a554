/* cmd_query.c - `rmon query SELECTOR`: prints stored samples of every
 * matching series, raw or aggregated by step, as text, CSV or JSON. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/escape.h"
#include "lib/cmdline.h"
#include "lib/rtime.h"

enum format { TEXT, CSV, JSON };

struct printer {
	struct query *q;
	enum format format;
	int64_t from, to, step;
	enum query_agg agg;
	size_t series;
	const char *name;
	size_t name_len;
	size_t points;
	struct err e;
};

static void print_point(struct printer *p, int64_t ts, double value)
{
	char when[40], text[32];
	cli_format_value(value, text, sizeof text);
	if (p->format == JSON) {
		printf("%s[%.3f,", p->points ? "," : "", (double)ts / 1e9);
		if (isfinite(value))
			printf("%s]", text);
		else
			printf("null]");
	} else if (p->format == CSV) {
		cli_format_time(ts, when, sizeof when);
		escape_print(stdout, ESCAPE_CSV, p->name, p->name_len);
		printf(",%s,%s\n", when, text);
	} else {
		cli_format_time(ts, when, sizeof when);
		printf("  %s  %s\n", when, text);
	}
	p->points++;
}

static int print_raw_point(void *ctx, int64_t ts, double value)
{
	print_point(ctx, ts, value);
	return 0;
}

static int print_series(void *ctx, uint64_t id, const char *name, size_t len)
{
	struct printer *p = ctx;
	p->name = name;
	p->name_len = len;
	p->points = 0;
	if (p->format == JSON) {
		printf("%s\n{\"series\":", p->series ? "," : "");
		cli_json_string(stdout, name, len);
		printf(",\"points\":[");
	} else if (p->format == TEXT) {
		escape_print(stdout, ESCAPE_TEXT, name, len);
		putchar('\n');
	}
	p->series++;
	int rc = 0;
	if (p->step == 0) {
		rc = query_raw(p->q, id, p->from, p->to, print_raw_point, p, NULL, &p->e);
	} else {
		size_t n = (size_t)((p->to - p->from + p->step - 1) / p->step);
		double *out = malloc(n * sizeof *out);
		if (!out)
			return -1;
		rc = query_range(p->q, id, p->from, p->to, p->step, p->agg, out, n, &p->e);
		for (size_t i = 0; rc == 0 && i < n; i++)
			if (!isnan(out[i]))
				print_point(p, p->from + (int64_t)i * p->step, out[i]);
		free(out);
	}
	if (p->format == JSON)
		printf("]}");
	return rc;
}

static int bad_usage(const char *what, const struct err *e)
{
	fprintf(stderr, "rmon query: %s%s%s\n", what, what[0] && e ? ": " : "", e ? e->msg : "");
	return 2;
}

/* The multiple of step at or before t (t may be negative). */
static int64_t align_down(int64_t t, int64_t step)
{
	int64_t r = t % step;
	return r < 0 ? t - r - step : t - r;
}

int cmd_query(int argc, char **argv)
{
	const char *data = paths_data(), *from = "-1h", *to = "now", *step = NULL;
	struct printer p = { .agg = QUERY_AVG, .format = TEXT };
	const char *agg = NULL, *format = "text";
	const struct cmdline_option options[] = {
		CMDLINE_DATA(&data),
		{ .name = "from",
		  .letter = 'f',
		  .kind = CMDLINE_STRING,
		  .field = &from,
		  .arg = "TIME",
		  .help = "from TIME (default -1h)" },
		{ .name = "to",
		  .letter = 't',
		  .kind = CMDLINE_STRING,
		  .field = &to,
		  .arg = "TIME",
		  .help = "to TIME (default now)" },
		{ .name = "step",
		  .letter = 's',
		  .kind = CMDLINE_STRING,
		  .field = &step,
		  .arg = "D",
		  .help = "aggregate per step of D (e.g. 1m)" },
		{ .name = "agg",
		  .letter = 'a',
		  .kind = CMDLINE_STRING,
		  .field = &agg,
		  .arg = "AGG",
		  .help = "avg (default), min, max, last, sum, count, rate, increase" },
		{ .name = "format",
		  .letter = 'o',
		  .kind = CMDLINE_STRING,
		  .field = &format,
		  .arg = "FORMAT",
		  .help = "text (default), csv or json" },
		{ 0 },
	};
	const struct cmdline cl = {
		.program = "rmon query",
		.version = CLI_VERSION,
		.synopsis = "SELECTOR [OPTIONS]",
		.about =
		    "Prints the samples of every series matching SELECTOR (docs/query.md), raw,\n"
		    "or with --step aggregated per step by --agg (for counters, rate and\n"
		    "increase handle resets).  Times are 'now', '-1h', 'now-30m', unix\n"
		    "seconds or 2026-11-24T10:00:00Z.",
		.options = options,
		.min_operands = 1,
		.max_operands = 1,
	};
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	struct err e = { 0 };
	if (agg && query_agg_parse(agg, &p.agg, &e) != 0)
		return bad_usage("--agg", &e);
	if (strcmp(format, "text") == 0)
		p.format = TEXT;
	else if (strcmp(format, "csv") == 0)
		p.format = CSV;
	else if (strcmp(format, "json") == 0)
		p.format = JSON;
	else
		return bad_usage("--format must be text, csv or json", NULL);
	int64_t now = rtime_now_ns();
	if (rtime_parse_time(from, now, &p.from, &e) != 0)
		return bad_usage("--from", &e);
	if (rtime_parse_time(to, now, &p.to, &e) != 0)
		return bad_usage("--to", &e);
	if (p.to <= p.from)
		return bad_usage("--to must come after --from", NULL);
	if (step && rtime_parse_duration(step, &p.step, &e) != 0)
		return bad_usage("--step", &e);
	if (step && p.step <= 0)
		return bad_usage("--step must be longer than 0", NULL);
	if (step && (p.to - p.from) / p.step > 10000000)
		return bad_usage("--step is too small for that range (over 10 million steps)",
				 NULL);
	if (step) { /* windows on multiples of the step: the first holds --from */
		p.from = align_down(p.from, p.step);
		p.to = align_down(p.to - 1, p.step) + p.step;
	}
	struct query_selector *sel;
	if (query_selector_parse(argv[first], &sel, &e) != 0)
		return bad_usage("", &e);
	p.q = cli_open_store("query", data);
	int rc = 1;
	if (p.q) {
		if (p.format == JSON)
			printf("[");
		if (p.format == CSV)
			printf("series,time,value\n");
		rc = query_series(p.q, sel, print_series, &p, &e);
		if (p.format == JSON)
			printf("\n]\n");
		cli_report_bad_names("query", p.q);
		if (rc != 0)
			fprintf(stderr, "rmon query: %s\n", p.e.msg[0] ? p.e.msg : e.msg);
		else if (p.series == 0)
			fprintf(stderr, "rmon query: no series matches '%s' (see rmon series)\n",
				argv[first]);
		rc = rc ? 1 : 0;
	}
	query_selector_free(sel);
	query_close(p.q);
	return rc;
}
