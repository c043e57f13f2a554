/* httpd.c - GET /metrics over HTTP/1.1 on the event loop; see httpd.h.
 * A connection reads one request head into a fixed buffer, the handler
 * fills the body, and the answer is written as the socket takes it; then
 * the next request of a keep-alive connection is read. */
#include "net/httpd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include "lib/grow.h"
#include "lib/rtime.h"
#include "net/link.h"

void httpd_config_default(struct httpd_config *c, const char *listen, struct evloop *loop)
{
	*c = (struct httpd_config){
		.listen = listen,
		.loop = loop,
		.max_request = 8192,
		.max_clients = 8,
		.timeout_ns = 30 * RTIME_NS_PER_SEC,
		.gzip_level = 1,
	};
}

/* ---- responses ---- */

int httpd_append(struct httpd_response *r, const void *data, size_t len)
{
	if (r->failed || !grow_bytes(&r->body, &r->cap, r->len + len + 1, 64 * 1024)) {
		r->failed = true;
		return -ENOMEM;
	}
	memcpy(r->body + r->len, data, len);
	r->len += len;
	return 0;
}

int httpd_printf(struct httpd_response *r, const char *fmt, ...)
{
	va_list ap;
	for (int pass = 0; pass < 2; pass++) {
		size_t room = r->cap - r->len;
		va_start(ap, fmt);
		int n =
		    r->failed ? -1 : vsnprintf(r->body ? r->body + r->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			r->failed = true;
			return -ENOMEM;
		}
		if ((size_t)n < room) {
			r->len += (size_t)n;
			return 0;
		}
		if (!grow_bytes(&r->body, &r->cap, r->len + (size_t)n + 1, 64 * 1024)) {
			r->failed = true;
			return -ENOMEM;
		}
	}
	r->failed = true;
	return -ENOMEM;
}

/* ---- parsing ---- */

/* The q of one list element's parameters ("; q=0.5"): 1 when absent. */
static double element_q(const char *p, const char *end)
{
	while (p < end) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		if (!semi)
			return 1;
		p = semi + 1;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (end - p >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
			char num[16];
			size_t n = 0; /* the buffer is not NUL-terminated: no strcspn */
			while (p + 2 + n < end && !strchr(";, \t", p[2 + n]))
				n++;
			if (n == 0 || n >= sizeof num)
				return 0;
			memcpy(num, p + 2, n);
			num[n] = '\0';
			char *stop;
			double q = strtod(num, &stop);
			return *stop || !(q >= 0 && q <= 1) ? 0 : q;
		}
	}
	return 1;
}

/* Whether the element at p (up to its ';' or end) is the token word. */
static bool element_is(const char *p, const char *end, const char *word)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	size_t n = 0;
	while (p + n < end && p[n] != ';' && p[n] != ' ' && p[n] != '\t')
		n++;
	return n == strlen(word) && strncasecmp(p, word, n) == 0;
}

/* The highest q the comma-separated list gives one of the words. */
static double list_q(const char *v, const char *end, const char *const *words)
{
	double best = 0;
	while (v < end) {
		const char *comma = memchr(v, ',', (size_t)(end - v));
		const char *stop = comma ? comma : end;
		for (const char *const *w = words; *w; w++)
			if (element_is(v, stop, *w)) {
				double q = element_q(v, stop);
				if (q > best)
					best = q;
			}
		v = comma ? comma + 1 : end;
	}
	return best;
}

static bool header_is(const char *name, size_t len, const char *want)
{
	return len == strlen(want) && strncasecmp(name, want, len) == 0;
}

static void read_header(struct httpd_request *r, const char *name, size_t name_len, const char *v,
			const char *end, bool *body)
{
	static const char *const om[] = { "application/openmetrics-text", NULL };
	static const char *const text[] = { "text/plain", "text/*", "*/*", NULL };
	static const char *const gz[] = { "gzip", "x-gzip", "*", NULL };
	static const char *const closing[] = { "close", NULL };
	static const char *const keep[] = { "keep-alive", NULL };
	if (header_is(name, name_len, "accept"))
		r->openmetrics = list_q(v, end, om) > list_q(v, end, text);
	else if (header_is(name, name_len, "accept-encoding"))
		r->gzip = list_q(v, end, gz) > 0;
	else if (header_is(name, name_len, "connection")) {
		if (list_q(v, end, closing) > 0)
			r->keep_alive = false;
		else if (list_q(v, end, keep) > 0)
			r->keep_alive = true;
	} else if (header_is(name, name_len, "transfer-encoding"))
		*body = true;
	else if (header_is(name, name_len, "content-length"))
		for (const char *p = v; p < end; p++)
			if (*p >= '1' && *p <= '9')
				*body = true;
}

static long bad(struct err *e, long status, const char *what, size_t line)
{
	if (e)
		err_set(e, -EINVAL, "http request line %zu: %s", line, what);
	return -status;
}

/* The request line: METHOD SP /target SP HTTP/1.x */
static long request_line(const char *p, size_t len, struct httpd_request *out, struct err *e)
{
	const char *end = p + len, *sp1 = memchr(p, ' ', len);
	if (!sp1)
		return bad(e, 400, "no space after the method", 1);
	const char *target = sp1 + 1, *sp2 = memchr(target, ' ', (size_t)(end - target));
	if (!sp2 || sp2 == target)
		return bad(e, 400, "no target", 1);
	const char *version = sp2 + 1;
	if (end - version != 8 || memcmp(version, "HTTP/1.", 7) != 0 ||
	    (version[7] != '0' && version[7] != '1'))
		return bad(e, 505, "only HTTP/1.0 and HTTP/1.1 are spoken", 1);
	out->keep_alive = version[7] == '1';
	size_t method_len = (size_t)(sp1 - p);
	if (method_len == 4 && memcmp(p, "HEAD", 4) == 0)
		out->head = true;
	else if (method_len != 3 || memcmp(p, "GET", 3) != 0)
		return bad(e, 405, "only GET and HEAD are served", 1);
	if (*target != '/')
		return bad(e, 400, "the target must start with '/'", 1);
	for (const char *c = target; c < sp2; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return bad(e, 400, "a control character in the target", 1);
	const char *q = memchr(target, '?', (size_t)(sp2 - target));
	out->path = target;
	out->path_len = (size_t)((q ? q : sp2) - target);
	if (q) {
		out->query = q + 1;
		out->query_len = (size_t)(sp2 - q - 1);
	}
	return 0;
}

long httpd_parse(const char *buf, size_t len, size_t max, struct httpd_request *out, struct err *e)
{
	*out = (struct httpd_request){ 0 };
	bool body = false;
	size_t pos = 0, line = 0;
	while (pos < len) {
		const char *start = buf + pos, *nl = memchr(start, '\n', len - pos);
		if (!nl)
			break;
		line++;
		size_t n = (size_t)(nl - start), next = pos + n + 1;
		if (next > max)
			return bad(e, 431, "the request head is too long", line);
		if (n && start[n - 1] == '\r')
			n--;
		if (memchr(start, '\r', n) || memchr(start, '\0', n))
			return bad(e, 400, "a bare CR or a NUL", line);
		if (line == 1) {
			long rc = request_line(start, n, out, e);
			if (rc != 0)
				return rc;
		} else if (n == 0) {
			if (body)
				return bad(e, 413, "requests with a body are not served", line);
			return (long)next;
		} else if (*start == ' ' || *start == '\t') {
			return bad(e, 400, "folded header lines are not accepted", line);
		} else {
			const char *colon = memchr(start, ':', n);
			if (!colon || colon == start)
				return bad(e, 400, "a header line without a name and a colon",
					   line);
			for (const char *c = start; c < colon; c++)
				if (*c == ' ' || *c == '\t' || (unsigned char)*c < ' ')
					return bad(e, 400, "a space in a header name", line);
			const char *v = colon + 1, *end = start + n;
			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			read_header(out, start, (size_t)(colon - start), v, end, &body);
		}
		pos = next;
	}
	if (len >= max)
		return bad(e, 431, "the request head is too long", line + 1);
	return 0;
}

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes p[0..n) into dst (cap bytes with the NUL). */
static int decode_part(const char *p, size_t n, char *dst, size_t cap)
{
	size_t out = 0;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi = i + 2 < n ? hex(p[i + 1]) : -1, lo = hi >= 0 ? hex(p[i + 2]) : -1;
			if (lo < 0)
				return -EINVAL;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (out + 1 >= cap)
			return -ENAMETOOLONG;
		dst[out++] = c;
	}
	dst[out] = '\0';
	return 0;
}

int httpd_query_next(const char **at, const char *end, char *key, size_t key_cap, char *value,
		     size_t value_cap)
{
	const char *p = *at;
	while (p < end && *p == '&')
		p++;
	if (p >= end) {
		*at = end;
		return 0;
	}
	const char *amp = memchr(p, '&', (size_t)(end - p)), *stop = amp ? amp : end;
	const char *eq = memchr(p, '=', (size_t)(stop - p));
	*at = stop;
	int rc = decode_part(p, (size_t)((eq ? eq : stop) - p), key, key_cap);
	if (rc == 0)
		rc = eq ? decode_part(eq + 1, (size_t)(stop - eq - 1), value, value_cap)
			: decode_part("", 0, value, value_cap);
	return rc == 0 ? 1 : rc;
}

/* ---- the server ---- */

struct conn {
	struct httpd *h;
	int fd;	  /* -1: the slot is free */
	char *in; /* max_request bytes */
	size_t in_len;
	/* The answer being written: its head, then its body (owned). */
	char head[512];
	size_t head_len;
	char *body;
	size_t body_len;
	size_t out_len, out_pos; /* of head and body together */
	bool close_after;
	int64_t deadline; /* monotonic ns */
};

struct httpd {
	struct httpd_config c;
	httpd_handler fn;
	void *ctx;
	int listen_fd;
	bool listening; /* the listener is watched (not while full) */
	struct conn *conns;
	uint64_t timer;
	struct httpd_response res; /* reused for every answer */
	struct httpd_stats stats;
};

static void conn_close(struct conn *k)
{
	struct httpd *h = k->h;
	evloop_del_file(h->c.loop, k->fd);
	close(k->fd);
	k->fd = -1;
	k->in_len = k->out_len = k->out_pos = 0;
	free(k->body);
	k->body = NULL;
	h->stats.clients--;
	if (!h->listening && evloop_set_file(h->c.loop, h->listen_fd, EVLOOP_READ, NULL) == 0)
		h->listening = true;
}

static const char *reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 413:
		return "Content Too Large";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Error";
	}
}

/* The body gzipped, in a new buffer (*len bytes); NULL when it cannot
 * be.  Nothing is kept between answers: an idle agent holds no
 * compressor (a small window: metric text repeats within a few lines). */
static char *gzip_body(const struct httpd *h, const char *body, size_t *len)
{
	z_stream z = { 0 };
	if (deflateInit2(&z, h->c.gzip_level, Z_DEFLATED, 13 + 16, 6, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	size_t cap = deflateBound(&z, *len) + 64;
	char *out = malloc(cap);
	z.next_in = (unsigned char *)body;
	z.avail_in = (uInt)*len;
	z.next_out = (unsigned char *)out;
	z.avail_out = (uInt)cap;
	if (out && deflate(&z, Z_FINISH) == Z_STREAM_END) {
		*len = cap - z.avail_out;
	} else {
		free(out);
		out = NULL;
	}
	deflateEnd(&z);
	return out;
}

/* Makes the response the connection's answer: its head, and the body
 * taken over from h->res (no copy). */
static void answer(struct conn *k, const struct httpd_request *req, int status)
{
	struct httpd *h = k->h;
	struct httpd_response *r = &h->res;
	char *body = r->body, *zipped;
	size_t body_len = r->len, zipped_len = r->len;
	bool gzipped = false;
	r->body = NULL;
	r->len = r->cap = 0;
	if (status == 200 && req->gzip && (zipped = gzip_body(h, body, &zipped_len))) {
		free(body);
		body = zipped;
		body_len = zipped_len;
		gzipped = true;
	}
	int n = snprintf(k->head, sizeof k->head,
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "%s%s\r\n",
			 status, reason(status),
			 r->content_type ? r->content_type : "text/plain; charset=utf-8", body_len,
			 gzipped ? "Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n" : "",
			 k->close_after ? "Connection: close\r\n" : "");
	k->head_len = (size_t)n < sizeof k->head ? (size_t)n : sizeof k->head - 1;
	if (req->head) {
		free(body);
		body = NULL;
	}
	k->body = body;
	k->body_len = body ? body_len : 0;
	k->out_len = k->head_len + k->body_len;
	k->out_pos = 0;
	if (status == 200)
		h->stats.requests++;
	else
		h->stats.refused++;
}

static void error_answer(struct conn *k, const struct httpd_request *req, int status,
			 const char *text)
{
	struct httpd_response *r = &k->h->res;
	r->len = 0;
	r->failed = false;
	r->content_type = NULL;
	httpd_printf(r, "%d %s: %s\n", status, reason(status), text);
	answer(k, req, status);
}

/* Serves the request head of length head_len at the start of k->in. */
static void serve(struct conn *k, const struct httpd_request *req, size_t head_len)
{
	struct httpd *h = k->h;
	k->close_after = !req->keep_alive;
	if (req->path_len != 8 || memcmp(req->path, "/metrics", 8) != 0) {
		error_answer(k, req, 404, "only /metrics is served here");
	} else {
		struct httpd_response *r = &h->res;
		r->len = 0;
		r->status = 200;
		r->failed = false;
		r->content_type = NULL;
		int rc = h->fn(h->ctx, req, r);
		if (rc != 0 || r->failed)
			error_answer(k, req, 500, "the figures could not be gathered");
		else
			answer(k, req, r->status ? r->status : 200);
	}
	memmove(k->in, k->in + head_len, k->in_len - head_len);
	k->in_len -= head_len;
}

static void on_conn(struct evloop *loop, int fd, unsigned events, void *ctx);

/* Writes what is pending; then reads and serves the next request.
 * Returns false when the connection was closed. */
static bool conn_pump(struct conn *k)
{
	struct httpd *h = k->h;
	for (;;) {
		while (k->out_pos < k->out_len) {
			struct iovec v[2];
			struct msghdr m = { .msg_iov = v };
			size_t at_body = k->out_pos > k->head_len ? k->out_pos - k->head_len : 0;
			if (k->out_pos < k->head_len)
				v[m.msg_iovlen++] = (struct iovec){ k->head + k->out_pos,
								    k->head_len - k->out_pos };
			if (at_body < k->body_len)
				v[m.msg_iovlen++] =
				    (struct iovec){ k->body + at_body, k->body_len - at_body };
			ssize_t n = sendmsg(k->fd, &m, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno == EAGAIN) {
				evloop_set_file(h->c.loop, k->fd, EVLOOP_WRITE, NULL);
				return true;
			}
			if (n <= 0) {
				conn_close(k);
				return false;
			}
			k->out_pos += (size_t)n;
		}
		if (k->out_len) { /* an answer went out */
			k->out_len = k->out_pos = 0;
			k->deadline = rtime_mono_ns() + h->c.timeout_ns;
			free(k->body); /* an idle server holds no answer */
			k->body = NULL;
			k->body_len = 0;
			if (k->close_after) {
				conn_close(k);
				return false;
			}
		}
		struct httpd_request req;
		long rc = httpd_parse(k->in, k->in_len, h->c.max_request, &req, NULL);
		if (rc > 0) {
			serve(k, &req, (size_t)rc);
			continue;
		}
		if (rc < 0) {
			k->close_after = true;
			memset(&req, 0, sizeof req);
			error_answer(k, &req, (int)-rc, "the request was refused (see docs)");
			k->in_len = 0;
			continue;
		}
		evloop_set_file(h->c.loop, k->fd, EVLOOP_READ, NULL);
		return true;
	}
}

static void on_conn(struct evloop *loop, int fd, unsigned events, void *ctx)
{
	struct conn *k = ctx;
	if (k->out_pos < k->out_len) { /* writing: reads wait */
		conn_pump(k);
		return;
	}
	size_t room = k->h->c.max_request - k->in_len;
	ssize_t n = room ? recv(fd, k->in + k->in_len, room, 0) : 0;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 && room) {
		conn_close(k);
		return;
	}
	k->in_len += (size_t)n;
	conn_pump(k);
}

static void on_listener(struct evloop *loop, int fd, unsigned events, void *ctx)
{
	struct httpd *h = ctx;
	while (h->stats.clients < h->c.max_clients) {
		int s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (s < 0)
			return; /* EAGAIN, or a passing error (EMFILE): the next event tries again
				 */
		struct conn *k = NULL;
		for (uint32_t i = 0; i < h->c.max_clients && !k; i++)
			if (h->conns[i].fd < 0)
				k = &h->conns[i];
		if (!k->in && !(k->in = malloc(h->c.max_request))) {
			close(s);
			return;
		}
		k->fd = s;
		k->in_len = k->out_len = k->out_pos = 0;
		k->deadline = rtime_mono_ns() + h->c.timeout_ns;
		if (evloop_add_file(loop, s, EVLOOP_READ, on_conn, k, NULL) != 0) {
			close(s);
			k->fd = -1;
			return;
		}
		h->stats.clients++;
	}
	/* Full: the kernel's backlog holds the next ones until a slot frees. */
	if (evloop_set_file(loop, fd, 0, NULL) == 0)
		h->listening = false;
}

/* Closes connections past their deadline: a slow or silent client
 * cannot keep a slot. */
static int64_t on_sweep(struct evloop *loop, void *ctx)
{
	struct httpd *h = ctx;
	int64_t now = rtime_mono_ns();
	for (uint32_t i = 0; i < h->c.max_clients; i++)
		if (h->conns[i].fd >= 0 && h->conns[i].deadline < now) {
			if (h->conns[i].in_len || h->conns[i].out_len)
				h->stats.refused++;
			conn_close(&h->conns[i]);
		}
	int64_t every = h->c.timeout_ns / 4;
	return every > RTIME_NS_PER_SEC ? RTIME_NS_PER_SEC : every;
}

int httpd_open(const struct httpd_config *c, httpd_handler fn, void *ctx, struct httpd **out,
	       struct err *e)
{
	char host[256], port[32];
	int rc;
	*out = NULL;
	if (!c->listen || !c->loop || !c->max_clients || c->max_request < 256 || c->timeout_ns <= 0)
		return err_set(e, -EINVAL,
			       "http server: listen, loop, max_clients, max_request "
			       "(>= 256) and timeout are required");
	const char *colon = strrchr(c->listen, ':'), *bracket = strrchr(c->listen, ']');
	if (!colon || (bracket && colon < bracket) || !colon[1])
		return err_set(e, -EINVAL, "listen '%s': give the port too, as host:port",
			       c->listen);
	if ((rc = link_split_address(c->listen, host, sizeof host, port, sizeof port, e)) != 0)
		return rc;
	struct httpd *h = calloc(1, sizeof *h);
	if (!h || !(h->conns = calloc(c->max_clients, sizeof *h->conns))) {
		free(h);
		return err_set(e, -ENOMEM, "http server: out of memory");
	}
	h->c = *c;
	h->fn = fn;
	h->ctx = ctx;
	h->listen_fd = -1;
	for (uint32_t i = 0; i < c->max_clients; i++)
		h->conns[i] = (struct conn){ .h = h, .fd = -1 };
	if ((rc = link_listen(c->listen, &h->listen_fd, e)) != 0 ||
	    (rc = evloop_add_file(c->loop, h->listen_fd, EVLOOP_READ, on_listener, h, e)) != 0 ||
	    (rc = evloop_add_timer(c->loop, RTIME_NS_PER_SEC, on_sweep, h, &h->timer, e)) != 0) {
		httpd_close(h);
		return rc;
	}
	h->listening = true;
	*out = h;
	return 0;
}

void httpd_close(struct httpd *h)
{
	if (!h)
		return;
	for (uint32_t i = 0; i < h->c.max_clients; i++) {
		if (h->conns[i].fd >= 0)
			conn_close(&h->conns[i]);
		free(h->conns[i].in);
	}
	if (h->listen_fd >= 0) {
		evloop_del_file(h->c.loop, h->listen_fd);
		close(h->listen_fd);
	}
	if (h->timer)
		evloop_del_timer(h->c.loop, h->timer);
	free(h->res.body);
	free(h->conns);
	free(h);
}

void httpd_get_stats(const struct httpd *h, struct httpd_stats *out)
{
	*out = h->stats;
}
