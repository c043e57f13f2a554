/* plot.c - the pool of gnuplot processes.  A graph's script goes into a
 * memfd, and gnuplot's stdin (a socket) gets three short commands: load
 * the memfd through /proc, close the output, print a marker.  gnuplot reads
 * its stdin a byte at a time but a loaded file through stdio, and an error
 * ends only the load, so the marker still comes and names the graph that
 * failed.  The caller's process keeps every process busy without threads
 * (non-blocking sockets and poll), finishes each graph (SVG rewrite,
 * rename into place) when its marker arrives, and names the graph when
 * gnuplot complains or dies. */
#include "lib/plot.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/fault.h"
#include "lib/grow.h"
#include "lib/plot_private.h"

extern char **environ;

/* Graphs a process may have queued before plot_draw waits: enough that
 * gnuplot never starves between two calls, few enough to bound the memfds
 * held open. */
enum { MAX_QUEUED = 4 };
/* A gnuplot that says nothing for this long is stuck: killed, its graphs
 * failed.  Generous: a loaded machine must not fail good graphs. */
enum { STALL_SECONDS = 120 };

struct plot_job {
	char *path; /* the final name; gnuplot writes path.tmp */
	char *title;
	enum plot_format format;
	uint64_t seq;
	int script; /* the memfd gnuplot loads, -1 once closed */
	int out;    /* SVG: the memfd gnuplot writes into, else -1 */
	int file;   /* SVG: path.tmp, open; gnuplot writes a PNG there itself */
};

struct plot_proc {
	pid_t pid;		/* 0: not running */
	int in, out;		/* gnuplot's stdin; its stdout and stderr */
	struct plot_buf script; /* commands, bytes [sent, len) not yet written */
	size_t sent;
	struct plot_job *jobs; /* queued: jobs[head..n_jobs) */
	size_t head, n_jobs, cap_jobs;
	char line[1024]; /* gnuplot's output line being read */
	size_t line_len;
	char complaint[300]; /* gnuplot's first error about the current job */
	time_t last_heard;
};

struct plot_pool {
	struct plot_proc *procs;
	size_t n;
	uint64_t seq;
	int failure; /* the first failure since plot_wait, with its message */
	char message[sizeof((struct err *)0)->msg];
	size_t failures;
	struct plot_buf graph; /* the script being made, reused */
	int stall_seconds;
};

static size_t pending(const struct plot_proc *pr)
{
	return pr->n_jobs - pr->head;
}

static void job_free(struct plot_job *j)
{
	free(j->path);
	free(j->title);
	int *fds[] = { &j->script, &j->out, &j->file };
	for (size_t i = 0; i < 3; i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

static char *tmp_name(const char *path)
{
	char *tmp = malloc(strlen(path) + 5);
	if (tmp)
		strcat(strcpy(tmp, path), ".tmp");
	return tmp;
}

static void fail(struct plot_pool *p, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(struct plot_pool *p, int code, const char *fmt, ...)
{
	if (!p->failures++) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(p->message, sizeof p->message, fmt, ap);
		va_end(ap);
		p->failure = code;
	}
}

static void fail_err(struct plot_pool *p, const struct err *e)
{
	fail(p, e->code ? e->code : -EIO, "%s", e->msg);
}

static void close_proc(struct plot_proc *pr)
{
	if (pr->in >= 0)
		close(pr->in);
	if (pr->out >= 0)
		close(pr->out);
	pr->in = pr->out = -1;
}

static int spawn(struct plot_proc *pr, struct err *e)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, rc = 0;
	posix_spawn_file_actions_t actions;
	bool actions_made = false;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, out) < 0) {
		rc = err_sys(e, -errno, "plot: cannot make gnuplot's pipes");
		goto fail;
	}
	if ((rc = -posix_spawn_file_actions_init(&actions))) {
		err_sys(e, rc, "plot: cannot start gnuplot");
		goto fail;
	}
	actions_made = true;
	/* Everything else is close-on-exec: a gnuplot holds only its own
	 * pipes, so our closing one ends that one process. */
	posix_spawn_file_actions_adddup2(&actions, in[1], 0);
	posix_spawn_file_actions_adddup2(&actions, out[1], 1);
	posix_spawn_file_actions_adddup2(&actions, out[1], 2);
	/* and what the caller left open without close-on-exec stays out of
	 * gnuplot too */
	posix_spawn_file_actions_addclosefrom_np(&actions, 3);
	char *argv[] = { "gnuplot", NULL };
	pid_t pid;
	rc = posix_spawnp(&pid, "gnuplot", &actions, NULL, argv, environ);
	if (rc == ENOENT) {
		rc = err_set(e, -ENOENT,
			     "plot: gnuplot not found in PATH: install Debian's gnuplot-nox "
			     "(apt-get install gnuplot-nox)");
		goto fail;
	}
	if (rc) {
		rc = err_sys(e, -rc, "plot: cannot start gnuplot");
		goto fail;
	}
	posix_spawn_file_actions_destroy(&actions);
	close(in[1]);
	close(out[1]);
	fcntl(in[0], F_SETFL, O_NONBLOCK);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	pr->pid = pid;
	pr->in = in[0];
	pr->out = out[0];
	pr->line_len = 0;
	pr->complaint[0] = '\0';
	pr->last_heard = time(NULL);
	return 0;
fail:
	if (actions_made)
		posix_spawn_file_actions_destroy(&actions);
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	return rc;
}

/* Puts a graph gnuplot drew without complaint into place. */
static int place(struct plot_job *j, const char *tmp, struct err *e)
{
	int rc = 0;
	if (j->format == PLOT_SVG && (rc = plot_svg_finish(j->out, j->file, j->path, j->title, e)))
		return rc;
	if (j->file >= 0) {
		rc = close(j->file);
		j->file = -1;
		if (rc < 0)
			return err_sys(e, -errno, "plot: %s: cannot write %s", j->path, tmp);
	}
	if (rename(tmp, j->path) < 0)
		return err_sys(e, -errno, "plot: %s: cannot rename %s into place", j->path, tmp);
	return 0;
}

/* The job at the head of pr is done: put its file in place, or say why
 * not. */
static void finish(struct plot_pool *p, struct plot_proc *pr)
{
	struct plot_job *j = &pr->jobs[pr->head++];
	char *tmp = tmp_name(j->path);
	struct err e = { 0 };
	if (!tmp) {
		fail(p, -ENOMEM, "plot: %s: out of memory", j->path);
	} else if (pr->complaint[0]) {
		fail(p, -EINVAL, "plot: %s: gnuplot: %s", j->path, pr->complaint);
		unlink(tmp);
	} else if (place(j, tmp, &e)) {
		fail_err(p, &e);
		unlink(tmp);
	}
	free(tmp);
	job_free(j);
	pr->complaint[0] = '\0';
	if (pr->head == pr->n_jobs)
		pr->head = pr->n_jobs = 0;
}

/* gnuplot is gone (killed, crashed, or stuck and killed by us): each of
 * its graphs fails, the first one named, and the next plot_draw starts
 * another. */
/* Waits for pid, whose input is closed, to end; one that has not ended
 * within 5 s (stopped, or stuck) is killed rather than waited on forever. */
static bool reap(pid_t pid, int *status)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd >= 0) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		while (poll(&pfd, 1, 5000) < 0 && errno == EINTR)
			;
		if (!pfd.revents)
			kill(pid, SIGKILL);
		close(fd);
	}
	return waitpid(pid, status, 0) == pid;
}

static void bury(struct plot_pool *p, struct plot_proc *pr, const char *why)
{
	int status = 0;
	char how[64] = "ended";
	close_proc(pr);
	if (pr->pid > 0 && reap(pr->pid, &status)) {
		if (WIFSIGNALED(status))
			snprintf(how, sizeof how, "killed by signal %d", WTERMSIG(status));
		else
			snprintf(how, sizeof how, "exited with status %d", WEXITSTATUS(status));
	}
	if (pending(pr)) {
		fail(p, -EPIPE, "plot: %s: gnuplot (pid %d) %s%s before the graph was written%s",
		     pr->jobs[pr->head].path, (int)pr->pid, why, how,
		     pending(pr) > 1 ? ", and the graphs queued after it" : "");
		p->failures += pending(pr) - 1;
	}
	for (size_t i = pr->head; i < pr->n_jobs; i++) {
		char *tmp = tmp_name(pr->jobs[i].path);
		if (tmp)
			unlink(tmp);
		free(tmp);
		job_free(&pr->jobs[i]);
	}
	pr->head = pr->n_jobs = 0;
	pr->script.len = pr->sent = 0;
	pr->pid = 0;
}

/* One line gnuplot printed: our marker, or something it says about the
 * current graph ("line 12: ..." is an error, unless it is a warning). */
static void heard(struct plot_pool *p, struct plot_proc *pr, char *line)
{
	unsigned long long seq;
	if (sscanf(line, "RMON-DONE %llu", &seq) == 1) {
		if (pending(pr) && pr->jobs[pr->head].seq == seq)
			finish(p, pr);
		return;
	}
	/* gnuplot's errors in a loaded file read
	 * '         "/proc/1/fd/5" line 12: what', its warnings
	 * '... line 12: warning: what'; the echoed command before them has
	 * neither shape.  The file's name says nothing to the reader. */
	const char *at = line + strspn(line, " \t");
	if (*at == '"' && (at = strchr(at + 1, '"')))
		at += 1 + strspn(at + 1, " ");
	char *after;
	if (!at || strncmp(at, "line ", 5) || (strtoul(at + 5, &after, 10), *after != ':') ||
	    strstr(after, "arning:"))
		return;
	if (!pr->complaint[0])
		snprintf(pr->complaint, sizeof pr->complaint, "%s", at);
}

static void read_from(struct plot_pool *p, struct plot_proc *pr)
{
	char buf[4096];
	for (;;) {
		ssize_t n = read(pr->out, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			bury(p, pr, "");
			return;
		}
		pr->last_heard = time(NULL);
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				pr->line[pr->line_len] = '\0';
				heard(p, pr, pr->line);
				pr->line_len = 0;
				if (!pr->pid)
					return;
			} else if (pr->line_len + 1 < sizeof pr->line) {
				pr->line[pr->line_len++] = buf[i];
			}
		}
	}
}

static void write_to(struct plot_pool *p, struct plot_proc *pr)
{
	while (pr->sent < pr->script.len) {
		/* a socket, so a dead reader is EPIPE here and not SIGPIPE for
		 * the whole program */
		ssize_t n =
		    send(pr->in, pr->script.p + pr->sent, pr->script.len - pr->sent, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			bury(p, pr, "");
			return;
		}
		pr->sent += (size_t)n;
	}
	pr->script.len = pr->sent = 0;
}

/* Moves bytes both ways on every process, waiting up to timeout_ms for
 * something to happen. */
static void pump(struct plot_pool *p, int timeout_ms)
{
	struct pollfd fds[2 * p->n];
	size_t nfds = 0;
	for (size_t i = 0; i < p->n; i++) {
		struct plot_proc *pr = &p->procs[i];
		if (!pr->pid)
			continue;
		fds[nfds++] = (struct pollfd){ .fd = pr->out, .events = POLLIN };
		if (pr->sent < pr->script.len)
			fds[nfds++] = (struct pollfd){ .fd = pr->in, .events = POLLOUT };
	}
	if (!nfds || poll(fds, nfds, timeout_ms) < 0)
		return;
	time_t now = time(NULL);
	for (size_t i = 0, f = 0; i < p->n; i++) {
		struct plot_proc *pr = &p->procs[i];
		if (!pr->pid)
			continue;
		short out_events = fds[f++].revents;
		short in_events = pr->sent < pr->script.len ? fds[f++].revents : 0;
		if (in_events & (POLLOUT | POLLERR | POLLHUP))
			write_to(p, pr);
		if (pr->pid && (out_events & (POLLIN | POLLERR | POLLHUP)))
			read_from(p, pr);
		if (pr->pid && pending(pr) && now - pr->last_heard > p->stall_seconds) {
			char why[64];
			snprintf(why, sizeof why, "said nothing for %d s and was ",
				 p->stall_seconds);
			kill(pr->pid, SIGKILL);
			bury(p, pr, why);
		}
	}
}

int plot_pool_new(int processes, struct plot_pool **out, struct err *e)
{
	*out = NULL;
	if (processes <= 0) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		processes = cores > 0 ? (int)cores : 1;
	}
	if (processes > 256)
		return err_set(e, -EINVAL, "plot: %d gnuplot processes: at most 256", processes);
	struct plot_pool *p = calloc(1, sizeof *p);
	if (!p || !(p->procs = calloc((size_t)processes, sizeof *p->procs))) {
		free(p);
		return err_set(e, -ENOMEM, "plot: out of memory");
	}
	p->n = (size_t)processes;
	p->stall_seconds = STALL_SECONDS;
	for (size_t i = 0; i < p->n; i++)
		p->procs[i].in = p->procs[i].out = -1;
	for (size_t i = 0; i < p->n; i++) {
		int rc = spawn(&p->procs[i], e);
		if (rc) {
			plot_pool_free(p);
			return rc;
		}
	}
	*out = p;
	return 0;
}

/* The process with the fewest graphs queued, then the fewest bytes. */
static struct plot_proc *least_busy(struct plot_pool *p)
{
	struct plot_proc *best = &p->procs[0];
	for (size_t i = 1; i < p->n; i++) {
		struct plot_proc *pr = &p->procs[i];
		if (pending(pr) < pending(best) ||
		    (pending(pr) == pending(best) &&
		     pr->script.len - pr->sent < best->script.len - best->sent))
			best = pr;
	}
	return best;
}

/* path from the folder the caller is in now: gnuplot keeps the one it
 * started in, and the caller may move before plot_wait renames. */
static char *absolute(const char *path)
{
	char here[4096];
	if (path[0] == '/' || !getcwd(here, sizeof here))
		return strdup(path);
	char *full = malloc(strlen(here) + strlen(path) + 2);
	if (full)
		sprintf(full, "%s/%s", here, path);
	return full;
}

static int write_script(int fd, const struct plot_buf *b, const char *path, struct err *e)
{
	for (size_t done = 0; done < b->len;) {
		ssize_t n = write(fd, b->p + done, b->len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_sys(e, -errno, "plot: %s: cannot keep its script", path);
		done += (size_t)n;
	}
	return 0;
}

int plot_draw(struct plot_pool *p, const struct plot_graph *g, struct err *e)
{
	pump(p, 0);
	struct plot_proc *pr = least_busy(p);
	while (pr->pid && pending(pr) >= MAX_QUEUED) {
		pump(p, 1000);
		pr = least_busy(p);
	}
	int rc;
	if (!pr->pid && (rc = spawn(pr, e)))
		return rc;
	if (!grow_array(&pr->jobs, &pr->cap_jobs, pr->n_jobs + 1, sizeof *pr->jobs))
		return err_set(e, -ENOMEM, "plot: out of memory");
	char *tmp = NULL;
	struct plot_job j = { .path = g->path ? absolute(g->path) : NULL,
			      .title = strdup(g->title ? g->title : ""),
			      .format = g->format,
			      .seq = ++p->seq,
			      .script = -1,
			      .out = -1,
			      .file = -1 };
	if (j.path)
		tmp = tmp_name(j.path);
	if (g->path && (!tmp || !j.path || !j.title)) {
		rc = err_set(e, -ENOMEM, "plot: out of memory");
		goto out;
	}
	p->graph.len = 0;
	p->graph.failed = false;
	/* An SVG goes into a memfd, to be rewritten into the file: the file
	 * is written once.  A PNG gnuplot writes into the file itself. */
	char output[64];
	if (g->format == PLOT_SVG) {
		if ((rc = FAULT("plot.memfd")) ||
		    (j.out = memfd_create("rmon-plot-svg", MFD_CLOEXEC)) < 0) {
			rc = err_sys(e, rc ? rc : -errno, "plot: %s: cannot make room for it",
				     g->path);
			goto out;
		}
		snprintf(output, sizeof output, "/proc/%d/fd/%d", (int)getpid(), j.out);
	}
	if ((rc = plot_script(&p->graph, g, g->format == PLOT_SVG ? output : tmp, e)))
		goto out;
	/* Made here, not by gnuplot, so a folder that is missing or not
	 * writable is this call's error, named, and gnuplot never writes a
	 * graph anywhere else. */
	if ((j.file = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
		rc = err_sys(e, -errno, "plot: %s: cannot create %s", g->path, tmp);
		goto out;
	}
	if (g->format != PLOT_SVG) {
		close(j.file);
		j.file = -1;
	}
	if ((j.script = memfd_create("rmon-plot", MFD_CLOEXEC)) < 0) {
		rc = err_sys(e, -errno, "plot: %s: cannot make room for its script", g->path);
		goto out;
	}
	if ((rc = write_script(j.script, &p->graph, g->path, e)))
		goto out;
	plot_buf_printf(&pr->script,
			"load '/proc/%d/fd/%d'\nset output '/dev/null'\nprint 'RMON-DONE %llu'\n",
			(int)getpid(), j.script, (unsigned long long)j.seq);
	if (pr->script.failed) {
		pr->script.failed = false;
		rc = err_set(e, -ENOMEM, "plot: out of memory");
		goto out;
	}
	/* an idle gnuplot has had nothing to say: its silence counts from now */
	if (!pending(pr))
		pr->last_heard = time(NULL);
	pr->jobs[pr->n_jobs++] = j;
	j = (struct plot_job){ .script = -1, .out = -1, .file = -1 };
	write_to(p, pr);
out:
	if (rc && tmp)
		unlink(tmp);
	free(tmp);
	job_free(&j);
	return rc;
}

int plot_wait(struct plot_pool *p, struct err *e)
{
	for (;;) {
		bool busy = false;
		for (size_t i = 0; i < p->n; i++)
			busy |= p->procs[i].pid && pending(&p->procs[i]);
		if (!busy)
			break;
		pump(p, 1000);
	}
	int rc = p->failure;
	if (rc) {
		if (p->failures > 1)
			err_set(e, rc, "%s (%zu graphs failed)", p->message, p->failures);
		else
			err_set(e, rc, "%s", p->message);
	}
	p->failure = 0;
	p->failures = 0;
	return rc;
}

void plot_pool_free(struct plot_pool *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		struct plot_proc *pr = &p->procs[i];
		/* Graphs nobody waited for are given up, their .tmp removed;
		 * otherwise end of input lets gnuplot exit by itself. */
		if (pr->pid > 0 && pending(pr))
			kill(pr->pid, SIGKILL);
		bury(p, pr, "");
		free(pr->jobs);
		plot_buf_free(&pr->script);
	}
	free(p->procs);
	plot_buf_free(&p->graph);
	free(p);
}

void plot_pool_set_stall(struct plot_pool *p, int seconds)
{
	p->stall_seconds = seconds > 0 ? seconds : STALL_SECONDS;
}

int plot_pool_pid(const struct plot_pool *p, size_t i)
{
	return i < p->n ? (int)p->procs[i].pid : 0;
}
