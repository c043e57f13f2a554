/* daemons.c - the rmon daemons a scenario runs; see daemons.h. */
#include "bench/daemons.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench.h"
#include "shmring/ring.h"

/* Processes to kill at exit: peers a script started in the background
 * (not our children) and the programs spawn_logged started (their own
 * process groups, which the parent's death does not reach), so that a
 * scenario that gives up (bench_die) or is interrupted leaves nothing
 * behind.  Children of bench_fork die with us anyway. */
#define TRACKED_MAX 64
static pid_t tracked[TRACKED_MAX];
static pid_t tracker;

/* Only async-signal-safe calls: an interrupted run ends here too. */
void daemon_kill_tracked(void)
{
	if (getpid() != tracker)
		return;
	for (int i = 0; i < TRACKED_MAX; i++)
		if (tracked[i] > 0) {
			pid_t pid = tracked[i];
			kill(getpgid(pid) == pid ? -pid : pid, SIGKILL);
			waitpid(pid, NULL, 0);
			tracked[i] = 0;
		}
}

static void kill_tracked_at_exit(void)
{
	daemon_kill_tracked();
}

void daemon_track(pid_t pid)
{
	if (!tracker) {
		tracker = getpid();
		atexit(kill_tracked_at_exit);
	}
	for (int i = 0; i < TRACKED_MAX; i++)
		if (tracked[i] <= 0) {
			tracked[i] = pid;
			return;
		}
}

void daemon_untrack(pid_t pid)
{
	for (int i = 0; i < TRACKED_MAX; i++)
		if (tracked[i] == pid)
			tracked[i] = 0;
}

/* The number after the last `needle` in the log; false if none. */
static bool log_number(const struct daemon *d, const char *needle, uint64_t *out)
{
	char line[1200];
	bool found = false;
	FILE *f = fopen(d->log, "r");
	while (f && fgets(line, sizeof line, f)) {
		const char *p = strstr(line, needle);
		if (p) {
			*out = strtoull(p + strlen(needle), NULL, 10);
			found = true;
		}
	}
	if (f)
		fclose(f);
	return found;
}

void daemon_show_log(const struct daemon *d)
{
	char line[1200];
	FILE *f = fopen(d->log, "r");
	while (f && fgets(line, sizeof line, f))
		fprintf(stderr, "  %s| %s", d->name, line);
	if (f)
		fclose(f);
}

static void spawn(struct daemon *d, const char *exe, char *const *argv)
{
	/* A log of an earlier run under the same name must not be read as
	 * this one's (its "listening" line): gone before the child starts. */
	unlink(d->log);
	fflush(NULL);
	d->pid = bench_fork();
	if (d->pid < 0)
		bench_die("fork: %s", strerror(errno));
	if (d->pid == 0) {
		int fd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (fd < 0 || null < 0 || dup2(fd, STDERR_FILENO) < 0 ||
		    dup2(null, STDOUT_FILENO) < 0 || dup2(null, STDIN_FILENO) < 0)
			_exit(126);
		execv(exe, argv);
		_exit(127);
	}
}

void daemon_spawn(struct bench_run *run, struct daemon *d, const char *name,
		  const char *const *argv)
{
	char exe[4200];
	memset(d, 0, sizeof *d);
	snprintf(d->name, sizeof d->name, "%s", name);
	snprintf(d->log, sizeof d->log, "%s/%s.log", bench_scratch(run), name);
	snprintf(exe, sizeof exe, "%s", bench_bin(run, argv[0]));
	spawn(d, exe, (char *const *)argv);
}

void daemon_start_stored(struct bench_run *run, struct daemon *d, const char *name,
			 const char *const *extra)
{
	char exe[4200];
	const char *argv[32] = { "rmon-stored", "--data", NULL, "--listen", NULL };
	size_t n = 5;
	uint64_t ignored;
	memset(d, 0, sizeof *d);
	snprintf(d->name, sizeof d->name, "%s", name);
	snprintf(d->data, sizeof d->data, "%s/%s", bench_scratch(run), name);
	snprintf(d->log, sizeof d->log, "%s/%s.log", bench_scratch(run), name);
	snprintf(exe, sizeof exe, "%s", bench_bin(run, "rmon-stored"));
	d->port = bench_free_port();
	snprintf(d->address, sizeof d->address, "127.0.0.1:%d", d->port);
	argv[2] = d->data;
	argv[4] = d->address;
	for (; extra && *extra && n < 31; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	spawn(d, exe, (char *const *)argv);
	for (int i = 0; i < 500; i++) {
		if (log_number(d, "taking agents' streams on 127.0.0.1:", &ignored))
			return;
		if (waitpid(d->pid, NULL, WNOHANG) == d->pid) {
			d->pid = 0;
			daemon_show_log(d);
			bench_die("%s did not start", exe);
		}
		usleep(20000);
	}
	daemon_show_log(d);
	bench_die("%s did not listen within 10 s", exe);
}

uint64_t daemon_stop_stored(struct daemon *d)
{
	int status;
	uint64_t stored;
	char ring[64];
	kill(d->pid, SIGTERM);
	waitpid(d->pid, &status, 0);
	d->pid = 0;
	ring_name_for_dir(d->data, ring, sizeof ring);
	ring_unlink(ring, NULL);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		daemon_show_log(d);
		bench_die("rmon-stored did not exit cleanly (status %#x)", status);
	}
	if (!log_number(d, "stopped after storing ", &stored)) {
		daemon_show_log(d);
		bench_die("rmon-stored did not say how many samples it stored");
	}
	/* Its data would otherwise still be written back while the next run
	 * measures, on the disk that run's WAL syncs to. */
	bench_remove_tree(d->data);
	sync();
	return stored;
}

int daemon_alive(struct daemon *d)
{
	if (d->pid <= 0)
		return 0;
	if (waitpid(d->pid, NULL, WNOHANG) == d->pid) {
		d->pid = 0;
		return 0;
	}
	return 1;
}

void daemon_kill(struct daemon *d)
{
	if (d->pid <= 0)
		return;
	kill(d->pid, SIGKILL);
	waitpid(d->pid, NULL, 0);
	d->pid = 0;
	if (d->data[0]) {
		char ring[64];
		ring_name_for_dir(d->data, ring, sizeof ring);
		ring_unlink(ring, NULL);
	}
}
