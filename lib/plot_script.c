/* plot_script.c - the gnuplot commands of one graph: terminal and output,
 * axes, the data as inline data blocks (one per line, a blank line at each
 * gap), the band, line or stacked areas, thresholds and shaded spans. */
#include "lib/plot_private.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_TICKS = 64 };

/* The data's reach, thresholds included so a limit above the data still
 * shows. */
static void data_range(const struct plot_graph *g, double *lo, double *hi)
{
	*lo = INFINITY;
	*hi = -INFINITY;
	for (size_t i = 0; i < g->n; i++) {
		double stack = 0;
		for (size_t j = 0; j < g->n_lines; j++) {
			const struct plot_line *l = &g->lines[j];
			double v = l->avg[i];
			if (isnan(v))
				continue;
			if (g->stacked) {
				stack += v;
				v = stack;
			}
			double a = !g->stacked && l->min && !isnan(l->min[i]) ? l->min[i] : v;
			double b = !g->stacked && l->max && !isnan(l->max[i]) ? l->max[i] : v;
			*lo = fmin(*lo, fmin(a, v));
			*hi = fmax(*hi, fmax(b, v));
		}
	}
	for (size_t t = 0; t < g->n_thresholds; t++) {
		if (isfinite(g->thresholds[t])) {
			*lo = fmin(*lo, g->thresholds[t]);
			*hi = fmax(*hi, g->thresholds[t]);
		}
	}
}

static int check(const struct plot_graph *g, struct err *e)
{
	const char *what = g->path ? g->path : "(no path)";
	if (!g->path || !*g->path || strchr(g->path, '\n'))
		return err_set(e, -EINVAL, "plot: %s: path: empty or with a newline", what);
	if (g->format != PLOT_SVG && g->format != PLOT_PNG)
		return err_set(e, -EINVAL, "plot: %s: format: %d is neither SVG nor PNG", what,
			       (int)g->format);
	if (g->width < 100 || g->width > 10000 || g->height < 60 || g->height > 10000)
		return err_set(e, -EINVAL,
			       "plot: %s: size: %dx%d pixels, expected 100-10000 x 60-10000", what,
			       g->width, g->height);
	if (g->step <= 0)
		return err_set(e, -EINVAL, "plot: %s: step: %lld ns, expected more than 0", what,
			       (long long)g->step);
	if (g->n_lines && !g->lines)
		return err_set(e, -EINVAL, "plot: %s: lines: %zu announced, none given", what,
			       g->n_lines);
	for (size_t j = 0; j < g->n_lines; j++)
		if (g->n && !g->lines[j].avg)
			return err_set(e, -EINVAL, "plot: %s: line %zu: no values (avg)", what, j);
	if ((g->n_thresholds && !g->thresholds) || (g->n_spans && !g->spans))
		return err_set(e, -EINVAL, "plot: %s: thresholds or spans announced, none given",
			       what);
	return 0;
}

/* One window's row of a data block. */
struct row {
	size_t i;
	double low, high, v;
};

static void put_row(struct plot_buf *b, const struct row *r, double div, int decimals)
{
	char x[24];
	size_t xl = 0, u = r->i;
	do {
		x[sizeof x - 1 - xl++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	plot_buf_put(b, x + sizeof x - xl, xl);
	plot_buf_put(b, ".5 ", 3);
	plot_buf_fixed(b, r->low / div, decimals);
	plot_buf_put(b, " ", 1);
	plot_buf_fixed(b, r->high / div, decimals);
	plot_buf_put(b, " ", 1);
	plot_buf_fixed(b, r->v / div, decimals);
	plot_buf_put(b, "\n", 1);
}

/* Writes the rows of one stretch without a gap, leaving out each row that
 * a straight line between the rows kept around it draws within tol (a
 * fraction of a pixel): gnuplot's time grows with the points it is
 * given, and flat or steady series (disk space, swap, temperatures) are
 * most of a report.  From the last row kept, each later row allows the
 * chord a range of slopes (those passing within tol of it, in all three
 * columns); a row whose own slope leaves the range of the rows before it
 * ends the chord at the row before.  One pass, no row looked at twice. */
static void put_stretch(struct plot_buf *b, const struct row *r, size_t k, double tol, double div,
			int decimals)
{
	if (!k)
		return;
	put_row(b, &r[0], div, decimals);
	size_t a = 0;
	double lo[3] = { -INFINITY, -INFINITY, -INFINITY },
	       hi[3] = { INFINITY, INFINITY, INFINITY };
	for (size_t j = 1; j < k; j++) {
		double d = (double)(r[j].i - r[a].i);
		double v[3] = { r[j].low, r[j].high, r[j].v },
		       at[3] = { r[a].low, r[a].high, r[a].v };
		bool straight = true;
		for (int c = 0; c < 3 && straight; c++) {
			double slope = (v[c] - at[c]) / d;
			straight = slope >= lo[c] && slope <= hi[c];
		}
		if (!straight) {
			a = j - 1;
			put_row(b, &r[a], div, decimals);
			d = (double)(r[j].i - r[a].i);
			at[0] = r[a].low;
			at[1] = r[a].high;
			at[2] = r[a].v;
			for (int c = 0; c < 3; c++) {
				lo[c] = -INFINITY;
				hi[c] = INFINITY;
			}
		}
		for (int c = 0; c < 3; c++) {
			lo[c] = fmax(lo[c], (v[c] - tol - at[c]) / d);
			hi[c] = fmin(hi[c], (v[c] + tol - at[c]) / d);
		}
	}
	if (k > 1)
		put_row(b, &r[k - 1], div, decimals);
}

/* Writes $d<j> for line j: x (the window's index, its middle at +0.5),
 * then low, high and the line's value; a NaN window ends a stretch (a
 * blank line, which gnuplot draws as a gap).  Returns whether any window
 * had a value. */
static bool data_block(struct plot_buf *b, const struct plot_graph *g, size_t j, double div,
		       int decimals, double tol, double *below, struct row *rows)
{
	const struct plot_line *l = &g->lines[j];
	bool any = false;
	size_t k = 0;
	plot_buf_printf(b, "$d%zu << EOD\n", j);
	for (size_t i = 0; i < g->n; i++) {
		double v = l->avg[i], low, high;
		if (isnan(v)) {
			if (k) {
				put_stretch(b, rows, k, tol, div, decimals);
				plot_buf_put(b, "\n", 1);
			}
			k = 0;
			continue;
		}
		if (g->stacked) {
			low = below[i];
			high = low + v;
			below[i] = high;
		} else {
			low = l->min && !isnan(l->min[i]) ? l->min[i] : v;
			high = l->max && !isnan(l->max[i]) ? l->max[i] : v;
		}
		any = true;
		rows[k++] = (struct row){ i, low, high, v };
	}
	put_stretch(b, rows, k, tol, div, decimals);
	plot_buf_puts(b, "EOD\n");
	return any;
}

static void x_ticks(struct plot_buf *b, const struct plot_graph *g)
{
	struct plot_tick ticks[MAX_TICKS];
	int64_t from = g->from / 1000000000, to = (g->from + (int64_t)g->n * g->step) / 1000000000;
	size_t n = plot_ticks(from, to, g->width, ticks, MAX_TICKS);
	plot_buf_puts(b, "set xtics (");
	for (size_t i = 0; i < n; i++) {
		double x = ((double)ticks[i].at * 1e9 - (double)g->from) / (double)g->step;
		/* strftime speaks the caller's locale: its month names are
		 * text like any other */
		plot_buf_puts(b, i ? ", " : "");
		plot_buf_gnuplot_string(b, ticks[i].label);
		plot_buf_printf(b, " %.2f", x);
	}
	plot_buf_puts(b, ")\n");
}

static void spans(struct plot_buf *b, const struct plot_graph *g)
{
	double end = (double)g->n;
	for (size_t s = 0; s < g->n_spans; s++) {
		double x1 = ((double)g->spans[s].from - (double)g->from) / (double)g->step;
		double x2 = ((double)g->spans[s].to - (double)g->from) / (double)g->step;
		x1 = fmax(x1, 0);
		x2 = fmin(x2, end);
		if (!(x2 > x1))
			continue;
		plot_buf_printf(b,
				"set object %zu rect from %.2f, graph 0 to %.2f, graph 1 behind "
				"fc rgb '#ef4444' fs transparent solid 0.13 noborder\n",
				s + 1, x1, x2);
	}
}

int plot_script(struct plot_buf *b, const struct plot_graph *g, const char *output, struct err *e)
{
	int rc = check(g, e);
	if (rc)
		return rc;
	double lo, hi;
	data_range(g, &lo, &hi);
	bool empty = !(lo <= hi);
	if (empty)
		lo = hi = 0;
	struct plot_scale scale;
	plot_scale_for(g->unit, fmax(fabs(lo), fabs(hi)), &scale);
	/* Enough decimals for a ten-thousandth of the graph's height. */
	double reach = (hi - lo) / scale.div;
	if (!(reach > 0))
		reach = fabs(hi / scale.div) > 0 ? fabs(hi / scale.div) : 1;
	int decimals = (int)ceil(4 - log10(reach));
	decimals = decimals < 0 ? 0 : decimals > 9 ? 9 : decimals;

	plot_buf_puts(b, "reset\n");
	if (g->format == PLOT_SVG)
		plot_buf_printf(b,
				"set term svg size %d,%d fixed font 'sans,11' background "
				"rgb '#ffffff'\n",
				g->width, g->height);
	else /* pngcairo draws smooth lines; a gnuplot built without cairo
	      * still has libgd's png */
		plot_buf_printf(
		    b,
		    "if (strstrt(' '.GPVAL_TERMINALS.' ', ' pngcairo ') > 0) {\n"
		    "set term pngcairo size %d,%d font 'sans,9' background rgb '#ffffff'\n"
		    "} else {\n"
		    "set term png size %d,%d font 'sans,9' background rgb '#ffffff'\n"
		    "}\n",
		    g->width, g->height, g->width, g->height);
	plot_buf_puts(b, "set output ");
	plot_buf_gnuplot_string(b, output);
	plot_buf_puts(b, "\nset encoding utf8\nset termoption noenhanced\n");
	if (g->title && *g->title) {
		plot_buf_puts(b, "set title ");
		plot_buf_gnuplot_string(b, g->title);
		plot_buf_puts(b, " textcolor rgb '#222222'\n");
	}
	/* Fixed margins, so the graphs of a page line up one under another. */
	plot_buf_puts(b, "set lmargin 11\nset rmargin 3\n"
			 "set border 3 lc rgb '#9ca3af'\n"
			 "set tics nomirror out scale 0.5 textcolor rgb '#4b5563'\n"
			 "set grid xtics ytics lc rgb '#e5e7eb' lw 1 dt 1\n"
			 "set key below left horizontal textcolor rgb '#222222'\n"
			 "set style fill transparent solid 0.25 noborder\n"
			 "set samples 2\n");
	plot_buf_printf(b, "set xrange [0:%zu]\n", g->n ? g->n : 1);
	x_ticks(b, g);
	plot_buf_puts(b, "set format y ");
	plot_buf_gnuplot_string(b, scale.format);
	plot_buf_puts(b, "\n");
	double ymin = g->ymin, ymax = g->ymax;
	if (isnan(ymin) && lo >= 0)
		ymin = 0; /* most metrics count up from nothing */
	if (isnan(ymax) && g->unit == PLOT_UNIT_PERCENT && hi <= 100 && lo >= 0)
		ymax = 100;
	if (isnan(ymax) && empty)
		ymax = 1;
	plot_buf_puts(b, "set yrange [");
	if (!isnan(ymin))
		plot_buf_fixed(b, ymin / scale.div, decimals);
	else
		plot_buf_put(b, "*", 1);
	plot_buf_put(b, ":", 1);
	if (!isnan(ymax))
		plot_buf_fixed(b, ymax / scale.div, decimals);
	else
		plot_buf_put(b, "*", 1);
	plot_buf_puts(b, "]\n");
	spans(b, g);
	if (empty)
		plot_buf_puts(b, "set label 1 'no data' at graph 0.5, graph 0.5 center "
				 "textcolor rgb '#4b5563'\n");

	/* A quarter of a pixel, in the data's units: the rows left out are
	 * drawn no further than that from where they were. */
	double y_lo = !isnan(ymin) ? ymin : lo, y_hi = !isnan(ymax) ? ymax : hi;
	double tol = y_hi > y_lo ? 0.25 * (y_hi - y_lo) / g->height : 0;
	double *below = NULL;
	struct row *rows = g->n ? malloc(g->n * sizeof *rows) : NULL;
	if ((g->stacked && g->n && !(below = calloc(g->n, sizeof *below))) || (g->n && !rows)) {
		free(rows);
		free(below);
		return err_set(e, -ENOMEM, "plot: %s: out of memory", g->path);
	}
	bool drawn[g->n_lines ? g->n_lines : 1];
	for (size_t j = 0; j < g->n_lines; j++)
		drawn[j] = data_block(b, g, j, scale.div, decimals, tol, below, rows);
	free(below);
	free(rows);

	const char *sep = "plot ";
	/* Stacked areas fill each between its own floor and ceiling, so they
	 * never overlap and keep the callers' order, in the legend too. */
	for (size_t j = 0; j < g->n_lines; j++) {
		const struct plot_line *l = &g->lines[j];
		const char *c = plot_palette(l->colour);
		if (!drawn[j])
			continue;
		if (g->stacked) {
			plot_buf_printf(b,
					"%s$d%zu u 1:2:3 w filledcurves fc rgb '%s' "
					"fs solid 0.85 noborder t ",
					sep, j, c);
			plot_buf_gnuplot_string(b, l->title ? l->title : "");
		} else {
			if (l->min || l->max) {
				plot_buf_printf(
				    b, "%s$d%zu u 1:2:3 w filledcurves fc rgb '%s' notitle", sep, j,
				    c);
				sep = ", ";
			}
			plot_buf_printf(b, "%s$d%zu u 1:4 w lines lw 1.5 lc rgb '%s' t ", sep, j,
					c);
			plot_buf_gnuplot_string(b, l->title ? l->title : "");
		}
		sep = ", ";
	}
	for (size_t t = 0; t < g->n_thresholds; t++) {
		if (!isfinite(g->thresholds[t]))
			continue;
		plot_buf_printf(b, "%s", sep);
		plot_buf_fixed(b, g->thresholds[t] / scale.div, decimals);
		plot_buf_puts(b, " w lines dt 2 lw 1.5 lc rgb '#dc2626' notitle");
		sep = ", ";
	}
	if (*sep == 'p')
		plot_buf_puts(b, "plot NaN notitle");
	plot_buf_puts(b, "\n");
	if (g->n_lines) {
		/* the data blocks would otherwise stay in gnuplot's memory */
		plot_buf_puts(b, "undefine");
		for (size_t j = 0; j < g->n_lines; j++)
			plot_buf_printf(b, " $d%zu", j);
		plot_buf_puts(b, "\n");
	}
	if (b->failed)
		return err_set(e, -ENOMEM, "plot: %s: out of memory", g->path);
	return 0;
}
