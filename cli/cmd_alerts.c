/* cmd_alerts.c - `rmon alerts`: the alerts firing and pending, their
 * history, and acknowledging them, from alertd's own store
 * (alertd/alerts.h) with small transactions of its own; rmon-alertd sees
 * an acknowledgement at its next pass. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alertd/alerts.h"
#include "alertd/notelog.h"
#include "cli/cli.h"
#include "cli/table.h"
#include "lib/cmdline.h"
#include "lib/rtime.h"

struct alert_store *cli_open_alerts(const char *command, const char *data)
{
	struct alert_store *s;
	struct err e = { 0 };
	if (alert_store_open(data, 0, &s, &e) != 0) {
		fprintf(stderr, "rmon %s: %s\n", command, e.msg);
		return NULL;
	}
	return s;
}

const char *cli_who(void)
{
	static char who[64];
	const char *login = getlogin();
	struct passwd *pw;
	if (login && *login)
		snprintf(who, sizeof who, "%s", login);
	else if ((pw = getpwuid(getuid())))
		snprintf(who, sizeof who, "%s", pw->pw_name);
	else
		snprintf(who, sizeof who, "uid %u", (unsigned)getuid());
	return who;
}

/* "3m12s", "2h5m", "4d2h": two units at most, whole seconds. */
static const char *age(int64_t ns, char *buf, size_t cap)
{
	int64_t s = ns > 0 ? ns / RTIME_NS_PER_SEC : 0;
	if (s < 60)
		snprintf(buf, cap, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(buf, cap, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
	else if (s < 86400)
		snprintf(buf, cap, "%lldh%02lldm", (long long)(s / 3600),
			 (long long)(s % 3600 / 60));
	else
		snprintf(buf, cap, "%lldd%02lldh", (long long)(s / 86400),
			 (long long)(s % 86400 / 3600));
	return buf;
}

static const char *value_text(double v, char *buf, size_t cap)
{
	if (isnan(v))
		snprintf(buf, cap, "no data");
	else
		snprintf(buf, cap, "%.4g", v);
	return buf;
}

static void json_key(FILE *out, const char *key, const char *value, bool comma)
{
	fprintf(out, "\"%s\":", key);
	cli_json_string(out, value, strlen(value));
	if (comma)
		fputc(',', out);
}

static void json_number(FILE *out, const char *key, double v)
{
	char buf[64];
	if (isfinite(v)) {
		cli_format_value(v, buf, sizeof buf);
		fprintf(out, "\"%s\":%s,", key, buf);
	} else {
		fprintf(out, "\"%s\":null,", key);
	}
}

struct listing {
	struct table *t;
	FILE *json;
	size_t n;
	int64_t now;
};

static int list_one(void *ctx, const struct alert *a)
{
	struct listing *l = ctx;
	if (l->json) {
		fputs(l->n ? ",\n{" : "{", l->json);
		fprintf(l->json, "\"id\":%" PRIu64 ",", a->id);
		json_key(l->json, "state", alert_state_name(a->state), true);
		json_key(l->json, "rule", a->rule, true);
		json_key(l->json, "host", a->host, true);
		json_key(l->json, "labels", a->labels, true);
		json_key(l->json, "severity", a->severity, true);
		json_key(l->json, "series", a->series, true);
		json_number(l->json, "value", a->value);
		json_number(l->json, "threshold", a->threshold);
		fprintf(l->json,
			"\"started\":%" PRId64 ",\"fired\":%" PRId64 ",\"resolved\":%" PRId64 ",",
			a->started, a->fired, a->resolved);
		json_key(l->json, "summary", a->summary, true);
		json_key(l->json, "detail", a->detail, true);
		fprintf(l->json, "\"acked_at\":%" PRId64 ",", a->acked_at);
		json_key(l->json, "acked_by", a->acked_by, true);
		json_key(l->json, "ack_comment", a->ack_comment, true);
		fprintf(l->json, "\"silenced_by\":%" PRIu64 ",\"inhibited\":%s}", a->silenced_by,
			a->inhibited ? "true" : "false");
		l->n++;
		return 0;
	}
	char buf[64], marks[ALERT_USER_MAX + 64] = "";
	if (a->acked_at)
		snprintf(marks, sizeof marks, "acked by %s", a->acked_by);
	if (a->silenced_by)
		snprintf(marks + strlen(marks), sizeof marks - strlen(marks),
			 "%ssilenced #%" PRIu64, marks[0] ? ", " : "", a->silenced_by);
	if (a->inhibited)
		snprintf(marks + strlen(marks), sizeof marks - strlen(marks), "%sinhibited",
			 marks[0] ? ", " : "");
	table_cell(l->t, "%" PRIu64, a->id);
	table_cell(l->t, "%s", alert_state_name(a->state));
	table_cell(l->t, "%s", a->severity);
	int64_t since = a->state == ALERT_FIRING && a->fired ? a->fired : a->started;
	table_cell(l->t, "%s", age((a->resolved ? a->resolved : l->now) - since, buf, sizeof buf));
	table_cell(l->t, "%s", value_text(a->value, buf, sizeof buf));
	table_cell(l->t, "%s", marks[0] ? marks : "-");
	table_cell(l->t, "%s %s%s", a->rule, a->host, a->labels);
	table_cell(l->t, "%s", a->summary);
	l->n++;
	return 0;
}

static int parse_format(const char *format, bool *json)
{
	if (strcmp(format, "json") == 0)
		*json = true;
	else if (strcmp(format, "text") != 0)
		return -1;
	return 0;
}

static int alerts_list(int argc, char **argv)
{
	const char *data = CLI_DEFAULT_DATA, *format = "text";
	bool all = false, json = false;
	const struct cmdline_option options[] = {
		CMDLINE_DATA(&data),
		{ "format", 'f', CMDLINE_STRING, &format, "FORMAT", "text (default) or json", 0,
		  0 },
		{ "all", 'a', CMDLINE_FLAG, &all, NULL,
		  "also the alerts resolved within [alertd] resolved_keep", 0, 0 },
		{ 0 },
	};
	const struct cmdline cl = {
		.program = "rmon alerts",
		.version = CLI_VERSION,
		.synopsis = "[history | log | ack ID | unack ID] [OPTIONS]",
		.about = "Lists the alerts firing and pending in DIR (default " CLI_DEFAULT_DATA
			 "), newest first, with their age, value and marks (acknowledged, "
			 "silenced, inhibited).  'rmon alerts history', 'rmon alerts log', 'rmon "
			 "alerts ack ID "
			 "[--comment TEXT]' and 'rmon alerts unack ID' take their own --help.",
		.options = options,
	};
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	if (parse_format(format, &json)) {
		fprintf(stderr, "rmon alerts: --format '%s': must be text or json\n", format);
		return 2;
	}
	struct alert_store *s = cli_open_alerts("alerts", data);
	if (!s)
		return 1;
	static const char *const headings[] = { "ID",	 "STATE", "SEVERITY", "AGE",
						"VALUE", "MARKS", "ALERT",    "SUMMARY" };
	struct listing l = { .now = rtime_now_ns() };
	if (json)
		l.json = stdout;
	else
		l.t = table_new(headings, 8);
	if (json)
		fputs("[", stdout);
	struct err e = { 0 };
	int rc = alert_store_alerts(s, !all, list_one, &l, &e);
	if (json)
		fputs("]\n", stdout);
	else if (l.n)
		table_print(l.t, stdout);
	else {
		table_free(l.t);
		printf("no alerts %s\n", all ? "active or recently resolved" : "firing or pending");
	}
	alert_store_close(s);
	if (rc) {
		fprintf(stderr, "rmon alerts: %s\n", e.msg);
		return 1;
	}
	return 0;
}

static int history_one(void *ctx, const struct alert_event *ev)
{
	struct listing *l = ctx;
	char when[40], buf[64];
	cli_format_time(ev->at, when, sizeof when);
	if (l->json) {
		fputs(l->n ? ",\n{" : "{", l->json);
		fprintf(l->json, "\"alert\":%" PRIu64 ",\"at\":%" PRId64 ",", ev->alert_id, ev->at);
		json_key(l->json, "from", alert_state_name(ev->from), true);
		json_key(l->json, "to", alert_state_name(ev->to), true);
		json_number(l->json, "value", ev->value);
		json_key(l->json, "rule", ev->rule, true);
		json_key(l->json, "host", ev->host, true);
		json_key(l->json, "labels", ev->labels, false);
		fputc('}', l->json);
	} else {
		table_cell(l->t, "%s", when);
		table_cell(l->t, "%" PRIu64, ev->alert_id);
		table_cell(l->t, "%s -> %s", alert_state_name(ev->from), alert_state_name(ev->to));
		table_cell(l->t, "%s", value_text(ev->value, buf, sizeof buf));
		table_cell(l->t, "%s %s%s", ev->rule, ev->host, ev->labels);
	}
	l->n++;
	return 0;
}

static int alerts_history(int argc, char **argv)
{
	const char *data = CLI_DEFAULT_DATA, *format = "text", *from = "-24h", *to = "now";
	int64_t limit = 100;
	bool json = false;
	const struct cmdline_option options[] = {
		CMDLINE_DATA(&data),
		{ "from", 0, CMDLINE_STRING, &from, "TIME", "the oldest move shown (default -24h)",
		  0, 0 },
		{ "to", 0, CMDLINE_STRING, &to, "TIME", "the end of the range (default now)", 0,
		  0 },
		{ "limit", 'n', CMDLINE_INT, &limit, "N",
		  "at most N moves, newest first (default 100)", 1, 1000000 },
		{ "format", 'f', CMDLINE_STRING, &format, "FORMAT", "text (default) or json", 0,
		  0 },
		{ 0 },
	};
	const struct cmdline cl = {
		.program = "rmon alerts history",
		.version = CLI_VERSION,
		.about = "Lists the moves of alerts (pending, firing, resolved) between --from and "
			 "--to, newest first.",
		.options = options,
		.min_operands = 1,
		.max_operands = 1,
	};
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	struct err e = { 0 };
	int64_t now = rtime_now_ns(), t0, t1;
	if (rtime_parse_time(from, now, &t0, &e) || rtime_parse_time(to, now, &t1, &e) ||
	    parse_format(format, &json)) {
		fprintf(stderr, "rmon alerts history: %s\n",
			e.msg[0] ? e.msg : "--format must be text or json");
		return 2;
	}
	struct alert_store *s = cli_open_alerts("alerts history", data);
	if (!s)
		return 1;
	static const char *const headings[] = { "TIME", "ID", "MOVE", "VALUE", "ALERT" };
	struct listing l = { .now = now };
	if (json) {
		l.json = stdout;
		fputs("[", stdout);
	} else {
		l.t = table_new(headings, 5);
	}
	int rc = alert_store_history(s, t0, t1 == now ? INT64_MAX : t1, (size_t)limit, history_one,
				     &l, &e);
	if (json)
		fputs("]\n", stdout);
	else if (l.n)
		table_print(l.t, stdout);
	else {
		table_free(l.t);
		printf("no alert moved between %s and %s\n", from, to);
	}
	alert_store_close(s);
	if (rc) {
		fprintf(stderr, "rmon alerts history: %s\n", e.msg);
		return 1;
	}
	return 0;
}

static int parse_id(const char *command, const char *text, uint64_t *id)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno || end == text || *end || v == 0 || text[0] == '-') {
		fprintf(stderr,
			"rmon %s: '%s' is not an alert id (a number that 'rmon alerts' shows)\n",
			command, text);
		return -1;
	}
	*id = v;
	return 0;
}

static int alerts_ack(int argc, char **argv, bool ack)
{
	const char *data = CLI_DEFAULT_DATA, *comment = "";
	const char *command = ack ? "alerts ack" : "alerts unack";
	const struct cmdline_option ack_options[] = {
		CMDLINE_DATA(&data),
		{ "comment", 'm', CMDLINE_STRING, &comment, "TEXT", "why, for the others", 0, 0 },
		{ 0 },
	};
	const struct cmdline_option unack_options[] = { CMDLINE_DATA(&data), { 0 } };
	const struct cmdline cl = {
		.program = ack ? "rmon alerts ack" : "rmon alerts unack",
		.version = CLI_VERSION,
		.synopsis = "ID [OPTIONS]",
		.about = ack ? "Acknowledges alert ID until it resolves: no more repeats, no "
			       "escalation.  Recorded with your login name."
			     : "Takes back the acknowledgement of alert ID: repeats and escalation "
			       "resume.",
		.options = ack ? ack_options : unack_options,
		.min_operands = 2,
		.max_operands = 2,
	};
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	uint64_t id;
	if (parse_id(command, argv[first + 1], &id))
		return 2;
	struct alert_store *s = cli_open_alerts(command, data);
	if (!s)
		return 1;
	struct err e = { 0 };
	int64_t now = rtime_now_ns();
	int rc = ack ? alert_store_ack(s, id, cli_who(), comment, now, &e)
		     : alert_store_unack(s, id, cli_who(), now, &e);
	alert_store_close(s);
	if (rc) {
		fprintf(stderr, "rmon %s: %s\n", command, e.msg);
		return 1;
	}
	printf("alert %" PRIu64 " %s by %s\n", id, ack ? "acknowledged" : "no longer acknowledged",
	       cli_who());
	return 0;
}

static int log_one(void *ctx, const struct notelog_entry *ent)
{
	struct listing *l = ctx;
	char when[40], ids[64] = "";
	cli_format_time(ent->created, when, sizeof when);
	const char *state = !ent->delivered ? "owed" : ent->result ? "given up" : "delivered";
	if (l->json) {
		fputs(l->n ? ",\n{" : "{", l->json);
		fprintf(l->json, "\"id\":%" PRIu64 ",\"created\":%" PRId64 ",", ent->id,
			ent->created);
		json_key(l->json, "kind", notelog_kind_name(ent->kind), true);
		json_key(l->json, "receiver", ent->receiver, true);
		json_key(l->json, "state", state, true);
		json_key(l->json, "message_id", ent->message_id, true);
		json_key(l->json, "thread_id", ent->thread_id, true);
		fprintf(l->json, "\"delivered\":%" PRId64 ",\"alerts\":[", ent->delivered);
		for (size_t i = 0; i < ent->n_items; i++)
			fprintf(l->json, "%s%" PRIu64, i ? "," : "", ent->items[i].alert_id);
		fputs("]}", l->json);
	} else {
		for (size_t i = 0; i < ent->n_items && strlen(ids) + 24 < sizeof ids; i++)
			snprintf(ids + strlen(ids), sizeof ids - strlen(ids), "%s%" PRIu64,
				 i ? "," : "", ent->items[i].alert_id);
		table_cell(l->t, "%" PRIu64, ent->id);
		table_cell(l->t, "%s", when);
		table_cell(l->t, "%s", notelog_kind_name(ent->kind));
		table_cell(l->t, "%s", ent->receiver);
		table_cell(l->t, "%s", state);
		table_cell(l->t, "%s", ids);
		table_cell(l->t, "%s", ent->message_id);
	}
	l->n++;
	return 0;
}

/* `rmon alerts log`: the notification log, newest first. */
static int alerts_log(int argc, char **argv)
{
	const char *data = CLI_DEFAULT_DATA, *format = "text";
	int64_t limit = 50;
	bool json = false;
	const struct cmdline_option options[] = {
		CMDLINE_DATA(&data),
		{ "limit", 'n', CMDLINE_INT, &limit, "N",
		  "the newest N messages (default 50; 0: all)", 0, INT64_MAX },
		{ "format", 'f', CMDLINE_STRING, &format, "FORMAT", "text (default) or json", 0,
		  0 },
		{ 0 },
	};
	const struct cmdline cl = {
		.program = "rmon alerts log",
		.version = CLI_VERSION,
		.about =
		    "Lists the messages rmon-alertd logged before sending them: to whom, about "
		    "which alerts, delivered, given up or still owed, with their Message-ID.",
		.options = options,
		.min_operands = 1,
		.max_operands = 1,
	};
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	if (parse_format(format, &json)) {
		fprintf(stderr, "rmon alerts log: --format '%s': must be text or json\n", format);
		return 2;
	}
	struct alert_store *s = cli_open_alerts("alerts log", data);
	if (!s)
		return 1;
	static const char *const headings[] = { "ID",	 "LOGGED", "KIND",	"RECEIVER",
						"STATE", "ALERTS", "MESSAGE-ID" };
	struct listing l = { .now = rtime_now_ns() };
	if (json) {
		l.json = stdout;
		fputs("[", stdout);
	} else {
		l.t = table_new(headings, 7);
	}
	struct err e = { 0 };
	int rc = notelog_list(s, (size_t)limit, log_one, &l, &e);
	if (json)
		fputs("]\n", stdout);
	else if (l.n)
		table_print(l.t, stdout);
	else {
		table_free(l.t);
		printf("no messages logged\n");
	}
	alert_store_close(s);
	if (rc) {
		fprintf(stderr, "rmon alerts log: %s\n", e.msg);
		return 1;
	}
	return 0;
}

int cmd_alerts(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "log") == 0)
		return alerts_log(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "history") == 0)
		return alerts_history(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "ack") == 0)
		return alerts_ack(argc, argv, true);
	if (argc >= 2 && strcmp(argv[1], "unack") == 0)
		return alerts_ack(argc, argv, false);
	return alerts_list(argc, argv);
}
