/* notify_smtp.c - one mail handed to an SMTP server through libesmtp, in a
 * worker thread (libesmtp blocks); see notify_send.h.  STARTTLS is
 * required when asked for (a server that does not offer it ends the
 * session: a password never goes out in clear), implicit TLS (port 465)
 * goes through notify_tunnel.c, certificates are checked
 * unless tls_verify = false, and AUTH uses the receiver's user and
 * password through libesmtp's SASL plugins. */
#include "alertd/notify_send.h"

#include <errno.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <auth-client.h>
#include <libesmtp.h>

#include "alertd/notify_tls.h"
#include "alertd/notify_tunnel.h"
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

int notify_smtp_send(const struct receiver *r, const char *mail, size_t len, struct err *e)
{
	const struct receiver_private *p = r->priv;
	struct session_ctx ctx = { .r = r };
	smtp_session_t session = NULL;
	auth_context_t auth = NULL;
	SSL_CTX *tls = NULL;
	const struct notify_tls *api = NULL;
	struct tunnel *tunnel = NULL;
	char server[512], why[256], local[64];
	int rc = 0;
	(void)len;
	pthread_once(&auth_once, auth_init);
	snprintf(server, sizeof server, strchr(p->server, ':') ? "[%s]:%d" : "%s:%d", p->server,
		 p->port);
	/* Implicit TLS: libesmtp talks to a loopback end of a tunnel whose
	 * other end is the TLS connection, checked before a byte of SMTP. */
	if (p->tls == RECEIVER_TLS_IMPLICIT &&
	    (rc = notify_tunnel_open(r, local, sizeof local, &tunnel, e)) != 0)
		return rc;
	if (!(session = smtp_create_session())) {
		notify_tunnel_close(tunnel);
		return err_set(e, -ENOMEM, "cannot start an SMTP session");
	}
	smtp_message_t message = smtp_add_message(session);
	if (!message || !smtp_set_server(session, tunnel ? local : server) ||
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
		/* TLS 1.2 at most: libesmtp waits on the socket for a reply
		 * that OpenSSL already holds when a TLS 1.3 server's session
		 * tickets arrive between records, and a session then stalls
		 * until its timeout (one in four against aiosmtpd). */
		if (!(api = notify_tls_get(e)) ||
		    !(tls = notify_tls_context(api, r, TLS1_2_VERSION, e))) {
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
		api->ctx_free(tls);
	notify_tunnel_close(tunnel);
	return rc;
}

void notify_smtp_thread_end(void)
{
	const struct notify_tls *api = notify_tls_get(NULL);
	if (api)
		api->thread_stop();
}
