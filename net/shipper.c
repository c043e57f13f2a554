/* shipper.c - spool, connect, authenticate, send, resend; see shipper.h. */
#include "net/shipper.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "lib/escape.h"
#include "lib/rtime.h"
#include "net/link.h"
#include "net/ossl.h"

#define AGENT_ROLE     "rmon/1 agent"
#define SERVER_ROLE    "rmon/1 server"
#define MAX_QUEUED     (4u << 20) /* bytes queued on the socket before waiting */
#define DEFS_PER_FRAME 256
#define TICK_NS	       RTIME_NS_PER_SEC /* looks at the ack timeout */

enum ship_state { IDLE, CONNECTING, HELLO, AUTH, READY };

struct shipper;
static void on_io(struct evloop *loop, int fd, unsigned events, void *ctx);
static int64_t on_timer(struct evloop *loop, void *ctx);

struct shipper {
	struct shipper_config config;
	struct spool *spool;
	SSL_CTX *tls;
	struct link link;
	enum ship_state state;
	char server_host[256];
	uint8_t nonce[PROTO_NONCE_BYTES], server_nonce[PROTO_NONCE_BYTES];
	uint64_t sent;		   /* highest seq sent on this connection */
	int64_t retry_at, backoff; /* monotonic ns */
	int64_t waiting_since;	   /* oldest unacked send, for the ack timeout */
	struct evloop *loop;
	bool own_loop;
	uint64_t timer; /* reconnects and ack timeouts */
	struct shipper_stats stats;
	char logged_error[sizeof(struct shipper_stats){ 0 }.last_error];
	int64_t logged_at;
	bool spool_disk_full; /* as last said */
	int64_t space_tried;  /* when held batches were last tried on the disk */
};

void shipper_config_default(struct shipper_config *c, const char *server, const char *spool_dir)
{
	memset(c, 0, sizeof *c);
	c->server = server;
	c->host = "localhost";
	c->agent = "rmon";
	spool_config_default(&c->spool, spool_dir);
	c->window = 64;
	c->backoff_min_ns = RTIME_NS_PER_SEC;
	c->backoff_max_ns = 60 * RTIME_NS_PER_SEC;
	c->ack_timeout_ns = 30 * RTIME_NS_PER_SEC;
}

__attribute__((format(printf, 3, 4))) static void say(struct shipper *sh, enum log_level level,
						      const char *fmt, ...)
{
	char message[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	if (sh->config.notice)
		sh->config.notice(level, message);
}

int shipper_open(const struct shipper_config *c, struct shipper **out, struct err *e)
{
	struct shipper *sh = calloc(1, sizeof *sh);
	char port[8];
	int rc;
	if (!sh)
		return err_set(e, -ENOMEM, "shipper: out of memory");
	sh->config = *c;
	sh->link.fd = -1;
	sh->backoff = c->backoff_min_ns;
	sh->loop = c->loop;
	sh->own_loop = !c->loop;
	if ((!sh->loop && (rc = evloop_new(&sh->loop, e)) != 0) ||
	    (rc = evloop_add_timer(sh->loop, 0, on_timer, sh, &sh->timer, e)) != 0 ||
	    (rc = link_split_address(c->server, sh->server_host, sizeof sh->server_host, port,
				     sizeof port, e)) != 0 ||
	    (rc = spool_open(&c->spool, &sh->spool, e)) != 0 ||
	    (c->tls && (rc = link_tls_client_context(c->tls_ca, &sh->tls, e)) != 0) ||
	    (c->secret && (rc = ossl_load_crypto(e)) != 0)) {
		shipper_close(sh);
		return rc;
	}
	*out = sh;
	return 0;
}

void shipper_close(struct shipper *sh)
{
	if (!sh)
		return;
	if (sh->state != IDLE) {
		evloop_del_file(sh->loop, sh->link.fd);
		link_close(&sh->link);
	}
	if (sh->loop)
		evloop_del_timer(sh->loop, sh->timer);
	if (sh->own_loop)
		evloop_free(sh->loop);
	spool_close(sh->spool);
	link_tls_context_free(sh->tls);
	free(sh);
}

/* Drops the connection and schedules the next try: the back-off doubles
 * up to its maximum and is spread by +-50 % so agents do not come back in
 * step after a server restart. */
static void fail(struct shipper *sh, const char *reason)
{
	int64_t now = rtime_mono_ns();
	char why[sizeof sh->stats.last_error];
	/* Cut off during the hello: the likely cause is a TLS mismatch. */
	snprintf(why, sizeof why, "%s%s", reason,
		 sh->state == HELLO && !sh->tls ? " (does the server want TLS?)" : "");
	/* The same trouble again is logged once a minute, not per retry. */
	if (strcmp(sh->logged_error, why) != 0 || now - sh->logged_at > 60 * RTIME_NS_PER_SEC) {
		say(sh, LOG_WARN, "server %s: %s; retrying in about %.1fs", sh->config.server, why,
		    (double)sh->backoff / 1e9);
		snprintf(sh->logged_error, sizeof sh->logged_error, "%s", why);
		sh->logged_at = now;
	}
	snprintf(sh->stats.last_error, sizeof sh->stats.last_error, "%s", why);
	if (sh->state != IDLE) {
		evloop_del_file(sh->loop, sh->link.fd);
		link_close(&sh->link);
	}
	sh->state = IDLE;
	sh->stats.connected = false;
	sh->stats.failures++;
	uint32_t r = 0;
	if (getrandom(&r, sizeof r, GRND_NONBLOCK) != sizeof r)
		r = (uint32_t)now;
	double jitter = 0.5 + (double)r / 4294967296.0; /* 0.5 .. 1.5 */
	sh->retry_at = now + (int64_t)((double)sh->backoff * jitter);
	sh->backoff = sh->backoff * 2 > sh->config.backoff_max_ns ? sh->config.backoff_max_ns
								  : sh->backoff * 2;
	evloop_set_timer(sh->loop, sh->timer, sh->retry_at - now);
}

static void start_connect(struct shipper *sh)
{
	struct err e = { 0 };
	int fd;
	if (link_connect(sh->config.server, &fd, &e) != 0) {
		fail(sh, e.msg);
		return;
	}
	sh->link = (struct link){ .fd = fd };
	if (evloop_add_file(sh->loop, fd, EVLOOP_WRITE, on_io, sh, &e) != 0) {
		link_close(&sh->link);
		fail(sh, e.msg);
		return;
	}
	sh->state = CONNECTING;
}

/* The connect finished: TLS (if any) and HELLO. */
static void on_connected(struct shipper *sh)
{
	struct err e = { 0 };
	int fd = sh->link.fd;
	if (link_connected(fd, &e) != 0) {
		fail(sh, e.msg);
		return;
	}
	if (link_init(&sh->link, fd, sh->tls, false, sh->server_host, &e) != 0 ||
	    proto_nonce(sh->nonce) != 0 ||
	    proto_put_hello(&sh->link.out, sh->config.host, sh->config.agent, sh->nonce,
			    sh->config.relay) != 0) {
		fail(sh, e.msg[0] ? e.msg : "cannot start the hello");
		return;
	}
	sh->state = HELLO;
}

static void on_challenge(struct shipper *sh, const struct proto_msg *m)
{
	uint8_t mac[PROTO_MAC_BYTES];
	if (m->auth_required && !sh->config.secret) {
		sh->stats.auth_refused++;
		fail(sh, "the server requires credentials: set a secret");
		return;
	}
	struct err e = { 0 };
	memcpy(sh->server_nonce, m->nonce, PROTO_NONCE_BYTES);
	if (sh->config.secret && proto_mac(sh->config.secret, AGENT_ROLE, sh->server_nonce,
					   sh->nonce, sh->config.host, mac, &e) != 0) {
		fail(sh, e.msg);
		return;
	}
	proto_put_auth(&sh->link.out, sh->config.secret ? mac : NULL);
	sh->state = AUTH;
}

/* The server proved it knows the secret too (when there is one): define
 * every series, then resend from the first unacknowledged batch. */
static void on_welcome(struct shipper *sh, const struct proto_msg *m)
{
	if (sh->config.secret) {
		uint8_t mac[PROTO_MAC_BYTES];
		struct err e = { 0 };
		if (proto_mac(sh->config.secret, SERVER_ROLE, sh->nonce, sh->server_nonce,
			      sh->config.host, mac, &e) != 0) {
			fail(sh, e.msg);
			return;
		}
		if (!m->has_mac || !proto_mac_equal(mac, m->mac)) {
			fail(sh, "the server could not prove it knows the secret");
			return;
		}
	}
	if (spool_put_definitions(sh->spool, &sh->link.out, DEFS_PER_FRAME) != 0) {
		fail(sh, "out of memory");
		return;
	}
	struct spool_stats st;
	spool_get_stats(sh->spool, &st);
	sh->sent = st.acked;
	sh->state = READY;
	sh->waiting_since = 0;
	sh->backoff = sh->config.backoff_min_ns;
	sh->stats.connected = true;
	sh->stats.connects++;
	sh->stats.last_error[0] = '\0';
	say(sh, LOG_INFO, "connected to %s%s; %llu batches to send", sh->config.server,
	    sh->link.ssl ? " (TLS)" : "", (unsigned long long)st.pending_batches);
}

static void on_ack(struct shipper *sh, uint64_t seq)
{
	struct err e = { 0 };
	if (seq > sh->sent) {
		fail(sh, "the server acknowledged a batch never sent");
		return;
	}
	if (spool_ack(sh->spool, seq, &e) != 0)
		say(sh, LOG_WARN, "%s", e.msg);
	sh->waiting_since = seq < sh->sent ? rtime_mono_ns() : 0;
}

static void on_frame(struct shipper *sh, const uint8_t *payload, size_t len)
{
	struct proto_msg m;
	struct err e = { 0 };
	char why[400];
	if (proto_decode_control(payload, len, &m, &e) != 0) {
		fail(sh, e.msg);
		return;
	}
	if (m.type == PROTO_ERROR) {
		if (m.code == PROTO_ERR_AUTH)
			sh->stats.auth_refused++;
		char said[PROTO_MESSAGE_MAX * 4 + 3]; /* the server's words, quoted */
		snprintf(why, sizeof why, "refused: %s",
			 escape_quote(said, sizeof said, m.message));
		fail(sh, why);
	} else if (m.type == PROTO_CHALLENGE && sh->state == HELLO) {
		on_challenge(sh, &m);
	} else if (m.type == PROTO_WELCOME && sh->state == AUTH) {
		on_welcome(sh, &m);
	} else if (m.type == PROTO_ACK && sh->state == READY) {
		on_ack(sh, m.seq);
	} else {
		fail(sh, "the server sent a frame out of place");
	}
}

/* Queues batches after the last sent while the window and the socket
 * buffer allow. */
static void pump(struct shipper *sh)
{
	struct spool_stats st;
	struct err e = { 0 };
	spool_get_stats(sh->spool, &st);
	while (sh->sent - st.acked < sh->config.window && sh->link.out.len < MAX_QUEUED) {
		uint64_t seq;
		int rc = spool_read_after(sh->spool, sh->sent, &sh->link.out, &seq, &e);
		if (rc < 0) {
			say(sh, LOG_WARN, "%s", e.msg);
			return;
		}
		if (rc == 0)
			return;
		sh->sent = seq;
		sh->stats.sent_batches++;
		if (!sh->waiting_since)
			sh->waiting_since = rtime_mono_ns();
	}
}

static void read_frames(struct shipper *sh)
{
	struct err e = { 0 };
	int64_t got = link_fill(&sh->link, SIZE_MAX, &e);
	if (got < 0 && got != -EAGAIN) {
		fail(sh, e.msg);
		return;
	}
	const uint8_t *payload;
	int64_t len;
	while (sh->state != IDLE &&
	       (len = link_next_frame(&sh->link, 1u << 20, &payload, &e)) != -EAGAIN) {
		if (len < 0) {
			fail(sh, e.msg);
			return;
		}
		on_frame(sh, payload, (size_t)len);
	}
	if (sh->state != IDLE)
		link_compact(&sh->link);
}

static void flush(struct shipper *sh)
{
	struct err e = { 0 };
	int rc = sh->link.out.len ? link_flush(&sh->link, &e) : 0;
	if (rc != 0 && rc != -EAGAIN)
		fail(sh, e.msg);
}

/* One line when the spool's disk fills (batches are then held in memory,
 * see spool.h), one when it takes them again. */
static void note_spool_space(struct shipper *sh)
{
	struct spool_stats st;
	spool_get_stats(sh->spool, &st);
	if (st.disk_full == sh->spool_disk_full)
		return;
	sh->spool_disk_full = st.disk_full;
	if (st.disk_full)
		say(sh, LOG_WARN,
		    "spool disk full, batches held in memory (up to %llu bytes) until space "
		    "returns: %s",
		    (unsigned long long)sh->config.spool.max_bytes, st.held_why);
	else
		say(sh, LOG_INFO, "spool disk space is back, held batches written");
}

/* ---- what the loop calls ---- */

/* Asks the loop for what the connection waits for now. */
static void watch(struct shipper *sh)
{
	if (sh->state == IDLE)
		return;
	bool out = sh->state == CONNECTING || sh->link.out.len > 0 || sh->link.want_write ||
		   sh->link.handshaking;
	evloop_set_file(sh->loop, sh->link.fd, EVLOOP_READ | (out ? EVLOOP_WRITE : 0), NULL);
}

static void on_io(struct evloop *loop, int fd, unsigned events, void *ctx)
{
	struct shipper *sh = ctx;
	if (sh->state == CONNECTING) {
		on_connected(sh);
	} else {
		read_frames(sh);
		if (sh->state == READY)
			pump(sh);
	}
	if (sh->state != IDLE)
		flush(sh);
	watch(sh);
}

/* Connects when the back-off has passed; gives up on a server that does
 * not acknowledge in time. */
static int64_t on_timer(struct evloop *loop, void *ctx)
{
	struct shipper *sh = ctx;
	int64_t now = rtime_mono_ns();
	if (sh->spool_disk_full && now - sh->space_tried >= RTIME_NS_PER_SEC) {
		sh->space_tried = now; /* has space returned for what is held? */
		spool_write_held(sh->spool);
		note_spool_space(sh);
	}
	if (sh->state == IDLE) {
		if (now < sh->retry_at)
			return sh->retry_at - now;
		start_connect(sh);
		if (sh->state == IDLE)
			return sh->retry_at - now;
	}
	if (sh->state == READY) {
		pump(sh);
		if (sh->waiting_since && now - sh->waiting_since > sh->config.ack_timeout_ns) {
			fail(sh, "no acknowledgement in time");
			return sh->retry_at - now;
		}
		flush(sh);
	}
	watch(sh);
	return TICK_NS;
}

int shipper_define(struct shipper *sh, uint64_t id, const char *name, struct err *e)
{
	int rc = spool_define(sh->spool, id, name, e);
	note_spool_space(sh);
	if (rc == 1 && sh->state == READY) { /* new: the server learns it now */
		rc = proto_put_series(&sh->link.out, &id, &name, 1);
		watch(sh);
	}
	return rc < 0 ? rc : 0;
}

int shipper_send(struct shipper *sh, const struct sample *s, size_t n, struct err *e)
{
	uint64_t seq;
	struct spool_stats before, after;
	spool_get_stats(sh->spool, &before);
	int rc = spool_append(sh->spool, s, n, &seq, e);
	spool_get_stats(sh->spool, &after);
	if (after.dropped_batches > before.dropped_batches)
		say(sh, LOG_WARN,
		    "spool full (%llu bytes): dropped the oldest batches, %llu samples so far",
		    (unsigned long long)after.bytes, (unsigned long long)after.dropped_samples);
	note_spool_space(sh);
	if (rc == 0 && sh->state == READY) {
		pump(sh);
		flush(sh);
		watch(sh);
	}
	return rc;
}

int shipper_step(struct shipper *sh, int timeout_ms, struct err *e)
{
	int rc = evloop_run_once(sh->loop, (int64_t)timeout_ms * RTIME_NS_PER_MS, e);
	return rc < 0 ? rc : 0;
}

void shipper_get_stats(struct shipper *sh, struct shipper_stats *out)
{
	*out = sh->stats;
	spool_get_stats(sh->spool, &out->spool);
}
