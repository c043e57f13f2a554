/* rmon-reportgen.c - the report generator: writes the static site of
 * reportgen/report.h into --out, once (--once) or as a daemon that
 * refreshes every --interval and at once when alertd's store changes (an
 * alert fired, resolved, was acknowledged or silenced). */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "lib/cmdline.h"
#include "lib/evloop.h"
#include "lib/log.h"
#include "lib/paths.h"
#include "lib/sdnotify.h"
#include "lib/rtime.h"
#include "reportgen/report.h"

#define ALERT_POLL_NS (250 * RTIME_NS_PER_MS) /* how often alertd's generation is read */
#define BATCH_NICE    10		      /* --nice's default */

struct daemon {
	struct report_options o;
	struct report *r;
	int64_t interval, next_pass;
	bool once, ready;
	int status;
	struct evloop *loop;
};

static void on_stop(struct evloop *loop, int signo, void *ctx)
{
	(void)signo;
	(void)ctx;
	sdnotify_stopping(NULL);
	evloop_stop(loop);
}

static int run_pass(struct daemon *d)
{
	struct err e = { 0 };
	struct report_stats st;
	int rc = report_pass(d->r, rtime_now_ns(), &st, &e);
	if (rc != 0) {
		log_error("reportgen", "%s", e.msg);
		return rc;
	}
	log_info("reportgen",
		 "%zu hosts: %zu pages written, %zu unchanged; %zu graphs drawn, %zu current; "
		 "%.3f s",
		 st.hosts, st.pages_written, st.pages_same, st.graphs_drawn, st.graphs_skipped,
		 (double)st.elapsed_ns / 1e9);
	return 0;
}

/* The report is a batch job: a site a few seconds late harms no one, an
 * ack of rmon-stored's later than 100 ms does, and on the central host
 * they share the cores.  So the generator runs at nice level (at least)
 * level and under SCHED_BATCH, which also gives up wake-up preemption.
 * Called before any thread or gnuplot starts: Linux keeps both per
 * thread, and children inherit them.  A lower priority set already (a
 * higher level from nice(1) or systemd's Nice=) is kept; level 0 leaves
 * the scheduling as it was. */
static void yield_to_store(int level)
{
	if (level <= 0)
		return;
	errno = 0;
	int now = getpriority(PRIO_PROCESS, 0);
	if ((now != -1 || errno == 0) && now < level && setpriority(PRIO_PROCESS, 0, level) != 0)
		log_warn("reportgen", "cannot lower the priority to nice %d: %s", level,
			 strerror(errno));
	struct sched_param p = { .sched_priority = 0 };
	if (sched_getscheduler(0) == SCHED_OTHER && sched_setscheduler(0, SCHED_BATCH, &p) != 0)
		log_warn("reportgen", "cannot run under SCHED_BATCH: %s", strerror(errno));
}

/* Opens the report; in the daemon, a store that does not exist yet is
 * waited for (rmon-stored may be starting beside it). */
static int64_t on_tick(struct evloop *loop, void *ctx)
{
	struct daemon *d = ctx;
	struct err e = { 0 };
	if (!d->r) {
		int rc = report_open(&d->o, &d->r, &e);
		if (rc == -ENOENT && strstr(e.msg, "rmon-stored"))
			return RTIME_NS_PER_SEC;
		if (rc != 0) {
			log_error("reportgen", "%s", e.msg);
			d->status = rc == -EINVAL ? 2 : 1;
			evloop_stop(loop);
			return EVLOOP_TIMER_DONE;
		}
		log_info("reportgen", "writing the site of %s into %s", d->o.data_dir,
			 d->o.out_dir);
	}
	int64_t now = rtime_mono_ns();
	if (now >= d->next_pass) {
		d->next_pass = now + d->interval;
		if (run_pass(d) == 0 && !d->ready) { /* the site is there: ready */
			sdnotify_ready(NULL, NULL);
			d->ready = true;
		}
	} else if (report_alerts_changed(d->r)) {
		struct report_stats st;
		if (report_pass_alerts(d->r, rtime_now_ns(), &st, &e) != 0)
			log_error("reportgen", "%s", e.msg);
		else
			log_info("reportgen", "alerts changed: %zu pages written, %.3f s",
				 st.pages_written, (double)st.elapsed_ns / 1e9);
	}
	return ALERT_POLL_NS;
}

/* Writes the site once, or runs the daemon until SIGTERM. */
static int serve(struct daemon *d)
{
	struct err e = { 0 };
	if (d->o.config_path && access(d->o.config_path, R_OK) != 0) {
		log_error("reportgen", "--config %s: %s", d->o.config_path, strerror(errno));
		return 2; /* a configuration that cannot be read is a bad configuration */
	}
	if (d->once) {
		if (report_open(&d->o, &d->r, &e) != 0) {
			log_error("reportgen", "%s", e.msg);
			return e.code == -EINVAL ? 2 : 1;
		}
		int status = run_pass(d) == 0 ? 0 : 1;
		report_close(d->r);
		return status;
	}
	if (evloop_new(&d->loop, &e) != 0 || evloop_add_signal(d->loop, SIGINT, on_stop, d, &e) ||
	    evloop_add_signal(d->loop, SIGTERM, on_stop, d, &e) ||
	    evloop_add_timer(d->loop, 0, on_tick, d, NULL, &e) != 0) {
		log_error("reportgen", "%s", e.msg);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN); /* a gnuplot that died is an error of its graph */
	if (evloop_run(d->loop, &e) != 0) {
		log_error("reportgen", "%s", e.msg);
		d->status = 1;
	}
	evloop_free(d->loop);
	report_close(d->r);
	return d->status;
}

int main(int argc, char **argv)
{
	struct daemon d = { .o = { .data_dir = paths_data(), .out_dir = "var/www" },
			    .interval = 60 * RTIME_NS_PER_SEC };
	bool png = false;
	int64_t nice_level = BATCH_NICE;
	const struct cmdline_option options[] = {
		CMDLINE_DATA(&d.o.data_dir),
		{ "out", 'o', CMDLINE_STRING, &d.o.out_dir, "DIR",
		  "write the site into DIR (default var/www)", 0, 0 },
		{ "config", 'c', CMDLINE_STRING, &d.o.config_path, "FILE",
		  "alertd's configuration, for the rules, receivers and mute windows shown\n"
		  "(default: the built-in one)",
		  0, 0 },
		{ "once", '1', CMDLINE_FLAG, &d.once, NULL, "write the site once and exit", 0, 0 },
		{ "interval", 'i', CMDLINE_DURATION, &d.interval, "D",
		  "refresh every D (default 60s); an alert's change refreshes at once",
		  RTIME_NS_PER_SEC, INT64_C(86400) * RTIME_NS_PER_SEC },
		{ "png", 0, CMDLINE_FLAG, &png, NULL, "draw PNG graphs instead of SVG", 0, 0 },
		{ "nice", 0, CMDLINE_INT, &nice_level, "N",
		  "run at nice level N (at least) under SCHED_BATCH, yielding the cores to\n"
		  "rmon-stored (default 10; 0: as started)",
		  0, 19 },
		{ 0 },
	};
	const struct cmdline cl = {
		.program = "rmon-reportgen",
		.about = "Writes static HTML pages with graphs of the metrics store of DIR and of\n"
			 "rmon-alertd's alerts, for any web server or file:// (docs/reports.md).",
		.options = options,
	};
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	d.o.format = png ? PLOT_PNG : PLOT_SVG;
	yield_to_store((int)nice_level);
	char *installed_config = NULL;
	if (!d.o.config_path) /* an installed build reads /etc/rmon/alertd.conf */
		d.o.config_path = installed_config = paths_config("alertd.conf");
	status = serve(&d);
	free(installed_config);
	return status;
}
