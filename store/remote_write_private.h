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
	/* The request being sent: its body, the last spool batch it holds,
	 * the series it advanced. */
	uint32_t gen;
	char *body;
	size_t body_len;
	uint64_t body_seq, body_samples;
	struct rw_series **touched;
	size_t n_touched, touched_cap;
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

/* Builds rw->body from rw->samples[0..n_samples): grouped by series,
 * samples not newer than their series' last ones left out (counted), the
 * series used listed in rw->touched.  0, or -ENOMEM / -EIO. */
int rw_build(struct remote_write *rw, struct err *e);

void rw_free_names(struct remote_write *rw);

#endif
