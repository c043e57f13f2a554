/* bench-retention.c - what retention costs a checkpoint: db_apply_retention
 * (a bounded number of keys a call, going on where the last stopped)
 * against a walk over every record, which is what retention did before and
 * what any whole-database pass costs, on the same database in the same run.
 *
 * Usage: bench-retention [--quick] [--series N] [--chunks N]
 */
#include <getopt.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/rtime.h"
#include "store/db.h"
#include "store/layout.h"

#define HOUR (3600 * RTIME_NS_PER_SEC)

__attribute__((noreturn)) static void die(const char *what, const struct err *e)
{
	fprintf(stderr, "bench-retention: %s: %s\n", what, e ? e->msg : "");
	exit(1);
}

/* Every record of the three resolutions visited with a cursor, keys
 * parsed: the least a whole-database retention pass costs. */
static size_t walk_all(const char *dir)
{
	MDB_env *env;
	MDB_txn *txn;
	size_t n = 0;
	if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 8) ||
	    mdb_env_open(env, dir, MDB_RDONLY | MDB_NOTLS, 0600) ||
	    mdb_txn_begin(env, NULL, MDB_RDONLY, &txn))
		die("cannot open LMDB", NULL);
	for (int r = 0; r < 3; r++) {
		MDB_dbi dbi;
		MDB_cursor *cur;
		MDB_val k, v;
		if (mdb_dbi_open(txn, layout_db_names[r], 0, &dbi) ||
		    mdb_cursor_open(txn, dbi, &cur))
			die("cannot open a database", NULL);
		for (int got = mdb_cursor_get(cur, &k, &v, MDB_FIRST); got == 0;
		     got = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			uint64_t id;
			int64_t start;
			layout_key_parse(k.mv_data, &id, &start);
			n += start != INT64_MIN;
		}
		mdb_cursor_close(cur);
	}
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return n;
}

int main(int argc, char **argv)
{
	long series = 10000, chunks = 20;
	static const struct option options[] = { { "quick", no_argument, NULL, 'q' },
						 { "series", required_argument, NULL, 's' },
						 { "chunks", required_argument, NULL, 'c' },
						 { NULL, 0, NULL, 0 } };
	for (int c; (c = getopt_long(argc, argv, "qs:c:h", options, NULL)) != -1;) {
		if (c == 'q')
			series = 2000;
		else if (c == 's')
			series = atol(optarg);
		else if (c == 'c')
			chunks = atol(optarg);
		else {
			fprintf(stderr,
				"usage: bench-retention [--quick] [--series N] [--chunks N]\n");
			return 2;
		}
	}
	if (series < 1 || chunks < 1) {
		fprintf(stderr, "bench-retention: --series and --chunks must be positive\n");
		return 2;
	}
	char dir[] = "/tmp/bench-retention-XXXXXX";
	if (!mkdtemp(dir))
		die("mkdtemp", NULL);
	struct db_config c;
	db_config_default(&c);
	struct db *db;
	struct err e = { 0 };
	if (db_open(dir, &c, false, &db, &e) != 0)
		die("db_open", &e);
	/* One sample every 2 h: each closes the chunk before it. */
	const int64_t t0 = INT64_C(1764000000) * RTIME_NS_PER_SEC;
	for (long s = 0; s < series; s++) {
		char name[48];
		int len = snprintf(name, sizeof name, "h/m{s=\"%ld\"}", s);
		if (db_register_series(db, (uint64_t)s + 1, name, (size_t)len, &e) != 0)
			die("register", &e);
		for (long k = 0; k <= chunks; k++) {
			struct sample x = { (uint64_t)s + 1, t0 + k * 2 * HOUR, (double)k };
			if (db_append(db, &x, 1, &e) != 0)
				die("append", &e);
		}
		if ((s + 1) % 1000 == 0 && db_commit(db, (uint64_t)s + 1, &e) != 0)
			die("commit", &e);
	}
	if (db_commit(db, (uint64_t)series + 1, &e) != 0)
		die("commit", &e);
	int64_t now = t0 + chunks * 2 * HOUR; /* nothing expired yet: the usual checkpoint */

	int64_t began = rtime_mono_ns();
	size_t records = walk_all(dir);
	double walk_ms = (double)(rtime_mono_ns() - began) / 1e6;

	/* Checkpoints a minute apart, nothing to expire: passes start every
	 * DB_RETENTION_EVERY_NS, the calls in between do nothing. */
	int checkpoints = 60, calls = 0;
	double total_ms = 0, worst_ms = 0;
	for (int i = 1; i <= checkpoints; i++) {
		int64_t t = now + i * 60 * RTIME_NS_PER_SEC;
		began = rtime_mono_ns();
		if (db_apply_retention(db, t, &e) != 0)
			die("retention", &e);
		double ms = (double)(rtime_mono_ns() - began) / 1e6;
		total_ms += ms;
		calls += ms > 0.05; /* one that did work */
		worst_ms = ms > worst_ms ? ms : worst_ms;
	}
	double call_ms = total_ms / checkpoints;
	/* Then everything but the heads expires: calls until it is all gone. */
	int64_t later = now + c.retention_1h_ns + 400 * 24 * HOUR;
	began = rtime_mono_ns();
	int passes = 0;
	size_t before = records + 1;
	for (size_t left = records; left < before || passes < 3; passes++) {
		if (db_apply_retention(db, later, &e) != 0)
			die("retention", &e);
		if (passes % 4 == 3) { /* looking costs a walk: only now and then */
			before = left;
			left = walk_all(dir);
		}
	}
	double expire_ms = (double)(rtime_mono_ns() - began) / 1e6;
	size_t remaining = walk_all(dir);
	db_close(db);
	char cmd[64];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench-retention: could not remove %s\n", dir);

	printf("records: %zu (%ld series x %ld chunks, and their rollups)\n", records, series,
	       chunks);
	printf("walk over every record, what each checkpoint paid before (baseline): %.2f ms\n",
	       walk_ms);
	printf("retention over %d checkpoints a minute apart, nothing to expire: %.3f ms a "
	       "checkpoint on average (%.1fx less), %d of them working, the longest %.2f ms\n",
	       checkpoints, call_ms, walk_ms / call_ms, calls, worst_ms);
	printf("expiring all but the heads: %d calls, %.1f ms in all, %zu records left\n", passes,
	       expire_ms, remaining);
	return 0;
}
