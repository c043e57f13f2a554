/* report.c - the tables and the progress line of rmon-bench's scenarios
 * (report.h): rows are kept in memory while the scenario runs and printed
 * as one aligned table when it ends, so a progress line never tears one. */
#include "bench/report_private.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/procstat.h"
#include "lib/escape.h"
#include "lib/grow.h"
#include "lib/rtime.h"

char *report_strdup(const char *s)
{
	char *copy = strdup(s ? s : "");
	if (!copy)
		bench_die("out of memory");
	return copy;
}

void *report_grow(void *array_ptr, size_t *cap, size_t need, size_t size)
{
	if (!grow_array(array_ptr, cap, need, size))
		bench_die("out of memory");
	return *(void **)array_ptr;
}

static char *vformat(const char *fmt, va_list ap)
{
	char *s;
	if (vasprintf(&s, fmt, ap) < 0)
		bench_die("out of memory");
	return s;
}

/* --- tables ------------------------------------------------------------- */

struct bench_table *bench_table(struct bench_run *run, const char *fmt, ...)
{
	struct scenario_result *s = run->now;
	if (!s)
		bench_die("bench_table called outside a scenario");
	struct bench_table *t = calloc(1, sizeof *t);
	if (!t)
		bench_die("out of memory");
	va_list ap;
	va_start(ap, fmt);
	t->title = vformat(fmt, ap);
	va_end(ap);
	report_grow(&s->tables, &s->cap_tables, s->n_tables + 1, sizeof *s->tables);
	s->tables[s->n_tables++] = t;
	return t;
}

static struct row *add_row(struct bench_table *t, enum row_kind kind, const char *name,
			   const char *unit)
{
	report_grow(&t->rows, &t->cap_rows, t->n_rows + 1, sizeof *t->rows);
	struct row *r = &t->rows[t->n_rows++];
	*r = (struct row){ .kind = kind, .name = report_strdup(name), .unit = report_strdup(unit) };
	return r;
}

void bench_figure(struct bench_table *t, const char *name, double value, const char *unit)
{
	add_row(t, ROW_FIGURE, name, unit)->value = value;
}

void bench_goal(struct bench_table *t, const char *name, double value, const char *unit,
		bool at_least, double goal)
{
	struct row *r = add_row(t, ROW_GOAL, name, unit);
	r->value = value;
	r->has_goal = true;
	r->at_least = at_least;
	r->goal = goal;
}

void bench_ratio(struct bench_table *t, const char *name, double ours, double theirs,
		 const char *versus, double goal)
{
	struct row *r = add_row(t, ROW_RATIO, name, "×");
	r->versus = report_strdup(versus);
	/* A peer that did nothing measurable gives no ratio, not infinity. */
	r->value = theirs > 0 ? ours / theirs : NAN;
	r->has_goal = goal > 0;
	r->at_least = true;
	r->goal = goal;
}

void bench_latency(struct bench_table *t, const char *name, const struct bench_hist *h,
		   double p99_goal_ms)
{
	struct row *r = add_row(t, ROW_LATENCY, name, "ms");
	r->p50 = bench_ms(bench_hist_quantile(h, 0.50));
	r->p90 = bench_ms(bench_hist_quantile(h, 0.90));
	r->p99 = bench_ms(bench_hist_quantile(h, 0.99));
	r->max = bench_ms(bench_hist_max(h));
	r->value = r->p99;
	r->count = bench_hist_count(h);
	r->has_goal = p99_goal_ms > 0;
	r->at_least = false;
	r->goal = p99_goal_ms;
}

void bench_process(struct bench_table *t, const char *daemon, pid_t pid)
{
	double cpu = procstat_cpu_seconds(pid);
	long kib = procstat_kib(pid, "VmHWM:");
	if (cpu < 0 || kib < 0) {
		bench_note(t, "%s (pid %d): /proc/%d unreadable, no CPU or RSS figure", daemon,
			   (int)pid, (int)pid);
		return;
	}
	bench_process_figures(t, daemon, cpu, kib);
}

void bench_process_figures(struct bench_table *t, const char *daemon, double cpu_s, long peak_kib)
{
	char name[256];
	snprintf(name, sizeof name, "%s CPU", daemon);
	bench_figure(t, name, cpu_s, "s");
	snprintf(name, sizeof name, "%s peak RSS", daemon);
	bench_figure(t, name, (double)peak_kib / 1024, "MiB");
}

void bench_zero(struct bench_table *t, const char *name, uint64_t count)
{
	struct row *r = add_row(t, ROW_ZERO, name, "");
	r->count = count;
	r->value = (double)count;
	r->has_goal = true;
}

void bench_note(struct bench_table *t, const char *fmt, ...)
{
	report_grow(&t->notes, &t->cap_notes, t->n_notes + 1, sizeof *t->notes);
	va_list ap;
	va_start(ap, fmt);
	t->notes[t->n_notes++] = vformat(fmt, ap);
	va_end(ap);
}

/* --- progress -------------------------------------------------------------- */

#define REDRAW_NS     250000000LL   /* a terminal's line: 4 times a second */
#define PLAIN_LINE_NS 10000000000LL /* otherwise a line every 10 s */
#define POINT_NS      100000000LL   /* the --plot timeline: 10 points a second */

static void add_point(struct scenario_result *s, double at_s, double rate, const char *unit)
{
	if (s->n_points && at_s - s->points[s->n_points - 1].elapsed_s < POINT_NS / 1e9)
		return;
	report_grow(&s->points, &s->cap_points, s->n_points + 1, sizeof *s->points);
	s->points[s->n_points++] = (struct point){ at_s, rate, NAN };
	if (!s->rate_unit)
		s->rate_unit = report_strdup(unit);
}

void bench_progress(struct bench_run *run, const char *what, double rate, const char *unit,
		    double elapsed_s, double total_s)
{
	struct scenario_result *s = run->now;
	int64_t now = rtime_mono_ns();
	if (s)
		add_point(s, (double)(now - run->started_ns) / 1e9, rate, unit);
	bool redraw = run->opts.tty && !run->opts.json;
	if (now - (redraw ? run->last_draw_ns : run->last_line_ns) <
	    (redraw ? REDRAW_NS : PLAIN_LINE_NS))
		return;
	char value[64], at[32], of[64] = "";
	report_format_value(value, sizeof value, rate);
	/* Tenths of a second where the whole takes under ten. */
	int digits = total_s > 0 && total_s < 10 ? 1 : 0;
	snprintf(at, sizeof at, "%.*f s", digits, elapsed_s);
	if (total_s > 0)
		snprintf(of, sizeof of, " / %.*f s", digits, total_s);
	const char *name = s ? s->name : "rmon-bench";
	if (redraw) {
		/* \r and clear-to-end: a shorter line leaves nothing behind. */
		fprintf(stderr, "\r%s: %s  %s %s  %s%s\033[K", name, what, value, unit, at, of);
		run->last_draw_ns = now;
		run->line_shown = true;
	} else {
		fprintf(stderr, "%s: %s  %s %s  %s%s\n", name, what, value, unit, at, of);
		run->last_line_ns = now;
	}
	fflush(stderr);
}

void bench_progress_latency(struct bench_run *run, double p99_ms)
{
	struct scenario_result *s = run->now;
	if (!s)
		return;
	if (s->n_points == 0) {
		report_grow(&s->points, &s->cap_points, 1, sizeof *s->points);
		double at = (double)(rtime_mono_ns() - run->started_ns) / 1e9;
		s->points[s->n_points++] = (struct point){ at, NAN, NAN };
	}
	s->points[s->n_points - 1].p99_ms = p99_ms;
}

void bench_progress_done(struct bench_run *run)
{
	if (run->line_shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	run->line_shown = false;
	/* A plain line comes 10 s into what runs next, not at once: a short
	 * phase says nothing on a log. */
	run->last_draw_ns = 0;
	run->last_line_ns = rtime_mono_ns();
}

/* --- the text table -------------------------------------------------------- */

void report_format_value(char *buf, size_t cap, double v)
{
	double a = fabs(v);
	if (isnan(v))
		snprintf(buf, cap, "-");
	else if (a >= 1e15)
		snprintf(buf, cap, "%.3g", v);
	else if (a >= 10000) {
		/* Thousands separated, so 1234567 reads at a glance. */
		char digits[32], *out = buf;
		int n = snprintf(digits, sizeof digits, "%.0f", a);
		size_t left = cap;
		if (v < 0 && left > 1) {
			*out++ = '-';
			left--;
		}
		for (int i = 0; i < n && left > 1; i++) {
			if (i && (n - i) % 3 == 0 && left > 2) {
				*out++ = ',';
				left--;
			}
			*out++ = digits[i];
			left--;
		}
		*out = '\0';
	} else if (a >= 100 || v == floor(v))
		snprintf(buf, cap, "%.0f", v); /* counts and round goals read as such */
	else if (a >= 10)
		snprintf(buf, cap, "%.1f", v);
	else if (a >= 1)
		snprintf(buf, cap, "%.2f", v);
	else
		snprintf(buf, cap, "%.3g", v);
}

/* Columns are as wide as their characters, not their bytes ("≥", "×"). */
static size_t text_width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static void print_padded(FILE *out, const char *s, size_t width, bool right)
{
	size_t w = text_width(s);
	if (right)
		fprintf(out, "%*s%s", (int)(width > w ? width - w : 0), "", s);
	else
		fprintf(out, "%s%*s", s, (int)(width > w ? width - w : 0), "");
}

bool report_row_pass(const struct row *r)
{
	if (r->kind == ROW_ZERO)
		return r->count == 0;
	if (isnan(r->value))
		return false;
	return r->at_least ? r->value >= r->goal : r->value <= r->goal;
}

/* The cells of a row: value, unit and goal column. */
static void row_cells(const struct row *r, char *value, char *unit, char *goal, size_t cap)
{
	char g[64];
	if (r->kind == ROW_LATENCY) {
		char a[32], b[32], c[32], d[32];
		report_format_value(a, sizeof a, r->p50);
		report_format_value(b, sizeof b, r->p90);
		report_format_value(c, sizeof c, r->p99);
		report_format_value(d, sizeof d, r->max);
		snprintf(value, cap, "%s / %s / %s / %s", a, b, c, d);
		snprintf(unit, cap, "ms p50/p90/p99/max");
	} else {
		report_format_value(value, cap, r->value);
		if (r->kind == ROW_RATIO)
			snprintf(unit, cap, "× %s", r->versus);
		else
			snprintf(unit, cap, "%s", r->unit);
	}
	goal[0] = '\0';
	if (!r->has_goal)
		return;
	if (report_row_pass(r)) {
		snprintf(goal, cap, "PASS");
		return;
	}
	report_format_value(g, sizeof g, r->goal);
	const char *op = r->at_least ? "≥" : "≤";
	if (r->kind == ROW_ZERO)
		snprintf(goal, cap, "missed: goal = 0");
	else if (r->kind == ROW_RATIO)
		snprintf(goal, cap, "missed: goal %s %s× %s", op, g, r->versus);
	else if (r->kind == ROW_LATENCY)
		snprintf(goal, cap, "missed: goal p99 %s %s ms", op, g);
	else
		snprintf(goal, cap, "missed: goal %s %s %s", op, g, r->unit);
}

#define CELL 256

/* Titles and notes may carry a peer's message: no control character of
 * theirs reaches the terminal raw. */
static void print_text(FILE *out, const char *s)
{
	escape_print(out, ESCAPE_TEXT, s, strlen(s));
}

static void print_table(FILE *out, const struct bench_table *t)
{
	size_t wn = strlen("figure"), wv = strlen("value"), wu = strlen("unit");
	char value[CELL], unit[CELL], goal[CELL];
	for (size_t i = 0; i < t->n_rows; i++) {
		row_cells(&t->rows[i], value, unit, goal, CELL);
		size_t w;
		if ((w = text_width(t->rows[i].name)) > wn)
			wn = w;
		if ((w = text_width(value)) > wv)
			wv = w;
		if ((w = text_width(unit)) > wu)
			wu = w;
	}
	print_text(out, t->title);
	fputc('\n', out);
	if (t->n_rows) {
		fputs("  ", out);
		print_padded(out, "figure", wn, false);
		fputs("  ", out);
		print_padded(out, "value", wv, true);
		fputs("  ", out);
		print_padded(out, "unit", wu, false);
		fputs("  goal\n", out);
	}
	for (size_t i = 0; i < t->n_rows; i++) {
		row_cells(&t->rows[i], value, unit, goal, CELL);
		fputs("  ", out);
		print_padded(out, t->rows[i].name, wn, false);
		fputs("  ", out);
		print_padded(out, value, wv, true);
		fputs("  ", out);
		if (goal[0]) {
			print_padded(out, unit, wu, false);
			fprintf(out, "  %s\n", goal);
		} else
			fprintf(out, "%s\n", unit);
	}
	for (size_t i = 0; i < t->n_notes; i++) {
		fputs("  ", out);
		print_text(out, t->notes[i]);
		fputc('\n', out);
	}
	fputc('\n', out);
}

void report_print_tables(FILE *out, const struct scenario_result *s)
{
	for (size_t i = 0; i < s->n_tables; i++)
		print_table(out, s->tables[i]);
	fflush(out);
}
