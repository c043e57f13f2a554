/* bench-ring.c - cross-process throughput and handoff latency of the
 * shared-memory ring, against a pipe(2) carrying the same 32-byte records
 * between the same processes in the same run.
 *
 * Usage: bench-ring [--quick] [--samples N]
 */
#include <errno.h>
#include <fcntl.h>
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

static void wait_for_start(void)
{
	while (!atomic_load_explicit(start_flag, memory_order_acquire))
		;
}

static struct ring *open_consumer(void)
{
	struct ring_config c;
	ring_config_default(&c, ring_name);
	c.lanes = 4;
	c.slots_per_lane = 65536;
	c.series_capacity = 1024;
	struct ring *r;
	struct err e = { 0 };
	if (ring_consumer_open(&c, &r, &e) != 0) {
		fprintf(stderr, "bench-ring: %s\n", e.msg);
		exit(1);
	}
	return r;
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

/* Returns samples per second through the ring with `producers` processes. */
static double ring_throughput(int producers, uint64_t per_producer, size_t batch_size)
{
	struct ring *r = open_consumer();
	pid_t pids[8];
	atomic_store(start_flag, 0);
	for (int i = 0; i < producers; i++)
		if ((pids[i] = fork()) == 0)
			producer_main((uint64_t)i, per_producer, batch_size);
	static struct sample buf[8192];
	uint64_t total = 0, want = per_producer * (uint64_t)producers, check = 0;
	usleep(20000); /* let the children attach their lanes */
	int64_t start = rtime_mono_ns();
	atomic_store_explicit(start_flag, 1, memory_order_release);
	while (total < want) {
		size_t n = ring_peek(r, buf, 8192);
		for (size_t i = 0; i < n; i++)
			check += (uint64_t)buf[i].ts;
		total += n;
		if (n)
			ring_release(r);
		/* Like the drainer, wait for a batch to build up rather than
		 * chase the producer slot by slot across one cache line. */
		if (n < 1024)
			ring_wait(r, 1);
	}
	double seconds = (double)(rtime_mono_ns() - start) / 1e9;
	for (int i = 0; i < producers; i++)
		waitpid(pids[i], NULL, 0);
	uint64_t expect = (per_producer * (per_producer - 1) / 2) * (uint64_t)producers;
	if (check != expect) {
		fprintf(stderr, "bench-ring: checksum mismatch, samples lost or duplicated\n");
		exit(1);
	}
	ring_close(r);
	ring_unlink(ring_name, NULL);
	return (double)total / seconds;
}

/* The baseline: the same records through a pipe, batched into 64 KiB
 * writes (records_per_write = 2048) or one write per record (1). */
static double pipe_throughput(uint64_t n, size_t records_per_write)
{
	int fds[2];
	if (pipe(fds) != 0)
		exit(1);
	fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
	atomic_store(start_flag, 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		pin_to_cpu(1);
		static struct record out[2048];
		wait_for_start();
		for (uint64_t i = 0; i < n;) {
			size_t k = 0;
			for (; k < records_per_write && i < n; k++, i++)
				out[k] = (struct record){ i, 0, (int64_t)i, (double)i };
			size_t bytes = k * sizeof out[0], done = 0;
			while (done < bytes) {
				ssize_t w = write(fds[1], (char *)out + done, bytes - done);
				if (w <= 0)
					_exit(2);
				done += (size_t)w;
			}
		}
		_exit(0);
	}
	close(fds[1]);
	static char in[1 << 16];
	uint64_t bytes = 0, want = n * sizeof(struct record);
	int64_t start = rtime_mono_ns();
	atomic_store_explicit(start_flag, 1, memory_order_release);
	uint64_t check = 0;
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
	}
	if (check != (n * (n - 1)) / 2)
		fprintf(stderr, "bench-ring: pipe checksum mismatch\n");
	double seconds = (double)(rtime_mono_ns() - start) / 1e9;
	close(fds[0]);
	waitpid(pid, NULL, 0);
	return (double)(bytes / sizeof(struct record)) / seconds;
}

static int compare_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Producer stamps each sample with CLOCK_MONOTONIC and pushes one every
 * ~2 µs; the consumer busy-peeks and records the delay. */
static void handoff_latency(uint64_t n, int64_t *p50, int64_t *p99, int64_t *p999, uint64_t *stalls)
{
	struct ring *r = open_consumer();
	atomic_store(start_flag, 0);
	pid_t pid = fork();
	if (pid == 0) {
		struct ring *pr;
		struct ring_lane *lane;
		if (ring_producer_open(ring_name, &pr, NULL) != 0 ||
		    ring_lane_attach(pr, &lane, NULL) != 0)
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
	int64_t *delays = malloc(n * sizeof *delays);
	struct sample buf[64];
	uint64_t got = 0;
	usleep(20000);
	atomic_store_explicit(start_flag, 1, memory_order_release);
	while (got < n) {
		size_t k = ring_peek(r, buf, 64);
		int64_t now = rtime_mono_ns();
		for (size_t i = 0; i < k && got < n; i++)
			delays[got++] = now - buf[i].ts;
		if (k)
			ring_release(r);
	}
	waitpid(pid, NULL, 0);
	/* A stall is a run of samples delayed past 10 µs: one descheduling of
	 * either process delays every sample queued meanwhile. */
	*stalls = 0;
	for (uint64_t i = 0; i < n; i++)
		*stalls += delays[i] > 10000 && (i == 0 || delays[i - 1] <= 10000);
	qsort(delays, n, sizeof *delays, compare_i64);
	*p50 = delays[n / 2];
	*p99 = delays[n * 99 / 100];
	*p999 = delays[n * 999 / 1000];
	free(delays);
	ring_close(r);
	ring_unlink(ring_name, NULL);
}

int main(int argc, char **argv)
{
	int64_t n = 50000000;
	uint64_t latency_n = 1000000;
	bool quick = false;
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
		  .max = INT64_MAX },
		{ 0 },
	};
	const struct cmdline cl = {
		.program = "bench-ring",
		.about = "The ring's throughput and hand-off latency between processes, against\n"
			 "a pipe in the same run.",
		.options = options,
	};
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	if (quick && n == 50000000)
		n = 5000000;
	if (quick)
		latency_n = 200000;
	snprintf(ring_name, sizeof ring_name, "/rmon-bench-%d", (int)getpid());
	ring_unlink(ring_name, NULL);
	pin_to_cpu(0);
	start_flag = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	double pipe_single = pipe_throughput(n / 10, 1);
	double pipe_batched = pipe_throughput(n, 2048);
	double one_single = ring_throughput(1, n / 2, 1);
	double one = ring_throughput(1, n, 64);
	double two = ring_throughput(2, n / 2, 64);
	int64_t p50, p99, p999;
	uint64_t stalls;
	handoff_latency(latency_n, &p50, &p99, &p999, &stalls);

	printf("bench-ring: %llu samples of 32 bytes, cross-process, %ld CPUs, consumer and "
	       "producers pinned\n",
	       (unsigned long long)n, sysconf(_SC_NPROCESSORS_ONLN));
	printf("  pipe, one write per record (baseline) %8.1f M samples/s\n", pipe_single / 1e6);
	printf("  pipe, records batched in 64 KiB       %8.1f M samples/s\n", pipe_batched / 1e6);
	printf("  ring, 1 producer, ring_push           %8.1f M samples/s  %6.1fx pipe  %5.2fx "
	       "batched pipe\n",
	       one_single / 1e6, one_single / pipe_single, one_single / pipe_batched);
	printf("  ring, 1 producer, ring_push_many(64)  %8.1f M samples/s  %6.1fx pipe  %5.2fx "
	       "batched pipe\n",
	       one / 1e6, one / pipe_single, one / pipe_batched);
	printf("  ring, 2 producers, ring_push_many(64) %8.1f M samples/s  %6.1fx pipe  %5.2fx "
	       "batched pipe\n",
	       two / 1e6, two / pipe_single, two / pipe_batched);
	printf("  handoff latency, %llu samples        p50 %lld ns, p99 %lld ns, p99.9 %lld ns "
	       "(%llu stalls > 10 us)\n",
	       (unsigned long long)latency_n, (long long)p50, (long long)p99, (long long)p999,
	       (unsigned long long)stalls);
	return 0;
}
