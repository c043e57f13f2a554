/* ingest.c - the network ingest server; see ingest.h and docs/protocol.md.
 * This file opens and closes the server, reads each connection and hands
 * its frames on (ingest_conn.c: the handshake; ingest_frames.c: series and
 * samples), and is what the event loop calls. */
#include "store/ingest.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/escape.h"
#include "lib/log.h"
#include "lib/rtime.h"
#include "net/link.h"
#include "net/ossl.h"
#include "store/ingest_private.h"

#define RESUME_EVERY   (5 * RTIME_NS_PER_MS)   /* looks for paused connections due */
#define HELD_EVERY     (100 * RTIME_NS_PER_MS) /* looks whether the disk has room */
#define READ_PER_EVENT (1u << 20)	       /* bytes read from one connection per turn */
/* What one unauthenticated connection may hold: its state, an input buffer
 * of a whole handshake frame (buffers grow by doubling), a small output
 * buffer, and with TLS an estimate of OpenSSL's handshake state. */
#define HANDSHAKE_INPUT 8192
#define HANDSHAKE_TLS	(64 * 1024)

void ingest_config_default(struct ingest_config *c)
{
	memset(c, 0, sizeof *c);
	c->listen = "127.0.0.1:7470";
	c->max_frame = 16u << 20;
	c->max_series = 100000;
	c->max_rate = 2000000;
	c->max_connections = 20000;
	c->hello_timeout_ns = 10 * RTIME_NS_PER_SEC;
	c->frame_timeout_ns = 30 * RTIME_NS_PER_SEC;
	c->max_future_ns = 10 * 60 * RTIME_NS_PER_SEC;
	c->handshake_memory = 4u << 20;
}

/* Libraries do not log: news goes to the owner's callback. */
void ingest_say(struct ingest *s, enum log_level level, const char *fmt, ...)
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
	return strcmp(((const struct ingest_host *)a)->host, ((const struct ingest_host *)b)->host);
}

const struct ingest_host *ingest_host_entry(struct ingest *s, const char *host)
{
	struct ingest_host key = { .host = host };
	return s->config.n_hosts
		   ? bsearch(&key, s->hosts, s->config.n_hosts, sizeof key, compare_hosts)
		   : NULL;
}

/* Empty and short secrets are guessable; proto_mac would take them. */
static int check_secrets(const struct ingest_config *c, struct err *e)
{
	if (c->secret && strlen(c->secret) < PROTO_SECRET_MIN)
		return err_set(e, -EINVAL, "ingest: the shared secret is shorter than %d bytes",
			       PROTO_SECRET_MIN);
	for (size_t i = 0; i < c->n_hosts; i++)
		if (c->hosts[i].secret && strlen(c->hosts[i].secret) < PROTO_SECRET_MIN)
			return err_set(e, -EINVAL,
				       "ingest: host %s: the secret is shorter than %d bytes",
				       c->hosts[i].host, PROTO_SECRET_MIN);
	return 0;
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
	if ((rc = check_secrets(c, e)) != 0) {
		free(s);
		return rc;
	}
	size_t reserve =
	    sizeof(struct conn) + HANDSHAKE_INPUT + 256 + (c->tls_cert ? HANDSHAKE_TLS : 0);
	s->max_unauth = c->handshake_memory / reserve ? c->handshake_memory / reserve : 1;
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
	s->loopback = is_loopback(s->listen_fd);
	bool any_secret = c->secret != NULL;
	for (size_t i = 0; i < c->n_hosts; i++)
		any_secret |= c->hosts[i].secret != NULL;
	if (!any_secret && !s->loopback) {
		rc =
		    err_set(e, -EACCES,
			    "listen %s: only loopback addresses may be served without credentials; "
			    "set [ingest] secret or a [host NAME] secret (docs/protocol.md)",
			    c->listen);
		goto fail;
	}
	if (c->tls_cert && (rc = link_tls_server_context(c->tls_cert, c->tls_key, &s->tls, e)) != 0)
		goto fail;
	if (any_secret && (rc = ossl_load_crypto(e)) != 0)
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

/* ---- reading and handling what a connection sent ---- */

static void on_frame(struct ingest *s, struct conn *c, const uint8_t *payload, size_t len)
{
	struct err e = { 0 };
	struct proto_msg m;
	int type = proto_frame_type(payload, len, &e);
	s->stats.frames++;
	if (type == PROTO_SAMPLES && c->state == READY) {
		ingest_on_samples(s, c, payload, len);
	} else if (type == PROTO_SERIES && c->state == READY) {
		ingest_on_series(s, c, payload, len);
	} else if (type < 0 || proto_decode_control(payload, len, &m, &e) != 0) {
		ingest_refuse(s, c, PROTO_ERR_MALFORMED, e.msg);
	} else if (type == PROTO_HELLO && c->state == WANT_HELLO) {
		ingest_on_hello(s, c, &m);
	} else if (type == PROTO_AUTH && c->state == WANT_AUTH) {
		ingest_on_auth(s, c, &m);
	} else if (type == PROTO_ERROR) {
		char said[PROTO_MESSAGE_MAX * 4 + 3];
		ingest_say(s, LOG_WARN, "%s host %s says: %s", c->link.peer, c->host,
			   escape_quote(said, sizeof said, m.message));
		c->state = CLOSING;
	} else {
		ingest_refuse(s, c, PROTO_ERR_SEQUENCE, "a frame out of place in the exchange");
	}
}

/* How much a connection may read now.  Until it has authenticated, only
 * what completes one handshake frame: its buffer never grows past
 * HANDSHAKE_INPUT, which is what max_unauth is reckoned with. */
static size_t read_allowance(const struct conn *c)
{
	if (c->state == READY)
		return c->link.ssl ? SIZE_MAX : READ_PER_EVENT; /* TLS: read it dry */
	size_t have = c->link.in.len - c->link.in_pos;
	size_t most = PROTO_HEADER_BYTES + PROTO_HANDSHAKE_MAX;
	return have < most ? most - have : 0;
}

/* Reads and handles what a connection sent; false when it is to go. */
static bool serve(struct ingest *s, struct conn *c)
{
	struct err e = { 0 };
	bool took = false;
	size_t allowance;
again:
	allowance = read_allowance(c);
	int64_t got = allowance ? link_fill(&c->link, allowance, &e) : -EAGAIN;
	if (got < 0 && got != -EAGAIN) {
		if (got != -ECONNRESET || c->state != READY)
			ingest_say(s, LOG_INFO, "%s%s%s: %s", c->link.peer,
				   c->host[0] ? " host " : "", c->host, e.msg);
		return false;
	}
	const uint8_t *payload;
	int64_t len;
	bool was_ready = c->state == READY;
	while (
	    c->state != CLOSING && c->paused_until == 0 &&
	    (len = link_next_frame(&c->link, c->state == READY ? c->max_frame : PROTO_HANDSHAKE_MAX,
				   &payload, &e)) != -EAGAIN) {
		if (len < 0) {
			ingest_refuse(s, c, PROTO_ERR_TOO_BIG, e.msg);
			break;
		}
		took = true;
		on_frame(s, c, payload, (size_t)len);
	}
	link_compact(&c->link);
	/* Authenticated by this read: what follows the AUTH may wait in the
	 * kernel, or decrypted inside TLS where epoll cannot see it. */
	if (!was_ready && c->state == READY)
		goto again;
	/* A frame begun must be whole within frame_timeout (sweep). */
	bool partial = c->state == READY && c->paused_until == 0 && c->link.in.len > 0;
	if (!partial)
		c->partial_since = 0;
	else if (!c->partial_since || took)
		c->partial_since = rtime_mono_ns();
	return c->state != CLOSING;
}

/* Sends what is queued; asks epoll for writability while some is left. */
static bool send_queued(struct ingest *s, struct conn *c)
{
	struct err e = { 0 };
	int rc = c->link.out.len ? link_flush(&c->link, &e) : 0;
	if (rc != 0 && rc != -EAGAIN) {
		ingest_say(s, LOG_INFO, "%s", e.msg);
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
		ingest_drop(s, c);
}

/* Once a second: hellos that took too long go, and so do authenticated
 * connections that began a frame and stalled. */
static void sweep(struct ingest *s, int64_t now)
{
	for (size_t i = 0; i < s->n_conns;) {
		struct conn *c = s->conns[i];
		if (c->deadline_ns && now > c->deadline_ns) {
			if (ingest_may_log_unauthenticated(s))
				ingest_say(s, LOG_WARN,
					   "closing %s: no hello within the time allowed",
					   c->link.peer);
			s->stats.refused++;
			ingest_drop(s, c);
			continue;
		}
		if (c->partial_since && now - c->partial_since > s->config.frame_timeout_ns) {
			ingest_say(s, LOG_WARN,
				   "closing %s host %s: a frame begun %llds ago is not whole",
				   c->link.peer, c->host,
				   (long long)((now - c->partial_since) / RTIME_NS_PER_SEC));
			s->stats.stalled++;
			s->stats.refused++;
			ingest_drop(s, c);
			continue;
		}
		i++;
	}
}

static void resume_paused(struct ingest *s, int64_t now)
{
	for (size_t i = 0; i < s->n_conns;) {
		struct conn *c = s->conns[i];
		if (c->paused_until && now >= c->paused_until) {
			c->paused_until = 0;
			s->n_paused--;
			handle(s, c); /* reads what waited; may drop c */
			if (i < s->n_conns && s->conns[i] != c)
				continue; /* dropped: the last one moved into slot i */
		}
		i++;
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
		ingest_accept_all(s);
}

void ingest_on_connection(struct evloop *loop, int fd, unsigned events, void *ctx)
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
				ingest_drop(s, c);
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
		ingest_drop(s, s->conns[0]);
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
	free(s->found);
	free(s->places);
	free(s);
}

void ingest_get_stats(struct ingest *s, struct ingest_stats *out)
{
	*out = s->stats;
}
