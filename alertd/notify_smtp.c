/* notify_smtp.c - one mail handed to an SMTP server through libesmtp, in a
 * worker thread (libesmtp blocks); see notify_send.h.  STARTTLS is
 * required when asked for (a server that does not offer it ends the
 * session: a password never goes out in clear), certificates are checked
 * unless tls_verify = false, and AUTH uses the receiver's user and
 * password through libesmtp's SASL plugins. */
#include "alertd/notify_send.h"

#include <dlfcn.h>
#include <errno.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <auth-client.h>
#include <libesmtp.h>

#include "alertd/receiver_private.h"
#include "lib/rtime.h"

struct session_ctx {
	const struct receiver *r;
	char tls_problem[160];
};

static pthread_once_t auth_once = PTHREAD_ONCE_INIT;

static void auth_init(void)
{
	auth_client_init();
}

static int on_auth(auth_client_request_t request, char **result, int fields, void *arg)
{
	const struct receiver_private *p = arg;
	for (int i = 0; i < fields; i++) {
		if (request[i].flags & AUTH_PASS)
			result[i] = (char *)p->password;
		else
			result[i] = (char *)p->user;
	}
	return 1;
}

/* libesmtp asks here whether to go on with a certificate it doubts. */
static void on_event(smtp_session_t session, int event, void *arg, ...)
{
	struct session_ctx *ctx = arg;
	const char *what = NULL;
	int *ok = NULL;
	va_list ap;
	(void)session;
	va_start(ap, arg);
	switch (event) {
	case SMTP_EV_INVALID_PEER_CERTIFICATE:
		(void)va_arg(ap, long);
		ok = va_arg(ap, int *);
		what = "the server's certificate is not trusted";
		break;
	case SMTP_EV_NO_PEER_CERTIFICATE:
		ok = va_arg(ap, int *);
		what = "the server showed no certificate";
		break;
	case SMTP_EV_WRONG_PEER_CERTIFICATE:
		ok = va_arg(ap, int *);
		what = "the server's certificate is for another name";
		break;
	case SMTP_EV_EXTNA_STARTTLS:
		what = "the server does not offer STARTTLS";
		break;
	default:
		break;
	}
	va_end(ap);
	if (ok)
		*ok = ctx->r->priv->tls_verify ? 0 : 1;
	if (what && (!ok || !*ok))
		snprintf(ctx->tls_problem, sizeof ctx->tls_problem, "%s", what);
}

/* OpenSSL is not linked into our programs (configure.py loads it only
 * where needed); libesmtp links it, so its functions are in the process
 * whenever this file runs, and are looked up by name. */
struct tls_api {
	const SSL_METHOD *(*client_method)(void);
	SSL_CTX *(*ctx_new)(const SSL_METHOD *);
	void (*ctx_free)(SSL_CTX *);
	long (*ctx_ctrl)(SSL_CTX *, int, long, void *);
	int (*load_verify_locations)(SSL_CTX *, const char *, const char *);
	int (*set_default_verify_paths)(SSL_CTX *);
};

static bool tls_api(struct tls_api *api)
{
	*(void **)&api->client_method = dlsym(RTLD_DEFAULT, "TLS_client_method");
	*(void **)&api->ctx_new = dlsym(RTLD_DEFAULT, "SSL_CTX_new");
	*(void **)&api->ctx_free = dlsym(RTLD_DEFAULT, "SSL_CTX_free");
	*(void **)&api->ctx_ctrl = dlsym(RTLD_DEFAULT, "SSL_CTX_ctrl");
	*(void **)&api->load_verify_locations =
	    dlsym(RTLD_DEFAULT, "SSL_CTX_load_verify_locations");
	*(void **)&api->set_default_verify_paths =
	    dlsym(RTLD_DEFAULT, "SSL_CTX_set_default_verify_paths");
	return api->client_method && api->ctx_new && api->ctx_free && api->ctx_ctrl &&
	       api->load_verify_locations && api->set_default_verify_paths;
}

static SSL_CTX *tls_context(const struct tls_api *api, const struct receiver_private *p,
			    struct err *e)
{
	SSL_CTX *tls = api->ctx_new(api->client_method());
	if (!tls) {
		err_set(e, -ENOMEM, "cannot start TLS");
		return NULL;
	}
	/* TLS 1.2 at most: libesmtp waits on the socket for a reply that
	 * OpenSSL already holds when a TLS 1.3 server's session tickets
	 * arrive between records, and a session then stalls until its
	 * timeout (seen in about one session in four against aiosmtpd). */
	api->ctx_ctrl(tls, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_2_VERSION, NULL);
	api->ctx_ctrl(tls, SSL_CTRL_SET_MAX_PROTO_VERSION, TLS1_2_VERSION, NULL);
	/* No SSL_VERIFY_PEER: the handshake completes, and libesmtp then
	 * checks the verify result and the name, asking on_event, which
	 * says why it refuses. */
	if (p->tls_verify) {
		if (p->ca_file ? api->load_verify_locations(tls, p->ca_file, NULL) != 1
			       : api->set_default_verify_paths(tls) != 1) {
			api->ctx_free(tls);
			err_set(e, -EACCES, "cannot read the CA certificates %s",
				p->ca_file ? p->ca_file : "(system default)");
			return NULL;
		}
	}
	return tls;
}

int notify_smtp_send(const struct receiver *r, const char *mail, size_t len, struct err *e)
{
	const struct receiver_private *p = r->priv;
	struct session_ctx ctx = { .r = r };
	smtp_session_t session = NULL;
	auth_context_t auth = NULL;
	SSL_CTX *tls = NULL;
	struct tls_api api;
	char server[512], why[256];
	int rc = 0;
	(void)len;
	if (p->tls == RECEIVER_TLS_IMPLICIT)
		return err_set(e, -ENOTSUP, "%s:%d: tls = implicit is not supported yet", r->file,
			       r->line);
	pthread_once(&auth_once, auth_init);
	if (!(session = smtp_create_session()))
		return err_set(e, -ENOMEM, "cannot start an SMTP session");
	smtp_message_t message = smtp_add_message(session);
	snprintf(server, sizeof server, strchr(p->server, ':') ? "[%s]:%d" : "%s:%d", p->server,
		 p->port);
	if (!message || !smtp_set_server(session, server) ||
	    !smtp_set_reverse_path(message, p->from) ||
	    !smtp_set_message_str(message, (void *)mail)) {
		rc = err_set(e, -ENOMEM, "cannot prepare the SMTP session to %s", server);
		goto out;
	}
	for (size_t i = 0; i < p->n_to; i++)
		smtp_add_recipient(message, p->to[i]);
	for (size_t i = 0; i < p->n_cc; i++)
		smtp_add_recipient(message, p->cc[i]);
	long ms = (long)(p->timeout_ns / RTIME_NS_PER_MS);
	for (int which = Timeout_GREETING; which <= Timeout_DATA2; which++)
		smtp_set_timeout(session, which | Timeout_OVERRIDE_RFC2822_MINIMUM, ms);
	smtp_set_eventcb(session, on_event, &ctx);
	if (p->tls == RECEIVER_TLS_STARTTLS) {
		if (!tls_api(&api)) {
			rc = err_set(e, -ENOTSUP, "OpenSSL's functions are not loaded");
			goto out;
		}
		if (!(tls = tls_context(&api, p, e))) {
			rc = e ? e->code : -EACCES;
			goto out;
		}
		smtp_starttls_set_ctx(session, tls);
		smtp_starttls_enable(session, Starttls_REQUIRED);
	} else {
		smtp_starttls_enable(session, Starttls_DISABLED);
	}
	if (p->user) {
		auth = auth_create_context();
		auth_set_mechanism_flags(auth, AUTH_PLUGIN_PLAIN, 0);
		auth_set_interact_cb(auth, on_auth, (void *)p);
		smtp_auth_set_context(session, auth);
	}
	if (!smtp_start_session(session)) {
		int code = smtp_errno();
		smtp_strerror(code, why, sizeof why);
		rc = err_set(e, ctx.tls_problem[0] ? -EACCES : -ECONNREFUSED, "SMTP %s: %s", server,
			     ctx.tls_problem[0] ? ctx.tls_problem : why);
		goto out;
	}
	const smtp_status_t *status = smtp_message_transfer_status(message);
	if (!status || status->code / 100 != 2) {
		/* A refused AUTH or MAIL ends the session with no message
		 * status: say what we know. */
		const smtp_status_t *from = smtp_reverse_path_status(message);
		int code = status && status->code ? status->code : from ? from->code : 0;
		const char *text = status && status->text ? status->text
				   : from && from->text
				       ? from->text
				       : (ctx.tls_problem[0] ? ctx.tls_problem : "no reply");
		char number[16] = "";
		if (code)
			snprintf(number, sizeof number, "%d ", code);
		rc = err_set(e, ctx.tls_problem[0] ? -EACCES : -EAGAIN, "SMTP %s refused: %s%.*s%s",
			     server, number, (int)strcspn(text, "\r\n"), text,
			     code == 530 && p->user ? " (was the password refused?)" : "");
	}
out:
	smtp_destroy_session(session);
	if (auth)
		auth_destroy_context(auth);
	if (tls)
		api.ctx_free(tls);
	return rc;
}
