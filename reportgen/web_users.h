/* web_users.h - who may do what through rmon-web: a small file of roles
 * (docs/web.md), read with the project's config reader:
 *
 *     [roles]
 *     alice = admin        # rules: enable, disable, edit thresholds
 *     bob = operator       # acknowledge, silence
 *     * = viewer           # everyone else nginx lets in: look only
 *
 * The user is the one nginx authenticated (REMOTE_USER); a user the file
 * does not name, with no "*" line, has no role and is refused. */
#ifndef RMON_WEB_USERS_H
#define RMON_WEB_USERS_H

#include "lib/err.h"

enum web_role { WEB_ROLE_NONE, WEB_ROLE_VIEWER, WEB_ROLE_OPERATOR, WEB_ROLE_ADMIN };

const char *web_role_name(enum web_role role);

/* The role of user in the roles file at path.  A missing file gives every
 * user WEB_ROLE_NONE (rmon-web then refuses everything, saying which file
 * to write); a bad file is -EINVAL naming file and line. */
int web_users_role(const char *path, const char *user, enum web_role *out, struct err *e);

#endif
