/* cli.c - what the rmon subcommands share; see cli.h. */
#include "cli/cli.h"

#include <stdlib.h>
#include <time.h>

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
	fputc('"', out);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

void cli_format_value(double value, char *buf, size_t len)
{
	snprintf(buf, len, "%.15g", value);
	if (strtod(buf, NULL) != value)
		snprintf(buf, len, "%.17g", value);
}
