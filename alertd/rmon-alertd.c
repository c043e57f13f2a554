/* rmon-alertd.c - the alert daemon: follows the metrics store, evaluates
 * the rules, records and routes alerts and delivers their messages
 * (alertd/daemon.h), on one event loop until SIGTERM or SIGINT; SIGHUP
 * reads the configuration again (a bad file keeps the old one). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "alertd/daemon.h"
#include "lib/cmdline.h"
#include "lib/evloop.h"
#include "lib/log.h"
#include "lib/paths.h"
#include "lib/sdnotify.h"

#define ALERTD_DEFAULT_DATA PATHS_DATA_DIR

struct main_ctx {
	struct alertd *d;
};

static void on_stop(struct evloop *loop, int signo, void *ctx)
{
	log_info("alertd", "stopping (signal %d)", signo);
	sdnotify_stopping(NULL);
	evloop_stop(loop);
}

static void on_hup(struct evloop *loop, int signo, void *ctx)
{
	struct main_ctx *m = ctx;
	struct err e = { 0 };
	sdnotify_reloading(NULL);
	if (alertd_reload(m->d, &e) != 0)
		log_error("alertd", "reload refused, the old configuration stays: %s", e.msg);
	else
		log_info("alertd", "configuration reloaded");
	sdnotify_ready(NULL, NULL);
}

int main(int argc, char **argv)
{
	struct alertd_options o = { .data_dir = paths_data() };
	const struct cmdline_option options[] = {
		CMDLINE_CONFIG(&o.config_path),
		CMDLINE_DATA(&o.data_dir),
		{ 0 },
	};
	const struct cmdline cl = {
		.program = "rmon-alertd",
		.about = "Evaluates the alert rules on every commit of the store in DIR "
			 "(default " ALERTD_DEFAULT_DATA
			 "), keeps the alerts in DIR/alertd and sends their messages.  Without "
			 "--config it runs the built-in default rules with a maildir receiver "
			 "(docs/alerting.md).",
		.options = options,
		.epilog = "SIGHUP reloads the configuration; SIGTERM stops.",
	};
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	char *installed_config = NULL;
	if (!o.config_path) /* an installed build reads /etc/rmon/alertd.conf */
		o.config_path = installed_config = paths_config("alertd.conf");
	struct evloop *loop;
	struct err e = { 0 };
	struct main_ctx m = { 0 };
	/* Signals first: the threads started later inherit their blocking. */
	if (evloop_new(&loop, &e) != 0 || evloop_add_signal(loop, SIGTERM, on_stop, &m, &e) != 0 ||
	    evloop_add_signal(loop, SIGINT, on_stop, &m, &e) != 0 ||
	    evloop_add_signal(loop, SIGHUP, on_hup, &m, &e) != 0) {
		fprintf(stderr, "rmon-alertd: %s\n", e.msg);
		free(installed_config);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	int rc = alertd_new(loop, &o, &m.d, &e);
	if (rc) {
		fprintf(stderr, "rmon-alertd: %s\n", e.msg);
		evloop_free(loop);
		free(installed_config);
		return rc == -EINVAL || rc == -ENOENT ? 2 : 1;
	}
	log_info("alertd", "running on %s", o.data_dir);
	if (sdnotify_ready("evaluating", &e) != 0)
		log_warn("alertd", "%s", e.msg);
	rc = evloop_run(loop, &e);
	if (rc)
		log_error("alertd", "%s", e.msg);
	alertd_free(m.d);
	evloop_free(loop);
	free(installed_config); /* the daemon pointed at it until now */
	return rc ? 1 : 0;
}
