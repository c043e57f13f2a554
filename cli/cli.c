/* cli.c - what the rmon subcommands share; see cli.h. */
#include "cli/cli.h"

#include <stdlib.h>
#include <time.h>

#include "lib/escape.h"

struct query *cli_open_store(const char *command, const char *data)
{
	struct query *q;
	struct err e = { 0 };
	if (query_open(data, &q, &e) != 0) {
		fprintf(stderr, "rmon %s: %s\n", command, e.msg);
		return NULL;
	}
	return q;
}

void cli_format_time(int64_t ts, char *buf, size_t len)
{
	time_t seconds = (time_t)(ts / 1000000000);
	int64_t ms = (ts % 1000000000) / 1000000;
	if (ms < 0) {
		ms += 1000;
		seconds--;
	}
	struct tm tm;
	gmtime_r(&seconds, &tm);
	size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03dZ", (int)ms);
}

void cli_json_string(FILE *out, const char *s, size_t len)
{
	escape_print(out, ESCAPE_JSON, s, len);
}

void cli_report_bad_names(const char *command, const struct query *q)
{
	uint64_t n = q ? query_bad_names(q) : 0;
	if (n)
		fprintf(stderr,
			"rmon %s: %llu stored series not shown: their names break the naming "
			"rules (docs/metrics.md, \"Names\")\n",
			command, (unsigned long long)n);
}

void cli_format_value(double value, char *buf, size_t len)
{
	snprintf(buf, len, "%.15g", value);
	if (strtod(buf, NULL) != value)
		snprintf(buf, len, "%.17g", value);
}
