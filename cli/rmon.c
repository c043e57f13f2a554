/* rmon.c - the `rmon` command line: dispatches to one subcommand per file
 * (see cli.h). */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/cmdline.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "alerts", cmd_alerts, "list, acknowledge and look back at alerts" },
	{ "demo", cmd_demo, "run the pipeline on this machine with a built-in configuration" },
	{ "query", cmd_query, "print stored samples, raw or aggregated" },
	{ "receivers", cmd_receivers, "list alertd's receivers; send a test notice" },
	{ "rules", cmd_rules, "check alertd rule files; test the rules against the store" },
	{ "series", cmd_series, "list stored series" },
	{ "silence", cmd_silence, "quiet alerts for a while: add, list, rm" },
	{ "stats", cmd_stats, "summarise what the store holds" },
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

int main(int argc, char **argv)
{
	char list[1024];
	int len = snprintf(list, sizeof list, "commands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		len += snprintf(list + len, sizeof list - (size_t)len, "  %-8s %s\n",
				commands[i].name, commands[i].summary);
	snprintf(list + len, sizeof list - (size_t)len,
		 "\n'rmon COMMAND --help' describes each command.");
	const struct cmdline_option options[] = { { 0 } };
	const struct cmdline cl = {
		.program = "rmon",
		.version = CLI_VERSION,
		.synopsis = "COMMAND [OPTIONS]",
		.options = options,
		.epilog = list,
		.min_operands = 1,
		.max_operands = INT_MAX,
		.commands = true,
	};
	if (argc < 2) {
		cmdline_usage(&cl, stderr);
		return 2;
	}
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(argv[first], commands[i].name) == 0)
			return commands[i].run(argc - first, argv + first);
	fprintf(stderr, "rmon: unknown command '%s'\n", argv[first]);
	cmdline_usage(&cl, stderr);
	return 2;
}
