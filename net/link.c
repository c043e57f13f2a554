/* link.c - non-blocking TCP (+ TLS) connections carrying frames; see link.h. */
#include "net/link.h"
#include "net/ossl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_CHUNK	 (64 * 1024)
#define KEEP_IDLE_BUFFER (16 * 1024) /* an empty buffer larger than this is freed */

int link_split_address(const char *address, char *host, size_t host_len, char *port,
		       size_t port_len, struct err *e)
{
	const char *colon, *host_start = address, *host_end;
	if (address[0] == '[') {
		host_start = address + 1;
		host_end = strchr(host_start, ']');
		if (!host_end || (host_end[1] != '\0' && host_end[1] != ':'))
			return err_set(e, -EINVAL, "address '%s': expected [IPv6]:port", address);
		colon = host_end[1] == ':' ? host_end + 1 : NULL;
	} else {
		colon = strrchr(address, ':');
		if (colon && strchr(address, ':') != colon)
			return err_set(e, -EINVAL,
				       "address '%s': write IPv6 addresses as [addr]:port",
				       address);
		host_end = colon ? colon : address + strlen(address);
	}
	size_t n = (size_t)(host_end - host_start);
	if (n == 0 || n >= host_len)
		return err_set(e, -EINVAL, "address '%s': no host name", address);
	memcpy(host, host_start, n);
	host[n] = '\0';
	if (!colon) {
		snprintf(port, port_len, "%d", PROTO_DEFAULT_PORT);
		return 0;
	}
	char *end;
	long p = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || p < 1 || p > 65535)
		return err_set(e, -EINVAL, "address '%s': the port is not a number from 1 to 65535",
			       address);
	snprintf(port, port_len, "%ld", p);
	return 0;
}

static int resolve(const char *address, bool passive, struct addrinfo **out, struct err *e)
{
	char host[256], port[8];
	int rc = link_split_address(address, host, sizeof host, port, sizeof port, e);
	if (rc != 0)
		return rc;
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	hints.ai_flags = passive ? AI_PASSIVE : 0;
	int gai = getaddrinfo(host, port, &hints, out);
	if (gai != 0)
		return err_set(e, -EHOSTUNREACH, "address '%s': %s", address, gai_strerror(gai));
	return 0;
}

int link_listen(const char *address, int *fd, struct err *e)
{
	struct addrinfo *ai;
	int rc = resolve(address, true, &ai, e);
	if (rc != 0)
		return rc;
	int s = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (s < 0) {
		rc = err_sys(e, -errno, "listen %s: socket", address);
	} else if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
		   bind(s, ai->ai_addr, ai->ai_addrlen) != 0 || listen(s, 4096) != 0) {
		rc = err_sys(e, -errno, "listen %s", address);
		close(s);
	} else {
		*fd = s;
	}
	freeaddrinfo(ai);
	return rc;
}

int link_connect(const char *address, int *fd, struct err *e)
{
	struct addrinfo *ai;
	int rc = resolve(address, false, &ai, e);
	if (rc != 0)
		return rc;
	int s = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (s < 0) {
		rc = err_sys(e, -errno, "connect %s: socket", address);
	} else if (setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one),
		   connect(s, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
		rc = err_sys(e, -errno, "connect %s", address);
		close(s);
	} else {
		*fd = s;
	}
	freeaddrinfo(ai);
	return rc;
}

int link_connected(int fd, struct err *e)
{
	int error = 0;
	socklen_t len = sizeof error;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0)
		error = errno;
	return error ? err_sys(e, -error, "connect") : 0;
}

/* The first OpenSSL error on this thread's queue, for messages. */
static const char *tls_reason(void)
{
	static __thread char text[160];
	unsigned long code = ossl.ERR_get_error();
	if (!code)
		return "no detail from OpenSSL";
	ossl.ERR_error_string_n(code, text, sizeof text);
	ossl.ERR_clear_error();
	return text;
}

int link_tls_server_context(const char *cert_file, const char *key_file, SSL_CTX **out,
			    struct err *e)
{
	int rc = ossl_load_ssl(e);
	if (rc != 0)
		return rc;
	SSL_CTX *ctx = ossl.SSL_CTX_new(ossl.TLS_server_method());
	if (!ctx)
		return err_set(e, -ENOMEM, "TLS: %s", tls_reason());
	ossl.SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_2_VERSION, NULL);
	if (ossl.SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		ossl.SSL_CTX_free(ctx);
		return err_set(e, -EINVAL, "TLS certificate %s: %s", cert_file, tls_reason());
	}
	if (ossl.SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1 ||
	    ossl.SSL_CTX_check_private_key(ctx) != 1) {
		ossl.SSL_CTX_free(ctx);
		return err_set(e, -EINVAL, "TLS key %s: %s", key_file, tls_reason());
	}
	*out = ctx;
	return 0;
}

int link_tls_client_context(const char *ca_file, SSL_CTX **out, struct err *e)
{
	int rc = ossl_load_ssl(e);
	if (rc != 0)
		return rc;
	SSL_CTX *ctx = ossl.SSL_CTX_new(ossl.TLS_client_method());
	if (!ctx)
		return err_set(e, -ENOMEM, "TLS: %s", tls_reason());
	ossl.SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_2_VERSION, NULL);
	ossl.SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	int ok = ca_file ? ossl.SSL_CTX_load_verify_locations(ctx, ca_file, NULL)
			 : ossl.SSL_CTX_set_default_verify_paths(ctx);
	if (ok != 1) {
		ossl.SSL_CTX_free(ctx);
		return err_set(e, -EINVAL, "TLS trusted certificates %s: %s",
			       ca_file ? ca_file : "(system)", tls_reason());
	}
	*out = ctx;
	return 0;
}

void link_tls_context_free(SSL_CTX *ctx)
{
	if (ctx)
		ossl.SSL_CTX_free(ctx);
}

static void describe_peer(struct link *l)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;
	if (getpeername(l->fd, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *a = (struct sockaddr_in *)&ss;
			inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
			port = ntohs(a->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
			inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
			port = ntohs(a->sin6_port);
		}
	}
	snprintf(l->peer, sizeof l->peer, "%s:%d", host, port);
}

int link_init(struct link *l, int fd, SSL_CTX *tls, bool server, const char *verify_host,
	      struct err *e)
{
	memset(l, 0, sizeof *l);
	l->fd = fd;
	describe_peer(l);
	if (!tls)
		return 0;
	l->ssl = ossl.SSL_new(tls);
	if (!l->ssl || ossl.SSL_set_fd(l->ssl, fd) != 1)
		return err_set(e, -ENOMEM, "TLS with %s: %s", l->peer, tls_reason());
	if (server) {
		ossl.SSL_set_accept_state(l->ssl);
	} else {
		ossl.SSL_set_connect_state(l->ssl);
		if (verify_host) {
			/* An address is checked against the certificate's IP
			 * names, anything else against its DNS names. */
			X509_VERIFY_PARAM *param = ossl.SSL_get0_param(l->ssl);
			unsigned char ip[16];
			bool is_ip = inet_pton(AF_INET, verify_host, ip) == 1 ||
				     inet_pton(AF_INET6, verify_host, ip) == 1;
			int ok = is_ip ? ossl.X509_VERIFY_PARAM_set1_ip_asc(param, verify_host)
				       : ossl.SSL_set1_host(l->ssl, verify_host);
			if (!is_ip)
				ossl.SSL_ctrl(l->ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME,
					      TLSEXT_NAMETYPE_host_name, (void *)verify_host);
			if (ok != 1)
				return err_set(e, -EINVAL, "TLS: cannot check the name %s",
					       verify_host);
		}
	}
	l->handshaking = true;
	return 0;
}

void link_close(struct link *l)
{
	if (l->ssl)
		ossl.SSL_free(l->ssl);
	if (l->fd >= 0)
		close(l->fd);
	proto_buf_free(&l->in);
	proto_buf_free(&l->out);
	l->ssl = NULL;
	l->fd = -1;
}

/* Translates an OpenSSL result into -EAGAIN (with want_write noted),
 * -ECONNRESET, or an error naming the peer. */
static int tls_result(struct link *l, int ret, const char *what, struct err *e)
{
	int code = ossl.SSL_get_error(l->ssl, ret);
	l->want_write = code == SSL_ERROR_WANT_WRITE;
	if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE)
		return -EAGAIN;
	if (code == SSL_ERROR_ZERO_RETURN)
		return err_set(e, -ECONNRESET, "%s closed the TLS session", l->peer);
	if (code == SSL_ERROR_SYSCALL && errno == 0)
		return err_set(e, -ECONNRESET, "%s closed the connection", l->peer);
	if (code == SSL_ERROR_SYSCALL)
		return err_sys(e, -errno, "TLS %s with %s", what, l->peer);
	long verify = ossl.SSL_get_verify_result(l->ssl);
	if (verify != X509_V_OK)
		return err_set(e, -EACCES, "TLS %s with %s: certificate refused: %s", what, l->peer,
			       ossl.X509_verify_cert_error_string(verify));
	return err_set(e, -EPROTO, "TLS %s with %s: %s", what, l->peer, tls_reason());
}

int link_handshake(struct link *l, struct err *e)
{
	if (!l->handshaking)
		return 0;
	int ret = ossl.SSL_do_handshake(l->ssl);
	if (ret == 1) {
		l->handshaking = l->want_write = false;
		return 0;
	}
	return tls_result(l, ret, "handshake", e);
}

int64_t link_fill(struct link *l, size_t max, struct err *e)
{
	int64_t total = 0;
	int rc = 0;
	if (l->handshaking && (rc = link_handshake(l, e)) != 0)
		return rc;
	while ((size_t)total < max) {
		/* No more room than max asks: a small max keeps the buffer small. */
		size_t want = max - (size_t)total < READ_CHUNK ? max - (size_t)total : READ_CHUNK;
		if (proto_buf_reserve(&l->in, want) != 0)
			return err_set(e, -ENOMEM, "reading from %s: out of memory", l->peer);
		uint8_t *to = l->in.data + l->in.len;
		size_t room = l->in.cap - l->in.len;
		ssize_t n;
		if (l->ssl) {
			int got =
			    ossl.SSL_read(l->ssl, to, room > INT32_MAX ? INT32_MAX : (int)room);
			if (got <= 0) {
				rc = tls_result(l, got, "read", e);
				break;
			}
			n = got;
		} else {
			n = read(l->fd, to, room);
			if (n == 0) {
				rc = err_set(e, -ECONNRESET, "%s closed the connection", l->peer);
				break;
			}
			if (n < 0) {
				rc = errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
					 ? -EAGAIN
					 : err_sys(e, -errno, "reading from %s", l->peer);
				break;
			}
		}
		l->in.len += (size_t)n;
		total += n;
	}
	/* Bytes read before the end or an error are still delivered. */
	if (total > 0)
		return total;
	return rc;
}

int link_flush(struct link *l, struct err *e)
{
	size_t sent = 0;
	int rc = 0;
	if (l->handshaking && (rc = link_handshake(l, e)) != 0)
		return rc;
	while (sent < l->out.len) {
		size_t left = l->out.len - sent;
		if (l->ssl) {
			int n = ossl.SSL_write(l->ssl, l->out.data + sent,
					       left > INT32_MAX ? INT32_MAX : (int)left);
			if (n <= 0) {
				rc = tls_result(l, n, "write", e);
				break;
			}
			sent += (size_t)n;
		} else {
			ssize_t n = send(l->fd, l->out.data + sent, left, MSG_NOSIGNAL);
			if (n < 0) {
				rc = errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
					 ? -EAGAIN
					 : err_sys(e, -errno, "writing to %s", l->peer);
				break;
			}
			sent += (size_t)n;
		}
	}
	proto_buf_consume(&l->out, sent);
	if (rc == 0 && l->out.cap > KEEP_IDLE_BUFFER)
		proto_buf_free(&l->out);
	return rc;
}

int64_t link_next_frame(struct link *l, uint32_t max, const uint8_t **payload, struct err *e)
{
	size_t have = l->in.len - l->in_pos;
	if (have < PROTO_HEADER_BYTES)
		return -EAGAIN;
	uint32_t len = proto_frame_length(l->in.data + l->in_pos);
	if (len > max)
		return err_set(e, -E2BIG, "%s sent a frame of %u bytes, more than the %u allowed",
			       l->peer, len, max);
	if (have - PROTO_HEADER_BYTES < len)
		return -EAGAIN;
	*payload = l->in.data + l->in_pos + PROTO_HEADER_BYTES;
	l->in_pos += PROTO_HEADER_BYTES + len;
	return len;
}

void link_compact(struct link *l)
{
	proto_buf_consume(&l->in, l->in_pos);
	l->in_pos = 0;
	if (l->in.len == 0 && l->in.cap > KEEP_IDLE_BUFFER)
		proto_buf_free(&l->in);
}
