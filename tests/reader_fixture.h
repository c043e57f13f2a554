/* reader_fixture.h - what the readers' tests share: a store in a
 * temporary folder, written through the drainer (WAL, then LMDB) as
 * rmon-stored writes it, and read back through store/query.h.  Included
 * by tests/test_reader*.c and tests/test_eval.c. */
#ifndef RMON_READER_FIXTURE_H
#define RMON_READER_FIXTURE_H

#include <errno.h>
#include <lmdb.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/rtime.h"
#include "lib/series_name.h"
#include "shmring/ring.h"
#include "store/db.h"
#include "store/drainer.h"
#include "store/query.h"

#define SEC RTIME_NS_PER_SEC
#define MIN (60 * SEC)
static char data[256]; /* the temporary data folder */

static inline int make_dir(void **state)
{
	(void)state;
	snprintf(data, sizeof data, "/tmp/rmon-test-reader-XXXXXX");
	assert_non_null(mkdtemp(data));
	return 0;
}

static inline int remove_dir(void **state)
{
	(void)state;
	char cmd[300], ring[64];
	ring_name_for_dir(data, ring, sizeof ring);
	ring_unlink(ring, NULL);
	snprintf(cmd, sizeof cmd, "rm -rf %s", data);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- writing through the drainer ---- */

static inline struct drainer *open_drainer(int64_t horizon_ns)
{
	struct drainer_config c;
	drainer_config_default(&c, data);
	c.ring.lanes = 1;
	c.ring.slots_per_lane = 1024;
	c.ring.series_capacity = 1024;
	c.commit_interval_ns = 0; /* every step commits */
	c.checkpoint_interval_ns = 3600 * SEC;
	c.self_interval_ns = 3600 * SEC;
	if (horizon_ns)
		c.db.changes_horizon_ns = horizon_ns;
	struct drainer *d;
	struct err e = { 0 };
	if (drainer_open(&c, &d, &e) != 0)
		fail_msg("drainer_open: %s", e.msg);
	return d;
}

static inline uint64_t id_of(const char *name)
{
	return series_id(name, strlen(name));
}

/* Stores n samples of series name (defined on first use) through the WAL,
 * without committing LMDB yet. */
static inline void put(struct drainer *d, const char *name, const int64_t *ts, const double *v,
		       size_t n)
{
	struct err e = { 0 };
	struct sample *s = malloc(n * sizeof *s);
	const char **names = malloc(n * sizeof *names);
	for (size_t i = 0; i < n; i++) {
		s[i] = (struct sample){ id_of(name), ts[i], v[i] };
		names[i] = name;
	}
	if (drainer_submit(d, s, n, names, &e) != 0)
		fail_msg("drainer_submit: %s", e.msg);
	free(s);
	free(names);
}

static inline void put1(struct drainer *d, const char *name, int64_t ts, double v)
{
	put(d, name, &ts, &v, 1);
}

/* One drainer step: with a commit interval of 0 it commits LMDB, which
 * readers see once its thread has written it. */
static inline void commit(struct drainer *d)
{
	struct err e = { 0 };
	if (drainer_step(d, 0, &e) != 0 || drainer_wait_commit(d, &e) != 0)
		fail_msg("drainer_step: %s", e.msg);
}

static inline void close_drainer(struct drainer *d)
{
	struct err e = { 0 };
	if (drainer_close(d, &e) != 0)
		fail_msg("drainer_close: %s", e.msg);
}

static inline struct query *open_query(void)
{
	struct query *q;
	struct err e = { 0 };
	if (query_open(data, &q, &e) != 0)
		fail_msg("query_open: %s", e.msg);
	return q;
}

static inline int count_sample(void *ctx, int64_t ts, double v)
{
	(void)ts;
	(void)v;
	(*(size_t *)ctx)++;
	return 0;
}

static inline size_t count_raw(struct query *q, const char *name)
{
	size_t n = 0;
	struct err e = { 0 };
	assert_int_equal(
	    query_raw(q, id_of(name), INT64_MIN, INT64_MAX, count_sample, &n, NULL, &e), 0);
	return n;
}

static inline int count_series(void *ctx, uint64_t id, const char *name, size_t len)
{
	(void)id;
	(void)name;
	(void)len;
	(*(size_t *)ctx)++;
	return 0;
}

#endif
