/* notify_json.c - a notice as a JSON document; see notify_json.h. */
#include "alertd/notify_json.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alertd/notify_mail.h"
#include "alertd/textbuf.h"
#include "lib/escape.h"
#include "lib/rtime.h"

const char *notify_kind_name(enum notice_kind kind)
{
	switch (kind) {
	case NOTICE_FIRING:
		return "firing";
	case NOTICE_RESOLVED:
		return "resolved";
	case NOTICE_REPEAT:
		return "repeat";
	case NOTICE_ESCALATION:
		return "escalation";
	case NOTICE_DIGEST:
		return "digest";
	}
	return "?";
}

const char *notify_rfc3339(long long ns, char *buf, size_t cap)
{
	time_t t = (time_t)(ns / RTIME_NS_PER_SEC);
	struct tm tm;
	char day[32];
	if (!ns || !gmtime_r(&t, &tm)) {
		snprintf(buf, cap, "%s", "");
		return buf;
	}
	strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, cap, "%s.%03lldZ", day, (ns % RTIME_NS_PER_SEC) / RTIME_NS_PER_MS);
	return buf;
}

/* "key":"escaped" or "key":null */
static void string(struct textbuf *b, const char *key, const char *value, bool comma)
{
	textbuf_printf(b, "%s\"%s\":", comma ? "," : "", key);
	if (!value) {
		textbuf_puts(b, "null");
		return;
	}
	size_t len = strlen(value), need = escape(ESCAPE_JSON, NULL, 0, value, len);
	char small[512];
	if (need < sizeof small) {
		escape(ESCAPE_JSON, small, sizeof small, value, len);
		textbuf_put(b, small, need);
		return;
	}
	char *big = malloc(need + 1);
	if (!big) {
		b->failed = true;
		return;
	}
	escape(ESCAPE_JSON, big, need + 1, value, len);
	textbuf_put(b, big, need);
	free(big);
}

static void number(struct textbuf *b, const char *key, double v)
{
	if (isnan(v) || isinf(v))
		textbuf_printf(b, ",\"%s\":null", key);
	else
		textbuf_printf(b, ",\"%s\":%.17g", key, v);
}

char *notify_json(const struct notice *nt, size_t *len)
{
	struct textbuf b = { 0 };
	char subject[1024], when[40];
	notify_mail_subject(nt, subject, sizeof subject);
	textbuf_printf(&b, "{\"version\":1,\"notice_id\":%llu", (unsigned long long)nt->id);
	string(&b, "kind", notify_kind_name(nt->kind), true);
	string(&b, "receiver", nt->receiver ? nt->receiver->name : NULL, true);
	string(&b, "message_id", nt->message_id, true);
	string(&b, "thread_id", nt->thread_id, true);
	string(&b, "subject", subject, true);
	textbuf_printf(&b, ",\"held\":%zu", nt->n_held);
	string(&b, "created", notify_rfc3339(nt->created, when, sizeof when), true);
	textbuf_puts(&b, ",\"alerts\":[");
	for (size_t i = 0; i < nt->n_alerts; i++) {
		const struct notice_alert *a = &nt->alerts[i];
		textbuf_printf(&b, "%s{\"id\":%llu", i ? "," : "", (unsigned long long)a->alert_id);
		string(&b, "state", a->state == ALERT_RESOLVED ? "resolved" : "firing", true);
		string(&b, "rule", a->rule, true);
		string(&b, "severity", a->severity, true);
		string(&b, "host", a->host, true);
		string(&b, "labels", a->labels, true);
		string(&b, "summary", a->summary, true);
		string(&b, "description", a->description, true);
		string(&b, "detail", a->detail, true);
		string(&b, "series", a->series, true);
		string(&b, "unit", a->unit, true);
		number(&b, "value", a->value);
		number(&b, "threshold", a->threshold);
		string(&b, "since", notify_rfc3339(a->since, when, sizeof when), true);
		string(&b, "at", notify_rfc3339(a->at, when, sizeof when), true);
		string(&b, "link", a->link, true);
		textbuf_puts(&b, "}");
	}
	textbuf_puts(&b, "]}\n");
	return textbuf_take(&b, len);
}
