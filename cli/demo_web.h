/* demo_web.h - `rmon demo --web`: the demo's report served over HTTP with
 * its action forms, as docs/web.md sets a site up, but on the demo's own
 * terms: Debian's nginx and fcgiwrap run as children of the demo, with
 * configuration files of their own in DATA/web-server, listening on one
 * loopback address, the static site from DATA/www and /rmon/action through
 * fcgiwrap to rmon-web, all behind basic auth for one user "demo" (role
 * admin) whose random password is written to DATA/web-password (0600). */
#ifndef RMON_DEMO_WEB_H
#define RMON_DEMO_WEB_H

#include <stddef.h>

#include "lib/err.h"

#define DEMO_WEB_USER	    "demo"
#define DEMO_WEB_ACTION_URL "/rmon/action"

struct demo_web_options {
	const char *addr; /* an IPv4 address, "127.0.0.1" unless given */
	int port;
	const char *data;    /* absolute: rmon-web's RMON_DATA */
	const char *www;     /* absolute: the site's folder, nginx's root */
	const char *config;  /* absolute: alertd's configuration (RMON_CONFIG) */
	const char *web_bin; /* the rmon-web program */
};

struct demo_web;

/* Reads "[ADDR:]PORT" into addr (cap bytes) and *port: ADDR an IPv4
 * address in dotted form (it goes into nginx's configuration, so nothing
 * else is let through), PORT 1 to 65535.  -EINVAL with the reason. */
int demo_web_parse_listen(const char *arg, char *addr, size_t cap, int *port, struct err *e);

/* The settings reportgen and rmon-web need in alertd's configuration for
 * the forms to appear and to lead back to their pages: [report] url and
 * [web] action_url, for the address in o. */
int demo_web_config(const struct demo_web_options *o, char *buf, size_t cap);

/* Writes the users and password files and nginx's configuration, starts
 * fcgiwrap and nginx and waits until nginx answers.  nginx or fcgiwrap
 * missing is -ENOENT naming the Debian package; one that does not start is
 * an error quoting its log.  On success *out owns both processes (stop
 * them with demo_web_stop) and the password is in demo_web_password. */
int demo_web_start(const struct demo_web_options *o, struct demo_web **out, struct err *e);

const char *demo_web_password(const struct demo_web *w);
const char *demo_web_password_file(const struct demo_web *w);
const char *demo_web_url(const struct demo_web *w);

/* Stops nginx and fcgiwrap, and every process of theirs, and frees w
 * (which may be NULL). */
void demo_web_stop(struct demo_web *w);

#endif
