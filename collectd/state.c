/* state.c - what the collectors keep between runs, and the list of
 * families in collection order. */
#include <stdlib.h>

#include "collectd/coll.h"

const struct coll_family coll_families[] = {
	{ "cpu", coll_cpu },	       { "load", coll_load },
	{ "pressure", coll_pressure }, { "memory", coll_memory },
	{ "diskio", coll_diskio },     { "filesystem", coll_filesystem },
	{ "network", coll_network },   { "tcp", coll_tcp },
	{ "misc", coll_misc },	       { "processes", coll_processes },
	{ "cgroup", coll_cgroup },     { "hwmon", coll_hwmon },
};
const size_t coll_n_families = sizeof coll_families / sizeof coll_families[0];

struct coll_state {
	const struct coll_config *config;
	struct coll_files *files;
	struct coll_proc_table *procs;
	struct coll_mount_list mounts;
	unsigned config_version;
};

struct coll_state *coll_state_new(const struct coll_config *c, const char *root)
{
	struct coll_state *st = calloc(1, sizeof *st);
	if (!st)
		return NULL;
	st->config = c;
	st->files = coll_files_new(root);
	st->procs = coll_proc_table_new();
	if (!st->files || !st->procs) {
		coll_state_free(st);
		return NULL;
	}
	return st;
}

void coll_state_free(struct coll_state *st)
{
	if (!st)
		return;
	coll_files_free(st->files);
	coll_proc_table_free(st->procs);
	free(st->mounts.text);
	free(st);
}

struct coll_files *coll_state_files(struct coll_state *st)
{
	return st->files;
}

const struct coll_config *coll_state_config(struct coll_state *st)
{
	return st->config;
}

struct coll_proc_table *coll_state_procs(struct coll_state *st)
{
	return st->procs;
}

struct coll_mount_list *coll_state_mounts(struct coll_state *st)
{
	return &st->mounts;
}

void coll_state_reconfigure(struct coll_state *st)
{
	st->config_version++;
}

unsigned coll_state_config_version(struct coll_state *st)
{
	return st->config_version;
}
