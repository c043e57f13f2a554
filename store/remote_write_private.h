/* remote_write_private.h - what remote_write.c (spool and HTTP) and
 * remote_write_encode.c (series names and the WriteRequest) share; not a
 * public API. */
#ifndef RMON_REMOTE_WRITE_PRIVATE_H
#define RMON_REMOTE_WRITE_PRIVATE_H

#include <curl/curl.h>

#include "net/proto.h"
#include "net/spool.h"
#include "store/remote_write.h"

/* A named series: open addressing on the id. */
struct rw_series {
	uint64_t id; /* 0: an empty slot */
	uint32_t name_off, name_len;
	int64_t sent_ts;  /* newest timestamp the receiver has taken (ns) */
	int64_t req_ts;	  /* newest in the request being built or sent */
	uint32_t req_gen; /* the request that last used req_ts and slot */
	uint32_t slot;	  /* its TimeSeries in that request */
};

/* A request: its body, the last spool batch it holds, and the series it
 * carries with the newest timestamp it carries of each (which becomes
 * their sent_ts once the receiver took it). */
struct rw_request {
	char *body; /* NULL: none */
	size_t body_len;
	uint64_t seq, samples;
	uint32_t gen;
	struct rw_series **touched;
	int64_t *touched_ts;
	size_t n_touched, touched_cap;
};

struct rw_pending { /* an unacknowledged spool batch: when it came */
	uint64_t seq;
	int64_t since_ns;
};

struct remote_write {
	const struct remote_write_config *c;
	struct spool *spool;
	/* Names. */
	struct rw_series *series;
	size_t series_cap, series_used;
	char *names;
	size_t names_len, names_cap;
	/* The request being sent, and the one after it, built while the
	 * first is in flight (its floors assume the first is taken; it is
	 * dropped if the first fails). */
	uint32_t gen;
	struct rw_request cur, next;
	bool in_flight;
	/* Scratch of building: decoded samples, kept flags, slot offsets. */
	struct sample *samples;
	size_t n_samples, samples_cap;
	struct proto_buf frame;
	/* HTTP. */
	CURLM *multi;
	CURL *easy;
	struct curl_slist *headers;
	uint64_t curl_timer;
	char response[256];
	size_t response_len;
	char curl_error[CURL_ERROR_SIZE];
	/* Back-off and state. */
	int64_t backoff_ns;
	uint64_t retry_timer;
	bool waiting; /* for the back-off timer */
	bool started; /* every stored series is named */
	struct rw_pending *pending;
	size_t pending_head, n_pending, pending_cap;
	struct remote_write_stats stats;
};

/* Finds the named series of id, or NULL. */
struct rw_series *rw_find(struct remote_write *rw, uint64_t id);

/* Builds req from rw->samples[0..n_samples): grouped by series, samples
 * not newer than their series' last ones left out (counted): the last
 * sent, or for a series the request of generation after_gen carries
 * (in flight), its newest there.  0, or -ENOMEM / -EIO. */
int rw_build(struct remote_write *rw, struct rw_request *req, uint32_t after_gen, struct err *e);

/* Frees what req holds and empties it (its arrays are kept). */
void rw_request_clear(struct rw_request *req);

void rw_free_names(struct remote_write *rw);

#endif
