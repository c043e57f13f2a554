/* rmon-put.c - writes samples into the ring of a data folder as an agent
 * would, one line of stdin at a time: "SERIES VALUE" (a canonical name such
 * as web1/test_value{k="v"}), stamped with the time it was read.  It
 * prints "put N" after each line pushed, so a test knows its sample is in
 * the ring; the alert tests and `rmon-bench alert` drive rules with it.
 *
 * Usage: rmon-put --data DIR < lines */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cmdline.h"
#include "lib/rtime.h"
#include "lib/sample.h"
#include "lib/series_name.h"
#include "shmring/ring.h"
#include "shmring/series.h"

int main(int argc, char **argv)
{
	const char *data = "var";
	const struct cmdline_option options[] = { CMDLINE_DATA(&data), { 0 } };
	const struct cmdline cl = {
		.program = "rmon-put",
		.about = "Pushes one sample per stdin line \"SERIES VALUE\" into the ring of DIR, "
			 "stamped now, and prints \"put N\" after each.",
		.options = options,
	};
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	char ring_name[64];
	ring_name_for_dir(data, ring_name, sizeof ring_name);
	struct ring *ring = NULL;
	struct ring_lane *lane = NULL;
	struct err e = { 0 };
	for (int tries = 0; tries < 300 && ring_producer_open(ring_name, &ring, &e) != 0; tries++)
		usleep(100000);
	if (!ring || ring_lane_attach(ring, &lane, &e) != 0) {
		fprintf(stderr, "rmon-put: %s\n", e.msg);
		return 1;
	}
	char line[SERIES_NAME_MAX + 64];
	unsigned long n = 0;
	int rc = 0;
	while (fgets(line, sizeof line, stdin)) {
		char *space = strrchr(line, ' '), *end;
		if (!space) {
			fprintf(stderr, "rmon-put: '%s': SERIES VALUE expected\n", line);
			rc = 1;
			continue;
		}
		*space = 0;
		double value = strtod(space + 1, &end);
		size_t len = strlen(line);
		uint64_t id;
		if (end == space + 1 || series_name_check(line, len, &e) != 0 ||
		    series_insert(ring_series(ring), line, len, &id, &e) != 0) {
			fprintf(stderr, "rmon-put: %s\n", e.msg[0] ? e.msg : "bad value");
			rc = 1;
			continue;
		}
		struct sample s = { id, rtime_now_ns(), value };
		while (ring_push(lane, &s) == -ENOSPC)
			usleep(1000);
		printf("put %lu\n", ++n);
		fflush(stdout);
	}
	ring_lane_detach(lane);
	ring_close(ring);
	return rc;
}
