/* url.h - the parts of an absolute URL (RFC 3986's scheme://authority
 * path?query#fragment), for checking what a configuration names and for
 * showing where it points without its secrets.  Only the split is done
 * here, without a library: the programs that check a configuration
 * (rmon-web among them) then need no HTTP client loaded to start. */
#ifndef RMON_URL_H
#define RMON_URL_H

#include <stdbool.h>
#include <stddef.h>

/* A part is a span of the URL given: start and length (0 when absent). */
struct url_span {
	const char *at;
	size_t len;
};

struct url_parts {
	struct url_span scheme;	  /* "https" */
	struct url_span userinfo; /* "user:password", before the '@' */
	struct url_span host;	  /* "example.com", "[::1]" */
	struct url_span port;	  /* "8443" */
	struct url_span rest;	  /* "/path?query#fragment" */
};

/* Splits url into out; false when it is not scheme://host[:port][rest]
 * with a scheme of letters, digits, '+', '-' and '.', a host that is not
 * empty and holds no space or control character, and a port of 1..65535. */
bool url_split(const char *url, struct url_parts *out);

/* True when the scheme is `scheme`, in any case. */
bool url_scheme_is(const struct url_parts *u, const char *scheme);

/* "scheme://host[:port]" into buf (cap bytes, cut to fit): what a URL
 * points at, without the user, password, path and query that may be
 * secrets.  "" when url does not split. */
void url_origin(const char *url, char *buf, size_t cap);

#endif
