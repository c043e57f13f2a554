/* web_form.c - urlencoded form decoding (see web_form.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reportgen/web_form.h"

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes s[0..len) into out (at least len + 1 bytes); -1 on a bad escape
 * or a NUL. */
static long decode(const char *s, size_t len, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (i + 2 >= len)
				return -1;
			int hi = hex_digit(s[i + 1]);
			int lo = hex_digit(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (c == '\0')
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return (long)o;
}

static void clear(struct web_form *form)
{
	free(form->storage);
	memset(form, 0, sizeof *form);
}

int web_form_parse(struct web_form *form, const char *text, size_t len, struct err *e)
{
	memset(form, 0, sizeof *form);
	if (len > WEB_FORM_MAX_BYTES)
		return err_set(e, -EINVAL, "form of %zu bytes: at most %d are read", len,
			       WEB_FORM_MAX_BYTES);
	if (!(form->storage = malloc(len * 2 + 2)))
		return err_set(e, -ENOMEM, "form: out of memory");
	char *out = form->storage;
	size_t pos = 0;
	while (pos < len) {
		const char *field = text + pos;
		const char *end = memchr(field, '&', len - pos);
		size_t flen = end ? (size_t)(end - field) : len - pos;
		pos += flen + 1;
		if (flen == 0)
			continue;
		const char *eq = memchr(field, '=', flen);
		size_t nlen = eq ? (size_t)(eq - field) : flen;
		if (form->n == WEB_FORM_MAX_FIELDS) {
			clear(form);
			return err_set(e, -EINVAL, "form: more than %d fields",
				       WEB_FORM_MAX_FIELDS);
		}
		char *name = out;
		long got = decode(field, nlen, name);
		if (got <= 0) {
			clear(form);
			return err_set(e, -EINVAL, "form: a field name is empty or badly encoded");
		}
		out += got + 1;
		char *value = out;
		got = eq ? decode(eq + 1, flen - nlen - 1, value) : (value[0] = '\0', 0);
		if (got < 0) { /* the message first: name lives in the storage freed */
			int rc = err_set(e, -EINVAL,
					 "form field '%.40s': bad %%-escape or NUL byte", name);
			clear(form);
			return rc;
		}
		out += got + 1;
		if (web_form_get(form, name)) {
			int rc = err_set(e, -EINVAL, "form field '%.40s' given twice", name);
			clear(form);
			return rc;
		}
		form->name[form->n] = name;
		form->value[form->n] = value;
		form->n++;
	}
	return 0;
}

const char *web_form_get(const struct web_form *form, const char *name)
{
	for (size_t i = 0; i < form->n; i++)
		if (strcmp(form->name[i], name) == 0)
			return form->value[i];
	return NULL;
}

void web_form_free(struct web_form *form)
{
	clear(form);
}
