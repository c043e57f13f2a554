/* config.c - the agent's configuration; see config.h. */
#include "collectd/config.h"

#include <errno.h>
#include <fnmatch.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "collectd/coll.h"
#include "lib/conf.h"
#include "lib/regex_bound.h"
#include "lib/rtime.h"
#include "lib/settings.h"
#include "net/proto.h"

void coll_config_default(struct coll_config *c)
{
	memset(c, 0, sizeof *c);
	c->interval_ns = 10 * RTIME_NS_PER_SEC;
	if (gethostname(c->host, sizeof c->host - 1) != 0 || !c->host[0])
		snprintf(c->host, sizeof c->host, "localhost");
	for (int i = 0; i < COLL_MAX_FAMILIES; i++)
		c->enabled[i] = true;
	/* Pseudo and container filesystems, as node_exporter leaves out. */
	snprintf(c->fs_exclude_types, sizeof c->fs_exclude_types,
		 "autofs binfmt_misc bpf cgroup cgroup2 configfs debugfs devpts devtmpfs fusectl "
		 "hugetlbfs iso9660 mqueue nsfs overlay proc procfs pstore rpc_pipefs securityfs "
		 "selinuxfs squashfs sysfs tracefs tmpfs ramfs efivarfs fuse.lxcfs nfsd");
	snprintf(c->fs_exclude_mounts, sizeof c->fs_exclude_mounts,
		 "/dev /dev/* /proc /proc/* /sys /sys/* /run/credentials/* /var/lib/docker/*");
	snprintf(c->disk_exclude, sizeof c->disk_exclude, "loop* ram* zram* sr* fd* nbd*");
	/* Counting TCP states walks the kernel's whole connection table. */
	for (size_t i = 0; i < coll_n_families; i++)
		if (strcmp(coll_families[i].name, "tcp") == 0)
			c->family_interval_ns[i] = 60 * RTIME_NS_PER_SEC;
	c->top_n = 5;
	c->cgroup_depth = 2;
	c->spool_bytes = 100ull << 20;
}

bool coll_glob_list_match(const char *list, const char *name)
{
	char glob[256];
	size_t name_len = strlen(name);
	for (const char *p = list; *p;) {
		while (*p == ' ')
			p++;
		size_t n = strcspn(p, " ");
		if (n == 0)
			break;
		/* Most entries are plain words (filesystem types): compared as
		 * such, they spare a copy and fnmatch each. */
		if (!memchr(p, '*', n) && !memchr(p, '?', n) && !memchr(p, '[', n) &&
		    !memchr(p, '\\', n)) {
			if (n == name_len && memcmp(p, name, n) == 0)
				return true;
		} else {
			snprintf(glob, sizeof glob, "%.*s", (int)n, p);
			if (fnmatch(glob, name, 0) == 0)
				return true;
		}
		p += n;
	}
	return false;
}

static int family_index(const char *name)
{
	for (size_t i = 0; i < coll_n_families; i++)
		if (strcmp(coll_families[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int copy_text(const struct conf_entry *entry, char *dst, size_t len, struct err *e)
{
	if (strlen(entry->value) >= len)
		return conf_error(e, entry, "longer than %zu characters", len - 1);
	snprintf(dst, len, "%s", entry->value);
	return 0;
}

/* Checks "k=v,k=v" (the sink splits it when it starts). */
static int check_labels(struct coll_config *c, const struct conf_entry *entry, struct err *e)
{
	char copy[COLL_LIST_BYTES];
	int n = 0, rc = copy_text(entry, c->labels, sizeof c->labels, e);
	snprintf(copy, sizeof copy, "%s", entry->value);
	for (char *save = NULL, *pair = strtok_r(copy, ",", &save); rc == 0 && pair;
	     pair = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(pair, '=');
		if (!eq || eq == pair)
			return conf_error(e, entry, "expected key=value pairs separated by commas");
		if (++n > COLL_MAX_LABELS)
			return conf_error(e, entry, "at most %d labels", COLL_MAX_LABELS);
		struct err why = { 0 };
		if (series_check_label_name(pair, (size_t)(eq - pair), &why) != 0 ||
		    series_check_label_value(eq + 1, strlen(eq + 1), &why) != 0)
			return conf_error(e, entry, "%s", why.msg);
	}
	return rc;
}

static int top_level(struct coll_config *c, const struct conf_entry *entry, struct err *e)
{
	if (strcmp(entry->key, "interval") == 0)
		return conf_duration(entry, 100 * RTIME_NS_PER_MS, &c->interval_ns, e);
	if (strcmp(entry->key, "host") == 0) {
		struct err why = { 0 };
		if (series_check_host(entry->value, strlen(entry->value), &why) != 0)
			return conf_error(e, entry, "%s", why.msg);
		return copy_text(entry, c->host, sizeof c->host, e);
	}
	if (strcmp(entry->key, "labels") == 0)
		return check_labels(c, entry, e);
	return conf_error(e, entry, "unknown setting (interval, host, labels)");
}

static int collector_setting(struct coll_config *c, const struct conf_entry *entry, struct err *e)
{
	int i = family_index(entry->name);
	if (i < 0) {
		char names[512] = "";
		for (size_t k = 0; k < coll_n_families; k++)
			snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
				 k ? ", " : "", coll_families[k].name);
		return conf_error(e, entry, "unknown collector '%s' (known: %s)", entry->name,
				  names);
	}
	if (strcmp(entry->key, "enabled") == 0)
		return conf_bool(entry, &c->enabled[i], e);
	if (strcmp(entry->key, "interval") == 0)
		return conf_duration(entry, 100 * RTIME_NS_PER_MS, &c->family_interval_ns[i], e);
	return conf_error(e, entry, "unknown setting (enabled, interval)");
}

static int watch_setting(struct coll_config *c, const struct conf_entry *entry, struct err *e)
{
	if (strcmp(entry->key, "match") != 0)
		return conf_error(e, entry, "unknown setting (match)");
	if (!entry->name[0])
		return conf_error(e, entry, "give the process a name: [process NAME]");
	if (c->n_watched == COLL_MAX_WATCHED)
		return conf_error(e, entry, "at most %d watched processes", COLL_MAX_WATCHED);
	struct coll_watch *w = &c->watched[c->n_watched];
	snprintf(w->name, sizeof w->name, "%s", entry->name);
	snprintf(w->pattern, sizeof w->pattern, "%s", entry->value);
	if (!regex_bounded(entry->value))
		return conf_error(e, entry,
				  "regular expression too complex (" REGEX_BOUND_TEXT ")");
	if (regcomp(&w->re, entry->value, REG_EXTENDED | REG_NOSUB) != 0)
		return conf_error(e, entry, "not a valid regular expression");
	c->n_watched++;
	return 0;
}

#define AT(field) offsetof(struct coll_config, field)
#define TEXT(section, key, field)                                                                  \
	{                                                                                          \
		section, key, SETTING_TEXT, AT(field), 0, sizeof((struct coll_config *)0)->field,  \
		    0                                                                              \
	}

/* The sections of plain settings; [collector NAME], [process NAME] and
 * the top level are read below. */
static const struct setting table[] = {
	TEXT("filesystem", "exclude_types", fs_exclude_types),
	TEXT("filesystem", "exclude_mounts", fs_exclude_mounts),
	TEXT("filesystem", "include_mounts", fs_include_mounts),
	TEXT("disk", "exclude", disk_exclude),
	{ "disk", "partitions", SETTING_BOOL, AT(disk_partitions), 0, 0, 0 },
	TEXT("network", "exclude", net_exclude),
	TEXT("network", "netstat_fields", netstat_fields),
	TEXT("memory", "vmstat_fields", vmstat_fields),
	{ "processes", "top", SETTING_INT, AT(top_n), 0, 100, 0 },
	{ "cgroup", "depth", SETTING_INT, AT(cgroup_depth), 0, 8, 0 },
	TEXT("cgroup", "exclude", cgroup_exclude),
	TEXT("server", "address", server),
	{ "server", "secret", SETTING_TEXT, AT(secret), PROTO_SECRET_MIN,
	  sizeof((struct coll_config *)0)->secret, 0 },
	{ "server", "tls", SETTING_BOOL, AT(tls), 0, 0, 0 },
	TEXT("server", "tls_ca", tls_ca),
	TEXT("server", "spool", spool_dir),
	{ "server", "spool_size", SETTING_SIZE, AT(spool_bytes), 1 << 20, 0, 0 },
	TEXT("exposition", "listen", expose_listen),
	{ NULL, NULL, 0, 0, 0, 0, 0 },
};

static int apply(void *ctx, const struct conf_entry *entry, struct err *e)
{
	struct coll_config *c = ctx;
	const char *s = entry->section;
	if (!s[0])
		return top_level(c, entry, e);
	if (strcmp(s, "collector") == 0)
		return collector_setting(c, entry, e);
	if (strcmp(s, "process") == 0)
		return watch_setting(c, entry, e);
	struct settings reader = { .table = table, .base = c };
	int rc = settings_apply(&reader, entry, e);
	if (rc == SETTINGS_UNKNOWN)
		return conf_error(e, entry,
				  "unknown section [%s] (collector, filesystem, disk, network, "
				  "memory, processes, process, cgroup, server, exposition)",
				  s);
	return rc;
}

int coll_config_parse(struct coll_config *c, const char *text, const char *name, struct err *e)
{
	return conf_parse_text(text, name, apply, c, e);
}

int coll_config_load(struct coll_config *c, const char *path, struct err *e)
{
	return conf_parse_file(path, apply, c, e);
}

void coll_config_release(struct coll_config *c)
{
	for (int i = 0; i < c->n_watched; i++)
		regfree(&c->watched[i].re);
	c->n_watched = 0;
}
