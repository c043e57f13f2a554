/* plot_spark.c - sparklines: a few hundred bytes of inline SVG that the
 * report's index puts beside each host, written here without gnuplot
 * because a page holds hundreds of them.  The line takes the text colour
 * (currentColor), so it follows the page's light or dark scheme. */
#include "lib/plot.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

struct counted {
	char *buf;
	size_t cap, len; /* len counts what did not fit too, as snprintf */
};

static void put(struct counted *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct counted *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t room = c->len < c->cap ? c->cap - c->len : 0;
	int n = vsnprintf(room ? c->buf + c->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		c->len += (size_t)n;
}

size_t plot_sparkline(char *buf, size_t cap, const double *v, size_t n, int w, int h)
{
	struct counted c = { buf, cap, 0 };
	if (cap)
		buf[0] = '\0';
	if (w < 1)
		w = 1;
	if (h < 1)
		h = 1;
	double lo = INFINITY, hi = -INFINITY;
	for (size_t i = 0; i < n; i++) {
		if (isfinite(v[i])) {
			lo = fmin(lo, v[i]);
			hi = fmax(hi, v[i]);
		}
	}
	put(&c,
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
	    "viewBox=\"0 0 %d %d\" role=\"img\" aria-hidden=\"true\">",
	    w, h, w, h);
	if (lo <= hi) {
		/* a pixel of air above and below so the stroke is not cut */
		double pad = 1.0, usable = h > 2 ? h - 2 * pad : h;
		double reach = hi - lo;
		put(&c, "<path fill=\"none\" stroke=\"currentColor\" stroke-width=\"1.2\" "
			"stroke-linejoin=\"round\" d=\"");
		bool pen_down = false;
		for (size_t i = 0; i < n; i++) {
			if (!isfinite(v[i])) {
				pen_down = false;
				continue;
			}
			double x = n > 1 ? (double)i * w / (double)(n - 1) : w / 2.0;
			double y = reach > 0 ? pad + (hi - v[i]) / reach * usable : h / 2.0;
			put(&c, "%s%.1f %.1f", pen_down ? " " : "M", x, y);
			/* a lone point between gaps still shows, as a dot */
			if (!pen_down && (i + 1 >= n || !isfinite(v[i + 1])))
				put(&c, "h0.1");
			pen_down = true;
		}
		put(&c, "\"/>");
	}
	put(&c, "</svg>");
	if (cap && c.len >= cap)
		buf[cap - 1] = '\0';
	return c.len;
}
