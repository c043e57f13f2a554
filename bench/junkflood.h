/* junkflood.h - a hostile crowd for the benchmarks: a child process holding
 * many connections to an ingest server that never authenticate and send
 * random bytes as fast as the sockets take them, each reopened as soon as
 * the server closes it (docs/protocol.md "Trust"). */
#ifndef RMON_BENCH_JUNKFLOOD_H
#define RMON_BENCH_JUNKFLOOD_H

#include <stdint.h>
#include <sys/types.h>

struct junkflood_stats {
	uint64_t opened;     /* connections opened */
	uint64_t closed;     /* of them, closed by the server */
	uint64_t bytes_sent; /* junk the server had to take */
};

/* Forks the crowd: n connections to 127.0.0.1:port for `seconds`, at
 * scheduling niceness `niceness` (attackers elsewhere do not take the
 * server's CPU; on one machine a nice crowd stands for them).  Returns the
 * child's pid (or -errno); junkflood_wait collects it. */
pid_t junkflood_start(int port, uint32_t n, double seconds, int niceness);

/* Waits for the crowd to finish and fills out: 0, or -1 when it failed. */
int junkflood_wait(pid_t pid, struct junkflood_stats *out);

#endif
