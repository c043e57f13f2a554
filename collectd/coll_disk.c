/* coll_disk.c - block device I/O from /proc/diskstats and filesystem space
 * from /proc/self/mountinfo and statvfs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "collectd/coll.h"
#include "collectd/parse.h"
#include "lib/grow.h"

/* The columns after the device name, in order (kernels before 4.18 have
 * the first 11, later ones add discard and flush columns we skip). */
static const struct {
	const char *metric;
	double scale; /* sectors are 512 bytes, times are milliseconds */
} disk_fields[] = {
	{ "node_disk_reads_completed_total", 1 },
	{ "node_disk_reads_merged_total", 1 },
	{ "node_disk_read_bytes_total", 512 },
	{ "node_disk_read_time_seconds_total", 0.001 },
	{ "node_disk_writes_completed_total", 1 },
	{ "node_disk_writes_merged_total", 1 },
	{ "node_disk_written_bytes_total", 512 },
	{ "node_disk_write_time_seconds_total", 0.001 },
	{ "node_disk_io_now", 1 },
	{ "node_disk_io_time_seconds_total", 0.001 },
	{ "node_disk_io_time_weighted_seconds_total", 0.001 },
};
#define DISK_FIELDS (sizeof disk_fields / sizeof disk_fields[0])

int coll_parse_diskstats(const char *text, bool (*is_disk)(const char *name, void *ctx), void *ctx,
			 struct coll_sink *sink)
{
	const char *p = text;
	int lines = 0;
	do {
		char device[64];
		bool ok;
		const char *s = p;
		parse_u64(&s, &ok); /* major */
		if (!ok)
			continue;
		parse_u64(&s, &ok); /* minor */
		if (!ok || !parse_word(&s, device, sizeof device))
			continue;
		lines++;
		uint64_t values[DISK_FIELDS];
		size_t n = 0;
		while (n < DISK_FIELDS) {
			values[n] = parse_u64(&s, &ok);
			if (!ok)
				break;
			n++;
		}
		if (n < DISK_FIELDS || !is_disk(device, ctx))
			continue;
		for (size_t i = 0; i < DISK_FIELDS; i++)
			coll_emit1(sink, disk_fields[i].metric, "device", device,
				   (double)values[i] * disk_fields[i].scale);
	} while (parse_next_line(&p));
	return lines ? 0 : -EPROTO;
}

struct disk_filter {
	const struct coll_config *config;
	struct coll_files *files;
};

/* A whole disk has a /sys/block entry; partitions do not.  Asked through
 * the file cache, which keeps the answer (a descriptor, or the failure)
 * instead of walking the path every collection. */
static bool live_is_disk(const char *name, void *ctx)
{
	struct disk_filter *f = ctx;
	if (coll_glob_list_match(f->config->disk_exclude, name))
		return false;
	if (f->config->disk_partitions)
		return true;
	char path[128];
	snprintf(path, sizeof path, "/sys/block/%s/dev", name);
	return coll_readable(f->files, path);
}

int coll_diskio(struct coll_state *st, struct coll_sink *sink, struct err *e)
{
	char *text;
	struct disk_filter filter = { coll_state_config(st), coll_state_files(st) };
	long n = coll_read(filter.files, "/proc/diskstats", &text);
	if (n < 0)
		return err_sys(e, (int)n, "cannot read /proc/diskstats");
	if (coll_parse_diskstats(text, live_is_disk, &filter, sink) != 0)
		return err_set(e, -EPROTO, "/proc/diskstats: no device lines");
	return 0;
}

/* Decodes the \ooo escapes mountinfo uses for spaces, tabs, newlines and
 * backslashes, in place. */
static void unescape_octal(char *s)
{
	char *out = s;
	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

/* Splits the next space-separated field in place. */
static char *field(char **p)
{
	char *s = *p;
	while (*s == ' ')
		s++;
	if (!*s || *s == '\n')
		return NULL;
	char *start = s;
	while (*s && *s != ' ' && *s != '\n')
		s++;
	if (*s == ' ')
		*s++ = '\0';
	*p = s;
	return start;
}

int coll_parse_mountinfo(char *text, void (*fn)(const struct coll_mount *m, void *ctx), void *ctx)
{
	int mounts = 0;
	for (char *line = text; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char *p = line, *f[5];
		int i = 0;
		for (; i < 5 && (f[i] = field(&p)); i++)
			;
		/* Optional fields end at a lone "-"; then type and source. */
		char *sep, *fstype = NULL, *source = NULL;
		while (i == 5 && (sep = field(&p)) && strcmp(sep, "-") != 0)
			;
		if (i == 5 && (fstype = field(&p)) && (source = field(&p))) {
			unescape_octal(f[4]);
			unescape_octal(source);
			struct coll_mount m = { f[4], fstype, source };
			fn(&m, ctx);
			mounts++;
		}
		line = nl ? nl + 1 : NULL;
	}
	return mounts ? 0 : -EPROTO;
}

bool coll_fs_wanted(const struct coll_config *c, const char *fstype, const char *mountpoint)
{
	if (coll_glob_list_match(c->fs_exclude_types, fstype))
		return false;
	if (c->fs_include_mounts[0])
		return coll_glob_list_match(c->fs_include_mounts, mountpoint);
	return !coll_glob_list_match(c->fs_exclude_mounts, mountpoint);
}

struct fs_walk {
	struct coll_mount_list *list;
	const struct coll_config *config;
};

/* Appends a wanted mount's three strings to the list. */
static void keep_wanted(const struct coll_mount *m, void *ctx)
{
	struct fs_walk *w = ctx;
	if (!coll_fs_wanted(w->config, m->fstype, m->mountpoint))
		return;
	const char *parts[3] = { m->mountpoint, m->fstype, m->device };
	for (int i = 0; i < 3; i++) {
		size_t n = strlen(parts[i]) + 1;
		struct coll_mount_list *l = w->list;
		if (!grow_bytes(&l->text, &l->cap, l->len + n, 1024))
			return;
		memcpy(l->text + l->len, parts[i], n);
		l->len += n;
	}
}

/* The wanted mounts, derived again when mountinfo or the config changed. */
static int wanted_mounts(struct coll_state *st, struct coll_mount_list **out, struct err *e)
{
	struct coll_files *f = coll_state_files(st);
	struct coll_mount_list *l = coll_state_mounts(st);
	char *text;
	long n = coll_read_mounts(f, &text);
	if (n < 0)
		return err_sys(e, (int)n, "cannot read /proc/self/mountinfo");
	if (!l->valid || l->mounts_version != coll_mounts_version(f) ||
	    l->config_version != coll_state_config_version(st)) {
		struct fs_walk w = { l, coll_state_config(st) };
		l->len = 0;
		if (coll_parse_mountinfo(text, keep_wanted, &w) != 0)
			return err_set(e, -EPROTO, "/proc/self/mountinfo: no mounts");
		l->mounts_version = coll_mounts_version(f);
		l->config_version = coll_state_config_version(st);
		l->valid = true;
	}
	*out = l;
	return 0;
}

static void report_mount(struct coll_state *st, const char *mountpoint, const char *fstype,
			 const char *device, struct coll_sink *sink)
{
	struct statvfs vfs;
	char path[1024];
	snprintf(path, sizeof path, "%s%s", coll_root(coll_state_files(st)), mountpoint);
	if (statvfs(path, &vfs) != 0)
		return; /* gone or not ours to see: not an error of the agent */
	struct series_label l[3] = { { "device", device },
				     { "fstype", fstype },
				     { "mountpoint", mountpoint } };
	double frsize = (double)vfs.f_frsize;
	sink->value(sink, "node_filesystem_size_bytes", l, 3, (double)vfs.f_blocks * frsize);
	sink->value(sink, "node_filesystem_free_bytes", l, 3, (double)vfs.f_bfree * frsize);
	sink->value(sink, "node_filesystem_avail_bytes", l, 3, (double)vfs.f_bavail * frsize);
	sink->value(sink, "node_filesystem_files", l, 3, (double)vfs.f_files);
	sink->value(sink, "node_filesystem_files_free", l, 3, (double)vfs.f_ffree);
	sink->value(sink, "node_filesystem_readonly", l, 3, (vfs.f_flag & ST_RDONLY) ? 1 : 0);
}

int coll_filesystem(struct coll_state *st, struct coll_sink *sink, struct err *e)
{
	struct coll_mount_list *l = NULL;
	int rc = wanted_mounts(st, &l, e);
	if (rc != 0)
		return rc;
	for (const char *p = l->text, *end = l->text + l->len; p < end;) {
		const char *mountpoint = p, *fstype = mountpoint + strlen(mountpoint) + 1,
			   *device = fstype + strlen(fstype) + 1;
		report_mount(st, mountpoint, fstype, device, sink);
		p = device + strlen(device) + 1;
	}
	return 0;
}
