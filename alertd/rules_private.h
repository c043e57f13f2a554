/* rules_private.h - what the config reader's files share (rules.c reads
 * and checks the whole, rules_rule.c reads rules, rules_sections.c the
 * other sections). */
#ifndef RMON_ALERTD_RULES_PRIVATE_H
#define RMON_ALERTD_RULES_PRIVATE_H

#include "alertd/rules.h"
#include "lib/conf.h"
#include "lib/settings.h"

/* What the reader keeps of a rule besides struct rule, to check it as a
 * whole and to name the line of a key in a later error. */
struct rule_extra {
	bool has_above, has_below, has_clear, has_deviations;
	int receivers_line, depends_line, expr_line;
	size_t receivers_cap, group_cap, depends_cap;
};

struct route_extra {
	int receivers_line;
	size_t receivers_cap, escalate_cap;
};

/* The reader and, after it, the owner of everything alert_config_* hands
 * out: pub is what callers see. */
struct config_owner {
	struct alert_config pub;
	struct settings keep; /* every string, and the [alertd]/[report] table */
	struct rule *rules;
	struct rule_extra *rule_extras;
	size_t rules_cap;
	struct receiver **receivers;
	size_t receivers_cap;
	struct route *routes;
	struct route_extra *route_extras;
	size_t routes_cap;
	struct inhibit *inhibits;
	size_t inhibits_cap;
	struct mute *mutes;
	size_t mutes_cap;
	/* The section being read: which one, by the line of its header. */
	const char *open_section;
	int open_line;
	const char *open_file;
	struct receiver *open_receiver;
};

/* The readers of each section: the first setting of a section opens it
 * (rules_open_*), each setting is applied, the section's end checks it. */
int rules_rule_open(struct config_owner *o, const struct conf_entry *entry, struct err *e);
int rules_rule_setting(struct config_owner *o, const struct conf_entry *entry, struct err *e);
int rules_rule_end(struct config_owner *o, const struct conf_entry *entry, struct err *e);
int rules_route_open(struct config_owner *o, const struct conf_entry *entry, struct err *e);
int rules_route_setting(struct config_owner *o, const struct conf_entry *entry, struct err *e);
int rules_route_end(struct config_owner *o, const struct conf_entry *entry, struct err *e);
int rules_inhibit_open(struct config_owner *o, const struct conf_entry *entry, struct err *e);
int rules_inhibit_setting(struct config_owner *o, const struct conf_entry *entry, struct err *e);
int rules_inhibit_end(struct config_owner *o, const struct conf_entry *entry, struct err *e);
int rules_mute_open(struct config_owner *o, const struct conf_entry *entry, struct err *e);
int rules_mute_setting(struct config_owner *o, const struct conf_entry *entry, struct err *e);
int rules_mute_end(struct config_owner *o, const struct conf_entry *entry, struct err *e);

/* A section's table of keys, ended by { NULL }. */
struct rules_key {
	const char *key;
	int (*apply)(struct config_owner *o, void *item, const struct conf_entry *entry,
		     struct err *e);
};

/* Applies entry through the row of keys naming its key; an unknown key is
 * an error listing them. */
int rules_apply_key(const struct rules_key *keys, struct config_owner *o, void *item,
		    const struct conf_entry *entry, struct err *e);

/* A section's name: 1 to 127 letters, digits, '_', '.' or '-'. */
int rules_check_name(const struct conf_entry *entry, struct err *e);

/* entry's duration, from min to max. */
int rules_duration(const struct conf_entry *entry, int64_t min, int64_t max, int64_t *out,
		   struct err *e);

/* critical, warning or info, kept in *out. */
int rules_severity(struct config_owner *o, const struct conf_entry *entry, const char **out,
		   struct err *e);

/* Appends the words of entry's value ("a, b c") to the list *list. */
int rules_add_words(struct config_owner *o, const struct conf_entry *entry, const char ***list,
		    size_t *n, size_t *cap, struct err *e);

/* A copy of text kept until alert_config_free; NULL with e set. */
const char *rules_keep(struct config_owner *o, const char *text, struct err *e);

/* Checks a selector's text, naming the entry on error. */
int rules_check_selector(const struct conf_entry *entry, const char *text, struct err *e);

#endif
