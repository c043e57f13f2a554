/* web_form.h - the fields of an HTML form as rmon-web receives them: an
 * application/x-www-form-urlencoded body (POST) or query string (GET),
 * decoded into name/value pairs, bounded in count and size so that a
 * hostile request costs nothing but its refusal. */
#ifndef RMON_WEB_FORM_H
#define RMON_WEB_FORM_H

#include <stddef.h>

#include "lib/err.h"

#define WEB_FORM_MAX_FIELDS 32
#define WEB_FORM_MAX_BYTES  16384 /* of the encoded body */

struct web_form {
	size_t n;
	char *name[WEB_FORM_MAX_FIELDS];
	char *value[WEB_FORM_MAX_FIELDS];
	char *storage; /* one buffer holding every decoded string */
};

/* Decodes text[0..len) ("a=1&b=x%20y"; '+' is a space).  A field named
 * twice, a bad %-escape, a NUL byte, too many fields or too many bytes is
 * -EINVAL naming the field; *form is empty after an error. */
int web_form_parse(struct web_form *form, const char *text, size_t len, struct err *e);

/* The value of name, or NULL. */
const char *web_form_get(const struct web_form *form, const char *name);

void web_form_free(struct web_form *form);

#endif
