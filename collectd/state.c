/* state.c - what the collectors keep between runs: the file cache, the
 * mount list, and each collector's own memory (coll_state_keep). */
#include <stdlib.h>

#include "collectd/coll.h"

struct coll_state {
	const struct coll_config *config;
	struct coll_files *files;
	void *private[COLL_N_PRIVATE];
	void (*free_private[COLL_N_PRIVATE])(void *data);
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
	if (!st->files) {
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
	for (int i = 0; i < COLL_N_PRIVATE; i++)
		if (st->private[i])
			st->free_private[i](st->private[i]);
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

void *coll_state_private(struct coll_state *st, enum coll_private which)
{
	return st->private[which];
}

void coll_state_keep(struct coll_state *st, enum coll_private which, void *data,
		     void (*free_fn)(void *data))
{
	st->private[which] = data;
	st->free_private[which] = free_fn;
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
