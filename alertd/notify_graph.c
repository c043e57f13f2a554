/* notify_graph.c - a mail's graph; see notify_graph.h. */
#include "alertd/notify_graph.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/plot.h"
#include "lib/rtime.h"
#include "lib/series_name.h"
#include "store/query.h"

#define HOUR (3600 * RTIME_NS_PER_SEC)

struct notify_graph {
	pthread_mutex_t lock;
	char *data_dir;
	struct query *q;
	struct plot_pool *pool;
	char folder[64]; /* a private folder for the PNG files, "" until made */
};

int notify_graph_new(const char *data_dir, struct notify_graph **out, struct err *e)
{
	struct notify_graph *g = calloc(1, sizeof *g);
	*out = NULL;
	if (!g || !(g->data_dir = strdup(data_dir))) {
		free(g);
		return err_set(e, -ENOMEM, "out of memory");
	}
	pthread_mutex_init(&g->lock, NULL);
	*out = g;
	return 0;
}

void notify_graph_free(struct notify_graph *g)
{
	if (!g)
		return;
	query_close(g->q);
	plot_pool_free(g->pool);
	if (g->folder[0])
		rmdir(g->folder);
	pthread_mutex_destroy(&g->lock);
	free(g->data_dir);
	free(g);
}

static int read_file(const char *path, unsigned char **out, size_t *len, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return err_sys(e, -errno, "graph %s", path);
	if (fstat(fd, &st) != 0 || st.st_size <= 0 || st.st_size > (64 << 20)) {
		close(fd);
		return err_set(e, -EIO, "graph %s: empty or too big", path);
	}
	unsigned char *buf = malloc((size_t)st.st_size);
	size_t got = 0;
	while (buf && got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (!buf || got != (size_t)st.st_size) {
		free(buf);
		return err_set(e, buf ? -EIO : -ENOMEM, "graph %s: cannot read it", path);
	}
	*out = buf;
	*len = got;
	return 0;
}

/* With the lock held: the store, gnuplot and the folder, once. */
static int prepare(struct notify_graph *g, struct err *e)
{
	int rc;
	if (!g->q && (rc = query_open(g->data_dir, &g->q, e)) != 0)
		return rc;
	if (!g->pool && (rc = plot_pool_new(1, &g->pool, e)) != 0)
		return rc;
	if (!g->folder[0]) {
		const char *tmp = getenv("TMPDIR");
		snprintf(g->folder, sizeof g->folder, "%s/rmon-graph-XXXXXX",
			 tmp && strlen(tmp) < 32 ? tmp : "/tmp");
		if (!mkdtemp(g->folder)) {
			g->folder[0] = '\0';
			return err_sys(e, -errno, "cannot make a folder for graphs");
		}
	}
	return 0;
}

static int draw_locked(struct notify_graph *g, const struct notice_alert *a, unsigned char **png,
		       size_t *len, char *alt, size_t alt_cap, struct err *e)
{
	int rc;
	if ((rc = prepare(g, e)) != 0)
		return rc;
	size_t n = plot_windows(NOTIFY_GRAPH_WIDTH);
	int64_t to = a->at ? a->at : rtime_now_ns(), from = to - HOUR;
	int64_t step = (HOUR + (int64_t)n - 1) / (int64_t)n;
	double *v = malloc(3 * n * sizeof *v);
	if (!v)
		return err_set(e, -ENOMEM, "out of memory");
	double *out[QUERY_AGGS] = { 0 };
	out[QUERY_AVG] = v;
	out[QUERY_MIN] = v + n;
	out[QUERY_MAX] = v + 2 * n;
	uint64_t id = series_id(a->series, strlen(a->series));
	rc = query_range_multi(g->q, id, from, from + step * (int64_t)n, step, out, n, e);
	size_t points = 0;
	for (size_t i = 0; rc == 0 && i < n; i++)
		points += !isnan(v[i]);
	if (rc == 0 && points == 0)
		rc = err_set(e, -ENODATA, "no data of %s in the last hour", a->series);
	if (rc != 0) {
		free(v);
		return rc;
	}
	enum plot_unit unit = PLOT_UNIT_NONE;
	if (a->unit)
		plot_unit_parse(a->unit, &unit, NULL);
	char path[128], title[256];
	snprintf(path, sizeof path, "%s/graph.png", g->folder);
	snprintf(title, sizeof title, "%.200s, last hour", a->series);
	struct plot_line line = { .title = a->host ? a->host : "",
				  .avg = out[QUERY_AVG],
				  .min = out[QUERY_MIN],
				  .max = out[QUERY_MAX],
				  .colour = plot_colour_for(a->rule ? a->rule : "") };
	struct plot_span span = { a->since > from ? a->since : from,
				  a->state == ALERT_RESOLVED ? a->at : to };
	struct plot_graph graph = {
		.path = path,
		.format = PLOT_PNG,
		.width = NOTIFY_GRAPH_WIDTH,
		.height = NOTIFY_GRAPH_HEIGHT,
		.title = title,
		.unit = unit,
		.from = from,
		.step = step,
		.n = n,
		.lines = &line,
		.n_lines = 1,
		.thresholds = isnan(a->threshold) ? NULL : &a->threshold,
		.n_thresholds = isnan(a->threshold) ? 0 : 1,
		.spans = a->since ? &span : NULL,
		.n_spans = a->since ? 1 : 0,
		.ymin = NAN,
		.ymax = NAN,
	};
	rc = plot_draw(g->pool, &graph, e);
	if (rc == 0)
		rc = plot_wait(g->pool, e);
	free(v);
	if (rc == 0)
		rc = read_file(path, png, len, e);
	unlink(path);
	if (rc == 0)
		snprintf(alt, alt_cap,
			 "Graph of %.300s over the hour before %s, threshold dashed, "
			 "the alert shaded",
			 a->series, a->state == ALERT_RESOLVED ? "it resolved" : "it fired");
	return rc;
}

int notify_graph_draw(struct notify_graph *g, const struct notice_alert *a, unsigned char **png,
		      size_t *len, char *alt, size_t alt_cap, struct err *e)
{
	*png = NULL;
	*len = 0;
	if (!a->series || !a->series[0])
		return err_set(e, -ENOENT, "the alert names no series");
	pthread_mutex_lock(&g->lock);
	/* A store missing now is opened again at the next mail. */
	int rc = draw_locked(g, a, png, len, alt, alt_cap, e);
	pthread_mutex_unlock(&g->lock);
	return rc;
}
