/* web_rules.c - the web's rule drop-in (see web_rules.h). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alertd/rules.h"
#include "lib/conf.h"
#include "lib/grow.h"
#include "reportgen/web_rules.h"

#define KEYS 4
static const char *const keys[KEYS] = { "enabled", "threshold", "clear", "for" };

/* The drop-in as [override RULE] sections, each with its keys. */
struct dropin {
	struct {
		char *rule;
		char *value[KEYS];
	} * rules;
	size_t n, cap;
};

static void dropin_free(struct dropin *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->rules[i].rule);
		for (int k = 0; k < KEYS; k++)
			free(d->rules[i].value[k]);
	}
	free(d->rules);
	memset(d, 0, sizeof *d);
}

static size_t rule_slot(struct dropin *d, const char *rule)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->rules[i].rule, rule) == 0)
			return i;
	if (!grow_array(&d->rules, &d->cap, d->n + 1, sizeof *d->rules))
		return (size_t)-1;
	memset(&d->rules[d->n], 0, sizeof d->rules[d->n]);
	if (!(d->rules[d->n].rule = strdup(rule)))
		return (size_t)-1;
	return d->n++;
}

static int set_value(struct dropin *d, const char *rule, const char *key, const char *value)
{
	size_t i = rule_slot(d, rule);
	if (i == (size_t)-1)
		return -ENOMEM;
	for (int k = 0; k < KEYS; k++)
		if (strcmp(keys[k], key) == 0) {
			free(d->rules[i].value[k]);
			return (d->rules[i].value[k] = strdup(value)) ? 0 : -ENOMEM;
		}
	return -EINVAL;
}

static int on_entry(void *ctx, const struct conf_entry *entry, struct err *e)
{
	if (strcmp(entry->section, "override") != 0 || !entry->name[0])
		return conf_error(e, entry,
				  "the web's drop-in holds [override RULE] sections only");
	int rc = set_value(ctx, entry->name, entry->key, entry->value);
	return rc == -EINVAL ? conf_error(e, entry, "unknown key") : rc;
}

static char *dropin_text(const struct dropin *d)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return NULL;
	fputs("# Written by rmon-web: rule edits made on the report pages (docs/web.md).\n"
	      "# Each change is logged with who made it; the file before the last change\n"
	      "# is 50-web.conf.prev.\n",
	      f);
	for (size_t i = 0; i < d->n; i++) {
		fprintf(f, "\n[override %s]\n", d->rules[i].rule);
		for (int k = 0; k < KEYS; k++)
			if (d->rules[i].value[k])
				fprintf(f, "%s = %s\n", keys[k], d->rules[i].value[k]);
	}
	return fclose(f) == 0 ? text : (free(text), NULL);
}

void web_rules_dropin(const char *config, char *buf, size_t cap)
{
	char copy[4096];
	snprintf(copy, sizeof copy, "%s", config);
	snprintf(buf, cap, "%s/rules.d/50-web.conf", dirname(copy));
}

/* Writes text to path atomically: path.tmp, fsync, rename. */
static int write_atomic(const char *path, const char *text, struct err *e)
{
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return err_sys(e, -errno, "cannot write %s", tmp);
	size_t len = strlen(text);
	int rc = 0;
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0)
		rc = err_sys(e, -EIO, "cannot write %s", tmp);
	close(fd);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = err_sys(e, -errno, "cannot rename %s", tmp);
	if (rc)
		unlink(tmp);
	return rc;
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *text = NULL;
	size_t cap = 0, len = 0;
	int c;
	while ((c = fgetc(f)) != EOF) {
		if (!grow_array(&text, &cap, len + 2, 1)) {
			free(text);
			fclose(f);
			return NULL;
		}
		text[len++] = (char)c;
	}
	fclose(f);
	if (!text)
		text = calloc(1, 1);
	else
		text[len] = '\0';
	return text;
}

/* Checks text as the drop-in, then replaces the drop-in with it, keeping
 * the old one as .prev; then reads the configuration for real and, if it
 * does not see want (the edited rule's values), puts the old one back. */
static int replace(const char *config, const char *text, const struct web_rule_edit *want,
		   struct err *e)
{
	char path[4096], prev[4200];
	web_rules_dropin(config, path, sizeof path);
	snprintf(prev, sizeof prev, "%s.prev", path);
	struct alert_config *cfg = NULL;
	int rc = alert_config_read_file_with(config, path, text, &cfg, e);
	alert_config_free(cfg);
	if (rc)
		return rc;
	char folder[4096];
	snprintf(folder, sizeof folder, "%s", path);
	mkdir(dirname(folder), 0755);
	char *old = read_all(path);
	if (old && (rc = write_atomic(prev, old, e)) != 0) {
		free(old);
		return rc;
	}
	if ((rc = write_atomic(path, text, e)) != 0) {
		free(old);
		return rc;
	}
	if (want && want->rule) {
		cfg = NULL;
		rc = alert_config_read_file(config, &cfg, e);
		const struct rule *r = rc == 0 ? alert_config_rule(cfg, want->rule) : NULL;
		bool seen = r &&
			    (!want->threshold || r->threshold == strtod(want->threshold, NULL)) &&
			    (!want->enabled || r->enabled == (strcmp(want->enabled, "true") == 0));
		alert_config_free(cfg);
		if (!seen) {
			if (old)
				write_atomic(path, old, NULL);
			else
				unlink(path);
			free(old);
			return err_set(e, -EPROTO,
				       "%s does not read %s: add 'include = rules.d/*.conf' to it "
				       "(docs/web.md)",
				       config, path);
		}
	}
	free(old);
	return 0;
}

int web_rules_edit(const char *config, const struct web_rule_edit *edit, struct err *e)
{
	if (!config || !*config)
		return err_set(e, -ENOENT,
			       "rule edits need the path of alertd's configuration (RMON_CONFIG)");
	char path[4096];
	web_rules_dropin(config, path, sizeof path);
	struct dropin d = { 0 };
	struct stat st;
	int rc = 0;
	if (stat(path, &st) == 0)
		rc = conf_parse_file(path, on_entry, &d, e);
	const char *values[KEYS] = { edit->enabled, edit->threshold, edit->clear, edit->for_ };
	for (int k = 0; rc == 0 && k < KEYS; k++)
		if (values[k])
			rc = set_value(&d, edit->rule, keys[k], values[k]);
	char *text = rc == 0 ? dropin_text(&d) : NULL;
	if (rc == 0 && !text)
		rc = err_set(e, -ENOMEM, "out of memory");
	if (rc == 0)
		rc = replace(config, text, edit, e);
	free(text);
	dropin_free(&d);
	return rc;
}

int web_rules_undo(const char *config, struct err *e)
{
	if (!config || !*config)
		return err_set(e, -ENOENT,
			       "rule edits need the path of alertd's configuration (RMON_CONFIG)");
	char path[4096], prev[4200];
	web_rules_dropin(config, path, sizeof path);
	snprintf(prev, sizeof prev, "%s.prev", path);
	char *text = read_all(prev);
	if (!text)
		return err_set(e, -ENOENT, "no earlier rule edit to go back to (%s)", prev);
	int rc = replace(config, text, NULL, e);
	free(text);
	return rc;
}
