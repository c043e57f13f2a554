/* query_selector.c - selectors: parsing host/metric{label matchers} and
 * matching canonical series names against them; see query.h. */
#include <errno.h>
#include <fnmatch.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/regex_bound.h"
#include "lib/series_name.h"
#include "store/query_private.h"

enum match_op { OP_EQ, OP_NE, OP_RE, OP_NRE };

struct matcher {
	char *key, *value;
	enum match_op op;
	regex_t re;
};

struct query_selector {
	char *host, *metric; /* globs */
	struct matcher matchers[16];
	int n;
};

void query_selector_free(struct query_selector *sel)
{
	if (!sel)
		return;
	for (int i = 0; i < sel->n; i++) {
		if (sel->matchers[i].op >= OP_RE)
			regfree(&sel->matchers[i].re);
		free(sel->matchers[i].key);
		free(sel->matchers[i].value);
	}
	free(sel->host);
	free(sel->metric);
	free(sel);
}

static int syntax(struct err *e, const char *text, const char *at, const char *what)
{
	return err_set(e, -EINVAL, "bad selector '%s' at character %d: %s", text,
		       (int)(at - text) + 1, what);
}

/* Reads a double-quoted string with \" \\ \n escapes; *p moves past it. */
static char *read_quoted(const char **p)
{
	const char *s = *p;
	if (*s != '"')
		return NULL;
	char *out = malloc(strlen(s) + 1), *o = out;
	if (!out)
		return NULL;
	for (s++; *s && *s != '"'; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			*o++ = *s == 'n' ? '\n' : *s;
		} else {
			*o++ = *s;
		}
	}
	if (*s != '"') {
		free(out);
		return NULL;
	}
	*o = '\0';
	*p = s + 1;
	return out;
}

static int parse_matcher(struct query_selector *sel, const char *text, const char **p,
			 struct err *e)
{
	const char *s = *p;
	size_t key_len =
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
	if (key_len == 0)
		return syntax(e, text, s, "expected a label name");
	if (sel->n == 16)
		return syntax(e, text, s, "more than 16 label matchers");
	struct matcher *m = &sel->matchers[sel->n];
	m->key = strndup(s, key_len);
	s += key_len;
	if (strncmp(s, "=~", 2) == 0)
		m->op = OP_RE, s += 2;
	else if (strncmp(s, "!~", 2) == 0)
		m->op = OP_NRE, s += 2;
	else if (strncmp(s, "!=", 2) == 0)
		m->op = OP_NE, s += 2;
	else if (*s == '=')
		m->op = OP_EQ, s += 1;
	else {
		free(m->key);
		return syntax(e, text, s, "expected =, !=, =~ or !~");
	}
	const char *value_at = s;
	if (!(m->value = read_quoted(&s))) {
		free(m->key);
		return syntax(e, text, value_at, "expected a double-quoted value");
	}
	if (m->op >= OP_RE && !regex_bounded(m->value)) {
		free(m->key);
		free(m->value);
		return syntax(e, text, value_at,
			      "regular expression too complex (" REGEX_BOUND_TEXT ")");
	}
	if (m->op >= OP_RE) {
		size_t len = strlen(m->value) + 5;
		char *anchored = malloc(len);
		snprintf(anchored, len, "^(%s)$", m->value);
		int rc = regcomp(&m->re, anchored, REG_EXTENDED | REG_NOSUB);
		free(anchored);
		if (rc != 0) {
			free(m->key);
			free(m->value);
			return syntax(e, text, value_at, "bad regular expression");
		}
	}
	sel->n++;
	*p = s;
	return 0;
}

int query_selector_parse(const char *text, struct query_selector **out, struct err *e)
{
	struct query_selector *sel = calloc(1, sizeof *sel);
	if (!sel)
		return err_set(e, -ENOMEM, "out of memory");
	const char *brace = strchr(text, '{');
	size_t head_len = brace ? (size_t)(brace - text) : strlen(text);
	const char *slash = memchr(text, '/', head_len);
	sel->host = slash ? strndup(text, (size_t)(slash - text)) : strdup("*");
	const char *metric = slash ? slash + 1 : text;
	sel->metric = strndup(metric, (size_t)(text + head_len - metric));
	int rc = 0;
	if (!*sel->host)
		rc = syntax(e, text, text, "empty host before '/'");
	if (rc == 0 && !*sel->metric) {
		free(sel->metric);
		sel->metric = strdup("*");
	}
	for (const char *c = metric; rc == 0 && c < text + head_len; c++)
		if (!strchr(
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:*?[]!-",
			*c))
			rc = syntax(e, text, c,
				    "metric names hold letters, digits, _ and : (and globs)");
	if (rc == 0 && brace) {
		const char *p = brace + 1;
		while (rc == 0 && *p != '}') {
			while (*p == ' ')
				p++;
			if ((rc = parse_matcher(sel, text, &p, e)) != 0)
				break;
			while (*p == ' ')
				p++;
			if (*p == ',')
				p++;
			else if (*p != '}')
				rc = syntax(e, text, p, "expected ',' or '}'");
		}
		if (rc == 0 && p[1] != '\0')
			rc = syntax(e, text, p + 1, "text after '}'");
	}
	if (rc != 0) {
		query_selector_free(sel);
		return rc;
	}
	*out = sel;
	return 0;
}

/* Finds label key's value in the canonical label text (k="v",...),
 * unescaped into buf; "" and false when absent. */
static bool label_value(const char *labels, size_t len, const char *key, char *buf, size_t cap)
{
	const char *p = labels, *end = labels + len;
	size_t key_len = strlen(key);
	buf[0] = '\0';
	while (p < end) {
		const char *eq = memchr(p, '=', (size_t)(end - p));
		if (!eq || eq + 1 >= end || eq[1] != '"')
			return false;
		bool hit = (size_t)(eq - p) == key_len && memcmp(p, key, key_len) == 0;
		size_t o = 0;
		const char *s = eq + 2;
		for (; s < end && *s != '"'; s++) {
			char c = *s;
			if (c == '\\' && s + 1 < end) {
				s++;
				c = *s == 'n' ? '\n' : *s;
			}
			if (hit && o + 1 < cap)
				buf[o++] = c;
		}
		if (hit) {
			buf[o] = '\0';
			return true;
		}
		p = s + 2; /* past the quote and the comma */
	}
	return false;
}

bool query_selector_match(const struct query_selector *sel, const char *name, size_t len)
{
	char host[SERIES_NAME_MAX + 1], metric[SERIES_NAME_MAX + 1], value[SERIES_NAME_MAX + 1];
	if (!sel)
		return true;
	const char *slash = memchr(name, '/', len);
	if (!slash || len >= sizeof host)
		return false;
	const char *brace = memchr(slash, '{', len - (size_t)(slash - name));
	const char *metric_end = brace ? brace : name + len;
	snprintf(host, sizeof host, "%.*s", (int)(slash - name), name);
	snprintf(metric, sizeof metric, "%.*s", (int)(metric_end - slash - 1), slash + 1);
	if (fnmatch(sel->host, host, 0) != 0 || fnmatch(sel->metric, metric, 0) != 0)
		return false;
	const char *labels = brace ? brace + 1 : "";
	size_t labels_len = brace ? len - (size_t)(brace - name) - 2 : 0;
	for (int i = 0; i < sel->n; i++) {
		const struct matcher *m = &sel->matchers[i];
		label_value(labels, labels_len, m->key, value, sizeof value);
		bool ok = m->op == OP_EQ   ? strcmp(value, m->value) == 0
			  : m->op == OP_NE ? strcmp(value, m->value) != 0
			  : m->op == OP_RE ? regexec(&m->re, value, 0, NULL, 0) == 0
					   : regexec(&m->re, value, 0, NULL, 0) != 0;
		if (!ok)
			return false;
	}
	return true;
}

bool query_name_label(const char *name, size_t len, const char *label, char *buf, size_t cap)
{
	const char *slash = memchr(name, '/', len);
	if (!slash || cap == 0)
		return false;
	const char *brace = memchr(slash, '{', len - (size_t)(slash - name));
	const char *metric_end = brace ? brace : name + len;
	if (strcmp(label, "__host__") == 0 || strcmp(label, "__name__") == 0) {
		bool host = label[2] == 'h';
		const char *from = host ? name : slash + 1, *to = host ? slash : metric_end;
		snprintf(buf, cap, "%.*s", (int)(to - from), from);
		return true;
	}
	if (!brace || len - (size_t)(brace - name) < 2)
		return false;
	return label_value(brace + 1, len - (size_t)(brace - name) - 2, label, buf, cap);
}

const char *query_selector_host(const struct query_selector *sel)
{
	return sel && !strpbrk(sel->host, "*?[\\") ? sel->host : NULL;
}
