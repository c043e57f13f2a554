/* run.c - one rmon-bench run (run.h): the scenarios' results in order,
 * the run's scratch folder and the paths of the rmon programs. */
#include "bench/report_private.h"

#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/daemons.h"
#include "bench/procstat.h"
#include "lib/rtime.h"
#include "shmring/ring.h"

extern char **environ;

/* The scratch folder to remove at exit: a scenario that gives up with
 * bench_die() must not leave it behind. */
static char scratch_at_exit[64];
static pid_t scratch_owner; /* a forked child's exit() leaves it alone */

static void remove_scratch_at_exit(void)
{
	if (scratch_at_exit[0] && getpid() == scratch_owner)
		bench_remove_tree(scratch_at_exit);
}

static pid_t run_pid;	  /* the process the interrupt handler cleans up for */
static char pid_text[16]; /* written beforehand: snprintf is not for handlers */

/* An interrupted run (Ctrl-C, SIGTERM, SIGHUP) ends as one that gives up
 * does: its daemons killed, their rings and the scratch folder removed.
 * A handler may call only async-signal-safe functions (not nftw, not
 * malloc), and the children of bench_fork die only with this process, so
 * a fresh process does the removal once this one is gone: this program
 * again, as `rmon-bench --end-scratch DIR PID`. */
static void end_interrupted(int sig)
{
	if (getpid() == run_pid) {
		daemon_kill_tracked();
		if (scratch_at_exit[0]) {
			char *argv[] = { "rmon-bench", "--end-scratch", scratch_at_exit, pid_text,
					 NULL };
			pid_t child;
			posix_spawn(&child, "/proc/self/exe", NULL, NULL, argv, environ);
		}
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void end_on(int sig, bool unless_ignored)
{
	struct sigaction old, sa = { .sa_handler = end_interrupted };
	sigemptyset(&sa.sa_mask);
	/* nohup's SIGHUP and a script's background SIGINT stay ignored. */
	if (unless_ignored && sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_IGN)
		return;
	sigaction(sig, &sa, NULL);
}

struct bench_run *bench_run_new(const struct bench_options *opts)
{
	struct bench_run *run = calloc(1, sizeof *run);
	if (!run)
		bench_die("out of memory");
	run->opts = *opts;
	run_pid = getpid();
	snprintf(pid_text, sizeof pid_text, "%d", (int)run_pid);
	end_on(SIGINT, true);
	end_on(SIGHUP, true);
	end_on(SIGTERM, false);
	return run;
}

/* Every folder under the scratch folder may be a data folder whose ring a
 * killed rmon-stored left in /dev/shm. */
static int unlink_ring_of(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	char name[64];
	if (type == FTW_D) {
		ring_name_for_dir(path, name, sizeof name);
		ring_unlink(name, NULL);
	}
	return 0;
}

int bench_end_scratch(const char *dir, const char *run_pid_text)
{
	char name[64];
	if (strncmp(dir, "/tmp/rmon-bench.", 16) != 0 || strstr(dir, "/.."))
		return 2; /* only a scratch folder of ours */
	for (int i = 0; i < 1000 && !procstat_ended((pid_t)atol(run_pid_text)); i++)
		usleep(10000);
	/* Its children die at once, but a last write may still land. */
	for (int i = 0; i < 50 && access(dir, F_OK) == 0; i++) {
		nftw(dir, unlink_ring_of, 16, FTW_PHYS);
		char cmd[4200];
		snprintf(cmd, sizeof cmd, "rm -rf '%s' 2>/dev/null", dir);
		if (system(cmd) != 0)
			usleep(50000);
	}
	snprintf(name, sizeof name, "/rmon-bench-%s", run_pid_text); /* the ring scenario's */
	ring_unlink(name, NULL);
	return access(dir, F_OK) == 0;
}

void bench_run_begin(struct bench_run *run, const char *name)
{
	report_grow(&run->results, &run->cap_results, run->n_results + 1, sizeof *run->results);
	struct scenario_result *s = &run->results[run->n_results++];
	*s = (struct scenario_result){ .name = report_strdup(name) };
	run->now = s;
	run->started_ns = rtime_mono_ns();
	run->last_draw_ns = 0;
	run->last_line_ns = run->started_ns; /* the first plain line 10 s in */
}

void bench_run_end(struct bench_run *run, int status)
{
	struct scenario_result *s = run->now;
	bench_progress_done(run);
	if (!s)
		return;
	s->status = status;
	s->seconds = (double)(rtime_mono_ns() - run->started_ns) / 1e9;
	if (!run->opts.json)
		report_print_tables(stdout, s);
	run->now = NULL;
}

int bench_run_finish(struct bench_run *run)
{
	if (run->opts.json)
		report_print_json(stdout, run);
	if (run->opts.plot && report_plot(run, run->opts.plot) != 0)
		return 1;
	return 0;
}

static void free_table(struct bench_table *t)
{
	for (size_t i = 0; i < t->n_rows; i++) {
		free(t->rows[i].name);
		free(t->rows[i].unit);
		free(t->rows[i].versus);
	}
	for (size_t i = 0; i < t->n_notes; i++)
		free(t->notes[i]);
	free(t->rows);
	free(t->notes);
	free(t->title);
	free(t);
}

void bench_run_free(struct bench_run *run)
{
	if (!run)
		return;
	for (size_t i = 0; i < run->n_results; i++) {
		struct scenario_result *s = &run->results[i];
		for (size_t k = 0; k < s->n_tables; k++)
			free_table(s->tables[k]);
		free(s->tables);
		free(s->points);
		free(s->rate_unit);
		free(s->name);
	}
	free(run->results);
	for (size_t i = 0; i < run->n_paths; i++)
		free(run->paths[i]);
	free(run->paths);
	if (run->scratch[0]) {
		bench_remove_tree(run->scratch);
		scratch_at_exit[0] = '\0';
	}
	free(run);
}

const struct bench_options *bench_opts(const struct bench_run *run)
{
	return &run->opts;
}

const char *bench_scratch(struct bench_run *run)
{
	if (run->scratch[0])
		return run->scratch;
	snprintf(run->scratch, sizeof run->scratch, "/tmp/rmon-bench.XXXXXX");
	if (!mkdtemp(run->scratch))
		bench_die("cannot make a scratch folder under /tmp: %m");
	static bool registered;
	memcpy(scratch_at_exit, run->scratch, sizeof scratch_at_exit);
	scratch_owner = getpid();
	if (!registered)
		atexit(remove_scratch_at_exit);
	registered = true;
	return run->scratch;
}

const char *bench_bin(struct bench_run *run, const char *program)
{
	char *path;
	if (asprintf(&path, "%s/%s", run->opts.bin, program) < 0)
		bench_die("out of memory");
	report_grow(&run->paths, &run->cap_paths, run->n_paths + 1, sizeof *run->paths);
	run->paths[run->n_paths++] = path;
	return path;
}

const char *bench_peers(struct bench_run *run)
{
	const char *env = getenv("RMON_BENCH_PEERS");
	char *path;
	if (env && *env)
		path = report_strdup(env);
	else if (asprintf(&path, "%s/../../../bench/peers", run->opts.bin) < 0)
		bench_die("out of memory");
	report_grow(&run->paths, &run->cap_paths, run->n_paths + 1, sizeof *run->paths);
	run->paths[run->n_paths++] = path;
	char probe[4200];
	snprintf(probe, sizeof probe, "%s/common.sh", path);
	return access(probe, R_OK) == 0 ? path : NULL;
}
