/* daemons.h - the rmon daemons a scenario runs: this build's rmon-stored
 * --listen on a scratch data folder (started, waited for until it listens,
 * stopped with its own count of stored samples), and any other program
 * (rmon-alertd, rmon-reportgen) started beside it and killed after.  Each
 * keeps its log in the scratch folder, shown when it fails. */
#ifndef RMON_BENCH_DAEMONS_H
#define RMON_BENCH_DAEMONS_H

#include <stdint.h>
#include <sys/types.h>

#include "bench/report.h"

struct daemon {
	pid_t pid; /* 0 when not running */
	char name[64];
	char data[4200], log[4300], address[32];
	int port;
};

/* Starts rmon-stored --data SCRATCH/name --listen 127.0.0.1:PORT (a free
 * port), then any extra arguments (NULL-terminated, may be NULL); returns
 * once it listens.  Dies (bench_die) when it does not start. */
void daemon_start_stored(struct bench_run *run, struct daemon *d, const char *name,
			 const char *const *extra);

/* Stops it with SIGTERM (it commits and exits 0), removes its ring and data
 * folder; returns the samples it says it stored.  Dies when it did not
 * exit cleanly. */
uint64_t daemon_stop_stored(struct daemon *d);

/* Starts program (an rmon program of this build) with argv[1..] (argv[0]
 * is the program's name, NULL-terminated), its stderr into SCRATCH/name.log. */
void daemon_spawn(struct bench_run *run, struct daemon *d, const char *name,
		  const char *const *argv);

/* Whether it is still running (it did not exit by itself). */
int daemon_alive(struct daemon *d);

/* SIGKILL and reap (no-op when not running). */
void daemon_kill(struct daemon *d);

/* A process that is not our child (a peer that a script started in the
 * background) or one in a process group of its own (spawn_logged) to kill
 * at exit, or when the run is interrupted, if still tracked then;
 * daemon_untrack once it is stopped.  The daemons above are started with
 * bench_fork, which kills them when the benchmark ends, however it ends. */
void daemon_track(pid_t pid);
void daemon_untrack(pid_t pid);

/* SIGKILLs (a group leader with its group) and reaps every tracked
 * process now; async-signal-safe. */
void daemon_kill_tracked(void);

/* Prints the last lines of its log on stderr. */
void daemon_show_log(const struct daemon *d);

#endif
