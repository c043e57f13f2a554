/* breach.h - the breach that `rmon-bench alert` and `rmon-bench e2e` time
 * to the mailbox: a sample of bench_breach{t="tN"} crossing the rule
 * breach_rule_config writes, pushed into a store's ring through rmon-put
 * as an agent of its own would, until the SMTP sink (bench/mailsink.h) has
 * accepted the mail naming it.  The goals are the alertd's (issue 15). */
#ifndef RMON_BENCH_BREACH_H
#define RMON_BENCH_BREACH_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "bench/mailsink.h"
#include "bench/report.h"

#define BREACH_P50_GOAL_MS 1500
#define BREACH_P99_GOAL_MS 3000

/* rmon-put --data DIR with its stdin a pipe of ours. */
struct breach_feed {
	pid_t pid; /* 0 when not running */
	FILE *in;
};

/* Starts rmon-put on the ring of data (it waits for the ring to exist);
 * 0, or -1 with a message on stderr.  breach_feed_stop either way. */
int breach_feed_start(struct breach_feed *f, struct bench_run *run, const char *data);
void breach_feed_stop(struct breach_feed *f);

/* Pushes one sample of series (canonical name), stamped as rmon-put reads it. */
void breach_put(struct breach_feed *f, const char *series, double value);

/* Writes the section of rule `name`: bench_breach above 10, for 0s, one
 * alert per label t, its summary "zone tN is hot"; with receiver (not
 * NULL) told of it whatever the routes say. */
void breach_rule_config(FILE *conf, const char *name, const char *receiver);

/* Breach number i of host's bench_breach{t="tI"}: put at 1, then at 20
 * after 1 to 2 s (a random moment of the store's one-second commit
 * cycle, from *seed); returns the ns from the breach until sink accepted
 * its mail, or 0 when it did not within timeout_ns. */
int64_t breach_time(struct breach_feed *f, const struct mailsink *sink, const char *host, long i,
		    unsigned *seed, int64_t timeout_ns);

/* The rows of a breach's latency: p50 against BREACH_P50_GOAL_MS, then
 * p50/p90/p99/max against BREACH_P99_GOAL_MS, each named "NAME p50" and
 * NAME; a note instead when h is empty (a 0 is no figure). */
void breach_rows(struct bench_table *t, const char *name, const struct bench_hist *h);

#endif
