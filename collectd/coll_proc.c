/* coll_proc.c - processes: counts by state, threads, the top consumers of
 * CPU and memory, and watched processes (count, CPU, memory, threads, open
 * files, I/O).  One pread of /proc/PID/stat per process; the extra files of
 * a watched process are read only for those that match. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collectd/coll.h"
#include "collectd/parse.h"
#include "lib/fault.h"
#include "lib/rtime.h"

#define PF_KTHREAD 0x00200000

#define REFRESH_NS (10 * RTIME_NS_PER_SEC)

/* /proc/PID/stat and schedstat files kept open (the agent raises its
 * RLIMIT_NOFILE to 16384 where it may: rmon-collectd.c) */
#define KEPT_FDS 4096

struct proc_entry {
	int pid;      /* 0 = empty */
	int fd;	      /* /proc/PID/stat kept open, or -1 */
	int sched_fd; /* /proc/PID/schedstat kept open, or -1 */
	uint32_t generation;
	char kthread_state;  /* a kernel thread's state at its last read, or 0 */
	bool have_last;	     /* last holds a user process's figures */
	int64_t refresh_ns;  /* when it is read in full again at the latest */
	uint64_t ticks;	     /* utime + stime at the last collection */
	uint64_t runtime_ns; /* its run time at the last full read */
	struct coll_proc_stat last;
};

struct coll_proc_table {
	struct proc_entry *entries;
	size_t cap, used;
	uint32_t generation;
	int64_t last_ns;
	long last_pid; /* the newest pid the kernel handed out, at the last listing */
	int kept_fds;
	char *buf; /* one /proc/PID/stat at a time */
};

struct coll_proc_table *coll_proc_table_new(void)
{
	struct coll_proc_table *t = calloc(1, sizeof *t);
	if (t && !(t->entries = calloc(t->cap = 256, sizeof *t->entries))) {
		free(t);
		return NULL;
	}
	return t;
}

/* Closes the descriptors kept for entry e (its process has ended). */
static void drop_fds(struct coll_proc_table *t, struct proc_entry *e)
{
	t->kept_fds -= (e->fd >= 0) + (e->sched_fd >= 0);
	if (e->fd >= 0)
		close(e->fd);
	if (e->sched_fd >= 0)
		close(e->sched_fd);
	e->fd = e->sched_fd = -1;
}

void coll_proc_table_free(struct coll_proc_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->cap; i++)
		if (t->entries[i].pid)
			drop_fds(t, &t->entries[i]);
	free(t->entries);
	free(t->buf);
	free(t);
}

static void free_table(void *t)
{
	coll_proc_table_free(t);
}

/* The table kept in the state, made at the first run. */
static struct coll_proc_table *table_of(struct coll_state *st)
{
	struct coll_proc_table *t = coll_state_private(st, COLL_PRIVATE_PROCS);
	if (!t && (t = coll_proc_table_new()))
		coll_state_keep(st, COLL_PRIVATE_PROCS, t, free_table);
	return t;
}

static struct proc_entry *slot(struct proc_entry *entries, size_t cap, int pid)
{
	size_t i = ((size_t)pid * 2654435761u) & (cap - 1);
	while (entries[i].pid && entries[i].pid != pid)
		i = (i + 1) & (cap - 1);
	return &entries[i];
}

/* Rebuilds the table with only the processes seen this time, growing it
 * when it is more than a quarter full; -ENOMEM leaves it as it was. */
static int sweep(struct coll_proc_table *t)
{
	size_t live = 0;
	/* Entries of this and the previous collection stay: a sweep in the
	 * middle of a listing must not forget processes not yet reached. */
	for (size_t i = 0; i < t->cap; i++)
		live += t->entries[i].pid && t->entries[i].generation + 1 >= t->generation;
	size_t cap = t->cap;
	while (live * 4 > cap)
		cap *= 2;
	struct proc_entry *fresh = FAULT("coll.alloc") ? NULL : calloc(cap, sizeof *fresh);
	if (!fresh)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++) {
		struct proc_entry *e = &t->entries[i];
		if (e->pid && e->generation + 1 >= t->generation) {
			*slot(fresh, cap, e->pid) = *e;
		} else if (e->pid) { /* the process is gone */
			drop_fds(t, e);
		}
	}
	free(t->entries);
	t->entries = fresh;
	t->cap = cap;
	t->used = live;
	return 0;
}

/* The table entry of pid, created (without history) when new; NULL when
 * the table is half full and cannot be rebuilt (a fuller one would make
 * slot()'s probe long, a full one endless). */
static struct proc_entry *entry_for(struct coll_proc_table *t, int pid)
{
	if ((t->used + 1) * 2 > t->cap && sweep(t) != 0)
		return NULL;
	struct proc_entry *e = slot(t->entries, t->cap, pid);
	if (!e->pid) {
		*e = (struct proc_entry){
			.pid = pid, .fd = -1, .sched_fd = -1, .ticks = UINT64_MAX
		};
		t->used++;
	}
	e->generation = t->generation;
	return e;
}

/* Reads /proc/PID/stat through a descriptor kept open across collections
 * (re-read with pread, no path lookup), up to KEPT_FDS of them. */
static long read_stat(struct coll_proc_table *t, struct proc_entry *e, const char *root,
		      char **text)
{
	if (!t->buf && !(t->buf = malloc(4096)))
		return -ENOMEM;
	int fd = e->fd;
	if (fd < 0) {
		char path[512];
		snprintf(path, sizeof path, "%s/proc/%d/stat", root, e->pid);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			return -errno;
	}
	ssize_t n = pread(fd, t->buf, 4095, 0);
	if (n <= 0 && e->fd >= 0) {
		/* The process we kept it for is gone; its pid may be another's
		 * now: open the path afresh. */
		close(e->fd);
		e->fd = -1;
		t->kept_fds--;
		e->ticks = UINT64_MAX;
		return read_stat(t, e, root, text);
	}
	if (e->fd < 0 && n > 0 && t->kept_fds < KEPT_FDS) {
		e->fd = fd;
		t->kept_fds++;
	} else if (e->fd < 0) {
		close(fd);
	}
	if (n <= 0)
		return n < 0 ? -errno : -ESRCH;
	t->buf[n] = '\0';
	*text = t->buf;
	return n;
}

/* The CPU ticks used since the last collection (all of them the first
 * time a process is seen). */
static uint64_t ticks_since_last(struct proc_entry *e, uint64_t ticks)
{
	uint64_t delta = e->ticks != UINT64_MAX && ticks >= e->ticks ? ticks - e->ticks : ticks;
	e->ticks = ticks;
	return delta;
}

int coll_parse_proc_stat(const char *text, struct coll_proc_stat *out)
{
	const char *open = strchr(text, '('), *close = strrchr(text, ')');
	if (!open || !close || close < open)
		return -EPROTO;
	memset(out, 0, sizeof *out);
	out->pid = atoi(text);
	snprintf(out->comm, sizeof out->comm, "%.*s", (int)(close - open - 1), open + 1);
	const char *p = parse_skip_spaces(close + 1);
	if (!*p)
		return -EPROTO;
	out->state = *p++;
	/* Fields after state, numbered as in proc(5) from 4 (ppid). */
	uint64_t v[21];
	bool ok = true;
	for (int i = 0; i < 21 && ok; i++) {
		p = parse_skip_spaces(p);
		if (*p == '-') /* a few fields may be negative; none we keep */
			p++;
		v[i] = parse_u64(&p, &ok);
	}
	if (!ok)
		return -EPROTO;
	out->ppid = (int)v[0];
	out->flags = (unsigned long)v[5];
	out->utime = v[10];
	out->stime = v[11];
	out->threads = (long)v[16];
	out->rss_pages = v[20];
	return 0;
}

struct top {
	double value;
	int pid;
	char comm[32];
};

static void keep_top(struct top *top, int n, double value, const struct coll_proc_stat *ps)
{
	if (n == 0 || value <= top[n - 1].value)
		return;
	int i = n - 1;
	while (i > 0 && top[i - 1].value < value) {
		top[i] = top[i - 1];
		i--;
	}
	top[i] = (struct top){ value, ps->pid, "" };
	snprintf(top[i].comm, sizeof top[i].comm, "%s", ps->comm);
}

struct watched_totals {
	double count, cpu_seconds, rss, threads, fds, read_bytes, write_bytes;
};

static void add_watched(struct coll_state *st, const struct coll_proc_stat *ps,
			struct watched_totals *w, long hz, long page)
{
	struct coll_files *f = coll_state_files(st);
	char path[512], *text;
	w->count++;
	w->cpu_seconds += (double)(ps->utime + ps->stime) / (double)hz;
	w->rss += (double)ps->rss_pages * (double)page;
	w->threads += (double)ps->threads;
	snprintf(path, sizeof path, "%s/proc/%d/fd", coll_root(f), ps->pid);
	DIR *d = opendir(path);
	for (struct dirent *de; d && (de = readdir(d));)
		w->fds += de->d_name[0] != '.';
	if (d)
		closedir(d);
	snprintf(path, sizeof path, "/proc/%d/io", ps->pid);
	if (coll_read_once(f, path, &text) > 0) {
		const char *r = strstr(text, "read_bytes: "), *wr = strstr(text, "\nwrite_bytes: ");
		if (r)
			w->read_bytes += (double)strtoull_or_zero(r + 12);
		if (wr)
			w->write_bytes += (double)strtoull_or_zero(wr + 14);
	}
}

/* The top entries by rank and command name, with the pid as a value of
 * its own: a pid label would make a new series of every process that
 * ever enters the top (thousands a day with cron and shells), while the
 * command names that do are few. */
static void emit_top(struct coll_sink *sink, const char *metric, const char *pid_metric,
		     struct top *top, int n)
{
	static const char *const ranks[] = { "1",  "2",	 "3",  "4",  "5",  "6",	 "7",
					     "8",  "9",	 "10", "11", "12", "13", "14",
					     "15", "16", "17", "18", "19", "20" };
	for (int i = 0; i < n && top[i].pid; i++) {
		char rank[16];
		if (i < 20)
			snprintf(rank, sizeof rank, "%s", ranks[i]);
		else
			snprintf(rank, sizeof rank, "%d", i + 1);
		struct series_label l[2] = { { "rank", rank }, { "comm", top[i].comm } };
		sink->value(sink, metric, l, 2, top[i].value);
		sink->value(sink, pid_metric, l, 2, top[i].pid);
	}
}

/* What one collection gathers over all processes. */
struct scan {
	double by_state[9], threads, elapsed;
	struct top top_cpu[100], top_rss[100];
	struct watched_totals watched[COLL_MAX_WATCHED];
	int top_n;
	long hz, page; /* clock ticks a second and the page size, asked once */
};

static const char process_states[] = "RSDZTtXIW";

static void count_state(struct scan *scan, char state, long threads)
{
	const char *s = strchr(process_states, state);
	if (s && *s)
		scan->by_state[s - process_states]++;
	scan->threads += (double)threads;
}

/* Sets when entry is read in full again at the latest: the first time
 * within the next REFRESH_NS, by pid, so that the refreshes of idle
 * processes spread over ten collections at a one-second interval. */
static void schedule_refresh(struct proc_entry *entry, int64_t now)
{
	bool first = !entry->kthread_state && !entry->have_last;
	entry->refresh_ns = now + (first ? (entry->pid % 10 + 1) * REFRESH_NS / 10 : REFRESH_NS);
}

/* The run time of pid in ns from /proc/PID/schedstat, through a descriptor
 * kept open; 0 when it cannot be read (then the stat file is read). */
static uint64_t run_time(struct coll_proc_table *t, struct proc_entry *e, const char *root)
{
	char text[96];
	if (e->sched_fd < 0) {
		if (t->kept_fds >= KEPT_FDS)
			return 0;
		char path[512];
		snprintf(path, sizeof path, "%s/proc/%d/schedstat", root, e->pid);
		if ((e->sched_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			return 0;
		t->kept_fds++;
	}
	ssize_t n = pread(e->sched_fd, text, sizeof text - 1, 0);
	if (n <= 0) { /* gone: its pid may be another's now */
		close(e->sched_fd);
		e->sched_fd = -1;
		t->kept_fds--;
		return 0;
	}
	text[n] = '\0';
	return strtoull_or_zero(text);
}

/* True when entry's last figures still hold (see the top of the file);
 * otherwise notes the run time the full read goes with. */
static bool still_idle(struct coll_proc_table *t, struct proc_entry *entry, const char *root)
{
	if (!entry->have_last || entry->last.threads != 1)
		return false;
	uint64_t now_runtime = run_time(t, entry, root);
	if (now_runtime != 0 && now_runtime == entry->runtime_ns && t->last_ns < entry->refresh_ns)
		return true;
	entry->runtime_ns = now_runtime;
	return false;
}

static void scan_one(struct coll_state *st, struct proc_entry *entry, struct scan *scan)
{
	const struct coll_config *c = coll_state_config(st);
	struct coll_proc_table *t = table_of(st);
	long hz = scan->hz, page = scan->page;
	char *text = NULL;
	struct coll_proc_stat ps;
	const char *root = coll_root(coll_state_files(st));
	entry->generation = t->generation;
	if (entry->kthread_state && t->last_ns < entry->refresh_ns) {
		count_state(scan, entry->kthread_state, 1);
		return;
	}
	if (still_idle(t, entry, root)) {
		ps = entry->last;
	} else {
		if (read_stat(t, entry, root, &text) <= 0 || coll_parse_proc_stat(text, &ps) != 0)
			return; /* it exited meanwhile */
		bool kthread = (ps.flags & PF_KTHREAD) || ps.pid == 2 || ps.ppid == 2;
		schedule_refresh(entry, t->last_ns);
		/* The pid may have been a kernel thread's, or a process's. */
		entry->kthread_state = kthread ? ps.state : 0;
		entry->have_last = !kthread;
		entry->last = ps;
		if (!entry->runtime_ns && !kthread && ps.threads == 1)
			entry->runtime_ns = run_time(t, entry, root);
	}
	count_state(scan, ps.state, ps.threads);
	if (entry->kthread_state)
		return;
	uint64_t used = ticks_since_last(entry, ps.utime + ps.stime);
	if (scan->elapsed > 0)
		keep_top(scan->top_cpu, scan->top_n, (double)used / (double)hz / scan->elapsed,
			 &ps);
	keep_top(scan->top_rss, scan->top_n, (double)ps.rss_pages * (double)page, &ps);
	for (int w = 0; w < c->n_watched; w++)
		if (regexec(&c->watched[w].re, ps.comm, 0, NULL, 0) == 0)
			add_watched(st, &ps, &scan->watched[w], hz, page);
}

/* After a whole listing, the processes it did not list have ended: their
 * descriptors go now rather than at the table's next sweep, which on a
 * machine starting thousands of short processes came late (579 of 826
 * descriptors held were of ended processes) and spent the budget of
 * KEPT_FDS on them.  Their entries stay until the sweep. */
static void release_ended(struct coll_proc_table *t)
{
	for (size_t i = 0; i < t->cap; i++)
		if (t->entries[i].pid && t->entries[i].generation != t->generation)
			drop_fds(t, &t->entries[i]);
}

static int scan_all(struct coll_state *st, struct scan *scan, struct err *e)
{
	struct coll_proc_table *t = table_of(st);
	char path[512];
	snprintf(path, sizeof path, "%s/proc", coll_root(coll_state_files(st)));
	DIR *d = opendir(path);
	if (!d)
		return err_sys(e, -errno, "cannot list %s", path);
	for (struct dirent *de; (de = readdir(d));) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		struct proc_entry *entry = entry_for(t, atoi(de->d_name));
		if (!entry) {
			closedir(d);
			return err_set(e, -ENOMEM,
				       "out of memory for the process table (%zu processes)",
				       t->used);
		}
		scan_one(st, entry, scan);
	}
	closedir(d);
	release_ended(t);
	return 0;
}

/* The last pid the kernel allocated (the fifth field of /proc/loadavg). */
static long newest_pid(struct coll_files *f)
{
	char *text;
	if (coll_read(f, "/proc/loadavg", &text) <= 0)
		return -1;
	const char *slash = strchr(text, '/');
	const char *space = slash ? strchr(slash, ' ') : NULL;
	return space ? atol(space + 1) : -1;
}

int coll_processes(struct coll_state *st, struct coll_sink *sink, struct err *e)
{
	static const char *const state_names[] = { "running", "sleeping", "disk_sleep",
						   "zombie",  "stopped",  "tracing_stop",
						   "dead",    "idle",	  "paging" };
	const struct coll_config *c = coll_state_config(st);
	struct coll_files *f = coll_state_files(st);
	struct coll_proc_table *t = table_of(st);
	if (!t)
		return err_set(e, -ENOMEM, "processes: out of memory");
	int64_t now = rtime_mono_ns();
	double elapsed = t->last_ns ? (double)(now - t->last_ns) / 1e9 : 0;
	t->last_ns = now;
	t->generation++;
	struct scan scan = { .top_n = c->top_n < 100 ? c->top_n : 100,
			     .elapsed = elapsed,
			     .hz = FAULT("coll.sysconf") ? -1 : sysconf(_SC_CLK_TCK),
			     .page = FAULT("coll.sysconf") ? -1 : sysconf(_SC_PAGESIZE) };
	/* both divide or multiply every process's figures */
	if (scan.hz <= 0 || scan.page <= 0)
		return err_set(e, -EINVAL, "sysconf gave a clock tick of %ld and a page of %ld",
			       scan.hz, scan.page);
	int rc = 0;
	/* No pid handed out since the last listing means no process or thread
	 * was created: the known ones are all there is, and listing /proc (a
	 * walk of every pid in the kernel) can be skipped. */
	long last_pid = newest_pid(f);
	if (last_pid > 0 && last_pid == t->last_pid) {
		for (size_t i = 0; i < t->cap; i++)
			if (t->entries[i].pid && t->entries[i].generation == t->generation - 1)
				scan_one(st, &t->entries[i], &scan);
	} else {
		rc = scan_all(st, &scan, e);
		t->last_pid = last_pid;
	}
	if (rc != 0)
		return rc;
	double *by_state = scan.by_state, threads = scan.threads;
	struct top *top_cpu = scan.top_cpu, *top_rss = scan.top_rss;
	struct watched_totals *watched = scan.watched;
	int n_top = scan.top_n;
	for (int i = 0; i < 9; i++)
		coll_emit1(sink, "node_processes_state", "state", state_names[i], by_state[i]);
	coll_emit(sink, "node_processes_threads", threads);
	emit_top(sink, "rmon_top_cpu_ratio", "rmon_top_cpu_pid", top_cpu, n_top);
	emit_top(sink, "rmon_top_resident_memory_bytes", "rmon_top_resident_memory_pid", top_rss,
		 n_top);
	for (int w = 0; w < c->n_watched; w++) {
		const char *name = c->watched[w].name;
		/* Zero when absent: what "my process is down" alerts look for. */
		coll_emit1(sink, "rmon_process_count", "process", name, watched[w].count);
		coll_emit1(sink, "rmon_process_cpu_seconds_total", "process", name,
			   watched[w].cpu_seconds);
		coll_emit1(sink, "rmon_process_resident_memory_bytes", "process", name,
			   watched[w].rss);
		coll_emit1(sink, "rmon_process_threads", "process", name, watched[w].threads);
		coll_emit1(sink, "rmon_process_open_fds", "process", name, watched[w].fds);
		coll_emit1(sink, "rmon_process_read_bytes_total", "process", name,
			   watched[w].read_bytes);
		coll_emit1(sink, "rmon_process_written_bytes_total", "process", name,
			   watched[w].write_bytes);
	}
	return 0;
}
