/* httpd.h - the smallest HTTP/1.1 server that Prometheus can scrape: it
 * serves GET (and HEAD) of /metrics on the program's event loop
 * (lib/evloop.h) and nothing else, so the agent and the store can be
 * scraped without a web server, a thread or a library that would cost the
 * agent its memory budget.
 *
 *     struct httpd_config c;
 *     httpd_config_default(&c, "127.0.0.1:9100", loop);
 *     httpd_open(&c, on_metrics, ctx, &h, &e);    on_metrics fills the body
 *     ... the loop runs ...
 *     httpd_close(h);
 *
 * Bounded: a request head larger than max_request is refused (431), at
 * most max_clients connections are open at once (more wait in the kernel's
 * backlog), and a connection that has not finished its request head within
 * timeout_ns, or stays idle that long between keep-alive requests, is
 * closed.  Bodies of requests are not read: a request with one is refused
 * (413).  The handler runs on the loop, so it should be quick: the body is
 * then written without blocking, as the socket takes it.
 *
 * The answer is compressed with gzip (zlib) when the request's
 * Accept-Encoding allows it, and the handler learns from the Accept header
 * whether the scraper prefers OpenMetrics to the text format 0.0.4. */
#ifndef RMON_HTTPD_H
#define RMON_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "lib/evloop.h"

struct httpd_config {
	const char *listen;   /* "host:port" or "[v6]:port"; the port is required */
	struct evloop *loop;  /* the program's loop (required) */
	uint32_t max_request; /* bytes of a request head; default 8 KiB */
	uint32_t max_clients; /* connections open at once; default 8 */
	int64_t timeout_ns;   /* to send a request head, or idle; default 30 s */
	int gzip_level;	      /* 1 (fast) to 9; default 1 */
};

void httpd_config_default(struct httpd_config *c, const char *listen, struct evloop *loop);

/* A request as parsed: pointers into the connection's buffer, valid
 * during the handler's call only. */
struct httpd_request {
	const char *path; /* "/metrics"; not NUL-terminated */
	size_t path_len;
	const char *query; /* after '?', still percent-encoded; NULL: none */
	size_t query_len;
	bool head;	  /* HEAD: the answer is sent without its body */
	bool gzip;	  /* Accept-Encoding allows gzip */
	bool openmetrics; /* Accept prefers application/openmetrics-text */
	bool keep_alive;  /* the connection stays open after the answer */
};

/* What a handler fills: the body is appended with httpd_append or
 * httpd_printf (a failed append leaves a flag that turns the answer into
 * a 500).  status defaults to 200, content_type to text/plain. */
struct httpd_response {
	int status;
	const char *content_type; /* a string that outlives the call */
	char *body;
	size_t len, cap;
	bool failed; /* out of memory while appending */
};

int httpd_append(struct httpd_response *r, const void *data, size_t len);
int httpd_printf(struct httpd_response *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Fills res for req; returns 0, or a negative code after which the
 * client gets a 500 and the message of e is logged by nobody (the
 * handler logs what the person should see). */
typedef int (*httpd_handler)(void *ctx, const struct httpd_request *req,
			     struct httpd_response *res);

struct httpd;

/* Listens on c->listen and serves GET /metrics with fn on c->loop.  *out
 * is the caller's: httpd_close it.  Errors: -EINVAL (the address, naming
 * it), the socket's (-EADDRINUSE ...) naming the address. */
int httpd_open(const struct httpd_config *c, httpd_handler fn, void *ctx, struct httpd **out,
	       struct err *e);

/* Closes every connection and the listener; h may be NULL. */
void httpd_close(struct httpd *h);

struct httpd_stats {
	uint64_t requests; /* answered with 200 */
	uint64_t refused;  /* answered with an error status, or cut off */
	uint32_t clients;  /* open now */
};
void httpd_get_stats(const struct httpd *h, struct httpd_stats *out);

/* ---- the parts, for tests and the fuzzer ---- */

/* Parses the request head in buf[0..len).  Returns the head's length
 * (through the blank line) when it is complete and well-formed, 0 when
 * more bytes are needed (and len < max), or the HTTP status to answer
 * with, negated: -400 (malformed: a bad request line, a header line
 * without a colon, a bare CR, a NUL), -431 (head longer than max), -405
 * (a method other than GET and HEAD), -413 (a body announced), -505 (not
 * HTTP/1.0 or 1.1).  e (may be NULL) says what and where. */
long httpd_parse(const char *buf, size_t len, size_t max, struct httpd_request *out, struct err *e);

/* The next key=value pair of a query string (percent-decoded, '+' is a
 * space): 1 with the pair in key and value (NUL-terminated), 0 at the end,
 * or -EINVAL for a bad %-escape and -ENAMETOOLONG for a part that does not
 * fit; *at moves past the pair. */
int httpd_query_next(const char **at, const char *end, char *key, size_t key_cap, char *value,
		     size_t value_cap);

#endif
