/* notify_http.c - webhook, SMS and push deliveries through libcurl's multi
 * interface on alertd's event loop: curl tells which sockets to watch and
 * when to call it again (CURLMOPT_SOCKETFUNCTION, CURLMOPT_TIMERFUNCTION),
 * the loop watches them, so no request ever blocks evaluation.
 *
 *   webhook  POST url, the notice's JSON document (notify_json.h)
 *   sms      POST url, a form To=..&From=..&Body=.. with basic auth, once
 *            per number (Twilio's Messages API and its look-alikes); a
 *            number that took it is not sent to again on a retry
 *   push     ntfy: POST url, JSON {topic, title, message, priority, click}
 *            gotify: POST url/message, JSON {title, message, priority}
 *
 * A 2xx answer is delivered; anything else fails the attempt with the
 * status and the start of the body. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "alertd/notify_json.h"
#include "alertd/notify_mail.h"
#include "alertd/notify_private.h"
#include "alertd/receiver_private.h"
#include "alertd/textbuf.h"
#include "lib/escape.h"
#include "lib/evloop.h"
#include "lib/rtime.h"

struct notify_http {
	struct evloop *loop;
	CURLM *multi;
	uint64_t timer;
};

/* One request in flight. */
struct request {
	struct notify_job *job;
	CURL *easy;
	struct curl_slist *headers;
	char *body;
	char answer[256]; /* the start of the answer's body, for errors */
	size_t answer_len;
	size_t sms_index; /* the number this request is for */
	char error[CURL_ERROR_SIZE];
};

static void check_done(struct notify_http *h);
static int start_request(struct notify_job *job, struct err *e);

/* ---- the loop's side of curl ---- */

static void on_socket_event(struct evloop *loop, int fd, unsigned events, void *ctx)
{
	struct notify_http *h = ctx;
	int running, mask = 0;
	(void)loop;
	if (events & EVLOOP_READ)
		mask |= CURL_CSELECT_IN;
	if (events & EVLOOP_WRITE)
		mask |= CURL_CSELECT_OUT;
	curl_multi_socket_action(h->multi, fd, mask, &running);
	check_done(h);
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *ctx, void *socket_ctx)
{
	struct notify_http *h = ctx;
	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		evloop_del_file(h->loop, fd);
		curl_multi_assign(h->multi, fd, NULL);
		return 0;
	}
	unsigned mask = (what == CURL_POLL_IN || what == CURL_POLL_INOUT ? EVLOOP_READ : 0) |
			(what == CURL_POLL_OUT || what == CURL_POLL_INOUT ? EVLOOP_WRITE : 0);
	if (!socket_ctx) {
		if (evloop_add_file(h->loop, fd, mask, on_socket_event, h, NULL) != 0)
			return -1;
		curl_multi_assign(h->multi, fd, h);
	} else if (evloop_set_file(h->loop, fd, mask, NULL) != 0) {
		return -1;
	}
	return 0;
}

static int64_t on_timer(struct evloop *loop, void *ctx)
{
	struct notify_http *h = ctx;
	int running;
	(void)loop;
	h->timer = 0;
	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(h);
	return EVLOOP_TIMER_DONE;
}

static int on_curl_timer(CURLM *multi, long ms, void *ctx)
{
	struct notify_http *h = ctx;
	(void)multi;
	if (h->timer) {
		evloop_del_timer(h->loop, h->timer);
		h->timer = 0;
	}
	if (ms < 0)
		return 0;
	return evloop_add_timer(h->loop, ms * RTIME_NS_PER_MS, on_timer, h, &h->timer, NULL) ? -1
											     : 0;
}

static int http_new(struct notifier *n, struct err *e)
{
	static bool curl_ready;
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return err_set(e, -ENOMEM, "cannot start libcurl");
		curl_ready = true;
	}
	struct notify_http *h = calloc(1, sizeof *h);
	if (!h || !(h->multi = curl_multi_init())) {
		free(h);
		return err_set(e, -ENOMEM, "cannot start libcurl");
	}
	h->loop = n->loop;
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	n->http = h;
	return 0;
}

static void request_free(struct notify_http *h, struct request *rq)
{
	if (rq->easy) {
		curl_multi_remove_handle(h->multi, rq->easy);
		curl_easy_cleanup(rq->easy);
	}
	curl_slist_free_all(rq->headers);
	free(rq->body);
	free(rq);
}

void notify_http_free(struct notify_http *h)
{
	if (!h)
		return;
	if (h->timer)
		evloop_del_timer(h->loop, h->timer);
	curl_multi_cleanup(h->multi);
	free(h);
}

void notify_http_abandon(struct notify_job *job)
{
	struct request *rq = job->http;
	if (rq)
		request_free(job->n->http, rq);
	job->http = NULL;
}

/* ---- the bodies ---- */

static void json_field(struct textbuf *b, const char *key, const char *value, bool comma)
{
	size_t len = strlen(value), need = escape(ESCAPE_JSON, NULL, 0, value, len);
	char *lit = malloc(need + 1);
	if (!lit) {
		b->failed = true;
		return;
	}
	escape(ESCAPE_JSON, lit, need + 1, value, len);
	textbuf_printf(b, "%s\"%s\":%s", comma ? "," : "", key, lit);
	free(lit);
}

static void form_field(struct textbuf *b, CURL *easy, const char *key, const char *value)
{
	char *enc = curl_easy_escape(easy, value, 0);
	if (!enc) {
		b->failed = true;
		return;
	}
	textbuf_printf(b, "%s%s=%s", b->len ? "&" : "", key, enc);
	curl_free(enc);
}

/* Push priority: the setting, else by severity. */
static int push_priority(const struct notice *nt)
{
	const struct receiver_private *p = nt->receiver->priv;
	if (p->priority)
		return p->priority;
	const char *sev = nt->n_alerts && nt->alerts[0].severity ? nt->alerts[0].severity : "";
	if (nt->kind == NOTICE_RESOLVED)
		return 2;
	return strcmp(sev, "critical") == 0 ? 5 : strcmp(sev, "warning") == 0 ? 4 : 3;
}

/* An SMS is short: the state and the summary, and the link. */
static char *sms_text(const struct notice *nt)
{
	struct textbuf b = { 0 };
	char subject[480], link[300];
	notify_mail_subject(nt, subject, sizeof subject);
	escape(ESCAPE_TEXT, link, sizeof link, subject, strlen(subject));
	textbuf_puts(&b, link);
	if (nt->n_alerts && nt->alerts[0].link) {
		escape(ESCAPE_TEXT, link, sizeof link, nt->alerts[0].link,
		       strlen(nt->alerts[0].link));
		textbuf_printf(&b, " %s", link);
	}
	return textbuf_take(&b, NULL);
}

static char *push_body(const struct notice *nt, const char **url_suffix)
{
	const struct receiver_private *p = nt->receiver->priv;
	struct textbuf b = { 0 };
	char subject[512];
	char *text = notify_mail_text(nt);
	if (!text)
		return NULL;
	notify_mail_subject(nt, subject, sizeof subject);
	int prio = push_priority(nt);
	textbuf_puts(&b, "{");
	if (p->format == RECEIVER_PUSH_NTFY) {
		*url_suffix = "";
		json_field(&b, "topic", p->topic, false);
		json_field(&b, "title", subject, true);
		json_field(&b, "message", text, true);
		textbuf_printf(&b, ",\"priority\":%d", prio);
		if (nt->n_alerts && nt->alerts[0].link)
			json_field(&b, "click", nt->alerts[0].link, true);
	} else {
		*url_suffix = "message";
		json_field(&b, "title", subject, false);
		json_field(&b, "message", text, true);
		/* Gotify counts 0-10; 8 and above is what its apps ring for. */
		textbuf_printf(&b, ",\"priority\":%d", prio * 2);
	}
	textbuf_puts(&b, "}");
	free(text);
	return textbuf_take(&b, NULL);
}

/* ---- requests ---- */

static size_t on_answer(char *data, size_t size, size_t n, void *ctx)
{
	struct request *rq = ctx;
	size_t len = size * n, room = sizeof rq->answer - 1 - rq->answer_len;
	size_t take = len < room ? len : room;
	memcpy(rq->answer + rq->answer_len, data, take);
	rq->answer_len += take;
	rq->answer[rq->answer_len] = '\0';
	return len;
}

static char *join_url(const char *url, const char *suffix)
{
	struct textbuf b = { 0 };
	size_t len = strlen(url);
	textbuf_puts(&b, url);
	if (suffix[0]) {
		if (!len || url[len - 1] != '/')
			textbuf_puts(&b, "/");
		textbuf_puts(&b, suffix);
	}
	return textbuf_take(&b, NULL);
}

static int start_request(struct notify_job *job, struct err *e)
{
	const struct receiver *r = job->notice.receiver;
	const struct receiver_private *p = r->priv;
	struct notify_http *h = job->n->http;
	struct request *rq = calloc(1, sizeof *rq);
	const char *suffix = "", *type = "Content-Type: application/json";
	char *url = NULL, header[600];
	if (!rq || !(rq->easy = curl_easy_init())) {
		free(rq);
		return err_set(e, -ENOMEM, "cannot start an HTTP request");
	}
	rq->job = job;
	switch (r->type) {
	case RECEIVER_WEBHOOK:
		rq->body = notify_json(&job->notice, NULL);
		break;
	case RECEIVER_SMS: {
		struct textbuf b = { 0 };
		char *text = sms_text(&job->notice);
		while (rq->sms_index < p->n_sms_to && (job->sms_sent >> rq->sms_index & 1))
			rq->sms_index++;
		if (rq->sms_index >= p->n_sms_to) /* all took it: cannot be retried */
			rq->sms_index = p->n_sms_to - 1;
		form_field(&b, rq->easy, "To", p->sms_to[rq->sms_index]);
		form_field(&b, rq->easy, "From", p->sms_from);
		form_field(&b, rq->easy, "Body", text ? text : "");
		b.failed |= !text;
		free(text);
		rq->body = textbuf_take(&b, NULL);
		type = "Content-Type: application/x-www-form-urlencoded";
		break;
	}
	default:
		rq->body = push_body(&job->notice, &suffix);
		break;
	}
	if (!rq->body || !(url = join_url(p->url, suffix)))
		goto nomem;
	rq->headers = curl_slist_append(NULL, type);
	if (p->token) {
		snprintf(header, sizeof header,
			 r->type == RECEIVER_PUSH && p->format == RECEIVER_PUSH_GOTIFY
			     ? "X-Gotify-Key: %s"
			     : "Authorization: Bearer %s",
			 p->token);
		rq->headers = curl_slist_append(rq->headers, header);
	}
	rq->headers = curl_slist_append(rq->headers, "User-Agent: rmon-alertd/"
						     "0.1");
	rq->headers = curl_slist_append(rq->headers, "Expect:");
	if (!rq->headers)
		goto nomem;
	CURL *c = rq->easy;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, rq->headers);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(p->timeout_ns / RTIME_NS_PER_MS));
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_answer);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, rq);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, rq->error);
	curl_easy_setopt(c, CURLOPT_PRIVATE, rq);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, p->tls_verify ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, p->tls_verify ? 2L : 0L);
	if (p->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, p->ca_file);
	if (p->user && p->password) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, p->user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, p->password);
	}
	free(url);
	if (curl_multi_add_handle(h->multi, c) != CURLM_OK) {
		request_free(h, rq);
		return err_set(e, -ENOMEM, "cannot queue an HTTP request");
	}
	job->http = rq;
	return 0;
nomem:
	free(url);
	request_free(h, rq);
	return err_set(e, -ENOMEM, "out of memory building an HTTP request");
}

static void check_done(struct notify_http *h)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(h->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		struct request *rq;
		long status = 0;
		char detail[512], answer[160];
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&rq);
		curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
		struct notify_job *job = rq->job;
		const struct receiver *r = job->notice.receiver;
		int rc = 0;
		if (msg->data.result != CURLE_OK) {
			snprintf(detail, sizeof detail, "%s %s: %s", receiver_type_name(r->type),
				 r->name,
				 rq->error[0] ? rq->error : curl_easy_strerror(msg->data.result));
			rc = msg->data.result == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT
									  : -ECONNREFUSED;
		} else if (status / 100 != 2) {
			escape(ESCAPE_TEXT, answer, sizeof answer, rq->answer,
			       strcspn(rq->answer, "\r\n"));
			snprintf(detail, sizeof detail, "%s %s: HTTP %ld%s%s",
				 receiver_type_name(r->type), r->name, status,
				 answer[0] ? ": " : "", answer);
			rc = -EAGAIN;
		}
		size_t sms_index = rq->sms_index;
		job->http = NULL;
		request_free(h, rq);
		if (rc == 0 && r->type == RECEIVER_SMS) {
			job->sms_sent |= UINT64_C(1) << sms_index;
			if (sms_index + 1 < r->priv->n_sms_to) {
				struct err e = { 0 };
				if (start_request(job, &e) != 0)
					notify_attempt_done(job, e.code ? e.code : -EIO, e.msg);
				continue;
			}
		}
		notify_attempt_done(job, rc, rc ? detail : NULL);
	}
}

int notify_http_start(struct notify_job *job, struct err *e)
{
	int rc;
	if (!job->n->http && (rc = http_new(job->n, e)) != 0)
		return rc;
	return start_request(job, e);
}
