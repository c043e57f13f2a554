/* outfile.c - atomic, write-only-when-changed files of the site (see
 * outfile.h). */
#include "reportgen/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/series_name.h"

int outfile_mkdirs(const char *path, struct err *e)
{
	char p[PATH_MAX];
	if (snprintf(p, sizeof p, "%s", path) >= (int)sizeof p)
		return err_set(e, -ENAMETOOLONG, "%s: path too long", path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			return err_sys(e, -errno, "cannot create folder %s", p);
		*s = '/';
	}
	if (mkdir(p, 0755) != 0 && errno != EEXIST)
		return err_sys(e, -errno, "cannot create folder %s", p);
	return 0;
}

/* True when path holds exactly buf[0..len). */
static bool same_content(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct stat st;
	bool same = false;
	if (fstat(fd, &st) == 0 && (size_t)st.st_size == len) {
		char chunk[65536];
		size_t at = 0;
		same = true;
		while (same && at < len) {
			ssize_t n = read(fd, chunk, sizeof chunk);
			if (n <= 0 || memcmp(chunk, (const char *)buf + at, (size_t)n) != 0)
				same = false;
			else
				at += (size_t)n;
		}
	}
	close(fd);
	return same;
}

int outfile_write(const char *path, const void *buf, size_t len, bool *written, struct err *e)
{
	char tmp[PATH_MAX];
	int rc = 0, fd = -1;
	if (written)
		*written = false;
	if (same_content(path, buf, len))
		return 0;
	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
		return err_set(e, -ENAMETOOLONG, "%s: path too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 && errno == ENOENT) {
		char dir[PATH_MAX];
		snprintf(dir, sizeof dir, "%s", path);
		char *slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = '\0';
			if ((rc = outfile_mkdirs(dir, e)) != 0)
				return rc;
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	}
	if (fd < 0)
		return err_sys(e, -errno, "cannot write %s", tmp);
	for (size_t at = 0; at < len;) {
		ssize_t n = write(fd, (const char *)buf + at, len - at);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = err_sys(e, -errno, "cannot write %s", tmp);
			goto fail;
		}
		at += (size_t)n;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = err_sys(e, -errno, "cannot write %s", tmp);
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		rc = err_sys(e, -errno, "cannot rename %s to %s", tmp, path);
		goto fail;
	}
	if (written)
		*written = true;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return rc;
}

void outfile_slug(const char *s, char *buf, size_t cap)
{
	size_t o = 0, len = strlen(s);
	bool changed = len == 0 || s[0] == '.';
	for (size_t i = 0; i < len && o + 18 < cap; i++) {
		char c = s[i];
		bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || (c == '.' && i > 0) || c == '_' || c == '-';
		if (!keep)
			changed = true;
		/* A run of replaced characters becomes one '_' ("/var/log" is
		 * "_var_log"), easier to read in a URL. */
		if (!keep && o > 0 && buf[o - 1] == '_')
			continue;
		buf[o++] = keep ? c : '_';
		if (o + 18 >= cap && i + 1 < len)
			changed = true;
	}
	if (changed)
		o += (size_t)snprintf(buf + o, cap - o, "-%08x", (uint32_t)series_id(s, len));
	buf[o < cap ? o : cap - 1] = '\0';
}
