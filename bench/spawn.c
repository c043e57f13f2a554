/* spawn.c - a scenario's daemons and their logs; see spawn.h. */
#include "bench/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/daemons.h"

pid_t spawn_logged(char *const argv[], const char *log, bool group)
{
	pid_t pid = fork();
	if (pid > 0)
		daemon_track(pid);
	if (pid != 0)
		return pid;
	if (group)
		setpgid(0, 0);
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	int null = open("/dev/null", O_RDONLY);
	if (null >= 0)
		dup2(null, 0);
	execv(argv[0], argv);
	dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

void spawn_stop(pid_t *pid, int sig)
{
	if (*pid <= 0)
		return;
	/* A child of its own group leads it: kill the group, workers too. */
	if (getpgid(*pid) == *pid)
		kill(-*pid, sig);
	else
		kill(*pid, sig);
	waitpid(*pid, NULL, 0);
	daemon_untrack(*pid);
	*pid = 0;
}

bool spawn_file_has(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	bool found = false;
	while (f && !found && fgets(line, sizeof line, f))
		found = strstr(line, needle) != NULL;
	if (f)
		fclose(f);
	return found;
}

bool spawn_wait_log(pid_t *pid, const char *log, const char *needle, int seconds)
{
	for (int i = 0; i < seconds * 20; i++) {
		if (spawn_file_has(log, needle))
			return true;
		if (waitpid(*pid, NULL, WNOHANG) == *pid) {
			*pid = 0;
			fprintf(stderr, "rmon-bench: the process of %s ended before it said '%s'\n",
				log, needle);
			return false;
		}
		usleep(50000);
	}
	fprintf(stderr, "rmon-bench: %s never said '%s' in %d s\n", log, needle, seconds);
	return false;
}
