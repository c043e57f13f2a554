/* spawn.h - the daemons and peers a scenario starts (rmon-stored, alertd,
 * an SMTP sink, nginx, fcgiwrap), each with its output in a log file of
 * the scenario's scratch folder, and how a scenario waits for them to say
 * they are ready. */
#ifndef RMON_BENCH_SPAWN_H
#define RMON_BENCH_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

/* Starts argv[0] (a whole path) with stdout and stderr appended to log;
 * with group, in a process group of its own, so spawn_stop also ends the
 * workers it forks (fcgiwrap).  Returns the pid, or -1 with errno. */
pid_t spawn_logged(char *const argv[], const char *log, bool group);

/* Sends sig to *pid (its group when it has one of its own) and reaps it;
 * *pid becomes 0.  Does nothing when *pid is 0. */
void spawn_stop(pid_t *pid, int sig);

/* True when the file at path holds needle on one of its lines. */
bool spawn_file_has(const char *path, const char *needle);

/* Waits up to seconds for log to hold needle; false (with a message on
 * stderr naming the log and what it lacked) when it never did or *pid
 * died first (reaped then: *pid becomes 0). */
bool spawn_wait_log(pid_t *pid, const char *log, const char *needle, int seconds);

#endif
