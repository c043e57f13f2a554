/* report_out.c - rmon-bench's outputs for machines and for the eye: the
 * --json document of the whole run and the --plot graph of each scenario's
 * throughput and p99 latency over time, drawn by gnuplot. */
#include "bench/report_private.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/cmdline.h"
#include "lib/escape.h"

/* --- --json ------------------------------------------------------------- */

static void json_string(FILE *out, const char *s)
{
	escape_print(out, ESCAPE_JSON, s, strlen(s));
}

/* JSON has no NaN or infinity: a figure that could not be had is null. */
static void json_number(FILE *out, double v)
{
	if (isfinite(v))
		fprintf(out, "%.10g", v);
	else
		fputs("null", out);
}

static void json_row(FILE *out, const struct row *r)
{
	fputs("{\"name\": ", out);
	json_string(out, r->name);
	fputs(", \"value\": ", out);
	json_number(out, r->value);
	fputs(", \"unit\": ", out);
	json_string(out, r->unit);
	if (r->kind == ROW_RATIO) {
		fputs(", \"versus\": ", out);
		json_string(out, r->versus);
	}
	if (r->kind == ROW_LATENCY) {
		fputs(", \"p50\": ", out);
		json_number(out, r->p50);
		fputs(", \"p90\": ", out);
		json_number(out, r->p90);
		fputs(", \"p99\": ", out);
		json_number(out, r->p99);
		fputs(", \"max\": ", out);
		json_number(out, r->max);
		fprintf(out, ", \"count\": %llu", (unsigned long long)r->count);
	}
	fputs(", \"goal\": ", out);
	if (r->has_goal) {
		fprintf(out, "{\"op\": \"%s\", \"value\": ",
			r->kind == ROW_ZERO ? "=="
			: r->at_least	    ? ">="
					    : "<=");
		json_number(out, r->kind == ROW_ZERO ? 0 : r->goal);
		fprintf(out, "}, \"pass\": %s}", report_row_pass(r) ? "true" : "false");
	} else
		fputs("null, \"pass\": null}", out);
}

static void json_table(FILE *out, const struct bench_table *t)
{
	fputs("{\"title\": ", out);
	json_string(out, t->title);
	fputs(", \"rows\": [", out);
	for (size_t i = 0; i < t->n_rows; i++) {
		fputs(i ? ",\n        " : "\n        ", out);
		json_row(out, &t->rows[i]);
	}
	fputs("], \"notes\": [", out);
	for (size_t i = 0; i < t->n_notes; i++) {
		if (i)
			fputs(", ", out);
		json_string(out, t->notes[i]);
	}
	fputs("]}", out);
}

void report_print_json(FILE *out, const struct bench_run *run)
{
	fprintf(out,
		"{\"program\": \"rmon-bench\", \"version\": \"%s\", \"quick\": %s, "
		"\"cpus\": %ld,\n \"scenarios\": [",
		CMDLINE_VERSION, run->opts.quick ? "true" : "false", sysconf(_SC_NPROCESSORS_ONLN));
	for (size_t i = 0; i < run->n_results; i++) {
		const struct scenario_result *s = &run->results[i];
		fputs(i ? ",\n  {\"name\": " : "\n  {\"name\": ", out);
		json_string(out, s->name);
		fprintf(out,
			", \"status\": \"%s\", \"seconds\": ", s->status ? "failed" : "measured");
		json_number(out, s->seconds);
		fputs(", \"tables\": [", out);
		for (size_t k = 0; k < s->n_tables; k++) {
			fputs(k ? ",\n     " : "\n     ", out);
			json_table(out, s->tables[k]);
		}
		fputs("]}", out);
	}
	fputs("]}\n", out);
	fflush(out);
}

/* --- --plot ------------------------------------------------------------- */

/* gnuplot's single-quoted string: a quote inside is doubled. */
static void gnuplot_string(FILE *out, const char *s)
{
	fputc('\'', out);
	for (; *s; s++) {
		if (*s == '\'')
			fputc('\'', out);
		if ((unsigned char)*s >= 0x20)
			fputc(*s, out);
	}
	fputc('\'', out);
}

static bool in_path(const char *program)
{
	const char *path = getenv("PATH");
	char file[4096];
	while (path && *path) {
		size_t len = strcspn(path, ":");
		snprintf(file, sizeof file, "%.*s/%s", (int)len, path, program);
		if (access(file, X_OK) == 0)
			return true;
		path += len + (path[len] == ':');
	}
	return false;
}

static void plot_data(FILE *gp, size_t index, const struct scenario_result *s)
{
	fprintf(gp, "$d%zu << EOD\n", index);
	for (size_t i = 0; i < s->n_points; i++) {
		const struct point *p = &s->points[i];
		fprintf(gp, "%.3f ", p->elapsed_s);
		if (isfinite(p->rate))
			fprintf(gp, "%.6g ", p->rate);
		else
			fputs("? ", gp);
		if (isfinite(p->p99_ms))
			fprintf(gp, "%.6g\n", p->p99_ms);
		else
			fputs("?\n", gp);
	}
	fputs("EOD\n", gp);
}

/* One graph of the multiplot: throughput on the left axis, p99 latency on
 * the right; a series with no point at all is left out (gnuplot refuses
 * to draw an all-undefined one). */
static void plot_scenario(FILE *gp, size_t index, const struct scenario_result *s)
{
	bool rate = false, latency = false;
	for (size_t i = 0; i < s->n_points; i++) {
		rate |= isfinite(s->points[i].rate);
		latency |= isfinite(s->points[i].p99_ms);
	}
	fputs("set title ", gp);
	gnuplot_string(gp, s->name);
	fputs("\nset ylabel ", gp);
	gnuplot_string(gp, s->rate_unit ? s->rate_unit : "");
	fputc('\n', gp);
	fputs(latency ? "set y2label 'p99 latency (ms)'\nset y2tics\n"
		      : "unset y2label\nunset y2tics\n",
	      gp);
	fputs("plot ", gp);
	if (rate)
		fprintf(gp, "$d%zu using 1:2 with lines lw 2 title 'throughput'%s", index,
			latency ? ", " : "");
	if (latency)
		fprintf(gp, "$d%zu using 1:3 axes x1y2 with lines lw 2 title 'p99 latency'", index);
	fputc('\n', gp);
}

static bool plottable(const struct scenario_result *s)
{
	for (size_t i = 0; i < s->n_points; i++)
		if (isfinite(s->points[i].rate) || isfinite(s->points[i].p99_ms))
			return true;
	return false;
}

static void plot_script(FILE *gp, const struct bench_run *run, const char *path)
{
	size_t shown = 0;
	for (size_t i = 0; i < run->n_results; i++)
		shown += plottable(&run->results[i]);
	fprintf(gp, "set terminal svg size 900,%zu dynamic noenhanced font 'sans,11'\n",
		shown ? 280 * shown : 200);
	fputs("set output ", gp);
	gnuplot_string(gp, path);
	fputs("\nset datafile missing '?'\nset xlabel 'seconds'\nset grid\nset key top left\n", gp);
	if (!shown) {
		fputs("set label 1 'no progress points to draw' at graph 0.5,0.5 center\n"
		      "unset key\nplot [0:1][0:1] NaN notitle\n",
		      gp);
		return;
	}
	for (size_t i = 0; i < run->n_results; i++)
		if (plottable(&run->results[i]))
			plot_data(gp, i, &run->results[i]);
	fprintf(gp, "set multiplot layout %zu,1\n", shown);
	for (size_t i = 0; i < run->n_results; i++)
		if (plottable(&run->results[i]))
			plot_scenario(gp, i, &run->results[i]);
	fputs("unset multiplot\nset output\n", gp);
}

/* True when path now holds an SVG document: gnuplot reports most errors
 * on stderr only, and may leave an empty file behind. */
static bool wrote_svg(const char *path)
{
	char head[512] = "";
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	size_t n = fread(head, 1, sizeof head - 1, f);
	fclose(f);
	head[n] = '\0';
	return strstr(head, "<svg") != NULL;
}

int report_plot(const struct bench_run *run, const char *path)
{
	if (!in_path("gnuplot")) {
		fprintf(stderr,
			"rmon-bench: --plot %s: gnuplot is not in PATH (Debian package "
			"gnuplot-nox)\n",
			path);
		return -1;
	}
	FILE *gp = popen("gnuplot", "w");
	if (!gp) {
		fprintf(stderr, "rmon-bench: --plot %s: cannot start gnuplot: %s\n", path,
			strerror(errno));
		return -1;
	}
	plot_script(gp, run, path);
	int status = pclose(gp);
	if (status != 0 || !wrote_svg(path)) {
		fprintf(
		    stderr, "rmon-bench: --plot %s: gnuplot did not write the graph (%s)\n", path,
		    status != 0 ? "it exited with an error, see above" : "no <svg> in the file");
		return -1;
	}
	return 0;
}
