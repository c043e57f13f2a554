/* bench-web.c - rmon-web through Debian's nginx and fcgiwrap on loopback,
 * against nginx serving a static page in the same run (the baseline: what
 * the web server costs by itself).  Clients send requests over several
 * connections for a few seconds each:
 *   static   GET of a report page (a plain file)
 *   form     GET of an action's confirmation form (roles, a fresh token)
 *   change   POST of a silence with a token made beforehand (checks,
 *            token spent, one LMDB transaction)
 * and rmon-web's peak RSS is read from its rusage when run as a CGI.
 * Goals (issue "web actions"): >= 500 requests/s, RSS < 5 MiB. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alertd/alerts.h"
#include "bench/bench.h"
#include "lib/rtime.h"
#include "reportgen/web_token.h"

#define CLIENTS	   4
#define PHASE_SECS 3

static char dir[256], data[300], bin[4096];
static int port;

static pid_t spawn(char *const argv[], const char *log)
{
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0); /* fcgiwrap's workers go with it */
		FILE *f = freopen(log, "a", stderr);
		(void)f;
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		bench_die("cannot write %s", path);
}

/* One request over a fresh connection; returns the HTTP status. */
static int request(const char *req, size_t len)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(0x7f000001) };
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
		bench_die("connect 127.0.0.1:%d: %s", port, strerror(errno));
	if (write(fd, req, len) != (ssize_t)len)
		bench_die("write: %s", strerror(errno));
	char buf[16384];
	ssize_t n, got = 0;
	int status = 0;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		if (got == 0 && n > 12)
			status = atoi(buf + 9);
		got += n;
	}
	close(fd);
	return status;
}

struct phase {
	const char *name;
	int want_status;
	bool post;
	long done, bad;
	int64_t until;
};

static const char auth[] = "Authorization: Basic Ym9iOmIwYi1zZWNyZXQ=\r\n"; /* bob:b0b-secret */

static void *client(void *arg)
{
	struct phase *p = arg;
	char req[2048], token[WEB_TOKEN_LEN + 1], body[1024];
	long done = 0, bad = 0;
	while (rtime_mono_ns() < p->until) {
		int len;
		if (!p->post && strcmp(p->name, "static") == 0) {
			len = snprintf(
			    req, sizeof req,
			    "GET /index.html HTTP/1.1\r\nHost: x\r\n%sConnection: close\r\n\r\n",
			    auth);
		} else if (!p->post) {
			len = snprintf(req, sizeof req,
				       "GET /rmon/action?do=silence&selector=web1%%2F* HTTP/1.1\r\n"
				       "Host: x\r\n%sConnection: close\r\n\r\n",
				       auth);
		} else {
			if (web_token_make(data, "bob", rtime_now_ns(), token, sizeof token, NULL) <
			    0)
				bench_die("cannot make a token");
			int blen = snprintf(
			    body, sizeof body,
			    "do=silence&token=%s&selector=web1%%2F*&for=2h&comment=b", token);
			len = snprintf(req, sizeof req,
				       "POST /rmon/action HTTP/1.1\r\nHost: x\r\n%s"
				       "Content-Type: application/x-www-form-urlencoded\r\n"
				       "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
				       auth, blen, body);
		}
		int got = request(req, (size_t)len);
		if (got != p->want_status && bad == 0 && getenv("BENCH_WEB_DEBUG"))
			fprintf(stderr, "%s: status %d\n", p->name, got);
		if (got == p->want_status)
			done++;
		else
			bad++;
	}
	__atomic_add_fetch(&p->done, done, __ATOMIC_RELAXED);
	__atomic_add_fetch(&p->bad, bad, __ATOMIC_RELAXED);
	return NULL;
}

static double run_phase(struct phase *p)
{
	pthread_t t[CLIENTS];
	int64_t start = rtime_mono_ns();
	p->until = start + PHASE_SECS * RTIME_NS_PER_SEC;
	for (int i = 0; i < CLIENTS; i++)
		pthread_create(&t[i], NULL, client, p);
	for (int i = 0; i < CLIENTS; i++)
		pthread_join(t[i], NULL);
	double secs = (double)(rtime_mono_ns() - start) / 1e9;
	return (double)p->done / secs;
}

/* VmHWM of process pid in KiB, from /proc. */
static long vm_hwm(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

/* rmon-web's peak RSS in KiB for one request run as CGI.  Read from /proc
 * as it exits (ptrace stops it there): rusage's ru_maxrss would count the
 * pages of this process that the child had before its exec. */
static long cgi_rss(const char *method, const char *query, const char *body)
{
	int in[2];
	if (pipe(in) < 0)
		bench_die("pipe");
	pid_t pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		close(in[1]);
		if (!freopen("/dev/null", "w", stdout))
			_exit(127);
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		char e[6][4400];
		snprintf(e[0], sizeof e[0], "REQUEST_METHOD=%s", method);
		snprintf(e[1], sizeof e[1], "QUERY_STRING=%s", query);
		snprintf(e[2], sizeof e[2], "CONTENT_LENGTH=%zu", strlen(body));
		snprintf(e[3], sizeof e[3], "RMON_DATA=%s", data);
		snprintf(e[4], sizeof e[4], "RMON_WEB_USERS=%s/web-users.conf", dir);
		snprintf(e[5], sizeof e[5], "CONTENT_TYPE=application/x-www-form-urlencoded");
		char *env[] = { e[0], e[1], e[2], e[3], e[4], e[5], "REMOTE_USER=bob", NULL };
		char *argv[] = { bin, NULL };
		execve(bin, argv, env);
		_exit(127);
	}
	close(in[0]);
	int st;
	waitpid(pid, &st, 0); /* stopped at its exec */
	ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)PTRACE_O_TRACEEXIT);
	ptrace(PTRACE_CONT, pid, NULL, NULL);
	if (write(in[1], body, strlen(body)) < 0)
		bench_die("write");
	close(in[1]);
	long kib = -1;
	while (waitpid(pid, &st, 0) == pid && !WIFEXITED(st) && !WIFSIGNALED(st)) {
		if (st >> 8 == (SIGTRAP | (PTRACE_EVENT_EXIT << 8)))
			kib = vm_hwm(pid);
		ptrace(PTRACE_CONT, pid, NULL, NULL);
	}
	return kib;
}

/* The baseline of a durable change: write + fdatasync of one page in the
 * data folder, one after the other (LMDB takes one writer at a time). */
static double fsync_rate(void)
{
	char path[400], page[4096] = { 0 };
	snprintf(path, sizeof path, "%s/fsync-probe", data);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		bench_die("cannot create %s", path);
	long n = 0;
	int64_t start = rtime_mono_ns(), until = start + PHASE_SECS * RTIME_NS_PER_SEC;
	while (rtime_mono_ns() < until) {
		if (pwrite(fd, page, sizeof page, (n % 16) * 4096) != sizeof page || fdatasync(fd))
			bench_die("fdatasync: %s", strerror(errno));
		n++;
	}
	close(fd);
	unlink(path);
	return (double)n / ((double)(rtime_mono_ns() - start) / 1e9);
}

static void start_servers(void)
{
	char path[512], conf[16384], pw[256] = "";
	snprintf(path, sizeof path, "%s/site", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/site/index.html", dir);
	write_file(path, "<!DOCTYPE html><title>report</title><p>a report page</p>\n");
	snprintf(path, sizeof path, "%s/web-users.conf", dir);
	write_file(path, "[roles]\nbob = operator\n");
	FILE *p = popen("openssl passwd -apr1 b0b-secret", "r");
	if (!p || !fgets(pw, sizeof pw, p))
		bench_die("openssl passwd failed (apt-get install openssl)");
	pclose(p);
	snprintf(conf, sizeof conf, "bob:%s", pw);
	snprintf(path, sizeof path, "%s/htpasswd", dir);
	write_file(path, conf);
	snprintf(conf, sizeof conf,
		 "%s daemon off; worker_processes 1; pid %s/nginx.pid; error_log %s/nginx.log;\n"
		 "events { worker_connections 512; }\n"
		 "http { access_log off; client_body_temp_path %s/tmp;"
		 " fastcgi_temp_path %s/tmp; proxy_temp_path %s/tmp; uwsgi_temp_path %s/tmp;"
		 " scgi_temp_path %s/tmp;\n"
		 " server { listen 127.0.0.1:%d; root %s/site;"
		 " auth_basic \"Rusty Monitor\"; auth_basic_user_file %s/htpasswd;\n"
		 "  location /rmon/action { include /etc/nginx/fastcgi_params;"
		 " fastcgi_param SCRIPT_FILENAME %s; fastcgi_param SCRIPT_NAME /rmon/action;"
		 " fastcgi_param REMOTE_USER $remote_user; fastcgi_param RMON_DATA %s;"
		 " fastcgi_param RMON_WEB_USERS %s/web-users.conf;"
		 " fastcgi_pass unix:%s/fcgi.sock; } } }\n",
		 getuid() == 0 ? "user root;" : "", dir, dir, dir, dir, dir, dir, dir, port, dir,
		 dir, bin, data, dir, dir);
	snprintf(path, sizeof path, "%s/nginx.conf", dir);
	write_file(path, conf);
}

int main(void)
{
	const char *bindir = getenv("RMON_BIN");
	char rel[4096];
	snprintf(rel, sizeof rel, "%s/rmon-web", bindir ? bindir : "build/bin");
	if (!realpath(rel, bin)) /* fcgiwrap needs the whole path */
		snprintf(bin, sizeof bin, "%s", rel);
	if (access("/usr/sbin/nginx", X_OK) != 0 || access("/usr/sbin/fcgiwrap", X_OK) != 0 ||
	    access(bin, X_OK) != 0) {
		printf("bench-web: skipped: needs /usr/sbin/nginx, /usr/sbin/fcgiwrap and %s\n",
		       bin);
		return 0;
	}
	snprintf(dir, sizeof dir, "/tmp/rmon-bench-web-XXXXXX");
	if (!mkdtemp(dir))
		bench_die("mkdtemp");
	snprintf(data, sizeof data, "%s/data", dir);
	mkdir(data, 0700);
	struct alert_store *s;
	struct err e = { 0 };
	if (alert_store_open(data, ALERT_STORE_CREATE, &s, &e) < 0)
		bench_die("%s", e.msg);
	alert_store_close(s);
	port = bench_free_port();
	start_servers();
	char sock[400], conf[400], log[400], tmp[400];
	snprintf(sock, sizeof sock, "unix:%s/fcgi.sock", dir);
	snprintf(conf, sizeof conf, "%s/nginx.conf", dir);
	snprintf(log, sizeof log, "%s/servers.log", dir);
	snprintf(tmp, sizeof tmp, "%s/tmp", dir);
	mkdir(tmp, 0700);
	char *fcgi_argv[] = { "/usr/sbin/fcgiwrap", "-c", "4", "-s", sock, NULL };
	char *nginx_argv[] = { "/usr/sbin/nginx", "-c", conf, "-p", dir, NULL };
	pid_t fcgi = spawn(fcgi_argv, log), nginx = spawn(nginx_argv, log);
	char probe[] = "GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	for (int i = 0; i < 100; i++) {
		struct stat st;
		snprintf(tmp, sizeof tmp, "%s/fcgi.sock", dir);
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_port = htons((uint16_t)port),
					 .sin_addr.s_addr = htonl(0x7f000001) };
		int up = connect(fd, (struct sockaddr *)&a, sizeof a) == 0 && stat(tmp, &st) == 0;
		close(fd);
		if (up)
			break;
		usleep(100000);
	}
	(void)probe;
	struct phase stat_p = { "static", 200, false, 0, 0, 0 };
	struct phase form_p = { "form", 200, false, 0, 0, 0 };
	struct phase post_p = { "change", 200, true, 0, 0, 0 };
	double r_static = run_phase(&stat_p), r_form = run_phase(&form_p),
	       r_post = run_phase(&post_p), r_fsync = fsync_rate();
	long rss_form = cgi_rss("GET", "do=silence&selector=web1%2F*", "");
	char token[WEB_TOKEN_LEN + 1], body[512];
	web_token_make(data, "bob", rtime_now_ns(), token, sizeof token, NULL);
	snprintf(body, sizeof body, "do=silence&token=%s&selector=web1%%2F*&for=2h", token);
	long rss_post = cgi_rss("POST", "", body);
	kill(-nginx, SIGTERM);
	kill(-fcgi, SIGTERM);
	waitpid(nginx, NULL, 0);
	waitpid(fcgi, NULL, 0);

	printf("bench-web: nginx + fcgiwrap (-c 4) on 127.0.0.1, basic auth, %d clients, %d s "
	       "each, a connection per request\n\n",
	       CLIENTS, PHASE_SECS);
	printf("%-8s %12s %10s %8s %-28s\n", "request", "requests/s", "refused", "vs static",
	       "goal");
	printf("%-8s %12.0f %10ld %8s %-28s\n", "static", r_static, stat_p.bad, "1.00",
	       "(baseline)");
	printf("%-8s %12.0f %10ld %8.2f >= 500/s: %s\n", "form", r_form, form_p.bad,
	       r_form / r_static, bench_verdict(r_form >= 500));
	printf("%-8s %12.0f %10ld %8.2f >= 500/s: %s\n", "change", r_post, post_p.bad,
	       r_post / r_static, bench_verdict(r_post >= 500));
	printf("\nA change is durable before it is answered: one LMDB commit, one fdatasync.\n"
	       "This disk does %.0f write+fdatasync a second one after the other; changes "
	       "reach %.2f of that.\n",
	       r_fsync, r_post / r_fsync);
	printf("\nrmon-web peak RSS: form %.2f MiB, change %.2f MiB (goal < 5 MiB: %s)\n",
	       rss_form / 1024.0, rss_post / 1024.0,
	       bench_verdict(rss_form < 5 * 1024 && rss_post < 5 * 1024));
	bench_remove_tree(dir);
	return form_p.bad || post_p.bad ? 1 : 0;
}
