/* link.h - one ingest connection: a non-blocking TCP socket, TLS when
 * configured (OpenSSL), and the byte buffers that frames (proto.h) are read
 * from and written to.  Used by the ingest server and by the shipper on
 * agents and relays, so both sides frame and encrypt the same way.
 *
 * Nothing here blocks except name resolution in link_connect. */
#ifndef RMON_LINK_H
#define RMON_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "lib/err.h"
#include "net/proto.h"

struct link {
	int fd;
	SSL *ssl;	  /* NULL: plain TCP */
	bool handshaking; /* TLS handshake not finished */
	bool want_write;  /* TLS must write before it can read on */
	struct proto_buf in, out;
	size_t in_pos; /* bytes of `in` already taken as frames */
	char peer[80]; /* "address:port", for log lines */
};

/* Splits "host:port", "[v6]:port" or "host" (default port) into a host and
 * a port.  -EINVAL with a message naming the address when it is not one. */
int link_split_address(const char *address, char *host, size_t host_len, char *port,
		       size_t port_len, struct err *e);

/* A listening socket on address (SO_REUSEADDR, non-blocking). */
int link_listen(const char *address, int *fd, struct err *e);

/* Starts a non-blocking connect to address; the socket becomes writable
 * when it finishes (then call link_connected). */
int link_connect(const char *address, int *fd, struct err *e);

/* After a non-blocking connect said writable: 0, or the connect's error. */
int link_connected(int fd, struct err *e);

/* TLS contexts: a server's certificate and key, or a client's trusted
 * certificate(s) to check the server against (ca_file NULL: the system's). */
int link_tls_server_context(const char *cert_file, const char *key_file, SSL_CTX **out,
			    struct err *e);
int link_tls_client_context(const char *ca_file, SSL_CTX **out, struct err *e);
void link_tls_context_free(SSL_CTX *ctx); /* NULL is fine */

/* Sets up l around a connected socket fd (owned by l from now on).  tls
 * NULL means plain TCP; otherwise a server (accepting) or a client that
 * checks the certificate names verify_host. */
int link_init(struct link *l, int fd, SSL_CTX *tls, bool server, const char *verify_host,
	      struct err *e);

/* Closes the socket and frees the buffers. */
void link_close(struct link *l);

/* Moves the TLS handshake on: 0 when done, -EAGAIN while it waits for
 * the socket, or an error naming the peer. */
int link_handshake(struct link *l, struct err *e);

/* Reads what the socket holds into l->in (up to about max bytes). Returns
 * the byte count, -EAGAIN when nothing is there, -ECONNRESET at the end of
 * the stream, or another error. */
int64_t link_fill(struct link *l, size_t max, struct err *e);

/* Writes l->out.  Returns 0 when everything went, -EAGAIN when some is
 * left for later, or an error. */
int link_flush(struct link *l, struct err *e);

/* The next whole frame in l->in: returns its payload length with *payload
 * pointing at it (valid until the next link_fill) and takes it; -EAGAIN when
 * no whole frame is there yet; -E2BIG when the header announces more than
 * max bytes. */
int64_t link_next_frame(struct link *l, uint32_t max, const uint8_t **payload, struct err *e);

/* Drops the frames already taken, and the buffer itself when it is empty
 * and large, so idle connections hold next to no memory. */
void link_compact(struct link *l);

#endif
