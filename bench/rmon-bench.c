/* rmon-bench.c - the load-testing tool: one subcommand per scenario
 * (bench/scenarios.h), each measuring one part of the pipeline beside its
 * physical floor and its peers, reported through bench/report.h. */
#include <limits.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/run.h"
#include "bench/scenarios.h"
#include "lib/cmdline.h"

static const struct {
	const char *name;
	int (*run)(struct bench_run *run, int argc, char **argv);
	const char *summary;
} scenarios[] = {
	/* In the order `all` runs them: the data path first, then what stands on it. */
	{ "ring", scenario_ring, "the shared-memory ring against pipes, cross-process" },
	{ "agent", scenario_agent, "rmon-collectd against its floor, collectd and node_exporter" },
	{ "store", scenario_store, "durable ingest beside the disk and victoria-metrics, reads" },
	{ "ingest", scenario_ingest, "simulated agents over TCP: ack latency, throughput" },
	{ "alert", scenario_alert, "breach to mailbox, kill -9 storm, rule cost, anomaly score" },
	{ "report", scenario_report, "the report's graphs against rrdtool graph, the whole site" },
	{ "web", scenario_web, "rmon-web through nginx and fcgiwrap, an action's effect" },
	{ "e2e", scenario_e2e, "simulated hosts through the whole central host" },
};

#define N_SCENARIOS (sizeof scenarios / sizeof scenarios[0])

/* The folder rmon-bench itself is in: the rmon programs are built beside it. */
static void find_bin(char *bin, size_t cap)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		bench_die("cannot read /proc/self/exe to find the rmon programs");
	exe[n] = '\0';
	snprintf(bin, cap, "%s", dirname(exe));
}

/* A scenario asked for its usage or version prints it and runs nothing:
 * the run then has nothing to report either. */
static bool asks_usage(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h") ||
		    !strcmp(argv[i], "--version") || !strcmp(argv[i], "-V"))
			return true;
	return false;
}

static int run_scenario(struct bench_run *run, size_t i, int argc, char **argv)
{
	bench_run_begin(run, scenarios[i].name);
	int status = scenarios[i].run(run, argc, argv);
	bench_run_end(run, status);
	return status;
}

/* `all`: every scenario in turn with its defaults; one that cannot
 * measure does not stop the others. */
static int run_all(struct bench_run *run, int argc, char **argv)
{
	const struct cmdline_option options[] = { { 0 } };
	const struct cmdline cl = {
		.program = "rmon-bench all",
		.about = "Every scenario in turn with its defaults (under 15 minutes; with\n"
			 "rmon-bench --quick all, under 3).",
		.options = options,
	};
	int first, status = 0;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	for (size_t i = 0; i < N_SCENARIOS; i++) {
		char *args[] = { (char *)scenarios[i].name, NULL };
		if (run_scenario(run, i, 1, args) != 0)
			status = 1;
	}
	return status < 0 ? 0 : status;
}

static void scenario_list(char *list, size_t cap)
{
	int len = snprintf(list, cap, "scenarios:\n");
	for (size_t i = 0; i < N_SCENARIOS; i++)
		len += snprintf(list + len, cap - (size_t)len, "  %-8s %s\n", scenarios[i].name,
				scenarios[i].summary);
	snprintf(list + len, cap - (size_t)len,
		 "  %-8s every scenario in turn\n\n"
		 "'rmon-bench SCENARIO --help' describes each scenario's options.",
		 "all");
}

int main(int argc, char **argv)
{
	/* Not an option for people: an interrupted run's cleanup (run.h). */
	if (argc == 4 && strcmp(argv[1], "--end-scratch") == 0)
		return bench_end_scratch(argv[2], argv[3]);
	char list[2048], bin[PATH_MAX];
	struct bench_options opts = { 0 };
	scenario_list(list, sizeof list);
	const struct cmdline_option options[] = {
		{ .name = "quick",
		  .letter = 'q',
		  .kind = CMDLINE_FLAG,
		  .field = &opts.quick,
		  .help = "short runs: all of `rmon-bench --quick all` in under 3 minutes" },
		{ .name = "json",
		  .kind = CMDLINE_FLAG,
		  .field = &opts.json,
		  .help = "one JSON document on stdout instead of the tables" },
		{ .name = "plot",
		  .kind = CMDLINE_STRING,
		  .field = &opts.plot,
		  .arg = "FILE.svg",
		  .help = "draw each scenario's throughput and p99 latency over time (gnuplot)" },
		{ 0 },
	};
	const struct cmdline cl = {
		.program = "rmon-bench",
		.synopsis = "[--quick] [--json] [--plot FILE.svg] SCENARIO [ITS OPTIONS]",
		.about = "Load tests of Rusty Monitor on this machine, each beside its physical\n"
			 "floor and the peers installed here, in the same run.",
		.options = options,
		.epilog = list,
		.min_operands = 1,
		.max_operands = INT_MAX,
		.commands = true,
	};
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	find_bin(bin, sizeof bin);
	opts.bin = bin;
	opts.tty = isatty(STDERR_FILENO);
	const char *name = argv[first];
	int n = argc - first;
	char **args = argv + first;
	size_t which = N_SCENARIOS;
	for (size_t i = 0; i < N_SCENARIOS; i++)
		if (strcmp(name, scenarios[i].name) == 0)
			which = i;
	if (which == N_SCENARIOS && strcmp(name, "all") != 0) {
		fprintf(stderr, "rmon-bench: unknown scenario '%s'\n", name);
		cmdline_usage(&cl, stderr);
		return 2;
	}
	struct bench_run *run = bench_run_new(&opts);
	bool usage = asks_usage(n, args);
	status = which == N_SCENARIOS ? run_all(run, n, args) : run_scenario(run, which, n, args);
	/* A usage error (2) or a usage asked for is all the run has to say. */
	if (status <= 1 && !usage && bench_run_finish(run) != 0)
		status = 1;
	bench_run_free(run);
	return status;
}
