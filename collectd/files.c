/* files.c - reading /proc and /sys files cheaply: descriptors of files
 * read every collection stay open and are re-read with pread from offset 0
 * (procfs regenerates the text), into one buffer that only ever grows.
 * This relies on kernel files failing to read once their device, process
 * or cgroup is gone (a regular file replaced on disk would not). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collectd/coll.h"
#include "lib/grow.h"
#include "lib/rtime.h"

/* A file that could not be opened is tried again only this often: a
 * missing cpufreq or hwmon file costs a path walk on every collection. */
#define RETRY_MISSING_NS (60 * RTIME_NS_PER_SEC)
/* A file not read for this long is closed (interfaces and devices that
 * went away), when room is needed for another. */
#define IDLE_NS (5 * 60 * RTIME_NS_PER_SEC)

/* Descriptors kept open at most; past them a file is opened for each read.
 * The agent raises its soft RLIMIT_NOFILE to make room (rmon-collectd.c). */
#define KEPT_OPEN 4096

/* A directory is listed again only this often (coll_list). */
#define RELIST_NS (10 * RTIME_NS_PER_SEC)

/* A file read through coll_read, or a directory listed by coll_list. */
struct cached {
	char path[256];
	uint32_t hash;
	char *names; /* a directory's listing, names_len bytes */
	size_t names_len, names_cap;
	int64_t listed_ns; /* when it was listed */
	bool listed;
	int fd;		  /* or -1 when the open failed with -err */
	int err;	  /* negative errno of the failed open or read */
	int failures;	  /* reads failed in a row */
	size_t last_len;  /* the length of its text last time */
	int64_t used_ns;  /* when it was last asked for */
	int64_t retry_ns; /* when a failed open is tried again */
};

struct coll_files {
	char root[256];
	int mounts_fd; /* /proc/self/mountinfo, polled for changes */
	char *mounts;  /* its text as last read */
	size_t mounts_len;
	uint64_t mounts_version;
	char *buf;
	size_t cap;
	struct cached *cache;
	size_t n_cached, cache_cap;
	int n_open; /* entries with a descriptor */
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
	for (size_t i = 0; i < f->n_cached; i++) {
		if (f->cache[i].fd >= 0)
			close(f->cache[i].fd);
		free(f->cache[i].names);
	}
	if (f->mounts_fd >= 0)
		close(f->mounts_fd);
	free(f->cache);
	free(f->mounts);
	free(f->buf);
	free(f);
}

const char *coll_root(struct coll_files *f)
{
	return f->root;
}

/* Reads all of fd from offset 0, growing the buffer when the text does
 * not fit (a machine with many processes or mounts: rare, then never).
 * Each read asks for at most want bytes: sysctl files (/proc/sys) make
 * the kernel allocate and zero a buffer of the size asked for, 64 KiB
 * for 14 bytes of text otherwise.  A seq_file read asked for less than
 * its text continues from the kernel's copy, so nothing is torn.
 *
 * A first read that returns less than SHORT_READ_IS_ALL bytes, and less
 * than asked for, is the whole text, and the read that would return 0 is
 * saved (a third of the agent's system calls): a procfs or sysfs read
 * stops short of the request only at the end of the text or when the
 * kernel's page-sized buffer cannot take the next record, and the records
 * of the files read here are lines far shorter than half a page. */
#define SHORT_READ_IS_ALL 2048

static long read_all(struct coll_files *f, int fd, size_t want, char **text)
{
	size_t len = 0;
	for (;;) {
		size_t room = f->cap - len - 1;
		ssize_t n = pread(fd, f->buf + len, room < want ? room : want, (off_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		bool all = len == 0 && (size_t)n < want && n < SHORT_READ_IS_ALL;
		len += (size_t)n;
		if (all)
			break;
		if (len + 1 == f->cap && !grow_bytes(&f->buf, &f->cap, f->cap + 1, f->cap))
			return -ENOMEM;
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

static uint32_t path_hash(const char *path)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *path; path++)
		h = (h ^ (uint8_t)*path) * 16777619u;
	return h;
}

static struct cached *find_cached(struct coll_files *f, const char *path, uint32_t hash)
{
	for (size_t i = 0; i < f->n_cached; i++)
		if (f->cache[i].hash == hash && strcmp(f->cache[i].path, path) == 0)
			return &f->cache[i];
	return NULL;
}

/* Room for one more entry: files idle for IDLE_NS are closed first, and
 * the table grows only when all are in use.  NULL when out of memory. */
static struct cached *new_cached(struct coll_files *f, int64_t now)
{
	size_t kept = 0;
	for (size_t i = 0; i < f->n_cached; i++) {
		struct cached *c = &f->cache[i];
		if (now - c->used_ns < IDLE_NS) {
			f->cache[kept++] = *c;
			continue;
		}
		if (c->fd >= 0) {
			close(c->fd);
			f->n_open--;
		}
		free(c->names);
	}
	f->n_cached = kept;
	if (!grow_array_from(&f->cache, &f->cache_cap, f->n_cached + 1, sizeof *f->cache, 64))
		return NULL;
	return &f->cache[f->n_cached++];
}

/* Opens c's file again if it failed before and its retry time has come. */
static int reopen(struct coll_files *f, struct cached *c, int64_t now)
{
	if (c->fd < 0 && now >= c->retry_ns) {
		c->fd = open_path(f, c->path);
		c->err = c->fd < 0 ? -errno : 0;
		c->retry_ns = now + RETRY_MISSING_NS;
		f->n_open += c->fd >= 0;
	}
	return c->fd < 0 ? c->err : 0;
}

/* The entry of path, created when new; NULL when out of memory. */
static struct cached *entry_of(struct coll_files *f, const char *path, int64_t now)
{
	uint32_t hash = path_hash(path);
	struct cached *c = find_cached(f, path, hash);
	if (!c) {
		if (!(c = new_cached(f, now)))
			return NULL;
		*c = (struct cached){ .hash = hash, .fd = -1, .retry_ns = now };
		snprintf(c->path, sizeof c->path, "%s", path);
	}
	c->used_ns = now;
	return c;
}

/* The entry of path, opened (again) when due; NULL with *rc = -errno when
 * it cannot be read now. */
static struct cached *lookup(struct coll_files *f, const char *path, int64_t now, int *rc)
{
	struct cached *c = entry_of(f, path, now);
	if (!c) {
		*rc = -ENOMEM;
		return NULL;
	}
	*rc = reopen(f, c, now);
	return *rc < 0 ? NULL : c;
}

/* Notes the outcome of reading c: on failure its device went away, and a
 * new one may come under the same path, which this descriptor would never
 * see: it is opened again at once, and after that only every
 * RETRY_MISSING_NS (the speed of a virtual interface never reads). */
static long note_read(struct coll_files *f, struct cached *c, long n, int64_t now)
{
	if (n >= 0) {
		c->failures = 0;
		c->last_len = (size_t)n;
		return n;
	}
	close(c->fd);
	f->n_open--;
	c->fd = -1;
	c->err = (int)n;
	c->retry_ns = now + (c->failures++ ? RETRY_MISSING_NS : 0);
	return n;
}

long coll_read(struct coll_files *f, const char *path, char **text)
{
	if (strlen(path) >= sizeof f->cache[0].path ||
	    (f->n_open >= KEPT_OPEN && !find_cached(f, path, path_hash(path))))
		return coll_read_once(f, path, text);
	int64_t now = rtime_mono_ns();
	int rc;
	struct cached *c = lookup(f, path, now, &rc);
	if (!c)
		return rc;
	size_t want = c->last_len * 2 > 4095 ? c->last_len * 2 : 4095;
	long n = note_read(f, c, read_all(f, c->fd, want, text), now);
	if (n < 0 && c->failures == 1 && (c = lookup(f, path, now, &rc)))
		/* A new device or cgroup under the old path: read it now. */
		n = note_read(f, c, read_all(f, c->fd, want, text), now);
	return n;
}

bool coll_readable(struct coll_files *f, const char *path)
{
	if (strlen(path) >= sizeof f->cache[0].path)
		return false;
	int64_t now = rtime_mono_ns();
	int rc;
	struct cached *c = lookup(f, path, now, &rc);
	char small[64];
	return c &&
	       note_read(f, c, pread(c->fd, small, sizeof small, 0) < 0 ? -errno : 0, now) >= 0;
}

long coll_read_once(struct coll_files *f, const char *path, char **text)
{
	int fd = open_path(f, path);
	if (fd < 0)
		return -errno;
	long n = read_all(f, fd, f->cap, text);
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
		long n = read_all(f, f->mounts_fd, f->cap, &fresh);
		if (n < 0)
			return n;
		char *copy = realloc(f->mounts, (size_t)n + 1);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, fresh, (size_t)n + 1);
		f->mounts = copy;
		f->mounts_len = (size_t)n;
		f->mounts_version++;
	}
	/* Callers parse in place: hand them a copy in the shared buffer. */
	if (!grow_bytes(&f->buf, &f->cap, f->mounts_len + 1, f->mounts_len + 1))
		return -ENOMEM;
	memcpy(f->buf, f->mounts, f->mounts_len + 1);
	*text = f->buf;
	return (long)f->mounts_len;
}

uint64_t coll_mounts_version(struct coll_files *f)
{
	return f->mounts_version;
}

/* Lists the directory into c->names: a type letter ('d' directory, 'f'
 * anything else) and the name, NUL-terminated, for each entry. */
static int list_now(struct coll_files *f, struct cached *c)
{
	char full[512];
	snprintf(full, sizeof full, "%s%s", f->root, c->path);
	c->names_len = 0;
	DIR *d = opendir(full);
	if (!d)
		return c->err = -errno;
	for (struct dirent *de; (de = readdir(d));) {
		if (de->d_name[0] == '.')
			continue;
		size_t n = strlen(de->d_name) + 2;
		if (!grow_bytes(&c->names, &c->names_cap, c->names_len + n, 1024))
			break;
		c->names[c->names_len] = de->d_type == DT_DIR ? 'd' : 'f';
		memcpy(c->names + c->names_len + 1, de->d_name, n - 1);
		c->names_len += n;
	}
	closedir(d);
	return c->err = 0;
}

long coll_list(struct coll_files *f, const char *path, const char **names)
{
	*names = ""; /* never NULL: callers may add the length to it */
	if (strlen(path) >= sizeof f->cache[0].path)
		return -ENAMETOOLONG;
	int64_t now = rtime_mono_ns();
	struct cached *c = entry_of(f, path, now);
	if (!c)
		return -ENOMEM;
	if (!c->listed || now - c->listed_ns >= RELIST_NS) {
		c->listed = true;
		c->listed_ns = now;
		list_now(f, c);
	}
	if (c->names)
		*names = c->names;
	return c->err < 0 ? c->err : (long)c->names_len;
}
