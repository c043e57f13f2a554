/* notify_tls.c - OpenSSL's functions through dlsym; see notify_tls.h. */
#include "alertd/notify_tls.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stddef.h>

#include "alertd/receiver_private.h"

static struct notify_tls api;
static bool found;
static pthread_once_t once = PTHREAD_ONCE_INIT;

#define FIND(field, name) (*(void **)&api.field = dlsym(RTLD_DEFAULT, name)) != NULL

static void look_up(void)
{
	found =
	    FIND(client_method, "TLS_client_method") && FIND(ctx_new, "SSL_CTX_new") &&
	    FIND(ctx_free, "SSL_CTX_free") && FIND(ctx_ctrl, "SSL_CTX_ctrl") &&
	    FIND(load_verify_locations, "SSL_CTX_load_verify_locations") &&
	    FIND(set_default_verify_paths, "SSL_CTX_set_default_verify_paths") &&
	    FIND(ssl_new, "SSL_new") && FIND(ssl_free, "SSL_free") && FIND(set_fd, "SSL_set_fd") &&
	    FIND(set1_host, "SSL_set1_host") && FIND(ssl_ctrl, "SSL_ctrl") &&
	    FIND(connect, "SSL_connect") && FIND(read, "SSL_read") && FIND(write, "SSL_write") &&
	    FIND(pending, "SSL_pending") && FIND(shutdown, "SSL_shutdown") &&
	    FIND(get_error, "SSL_get_error") && FIND(get_verify_result, "SSL_get_verify_result") &&
	    FIND(verify_error_string, "X509_verify_cert_error_string") &&
	    FIND(thread_stop, "OPENSSL_thread_stop");
}

const struct notify_tls *notify_tls_get(struct err *e)
{
	pthread_once(&once, look_up);
	if (!found) {
		err_set(e, -ENOTSUP, "OpenSSL's functions are not loaded (libesmtp without TLS?)");
		return NULL;
	}
	return &api;
}

SSL_CTX *notify_tls_context(const struct notify_tls *tls, const struct receiver *r, int max_version,
			    struct err *e)
{
	const struct receiver_private *p = r->priv;
	SSL_CTX *ctx = tls->ctx_new(tls->client_method());
	if (!ctx) {
		err_set(e, -ENOMEM, "cannot start TLS");
		return NULL;
	}
	tls->ctx_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_2_VERSION, NULL);
	if (max_version)
		tls->ctx_ctrl(ctx, SSL_CTRL_SET_MAX_PROTO_VERSION, max_version, NULL);
	/* No SSL_VERIFY_PEER: the handshake completes and the caller checks
	 * the verify result, so its message can say why it refuses. */
	if (p->tls_verify && (p->ca_file ? tls->load_verify_locations(ctx, p->ca_file, NULL) != 1
					 : tls->set_default_verify_paths(ctx) != 1)) {
		tls->ctx_free(ctx);
		err_set(e, -EACCES, "%s:%d: [receiver %s]: cannot read the CA certificates %s",
			r->file, r->line, r->name, p->ca_file ? p->ca_file : "(system default)");
		return NULL;
	}
	return ctx;
}
