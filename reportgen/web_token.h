/* web_token.h - the CSRF tokens of rmon-web's forms.
 *
 * A token is "EXPIRY.NONCE.MAC": EXPIRY the Unix second after which it is
 * refused, NONCE 16 random bytes in hex, MAC the HMAC-SHA256 of user,
 * expiry and nonce under a key kept in "<data>/web/key" (32 random bytes,
 * mode 0600, made on first use).  A token is so bound to one user and one
 * time window, and cannot be forged without the key.  Each is good for one
 * change: its nonce is recorded in "<data>/web/used" when it is spent, and
 * a replay is refused. */
#ifndef RMON_WEB_TOKEN_H
#define RMON_WEB_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

#define WEB_TOKEN_LEN	  (20 + 1 + 32 + 1 + 64)
#define WEB_TOKEN_LIFE_NS (3600 * INT64_C(1000000000)) /* a form stays good an hour */

/* Makes a token for user good from now for WEB_TOKEN_LIFE_NS into buf
 * (WEB_TOKEN_LEN + 1 bytes). */
int web_token_make(const char *data_dir, const char *user, int64_t now, char *buf, size_t cap,
		   struct err *e);

/* Checks token for user at now and spends it.  -EACCES with the reason
 * (malformed, another user's or forged, expired, already used). */
int web_token_spend(const char *data_dir, const char *user, const char *token, int64_t now,
		    struct err *e);

#endif
