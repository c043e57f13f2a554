/* sha256.h - SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), for the
 * web endpoint's form tokens.  rmon-web is a CGI program started once per
 * request: linking OpenSSL's libcrypto for one MAC doubled its start-up
 * time and took its resident memory past 5 MiB (docs/architecture.md), so
 * this small, test-vector-checked implementation stands in.  Not for
 * anything secret beyond a MAC key; no constant-time claims besides
 * sha256_equal. */
#ifndef RMON_SHA256_H
#define RMON_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHA256_BYTES 32

struct sha256 {
	uint32_t h[8];
	uint64_t bytes;
	unsigned char block[64];
	size_t used;
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t len);
void sha256_final(struct sha256 *c, unsigned char out[SHA256_BYTES]);

/* HMAC-SHA256 of msg under key. */
void sha256_hmac(const void *key, size_t key_len, const void *msg, size_t len,
		 unsigned char out[SHA256_BYTES]);

/* Compares n bytes in time that does not depend on where they differ. */
bool sha256_equal(const void *a, const void *b, size_t n);

#endif
