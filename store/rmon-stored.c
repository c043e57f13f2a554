/* rmon-stored.c - the store daemon: drains the local agents' shared-memory
 * ring into the write-ahead log and LMDB (store/drainer.h) until SIGTERM or
 * SIGINT, then commits, checkpoints and exits 0. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/conf.h"
#include "lib/log.h"
#include "lib/rtime.h"
#include "store/drainer.h"

#define STORED_VERSION	    "0.1.0"
#define STORED_DEFAULT_DATA "var"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void notice(const char *message)
{
	log_warn("stored", "%s", message);
}

/* Reads one [store] setting of the config file into c. */
static int apply_setting(void *ctx, const struct conf_entry *entry, struct err *e)
{
	struct drainer_config *c = ctx;
	const char *k = entry->key;
	int64_t v;
	uint64_t size;
	bool flag;
	int rc = 0;
	if (strcmp(entry->section, "store") != 0)
		return conf_error(e, entry, "unknown section (rmon-stored reads [store])");
	if (strcmp(k, "ring_lanes") == 0) {
		if ((rc = conf_int(entry, 1, RING_MAX_LANES, &v, e)) == 0)
			c->ring.lanes = (uint32_t)v;
	} else if (strcmp(k, "ring_slots_per_lane") == 0) {
		if ((rc = conf_int(entry, 64, 1 << 24, &v, e)) == 0 && (v & (v - 1)))
			return conf_error(e, entry, "must be a power of two");
		if (rc == 0)
			c->ring.slots_per_lane = (uint32_t)v;
	} else if (strcmp(k, "ring_series") == 0) {
		if ((rc = conf_int(entry, 1, 1 << 24, &v, e)) == 0)
			c->ring.series_capacity = (uint32_t)v;
	} else if (strcmp(k, "commit_interval") == 0) {
		rc = conf_duration(entry, RTIME_NS_PER_MS * 10, &c->commit_interval_ns, e);
	} else if (strcmp(k, "checkpoint_interval") == 0) {
		rc = conf_duration(entry, RTIME_NS_PER_SEC, &c->checkpoint_interval_ns, e);
	} else if (strcmp(k, "self_interval") == 0) {
		rc = conf_duration(entry, RTIME_NS_PER_SEC, &c->self_interval_ns, e);
	} else if (strcmp(k, "wal_segment_size") == 0) {
		if ((rc = conf_size(entry, &size, e)) == 0 && size < (1 << 20))
			return conf_error(e, entry, "must be at least 1MiB");
		if (rc == 0)
			c->wal.segment_bytes = size;
	} else if (strcmp(k, "io_uring") == 0) {
		if ((rc = conf_bool(entry, &flag, e)) == 0)
			c->wal.use_io_uring = flag;
	} else if (strcmp(k, "retention_raw") == 0) {
		rc = conf_duration(entry, RTIME_NS_PER_SEC * 3600, &c->db.retention_raw_ns, e);
	} else if (strcmp(k, "retention_1m") == 0) {
		rc = conf_duration(entry, RTIME_NS_PER_SEC * 3600, &c->db.retention_1m_ns, e);
	} else if (strcmp(k, "retention_1h") == 0) {
		rc = conf_duration(entry, RTIME_NS_PER_SEC * 3600, &c->db.retention_1h_ns, e);
	} else {
		return conf_error(e, entry, "unknown setting");
	}
	return rc;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: rmon-stored [--data DIR] [--config FILE] [--reset] [-v] [--help] "
		"[--version]\n\n"
		"Drains the shared-memory ring that local rmon-collectd agents write into\n"
		"a write-ahead log and an LMDB store in DIR (default %s).\n\n"
		"  --data DIR     the data folder: ring name, wal/, db/\n"
		"  --config FILE  settings in a [store] section (see docs/stored.md)\n"
		"  --reset        remove the ring segment first (samples still in it are lost)\n"
		"  --drop-ring    remove the ring segment and exit\n"
		"  -v, --verbose  log more\n",
		STORED_DEFAULT_DATA);
}

int main(int argc, char **argv)
{
	const char *data = STORED_DEFAULT_DATA, *config_file = NULL;
	bool reset = false, drop_only = false;
	static const struct option options[] = { { "data", required_argument, NULL, 'd' },
						 { "config", required_argument, NULL, 'c' },
						 { "reset", no_argument, NULL, 'r' },
						 { "verbose", no_argument, NULL, 'v' },
						 { "drop-ring", no_argument, NULL, 'D' },
						 { "help", no_argument, NULL, 'h' },
						 { "version", no_argument, NULL, 'V' },
						 { NULL, 0, NULL, 0 } };
	for (int c; (c = getopt_long(argc, argv, "d:c:rvhV", options, NULL)) != -1;) {
		switch (c) {
		case 'd':
			data = optarg;
			break;
		case 'c':
			config_file = optarg;
			break;
		case 'r':
			reset = true;
			break;
		case 'D':
			reset = drop_only = true;
			break;
		case 'v':
			log_set_level(LOG_DEBUG);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("rmon-stored %s\n", STORED_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "rmon-stored: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	struct drainer_config config;
	struct err e = { 0 };
	char host[256] = "localhost";
	gethostname(host, sizeof host - 1);
	drainer_config_default(&config, data);
	config.host = host;
	config.notice = notice;
	if (config_file && conf_parse_file(config_file, apply_setting, &config, &e) != 0) {
		log_error("stored", "%s", e.msg);
		return 2;
	}
	if (reset) {
		char name[64];
		ring_name_for_dir(data, name, sizeof name);
		ring_unlink(name, NULL);
		if (drop_only)
			return 0;
	}
	struct drainer *d;
	if (drainer_open(&config, &d, &e) != 0) {
		log_error("stored", "%s", e.msg);
		return 1;
	}
	struct drainer_stats st;
	drainer_get_stats(d, &st);
	if (!st.io_uring)
		log_warn(
		    "stored",
		    "io_uring is off or unavailable here; writing the WAL with pwrite + fdatasync");
	log_info("stored", "draining into %s (ring lanes %u x %u slots, %s)", data,
		 config.ring.lanes, config.ring.slots_per_lane,
		 st.io_uring ? "io_uring" : "pwrite");
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	int rc = 0;
	while (!stop && (rc = drainer_step(d, 100, &e)) == 0)
		;
	if (rc != 0)
		log_error("stored", "%s", e.msg);
	drainer_get_stats(d, &st);
	if (drainer_close(d, rc ? NULL : &e) != 0 && rc == 0) {
		log_error("stored", "%s", e.msg);
		rc = -1;
	}
	log_info("stored", "stopped after storing %llu samples in %llu group commits",
		 (unsigned long long)st.samples, (unsigned long long)st.batches);
	return rc ? 1 : 0;
}
