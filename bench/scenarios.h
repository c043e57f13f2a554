/* scenarios.h - the subcommands of rmon-bench, each in bench/scenario_NAME.c;
 * see report.h for what a scenario does with its run. */
#ifndef RMON_BENCH_SCENARIOS_H
#define RMON_BENCH_SCENARIOS_H

#include "bench/report.h"

int scenario_ring(struct bench_run *run, int argc, char **argv);
int scenario_agent(struct bench_run *run, int argc, char **argv);
int scenario_store(struct bench_run *run, int argc, char **argv);
int scenario_ingest(struct bench_run *run, int argc, char **argv);
int scenario_alert(struct bench_run *run, int argc, char **argv);
int scenario_report(struct bench_run *run, int argc, char **argv);
int scenario_web(struct bench_run *run, int argc, char **argv);
int scenario_e2e(struct bench_run *run, int argc, char **argv);

#endif
