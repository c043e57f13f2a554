/* conf.c - the configuration file reader; see conf.h. */
#include "lib/conf.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rtime.h"

#define CONF_MAX_LINE 4096

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	char *end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* Cuts a comment that starts a line or follows a space. */
static void cut_comment(char *s)
{
	for (char *p = s; *p; p++) {
		if (*p == '"')
			return; /* values with quotes keep what follows; handled later */
		if (*p == '#' && (p == s || p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			return;
		}
	}
}

static int syntax_error(struct err *e, const char *file, int line, const char *what)
{
	return err_set(e, -EINVAL, "%s:%d: %s", file, line, what);
}

/* Unquotes "..." in place (with \" and \\ escapes); the rest after the
 * closing quote may hold only a comment. */
static int unquote(char *value, const char *file, int line, struct err *e)
{
	if (value[0] != '"')
		return 0;
	char *out = value;
	char *p = value + 1;
	while (*p && *p != '"') {
		if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
			p++;
		*out++ = *p++;
	}
	if (*p != '"')
		return syntax_error(e, file, line, "unterminated quoted value");
	char *rest = trim(p + 1);
	if (*rest && *rest != '#')
		return syntax_error(e, file, line, "text after a quoted value");
	*out = '\0';
	return 0;
}

static int parse_section(char *s, char *section, char *name, const char *file, int line,
			 struct err *e)
{
	char *close = strchr(s, ']');
	if (!close || *trim(close + 1) != '\0')
		return syntax_error(e, file, line, "section header must end with ']'");
	*close = '\0';
	s = trim(s + 1);
	char *space = strpbrk(s, " \t");
	name[0] = '\0';
	if (space) {
		*space = '\0';
		char *second = trim(space + 1);
		if (unquote(second, file, line, e) != 0)
			return -EINVAL;
		snprintf(name, CONF_MAX_LINE, "%s", second);
	}
	if (!*s)
		return syntax_error(e, file, line, "empty section name");
	snprintf(section, CONF_MAX_LINE, "%s", s);
	return 0;
}

int conf_parse_text(const char *text, const char *file, conf_callback cb, void *ctx, struct err *e)
{
	static __thread char section[CONF_MAX_LINE], name[CONF_MAX_LINE];
	char buf[CONF_MAX_LINE];
	int line = 0;
	section[0] = name[0] = '\0';
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		line++;
		if (len >= sizeof buf)
			return syntax_error(e, file, line, "line too long");
		memcpy(buf, p, len);
		buf[len] = '\0';
		p += len + (nl ? 1 : 0);
		if (memchr(buf, '\0', len))
			return syntax_error(e, file, line, "NUL byte in line");
		cut_comment(buf);
		char *s = trim(buf);
		if (!*s || *s == '#')
			continue;
		if (*s == '[') {
			if (parse_section(s, section, name, file, line, e) != 0)
				return -EINVAL;
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq)
			return syntax_error(e, file, line, "expected 'key = value' or '[section]'");
		*eq = '\0';
		char *key = trim(s), *value = trim(eq + 1);
		if (!*key)
			return syntax_error(e, file, line, "missing key before '='");
		if (value[0] != '"')
			cut_comment(value), value = trim(value);
		else if (unquote(value, file, line, e) != 0)
			return -EINVAL;
		struct conf_entry entry = { file, line, section, name, key, value };
		int rc = cb(ctx, &entry, e);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int conf_parse_file(const char *path, conf_callback cb, void *ctx, struct err *e)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return err_sys(e, -errno, "cannot open config file %s", path);
	char *text = NULL;
	size_t size = 0;
	FILE *mem = open_memstream(&text, &size);
	char chunk[8192];
	size_t n;
	while (mem && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
		fwrite(chunk, 1, n, mem);
	int read_failed = ferror(f);
	fclose(f);
	if (!mem)
		return err_set(e, -ENOMEM, "out of memory reading %s", path);
	fclose(mem);
	int rc = read_failed ? err_set(e, -EIO, "cannot read config file %s", path)
			     : conf_parse_text(text, path, cb, ctx, e);
	free(text);
	return rc;
}

int conf_error(struct err *e, const struct conf_entry *entry, const char *fmt, ...)
{
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return err_set(e, -EINVAL, "%s:%d: %s%s%s = '%s': %s", entry->file, entry->line,
		       entry->section[0] ? entry->section : "", entry->section[0] ? "." : "",
		       entry->key, entry->value, what);
}

int conf_bool(const struct conf_entry *entry, bool *out, struct err *e)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	for (int i = 0; i < 4; i++) {
		if (strcasecmp(entry->value, yes[i]) == 0)
			return *out = true, 0;
		if (strcasecmp(entry->value, no[i]) == 0)
			return *out = false, 0;
	}
	return conf_error(e, entry, "expected true or false");
}

int conf_int(const struct conf_entry *entry, int64_t min, int64_t max, int64_t *out, struct err *e)
{
	char *end;
	errno = 0;
	long long v = strtoll(entry->value, &end, 0);
	if (errno || end == entry->value || *end)
		return conf_error(e, entry, "expected a whole number");
	if (v < min || v > max)
		return conf_error(e, entry, "must be between %lld and %lld", (long long)min,
				  (long long)max);
	*out = v;
	return 0;
}

int conf_double(const struct conf_entry *entry, double *out, struct err *e)
{
	char *end;
	errno = 0;
	double v = strtod(entry->value, &end);
	if (errno || end == entry->value || *end || isnan(v))
		return conf_error(e, entry, "expected a number");
	*out = v;
	return 0;
}

int conf_duration(const struct conf_entry *entry, int64_t min_ns, int64_t *out_ns, struct err *e)
{
	int64_t ns;
	if (rtime_parse_duration(entry->value, &ns, NULL) != 0)
		return conf_error(e, entry, "expected a duration such as 500ms, 10s, 5m, 2h, 7d");
	if (ns < min_ns) {
		char min[32];
		return conf_error(e, entry, "must be at least %s",
				  rtime_format_duration(min_ns, min, sizeof min));
	}
	*out_ns = ns;
	return 0;
}

int conf_size(const struct conf_entry *entry, uint64_t *out, struct err *e)
{
	static const struct {
		const char *suffix;
		uint64_t factor;
	} suffixes[] = {
		{ "", 1 },
		{ "B", 1 },
		{ "KiB", 1ULL << 10 },
		{ "MiB", 1ULL << 20 },
		{ "GiB", 1ULL << 30 },
		{ "TiB", 1ULL << 40 },
		{ "KB", 1000 },
		{ "MB", 1000000 },
		{ "GB", 1000000000 },
		{ "TB", 1000000000000ULL },
	};
	char *end;
	errno = 0;
	double v = strtod(entry->value, &end);
	if (errno || end == entry->value || v < 0)
		goto bad;
	while (*end == ' ')
		end++;
	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		if (strcmp(end, suffixes[i].suffix) == 0) {
			*out = (uint64_t)(v * (double)suffixes[i].factor);
			return 0;
		}
	}
bad:
	return conf_error(e, entry, "expected a size such as 4096, 64KiB, 100MiB, 1GiB");
}
