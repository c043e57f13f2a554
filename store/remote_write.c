/* remote_write.c - the remote-write sender's settings, spool and HTTP
 * exchange (libcurl multi on the event loop); see remote_write.h.  The
 * request itself is built in remote_write_encode.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/grow.h"
#include "lib/rtime.h"
#include "store/remote_write_private.h"

#define AT(field) offsetof(struct remote_write_config, field)
#define MiB	  (1 << 20)

static const struct setting table[] = {
	{ "remote_write", "url", SETTING_STRING, AT(url), 8, 0, 0 },
	{ "remote_write", "username", SETTING_STRING, AT(username), 1, 0, 0 },
	{ "remote_write", "password", SETTING_STRING, AT(password), 0, 0, 0 },
	{ "remote_write", "bearer_token", SETTING_STRING, AT(bearer_token), 1, 0, 0 },
	{ "remote_write", "tls_ca", SETTING_STRING, AT(tls_ca), 1, 0, 0 },
	{ "remote_write", "tls_cert", SETTING_STRING, AT(tls_cert), 1, 0, 0 },
	{ "remote_write", "tls_key", SETTING_STRING, AT(tls_key), 1, 0, 0 },
	{ "remote_write", "batch_samples", SETTING_UINT32, AT(batch_samples), 1, 1 << 22, 0 },
	{ "remote_write", "timeout", SETTING_DURATION, AT(timeout_ns), RTIME_NS_PER_SEC, 0, 0 },
	{ "remote_write", "min_backoff", SETTING_DURATION, AT(min_backoff_ns), RTIME_NS_PER_MS, 0,
	  0 },
	{ "remote_write", "max_backoff", SETTING_DURATION, AT(max_backoff_ns), RTIME_NS_PER_MS, 0,
	  0 },
	{ "remote_write", "spool_size", SETTING_SIZE, AT(spool_bytes), MiB, 0, 0 },
	{ NULL, NULL, 0, 0, 0, 0, 0 },
};

void remote_write_config_default(struct remote_write_config *c, const char *name,
				 const char *data_dir, struct evloop *loop)
{
	*c = (struct remote_write_config){
		.name = name,
		.batch_samples = 10000,
		.timeout_ns = 30 * RTIME_NS_PER_SEC,
		.min_backoff_ns = 100 * RTIME_NS_PER_MS,
		.max_backoff_ns = 30 * RTIME_NS_PER_SEC,
		.spool_bytes = 1ull << 30,
		.loop = loop,
	};
	snprintf(c->spool_dir, sizeof c->spool_dir, "%s/remote_write/%s", data_dir, name);
	c->reader = (struct settings){ .table = table, .base = c };
}

int remote_write_config_apply(struct remote_write_config *c, const struct conf_entry *entry,
			      struct err *e)
{
	if (!c->where[0])
		snprintf(c->where, sizeof c->where, "%s:%d: [remote_write %s]", entry->file,
			 entry->section_line, entry->name);
	int rc = settings_apply(&c->reader, entry, e);
	if (rc == 0 && strcmp(entry->key, "url") == 0 && strncmp(c->url, "http://", 7) != 0 &&
	    strncmp(c->url, "https://", 8) != 0)
		rc = conf_error(e, entry, "the url must start with http:// or https://");
	return rc;
}

int remote_write_config_check(const struct remote_write_config *c, struct err *e)
{
	const char *where = c->where[0] ? c->where : "[remote_write]";
	if (!c->url)
		return err_set(e, -EINVAL, "%s: url = http://HOST:PORT/PATH is required", where);
	if (!c->username != !c->password)
		return err_set(e, -EINVAL, "%s: username and password go together", where);
	if (c->username && c->bearer_token)
		return err_set(e, -EINVAL, "%s: basic auth or a bearer token, not both", where);
	if (!c->tls_cert != !c->tls_key)
		return err_set(e, -EINVAL, "%s: tls_cert and tls_key go together", where);
	if (c->min_backoff_ns > c->max_backoff_ns)
		return err_set(e, -EINVAL, "%s: min_backoff is above max_backoff", where);
	return 0;
}

void remote_write_config_release(struct remote_write_config *c)
{
	settings_release(&c->reader);
}

static void say(struct remote_write *rw, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(struct remote_write *rw, enum log_level level, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	if (!rw->c->notice)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	rw->c->notice(level, msg);
}

/* ---- curl on the event loop ---- */

static void pump(struct remote_write *rw);

static void check_done(struct remote_write *rw);

static void on_socket_event(struct evloop *loop, int fd, unsigned events, void *ctx)
{
	struct remote_write *rw = ctx;
	int running, flags = 0;
	if (events & EVLOOP_READ)
		flags |= CURL_CSELECT_IN;
	if (events & EVLOOP_WRITE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(rw->multi, fd, flags, &running);
	check_done(rw);
}

static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *ctx, void *socket_ctx)
{
	struct remote_write *rw = ctx;
	if (what == CURL_POLL_REMOVE) {
		evloop_del_file(rw->c->loop, fd);
		curl_multi_assign(rw->multi, fd, NULL);
		return 0;
	}
	unsigned mask =
	    (what & CURL_POLL_IN ? EVLOOP_READ : 0) | (what & CURL_POLL_OUT ? EVLOOP_WRITE : 0);
	if (socket_ctx)
		evloop_set_file(rw->c->loop, fd, mask, NULL);
	else if (evloop_add_file(rw->c->loop, fd, mask, on_socket_event, rw, NULL) == 0)
		curl_multi_assign(rw->multi, fd, rw); /* marks it registered */
	return 0;
}

static int64_t on_curl_timer(struct evloop *loop, void *ctx)
{
	struct remote_write *rw = ctx;
	int running;
	rw->curl_timer = 0;
	curl_multi_socket_action(rw->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(rw);
	return EVLOOP_TIMER_DONE;
}

static int on_curl_timer_change(CURLM *multi, long timeout_ms, void *ctx)
{
	struct remote_write *rw = ctx;
	if (rw->curl_timer) {
		evloop_del_timer(rw->c->loop, rw->curl_timer);
		rw->curl_timer = 0;
	}
	if (timeout_ms >= 0)
		evloop_add_timer(rw->c->loop, timeout_ms * RTIME_NS_PER_MS, on_curl_timer, rw,
				 &rw->curl_timer, NULL);
	return 0;
}

static size_t on_response(char *data, size_t size, size_t n, void *ctx)
{
	struct remote_write *rw = ctx;
	size_t len = size * n, room = sizeof rw->response - 1 - rw->response_len;
	memcpy(rw->response + rw->response_len, data, len < room ? len : room);
	rw->response_len += len < room ? len : room;
	rw->response[rw->response_len] = '\0';
	return len;
}

static int setup_curl(struct remote_write *rw, struct err *e)
{
	const struct remote_write_config *c = rw->c;
	char auth[1200];
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (!(rw->multi = curl_multi_init()) || !(rw->easy = curl_easy_init()))
		return err_set(e, -ENOMEM, "remote_write %s: libcurl could not start", c->name);
	curl_multi_setopt(rw->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
	curl_multi_setopt(rw->multi, CURLMOPT_SOCKETDATA, rw);
	curl_multi_setopt(rw->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer_change);
	curl_multi_setopt(rw->multi, CURLMOPT_TIMERDATA, rw);
	struct curl_slist *h = NULL;
	h = curl_slist_append(h, "Content-Type: application/x-protobuf");
	h = curl_slist_append(h, "Content-Encoding: snappy");
	h = curl_slist_append(h, "X-Prometheus-Remote-Write-Version: 0.1.0");
	h = curl_slist_append(h, "User-Agent: rmon-stored");
	h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip */
	if (c->bearer_token) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->bearer_token);
		h = curl_slist_append(h, auth);
	}
	if (!h)
		return err_set(e, -ENOMEM, "remote_write %s: out of memory", c->name);
	rw->headers = h;
	CURL *x = rw->easy;
	curl_easy_setopt(x, CURLOPT_URL, c->url);
	curl_easy_setopt(x, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(x, CURLOPT_POST, 1L);
	curl_easy_setopt(x, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x, CURLOPT_TIMEOUT_MS, (long)(c->timeout_ns / RTIME_NS_PER_MS));
	curl_easy_setopt(x, CURLOPT_WRITEFUNCTION, on_response);
	curl_easy_setopt(x, CURLOPT_WRITEDATA, rw);
	curl_easy_setopt(x, CURLOPT_ERRORBUFFER, rw->curl_error);
	curl_easy_setopt(x, CURLOPT_PROTOCOLS_STR, "http,https");
	if (c->username) {
		curl_easy_setopt(x, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(x, CURLOPT_USERNAME, c->username);
		curl_easy_setopt(x, CURLOPT_PASSWORD, c->password);
	}
	if (c->tls_ca)
		curl_easy_setopt(x, CURLOPT_CAINFO, c->tls_ca);
	if (c->tls_cert) {
		curl_easy_setopt(x, CURLOPT_SSLCERT, c->tls_cert);
		curl_easy_setopt(x, CURLOPT_SSLKEY, c->tls_key);
	}
	return 0;
}

/* ---- sending ---- */

static int64_t on_retry(struct evloop *loop, void *ctx)
{
	struct remote_write *rw = ctx;
	rw->retry_timer = 0;
	rw->waiting = false;
	pump(rw);
	return EVLOOP_TIMER_DONE;
}

/* Reads spooled batches after batch `after` into rw->samples, up to
 * batch_samples, and sets *last to the last one read; returns how many
 * batches, or an error. */
static int gather(struct remote_write *rw, uint64_t after, uint64_t *last, struct err *e)
{
	int batches = 0;
	rw->n_samples = 0;
	while (rw->n_samples < rw->c->batch_samples) {
		uint64_t seq;
		rw->frame.len = 0;
		int rc = spool_read_after(rw->spool, after, &rw->frame, &seq, e);
		if (rc <= 0)
			return rc < 0 ? rc : batches;
		const uint8_t *payload = rw->frame.data + PROTO_HEADER_BYTES;
		size_t len = rw->frame.len - PROTO_HEADER_BYTES;
		int64_t count = proto_samples_count(payload, len, e);
		size_t n;
		uint64_t frame_seq;
		if (count < 0 ||
		    !grow_array(&rw->samples, &rw->samples_cap, rw->n_samples + (size_t)count + 1,
				sizeof *rw->samples))
			return count < 0 ? (int)count : err_set(e, -ENOMEM, "out of memory");
		if ((rc =
			 proto_decode_samples(payload, len, &frame_seq, rw->samples + rw->n_samples,
					      (size_t)count, &n, e)) != 0)
			return rc;
		rw->n_samples += n;
		*last = seq;
		after = seq;
		batches++;
	}
	return batches;
}

/* The receiver took the request in flight (or refused it for good): its
 * batches leave the spool, its series move their floor. */
static void delivered(struct remote_write *rw, bool taken)
{
	struct err e = { 0 };
	struct rw_request *req = &rw->cur;
	if (taken)
		for (size_t k = 0; k < req->n_touched; k++)
			if (req->touched[k]->sent_ts < req->touched_ts[k])
				req->touched[k]->sent_ts = req->touched_ts[k];
	if (spool_ack(rw->spool, req->seq, &e) != 0)
		say(rw, LOG_WARN, "remote_write %s: %s", rw->c->name, e.msg);
	while (rw->n_pending && rw->pending[rw->pending_head].seq <= req->seq) {
		rw->pending_head++;
		rw->n_pending--;
	}
	rw_request_clear(req);
	rw->backoff_ns = 0;
}

/* The request built behind the one in flight assumed it would be taken:
 * it goes, and the series both carried get back the floors of the first. */
static void drop_next(struct remote_write *rw)
{
	if (!rw->next.body)
		return;
	for (size_t k = 0; k < rw->cur.n_touched; k++) {
		rw->cur.touched[k]->req_gen = rw->cur.gen;
		rw->cur.touched[k]->req_ts = rw->cur.touched_ts[k];
	}
	rw_request_clear(&rw->next);
}

static void failed(struct remote_write *rw, const char *why)
{
	rw->stats.failed_requests++;
	drop_next(rw);
	if (!rw->stats.failing)
		say(rw, LOG_WARN,
		    "remote_write %s: %s: %s; retrying with back-off (nothing is lost: it stays "
		    "spooled)",
		    rw->c->name, rw->c->url, why);
	rw->stats.failing = true;
	rw->backoff_ns = rw->backoff_ns ? rw->backoff_ns * 2 : rw->c->min_backoff_ns;
	if (rw->backoff_ns > rw->c->max_backoff_ns)
		rw->backoff_ns = rw->c->max_backoff_ns;
	rw->waiting = evloop_add_timer(rw->c->loop, rw->backoff_ns, on_retry, rw, &rw->retry_timer,
				       NULL) == 0;
}

static void check_done(struct remote_write *rw)
{
	CURLMsg *m;
	int left;
	while ((m = curl_multi_info_read(rw->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		CURLcode result = m->data.result;
		long status = 0;
		curl_easy_getinfo(rw->easy, CURLINFO_RESPONSE_CODE, &status);
		curl_multi_remove_handle(rw->multi, rw->easy);
		rw->in_flight = false;
		char why[400];
		if (result != CURLE_OK) {
			snprintf(why, sizeof why, "%s",
				 rw->curl_error[0] ? rw->curl_error : curl_easy_strerror(result));
			failed(rw, why);
		} else if (status >= 200 && status < 300) {
			rw->stats.sent_samples += rw->cur.samples;
			rw->stats.sent_requests++;
			if (rw->stats.failing)
				say(rw, LOG_INFO, "remote_write %s: delivering again", rw->c->name);
			rw->stats.failing = false;
			delivered(rw, true);
		} else if (status >= 400 && status < 500 && status != 429) {
			rw->stats.rejected_samples += rw->cur.samples;
			say(rw, LOG_WARN,
			    "remote_write %s: %s refused %llu samples for good (%ld: %.200s)",
			    rw->c->name, rw->c->url, (unsigned long long)rw->cur.samples, status,
			    rw->response);
			delivered(rw, false);
		} else {
			snprintf(why, sizeof why, "status %ld: %.200s", status, rw->response);
			failed(rw, why);
		}
	}
	pump(rw);
}

/* Builds req from the batches after `after`; false when there are none
 * (or it failed, which is said). */
static bool build(struct remote_write *rw, struct rw_request *req, uint64_t after,
		  uint32_t after_gen)
{
	struct err e = { 0 };
	uint64_t last = after;
	int got = gather(rw, after, &last, &e);
	if (got <= 0 || rw_build(rw, req, after_gen, &e) != 0) {
		if (got < 0 || e.msg[0])
			say(rw, LOG_ERROR, "remote_write %s: %s", rw->c->name, e.msg);
		return false;
	}
	req->seq = last;
	return true;
}

/* Sends the next request when none is in flight and none waits, and
 * builds the one after it while one is in flight, so building and the
 * receiver's work overlap. */
static void pump(struct remote_write *rw)
{
	if (!rw->started || rw->waiting)
		return;
	while (!rw->in_flight) {
		if (!rw->cur.body) { /* a retry resends the same body */
			if (rw->next.body) {
				struct rw_request t = rw->cur;
				rw->cur = rw->next;
				rw->next = t;
			} else {
				struct spool_stats st;
				spool_get_stats(rw->spool, &st);
				if (!build(rw, &rw->cur, st.acked, 0))
					return;
			}
		}
		if (rw->cur.samples == 0) { /* all of it sent before */
			delivered(rw, true);
			continue;
		}
		rw->response_len = 0;
		rw->response[0] = rw->curl_error[0] = '\0';
		curl_easy_setopt(rw->easy, CURLOPT_POSTFIELDS, rw->cur.body);
		curl_easy_setopt(rw->easy, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)rw->cur.body_len);
		if (curl_multi_add_handle(rw->multi, rw->easy) != CURLM_OK) {
			failed(rw, "libcurl refused the request");
			return;
		}
		rw->in_flight = true;
	}
	if (!rw->next.body)
		build(rw, &rw->next, rw->cur.seq, rw->cur.gen);
}

/* ---- the sender ---- */

static int make_dirs(const char *path, struct err *e)
{
	char buf[4200];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(buf, 0700) != 0 && errno != EEXIST)
				return err_sys(e, -errno, "remote_write: cannot create %s", buf);
			*p = '/';
		}
	if (mkdir(buf, 0700) != 0 && errno != EEXIST)
		return err_sys(e, -errno, "remote_write: cannot create %s", buf);
	return 0;
}

int remote_write_open(const struct remote_write_config *c, struct remote_write **out, struct err *e)
{
	int rc;
	struct remote_write *rw = calloc(1, sizeof *rw);
	*out = NULL;
	if (!rw)
		return err_set(e, -ENOMEM, "remote_write: out of memory");
	rw->c = c;
	struct spool_config sc;
	spool_config_default(&sc, c->spool_dir);
	sc.max_bytes = c->spool_bytes;
	if ((rc = make_dirs(c->spool_dir, e)) != 0 || (rc = spool_open(&sc, &rw->spool, e)) != 0 ||
	    (rc = setup_curl(rw, e)) != 0) {
		remote_write_close(rw);
		return rc;
	}
	struct spool_stats st;
	spool_get_stats(rw->spool, &st);
	if (st.pending_batches) { /* left by an earlier run: their lag counts from now */
		if (!grow_array(&rw->pending, &rw->pending_cap, 1, sizeof *rw->pending)) {
			remote_write_close(rw);
			return err_set(e, -ENOMEM, "remote_write: out of memory");
		}
		rw->pending[0] = (struct rw_pending){ st.last_seq, rtime_mono_ns() };
		rw->n_pending = 1;
		say(rw, LOG_INFO, "remote_write %s: %llu batches spooled by the last run to send",
		    c->name, (unsigned long long)st.pending_batches);
	}
	*out = rw;
	return 0;
}

void remote_write_start(struct remote_write *rw)
{
	rw->started = true;
	pump(rw);
}

void remote_write_close(struct remote_write *rw)
{
	if (!rw)
		return;
	if (rw->in_flight)
		curl_multi_remove_handle(rw->multi, rw->easy);
	if (rw->curl_timer)
		evloop_del_timer(rw->c->loop, rw->curl_timer);
	if (rw->retry_timer)
		evloop_del_timer(rw->c->loop, rw->retry_timer);
	if (rw->easy)
		curl_easy_cleanup(rw->easy);
	if (rw->multi)
		curl_multi_cleanup(rw->multi);
	curl_slist_free_all(rw->headers);
	spool_close(rw->spool);
	rw_free_names(rw);
	proto_buf_free(&rw->frame);
	free(rw->samples);
	free(rw->pending);
	free(rw);
}

int remote_write_samples(struct remote_write *rw, const struct sample *s, size_t n, struct err *e)
{
	uint64_t seq;
	int rc = spool_append(rw->spool, s, n, &seq, e);
	if (rc != 0)
		return rc;
	/* The queue of arrival times restarts at the front when it empties. */
	if (rw->n_pending == 0)
		rw->pending_head = 0;
	if (rw->pending_head > 4096 && rw->pending_head * 2 > rw->pending_cap) {
		memmove(rw->pending, rw->pending + rw->pending_head,
			rw->n_pending * sizeof *rw->pending);
		rw->pending_head = 0;
	}
	if (grow_array(&rw->pending, &rw->pending_cap, rw->pending_head + rw->n_pending + 1,
		       sizeof *rw->pending))
		rw->pending[rw->pending_head + rw->n_pending++] =
		    (struct rw_pending){ seq, rtime_mono_ns() };
	pump(rw);
	return 0;
}

const char *remote_write_name(const struct remote_write *rw)
{
	return rw->c->name;
}

void remote_write_get_stats(struct remote_write *rw, struct remote_write_stats *out)
{
	struct spool_stats st;
	spool_get_stats(rw->spool, &st);
	rw->stats.pending_batches = st.pending_batches;
	rw->stats.spool_bytes = st.bytes;
	rw->stats.dropped_samples = st.dropped_samples;
	rw->stats.lag_seconds =
	    st.pending_batches && rw->n_pending
		? (double)(rtime_mono_ns() - rw->pending[rw->pending_head].since_ns) / 1e9
		: 0;
	*out = rw->stats;
}
