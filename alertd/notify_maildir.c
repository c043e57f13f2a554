/* notify_maildir.c - a message delivered as a file into a maildir, for the
 * demo and for hosts without a mail server; see notify_send.h.  The name
 * is unique by time, pid, a counter and the host (the maildir rules), and
 * the file reaches new/ only once complete and on disk. */
#include "alertd/notify_send.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static atomic_uint deliveries;

static int make_dir(const char *path, struct err *e)
{
	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return 0;
	return err_sys(e, -errno, "maildir %s", path);
}

/* mkdir -p of dir, then its three folders. */
static int make_maildir(const char *dir, struct err *e)
{
	char path[4096];
	int rc;
	if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
		return err_set(e, -ENAMETOOLONG, "maildir %s: path too long", dir);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		rc = make_dir(path, e);
		*p = '/';
		if (rc)
			return rc;
	}
	static const char *const sub[] = { "", "/tmp", "/new", "/cur" };
	for (size_t i = 0; i < 4; i++) {
		snprintf(path, sizeof path, "%s%s", dir, sub[i]);
		if ((rc = make_dir(path, e)) != 0)
			return rc;
	}
	return 0;
}

static int write_all(int fd, const char *mail, size_t len)
{
	/* CRLF becomes LF: a maildir holds the local form of a message. */
	char buf[16384];
	size_t used = 0;
	for (size_t i = 0; i < len; i++) {
		if (mail[i] == '\r' && i + 1 < len && mail[i + 1] == '\n')
			continue;
		buf[used++] = mail[i];
		if (used == sizeof buf || i + 1 == len) {
			for (size_t off = 0; off < used;) {
				ssize_t n = write(fd, buf + off, used - off);
				if (n < 0 && errno == EINTR)
					continue;
				if (n < 0)
					return -errno;
				off += (size_t)n;
			}
			used = 0;
		}
	}
	return 0;
}

int notify_maildir_write(const char *dir, const char *mail, size_t len, struct err *e)
{
	char host[256] = "localhost", name[512], tmp[4600], dest[4600];
	struct timespec ts;
	int rc, fd;
	if ((rc = make_maildir(dir, e)) != 0)
		return rc;
	gethostname(host, sizeof host - 1);
	/* '/' and ':' may not appear in the host part of a maildir name. */
	for (char *c = host; *c; c++)
		if (*c == '/' || *c == ':')
			*c = '_';
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(name, sizeof name, "%lld.M%ldP%dQ%u.%s", (long long)ts.tv_sec, ts.tv_nsec / 1000,
		 (int)getpid(), atomic_fetch_add(&deliveries, 1) + 1, host);
	snprintf(tmp, sizeof tmp, "%s/tmp/%s", dir, name);
	snprintf(dest, sizeof dest, "%s/new/%s", dir, name);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		return err_sys(e, -errno, "maildir: cannot create %s", tmp);
	if ((rc = write_all(fd, mail, len)) != 0 || (fsync(fd) != 0 && (rc = -errno))) {
		close(fd);
		unlink(tmp);
		return err_sys(e, rc, "maildir: cannot write %s", tmp);
	}
	close(fd);
	if (rename(tmp, dest) != 0) {
		rc = -errno;
		unlink(tmp);
		return err_sys(e, rc, "maildir: cannot move %s to new/", tmp);
	}
	/* The rename is durable once new/ is. */
	snprintf(tmp, sizeof tmp, "%s/new", dir);
	if ((fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}
