/* fuzz_web_form.c - libFuzzer harness for what rmon-web reads from a
 * request before it trusts anything (reportgen/web_form.c, web_token.c,
 * web_users.c): any bytes as a form body must decode or be refused with a
 * message, never crash or read out of bounds, and a decoded form keeps its
 * bounds (fields, bytes, no NUL inside a value, no name twice); the form's
 * token is checked and spent against a real key, and must be refused, for
 * no one can forge one; the same bytes as a roles file read or are refused
 * naming a line, and give a role that exists. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "reportgen/web_form.h"
#include "reportgen/web_token.h"
#include "reportgen/web_users.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW (INT64_C(1796000000) * 1000000000)

/* A data folder of the harness's own, for the token key and used list,
 * removed when the fuzzer leaves. */
static char dir[] = "/tmp/fuzz_web_form.XXXXXX";

static void remove_dir(void)
{
	char path[sizeof dir + 16];
	snprintf(path, sizeof path, "%s/web/key", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/web/used", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/web", dir);
	rmdir(path);
	rmdir(dir);
}

static const char *data_dir(void)
{
	static bool made;
	if (!made && mkdtemp(dir)) {
		made = true;
		atexit(remove_dir);
	}
	return dir;
}

static void check_form(const struct web_form *form, size_t size)
{
	size_t bytes = 0;
	if (form->n > WEB_FORM_MAX_FIELDS)
		abort();
	for (size_t i = 0; i < form->n; i++) {
		/* Decoding only shortens: every string lies within what came. */
		bytes += strlen(form->name[i]) + strlen(form->value[i]);
		if (!form->name[i][0] || web_form_get(form, form->name[i]) != form->value[i])
			abort();
	}
	if (bytes > size)
		abort();
}

/* The token field, if any, cannot be good: none was made for it. */
static void spend_token(const struct web_form *form)
{
	const char *token = web_form_get(form, "token");
	const char *user = web_form_get(form, "user");
	struct err e = { 0 };
	if (token && web_token_spend(data_dir(), user && *user ? user : "bob", token, NOW, &e) == 0)
		abort();
	if (token && !e.msg[0])
		abort();
}

/* As rmon-web.c lets a user through: printable ASCII without quotes. */
static bool user_ok(const char *u)
{
	size_t len = strlen(u);
	if (len == 0 || len > 63)
		return false;
	for (size_t i = 0; i < len; i++)
		if (u[i] <= ' ' || u[i] > '~' || u[i] == '"' || u[i] == '\'' || u[i] == '\\')
			return false;
	return true;
}

/* A token made now spends once for its user, never for another nor after
 * its hour.  Each round is two hours after the last, so the used list
 * sheds its expired lines instead of growing. */
static void token_round_trip(const char *user)
{
	static int64_t round;
	int64_t now = NOW + ++round * 7200 * INT64_C(1000000000);
	char token[WEB_TOKEN_LEN + 1];
	struct err e = { 0 };
	if (web_token_make(data_dir(), user, now, token, sizeof token, &e) != 0)
		abort();
	if (strcmp(user, "bob") != 0 && web_token_spend(data_dir(), "bob", token, now, &e) == 0)
		abort();
	if (web_token_spend(data_dir(), user, token, now + WEB_TOKEN_LIFE_NS * 2, &e) == 0)
		abort();
	if (web_token_spend(data_dir(), user, token, now, &e) != 0 ||
	    web_token_spend(data_dir(), user, token, now, &e) == 0)
		abort();
}

static void read_roles(const uint8_t *data, size_t size, const char *user)
{
	int fd = memfd_create("web-users.conf", MFD_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, data, size) == (ssize_t)size) {
		char path[64];
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		enum web_role role = WEB_ROLE_ADMIN + 1;
		struct err e = { 0 };
		int rc = web_users_role(path, user, &role, &e);
		if (role > WEB_ROLE_ADMIN || (rc < 0 && (!e.msg[0] || role != WEB_ROLE_NONE)))
			abort();
		web_role_name(role);
	}
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size ? size : 1);
	if (!text)
		return 0;
	memcpy(text, data, size); /* exactly size bytes, no NUL: ASan sees any overread */
	struct web_form form;
	struct err e = { 0 };
	int rc = web_form_parse(&form, text, size, &e);
	if (rc == 0) {
		check_form(&form, size);
		spend_token(&form);
		const char *user = web_form_get(&form, "user");
		if (user && user_ok(user) && size % 8 == 0)
			token_round_trip(user);
	} else if (!e.msg[0] || form.n != 0 || form.storage) {
		abort();
	}
	web_form_free(&form);
	read_roles(data, size, "bob");
	free(text);
	return 0;
}
