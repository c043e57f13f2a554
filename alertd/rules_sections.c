/* rules_sections.c - the readers of [route NAME], [inhibit NAME] and
 * [mute NAME] (docs/alerting.md), and what every section's reader shares
 * ([rule NAME] is rules_rule.c's): one table of keys per section, each key
 * checked where it is written so an error names its line; the section's
 * end checks what only the whole can say. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertd/expr.h"
#include "alertd/rules_private.h"
#include "lib/grow.h"
#include "lib/rtime.h"
#include "lib/series_name.h"

#define HOUR (3600 * RTIME_NS_PER_SEC)
#define DAY  (24 * HOUR)

static int unknown_key(const struct rules_key *keys, const struct conf_entry *entry, struct err *e)
{
	char list[400];
	size_t len = 0;
	list[0] = 0;
	for (const struct rules_key *k = keys; k->key && len < sizeof list - 40; k++)
		len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", len ? ", " : "",
					k->key);
	return conf_error(e, entry, "unknown key (%s)", list);
}

int rules_apply_key(const struct rules_key *keys, struct config_owner *o, void *item,
		    const struct conf_entry *entry, struct err *e)
{
	for (const struct rules_key *k = keys; k->key; k++)
		if (strcmp(k->key, entry->key) == 0)
			return k->apply(o, item, entry, e);
	return unknown_key(keys, entry, e);
}

const char *rules_keep(struct config_owner *o, const char *text, struct err *e)
{
	const char *copy = settings_keep(&o->keep, text);
	if (!copy)
		err_set(e, -ENOMEM, "out of memory");
	return copy;
}

int rules_add_words(struct config_owner *o, const struct conf_entry *entry, const char ***list,
		    size_t *n, size_t *cap, struct err *e)
{
	const char *p = entry->value;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		const char *s = p;
		while (*p && *p != ' ' && *p != '\t' && *p != ',')
			p++;
		char word[256];
		size_t len = (size_t)(p - s);
		if (len >= sizeof word)
			return conf_error(e, entry, "a name longer than %zu bytes",
					  sizeof word - 1);
		memcpy(word, s, len);
		word[len] = 0;
		const char *copy = rules_keep(o, word, e);
		if (!copy || !grow_array(list, cap, *n + 1, sizeof **list))
			return err_set(e, -ENOMEM, "out of memory");
		(*list)[(*n)++] = copy;
	}
	if (*n == 0)
		return conf_error(e, entry, "a list of names expected");
	return 0;
}

int rules_check_selector(const struct conf_entry *entry, const char *text, struct err *e)
{
	struct query_selector *sel;
	struct err se = { 0 };
	if (query_selector_parse(text, &sel, &se) != 0)
		return conf_error(e, entry, "%s", se.msg);
	query_selector_free(sel);
	return 0;
}

static bool valid_name(const char *s)
{
	if (!*s || strlen(s) >= 128)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return false;
	return true;
}

int rules_check_name(const struct conf_entry *entry, struct err *e)
{
	if (!valid_name(entry->name))
		return conf_error(e, entry,
				  "[%s NAME]: the name must be 1 to 127 letters, digits, '_', '.' "
				  "or '-'",
				  entry->section);
	return 0;
}

int rules_duration(const struct conf_entry *entry, int64_t min, int64_t max, int64_t *out,
		   struct err *e)
{
	int rc = conf_duration(entry, min, out, e);
	if (rc)
		return rc;
	if (*out > max) {
		char buf[32];
		return conf_error(e, entry, "at most %s",
				  rtime_format_duration(max, buf, sizeof buf));
	}
	return 0;
}

int rules_severity(struct config_owner *o, const struct conf_entry *entry, const char **out,
		   struct err *e)
{
	const char *v = entry->value;
	if (strcmp(v, "critical") && strcmp(v, "warning") && strcmp(v, "info"))
		return conf_error(e, entry, "critical, warning or info expected");
	return (*out = rules_keep(o, v, e)) ? 0 : -ENOMEM;
}

/* ---- [route NAME] ---- */

static struct route_extra *route_extra_of(struct config_owner *o, struct route *r)
{
	return &o->route_extras[r - o->routes];
}

static int route_severity(struct config_owner *o, void *item, const struct conf_entry *entry,
			  struct err *e)
{
	return rules_severity(o, entry, &((struct route *)item)->severity, e);
}

static int route_match(struct config_owner *o, void *item, const struct conf_entry *entry,
		       struct err *e)
{
	int rc = rules_check_selector(entry, entry->value, e);
	if (rc)
		return rc;
	return (((struct route *)item)->match = rules_keep(o, entry->value, e)) ? 0 : -ENOMEM;
}

static int route_receivers(struct config_owner *o, void *item, const struct conf_entry *entry,
			   struct err *e)
{
	struct route *r = item;
	struct route_extra *x = route_extra_of(o, r);
	x->receivers_line = entry->line;
	return rules_add_words(o, entry, (const char ***)&r->receivers, &r->n_receivers,
			       &x->receivers_cap, e);
}

/* escalate = 30m sms-oncall: after 30 minutes unacknowledged, sms-oncall too. */
static int route_escalate(struct config_owner *o, void *item, const struct conf_entry *entry,
			  struct err *e)
{
	struct route *r = item;
	struct route_extra *x = route_extra_of(o, r);
	char after[32], name[128];
	int end = 0;
	if (sscanf(entry->value, "%31s %127s %n", after, name, &end) != 2 || entry->value[end])
		return conf_error(e, entry, "'DURATION RECEIVER' expected (escalate = 30m sms)");
	int64_t ns;
	struct err de = { 0 };
	if (rtime_parse_duration(after, &ns, &de) != 0)
		return conf_error(e, entry, "%s", de.msg);
	if (r->n_escalate && ns <= r->escalate[r->n_escalate - 1].after_ns)
		return conf_error(e, entry, "escalation steps must come later and later");
	struct route_step *steps = (struct route_step *)r->escalate;
	if (!grow_array(&steps, &x->escalate_cap, r->n_escalate + 1, sizeof *steps))
		return err_set(e, -ENOMEM, "out of memory");
	r->escalate = steps;
	steps[r->n_escalate] = (struct route_step){ ns, rules_keep(o, name, e) };
	if (!steps[r->n_escalate].receiver)
		return -ENOMEM;
	r->n_escalate++;
	return 0;
}

static int route_group_window(struct config_owner *o, void *item, const struct conf_entry *entry,
			      struct err *e)
{
	(void)o;
	return rules_duration(entry, 0, 10 * 60 * RTIME_NS_PER_SEC,
			      &((struct route *)item)->group_window_ns, e);
}

static int route_repeat(struct config_owner *o, void *item, const struct conf_entry *entry,
			struct err *e)
{
	(void)o;
	return rules_duration(entry, 60 * RTIME_NS_PER_SEC, 30 * DAY,
			      &((struct route *)item)->repeat_ns, e);
}

static int route_continue(struct config_owner *o, void *item, const struct conf_entry *entry,
			  struct err *e)
{
	(void)o;
	return conf_bool(entry, &((struct route *)item)->continue_matching, e);
}

static const struct rules_key route_keys[] = {
	{ "severity", route_severity },		{ "match", route_match },
	{ "receivers", route_receivers },	{ "escalate", route_escalate },
	{ "group_window", route_group_window }, { "repeat", route_repeat },
	{ "continue", route_continue },		{ NULL, NULL },
};

int rules_route_open(struct config_owner *o, const struct conf_entry *entry, struct err *e)
{
	int rc = rules_check_name(entry, e);
	if (rc)
		return rc;
	size_t n = o->pub.n_routes;
	if (!grow_array(&o->routes, &o->routes_cap, n + 1, sizeof *o->routes))
		return err_set(e, -ENOMEM, "out of memory");
	struct route_extra *extras = realloc(o->route_extras, o->routes_cap * sizeof *extras);
	if (!extras)
		return err_set(e, -ENOMEM, "out of memory");
	o->route_extras = extras;
	o->routes[n] = (struct route){ .line = entry->section_line, .group_window_ns = -1 };
	o->route_extras[n] = (struct route_extra){ 0 };
	o->pub.routes = o->routes;
	o->pub.n_routes = n + 1;
	struct route *r = &o->routes[n];
	if (!(r->name = rules_keep(o, entry->name, e)) ||
	    !(r->file = rules_keep(o, entry->file, e)))
		return -ENOMEM;
	return 0;
}

int rules_route_setting(struct config_owner *o, const struct conf_entry *entry, struct err *e)
{
	return rules_apply_key(route_keys, o, &o->routes[o->pub.n_routes - 1], entry, e);
}

int rules_route_end(struct config_owner *o, const struct conf_entry *entry, struct err *e)
{
	struct route *r = &o->routes[o->pub.n_routes - 1];
	if (r->n_receivers == 0)
		return conf_error(e, entry, "no receivers: whom does the route tell?");
	return 0;
}

/* ---- [inhibit NAME] ---- */

static int inhibit_source(struct config_owner *o, void *item, const struct conf_entry *entry,
			  struct err *e)
{
	return (((struct inhibit *)item)->source = rules_keep(o, entry->value, e)) ? 0 : -ENOMEM;
}

static int inhibit_target(struct config_owner *o, void *item, const struct conf_entry *entry,
			  struct err *e)
{
	return (((struct inhibit *)item)->target = rules_keep(o, entry->value, e)) ? 0 : -ENOMEM;
}

static int inhibit_equal(struct config_owner *o, void *item, const struct conf_entry *entry,
			 struct err *e)
{
	struct inhibit *in = item;
	size_t cap = in->n_equal; /* grown by doubling from the count: exact after each add */
	const char **list = (const char **)in->equal;
	int rc = rules_add_words(o, entry, &list, &in->n_equal, &cap, e);
	in->equal = list;
	return rc;
}

static const struct rules_key inhibit_keys[] = {
	{ "source", inhibit_source },
	{ "target", inhibit_target },
	{ "equal", inhibit_equal },
	{ NULL, NULL },
};

int rules_inhibit_open(struct config_owner *o, const struct conf_entry *entry, struct err *e)
{
	int rc = rules_check_name(entry, e);
	if (rc)
		return rc;
	size_t n = o->pub.n_inhibits;
	if (!grow_array(&o->inhibits, &o->inhibits_cap, n + 1, sizeof *o->inhibits))
		return err_set(e, -ENOMEM, "out of memory");
	o->inhibits[n] = (struct inhibit){ .line = entry->section_line };
	o->pub.inhibits = o->inhibits;
	o->pub.n_inhibits = n + 1;
	return (o->inhibits[n].file = rules_keep(o, entry->file, e)) ? 0 : -ENOMEM;
}

int rules_inhibit_setting(struct config_owner *o, const struct conf_entry *entry, struct err *e)
{
	return rules_apply_key(inhibit_keys, o, &o->inhibits[o->pub.n_inhibits - 1], entry, e);
}

int rules_inhibit_end(struct config_owner *o, const struct conf_entry *entry, struct err *e)
{
	struct inhibit *in = &o->inhibits[o->pub.n_inhibits - 1];
	if (!in->source || !in->target)
		return conf_error(e, entry, "an inhibition needs a source rule and a target glob");
	if (in->n_equal == 0) {
		const char **host = malloc(sizeof *host);
		if (!host)
			return err_set(e, -ENOMEM, "out of memory");
		host[0] = "host";
		in->equal = host;
		in->n_equal = 1;
	}
	return 0;
}

/* ---- [mute NAME] ---- */

static int day_index(const char *s, size_t len)
{
	static const char *const days[] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };
	for (int i = 0; i < 7; i++)
		if (len == 3 && strncasecmp(s, days[i], 3) == 0)
			return i;
	return -1;
}

/* days = mon-fri, sat   (or * for every day) */
static int mute_days(struct config_owner *o, void *item, const struct conf_entry *entry,
		     struct err *e)
{
	(void)o;
	struct mute *m = item;
	const char *p = entry->value;
	m->days = 0;
	if (strcmp(p, "*") == 0) {
		m->days = 0x7f;
		return 0;
	}
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (!*p)
			break;
		int a =
		    day_index(p, strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"));
		if (a < 0)
			return conf_error(e, entry, "days such as 'mon-fri, sun' or '*' expected");
		p += 3;
		int b = a;
		if (*p == '-') {
			p++;
			b = day_index(
			    p, strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"));
			if (b < 0)
				return conf_error(e, entry, "a day after '-' expected");
			p += 3;
		}
		for (int d = a;; d = (d + 1) % 7) {
			m->days |= 1u << d;
			if (d == b)
				break;
		}
	}
	if (!m->days)
		return conf_error(e, entry, "days such as 'mon-fri, sun' or '*' expected");
	return 0;
}

/* time = 02:00-04:30 (local time; may span midnight: 22:00-06:00) */
static int mute_time(struct config_owner *o, void *item, const struct conf_entry *entry,
		     struct err *e)
{
	(void)o;
	struct mute *m = item;
	int h1, m1, h2, m2, end = 0;
	if (sscanf(entry->value, "%2d:%2d-%2d:%2d%n", &h1, &m1, &h2, &m2, &end) != 4 ||
	    entry->value[end] || h1 > 24 || h2 > 24 || m1 > 59 || m2 > 59 || h1 < 0 || h2 < 0 ||
	    m1 < 0 || m2 < 0 || h1 * 60 + m1 > 1440 || h2 * 60 + m2 > 1440)
		return conf_error(e, entry, "'HH:MM-HH:MM' expected (time = 02:00-04:00)");
	m->start_minute = (h1 * 60 + m1) % 1440;
	m->end_minute = (h2 * 60 + m2) % 1440;
	if (m->start_minute == m->end_minute)
		return conf_error(e, entry, "the window is empty: start and end are the same");
	return 0;
}

static int mute_match(struct config_owner *o, void *item, const struct conf_entry *entry,
		      struct err *e)
{
	int rc = rules_check_selector(entry, entry->value, e);
	if (rc)
		return rc;
	return (((struct mute *)item)->match = rules_keep(o, entry->value, e)) ? 0 : -ENOMEM;
}

static const struct rules_key mute_keys[] = {
	{ "days", mute_days },
	{ "time", mute_time },
	{ "match", mute_match },
	{ NULL, NULL },
};

int rules_mute_open(struct config_owner *o, const struct conf_entry *entry, struct err *e)
{
	int rc = rules_check_name(entry, e);
	if (rc)
		return rc;
	size_t n = o->pub.n_mutes;
	if (!grow_array(&o->mutes, &o->mutes_cap, n + 1, sizeof *o->mutes))
		return err_set(e, -ENOMEM, "out of memory");
	o->mutes[n] =
	    (struct mute){ .line = entry->section_line, .days = 0x7f, .start_minute = -1 };
	o->pub.mutes = o->mutes;
	o->pub.n_mutes = n + 1;
	struct mute *m = &o->mutes[n];
	if (!(m->name = rules_keep(o, entry->name, e)) ||
	    !(m->file = rules_keep(o, entry->file, e)))
		return -ENOMEM;
	return 0;
}

int rules_mute_setting(struct config_owner *o, const struct conf_entry *entry, struct err *e)
{
	return rules_apply_key(mute_keys, o, &o->mutes[o->pub.n_mutes - 1], entry, e);
}

int rules_mute_end(struct config_owner *o, const struct conf_entry *entry, struct err *e)
{
	if (o->mutes[o->pub.n_mutes - 1].start_minute < 0)
		return conf_error(e, entry, "no time: give 'time = HH:MM-HH:MM'");
	return 0;
}
