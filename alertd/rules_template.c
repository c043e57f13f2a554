/* rules_template.c - summary and description templates ({host}, {value},
 * {labels.mountpoint} ...): checked when the config is read, expanded for
 * every message (alertd/rules.h, rule_expand).  Values go in as they are;
 * escaping is the output's job. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alertd/expr.h"
#include "alertd/rules.h"
#include "lib/rtime.h"

static const char *const fields[] = { "host", "value",	  "threshold", "since", "labels",
				      "rule", "severity", "detail",    "unit",	NULL };

/* The field name at p (after '{'): its length up to '}', or -1. */
static int field_len(const char *p)
{
	const char *end = strchr(p, '}');
	return end ? (int)(end - p) : -1;
}

static bool known_field(const char *p, int len)
{
	if (len > 7 && strncmp(p, "labels.", 7) == 0)
		return true;
	for (const char *const *f = fields; *f; f++)
		if ((int)strlen(*f) == len && strncmp(*f, p, (size_t)len) == 0)
			return true;
	return false;
}

int rule_template_check(const char *tmpl, struct err *e)
{
	for (const char *p = tmpl; *p; p++) {
		if (*p == '{' && p[1] == '{') {
			p++;
			continue;
		}
		if (*p != '{')
			continue;
		int len = field_len(p + 1);
		if (len < 0)
			return err_set(e, -EINVAL, "'{' at character %d is not closed by '}'",
				       (int)(p - tmpl) + 1);
		if (!known_field(p + 1, len))
			return err_set(
			    e, -EINVAL,
			    "unknown field {%.*s} (host, value, threshold, since, labels, "
			    "labels.NAME, rule, severity, detail, unit)",
			    len, p + 1);
		p += len + 1;
	}
	return 0;
}

const char *rule_format_value(double v, const char *unit, char *buf, size_t cap)
{
	if (isnan(v)) {
		snprintf(buf, cap, "no data");
		return buf;
	}
	if (unit && strcmp(unit, "bytes") == 0 && fabs(v) >= 1024) {
		static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
		int i = -1;
		while (fabs(v) >= 1024 && i < 5) {
			v /= 1024;
			i++;
		}
		snprintf(buf, cap, "%.*f %s", fabs(v) < 10 ? 1 : 0, v, units[i]);
		return buf;
	}
	double a = fabs(v);
	if (a == floor(a) && a < 1e15)
		snprintf(buf, cap, "%.0f", v);
	else if (a >= 100)
		snprintf(buf, cap, "%.0f", v);
	else if (a >= 10)
		snprintf(buf, cap, "%.1f", v);
	else if (a >= 0.01)
		snprintf(buf, cap, "%.2f", v);
	else
		snprintf(buf, cap, "%.3g", v);
	return buf;
}

static void format_since(int64_t since, char *buf, size_t cap)
{
	if (!since) {
		buf[0] = 0;
		return;
	}
	time_t t = (time_t)(since / RTIME_NS_PER_SEC);
	struct tm tm;
	if (!localtime_r(&t, &tm) || !strftime(buf, cap, "%Y-%m-%d %H:%M:%S %Z", &tm))
		buf[0] = 0;
}

/* Appends s to buf as snprintf would: len counts what did not fit too. */
static void append(char *buf, size_t cap, size_t *len, const char *s, size_t n)
{
	if (*len < cap) {
		size_t room = cap - *len - 1;
		memcpy(buf + *len, s, n < room ? n : room);
	}
	*len += n;
}

size_t rule_expand(const char *tmpl, const struct rule_vars *vars, char *buf, size_t cap)
{
	size_t len = 0;
	char tmp[512];
	for (const char *p = tmpl ? tmpl : ""; *p;) {
		int flen;
		if (*p == '{' && p[1] == '{') {
			append(buf, cap, &len, "{", 1);
			p += 2;
			continue;
		}
		if (*p != '{' || (flen = field_len(p + 1)) < 0 || !known_field(p + 1, flen)) {
			const char *next = strchr(p + 1, '{');
			size_t n = next ? (size_t)(next - p) : strlen(p);
			append(buf, cap, &len, p, n);
			p += n;
			continue;
		}
		const char *f = p + 1, *s = "";
#define IS(name) ((int)strlen(name) == flen && strncmp(f, name, (size_t)flen) == 0)
		if (IS("host"))
			s = vars->host;
		else if (IS("rule"))
			s = vars->rule;
		else if (IS("labels"))
			s = vars->labels;
		else if (IS("severity"))
			s = vars->severity;
		else if (IS("detail"))
			s = vars->detail;
		else if (IS("unit"))
			s = vars->unit;
		else if (IS("value"))
			s = rule_format_value(vars->value, vars->unit, tmp, sizeof tmp);
		else if (IS("threshold"))
			s = rule_format_value(vars->threshold, vars->unit, tmp, sizeof tmp);
		else if (IS("since"))
			format_since(vars->since, tmp, sizeof tmp), s = tmp;
		else { /* labels.NAME */
			char key[128];
			int klen = flen - 7 < (int)sizeof key ? flen - 7 : (int)sizeof key - 1;
			memcpy(key, f + 7, (size_t)klen);
			key[klen] = 0;
			expr_label_value(vars->labels, key, tmp, sizeof tmp);
			s = tmp;
		}
#undef IS
		if (s)
			append(buf, cap, &len, s, strlen(s));
		p += flen + 2;
	}
	if (cap)
		buf[len < cap ? len : cap - 1] = 0;
	return len;
}
