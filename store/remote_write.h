/* remote_write.h - rmon-stored's Prometheus remote-write sender
 * ([remote_write NAME] sections, several allowed): everything the store
 * makes durable is forwarded to an engine that speaks remote-write 1.0
 * (protobuf WriteRequest, snappy-compressed, over HTTP: VictoriaMetrics,
 * Mimir, Thanos Receive, Cortex, Prometheus itself), so a fleet outgrowing
 * one central host scales out into a well-kept distributed engine.
 *
 * Spool first, always, as the shipper does (net/spool.h): each durable
 * batch is appended to <data>/remote_write/NAME before anything is sent,
 * and removed once the receiver answered 2xx, so an outage of the
 * receiver or a kill -9 of rmon-stored loses nothing the store
 * acknowledged.  One request is in flight per receiver, built from the
 * oldest unacknowledged batches (up to batch_samples samples, grouped by
 * series), and the next one is built while it is (dropped if it fails,
 * since it assumed the first would be taken); a failure (connection, timeout, 5xx, 429) is retried
 * with the same request after a back-off that doubles from min_backoff to max_backoff; a 4xx other
 * than 429 means the receiver refuses the data for good: it is dropped, counted and said once.
 *
 * HTTP goes through libcurl's multi interface on the daemon's event loop
 * (no thread): basic auth, a bearer token, TLS with a CA of its own and a
 * client certificate, as libcurl does them.
 *
 * Labels: __name__ is the metric, host the series' host (a label of its
 * own named host becomes exported_host), then the series' labels, sorted
 * by name as the protocol requires; timestamps are whole milliseconds (the
 * ns below are cut).  A sample not newer than the last one sent for its
 * series in this run (an agent resending after a reconnect) is left out,
 * so a receiver that refuses out-of-order samples never sees one. */
#ifndef RMON_REMOTE_WRITE_H
#define RMON_REMOTE_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/conf.h"
#include "lib/err.h"
#include "lib/evloop.h"
#include "lib/log.h"
#include "lib/sample.h"
#include "lib/settings.h"

struct remote_write_config {
	const char *name;     /* of the section: names the spool and the rmon_* series */
	const char *url;      /* required: http://... or https://... */
	const char *username; /* basic auth, with password */
	const char *password;
	const char *bearer_token; /* Authorization: Bearer ... */
	const char *tls_ca;	  /* trusted certificate(s); NULL: the system's */
	const char *tls_cert;	  /* a client certificate and its key */
	const char *tls_key;
	uint32_t batch_samples; /* per request; default 10000 */
	int64_t timeout_ns;	/* per request; default 30 s */
	int64_t min_backoff_ns; /* default 100 ms */
	int64_t max_backoff_ns; /* default 30 s */
	uint64_t spool_bytes;	/* default 1 GiB; beyond it the oldest are dropped */
	char spool_dir[4200];	/* default <data>/remote_write/NAME */
	struct evloop *loop;
	void (*notice)(enum log_level level, const char *message); /* NULL: quiet */
	/* Where the section was, for errors found after reading it. */
	char where[300];
	struct settings reader; /* keeps the strings of the settings */
};

/* The defaults for section [remote_write name] of a store in data_dir. */
void remote_write_config_default(struct remote_write_config *c, const char *name,
				 const char *data_dir, struct evloop *loop);

/* Reads one setting of the section (url, username, password,
 * bearer_token, tls_ca, tls_cert, tls_key, batch_samples, timeout,
 * min_backoff, max_backoff, spool_size); -EINVAL naming file, line and key. */
int remote_write_config_apply(struct remote_write_config *c, const struct conf_entry *entry,
			      struct err *e);

/* Checks the section as a whole (a url, basic auth whole, not both kinds
 * of credentials); -EINVAL naming the section's place. */
int remote_write_config_check(const struct remote_write_config *c, struct err *e);

/* Frees the strings the settings kept. */
void remote_write_config_release(struct remote_write_config *c);

struct remote_write;

/* Opens the spool (what an earlier run left is sent first) and the HTTP
 * client.  c must outlive the sender.  *out is the caller's:
 * remote_write_close it. */
int remote_write_open(const struct remote_write_config *c, struct remote_write **out,
		      struct err *e);

/* Starts sending what an earlier run spooled: call it once every stored
 * series is named (remote_write_define), or those samples would be
 * skipped as unnamed. */
void remote_write_start(struct remote_write *rw);

/* Sends nothing more (what is spooled stays for the next run). */
void remote_write_close(struct remote_write *rw); /* rw may be NULL */

/* Names a series (canonical host/metric{labels}, len bytes): every series
 * whose samples come must have been named, at start (every stored series)
 * and when the store meets a new one. */
int remote_write_define(struct remote_write *rw, uint64_t id, const char *name, size_t len);

/* Spools a durable batch and sends it when its turn comes.  -ENOSPC when
 * neither the disk nor the memory beside it can hold it (net/spool.h). */
int remote_write_samples(struct remote_write *rw, const struct sample *s, size_t n, struct err *e);

/* The section's name. */
const char *remote_write_name(const struct remote_write *rw);

struct remote_write_stats {
	uint64_t sent_samples; /* acknowledged by the receiver */
	uint64_t sent_requests;
	uint64_t failed_requests;  /* retried */
	uint64_t rejected_samples; /* refused for good (4xx) */
	uint64_t dropped_samples;  /* the spool overflowed */
	uint64_t skipped_samples;  /* not newer than the last sent, or unnamed */
	uint64_t pending_batches;
	uint64_t spool_bytes;
	double lag_seconds; /* age of the oldest batch not delivered; 0 when none */
	bool failing;	    /* the last request failed */
};
void remote_write_get_stats(struct remote_write *rw, struct remote_write_stats *out);

/* ---- for tests and the benchmark ---- */

/* Builds the snappy-compressed WriteRequest of samples s[0..n) (named
 * with remote_write_define) into *body (malloc'ed, the caller's) as a
 * request would carry it. */
int remote_write_encode(struct remote_write *rw, const struct sample *s, size_t n, char **body,
			size_t *len, struct err *e);

#endif
