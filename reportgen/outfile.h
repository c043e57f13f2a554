/* outfile.h - the files of the site, each written whole under a temporary
 * name and renamed over the old one, so a web server serving the folder
 * never sends half a page; a file whose new content equals the old one is
 * left alone (same inode, same mtime), which is what makes a refresh
 * incremental for browsers, caches and rsync. */
#ifndef RMON_REPORT_OUTFILE_H
#define RMON_REPORT_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/err.h"

/* Writes buf[0..len) to path (its folders made as needed) unless path
 * holds exactly that already; *written (may be NULL) says whether it
 * wrote.  Errors: negative errno codes with e naming the path. */
int outfile_write(const char *path, const void *buf, size_t len, bool *written, struct err *e);

/* Makes folder path and its parents (mode 0755). */
int outfile_mkdirs(const char *path, struct err *e);

/* Makes a file name part from any text s: [A-Za-z0-9._-] kept (but a
 * leading '.': never a hidden file, never ".."), the rest '_', and when anything was changed (or s
 * is empty, or starts with '.') a short hash of s appended, so different texts get different names.
 * Into buf (cap bytes, at least 24). */
void outfile_slug(const char *s, char *buf, size_t cap);

#endif
