/* settings.c - table-driven settings on top of the config reader; see
 * settings.h.  The typed readers and the "file:line:" errors are conf.h's:
 * this file only finds the row and stores the value. */
#include "lib/settings.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/grow.h"

static bool has_section(const struct settings *s, const char *section)
{
	for (const struct setting *r = s->table; r->section; r++)
		if (strcmp(r->section, section) == 0)
			return true;
	return false;
}

/* "4KiB", "1MiB", or bytes: sizes in messages as people write them. */
static const char *size_text(uint64_t n, char *buf, size_t len)
{
	if (n && n % (1u << 30) == 0)
		snprintf(buf, len, "%lluGiB", (unsigned long long)(n >> 30));
	else if (n && n % (1u << 20) == 0)
		snprintf(buf, len, "%lluMiB", (unsigned long long)(n >> 20));
	else if (n && n % (1u << 10) == 0)
		snprintf(buf, len, "%lluKiB", (unsigned long long)(n >> 10));
	else
		snprintf(buf, len, "%llu", (unsigned long long)n);
	return buf;
}

static int apply_size(const struct setting *r, const struct conf_entry *entry, void *field,
		      struct err *e)
{
	uint64_t size, max = r->max			 ? (uint64_t)r->max
			     : r->kind == SETTING_SIZE32 ? UINT32_MAX
							 : UINT64_MAX;
	char low[32], high[32];
	int rc = conf_size(entry, &size, e);
	if (rc != 0)
		return rc;
	if (size < (uint64_t)r->min && !r->max)
		return conf_error(e, entry, "must be at least %s",
				  size_text(r->min, low, sizeof low));
	if (size < (uint64_t)r->min || size > max)
		return conf_error(e, entry, "must be from %s to %s",
				  size_text(r->min, low, sizeof low),
				  size_text(max, high, sizeof high));
	if (r->kind == SETTING_SIZE32)
		*(uint32_t *)field = (uint32_t)size;
	else
		*(uint64_t *)field = size;
	return 0;
}

/* Text settings may have a shortest length (secrets: a short one is
 * guessable). */
static int check_shortest(const struct setting *r, const struct conf_entry *entry, struct err *e)
{
	size_t len = strlen(entry->value);
	if (len >= (size_t)r->min)
		return 0;
	return conf_error(e, entry, "must be at least %lld bytes (this one has %zu)",
			  (long long)r->min, len);
}

static int apply_row(struct settings *s, const struct setting *r, const struct conf_entry *entry,
		     struct err *e)
{
	void *field = (char *)s->base + r->offset;
	int64_t v;
	int rc;
	switch (r->kind) {
	case SETTING_BOOL:
		return conf_bool(entry, field, e);
	case SETTING_INT:
	case SETTING_UINT32:
	case SETTING_INT64:
		if ((rc = conf_int(entry, r->min, r->max, &v, e)) != 0)
			return rc;
		if ((r->flags & SETTING_POWER_OF_TWO) && (v & (v - 1)))
			return conf_error(e, entry, "must be a power of two");
		if (r->kind == SETTING_INT)
			*(int *)field = (int)v;
		else if (r->kind == SETTING_UINT32)
			*(uint32_t *)field = (uint32_t)v;
		else
			*(int64_t *)field = v;
		return 0;
	case SETTING_DURATION:
		return conf_duration(entry, r->min, field, e);
	case SETTING_SIZE:
	case SETTING_SIZE32:
		return apply_size(r, entry, field, e);
	case SETTING_TEXT:
		if ((rc = check_shortest(r, entry, e)) != 0)
			return rc;
		if (strlen(entry->value) >= (size_t)r->max)
			return conf_error(e, entry, "longer than %lld characters",
					  (long long)r->max - 1);
		snprintf(field, (size_t)r->max, "%s", entry->value);
		return 0;
	case SETTING_STRING: {
		if ((rc = check_shortest(r, entry, e)) != 0)
			return rc;
		char *copy = settings_keep(s, entry->value);
		if (!copy)
			return conf_error(e, entry, "out of memory");
		*(const char **)field = copy;
		return 0;
	}
	}
	return conf_error(e, entry, "no reader for this kind of setting");
}

int settings_apply(struct settings *s, const struct conf_entry *entry, struct err *e)
{
	if (!has_section(s, entry->section))
		return SETTINGS_UNKNOWN;
	char keys[256];
	size_t len = 0;
	for (const struct setting *r = s->table; r->section; r++) {
		if (strcmp(r->section, entry->section) != 0)
			continue;
		if (strcmp(r->key, entry->key) == 0)
			return apply_row(s, r, entry, e);
		int n = snprintf(keys + len, sizeof keys - len, "%s%s", len ? ", " : "", r->key);
		if (n > 0 && (size_t)n < sizeof keys - len)
			len += (size_t)n;
	}
	keys[len] = '\0';
	return conf_error(e, entry, "unknown setting (%s)", keys);
}

int settings_unknown(const struct settings *s, const struct conf_entry *entry, struct err *e)
{
	char sections[256];
	size_t len = 0;
	for (const struct setting *r = s->table; r->section; r++) {
		bool seen = false;
		for (const struct setting *q = s->table; q < r && !seen; q++)
			seen = strcmp(q->section, r->section) == 0;
		int n = seen ? 0
			     : snprintf(sections + len, sizeof sections - len, "%s[%s]",
					len ? ", " : "", r->section);
		if (n > 0 && (size_t)n < sizeof sections - len)
			len += (size_t)n;
	}
	sections[len] = '\0';
	return conf_error(e, entry, "unknown section (known: %s)", sections);
}

char *settings_keep(struct settings *s, const char *text)
{
	char *copy = strdup(text);
	if (!copy || !grow_array(&s->copies, &s->copies_cap, s->n_copies + 1, sizeof *s->copies)) {
		free(copy);
		return NULL;
	}
	s->copies[s->n_copies++] = copy;
	return copy;
}

void settings_release(struct settings *s)
{
	for (size_t i = 0; i < s->n_copies; i++)
		free(s->copies[i]);
	free(s->copies);
	s->copies = NULL;
	s->n_copies = s->copies_cap = 0;
}
