/* notify_exec.c - an exec receiver: its program run with the argv the
 * config gave (never a shell), an environment of RMON_* variables and the
 * receiver's env settings, and the notice's JSON document on standard
 * input.  The loop watches the child through a pidfd; a child still
 * running at the receiver's timeout is killed with its process group.
 * Exit status 0 is delivered; anything else fails the attempt, with the
 * first line the program wrote to standard error. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alertd/notify_json.h"
#include "alertd/notify_mail.h"
#include "alertd/notify_private.h"
#include "alertd/receiver_private.h"
#include "alertd/textbuf.h"
#include "lib/evloop.h"
#include "lib/rtime.h"

#define ENV_MAX 64

struct env {
	char *vars[ENV_MAX + 1];
	size_t n;
};

static void env_add(struct env *env, const char *name, const char *value)
{
	struct textbuf b = { 0 };
	if (env->n >= ENV_MAX)
		return;
	textbuf_printf(&b, "%s=%s", name, value ? value : "");
	if ((env->vars[env->n] = textbuf_take(&b, NULL)))
		env->n++;
}

static void env_free(struct env *env)
{
	for (size_t i = 0; i < env->n; i++)
		free(env->vars[i]);
	env->n = 0;
}

static void env_number(struct env *env, const char *name, double v)
{
	char buf[64];
	snprintf(buf, sizeof buf, "%.17g", v);
	env_add(env, name, buf);
}

static void build_env(const struct notice *nt, struct env *env)
{
	const struct receiver_private *p = nt->receiver->priv;
	char buf[1024];
	const char *path = getenv("PATH");
	env_add(env, "PATH", path ? path : "/usr/local/bin:/usr/bin:/bin");
	snprintf(buf, sizeof buf, "%llu", (unsigned long long)nt->id);
	env_add(env, "RMON_NOTICE_ID", buf);
	env_add(env, "RMON_KIND", notify_kind_name(nt->kind));
	env_add(env, "RMON_RECEIVER", nt->receiver->name);
	env_add(env, "RMON_MESSAGE_ID", nt->message_id);
	env_add(env, "RMON_THREAD_ID", nt->thread_id);
	notify_mail_subject(nt, buf, sizeof buf);
	env_add(env, "RMON_SUBJECT", buf);
	snprintf(buf, sizeof buf, "%zu", nt->n_alerts);
	env_add(env, "RMON_ALERTS", buf);
	snprintf(buf, sizeof buf, "%zu", nt->n_held);
	env_add(env, "RMON_HELD", buf);
	if (nt->n_alerts) {
		const struct notice_alert *a = &nt->alerts[0];
		snprintf(buf, sizeof buf, "%llu", (unsigned long long)a->alert_id);
		env_add(env, "RMON_ALERT_ID", buf);
		env_add(env, "RMON_STATE", a->state == ALERT_RESOLVED ? "resolved" : "firing");
		env_add(env, "RMON_RULE", a->rule);
		env_add(env, "RMON_SEVERITY", a->severity);
		env_add(env, "RMON_HOST", a->host);
		env_add(env, "RMON_LABELS", a->labels);
		env_add(env, "RMON_SUMMARY", a->summary);
		env_add(env, "RMON_DESCRIPTION", a->description);
		env_add(env, "RMON_DETAIL", a->detail);
		env_add(env, "RMON_SERIES", a->series);
		env_number(env, "RMON_VALUE", a->value);
		env_number(env, "RMON_THRESHOLD", a->threshold);
		env_add(env, "RMON_SINCE", notify_rfc3339(a->since, buf, sizeof buf));
		env_add(env, "RMON_AT", notify_rfc3339(a->at, buf, sizeof buf));
		env_add(env, "RMON_LINK", a->link);
	}
	/* The receiver's own settings come last, so they win. */
	for (size_t i = 0; i < p->n_env && env->n < ENV_MAX; i++)
		if ((env->vars[env->n] = strdup(p->env[i])))
			env->n++;
	env->vars[env->n] = NULL;
}

/* The program's path: as given when it holds a '/', else found on PATH,
 * before the fork (the child of a threaded process may only exec). */
static int find_program(const char *name, char *out, size_t cap)
{
	if (strchr(name, '/')) {
		snprintf(out, cap, "%s", name);
		return access(out, X_OK) == 0 ? 0 : -errno;
	}
	const char *path = getenv("PATH");
	for (const char *dir = path ? path : "/usr/local/bin:/usr/bin:/bin"; *dir;) {
		size_t len = strcspn(dir, ":");
		snprintf(out, cap, "%.*s/%s", (int)len, len ? dir : ".", name);
		if (access(out, X_OK) == 0)
			return 0;
		dir += len + (dir[len] == ':');
	}
	return -ENOENT;
}

static void finish(struct notify_job *job, int rc, const char *detail)
{
	struct evloop *loop = job->n->loop;
	if (job->pidfd >= 0) {
		evloop_del_file(loop, job->pidfd);
		close(job->pidfd);
		job->pidfd = -1;
	}
	if (job->stderr_fd >= 0) {
		evloop_del_file(loop, job->stderr_fd);
		close(job->stderr_fd);
		job->stderr_fd = -1;
	}
	if (job->exec_timer) {
		evloop_del_timer(loop, job->exec_timer);
		job->exec_timer = 0;
	}
	job->pid = -1;
	notify_attempt_done(job, rc, detail);
}

static void on_stderr(struct evloop *loop, int fd, unsigned events, void *ctx)
{
	struct notify_job *job = ctx;
	char buf[4096];
	(void)events;
	ssize_t n = read(fd, buf, sizeof buf);
	if (n > 0) {
		size_t room = sizeof job->stderr_head - 1 - job->stderr_len;
		size_t take = (size_t)n < room ? (size_t)n : room;
		memcpy(job->stderr_head + job->stderr_len, buf, take);
		job->stderr_len += take;
		job->stderr_head[job->stderr_len] = '\0';
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	evloop_del_file(loop, fd);
	close(fd);
	job->stderr_fd = -1;
}

static void on_exit_fd(struct evloop *loop, int fd, unsigned events, void *ctx)
{
	struct notify_job *job = ctx;
	const struct receiver_private *p = job->notice.receiver->priv;
	char detail[400], took[32];
	int status;
	(void)loop;
	(void)fd;
	(void)events;
	if (waitpid(job->pid, &status, WNOHANG) != job->pid)
		return;
	/* What it wrote last is still in the pipe. */
	if (job->stderr_fd >= 0)
		on_stderr(loop, job->stderr_fd, EVLOOP_READ, job);
	const char *first = job->stderr_head;
	int len = (int)strcspn(first, "\n");
	const char *prog = p->argv[0];
	if (job->timed_out)
		snprintf(detail, sizeof detail, "%s: killed after the timeout of %s", prog,
			 rtime_format_duration(p->timeout_ns, took, sizeof took));
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		finish(job, 0, NULL);
		return;
	} else if (WIFEXITED(status))
		snprintf(detail, sizeof detail, "%s: exit status %d%s%.*s", prog,
			 WEXITSTATUS(status), len ? ": " : "", len, first);
	else
		snprintf(detail, sizeof detail, "%s: killed by signal %d%s%.*s", prog,
			 WTERMSIG(status), len ? ": " : "", len, first);
	finish(job, -EIO, detail);
}

static int64_t on_timeout(struct evloop *loop, void *ctx)
{
	struct notify_job *job = ctx;
	(void)loop;
	job->exec_timer = 0;
	if (job->pid > 0) {
		job->timed_out = true;
		kill(-job->pid, SIGKILL);
		kill(job->pid, SIGKILL);
	}
	return EVLOOP_TIMER_DONE;
}

/* Writes the JSON document into a pipe the child reads as its input: a
 * memfd would do, but a pipe holds 64 KiB, more than any notice needs;
 * what does not fit is cut rather than block the loop. */
static int input_pipe(const char *json, size_t len, int *read_end)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) != 0)
		return -errno;
	fcntl(fds[1], F_SETFL, O_NONBLOCK);
	ssize_t n = write(fds[1], json, len);
	(void)n;
	close(fds[1]);
	*read_end = fds[0];
	return 0;
}

int notify_exec_start(struct notify_job *job, struct err *e)
{
	const struct receiver_private *p = job->notice.receiver->priv;
	struct env env = { .n = 0 };
	char program[4096];
	int in = -1, errs[2] = { -1, -1 }, rc;
	size_t len;
	char *json = NULL;
	job->timed_out = false;
	job->stderr_len = 0;
	job->stderr_head[0] = '\0';
	if ((rc = find_program(p->argv[0], program, sizeof program)) != 0)
		return err_sys(e, rc, "%s:%d: [receiver %s]: cannot run %s",
			       job->notice.receiver->file, job->notice.receiver->line,
			       job->notice.receiver->name, p->argv[0]);
	build_env(&job->notice, &env);
	if (!(json = notify_json(&job->notice, &len)) || (rc = input_pipe(json, len, &in)) != 0 ||
	    pipe2(errs, O_CLOEXEC | O_NONBLOCK) != 0) {
		rc = err_sys(e, rc ? rc : -ENOMEM, "cannot prepare %s", p->argv[0]);
		goto out;
	}
	pid_t pid = fork();
	if (pid < 0) {
		rc = err_sys(e, -errno, "cannot start %s", p->argv[0]);
		goto out;
	}
	if (pid == 0) {
		/* The child: only async-signal-safe calls until execve. */
		int null = open("/dev/null", O_WRONLY);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setpgid(0, 0);
		dup2(in, 0);
		dup2(null >= 0 ? null : errs[1], 1);
		dup2(errs[1], 2);
		syscall(SYS_close_range, 3, ~0u, 0);
		execve(program, p->argv, env.vars);
		_exit(127);
	}
	job->pid = pid;
	job->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (job->pidfd < 0 || (rc = evloop_add_file(job->n->loop, job->pidfd, EVLOOP_READ,
						    on_exit_fd, job, e)) != 0) {
		rc = err_sys(e, job->pidfd < 0 ? -errno : rc, "cannot watch %s", p->argv[0]);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		if (job->pidfd >= 0)
			close(job->pidfd);
		job->pidfd = -1;
		job->pid = -1;
		goto out;
	}
	job->stderr_fd = errs[0];
	errs[0] = -1;
	if (evloop_add_file(job->n->loop, job->stderr_fd, EVLOOP_READ, on_stderr, job, NULL) != 0) {
		close(job->stderr_fd);
		job->stderr_fd = -1;
	}
	evloop_add_timer(job->n->loop, p->timeout_ns, on_timeout, job, &job->exec_timer, NULL);
	rc = 0;
out:
	if (in >= 0)
		close(in);
	if (errs[0] >= 0)
		close(errs[0]);
	if (errs[1] >= 0)
		close(errs[1]);
	free(json);
	env_free(&env);
	return rc;
}

void notify_exec_abandon(struct notify_job *job)
{
	struct evloop *loop = job->n->loop;
	if (job->pid > 0) {
		kill(-job->pid, SIGKILL);
		kill(job->pid, SIGKILL);
		waitpid(job->pid, NULL, 0);
		job->pid = -1;
	}
	if (job->pidfd >= 0) {
		evloop_del_file(loop, job->pidfd);
		close(job->pidfd);
		job->pidfd = -1;
	}
	if (job->stderr_fd >= 0) {
		evloop_del_file(loop, job->stderr_fd);
		close(job->stderr_fd);
		job->stderr_fd = -1;
	}
	if (job->exec_timer)
		evloop_del_timer(loop, job->exec_timer);
	job->exec_timer = 0;
}
