/* route.c - routing alerts to receivers: group windows, repeats,
 * escalation, inhibition, silences, mute windows and rate limits with a
 * digest, on the caller's clock; see route.h. */
#include "alertd/route.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/grow.h"
#include "lib/rtime.h"
#include "store/query.h"

#define MINUTE (60 * RTIME_NS_PER_SEC)
#define KINDS  (NOTICE_DIGEST + 1)

enum told { TOLD_NOTHING, TOLD_FIRING, TOLD_RESOLVED };

/* One receiver of one alert. */
struct target {
	char receiver[ALERT_NAME_MAX];
	int64_t after_ns; /* an escalation step's delay; 0: a receiver from the start */
	int64_t group_window_ns;
	enum told told;
	int64_t told_at; /* of the last firing, repeat or escalation message */
	bool queued;
	enum notice_kind queued_kind;
};

struct tracked {
	struct alert a;
	struct target *targets;
	size_t n_targets, targets_cap;
	bool routed;
	int64_t repeat_ns;
	uint64_t silenced_by; /* at the last tick */
	int64_t silence_end;
	bool inhibited, muted;
};

/* One receiver's group window and rate window. */
struct rstate {
	char name[ALERT_NAME_MAX];
	const struct receiver *rx;
	int64_t group_due; /* 0: no group open */
	int64_t window_start;
	uint32_t in_window;
	struct alert *held; /* the alerts of the messages the limit held back */
	size_t n_held, held_cap;
	size_t held_messages;
};

struct silence {
	uint64_t id;
	int64_t start, end;
	struct query_selector *sel;
};

struct router {
	const struct alert_config *cfg;
	struct query_selector **route_match; /* per route; NULL: any */
	struct query_selector **mute_match;  /* per mute; NULL: any */
	struct silence *silences;
	size_t n_silences;
	struct tracked **alerts;
	size_t n_alerts, alerts_cap;
	struct rstate *rx;
	size_t n_rx, rx_cap;
	const struct alert **list; /* a notice's alerts, reused */
	size_t list_cap;
	int64_t next_due;
};

/* ---- names, labels and matching ---- */

/* Does sel match the alert's series, or host/rule{labels}? */
static bool alert_matches(const struct query_selector *sel, const struct alert *a)
{
	if (!sel)
		return true;
	if (a->series[0] && query_selector_match(sel, a->series, strlen(a->series)))
		return true;
	char name[ALERT_SERIES_MAX + ALERT_NAME_MAX + ALERT_TEXT_MAX];
	int len = snprintf(name, sizeof name, "%s/%s%s", a->host, a->rule, a->labels);
	return len > 0 && (size_t)len < sizeof name && query_selector_match(sel, name, (size_t)len);
}

/* The value of label key in the alert ("host": its host), into buf; false
 * when it has none. */
static bool label_value(const struct alert *a, const char *key, char *buf, size_t cap)
{
	if (strcmp(key, "host") == 0) {
		snprintf(buf, cap, "%s", a->host);
		return true;
	}
	size_t klen = strlen(key);
	for (const char *p = a->labels; (p = strstr(p, key)); p++) {
		bool starts = p > a->labels && (p[-1] == '{' || p[-1] == ',');
		if (!starts || strncmp(p + klen, "=\"", 2) != 0)
			continue;
		size_t n = 0;
		for (p += klen + 2; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1])
				p++;
			if (n + 1 < cap)
				buf[n++] = *p;
		}
		buf[n] = 0;
		return true;
	}
	return false;
}

static bool labels_agree(const struct alert *x, const struct alert *y, const char *const *equal,
			 size_t n)
{
	static const char *const host_only[] = { "host" };
	if (n == 0) {
		equal = host_only;
		n = 1;
	}
	for (size_t i = 0; i < n; i++) {
		char vx[ALERT_TEXT_MAX], vy[ALERT_TEXT_MAX];
		bool hx = label_value(x, equal[i], vx, sizeof vx);
		bool hy = label_value(y, equal[i], vy, sizeof vy);
		if (hx != hy || (hx && strcmp(vx, vy) != 0))
			return false;
	}
	return true;
}

/* Does firing alert s inhibit t? */
static bool inhibits(const struct alert_config *cfg, const struct alert *s, const struct alert *t)
{
	for (size_t i = 0; i < cfg->n_inhibits; i++) {
		const struct inhibit *in = &cfg->inhibits[i];
		if (strcmp(in->source, s->rule) == 0 && fnmatch(in->target, t->rule, 0) == 0 &&
		    labels_agree(s, t, in->equal, in->n_equal))
			return true;
	}
	const struct rule *rule = alert_config_rule(cfg, t->rule);
	for (size_t i = 0; rule && i < rule->n_depends_on; i++)
		if (strcmp(rule->depends_on[i], s->rule) == 0 && strcmp(s->host, t->host) == 0)
			return true;
	return false;
}

/* ---- configuration ---- */

static void free_selectors(struct query_selector **sels, size_t n)
{
	for (size_t i = 0; sels && i < n; i++)
		query_selector_free(sels[i]);
	free(sels);
}

static int parse_selectors(size_t n, const char *(*text)(const struct alert_config *, size_t),
			   const struct alert_config *cfg, struct query_selector ***out,
			   struct err *e)
{
	struct query_selector **sels = calloc(n ? n : 1, sizeof *sels);
	if (!sels)
		return err_set(e, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const char *t = text(cfg, i);
		int rc = t ? query_selector_parse(t, &sels[i], e) : 0;
		if (rc) {
			free_selectors(sels, n);
			return rc;
		}
	}
	*out = sels;
	return 0;
}

static const char *route_match_text(const struct alert_config *cfg, size_t i)
{
	return cfg->routes[i].match;
}

static const char *mute_match_text(const struct alert_config *cfg, size_t i)
{
	return cfg->mutes[i].match;
}

static struct rstate *rstate_of(struct router *r, const char *name)
{
	for (size_t i = 0; i < r->n_rx; i++)
		if (strcmp(r->rx[i].name, name) == 0)
			return &r->rx[i];
	if (!grow_array(&r->rx, &r->rx_cap, r->n_rx + 1, sizeof *r->rx))
		return NULL;
	struct rstate *rs = &r->rx[r->n_rx++];
	*rs = (struct rstate){ 0 };
	snprintf(rs->name, sizeof rs->name, "%s", name);
	rs->rx = alert_config_receiver(r->cfg, name);
	return rs;
}

int router_set_config(struct router *r, const struct alert_config *cfg, struct err *e)
{
	struct query_selector **routes = NULL, **mutes = NULL;
	int rc = parse_selectors(cfg->n_routes, route_match_text, cfg, &routes, e);
	if (rc)
		return rc;
	if ((rc = parse_selectors(cfg->n_mutes, mute_match_text, cfg, &mutes, e))) {
		free_selectors(routes, cfg->n_routes);
		return rc;
	}
	if (r->cfg) {
		free_selectors(r->route_match, r->cfg->n_routes);
		free_selectors(r->mute_match, r->cfg->n_mutes);
	}
	r->cfg = cfg;
	r->route_match = routes;
	r->mute_match = mutes;
	for (size_t i = 0; i < r->n_rx; i++)
		r->rx[i].rx = alert_config_receiver(cfg, r->rx[i].name);
	for (size_t i = 0; i < r->n_alerts; i++)
		r->alerts[i]->routed = false; /* chosen again, keeping what was told */
	r->next_due = INT64_MIN;
	return 0;
}

int router_new(const struct alert_config *cfg, struct router **out, struct err *e)
{
	struct router *r = calloc(1, sizeof *r);
	if (!r)
		return err_set(e, -ENOMEM, "out of memory");
	int rc = router_set_config(r, cfg, e);
	if (rc) {
		free(r);
		return rc;
	}
	*out = r;
	return 0;
}

static void free_silences(struct router *r)
{
	for (size_t i = 0; i < r->n_silences; i++)
		query_selector_free(r->silences[i].sel);
	free(r->silences);
	r->silences = NULL;
	r->n_silences = 0;
}

void router_free(struct router *r)
{
	if (!r)
		return;
	free_selectors(r->route_match, r->cfg->n_routes);
	free_selectors(r->mute_match, r->cfg->n_mutes);
	free_silences(r);
	for (size_t i = 0; i < r->n_alerts; i++) {
		free(r->alerts[i]->targets);
		free(r->alerts[i]);
	}
	free(r->alerts);
	for (size_t i = 0; i < r->n_rx; i++)
		free(r->rx[i].held);
	free(r->rx);
	free(r->list);
	free(r);
}

int router_set_silences(struct router *r, const struct alert_silence *silences, size_t n,
			struct err *e)
{
	struct silence *next = calloc(n ? n : 1, sizeof *next);
	if (!next)
		return err_set(e, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		next[i] =
		    (struct silence){ silences[i].id, silences[i].start, silences[i].end, NULL };
		int rc = query_selector_parse(silences[i].selector, &next[i].sel, e);
		if (rc) {
			for (size_t j = 0; j < i; j++)
				query_selector_free(next[j].sel);
			free(next);
			return rc;
		}
	}
	free_silences(r);
	r->silences = next;
	r->n_silences = n;
	r->next_due = INT64_MIN;
	return 0;
}

/* ---- alerts ---- */

static struct tracked *find(const struct router *r, uint64_t id)
{
	for (size_t i = 0; i < r->n_alerts; i++)
		if (r->alerts[i]->a.id == id)
			return r->alerts[i];
	return NULL;
}

static struct target *target_of(struct tracked *t, const char *receiver)
{
	for (size_t i = 0; i < t->n_targets; i++)
		if (strcmp(t->targets[i].receiver, receiver) == 0)
			return &t->targets[i];
	return NULL;
}

static int add_target(struct tracked *t, struct target *old, size_t n_old, const char *receiver,
		      int64_t after_ns, int64_t group_window_ns)
{
	for (size_t i = 0; i < t->n_targets; i++)
		if (strcmp(t->targets[i].receiver, receiver) == 0)
			return 0;
	if (!grow_array(&t->targets, &t->targets_cap, t->n_targets + 1, sizeof *t->targets))
		return -ENOMEM;
	struct target *g = &t->targets[t->n_targets++];
	*g = (struct target){ .after_ns = after_ns, .group_window_ns = group_window_ns };
	snprintf(g->receiver, sizeof g->receiver, "%s", receiver);
	for (size_t i = 0; i < n_old; i++)
		if (strcmp(old[i].receiver, receiver) == 0) {
			g->told = old[i].told;
			g->told_at = old[i].told_at;
		}
	return 0;
}

/* Chooses the alert's receivers (again after a reload, keeping what each
 * was told). */
static int route_alert(struct router *r, struct tracked *t)
{
	const struct alert_config *cfg = r->cfg;
	const struct rule *rule = alert_config_rule(cfg, t->a.rule);
	struct target *old = t->targets;
	size_t n_old = t->n_targets;
	t->targets = NULL;
	t->n_targets = t->targets_cap = 0;
	t->repeat_ns = rule ? rule->repeat_ns : cfg->repeat_ns;
	int rc = 0;
	if (rule && rule->n_receivers) {
		for (size_t i = 0; rc == 0 && i < rule->n_receivers; i++)
			rc = add_target(t, old, n_old, rule->receivers[i], 0, cfg->group_window_ns);
	} else {
		for (size_t i = 0; rc == 0 && i < cfg->n_routes; i++) {
			const struct route *ro = &cfg->routes[i];
			if ((ro->severity && strcmp(ro->severity, t->a.severity) != 0) ||
			    !alert_matches(r->route_match[i], &t->a))
				continue;
			int64_t window =
			    ro->group_window_ns > 0 ? ro->group_window_ns : cfg->group_window_ns;
			if (ro->repeat_ns > 0)
				t->repeat_ns = ro->repeat_ns;
			for (size_t j = 0; rc == 0 && j < ro->n_receivers; j++)
				rc = add_target(t, old, n_old, ro->receivers[j], 0, window);
			for (size_t j = 0; rc == 0 && j < ro->n_escalate; j++)
				rc = add_target(
				    t, old, n_old, ro->escalate[j].receiver,
				    ro->escalate[j].after_ns > 0 ? ro->escalate[j].after_ns : 1,
				    window);
			if (!ro->continue_matching)
				break;
		}
	}
	free(old);
	t->routed = rc == 0;
	return rc;
}

int router_update(struct router *r, const struct alert *a, int64_t now, struct err *e)
{
	struct tracked *t = find(r, a->id);
	bool active = a->state == ALERT_PENDING || a->state == ALERT_FIRING;
	if (!t) {
		if (!active && a->state != ALERT_RESOLVED)
			return 0;
		if (!grow_array(&r->alerts, &r->alerts_cap, r->n_alerts + 1, sizeof *r->alerts) ||
		    !(t = calloc(1, sizeof *t)))
			return err_set(e, -ENOMEM, "out of memory");
		r->alerts[r->n_alerts++] = t;
	}
	t->a = *a;
	if (!t->routed && route_alert(r, t))
		return err_set(e, -ENOMEM, "out of memory");
	r->next_due = INT64_MIN;
	(void)now;
	return 0;
}

void router_told(struct router *r, uint64_t alert_id, const char *receiver, enum notice_kind kind,
		 int64_t at)
{
	struct tracked *t = find(r, alert_id);
	struct target *g = t ? target_of(t, receiver) : NULL;
	if (!g)
		return;
	if (kind == NOTICE_RESOLVED) {
		g->told = TOLD_RESOLVED;
	} else if (g->told != TOLD_RESOLVED) {
		g->told = TOLD_FIRING;
		if (at > g->told_at)
			g->told_at = at;
	}
	r->next_due = INT64_MIN;
}

/* ---- the tick ---- */

static void suppression(struct router *r, struct tracked *t, int64_t now)
{
	const struct alert_config *cfg = r->cfg;
	t->silenced_by = 0;
	t->silence_end = 0;
	for (size_t i = 0; i < r->n_silences; i++) {
		const struct silence *si = &r->silences[i];
		if (si->start <= now && now < si->end && alert_matches(si->sel, &t->a)) {
			t->silenced_by = si->id;
			t->silence_end = si->end;
			break;
		}
	}
	t->inhibited = false;
	for (size_t i = 0; i < r->n_alerts && !t->inhibited; i++) {
		const struct tracked *s = r->alerts[i];
		t->inhibited = s != t && s->a.state == ALERT_FIRING && inhibits(cfg, &s->a, &t->a);
	}
	t->muted = false;
	for (size_t i = 0; i < cfg->n_mutes && !t->muted; i++)
		t->muted = mute_open(&cfg->mutes[i], now) && alert_matches(r->mute_match[i], &t->a);
}

/* What target g of t is owed at now: a kind, or -1 for nothing. */
static int owed(const struct tracked *t, const struct target *g, int64_t now)
{
	const struct alert *a = &t->a;
	if (a->state == ALERT_FIRING) {
		bool acked = a->acked_at != 0;
		if (g->told == TOLD_NOTHING) {
			if (g->after_ns == 0)
				return NOTICE_FIRING;
			if (!acked && a->fired && now >= a->fired + g->after_ns)
				return NOTICE_ESCALATION;
			return -1;
		}
		if (g->told == TOLD_FIRING && !acked && t->repeat_ns > 0 &&
		    now >= g->told_at + t->repeat_ns)
			return NOTICE_REPEAT;
		return -1;
	}
	if (a->state == ALERT_RESOLVED || a->state == ALERT_INACTIVE)
		return g->told == TOLD_FIRING ? NOTICE_RESOLVED : -1;
	return -1; /* pending */
}

/* Queues what each target is owed, or takes back what it no longer is. */
static int queue_owed(struct router *r, struct tracked *t, int64_t now)
{
	for (size_t i = 0; i < t->n_targets; i++) {
		struct target *g = &t->targets[i];
		int kind = owed(t, g, now);
		bool quiet = t->silenced_by || t->inhibited;
		if (kind == NOTICE_RESOLVED && quiet)
			g->told = TOLD_RESOLVED; /* never told as it fired: nothing to take back */
		if (kind < 0 || quiet || t->muted) {
			g->queued = false;
			continue;
		}
		g->queued_kind = (enum notice_kind)kind;
		if (g->queued)
			continue;
		struct rstate *rs = rstate_of(r, g->receiver);
		if (!rs)
			return -ENOMEM;
		g->queued = true;
		if (!rs->group_due)
			rs->group_due = now + (g->group_window_ns > 0 ? g->group_window_ns : 0);
	}
	return 0;
}

static int hold(struct rstate *rs, const struct alert *const *alerts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;
		while (j < rs->n_held && rs->held[j].id != alerts[i]->id)
			j++;
		if (j == rs->n_held &&
		    !grow_array(&rs->held, &rs->held_cap, rs->n_held + 1, sizeof *rs->held))
			return -ENOMEM;
		rs->held[j] = *alerts[i];
		if (j == rs->n_held)
			rs->n_held++;
	}
	rs->held_messages++;
	return 0;
}

/* Sends (or holds back, over the rate limit) the message of one kind of
 * receiver rs's group. */
static int flush_kind(struct router *r, struct rstate *rs, enum notice_kind kind, int64_t now,
		      router_notice_fn fn, void *ctx)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n_alerts; i++) {
		struct tracked *t = r->alerts[i];
		struct target *g = target_of(t, rs->name);
		if (!g || !g->queued || g->queued_kind != kind)
			continue;
		if (!grow_array(&r->list, &r->list_cap, n + 1, sizeof *r->list))
			return -ENOMEM;
		r->list[n++] = &t->a;
		g->queued = false;
		g->told = kind == NOTICE_RESOLVED ? TOLD_RESOLVED : TOLD_FIRING;
		if (kind != NOTICE_RESOLVED)
			g->told_at = now;
	}
	if (n == 0 || !rs->rx)
		return 0; /* a receiver the config no longer has: nothing to send to */
	const struct receiver *rx = rs->rx;
	if (rx->rate_limit) {
		if (!rs->window_start || now >= rs->window_start + rx->rate_window_ns) {
			rs->window_start = now;
			rs->in_window = 0;
		}
		if (rs->in_window >= rx->rate_limit)
			return hold(rs, r->list, n);
		rs->in_window++;
	}
	struct route_notice notice = { kind, rx, r->list, n, 0 };
	return fn(ctx, &notice);
}

static int send_digest(struct router *r, struct rstate *rs, router_notice_fn fn, void *ctx)
{
	if (!grow_array(&r->list, &r->list_cap, rs->n_held, sizeof *r->list))
		return -ENOMEM;
	for (size_t i = 0; i < rs->n_held; i++)
		r->list[i] = &rs->held[i];
	struct route_notice notice = { NOTICE_DIGEST, rs->rx, r->list, rs->n_held,
				       rs->held_messages };
	rs->n_held = rs->held_messages = 0;
	rs->window_start = 0;
	rs->in_window = 0;
	return rs->rx ? fn(ctx, &notice) : 0;
}

static bool finished(const struct tracked *t)
{
	if (t->a.state == ALERT_PENDING || t->a.state == ALERT_FIRING)
		return false;
	for (size_t i = 0; i < t->n_targets; i++)
		if (t->targets[i].told == TOLD_FIRING || t->targets[i].queued)
			return false;
	return true;
}

static int64_t earliest(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static void plan(struct router *r, int64_t now)
{
	int64_t due = INT64_MAX;
	for (size_t i = 0; i < r->n_rx; i++) {
		struct rstate *rs = &r->rx[i];
		if (rs->group_due)
			due = earliest(due, rs->group_due);
		if (rs->held_messages && rs->rx)
			due = earliest(due, rs->window_start + rs->rx->rate_window_ns);
	}
	for (size_t i = 0; i < r->n_alerts; i++) {
		const struct tracked *t = r->alerts[i];
		if (t->silenced_by)
			due = earliest(due, t->silence_end);
		if (t->muted) /* mute windows move by the minute */
			due = earliest(due, (now / MINUTE + 1) * MINUTE);
		/* A quiet alert's repeats wait for its silence, inhibition or
		 * mute to end (each wakes us on its own), or they would be due
		 * at every tick. */
		if (t->a.state != ALERT_FIRING || t->a.acked_at || t->silenced_by || t->inhibited ||
		    t->muted)
			continue;
		for (size_t j = 0; j < t->n_targets; j++) {
			const struct target *g = &t->targets[j];
			if (g->queued)
				continue; /* its group's end is the time */
			if (g->told == TOLD_FIRING && t->repeat_ns > 0)
				due = earliest(due, g->told_at + t->repeat_ns);
			else if (g->told == TOLD_NOTHING && g->after_ns > 0)
				due = earliest(due, t->a.fired + g->after_ns);
		}
	}
	r->next_due = due;
}

int router_tick(struct router *r, int64_t now, router_notice_fn fn, void *ctx, struct err *e)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < r->n_rx; i++) {
		struct rstate *rs = &r->rx[i];
		if (rs->held_messages &&
		    (!rs->rx || now >= rs->window_start + rs->rx->rate_window_ns))
			rc = send_digest(r, rs, fn, ctx);
	}
	for (size_t i = 0; rc == 0 && i < r->n_alerts; i++) {
		struct tracked *t = r->alerts[i];
		if (!t->routed && route_alert(r, t))
			rc = -ENOMEM;
		suppression(r, t, now);
	}
	for (size_t i = 0; rc == 0 && i < r->n_alerts; i++)
		rc = queue_owed(r, r->alerts[i], now);
	for (size_t i = 0; rc == 0 && i < r->n_rx; i++) {
		struct rstate *rs = &r->rx[i];
		if (!rs->group_due || now < rs->group_due)
			continue;
		rs->group_due = 0;
		for (int kind = 0; rc == 0 && kind < NOTICE_DIGEST; kind++)
			rc = flush_kind(r, rs, (enum notice_kind)kind, now, fn, ctx);
	}
	/* Forget what is over and owed to no one. */
	size_t kept = 0;
	for (size_t i = 0; i < r->n_alerts; i++) {
		struct tracked *t = r->alerts[i];
		if (rc == 0 && finished(t)) {
			free(t->targets);
			free(t);
		} else {
			r->alerts[kept++] = t;
		}
	}
	r->n_alerts = kept;
	plan(r, now);
	if (rc == -ENOMEM)
		return err_set(e, rc, "routing: out of memory");
	return rc;
}

int64_t router_next_due(const struct router *r)
{
	return r->next_due;
}

bool router_marks(const struct router *r, uint64_t alert_id, uint64_t *silenced_by, bool *inhibited)
{
	const struct tracked *t = find(r, alert_id);
	if (!t)
		return false;
	*silenced_by = t->silenced_by;
	*inhibited = t->inhibited;
	return true;
}

size_t router_tracked(const struct router *r)
{
	return r->n_alerts;
}

size_t router_queued(const struct router *r)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n_alerts; i++)
		for (size_t j = 0; j < r->alerts[i]->n_targets; j++)
			n += r->alerts[i]->targets[j].queued;
	return n;
}
