/* ossl.h - OpenSSL, loaded only by the programs that use it, when they
 * first need it.
 *
 * Linking libcrypto and libssl costs every process 1.7 MiB of resident
 * memory at start-up (the dynamic linker reads and relocates their tables),
 * more than half of an agent's budget, even when it never authenticates or
 * encrypts.  So they are opened with dlopen: libcrypto when a secret is
 * configured (HMAC), libssl when TLS is.  Each function is called through a
 * pointer of the exact type the OpenSSL headers declare, so the compiler
 * checks every call as if it were linked directly. */
#ifndef RMON_OSSL_H
#define RMON_OSSL_H

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "lib/err.h"

#define OSSL_CRYPTO_FUNCTIONS(X)                                                                   \
	X(CRYPTO_memcmp)                                                                           \
	X(ERR_clear_error)                                                                         \
	X(ERR_error_string_n)                                                                      \
	X(ERR_get_error)                                                                           \
	X(EVP_sha256)                                                                              \
	X(HMAC)                                                                                    \
	X(X509_VERIFY_PARAM_set1_ip_asc)                                                           \
	X(X509_verify_cert_error_string)

#define OSSL_SSL_FUNCTIONS(X)                                                                      \
	X(SSL_CTX_check_private_key)                                                               \
	X(SSL_CTX_ctrl)                                                                            \
	X(SSL_CTX_free)                                                                            \
	X(SSL_CTX_load_verify_locations)                                                           \
	X(SSL_CTX_new)                                                                             \
	X(SSL_CTX_set_default_verify_paths)                                                        \
	X(SSL_CTX_set_verify)                                                                      \
	X(SSL_CTX_use_PrivateKey_file)                                                             \
	X(SSL_CTX_use_certificate_chain_file)                                                      \
	X(SSL_ctrl)                                                                                \
	X(SSL_do_handshake)                                                                        \
	X(SSL_free)                                                                                \
	X(SSL_get0_param)                                                                          \
	X(SSL_get_error)                                                                           \
	X(SSL_get_verify_result)                                                                   \
	X(SSL_new)                                                                                 \
	X(SSL_read)                                                                                \
	X(SSL_set1_host)                                                                           \
	X(SSL_set_accept_state)                                                                    \
	X(SSL_set_connect_state)                                                                   \
	X(SSL_set_fd)                                                                              \
	X(SSL_write)                                                                               \
	X(TLS_client_method)                                                                       \
	X(TLS_server_method)

#define OSSL_POINTER(f) __typeof__(&f) f;

struct ossl {
	OSSL_CRYPTO_FUNCTIONS(OSSL_POINTER)
	OSSL_SSL_FUNCTIONS(OSSL_POINTER)
};

/* The functions, valid after the matching load succeeded. */
extern struct ossl ossl;

/* Load libcrypto (HMAC, errors) or libssl (TLS, which needs libcrypto
 * too); cheap once loaded.  0, or -ENOENT naming the library missing. */
int ossl_load_crypto(struct err *e);
int ossl_load_ssl(struct err *e);

#endif
