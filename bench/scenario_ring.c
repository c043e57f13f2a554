/* scenario_ring.c - `rmon-bench ring`: cross-process throughput and
 * handoff latency of the shared-memory ring, beside its floors in the
 * same run: a pipe(2) carrying the same 32-byte records one write each
 * (the handoff baseline) and batched into 64 KiB writes (the bulk one). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/scenarios.h"
#include "lib/cmdline.h"
#include "lib/rtime.h"
#include "shmring/ring.h"

struct record {
	uint64_t seq;
	uint64_t id;
	int64_t ts;
	double value;
};

static char ring_name[64];
static _Atomic int *start_flag; /* shared with the children: 1 = go */

/* Pins the calling process to one CPU: the scheduler otherwise sometimes
 * stacks producer and consumer on one CPU of this 2-CPU machine, and the
 * figure then measures time slicing instead of the ring. */
static void pin_to_cpu(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu % (int)sysconf(_SC_NPROCESSORS_ONLN), &set);
	sched_setaffinity(0, sizeof set, &set);
}

static void unpin(void)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	for (long i = 0; i < sysconf(_SC_NPROCESSORS_ONLN); i++)
		CPU_SET((int)i, &set);
	sched_setaffinity(0, sizeof set, &set);
}

static void wait_for_start(void)
{
	while (!atomic_load_explicit(start_flag, memory_order_acquire))
		;
}

/* A phase's progress: the line and the --plot timeline, every `every`
 * samples so that the clock is not read in the hot loop. */
struct phase {
	struct bench_run *run;
	const char *what;
	int64_t start_ns;
	uint64_t want, next, every;
};

static struct phase phase_start(struct bench_run *run, const char *what, uint64_t want)
{
	uint64_t every = want / 64 ? want / 64 : 1;
	return (struct phase){ run, what, rtime_mono_ns(), want, every, every };
}

static void phase_tick(struct phase *p, uint64_t done)
{
	if (done < p->next)
		return;
	p->next = done + p->every;
	double elapsed = (double)(rtime_mono_ns() - p->start_ns) / 1e9;
	if (elapsed <= 0)
		return;
	bench_progress(p->run, p->what, (double)done / elapsed / 1e6, "M samples/s", elapsed,
		       elapsed * (double)p->want / (double)done);
}

static int open_consumer(struct ring **out)
{
	struct ring_config c;
	ring_config_default(&c, ring_name);
	c.lanes = 4;
	c.slots_per_lane = 65536;
	c.series_capacity = 1024;
	struct err e = { 0 };
	if (ring_consumer_open(&c, out, &e) != 0) {
		fprintf(stderr, "rmon-bench ring: %s\n", e.msg);
		return -1;
	}
	return 0;
}

static void producer_main(uint64_t index, uint64_t n, size_t batch_size)
{
	struct ring *r;
	struct ring_lane *lane;
	if (ring_producer_open(ring_name, &r, NULL) != 0 || ring_lane_attach(r, &lane, NULL) != 0)
		_exit(3);
	pin_to_cpu(1 + (int)index);
	wait_for_start();
	/* Pushes go one at a time (batch_size 1, ring_push) or in batches, as
	 * an agent pushes one collection at a time (ring_push_many); a full
	 * lane is retried, as this measures throughput. */
	struct sample batch[64];
	for (uint64_t i = 0; i < n;) {
		size_t k = 0;
		for (; k < batch_size && i + k < n; k++)
			batch[k] = (struct sample){ index, (int64_t)(i + k), (double)(i + k) };
		if (k == 1)
			while (ring_push(lane, &batch[0]) != 0)
				;
		else
			for (size_t sent = 0; sent < k;)
				sent += ring_push_many(lane, batch + sent, k - sent);
		i += k;
	}
	ring_close(r);
	_exit(0);
}

/* True when one of the n children has ended with a failure: the consumer
 * then waits for samples that never come. */
static bool child_failed(const pid_t *pids, int n)
{
	for (int i = 0; i < n; i++) {
		int status;
		if (pids[i] > 0 && waitpid(pids[i], &status, WNOHANG) == pids[i]) {
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
				return true;
			((pid_t *)pids)[i] = 0; /* reaped: ended well */
		}
	}
	return false;
}

static void reap(pid_t *pids, int n)
{
	for (int i = 0; i < n; i++)
		if (pids[i] > 0) {
			kill(pids[i], SIGKILL);
			waitpid(pids[i], NULL, 0);
		}
}

/* Samples per second through the ring with `producers` processes, or
 * NaN when samples were lost or duplicated (*bad counts it) or a producer
 * failed. */
static double ring_throughput(struct bench_run *run, const char *what, int producers,
			      uint64_t per_producer, size_t batch_size, uint64_t *bad)
{
	struct ring *r;
	if (open_consumer(&r) != 0)
		return NAN;
	pid_t pids[8];
	atomic_store(start_flag, 0);
	for (int i = 0; i < producers; i++)
		if ((pids[i] = bench_fork()) == 0)
			producer_main((uint64_t)i, per_producer, batch_size);
	static struct sample buf[8192];
	uint64_t total = 0, want = per_producer * (uint64_t)producers, check = 0;
	usleep(20000); /* let the children attach their lanes */
	struct phase p = phase_start(run, what, want);
	atomic_store_explicit(start_flag, 1, memory_order_release);
	bool failed = false;
	while (total < want && !failed) {
		size_t n = ring_peek(r, buf, 8192);
		for (size_t i = 0; i < n; i++)
			check += (uint64_t)buf[i].ts;
		total += n;
		if (n)
			ring_release(r);
		phase_tick(&p, total);
		/* Like the drainer, wait for a batch to build up rather than
		 * chase the producer slot by slot across one cache line. */
		if (n < 1024)
			ring_wait(r, 1);
		if (n == 0)
			failed = child_failed(pids, producers);
	}
	double seconds = (double)(rtime_mono_ns() - p.start_ns) / 1e9;
	reap(pids, producers);
	ring_close(r);
	ring_unlink(ring_name, NULL);
	uint64_t expect = (per_producer * (per_producer - 1) / 2) * (uint64_t)producers;
	if (failed) {
		fprintf(stderr, "rmon-bench ring: a producer could not attach to the ring\n");
		return NAN;
	}
	if (check != expect) {
		(*bad)++;
		return NAN;
	}
	return (double)total / seconds;
}

static void pipe_writer(int fd, uint64_t n, size_t records_per_write)
{
	pin_to_cpu(1);
	static struct record out[2048];
	wait_for_start();
	for (uint64_t i = 0; i < n;) {
		size_t k = 0;
		for (; k < records_per_write && i < n; k++, i++)
			out[k] = (struct record){ i, 0, (int64_t)i, (double)i };
		size_t bytes = k * sizeof out[0], done = 0;
		while (done < bytes) {
			ssize_t w = write(fd, (char *)out + done, bytes - done);
			if (w <= 0)
				_exit(2);
			done += (size_t)w;
		}
	}
	_exit(0);
}

/* The floor: the same records through a pipe, batched into 64 KiB
 * writes (records_per_write = 2048) or one write per record (1). */
static double pipe_throughput(struct bench_run *run, const char *what, uint64_t n,
			      size_t records_per_write, uint64_t *bad)
{
	int fds[2];
	if (pipe(fds) != 0) {
		fprintf(stderr, "rmon-bench ring: pipe: %s\n", strerror(errno));
		return NAN;
	}
	fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
	atomic_store(start_flag, 0);
	pid_t pid = bench_fork();
	if (pid == 0) {
		close(fds[0]);
		pipe_writer(fds[1], n, records_per_write);
	}
	close(fds[1]);
	static char in[1 << 16];
	uint64_t bytes = 0, want = n * sizeof(struct record), check = 0;
	struct phase p = phase_start(run, what, n);
	atomic_store_explicit(start_flag, 1, memory_order_release);
	size_t carry = 0; /* bytes of a record split across two reads */
	while (bytes < want) {
		ssize_t got = read(fds[0], in + carry, sizeof in - carry);
		if (got <= 0)
			break;
		bytes += (uint64_t)got;
		size_t have = carry + (size_t)got, whole = have / sizeof(struct record);
		/* Touch each record, as the ring consumer does. */
		for (size_t k = 0; k < whole; k++) {
			struct record rec;
			memcpy(&rec, in + k * sizeof rec, sizeof rec);
			check += rec.seq;
		}
		carry = have - whole * sizeof(struct record);
		memmove(in, in + whole * sizeof(struct record), carry);
		phase_tick(&p, bytes / sizeof(struct record));
	}
	double seconds = (double)(rtime_mono_ns() - p.start_ns) / 1e9;
	close(fds[0]);
	waitpid(pid, NULL, 0);
	if (bytes != want || check != (n * (n - 1)) / 2) {
		(*bad)++;
		return NAN;
	}
	return (double)(bytes / sizeof(struct record)) / seconds;
}

static void latency_producer(uint64_t n)
{
	struct ring *pr;
	struct ring_lane *lane;
	if (ring_producer_open(ring_name, &pr, NULL) != 0 || ring_lane_attach(pr, &lane, NULL) != 0)
		_exit(3);
	pin_to_cpu(1);
	wait_for_start();
	for (uint64_t i = 0; i < n; i++) {
		int64_t t = rtime_mono_ns();
		while (rtime_mono_ns() - t < 2000)
			;
		struct sample s = { 0, rtime_mono_ns(), 0 };
		while (ring_push(lane, &s) != 0)
			;
	}
	ring_close(pr);
	_exit(0);
}

/* What the handoff measured: every delay, and its stalls. */
struct handoff {
	struct bench_hist *all;
	uint64_t stalls;
};

/* The progress of the handoff phase, with the p99 of the samples since
 * the last point on the --plot timeline. */
static void handoff_tick(struct phase *p, uint64_t got, struct bench_hist **window,
			 struct bench_hist *all)
{
	if (got < p->next)
		return;
	phase_tick(p, got);
	bench_progress_latency(p->run, (double)bench_hist_quantile(*window, 0.99) / 1e6);
	bench_hist_merge(all, *window);
	bench_hist_free(*window);
	*window = bench_hist_new();
}

/* The producer stamps each sample with CLOCK_MONOTONIC and pushes one
 * every ~2 µs; the consumer busy-peeks and records the delay.  A stall is
 * a run of samples delayed past 10 µs: one descheduling of either process
 * delays every sample queued meanwhile.  0, or -1 when it could not run. */
static int handoff_latency(struct bench_run *run, uint64_t n, struct handoff *out)
{
	struct ring *r;
	if (open_consumer(&r) != 0)
		return -1;
	atomic_store(start_flag, 0);
	pid_t pid = bench_fork();
	if (pid == 0)
		latency_producer(n);
	struct bench_hist *window = bench_hist_new();
	out->all = bench_hist_new();
	out->stalls = 0;
	struct sample buf[64];
	uint64_t got = 0;
	int64_t previous = 0;
	bool failed = false;
	usleep(20000);
	struct phase p = phase_start(run, "handoff latency", n);
	atomic_store_explicit(start_flag, 1, memory_order_release);
	while (got < n && !failed) {
		size_t k = ring_peek(r, buf, 64);
		int64_t now = rtime_mono_ns();
		for (size_t i = 0; i < k && got < n; i++, got++) {
			int64_t delay = now - buf[i].ts;
			bench_hist_add(window, delay);
			out->stalls += delay > 10000 && previous <= 10000;
			previous = delay;
		}
		if (k)
			ring_release(r);
		else if (got % 4096 == 0)
			failed = child_failed(&pid, 1);
		handoff_tick(&p, got, &window, out->all);
	}
	bench_hist_merge(out->all, window);
	bench_hist_free(window);
	reap(&pid, 1);
	ring_close(r);
	ring_unlink(ring_name, NULL);
	return failed ? -1 : 0;
}

struct ring_figures {
	double pipe_single, pipe_batched, one_single, one, two;
	uint64_t bad; /* checksum mismatches */
};

static void ring_table(struct bench_run *run, uint64_t n, const struct ring_figures *f)
{
	struct bench_table *t =
	    bench_table(run, "ring: %llu samples of 32 bytes, cross-process, %ld CPUs, pinned",
			(unsigned long long)n, sysconf(_SC_NPROCESSORS_ONLN));
	bench_figure(t, "pipe, one write per record (floor)", f->pipe_single / 1e6, "M samples/s");
	bench_figure(t, "pipe, records batched in 64 KiB", f->pipe_batched / 1e6, "M samples/s");
	bench_figure(t, "ring, 1 producer, ring_push", f->one_single / 1e6, "M samples/s");
	bench_ratio(t, "ring_push against the pipe", f->one_single, f->pipe_single, "pipe", 0);
	bench_goal(t, "ring, 1 producer, ring_push_many(64)", f->one / 1e6, "M samples/s", true,
		   60);
	bench_ratio(t, "ring_push_many against the pipe", f->one, f->pipe_single, "pipe", 10);
	bench_ratio(t, "ring_push_many against the batched pipe", f->one, f->pipe_batched,
		    "batched pipe", 0);
	bench_goal(t, "ring, 2 producers, ring_push_many(64)", f->two / 1e6, "M samples/s", true,
		   40);
	bench_ratio(t, "2 producers against the pipe", f->two, f->pipe_single, "pipe", 0);
	bench_zero(t, "checksum mismatches (samples lost or duplicated)", f->bad);
}

static void latency_table(struct bench_run *run, uint64_t n, const struct handoff *h)
{
	struct bench_table *t =
	    bench_table(run, "ring: handoff latency, one sample every 2 µs, %llu samples",
			(unsigned long long)n);
	bench_latency(t, "handoff latency", h->all, 0);
	bench_goal(t, "handoff p50", (double)bench_hist_quantile(h->all, 0.5), "ns", false, 200);
	bench_goal(t, "handoff p99.9", (double)bench_hist_quantile(h->all, 0.999), "ns", false,
		   2000);
	bench_figure(t, "stalls > 10 µs", (double)h->stalls, "");
	bench_note(t, "p99.9 is set by the virtual machine's descheduling, not the ring: "
		      "see docs/benchmarks.md");
}

int scenario_ring(struct bench_run *run, int argc, char **argv)
{
	int64_t n = 50000000, latency_n = 1000000;
	bool quick = bench_opts(run)->quick;
	const struct cmdline_option options[] = {
		{ .name = "quick",
		  .letter = 'q',
		  .kind = CMDLINE_FLAG,
		  .field = &quick,
		  .help = "a tenth of the samples" },
		{ .name = "samples",
		  .letter = 'n',
		  .kind = CMDLINE_INT,
		  .field = &n,
		  .arg = "N",
		  .help = "samples per throughput run (default 50 million)",
		  .min = 1000,
		  .max = INT64_MAX / 4 },
		{ .name = "latency-samples",
		  .kind = CMDLINE_INT,
		  .field = &latency_n,
		  .arg = "N",
		  .help = "samples of the handoff latency run (default 1 million)",
		  .min = 1000,
		  .max = INT64_MAX / 4 },
		{ 0 },
	};
	const struct cmdline cl = {
		.program = "rmon-bench ring",
		.about = "The ring's throughput and handoff latency between processes, beside\n"
			 "a pipe carrying the same records in the same run.",
		.options = options,
	};
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	if (quick && n == 50000000)
		n = 5000000;
	if (quick && latency_n == 1000000)
		latency_n = 200000;
	snprintf(ring_name, sizeof ring_name, "/rmon-bench-%d", (int)getpid());
	ring_unlink(ring_name, NULL);
	start_flag = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (start_flag == MAP_FAILED) {
		fprintf(stderr, "rmon-bench ring: mmap: %s\n", strerror(errno));
		return 1;
	}
	pin_to_cpu(0);
	struct ring_figures f = { 0 };
	uint64_t u = (uint64_t)n;
	f.pipe_single = pipe_throughput(run, "pipe, one write per record", u / 10, 1, &f.bad);
	f.pipe_batched = pipe_throughput(run, "pipe, batched", u, 2048, &f.bad);
	f.one_single = ring_throughput(run, "ring, 1 producer, ring_push", 1, u / 2, 1, &f.bad);
	f.one = ring_throughput(run, "ring, 1 producer, ring_push_many", 1, u, 64, &f.bad);
	f.two = ring_throughput(run, "ring, 2 producers", 2, u / 2, 64, &f.bad);
	struct handoff h = { 0 };
	int latency = handoff_latency(run, (uint64_t)latency_n, &h);
	bench_progress_done(run);
	unpin(); /* the scenarios after this one run where the scheduler puts them */
	munmap((void *)start_flag, 4096);
	ring_table(run, u, &f);
	if (h.all)
		latency_table(run, (uint64_t)latency_n, &h);
	bench_hist_free(h.all);
	bool measured = latency == 0 && f.bad == 0 && !isnan(f.pipe_single) &&
			!isnan(f.pipe_batched) && !isnan(f.one_single) && !isnan(f.one) &&
			!isnan(f.two);
	return measured ? 0 : 1;
}
