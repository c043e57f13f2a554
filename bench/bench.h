/* bench.h - what the benchmark programs share: giving up with a message,
 * quantiles, free loopback ports, scratch folders, the reports' verdicts. */
#ifndef RMON_BENCH_H
#define RMON_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Prints "program: message" on stderr and exits 1: a benchmark that met a
 * protocol error or a count that does not add up measures nothing. */
__attribute__((format(printf, 1, 2), noreturn)) void bench_die(const char *fmt, ...);

/* The q-quantile (0..1) of n values, sorting them in place; 0 when n is 0. */
int64_t bench_quantile(int64_t *v, size_t n, double q);

/* A loopback port nobody listens on now (a server binds it a moment later). */
int bench_free_port(void);

/* fork(), the child killed (SIGKILL) when the benchmark ends, however it
 * ends: a producer spinning on a full ring or a peer daemon must not
 * outlive an interrupted run.  The signal stays across execve. */
pid_t bench_fork(void);

/* rm -rf path (a scratch folder of the benchmark's own). */
void bench_remove_tree(const char *path);

/* "PASS" when a goal is met, else "MISS", for the reports' goal column. */
const char *bench_verdict(bool ok);

/* Nanoseconds as milliseconds, for the reports. */
double bench_ms(int64_t ns);

#endif
