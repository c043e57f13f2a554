/* test_plot.c - graphs through the gnuplot pool (lib/plot.h): files appear
 * whole under their names, SVG parses and follows the dark scheme, PNG is
 * PNG, hostile titles stay text, gaps, stacks, thresholds and spans are
 * drawn, many graphs share few processes, and a killed gnuplot is an error
 * naming the graph.  RMON_PLOT_GALLERY=DIR keeps a few graphs there for
 * tests/integration/plot_svg.sh to look at in a browser. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/fault.h"
#include "lib/plot.h"
#include "lib/plot_private.h"
#include "lib/utf8.h"

enum { W = 800, H = 250, MAX_N = 2 * W };

static char dir[256];
static double avg[MAX_N], lo[MAX_N], hi[MAX_N];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/test_plot.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return getenv("RMON_PLOT_KEEP") || system(cmd) == 0 ? 0 : -1;
}

static const char *in_dir(const char *name)
{
	static char paths[8][320];
	static int next;
	char *p = paths[next++ % 8];
	snprintf(p, 320, "%s/%s", dir, name);
	return p;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf) {
		buf[n] = '\0';
		if (len)
			*len = (size_t)n;
	}
	return buf;
}

static size_t count(const char *s, const char *what)
{
	size_t n = 0;
	for (const char *c = s; (c = strstr(c, what)); c += strlen(what))
		n++;
	return n;
}

/* A noisy day of CPU-like data, n windows: the worst case for size. */
static void fill(size_t n, unsigned seed)
{
	srand(seed);
	for (size_t i = 0; i < n; i++) {
		avg[i] = 50 + 30 * sin((double)i / 60) + rand() % 100 / 10.0;
		lo[i] = avg[i] - rand() % 150 / 10.0;
		hi[i] = avg[i] + rand() % 150 / 10.0;
	}
}

static struct plot_line one_line;

static struct plot_graph graph(const char *path, size_t n)
{
	one_line = (struct plot_line){ "used", avg, lo, hi, plot_colour_for("user") };
	int64_t now = (int64_t)time(NULL) * 1000000000;
	return (struct plot_graph){ .path = path,
				    .format = PLOT_SVG,
				    .width = W,
				    .height = H,
				    .title = "cpu",
				    .unit = PLOT_UNIT_PERCENT,
				    .from = now - 86400LL * 1000000000,
				    .step = 86400LL * 1000000000 / (int64_t)n,
				    .n = n,
				    .lines = &one_line,
				    .n_lines = 1,
				    .ymin = NAN,
				    .ymax = NAN };
}

static struct plot_pool *pool(int processes)
{
	struct plot_pool *p = NULL;
	struct err e = { 0 };
	int rc = plot_pool_new(processes, &p, &e);
	if (rc)
		fail_msg("plot_pool_new: %s", e.msg);
	return p;
}

static void draw_all(struct plot_pool *p, const struct plot_graph *g, size_t n)
{
	struct err e = { 0 };
	for (size_t i = 0; i < n; i++)
		if (plot_draw(p, &g[i], &e))
			fail_msg("plot_draw %s: %s", g[i].path, e.msg);
	if (plot_wait(p, &e))
		fail_msg("plot_wait: %s", e.msg);
}

/* Each file exists under its name, complete, with no .tmp beside it. */
static void assert_svg_whole(const char *path)
{
	size_t len;
	char *s = slurp(path, &len);
	assert_non_null(s);
	assert_true(strncmp(s, "<?xml", 5) == 0);
	assert_non_null(strstr(s, "</svg>"));
	assert_non_null(strstr(s, "prefers-color-scheme:dark"));
	char tmp[400];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	assert_int_equal(access(tmp, F_OK), -1);
	free(s);
}

/* Parses every file with Python's XML parser: a real parser, not a grep. */
static void assert_xml_parses(const char *const *paths, size_t n)
{
	char cmd[8192] = "/usr/bin/python3 -c 'import sys, xml.etree.ElementTree as E\n"
			 "for f in sys.argv[1:]: E.parse(f)'";
	for (size_t i = 0; i < n; i++) {
		strcat(cmd, " '");
		strcat(cmd, paths[i]);
		strcat(cmd, "'");
	}
	assert_int_equal(system(cmd), 0);
}

static void test_units(void **state)
{
	(void)state;
	struct err e = { 0 };
	enum plot_unit u;
	for (int i = PLOT_UNIT_NONE; i <= PLOT_UNIT_CELSIUS; i++) {
		assert_int_equal(plot_unit_parse(plot_unit_name((enum plot_unit)i), &u, &e), 0);
		assert_int_equal(u, i);
	}
	assert_string_equal(plot_unit_name(PLOT_UNIT_BYTES_PER_SEC), "bytes/s");
	assert_int_equal(plot_unit_parse("furlongs", &u, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "'furlongs'"));
	assert_non_null(strstr(e.msg, "bytes/s"));
}

static void test_colours(void **state)
{
	(void)state;
	assert_int_equal(plot_colour_for("user"), plot_colour_for("user"));
	assert_int_not_equal(plot_colour_for("user"), plot_colour_for("system"));
	assert_int_not_equal(plot_colour_for("system"), plot_colour_for("iowait"));
	assert_int_not_equal(plot_colour_for("rx"), plot_colour_for("tx"));
	assert_int_equal(plot_colour_for("some-mount"), plot_colour_for("some-mount"));
	assert_true(plot_colour_for("some-mount") >= 0);
	assert_true(plot_windows(800) >= 600 && plot_windows(800) <= 800);
}

static void test_sparkline(void **state)
{
	(void)state;
	double v[] = { 1, 2, NAN, 4, 3, NAN, 5 };
	char buf[512];
	size_t n = plot_sparkline(buf, sizeof buf, v, 7, 60, 16);
	assert_int_equal(n, strlen(buf));
	assert_true(strncmp(buf, "<svg ", 5) == 0);
	assert_non_null(strstr(buf, "</svg>"));
	assert_int_equal(count(buf, "M"), 3); /* three pieces between the gaps */
	assert_non_null(strstr(buf, "currentColor"));
	/* too small a buffer: cut, terminated, and the full length told */
	char small[20];
	assert_int_equal(plot_sparkline(small, sizeof small, v, 7, 60, 16), n);
	assert_int_equal(strlen(small), sizeof small - 1);
	/* nothing to draw is still a (blank) image */
	double none[] = { NAN, NAN };
	plot_sparkline(buf, sizeof buf, none, 2, 60, 16);
	assert_null(strstr(buf, "<path"));
	assert_non_null(strstr(buf, "</svg>"));
}

static void test_svg_and_png(void **state)
{
	(void)state;
	struct plot_pool *p = pool(2);
	size_t n = plot_windows(W);
	fill(n, 1);
	double limit = 90;
	int64_t now = (int64_t)time(NULL) * 1000000000;
	struct plot_span alert = { now - 6 * 3600LL * 1000000000, now - 5 * 3600LL * 1000000000 };
	struct plot_graph g[2];
	g[0] = graph(in_dir("a.svg"), n);
	g[0].thresholds = &limit;
	g[0].n_thresholds = 1;
	g[0].spans = &alert;
	g[0].n_spans = 1;
	g[1] = g[0];
	g[1].path = in_dir("a.png");
	g[1].format = PLOT_PNG;
	draw_all(p, g, 2);
	assert_svg_whole(g[0].path);
	const char *svg[] = { g[0].path };
	assert_xml_parses(svg, 1);
	char *s = slurp(g[0].path, NULL);
	/* the threshold: red and dashed; the span: red and faint */
	assert_non_null(strstr(s, "stroke='rgb(220,  38,  38)' stroke-dasharray"));
	assert_non_null(strstr(s, "fill = 'rgb(239,  68,  68)' fill-opacity = '0.130000'"));
	/* the band (the line's colour, see-through) and the line */
	assert_non_null(strstr(s, "fill = 'rgb( 59, 130, 246)' fill-opacity = '0.250000'"));
	assert_non_null(strstr(s, "stroke='rgb( 59, 130, 246)'"));
	assert_non_null(strstr(s, "<text>100%</text>"));
	free(s);
	size_t len;
	char *png = slurp(g[1].path, &len);
	assert_non_null(png);
	assert_true(len > 1000 && memcmp(png, "\x89PNG\r\n\x1a\n", 8) == 0);
	free(png);
	plot_pool_free(p);
}

/* Two windows a pixel of noisy data is still under 60 KB. */
static void test_svg_size(void **state)
{
	(void)state;
	struct plot_pool *p = pool(1);
	fill(MAX_N, 2);
	struct plot_graph g = graph(in_dir("big.svg"), MAX_N);
	draw_all(p, &g, 1);
	struct stat st;
	assert_int_equal(stat(g.path, &st), 0);
	assert_true(st.st_size > 10000 && st.st_size <= 60 * 1024);
	plot_pool_free(p);
}

static void test_hostile_titles(void **state)
{
	(void)state;
	struct plot_pool *p = pool(1);
	size_t n = 100;
	fill(n, 3);
	const char *hostile = "<script>alert(1)</script> & ' \" `touch /tmp/plot-pwned` @x\n"
			      "set output '/tmp/x' \xff\xfe";
	struct plot_graph g[2];
	g[0] = graph(in_dir("hostile.svg"), n);
	g[0].title = hostile;
	one_line.title = hostile;
	g[1] = g[0];
	g[1].path = in_dir("hostile.png");
	g[1].format = PLOT_PNG;
	unlink("/tmp/plot-pwned");
	draw_all(p, g, 2);
	assert_int_equal(access("/tmp/plot-pwned", F_OK), -1);
	const char *svg[] = { g[0].path };
	assert_xml_parses(svg, 1);
	char *s = slurp(g[0].path, NULL);
	assert_null(strstr(s, "<script"));
	assert_non_null(strstr(s, "&lt;script"));
	assert_non_null(strstr(s, "<title>&lt;script&gt;alert(1)"));
	free(s);
	plot_pool_free(p);
}

static size_t segments(const char *path)
{
	char *s = slurp(path, NULL);
	assert_non_null(s);
	/* the average line: the one path stroked in the line's colour with
	 * its own d attribute; each piece starts with M, and so does the
	 * legend's sample of the line, drawn first */
	const char *at = strstr(s, "<path stroke='rgb( 59, 130, 246)'  d='");
	assert_non_null(at);
	const char *end = strchr(at + 40, '\'');
	size_t m = 0;
	for (const char *c = at + 38; c < end; c++)
		m += *c == 'M';
	free(s);
	return m - 1;
}

static void test_gaps_and_empty(void **state)
{
	(void)state;
	struct plot_pool *p = pool(1);
	size_t n = 400;
	fill(n, 4);
	struct plot_graph g = graph(in_dir("whole.svg"), n);
	g.lines = &(struct plot_line){ "used", avg, NULL, NULL, 0 };
	draw_all(p, &g, 1);
	assert_int_equal(segments(g.path), 1);
	for (size_t i = 100; i < 120; i++)
		avg[i] = NAN;
	for (size_t i = 300; i < 301; i++)
		avg[i] = NAN;
	g.path = in_dir("gaps.svg");
	draw_all(p, &g, 1);
	assert_int_equal(segments(g.path), 3);
	for (size_t i = 0; i < n; i++)
		avg[i] = NAN;
	g.path = in_dir("empty.svg");
	draw_all(p, &g, 1);
	char *s = slurp(g.path, NULL);
	assert_non_null(strstr(s, "no data"));
	free(s);
	const char *svg[] = { in_dir("gaps.svg"), in_dir("empty.svg") };
	assert_xml_parses(svg, 2);
	plot_pool_free(p);
}

static void test_stacked(void **state)
{
	(void)state;
	struct plot_pool *p = pool(1);
	enum { N = 300 };
	static double user[N], sys[N], wait[N];
	for (size_t i = 0; i < N; i++) {
		user[i] = 20 + 10 * sin(i / 20.0);
		sys[i] = 10;
		wait[i] = i % 50 < 5 ? 30 : 2;
	}
	struct plot_line lines[] = {
		{ "user", user, NULL, NULL, plot_colour_for("user") },
		{ "system", sys, NULL, NULL, plot_colour_for("system") },
		{ "iowait", wait, NULL, NULL, plot_colour_for("iowait") },
	};
	struct plot_graph g = graph(in_dir("stacked.svg"), N);
	g.lines = lines;
	g.n_lines = 3;
	g.stacked = true;
	draw_all(p, &g, 1);
	char *s = slurp(g.path, NULL);
	/* three solid areas in three colours, each in the legend */
	assert_non_null(strstr(s, "fill = 'rgb( 59, 130, 246)' fill-opacity = '0.850000'"));
	assert_non_null(strstr(s, "fill = 'rgb(239,  68,  68)' fill-opacity = '0.850000'"));
	assert_non_null(strstr(s, "fill = 'rgb(245, 158,  11)' fill-opacity = '0.850000'"));
	assert_non_null(strstr(s, "<text>iowait</text>"));
	assert_non_null(strstr(s, "<text>100%</text>"));
	free(s);
	plot_pool_free(p);
}

static void test_units_on_axis(void **state)
{
	(void)state;
	struct plot_pool *p = pool(1);
	size_t n = 200;
	for (size_t i = 0; i < n; i++)
		avg[i] = 3.0 * 1024 * 1024 * 1024 * (double)i / (double)n;
	struct plot_graph g = graph(in_dir("bytes.svg"), n);
	g.lines = &(struct plot_line){ "used", avg, NULL, NULL, 0 };
	g.unit = PLOT_UNIT_BYTES;
	draw_all(p, &g, 1);
	char *s = slurp(g.path, NULL);
	assert_non_null(strstr(s, "<text>2 GiB</text>"));
	free(s);
	plot_pool_free(p);
}

static void test_many_graphs_few_processes(void **state)
{
	(void)state;
	struct plot_pool *p = pool(2);
	int pid0 = plot_pool_pid(p, 0), pid1 = plot_pool_pid(p, 1);
	assert_true(pid0 > 0 && pid1 > 0 && pid0 != pid1);
	enum { N = 120 };
	size_t n = plot_windows(400);
	fill(n, 5);
	static char names[N][64];
	struct plot_graph g[N];
	const char *paths[N];
	for (size_t i = 0; i < N; i++) {
		snprintf(names[i], sizeof names[i], "many-%zu.svg", i);
		g[i] = graph(in_dir(names[i]), n);
		g[i].width = 400;
		paths[i] = strdup(g[i].path);
		g[i].path = paths[i];
	}
	draw_all(p, g, N);
	assert_int_equal(plot_pool_pid(p, 0), pid0);
	assert_int_equal(plot_pool_pid(p, 1), pid1);
	for (size_t i = 0; i < N; i++)
		assert_svg_whole(paths[i]);
	assert_xml_parses(paths, 20);
	for (size_t i = 0; i < N; i++)
		free((char *)paths[i]);
	plot_pool_free(p);
}

static void test_killed_gnuplot(void **state)
{
	(void)state;
	struct plot_pool *p = pool(1);
	size_t n = plot_windows(W);
	fill(n, 6);
	struct err e = { 0 };
	static char names[30][320];
	for (int i = 0; i < 30; i++) {
		snprintf(names[i], sizeof names[i], "%s/killed-%d.svg", dir, i);
		struct plot_graph g = graph(names[i], n);
		assert_int_equal(plot_draw(p, &g, &e), 0);
		if (i == 0)
			kill(plot_pool_pid(p, 0), SIGKILL);
	}
	assert_int_equal(plot_wait(p, &e), -EPIPE);
	assert_non_null(strstr(e.msg, "killed-"));
	assert_non_null(strstr(e.msg, "killed by signal 9"));
	/* whatever was not drawn left no .tmp behind */
	DIR *d = opendir(dir);
	struct dirent *de;
	while ((de = readdir(d)))
		assert_null(strstr(de->d_name, ".tmp"));
	closedir(d);
	/* and the pool goes on with a new gnuplot */
	struct plot_graph g = graph(in_dir("after.svg"), n);
	assert_int_equal(plot_draw(p, &g, &e), 0);
	assert_int_equal(plot_wait(p, &e), 0);
	assert_svg_whole(g.path);
	plot_pool_free(p);
}

/* A gnuplot that stops answering (here: stopped) is killed after the
 * stall time, and its graph fails by name instead of plot_wait hanging. */
static void test_stuck_gnuplot(void **state)
{
	(void)state;
	struct plot_pool *p = pool(2);
	plot_pool_set_stall(p, 2);
	size_t n = 100;
	fill(n, 12);
	struct err e = { 0 };
	/* idle for longer than the stall time is not stuck, for either */
	sleep(3);
	struct plot_graph idle[6];
	static const char *const names[6] = { "idle-0.svg", "idle-1.svg", "idle-2.svg",
					      "idle-3.svg", "idle-4.svg", "idle-5.svg" };
	for (size_t i = 0; i < 6; i++)
		idle[i] = graph(in_dir(names[i]), n);
	draw_all(p, idle, 6);
	kill(plot_pool_pid(p, 0), SIGSTOP);
	kill(plot_pool_pid(p, 1), SIGSTOP);
	struct plot_graph g = graph(in_dir("stuck.svg"), n);
	assert_int_equal(plot_draw(p, &g, &e), 0);
	time_t start = time(NULL);
	assert_int_equal(plot_wait(p, &e), -EPIPE);
	assert_true(time(NULL) - start >= 2 && time(NULL) - start < 60);
	assert_non_null(strstr(e.msg, "stuck.svg"));
	assert_non_null(strstr(e.msg, "said nothing for 2 s"));
	assert_int_equal(access(in_dir("stuck.svg.tmp"), F_OK), -1);
	/* the other one, still stopped, is not waited on forever either */
	time_t freeing = time(NULL);
	plot_pool_free(p);
	assert_true(time(NULL) - freeing < 60);
}

static void test_errors(void **state)
{
	(void)state;
	struct plot_pool *p = pool(1);
	struct err e = { 0 };
	size_t n = 50;
	fill(n, 7);
	struct plot_graph g = graph(in_dir("bad.svg"), n);
	g.width = 0;
	assert_int_equal(plot_draw(p, &g, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "bad.svg: size"));
	g = graph(in_dir("no/such/folder/x.svg"), n);
	assert_int_equal(plot_draw(p, &g, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "no/such/folder/x.svg"));
	/* gnuplot refusing a graph names it, and the next graphs still come */
	g = graph(in_dir("flat.svg"), n);
	g.ymin = g.ymax = 5;
	assert_int_equal(plot_draw(p, &g, &e), 0);
	struct plot_graph good = graph(in_dir("good.svg"), n);
	assert_int_equal(plot_draw(p, &good, &e), 0);
	assert_int_equal(plot_wait(p, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "flat.svg: gnuplot: line"));
	assert_int_equal(access(g.path, F_OK), -1);
	assert_svg_whole(good.path);
	plot_pool_free(p);

	/* a relative path is the caller's folder at plot_draw, wherever the
	 * caller goes before plot_wait */
	p = pool(1);
	char *cwd = getcwd(NULL, 0);
	assert_int_equal(chdir(dir), 0);
	g = graph("relative.svg", n);
	assert_int_equal(plot_draw(p, &g, &e), 0);
	assert_int_equal(chdir("/"), 0);
	assert_int_equal(plot_wait(p, &e), 0);
	assert_svg_whole(in_dir("relative.svg"));
	assert_int_equal(chdir(cwd), 0);
	free(cwd);
	plot_pool_free(p);

	/* no gnuplot: the Debian package is named */
	char *path = strdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	setenv("PATH", dir, 1);
	struct plot_pool *none = NULL;
	assert_int_equal(plot_pool_new(1, &none, &e), -ENOENT);
	assert_null(none);
	assert_non_null(strstr(e.msg, "gnuplot-nox"));
	setenv("PATH", path, 1);
	free(path);
}

static bool valid_utf8(const char *s)
{
	size_t len = strlen(s);
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_next(s + i, len - i, &cp);
		if (!n || utf8_unsafe(cp))
			return false;
		i += n;
	}
	return true;
}

/* Any bytes at all become one gnuplot string (quotes paired, no line
 * break to end the command) and XML text (no markup), both valid UTF-8. */
static void test_text_escaping(void **state)
{
	(void)state;
	srand(11);
	for (int round = 0; round < 3000; round++) {
		char in[64];
		size_t len = (size_t)(rand() % 63);
		for (size_t i = 0; i < len; i++) {
			int pick = rand() % 8;
			in[i] = pick == 0   ? '\''
				: pick == 1 ? (char)(1 + rand() % 31)
				: pick == 2 ? (char)(0x80 + rand() % 128)
				: pick == 3 ? "<>&\"`@{}\\"[rand() % 10]
					    : (char)(' ' + rand() % 95);
		}
		in[len] = '\0';
		struct plot_buf b = { 0 };
		plot_buf_gnuplot_string(&b, in);
		assert_true(b.len >= 2 && b.p[0] == '\'' && b.p[b.len - 1] == '\'');
		for (size_t i = 1; i + 1 < b.len; i++) {
			assert_true((unsigned char)b.p[i] >= 0x20 && b.p[i] != 0x7f);
			if (b.p[i] == '\'') {
				assert_true(b.p[i + 1] == '\'' && i + 2 < b.len);
				i++;
			}
		}
		assert_true(valid_utf8(b.p));
		b.len = 0;
		plot_buf_xml(&b, in);
		assert_true(!b.len || (!strchr(b.p, '<') && !strchr(b.p, '>') && valid_utf8(b.p)));
		for (const char *amp = b.p; b.len && (amp = strchr(amp, '&')); amp++)
			assert_true(strncmp(amp, "&amp;", 5) == 0 || strncmp(amp, "&lt;", 4) == 0 ||
				    strncmp(amp, "&gt;", 4) == 0 ||
				    strncmp(amp, "&quot;", 6) == 0 ||
				    strncmp(amp, "&apos;", 6) == 0);
		plot_buf_free(&b);
	}
}

static const char *failing_point;
static int failing_code;

static int fail_at(const char *point)
{
	return failing_point && strcmp(point, failing_point) == 0 ? failing_code : 0;
}

/* A disk that fills while graphs are written, and no memfd to be had:
 * each is the error of the graph it hit, named, and leaves no file. */
static void test_faults(void **state)
{
	(void)state;
	struct plot_pool *p = pool(1);
	struct err e = { 0 };
	size_t n = 100;
	fill(n, 10);
	fault_hook = fail_at;
	failing_point = "plot.write";
	failing_code = -ENOSPC;
	struct plot_graph g = graph(in_dir("full.svg"), n);
	assert_int_equal(plot_draw(p, &g, &e), 0);
	assert_int_equal(plot_wait(p, &e), -ENOSPC);
	assert_non_null(strstr(e.msg, "full.svg: cannot write"));
	assert_int_equal(access(g.path, F_OK), -1);
	assert_int_equal(access(in_dir("full.svg.tmp"), F_OK), -1);
	failing_point = "plot.memfd";
	failing_code = -EMFILE;
	g = graph(in_dir("nofd.svg"), n);
	assert_int_equal(plot_draw(p, &g, &e), -EMFILE);
	assert_non_null(strstr(e.msg, "nofd.svg"));
	assert_int_equal(access(in_dir("nofd.svg.tmp"), F_OK), -1);
	fault_hook = NULL;
	g = graph(in_dir("fine.svg"), n);
	assert_int_equal(plot_draw(p, &g, &e), 0);
	assert_int_equal(plot_wait(p, &e), 0);
	assert_svg_whole(g.path);
	plot_pool_free(p);
}

/* The rows of $d0 in g's script. */
static size_t data_rows(const struct plot_graph *g, char **script)
{
	struct plot_buf b = { 0 };
	struct err e = { 0 };
	assert_int_equal(plot_script(&b, g, "/tmp/never-drawn.svg.tmp", &e), 0);
	const char *start = strstr(b.p, "$d0 << EOD\n"), *end = strstr(start, "EOD\nplot");
	assert_non_null(start);
	assert_non_null(end);
	size_t rows = 0;
	for (const char *c = start + 11; c < end; c++)
		rows += *c == '\n';
	*script = b.p;
	return rows;
}

/* gnuplot is handed only the rows a straight line would not draw within
 * a quarter of a pixel: a flat line or a ramp is two rows, a spike stays. */
static void test_fewer_points(void **state)
{
	(void)state;
	size_t n = 600;
	struct plot_graph g = graph("/tmp/never-drawn.svg", n);
	g.lines = &(struct plot_line){ "used", avg, NULL, NULL, 0 };
	char *script;
	for (size_t i = 0; i < n; i++)
		avg[i] = 42;
	assert_int_equal(data_rows(&g, &script), 2);
	free(script);
	for (size_t i = 0; i < n; i++)
		avg[i] = 10 + 0.1 * (double)i;
	assert_int_equal(data_rows(&g, &script), 2);
	free(script);
	avg[300] = 90;
	size_t rows = data_rows(&g, &script);
	assert_true(rows >= 4 && rows <= 6);
	assert_non_null(strstr(script, "\n300.5 90 90 90\n"));
	free(script);
	fill(n, 9); /* noise: nearly every row counts */
	g.lines = &one_line;
	assert_true(data_rows(&g, &script) > n * 9 / 10);
	free(script);
}

/* Graphs for a person (and tests/integration/plot_svg.sh) to look at. */
static void test_gallery(void **state)
{
	(void)state;
	const char *gallery = getenv("RMON_PLOT_GALLERY");
	if (!gallery)
		skip();
	struct plot_pool *p = pool(0);
	size_t n = plot_windows(W);
	fill(n, 8);
	double limit = 90;
	int64_t now = (int64_t)time(NULL) * 1000000000;
	struct plot_span alert = { now - 6 * 3600LL * 1000000000, now - 5 * 3600LL * 1000000000 };
	static const struct {
		const char *name;
		int64_t range;
	} ranges[] = { { "hour", 3600 },
		       { "day", 86400 },
		       { "week", 7 * 86400 },
		       { "month", 31 * 86400 },
		       { "year", 365 * 86400 } };
	char path[5][400];
	struct plot_graph g[5];
	for (size_t r = 0; r < 5; r++) {
		snprintf(path[r], sizeof path[r], "%s/cpu-%s.svg", gallery, ranges[r].name);
		g[r] = graph(path[r], n);
		g[r].title = "cpu <script>alert(1)</script> on web-1";
		g[r].from = now - ranges[r].range * 1000000000;
		g[r].step = ranges[r].range * 1000000000 / (int64_t)n;
		g[r].thresholds = &limit;
		g[r].n_thresholds = 1;
		g[r].spans = &alert;
		g[r].n_spans = 1;
	}
	draw_all(p, g, 5);

	/* CPU by state, stacked; memory in bytes with a gap (the agent was
	 * down); a network rate */
	enum { N = 700 };
	static double user[N], sys[N], wait[N], mem[N], rx[N], tx[N];
	for (size_t i = 0; i < N; i++) {
		user[i] = 25 + 15 * sin(i / 40.0) + rand() % 50 / 10.0;
		sys[i] = 8 + rand() % 30 / 10.0;
		wait[i] = i % 120 < 8 ? 25 : 1;
		mem[i] = i >= 400 && i < 430 ? NAN : (2.5 + sin(i / 90.0)) * 1024 * 1024 * 1024;
		rx[i] = (200 + 150 * sin(i / 25.0) + rand() % 50) * 1024;
		tx[i] = (60 + 40 * cos(i / 30.0) + rand() % 20) * 1024;
	}
	struct plot_line cpu[] = {
		{ "user", user, NULL, NULL, plot_colour_for("user") },
		{ "system", sys, NULL, NULL, plot_colour_for("system") },
		{ "iowait", wait, NULL, NULL, plot_colour_for("iowait") },
	};
	struct plot_line used = { "used", mem, NULL, NULL, plot_colour_for("used") };
	struct plot_line net[] = { { "rx", rx, NULL, NULL, plot_colour_for("rx") },
				   { "tx", tx, NULL, NULL, plot_colour_for("tx") } };
	double mem_limit = 3.2 * 1024 * 1024 * 1024;
	char more[3][400];
	struct plot_graph m[3];
	for (size_t k = 0; k < 3; k++) {
		m[k] = graph(more[k], N);
		m[k].from = now - 86400LL * 1000000000;
		m[k].step = 86400LL * 1000000000 / N;
	}
	snprintf(more[0], sizeof more[0], "%s/cpu-stacked.svg", gallery);
	m[0].title = "CPU by state";
	m[0].lines = cpu;
	m[0].n_lines = 3;
	m[0].stacked = true;
	snprintf(more[1], sizeof more[1], "%s/memory.svg", gallery);
	m[1].title = "memory";
	m[1].unit = PLOT_UNIT_BYTES;
	m[1].lines = &used;
	m[1].thresholds = &mem_limit;
	m[1].n_thresholds = 1;
	snprintf(more[2], sizeof more[2], "%s/network.svg", gallery);
	m[2].title = "network eth0";
	m[2].unit = PLOT_UNIT_BYTES_PER_SEC;
	m[2].lines = net;
	m[2].n_lines = 2;
	draw_all(p, m, 3);
	plot_pool_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_colours),
		cmocka_unit_test(test_sparkline),
		cmocka_unit_test(test_svg_and_png),
		cmocka_unit_test(test_svg_size),
		cmocka_unit_test(test_hostile_titles),
		cmocka_unit_test(test_gaps_and_empty),
		cmocka_unit_test(test_stacked),
		cmocka_unit_test(test_units_on_axis),
		cmocka_unit_test(test_many_graphs_few_processes),
		cmocka_unit_test(test_killed_gnuplot),
		cmocka_unit_test(test_stuck_gnuplot),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_text_escaping),
		cmocka_unit_test(test_faults),
		cmocka_unit_test(test_fewer_points),
		cmocka_unit_test(test_gallery),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
