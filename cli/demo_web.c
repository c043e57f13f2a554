/* demo_web.c - the demo's web server (see demo_web.h): nginx and fcgiwrap
 * as the demo's children, each in a process group of its own so that
 * stopping one ends its workers and the rmon-web it runs too, and so that
 * the terminal's Ctrl-C reaches the demo alone, which stops them in order.
 * What tests/integration/lib/web.sh does for the tests, without a shell. */
#include <arpa/inet.h>
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/demo_web.h"

#define PASSWORD_LEN  20
#define START_TIMEOUT (10 * 1000) /* ms for nginx to answer */
#define STOP_TIMEOUT  (3 * 1000)  /* ms for a server to leave after SIGTERM */

struct demo_web {
	pid_t nginx, fcgiwrap; /* each the leader of its process group */
	char nginx_bin[PATH_MAX], fcgiwrap_bin[PATH_MAX];
	char dir[PATH_MAX]; /* DATA/web-server: configuration, socket, logs */
	char password[PASSWORD_LEN + 1];
	char password_file[PATH_MAX];
	char url[96];
};

int demo_web_parse_listen(const char *arg, char *addr, size_t cap, int *port, struct err *e)
{
	const char *colon = strrchr(arg, ':');
	const char *digits = colon ? colon + 1 : arg;
	size_t n = strlen(digits);
	if (n == 0 || n > 5 || strspn(digits, "0123456789") != n || atoi(digits) < 1 ||
	    atoi(digits) > 65535)
		return err_set(e, -EINVAL, "expected [ADDR:]PORT with a port from 1 to 65535");
	*port = atoi(digits);
	char host[INET_ADDRSTRLEN];
	struct in_addr in;
	size_t host_len = colon ? (size_t)(colon - arg) : 0;
	if (host_len >= sizeof host)
		return err_set(e, -EINVAL, "expected an IPv4 address such as 127.0.0.1 before ':'");
	snprintf(host, sizeof host, "%.*s", (int)host_len, arg);
	if (!colon)
		snprintf(host, sizeof host, "127.0.0.1");
	/* inet_pton takes only the four dotted numbers: nothing else can
	 * reach nginx's configuration through ADDR. */
	if (inet_pton(AF_INET, host, &in) != 1)
		return err_set(e, -EINVAL, "expected an IPv4 address such as 127.0.0.1 before ':'");
	if ((size_t)snprintf(addr, cap, "%s", host) >= cap)
		return err_set(e, -ENAMETOOLONG, "address too long");
	return 0;
}

int demo_web_config(const struct demo_web_options *o, char *buf, size_t cap)
{
	return snprintf(buf, cap,
			"\n# rmon demo --web: the pages carry the forms and lead back to\n"
			"# themselves on the demo's site.\n"
			"[report]\nurl = http://%s:%d/\n\n[web]\naction_url = " DEMO_WEB_ACTION_URL
			"\n",
			o->addr, o->port);
}

/* Finds program on PATH, then in /usr/sbin and /sbin (where Debian puts
 * both servers, often not on a user's PATH). */
static bool find_program(const char *program, char *path, size_t cap)
{
	const char *env = getenv("PATH");
	char dirs[4096];
	snprintf(dirs, sizeof dirs, "%s:/usr/sbin:/sbin", env ? env : "");
	for (char *save, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save))
		if (*d && (size_t)snprintf(path, cap, "%s/%s", d, program) < cap &&
		    access(path, X_OK) == 0)
			return true;
	return false;
}

/* A path that goes into nginx's configuration between double quotes:
 * quotes, backslashes, '$' (nginx's variables) and control characters
 * would change what the file says, so they are refused. */
static int path_ok(const char *what, const char *path, struct err *e)
{
	for (const char *c = path; *c; c++)
		if (*c == '"' || *c == '\\' || *c == '$' || (unsigned char)*c < ' ' || *c == 0x7f)
			return err_set(e, -EINVAL,
				       "%s %s: nginx's configuration cannot hold a path with "
				       "quotes, backslashes, '$' or control characters",
				       what, path);
	return 0;
}

/* Writes text to path, readable by its owner only (it may hold a secret). */
static int write_private(const char *path, const char *text, struct err *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_sys(e, -errno, "cannot write %s", path);
	size_t len = strlen(text);
	bool ok = fchmod(fd, 0600) == 0 && write(fd, text, len) == (ssize_t)len;
	int saved = errno;
	if (close(fd) != 0 && ok) {
		ok = false;
		saved = errno;
	}
	return ok ? 0 : err_sys(e, -saved, "cannot write %s", path);
}

/* PASSWORD_LEN letters and digits from getrandom, without modulo bias. */
static int make_password(char *buf, struct err *e)
{
	static const char alphabet[] =
	    "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"; /* no 0/O, 1/l/I */
	const size_t n_letters = sizeof alphabet - 1, limit = 256 - 256 % n_letters;
	size_t got = 0;
	while (got < PASSWORD_LEN) {
		unsigned char raw[64];
		if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
			return err_sys(e, -errno, "cannot draw a random password");
		for (size_t i = 0; i < sizeof raw && got < PASSWORD_LEN; i++)
			if (raw[i] < limit)
				buf[got++] = alphabet[raw[i] % n_letters];
	}
	buf[got] = '\0';
	return 0;
}

/* "demo:$6$salt$hash": SHA-512 crypt, which nginx checks with the C
 * library's crypt() like any htpasswd line. */
static int write_htpasswd(const char *path, const char *password, struct err *e)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	if (!crypt_gensalt_rn("$6$", 0, NULL, 0, salt, sizeof salt))
		return err_sys(e, -errno, "cannot make a password salt");
	struct crypt_data *cd = calloc(1, sizeof *cd);
	if (!cd)
		return err_set(e, -ENOMEM, "out of memory");
	const char *hash = crypt_r(password, salt, cd);
	int rc = -EINVAL;
	if (!hash || hash[0] == '*') {
		err_set(e, rc, "the C library cannot hash a password with SHA-512 crypt");
	} else {
		char line[CRYPT_OUTPUT_SIZE + 32];
		snprintf(line, sizeof line, DEMO_WEB_USER ":%s\n", hash);
		rc = write_private(path, line, e);
	}
	explicit_bzero(cd, sizeof *cd);
	free(cd);
	return rc;
}

/* nginx's configuration: the site and the action location on one address,
 * basic auth over both, fcgiwrap's socket for the action; no file outside
 * dir is written, none under /etc is read. */
static int write_nginx_conf(const struct demo_web *w, const struct demo_web_options *o,
			    const char *users, struct err *e)
{
	char path[PATH_MAX + 16], *text = NULL;
	snprintf(path, sizeof path, "%s/nginx.conf", w->dir);
	int n =
	    asprintf(&text,
		     "# Written by rmon demo --web; nginx runs with it as the demo's child.\n"
		     "%s"
		     "daemon off;\n"
		     "worker_processes 1;\n"
		     "pid \"%s/nginx.pid\";\n"
		     "error_log \"%s/nginx-error.log\";\n"
		     "events { worker_connections 256; }\n"
		     "http {\n"
		     "\ttypes { text/html html; text/css css; image/svg+xml svg; image/png png;\n"
		     "\t\ttext/csv csv; application/json json; text/plain txt; }\n"
		     "\tdefault_type application/octet-stream;\n"
		     "\taccess_log \"%s/nginx-access.log\";\n"
		     "\tclient_body_temp_path \"%s/tmp/body\";\n"
		     "\tfastcgi_temp_path \"%s/tmp/fastcgi\";\n"
		     "\tproxy_temp_path \"%s/tmp/proxy\";\n"
		     "\tuwsgi_temp_path \"%s/tmp/uwsgi\";\n"
		     "\tscgi_temp_path \"%s/tmp/scgi\";\n"
		     "\tserver {\n"
		     "\t\tlisten %s:%d;\n"
		     "\t\tauth_basic \"Rusty Monitor demo\";\n"
		     "\t\tauth_basic_user_file \"%s/htpasswd\";\n"
		     "\t\troot \"%s\";\n"
		     "\t\tindex index.html;\n"
		     "\t\tlocation " DEMO_WEB_ACTION_URL " {\n"
		     "\t\t\tclient_max_body_size 64k;\n"
		     "\t\t\tfastcgi_param GATEWAY_INTERFACE CGI/1.1;\n"
		     "\t\t\tfastcgi_param SERVER_PROTOCOL $server_protocol;\n"
		     "\t\t\tfastcgi_param SERVER_NAME $server_name;\n"
		     "\t\t\tfastcgi_param SERVER_ADDR $server_addr;\n"
		     "\t\t\tfastcgi_param SERVER_PORT $server_port;\n"
		     "\t\t\tfastcgi_param REMOTE_ADDR $remote_addr;\n"
		     "\t\t\tfastcgi_param REQUEST_METHOD $request_method;\n"
		     "\t\t\tfastcgi_param REQUEST_URI $request_uri;\n"
		     "\t\t\tfastcgi_param QUERY_STRING $query_string;\n"
		     "\t\t\tfastcgi_param CONTENT_TYPE $content_type;\n"
		     "\t\t\tfastcgi_param CONTENT_LENGTH $content_length;\n"
		     "\t\t\tfastcgi_param SCRIPT_NAME " DEMO_WEB_ACTION_URL ";\n"
		     "\t\t\tfastcgi_param SCRIPT_FILENAME \"%s\";\n"
		     "\t\t\tfastcgi_param REMOTE_USER $remote_user;\n"
		     "\t\t\tfastcgi_param RMON_DATA \"%s\";\n"
		     "\t\t\tfastcgi_param RMON_WEB_USERS \"%s\";\n"
		     "\t\t\tfastcgi_param RMON_CONFIG \"%s\";\n"
		     "\t\t\tfastcgi_pass \"unix:%s/fcgi.sock\";\n"
		     "\t\t}\n"
		     "\t}\n"
		     "}\n",
		     /* Run as root, nginx's workers would otherwise be nobody, who may
		      * not read the 0600 password file or the demo's folder. */
		     geteuid() == 0 ? "user root;\n" : "", w->dir, w->dir, w->dir, w->dir, w->dir,
		     w->dir, w->dir, w->dir, o->addr, o->port, w->dir, o->www, o->web_bin, o->data,
		     users, o->config, w->dir);
	if (n < 0)
		return err_set(e, -ENOMEM, "out of memory");
	int rc = write_private(path, text, e);
	free(text);
	return rc;
}

/* Starts argv[0] in a process group of its own, stdin and stdout on
 * /dev/null and stderr appended to log.  It gets SIGTERM should the demo
 * die without stopping it. */
static pid_t spawn(char *const argv[], const char *log)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid > 0)
		setpgid(pid, pid); /* both sides, so the group exists before either goes on */
	if (pid != 0)
		return pid;
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(127);
	int null = open("/dev/null", O_RDWR);
	int err = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (null < 0 || err < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(err, 2) < 0)
		_exit(127);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	execv(argv[0], argv);
	fprintf(stderr, "rmon demo: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static bool exited(pid_t pid)
{
	siginfo_t info = { 0 };
	/* WNOWAIT: a leader seen gone stays a zombie, so its group's id cannot
	 * be reused before the group is killed. */
	return waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

/* SIGTERM to the group, and SIGKILL to whatever of it is left after a
 * while (an rmon-web fcgiwrap started, a worker of nginx's). */
static void stop_group(pid_t *pid)
{
	if (*pid <= 0)
		return;
	kill(-*pid, SIGTERM);
	for (int ms = 0; ms < STOP_TIMEOUT && !exited(*pid); ms += 20)
		sleep_ms(20);
	kill(-*pid, SIGKILL);
	waitpid(*pid, NULL, 0);
	*pid = -1;
}

/* The last line of a log, for an error message. */
static void last_line(const char *path, char *buf, size_t cap)
{
	buf[0] = '\0';
	FILE *f = fopen(path, "r");
	char line[1024];
	while (f && fgets(line, sizeof line, f))
		if (line[0] != '\n')
			snprintf(buf, cap, "%.*s", (int)strcspn(line, "\n"), line);
	if (f)
		fclose(f);
}

/* Whether something already listens at the address: nginx would then
 * fail to bind while the demo's check for an answer succeeded. */
static int port_free(const struct demo_web_options *o, struct err *e)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)o->port) };
	inet_pton(AF_INET, o->addr, &sa.sin_addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int rc = fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0
		     ? 0
		     : err_sys(e, -errno, "--web %s:%d: cannot listen there", o->addr, o->port);
	if (fd >= 0)
		close(fd);
	return rc;
}

static bool answers(const struct demo_web_options *o)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)o->port) };
	inet_pton(AF_INET, o->addr, &sa.sin_addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* Waits until nginx has written its pid file (it binds first) and
 * answers, and fcgiwrap's socket is there; an error quoting the log of
 * the one that left. */
static int wait_ready(struct demo_web *w, const struct demo_web_options *o, struct err *e)
{
	char pidfile[PATH_MAX + 16], sock[PATH_MAX + 16], log[PATH_MAX + 32], line[300];
	snprintf(pidfile, sizeof pidfile, "%s/nginx.pid", w->dir);
	snprintf(sock, sizeof sock, "%s/fcgi.sock", w->dir);
	for (int ms = 0; ms < START_TIMEOUT; ms += 50) {
		const char *gone = exited(w->nginx)	 ? "nginx"
				   : exited(w->fcgiwrap) ? "fcgiwrap"
							 : NULL;
		if (gone) {
			snprintf(log, sizeof log, "%s/%s-error.log", w->dir, gone);
			last_line(log, line, sizeof line);
			return err_set(e, -EIO, "%s did not start: %s (see %s)", gone,
				       line[0] ? line : "no message", log);
		}
		if (access(pidfile, F_OK) == 0 && access(sock, F_OK) == 0 && answers(o))
			return 0;
		sleep_ms(50);
	}
	return err_set(e, -ETIMEDOUT, "nginx did not answer on %s:%d within %d s (see %s)", o->addr,
		       o->port, START_TIMEOUT / 1000, w->dir);
}

/* The users, password and nginx files, and the folders nginx writes in. */
static int write_files(struct demo_web *w, const struct demo_web_options *o, struct err *e)
{
	char path[PATH_MAX + 32], users[PATH_MAX + 32];
	int rc;
	snprintf(path, sizeof path, "%s/tmp", w->dir);
	if ((mkdir(w->dir, 0700) != 0 && errno != EEXIST) ||
	    (mkdir(path, 0700) != 0 && errno != EEXIST))
		return err_sys(e, -errno, "cannot create %s", path);
	snprintf(users, sizeof users, "%s/web-users.conf", o->data);
	snprintf(w->password_file, sizeof w->password_file, "%s/web-password", o->data);
	snprintf(path, sizeof path, "%s/htpasswd", w->dir);
	char line[PASSWORD_LEN + 2];
	snprintf(line, sizeof line, "%s\n", w->password);
	if ((rc = write_private(users,
				"# Written by rmon demo --web: the demo's one user may do "
				"everything.\n[roles]\n" DEMO_WEB_USER " = admin\n",
				e)) < 0 ||
	    (rc = write_private(w->password_file, line, e)) < 0 ||
	    (rc = write_htpasswd(path, w->password, e)) < 0)
		return rc;
	return write_nginx_conf(w, o, users, e);
}

/* Both servers and rmon-web, before anything is written. */
static int find_servers(struct demo_web *w, const struct demo_web_options *o, struct err *e)
{
	if (!find_program("nginx", w->nginx_bin, sizeof w->nginx_bin))
		return err_set(e, -ENOENT,
			       "--web needs nginx (on PATH or in /usr/sbin): apt-get install "
			       "nginx-light (or nginx)");
	if (!find_program("fcgiwrap", w->fcgiwrap_bin, sizeof w->fcgiwrap_bin))
		return err_set(e, -ENOENT,
			       "--web needs fcgiwrap (on PATH or in /usr/sbin): apt-get install "
			       "fcgiwrap");
	if (access(o->web_bin, X_OK) != 0)
		return err_sys(e, -errno, "--web needs rmon-web beside rmon: %s", o->web_bin);
	return 0;
}

static int start_servers(struct demo_web *w, struct err *e)
{
	char conf[PATH_MAX + 16], sock[PATH_MAX + 32], log[PATH_MAX + 32], pid[PATH_MAX + 16];
	snprintf(conf, sizeof conf, "%s/nginx.conf", w->dir);
	snprintf(sock, sizeof sock, "unix:%s/fcgi.sock", w->dir);
	snprintf(pid, sizeof pid, "%s/nginx.pid", w->dir);
	unlink(sock + 5);
	unlink(pid);
	snprintf(log, sizeof log, "%s/fcgiwrap-error.log", w->dir);
	/* One process, no preforked workers: should the demo be killed
	 * without stopping it, its death signal then ends all of fcgiwrap,
	 * and one person's forms need no more. */
	char *fcgi_args[] = { w->fcgiwrap_bin, "-c", "1", "-s", sock, NULL };
	w->fcgiwrap = spawn(fcgi_args, log);
	snprintf(log, sizeof log, "%s/nginx-error.log", w->dir);
	char prefix[PATH_MAX + 2];
	snprintf(prefix, sizeof prefix, "%s/", w->dir);
	char *nginx_args[] = { w->nginx_bin, "-c", conf, "-p", prefix, "-e", log, NULL };
	w->nginx = spawn(nginx_args, log);
	if (w->fcgiwrap < 0 || w->nginx < 0)
		return err_sys(e, -errno, "cannot start nginx and fcgiwrap");
	return 0;
}

int demo_web_start(const struct demo_web_options *o, struct demo_web **out, struct err *e)
{
	struct demo_web *w = calloc(1, sizeof *w);
	if (!w)
		return err_set(e, -ENOMEM, "out of memory");
	w->nginx = w->fcgiwrap = -1;
	snprintf(w->dir, sizeof w->dir, "%s/web-server", o->data);
	snprintf(w->url, sizeof w->url, "http://%s:%d/", o->addr, o->port);
	int rc;
	if ((rc = path_ok("data folder", o->data, e)) < 0 ||
	    (rc = path_ok("rmon-web", o->web_bin, e)) < 0 ||
	    (rc = path_ok("site", o->www, e)) < 0 ||
	    (rc = path_ok("configuration", o->config, e)) < 0 || (rc = find_servers(w, o, e)) < 0 ||
	    (rc = port_free(o, e)) < 0 || (rc = make_password(w->password, e)) < 0 ||
	    (rc = write_files(w, o, e)) < 0 || (rc = start_servers(w, e)) < 0 ||
	    (rc = wait_ready(w, o, e)) < 0) {
		demo_web_stop(w);
		return rc;
	}
	*out = w;
	return 0;
}

const char *demo_web_password(const struct demo_web *w)
{
	return w->password;
}

const char *demo_web_password_file(const struct demo_web *w)
{
	return w->password_file;
}

const char *demo_web_url(const struct demo_web *w)
{
	return w->url;
}

void demo_web_stop(struct demo_web *w)
{
	if (!w)
		return;
	/* nginx first, so nothing new reaches fcgiwrap while it leaves. */
	stop_group(&w->nginx);
	stop_group(&w->fcgiwrap);
	char sock[PATH_MAX + 16];
	snprintf(sock, sizeof sock, "%s/fcgi.sock", w->dir);
	unlink(sock);
	explicit_bzero(w->password, sizeof w->password);
	free(w);
}
