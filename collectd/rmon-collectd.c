/* rmon-collectd.c - the agent: collects every metric family on a fixed
 * tick and pushes it into the store's shared-memory ring (or prints it). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collectd/coll.h"
#include "collectd/expose.h"
#include "collectd/output.h"
#include "lib/cmdline.h"
#include "lib/evloop.h"
#include "lib/log.h"
#include "lib/paths.h"
#include "lib/rtime.h"
#include "lib/sdnotify.h"

#define COLLECTD_VERSION "0.1.0"

struct agent {
	struct evloop *loop; /* signals, and the shipper's connection */
	bool reload;	     /* SIGHUP came */
	struct coll_config config;
	const char *config_file, *root;
	struct coll_state *state;
	struct coll_output *output;
	struct shipper *shipper;    /* NULL: the local ring */
	struct coll_expose *expose; /* NULL: no /metrics */
	uint64_t errors[COLL_MAX_FAMILIES];
	char last_error[COLL_MAX_FAMILIES][sizeof(struct err){ 0 }.msg];
};

static int load_config(struct agent *a, int64_t interval_override, struct err *e)
{
	struct coll_config c;
	coll_config_default(&c);
	if (a->config_file && coll_config_load(&c, a->config_file, e) != 0) {
		coll_config_release(&c);
		return -EINVAL;
	}
	if (interval_override)
		c.interval_ns = interval_override;
	coll_config_release(&a->config);
	a->config = c;
	return 0;
}

/* Runs each family due at tick ts; a failing family is logged when its
 * reason changes and counted, and never stops the others. */
static void collect(struct agent *a, int64_t ts, bool all)
{
	bool stored = coll_output_attached(a->output);
	struct coll_sink *sink = stored ? coll_output_sink(a->output) : NULL;
	int64_t start = rtime_mono_ns();
	if (stored)
		coll_output_begin(a->output, ts);
	if (a->expose) /* /metrics sees every value on its way */
		sink = coll_expose_begin(a->expose, sink);
	for (size_t i = 0; i < coll_n_families; i++) {
		int64_t every = a->config.family_interval_ns[i];
		if (!a->config.enabled[i] || (!all && every && ts % every != 0))
			continue;
		struct err e = { 0 };
		if (coll_families[i].collect(a->state, sink, &e) == 0)
			continue;
		a->errors[i]++;
		if (strcmp(a->last_error[i], e.msg) != 0) {
			log_warn("collectd", "collector %s: %s", coll_families[i].name, e.msg);
			snprintf(a->last_error[i], sizeof a->last_error[i], "%s", e.msg);
		}
	}
	for (size_t i = 0; i < coll_n_families; i++)
		coll_emit1(sink, "rmon_collector_errors_total", "collector", coll_families[i].name,
			   (double)a->errors[i]);
	struct coll_output_stats st;
	coll_output_stats(a->output, &st);
	coll_emit(sink, "rmon_collector_dropped_total", (double)st.dropped);
	coll_emit(sink, "rmon_collector_bad_names_total", (double)st.bad_names);
	if (a->shipper) { /* the spool says how far behind shipping is */
		struct shipper_stats ss;
		shipper_get_stats(a->shipper, &ss);
		coll_emit(sink, "rmon_spool_bytes", (double)ss.spool.bytes);
		coll_emit(sink, "rmon_spool_pending_batches", (double)ss.spool.pending_batches);
		coll_emit(sink, "rmon_spool_dropped_samples_total",
			  (double)ss.spool.dropped_samples);
		coll_emit(sink, "rmon_ship_connected", ss.connected ? 1 : 0);
	}
	coll_emit(sink, "rmon_collect_duration_seconds", (double)(rtime_mono_ns() - start) / 1e9);
	if (a->expose)
		coll_expose_end(a->expose);
	if (stored)
		coll_output_end(a->output);
}

static void on_stop(struct evloop *loop, int signo, void *ctx)
{
	evloop_stop(loop);
}

static void on_hup(struct evloop *loop, int signo, void *ctx)
{
	((struct agent *)ctx)->reload = true;
}

/* Runs the loop until the wall-clock time: signals, and when shipping the
 * connection (sending, reading acks, reconnecting). */
static void wait_until(struct agent *a, int64_t wall_ns)
{
	struct err e = { 0 };
	for (int64_t left; !evloop_stopped(a->loop) && (left = wall_ns - rtime_now_ns()) > 0;) {
		if (evloop_run_once(a->loop, left, &e) < 0) {
			log_warn("collectd", "%s", e.msg);
			break;
		}
	}
}

static void ship_notice(enum log_level level, const char *message)
{
	log_msg(level, "collectd", "%s", message);
}

/* An agent started with another default data folder than its store's (a
 * build tree's "var" is relative to the current folder) would wait on
 * another ring without a word: it names the absolute folder, the ring, and
 * how to point it elsewhere when no store is there yet. */
static void say_default_data(const char *data, const char *ring_name)
{
	char where[4096], db[4200];
	struct stat st;
	paths_absolute(data, where, sizeof where);
	snprintf(db, sizeof db, "%s/db", where);
	if (stat(db, &st) != 0)
		log_warn("collectd",
			 "no --data given and no store in %s (the default folder%s): waiting for "
			 "the ring %s of an rmon-stored --data %s; point the agent at another "
			 "store's folder with --data DIR or " PATHS_DATA_ENV "=DIR",
			 where,
			 data == getenv(PATHS_DATA_ENV) ? ", from " PATHS_DATA_ENV
			 : data[0] == '/'		? ""
							: ", relative to the current one",
			 ring_name, where);
}

static void say_ready(struct agent *a, const char *data)
{
	char status[1024];
	struct err e = { 0 };
	snprintf(status, sizeof status, "collecting every %.3gs as host %s into %.480s",
		 (double)a->config.interval_ns / 1e9, a->config.host,
		 a->shipper ? a->config.server : data);
	if (sdnotify_ready(status, &e) != 0)
		log_warn("collectd", "%s", e.msg);
}

/* --server or [server]: the shipper, its spool under the data folder. */
static struct shipper *open_shipper(struct agent *a, const char *data, struct err *e)
{
	static char spool[4096];
	struct shipper_config c;
	struct shipper *sh;
	if (a->config.spool_dir[0])
		snprintf(spool, sizeof spool, "%s", a->config.spool_dir);
	else
		snprintf(spool, sizeof spool, "%s/spool", data);
	if (mkdir(data, 0700) != 0 && errno != EEXIST) {
		err_sys(e, -errno, "cannot create the data folder %s", data);
		return NULL;
	}
	shipper_config_default(&c, a->config.server, spool);
	c.host = a->config.host;
	c.agent = "rmon-collectd " COLLECTD_VERSION;
	c.secret = a->config.secret[0] ? a->config.secret : NULL;
	c.tls = a->config.tls;
	c.tls_ca = a->config.tls_ca[0] ? a->config.tls_ca : NULL;
	c.spool.max_bytes = a->config.spool_bytes;
	c.notice = ship_notice;
	c.loop = a->loop;
	return shipper_open(&c, &sh, e) == 0 ? sh : NULL;
}

/* The agent keeps the files it reads every collection open (thousands with
 * many cgroups and processes); the soft limit is often 1024, the hard one
 * far higher, and nothing here uses select(). */
static void raise_open_files(void)
{
	struct rlimit r;
	if (getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur >= 16384)
		return;
	r.rlim_cur = r.rlim_max < 16384 ? r.rlim_max : 16384;
	setrlimit(RLIMIT_NOFILE, &r);
}

int main(int argc, char **argv)
{
	struct agent a = { 0 };
	const char *data = paths_data();
	bool once = false, print = false;
	const char *server = NULL;
	struct shipper *shipper = NULL;
	int64_t interval = 0;
	struct err e = { 0 };
	const struct cmdline_option options[] = {
		CMDLINE_CONFIG(&a.config_file),
		CMDLINE_DATA(&data),
		{ .name = "interval",
		  .letter = 'i',
		  .kind = CMDLINE_DURATION,
		  .field = &interval,
		  .arg = "D",
		  .help = "override the configured interval (at least 100ms)",
		  .min = 100 * RTIME_NS_PER_MS,
		  .max = INT64_MAX },
		{ .name = "once",
		  .letter = '1',
		  .kind = CMDLINE_FLAG,
		  .field = &once,
		  .help = "collect once and exit" },
		{ .name = "print",
		  .letter = 'p',
		  .kind = CMDLINE_FLAG,
		  .field = &print,
		  .help = "print 'series value' lines instead" },
		{ .name = "server",
		  .kind = CMDLINE_STRING,
		  .field = &server,
		  .arg = "ADDR",
		  .help = "ship to a central rmon-stored at host:port instead of the\n"
			  "local ring, spooling under DIR/spool (docs/protocol.md)" },
		{ .name = "root",
		  .letter = 'r',
		  .kind = CMDLINE_STRING,
		  .field = &a.root,
		  .arg = "DIR",
		  .help = "read /proc and /sys below DIR (for tests)" },
		{ 0 },
	};
	const struct cmdline cl = {
		.program = "rmon-collectd",
		.version = COLLECTD_VERSION,
		.about = "Collects CPU, memory, disks, network, processes, cgroups and more every\n"
			 "interval and pushes them into the store's ring for data folder DIR\n"
			 "(default $" PATHS_DATA_ENV " or " PATHS_DATA_DIR
			 "), or ships them to a central store.",
		.options = options,
		.epilog = "SIGHUP reloads the configuration; SIGTERM stops.",
	};
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	char *installed_config = NULL;
	if (!a.config_file) /* an installed build reads /etc/rmon/collectd.conf */
		a.config_file = installed_config = paths_config("collectd.conf");
	coll_config_default(&a.config);
	if (load_config(&a, interval, &e) != 0) {
		log_error("collectd", "%s", e.msg);
		return 2;
	}
	/* The machine's own name may break the rules too (a configured one is
	 * checked with the file): every series would be refused. */
	if (series_check_host(a.config.host, strlen(a.config.host), &e) != 0) {
		log_error("collectd", "%s; set host = NAME in the configuration", e.msg);
		return 2;
	}
	raise_open_files();
	if (evloop_new(&a.loop, &e) != 0 ||
	    evloop_add_signal(a.loop, SIGTERM, on_stop, &a, &e) != 0 ||
	    evloop_add_signal(a.loop, SIGINT, on_stop, &a, &e) != 0 ||
	    evloop_add_signal(a.loop, SIGHUP, on_hup, &a, &e) != 0) {
		log_error("collectd", "%s", e.msg);
		return 1;
	}
	a.state = coll_state_new(&a.config, a.root);
	a.output = coll_output_new(&a.config, print ? stdout : NULL);
	if (!a.state || !a.output) {
		log_error("collectd", "out of memory");
		return 1;
	}
	if (server)
		snprintf(a.config.server, sizeof a.config.server, "%s", server);
	if (a.config.server[0] && !print) {
		if (!(shipper = open_shipper(&a, data, &e))) {
			log_error("collectd", "%s", e.msg);
			return 1;
		}
		coll_output_ship(a.output, shipper);
		a.shipper = shipper;
	}
	if (a.config.expose_listen[0] && !print) {
		if (coll_expose_open(&a.config, a.loop, &a.expose, &e) != 0) {
			log_error("collectd", "[exposition] %s", e.msg);
			return 1;
		}
		log_info("collectd", "serving /metrics on %s", a.config.expose_listen);
	}
	char ring_name[64];
	ring_name_for_dir(data, ring_name, sizeof ring_name);
	if (paths_is_default_data(data) && !print && !shipper) /* no --data */
		say_default_data(data, ring_name);
	bool waiting_logged = false, ready = false;
	status = 0;
	/* Ticks sit on multiples of the interval, so timestamps are regular
	 * (they compress to a bit each) and hosts line up. */
	int64_t tick = rtime_now_ns() / a.config.interval_ns * a.config.interval_ns;
	if (!once)
		log_info("collectd", "collecting every %.3gs as host %s into %s",
			 (double)a.config.interval_ns / 1e9, a.config.host,
			 print	   ? "stdout"
			 : shipper ? a.config.server
				   : data);
	while (!evloop_stopped(a.loop)) {
		if (a.reload) {
			a.reload = false;
			sdnotify_reloading(NULL);
			if (load_config(&a, interval, &e) != 0) {
				log_error("collectd", "keeping the running configuration: %s",
					  e.msg);
			} else {
				coll_output_reconfigure(a.output);
				coll_state_reconfigure(a.state);
				log_info("collectd", "configuration reloaded");
			}
			ready = false; /* says READY=1 again: the reload is over */
		}
		if (!coll_output_attached(a.output)) {
			if (coll_output_attach(a.output, ring_name, &e) == 0) {
				log_info("collectd", "attached to the store's ring %s", ring_name);
			} else if (once) {
				log_error("collectd", "%s", e.msg);
				status = 1;
				break;
			} else if (!waiting_logged) {
				log_warn("collectd", "%s; retrying every interval", e.msg);
				waiting_logged = true;
			}
		}
		if (coll_output_attached(a.output) || a.expose)
			collect(&a, once ? rtime_now_ns() : tick, once);
		/* Ready once collecting into the ring (or the shipper's spool):
		 * a unit ordered after this one finds samples flowing. */
		if (!ready && !once && (coll_output_attached(a.output) || shipper)) {
			say_ready(&a, data);
			ready = true;
		}
		if (once)
			break;
		tick += a.config.interval_ns;
		int64_t now = rtime_now_ns();
		if (tick <= now) /* fell behind (suspend, overload): skip to the next tick */
			tick = now / a.config.interval_ns * a.config.interval_ns +
			       a.config.interval_ns;
		wait_until(&a, tick);
	}
	if (once && shipper) /* one collection: give it a few seconds to land */
		for (int64_t end = rtime_now_ns() + 5 * RTIME_NS_PER_SEC;
		     !evloop_stopped(a.loop) && rtime_now_ns() < end;) {
			struct shipper_stats st;
			shipper_get_stats(shipper, &st);
			if (st.spool.pending_batches == 0 || shipper_step(shipper, 50, &e) != 0)
				break;
		}
	coll_expose_close(a.expose);
	sdnotify_stopping(NULL);
	coll_output_free(a.output);
	shipper_close(shipper);
	evloop_free(a.loop);
	coll_state_free(a.state);
	coll_config_release(&a.config);
	free(installed_config);
	return status;
}
