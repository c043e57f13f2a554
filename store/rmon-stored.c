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
#include "store/ingest.h"
#include "store/query.h"
#include "lib/series_name.h"
#include "net/proto.h"
#include "net/shipper.h"
#include <sys/resource.h>
#include <sys/stat.h>

#define STORED_VERSION	    "0.1.0"
#define STORED_DEFAULT_DATA "var"

static volatile sig_atomic_t stop;

/* Everything the config file and the options set. */
struct settings {
	struct drainer_config store;
	struct ingest_config ingest;
	bool listening;
	struct shipper_config upstream; /* .server NULL: not a relay */
	struct ingest_host *hosts;
	char *strings[8]; /* copies of string settings, freed at exit */
	int n_strings;
};

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
static int apply_store(struct drainer_config *c, const struct conf_entry *entry, struct err *e)
{
	const char *k = entry->key;
	int64_t v;
	uint64_t size;
	bool flag;
	int rc = 0;
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

static int keep_string(struct settings *set, const struct conf_entry *entry, const char **out,
		       struct err *e)
{
	if ((size_t)set->n_strings >= sizeof set->strings / sizeof set->strings[0])
		return conf_error(e, entry, "too many settings of this kind");
	char *copy = strdup(entry->value);
	if (!copy)
		return conf_error(e, entry, "out of memory");
	set->strings[set->n_strings++] = copy;
	*out = copy;
	return 0;
}

/* An empty or short secret would be guessed: refused where it is written. */
static int check_secret(const struct conf_entry *entry, struct err *e)
{
	if (strlen(entry->value) < PROTO_SECRET_MIN)
		return conf_error(e, entry, "a secret must be at least %d bytes (this one has %zu)",
				  PROTO_SECRET_MIN, strlen(entry->value));
	return 0;
}

/* max_frame, max_series, max_rate: in [ingest], and per host in [host NAME]. */
static int limit_setting(const struct conf_entry *entry, uint32_t *max_frame, uint32_t *max_series,
			 uint64_t *max_rate, struct err *e)
{
	const char *k = entry->key;
	int64_t v;
	uint64_t size;
	int rc;
	if (strcmp(k, "max_frame") == 0) {
		if ((rc = conf_size(entry, &size, e)) == 0 &&
		    (size < 4096 || size > PROTO_MAX_FRAME))
			return conf_error(e, entry, "must be from 4KiB to 64MiB");
		*max_frame = (uint32_t)size;
		return rc;
	}
	if (strcmp(k, "max_series") == 0) {
		if ((rc = conf_int(entry, 1, UINT32_MAX, &v, e)) == 0)
			*max_series = (uint32_t)v;
		return rc;
	}
	if (strcmp(k, "max_rate") == 0) {
		if ((rc = conf_int(entry, 1, INT64_MAX, &v, e)) == 0)
			*max_rate = (uint64_t)v;
		return rc;
	}
	return conf_error(e, entry, "unknown setting");
}

static int apply_ingest(struct settings *set, const struct conf_entry *entry, struct err *e)
{
	struct ingest_config *c = &set->ingest;
	const char *k = entry->key;
	int64_t v;
	uint64_t size;
	int rc;
	if (strcmp(k, "listen") == 0) {
		set->listening = true;
		return keep_string(set, entry, &c->listen, e);
	}
	if (strcmp(k, "secret") == 0)
		return check_secret(entry, e) != 0 ? -EINVAL
						   : keep_string(set, entry, &c->secret, e);
	if (strcmp(k, "tls_cert") == 0)
		return keep_string(set, entry, &c->tls_cert, e);
	if (strcmp(k, "tls_key") == 0)
		return keep_string(set, entry, &c->tls_key, e);
	if (strcmp(k, "max_connections") == 0) {
		if ((rc = conf_int(entry, 1, 1000000, &v, e)) == 0)
			c->max_connections = (uint32_t)v;
		return rc;
	}
	if (strcmp(k, "max_future") == 0)
		return conf_duration(entry, RTIME_NS_PER_SEC, &c->max_future_ns, e);
	if (strcmp(k, "frame_timeout") == 0)
		return conf_duration(entry, RTIME_NS_PER_SEC, &c->frame_timeout_ns, e);
	if (strcmp(k, "handshake_memory") == 0) {
		if ((rc = conf_size(entry, &size, e)) == 0 && size < (64u << 10))
			return conf_error(e, entry, "must be at least 64KiB");
		c->handshake_memory = size;
		return rc;
	}
	return limit_setting(entry, &c->max_frame, &c->max_series, &c->max_rate, e);
}

/* [upstream]: where a relay forwards what it stores. */
static int apply_upstream(struct settings *set, const struct conf_entry *entry, struct err *e)
{
	struct shipper_config *c = &set->upstream;
	const char *k = entry->key;
	uint64_t size;
	int rc;
	if (strcmp(k, "address") == 0)
		return keep_string(set, entry, &c->server, e);
	if (strcmp(k, "secret") == 0)
		return check_secret(entry, e) != 0 ? -EINVAL
						   : keep_string(set, entry, &c->secret, e);
	if (strcmp(k, "tls") == 0)
		return conf_bool(entry, &c->tls, e);
	if (strcmp(k, "tls_ca") == 0)
		return keep_string(set, entry, &c->tls_ca, e);
	if (strcmp(k, "spool_size") == 0) {
		if ((rc = conf_size(entry, &size, e)) == 0 && size < (1u << 20))
			return conf_error(e, entry, "must be at least 1MiB");
		c->spool.max_bytes = size;
		return rc;
	}
	return conf_error(e, entry, "unknown setting (address, secret, tls, tls_ca, spool_size)");
}

/* The [host NAME] entry, made on first use (sections may repeat). */
static struct ingest_host *host_entry(struct settings *set, const char *name)
{
	size_t n = set->ingest.n_hosts;
	for (size_t i = 0; i < n; i++)
		if (strcmp(set->hosts[i].host, name) == 0)
			return &set->hosts[i];
	struct ingest_host *grown = realloc(set->hosts, (n + 1) * sizeof *grown);
	char *host = strdup(name);
	if (!grown || !host) {
		free(host);
		if (grown)
			set->ingest.hosts = set->hosts = grown;
		return NULL;
	}
	grown[n] = (struct ingest_host){ .host = host };
	set->hosts = grown;
	set->ingest.hosts = grown;
	set->ingest.n_hosts = n + 1;
	return &grown[n];
}

/* carries = web*, db1: the hosts a relay may write for, as a list of
 * fnmatch patterns separated by commas or spaces. */
static int parse_carries(struct ingest_host *h, const struct conf_entry *entry, struct err *e)
{
	char *text = strdup(entry->value), *save = NULL;
	size_t n = 0;
	const char **list = calloc(strlen(entry->value) / 2 + 1, sizeof *list);
	if (!text || !list) {
		free(text);
		free(list);
		return conf_error(e, entry, "out of memory");
	}
	memmove(text, text + strspn(text, ", \t"), strlen(text + strspn(text, ", \t")) + 1);
	for (char *p = strtok_r(text, ", \t", &save); p; p = strtok_r(NULL, ", \t", &save))
		list[n++] = p;
	if (n == 0) {
		free(text);
		free(list);
		return conf_error(e, entry, "carries needs at least one host name or pattern");
	}
	if (h->carries) { /* said again: the last one counts */
		free((char *)h->carries[0]);
		free((void *)h->carries);
	}
	h->carries = list; /* list[0] is the start of text: freed with it */
	h->n_carries = n;
	return 0;
}

/* [host NAME]: that host's own secret, what it may relay, its limits. */
static int apply_host(struct settings *set, const struct conf_entry *entry, struct err *e)
{
	if (entry->name[0] == '\0')
		return conf_error(e, entry, "the section needs the host name: [host NAME]");
	struct ingest_host *h = host_entry(set, entry->name);
	if (!h)
		return conf_error(e, entry, "out of memory");
	if (strcmp(entry->key, "secret") == 0) {
		int rc = check_secret(entry, e);
		char *secret = rc == 0 ? strdup(entry->value) : NULL;
		if (rc == 0 && !secret)
			return conf_error(e, entry, "out of memory");
		if (rc == 0) {
			free((char *)h->secret);
			h->secret = secret;
		}
		return rc;
	}
	if (strcmp(entry->key, "carries") == 0)
		return parse_carries(h, entry, e);
	if (strcmp(entry->key, "max_frame") != 0 && strcmp(entry->key, "max_series") != 0 &&
	    strcmp(entry->key, "max_rate") != 0)
		return conf_error(e, entry,
				  "unknown setting (a [host NAME] section holds secret, carries, "
				  "max_frame, max_series, max_rate)");
	return limit_setting(entry, &h->max_frame, &h->max_series, &h->max_rate, e);
}

static int apply_setting(void *ctx, const struct conf_entry *entry, struct err *e)
{
	struct settings *set = ctx;
	if (strcmp(entry->section, "store") == 0)
		return apply_store(&set->store, entry, e);
	if (strcmp(entry->section, "ingest") == 0)
		return apply_ingest(set, entry, e);
	if (strcmp(entry->section, "host") == 0)
		return apply_host(set, entry, e);
	if (strcmp(entry->section, "upstream") == 0)
		return apply_upstream(set, entry, e);
	return conf_error(e, entry,
			  "unknown section (rmon-stored reads [store], [ingest], [host NAME], "
			  "[upstream])");
}

static void free_settings(struct settings *set)
{
	for (size_t i = 0; i < set->ingest.n_hosts; i++) {
		free((char *)set->hosts[i].host);
		free((char *)set->hosts[i].secret);
		if (set->hosts[i].carries)
			free((char *)set->hosts[i].carries[0]);
		free((void *)set->hosts[i].carries);
	}
	free(set->hosts);
	for (int i = 0; i < set->n_strings; i++)
		free(set->strings[i]);
}

static void ingest_notice(enum log_level level, const char *message)
{
	log_msg(level, "ingest", "%s", message);
}

/* Room for many agents' sockets. */
static void raise_file_limit(void)
{
	struct rlimit r;
	if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
}

/* A relay's hooks: what the drainer stores is forwarded upstream. */
static void forward_series(void *ctx, uint64_t id, const char *name, size_t len)
{
	char copy[SERIES_NAME_MAX + 1];
	struct err e = { 0 };
	snprintf(copy, sizeof copy, "%.*s", (int)len, name);
	if (shipper_define(ctx, id, copy, &e) != 0)
		log_warn("relay", "%s", e.msg);
}

static int define_one(void *ctx, uint64_t id, const char *name, size_t len)
{
	char copy[SERIES_NAME_MAX + 1];
	struct err e = { 0 };
	snprintf(copy, sizeof copy, "%.*s", (int)len, name);
	if (shipper_define(ctx, id, copy, &e) != 0) {
		log_error("relay", "%s", e.msg);
		return -EIO;
	}
	return 0;
}

/* The store above takes samples only of series defined on the same
 * connection, but a relay's spool forgets its definitions when nothing is
 * pending and the drainer names only series it meets for the first time:
 * so every series stored here is defined to the spool at start (known
 * ones cost nothing). */
static int define_known_series(const char *data, struct shipper *up, struct err *e)
{
	struct query *q;
	int rc = query_open(data, &q, e);
	if (rc != 0)
		return rc;
	rc = query_series(q, NULL, define_one, up, e);
	query_close(q);
	return rc;
}

static void forward_samples(void *ctx, const struct sample *s, size_t n)
{
	struct err e = { 0 };
	if (shipper_send(ctx, s, n, &e) != 0)
		log_warn("relay", "%s", e.msg);
}

static void relay_notice(enum log_level level, const char *message)
{
	log_msg(level, "relay", "%s", message);
}

/* The network side's own series, beside the drainer's rmon_store_*: how
 * many agents are connected, refused or slowed, and how far behind a
 * relay's forwarding is. */
static int record_network(struct drainer *d, struct ingest *in, struct shipper *up,
			  const char *host, struct err *e)
{
	struct self_value {
		const char *metric;
		double value;
	} v[16];
	size_t n = 0;
	if (in) {
		struct ingest_stats is;
		ingest_get_stats(in, &is);
		v[n++] = (struct self_value){ "rmon_ingest_connections", (double)is.connections };
		v[n++] = (struct self_value){ "rmon_ingest_refused_total", (double)is.refused };
		v[n++] = (struct self_value){ "rmon_ingest_samples_total", (double)is.samples };
		v[n++] = (struct self_value){ "rmon_ingest_throttled_total", (double)is.throttled };
		v[n++] = (struct self_value){ "rmon_ingest_ownership_refused_total",
					      (double)is.ownership_refused };
		v[n++] = (struct self_value){ "rmon_ingest_future_dropped_total",
					      (double)is.future_dropped };
		v[n++] =
		    (struct self_value){ "rmon_ingest_over_limit_total", (double)is.over_limit };
		v[n++] = (struct self_value){ "rmon_ingest_evicted_total", (double)is.evicted };
		v[n++] = (struct self_value){ "rmon_ingest_stalled_total", (double)is.stalled };
	}
	if (up) {
		struct shipper_stats ss;
		shipper_get_stats(up, &ss);
		v[n++] = (struct self_value){ "rmon_relay_connected", ss.connected ? 1 : 0 };
		v[n++] = (struct self_value){ "rmon_relay_spool_bytes", (double)ss.spool.bytes };
		v[n++] = (struct self_value){ "rmon_relay_spool_pending_batches",
					      (double)ss.spool.pending_batches };
		v[n++] = (struct self_value){ "rmon_relay_spool_dropped_samples_total",
					      (double)ss.spool.dropped_samples };
	}
	struct sample samples[16];
	const char *names[16];
	char buf[16][SERIES_NAME_MAX + 1];
	int64_t now = rtime_now_ns();
	for (size_t i = 0; i < n; i++) {
		int len = series_canonical(buf[i], sizeof buf[i], host, v[i].metric, NULL, 0, e);
		if (len < 0)
			return len;
		samples[i] = (struct sample){ series_id(buf[i], (size_t)len), now, v[i].value };
		names[i] = buf[i];
	}
	int rc = drainer_submit(d, samples, n, names, e);
	return rc == -ENOSPC || rc == -EAGAIN ? 0 : rc; /* a full disk is logged already */
}

/* Drains the ring, serves the network and forwards upstream in one loop:
 * a pass reads every connection that has something, then one WAL group
 * commit covers the ring batch and every network batch, then the acks go
 * out.  When idle it waits in epoll (or the shipper's poll) for 5 ms. */
static int serve(const struct drainer_config *c, struct drainer *d, struct ingest *in,
		 struct shipper *up, struct err *e)
{
	int rc = 0;
	int64_t last_self = rtime_mono_ns();
	while (!stop && rc == 0) {
		if (rtime_mono_ns() - last_self >= c->self_interval_ns) {
			last_self = rtime_mono_ns();
			if ((rc = record_network(d, in, up, c->host, e)) != 0)
				break;
		}
		uint64_t before = drainer_samples(d);
		if ((rc = drainer_step(d, 0, e)) != 0)
			break;
		int wait_ms = drainer_samples(d) != before ? 0 : 5;
		if (in && (rc = ingest_poll(in, wait_ms, e)) != 0)
			break;
		if (up && (rc = shipper_step(up, in ? 0 : wait_ms, e)) != 0)
			break;
		rc = drainer_sync(d, e);
		if (rc == 0 && in)
			ingest_acknowledge(in);
		else if (rc == -ENOSPC)
			rc = 0; /* kept; acknowledged once space returns */
	}
	return rc;
}

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: rmon-stored [--data DIR] [--config FILE] [--listen ADDR] [--upstream ADDR]\n"
	    "                   [--reset] [-v] [--help] [--version]\n\n"
	    "Drains the shared-memory ring that local rmon-collectd agents write (and,\n"
	    "with --listen, remote agents' streams) into a write-ahead log and an LMDB\n"
	    "store in DIR (default %s).\n\n"
	    "  --data DIR     the data folder: ring name, wal/, db/\n"
	    "  --listen ADDR  also take agents' msgpack streams on ADDR (host:port;\n"
	    "                 default port %d; see docs/protocol.md)\n"
	    "  --upstream ADDR  relay: forward everything stored to the rmon-stored at\n"
	    "                 ADDR, spooling under DIR/upstream-spool\n"
	    "  --config FILE  settings in [store], [ingest], [host NAME] and [upstream]\n"
	    "                 sections (see docs/stored.md and docs/protocol.md)\n"
	    "  --reset        remove the ring segment first (samples still in it are lost)\n"
	    "  --drop-ring    remove the ring segment and exit\n"
	    "  -v, --verbose  log more\n",
	    STORED_DEFAULT_DATA, PROTO_DEFAULT_PORT);
}

int main(int argc, char **argv)
{
	const char *data = STORED_DEFAULT_DATA, *config_file = NULL, *listen = NULL,
		   *upstream = NULL;
	bool reset = false, drop_only = false;
	static const struct option options[] = { { "data", required_argument, NULL, 'd' },
						 { "config", required_argument, NULL, 'c' },
						 { "listen", required_argument, NULL, 'l' },
						 { "upstream", required_argument, NULL, 'u' },
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
		case 'l':
			listen = optarg;
			break;
		case 'u':
			upstream = optarg;
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
	struct settings set = { 0 };
	struct drainer_config *config = &set.store;
	struct err e = { 0 };
	char host[256] = "localhost";
	gethostname(host, sizeof host - 1);
	drainer_config_default(config, data);
	ingest_config_default(&set.ingest);
	config->host = host;
	config->notice = notice;
	set.ingest.notice = ingest_notice;
	static char spool_dir[4200];
	snprintf(spool_dir, sizeof spool_dir, "%s/upstream-spool", data);
	shipper_config_default(&set.upstream, NULL, spool_dir);
	set.upstream.host = host;
	set.upstream.agent = "rmon-stored " STORED_VERSION;
	set.upstream.relay = true;
	set.upstream.notice = relay_notice;
	if (config_file && conf_parse_file(config_file, apply_setting, &set, &e) != 0) {
		log_error("stored", "%s", e.msg);
		free_settings(&set);
		return 2;
	}
	if (listen) {
		set.ingest.listen = listen;
		set.listening = true;
	}
	if (upstream)
		set.upstream.server = upstream;
	if (!set.ingest.tls_cert != !set.ingest.tls_key) {
		log_error("stored", "%s: [ingest] tls_cert and tls_key go together",
			  config_file ? config_file : "settings");
		free_settings(&set);
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
	struct ingest *in = NULL;
	struct shipper *up = NULL;
	signal(SIGINT, on_signal); /* early: a stop while recovering is clean too */
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (set.upstream.server) {
		mkdir(data, 0700); /* for the spool; drainer_open reports failures */
		if (shipper_open(&set.upstream, &up, &e) != 0) {
			log_error("stored", "%s", e.msg);
			free_settings(&set);
			return 1;
		}
		config->on_series = forward_series;
		config->on_durable = forward_samples;
		config->forward_ctx = up;
		log_info("stored", "relaying to %s", set.upstream.server);
	}
	if (drainer_open(config, &d, &e) != 0) {
		log_error("stored", "%s", e.msg);
		free_settings(&set);
		return 1;
	}
	if (up && define_known_series(data, up, &e) != 0) {
		log_error("stored", "%s", e.msg);
		drainer_close(d, NULL);
		shipper_close(up);
		free_settings(&set);
		return 1;
	}
	if (set.listening) {
		raise_file_limit();
		if (ingest_open(&set.ingest, d, &in, &e) != 0) {
			log_error("stored", "%s", e.msg);
			drainer_close(d, NULL);
			free_settings(&set);
			return 1;
		}
		bool secrets = set.ingest.secret != NULL;
		for (size_t i = 0; i < set.ingest.n_hosts; i++)
			secrets |= set.hosts[i].secret != NULL;
		log_info("stored", "taking agents' streams on %s%s%s", set.ingest.listen,
			 set.ingest.tls_cert ? " (TLS)" : "", secrets ? " with credentials" : "");
	}
	struct drainer_stats st;
	drainer_get_stats(d, &st);
	if (!st.io_uring)
		log_warn(
		    "stored",
		    "io_uring is off or unavailable here; writing the WAL with pwrite + fdatasync");
	log_info("stored", "draining into %s (ring lanes %u x %u slots, %s)", data,
		 config->ring.lanes, config->ring.slots_per_lane,
		 st.io_uring ? "io_uring" : "pwrite");
	int rc = 0;
	if (in || up)
		rc = serve(config, d, in, up, &e);
	else
		while (!stop && (rc = drainer_step(d, 100, &e)) == 0)
			;
	ingest_close(in);
	if (up) { /* what was stored last is in the spool: a moment to send it */
		for (int i = 0; i < 40; i++) {
			struct shipper_stats ss;
			shipper_get_stats(up, &ss);
			if (!ss.connected || ss.spool.pending_batches == 0 ||
			    shipper_step(up, 50, &e) != 0)
				break;
		}
	}
	if (rc != 0)
		log_error("stored", "%s", e.msg);
	drainer_get_stats(d, &st);
	if (drainer_close(d, rc ? NULL : &e) != 0 && rc == 0) {
		log_error("stored", "%s", e.msg);
		rc = -1;
	}
	log_info("stored", "stopped after storing %llu samples in %llu group commits",
		 (unsigned long long)st.samples, (unsigned long long)st.batches);
	shipper_close(up);
	free_settings(&set);
	return rc ? 1 : 0;
}
