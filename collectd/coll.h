/* coll.h - the agent's collectors: each family reads /proc, /sys or cgroup
 * files and hands every value to a sink, named the Prometheus way
 * (docs/metrics.md).  Parsers take the file's text, so tests feed them
 * fixtures captured from real kernels; the collect functions read the live
 * files through a coll_files cache that reuses descriptors and buffers, so
 * a steady-state collection allocates nothing. */
#ifndef RMON_COLL_H
#define RMON_COLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collectd/config.h"
#include "lib/err.h"
#include "lib/series_name.h"

/* Where values go: the ring, stdout, or a test's array. */
struct coll_sink {
	void (*value)(struct coll_sink *sink, const char *metric, struct series_label *labels,
		      size_t n_labels, double value);
};

static inline void coll_emit(struct coll_sink *s, const char *metric, double value)
{
	s->value(s, metric, NULL, 0, value);
}

static inline void coll_emit1(struct coll_sink *s, const char *metric, const char *k, const char *v,
			      double value)
{
	struct series_label l[1] = { { k, v } };
	s->value(s, metric, l, 1, value);
}

static inline void coll_emit2(struct coll_sink *s, const char *metric, const char *k1,
			      const char *v1, const char *k2, const char *v2, double value)
{
	struct series_label l[2] = { { k1, v1 }, { k2, v2 } };
	s->value(s, metric, l, 2, value);
}

/* ---- reading files ---- */

struct coll_files;

struct coll_files *coll_files_new(const char *root);
void coll_files_free(struct coll_files *f);

/* Reads the whole file root+path into a buffer owned by f (valid until
 * the next read) and NUL-terminates it.  Files read before are re-read
 * with pread on the descriptor kept open.  Returns the length or -errno. */
long coll_read(struct coll_files *f, const char *path, char **text);

/* /proc/self/mountinfo, read again only when the kernel says the mount
 * table changed (poll's POLLPRI); the text may be modified by the caller. */
long coll_read_mounts(struct coll_files *f, char **text);

/* Whether path can be read, through the same cache of descriptors and
 * failures as coll_read, without touching the text coll_read returned. */
bool coll_readable(struct coll_files *f, const char *path);

/* The entries of directory root+path: for each, a type letter ('d' for a
 * directory, 'f' otherwise) then the name, NUL-terminated; returns their
 * length in bytes or -errno.  Directories are listed again only every ten
 * seconds (sensors, cgroups: listing costs more than reading what they
 * hold); *names stays valid until path is listed again. */
long coll_list(struct coll_files *f, const char *path, const char **names);

/* Counts the changes of the mount table seen by coll_read_mounts, so a
 * caller can keep what it derived from the last text. */
uint64_t coll_mounts_version(struct coll_files *f);

/* Like coll_read for files that come and go (per process): not cached. */
long coll_read_once(struct coll_files *f, const char *path, char **text);

const char *coll_root(struct coll_files *f); /* "" or a fixture folder */

/* ---- parsers (text in, values out) ---- */

int coll_parse_stat(const char *text, long hz, struct coll_sink *sink);
int coll_parse_loadavg(const char *text, struct coll_sink *sink);
int coll_parse_uptime(const char *text, struct coll_sink *sink);
int coll_parse_pressure(const char *text, const char *resource, struct coll_sink *sink);
int coll_parse_meminfo(const char *text, struct coll_sink *sink);
int coll_parse_vmstat(const char *text, const char *fields, struct coll_sink *sink);
/* is_disk(name, ctx) says whether a device is a whole disk to report. */
int coll_parse_diskstats(const char *text, bool (*is_disk)(const char *name, void *ctx), void *ctx,
			 struct coll_sink *sink);
int coll_parse_netdev(const char *text, const struct coll_config *c, struct coll_sink *sink);
/* Counts /proc/net/tcp(6) lines by state into counts[12] (index = state). */
int coll_count_tcp(const char *text, uint64_t counts[12]);
int coll_parse_sockstat(const char *text, struct coll_sink *sink);
int coll_parse_snmp(const char *text, const char *fields, struct coll_sink *sink);

/* One mount of /proc/self/mountinfo, octal escapes decoded in place. */
struct coll_mount {
	char *mountpoint, *fstype, *device;
};
/* Calls fn for each mount line; text is modified. */
int coll_parse_mountinfo(char *text, void (*fn)(const struct coll_mount *m, void *ctx), void *ctx);
bool coll_fs_wanted(const struct coll_config *c, const char *fstype, const char *mountpoint);

/* /proc/PID/stat: the fields the process collector uses. */
struct coll_proc_stat {
	int pid, ppid;
	char comm[32];
	char state;
	unsigned long flags;
	uint64_t utime, stime; /* clock ticks */
	long threads;
	uint64_t rss_pages;
};
int coll_parse_proc_stat(const char *text, struct coll_proc_stat *out);

/* ---- collectors ---- */

struct coll_state;

/* A family: fills the sink from the live system (or the files root). */
struct coll_family {
	const char *name;
	int (*collect)(struct coll_state *st, struct coll_sink *sink, struct err *e);
};

extern const struct coll_family coll_families[];
extern const size_t coll_n_families;

/* The state collectors keep between runs (file cache, process table). */
struct coll_state *coll_state_new(const struct coll_config *c, const char *root);
void coll_state_free(struct coll_state *st);
struct coll_files *coll_state_files(struct coll_state *st);
const struct coll_config *coll_state_config(struct coll_state *st);

int coll_cpu(struct coll_state *st, struct coll_sink *sink, struct err *e);
int coll_load(struct coll_state *st, struct coll_sink *sink, struct err *e);
int coll_pressure(struct coll_state *st, struct coll_sink *sink, struct err *e);
int coll_memory(struct coll_state *st, struct coll_sink *sink, struct err *e);
int coll_diskio(struct coll_state *st, struct coll_sink *sink, struct err *e);
int coll_filesystem(struct coll_state *st, struct coll_sink *sink, struct err *e);
int coll_network(struct coll_state *st, struct coll_sink *sink, struct err *e);
int coll_tcp(struct coll_state *st, struct coll_sink *sink, struct err *e);
int coll_misc(struct coll_state *st, struct coll_sink *sink, struct err *e);
int coll_processes(struct coll_state *st, struct coll_sink *sink, struct err *e);
int coll_cgroup(struct coll_state *st, struct coll_sink *sink, struct err *e);
int coll_hwmon(struct coll_state *st, struct coll_sink *sink, struct err *e);

/* The process collector's memory between runs. */
struct coll_proc_table;
struct coll_proc_table *coll_proc_table_new(void);
void coll_proc_table_free(struct coll_proc_table *t);

/* What a collector keeps between runs beyond what coll_state knows: set
 * once by the collector, freed by coll_state_free with the free function
 * given.  The state knows no collector, so the collectors depend on it and
 * not the other way round (collectd/families.c lists them). */
enum coll_private { COLL_PRIVATE_PROCS, COLL_N_PRIVATE };
void *coll_state_private(struct coll_state *st, enum coll_private which);
void coll_state_keep(struct coll_state *st, enum coll_private which, void *data,
		     void (*free_fn)(void *data));

/* The mounts the filesystem collector reports, as "mountpoint NUL fstype
 * NUL device NUL" each: mountinfo parsed and filtered again only when the
 * mount table or the configuration changed.  Owned by coll_state. */
struct coll_mount_list {
	char *text;
	size_t len, cap;
	uint64_t mounts_version;
	unsigned config_version;
	bool valid;
};
struct coll_mount_list *coll_state_mounts(struct coll_state *st);

/* Tells the collectors that the configuration they see changed, so what
 * they derived from it is derived again; coll_state_config_version counts
 * such changes. */
void coll_state_reconfigure(struct coll_state *st);
unsigned coll_state_config_version(struct coll_state *st);

#endif
