/* config.h - the agent's configuration: built-in defaults that need no
 * file, overridden by an optional file (docs/collectd.md) and the command
 * line.  Errors name the file, line and setting. */
#ifndef RMON_COLL_CONFIG_H
#define RMON_COLL_CONFIG_H

#include <regex.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/err.h"

#define COLL_MAX_FAMILIES 16
#define COLL_MAX_LABELS	  8
#define COLL_MAX_WATCHED  32
#define COLL_LIST_BYTES	  1024

struct coll_watch {
	char name[64];	   /* the label value: process="name" */
	char pattern[256]; /* regular expression on the command name */
	regex_t re;
};

struct coll_config {
	int64_t interval_ns;			       /* default 10 s, at least 100 ms */
	char host[256];				       /* default: the machine's host name */
	char labels[COLL_LIST_BYTES];		       /* "k=v,k=v" added to every series */
	bool enabled[COLL_MAX_FAMILIES];	       /* by index in coll_families */
	int64_t family_interval_ns[COLL_MAX_FAMILIES]; /* 0 = the global interval */
	char fs_exclude_types[COLL_LIST_BYTES];	       /* space-separated globs */
	char fs_exclude_mounts[COLL_LIST_BYTES];
	char fs_include_mounts[COLL_LIST_BYTES]; /* empty = all */
	char disk_exclude[COLL_LIST_BYTES];
	bool disk_partitions;
	char net_exclude[COLL_LIST_BYTES];
	char vmstat_fields[COLL_LIST_BYTES];  /* globs on /proc/vmstat names; "" = all */
	char netstat_fields[COLL_LIST_BYTES]; /* globs on Proto_Field; "" = all */
	int top_n;			      /* processes by CPU and by memory */
	struct coll_watch watched[COLL_MAX_WATCHED];
	int n_watched;
	int cgroup_depth;
	char cgroup_exclude[COLL_LIST_BYTES];
	/* [server]: ship to a central rmon-stored instead of the local ring
	 * (read at start; a change needs a restart). */
	char server[256]; /* "host:port"; "" = the local ring */
	char secret[256];
	bool tls;
	char tls_ca[1024];    /* "" = the system's trusted certificates */
	char spool_dir[1024]; /* "" = <data>/spool */
	uint64_t spool_bytes; /* default 100 MiB */
	/* [exposition]: /metrics for Prometheus (read at start). */
	char expose_listen[256]; /* "host:port"; "" = off */
};

/* Fills c with the built-in defaults. */
void coll_config_default(struct coll_config *c);

/* Reads a config file over the defaults in c; -EINVAL with "file:line:
 * setting = 'value': problem" on error, leaving c partly updated (callers
 * load into a copy).  Watched-process patterns are compiled here. */
int coll_config_load(struct coll_config *c, const char *path, struct err *e);

/* The same from text (for tests and embedded configurations). */
int coll_config_parse(struct coll_config *c, const char *text, const char *name, struct err *e);

/* Frees what loading compiled (the regular expressions). */
void coll_config_release(struct coll_config *c);

/* True when name matches one of the space-separated globs in list. */
bool coll_glob_list_match(const char *list, const char *name);

#endif
