/* web_rules.h - rule edits from the web pages: a rule switched on or off,
 * or given another threshold, clear level or `for`, written as [override
 * RULE] sections into the drop-in "rules.d/50-web.conf" beside alertd's
 * configuration file.  The new drop-in is checked with the rule checker
 * (alert_config_read_file_with) before it is written, written atomically,
 * and the one it replaces is kept as "50-web.conf.prev" so the edit can be
 * undone.  rmon-alertd reloads it on its own. */
#ifndef RMON_WEB_RULES_H
#define RMON_WEB_RULES_H

#include <stddef.h>

#include "lib/err.h"

/* What to change of one rule; NULL fields stay as they are. */
struct web_rule_edit {
	const char *rule;
	const char *enabled; /* "true" / "false" */
	const char *threshold, *clear, *for_;
};

/* Applies edit to the drop-in of config (alertd.conf's path).  -EINVAL
 * with the checker's message (the drop-in is then unchanged); -ENOENT when
 * config names no file; -EPROTO when config does not read the drop-in
 * (no include of the rules.d folder): the drop-in is put back. */
int web_rules_edit(const char *config, const struct web_rule_edit *edit, struct err *e);

/* Puts the previous drop-in back (checked as an edit is); -ENOENT when
 * there is none. */
int web_rules_undo(const char *config, struct err *e);

/* The drop-in's path for config, into buf. */
void web_rules_dropin(const char *config, char *buf, size_t cap);

#endif
