/* rules_rule.c - the reader of [rule NAME] sections (docs/alerting.md,
 * "Rules"): each key checked where it is written, the expression compiled
 * (alertd/expr.h), and at the section's end what only the whole rule can
 * say (a kind with its threshold, a clear level on the right side). */
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
	return rules_duration(entry, 0, DAY, &((struct rule *)item)->for_ns, e);
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
	return rc ? rc : rules_duration(entry, 10 * RTIME_NS_PER_SEC, 7 * DAY, &r->absent_ns, e);
}

static int rule_predict(struct config_owner *o, void *item, const struct conf_entry *entry,
			struct err *e)
{
	(void)o;
	struct rule *r = item;
	int rc = set_kind(r, RULE_PREDICT, entry, e);
	return rc ? rc : rules_duration(entry, 60 * RTIME_NS_PER_SEC, 30 * DAY, &r->horizon_ns, e);
}

static int rule_anomaly(struct config_owner *o, void *item, const struct conf_entry *entry,
			struct err *e)
{
	(void)o;
	struct rule *r = item;
	int rc = set_kind(r, RULE_ANOMALY, entry, e);
	return rc ? rc
		  : rules_duration(entry, 30 * 60 * RTIME_NS_PER_SEC, 7 * DAY, &r->baseline_ns, e);
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
	return rules_duration(entry, 60 * RTIME_NS_PER_SEC, 30 * DAY, &r->repeat_ns, e);
}

static int rule_severity(struct config_owner *o, void *item, const struct conf_entry *entry,
			 struct err *e)
{
	return rules_severity(o, entry, &((struct rule *)item)->severity, e);
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

static const struct rules_key rule_keys[] = {
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
	int rc = rules_check_name(entry, e);
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
	return rules_apply_key(rule_keys, o, &o->rules[o->pub.n_rules - 1], entry, e);
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
