/* url.c - see url.h. */
#include "lib/url.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool scheme_char(char c, bool first)
{
	return isalpha((unsigned char)c) ||
	       (!first && (isdigit((unsigned char)c) || c == '+' || c == '-' || c == '.'));
}

static bool host_ok(struct url_span h)
{
	if (h.len == 0)
		return false;
	for (size_t i = 0; i < h.len; i++) {
		unsigned char c = (unsigned char)h.at[i];
		if (c <= ' ' || c == 0x7f || c == '@' || c == '\\')
			return false;
	}
	if (h.at[0] == '[') /* an IPv6 literal: [hex:hex...] */
		return h.len > 2 && h.at[h.len - 1] == ']';
	return memchr(h.at, '[', h.len) == NULL && memchr(h.at, ']', h.len) == NULL;
}

static bool port_ok(struct url_span p)
{
	unsigned long v = 0;
	if (p.len == 0 || p.len > 5)
		return false;
	for (size_t i = 0; i < p.len; i++) {
		if (!isdigit((unsigned char)p.at[i]))
			return false;
		v = v * 10 + (unsigned long)(p.at[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

bool url_split(const char *url, struct url_parts *out)
{
	memset(out, 0, sizeof *out);
	const char *s = url, *sep = strstr(url, "://");
	if (!sep || sep == url)
		return false;
	for (const char *c = s; c < sep; c++)
		if (!scheme_char(*c, c == s))
			return false;
	out->scheme = (struct url_span){ s, (size_t)(sep - s) };
	const char *auth = sep + 3, *end = auth + strcspn(auth, "/?#");
	out->rest = (struct url_span){ end, strlen(end) };
	const char *at = NULL; /* the last '@': a password may hold one */
	for (const char *c = auth; c < end; c++)
		if (*c == '@')
			at = c;
	const char *host = auth;
	if (at) {
		out->userinfo = (struct url_span){ auth, (size_t)(at - auth) };
		host = at + 1;
	}
	/* The port follows the last ':' that is not inside an IPv6 literal. */
	const char *close =
	    host < end && *host == '[' ? memchr(host, ']', (size_t)(end - host)) : NULL;
	const char *colon = NULL;
	for (const char *c = close ? close : host; c < end; c++)
		if (*c == ':')
			colon = c;
	out->host = (struct url_span){ host, (size_t)((colon ? colon : end) - host) };
	if (colon)
		out->port = (struct url_span){ colon + 1, (size_t)(end - colon - 1) };
	return host_ok(out->host) && (!colon || port_ok(out->port));
}

bool url_scheme_is(const struct url_parts *u, const char *scheme)
{
	return u->scheme.len == strlen(scheme) &&
	       strncasecmp(u->scheme.at, scheme, u->scheme.len) == 0;
}

void url_origin(const char *url, char *buf, size_t cap)
{
	struct url_parts u;
	if (cap == 0)
		return;
	buf[0] = '\0';
	if (!url_split(url, &u))
		return;
	char scheme[16];
	size_t n = u.scheme.len < sizeof scheme - 1 ? u.scheme.len : sizeof scheme - 1;
	for (size_t i = 0; i < n; i++)
		scheme[i] = (char)tolower((unsigned char)u.scheme.at[i]);
	scheme[n] = '\0';
	snprintf(buf, cap, "%s://%.*s%s%.*s", scheme, (int)u.host.len, u.host.at,
		 u.port.len ? ":" : "", (int)u.port.len, u.port.at);
}
