/* notify_tunnel.h - implicit TLS (SMTPS, port 465) for libesmtp, which
 * speaks only STARTTLS: a TLS connection to the receiver's server, checked
 * as tls_verify and ca_file say, with a loopback end for libesmtp. */
#ifndef RMON_ALERTD_NOTIFY_TUNNEL_H
#define RMON_ALERTD_NOTIFY_TUNNEL_H

#include <stddef.h>

#include "alertd/receiver.h"
#include "lib/err.h"

struct tunnel;

/* Connects to r's server and port, completes the TLS handshake and checks
 * the certificate, then writes into hostport the "127.0.0.1:PORT" to give
 * libesmtp (one connection, accepted within r's timeout).  Errors name
 * the server: -EACCES for TLS and certificate problems. */
int notify_tunnel_open(const struct receiver *r, char *hostport, size_t cap, struct tunnel **out,
		       struct err *e);

/* Ends the relay and closes both ends; t may be NULL. */
void notify_tunnel_close(struct tunnel *t);

#endif
