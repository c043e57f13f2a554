/* cmd_series.c - `rmon series [SELECTOR]`: lists the stored series. */
#include <stdio.h>

#include "cli/cli.h"
#include "lib/escape.h"
#include "lib/cmdline.h"

static int print_name(void *ctx, uint64_t id, const char *name, size_t len)
{
	size_t *count = ctx;
	escape_print(stdout, ESCAPE_TEXT, name, len);
	putchar('\n');
	(*count)++;
	return 0;
}

int cmd_series(int argc, char **argv)
{
	const char *data = paths_data();
	const struct cmdline_option options[] = { CMDLINE_DATA(&data), { 0 } };
	const struct cmdline cl = {
		.program = "rmon series",
		.version = CLI_VERSION,
		.synopsis = "[SELECTOR] [OPTIONS]",
		.about = "Lists the series stored in DIR (default " CLI_DEFAULT_DATA
			 ") that match SELECTOR,\n"
			 "e.g. 'node_cpu_*', 'web?/node_load1', '{mode=\"idle\"}' (docs/query.md).",
		.options = options,
		.max_operands = 1,
	};
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	struct query_selector *sel = NULL;
	struct err e = { 0 };
	if (first < argc && query_selector_parse(argv[first], &sel, &e) != 0) {
		fprintf(stderr, "rmon series: %s\n", e.msg);
		return 2;
	}
	struct query *q = cli_open_store("series", data);
	size_t count = 0;
	int rc = q ? query_series(q, sel, print_name, &count, &e) : -1;
	cli_report_bad_names("series", q);
	if (q && rc != 0)
		fprintf(stderr, "rmon series: %s\n", e.msg);
	query_selector_free(sel);
	query_close(q);
	return rc ? 1 : 0;
}
