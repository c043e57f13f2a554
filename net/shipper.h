/* shipper.h - the sending side of the ingest protocol, for agents
 * (rmon-collectd --server) and relays (rmon-stored --upstream).
 *
 * Every batch goes to the disk spool first (spool.h), then to the server as
 * the connection allows; the spool forgets it only when the server
 * acknowledges it as durable.  A lost connection is retried with
 * exponential back-off (1 s doubling to 60 s, with jitter so a fleet does
 * not reconnect in step); after reconnecting the shipper defines its series
 * again and resends, in order, everything not acknowledged.  Resent batches
 * are harmless: the store skips samples it already holds.
 *
 * Single-threaded: the owner runs the shipper's loop, with shipper_step
 * or (a loop shared with other parts) evloop_run_once. */
#ifndef RMON_SHIPPER_H
#define RMON_SHIPPER_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/err.h"
#include "lib/evloop.h"
#include "lib/log.h"
#include "net/spool.h"

struct shipper_config {
	const char *server; /* "host:port" */
	const char *host;   /* the name this sender says in HELLO */
	const char *agent;  /* program and version, e.g. "rmon-collectd 0.1.0" */
	const char *secret; /* NULL: none */
	bool tls;
	const char *tls_ca; /* trusted certificate(s); NULL: the system's */
	bool relay;	    /* forwards other hosts' series */
	struct spool_config spool;
	uint32_t window;	/* batches sent and not yet acknowledged; default 64 */
	int64_t backoff_min_ns; /* default 1 s */
	int64_t backoff_max_ns; /* default 60 s */
	int64_t ack_timeout_ns; /* no ack for this long while waiting: reconnect; 30 s */
	void (*notice)(enum log_level level, const char *message);
	/* The loop the connection and its timer join (the owner runs it);
	 * NULL: the shipper's own, which shipper_step runs. */
	struct evloop *loop;
};

void shipper_config_default(struct shipper_config *c, const char *server, const char *spool_dir);

struct shipper;

/* Opens the spool (resending what an earlier run left) and prepares TLS.
 * Connecting happens in shipper_step. */
int shipper_open(const struct shipper_config *c, struct shipper **out, struct err *e);
void shipper_close(struct shipper *sh);

/* Records a series definition (sent before any batch that uses it). */
int shipper_define(struct shipper *sh, uint64_t id, const char *name, struct err *e);

/* Spools a batch and sends it when it can.  Fails only when the spool
 * cannot be written. */
int shipper_send(struct shipper *sh, const struct sample *s, size_t n, struct err *e);

/* Moves everything on: connecting, authenticating, sending, reading acks,
 * waiting up to timeout_ms for the socket: one pass of the shipper's loop
 * (with all else on it when shared).  Network trouble is not an error
 * here (it is noticed and retried). */
int shipper_step(struct shipper *sh, int timeout_ms, struct err *e);

struct shipper_stats {
	bool connected;
	uint64_t connects;     /* successful handshakes */
	uint64_t failures;     /* connections lost or refused */
	uint64_t auth_refused; /* the server refused the credentials */
	uint64_t sent_batches; /* including resends */
	struct spool_stats spool;
	char last_error[256];
};

void shipper_get_stats(struct shipper *sh, struct shipper_stats *out);

#endif
