/* ingest_private.h - what the files of the ingest server share: ingest.c
 * (the server, reading connections, the dispatch on lib/evloop),
 * ingest_conn.c (accepting, the handshake, refusing and dropping) and
 * ingest_frames.c (the ownership rules, SERIES and SAMPLES).  Not a public
 * API: the daemon includes ingest.h. */
#ifndef RMON_INGEST_PRIVATE_H
#define RMON_INGEST_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/log.h"
#include "lib/series_name.h"
#include "net/link.h"
#include "net/proto.h"
#include "store/db.h"
#include "store/idset.h"
#include "store/ingest.h"

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
	int64_t partial_since;	  /* a frame begun and not whole since (0: none) */
	struct idset ids;	  /* series defined on this connection: it may write them */
	struct db_series **found; /* what each place of ids resolved to (NULL: not yet) */
	size_t found_cap;
	size_t next_place;		 /* of ids: the series the next sample most likely is */
	const struct ingest_host *entry; /* its [host NAME], or NULL */
	uint32_t max_frame, max_series;	 /* its limits, once authenticated */
	uint64_t max_rate;
	struct conn *older, *newer; /* in the list of unauthenticated connections */
	bool unauth;		    /* in that list */
	bool relay;
	bool no_secret; /* off loopback with no secret for its host: refused at AUTH */
	bool told_future, told_foreign; /* logged once a connection */
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
	struct ingest_host *hosts; /* sorted by host */
	bool loopback;		   /* listening on a loopback address only */
	struct conn **conns;
	size_t n_conns, conns_cap;
	struct sample *samples; /* decoding scratch */
	size_t samples_cap;
	struct db_series **found; /* the series of each sample decoded ... */
	uint32_t *places;	  /* ... and its place on the connection */
	char name[SERIES_NAME_MAX + 1];
	size_t n_paused; /* connections waiting for their rate budget */
	/* Unauthenticated connections, oldest first, at most max_unauth. */
	struct conn *oldest, *newest;
	size_t n_unauth, max_unauth;
	int64_t refusals_second; /* log lines about them: this second's count */
	uint64_t refusals_logged, refusals_unsaid;
	int64_t answers_second; /* ERROR frames to them: this second's count */
	uint64_t answers;
	bool acks_due;
	struct ingest_stats stats;
};

/* ---- ingest.c ---- */

/* Libraries do not log: news goes to the owner's callback (none: nothing). */
__attribute__((format(printf, 3, 4))) void ingest_say(struct ingest *s, enum log_level level,
						      const char *fmt, ...);

/* The [host NAME] entry of host, or NULL. */
const struct ingest_host *ingest_host_entry(struct ingest *s, const char *host);

/* The loop's callback for a connection's fd (ctx: its struct conn). */
void ingest_on_connection(struct evloop *loop, int fd, unsigned events, void *ctx);

/* ---- ingest_conn.c ---- */

/* Takes new connections from the listener (a few each poll). */
void ingest_accept_all(struct ingest *s);

/* Closes c and frees it; the last connection moves into its slot. */
void ingest_drop(struct ingest *s, struct conn *c);

/* Ends a connection that broke the rules: an ERROR frame with code and
 * reason, a log line, and c is CLOSING (dropped by its caller). */
void ingest_refuse(struct ingest *s, struct conn *c, enum proto_error_code code,
		   const char *reason);

/* Whether a line about an unauthenticated peer may be logged now. */
bool ingest_may_log_unauthenticated(struct ingest *s);

/* The handshake's frames: HELLO (answered with CHALLENGE), then AUTH
 * (answered with WELCOME, the connection READY) or a refusal. */
void ingest_on_hello(struct ingest *s, struct conn *c, const struct proto_msg *m);
void ingest_on_auth(struct ingest *s, struct conn *c, const struct proto_msg *m);

/* ---- ingest_frames.c ---- */

/* A READY connection's frames: SERIES defines what it may write, SAMPLES
 * go to the drainer; a breach of the rules refuses the connection. */
void ingest_on_series(struct ingest *s, struct conn *c, const uint8_t *payload, size_t len);
void ingest_on_samples(struct ingest *s, struct conn *c, const uint8_t *payload, size_t len);

#endif
