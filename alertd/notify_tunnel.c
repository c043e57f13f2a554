/* notify_tunnel.c - TLS from the first byte (SMTPS, port 465) for
 * libesmtp, which speaks only STARTTLS.  The tunnel connects to the
 * server and completes and checks the TLS handshake first (so a bad
 * certificate is a clear error before any SMTP), then listens on a
 * loopback port of its own for the one connection libesmtp makes, and a
 * thread relays the bytes between the two until either side closes.  The
 * plain hop never leaves this host's loopback. */
#include "alertd/notify_tunnel.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "alertd/notify_tls.h"
#include "alertd/receiver_private.h"
#include "lib/rtime.h"

struct tunnel {
	const struct notify_tls *tls;
	SSL_CTX *ctx;
	SSL *ssl;
	int server; /* the TCP connection under ssl */
	int listener;
	int stop[2]; /* a pipe: closing its write end ends the relay */
	int timeout_ms;
	pthread_t thread;
	bool started;
};

/* A TCP connection to host:port within timeout_ms, to the first address
 * that answers. */
static int dial(const char *host, int port, int timeout_ms, struct err *e)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *list, *ai;
	char service[16];
	int fd = -1, rc;
	snprintf(service, sizeof service, "%d", port);
	if ((rc = getaddrinfo(host, service, &hints, &list)) != 0)
		return err_set(e, -EHOSTUNREACH, "SMTP %s:%d: %s", host, port, gai_strerror(rc));
	rc = -ECONNREFUSED;
	for (ai = list; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
			struct pollfd p = { fd, POLLOUT, 0 };
			int soerr = 0;
			socklen_t slen = sizeof soerr;
			if (poll(&p, 1, timeout_ms) == 1 &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) == 0 &&
			    soerr == 0) {
				/* Blocking again: OpenSSL and the relay wait in poll. */
				fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
				break;
			}
			rc = soerr ? -soerr : -ETIMEDOUT;
		} else {
			rc = -errno;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(list);
	if (fd < 0)
		return err_sys(e, rc, "SMTP %s:%d", host, port);
	return fd;
}

static int handshake(struct tunnel *t, const struct receiver *r, struct err *e)
{
	const struct receiver_private *p = r->priv;
	const struct notify_tls *tls = t->tls;
	struct timeval tv = { t->timeout_ms / 1000, (t->timeout_ms % 1000) * 1000 };
	setsockopt(t->server, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(t->server, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (!(t->ssl = tls->ssl_new(t->ctx)) || tls->set_fd(t->ssl, t->server) != 1)
		return err_set(e, -ENOMEM, "cannot start TLS");
	tls->ssl_ctrl(t->ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
		      (void *)p->server);
	if (p->tls_verify)
		tls->set1_host(t->ssl, p->server);
	if (tls->connect(t->ssl) != 1)
		return err_set(e, -EACCES, "SMTP %s:%d: the TLS handshake failed", p->server,
			       p->port);
	long verify = tls->get_verify_result(t->ssl);
	if (p->tls_verify && verify != X509_V_OK)
		return err_set(e, -EACCES, "SMTP %s:%d refused: the server's certificate: %s",
			       p->server, p->port, tls->verify_error_string(verify));
	return 0;
}

/* Copies what one side has to the other; false when that side ended. */
static bool pass_plain(struct tunnel *t, int local)
{
	char buf[16384];
	ssize_t n = read(local, buf, sizeof buf);
	if (n <= 0)
		return false;
	return t->tls->write(t->ssl, buf, (int)n) == (int)n;
}

static bool pass_tls(struct tunnel *t, int local)
{
	char buf[16384];
	do {
		int n = t->tls->read(t->ssl, buf, sizeof buf);
		if (n <= 0)
			return false;
		for (int off = 0; off < n;) {
			ssize_t w = write(local, buf + off, (size_t)(n - off));
			if (w <= 0)
				return false;
			off += (int)w;
		}
	} while (t->tls->pending(t->ssl) > 0);
	return true;
}

static void *relay(void *arg)
{
	struct tunnel *t = arg;
	struct pollfd wait_for[2] = { { t->listener, POLLIN, 0 }, { t->stop[0], POLLIN, 0 } };
	int local = -1;
	if (poll(wait_for, 2, t->timeout_ms) == 1 && (wait_for[0].revents & POLLIN))
		local = accept4(t->listener, NULL, NULL, SOCK_CLOEXEC);
	while (local >= 0) {
		struct pollfd p[3] = { { local, POLLIN, 0 },
				       { t->server, POLLIN, 0 },
				       { t->stop[0], POLLIN, 0 } };
		/* Bytes OpenSSL holds already would never wake poll. */
		if (t->tls->pending(t->ssl) > 0) {
			if (!pass_tls(t, local))
				break;
			continue;
		}
		if (poll(p, 3, -1) < 0 && errno != EINTR)
			break;
		if (p[2].revents)
			break;
		if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) && !pass_plain(t, local))
			break;
		if ((p[1].revents & (POLLIN | POLLHUP | POLLERR)) && !pass_tls(t, local))
			break;
	}
	if (local >= 0)
		close(local);
	return NULL;
}

static int listen_loopback(char *hostport, size_t cap, struct err *e)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 1) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
		int rc = err_sys(e, -errno, "cannot listen on the loopback for the TLS tunnel");
		if (fd >= 0)
			close(fd);
		return rc;
	}
	snprintf(hostport, cap, "127.0.0.1:%d", ntohs(a.sin_port));
	return fd;
}

int notify_tunnel_open(const struct receiver *r, char *hostport, size_t cap, struct tunnel **out,
		       struct err *e)
{
	const struct receiver_private *p = r->priv;
	struct tunnel *t = calloc(1, sizeof *t);
	int rc;
	*out = NULL;
	if (!t)
		return err_set(e, -ENOMEM, "out of memory");
	t->server = t->listener = t->stop[0] = t->stop[1] = -1;
	t->timeout_ms = (int)(p->timeout_ns / RTIME_NS_PER_MS);
	if (!(t->tls = notify_tls_get(e)) || !(t->ctx = notify_tls_context(t->tls, r, 0, e))) {
		rc = e && e->code ? e->code : -ENOTSUP;
		goto fail;
	}
	if ((rc = t->server = dial(p->server, p->port, t->timeout_ms, e)) < 0 ||
	    (rc = handshake(t, r, e)) != 0 ||
	    (rc = t->listener = listen_loopback(hostport, cap, e)) < 0)
		goto fail;
	if (pipe2(t->stop, O_CLOEXEC) != 0) {
		rc = err_sys(e, -errno, "cannot make the TLS tunnel's pipe");
		goto fail;
	}
	if ((rc = pthread_create(&t->thread, NULL, relay, t)) != 0) {
		rc = err_sys(e, -rc, "cannot start the TLS tunnel");
		goto fail;
	}
	t->started = true;
	*out = t;
	return 0;
fail:
	notify_tunnel_close(t);
	return rc < 0 ? rc : -EIO;
}

void notify_tunnel_close(struct tunnel *t)
{
	if (!t)
		return;
	if (t->started) {
		close(t->stop[1]);
		t->stop[1] = -1;
		pthread_join(t->thread, NULL);
	}
	if (t->ssl) {
		t->tls->shutdown(t->ssl);
		t->tls->ssl_free(t->ssl);
	}
	if (t->ctx)
		t->tls->ctx_free(t->ctx);
	int fds[] = { t->server, t->listener, t->stop[0], t->stop[1] };
	for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(t);
}
