/* rules_sections.c - the readers of [rule NAME], [route NAME], [inhibit NAME]
 * and [mute NAME] (docs/alerting.md): one table of keys per section, each
 * key checked where it is written so an error names its line; the
 * section's end checks what only the whole can say. */
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

struct key {
	const char *key;
	int (*apply)(struct config_owner *o, void *item, const struct conf_entry *entry,
		     struct err *e);
};

static int unknown_key(const struct key *keys, const struct conf_entry *entry, struct err *e)
{
	char list[400];
	size_t len = 0;
	list[0] = 0;
	for (const struct key *k = keys; k->key && len < sizeof list - 40; k++)
		len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", len ? ", " : "",
					k->key);
	return conf_error(e, entry, "unknown key (%s)", list);
}

static int apply_key(const struct key *keys, struct config_owner *o, void *item,
		     const struct conf_entry *entry, struct err *e)
{
	for (const struct key *k = keys; k->key; k++)
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

static int check_name(const struct conf_entry *entry, struct err *e)
{
	if (!valid_name(entry->name))
		return conf_error(e, entry,
				  "[%s NAME]: the name must be 1 to 127 letters, digits, '_', '.' "
				  "or '-'",
				  entry->section);
	return 0;
}

static int duration(const struct conf_entry *entry, int64_t min, int64_t max, int64_t *out,
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

/* ---- [rule NAME] ---- */

static struct rule_extra *extra_of(struct config_owner *o, struct rule *r)
{
	return &o->rule_extras[r - o->rules];
}

static int rule_enabled(struct config_owner *o, void *item, const struct conf_entry *entry,
			struct err *e)
{
	(void)o;
	return conf_bool(entry, &((struct rule *)item)->enabled, e);
}

/* The metric glob of a selector: between its '/' and its '{'. */
static const char *metric_of(struct config_owner *o, const char *selector, struct err *e)
{
	char buf[SERIES_NAME_MAX + 1];
	const char *s = selector, *slash = strchr(selector, '/'), *brace = strchr(selector, '{');
	if (slash && (!brace || slash < brace))
		s = slash + 1;
	size_t len = brace ? (size_t)(brace - s) : strlen(s);
	if (len >= sizeof buf)
		len = sizeof buf - 1;
	memcpy(buf, s, len);
	buf[len] = 0;
	return rules_keep(o, buf, e);
}

static int rule_expr(struct config_owner *o, void *item, const struct conf_entry *entry,
		     struct err *e)
{
	struct rule *r = item;
	struct rule_expr *x;
	struct err xe = { 0 };
	if (expr_compile(entry->value, &x, &xe) != 0)
		return conf_error(e, entry, "%s", xe.msg);
	for (size_t i = 0; i < expr_n_leaves(x); i++) {
		const struct expr_leaf *l = expr_leaf(x, i);
		int rc = 0;
		if (l->window_ns && (l->window_ns < RTIME_NS_PER_SEC || l->window_ns > 7 * DAY))
			rc = conf_error(e, entry, "%s: a window from 1s to 7d", l->text);
		else if (l->func == EXPR_LATEST && l->window_ns && !expr_is_bare_window(x))
			rc = conf_error(e, entry,
					"%s: a window needs a function: avg, min, max, last, "
					"rate, increase or deriv",
					l->text);
		if (rc) { /* the message names the leaf: free it after */
			expr_free(x);
			return rc;
		}
	}
	expr_free(r->compiled);
	r->compiled = x;
	extra_of(o, r)->expr_line = entry->line;
	if (!(r->expr = rules_keep(o, entry->value, e)) ||
	    !(r->selector = rules_keep(o, expr_leaf(x, 0)->text, e)) ||
	    !(r->metric = metric_of(o, r->selector, e)))
		return -ENOMEM;
	r->window_ns = expr_window(x);
	return 0;
}

static int rule_level(const struct conf_entry *entry, double *out, struct err *e)
{
	int rc = conf_double(entry, out, e);
	if (rc == 0 && !isfinite(*out))
		return conf_error(e, entry, "a finite number expected");
	return rc;
}

static int rule_above(struct config_owner *o, void *item, const struct conf_entry *entry,
		      struct err *e)
{
	struct rule *r = item;
	struct rule_extra *x = extra_of(o, r);
	if (x->has_below)
		return conf_error(e, entry,
				  "a rule is either above or below a threshold, not both");
	x->has_above = true;
	r->op = RULE_ABOVE;
	return rule_level(entry, &r->threshold, e);
}

static int rule_below(struct config_owner *o, void *item, const struct conf_entry *entry,
		      struct err *e)
{
	struct rule *r = item;
	struct rule_extra *x = extra_of(o, r);
	if (x->has_above)
		return conf_error(e, entry,
				  "a rule is either above or below a threshold, not both");
	x->has_below = true;
	r->op = RULE_BELOW;
	return rule_level(entry, &r->threshold, e);
}

static int rule_clear(struct config_owner *o, void *item, const struct conf_entry *entry,
		      struct err *e)
{
	struct rule *r = item;
	extra_of(o, r)->has_clear = true;
	return rule_level(entry, &r->clear, e);
}

static int rule_for(struct config_owner *o, void *item, const struct conf_entry *entry,
		    struct err *e)
{
	(void)o;
	if (strcmp(entry->value, "0") == 0) {
		((struct rule *)item)->for_ns = 0;
		return 0;
	}
	return duration(entry, 0, DAY, &((struct rule *)item)->for_ns, e);
}

/* A rule is of one kind; the key that names it may be given once. */
static int set_kind(struct rule *r, enum rule_kind kind, const struct conf_entry *entry,
		    struct err *e)
{
	static const char *const keys[] = { "", "absent", "predict", "anomaly" };
	if (r->kind != RULE_THRESHOLD && r->kind != kind)
		return conf_error(e, entry, "the rule is already an '%s' rule: one kind per rule",
				  keys[r->kind]);
	r->kind = kind;
	return 0;
}

static int rule_absent(struct config_owner *o, void *item, const struct conf_entry *entry,
		       struct err *e)
{
	(void)o;
	struct rule *r = item;
	int rc = set_kind(r, RULE_ABSENCE, entry, e);
	return rc ? rc : duration(entry, 10 * RTIME_NS_PER_SEC, 7 * DAY, &r->absent_ns, e);
}

static int rule_predict(struct config_owner *o, void *item, const struct conf_entry *entry,
			struct err *e)
{
	(void)o;
	struct rule *r = item;
	int rc = set_kind(r, RULE_PREDICT, entry, e);
	return rc ? rc : duration(entry, 60 * RTIME_NS_PER_SEC, 30 * DAY, &r->horizon_ns, e);
}

static int rule_anomaly(struct config_owner *o, void *item, const struct conf_entry *entry,
			struct err *e)
{
	(void)o;
	struct rule *r = item;
	int rc = set_kind(r, RULE_ANOMALY, entry, e);
	return rc ? rc : duration(entry, 30 * 60 * RTIME_NS_PER_SEC, 7 * DAY, &r->baseline_ns, e);
}

static int rule_deviations(struct config_owner *o, void *item, const struct conf_entry *entry,
			   struct err *e)
{
	struct rule *r = item;
	int rc = rule_level(entry, &r->deviations, e);
	if (rc == 0 && (r->deviations < 1 || r->deviations > 100))
		return conf_error(e, entry, "from 1 to 100 expected");
	extra_of(o, r)->has_deviations = true;
	return rc;
}

static int rule_repeat(struct config_owner *o, void *item, const struct conf_entry *entry,
		       struct err *e)
{
	(void)o;
	struct rule *r = item;
	if (strcmp(entry->value, "never") == 0) {
		r->repeat_ns = -1; /* 0 after the reading: "never" */
		return 0;
	}
	return duration(entry, 60 * RTIME_NS_PER_SEC, 30 * DAY, &r->repeat_ns, e);
}

static int rule_severity(struct config_owner *o, void *item, const struct conf_entry *entry,
			 struct err *e)
{
	struct rule *r = item;
	const char *v = entry->value;
	if (strcmp(v, "critical") && strcmp(v, "warning") && strcmp(v, "info"))
		return conf_error(e, entry, "critical, warning or info expected");
	return (r->severity = rules_keep(o, v, e)) ? 0 : -ENOMEM;
}

static int rule_unit(struct config_owner *o, void *item, const struct conf_entry *entry,
		     struct err *e)
{
	return (((struct rule *)item)->unit = rules_keep(o, entry->value, e)) ? 0 : -ENOMEM;
}

static int template(struct config_owner *o, const char **field, const struct conf_entry *entry,
		    struct err *e)
{
	struct err te = { 0 };
	if (rule_template_check(entry->value, &te) != 0)
		return conf_error(e, entry, "%s", te.msg);
	return (*field = rules_keep(o, entry->value, e)) ? 0 : -ENOMEM;
}

static int rule_summary(struct config_owner *o, void *item, const struct conf_entry *entry,
			struct err *e)
{
	return template(o, &((struct rule *)item)->summary, entry, e);
}

static int rule_description(struct config_owner *o, void *item, const struct conf_entry *entry,
			    struct err *e)
{
	return template(o, &((struct rule *)item)->description, entry, e);
}

static int rule_receivers(struct config_owner *o, void *item, const struct conf_entry *entry,
			  struct err *e)
{
	struct rule *r = item;
	struct rule_extra *x = extra_of(o, r);
	x->receivers_line = entry->line;
	return rules_add_words(o, entry, (const char ***)&r->receivers, &r->n_receivers,
			       &x->receivers_cap, e);
}

static int rule_group_by(struct config_owner *o, void *item, const struct conf_entry *entry,
			 struct err *e)
{
	struct rule *r = item;
	size_t first = r->n_group_by;
	int rc = rules_add_words(o, entry, (const char ***)&r->group_by, &r->n_group_by,
				 &extra_of(o, r)->group_cap, e);
	for (size_t i = first; rc == 0 && i < r->n_group_by; i++) {
		struct err le = { 0 };
		const char *l = r->group_by[i];
		if (series_check_label_name(l, strlen(l), &le) != 0)
			return conf_error(e, entry, "%s", le.msg);
	}
	return rc;
}

static int rule_depends_on(struct config_owner *o, void *item, const struct conf_entry *entry,
			   struct err *e)
{
	struct rule *r = item;
	struct rule_extra *x = extra_of(o, r);
	x->depends_line = entry->line;
	return rules_add_words(o, entry, (const char ***)&r->depends_on, &r->n_depends_on,
			       &x->depends_cap, e);
}

static const struct key rule_keys[] = {
	{ "expr", rule_expr },
	{ "above", rule_above },
	{ "below", rule_below },
	{ "clear", rule_clear },
	{ "for", rule_for },
	{ "absent", rule_absent },
	{ "predict", rule_predict },
	{ "anomaly", rule_anomaly },
	{ "deviations", rule_deviations },
	{ "severity", rule_severity },
	{ "unit", rule_unit },
	{ "summary", rule_summary },
	{ "description", rule_description },
	{ "receivers", rule_receivers },
	{ "group_by", rule_group_by },
	{ "depends_on", rule_depends_on },
	{ "repeat", rule_repeat },
	{ "enabled", rule_enabled },
	{ NULL, NULL },
};

int rules_rule_open(struct config_owner *o, const struct conf_entry *entry, struct err *e)
{
	int rc = check_name(entry, e);
	if (rc)
		return rc;
	size_t n = o->pub.n_rules;
	if (!grow_array(&o->rules, &o->rules_cap, n + 1, sizeof *o->rules))
		return err_set(e, -ENOMEM, "out of memory");
	struct rule_extra *extras = realloc(o->rule_extras, o->rules_cap * sizeof *extras);
	if (!extras)
		return err_set(e, -ENOMEM, "out of memory");
	o->rule_extras = extras;
	o->rules[n] =
	    (struct rule){ .enabled = true, .kind = RULE_THRESHOLD, .line = entry->section_line };
	o->rule_extras[n] = (struct rule_extra){ 0 };
	o->pub.rules = o->rules;
	o->pub.n_rules = n + 1;
	struct rule *r = &o->rules[n];
	if (!(r->name = rules_keep(o, entry->name, e)) ||
	    !(r->file = rules_keep(o, entry->file, e)))
		return -ENOMEM;
	return 0;
}

int rules_rule_setting(struct config_owner *o, const struct conf_entry *entry, struct err *e)
{
	return apply_key(rule_keys, o, &o->rules[o->pub.n_rules - 1], entry, e);
}

int rules_rule_end(struct config_owner *o, const struct conf_entry *entry, struct err *e)
{
	struct rule *r = &o->rules[o->pub.n_rules - 1];
	struct rule_extra *x = extra_of(o, r);
	bool level = x->has_above || x->has_below;
	if (!r->compiled)
		return conf_error(e, entry, "no expr: what does the rule watch?");
	switch (r->kind) {
	case RULE_THRESHOLD:
		if (!level)
			return conf_error(e, entry,
					  "no threshold: give 'above = N' or 'below = N'");
		if (expr_is_bare_window(r->compiled))
			return conf_error(e, entry,
					  "expr '%s' has a window but no function: avg(...), "
					  "rate(...), ... (a bare window is for predict)",
					  r->expr);
		break;
	case RULE_ABSENCE:
		if (level || x->has_clear)
			return conf_error(e, entry,
					  "an 'absent' rule takes no threshold: it fires when "
					  "the selector has no sample for %s",
					  entry->name);
		if (expr_n_leaves(r->compiled) != 1 || !expr_is_single_leaf(r->compiled) ||
		    expr_leaf(r->compiled, 0)->func != EXPR_LATEST)
			return conf_error(e, entry,
					  "an 'absent' rule's expr is one selector, without "
					  "function or window");
		break;
	case RULE_PREDICT:
		if (!level)
			return conf_error(e, entry,
					  "no threshold: a prediction says when the series will "
					  "be above or below a level ('below = 0')");
		if (!expr_is_bare_window(r->compiled))
			return conf_error(e, entry,
					  "a 'predict' rule's expr is one selector with the window "
					  "to fit: node_filesystem_avail_bytes[6h]");
		if (r->window_ns < 10 * 60 * RTIME_NS_PER_SEC)
			return conf_error(e, entry, "a prediction fits a window of at least 10m");
		break;
	case RULE_ANOMALY:
		if (level || x->has_clear)
			return conf_error(e, entry,
					  "an 'anomaly' rule takes no threshold: its range is "
					  "learnt ('deviations' sets its width)");
		if (!expr_is_single_leaf(r->compiled))
			return conf_error(e, entry,
					  "an 'anomaly' rule's expr is one selector, bare or in "
					  "one function: avg(x[1m]), rate(x[5m])");
		if (!x->has_deviations)
			r->deviations = 6;
		r->threshold = r->deviations;
		break;
	}
	if (x->has_deviations && r->kind != RULE_ANOMALY)
		return conf_error(e, entry, "'deviations' is for 'anomaly' rules only");
	if (!x->has_clear) {
		r->clear = r->threshold;
	} else if (r->op == RULE_ABOVE && r->clear > r->threshold) {
		return conf_error(e, entry,
				  "clear = %g is above the threshold %g: a rule that fires above "
				  "%g clears at or below it",
				  r->clear, r->threshold, r->threshold);
	} else if (r->op == RULE_BELOW && r->clear < r->threshold) {
		return conf_error(e, entry,
				  "clear = %g is below the threshold %g: a rule that fires below "
				  "%g clears at or above it",
				  r->clear, r->threshold, r->threshold);
	}
	if (!r->severity)
		r->severity = "warning";
	if (!r->summary)
		r->summary = r->kind == RULE_ABSENCE ? "{rule} on {host}{labels}: {detail}"
			     : r->kind == RULE_ANOMALY
				 ? "{rule} on {host}{labels}: {value}, {detail}"
				 : "{rule} on {host}{labels}: {value} (threshold {threshold})";
	return 0;
}

/* ---- [route NAME] ---- */

static struct route_extra *route_extra_of(struct config_owner *o, struct route *r)
{
	return &o->route_extras[r - o->routes];
}

static int route_severity(struct config_owner *o, void *item, const struct conf_entry *entry,
			  struct err *e)
{
	struct rule tmp = { 0 };
	int rc = rule_severity(o, &tmp, entry, e);
	((struct route *)item)->severity = tmp.severity;
	return rc;
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
	return duration(entry, 0, 10 * 60 * RTIME_NS_PER_SEC,
			&((struct route *)item)->group_window_ns, e);
}

static int route_repeat(struct config_owner *o, void *item, const struct conf_entry *entry,
			struct err *e)
{
	(void)o;
	return duration(entry, 60 * RTIME_NS_PER_SEC, 30 * DAY, &((struct route *)item)->repeat_ns,
			e);
}

static int route_continue(struct config_owner *o, void *item, const struct conf_entry *entry,
			  struct err *e)
{
	(void)o;
	return conf_bool(entry, &((struct route *)item)->continue_matching, e);
}

static const struct key route_keys[] = {
	{ "severity", route_severity },		{ "match", route_match },
	{ "receivers", route_receivers },	{ "escalate", route_escalate },
	{ "group_window", route_group_window }, { "repeat", route_repeat },
	{ "continue", route_continue },		{ NULL, NULL },
};

int rules_route_open(struct config_owner *o, const struct conf_entry *entry, struct err *e)
{
	int rc = check_name(entry, e);
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
	return apply_key(route_keys, o, &o->routes[o->pub.n_routes - 1], entry, e);
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

static const struct key inhibit_keys[] = {
	{ "source", inhibit_source },
	{ "target", inhibit_target },
	{ "equal", inhibit_equal },
	{ NULL, NULL },
};

int rules_inhibit_open(struct config_owner *o, const struct conf_entry *entry, struct err *e)
{
	int rc = check_name(entry, e);
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
	return apply_key(inhibit_keys, o, &o->inhibits[o->pub.n_inhibits - 1], entry, e);
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

static const struct key mute_keys[] = {
	{ "days", mute_days },
	{ "time", mute_time },
	{ "match", mute_match },
	{ NULL, NULL },
};

int rules_mute_open(struct config_owner *o, const struct conf_entry *entry, struct err *e)
{
	int rc = check_name(entry, e);
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
	return apply_key(mute_keys, o, &o->mutes[o->pub.n_mutes - 1], entry, e);
}

int rules_mute_end(struct config_owner *o, const struct conf_entry *entry, struct err *e)
{
	if (o->mutes[o->pub.n_mutes - 1].start_minute < 0)
		return conf_error(e, entry, "no time: give 'time = HH:MM-HH:MM'");
	return 0;
}
