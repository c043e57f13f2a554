/* daemon.c - rmon-alertd's passes, routing and deliveries on its event
 * loop; see daemon.h. */
#include "alertd/daemon.h"

#include <errno.h>
#include <libgen.h>
#include <sys/stat.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alertd/alerts.h"
#include "alertd/eval.h"
#include "alertd/follow.h"
#include "alertd/notelog.h"
#include "alertd/notify.h"
#include "alertd/route.h"
#include "alertd/rules.h"
#include "alertd/selfstat.h"
#include "lib/escape.h"
#include "lib/grow.h"
#include "lib/log.h"
#include "lib/rtime.h"
#include "store/query.h"

#define SEC	     RTIME_NS_PER_SEC
#define HOUSEKEEPING (1 * SEC)		    /* acks and silences from others seen this soon */
#define PRUNE_AFTER  (30 * 24 * 3600 * SEC) /* history and delivered messages kept */

/* The texts of one move, owned until the pass applied it. */
struct change_text {
	char key[ALERT_KEY_MAX], host[256], labels[ALERT_TEXT_MAX], severity[16];
	char rule[ALERT_NAME_MAX], series[ALERT_SERIES_MAX], summary[ALERT_TEXT_MAX];
	char detail[192];
};

/* A firing message in flight, for the breach-to-delivery figure. */
struct in_flight {
	uint64_t notice_id;
	int64_t fired;
};

struct alertd {
	struct evloop *loop;
	char data_dir[4096];
	const char *config_path;
	struct alert_config *cfg;
	/* Configurations replaced by a reload: receivers of messages in
	 * flight point into them, so they live as long as the daemon. */
	struct alert_config **old_cfgs;
	size_t n_old, old_cap;
	struct eval *eval;
	struct router *router;
	struct alert_store *store;
	struct notifier *notifier;
	struct follow *follow;
	struct query *q;
	struct selfstat *self;
	uint64_t seen_seq;
	bool listed; /* a first pass over every series was made */
	uint64_t timer;
	int64_t timer_due;
	uint64_t generation;  /* of alertd's store, as last looked at */
	int64_t dropin_stamp; /* of the web's rule drop-in, as last read */
	int64_t self_interval_ns, next_self, next_prune;
	char domain[256];

	struct alert_change *changes;
	struct change_text *texts;
	struct alert *applied;
	size_t n_changes, changes_cap, texts_cap, applied_cap;
	uint64_t *changed;
	size_t n_changed, changed_cap;
	struct in_flight *flight;
	size_t n_flight, flight_cap;

	/* figures */
	uint64_t passes, logged, delivered, given_up;
	double eval_seconds, latency_seconds;
};

static int pass(struct alertd *d, bool everything);

/* ---- messages ---- */

static const struct rule *rule_of(const struct alertd *d, const char *name)
{
	return alert_config_rule(d->cfg, name);
}

/* Hands message ent about alerts[0..n) to the notifier. */
static int send_entry(struct alertd *d, const struct notelog_entry *ent,
		      const struct alert *const *alerts, size_t n, const struct receiver *rx)
{
	struct notice_alert *na = calloc(n ? n : 1, sizeof *na);
	char(*descriptions)[ALERT_TEXT_MAX] = calloc(n ? n : 1, sizeof *descriptions);
	char(*links)[512] = calloc(n ? n : 1, sizeof *links);
	int rc = -ENOMEM;
	struct err e = { 0 };
	if (!na || !descriptions || !links)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct alert *a = alerts[i];
		const struct rule *rule = rule_of(d, a->rule);
		enum alert_state state = i < ent->n_items ? ent->items[i].state : a->state;
		na[i] = (struct notice_alert){
			.alert_id = a->id,
			.state = state == ALERT_FIRING ? ALERT_FIRING : ALERT_RESOLVED,
			.rule = a->rule,
			.severity = a->severity,
			.host = a->host,
			.labels = a->labels,
			.summary = a->summary,
			.detail = a->detail,
			.series = a->series[0] ? a->series : NULL,
			.unit = rule ? rule->unit : NULL,
			.value = a->value,
			.threshold = a->threshold,
			.since = a->fired ? a->fired : a->started,
			.at = state == ALERT_FIRING ? a->updated
			      : a->resolved	    ? a->resolved
						    : a->updated,
		};
		if (rule && rule->description) {
			struct rule_vars vars = { a->rule,     a->host,	  a->labels,
						  a->severity, a->value,  a->threshold,
						  a->started,  a->detail, rule->unit };
			rule_expand(rule->description, &vars, descriptions[i], ALERT_TEXT_MAX);
			na[i].description = descriptions[i];
		}
		if (d->cfg->report_url) {
			size_t len = strlen(d->cfg->report_url);
			bool slash = len && d->cfg->report_url[len - 1] == '/';
			snprintf(links[i], sizeof links[i], "%s%salerts/%" PRIu64 ".html",
				 d->cfg->report_url, slash ? "" : "/", a->id);
			na[i].link = links[i];
		}
	}
	struct notice notice = {
		.id = ent->id,
		.message_id = ent->message_id,
		.thread_id = ent->thread_id[0] ? ent->thread_id : NULL,
		.kind = ent->kind,
		.receiver = rx,
		.alerts = na,
		.n_alerts = n,
		.n_held = ent->n_held,
		.created = ent->created,
	};
	if ((rc = notifier_send(d->notifier, &notice, &e)))
		log_error("alertd", "message %" PRIu64 " to %s: %s (it stays owed)", ent->id,
			  rx->name, e.msg);
	if (rc == 0 && (ent->kind == NOTICE_FIRING || ent->kind == NOTICE_ESCALATION) && n &&
	    grow_array(&d->flight, &d->flight_cap, d->n_flight + 1, sizeof *d->flight))
		d->flight[d->n_flight++] = (struct in_flight){ ent->id, alerts[0]->fired };
out:
	free(na);
	free(descriptions);
	free(links);
	return rc;
}

/* Routing said: a message is due.  Logged first, then sent. */
static int on_notice(void *ctx, const struct route_notice *n)
{
	struct alertd *d = ctx;
	struct notelog_item *items = calloc(n->n_alerts ? n->n_alerts : 1, sizeof *items);
	if (!items)
		return -ENOMEM;
	for (size_t i = 0; i < n->n_alerts; i++)
		items[i] = (struct notelog_item){ n->alerts[i]->id, n->alerts[i]->state };
	struct notelog_entry ent;
	struct err e = { 0 };
	int rc = notelog_add(d->store, n->kind, n->receiver->name, items, n->n_alerts, n->n_held,
			     d->domain, rtime_now_ns(), &ent, &e);
	if (rc) {
		/* Not logged, so not sent: the next start-up finds it owed
		 * (routing tells again what the log does not have). */
		log_error("alertd", "cannot log a message to %s: %s", n->receiver->name, e.msg);
		free(items);
		return 0;
	}
	d->logged++;
	log_info("alertd", "%s message %" PRIu64 " to %s about %zu alert%s (%s)",
		 notelog_kind_name(n->kind), ent.id, n->receiver->name, n->n_alerts,
		 n->n_alerts == 1 ? "" : "s", ent.message_id);
	send_entry(d, &ent, n->alerts, n->n_alerts, n->receiver);
	free(items);
	return 0;
}

static void on_done(void *ctx, uint64_t notice_id, int result, const char *detail)
{
	struct alertd *d = ctx;
	int64_t now = rtime_now_ns();
	struct err e = { 0 };
	if (notelog_done(d->store, notice_id, result, now, &e))
		log_error("alertd", "message %" PRIu64 ": cannot mark it done: %s", notice_id,
			  e.msg);
	if (result == 0) {
		d->delivered++;
		log_info("alertd", "message %" PRIu64 " delivered", notice_id);
	} else {
		d->given_up++;
		char quoted[512];
		log_error("alertd", "message %" PRIu64 " given up: %s", notice_id,
			  escape_quote(quoted, sizeof quoted, detail ? detail : ""));
	}
	for (size_t i = 0; i < d->n_flight; i++)
		if (d->flight[i].notice_id == notice_id) {
			if (result == 0 && d->flight[i].fired)
				d->latency_seconds = (double)(now - d->flight[i].fired) / SEC;
			d->flight[i] = d->flight[--d->n_flight];
			break;
		}
}

/* ---- acknowledgements and silences made by others ---- */

static int feed_router(void *ctx, const struct alert *a)
{
	struct alertd *d = ctx;
	struct err e = { 0 };
	if (router_update(d->router, a, rtime_now_ns(), &e))
		log_error("alertd", "routing alert %" PRIu64 ": %s", a->id, e.msg);
	return 0;
}

struct silences {
	struct alert_silence *list;
	size_t n, cap;
};

static int keep_silence(void *ctx, const struct alert_silence *si)
{
	struct silences *s = ctx;
	if (!grow_array(&s->list, &s->cap, s->n + 1, sizeof *s->list))
		return -ENOMEM;
	s->list[s->n++] = *si;
	return 0;
}

/* The web's rule drop-in (rules.d/50-web.conf beside the configuration
 * file, docs/web.md): its mtime and inode, 0 when there is none. */
static int64_t dropin_stamp(const struct alertd *d)
{
	char copy[4096], path[4200];
	struct stat st;
	if (!d->config_path)
		return 0;
	snprintf(copy, sizeof copy, "%s", d->config_path);
	snprintf(path, sizeof path, "%s/rules.d/50-web.conf", dirname(copy));
	if (stat(path, &st) != 0)
		return 0;
	return (int64_t)st.st_mtim.tv_sec * SEC + st.st_mtim.tv_nsec + (int64_t)st.st_ino;
}

/* rmon-web runs as the web server's user and cannot signal us; it logs
 * every rule edit in alertd's store, which moves the generation, and we
 * reload when the drop-in it writes has changed since we read it. */
static void reload_if_edited(struct alertd *d)
{
	int64_t stamp = dropin_stamp(d);
	if (stamp == d->dropin_stamp)
		return;
	d->dropin_stamp = stamp; /* first: the reload refreshes, which comes back here */
	struct err e = { 0 };
	if (alertd_reload(d, &e) != 0)
		log_error("alertd",
			  "the web's rule edits: reload refused, the old configuration "
			  "stays: %s",
			  e.msg);
	else
		log_info("alertd", "configuration reloaded: the web's rule edits changed");
}

/* Reads acks (through the active alerts) and silences again when anyone
 * wrote alertd's store since the last look. */
static void refresh(struct alertd *d, bool force)
{
	uint64_t g = alert_store_generation(d->store);
	if (g == d->generation && !force)
		return;
	d->generation = g;
	reload_if_edited(d);
	struct err e = { 0 };
	if (alert_store_alerts(d->store, true, feed_router, d, &e))
		log_error("alertd", "reading alerts: %s", e.msg);
	struct silences s = { 0 };
	int rc = alert_store_silences(d->store, true, rtime_now_ns(), keep_silence, &s, &e);
	if (rc == 0)
		rc = router_set_silences(d->router, s.list, s.n, &e);
	if (rc)
		log_error("alertd", "reading silences: %s", e.msg);
	free(s.list);
}

/* Writes what routing decided (silenced, inhibited) where it changed. */
static int write_marks(void *ctx, const struct alert *a)
{
	struct alertd *d = ctx;
	uint64_t silenced;
	bool inhibited;
	struct err e = { 0 };
	if (router_marks(d->router, a->id, &silenced, &inhibited) &&
	    (silenced != a->silenced_by || inhibited != a->inhibited) &&
	    alert_store_mark(d->store, a->id, silenced, inhibited, &e))
		log_error("alertd", "alert %" PRIu64 ": %s", a->id, e.msg);
	return 0;
}

/* ---- timers ---- */

static int64_t on_timer(struct evloop *loop, void *ctx);

static void schedule(struct alertd *d)
{
	int64_t now = rtime_now_ns();
	int64_t due = eval_next_due(d->eval), r = router_next_due(d->router);
	if (r < due)
		due = r;
	if (now + HOUSEKEEPING < due)
		due = now + HOUSEKEEPING;
	int64_t after = due > now ? due - now : 0;
	if (!d->timer || evloop_set_timer(d->loop, d->timer, after) != 0)
		evloop_add_timer(d->loop, after, on_timer, d, &d->timer, NULL);
	d->timer_due = due;
}

/* Routing, marks and the next timer: after every pass and every timer. */
static void route(struct alertd *d)
{
	struct err e = { 0 };
	refresh(d, false);
	if (router_tick(d->router, rtime_now_ns(), on_notice, d, &e))
		log_error("alertd", "routing: %s", e.msg);
	if (alert_store_alerts(d->store, true, write_marks, d, &e))
		log_error("alertd", "writing marks: %s", e.msg);
	/* Our own writes are not news. */
	d->generation = alert_store_generation(d->store);
}

static void figures(struct alertd *d, int64_t now)
{
	if (now < d->next_self)
		return;
	d->next_self = now + d->self_interval_ns;
	struct notifier_stats ns;
	struct eval_stats es;
	notifier_get_stats(d->notifier, &ns);
	eval_get_stats(d->eval, &es);
	size_t owed = 0;
	notelog_count_owed(d->store, &owed, NULL);
	selfstat_set(d->self, "rmon_alertd_eval_seconds", d->eval_seconds);
	selfstat_set(d->self, "rmon_alertd_passes_total", (double)d->passes);
	selfstat_set(d->self, "rmon_alertd_instances_active", (double)es.instances);
	selfstat_set(d->self, "rmon_alertd_notify_latency_seconds", d->latency_seconds);
	selfstat_set(d->self, "rmon_alertd_messages_logged_total", (double)d->logged);
	selfstat_set(d->self, "rmon_alertd_deliveries_total", (double)ns.delivered);
	selfstat_set(d->self, "rmon_alertd_delivery_failures_total", (double)ns.failed_attempts);
	selfstat_set(d->self, "rmon_alertd_given_up_total", (double)ns.given_up);
	selfstat_set(d->self, "rmon_alertd_queue_length", (double)ns.queued);
	selfstat_set(d->self, "rmon_alertd_owed_messages", (double)owed);
	selfstat_flush(d->self, now);
}

static int64_t on_timer(struct evloop *loop, void *ctx)
{
	struct alertd *d = ctx;
	int64_t now = rtime_now_ns();
	if (eval_next_due(d->eval) <= now)
		pass(d, false);
	else
		route(d);
	figures(d, now);
	if (now >= d->next_prune) {
		d->next_prune = now + 3600 * SEC;
		struct err e = { 0 };
		if (alert_store_prune(d->store, now - PRUNE_AFTER, NULL, &e) ||
		    notelog_prune(d->store, now - PRUNE_AFTER, NULL, &e))
			log_warn("alertd", "pruning alertd's store: %s", e.msg);
	}
	schedule(d);
	/* schedule() moved this timer; this return value is overridden. */
	return d->timer_due > now ? d->timer_due - now : 0;
}

/* ---- passes ---- */

static int add_changed(void *ctx, uint64_t id)
{
	struct alertd *d = ctx;
	if (!grow_array(&d->changed, &d->changed_cap, d->n_changed + 1, sizeof *d->changed))
		return -ENOMEM;
	d->changed[d->n_changed++] = id;
	return 0;
}

static int on_event(void *ctx, const struct eval_event *ev)
{
	struct alertd *d = ctx;
	size_t i = d->n_changes;
	if (!grow_array(&d->changes, &d->changes_cap, i + 1, sizeof *d->changes) ||
	    !grow_array(&d->texts, &d->texts_cap, i + 1, sizeof *d->texts))
		return -ENOMEM;
	struct change_text *t = &d->texts[i];
	const struct rule *rule = ev->rule;
	snprintf(t->key, sizeof t->key, "%s", ev->key);
	snprintf(t->rule, sizeof t->rule, "%s", rule->name);
	snprintf(t->host, sizeof t->host, "%s", ev->host);
	snprintf(t->labels, sizeof t->labels, "%s", ev->labels ? ev->labels : "");
	snprintf(t->severity, sizeof t->severity, "%s", rule->severity ? rule->severity : "");
	snprintf(t->detail, sizeof t->detail, "%s", ev->detail);
	t->series[0] = 0;
	if (ev->series &&
	    query_series_name(d->q, ev->series, t->series, sizeof t->series, NULL) < 0)
		t->series[0] = 0;
	struct rule_vars vars = { rule->name,	 ev->host,  ev->labels, rule->severity, ev->value,
				  ev->threshold, ev->since, ev->detail, rule->unit };
	rule_expand(rule->summary ? rule->summary : "{rule} on {host}", &vars, t->summary,
		    sizeof t->summary);
	d->changes[i] = (struct alert_change){
		.to = ev->to,
		.value = ev->value,
		.threshold = ev->threshold,
		.since = ev->since,
		.at = ev->at,
	};
	d->n_changes++;
	return 0;
}

/* Points the changes at their texts (the arrays may have moved). */
static void link_texts(struct alertd *d)
{
	for (size_t i = 0; i < d->n_changes; i++) {
		struct change_text *t = &d->texts[i];
		struct alert_change *c = &d->changes[i];
		c->key = t->key;
		c->rule = t->rule;
		c->host = t->host;
		c->labels = t->labels;
		c->severity = t->severity;
		c->series = t->series;
		c->summary = t->summary;
		c->detail = t->detail;
	}
}

static int apply_changes(struct alertd *d, struct err *e)
{
	if (!d->n_changes)
		return 0;
	link_texts(d);
	if (!grow_array(&d->applied, &d->applied_cap, d->n_changes, sizeof *d->applied))
		return err_set(e, -ENOMEM, "out of memory");
	int rc = alert_store_apply(d->store, d->changes, d->n_changes, d->applied, e);
	for (size_t i = 0; rc == 0 && i < d->n_changes; i++) {
		const struct alert *a = &d->applied[i];
		if (!a->id)
			continue;
		log_info("alertd", "alert %" PRIu64 " %s: %s", a->id, alert_state_name(a->state),
			 a->key);
		if ((rc = router_update(d->router, a, a->updated, e)))
			break;
	}
	d->n_changes = 0;
	return rc;
}

/* One pass over one snapshot: the series changed since the last pass
 * (everything at the first, or when the store's change list no longer
 * reaches back that far), and the timers due. */
static int pass(struct alertd *d, bool everything)
{
	struct err e = { 0 };
	int rc;
	if (!d->q && (rc = query_open(d->data_dir, &d->q, &e))) {
		d->q = NULL;
		return rc; /* the follower says when it is there */
	}
	int64_t now = rtime_now_ns(), started = rtime_mono_ns();
	if ((rc = query_begin(d->q, &e))) {
		log_error("alertd", "cannot read the store: %s", e.msg);
		return rc;
	}
	uint64_t seq = query_sequence(d->q);
	d->n_changed = 0;
	bool all = everything || !d->listed;
	if (!all && seq != d->seen_seq) {
		rc = query_changed(d->q, d->seen_seq, add_changed, d, &e);
		if (rc == -ESTALE) {
			all = true;
		} else if (rc) { /* skipping what changed would miss its breaches */
			log_error("alertd", "reading what changed: %s; reading every series",
				  e.msg);
			all = true;
		}
	}
	static const uint64_t none = 0;
	rc = eval_pass(d->eval, d->q, now,
		       all	      ? NULL
		       : d->n_changed ? d->changed
				      : &none,
		       all ? 0 : d->n_changed, on_event, d, &e);
	query_end(d->q);
	d->eval_seconds = (double)(rtime_mono_ns() - started) / SEC;
	log_debug("alertd", "pass over commit %" PRIu64 ": %zu series changed%s, %.3f ms", seq,
		  d->n_changed, all ? " (all read)" : "", d->eval_seconds * 1e3);
	d->passes++;
	if (rc) {
		log_error("alertd", "evaluation: %s", e.msg);
		d->n_changes = 0;
	} else {
		d->seen_seq = seq;
		d->listed = true;
	}
	if (apply_changes(d, &e))
		log_error("alertd", "recording alerts: %s", e.msg);
	route(d);
	return rc;
}

static void on_commit(void *ctx, uint64_t seq)
{
	struct alertd *d = ctx;
	log_debug("alertd", "commit %" PRIu64, seq);
	pass(d, false);
	figures(d, rtime_now_ns());
	schedule(d);
}

/* ---- start-up ---- */

struct restore {
	struct alertd *d;
	const struct alert *a;
	struct alert_change *ended;
	size_t n_ended, cap;
	char (*keys)[ALERT_KEY_MAX];
	size_t keys_cap;
};

static int restore_told(void *ctx, const char *receiver, enum notice_kind kind, int64_t at)
{
	struct restore *r = ctx;
	router_told(r->d->router, r->a->id, receiver, kind, at);
	return 0;
}

static int restore_one(void *ctx, const struct alert *a)
{
	struct restore *r = ctx;
	struct alertd *d = r->d;
	struct err e = { 0 };
	bool active = a->state == ALERT_PENDING || a->state == ALERT_FIRING;
	if (active && eval_restore(d->eval, a->key, a->state, a->started, &e) == -ENOENT) {
		/* Its rule is gone from the configuration: it ends here. */
		if (grow_array(&r->ended, &r->cap, r->n_ended + 1, sizeof *r->ended) &&
		    grow_array(&r->keys, &r->keys_cap, r->n_ended + 1, sizeof *r->keys)) {
			snprintf(r->keys[r->n_ended], ALERT_KEY_MAX, "%s", a->key);
			r->ended[r->n_ended++] = (struct alert_change){
				.rule = a->rule,
				.host = a->host,
				.labels = a->labels,
				.severity = a->severity,
				.series = a->series,
				.to = ALERT_RESOLVED,
				.value = a->value,
				.threshold = a->threshold,
				.since = a->started,
				.at = rtime_now_ns(),
			};
		}
		log_warn("alertd", "%s", e.msg);
	}
	if (router_update(d->router, a, rtime_now_ns(), &e))
		return -ENOMEM;
	r->a = a;
	return notelog_told(d->store, a->id, restore_told, r, &e);
}

/* Restores eval's and routing's state from alertd's store. */
static int restore(struct alertd *d, bool routing, struct err *e)
{
	struct restore r = { .d = d };
	int rc = alert_store_alerts(d->store, !routing, restore_one, &r, e);
	for (size_t i = 0; i < r.n_ended; i++)
		r.ended[i].key = r.keys[i];
	if (rc == 0 && r.n_ended)
		rc = alert_store_apply(d->store, r.ended, r.n_ended, NULL, e);
	free(r.ended);
	free(r.keys);
	return rc;
}

/* A message logged but not delivered by the last run: sent again. */
static int resend(void *ctx, const struct notelog_entry *ent)
{
	struct alertd *d = ctx;
	struct err e = { 0 };
	const struct receiver *rx = alert_config_receiver(d->cfg, ent->receiver);
	if (!rx) {
		log_warn("alertd", "message %" PRIu64 ": receiver %s is no longer configured",
			 ent->id, ent->receiver);
		notelog_done(d->store, ent->id, -ENOENT, rtime_now_ns(), &e);
		return 0;
	}
	struct alert *alerts = calloc(ent->n_items ? ent->n_items : 1, sizeof *alerts);
	const struct alert **list = calloc(ent->n_items ? ent->n_items : 1, sizeof *list);
	if (!alerts || !list) {
		free(alerts);
		free(list);
		return -ENOMEM;
	}
	size_t n = 0;
	for (size_t i = 0; i < ent->n_items; i++)
		if (alert_store_get(d->store, ent->items[i].alert_id, &alerts[n], &e) == 0) {
			list[n] = &alerts[n];
			n++;
		}
	log_info("alertd", "message %" PRIu64 " to %s is owed: sending it again (%s)", ent->id,
		 ent->receiver, ent->message_id);
	send_entry(d, ent, list, n, rx);
	free(alerts);
	free(list);
	return 0;
}

static void local_host(char *buf, size_t cap)
{
	if (gethostname(buf, cap) != 0 || !buf[0])
		snprintf(buf, cap, "localhost");
	buf[cap - 1] = 0;
}

int alertd_new(struct evloop *loop, const struct alertd_options *o, struct alertd **out,
	       struct err *e)
{
	struct alertd *d = calloc(1, sizeof *d);
	if (!d)
		return err_set(e, -ENOMEM, "out of memory");
	d->loop = loop;
	d->config_path = o->config_path;
	d->dropin_stamp = dropin_stamp(d);
	d->self_interval_ns = o->self_interval_ns > 0 ? o->self_interval_ns : 10 * SEC;
	snprintf(d->data_dir, sizeof d->data_dir, "%s", o->data_dir);
	local_host(d->domain, sizeof d->domain);
	int rc;
	if ((rc = alert_config_read_file(o->config_path, &d->cfg, e)) ||
	    (rc = alert_store_open(d->data_dir, ALERT_STORE_CREATE, &d->store, e)) ||
	    (rc = alert_store_set_keep(d->store, d->cfg->resolved_keep_ns, e)) ||
	    (rc = eval_new(d->cfg, &d->eval, e)) || (rc = router_new(d->cfg, &d->router, e)) ||
	    (rc = notifier_new(loop, d->data_dir, on_done, d, &d->notifier, e)))
		goto fail;
	char host[256];
	local_host(host, sizeof host);
	if (selfstat_new(d->data_dir, host, &d->self, NULL) != 0 &&
	    (rc = selfstat_new(d->data_dir, "localhost", &d->self, e)))
		goto fail;
	if ((rc = restore(d, true, e)))
		goto fail;
	refresh(d, true);
	if ((rc = notelog_owed(d->store, resend, d, e)))
		goto fail;
	if ((rc = follow_start(loop, d->data_dir, on_commit, d, &d->follow, e)))
		goto fail;
	route(d);
	schedule(d);
	*out = d;
	return 0;
fail:
	alertd_free(d);
	return rc;
}

int alertd_reload(struct alertd *d, struct err *e)
{
	struct alert_config *cfg;
	struct eval *ev;
	int rc = alert_config_read_file(d->config_path, &cfg, e);
	if (rc)
		return rc;
	if ((rc = eval_new(cfg, &ev, e))) {
		alert_config_free(cfg);
		return rc;
	}
	if ((rc = router_set_config(d->router, cfg, e)) ||
	    !grow_array(&d->old_cfgs, &d->old_cap, d->n_old + 1, sizeof *d->old_cfgs)) {
		router_set_config(d->router, d->cfg, NULL);
		eval_free(ev);
		alert_config_free(cfg);
		return rc ? rc : err_set(e, -ENOMEM, "out of memory");
	}
	d->old_cfgs[d->n_old++] = d->cfg;
	eval_free(d->eval);
	d->eval = ev;
	d->cfg = cfg;
	d->listed = false; /* the new rules learn their series */
	if ((rc = restore(d, false, e)))
		log_error("alertd", "restoring the alerts' states: %s", e->msg);
	alert_store_set_keep(d->store, cfg->resolved_keep_ns, NULL);
	pass(d, true);
	schedule(d);
	return 0;
}

void alertd_free(struct alertd *d)
{
	if (!d)
		return;
	follow_stop(d->follow);
	notifier_free(d->notifier);
	if (d->timer)
		evloop_del_timer(d->loop, d->timer);
	router_free(d->router);
	eval_free(d->eval);
	query_close(d->q);
	alert_store_close(d->store);
	selfstat_free(d->self);
	alert_config_free(d->cfg);
	for (size_t i = 0; i < d->n_old; i++)
		alert_config_free(d->old_cfgs[i]);
	free(d->old_cfgs);
	free(d->changes);
	free(d->texts);
	free(d->applied);
	free(d->changed);
	free(d->flight);
	free(d);
}
