/* proto.h - the ingest protocol between agents (or relays) and rmon-stored:
 * length-prefixed msgpack frames, described for people in docs/protocol.md.
 *
 * A frame is a 4-byte big-endian payload length, then the payload: one
 * msgpack array whose first element is the frame type.
 *
 *   HELLO     [1, version, host, agent, client_nonce(bin 32), relay]   agent
 *   CHALLENGE [2, server_nonce(bin 32), auth_required]                 server
 *   AUTH      [3, mac(bin 32 or nil)]                                  agent
 *   WELCOME   [4, mac(bin 32 or nil)]                                  server
 *   SERIES    [5, [[id, name], ...]]                                   agent
 *   SAMPLES   [6, seq, [[id, ts, value], ...]]                         agent
 *   ACK       [7, seq]                                                 server
 *   ERROR     [8, code, message]                                       both
 *
 * Frames are built with msgpack-c's packer.  Control frames are read with
 * msgpack-c's unpacker; SERIES and SAMPLES, the hot path, with a
 * fixed-schema reader that accepts every encoding msgpack allows for each
 * field (any integer width, float 32 or 64) and nothing else.  Decoders
 * never trust a count: everything is checked against the bytes present.
 */
#ifndef RMON_PROTO_H
#define RMON_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "lib/sample.h"

#define PROTO_VERSION	       1
#define PROTO_DEFAULT_PORT     7470
#define PROTO_HEADER_BYTES     4
#define PROTO_MAX_FRAME	       (64u << 20) /* no frame is ever larger */
#define PROTO_NONCE_BYTES      32
#define PROTO_MAC_BYTES	       32 /* HMAC-SHA256 */
#define PROTO_HOST_MAX	       255
#define PROTO_AGENT_MAX	       63
#define PROTO_MESSAGE_MAX      255
#define PROTO_SAMPLE_MIN_BYTES 4 /* the smallest encoded [id, ts, value] */
/* The largest frame a peer may send before it has authenticated: a HELLO
 * is at most about 400 bytes, an AUTH 40. */
#define PROTO_HANDSHAKE_MAX 4096
/* Secrets shorter than this are refused when configured. */
#define PROTO_SECRET_MIN 16

enum proto_type {
	PROTO_HELLO = 1,
	PROTO_CHALLENGE,
	PROTO_AUTH,
	PROTO_WELCOME,
	PROTO_SERIES,
	PROTO_SAMPLES,
	PROTO_ACK,
	PROTO_ERROR,
};

/* Codes of ERROR frames. */
enum proto_error_code {
	PROTO_ERR_VERSION = 1, /* protocol version not spoken */
	PROTO_ERR_AUTH,	       /* credentials missing or wrong */
	PROTO_ERR_MALFORMED,   /* a frame that does not decode */
	PROTO_ERR_TOO_BIG,     /* a frame over the server's limit */
	PROTO_ERR_LIMIT,       /* series per host exceeded */
	PROTO_ERR_SERIES,      /* a series definition refused (id, host) */
	PROTO_ERR_UNAVAILABLE, /* the server cannot store now (disk full) */
	PROTO_ERR_SEQUENCE,    /* a frame out of place in the exchange */
	PROTO_ERR_OWNERSHIP,   /* a sample of a series this connection may not write */
};

/* A growable byte buffer that frames are appended to. */
struct proto_buf {
	uint8_t *data;
	size_t len, cap;
};

void proto_buf_free(struct proto_buf *b);
/* Makes room for `more` bytes after len; 0 or -ENOMEM. */
int proto_buf_reserve(struct proto_buf *b, size_t more);
int proto_buf_append(struct proto_buf *b, const void *bytes, size_t len);
/* Drops the first n bytes (sent ones). */
void proto_buf_consume(struct proto_buf *b, size_t n);

/* Frame builders: each appends one whole frame (header and payload) to b
 * and returns 0, or -ENOMEM. */
int proto_put_hello(struct proto_buf *b, const char *host, const char *agent,
		    const uint8_t nonce[PROTO_NONCE_BYTES], bool relay);
int proto_put_challenge(struct proto_buf *b, const uint8_t nonce[PROTO_NONCE_BYTES],
			bool auth_required);
/* mac may be NULL (no secret configured). */
int proto_put_auth(struct proto_buf *b, const uint8_t *mac);
int proto_put_welcome(struct proto_buf *b, const uint8_t *mac);
int proto_put_series(struct proto_buf *b, const uint64_t *ids, const char *const *names, size_t n);
int proto_put_samples(struct proto_buf *b, uint64_t seq, const struct sample *s, size_t n);
int proto_put_ack(struct proto_buf *b, uint64_t seq);
int proto_put_error(struct proto_buf *b, enum proto_error_code code, const char *message);

/* The payload length a frame header announces. */
uint32_t proto_frame_length(const uint8_t header[PROTO_HEADER_BYTES]);

/* The type of a payload (its array's first element), or -EPROTO. */
int proto_frame_type(const void *payload, size_t len, struct err *e);

/* A decoded control frame (HELLO, CHALLENGE, AUTH, WELCOME, ACK, ERROR). */
struct proto_msg {
	enum proto_type type;
	uint32_t version;		     /* HELLO */
	char host[PROTO_HOST_MAX + 1];	     /* HELLO */
	char agent[PROTO_AGENT_MAX + 1];     /* HELLO */
	bool relay;			     /* HELLO */
	bool auth_required;		     /* CHALLENGE */
	uint8_t nonce[PROTO_NONCE_BYTES];    /* HELLO, CHALLENGE */
	bool has_mac;			     /* AUTH, WELCOME */
	uint8_t mac[PROTO_MAC_BYTES];	     /* AUTH, WELCOME */
	uint64_t seq;			     /* ACK */
	uint32_t code;			     /* ERROR */
	char message[PROTO_MESSAGE_MAX + 1]; /* ERROR */
};

/* Decodes a control frame's payload.  -EPROTO with a message naming the
 * field when it does not match its schema. */
int proto_decode_control(const void *payload, size_t len, struct proto_msg *out, struct err *e);

/* Decodes a SAMPLES payload into out (room for max samples).  *n is the
 * count; a frame with more than max samples, or malformed anywhere, is
 * -EPROTO (-E2BIG for too many) and nothing of it may be used. */
int proto_decode_samples(const void *payload, size_t len, uint64_t *seq, struct sample *out,
			 size_t max, size_t *n, struct err *e);

/* How many samples a SAMPLES payload announces (checked against its
 * length), so the caller can size the buffer; -EPROTO when malformed. */
int64_t proto_samples_count(const void *payload, size_t len, struct err *e);

/* Iterates over a SERIES payload: proto_series_begin checks the frame and
 * returns the count; each proto_series_next gives one definition, its name
 * pointing into the payload (not NUL-terminated).  -EPROTO when malformed. */
struct proto_series_iter {
	const uint8_t *p, *end;
	uint32_t left;
};
int64_t proto_series_begin(struct proto_series_iter *it, const void *payload, size_t len,
			   struct err *e);
int proto_series_next(struct proto_series_iter *it, uint64_t *id, const char **name,
		      size_t *name_len, struct err *e);

/* Authentication: mac = HMAC-SHA256(secret, role | first | second | host)
 * where role is "rmon/1 agent" for the agent's proof (first = server
 * nonce, second = agent nonce) and "rmon/1 server" for the server's
 * (first = agent nonce, second = server nonce).  The secret never travels.
 * Loads libcrypto on first use (net/ossl.h): 0, or why it could not. */
int proto_mac(const char *secret, const char *role, const uint8_t first[PROTO_NONCE_BYTES],
	      const uint8_t second[PROTO_NONCE_BYTES], const char *host,
	      uint8_t out[PROTO_MAC_BYTES], struct err *e);
/* Constant-time comparison of two MACs (after a proto_mac succeeded). */
bool proto_mac_equal(const uint8_t a[PROTO_MAC_BYTES], const uint8_t b[PROTO_MAC_BYTES]);
/* Fills a nonce from the kernel's random source; 0 or -errno. */
int proto_nonce(uint8_t out[PROTO_NONCE_BYTES]);

#endif
