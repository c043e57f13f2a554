/* cmd_silence.c - `rmon silence`: adding, listing and removing silences
 * in alertd's own store (alertd/alerts.h).  A silence quiets the alerts
 * whose series (or host/rule{labels}) match its selector until it ends;
 * rmon-alertd sees it at its next pass. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertd/alerts.h"
#include "cli/cli.h"
#include "cli/table.h"
#include "lib/cmdline.h"
#include "lib/escape.h"
#include "lib/rtime.h"

static int silence_add(int argc, char **argv)
{
	const char *data = CLI_DEFAULT_DATA, *comment = NULL, *start_text = "now";
	int64_t duration = 0;
	const struct cmdline_option options[] = {
		CMDLINE_DATA(&data),
		{ "for", 0, CMDLINE_DURATION, &duration, "DURATION",
		  "how long it lasts (2h, 30m, 1d)", 0, 0 },
		{ "start", 0, CMDLINE_STRING, &start_text, "TIME",
		  "when it begins (default now; +1h, 2026-12-01T22:00:00Z)", 0, 0 },
		{ "comment", 'm', CMDLINE_STRING, &comment, "TEXT",
		  "why, for the others (required)", 0, 0 },
		{ 0 },
	};
	const struct cmdline cl = {
		.program = "rmon silence add",
		.version = CLI_VERSION,
		.synopsis = "SELECTOR --for DURATION --comment TEXT [OPTIONS]",
		.about = "Silences the alerts whose series match SELECTOR (web1/*, "
			 "node_filesystem_*{mountpoint=\"/data\"}) or whose host/rule{labels} "
			 "does (disk_full, web1/host_down) from --start for --for.  Recorded with "
			 "your login name.",
		.options = options,
		.min_operands = 2,
		.max_operands = 2,
	};
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	if (duration <= 0 || !comment || !*comment) {
		fprintf(stderr, "rmon silence add: %s is required\n",
			duration <= 0 ? "--for DURATION" : "--comment TEXT");
		return 2;
	}
	struct err e = { 0 };
	int64_t now = rtime_now_ns(), start;
	if (rtime_parse_time(start_text, now, &start, &e)) {
		fprintf(stderr, "rmon silence add: --start: %s\n", e.msg);
		return 2;
	}
	struct alert_store *s = cli_open_alerts("silence add", data);
	if (!s)
		return 1;
	uint64_t id;
	const char *selector = argv[first + 1];
	int rc = alert_store_silence_add(s, selector, start, start + duration, cli_who(), comment,
					 now, &id, &e);
	alert_store_close(s);
	if (rc) {
		char quoted[600];
		fprintf(stderr, "rmon silence add: %s: %s\n",
			escape_quote(quoted, sizeof quoted, selector), e.msg);
		return rc == -EINVAL ? 2 : 1;
	}
	char until[40];
	cli_format_time(start + duration, until, sizeof until);
	printf("silence %" PRIu64 " until %s\n", id, until);
	return 0;
}

struct listing {
	struct table *t;
	bool json;
	size_t n;
	int64_t now;
};

static int list_one(void *ctx, const struct alert_silence *si)
{
	struct listing *l = ctx;
	char start[40], end[40];
	cli_format_time(si->start, start, sizeof start);
	cli_format_time(si->end, end, sizeof end);
	if (l->json) {
		printf("%s{\"id\":%" PRIu64 ",\"selector\":", l->n ? ",\n" : "", si->id);
		cli_json_string(stdout, si->selector, strlen(si->selector));
		printf(",\"start\":%" PRId64 ",\"end\":%" PRId64 ",\"created\":%" PRId64 ",\"by\":",
		       si->start, si->end, si->created);
		cli_json_string(stdout, si->by, strlen(si->by));
		printf(",\"comment\":");
		cli_json_string(stdout, si->comment, strlen(si->comment));
		printf(",\"active\":%s}",
		       si->start <= l->now && l->now < si->end ? "true" : "false");
	} else {
		const char *state = l->now < si->start ? "waiting"
				    : l->now < si->end ? "active"
						       : "ended";
		table_cell(l->t, "%" PRIu64, si->id);
		table_cell(l->t, "%s", state);
		table_cell(l->t, "%s", start);
		table_cell(l->t, "%s", end);
		table_cell(l->t, "%s", si->by);
		table_cell(l->t, "%s", si->selector);
		table_cell(l->t, "%s", si->comment);
	}
	l->n++;
	return 0;
}

static int silence_list(int argc, char **argv)
{
	const char *data = CLI_DEFAULT_DATA, *format = "text";
	bool all = false;
	const struct cmdline_option options[] = {
		CMDLINE_DATA(&data),
		{ "all", 'a', CMDLINE_FLAG, &all, NULL, "also the silences that ended", 0, 0 },
		{ "format", 'f', CMDLINE_STRING, &format, "FORMAT", "text (default) or json", 0,
		  0 },
		{ 0 },
	};
	const struct cmdline cl = {
		.program = "rmon silence list",
		.version = CLI_VERSION,
		.about = "Lists the silences that have not ended (with --all, every one kept).",
		.options = options,
		.min_operands = 1,
		.max_operands = 1,
	};
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	struct listing l = { .json = strcmp(format, "json") == 0, .now = rtime_now_ns() };
	if (!l.json && strcmp(format, "text") != 0) {
		fprintf(stderr, "rmon silence list: --format '%s': must be text or json\n", format);
		return 2;
	}
	struct alert_store *s = cli_open_alerts("silence list", data);
	if (!s)
		return 1;
	static const char *const headings[] = { "ID", "STATE",	  "START",  "END",
						"BY", "SELECTOR", "COMMENT" };
	if (l.json)
		fputs("[", stdout);
	else
		l.t = table_new(headings, 7);
	struct err e = { 0 };
	int rc = alert_store_silences(s, !all, l.now, list_one, &l, &e);
	if (l.json)
		fputs("]\n", stdout);
	else if (l.n)
		table_print(l.t, stdout);
	else {
		table_free(l.t);
		printf("no silences\n");
	}
	alert_store_close(s);
	if (rc) {
		fprintf(stderr, "rmon silence list: %s\n", e.msg);
		return 1;
	}
	return 0;
}

static int silence_rm(int argc, char **argv)
{
	const char *data = CLI_DEFAULT_DATA;
	const struct cmdline_option options[] = { CMDLINE_DATA(&data), { 0 } };
	const struct cmdline cl = {
		.program = "rmon silence rm",
		.version = CLI_VERSION,
		.synopsis = "ID [OPTIONS]",
		.about = "Removes silence ID: its alerts are told again at rmon-alertd's next pass "
			 "if they still fire.",
		.options = options,
		.min_operands = 2,
		.max_operands = 2,
	};
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	char *end;
	const char *text = argv[first + 1];
	unsigned long long id = strtoull(text, &end, 10);
	if (end == text || *end || id == 0 || text[0] == '-') {
		fprintf(stderr, "rmon silence rm: '%s' is not a silence id\n", text);
		return 2;
	}
	struct alert_store *s = cli_open_alerts("silence rm", data);
	if (!s)
		return 1;
	struct err e = { 0 };
	int rc = alert_store_silence_rm(s, id, cli_who(), rtime_now_ns(), &e);
	alert_store_close(s);
	if (rc) {
		fprintf(stderr, "rmon silence rm: %s\n", e.msg);
		return 1;
	}
	printf("silence %llu removed\n", id);
	return 0;
}

int cmd_silence(int argc, char **argv)
{
	const char *sub = argc >= 2 ? argv[1] : "";
	if (strcmp(sub, "add") == 0)
		return silence_add(argc, argv);
	if (strcmp(sub, "list") == 0 || strcmp(sub, "ls") == 0)
		return silence_list(argc, argv);
	if (strcmp(sub, "rm") == 0)
		return silence_rm(argc, argv);
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		printf("usage: rmon silence add SELECTOR --for DURATION --comment TEXT\n"
		       "       rmon silence list [--all] [--format text|json]\n"
		       "       rmon silence rm ID\n"
		       "Each takes --data DIR (default " CLI_DEFAULT_DATA ") and --help.\n");
		return 0;
	}
	fprintf(stderr, "rmon silence: %s; try 'rmon silence --help'\n",
		*sub ? "unknown command (add, list or rm)" : "add, list or rm?");
	return 2;
}
