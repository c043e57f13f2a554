/* cmd_demo.c - `rmon demo`: runs the whole pipeline on this machine with
 * the built-in configuration: rmon-stored drains the ring, rmon-collectd
 * collects every second, rmon-alertd watches with the shipped rules plus a
 * demo rule, and rmon-reportgen writes the report.  The demo makes the
 * load that trips its rule itself (a short CPU burst of processes it
 * starts and kills), so an alert fires, is mailed into a maildir under the
 * data folder (and to an SMTP server with --smtp), and resolves within the
 * first minute.  This process reads the store through the query API like
 * any other reader, printing a live summary and the alerts' moves until
 * Ctrl-C or --duration; then it stops what it started.  With --web it also
 * serves the report with its action forms through nginx, fcgiwrap and
 * rmon-web (cli/demo_web.c), and the burst lasts long enough for a person
 * to acknowledge its alert and silence the host in a browser. */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alertd/alerts.h"
#include "alertd/rules.h"
#include "cli/cli.h"
#include "cli/demo_web.h"
#include "lib/cmdline.h"
#include "lib/escape.h"
#include "lib/rtime.h"
#include "shmring/ring.h"
#include "lib/series_name.h"

#define DEMO_DEFAULT_DATA "var/demo"
#define BURST_START	  (8 * RTIME_NS_PER_SEC)  /* after the pipeline is up */
#define BURST_LENGTH	  (15 * RTIME_NS_PER_SEC) /* long enough to fire, short enough to resolve */
#define BURST_LENGTH_WEB  (5 * 60 * RTIME_NS_PER_SEC) /* time to act on it in a browser */
#define DURATION	  (60 * RTIME_NS_PER_SEC)
#define DURATION_WEB	  (10 * 60 * RTIME_NS_PER_SEC)
#define BURST_NAME	  "rmon-demo-burn" /* its command name, which the agent watches */

/* The agent watches the burst's processes by name... */
static const char demo_agent_config[] = "# Written by rmon demo.\n"
					"[process demo_burst]\n"
					"match = \"^" BURST_NAME "$\"\n";

/* ...and the demo rule fires while they use more than a third of a CPU. */
static const char demo_rule[] =
    "\n# The demo's own rule: rmon demo starts a CPU burst after 8 s and stops it\n"
    "# 15 s later, so this fires and resolves within the first minute.\n"
    "[rule demo_cpu_burst]\n"
    "expr = rate(rmon_process_cpu_seconds_total{process=\"demo_burst\"}[5s])\n"
    "above = 0.33\n"
    "clear = 0.1\n"
    "for = 2s\n"
    "severity = warning\n"
    "summary = {host}: the demo's CPU burst, {value} CPUs busy\n"
    "description = rmon demo made this load itself, to show an alert from start to end.\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Starts bin_dir/program with args, its stderr appended to log. */
static pid_t start(const char *bin_dir, const char *program, char *const args[], const char *log)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", bin_dir, program);
	pid_t pid = fork();
	if (pid == 0) {
		FILE *f = freopen(log, "a", stderr);
		(void)f;
		signal(SIGINT, SIG_IGN); /* Ctrl-C is ours to handle: we stop them in order */
		prctl(PR_SET_PDEATHSIG, SIGTERM); /* and should we be killed, they stop too */
		execv(path, args);
		fprintf(stderr, "rmon demo: cannot run %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	return pid;
}

static void stop_child(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/* The newest value of every series matching a selector, folded by fn. */
struct newest {
	struct query *q;
	int64_t from, to;
	double a, b; /* folded results */
	double last, prev;
	int64_t last_ts, prev_ts;
};

static int keep_two(void *ctx, int64_t ts, double value)
{
	struct newest *n = ctx;
	n->prev = n->last;
	n->prev_ts = n->last_ts;
	n->last = value;
	n->last_ts = ts;
	return 0;
}

static void read_last_two(struct newest *n, uint64_t id)
{
	n->last = n->prev = NAN;
	query_raw(n->q, id, n->from, n->to, keep_two, n, NULL, NULL);
}

/* CPU busy share from the two newest collections: everything but idle
 * and iowait, over everything. */
static int fold_cpu(void *ctx, uint64_t id, const char *name, size_t len)
{
	struct newest *n = ctx;
	read_last_two(n, id);
	if (isnan(n->prev))
		return 0;
	double delta = n->last - n->prev;
	n->b += delta;
	if (!strstr(name, "mode=\"idle\"") && !strstr(name, "mode=\"iowait\"") &&
	    !strstr(name, "mode=\"guest"))
		n->a += delta;
	return 0;
}

static int fold_last(void *ctx, uint64_t id, const char *name, size_t len)
{
	struct newest *n = ctx;
	read_last_two(n, id);
	if (!isnan(n->last))
		n->a = n->last;
	return 0;
}

/* Fullest filesystem: keeps the largest used share, by mount point. */
static int fold_disk(void *ctx, uint64_t id, const char *name, size_t len)
{
	struct newest *n = ctx;
	read_last_two(n, id);
	if (isnan(n->last))
		return 0;
	/* The same series name with the avail metric instead of size. */
	static const char size_metric[] = "node_filesystem_size_bytes";
	char avail_name[SERIES_NAME_MAX + 8];
	const char *metric = memmem(name, len, size_metric, sizeof size_metric - 1);
	if (!metric || n->last <= 0)
		return 0;
	size_t head = (size_t)(metric - name), tail = len - head - (sizeof size_metric - 1);
	snprintf(avail_name, sizeof avail_name, "%.*snode_filesystem_avail_bytes%.*s", (int)head,
		 name, (int)tail, metric + sizeof size_metric - 1);
	double size = n->last;
	read_last_two(n, series_id(avail_name, strlen(avail_name)));
	double used = 1 - n->last / size;
	if (!isnan(used) && used > n->a)
		n->a = used;
	return 0;
}

static double summarise(struct query *q, const char *selector, query_series_fn fn, double *b)
{
	struct query_selector *sel;
	int64_t now = rtime_now_ns();
	struct newest n = { .q = q,
			    .from = now - 10 * RTIME_NS_PER_SEC,
			    .to = now + RTIME_NS_PER_SEC };
	if (query_selector_parse(selector, &sel, NULL) != 0)
		return NAN;
	n.a = fn == fold_disk ? -1 : 0;
	query_series(q, sel, fn, &n, NULL);
	query_selector_free(sel);
	if (b)
		*b = n.b;
	return n.a;
}

static int count_series(void *ctx, uint64_t id, const char *name, size_t len)
{
	(*(size_t *)ctx)++;
	return 0;
}

static void print_summary(const char *data, struct query *q, int64_t elapsed_s,
			  uint64_t *last_samples)
{
	struct query_stats st = { 0 };
	query_get_stats(q, &st, NULL);
	size_t series = 0;
	query_series(q, NULL, count_series, &series, NULL);
	double total = 0,
	       busy = summarise(q, "node_cpu_seconds_total{cpu=\"total\"}", fold_cpu, &total);
	double mem_total = summarise(q, "node_memory_MemTotal_bytes", fold_last, NULL);
	double mem_avail = summarise(q, "node_memory_MemAvailable_bytes", fold_last, NULL);
	double disk = summarise(q, "node_filesystem_size_bytes", fold_disk, NULL);
	printf("%4llds  series %5zu  stored %8llu samples (%6.0f/s)  cpu %5.1f%%  memory %5.1f%%  "
	       "fullest disk %5.1f%%\n",
	       (long long)elapsed_s, series, (unsigned long long)st.samples,
	       (double)(st.samples - *last_samples), total > 0 ? 100 * busy / total : 0.0,
	       mem_total > 0 ? 100 * (1 - mem_avail / mem_total) : 0.0,
	       disk >= 0 ? 100 * disk : 0.0);
	fflush(stdout);
	*last_samples = st.samples;
}

/* Writes text into data/name; false (said on stderr) when it cannot. */
static bool write_file(const char *data, const char *name, const char *text, const char *more,
		       char *path, size_t cap)
{
	snprintf(path, cap, "%s/%s", data, name);
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || (more && fputs(more, f) < 0) || fclose(f) != 0) {
		fprintf(stderr, "rmon demo: cannot write %s: %s\n", path, strerror(errno));
		return false;
	}
	return true;
}

/* HOST:PORT with a host of letters, digits, '.', '-' (or an IPv6 address
 * in brackets): it goes into a configuration file, so nothing else may. */
static bool smtp_ok(const char *smtp)
{
	const char *colon = strrchr(smtp, ':');
	if (!colon || colon == smtp || strlen(colon + 1) > 5)
		return false;
	for (const char *p = colon + 1; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	long port = strtol(colon + 1, NULL, 10);
	if (port < 1 || port > 65535)
		return false;
	for (const char *p = smtp; p < colon; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr(".-[]:", *p)))
			return false;
	return true;
}

/* alertd's configuration: the shipped one, the demo rule, and with --smtp
 * an email receiver beside the maildir. */
static bool write_alertd_config(const char *data, const char *smtp, const char *web, char *path,
				size_t cap)
{
	char more[3072], host[256] = "";
	int port = 25;
	if (smtp) {
		const char *colon = strrchr(smtp, ':');
		snprintf(host, sizeof host, "%.*s", colon ? (int)(colon - smtp) : (int)strlen(smtp),
			 smtp);
		port = colon ? atoi(colon + 1) : 25;
	}
	int n =
	    snprintf(more, sizeof more, "%sreceivers = local%s\n", demo_rule, smtp ? ", smtp" : "");
	if (smtp)
		snprintf(more + n, sizeof more - (size_t)n,
			 "\n[receiver smtp]\ntype = email\nserver = %s\nport = %d\ntls = none\n"
			 "from = rmon-demo@localhost\nto = operator@localhost\n",
			 host, port);
	if (web)
		snprintf(more + strlen(more), sizeof more - strlen(more), "%s", web);
	/* The shipped flap damping holds a cleared alert firing for minutes;
	 * the demo's must resolve within its first minute. */
	static const char flap[] = "flap_window = 2m\n";
	const char *at = strstr(alert_config_default, flap);
	size_t len = strlen(alert_config_default);
	char *text = malloc(len + 64);
	if (!text)
		return false;
	if (at)
		snprintf(text, len + 64, "%.*sflap_window = 10s   # rmon demo: 2m as shipped\n%s",
			 (int)(at - alert_config_default), alert_config_default,
			 at + sizeof flap - 1);
	else
		memcpy(text, alert_config_default, len + 1);
	bool ok = write_file(data, "alertd.conf", text, more, path, cap);
	free(text);
	return ok;
}

/* The burst: one process per CPU, named so the agent watches it, alive
 * for the whole demo (so the shipped process_gone rule has nothing to
 * say) and spinning only between SIGUSR1 and SIGUSR2. */
static pid_t burst[64];
static int n_burst;
static volatile sig_atomic_t spinning;

static void on_burst_signal(int sig)
{
	spinning = sig == SIGUSR1;
}

static void burst_prepare(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	for (n_burst = 0; n_burst < (cpus > 0 && cpus < 64 ? cpus : 1); n_burst++) {
		pid_t pid = fork();
		if (pid == 0) {
			prctl(PR_SET_NAME, BURST_NAME);
			prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlives the demo */
			signal(SIGINT, SIG_IGN);
			signal(SIGTERM, SIG_DFL);
			signal(SIGUSR1, on_burst_signal);
			signal(SIGUSR2, on_burst_signal);
			for (;;) {
				while (spinning)
					;
				pause();
			}
		}
		burst[n_burst] = pid;
	}
}

static void burst_signal(int sig)
{
	for (int i = 0; i < n_burst; i++)
		if (burst[i] > 0)
			kill(burst[i], sig);
}

static void burst_end(void)
{
	for (int i = 0; i < n_burst; i++)
		if (burst[i] > 0) {
			kill(burst[i], SIGKILL);
			waitpid(burst[i], NULL, 0);
		}
	n_burst = 0;
}

/* Prints the alerts' moves since *seen (wall-clock ns), oldest first. */
struct moves {
	struct alert_event ev[32];
	size_t n;
};

static int keep_move(void *ctx, const struct alert_event *ev)
{
	struct moves *m = ctx;
	if (m->n < sizeof m->ev / sizeof m->ev[0])
		m->ev[m->n++] = *ev;
	return 0;
}

static size_t print_moves(const char *data, struct alert_store **store, int64_t *seen)
{
	struct moves m = { .n = 0 };
	if (!*store && alert_store_open(data, 0, store, NULL) != 0) {
		*store = NULL;
		return 0;
	}
	alert_store_history(*store, *seen + 1, INT64_MAX, 32, keep_move, &m, NULL);
	for (size_t i = m.n; i-- > 0;) {
		const struct alert_event *ev = &m.ev[i];
		char host[300];
		escape(ESCAPE_TEXT, host, sizeof host, ev->host, strlen(ev->host));
		printf("      alert %llu %s on %s: %s -> %s (value %.3g)\n",
		       (unsigned long long)ev->alert_id, ev->rule, host, alert_state_name(ev->from),
		       alert_state_name(ev->to), ev->value);
		if (ev->at > *seen)
			*seen = ev->at;
	}
	fflush(stdout);
	return m.n;
}

/* How many messages the maildir holds. */
static size_t count_mails(const char *maildir)
{
	char cmd[PATH_MAX + 64];
	size_t n = 0;
	snprintf(cmd, sizeof cmd, "%s/new", maildir);
	DIR *d = opendir(cmd);
	for (struct dirent *de; d && (de = readdir(d));)
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

/* Waits for the store to create its database, so readers can open it. */
static struct query *wait_for_store(const char *data, pid_t stored)
{
	for (int i = 0; i < 100 && !stop; i++) {
		struct query *q;
		if (query_open(data, &q, NULL) == 0)
			return q;
		if (waitpid(stored, NULL, WNOHANG) == stored)
			return NULL;
		usleep(50000);
	}
	return NULL;
}

/* --web: the absolute paths nginx and rmon-web are given, and the lines
 * the alertd configuration needs for the pages to carry the forms. */
struct web_setup {
	struct demo_web_options opts;
	char addr[64], config[512];
	char data[PATH_MAX], conf[PATH_MAX + 16], www[PATH_MAX + 8], bin[PATH_MAX + 16];
};

static bool web_prepare(struct web_setup *w, const char *data, const char *bin_dir)
{
	if (!realpath(data, w->data)) {
		fprintf(stderr, "rmon demo: %s: %s\n", data, strerror(errno));
		return false;
	}
	snprintf(w->conf, sizeof w->conf, "%s/alertd.conf", w->data);
	snprintf(w->www, sizeof w->www, "%s/www", w->data);
	snprintf(w->bin, sizeof w->bin, "%s/rmon-web", bin_dir);
	mkdir(w->www, 0700); /* nginx's root, before reportgen's first pass */
	w->opts.addr = w->addr;
	w->opts.data = w->data;
	w->opts.www = w->www;
	w->opts.config = w->conf;
	w->opts.web_bin = w->bin;
	demo_web_config(&w->opts, w->config, sizeof w->config);
	return true;
}

/* Starts nginx and fcgiwrap; NULL (said on stderr) when they cannot. */
static struct demo_web *web_start(const struct web_setup *w)
{
	struct demo_web *server;
	struct err e = { 0 };
	if (demo_web_start(&w->opts, &server, &e) < 0) {
		fprintf(stderr, "rmon demo: %s\n", e.msg);
		return NULL;
	}
	/* The password is shown this once; it stays in its 0600 file. */
	printf("rmon demo: nginx and fcgiwrap serve the report with its forms; user %s, "
	       "password %s\n"
	       "  open %s (user %s, password in %s)\n",
	       DEMO_WEB_USER, demo_web_password(server), demo_web_url(server), DEMO_WEB_USER,
	       demo_web_password_file(server));
	fflush(stdout);
	return server;
}

int cmd_demo(int argc, char **argv)
{
	const char *data = DEMO_DEFAULT_DATA, *smtp = NULL, *web_listen = NULL;
	int64_t duration = -1; /* its default depends on --web */
	const struct cmdline_option options[] = {
		CMDLINE_DATA(&data),
		{ .name = "duration",
		  .letter = 't',
		  .kind = CMDLINE_DURATION,
		  .field = &duration,
		  .arg = "D",
		  .help = "stop after D (default 60s; 10m with --web)" },
		{ .name = "smtp",
		  .kind = CMDLINE_STRING,
		  .field = &smtp,
		  .arg = "HOST:PORT",
		  .help = "mail the alerts to this SMTP server too (plain, no TLS)" },
		{ .name = "web",
		  .kind = CMDLINE_STRING,
		  .field = &web_listen,
		  .arg = "[ADDR:]PORT",
		  .help = "serve the report and its forms (ADDR: 127.0.0.1)" },
		{ 0 },
	};
	const struct cmdline cl = {
		.program = "rmon demo",
		.version = CLI_VERSION,
		.about =
		    "Runs the whole pipeline on this machine with the built-in configuration:\n"
		    "rmon-stored, rmon-collectd (every second), rmon-alertd and rmon-reportgen on\n"
		    "data folder DIR (default " DEMO_DEFAULT_DATA
		    "), printing a live summary read\n"
		    "back from the store, until Ctrl-C or the duration ends.  A short CPU burst "
		    "it\n"
		    "makes itself trips a demo rule: the alert fires, is mailed into DIR/maildir\n"
		    "and resolves within the first minute.  The report is in DIR/www.\n"
		    "With --web PORT, nginx and fcgiwrap (Debian's packages) serve it on\n"
		    "http://127.0.0.1:PORT/ with the forms of rmon-web, behind basic auth for "
		    "user\n"
		    "demo (password in DIR/web-password); the burst then lasts 5 minutes, so\n"
		    "there is time to acknowledge its alert and silence the host in a browser.",
		.options = options,
	};
	int first, status;
	if ((status = cmdline_main(&cl, argc, argv, &first)) >= 0)
		return status;
	if (smtp && !smtp_ok(smtp)) {
		char shown[300];
		fprintf(stderr,
			"rmon demo: --smtp %s: expected HOST:PORT (a host name or address, a "
			"port from 1 to 65535)\n",
			escape_quote(shown, sizeof shown, smtp));
		return 2;
	}
	struct web_setup web = { .opts.port = 0 };
	struct err e = { 0 };
	if (web_listen &&
	    demo_web_parse_listen(web_listen, web.addr, sizeof web.addr, &web.opts.port, &e) < 0) {
		char shown[300];
		fprintf(stderr, "rmon demo: --web %s: %s\n",
			escape_quote(shown, sizeof shown, web_listen), e.msg);
		return 2;
	}
	if (duration < 0)
		duration = web_listen ? DURATION_WEB : DURATION;
	char bin_dir[PATH_MAX], log_path[PATH_MAX], agent_conf[PATH_MAX], alertd_conf[PATH_MAX];
	char www[PATH_MAX], maildir[PATH_MAX], index[PATH_MAX * 2];
	ssize_t n = readlink("/proc/self/exe", bin_dir, sizeof bin_dir - 1);
	if (n <= 0) {
		fprintf(stderr, "rmon demo: cannot find my own binary: %s\n", strerror(errno));
		return 1;
	}
	bin_dir[n] = '\0';
	*strrchr(bin_dir, '/') = '\0';
	char parent[PATH_MAX];
	snprintf(parent, sizeof parent, "%s", data);
	for (char *p = parent + 1; (p = strchr(p, '/')); *p++ = '/') {
		*p = '\0';
		mkdir(parent, 0700);
	}
	if (mkdir(data, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "rmon demo: cannot create data folder %s: %s\n", data,
			strerror(errno));
		return 1;
	}
	snprintf(www, sizeof www, "%s/www", data);
	if (web_listen && !web_prepare(&web, data, bin_dir))
		return 1;
	if (!write_file(data, "agent.conf", demo_agent_config, NULL, agent_conf,
			sizeof agent_conf) ||
	    !write_alertd_config(data, smtp, web_listen ? web.config : NULL, alertd_conf,
				 sizeof alertd_conf))
		return 1;
	snprintf(maildir, sizeof maildir, "%s/maildir", data);
	/* The site first: a missing nginx is said before anything starts. */
	struct demo_web *server = NULL;
	if (web_listen && !(server = web_start(&web)))
		return 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	snprintf(log_path, sizeof log_path, "%s/demo.log", data);
	printf("rmon demo: rmon-stored, rmon-collectd (every second), rmon-alertd and "
	       "rmon-reportgen on %s; logs in %s\n",
	       data, log_path);
	char *stored_args[] = { "rmon-stored", "--data", (char *)data, NULL };
	char *collectd_args[] = { "rmon-collectd", "--data",   (char *)data, "--interval", "1s",
				  "--config",	   agent_conf, NULL };
	char *alertd_args[] = {
		"rmon-alertd", "--data", (char *)data, "--config", alertd_conf, NULL
	};
	char *reportgen_args[] = { "rmon-reportgen", "--data",	  (char *)data, "--out", www,
				   "--config",	     alertd_conf, "--interval", "10s",	 NULL };
	int64_t burst_length = server ? BURST_LENGTH_WEB : BURST_LENGTH;
	pid_t stored = start(bin_dir, "rmon-stored", stored_args, log_path), collectd = -1,
	      alertd = -1, reportgen = -1;
	int64_t begin = rtime_mono_ns(), next, seen_move = rtime_now_ns();
	uint64_t last_samples = 0;
	struct alert_store *alerts = NULL;
	int burst_phase = 0; /* 0 before, 1 spinning, 2 after */
	struct query *q = wait_for_store(data, stored);
	int rc = 0;
	if (!q) {
		fprintf(stderr, "rmon demo: the store did not start; see %s\n", log_path);
		rc = 1;
		goto out;
	}
	burst_prepare();
	collectd = start(bin_dir, "rmon-collectd", collectd_args, log_path);
	alertd = start(bin_dir, "rmon-alertd", alertd_args, log_path);
	reportgen = start(bin_dir, "rmon-reportgen", reportgen_args, log_path);
	begin = rtime_mono_ns();
	next = begin + 2 * RTIME_NS_PER_SEC;
	while (!stop && rtime_mono_ns() - begin < duration) {
		int64_t now = rtime_mono_ns();
		if (now >= next) {
			print_summary(data, q, (now - begin) / RTIME_NS_PER_SEC, &last_samples);
			print_moves(data, &alerts, &seen_move);
			next += RTIME_NS_PER_SEC;
		}
		if (burst_phase == 0 && now - begin >= BURST_START) {
			printf("      a CPU burst starts (%s), to trip the demo rule\n",
			       BURST_NAME);
			burst_signal(SIGUSR1);
			burst_phase = 1;
		}
		if (burst_phase == 1 && now - begin >= BURST_START + burst_length) {
			printf("      the CPU burst stops: the alert resolves\n");
			burst_signal(SIGUSR2);
			burst_phase = 2;
		}
		struct timespec ts = { 0, 50 * 1000000 };
		nanosleep(&ts, NULL);
		if (waitpid(stored, NULL, WNOHANG) == stored) {
			fprintf(stderr, "rmon demo: rmon-stored stopped; see %s\n", log_path);
			stored = -1;
			rc = 1;
			break;
		}
	}
out:
	burst_end();
	stop_child(collectd);
	stop_child(alertd);
	stop_child(reportgen);
	if (q) {
		print_moves(data, &alerts, &seen_move);
		/* One last pass, so the report shows the end of the run. */
		char *once_args[] = { "rmon-reportgen", "--data",    (char *)data, "--out", www,
				      "--config",	alertd_conf, "--once",	   NULL };
		stop_child(start(bin_dir, "rmon-reportgen", once_args, log_path));
	}
	alert_store_close(alerts);
	if (server) {
		demo_web_stop(server);
		printf("rmon demo: stopped nginx and fcgiwrap.\n");
	}
	stop_child(stored);
	/* The demo owns its pipeline: nothing is left in shared memory. */
	char ring[64];
	ring_name_for_dir(data, ring, sizeof ring);
	ring_unlink(ring, NULL);
	if (q) {
		print_summary(data, q, (rtime_mono_ns() - begin) / RTIME_NS_PER_SEC, &last_samples);
		query_close(q);
	}
	char abs[PATH_MAX];
	if (!realpath(www, abs))
		snprintf(abs, sizeof abs, "%s", www);
	snprintf(index, sizeof index, "file://%s/index.html", abs);
	printf("rmon demo: stopped rmon-reportgen, rmon-alertd, rmon-collectd and rmon-stored.\n"
	       "  the report:  %s\n"
	       "  the mails:   %s/new (%zu messages)\n"
	       "The data stays in %s; try\n"
	       "  %s/rmon series 'node_load*' --data %s\n"
	       "  %s/rmon query 'node_cpu_seconds_total{cpu=\"total\"}' --data %s --from -5m "
	       "--step 10s --agg rate\n"
	       "  %s/rmon query node_memory_MemAvailable_bytes --data %s --from -5m --format csv\n"
	       "  %s/rmon stats --data %s\n",
	       index, maildir, count_mails(maildir), data, bin_dir, data, bin_dir, data, bin_dir,
	       data, bin_dir, data);
	return rc;
}
