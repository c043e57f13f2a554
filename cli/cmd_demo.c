/* cmd_demo.c - `rmon demo`: runs what exists of the pipeline on this
 * machine with a built-in configuration and checks it end to end.  Today
 * that is the shared-memory ring: producer processes push series through it
 * while this process drains it, proving every sample arrives exactly once,
 * in order, at full speed. */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/rtime.h"
#include "shmring/ring.h"
#include "shmring/series.h"

#define DEMO_PRODUCERS 2
#define DEMO_SERIES    8

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* A producer process: registers its series, then pushes a counter per
 * series in collections of DEMO_SERIES until told to stop, and reports how
 * many samples the ring accepted through its exit pipe. */
static void producer(const char *ring_name, int index, int report_fd)
{
	struct ring *r;
	struct ring_lane *lane;
	struct err e = { 0 };
	uint64_t ids[DEMO_SERIES];
	signal(SIGTERM, on_signal);
	if (ring_producer_open(ring_name, &r, &e) != 0 || ring_lane_attach(r, &lane, &e) != 0) {
		fprintf(stderr, "error demo: producer %d: %s\n", index, e.msg);
		_exit(1);
	}
	for (int s = 0; s < DEMO_SERIES; s++) {
		char name[SERIES_NAME_MAX + 1], producer_label[16], series_label[16];
		snprintf(producer_label, sizeof producer_label, "%d", index);
		snprintf(series_label, sizeof series_label, "%d", s);
		struct series_label labels[] = { { "producer", producer_label },
						 { "series", series_label } };
		int len = series_canonical(name, sizeof name, "demo", "rmon_demo_samples_total",
					   labels, 2, &e);
		if (len < 0 || series_insert(ring_series(r), name, (size_t)len, &ids[s], &e) != 0) {
			fprintf(stderr, "error demo: %s\n", e.msg);
			_exit(1);
		}
	}
	uint64_t accepted = 0;
	struct ring_sample batch[DEMO_SERIES];
	/* Values count up per series, so the consumer can check order. */
	for (uint64_t round = 0; !stop; round++) {
		int64_t now = rtime_now_ns();
		for (int s = 0; s < DEMO_SERIES; s++)
			batch[s] = (struct ring_sample){ ids[s], now, (double)round };
		/* A full lane is waited out here (a real agent would count a
		 * drop), so the check below can demand every sample. */
		for (size_t sent = 0; sent < DEMO_SERIES && !stop;) {
			size_t n = ring_push_many(lane, batch + sent, DEMO_SERIES - sent);
			sent += n;
			accepted += n;
			if (n == 0)
				sched_yield();
		}
	}
	ssize_t ignored = write(report_fd, &accepted, sizeof accepted);
	(void)ignored;
	ring_close(r);
	_exit(0);
}

/* The last value seen per series, to check order and exactly-once. */
struct seen {
	uint64_t id;
	double last;
};

static int check_sample(struct seen *seen, const struct ring_sample *s)
{
	for (int i = 0; i < DEMO_PRODUCERS * DEMO_SERIES; i++) {
		if (seen[i].id == s->id || seen[i].id == 0) {
			seen[i].id = s->id;
			if (s->value != seen[i].last + 1)
				return -1;
			seen[i].last = s->value;
			return 0;
		}
	}
	return -1;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: rmon demo [--data DIR] [--duration 10s]\n\n"
		"Runs the pipeline that exists on this machine and checks it end to end:\n"
		"%d producer processes push %d series each through the shared-memory\n"
		"ring of DIR (default %s) while this process drains it, verifying that\n"
		"every sample arrives exactly once and in order.  Ctrl-C stops early.\n",
		DEMO_PRODUCERS, DEMO_SERIES, CLI_DEFAULT_DATA);
}

int cmd_demo(int argc, char **argv)
{
	const char *data = CLI_DEFAULT_DATA;
	int64_t duration = 10 * RTIME_NS_PER_SEC;
	struct err e = { 0 };
	static const struct option options[] = { { "data", required_argument, NULL, 'd' },
						 { "duration", required_argument, NULL, 't' },
						 { "help", no_argument, NULL, 'h' },
						 { NULL, 0, NULL, 0 } };
	for (int c; (c = getopt_long(argc, argv, "d:t:h", options, NULL)) != -1;) {
		if (c == 'd') {
			data = optarg;
		} else if (c == 't') {
			if (rtime_parse_duration(optarg, &duration, &e) != 0) {
				fprintf(stderr, "rmon demo: --duration: %s\n", e.msg);
				return 2;
			}
		} else {
			usage(c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 2;
		}
	}
	if (mkdir(data, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "rmon demo: cannot create data folder %s: %s\n", data,
			strerror(errno));
		return 1;
	}
	char name[64];
	ring_name_for_dir(data, name, sizeof name);
	struct ring_config config;
	ring_config_default(&config, name);
	struct ring *r;
	if (ring_consumer_open(&config, &r, &e) != 0) {
		fprintf(stderr, "rmon demo: %s\n", e.msg);
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	int report[2];
	if (pipe(report) != 0)
		return 1;
	pid_t pids[DEMO_PRODUCERS];
	for (int i = 0; i < DEMO_PRODUCERS; i++)
		if ((pids[i] = fork()) == 0)
			producer(name, i, report[1]);
	printf("rmon demo: %d producers -> ring %s (data folder %s) -> this process\n",
	       DEMO_PRODUCERS, name, data);

	static struct ring_sample buf[16384];
	struct seen seen[DEMO_PRODUCERS * DEMO_SERIES] = { { 0, -1 } };
	for (int i = 0; i < DEMO_PRODUCERS * DEMO_SERIES; i++)
		seen[i].last = -1;
	uint64_t total = 0, last_total = 0, bad = 0;
	int64_t start = rtime_mono_ns(), next_print = start + RTIME_NS_PER_SEC;
	int producers_left = DEMO_PRODUCERS;
	uint64_t accepted = 0;
	while (producers_left > 0 || total < accepted) {
		size_t n = ring_peek(r, buf, 16384);
		for (size_t i = 0; i < n; i++)
			bad += check_sample(seen, &buf[i]) != 0;
		total += n;
		ring_release(r);
		if (n < 1024)
			ring_wait(r, 1);
		int64_t now = rtime_mono_ns();
		if (now >= next_print) {
			struct ring_stats st;
			ring_get_stats(r, &st);
			printf("  %3llds  %7.1f M samples/s  received %llu  lanes in use %u\n",
			       (long long)((now - start) / RTIME_NS_PER_SEC),
			       (double)(total - last_total) / 1e6, (unsigned long long)total,
			       st.lanes_in_use);
			fflush(stdout);
			last_total = total;
			next_print += RTIME_NS_PER_SEC;
		}
		if ((stop || now - start >= duration) && producers_left == DEMO_PRODUCERS) {
			for (int i = 0; i < DEMO_PRODUCERS; i++)
				kill(pids[i], SIGTERM);
			for (int i = 0; i < DEMO_PRODUCERS; i++) {
				uint64_t count = 0;
				if (read(report[0], &count, sizeof count) == sizeof count)
					accepted += count;
				waitpid(pids[i], NULL, 0);
				producers_left--;
			}
		}
	}
	double seconds = (double)(rtime_mono_ns() - start) / 1e9;
	ring_close(r);
	ring_unlink(name, NULL);
	printf("rmon demo: %llu samples in %.1f s (%.1f M/s); producers pushed %llu\n",
	       (unsigned long long)total, seconds, (double)total / seconds / 1e6,
	       (unsigned long long)accepted);
	if (bad || total != accepted) {
		printf("rmon demo: self-check FAILED: %llu samples out of order or repeated\n",
		       (unsigned long long)bad);
		return 1;
	}
	printf("rmon demo: self-check passed: every sample arrived exactly once, in order\n");
	return 0;
}
