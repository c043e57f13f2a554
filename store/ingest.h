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

/* What the configuration says about one host ([host NAME]): every field
 * but host may be left 0 / NULL, then the [ingest] value applies. */
struct ingest_host {
	const char *host;
	const char *secret;		/* its own secret; NULL: the shared one */
	const char *const *carries;	/* a relay: glob patterns (fnmatch) of the */
	size_t n_carries;		/* hosts it may write for; none: not a relay */
	uint32_t max_frame, max_series; /* overriding ingest_config's */
	uint64_t max_rate;
};

struct ingest_config {
	const char *listen;		 /* "address:port"; default 127.0.0.1:7470 */
	const char *secret;		 /* shared by every host; NULL = none */
	const struct ingest_host *hosts; /* per-host secrets and limits */
	size_t n_hosts;
	const char *tls_cert, *tls_key; /* both set: TLS only */
	uint32_t max_frame;		/* bytes; default 16 MiB */
	uint32_t max_series;		/* series one connection may define; default 100000 */
	uint64_t max_rate;		/* samples per second per connection; default 2 million */
	uint32_t max_connections;	/* default 20000 */
	int64_t hello_timeout_ns;	/* to finish TLS, HELLO and AUTH; default 10 s */
	int64_t frame_timeout_ns;	/* a frame begun must be whole within; default 30 s */
	int64_t max_future_ns;		/* samples further ahead are not stored; 10 min */
	uint64_t handshake_memory;	/* all unauthenticated peers together; 4 MiB */
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
 * secret configured is -EACCES: nobody but the user's agents may write;
 * there, a host with neither its own secret nor a shared one is refused at
 * AUTH.  A secret shorter than PROTO_SECRET_MIN bytes is -EINVAL.
 *
 * The trust model (docs/protocol.md): a connection writes only series of
 * the host it authenticated as, and only those it defined on itself; a
 * relay also those of the hosts its ingest_host.carries match.  Until it
 * has authenticated a peer may send only frames of PROTO_HANDSHAKE_MAX
 * bytes, and all such peers together hold at most handshake_memory (the
 * oldest is closed to make room for a new one). */
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
	uint64_t samples;	    /* added to the drainer */
	uint64_t throttled;	    /* times a connection was paused by its rate limit */
	uint64_t ownership_refused; /* definitions left out and frames refused: series
				     * the connection may not write */
	uint64_t future_dropped;    /* samples over max_future ahead: not stored */
	uint64_t over_limit;	    /* frames over max_frame, series over max_series */
	uint64_t evicted;	    /* unauthenticated, closed to stay in handshake_memory */
	uint64_t stalled;	    /* closed with a frame unfinished after frame_timeout */
};

void ingest_get_stats(struct ingest *s, struct ingest_stats *out);

#ifdef RMON_TESTING
/* Fault injection: the next this many growths of the decoding scratch
 * fail as if out of memory. */
extern int ingest_testing_scratch_failures;
#endif

#endif
