/* web_action.h - the changes rmon-web makes, one table row each: the role
 * it needs, the form that asks for it, and the call into alertd's store
 * (alertd/alerts.h) that the `rmon` command line makes too.
 *
 *   do=ack         id, comment        operator   acknowledge until resolved
 *   do=unack       id                 operator
 *   do=silence     selector, for, comment   operator
 *   do=unsilence   id                 operator
 *   do=rule        rule, enabled, threshold, clear, for   admin (web_rules.h)
 *   do=rule_undo   -                  admin      the drop-in before the last edit
 *
 * A GET with `do` shows the action's confirmation form (with a fresh CSRF
 * token, web_token.h); only a POST of that form changes anything. */
#ifndef RMON_WEB_ACTION_H
#define RMON_WEB_ACTION_H

#include <stdint.h>
#include <stdio.h>

#include "reportgen/web_form.h"
#include "reportgen/web_users.h"

struct web_request {
	const char *method; /* "GET" or "POST" */
	const char *user;   /* REMOTE_USER, checked */
	enum web_role role;
	const char *data_dir;
	const char *config; /* alertd's configuration file, for rule edits; NULL none */
	const char *script; /* SCRIPT_NAME: where the forms post to */
	const char *back;   /* a path on this site to return to, or NULL */
	struct web_form form;
	int64_t now;
};

/* Answers the request on out (CGI: status, headers, page). */
void web_action_run(struct web_request *req, FILE *out);

#endif
