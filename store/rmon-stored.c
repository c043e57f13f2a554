/* rmon-stored.c - the store daemon: drains the local agents' shared-memory
 * ring into the write-ahead log and LMDB (store/drainer.h), serves remote
 * agents (store/ingest.h) and forwards upstream as a relay (net/shipper.h),
 * all on one event loop (lib/evloop.h), until SIGTERM or SIGINT; then
 * commits, checkpoints and exits 0. */
#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cmdline.h"
#include "lib/conf.h"
#include "lib/evloop.h"
#include "lib/grow.h"
#include "lib/log.h"
#include "lib/paths.h"
#include "lib/rtime.h"
#include "lib/sdnotify.h"
#include "lib/settings.h"
#include "store/drainer.h"
#include "store/expose.h"
#include "store/forward.h"
#include "store/ingest.h"
#include "store/remote_write.h"
#include "store/query.h"
#include "lib/series_name.h"
#include "net/proto.h"
#include "net/shipper.h"
#include <sys/resource.h>
#include <sys/stat.h>

#define STORED_VERSION "0.1.0"
#define QUOTE_(x)      #x
#define QUOTE(x)       QUOTE_(x) /* a number as text, for the usage */

/* Everything the config file and the options set. */
struct stored_settings {
	struct drainer_config store;
	struct ingest_config ingest;
	bool listening;
	struct shipper_config upstream;	   /* .server NULL: not a relay */
	struct store_expose_config expose; /* .listen NULL: no /metrics */
	struct remote_write_config **rw;   /* [remote_write NAME], each its own */
	size_t n_rw, rw_cap;
	const char *data;
	struct ingest_host *hosts;
	size_t hosts_cap;
	struct settings reader; /* the table below; keeps the strings */
};

#define AT(field) offsetof(struct stored_settings, field)
#define MiB	  (1 << 20)

/* Every setting of [store], [ingest] and [upstream]; docs/stored.md and
 * docs/protocol.md describe them. */
static const struct setting table[] = {
	{ "store", "ring_lanes", SETTING_UINT32, AT(store.ring.lanes), 1, RING_MAX_LANES, 0 },
	{ "store", "ring_slots_per_lane", SETTING_UINT32, AT(store.ring.slots_per_lane), 64,
	  1 << 24, SETTING_POWER_OF_TWO },
	{ "store", "ring_series", SETTING_UINT32, AT(store.ring.series_capacity), 1, 1 << 24, 0 },
	{ "store", "commit_interval", SETTING_DURATION, AT(store.commit_interval_ns),
	  10 * RTIME_NS_PER_MS, 0, 0 },
	{ "store", "checkpoint_interval", SETTING_DURATION, AT(store.checkpoint_interval_ns),
	  RTIME_NS_PER_SEC, 0, 0 },
	{ "store", "self_interval", SETTING_DURATION, AT(store.self_interval_ns), RTIME_NS_PER_SEC,
	  0, 0 },
	{ "store", "wal_segment_size", SETTING_SIZE, AT(store.wal.segment_bytes), MiB, 0, 0 },
	{ "store", "io_uring", SETTING_BOOL, AT(store.wal.use_io_uring), 0, 0, 0 },
	{ "store", "retention_raw", SETTING_DURATION, AT(store.db.retention_raw_ns),
	  3600 * RTIME_NS_PER_SEC, 0, 0 },
	{ "store", "retention_1m", SETTING_DURATION, AT(store.db.retention_1m_ns),
	  3600 * RTIME_NS_PER_SEC, 0, 0 },
	{ "store", "retention_1h", SETTING_DURATION, AT(store.db.retention_1h_ns),
	  3600 * RTIME_NS_PER_SEC, 0, 0 },
	{ "store", "changes_horizon", SETTING_DURATION, AT(store.db.changes_horizon_ns),
	  60 * RTIME_NS_PER_SEC, 0, 0 },
	{ "ingest", "listen", SETTING_STRING, AT(ingest.listen), 0, 0, 0 },
	{ "ingest", "secret", SETTING_STRING, AT(ingest.secret), PROTO_SECRET_MIN, 0, 0 },
	{ "ingest", "tls_cert", SETTING_STRING, AT(ingest.tls_cert), 0, 0, 0 },
	{ "ingest", "tls_key", SETTING_STRING, AT(ingest.tls_key), 0, 0, 0 },
	{ "ingest", "max_frame", SETTING_SIZE32, AT(ingest.max_frame), 4096, PROTO_MAX_FRAME, 0 },
	{ "ingest", "max_series", SETTING_UINT32, AT(ingest.max_series), 1, UINT32_MAX, 0 },
	{ "ingest", "max_rate", SETTING_INT64, AT(ingest.max_rate), 1, INT64_MAX, 0 },
	{ "ingest", "max_connections", SETTING_UINT32, AT(ingest.max_connections), 1, 1000000, 0 },
	{ "ingest", "max_future", SETTING_DURATION, AT(ingest.max_future_ns), RTIME_NS_PER_SEC, 0,
	  0 },
	{ "ingest", "frame_timeout", SETTING_DURATION, AT(ingest.frame_timeout_ns),
	  RTIME_NS_PER_SEC, 0, 0 },
	{ "ingest", "handshake_memory", SETTING_SIZE, AT(ingest.handshake_memory), 64 << 10, 0, 0 },
	{ "upstream", "address", SETTING_STRING, AT(upstream.server), 0, 0, 0 },
	{ "upstream", "secret", SETTING_STRING, AT(upstream.secret), PROTO_SECRET_MIN, 0, 0 },
	{ "upstream", "tls", SETTING_BOOL, AT(upstream.tls), 0, 0, 0 },
	{ "upstream", "tls_ca", SETTING_STRING, AT(upstream.tls_ca), 0, 0, 0 },
	{ "upstream", "spool_size", SETTING_SIZE, AT(upstream.spool.max_bytes), MiB, 0, 0 },
	{ "exposition", "listen", SETTING_STRING, AT(expose.listen), 1, 0, 0 },
	{ "exposition", "max_age", SETTING_DURATION, AT(expose.max_age_ns), RTIME_NS_PER_SEC, 0,
	  0 },
	{ NULL, NULL, 0, 0, 0, 0, 0 },
};

static void notice(const char *message)
{
	log_warn("stored", "%s", message);
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

/* The [host NAME] entry, made on first use (sections may repeat). */
static struct ingest_host *host_entry(struct stored_settings *set, const char *name)
{
	size_t n = set->ingest.n_hosts;
	for (size_t i = 0; i < n; i++)
		if (strcmp(set->hosts[i].host, name) == 0)
			return &set->hosts[i];
	char *host = strdup(name);
	if (!host || !grow_array(&set->hosts, &set->hosts_cap, n + 1, sizeof *set->hosts)) {
		free(host);
		return NULL;
	}
	set->hosts[n] = (struct ingest_host){ .host = host };
	set->ingest.hosts = set->hosts;
	set->ingest.n_hosts = n + 1;
	return &set->hosts[n];
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
static int apply_host(struct stored_settings *set, const struct conf_entry *entry, struct err *e)
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

static void remote_write_notice(enum log_level level, const char *message)
{
	log_msg(level, "remote_write", "%s", message);
}

/* [remote_write NAME]: one receiver each (remote_write.h). */
static int apply_remote_write(struct stored_settings *set, const struct conf_entry *entry,
			      struct err *e)
{
	if (entry->name[0] == '\0')
		return conf_error(e, entry, "the section needs a name: [remote_write NAME]");
	struct err why = { 0 };
	if (series_check_label_value(entry->name, strlen(entry->name), &why) != 0 ||
	    strchr(entry->name, '/') || entry->name[0] == '.')
		return conf_error(e, entry, "the name must be a plain file name: %s", why.msg);
	for (size_t i = 0; i < set->n_rw; i++)
		if (strcmp(set->rw[i]->name, entry->name) == 0)
			return remote_write_config_apply(set->rw[i], entry, e);
	struct remote_write_config *c = calloc(1, sizeof *c);
	char *name = c ? settings_keep(&set->reader, entry->name) : NULL;
	if (!name || !grow_array(&set->rw, &set->rw_cap, set->n_rw + 1, sizeof *set->rw)) {
		free(c);
		return conf_error(e, entry, "out of memory");
	}
	remote_write_config_default(c, name, set->data, NULL);
	c->notice = remote_write_notice;
	set->rw[set->n_rw++] = c;
	return remote_write_config_apply(c, entry, e);
}

static int apply_setting(void *ctx, const struct conf_entry *entry, struct err *e)
{
	struct stored_settings *set = ctx;
	if (strcmp(entry->section, "host") == 0)
		return apply_host(set, entry, e);
	if (strcmp(entry->section, "remote_write") == 0)
		return apply_remote_write(set, entry, e);
	if (strcmp(entry->section, "ingest") == 0 && strcmp(entry->key, "listen") == 0)
		set->listening = true;
	int rc = settings_apply(&set->reader, entry, e);
	if (rc == SETTINGS_UNKNOWN)
		return conf_error(
		    e, entry,
		    "unknown section (rmon-stored reads [store], [ingest], [host NAME], "
		    "[upstream], [exposition], [remote_write NAME])");
	return rc;
}

static void free_settings(struct stored_settings *set)
{
	for (size_t i = 0; i < set->n_rw; i++) {
		remote_write_config_release(set->rw[i]);
		free(set->rw[i]);
	}
	free(set->rw);
	for (size_t i = 0; i < set->ingest.n_hosts; i++) {
		free((char *)set->hosts[i].host);
		free((char *)set->hosts[i].secret);
		if (set->hosts[i].carries)
			free((char *)set->hosts[i].carries[0]);
		free((void *)set->hosts[i].carries);
	}
	free(set->hosts);
	settings_release(&set->reader);
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

static void relay_notice(enum log_level level, const char *message)
{
	log_msg(level, "relay", "%s", message);
}

/* The network side's own series, beside the drainer's rmon_store_*: how
 * many agents are connected, refused or slowed, and how far behind a
 * relay's forwarding is. */
static int record_network(struct drainer *d, struct ingest *in, struct forward *f, struct err *e)
{
	struct drainer_metric v[16];
	size_t n = 0;
	if (in) {
		struct ingest_stats is;
		ingest_get_stats(in, &is);
		v[n++] =
		    (struct drainer_metric){ "rmon_ingest_connections", (double)is.connections };
		v[n++] = (struct drainer_metric){ "rmon_ingest_refused_total", (double)is.refused };
		v[n++] = (struct drainer_metric){ "rmon_ingest_samples_total", (double)is.samples };
		v[n++] =
		    (struct drainer_metric){ "rmon_ingest_throttled_total", (double)is.throttled };
		v[n++] = (struct drainer_metric){ "rmon_ingest_ownership_refused_total",
						  (double)is.ownership_refused };
		v[n++] = (struct drainer_metric){ "rmon_ingest_future_dropped_total",
						  (double)is.future_dropped };
		v[n++] = (struct drainer_metric){ "rmon_ingest_over_limit_total",
						  (double)is.over_limit };
		v[n++] = (struct drainer_metric){ "rmon_ingest_evicted_total", (double)is.evicted };
		v[n++] = (struct drainer_metric){ "rmon_ingest_stalled_total", (double)is.stalled };
	}
	int rc = drainer_record(d, v, n, e);
	if (rc == 0)
		rc = forward_record(f, d, e);
	return rc == -ENOSPC || rc == -EAGAIN ? 0 : rc; /* a full disk is logged already */
}

/* What the loop's callbacks share. */
struct server {
	const struct drainer_config *config;
	struct drainer *d;
	struct ingest *in;
	struct forward *f;
	int rc;
	struct err *e;
};

static int64_t on_self_interval(struct evloop *loop, void *ctx)
{
	struct server *srv = ctx;
	if ((srv->rc = record_network(srv->d, srv->in, srv->f, srv->e)) != 0)
		evloop_stop(loop);
	return srv->config->self_interval_ns;
}

static void on_stop_signal(struct evloop *loop, int signo, void *ctx)
{
	sdnotify_stopping(NULL);
	evloop_stop(loop);
}

/* The store reads its settings at start only; a SIGHUP (a reload by habit,
 * or sent to a whole service) must not stop it, as the default action
 * would. */
static void on_hup_signal(struct evloop *loop, int signo, void *ctx)
{
	log_warn("stored", "SIGHUP: rmon-stored reads its configuration at start only; restart "
			   "it to apply changes (nothing acknowledged is lost)");
}

/* The ring has no descriptor to wait on: after a pass that drained
 * something it is looked at again at once, then after a wait that doubles
 * from RING_WAIT_MIN up to RING_WAIT_MAX while it stays empty: samples
 * that follow others closely (an agent's collection) wait a quarter of a
 * millisecond, an idle store wakes 200 times a second as it did with a
 * fixed 5 ms wait.  Network events end the wait early.  bench-drain
 * measures it. */
#define RING_WAIT_MIN (250 * 1000)
#define RING_WAIT_MAX (5 * RTIME_NS_PER_MS)

static int64_t next_ring_wait(int64_t wait, bool drained)
{
	if (drained)
		return 0;
	wait = wait < RING_WAIT_MIN ? RING_WAIT_MIN : wait * 2;
	return wait < RING_WAIT_MAX ? wait : RING_WAIT_MAX;
}

/* Drains the ring, serves the network and forwards upstream in one loop:
 * a pass reads every connection that has something, then one WAL group
 * commit covers the ring batch and every network batch, then the acks go
 * out.  Without network the ring's own wait (which spins briefly) is the
 * wait, for the lowest latency. */
static int serve(struct evloop *loop, const struct drainer_config *c, struct drainer *d,
		 struct ingest *in, struct forward *f, bool network, struct err *e)
{
	struct server srv = { c, d, in, f, 0, e };
	network = network || in || f->up || f->n_rw;
	uint64_t self_timer = 0;
	int64_t wait = 0;
	if (network && (srv.rc = evloop_add_timer(loop, c->self_interval_ns, on_self_interval, &srv,
						  &self_timer, e)) != 0)
		return srv.rc;
	int rc = 0;
	while (!evloop_stopped(loop) && rc == 0) {
		uint64_t before = drainer_samples(d);
		if ((rc = drainer_step(d, network ? 0 : 100, e)) != 0)
			break;
		wait = next_ring_wait(wait, drainer_samples(d) != before);
		if ((rc = evloop_run_once(loop, network ? wait : 0, e)) < 0 || (rc = srv.rc) != 0)
			break;
		if (!network)
			continue;
		rc = drainer_sync(d, e);
		if (rc == 0 && in)
			ingest_acknowledge(in);
		else if (rc == -ENOSPC)
			rc = 0; /* kept; acknowledged once space returns */
	}
	evloop_del_timer(loop, self_timer);
	return rc;
}

/* The defaults, then the config file (if any) over them. */
static int load_settings(struct stored_settings *set, const char *data, const char *config_file,
			 const char *host, struct err *e)
{
	static char spool_dir[4200];
	drainer_config_default(&set->store, data);
	set->store.host = host;
	set->store.notice = notice;
	ingest_config_default(&set->ingest);
	set->ingest.notice = ingest_notice;
	snprintf(spool_dir, sizeof spool_dir, "%s/upstream-spool", data);
	shipper_config_default(&set->upstream, NULL, spool_dir);
	set->upstream.host = host;
	set->upstream.agent = "rmon-stored " STORED_VERSION;
	set->upstream.relay = true;
	set->upstream.notice = relay_notice;
	store_expose_config_default(&set->expose);
	set->data = data;
	int rc = config_file ? conf_parse_file(config_file, apply_setting, set, e) : 0;
	if (rc == 0 && !set->ingest.tls_cert != !set->ingest.tls_key)
		rc = err_set(e, -EINVAL, "%s: [ingest] tls_cert and tls_key go together",
			     config_file ? config_file : "settings");
	for (size_t i = 0; rc == 0 && i < set->n_rw; i++)
		rc = remote_write_config_check(set->rw[i], e);
	return rc;
}

/* Everything the daemon runs: opened in this order, closed in reverse. */
struct daemon {
	struct evloop *loop;
	struct shipper *up;
	struct forward fwd; /* up and the remote writers */
	struct drainer *d;
	struct ingest *in;
	struct store_expose *expose;
	bool served;
};

static int open_daemon(struct stored_settings *set, const char *data, struct daemon *dm,
		       struct err *e)
{
	int rc;
	/* Signals early: a stop while recovering is clean too. */
	if ((rc = evloop_new(&dm->loop, e)) != 0 ||
	    (rc = evloop_add_signal(dm->loop, SIGINT, on_stop_signal, NULL, e)) != 0 ||
	    (rc = evloop_add_signal(dm->loop, SIGTERM, on_stop_signal, NULL, e)) != 0 ||
	    (rc = evloop_add_signal(dm->loop, SIGHUP, on_hup_signal, NULL, e)) != 0)
		return rc;
	signal(SIGPIPE, SIG_IGN);
	set->ingest.loop = set->upstream.loop = dm->loop;
	if (set->upstream.server) {
		mkdir(data, 0700); /* for the spool; drainer_open reports failures */
		if ((rc = shipper_open(&set->upstream, &dm->up, e)) != 0)
			return rc;
		dm->fwd.up = dm->up;
		log_info("stored", "relaying to %s", set->upstream.server);
	}
	if (set->n_rw && !(dm->fwd.rw = calloc(set->n_rw, sizeof *dm->fwd.rw)))
		return err_set(e, -ENOMEM, "out of memory");
	for (size_t i = 0; i < set->n_rw; i++, dm->fwd.n_rw++) {
		set->rw[i]->loop = dm->loop;
		if ((rc = remote_write_open(set->rw[i], &dm->fwd.rw[i], e)) != 0)
			return rc;
		log_info("stored", "remote_write %s: to %s", set->rw[i]->name, set->rw[i]->url);
	}
	if (dm->fwd.up || dm->fwd.n_rw) {
		set->store.on_series = forward_series;
		set->store.on_durable = forward_samples;
		set->store.forward_ctx = &dm->fwd;
	}
	if ((rc = drainer_open(&set->store, &dm->d, e)) != 0 ||
	    (rc = forward_start(&dm->fwd, data, e)) != 0)
		return rc;
	if (set->listening) {
		raise_file_limit();
		if ((rc = ingest_open(&set->ingest, dm->d, &dm->in, e)) != 0)
			return rc;
		bool secrets = set->ingest.secret != NULL;
		for (size_t i = 0; i < set->ingest.n_hosts; i++)
			secrets |= set->hosts[i].secret != NULL;
		log_info("stored", "taking agents' streams on %s%s%s", set->ingest.listen,
			 set->ingest.tls_cert ? " (TLS)" : "", secrets ? " with credentials" : "");
	}
	if (set->expose.listen) {
		if ((rc = store_expose_open(data, &set->expose, dm->loop, &dm->expose, e)) != 0)
			return rc;
		log_info("stored", "serving /metrics on %s", set->expose.listen);
	}
	struct drainer_stats st;
	drainer_get_stats(dm->d, &st);
	if (!st.io_uring)
		log_warn(
		    "stored",
		    "io_uring is off or unavailable here; writing the WAL with pwrite + fdatasync");
	log_info("stored", "draining into %s (ring lanes %u x %u slots, %s%s)", data,
		 set->store.ring.lanes, set->store.ring.slots_per_lane,
		 st.io_uring ? "io_uring" : "pwrite", st.direct_io ? ", direct I/O" : "");
	/* Ready: the ring exists for agents, the WAL is replayed, readers can
	 * open the store, and the listener (if any) takes connections. */
	char status[512];
	snprintf(status, sizeof status, "draining into %s%s%s", data,
		 set->listening ? ", taking agents' streams on " : "",
		 set->listening ? set->ingest.listen : "");
	if (sdnotify_ready(status, e) != 0)
		log_warn("stored", "%s", e->msg);
	return 0;
}

/* Closes what open_daemon opened; rc is how serving ended.  Returns it,
 * or the final commit's error. */
static int close_daemon(struct daemon *dm, int rc, struct err *e)
{
	ingest_close(dm->in);
	store_expose_close(dm->expose);
	forward_drain(&dm->fwd, dm->loop, 2 * RTIME_NS_PER_SEC);
	if (dm->up) { /* what was stored last is in the spool: a moment to send it */
		for (int i = 0; i < 40; i++) {
			struct shipper_stats ss;
			shipper_get_stats(dm->up, &ss);
			if (!ss.connected || ss.spool.pending_batches == 0 ||
			    shipper_step(dm->up, 50, e) != 0)
				break;
		}
	}
	if (dm->d) {
		struct drainer_stats st;
		drainer_get_stats(dm->d, &st);
		if (drainer_close(dm->d, rc ? NULL : e) != 0 && rc == 0) {
			log_error("stored", "%s", e->msg);
			rc = -1;
		}
		if (dm->served)
			log_info("stored",
				 "stopped after storing %llu samples in %llu group commits",
				 (unsigned long long)st.samples, (unsigned long long)st.batches);
	}
	shipper_close(dm->up);
	for (size_t i = 0; i < dm->fwd.n_rw; i++)
		remote_write_close(dm->fwd.rw[i]);
	free(dm->fwd.rw);
	evloop_free(dm->loop);
	return rc;
}

int main(int argc, char **argv)
{
	const char *data = paths_data(), *config_file = NULL, *listen = NULL, *upstream = NULL;
	bool reset = false, drop_only = false;
	const struct cmdline_option options[] = {
		CMDLINE_DATA(&data),
		CMDLINE_CONFIG(&config_file),
		{ .name = "listen",
		  .kind = CMDLINE_STRING,
		  .field = &listen,
		  .arg = "ADDR",
		  .help = "also take agents' msgpack streams on ADDR (host:port;\n"
			  "default port " QUOTE(PROTO_DEFAULT_PORT) "; see docs/protocol.md)" },
		{ .name = "upstream",
		  .kind = CMDLINE_STRING,
		  .field = &upstream,
		  .arg = "ADDR",
		  .help = "relay: forward everything stored to the rmon-stored at\n"
			  "ADDR, spooling under DIR/upstream-spool" },
		{ .name = "reset",
		  .letter = 'r',
		  .kind = CMDLINE_FLAG,
		  .field = &reset,
		  .help = "remove the ring segment first (samples still in it are lost)" },
		{ .name = "drop-ring",
		  .kind = CMDLINE_FLAG,
		  .field = &drop_only,
		  .help = "remove the ring segment and exit" },
		{ 0 },
	};
	const struct cmdline cl = {
		.program = "rmon-stored",
		.version = STORED_VERSION,
		.about =
		    "Drains the shared-memory ring that local rmon-collectd agents write (and,\n"
		    "with --listen, remote agents' streams) into a write-ahead log and an LMDB\n"
		    "store in DIR (default $" PATHS_DATA_ENV " or " PATHS_DATA_DIR
		    ").  The config file holds [store],\n"
		    "[ingest], [host NAME], [upstream], [exposition] and [remote_write NAME]\n"
		    "sections (docs/stored.md, docs/protocol.md, docs/prometheus.md).",
		.options = options,
	};
	int first, status, rc;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	reset = reset || drop_only;
	struct stored_settings set = { .reader = { .table = table, .base = &set } };
	struct err e = { 0 };
	char host[256] = "localhost";
	gethostname(host, sizeof host - 1);
	if (series_check_host(host, strlen(host), &e) != 0) {
		log_warn("stored", "%s: the store's own series go under host localhost", e.msg);
		snprintf(host, sizeof host, "localhost");
	}
	char *installed_config = NULL;
	if (!config_file) /* an installed build reads /etc/rmon/stored.conf */
		config_file = installed_config = paths_config("stored.conf");
	rc = load_settings(&set, data, config_file, host, &e);
	free(installed_config);
	if (rc != 0) {
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
	if (reset) {
		char name[64];
		ring_name_for_dir(data, name, sizeof name);
		ring_unlink(name, NULL);
		if (drop_only)
			return 0;
	}
	struct daemon dm = { 0 };
	rc = open_daemon(&set, data, &dm, &e);
	if (rc == 0) {
		dm.served = true;
		rc = serve(dm.loop, &set.store, dm.d, dm.in, &dm.fwd, dm.expose != NULL, &e);
	}
	if (rc != 0)
		log_error("stored", "%s", e.msg);
	rc = close_daemon(&dm, rc, &e);
	free_settings(&set);
	return rc ? 1 : 0;
}
