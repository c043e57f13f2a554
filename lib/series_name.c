/* series_name.c - canonical series names and their ids; see
 * series_name.h for the contract. */
#include "lib/series_name.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lib/escape.h"
#include "lib/utf8.h"

static uint64_t mix64(uint64_t x)
{
	/* splitmix64's finalizer: every input bit affects every output bit. */
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

uint64_t series_id(const char *name, size_t len)
{
	uint64_t h = UINT64_C(0x9e3779b97f4a7c15) ^ (len * UINT64_C(0xff51afd7ed558ccd));
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t k;
		memcpy(&k, name + i, 8);
		h = mix64(h ^ k) + UINT64_C(0x9e3779b97f4a7c15);
	}
	uint64_t tail = 0;
	memcpy(&tail, name + i, len - i);
	h = mix64(h ^ tail ^ ((uint64_t)(len - i) << 56));
	return h ? h : 1; /* 0 marks empty slots */
}

/* ---- the rules ---- */

/* Where a part breaks its rule: the byte and why (a short phrase). */
struct fault {
	size_t at;
	char why[80];
};

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static void bad_byte(struct fault *f, size_t at, unsigned char c, const char *allowed)
{
	f->at = at;
	if (c > 0x20 && c < 0x7f)
		snprintf(f->why, sizeof f->why, "'%c' is not allowed (%s)", c, allowed);
	else
		snprintf(f->why, sizeof f->why, "byte 0x%02x is not allowed (%s)", c, allowed);
}

/* Each scan returns true when s[0..len) keeps the rule, else fills f. */
static bool scan_host(const char *s, size_t len, struct fault *f)
{
	static const char allowed[] = "letters, digits, '.', '-', '_', ':'";
	if (len == 0 || len > SERIES_HOST_MAX) {
		f->at = 0;
		snprintf(f->why, sizeof f->why, "must be 1 to %d bytes long", SERIES_HOST_MAX);
		return false;
	}
	if (s[0] == '.' || s[0] == '-') {
		bad_byte(f, 0, (unsigned char)s[0], "not first");
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(is_alpha(c) || is_digit(c) || c == '.' || c == '-' || c == '_' || c == ':')) {
			bad_byte(f, i, c, allowed);
			return false;
		}
	}
	return true;
}

/* Metric names (colons allowed) and label names (without). */
static bool scan_identifier(const char *s, size_t len, bool colons, struct fault *f)
{
	const char *allowed = colons ? "[a-zA-Z_:][a-zA-Z0-9_:]*" : "[a-zA-Z_][a-zA-Z0-9_]*";
	if (len == 0) {
		f->at = 0;
		snprintf(f->why, sizeof f->why, "is empty (it must match %s)", allowed);
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(is_alpha(c) || c == '_' || (colons && c == ':') || (i > 0 && is_digit(c)))) {
			bad_byte(f, i, c, allowed);
			return false;
		}
	}
	return true;
}

/* A label value; quoted: as it stands between the quotes of a canonical
 * name, where '"' ends it and only \\ and \" may be escaped. */
static bool scan_value(const char *s, size_t len, bool quoted, struct fault *f)
{
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			i++; /* printable ASCII, the common case */
			continue;
		}
		size_t n = utf8_next(s + i, len - i, &cp);
		f->at = i;
		if (n == 0) {
			snprintf(f->why, sizeof f->why, "byte 0x%02x is not valid UTF-8",
				 (unsigned char)s[i]);
			return false;
		}
		if (utf8_unsafe(cp)) {
			snprintf(f->why, sizeof f->why,
				 "U+%04X is a control or bidirectional character", cp);
			return false;
		}
		if (quoted && cp == '"') {
			snprintf(f->why, sizeof f->why, "'\"' must be escaped");
			return false;
		}
		if (quoted && cp == '\\') {
			if (i + 1 >= len || (s[i + 1] != '\\' && s[i + 1] != '"')) {
				snprintf(f->why, sizeof f->why, "only \\\\ and \\\" are escapes");
				return false;
			}
			n = 2;
		}
		i += n;
	}
	return true;
}

/* The message for a part that broke its rule: what, the value (escaped,
 * cut to stay readable), where and why. */
static int fault_error(struct err *e, const char *what, const char *s, size_t len,
		       const struct fault *f)
{
	char shown[160];
	escape(ESCAPE_LOG, shown, sizeof shown, s, len);
	return err_set(e, -EINVAL, "bad %s %s at byte %zu: %s", what, shown, f->at, f->why);
}

int series_check_host(const char *s, size_t len, struct err *e)
{
	struct fault f;
	return scan_host(s, len, &f) ? 0 : fault_error(e, "host name", s, len, &f);
}

int series_check_metric(const char *s, size_t len, struct err *e)
{
	struct fault f;
	return scan_identifier(s, len, true, &f) ? 0 : fault_error(e, "metric name", s, len, &f);
}

int series_check_label_name(const char *s, size_t len, struct err *e)
{
	struct fault f;
	return scan_identifier(s, len, false, &f) ? 0 : fault_error(e, "label name", s, len, &f);
}

int series_check_label_value(const char *s, size_t len, struct err *e)
{
	struct fault f;
	return scan_value(s, len, false, &f) ? 0 : fault_error(e, "label value", s, len, &f);
}

/* The end of the quoted value starting at s (the byte after the closing
 * quote's position), or NULL when it is not closed. */
static const char *value_end(const char *s, const char *end)
{
	for (; s < end; s++) {
		if (*s == '\\' && s + 1 < end)
			s++;
		else if (*s == '"')
			return s;
	}
	return NULL;
}

int series_name_check(const char *name, size_t len, struct err *e)
{
	const char *end = name + len, *part = name, *what = "host";
	struct fault f = { 0, "" };
	bool ok = len > 0 && len <= SERIES_NAME_MAX;
	if (!ok)
		snprintf(f.why, sizeof f.why, "a name is 1 to %d bytes long", SERIES_NAME_MAX);
	const char *slash = ok ? memchr(name, '/', len) : NULL;
	if (ok && !slash) {
		ok = false;
		f.at = len;
		snprintf(f.why, sizeof f.why, "no '/' after the host");
	}
	ok = ok && scan_host(name, (size_t)(slash - name), &f);
	const char *brace = ok ? memchr(slash, '{', (size_t)(end - slash)) : NULL;
	if (ok) {
		part = slash + 1;
		what = "metric";
		ok = scan_identifier(part, (size_t)((brace ? brace : end) - part), true, &f);
	}
	const char *key = NULL, *prev_key = NULL;
	size_t key_len = 0, prev_len = 0;
	for (int n = 0; ok && brace;) {
		part = key = n == 0 ? brace + 1 : key;
		what = "label name";
		const char *eq = memchr(key, '=', (size_t)(end - key));
		if (!eq || eq + 1 >= end || eq[1] != '"') {
			ok = false;
			f.at = 0;
			snprintf(f.why, sizeof f.why, "expected name=\"value\"");
			break;
		}
		key_len = (size_t)(eq - key);
		if (!(ok = scan_identifier(key, key_len, false, &f)))
			break;
		int order =
		    prev_key ? memcmp(prev_key, key, prev_len < key_len ? prev_len : key_len) : -1;
		if (order > 0 || (order == 0 && prev_len >= key_len)) {
			ok = false;
			f.at = 0;
			snprintf(f.why, sizeof f.why, "labels must be sorted by name, each once");
			break;
		}
		if (++n > SERIES_LABELS_MAX) {
			ok = false;
			f.at = 0;
			snprintf(f.why, sizeof f.why, "more than %d labels", SERIES_LABELS_MAX);
			break;
		}
		part = eq + 2;
		what = "label value";
		const char *close = value_end(part, end);
		if (!close) {
			ok = false;
			f.at = (size_t)(end - part);
			snprintf(f.why, sizeof f.why, "the quote is never closed");
			break;
		}
		if (!(ok = scan_value(part, (size_t)(close - part), true, &f)))
			break;
		prev_key = key;
		prev_len = key_len;
		if (close + 2 == end && close[1] == '}')
			break; /* the end of the name */
		if (close + 1 >= end || close[1] != ',') {
			ok = false;
			part = close + 1;
			what = "label list";
			f.at = 0;
			snprintf(f.why, sizeof f.why, "expected ',' or a final '}'");
			break;
		}
		key = close + 2;
	}
	if (ok)
		return 0;
	char shown[160];
	escape(ESCAPE_LOG, shown, sizeof shown, name, len);
	return err_set(e, -EINVAL, "bad series name %s: %s at byte %zu: %s", shown, what,
		       (size_t)(part - name) + f.at, f.why);
}

/* ---- canonical names ---- */

static void sort_labels(struct series_label *labels, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct series_label l = labels[i];
		size_t j = i;
		while (j > 0 && strcmp(labels[j - 1].key, l.key) > 0) {
			labels[j] = labels[j - 1];
			j--;
		}
		labels[j] = l;
	}
}

/* Appends s to buf at *at, escaping \\ and \" when quote is set; returns
 * false when it does not fit. */
static bool append(char *buf, size_t len, size_t *at, const char *s, bool quote)
{
	for (; *s; s++) {
		bool esc = quote && (*s == '\\' || *s == '"');
		size_t need = esc ? 2 : 1;
		if (*at + need >= len)
			return false;
		if (esc)
			buf[(*at)++] = '\\';
		buf[(*at)++] = *s;
	}
	buf[*at] = '\0';
	return true;
}

int series_canonical(char *buf, size_t len, const char *host, const char *metric,
		     struct series_label *labels, size_t n_labels, struct err *e)
{
	int rc;
	if ((rc = series_check_host(host, strlen(host), e)) != 0 ||
	    (rc = series_check_metric(metric, strlen(metric), e)) != 0)
		return rc;
	if (n_labels > SERIES_LABELS_MAX)
		return err_set(e, -EINVAL, "series %s/%s has %zu labels, more than %d", host,
			       metric, n_labels, SERIES_LABELS_MAX);
	sort_labels(labels, n_labels);
	size_t at = 0;
	if (len > SERIES_NAME_MAX + 1)
		len = SERIES_NAME_MAX + 1;
	bool fits = append(buf, len, &at, host, false) && append(buf, len, &at, "/", false) &&
		    append(buf, len, &at, metric, false);
	for (size_t i = 0; i < n_labels && fits; i++) {
		const char *key = labels[i].key, *value = labels[i].value;
		if ((rc = series_check_label_name(key, strlen(key), e)) != 0 ||
		    (rc = series_check_label_value(value, strlen(value), e)) != 0)
			return rc;
		if (i > 0 && strcmp(labels[i - 1].key, key) == 0)
			return err_set(e, -EINVAL, "label '%s' given twice in %s/%s", key, host,
				       metric);
		fits = append(buf, len, &at, i == 0 ? "{" : ",", false) &&
		       append(buf, len, &at, key, false) && append(buf, len, &at, "=\"", false) &&
		       append(buf, len, &at, value, true) && append(buf, len, &at, "\"", false);
	}
	if (fits && n_labels > 0)
		fits = append(buf, len, &at, "}", false);
	if (!fits)
		return err_set(e, -ENAMETOOLONG, "series name for %s/%s is longer than %d bytes",
			       host, metric, SERIES_NAME_MAX);
	return (int)at;
}

int series_split(char *buf, const char **host, const char **metric, const char **labels)
{
	char *slash = strchr(buf, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	*host = buf;
	*metric = slash + 1;
	char *brace = strchr(slash + 1, '{');
	*labels = "";
	if (brace) {
		size_t n = strlen(brace);
		if (n < 2 || brace[n - 1] != '}')
			return -EINVAL;
		*brace = '\0';
		brace[n - 1] = '\0';
		*labels = brace + 1;
	}
	return 0;
}
