/* rmon.c - the `rmon` command line: dispatches to one subcommand per file
 * (see cli.h). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "demo", cmd_demo, "run the pipeline on this machine with a built-in configuration" },
	{ "query", cmd_query, "print stored samples, raw or aggregated" },
	{ "series", cmd_series, "list stored series" },
	{ "stats", cmd_stats, "summarise what the store holds" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: rmon COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'rmon COMMAND --help' describes each command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("rmon %s\n", CLI_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "rmon: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
