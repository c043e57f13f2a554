/* files.c - reading /proc and /sys files cheaply: descriptors of files
 * read every collection stay open and are re-read with pread from offset 0
 * (procfs regenerates the text), into one buffer that only ever grows. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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
	int mounts_fd; /* /proc/self/mountinfo, polled for changes */
	char *mounts;  /* its text as last read */
	size_t mounts_len;
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
	f->mounts_fd = -1;
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
	if (f->mounts_fd >= 0)
		close(f->mounts_fd);
	free(f->mounts);
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

long coll_read_mounts(struct coll_files *f, char **text)
{
	bool changed = f->mounts == NULL;
	if (f->mounts_fd >= 0 && !changed) {
		/* The kernel flags the mount table's file when a mount comes or
		 * goes; without that the last text still holds. */
		struct pollfd p = { f->mounts_fd, POLLPRI, 0 };
		changed = poll(&p, 1, 0) != 0;
	}
	if (changed) {
		if (f->mounts_fd < 0 && (f->mounts_fd = open_path(f, "/proc/self/mountinfo")) < 0)
			return -errno;
		char *fresh;
		long n = read_all(f, f->mounts_fd, &fresh);
		if (n < 0)
			return n;
		char *copy = realloc(f->mounts, (size_t)n + 1);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, fresh, (size_t)n + 1);
		f->mounts = copy;
		f->mounts_len = (size_t)n;
	}
	/* Callers parse in place: hand them a copy in the shared buffer. */
	if (f->mounts_len + 1 > f->cap) {
		char *bigger = realloc(f->buf, f->mounts_len + 1);
		if (!bigger)
			return -ENOMEM;
		f->buf = bigger;
		f->cap = f->mounts_len + 1;
	}
	memcpy(f->buf, f->mounts, f->mounts_len + 1);
	*text = f->buf;
	return (long)f->mounts_len;
}
