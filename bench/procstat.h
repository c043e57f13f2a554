/* procstat.h - what the benchmarks read about a process from /proc. */
#ifndef RMON_BENCH_PROCSTAT_H
#define RMON_BENCH_PROCSTAT_H

#include <stdbool.h>
#include <sys/types.h>

/* Whether pid has ended: gone, or a zombie (its children got their
 * parent-death signal when it exited). */
bool procstat_ended(pid_t pid);

/* User + system CPU seconds of pid (fields 14 and 15 of its stat), or -1. */
double procstat_cpu_seconds(pid_t pid);

/* CPU time of all of pid's threads in ns, from /proc/pid/task/N/schedstat
 * (the scheduler's own count, not the 10 ms ticks of stat: fine enough
 * for a process that runs 400 µs a second), or -1.  Threads that have
 * ended are not counted: measure processes whose threads live on. */
double procstat_cpu_ns(pid_t pid);

/* A "Field:  N kB" line of /proc/pid/status ("VmRSS:", "VmHWM:", ...) in
 * KiB, or -1. */
long procstat_kib(pid_t pid, const char *field);

/* A "field: N" line of /proc/pid/io ("write_bytes:": what it caused to be
 * written to storage), or -1. */
long long procstat_io(pid_t pid, const char *field);

/* The machine's CPU time so far, in clock ticks summed over every core
 * (/proc/stat's "cpu" line): all of it, and what was idle or waiting for
 * I/O.  Unlike the benchmark's processes' own CPU seconds, the busy rest
 * includes the kernel's threads (write-back, loopback TCP) and anyone else
 * on the machine. */
struct procstat_cores {
	unsigned long long total, idle;
};
bool procstat_cores(struct procstat_cores *out);

/* The share of the cores' time that was busy between two readings, 0..1;
 * -1 when no tick passed. */
double procstat_cores_busy(const struct procstat_cores *from, const struct procstat_cores *to);

#endif
