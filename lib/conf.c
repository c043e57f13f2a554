/* conf.c - the configuration file reader; see conf.h (the format) and
 * docs/config.md. One reader serves the main file and every file it
 * includes, so repeated sections are found across all of them. */
#include "lib/conf.h"

#include <errno.h>
#include <glob.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/rtime.h"

#define CONF_MAX_LINE 4096
#define NO_SECTION    ((size_t)-1)

/* A section met so far: its words and where its header is. */
struct seen {
	char *section, *name;
	const char *file;
	int line;
};

struct reader {
	const struct conf_hooks *hooks;
	void *ctx;
	struct err *e;
	struct seen *seen;
	size_t n_seen, cap_seen;
	char **owned; /* paths of included files, kept for entry->file */
	size_t n_owned, cap_owned;
};

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	char *end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

static int syntax_error(struct err *e, const char *file, int line, const char *what)
{
	return err_set(e, -EINVAL, "%s:%d: %s", file, line, what);
}

/* Cuts a comment: a '#' outside double quotes that starts the line or
 * follows a space or tab. Inside quotes \" does not close them. */
static int cut_comment(char *s, const char *file, int line, struct err *e)
{
	bool quoted = false;
	for (char *p = s; *p; p++) {
		if (quoted) {
			if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
				p++;
			else if (*p == '"')
				quoted = false;
		} else if (*p == '"') {
			quoted = true;
		} else if (*p == '#' && (p == s || p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			return 0;
		}
	}
	return quoted ? syntax_error(e, file, line, "unterminated quoted value") : 0;
}

/* Unquotes a value that starts with '"' in place (with \" and \\ escapes);
 * nothing may follow the closing quote (comments are already cut). */
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
	if (*trim(p + 1))
		return syntax_error(e, file, line, "text after a quoted value");
	*out = '\0';
	return 0;
}

static int grow(void **array, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t want = *cap ? *cap * 2 : 16;
	void *bigger = realloc(*array, want * size);
	if (!bigger)
		return -ENOMEM;
	*array = bigger;
	*cap = want;
	return 0;
}

static const char *keep_path(struct reader *r, const char *path)
{
	char *copy = strdup(path);
	if (!copy || grow((void **)&r->owned, &r->cap_owned, r->n_owned, sizeof *r->owned) != 0) {
		free(copy);
		return NULL;
	}
	return r->owned[r->n_owned++] = copy;
}

/* Parses "[section name]" (s is trimmed, comment cut) and records it;
 * *out is the index of the new section in r->seen. */
static int open_section(struct reader *r, char *s, const char *file, int line, size_t *out)
{
	size_t len = strlen(s);
	if (len < 2 || s[len - 1] != ']')
		return syntax_error(r->e, file, line, "section header must end with ']'");
	s[len - 1] = '\0';
	s = trim(s + 1);
	char *space = strpbrk(s, " \t");
	char *name = "";
	if (space) {
		*space = '\0';
		name = trim(space + 1);
		if (unquote(name, file, line, r->e) != 0)
			return -EINVAL;
	}
	if (!*s || strchr(s, '"'))
		return syntax_error(r->e, file, line, "empty or quoted section name");
	for (size_t i = 0; i < r->n_seen; i++) {
		const struct seen *old = &r->seen[i];
		if (strcmp(old->section, s) == 0 && strcmp(old->name, name) == 0)
			return err_set(r->e, -EINVAL,
				       "%s:%d: [%s%s%s] repeats the section at %s:%d", file, line,
				       s, *name ? " " : "", name, old->file, old->line);
	}
	if (grow((void **)&r->seen, &r->cap_seen, r->n_seen, sizeof *r->seen) != 0)
		return err_set(r->e, -ENOMEM, "%s:%d: out of memory", file, line);
	struct seen *new = &r->seen[r->n_seen];
	new->section = strdup(s);
	new->name = strdup(name);
	new->file = file;
	new->line = line;
	if (!new->section || !new->name) {
		free(new->section);
		free(new->name);
		return err_set(r->e, -ENOMEM, "%s:%d: out of memory", file, line);
	}
	*out = r->n_seen++;
	return 0;
}

/* Tells the program that section `index` (if any) has ended. */
static int end_section(struct reader *r, size_t *index)
{
	size_t i = *index;
	*index = NO_SECTION;
	if (i == NO_SECTION || !r->hooks->section_end)
		return 0;
	const struct seen *s = &r->seen[i];
	struct conf_entry entry = { s->file, s->line, s->section, s->name, NULL, NULL, s->line };
	return r->hooks->section_end(r->ctx, &entry, r->e);
}

static int read_text(struct reader *r, const char *text, const char *file, int depth);
static int read_file(struct reader *r, const char *path, int depth);

/* A folder of the pattern that is missing matches nothing; one that cannot
 * be read stops the include rather than hide its files. */
static int glob_failed(const char *path, int error)
{
	(void)path;
	return error != ENOENT && error != ENOTDIR;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* `include = pattern` at file:line: reads every file the glob matches. */
static int include(struct reader *r, const char *pattern, const char *file, int line, int depth)
{
	if (!*pattern)
		return syntax_error(r->e, file, line, "include needs a file or a pattern");
	if (depth + 1 >= CONF_MAX_DEPTH)
		return err_set(r->e, -ELOOP,
			       "%s:%d: include '%s': includes nest deeper than %d (does a file "
			       "include itself?)",
			       file, line, pattern, CONF_MAX_DEPTH);
	const char *slash = strrchr(file, '/');
	int dir_len = pattern[0] == '/' || !slash ? 0 : (int)(slash - file + 1);
	char path[CONF_MAX_LINE + 512];
	if (snprintf(path, sizeof path, "%.*s%s", dir_len, file, pattern) >= (int)sizeof path)
		return syntax_error(r->e, file, line, "include path too long");
	glob_t g;
	int rc = glob(path, 0, glob_failed, &g);
	if (rc == GLOB_NOMATCH) {
		globfree(&g);
		if (strpbrk(pattern, "*?["))
			return 0;
		return err_set(r->e, -ENOENT, "%s:%d: include '%s': no such file", file, line,
			       path);
	}
	if (rc != 0) {
		globfree(&g);
		return err_set(r->e, rc == GLOB_NOSPACE ? -ENOMEM : -EIO,
			       "%s:%d: include '%s': cannot list the files", file, line, path);
	}
	/* glob sorts by the locale's collation; byte order is the same everywhere */
	qsort(g.gl_pathv, g.gl_pathc, sizeof *g.gl_pathv, by_path);
	for (size_t i = 0; rc == 0 && i < g.gl_pathc; i++) {
		struct stat st;
		const char *kept = keep_path(r, g.gl_pathv[i]);
		if (!kept)
			rc = err_set(r->e, -ENOMEM, "%s:%d: out of memory", file, line);
		else if (stat(kept, &st) != 0 || !S_ISREG(st.st_mode))
			rc = err_set(r->e, -EINVAL, "%s:%d: include '%s': not a regular file", file,
				     line, kept);
		else
			rc = read_file(r, kept, depth + 1);
	}
	globfree(&g);
	return rc;
}

static int read_text(struct reader *r, const char *text, const char *file, int depth)
{
	char buf[CONF_MAX_LINE];
	int line = 0, rc = 0;
	size_t current = NO_SECTION;
	for (const char *p = text; *p && rc == 0;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		line++;
		if (len >= sizeof buf)
			return syntax_error(r->e, file, line, "line too long");
		memcpy(buf, p, len);
		buf[len] = '\0';
		p += len + (nl ? 1 : 0);
		if (cut_comment(buf, file, line, r->e) != 0)
			return -EINVAL;
		char *s = trim(buf);
		if (!*s)
			continue;
		if (*s == '[') {
			if ((rc = end_section(r, &current)) == 0)
				rc = open_section(r, s, file, line, &current);
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq)
			return syntax_error(r->e, file, line,
					    "expected 'key = value' or '[section]'");
		*eq = '\0';
		char *key = trim(s), *value = trim(eq + 1);
		if (!*key)
			return syntax_error(r->e, file, line, "missing key before '='");
		if (unquote(value, file, line, r->e) != 0)
			return -EINVAL;
		if (strcmp(key, "include") == 0) {
			if ((rc = end_section(r, &current)) == 0)
				rc = include(r, value, file, line, depth);
			continue;
		}
		const struct seen *s_in = current == NO_SECTION ? NULL : &r->seen[current];
		struct conf_entry entry = {
			file, line,  s_in ? s_in->section : "", s_in ? s_in->name : "",
			key,  value, s_in ? s_in->line : 0
		};
		rc = r->hooks->setting(r->ctx, &entry, r->e);
	}
	if (rc == 0)
		rc = end_section(r, &current);
	return rc;
}

static int read_file(struct reader *r, const char *path, int depth)
{
	struct err *e = r->e;
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
	int rc = 0;
	if (read_failed)
		rc = err_set(e, -EIO, "cannot read config file %s", path);
	else if (strlen(text) != size)
		rc = err_set(e, -EINVAL, "%s: NUL byte in the file", path);
	else
		rc = read_text(r, text, path, depth);
	free(text);
	return rc;
}

static void release(struct reader *r)
{
	for (size_t i = 0; i < r->n_seen; i++) {
		free(r->seen[i].section);
		free(r->seen[i].name);
	}
	for (size_t i = 0; i < r->n_owned; i++)
		free(r->owned[i]);
	free(r->seen);
	free(r->owned);
}

int conf_read_text(const char *text, const char *file, const struct conf_hooks *hooks, void *ctx,
		   struct err *e)
{
	struct reader r = { .hooks = hooks, .ctx = ctx, .e = e };
	int rc = read_text(&r, text, file, 0);
	release(&r);
	return rc;
}

int conf_read_file(const char *path, const struct conf_hooks *hooks, void *ctx, struct err *e)
{
	struct reader r = { .hooks = hooks, .ctx = ctx, .e = e };
	int rc = read_file(&r, path, 0);
	release(&r);
	return rc;
}

int conf_parse_text(const char *text, const char *file, conf_callback cb, void *ctx, struct err *e)
{
	const struct conf_hooks hooks = { cb, NULL };
	return conf_read_text(text, file, &hooks, ctx, e);
}

int conf_parse_file(const char *path, conf_callback cb, void *ctx, struct err *e)
{
	const struct conf_hooks hooks = { cb, NULL };
	return conf_read_file(path, &hooks, ctx, e);
}

int conf_error(struct err *e, const struct conf_entry *entry, const char *fmt, ...)
{
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (!entry->key)
		return err_set(e, -EINVAL, "%s:%d: [%s%s%s]: %s", entry->file, entry->line,
			       entry->section, entry->name[0] ? " " : "", entry->name, what);
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

/* Reads a decimal number ([sign] digits [. digits] [e [sign] digits]) at s
 * into *v; returns the end, or NULL when s does not start with one. strtod
 * alone would take hex, "inf" and "nan". */
static const char *decimal(const char *s, bool sign, double *v)
{
	const char *p = s;
	if (sign && (*p == '-' || *p == '+'))
		p++;
	size_t digits = strspn(p, "0123456789");
	p += digits;
	if (*p == '.') {
		size_t fraction = strspn(p + 1, "0123456789");
		digits += fraction;
		p += 1 + fraction;
	}
	if (digits == 0)
		return NULL;
	if (*p == 'e' || *p == 'E') {
		const char *q = p + 1 + (p[1] == '-' || p[1] == '+');
		size_t exponent = strspn(q, "0123456789");
		if (exponent)
			p = q + exponent;
	}
	char *end;
	errno = 0;
	*v = strtod(s, &end);
	if (errno || end != p || !isfinite(*v))
		return NULL;
	return p;
}

int conf_int(const struct conf_entry *entry, int64_t min, int64_t max, int64_t *out, struct err *e)
{
	char *end;
	errno = 0;
	long long v = strtoll(entry->value, &end, 10); /* "010" is ten, not octal 8 */
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
	double v;
	const char *end = decimal(entry->value, true, &v);
	if (!end || *end)
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
	double v;
	const char *end = decimal(entry->value, false, &v);
	if (!end)
		goto bad;
	while (*end == ' ')
		end++;
	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		if (strcmp(end, suffixes[i].suffix) == 0) {
			double bytes = v * (double)suffixes[i].factor;
			/* 2^64 is exact in a double; converting anything at or past it is
			 * undefined behaviour */
			if (!(bytes < 18446744073709551616.0))
				return conf_error(e, entry, "too large (at most 16EiB)");
			*out = (uint64_t)bytes;
			return 0;
		}
	}
bad:
	return conf_error(e, entry, "expected a size such as 4096, 64KiB, 100MiB, 1GiB");
}
