/* series_name.c - canonical series names and their ids; see
 * series_name.h for the contract. */
#include "lib/series_name.h"

#include <errno.h>
#include <stdarg.h>
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

/* Fills f and returns false, so a scan can `return fault(f, i, ...)`. */
__attribute__((format(printf, 3, 4))) static bool fault(struct fault *f, size_t at, const char *fmt,
							...)
{
	va_list ap;
	va_start(ap, fmt);
	f->at = at;
	vsnprintf(f->why, sizeof f->why, fmt, ap);
	va_end(ap);
	return false;
}

static bool bad_byte(struct fault *f, size_t at, unsigned char c, const char *allowed)
{
	if (c > 0x20 && c < 0x7f)
		return fault(f, at, "'%c' is not allowed (%s)", c, allowed);
	return fault(f, at, "byte 0x%02x is not allowed (%s)", c, allowed);
}

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* Each scan returns true when s[0..len) keeps its rule, else fills f. */
static bool scan_host(const char *s, size_t len, struct fault *f)
{
	if (len == 0 || len > SERIES_HOST_MAX)
		return fault(f, 0, "must be 1 to %d bytes long", SERIES_HOST_MAX);
	if (s[0] == '.' || s[0] == '-')
		return bad_byte(f, 0, (unsigned char)s[0], "not first");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(is_alpha(c) || is_digit(c) || c == '.' || c == '-' || c == '_' || c == ':'))
			return bad_byte(f, i, c, "letters, digits, '.', '-', '_', ':'");
	}
	return true;
}

/* Metric names (colons allowed) and label names (without). */
static bool scan_identifier(const char *s, size_t len, bool colons, struct fault *f)
{
	const char *allowed = colons ? "[a-zA-Z_:][a-zA-Z0-9_:]*" : "[a-zA-Z_][a-zA-Z0-9_]*";
	if (len == 0)
		return fault(f, 0, "is empty (it must match %s)", allowed);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(is_alpha(c) || c == '_' || (colons && c == ':') || (i > 0 && is_digit(c))))
			return bad_byte(f, i, c, allowed);
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
		if (n == 0)
			return fault(f, i, "byte 0x%02x is not valid UTF-8", c);
		if (utf8_unsafe(cp))
			return fault(f, i, "U+%04X is a control or bidirectional character", cp);
		if (quoted && cp == '"')
			return fault(f, i, "'\"' must be escaped");
		if (quoted && cp == '\\') {
			if (i + 1 >= len || (s[i + 1] != '\\' && s[i + 1] != '"'))
				return fault(f, i, "only \\\\ and \\\" are escapes");
			n = 2;
		}
		i += n;
	}
	return true;
}

/* The closing quote of the quoted value starting at s, or NULL. */
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

/* Orders label names as strcmp does (series_canonical sorts with it). */
static int compare_keys(const char *a, size_t a_len, const char *b, size_t b_len)
{
	int order = memcmp(a, b, a_len < b_len ? a_len : b_len);
	return order ? order : (a_len > b_len) - (a_len < b_len);
}

/* The label list after the '{' at s: k1="v1",k2="v2"} up to end.  *part
 * and *what say which piece broke its rule. */
static bool scan_labels(const char *s, const char *end, const char **part, const char **what,
			struct fault *f)
{
	const char *prev = NULL;
	size_t prev_len = 0;
	for (int n = 1;; n++) {
		*part = s;
		*what = "label name";
		const char *eq = memchr(s, '=', (size_t)(end - s));
		if (!eq || eq + 1 >= end || eq[1] != '"')
			return fault(f, 0, "expected name=\"value\"");
		size_t len = (size_t)(eq - s);
		if (!scan_identifier(s, len, false, f))
			return false;
		if (prev && compare_keys(prev, prev_len, s, len) >= 0)
			return fault(f, 0, "labels must be sorted by name, each once");
		if (n > SERIES_LABELS_MAX)
			return fault(f, 0, "more than %d labels", SERIES_LABELS_MAX);
		prev = s;
		prev_len = len;
		*part = eq + 2;
		*what = "label value";
		const char *close = value_end(*part, end);
		if (!close)
			return fault(f, (size_t)(end - *part), "the quote is never closed");
		if (!scan_value(*part, (size_t)(close - *part), true, f))
			return false;
		if (close + 2 == end && close[1] == '}')
			return true;
		*part = close + 1;
		*what = "label list";
		if (close + 1 >= end || close[1] != ',')
			return fault(f, 0, "expected ',' or a final '}'");
		s = close + 2;
	}
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

int series_name_check(const char *name, size_t len, struct err *e)
{
	const char *end = name + len, *part = name, *what = "host", *slash;
	struct fault f;
	bool ok;
	if (len == 0 || len > SERIES_NAME_MAX) {
		ok = fault(&f, 0, "a name is 1 to %d bytes long", SERIES_NAME_MAX);
	} else if (!(slash = memchr(name, '/', len))) {
		ok = fault(&f, len, "no '/' after the host");
	} else if ((ok = scan_host(name, (size_t)(slash - name), &f))) {
		part = slash + 1;
		what = "metric";
		const char *brace = memchr(part, '{', (size_t)(end - part));
		ok = scan_identifier(part, (size_t)((brace ? brace : end) - part), true, &f) &&
		     (!brace || scan_labels(brace + 1, end, &part, &what, &f));
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

int series_split_labels(char *text, struct series_label *labels, size_t max)
{
	size_t n = 0;
	char *p = text;
	while (*p) {
		char *eq = strchr(p, '=');
		if (!eq || eq[1] != '"' || n == max)
			return -EINVAL;
		*eq = '\0';
		char *v = eq + 2, *out = v;
		labels[n] = (struct series_label){ p, v };
		while (*v && *v != '"') {
			if (*v == '\\' && v[1])
				v++;
			*out++ = *v++;
		}
		if (*v != '"')
			return -EINVAL;
		*out = '\0';
		n++;
		p = v + 1;
		if (*p == ',')
			p++;
		else if (*p)
			return -EINVAL;
	}
	return (int)n;
}
