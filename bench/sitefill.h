/* sitefill.h - synthetic hosts for the report: every series a host page
 * of rmon-reportgen draws (CPU by mode, load, memory, swap, file systems,
 * disks, interfaces, TCP and process states, pressure, top processes),
 * with smooth waves so graphs have something to show, written through the
 * drainer as rmon-stored writes them.  Used by `rmon-bench report` and by
 * tests/test_reportgen.c. */
#ifndef RMON_BENCH_SITEFILL_H
#define RMON_BENCH_SITEFILL_H

#include <stdint.h>

#include "lib/err.h"
#include "store/drainer.h"

struct sitefill {
	int64_t end, span, step;       /* samples every step over (end - span, end], ns */
	int mounts, interfaces, disks; /* instances of each (0: 1) */
	const char *odd_label; /* the last mount's and the top process's name (NULL: none) */
};

/* Writes host's series (busy: its CPU share in %); one drainer_submit a
 * series, then a commit.  Errors of the drainer, with e filled. */
int sitefill_host(struct drainer *d, const struct sitefill *f, const char *host, double busy,
		  struct err *e);

#endif
