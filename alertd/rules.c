/* rules.c - alertd's configuration reader (alertd/rules.h): the settings of
 * [alertd] and [report] from a table, the other sections handed to their
 * readers (rules_sections.c, and alertd/receiver.h for receivers), then the
 * checks only the whole configuration can make: every receiver, rule and
 * dependency a section names must exist somewhere in the files read. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alertd/expr.h"
#include "alertd/rules_private.h"
#include "lib/grow.h"
#include "lib/rtime.h"

#define AT(field) offsetof(struct alert_config, field)

static const struct setting table[] = {
	{ "alertd", "group_window", SETTING_DURATION, AT(group_window_ns), 0, 0, 0 },
	{ "alertd", "repeat", SETTING_DURATION, AT(repeat_ns), 60 * RTIME_NS_PER_SEC, 0, 0 },
	{ "alertd", "flap_window", SETTING_DURATION, AT(flap_window_ns), 0, 0, 0 },
	{ "alertd", "resolved_keep", SETTING_DURATION, AT(resolved_keep_ns), 60 * RTIME_NS_PER_SEC,
	  0, 0 },
	{ "report", "url", SETTING_STRING, AT(report_url), 1, 0, 0 },
	{ "web", "action_url", SETTING_STRING, AT(web_action_url), 1, 0, 0 },
	{ NULL, NULL, 0, 0, 0, 0, 0 },
};

/* The sections read here, by the reader of each. */
static const struct section {
	const char *name;
	int (*open)(struct config_owner *o, const struct conf_entry *entry, struct err *e);
	int (*setting)(struct config_owner *o, const struct conf_entry *entry, struct err *e);
	int (*end)(struct config_owner *o, const struct conf_entry *entry, struct err *e);
} sections[] = {
	{ "rule", rules_rule_open, rules_rule_setting, rules_rule_end },
	{ "route", rules_route_open, rules_route_setting, rules_route_end },
	{ "inhibit", rules_inhibit_open, rules_inhibit_setting, rules_inhibit_end },
	{ "mute", rules_mute_open, rules_mute_setting, rules_mute_end },
	{ "override", rules_override_open, rules_override_setting, rules_override_end },
	{ NULL, NULL, NULL, NULL },
};

static const struct section *section_of(const char *name)
{
	for (const struct section *s = sections; s->name; s++)
		if (strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

/* True when entry belongs to the section opened last (sections may appear
 * once in all files, so file and header line name it). */
static bool is_open(const struct config_owner *o, const struct conf_entry *entry)
{
	return o->open_section && strcmp(o->open_section, entry->section) == 0 &&
	       o->open_line == entry->section_line && o->open_file &&
	       strcmp(o->open_file, entry->file) == 0;
}

static int open_section(struct config_owner *o, const struct conf_entry *entry, struct err *e)
{
	const struct section *s = section_of(entry->section);
	if (s) {
		if (!entry->name[0])
			return conf_error(e, entry, "[%s NAME]: the section needs a name",
					  entry->section);
		int rc = s->open(o, entry, e);
		if (rc)
			return rc;
	} else if (strcmp(entry->section, "receiver") == 0) {
		int rc = receiver_new(entry, &o->open_receiver, e);
		if (rc)
			return rc;
	}
	if (!(o->open_section = rules_keep(o, entry->section, e)) ||
	    !(o->open_file = rules_keep(o, entry->file, e)))
		return -ENOMEM;
	o->open_line = entry->section_line;
	return 0;
}

/* True for an entry of the file alert_config_read_file_with replaces. */
static bool skipped(const struct config_owner *o, const struct conf_entry *entry)
{
	return o->skip_file && strcmp(entry->file, o->skip_file) == 0;
}

static int on_setting(void *ctx, const struct conf_entry *entry, struct err *e)
{
	struct config_owner *o = ctx;
	if (skipped(o, entry))
		return 0;
	if (!entry->section[0])
		return conf_error(e, entry,
				  "unknown setting outside a section (only 'include' is read "
				  "there)");
	const struct section *s = section_of(entry->section);
	bool receiver = strcmp(entry->section, "receiver") == 0;
	if (!s && !receiver) {
		int rc = settings_apply(&o->keep, entry, e);
		if (rc == SETTINGS_UNKNOWN)
			return conf_error(e, entry,
					  "unknown section [%s] (alertd, report, web, rule, route, "
					  "receiver, inhibit, mute, override)",
					  entry->section);
		return rc;
	}
	if (!is_open(o, entry)) {
		int rc = open_section(o, entry, e);
		if (rc)
			return rc;
	}
	if (receiver)
		return receiver_apply(o->open_receiver, entry, e);
	return s->setting(o, entry, e);
}

static int on_section_end(void *ctx, const struct conf_entry *entry, struct err *e)
{
	struct config_owner *o = ctx;
	const struct section *s = section_of(entry->section);
	bool receiver = strcmp(entry->section, "receiver") == 0;
	if ((!s && !receiver) || skipped(o, entry))
		return 0;
	if (!is_open(o, entry)) { /* a section without settings */
		int rc = open_section(o, entry, e);
		if (rc)
			return rc;
	}
	o->open_section = NULL;
	if (!receiver)
		return s->end(o, entry, e);
	struct receiver *r = o->open_receiver;
	o->open_receiver = NULL;
	int rc = receiver_check(r, entry, e);
	if (rc == 0 && !grow_array(&o->receivers, &o->receivers_cap, o->pub.n_receivers + 1,
				   sizeof *o->receivers))
		rc = err_set(e, -ENOMEM, "out of memory");
	if (rc) {
		receiver_free(r);
		return rc;
	}
	o->receivers[o->pub.n_receivers++] = r;
	o->pub.receivers = (const struct receiver *const *)o->receivers;
	return 0;
}

/* ---- the whole ---- */

static void list_receivers(const struct alert_config *cfg, char *buf, size_t cap)
{
	size_t len = 0;
	buf[0] = 0;
	for (size_t i = 0; i < cfg->n_receivers && len + 1 < cap; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? ", " : "",
					cfg->receivers[i]->name);
	if (!cfg->n_receivers)
		snprintf(buf, cap, "none is defined");
}

static int unknown_receiver(const struct alert_config *cfg, const char *file, int line,
			    const char *section, const char *name, const char *receiver,
			    struct err *e)
{
	char known[256];
	list_receivers(cfg, known, sizeof known);
	return err_set(e, -EINVAL, "%s:%d: [%s %s]: receiver '%s' is not defined (%s)", file, line,
		       section, name, receiver, known);
}

static int check_whole(struct config_owner *o, struct err *e)
{
	struct alert_config *cfg = &o->pub;
	int rc = rules_apply_overrides(o, e);
	if (rc)
		return rc;
	for (size_t i = 0; i < cfg->n_rules; i++) {
		struct rule *r = &o->rules[i];
		struct rule_extra *x = &o->rule_extras[i];
		for (size_t j = 0; j < r->n_receivers; j++)
			if (!alert_config_receiver(cfg, r->receivers[j]))
				return unknown_receiver(cfg, r->file, x->receivers_line, "rule",
							r->name, r->receivers[j], e);
		for (size_t j = 0; j < r->n_depends_on; j++) {
			const struct rule *d = alert_config_rule(cfg, r->depends_on[j]);
			if (!d)
				return err_set(e, -EINVAL,
					       "%s:%d: [rule %s]: depends_on '%s': no such rule",
					       r->file, x->depends_line, r->name, r->depends_on[j]);
			if (d == r)
				return err_set(e, -EINVAL,
					       "%s:%d: [rule %s]: depends_on names the rule itself",
					       r->file, x->depends_line, r->name);
		}
		if (r->repeat_ns == 0)
			r->repeat_ns = cfg->repeat_ns;
		else if (r->repeat_ns < 0)
			r->repeat_ns = 0; /* never */
	}
	for (size_t i = 0; i < cfg->n_routes; i++) {
		const struct route *r = &o->routes[i];
		for (size_t j = 0; j < r->n_receivers; j++)
			if (!alert_config_receiver(cfg, r->receivers[j]))
				return unknown_receiver(cfg, r->file,
							o->route_extras[i].receivers_line, "route",
							r->name, r->receivers[j], e);
		for (size_t j = 0; j < r->n_escalate; j++)
			if (!alert_config_receiver(cfg, r->escalate[j].receiver))
				return unknown_receiver(cfg, r->file, r->line, "route", r->name,
							r->escalate[j].receiver, e);
		if (o->routes[i].group_window_ns < 0)
			o->routes[i].group_window_ns = cfg->group_window_ns;
	}
	for (size_t i = 0; i < cfg->n_inhibits; i++) {
		const struct inhibit *in = &o->inhibits[i];
		if (!alert_config_rule(cfg, in->source))
			return err_set(e, -EINVAL, "%s:%d: inhibit source '%s': no such rule",
				       in->file, in->line, in->source);
	}
	return 0;
}

void alert_config_free(struct alert_config *cfg)
{
	if (!cfg)
		return;
	struct config_owner *o = (struct config_owner *)cfg;
	for (size_t i = 0; i < cfg->n_rules; i++) {
		expr_free(o->rules[i].compiled);
		free((void *)o->rules[i].receivers);
		free((void *)o->rules[i].group_by);
		free((void *)o->rules[i].depends_on);
	}
	for (size_t i = 0; i < cfg->n_receivers; i++)
		receiver_free(o->receivers[i]);
	receiver_free(o->open_receiver);
	for (size_t i = 0; i < cfg->n_routes; i++) {
		free((void *)o->routes[i].receivers);
		free((void *)o->routes[i].escalate);
	}
	for (size_t i = 0; i < cfg->n_inhibits; i++)
		free((void *)o->inhibits[i].equal);
	free(o->rules);
	free(o->rule_extras);
	free(o->receivers);
	free(o->routes);
	free(o->route_extras);
	free(o->inhibits);
	free(o->mutes);
	free(o->overrides);
	settings_release(&o->keep);
	free(o);
}

static struct config_owner *owner_new(void)
{
	struct config_owner *o = calloc(1, sizeof *o);
	if (!o)
		return NULL;
	o->keep.table = table;
	o->keep.base = &o->pub;
	o->pub.group_window_ns = 500 * RTIME_NS_PER_MS;
	o->pub.repeat_ns = 4 * 3600 * RTIME_NS_PER_SEC;
	o->pub.flap_window_ns = 2 * 60 * RTIME_NS_PER_SEC;
	o->pub.resolved_keep_ns = 7 * 24 * 3600 * RTIME_NS_PER_SEC;
	return o;
}

static int finish(struct config_owner *o, int rc, const char *source, struct alert_config **out,
		  struct err *e)
{
	if (rc == 0)
		rc = check_whole(o, e);
	if (rc == 0 && !(o->pub.source = rules_keep(o, source, e)))
		rc = -ENOMEM;
	if (rc) {
		alert_config_free(&o->pub);
		return rc;
	}
	*out = &o->pub;
	return 0;
}

static const struct conf_hooks hooks = { on_setting, on_section_end };

int alert_config_read_text(const char *text, const char *name, struct alert_config **out,
			   struct err *e)
{
	struct config_owner *o = owner_new();
	if (!o)
		return err_set(e, -ENOMEM, "out of memory");
	int rc = conf_read_text(text, name, &hooks, o, e);
	return finish(o, rc, name, out, e);
}

int alert_config_read_file(const char *path, struct alert_config **out, struct err *e)
{
	if (!path)
		return alert_config_read_text(alert_config_default, "<embedded>", out, e);
	struct config_owner *o = owner_new();
	if (!o)
		return err_set(e, -ENOMEM, "out of memory");
	int rc = conf_read_file(path, &hooks, o, e);
	return finish(o, rc, path, out, e);
}

int alert_config_read_file_with(const char *path, const char *replace_path,
				const char *replace_text, struct alert_config **out, struct err *e)
{
	struct config_owner *o = owner_new();
	if (!o)
		return err_set(e, -ENOMEM, "out of memory");
	o->skip_file = replace_path;
	int rc = path ? conf_read_file(path, &hooks, o, e)
		      : conf_read_text(alert_config_default, "<embedded>", &hooks, o, e);
	o->skip_file = NULL;
	if (rc == 0)
		rc = conf_read_text(replace_text, replace_path, &hooks, o, e);
	return finish(o, rc, path ? path : "<embedded>", out, e);
}

const struct rule *alert_config_rule(const struct alert_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_rules; i++)
		if (strcmp(cfg->rules[i].name, name) == 0)
			return &cfg->rules[i];
	return NULL;
}

const struct receiver *alert_config_receiver(const struct alert_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_receivers; i++)
		if (strcmp(cfg->receivers[i]->name, name) == 0)
			return cfg->receivers[i];
	return NULL;
}

bool mute_open(const struct mute *m, int64_t now)
{
	time_t t = (time_t)(now / RTIME_NS_PER_SEC);
	struct tm tm;
	if (!localtime_r(&t, &tm))
		return false;
	unsigned today = (unsigned)(tm.tm_wday + 6) % 7, yesterday = (today + 6) % 7;
	int minute = tm.tm_hour * 60 + tm.tm_min;
	if (m->start_minute < m->end_minute)
		return (m->days >> today & 1) && minute >= m->start_minute &&
		       minute < m->end_minute;
	/* Spans midnight: the evening of a listed day, or the morning after it. */
	return ((m->days >> today & 1) && minute >= m->start_minute) ||
	       ((m->days >> yesterday & 1) && minute < m->end_minute);
}
