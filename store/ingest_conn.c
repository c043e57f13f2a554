/* ingest_conn.c - the ingest server's connections: accepting them, the
 * handshake (HELLO, CHALLENGE, AUTH), the budget of unauthenticated
 * connections and its eviction, refusing and dropping.  See
 * ingest_private.h; the protocol is docs/protocol.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/grow.h"
#include "lib/log.h"
#include "lib/rtime.h"
#include "net/link.h"
#include "store/idset.h"
#include "store/ingest_private.h"

#define AGENT_ROLE	 "rmon/1 agent"
#define SERVER_ROLE	 "rmon/1 server"
#define REFUSALS_PER_SEC 20  /* log lines about unauthenticated peers, then a count */
#define ACCEPTS_PER_POLL 8   /* new connections taken in one poll */
#define ANSWERS_PER_SEC	 200 /* ERROR frames to unauthenticated peers, then none */

/* The list of unauthenticated connections, oldest first: the oldest makes
 * room when a new one would pass max_unauth. */
static void unauth_add(struct ingest *s, struct conn *c)
{
	c->older = s->newest;
	c->newer = NULL;
	if (s->newest)
		s->newest->newer = c;
	else
		s->oldest = c;
	s->newest = c;
	s->n_unauth++;
	c->unauth = true;
}

static void unauth_remove(struct ingest *s, struct conn *c)
{
	if (c->older)
		c->older->newer = c->newer;
	else
		s->oldest = c->newer;
	if (c->newer)
		c->newer->older = c->older;
	else
		s->newest = c->older;
	c->older = c->newer = NULL;
	s->n_unauth--;
	c->unauth = false;
}

void ingest_drop(struct ingest *s, struct conn *c)
{
	if (c->paused_until)
		s->n_paused--;
	if (c->unauth)
		unauth_remove(s, c);
	idset_free(&c->ids);
	free(c->found);
	struct conn *last = s->conns[--s->n_conns];
	last->index = c->index;
	s->conns[c->index] = last;
	evloop_del_file(s->loop, c->link.fd);
	link_close(&c->link);
	free(c);
	s->stats.connections = s->n_conns;
}

/* Whether a line about an unauthenticated peer may be logged now: a flood
 * of them would otherwise flood the log.  The lines left out are counted
 * and said with the next one. */
bool ingest_may_log_unauthenticated(struct ingest *s)
{
	int64_t second = rtime_mono_ns() / RTIME_NS_PER_SEC;
	if (second != s->refusals_second) {
		s->refusals_second = second;
		s->refusals_logged = 0;
	}
	if (s->refusals_logged++ < REFUSALS_PER_SEC)
		return true;
	s->refusals_unsaid++;
	return false;
}

/* Whether an unauthenticated peer refused now is told why: honest but
 * misconfigured peers are, a flood mostly not (each ERROR frame and FIN
 * costs the server a send). */
static bool may_answer_unauthenticated(struct ingest *s)
{
	int64_t second = rtime_mono_ns() / RTIME_NS_PER_SEC;
	if (second != s->answers_second) {
		s->answers_second = second;
		s->answers = 0;
	}
	return s->answers++ < ANSWERS_PER_SEC;
}

/* Ends a connection that broke the rules: an ERROR frame saying told (sent
 * if the socket takes it now), a log line saying why, and the connection
 * is gone. */
static void refuse_as(struct ingest *s, struct conn *c, enum proto_error_code code,
		      const char *told, const char *why)
{
	if (!c->deadline_ns || ingest_may_log_unauthenticated(s)) {
		ingest_say(s, LOG_WARN, "closing %s%s%s: %s", c->link.peer,
			   c->host[0] ? " host " : "", c->host, why);
		if (c->deadline_ns && s->refusals_unsaid) {
			ingest_say(s, LOG_WARN,
				   "(and %llu more unauthenticated peers closed, not logged)",
				   (unsigned long long)s->refusals_unsaid);
			s->refusals_unsaid = 0;
		}
	}
	if (code == PROTO_ERR_TOO_BIG || code == PROTO_ERR_LIMIT)
		s->stats.over_limit++;
	else if (code == PROTO_ERR_OWNERSHIP)
		s->stats.ownership_refused++;
	if (!c->deadline_ns || may_answer_unauthenticated(s)) {
		proto_put_error(&c->link.out, code, told);
		link_flush(&c->link, NULL);
		shutdown(c->link.fd, SHUT_WR);
	}
	s->stats.refused++;
	c->state = CLOSING;
}

void ingest_refuse(struct ingest *s, struct conn *c, enum proto_error_code code, const char *reason)
{
	refuse_as(s, c, code, reason, reason);
}

/* Closes the oldest unauthenticated connection, so its memory is back
 * before a new one takes some.  The loop forgets the events it already
 * read for it (evloop_del_file), so none of this pass can reach it. */
static void evict_oldest(struct ingest *s)
{
	struct conn *c = s->oldest;
	if (ingest_may_log_unauthenticated(s))
		ingest_say(s, LOG_WARN,
			   "closing %s: %zu peers are authenticating, as many as handshake_memory "
			   "allows; the oldest makes room",
			   c->link.peer, s->n_unauth);
	s->stats.evicted++;
	s->stats.refused++;
	ingest_drop(s, c);
}

/* Takes up to ACCEPTS_PER_POLL new connections (the listener is level
 * triggered: the rest wait for the next poll), so a crowd connecting
 * without end cannot keep the connected agents waiting. */
void ingest_accept_all(struct ingest *s)
{
	for (int k = 0; k < ACCEPTS_PER_POLL; k++) {
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				ingest_say(s, LOG_WARN, "accept: %s", strerror(errno));
			return;
		}
		struct conn *c = calloc(1, sizeof *c);
		struct err e = { 0 };
		grow_array(&s->conns, &s->conns_cap, s->n_conns + 1, sizeof *s->conns);
		if (!c || s->n_conns == s->conns_cap || s->n_conns >= s->config.max_connections) {
			ingest_say(s, LOG_WARN, "refusing a connection: %zu open, the limit is %u",
				   s->n_conns, s->config.max_connections);
			free(c);
			close(fd);
			continue;
		}
		if (link_init(&c->link, fd, s->tls, true, NULL, &e) != 0) {
			ingest_say(s, LOG_WARN, "%s", e.msg);
			link_close(&c->link);
			free(c);
			continue;
		}
		if (s->n_unauth >= s->max_unauth)
			evict_oldest(s);
		c->state = WANT_HELLO;
		c->deadline_ns = rtime_mono_ns() + s->config.hello_timeout_ns;
		c->events = EVLOOP_READ;
		c->server = s;
		if (evloop_add_file(s->loop, fd, s->held ? 0 : EVLOOP_READ, ingest_on_connection, c,
				    NULL) != 0) {
			link_close(&c->link);
			free(c);
			continue;
		}
		c->index = s->n_conns;
		s->conns[s->n_conns++] = c;
		unauth_add(s, c);
		s->stats.accepted++;
		s->stats.connections = s->n_conns;
	}
}

void ingest_on_hello(struct ingest *s, struct conn *c, const struct proto_msg *m)
{
	if (m->version != PROTO_VERSION) {
		char reason[96];
		snprintf(reason, sizeof reason, "protocol version %u is not spoken here (only %d)",
			 m->version, PROTO_VERSION);
		ingest_refuse(s, c, PROTO_ERR_VERSION, reason);
		return;
	}
	memcpy(c->host, m->host, sizeof c->host);
	memcpy(c->agent_nonce, m->nonce, sizeof c->agent_nonce);
	c->relay = m->relay;
	c->entry = ingest_host_entry(s, c->host);
	c->secret = c->entry && c->entry->secret ? c->entry->secret : s->config.secret;
	/* Off loopback every host needs a secret.  One without is challenged
	 * like the others and refused at AUTH, so that a stranger cannot tell
	 * which host names have one. */
	c->no_secret = !c->secret && !s->loopback;
	if (proto_nonce(c->server_nonce) != 0) {
		ingest_refuse(s, c, PROTO_ERR_UNAVAILABLE, "no random numbers for the challenge");
		return;
	}
	proto_put_challenge(&c->link.out, c->server_nonce, c->secret || c->no_secret);
	c->state = WANT_AUTH;
}

void ingest_on_auth(struct ingest *s, struct conn *c, const struct proto_msg *m)
{
	uint8_t mac[PROTO_MAC_BYTES];
	struct err e = { 0 };
	if (c->no_secret) {
		refuse_as(s, c, PROTO_ERR_AUTH, "wrong credentials",
			  "no secret for this host (neither [host NAME] secret nor [ingest] "
			  "secret), and the listener is not on loopback");
		return;
	}
	if (c->secret) {
		if (proto_mac(c->secret, AGENT_ROLE, c->server_nonce, c->agent_nonce, c->host, mac,
			      &e) != 0) {
			ingest_refuse(s, c, PROTO_ERR_UNAVAILABLE, e.msg);
			return;
		}
		if (!m->has_mac || !proto_mac_equal(mac, m->mac)) {
			ingest_refuse(s, c, PROTO_ERR_AUTH,
				      m->has_mac ? "wrong credentials" : "credentials required");
			return;
		}
		if (proto_mac(c->secret, SERVER_ROLE, c->agent_nonce, c->server_nonce, c->host, mac,
			      &e) != 0) {
			ingest_refuse(s, c, PROTO_ERR_UNAVAILABLE, e.msg);
			return;
		}
	}
	/* A relay writes other hosts' series: only those its entry names
	 * (said only to a peer that proved the host's secret). */
	if (c->relay && !(c->entry && c->entry->n_carries)) {
		ingest_refuse(s, c, PROTO_ERR_AUTH,
			      "this host may not relay (its [host NAME] section has no carries)");
		return;
	}
	proto_put_welcome(&c->link.out, c->secret ? mac : NULL);
	c->state = READY;
	c->deadline_ns = 0;
	unauth_remove(s, c);
	const struct ingest_host *h = c->entry;
	c->max_frame = h && h->max_frame ? h->max_frame : s->config.max_frame;
	c->max_series = h && h->max_series ? h->max_series : s->config.max_series;
	c->max_rate = h && h->max_rate ? h->max_rate : s->config.max_rate;
	c->tokens = (double)c->max_rate;
	c->tokens_at = rtime_mono_ns();
	ingest_say(s, LOG_INFO, "%s %s connected from %s%s", c->relay ? "relay" : "host", c->host,
		   c->link.peer, c->link.ssl ? " (TLS)" : "");
}
