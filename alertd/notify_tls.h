/* notify_tls.h - the OpenSSL functions the mail code needs, found at run
 * time: our programs do not link libssl (docs/architecture.md), but
 * libesmtp does, so whenever mail code runs they are in the process and
 * dlsym finds them.  Each is called through a pointer of the type the
 * OpenSSL headers declare, so every call is still type-checked. */
#ifndef RMON_ALERTD_NOTIFY_TLS_H
#define RMON_ALERTD_NOTIFY_TLS_H

#include <stdbool.h>

#include <openssl/ssl.h>

#include "alertd/receiver.h"
#include "lib/err.h"

struct notify_tls {
	const SSL_METHOD *(*client_method)(void);
	SSL_CTX *(*ctx_new)(const SSL_METHOD *);
	void (*ctx_free)(SSL_CTX *);
	long (*ctx_ctrl)(SSL_CTX *, int, long, void *);
	int (*load_verify_locations)(SSL_CTX *, const char *, const char *);
	int (*set_default_verify_paths)(SSL_CTX *);
	SSL *(*ssl_new)(SSL_CTX *);
	void (*ssl_free)(SSL *);
	int (*set_fd)(SSL *, int);
	int (*set1_host)(SSL *, const char *);
	long (*ssl_ctrl)(SSL *, int, long, void *);
	int (*connect)(SSL *);
	int (*read)(SSL *, void *, int);
	int (*write)(SSL *, const void *, int);
	int (*pending)(const SSL *);
	int (*shutdown)(SSL *);
	int (*get_error)(const SSL *, int);
	long (*get_verify_result)(const SSL *);
	const char *(*verify_error_string)(long);
	void (*thread_stop)(void);
};

/* The functions, or NULL (with e saying so) when OpenSSL is not loaded. */
const struct notify_tls *notify_tls_get(struct err *e);

/* A client context for receiver r: TLS 1.2 or newer (at most max_version
 * when it is not 0), the receiver's ca_file or the system's CAs loaded
 * when tls_verify is on.  The caller frees it (ctx_free). */
SSL_CTX *notify_tls_context(const struct notify_tls *tls, const struct receiver *r, int max_version,
			    struct err *e);

#endif
