/* cmd_receivers.c - `rmon receivers`: the receivers alertd.conf defines,
 * described without their secrets, and `rmon receivers test NAME`, which
 * sends one test notice through the same notifier rmon-alertd uses, so a
 * person learns before the first incident whether the mail, SMS or push
 * arrives. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alertd/notify.h"
#include "alertd/rules.h"
#include "cli/cli.h"
#include "lib/cmdline.h"
#include "lib/escape.h"
#include "lib/evloop.h"
#include "lib/rtime.h"

struct outcome {
	bool done;
	int result;
	char detail[512];
};

static void on_done(void *ctx, uint64_t id, int result, const char *detail)
{
	struct outcome *o = ctx;
	(void)id;
	o->done = true;
	o->result = result;
	snprintf(o->detail, sizeof o->detail, "%s", detail ? detail : "");
}

static int list(const struct alert_config *cfg)
{
	char line[1024], name[256];
	if (!cfg->n_receivers) {
		printf("no receivers in %s\n", cfg->source);
		return 0;
	}
	printf("%-16s %-8s %s\n", "RECEIVER", "TYPE", "DELIVERS");
	for (size_t i = 0; i < cfg->n_receivers; i++) {
		const struct receiver *r = cfg->receivers[i];
		receiver_describe(r, line, sizeof line);
		escape(ESCAPE_TEXT, name, sizeof name, r->name, strlen(r->name));
		printf("%-16s %-8s ", name, receiver_type_name(r->type));
		escape_print(stdout, ESCAPE_TEXT, line, strlen(line));
		printf("\n");
	}
	return 0;
}

static int send_test(const struct alert_config *cfg, const char *name, const char *data,
		     int64_t retry_for, const char *series)
{
	const struct receiver *configured = alert_config_receiver(cfg, name);
	struct receiver *r = NULL;
	struct evloop *loop = NULL;
	struct notifier *n = NULL;
	struct outcome o = { 0 };
	struct err e = { 0 };
	char host[256] = "localhost", mid[400], link[1024], what[1024];
	int status = 1;
	if (!configured) {
		fprintf(stderr, "rmon receivers test: no receiver '%s' in %s\n", name, cfg->source);
		return 2;
	}
	/* A test retries for a short while, not for the receiver's give_up. */
	if (receiver_dup(configured, &r, &e) != 0)
		goto fail;
	r->give_up_ns = retry_for;
	gethostname(host, sizeof host - 1);
	int64_t now = rtime_now_ns();
	snprintf(mid, sizeof mid, "<test.%lld.%d@%s>", (long long)(now / RTIME_NS_PER_MS),
		 (int)getpid(), host);
	if (cfg->report_url)
		snprintf(link, sizeof link, "%s", cfg->report_url);
	struct notice_alert alert = {
		.alert_id = 0,
		.state = ALERT_FIRING,
		.rule = "receiver_test",
		.severity = "info",
		.host = host,
		.labels = "",
		.summary = "Test notice from rmon receivers test",
		.description = "This notice was sent by `rmon receivers test` to check that this "
			       "receiver works. Nothing is wrong.",
		.value = NAN,
		.threshold = NAN,
		.series = series,
		/* With a graph, the last ten minutes show shaded. */
		.since = series ? now - 600 * RTIME_NS_PER_SEC : now,
		.at = now,
		.link = cfg->report_url ? link : NULL,
	};
	struct notice notice = {
		.id = 1,
		.message_id = mid,
		.kind = NOTICE_FIRING,
		.receiver = r,
		.alerts = &alert,
		.n_alerts = 1,
		.created = now,
	};
	if (evloop_new(&loop, &e) != 0 || notifier_new(loop, data, on_done, &o, &n, &e) != 0 ||
	    notifier_send(n, &notice, &e) != 0)
		goto fail;
	int64_t start = rtime_mono_ns();
	while (!o.done)
		if (evloop_run_once(loop, -1, &e) < 0)
			goto fail;
	receiver_describe(r, what, sizeof what);
	if (o.result == 0) {
		char took[32];
		rtime_format_duration((rtime_mono_ns() - start) / RTIME_NS_PER_MS * RTIME_NS_PER_MS,
				      took, sizeof took);
		printf("delivered to %s (%s) in %s, Message-ID %s\n", r->name, what, took, mid);
		status = 0;
	} else {
		fprintf(stderr, "rmon receivers test: %s (%s): ", r->name, what);
		escape_print(stderr, ESCAPE_TEXT, o.detail, strlen(o.detail));
		fprintf(stderr, "\n");
	}
	goto out;
fail:
	fprintf(stderr, "rmon receivers test: %s\n", e.msg);
out:
	notifier_free(n);
	evloop_free(loop);
	receiver_free(r);
	return status;
}

int cmd_receivers(int argc, char **argv)
{
	const char *config = NULL, *data = CLI_DEFAULT_DATA, *series = NULL;
	int64_t retry_for = 30 * RTIME_NS_PER_SEC;
	const struct cmdline_option options[] = {
		CMDLINE_CONFIG(&config),
		CMDLINE_DATA(&data),
		{ "retry-for", 0, CMDLINE_DURATION, &retry_for, "DURATION",
		  "test: retry a failing delivery this long (default 30s)", RTIME_NS_PER_SEC,
		  INT64_MAX },
		{ "series", 0, CMDLINE_STRING, &series, "SERIES",
		  "test: a mail carries the graph of this series (its canonical name) over the "
		  "last hour",
		  0, 0 },
		{ 0 },
	};
	const struct cmdline cl = {
		.program = "rmon receivers",
		.version = CLI_VERSION,
		.synopsis = "[test NAME] [OPTIONS]",
		.about =
		    "Lists the receivers of alertd's configuration (FILE, or the built-in "
		    "one), never showing a password or token.  'test NAME' sends a test "
		    "notice to receiver NAME and says whether it was delivered; a maildir "
		    "receiver writes under the data folder DIR (default " CLI_DEFAULT_DATA ").",
		.options = options,
		.max_operands = 2,
	};
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	int operands = argc - first;
	if (operands == 1 || (operands == 2 && strcmp(argv[first], "test") != 0)) {
		fprintf(stderr, "rmon receivers: expected 'test NAME' or nothing\n");
		return 2;
	}
	struct alert_config *cfg;
	struct err e = { 0 };
	if (alert_config_read_file(config, &cfg, &e) != 0) {
		fprintf(stderr, "rmon receivers: %s\n", e.msg);
		return e.code == -ENOENT ? 1 : 2;
	}
	status =
	    operands == 0 ? list(cfg) : send_test(cfg, argv[first + 1], data, retry_for, series);
	alert_config_free(cfg);
	return status;
}
