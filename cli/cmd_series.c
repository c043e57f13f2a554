/* cmd_series.c - `rmon series [SELECTOR]`: lists the stored series. */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "lib/escape.h"

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
	const char *data = CLI_DEFAULT_DATA;
	static const struct option options[] = { { "data", required_argument, NULL, 'd' },
						 { "help", no_argument, NULL, 'h' },
						 { NULL, 0, NULL, 0 } };
	for (int c; (c = getopt_long(argc, argv, "d:h", options, NULL)) != -1;) {
		if (c == 'd') {
			data = optarg;
			continue;
		}
		fprintf(
		    c == 'h' ? stdout : stderr,
		    "usage: rmon series [SELECTOR] [--data DIR]\n\n"
		    "Lists the series stored in DIR (default %s) that match SELECTOR,\n"
		    "e.g. 'node_cpu_*', 'web?/node_load1', '{mode=\"idle\"}' (docs/query.md).\n",
		    CLI_DEFAULT_DATA);
		return c == 'h' ? 0 : 2;
	}
	if (argc - optind > 1) {
		fprintf(stderr, "rmon series: one selector at most\n");
		return 2;
	}
	struct query_selector *sel = NULL;
	struct err e = { 0 };
	if (optind < argc && query_selector_parse(argv[optind], &sel, &e) != 0) {
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
