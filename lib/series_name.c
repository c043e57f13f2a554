/* series_name.c - canonical series names and their ids; see
 * series_name.h for the contract. */
#include "lib/series_name.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

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

/* ---- canonical names ---- */

static bool valid_metric(const char *s)
{
	if (!*s ||
	    !(*s == '_' || *s == ':' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return false;
	for (; *s; s++)
		if (!(*s == '_' || *s == ':' || (*s >= 'a' && *s <= 'z') ||
		      (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

static bool valid_label_key(const char *s)
{
	if (!*s || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++)
		if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

static bool valid_host(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == '{' || (unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

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

/* Appends s to buf at *at, escaping \\, \" and newlines when quote is set;
 * returns false when it does not fit. */
static bool append(char *buf, size_t len, size_t *at, const char *s, bool quote)
{
	for (; *s; s++) {
		const char *esc = NULL;
		if (quote && *s == '\\')
			esc = "\\\\";
		else if (quote && *s == '"')
			esc = "\\\"";
		else if (quote && *s == '\n')
			esc = "\\n";
		size_t need = esc ? 2 : 1;
		if (*at + need >= len)
			return false;
		if (esc)
			memcpy(buf + *at, esc, 2);
		else
			buf[*at] = *s;
		*at += need;
	}
	buf[*at] = '\0';
	return true;
}

int series_canonical(char *buf, size_t len, const char *host, const char *metric,
		     struct series_label *labels, size_t n_labels, struct err *e)
{
	if (!valid_host(host))
		return err_set(e, -EINVAL,
			       "bad host name '%s': it must be non-empty, without '/', '{' or "
			       "control characters",
			       host);
	if (!valid_metric(metric))
		return err_set(e, -EINVAL,
			       "bad metric name '%s': it must match [a-zA-Z_:][a-zA-Z0-9_:]*",
			       metric);
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
		if (!valid_label_key(labels[i].key))
			return err_set(
			    e, -EINVAL,
			    "bad label name '%s' in %s/%s: it must match [a-zA-Z_][a-zA-Z0-9_]*",
			    labels[i].key, host, metric);
		if (i > 0 && strcmp(labels[i - 1].key, labels[i].key) == 0)
			return err_set(e, -EINVAL, "label '%s' given twice in %s/%s", labels[i].key,
				       host, metric);
		fits = append(buf, len, &at, i == 0 ? "{" : ",", false) &&
		       append(buf, len, &at, labels[i].key, false) &&
		       append(buf, len, &at, "=\"", false) &&
		       append(buf, len, &at, labels[i].value, true) &&
		       append(buf, len, &at, "\"", false);
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
