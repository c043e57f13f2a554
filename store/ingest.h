/* ingest.h - the network ingest server of rmon-stored: agents and relays
 * connect over TCP (optionally TLS), prove they know their secret
 * (HMAC challenge-response, proto.h), define their series and send sample
 * batches, which go through the drainer into the WAL; a batch is
 * acknowledged only once durable.
 *
 * One thread, epoll, no thread per connection.  Every connection has its
 * limits (frame size, series, samples per second); a connection that breaks
 * the protocol gets an ERROR frame and is closed, with a log line naming the
 * peer, and nothing else is affected: what was acknowledged stays.
 *
 * The owner's loop:  ingest_poll (read, decode, drainer_add), drainer_sync
 * (one group commit for every connection), ingest_acknowledge. */
#ifndef RMON_INGEST_H
#define RMON_INGEST_H

#include <stdint.h>

#include "lib/err.h"
#include "lib/evloop.h"
#include "lib/log.h"
#include "store/drainer.h"

struct ingest_secret {
	const char *host;
	const char *secret;
};

struct ingest_config {
	const char *listen;		   /* "address:port"; default 127.0.0.1:7470 */
	const char *secret;		   /* shared by every host; NULL = none */
	const struct ingest_secret *hosts; /* per-host secrets (win over the shared one) */
	size_t n_hosts;
	const char *tls_cert, *tls_key; /* both set: TLS only */
	uint32_t max_frame;		/* bytes; default 16 MiB */
	uint32_t max_series;		/* series one connection may define; default 100000 */
	uint64_t max_rate;		/* samples per second per connection; default 2 million */
	uint32_t max_connections;	/* default 20000 */
	int64_t hello_timeout_ns;	/* to finish TLS, HELLO and AUTH; default 10 s */
	/* Connections coming and going, refusals: one line each, for the log. */
	void (*notice)(enum log_level level, const char *message);
	/* The loop whose sockets and timers the server joins (the owner runs
	 * it, e.g. with the drainer's and a relay's shipper's); NULL: its own,
	 * which ingest_poll runs. */
	struct evloop *loop;
};

void ingest_config_default(struct ingest_config *c);

struct ingest;

/* Listens on c->listen.  Binding anything but a loopback address without a
 * secret configured is -EACCES: nobody but the user's agents may write. */
int ingest_open(const struct ingest_config *c, struct drainer *d, struct ingest **out,
		struct err *e);

/* Waits up to timeout_ms for network events, then accepts, reads and
 * decodes whatever arrived, adding samples to the drainer: one pass of the
 * loop (its own, or c->loop with all else on it).  While the drainer is
 * not accepting (disk full) the server reads nothing.  Returns 0, or an
 * error of the server itself (never one of a connection). */
int ingest_poll(struct ingest *s, int timeout_ms, struct err *e);

/* After drainer_sync returned 0: acknowledges every batch added. */
void ingest_acknowledge(struct ingest *s);

void ingest_close(struct ingest *s);

struct ingest_stats {
	uint64_t connections; /* open now */
	uint64_t accepted;    /* connections ever accepted */
	uint64_t refused;     /* closed for bad credentials, frames or limits */
	uint64_t frames;
	uint64_t samples;   /* added to the drainer */
	uint64_t throttled; /* times a connection was paused by its rate limit */
};

void ingest_get_stats(struct ingest *s, struct ingest_stats *out);

#endif
