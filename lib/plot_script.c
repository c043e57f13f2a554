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

/* Writes $d<j> for line j: x (the window's index, its middle at +0.5),
 * then low, high and the line's value; a NaN window ends a segment.
 * Returns whether any window had a value. */
static bool data_block(struct plot_buf *b, const struct plot_graph *g, size_t j, double div,
		       int decimals, double *below)
{
	const struct plot_line *l = &g->lines[j];
	bool any = false, gap = false;
	plot_buf_printf(b, "$d%zu << EOD\n", j);
	for (size_t i = 0; i < g->n; i++) {
		double v = l->avg[i], low, high;
		if (isnan(v)) {
			if (any && !gap)
				plot_buf_put(b, "\n", 1);
			gap = true;
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
		gap = false;
		char x[24];
		size_t xl = 0;
		size_t u = i;
		do {
			x[sizeof x - 1 - xl++] = (char)('0' + u % 10);
			u /= 10;
		} while (u);
		plot_buf_put(b, x + sizeof x - xl, xl);
		plot_buf_put(b, ".5 ", 3);
		plot_buf_fixed(b, low / div, decimals);
		plot_buf_put(b, " ", 1);
		plot_buf_fixed(b, high / div, decimals);
		plot_buf_put(b, " ", 1);
		plot_buf_fixed(b, v / div, decimals);
		plot_buf_put(b, "\n", 1);
	}
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
		plot_buf_printf(b, "%s'%s' %.2f", i ? ", " : "", ticks[i].label, x);
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

int plot_script(struct plot_buf *b, const struct plot_graph *g, const char *tmp_path, struct err *e)
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
	plot_buf_gnuplot_string(b, tmp_path);
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

	double *below = NULL;
	if (g->stacked && g->n && !(below = calloc(g->n, sizeof *below)))
		return err_set(e, -ENOMEM, "plot: %s: out of memory", g->path);
	bool drawn[g->n_lines ? g->n_lines : 1];
	for (size_t j = 0; j < g->n_lines; j++)
		drawn[j] = data_block(b, g, j, scale.div, decimals, below);
	free(below);

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
