/* ingest.c - the network ingest server; see ingest.h and docs/protocol.md. */
#include "store/ingest.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/escape.h"
#include "lib/grow.h"
#include "lib/log.h"
#include "lib/rtime.h"
#include "lib/series_name.h"
#include "net/link.h"
#include "net/ossl.h"

#define RESUME_EVERY   (5 * RTIME_NS_PER_MS)   /* looks for paused connections due */
#define HELD_EVERY     (100 * RTIME_NS_PER_MS) /* looks whether the disk has room */
#define READ_PER_EVENT (1u << 20)	       /* bytes read from one connection per turn */
#define AGENT_ROLE     "rmon/1 agent"
#define SERVER_ROLE    "rmon/1 server"

enum conn_state { WANT_HELLO, WANT_AUTH, READY, CLOSING };

struct conn {
	struct link link;
	enum conn_state state;
	size_t index;	       /* in ingest.conns */
	unsigned events;       /* EVLOOP_READ | EVLOOP_WRITE asked for */
	struct ingest *server; /* for the loop's callbacks */
	int64_t deadline_ns;   /* to finish the hello; 0 once ready */
	int64_t paused_until;  /* rate limit: no reading before (monotonic ns) */
	double tokens;	       /* samples it may still send this second */
	int64_t tokens_at;
	uint32_t defined; /* series defined on this connection */
	bool relay;
	bool ack_due;
	uint64_t ack_seq;
	const char *secret;
	uint8_t agent_nonce[PROTO_NONCE_BYTES], server_nonce[PROTO_NONCE_BYTES];
	char host[PROTO_HOST_MAX + 1];
};

struct ingest {
	struct ingest_config config;
	struct drainer *drainer;
	int listen_fd;
	struct evloop *loop;
	bool own_loop;
	bool held; /* disk full: no fd watched until there is room */
	uint64_t sweep_timer, held_timer;
	uint64_t resume_timer; /* set while connections are paused */
	SSL_CTX *tls;
	struct ingest_secret *hosts; /* sorted by host */
	struct conn **conns;
	size_t n_conns, conns_cap;
	struct sample *samples; /* decoding scratch */
	size_t samples_cap;
	char name[SERIES_NAME_MAX + 1];
	size_t n_paused; /* connections waiting for their rate budget */
	bool acks_due;
	struct ingest_stats stats;
};

void ingest_config_default(struct ingest_config *c)
{
	memset(c, 0, sizeof *c);
	c->listen = "127.0.0.1:7470";
	c->max_frame = 16u << 20;
	c->max_series = 100000;
	c->max_rate = 2000000;
	c->max_connections = 20000;
	c->hello_timeout_ns = 10 * RTIME_NS_PER_SEC;
}

/* Libraries do not log: news goes to the owner's callback. */
__attribute__((format(printf, 3, 4))) static void say(struct ingest *s, enum log_level level,
						      const char *fmt, ...)
{
	char message[600];
	va_list ap;
	if (!s->config.notice)
		return;
	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	s->config.notice(level, message);
}

static int compare_hosts(const void *a, const void *b)
{
	return strcmp(((const struct ingest_secret *)a)->host,
		      ((const struct ingest_secret *)b)->host);
}

static const char *secret_for(struct ingest *s, const char *host)
{
	struct ingest_secret key = { .host = host };
	const struct ingest_secret *found =
	    s->config.n_hosts
		? bsearch(&key, s->hosts, s->config.n_hosts, sizeof key, compare_hosts)
		: NULL;
	return found ? found->secret : s->config.secret;
}

static bool is_loopback(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return false;
	if (ss.ss_family == AF_INET)
		return (ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >> 24) == 127;
	if (ss.ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&ss)->sin6_addr);
	return false;
}

static int watch(struct ingest *s, struct conn *c, unsigned events)
{
	c->events = events;
	return s->held ? 0 : evloop_set_file(s->loop, c->link.fd, events, NULL);
}

static void on_listener(struct evloop *loop, int fd, unsigned events, void *ctx);
static void on_connection(struct evloop *loop, int fd, unsigned events, void *ctx);
static int64_t on_sweep(struct evloop *loop, void *ctx);

int ingest_open(const struct ingest_config *c, struct drainer *d, struct ingest **out,
		struct err *e)
{
	struct ingest *s = calloc(1, sizeof *s);
	int rc;
	if (!s)
		return err_set(e, -ENOMEM, "ingest: out of memory");
	s->config = *c;
	s->drainer = d;
	s->listen_fd = -1;
	if (c->n_hosts) {
		s->hosts = malloc(c->n_hosts * sizeof *s->hosts);
		if (!s->hosts) {
			free(s);
			return err_set(e, -ENOMEM, "ingest: out of memory");
		}
		memcpy(s->hosts, c->hosts, c->n_hosts * sizeof *s->hosts);
		qsort(s->hosts, c->n_hosts, sizeof *s->hosts, compare_hosts);
	}
	if ((rc = link_listen(c->listen, &s->listen_fd, e)) != 0)
		goto fail;
	if (!c->secret && !c->n_hosts && !is_loopback(s->listen_fd)) {
		rc =
		    err_set(e, -EACCES,
			    "listen %s: only loopback addresses may be served without credentials; "
			    "set [ingest] secret or a [host NAME] secret (docs/protocol.md)",
			    c->listen);
		goto fail;
	}
	if (c->tls_cert && (rc = link_tls_server_context(c->tls_cert, c->tls_key, &s->tls, e)) != 0)
		goto fail;
	if ((c->secret || c->n_hosts) && (rc = ossl_load_crypto(e)) != 0)
		goto fail; /* HMAC: better now than at the first agent */
	s->loop = c->loop;
	if (!s->loop && (rc = evloop_new(&s->loop, e)) != 0)
		goto fail;
	s->own_loop = !c->loop;
	if ((rc = evloop_add_file(s->loop, s->listen_fd, EVLOOP_READ, on_listener, s, e)) != 0 ||
	    (rc = evloop_add_timer(s->loop, RTIME_NS_PER_SEC, on_sweep, s, &s->sweep_timer, e)) !=
		0)
		goto fail;
	*out = s;
	return 0;
fail:
	ingest_close(s);
	return rc;
}

/* ---- connections ---- */

static void drop(struct ingest *s, struct conn *c)
{
	if (c->paused_until)
		s->n_paused--;
	struct conn *last = s->conns[--s->n_conns];
	last->index = c->index;
	s->conns[c->index] = last;
	evloop_del_file(s->loop, c->link.fd);
	link_close(&c->link);
	free(c);
	s->stats.connections = s->n_conns;
}

/* Ends a connection that broke the rules: an ERROR frame (sent if the
 * socket takes it now), a log line, and the connection is gone. */
static void refuse(struct ingest *s, struct conn *c, enum proto_error_code code, const char *reason)
{
	say(s, LOG_WARN, "closing %s%s%s: %s", c->link.peer, c->host[0] ? " host " : "", c->host,
	    reason);
	proto_put_error(&c->link.out, code, reason);
	link_flush(&c->link, NULL);
	shutdown(c->link.fd, SHUT_WR);
	s->stats.refused++;
	c->state = CLOSING;
}

static void accept_all(struct ingest *s)
{
	for (;;) {
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				say(s, LOG_WARN, "accept: %s", strerror(errno));
			return;
		}
		struct conn *c = calloc(1, sizeof *c);
		struct err e = { 0 };
		grow_array(&s->conns, &s->conns_cap, s->n_conns + 1, sizeof *s->conns);
		if (!c || s->n_conns == s->conns_cap || s->n_conns >= s->config.max_connections) {
			say(s, LOG_WARN, "refusing a connection: %zu open, the limit is %u",
			    s->n_conns, s->config.max_connections);
			free(c);
			close(fd);
			continue;
		}
		if (link_init(&c->link, fd, s->tls, true, NULL, &e) != 0) {
			say(s, LOG_WARN, "%s", e.msg);
			link_close(&c->link);
			free(c);
			continue;
		}
		c->state = WANT_HELLO;
		c->deadline_ns = rtime_mono_ns() + s->config.hello_timeout_ns;
		c->events = EVLOOP_READ;
		c->server = s;
		if (evloop_add_file(s->loop, fd, s->held ? 0 : EVLOOP_READ, on_connection, c,
				    NULL) != 0) {
			link_close(&c->link);
			free(c);
			continue;
		}
		c->index = s->n_conns;
		s->conns[s->n_conns++] = c;
		s->stats.accepted++;
		s->stats.connections = s->n_conns;
	}
}

static void on_hello(struct ingest *s, struct conn *c, const struct proto_msg *m)
{
	if (m->version != PROTO_VERSION) {
		char reason[96];
		snprintf(reason, sizeof reason, "protocol version %u is not spoken here (only %d)",
			 m->version, PROTO_VERSION);
		refuse(s, c, PROTO_ERR_VERSION, reason);
		return;
	}
	memcpy(c->host, m->host, sizeof c->host);
	memcpy(c->agent_nonce, m->nonce, sizeof c->agent_nonce);
	c->relay = m->relay;
	c->secret = secret_for(s, c->host);
	if (proto_nonce(c->server_nonce) != 0) {
		refuse(s, c, PROTO_ERR_UNAVAILABLE, "no random numbers for the challenge");
		return;
	}
	proto_put_challenge(&c->link.out, c->server_nonce, c->secret != NULL);
	c->state = WANT_AUTH;
}

static void on_auth(struct ingest *s, struct conn *c, const struct proto_msg *m)
{
	uint8_t mac[PROTO_MAC_BYTES];
	struct err e = { 0 };
	if (c->secret) {
		if (proto_mac(c->secret, AGENT_ROLE, c->server_nonce, c->agent_nonce, c->host, mac,
			      &e) != 0) {
			refuse(s, c, PROTO_ERR_UNAVAILABLE, e.msg);
			return;
		}
		if (!m->has_mac || !proto_mac_equal(mac, m->mac)) {
			refuse(s, c, PROTO_ERR_AUTH,
			       m->has_mac ? "wrong credentials" : "credentials required");
			return;
		}
		/* A per-host secret proves one host: it may not relay others. */
		if (c->relay && secret_for(s, c->host) != s->config.secret) {
			refuse(s, c, PROTO_ERR_AUTH,
			       "a host's own secret cannot relay other hosts");
			return;
		}
		if (proto_mac(c->secret, SERVER_ROLE, c->agent_nonce, c->server_nonce, c->host, mac,
			      &e) != 0) {
			refuse(s, c, PROTO_ERR_UNAVAILABLE, e.msg);
			return;
		}
	}
	proto_put_welcome(&c->link.out, c->secret ? mac : NULL);
	c->state = READY;
	c->deadline_ns = 0;
	c->tokens = (double)s->config.max_rate;
	c->tokens_at = rtime_mono_ns();
	say(s, LOG_INFO, "%s %s connected from %s%s", c->relay ? "relay" : "host", c->host,
	    c->link.peer, c->link.ssl ? " (TLS)" : "");
}

/* A definition must name a series of the connection's own host (relays may
 * send any) and carry the id that its name hashes to. */
static bool check_definition(struct ingest *s, struct conn *c, uint64_t id, const char *name,
			     size_t len, char *reason, size_t reason_len)
{
	size_t host_len = strlen(c->host);
	if (len == 0 || len > SERIES_NAME_MAX || memchr(name, '\0', len)) {
		snprintf(reason, reason_len, "a series name is empty, too long or holds a NUL");
		return false;
	}
	struct err e = { 0 };
	if (series_name_check(name, len, &e) != 0) {
		snprintf(reason, reason_len, "%s", e.msg); /* the name shown escaped */
		return false;
	}
	memcpy(s->name, name, len);
	s->name[len] = '\0';
	if (!c->relay &&
	    (len <= host_len || memcmp(name, c->host, host_len) != 0 || name[host_len] != '/')) {
		snprintf(reason, reason_len, "series %.200s does not belong to host %s", s->name,
			 c->host);
		return false;
	}
	if (series_id(s->name, len) != id) {
		snprintf(reason, reason_len, "series %.200s: id %016llx is not its id", s->name,
			 (unsigned long long)id);
		return false;
	}
	return true;
}

static void on_series(struct ingest *s, struct conn *c, const uint8_t *payload, size_t len)
{
	struct proto_series_iter it;
	struct err e = { 0 };
	char reason[512];
	int64_t n = proto_series_begin(&it, payload, len, &e);
	if (n < 0) {
		refuse(s, c, PROTO_ERR_MALFORMED, e.msg);
		return;
	}
	for (int64_t i = 0; i < n; i++) {
		uint64_t id;
		const char *name;
		size_t name_len;
		if (proto_series_next(&it, &id, &name, &name_len, &e) != 0) {
			refuse(s, c, PROTO_ERR_MALFORMED, e.msg);
			return;
		}
		if (drainer_knows(s->drainer, id))
			continue; /* defined before (names never change) */
		if (!check_definition(s, c, id, name, name_len, reason, sizeof reason)) {
			refuse(s, c, PROTO_ERR_SERIES, reason);
			return;
		}
		if (++c->defined > s->config.max_series) {
			snprintf(reason, sizeof reason, "more than %u new series on one connection",
				 s->config.max_series);
			refuse(s, c, PROTO_ERR_LIMIT, reason);
			return;
		}
		if (drainer_define(s->drainer, id, s->name, &e) != 0) {
			refuse(s, c, PROTO_ERR_SERIES, e.msg);
			return;
		}
	}
}

/* Takes n samples from the connection's rate budget, refilled at max_rate
 * a second; when spent, the connection is paused until it is repaid. */
static void charge_rate(struct ingest *s, struct conn *c, size_t n)
{
	int64_t now = rtime_mono_ns();
	double rate = (double)s->config.max_rate;
	c->tokens += rate * (double)(now - c->tokens_at) / 1e9;
	if (c->tokens > rate)
		c->tokens = rate;
	c->tokens_at = now;
	c->tokens -= (double)n;
	if (c->tokens >= 0)
		return;
	/* Over budget: this batch is taken, the next waits until repaid. */
	if (!c->paused_until)
		s->n_paused++;
	c->paused_until = now + (int64_t)(-c->tokens / rate * 1e9);
	s->stats.throttled++;
}

static void on_samples(struct ingest *s, struct conn *c, const uint8_t *payload, size_t len)
{
	struct err e = { 0 };
	int64_t count = proto_samples_count(payload, len, &e);
	size_t n;
	uint64_t seq;
	if (count >= 0 && (size_t)count > s->samples_cap) {
		struct sample *grown = realloc(s->samples, (size_t)count * sizeof *grown);
		if (grown) {
			s->samples = grown;
			s->samples_cap = (size_t)count;
		}
	}
	if (count < 0 ||
	    proto_decode_samples(payload, len, &seq, s->samples, s->samples_cap, &n, &e) != 0) {
		refuse(s, c, PROTO_ERR_MALFORMED, e.msg);
		return;
	}
	/* Nothing of the batch is added when one of its ids was never defined. */
	int rc = drainer_add(s->drainer, s->samples, n, NULL, &e);
	if (rc != 0) {
		refuse(s, c, rc == -ENOENT ? PROTO_ERR_SERIES : PROTO_ERR_UNAVAILABLE, e.msg);
		return;
	}
	charge_rate(s, c, n);
	s->stats.samples += n;
	c->ack_due = s->acks_due = true;
	c->ack_seq = seq;
}

static void on_frame(struct ingest *s, struct conn *c, const uint8_t *payload, size_t len)
{
	struct err e = { 0 };
	struct proto_msg m;
	int type = proto_frame_type(payload, len, &e);
	s->stats.frames++;
	if (type == PROTO_SAMPLES && c->state == READY) {
		on_samples(s, c, payload, len);
	} else if (type == PROTO_SERIES && c->state == READY) {
		on_series(s, c, payload, len);
	} else if (type < 0 || proto_decode_control(payload, len, &m, &e) != 0) {
		refuse(s, c, PROTO_ERR_MALFORMED, e.msg);
	} else if (type == PROTO_HELLO && c->state == WANT_HELLO) {
		on_hello(s, c, &m);
	} else if (type == PROTO_AUTH && c->state == WANT_AUTH) {
		on_auth(s, c, &m);
	} else if (type == PROTO_ERROR) {
		char said[PROTO_MESSAGE_MAX * 4 + 3];
		say(s, LOG_WARN, "%s host %s says: %s", c->link.peer, c->host,
		    escape_quote(said, sizeof said, m.message));
		c->state = CLOSING;
	} else {
		refuse(s, c, PROTO_ERR_SEQUENCE, "a frame out of place in the exchange");
	}
}

/* Reads and handles what a connection sent; false when it is to go. */
static bool serve(struct ingest *s, struct conn *c)
{
	struct err e = { 0 };
	/* TLS may hold decrypted bytes that epoll cannot see: read it dry. */
	int64_t got = link_fill(&c->link, c->link.ssl ? SIZE_MAX : READ_PER_EVENT, &e);
	if (got < 0 && got != -EAGAIN) {
		if (got != -ECONNRESET || c->state != READY)
			say(s, LOG_INFO, "%s%s%s: %s", c->link.peer, c->host[0] ? " host " : "",
			    c->host, e.msg);
		return false;
	}
	const uint8_t *payload;
	int64_t len;
	while (c->state != CLOSING && c->paused_until == 0 &&
	       (len = link_next_frame(&c->link, s->config.max_frame, &payload, &e)) != -EAGAIN) {
		if (len < 0) {
			refuse(s, c, PROTO_ERR_TOO_BIG, e.msg);
			break;
		}
		on_frame(s, c, payload, (size_t)len);
	}
	link_compact(&c->link);
	return c->state != CLOSING;
}

/* Sends what is queued; asks epoll for writability while some is left. */
static bool send_queued(struct ingest *s, struct conn *c)
{
	struct err e = { 0 };
	int rc = c->link.out.len ? link_flush(&c->link, &e) : 0;
	if (rc != 0 && rc != -EAGAIN) {
		say(s, LOG_INFO, "%s", e.msg);
		return false;
	}
	bool more = c->link.out.len > 0 || c->link.want_write;
	unsigned events = (c->paused_until ? 0 : EVLOOP_READ) | (more ? EVLOOP_WRITE : 0);
	watch(s, c, events);
	return true;
}

static void handle(struct ingest *s, struct conn *c)
{
	bool alive = serve(s, c);
	alive = send_queued(s, c) && alive;
	if (!alive)
		drop(s, c);
}

/* Once a second: hellos that took too long go; paused connections whose
 * budget is repaid read on. */
static void sweep(struct ingest *s, int64_t now)
{
	for (size_t i = 0; i < s->n_conns;) {
		struct conn *c = s->conns[i];
		if (c->deadline_ns && now > c->deadline_ns) {
			say(s, LOG_WARN, "closing %s: no hello within the time allowed",
			    c->link.peer);
			s->stats.refused++;
			drop(s, c);
			continue;
		}
		i++;
	}
}

static void resume_paused(struct ingest *s, int64_t now)
{
	for (size_t i = 0; i < s->n_conns; i++) {
		struct conn *c = s->conns[i];
		if (c->paused_until && now >= c->paused_until) {
			c->paused_until = 0;
			s->n_paused--;
			handle(s, c); /* reads what waited; may drop c */
			if (i < s->n_conns && s->conns[i] != c)
				i--;
		}
	}
}

/* ---- the dispatch: what the loop calls ---- */

/* Every fd watched as its connection wants (held false), or none. */
static void hold(struct ingest *s, bool held)
{
	s->held = held;
	evloop_set_file(s->loop, s->listen_fd, held ? 0 : EVLOOP_READ, NULL);
	for (size_t i = 0; i < s->n_conns; i++)
		evloop_set_file(s->loop, s->conns[i]->link.fd, held ? 0 : s->conns[i]->events,
				NULL);
}

static int64_t on_held(struct evloop *loop, void *ctx)
{
	struct ingest *s = ctx;
	if (!drainer_accepting(s->drainer))
		return HELD_EVERY;
	hold(s, false);
	s->held_timer = 0;
	return EVLOOP_TIMER_DONE;
}

/* The disk is full: read nothing, agents keep their batches. */
static bool holding(struct ingest *s)
{
	if (drainer_accepting(s->drainer))
		return false;
	hold(s, true);
	evloop_add_timer(s->loop, HELD_EVERY, on_held, s, &s->held_timer, NULL);
	return true;
}

static int64_t on_resume(struct evloop *loop, void *ctx)
{
	struct ingest *s = ctx;
	if (s->n_paused)
		resume_paused(s, rtime_mono_ns());
	if (s->n_paused)
		return RESUME_EVERY;
	s->resume_timer = 0;
	return EVLOOP_TIMER_DONE;
}

/* A rate limit paused a connection: look again shortly. */
static void arm_resume(struct ingest *s)
{
	if (s->n_paused && !s->resume_timer)
		evloop_add_timer(s->loop, RESUME_EVERY, on_resume, s, &s->resume_timer, NULL);
}

static void on_listener(struct evloop *loop, int fd, unsigned events, void *ctx)
{
	struct ingest *s = ctx;
	if (!holding(s))
		accept_all(s);
}

static void on_connection(struct evloop *loop, int fd, unsigned events, void *ctx)
{
	struct conn *c = ctx;
	struct ingest *s = c->server;
	if (holding(s))
		return;
	handle(s, c);
	arm_resume(s);
}

static int64_t on_sweep(struct evloop *loop, void *ctx)
{
	sweep(ctx, rtime_mono_ns());
	return RTIME_NS_PER_SEC;
}

int ingest_poll(struct ingest *s, int timeout_ms, struct err *e)
{
	int rc = evloop_run_once(s->loop, (int64_t)timeout_ms * RTIME_NS_PER_MS, e);
	return rc < 0 ? rc : 0;
}

void ingest_acknowledge(struct ingest *s)
{
	if (!s->acks_due)
		return;
	for (size_t i = 0; i < s->n_conns;) {
		struct conn *c = s->conns[i];
		if (c->ack_due) {
			c->ack_due = false;
			proto_put_ack(&c->link.out, c->ack_seq);
			if (!send_queued(s, c)) {
				drop(s, c);
				continue;
			}
		}
		i++;
	}
	s->acks_due = false;
}

void ingest_close(struct ingest *s)
{
	if (!s)
		return;
	while (s->n_conns)
		drop(s, s->conns[0]);
	if (s->loop) {
		evloop_del_file(s->loop, s->listen_fd);
		evloop_del_timer(s->loop, s->sweep_timer);
		evloop_del_timer(s->loop, s->held_timer);
		evloop_del_timer(s->loop, s->resume_timer);
	}
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->own_loop)
		evloop_free(s->loop);
	link_tls_context_free(s->tls);
	free(s->conns);
	free(s->hosts);
	free(s->samples);
	free(s);
}

void ingest_get_stats(struct ingest *s, struct ingest_stats *out)
{
	*out = s->stats;
}
