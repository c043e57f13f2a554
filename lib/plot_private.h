/* plot_private.h - what the files of lib/plot share and nobody else uses:
 * a growing text buffer, the gnuplot script of one graph (plot_script.c),
 * the axes (plot_axis.c) and the rewrite of gnuplot's SVG (plot_svg.c).
 * The pool itself is plot.c. */
#ifndef RMON_PLOT_PRIVATE_H
#define RMON_PLOT_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "lib/plot.h"

/* Text that only grows; a failed allocation sticks (failed) so a writer
 * checks once at the end rather than after every piece. */
struct plot_buf {
	char *p;
	size_t len, cap;
	bool failed;
};

void plot_buf_put(struct plot_buf *b, const char *s, size_t len);
void plot_buf_puts(struct plot_buf *b, const char *s);
void plot_buf_printf(struct plot_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* v rounded to decimals (0-9) places, trailing zeros dropped: the fast
 * path for the thousands of numbers of a graph's data. */
void plot_buf_fixed(struct plot_buf *b, double v, int decimals);
/* s as a gnuplot single-quoted string: ' doubled, control characters
 * (a newline would end the command) and bidirectional overrides turned
 * into spaces, a byte that is not UTF-8 into U+FFFD. */
void plot_buf_gnuplot_string(struct plot_buf *b, const char *s);
/* s with & < > " ' as XML entities; as plot_buf_gnuplot_string, a byte
 * that is not UTF-8 becomes U+FFFD and a control character a space. */
void plot_buf_xml(struct plot_buf *b, const char *s);
void plot_buf_free(struct plot_buf *b);

/* The y axis of a unit for values up to max_abs: values are divided by
 * div and the tick labels carry format (a gnuplot "set format y" string). */
struct plot_scale {
	double div;
	char format[24];
};
void plot_scale_for(enum plot_unit unit, double max_abs, struct plot_scale *out);

/* Tick marks on the x axis at local-time boundaries (hours, midnights,
 * Mondays, firsts of months, new years), no closer than about 70 pixels. */
struct plot_tick {
	int64_t at; /* seconds since the epoch */
	char label[24];
};
size_t plot_ticks(int64_t from, int64_t to, int width, struct plot_tick *out, size_t cap);

/* The palette entry (#rrggbb) of a colour index, any int. */
const char *plot_palette(int colour);

/* Appends to b the gnuplot commands that draw g into output (the pool
 * closes the output and prints its marker after them).  -EINVAL naming
 * the field when g is not drawable. */
int plot_script(struct plot_buf *b, const struct plot_graph *g, const char *output, struct err *e);

/* Reads the SVG gnuplot wrote into the memfd gnuplot_out and writes it,
 * rewritten (smaller coordinates, the title, the dark-scheme style), to
 * the open file; path names the graph in errors. */
int plot_svg_finish(int gnuplot_out, int file, const char *path, const char *title, struct err *e);

#endif
