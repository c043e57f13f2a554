/* store_peers.c - the store scenario's peers on the same samples:
 * victoria-metrics (Debian's single-node package, started by
 * bench/peers/victoria-metrics.sh) and `promtool tsdb bench write`; see
 * store_parts.h.  A peer that is missing says why, and is skipped. */
#include <curl/curl.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/daemons.h"
#include "bench/procstat.h"
#include "bench/store_parts.h"
#include "lib/rtime.h"
#include "lib/series_name.h"

#define REQUEST_LINES 100000 /* samples a POST: big requests, as an importer sends */

static off_t tree_bytes;
static int add_blocks(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	if (type == FTW_F)
		tree_bytes += st->st_blocks * 512;
	return 0;
}

static double folder_bytes(const char *path)
{
	tree_bytes = 0;
	nftw(path, add_blocks, 16, FTW_PHYS);
	return (double)tree_bytes;
}

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
	return size * n;
}

struct reply {
	char text[4096];
	size_t len;
};

static size_t keep(char *p, size_t size, size_t n, void *ctx)
{
	struct reply *r = ctx;
	size_t room = sizeof r->text - 1 - r->len, take = size * n < room ? size * n : room;
	memcpy(r->text + r->len, p, take);
	r->len += take;
	r->text[r->len] = '\0';
	return size * n;
}

/* POSTs body (or GETs when body is NULL), the reply kept in *reply when
 * reply is not NULL; the HTTP status, or 0. */
static long http_reply(CURL *c, const char *url, const char *body, size_t len, struct reply *reply)
{
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, reply ? keep : discard);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, reply);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	} else {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	}
	long status = 0;
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

static long http(CURL *c, const char *url, const char *body, size_t len)
{
	return http_reply(c, url, body, len, NULL);
}

/* How many samples victoria-metrics answers for, all series, between t0
 * and the last round: a folder's size per sample means something only
 * when the folder holds every sample sent.  -1 when the query or its
 * answer fails. */
static double vm_samples_held(CURL *c, int port, int64_t t0, int64_t t_end)
{
	char url[512];
	struct reply r = { .len = 0 };
	long window_s = (long)((t_end - t0) / RTIME_NS_PER_SEC) + 1;
	snprintf(url, sizeof url,
		 "http://127.0.0.1:%d/api/v1/"
		 "query?query=sum(count_over_time(%%7B__name__%%3D~%%22.%%2B%%22%%7D%%5B%lds%%5D))&"
		 "time=%lld.%03lld",
		 port, window_s, (long long)(t_end / RTIME_NS_PER_SEC),
		 (long long)(t_end % RTIME_NS_PER_SEC / RTIME_NS_PER_MS));
	if (http_reply(c, url, NULL, 0, &r) / 100 != 2)
		return -1;
	/* {"status":"success","data":{...,"result":[{"metric":{},"value":[T,"N"]}]}} */
	static const char value[] = "\"value\":[";
	const char *v = strstr(r.text, value);
	const char *q = v ? strchr(v + sizeof value - 1, '"') : NULL; /* past T: the count */
	return q ? strtod(q + 1, NULL) : -1;
}

struct text {
	char *buf;
	size_t len, cap;
};

static void text_line(struct text *t, const char *name, double value, int64_t ts_ms)
{
	if (t->cap - t->len < DATASET_NAME_MAX + 64) {
		t->cap = t->cap ? t->cap * 2 : 1 << 24;
		if (!(t->buf = realloc(t->buf, t->cap)))
			bench_die("out of memory");
	}
	t->len += (size_t)snprintf(t->buf + t->len, t->cap - t->len, "%s %.17g %lld\n", name, value,
				   (long long)ts_ms);
}

/* Feeds every sample, a request of REQUEST_LINES lines at a time; the time
 * spent in requests (making the text is the client's cost, not the peer's). */
static double vm_feed(struct bench_run *run, CURL *c, const char *url, struct dataset *d,
		      uint64_t rounds, int64_t t0)
{
	uint64_t series = dataset_series(d), lines = 0, total = series * rounds;
	char(*names)[DATASET_NAME_MAX] = malloc(series * sizeof *names);
	uint64_t *ids = malloc(series * sizeof *ids);
	if (!names || !ids)
		bench_die("out of memory");
	for (uint32_t h = 0; h < d->hosts; h++)
		for (uint32_t s = 0; s < d->per_host; s++) {
			uint64_t i = (uint64_t)h * d->per_host + s;
			char canonical[DATASET_NAME_MAX];
			ids[i] = series_id(
			    canonical, (size_t)dataset_name(d, h, s, canonical, sizeof canonical));
			dataset_prom_name(d, h, s, names[i], sizeof names[i]);
		}
	dataset_rewind(d);
	struct text t = { 0 };
	double in_requests = 0;
	for (uint64_t k = 0; k < rounds; k++) {
		int64_t ts_ms = (t0 + (int64_t)k * d->interval_ns) / RTIME_NS_PER_MS;
		for (uint32_t h = 0; h < d->hosts; h++)
			for (uint32_t s = 0; s < d->per_host; s++) {
				uint64_t i = (uint64_t)h * d->per_host + s;
				text_line(&t, names[i], dataset_value(d, h, s, ids[i], k), ts_ms);
				if (++lines % REQUEST_LINES != 0 && lines != total)
					continue;
				int64_t start = rtime_mono_ns();
				long status = http(c, url, t.buf, t.len);
				in_requests += (double)(rtime_mono_ns() - start) / 1e9;
				if (status / 100 != 2)
					bench_die("victoria-metrics import: HTTP status %ld",
						  status);
				t.len = 0;
				bench_progress(run, "victoria-metrics import",
					       (double)lines / in_requests / 1e6, "M samples/s",
					       in_requests, 0);
			}
	}
	bench_progress_done(run);
	dataset_rewind(d);
	free(t.buf);
	free(names);
	free(ids);
	return in_requests;
}

/* bench/peers/victoria-metrics.sh ARGS; its exit status (1 without the folder). */
static int peer_script(struct bench_run *run, const char *args)
{
	char cmd[9000];
	const char *peers = bench_peers(run);
	if (!peers)
		return 1;
	snprintf(cmd, sizeof cmd, "%s/victoria-metrics.sh %s", peers, args);
	int status = system(cmd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

pid_t store_vm_start(struct bench_run *run, const char *dir, int port, char *why, size_t len)
{
	char args[4400], file[4300];
	if (peer_script(run, "install") != 0) {
		snprintf(why, len, "%s",
			 bench_peers(run)
			     ? "victoria-metrics is not installed (Debian: victoria-metrics)"
			     : "no bench/peers folder (set RMON_BENCH_PEERS)");
		return 0;
	}
	snprintf(args, sizeof args, "start %s %d", dir, port);
	if (peer_script(run, args) != 0) {
		snprintf(why, len, "victoria-metrics did not start (see %s/log)", dir);
		return 0;
	}
	snprintf(file, sizeof file, "%s/victoria-metrics.pid", dir);
	FILE *f = fopen(file, "r");
	long pid = 0;
	if (!f || fscanf(f, "%ld", &pid) != 1)
		bench_die("%s: no pid", file);
	fclose(f);
	daemon_track((pid_t)pid); /* not our child: killed at exit, not reaped */
	return (pid_t)pid;
}

double store_vm_stop(struct bench_run *run, const char *dir, pid_t pid)
{
	char args[4400], data[4300];
	snprintf(args, sizeof args, "stop %s", dir);
	peer_script(run, args);
	daemon_untrack(pid);
	snprintf(data, sizeof data, "%s/data", dir);
	double bytes = folder_bytes(data);
	bench_remove_tree(dir);
	return bytes;
}

void store_victoria(struct bench_run *run, struct dataset *d, uint64_t rounds, int64_t t0,
		    struct peer_figures *out)
{
	char dir[4200], url[128];
	int port = bench_free_port();
	memset(out, 0, sizeof *out);
	snprintf(dir, sizeof dir, "%s/victoria-metrics", bench_scratch(run));
	pid_t pid = store_vm_start(run, dir, port, out->why, sizeof out->why);
	if (!pid)
		return;
	CURL *c = curl_easy_init();
	if (!c)
		bench_die("curl_easy_init failed");
	double cpu = procstat_cpu_seconds((pid_t)pid);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/api/v1/import/prometheus", port);
	double seconds = vm_feed(run, c, url, d, rounds, t0);
	/* Its data flushed to its parts on disk, as ours are in the WAL. */
	int64_t flush = rtime_mono_ns();
	snprintf(url, sizeof url, "http://127.0.0.1:%d/internal/force_flush", port);
	if (http(c, url, NULL, 0) / 100 != 2)
		bench_die("victoria-metrics: /internal/force_flush failed");
	seconds += (double)(rtime_mono_ns() - flush) / 1e9;
	out->cpu_s = procstat_cpu_seconds((pid_t)pid) - cpu;
	out->peak_kib = procstat_kib((pid_t)pid, "VmHWM:");
	uint64_t samples = dataset_series(d) * rounds;
	out->seconds = seconds;
	out->rate = (double)samples / seconds;
	out->samples_held =
	    vm_samples_held(c, port, t0, t0 + (int64_t)(rounds - 1) * d->interval_ns);
	out->samples_sent = (double)samples;
	out->ran = true;
	curl_easy_cleanup(c);
	/* Measured once it has stopped: force_flush makes the samples
	 * searchable, but they reach the folder only with its in-memory parts
	 * (every 5 s by default, and at shutdown). */
	out->bytes_per_sample = store_vm_stop(run, dir, pid) / (double)samples;
}

void store_promtool(struct bench_run *run, uint64_t series, uint64_t rounds,
		    struct peer_figures *out)
{
	char dir[4200], labels[4300], prom[4300], out_file[4300];
	memset(out, 0, sizeof *out);
	if (system("command -v promtool >/dev/null 2>&1") != 0) {
		snprintf(out->why, sizeof out->why,
			 "promtool is not installed (Debian: prometheus)");
		return;
	}
	snprintf(dir, sizeof dir, "%s/promtool", bench_scratch(run));
	mkdir(dir, 0700);
	snprintf(labels, sizeof labels, "%s/series.json", dir);
	snprintf(prom, sizeof prom, "%s/tsdb", dir);
	snprintf(out_file, sizeof out_file, "%s/out", dir);
	FILE *f = fopen(labels, "w");
	if (!f)
		bench_die("%s: %s", labels, strerror(errno));
	for (uint64_t s = 0; s < series; s++)
		fprintf(
		    f,
		    "{\"__name__\":\"rmon_bench_value\",\"instance\":\"bench\",\"s\":\"%llu\"}\n",
		    (unsigned long long)s);
	fclose(f);
	char metrics[32], scrapes[32], out_arg[4400];
	snprintf(metrics, sizeof metrics, "--metrics=%llu", (unsigned long long)series);
	snprintf(scrapes, sizeof scrapes, "--scrapes=%llu", (unsigned long long)rounds);
	snprintf(out_arg, sizeof out_arg, "--out=%s", prom);
	fflush(NULL);
	int64_t start = rtime_mono_ns();
	pid_t pid = bench_fork();
	if (pid == 0) {
		if (!freopen(out_file, "w", stdout) || dup2(STDOUT_FILENO, STDERR_FILENO) < 0)
			_exit(126);
		execlp("promtool", "promtool", "tsdb", "bench", "write", metrics, scrapes, out_arg,
		       labels, (char *)NULL);
		_exit(127);
	}
	int status;
	struct rusage ru;
	if (pid < 0 || wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		snprintf(out->why, sizeof out->why, "promtool tsdb bench write failed (see %s)",
			 out_file);
		return;
	}
	out->seconds = (double)(rtime_mono_ns() - start) / 1e9;
	out->cpu_s = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
		     (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	out->peak_kib = ru.ru_maxrss;
	/* Its own figure: samples over the time of its write phase. */
	char line[512];
	f = fopen(out_file, "r");
	while (f && fgets(line, sizeof line, f)) {
		char *p = strstr(line, "samples/sec:");
		if (p)
			out->rate = atof(p + strlen("samples/sec:"));
	}
	if (f)
		fclose(f);
	if (out->rate <= 0) {
		snprintf(out->why, sizeof out->why, "promtool printed no samples/sec (see %s)",
			 out_file);
		return;
	}
	out->bytes_per_sample = folder_bytes(prom) / (double)(series * rounds);
	out->ran = true;
	bench_remove_tree(dir);
}
