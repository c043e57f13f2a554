/* sitefill.c - synthetic hosts for the report (see sitefill.h). */
#include "bench/sitefill.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/sample.h"
#include "lib/series_name.h"

#define GIB 1073741824.0

struct fill {
	struct drainer *d;
	const struct sitefill *f;
	size_t n;
	struct sample *s;
	const char **names;
};

/* One series: base + slope a sample + a slow wave (amplitude wave). */
static int series(struct fill *x, struct err *e, double base, double slope, double wave,
		  const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int series(struct fill *x, struct err *e, double base, double slope, double wave,
		  const char *fmt, ...)
{
	char name[SERIES_NAME_MAX + 1];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(name, sizeof name, fmt, ap);
	va_end(ap);
	uint64_t id = series_id(name, strlen(name));
	for (size_t k = 0; k < x->n; k++) {
		x->s[k] =
		    (struct sample){ id, x->f->end - (int64_t)(x->n - 1 - k) * x->f->step,
				     base + slope * (double)k + wave * sin((double)k / 40.0) };
		x->names[k] = name;
	}
	return drainer_submit(x->d, x->s, x->n, x->names, e);
}

static int cpu_and_memory(struct fill *x, const char *h, double busy, struct err *e)
{
	static const char *const modes[] = { "user", "system", "idle", "iowait", "steal", "guest" };
	static const double share[] = { 6, 2, 0, 0.5, 0.2, 1 };
	double step_s = (double)x->f->step / 1e9;
	int rc = 0;
	for (int i = 0; i < 6 && rc == 0; i++)
		rc = series(x, e, 1000,
			    step_s * (i == 2 ? 2 - busy / 50 : busy / 50 * share[i] / 8.7), 0,
			    "%s/node_cpu_seconds_total{cpu=\"total\",mode=\"%s\"}", h, modes[i]);
	for (int c = 0; c < 2 && rc == 0; c++)
		rc = series(x, e, 500, step_s * (1 - busy / 100), 0,
			    "%s/node_cpu_seconds_total{cpu=\"%d\",mode=\"idle\"}", h, c);
	static const char *const loads[] = { "node_load1", "node_load5", "node_load15" };
	for (int i = 0; i < 3 && rc == 0; i++)
		rc = series(x, e, busy / 50 + i * 0.2, 0, 0.5, "%s/%s", h, loads[i]);
	static const struct {
		const char *name;
		double gib, wave;
	} mem[] = { { "MemTotal", 8, 0 },  { "MemFree", 2, 0.2 },     { "MemAvailable", 4.5, 0.2 },
		    { "Buffers", 0.3, 0 }, { "Cached", 2, 0.1 },      { "SReclaimable", 0.2, 0 },
		    { "SwapTotal", 2, 0 }, { "SwapFree", 1.5, 0.05 }, { "SwapCached", 0.1, 0 } };
	for (size_t i = 0; i < sizeof mem / sizeof mem[0] && rc == 0; i++)
		rc = series(x, e, mem[i].gib * GIB, 0, mem[i].wave * GIB, "%s/node_memory_%s_bytes",
			    h, mem[i].name);
	return rc;
}

static int devices(struct fill *x, const char *h, struct err *e)
{
	const struct sitefill *f = x->f;
	char mount[600];
	int rc = 0;
	for (int m = 0; m < (f->mounts ? f->mounts : 1) && rc == 0; m++) {
		bool odd = f->odd_label && m == (f->mounts ? f->mounts : 1) - 1 && m > 0;
		if (m == 0)
			snprintf(mount, sizeof mount, "/");
		else if (odd)
			snprintf(mount, sizeof mount, "%s", f->odd_label);
		else
			snprintf(mount, sizeof mount, "/srv/vol%d", m);
		const char *labels = "device=\"/dev/vd%c1\",fstype=\"ext4\",mountpoint=\"%s\"";
		char l[800];
		snprintf(l, sizeof l, labels, 'a' + m % 26, mount);
		rc = series(x, e, 100e9, 0, 0, "%s/node_filesystem_size_bytes{%s}", h, l);
		if (rc == 0)
			rc = series(x, e, odd ? 8e9 : 30e9 + 5e9 * m, -1e5, 0,
				    "%s/node_filesystem_avail_bytes{%s}", h, l);
		if (rc == 0)
			rc = series(x, e, 6e6, 0, 0, "%s/node_filesystem_files{%s}", h, l);
		if (rc == 0)
			rc = series(x, e, 5e6, -10, 0, "%s/node_filesystem_files_free{%s}", h, l);
	}
	for (int i = 0; i < (f->disks ? f->disks : 1) && rc == 0; i++) {
		rc = series(x, e, 1e9, 5e6 * (i + 1), 0,
			    "%s/node_disk_read_bytes_total{device=\"vd%c\"}", h, 'a' + i % 26);
		if (rc == 0)
			rc = series(x, e, 1e9, 2e7, 0,
				    "%s/node_disk_written_bytes_total{device=\"vd%c\"}", h,
				    'a' + i % 26);
	}
	for (int i = 0; i < (f->interfaces ? f->interfaces : 1) && rc == 0; i++) {
		rc = series(x, e, 1e6, 1e6 * (i + 1), 0,
			    "%s/node_network_receive_bytes_total{device=\"eth%d\"}", h, i);
		if (rc == 0)
			rc = series(x, e, 1e6, 3e5, 0,
				    "%s/node_network_transmit_bytes_total{device=\"eth%d\"}", h, i);
	}
	return rc;
}

static int states(struct fill *x, const char *h, struct err *e)
{
	static const char *const tcp[] = { "established", "listen", "time_wait", "closing" };
	int rc = 0;
	for (int i = 0; i < 4 && rc == 0; i++)
		rc = series(x, e, i == 3 ? 0 : 10 - i * 3, 0, i == 3 ? 0 : 2,
			    "%s/node_tcp_connections{state=\"%s\"}", h, tcp[i]);
	if (rc == 0)
		rc = series(x, e, 120, 0, 5, "%s/node_processes_state{state=\"sleeping\"}", h);
	if (rc == 0)
		rc = series(x, e, 2, 0, 1, "%s/node_processes_state{state=\"running\"}", h);
	if (rc == 0)
		rc = series(x, e, 10, 0.5, 0, "%s/node_pressure_cpu_some_seconds_total", h);
	if (rc == 0)
		rc = series(x, e, 5, 0.1, 0, "%s/node_pressure_io_some_seconds_total", h);
	const char *top = x->f->odd_label ? x->f->odd_label : "postgres";
	if (rc == 0)
		rc = series(x, e, 5e8, 0, 0,
			    "%s/rmon_top_resident_memory_bytes{comm=\"%s\",rank=\"1\"}", h, top);
	if (rc == 0)
		rc = series(x, e, 4242, 0, 0,
			    "%s/rmon_top_resident_memory_pid{comm=\"%s\",rank=\"1\"}", h, top);
	if (rc == 0)
		rc = series(x, e, 0, 0, 0, "%s/rmon_collector_errors_total{collector=\"cpu\"}", h);
	return rc;
}

int sitefill_host(struct drainer *d, const struct sitefill *f, const char *host, double busy,
		  struct err *e)
{
	struct fill x = { .d = d, .f = f, .n = (size_t)(f->span / f->step) };
	int rc;
	x.s = malloc(x.n * sizeof *x.s);
	x.names = malloc(x.n * sizeof *x.names);
	if (!x.s || !x.names)
		rc = err_set(e, -ENOMEM, "out of memory filling %s", host);
	else if ((rc = cpu_and_memory(&x, host, busy, e)) == 0 &&
		 (rc = devices(&x, host, e)) == 0 && (rc = states(&x, host, e)) == 0)
		rc = drainer_step(d, 0, e);
	if (rc == 0)
		rc = drainer_wait_commit(d, e); /* what the site is made from is in LMDB */
	free(x.s);
	free(x.names);
	return rc;
}
