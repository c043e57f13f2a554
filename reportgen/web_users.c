/* web_users.c - the roles file (see web_users.h). */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/conf.h"
#include "reportgen/web_users.h"

struct lookup {
	const char *user;
	enum web_role exact, fallback;
};

static const char *const role_names[] = { "none", "viewer", "operator", "admin" };

const char *web_role_name(enum web_role role)
{
	return role_names[role];
}

static int on_setting(void *ctx, const struct conf_entry *entry, struct err *e)
{
	struct lookup *l = ctx;
	if (strcmp(entry->section, "roles") != 0 || entry->name[0])
		return conf_error(e, entry, "only a [roles] section is read here");
	enum web_role role = WEB_ROLE_NONE;
	for (int r = WEB_ROLE_VIEWER; r <= WEB_ROLE_ADMIN; r++)
		if (strcmp(entry->value, role_names[r]) == 0)
			role = (enum web_role)r;
	if (role == WEB_ROLE_NONE)
		return conf_error(e, entry, "a role is viewer, operator or admin");
	if (strcmp(entry->key, "*") == 0)
		l->fallback = role;
	else if (strcmp(entry->key, l->user) == 0)
		l->exact = role;
	return 0;
}

int web_users_role(const char *path, const char *user, enum web_role *out, struct err *e)
{
	struct lookup l = { user, WEB_ROLE_NONE, WEB_ROLE_NONE };
	struct stat st;
	*out = WEB_ROLE_NONE;
	if (stat(path, &st) < 0 && errno == ENOENT)
		return 0;
	int rc = conf_parse_file(path, on_setting, &l, e);
	if (rc < 0)
		return rc;
	*out = l.exact != WEB_ROLE_NONE ? l.exact : l.fallback;
	return 0;
}
