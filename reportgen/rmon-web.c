/* rmon-web.c - the action endpoint behind the report pages: a CGI program
 * that nginx runs through fcgiwrap, only where the operator enables it
 * (docs/web.md).  nginx authenticates and passes the user as REMOTE_USER;
 * rmon-web checks the user's role, the method, the form's CSRF token and
 * every field, then changes alertd's store through alertd/alerts.h as the
 * `rmon` command line does.
 *
 * Its settings come from the environment nginx sets (fastcgi_param):
 *   RMON_DATA        the data folder (default var)
 *   RMON_WEB_USERS   the roles file (default <RMON_DATA>/web-users.conf)
 *   RMON_CONFIG      alertd's configuration file, for rule edits */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cmdline.h"
#include "lib/rtime.h"
#include "reportgen/web_action.h"
#include "reportgen/web_page.h"

#define USER_MAX 63

static const char *env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);
	return v && *v ? v : fallback;
}

/* A user name as nginx passes it: printable ASCII and no quotes, so it is
 * safe in every log and page even before escaping. */
static bool user_ok(const char *u)
{
	size_t len = u ? strlen(u) : 0;
	if (len == 0 || len > USER_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (u[i] <= ' ' || u[i] > '~' || u[i] == '"' || u[i] == '\'' || u[i] == '\\')
			return false;
	return true;
}

/* Where to go back to: a path on this site only ("/x", never "//host" or
 * a scheme), so the endpoint cannot be used to redirect elsewhere. */
static const char *back_ok(const char *b)
{
	if (!b || b[0] != '/' || b[1] == '/' || strlen(b) > 512)
		return NULL;
	for (const char *c = b; *c; c++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			    "/._-~?=&%#+:",
			    *c))
			return NULL;
	return b;
}

/* Reads the POST body (CONTENT_LENGTH bytes, bounded). */
static char *read_body(size_t *len, int *status)
{
	const char *cl = getenv("CONTENT_LENGTH");
	const char *ct = getenv("CONTENT_TYPE");
	if (!ct || strncmp(ct, "application/x-www-form-urlencoded", 33) != 0) {
		*status = 415;
		return NULL;
	}
	long want = cl ? strtol(cl, NULL, 10) : -1;
	if (want < 0 || want > WEB_FORM_MAX_BYTES) {
		*status = want < 0 ? 411 : 413;
		return NULL;
	}
	char *body = malloc((size_t)want + 1);
	size_t got = 0;
	while (body && got < (size_t)want) {
		size_t n = fread(body + got, 1, (size_t)want - got, stdin);
		if (n == 0)
			break;
		got += n;
	}
	if (!body || got != (size_t)want) {
		free(body);
		*status = 400;
		return NULL;
	}
	*len = got;
	return body;
}

/* Run by hand (with arguments), it speaks like every other program:
 * --help, --version.  Run by fcgiwrap it is given none. */
static int command_line(int argc, char **argv)
{
	const struct cmdline_option options[] = { { 0 } };
	const struct cmdline cl = {
		.program = "rmon-web",
		.about = "The action endpoint behind the report pages, a CGI program nginx runs "
			 "through fcgiwrap (docs/web.md). It reads one request from its "
			 "environment (REQUEST_METHOD, REMOTE_USER, QUERY_STRING, CONTENT_LENGTH, "
			 "RMON_DATA, RMON_WEB_USERS, RMON_CONFIG) and answers on stdout.",
		.options = options,
	};
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	fprintf(stderr, "rmon-web: takes no operands: it is run by the web server\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		return command_line(argc, argv);
	FILE *out = stdout;
	struct web_request req = { 0 };
	struct err e = { 0 };
	req.now = rtime_now_ns();
	req.method = env_or("REQUEST_METHOD", "");
	req.data_dir = env_or("RMON_DATA", "var");
	req.script = env_or("SCRIPT_NAME", "");
	req.config = getenv("RMON_CONFIG");
	if (req.config && !*req.config)
		req.config = NULL;
	req.user = getenv("REMOTE_USER");
	if (!user_ok(req.user)) {
		web_page_message(out, 403, "Forbidden", "Not signed in",
				 "no authenticated user: nginx must authenticate requests to this "
				 "endpoint and pass REMOTE_USER (docs/web.md)",
				 NULL);
		return 0;
	}
	if (strcmp(req.method, "GET") != 0 && strcmp(req.method, "POST") != 0) {
		fputs("Status: 405 Method Not Allowed\r\nAllow: GET, POST\r\n\r\n", out);
		return 0;
	}
	char users_default[4096];
	snprintf(users_default, sizeof users_default, "%s/web-users.conf", req.data_dir);
	const char *users = env_or("RMON_WEB_USERS", users_default);
	if (web_users_role(users, req.user, &req.role, &e) < 0) {
		web_page_message(out, 500, "Internal Server Error", "Roles file", e.msg, NULL);
		return 0;
	}
	if (req.role == WEB_ROLE_NONE) {
		char msg[4352];
		snprintf(msg, sizeof msg, "user %s has no role: name it in %s", req.user, users);
		web_page_message(out, 403, "Forbidden", "No role", msg, NULL);
		return 0;
	}
	char *body = NULL;
	size_t len = 0;
	const char *text;
	if (strcmp(req.method, "POST") == 0) {
		int status = 400;
		if (!(body = read_body(&len, &status))) {
			const char *why = status == 415 ? "a form (x-www-form-urlencoded) is needed"
					  : status == 413 ? "the form is too large"
					  : status == 411 ? "no Content-Length"
							  : "the form was cut short";
			web_page_message(out, status, "Refused", "Refused", why, NULL);
			return 0;
		}
		text = body;
	} else {
		text = env_or("QUERY_STRING", "");
		len = strlen(text);
	}
	if (web_form_parse(&req.form, text, len, &e) < 0) {
		web_page_message(out, 400, "Bad Request", "Refused", e.msg, NULL);
		free(body);
		return 0;
	}
	req.back = back_ok(web_form_get(&req.form, "back"));
	web_action_run(&req, out);
	web_form_free(&req.form);
	free(body);
	return fflush(out) == 0 ? 0 : 1;
}
