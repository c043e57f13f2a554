/* rules_override.c - [override RULE] sections: a rule defined in one file
 * switched off, or given another threshold, clear level or `for`, from
 * another.  rmon-web writes its edits this way into a drop-in
 * (rules.d/50-web.conf), so the files a person wrote are never rewritten.
 * Overrides are applied once every file is read, and the rule is checked
 * again as a whole. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "alertd/rules_private.h"
#include "lib/grow.h"
#include "lib/rtime.h"

int rules_override_open(struct config_owner *o, const struct conf_entry *entry, struct err *e)
{
	if (!grow_array(&o->overrides, &o->overrides_cap, o->n_overrides + 1, sizeof *o->overrides))
		return err_set(e, -ENOMEM, "out of memory");
	struct rule_override *ov = &o->overrides[o->n_overrides++];
	*ov = (struct rule_override){ .line = entry->section_line };
	if (!(ov->rule = rules_keep(o, entry->name, e)) ||
	    !(ov->file = rules_keep(o, entry->file, e)))
		return -ENOMEM;
	return 0;
}

int rules_override_setting(struct config_owner *o, const struct conf_entry *entry, struct err *e)
{
	struct rule_override *ov = &o->overrides[o->n_overrides - 1];
	if (strcmp(entry->key, "enabled") == 0) {
		ov->has_enabled = true;
		return conf_bool(entry, &ov->enabled, e);
	}
	if (strcmp(entry->key, "threshold") == 0) {
		ov->has_threshold = true;
		return conf_double(entry, &ov->threshold, e);
	}
	if (strcmp(entry->key, "clear") == 0) {
		ov->has_clear = true;
		return conf_double(entry, &ov->clear, e);
	}
	if (strcmp(entry->key, "for") == 0) {
		ov->has_for = true;
		if (strcmp(entry->value, "0") == 0) {
			ov->for_ns = 0;
			return 0;
		}
		int rc = conf_duration(entry, 0, &ov->for_ns, e);
		if (rc == 0 && ov->for_ns > 24 * 3600 * RTIME_NS_PER_SEC)
			return conf_error(e, entry, "at most 1d");
		return rc;
	}
	return conf_error(e, entry, "unknown key (enabled, threshold, clear, for)");
}

int rules_override_end(struct config_owner *o, const struct conf_entry *entry, struct err *e)
{
	(void)o, (void)entry, (void)e;
	return 0;
}

static int apply(struct config_owner *o, const struct rule_override *ov, struct err *e)
{
	struct rule *r = NULL;
	struct rule_extra *x = NULL;
	for (size_t i = 0; i < o->pub.n_rules; i++)
		if (strcmp(o->rules[i].name, ov->rule) == 0)
			r = &o->rules[i], x = &o->rule_extras[i];
	if (!r)
		return err_set(e, -EINVAL, "%s:%d: [override %s]: no such rule", ov->file, ov->line,
			       ov->rule);
	bool levels = r->kind == RULE_THRESHOLD || r->kind == RULE_PREDICT;
	if ((ov->has_threshold || ov->has_clear) && !levels)
		return err_set(e, -EINVAL,
			       "%s:%d: [override %s]: the rule has no threshold to change (it is "
			       "an %s rule)",
			       ov->file, ov->line, ov->rule,
			       r->kind == RULE_ABSENCE ? "absence" : "anomaly");
	if (ov->has_enabled)
		r->enabled = ov->enabled;
	if (ov->has_for)
		r->for_ns = ov->for_ns;
	if (ov->has_threshold) {
		if (!x->has_clear && !ov->has_clear)
			r->clear = ov->threshold; /* it clears where it fires, as before */
		r->threshold = ov->threshold;
	}
	if (ov->has_clear)
		r->clear = ov->clear;
	if (r->op == RULE_ABOVE && r->clear > r->threshold)
		return err_set(e, -EINVAL,
			       "%s:%d: [override %s]: clear %g is above the threshold %g: a rule "
			       "that fires above %g clears at or below it",
			       ov->file, ov->line, ov->rule, r->clear, r->threshold, r->threshold);
	if (r->op == RULE_BELOW && r->clear < r->threshold)
		return err_set(e, -EINVAL,
			       "%s:%d: [override %s]: clear %g is below the threshold %g: a rule "
			       "that fires below %g clears at or above it",
			       ov->file, ov->line, ov->rule, r->clear, r->threshold, r->threshold);
	return 0;
}

int rules_apply_overrides(struct config_owner *o, struct err *e)
{
	for (size_t i = 0; i < o->n_overrides; i++) {
		int rc = apply(o, &o->overrides[i], e);
		if (rc)
			return rc;
	}
	return 0;
}
