/* plot_svg.c - gnuplot's SVG made fit for a page: coordinates rounded to a
 * tenth of a pixel and written relative (a 1600-window graph drops from
 * about 100 KB to well under 60), straight runs merged, the empty groups,
 * unused symbol definitions and generated titles dropped, the graph's own
 * title as the document title, and a style that follows the reader's
 * light or dark scheme.  Runs in the caller's process once gnuplot says a
 * graph is written, before it is renamed into place. */
#include "lib/plot_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/grow.h"

/* The colours plot_script.c gives the background, texts, axes and grid,
 * as gnuplot writes them, turned for a dark scheme.  An attribute selector
 * beats a presentation attribute, so the graph needs no classes. */
static const char dark_style[] = "<style>@media (prefers-color-scheme:dark){"
				 "rect[fill=\"#ffffff\"]{fill:#16181d}"
				 "[fill=\"rgb(34,34,34)\"]{fill:#e5e7eb}"
				 "[fill=\"rgb(75,85,99)\"]{fill:#9ca3af}"
				 "[stroke=\"rgb(156, 163, 175)\"]{stroke:#6b7280}"
				 "[stroke=\"rgb(229, 231, 235)\"]{stroke:#2d3139}"
				 "}</style>\n";

struct point {
	long x, y; /* tenths of a pixel */
};

struct rewriter {
	const char *s, *end;
	struct plot_buf out;
	struct point *run;
	size_t n_run, cap_run;
};

/* A gnuplot coordinate ("-12.34") in tenths, rounded; s moves past it. */
static bool number(const char **s, const char *end, long *out)
{
	const char *c = *s;
	bool negative = false;
	if (c < end && *c == '-') {
		negative = true;
		c++;
	}
	long whole = 0;
	int frac = 0, digits = 0;
	const char *start = c;
	while (c < end && *c >= '0' && *c <= '9' && whole < 100000000)
		whole = whole * 10 + (*c++ - '0');
	if (c < end && *c == '.') {
		c++;
		/* hundredths decide the rounding; further digits do not matter */
		for (; c < end && *c >= '0' && *c <= '9'; c++, digits++)
			if (digits < 2)
				frac = frac * 10 + (*c - '0');
		if (digits == 1)
			frac *= 10;
	}
	if (c == start)
		return false;
	long tenths = whole * 10 + (frac + 5) / 10;
	*out = negative ? -tenths : tenths;
	*s = c;
	return true;
}

static void put_tenths(struct plot_buf *b, long v, bool first)
{
	char tmp[32];
	size_t n = 0;
	bool negative = v < 0;
	unsigned long u = negative ? (unsigned long)-v : (unsigned long)v;
	if (u % 10) {
		tmp[n++] = (char)('0' + u % 10);
		tmp[n++] = '.';
	}
	u /= 10;
	if (u || !(n)) {
		do {
			tmp[n++] = (char)('0' + u % 10);
			u /= 10;
		} while (u);
	}
	/* A number after another needs a space unless its sign parts them. */
	if (negative)
		tmp[n++] = '-';
	else if (!first)
		tmp[n++] = ' ';
	char forward[32];
	for (size_t i = 0; i < n; i++)
		forward[i] = tmp[n - 1 - i];
	plot_buf_put(b, forward, n);
}

/* Writes the polyline gathered in r->run: M at its start, then relative
 * moves, leaving out each point on the straight line of its neighbours. */
static void flush_run(struct rewriter *r)
{
	if (!r->n_run)
		return;
	struct point *p = r->run;
	plot_buf_put(&r->out, "M", 1);
	put_tenths(&r->out, p[0].x, true);
	put_tenths(&r->out, p[0].y, false);
	if (r->n_run > 1)
		plot_buf_put(&r->out, "l", 1);
	struct point at = p[0];
	bool first = true;
	for (size_t i = 1; i < r->n_run; i++) {
		if (i + 1 < r->n_run) {
			long ax = p[i].x - at.x, ay = p[i].y - at.y;
			long bx = p[i + 1].x - p[i].x, by = p[i + 1].y - p[i].y;
			/* collinear and going on in the same direction */
			if (ax * by == ay * bx && ax * bx + ay * by >= 0)
				continue;
		}
		put_tenths(&r->out, p[i].x - at.x, first);
		put_tenths(&r->out, p[i].y - at.y, false);
		first = false;
		at = p[i];
	}
	r->n_run = 0;
}

/* Path data or a polygon's points up to the closing quote. */
static bool rewrite_coordinates(struct rewriter *r, bool polygon)
{
	const char *c = r->s;
	char command = polygon ? 'L' : 'M';
	bool started = false;
	while (c < r->end && *c != '\'') {
		char ch = *c;
		if (ch == ' ' || ch == '\t' || ch == '\n' || ch == ',') {
			c++;
		} else if (ch == 'M' || ch == 'L') {
			command = ch;
			c++;
		} else if (ch == 'Z' || ch == 'z') {
			flush_run(r);
			plot_buf_put(&r->out, "z", 1);
			c++;
		} else {
			struct point p;
			if (!number(&c, r->end, &p.x))
				return false;
			while (c < r->end && (*c == ',' || *c == ' '))
				c++;
			if (!number(&c, r->end, &p.y))
				return false;
			if (command == 'M' || !started)
				flush_run(r);
			if (!grow_array(&r->run, &r->cap_run, r->n_run + 1, sizeof *r->run))
				return false;
			r->run[r->n_run++] = p;
			started = true;
			command = 'L';
		}
	}
	flush_run(r);
	if (polygon)
		plot_buf_put(&r->out, "z", 1);
	r->s = c;
	return c < r->end;
}

static const char *find(const char *s, const char *end, const char *what)
{
	size_t n = strlen(what);
	for (const char *c = s; c + n <= end; c++) {
		c = memchr(c, what[0], (size_t)(end - c));
		if (!c || c + n > end)
			return NULL;
		if (memcmp(c, what, n) == 0)
			return c;
	}
	return NULL;
}

/* Skips from s (at the start of what) to just after until (and one newline). */
static bool skip_past(struct rewriter *r, const char *until)
{
	const char *c = find(r->s, r->end, until);
	if (!c)
		return false;
	r->s = c + strlen(until);
	if (r->s < r->end && *r->s == '\n')
		r->s++;
	return true;
}

static int rewrite(struct rewriter *r, const char *title)
{
	static const char empty_group_end[] = ">\n</g>\n";
	bool titled = false;
	const char *svg = find(r->s, r->end, "<svg");
	const char *open_end = svg ? memchr(svg, '>', (size_t)(r->end - svg)) : NULL;
	if (!open_end)
		return -EPROTO;
	plot_buf_put(&r->out, r->s, (size_t)(open_end + 1 - r->s));
	plot_buf_puts(&r->out, "\n");
	plot_buf_puts(&r->out, dark_style);
	r->s = open_end + 1;
	/* The next '<' and the next quote, looked for again only once passed:
	 * looking afresh each turn would cross the whole file again and again. */
	const char *lt = NULL, *q = NULL;
	while (r->s < r->end) {
		if (!lt || lt < r->s)
			lt = memchr(r->s, '<', (size_t)(r->end - r->s));
		if (!q || q < r->s)
			q = memchr(r->s, '\'', (size_t)(r->end - r->s));
		if (!lt)
			lt = r->end + 1; /* none left: past everything */
		if (!q)
			q = r->end + 1;
		if (lt > r->end && q > r->end) {
			plot_buf_put(&r->out, r->s, (size_t)(r->end - r->s));
			break;
		}
		/* Text outside tags and attribute values other than coordinates
		 * pass through unchanged. */
		if (q < lt) {
			bool is_d = q - r->s >= 2 && q[-1] == '=' && q[-2] == 'd' &&
				    (q - r->s == 2 || q[-3] == ' ');
			bool is_points = q - r->s >= 9 && memcmp(q - 9, "points = ", 9) == 0;
			if (is_points) {
				plot_buf_put(&r->out, r->s, (size_t)(q - 9 - r->s));
				plot_buf_puts(&r->out, "d='");
			} else {
				plot_buf_put(&r->out, r->s, (size_t)(q + 1 - r->s));
			}
			r->s = q + 1;
			if (is_d || is_points) {
				if (!rewrite_coordinates(r, is_points))
					return -EPROTO;
				plot_buf_put(&r->out, "'", 1);
				r->s++;
			} else {
				const char *close = memchr(r->s, '\'', (size_t)(r->end - r->s));
				if (!close)
					return -EPROTO;
				plot_buf_put(&r->out, r->s, (size_t)(close + 1 - r->s));
				r->s = close + 1;
			}
			continue;
		}
		plot_buf_put(&r->out, r->s, (size_t)(lt - r->s));
		r->s = lt;
		size_t left = (size_t)(r->end - lt);
		if (left >= 6 && memcmp(lt, "<defs>", 6) == 0) {
			if (!skip_past(r, "</defs>"))
				return -EPROTO;
		} else if (left >= 6 && memcmp(lt, "<desc>", 6) == 0) {
			if (!skip_past(r, "</desc>"))
				return -EPROTO;
		} else if (left >= 7 && memcmp(lt, "<title>", 7) == 0) {
			if (!skip_past(r, "</title>"))
				return -EPROTO;
			if (!titled && title && *title) {
				plot_buf_puts(&r->out, "<title>");
				plot_buf_xml(&r->out, title);
				plot_buf_puts(&r->out, "</title>\n");
			}
			titled = true;
		} else if (left >= 9 && memcmp(lt, "<polygon ", 9) == 0) {
			plot_buf_puts(&r->out, "<path ");
			r->s += 9;
		} else if (left >= 3 && memcmp(lt, "<g ", 3) == 0) {
			const char *gt = memchr(lt, '>', left);
			if (!gt)
				return -EPROTO;
			if ((size_t)(r->end - gt) >= sizeof empty_group_end - 1 &&
			    memcmp(gt, empty_group_end, sizeof empty_group_end - 1) == 0) {
				r->s = gt + sizeof empty_group_end - 1;
			} else {
				plot_buf_put(&r->out, lt, (size_t)(gt + 1 - lt));
				r->s = gt + 1;
			}
		} else {
			plot_buf_put(&r->out, "<", 1);
			r->s++;
		}
	}
	return r->out.failed ? -ENOMEM : 0;
}

static int read_all(const char *path, char **out, size_t *len, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, -errno, "plot: %s: cannot read what gnuplot wrote", path);
	struct stat st;
	int rc = 0;
	char *buf = NULL;
	if (fstat(fd, &st) < 0) {
		rc = err_sys(e, -errno, "plot: %s", path);
		goto out;
	}
	if (!(buf = malloc((size_t)st.st_size + 1))) {
		rc = err_set(e, -ENOMEM, "plot: %s: out of memory", path);
		goto out;
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? err_sys(e, -errno, "plot: %s", path)
				   : err_set(e, -EIO, "plot: %s: shorter than its size", path);
			goto out;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return rc;
}

static int write_all(const char *path, const char *p, size_t len, struct err *e)
{
	/* A new file, not the old one truncated: ext4 starts writing back a
	 * file truncated and rewritten when it is closed (auto_da_alloc),
	 * which costs more than the rewrite itself. */
	if (unlink(path) < 0)
		return err_sys(e, -errno, "plot: %s: cannot rewrite", path);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return err_sys(e, -errno, "plot: %s: cannot rewrite", path);
	int rc = 0;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = err_sys(e, -errno, "plot: %s: cannot write", path);
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	if (close(fd) < 0 && !rc)
		rc = err_sys(e, -errno, "plot: %s: cannot write", path);
	return rc;
}

int plot_svg_finish(const char *tmp, const char *title, struct err *e)
{
	char *in = NULL;
	size_t len = 0;
	int rc = read_all(tmp, &in, &len, e);
	if (rc)
		return rc;
	struct rewriter r = { .s = in, .end = in + len };
	if (!len || !find(in, in + len, "</svg>"))
		rc = err_set(e, -EPROTO, "plot: %s: gnuplot left the SVG unfinished", tmp);
	else if ((rc = rewrite(&r, title)))
		rc = err_set(e, rc, "plot: %s: %s", tmp,
			     rc == -ENOMEM ? "out of memory" : "not the SVG gnuplot writes");
	else
		rc = write_all(tmp, r.out.p, r.out.len, e);
	free(in);
	free(r.run);
	plot_buf_free(&r.out);
	return rc;
}
