/* files.c - reading /proc and /sys files cheaply: descriptors of files
 * read every collection stay open and are re-read with pread from offset 0
 * (procfs regenerates the text), into one buffer that only ever grows. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collectd/coll.h"

#define CACHED_FILES 64

struct cached {
	char path[128];
	int fd;
};

struct coll_files {
	char root[256];
	char *buf;
	size_t cap;
	struct cached cache[CACHED_FILES];
	int n_cached;
};

struct coll_files *coll_files_new(const char *root)
{
	struct coll_files *f = calloc(1, sizeof *f);
	if (!f)
		return NULL;
	snprintf(f->root, sizeof f->root, "%s", root ? root : "");
	f->cap = 64 * 1024;
	f->buf = malloc(f->cap);
	if (!f->buf) {
		free(f);
		return NULL;
	}
	return f;
}

void coll_files_free(struct coll_files *f)
{
	if (!f)
		return;
	for (int i = 0; i < f->n_cached; i++)
		close(f->cache[i].fd);
	free(f->buf);
	free(f);
}

const char *coll_root(struct coll_files *f)
{
	return f->root;
}

/* Reads all of fd from offset 0, growing the buffer when the text does
 * not fit (a machine with many processes or mounts: rare, then never). */
static long read_all(struct coll_files *f, int fd, char **text)
{
	size_t len = 0;
	for (;;) {
		ssize_t n = pread(fd, f->buf + len, f->cap - len - 1, (off_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
		if (len + 1 == f->cap) {
			char *bigger = realloc(f->buf, f->cap * 2);
			if (!bigger)
				return -ENOMEM;
			f->buf = bigger;
			f->cap *= 2;
		}
	}
	f->buf[len] = '\0';
	*text = f->buf;
	return (long)len;
}

static int open_path(struct coll_files *f, const char *path)
{
	char full[512];
	snprintf(full, sizeof full, "%s%s", f->root, path);
	return open(full, O_RDONLY | O_CLOEXEC);
}

long coll_read(struct coll_files *f, const char *path, char **text)
{
	for (int i = 0; i < f->n_cached; i++)
		if (strcmp(f->cache[i].path, path) == 0)
			return read_all(f, f->cache[i].fd, text);
	int fd = open_path(f, path);
	if (fd < 0)
		return -errno;
	if (f->n_cached < CACHED_FILES && strlen(path) < sizeof f->cache[0].path) {
		struct cached *c = &f->cache[f->n_cached++];
		snprintf(c->path, sizeof c->path, "%s", path);
		c->fd = fd;
		return read_all(f, fd, text);
	}
	long n = read_all(f, fd, text);
	close(fd);
	return n;
}

long coll_read_once(struct coll_files *f, const char *path, char **text)
{
	int fd = open_path(f, path);
	if (fd < 0)
		return -errno;
	long n = read_all(f, fd, text);
	close(fd);
	return n;
}
