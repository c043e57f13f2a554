/* proto.c - ingest protocol frames; see proto.h and docs/protocol.md. */
#include "net/proto.h"
#include "net/ossl.h"
#include "lib/grow.h"

#include <errno.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "lib/series_name.h"

/* ---- buffers and the packer ---- */

void proto_buf_free(struct proto_buf *b)
{
	free(b->data);
	*b = (struct proto_buf){ 0 };
}

void proto_buf_consume(struct proto_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

int proto_buf_reserve(struct proto_buf *b, size_t more)
{
	return grow_array_from(&b->data, &b->cap, b->len + more, 1, 256) ? 0 : -ENOMEM;
}

int proto_buf_append(struct proto_buf *b, const void *bytes, size_t len)
{
	if (proto_buf_reserve(b, len) != 0)
		return -ENOMEM;
	memcpy(b->data + b->len, bytes, len);
	b->len += len;
	return 0;
}

static int buf_write(void *ctx, const char *bytes, size_t len)
{
	return proto_buf_append(ctx, bytes, len) == 0 ? 0 : -1;
}

/* A frame under construction: the header is patched when it ends. */
struct frame {
	struct proto_buf *b;
	size_t start;
	msgpack_packer pk;
	int failed;
};

static void frame_begin(struct frame *f, struct proto_buf *b, enum proto_type type, size_t fields)
{
	static const char zero[PROTO_HEADER_BYTES];
	f->b = b;
	f->start = b->len;
	f->failed = buf_write(b, zero, sizeof zero);
	msgpack_packer_init(&f->pk, b, buf_write);
	f->failed |= msgpack_pack_array(&f->pk, fields);
	f->failed |= msgpack_pack_uint8(&f->pk, (uint8_t)type);
}

static void pack_bytes(struct frame *f, const void *bytes, size_t len, bool as_str)
{
	if (as_str)
		f->failed |= msgpack_pack_str_with_body(&f->pk, bytes, len);
	else if (bytes)
		f->failed |= msgpack_pack_bin_with_body(&f->pk, bytes, len);
	else
		f->failed |= msgpack_pack_nil(&f->pk);
}

static int frame_end(struct frame *f)
{
	if (f->failed) {
		f->b->len = f->start;
		return -ENOMEM;
	}
	uint32_t len = (uint32_t)(f->b->len - f->start - PROTO_HEADER_BYTES);
	uint8_t *h = f->b->data + f->start;
	h[0] = (uint8_t)(len >> 24);
	h[1] = (uint8_t)(len >> 16);
	h[2] = (uint8_t)(len >> 8);
	h[3] = (uint8_t)len;
	return 0;
}

int proto_put_hello(struct proto_buf *b, const char *host, const char *agent,
		    const uint8_t nonce[PROTO_NONCE_BYTES], bool relay)
{
	struct frame f;
	frame_begin(&f, b, PROTO_HELLO, 6);
	f.failed |= msgpack_pack_uint32(&f.pk, PROTO_VERSION);
	pack_bytes(&f, host, strlen(host), true);
	pack_bytes(&f, agent, strlen(agent), true);
	pack_bytes(&f, nonce, PROTO_NONCE_BYTES, false);
	f.failed |= relay ? msgpack_pack_true(&f.pk) : msgpack_pack_false(&f.pk);
	return frame_end(&f);
}

int proto_put_challenge(struct proto_buf *b, const uint8_t nonce[PROTO_NONCE_BYTES],
			bool auth_required)
{
	struct frame f;
	frame_begin(&f, b, PROTO_CHALLENGE, 3);
	pack_bytes(&f, nonce, PROTO_NONCE_BYTES, false);
	f.failed |= auth_required ? msgpack_pack_true(&f.pk) : msgpack_pack_false(&f.pk);
	return frame_end(&f);
}

static int put_mac(struct proto_buf *b, enum proto_type type, const uint8_t *mac)
{
	struct frame f;
	frame_begin(&f, b, type, 2);
	pack_bytes(&f, mac, PROTO_MAC_BYTES, false);
	return frame_end(&f);
}

int proto_put_auth(struct proto_buf *b, const uint8_t *mac)
{
	return put_mac(b, PROTO_AUTH, mac);
}

int proto_put_welcome(struct proto_buf *b, const uint8_t *mac)
{
	return put_mac(b, PROTO_WELCOME, mac);
}

int proto_put_series(struct proto_buf *b, const uint64_t *ids, const char *const *names, size_t n)
{
	struct frame f;
	frame_begin(&f, b, PROTO_SERIES, 2);
	f.failed |= msgpack_pack_array(&f.pk, n);
	for (size_t i = 0; i < n && !f.failed; i++) {
		f.failed |= msgpack_pack_array(&f.pk, 2);
		f.failed |= msgpack_pack_uint64(&f.pk, ids[i]);
		pack_bytes(&f, names[i], strlen(names[i]), true);
	}
	return frame_end(&f);
}

int proto_put_samples(struct proto_buf *b, uint64_t seq, const struct sample *s, size_t n)
{
	struct frame f;
	/* Room for the whole frame first, so the packer never reallocates. */
	if (proto_buf_reserve(b, PROTO_HEADER_BYTES + 24 + n * 28) != 0)
		return -ENOMEM;
	frame_begin(&f, b, PROTO_SAMPLES, 3);
	f.failed |= msgpack_pack_uint64(&f.pk, seq);
	f.failed |= msgpack_pack_array(&f.pk, n);
	for (size_t i = 0; i < n; i++) {
		f.failed |= msgpack_pack_array(&f.pk, 3);
		f.failed |= msgpack_pack_uint64(&f.pk, s[i].id);
		f.failed |= msgpack_pack_int64(&f.pk, s[i].ts);
		f.failed |= msgpack_pack_double(&f.pk, s[i].value);
	}
	return frame_end(&f);
}

int proto_put_ack(struct proto_buf *b, uint64_t seq)
{
	struct frame f;
	frame_begin(&f, b, PROTO_ACK, 2);
	f.failed |= msgpack_pack_uint64(&f.pk, seq);
	return frame_end(&f);
}

int proto_put_error(struct proto_buf *b, enum proto_error_code code, const char *message)
{
	struct frame f;
	size_t len = strlen(message);
	frame_begin(&f, b, PROTO_ERROR, 3);
	f.failed |= msgpack_pack_uint32(&f.pk, (uint32_t)code);
	pack_bytes(&f, message, len < PROTO_MESSAGE_MAX ? len : PROTO_MESSAGE_MAX, true);
	return frame_end(&f);
}

uint32_t proto_frame_length(const uint8_t h[PROTO_HEADER_BYTES])
{
	return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
}

/* ---- the fixed-schema reader ---- */

#define SERIES_MIN_BYTES 3 /* the smallest encoded [id, name]: 0x92, fixint, "" */

static const char *const frame_names[] = {
	[PROTO_HELLO] = "HELLO",     [PROTO_CHALLENGE] = "CHALLENGE", [PROTO_AUTH] = "AUTH",
	[PROTO_WELCOME] = "WELCOME", [PROTO_SERIES] = "SERIES",	      [PROTO_SAMPLES] = "SAMPLES",
	[PROTO_ACK] = "ACK",	     [PROTO_ERROR] = "ERROR",
};

struct reader {
	const uint8_t *p, *end;
};

static uint64_t load_be(const uint8_t *p, int bytes)
{
	uint64_t v = 0;
	for (int i = 0; i < bytes; i++)
		v = v << 8 | p[i];
	return v;
}

/* Takes `bytes` bytes after the type byte; false when they are not there. */
static bool take(struct reader *r, int bytes, uint64_t *v)
{
	if (r->end - r->p < 1 + bytes)
		return false;
	*v = load_be(r->p + 1, bytes);
	r->p += 1 + bytes;
	return true;
}

static bool read_array(struct reader *r, uint32_t *n)
{
	uint64_t v;
	if (r->p >= r->end)
		return false;
	uint8_t t = *r->p;
	if ((t & 0xf0) == 0x90) {
		*n = t & 0x0f;
		r->p++;
		return true;
	}
	if ((t == 0xdc && take(r, 2, &v)) || (t == 0xdd && take(r, 4, &v))) {
		*n = (uint32_t)v;
		return true;
	}
	return false;
}

/* Any msgpack integer; *negative tells how to read *v. */
static bool read_integer(struct reader *r, uint64_t *v, bool *negative)
{
	if (r->p >= r->end)
		return false;
	uint8_t t = *r->p;
	*negative = false;
	if (t <= 0x7f) {
		*v = t;
		r->p++;
		return true;
	}
	if (t >= 0xe0) {
		*v = (uint64_t)(int64_t)(int8_t)t;
		*negative = true;
		r->p++;
		return true;
	}
	if (t >= 0xcc && t <= 0xcf)
		return take(r, 1 << (t - 0xcc), v);
	if (t >= 0xd0 && t <= 0xd3) {
		int bytes = 1 << (t - 0xd0);
		if (!take(r, bytes, v))
			return false;
		int shift = 64 - 8 * bytes; /* sign-extend */
		*v = (uint64_t)((int64_t)(*v << shift) >> shift);
		*negative = (int64_t)*v < 0;
		return true;
	}
	return false;
}

static bool read_uint(struct reader *r, uint64_t *v)
{
	bool negative;
	return read_integer(r, v, &negative) && !negative;
}

static bool read_int(struct reader *r, int64_t *v)
{
	uint64_t u;
	bool negative;
	if (!read_integer(r, &u, &negative) || (!negative && u > INT64_MAX))
		return false;
	*v = (int64_t)u;
	return true;
}

static bool read_number(struct reader *r, double *v)
{
	uint64_t u;
	bool negative;
	if (r->p < r->end && *r->p == 0xcb) {
		if (!take(r, 8, &u))
			return false;
		memcpy(v, &u, sizeof *v);
		return true;
	}
	if (r->p < r->end && *r->p == 0xca) {
		float f;
		uint32_t u32;
		if (!take(r, 4, &u))
			return false;
		u32 = (uint32_t)u;
		memcpy(&f, &u32, sizeof f);
		*v = f;
		return true;
	}
	if (!read_integer(r, &u, &negative))
		return false;
	*v = negative ? (double)(int64_t)u : (double)u;
	return true;
}

static bool read_str(struct reader *r, const char **s, size_t *len)
{
	uint64_t v;
	if (r->p >= r->end)
		return false;
	uint8_t t = *r->p;
	if ((t & 0xe0) == 0xa0) {
		v = t & 0x1f;
		r->p++;
	} else if (!((t == 0xd9 && take(r, 1, &v)) || (t == 0xda && take(r, 2, &v)) ||
		     (t == 0xdb && take(r, 4, &v)))) {
		return false;
	}
	if ((uint64_t)(r->end - r->p) < v)
		return false;
	*s = (const char *)r->p;
	*len = (size_t)v;
	r->p += v;
	return true;
}

/* Opens a payload: its array (of `fields` elements) and the type. */
static int open_frame(struct reader *r, const void *payload, size_t len, enum proto_type type,
		      uint32_t fields, struct err *e)
{
	uint32_t n;
	uint64_t t;
	r->p = payload;
	r->end = r->p + len;
	if (!read_array(r, &n) || n != fields || !read_uint(r, &t) || t != type)
		return err_set(e, -EPROTO,
			       "%s frame: expected an array of %u fields starting with %d",
			       frame_names[type], fields, type);
	return 0;
}

int proto_frame_type(const void *payload, size_t len, struct err *e)
{
	struct reader r = { payload, (const uint8_t *)payload + len };
	uint32_t n;
	uint64_t t;
	if (!read_array(&r, &n) || n < 1 || !read_uint(&r, &t) || t < PROTO_HELLO ||
	    t > PROTO_ERROR)
		return err_set(e, -EPROTO, "frame: not an array starting with a known frame type");
	return (int)t;
}

/* One [id, ts, value]: the common encoding (uint64, uint64 or int64,
 * float64: 28 bytes) is read straight; anything else the general way. */
static bool read_sample(struct reader *r, struct sample *s)
{
	const uint8_t *p = r->p;
	if (r->end - p >= 28 && p[0] == 0x93 && p[1] == 0xcf && (p[10] == 0xcf || p[10] == 0xd3) &&
	    p[19] == 0xcb) {
		uint64_t v = load_be(p + 20, 8);
		s->id = load_be(p + 2, 8);
		s->ts = (int64_t)load_be(p + 11, 8);
		if (p[10] == 0xcf && s->ts < 0)
			return false;
		memcpy(&s->value, &v, sizeof v);
		r->p += 28;
		return true;
	}
	uint32_t n;
	return read_array(r, &n) && n == 3 && read_uint(r, &s->id) && read_int(r, &s->ts) &&
	       read_number(r, &s->value);
}

static int open_samples(struct reader *r, const void *payload, size_t len, uint64_t *seq,
			uint32_t *n, struct err *e)
{
	int rc = open_frame(r, payload, len, PROTO_SAMPLES, 3, e);
	if (rc != 0)
		return rc;
	if (!read_uint(r, seq) || !read_array(r, n))
		return err_set(e, -EPROTO,
			       "SAMPLES frame: expected a sequence number and an array");
	if ((uint64_t)*n * PROTO_SAMPLE_MIN_BYTES > (uint64_t)(r->end - r->p))
		return err_set(e, -EPROTO, "SAMPLES frame: %u samples announced in %zu bytes", *n,
			       (size_t)(r->end - r->p));
	return 0;
}

int64_t proto_samples_count(const void *payload, size_t len, struct err *e)
{
	struct reader r;
	uint64_t seq;
	uint32_t n;
	int rc = open_samples(&r, payload, len, &seq, &n, e);
	return rc ? rc : (int64_t)n;
}

int proto_decode_samples(const void *payload, size_t len, uint64_t *seq, struct sample *out,
			 size_t max, size_t *count, struct err *e)
{
	struct reader r;
	uint32_t n;
	int rc = open_samples(&r, payload, len, seq, &n, e);
	if (rc != 0)
		return rc;
	if (n > max)
		return err_set(e, -E2BIG, "SAMPLES frame: %u samples, more than the %zu allowed", n,
			       max);
	for (uint32_t i = 0; i < n; i++)
		if (!read_sample(&r, &out[i]))
			return err_set(e, -EPROTO,
				       "SAMPLES frame: sample %u is not [id, timestamp, value]", i);
	if (r.p != r.end)
		return err_set(e, -EPROTO, "SAMPLES frame: %zu bytes after the last sample",
			       (size_t)(r.end - r.p));
	*count = n;
	return 0;
}

int64_t proto_series_begin(struct proto_series_iter *it, const void *payload, size_t len,
			   struct err *e)
{
	struct reader r;
	uint32_t n;
	int rc = open_frame(&r, payload, len, PROTO_SERIES, 2, e);
	if (rc != 0)
		return rc;
	if (!read_array(&r, &n) || (uint64_t)n * SERIES_MIN_BYTES > (uint64_t)(r.end - r.p))
		return err_set(e, -EPROTO, "SERIES frame: expected an array of [id, name]");
	/* proto_series_next checks for trailing bytes after the last
	 * definition; with none, nothing would. */
	if (n == 0 && r.p != r.end)
		return err_set(e, -EPROTO, "SERIES frame: bytes after the last definition");
	*it = (struct proto_series_iter){ r.p, r.end, n };
	return n;
}

int proto_series_next(struct proto_series_iter *it, uint64_t *id, const char **name,
		      size_t *name_len, struct err *e)
{
	struct reader r = { it->p, it->end };
	uint32_t n;
	if (it->left == 0)
		return err_set(e, -EPROTO, "SERIES frame: no definition left");
	if (!read_array(&r, &n) || n != 2 || !read_uint(&r, id) || !read_str(&r, name, name_len))
		return err_set(e, -EPROTO, "SERIES frame: a definition is not [id, name]");
	it->left--;
	if (it->left == 0 && r.p != r.end)
		return err_set(e, -EPROTO, "SERIES frame: bytes after the last definition");
	it->p = r.p;
	return 0;
}

/* ---- control frames, through msgpack-c ---- */

/* Walks one object, checking that every count fits in the bytes present,
 * so msgpack-c never allocates for counts an attacker made up. */
static bool skip_object(struct reader *r, int depth)
{
	uint64_t v;
	const char *s;
	size_t len;
	double d;
	uint32_t n;
	if (r->p >= r->end || depth > 4)
		return false;
	uint8_t t = *r->p;
	if (t == 0xc0 || t == 0xc2 || t == 0xc3) {
		r->p++;
		return true;
	}
	if (t >= 0xc4 && t <= 0xc6) { /* bin */
		if (!take(r, 1 << (t - 0xc4), &v) || (uint64_t)(r->end - r->p) < v)
			return false;
		r->p += v;
		return true;
	}
	if (read_array(r, &n)) {
		if (n > (size_t)(r->end - r->p))
			return false;
		for (uint32_t i = 0; i < n; i++)
			if (!skip_object(r, depth + 1))
				return false;
		return true;
	}
	return read_str(r, &s, &len) || read_number(r, &d);
}

static int control_error(struct err *e, const char *what)
{
	return err_set(e, -EPROTO, "%s", what);
}

static int copy_str(const msgpack_object *o, char *out, size_t cap)
{
	if (o->type != MSGPACK_OBJECT_STR || o->via.str.size >= cap)
		return -EPROTO;
	/* msgpack-c gives an empty str a NULL ptr, which memchr and memcpy
	 * must not see even with a length of 0. */
	if (o->via.str.size > 0) {
		if (memchr(o->via.str.ptr, '\0', o->via.str.size))
			return -EPROTO;
		memcpy(out, o->via.str.ptr, o->via.str.size);
	}
	out[o->via.str.size] = '\0';
	return 0;
}

/* A bin field of exactly `bytes` bytes, or nil when allowed. */
static int copy_bin(const msgpack_object *o, uint8_t *out, size_t bytes, bool *present)
{
	if (present && o->type == MSGPACK_OBJECT_NIL) {
		*present = false;
		return 0;
	}
	if (o->type != MSGPACK_OBJECT_BIN || o->via.bin.size != bytes)
		return -EPROTO;
	memcpy(out, o->via.bin.ptr, bytes);
	if (present)
		*present = true;
	return 0;
}

static bool is_uint(const msgpack_object *o, uint64_t max, uint64_t *out)
{
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || o->via.u64 > max)
		return false;
	*out = o->via.u64;
	return true;
}

static int decode_fields(const msgpack_object *f, uint32_t n, struct proto_msg *m, struct err *e)
{
	uint64_t v;
	struct err why;
	switch (m->type) {
	case PROTO_HELLO:
		if (n != 6 || !is_uint(&f[1], UINT32_MAX, &v))
			return control_error(
			    e, "HELLO frame: expected [1, version, host, agent, nonce, relay]");
		m->version = (uint32_t)v;
		if (copy_str(&f[2], m->host, sizeof m->host) != 0 || m->host[0] == '\0')
			return control_error(e,
					     "HELLO frame: host is not a name of 1 to 255 bytes");
		/* Refused before anything logs or stores it (lib/series_name.h). */
		if (series_check_host(m->host, strlen(m->host), &why) != 0)
			return err_set(e, -EPROTO, "HELLO frame: %s", why.msg);
		if (copy_str(&f[3], m->agent, sizeof m->agent) != 0)
			return control_error(
			    e, "HELLO frame: agent is not a string of up to 63 bytes");
		if (copy_bin(&f[4], m->nonce, PROTO_NONCE_BYTES, NULL) != 0)
			return control_error(e, "HELLO frame: nonce is not 32 bytes");
		if (f[5].type != MSGPACK_OBJECT_BOOLEAN)
			return control_error(e, "HELLO frame: relay is not true or false");
		m->relay = f[5].via.boolean;
		return 0;
	case PROTO_CHALLENGE:
		if (n != 3 || copy_bin(&f[1], m->nonce, PROTO_NONCE_BYTES, NULL) != 0 ||
		    f[2].type != MSGPACK_OBJECT_BOOLEAN)
			return control_error(e,
					     "CHALLENGE frame: expected [2, nonce, auth_required]");
		m->auth_required = f[2].via.boolean;
		return 0;
	case PROTO_AUTH:
	case PROTO_WELCOME:
		if (n != 2 || copy_bin(&f[1], m->mac, PROTO_MAC_BYTES, &m->has_mac) != 0)
			return control_error(e, "AUTH/WELCOME frame: expected [type, mac or nil]");
		return 0;
	case PROTO_ACK:
		if (n != 2 || !is_uint(&f[1], UINT64_MAX, &m->seq))
			return control_error(e, "ACK frame: expected [7, seq]");
		return 0;
	case PROTO_ERROR:
		if (n != 3 || !is_uint(&f[1], UINT32_MAX, &v) ||
		    copy_str(&f[2], m->message, sizeof m->message) != 0)
			return control_error(e, "ERROR frame: expected [8, code, message]");
		m->code = (uint32_t)v;
		return 0;
	default:
		return control_error(e, "frame: not a control frame");
	}
}

int proto_decode_control(const void *payload, size_t len, struct proto_msg *out, struct err *e)
{
	int type = proto_frame_type(payload, len, e);
	if (type < 0)
		return type;
	struct reader r = { payload, (const uint8_t *)payload + len };
	if (!skip_object(&r, 0) || r.p != r.end)
		return err_set(e, -EPROTO, "%s frame: not one well-formed msgpack value",
			       frame_names[type]);
	msgpack_unpacked u;
	size_t offset = 0;
	msgpack_unpacked_init(&u);
	int rc = -EPROTO;
	if (msgpack_unpack_next(&u, payload, len, &offset) == MSGPACK_UNPACK_SUCCESS &&
	    u.data.type == MSGPACK_OBJECT_ARRAY) {
		memset(out, 0, sizeof *out);
		out->type = (enum proto_type)type;
		rc = decode_fields(u.data.via.array.ptr, u.data.via.array.size, out, e);
	} else {
		control_error(e, "frame: msgpack could not decode it");
	}
	msgpack_unpacked_destroy(&u);
	return rc;
}

/* ---- authentication ---- */

int proto_mac(const char *secret, const char *role, const uint8_t first[PROTO_NONCE_BYTES],
	      const uint8_t second[PROTO_NONCE_BYTES], const char *host,
	      uint8_t out[PROTO_MAC_BYTES], struct err *e)
{
	uint8_t message[64 + 2 * PROTO_NONCE_BYTES + PROTO_HOST_MAX + 1];
	size_t role_len = strlen(role), host_len = strnlen(host, PROTO_HOST_MAX), n = 0;
	int rc = ossl_load_crypto(e);
	if (rc != 0)
		return rc;
	memcpy(message, role, role_len);
	n += role_len;
	memcpy(message + n, first, PROTO_NONCE_BYTES);
	n += PROTO_NONCE_BYTES;
	memcpy(message + n, second, PROTO_NONCE_BYTES);
	n += PROTO_NONCE_BYTES;
	memcpy(message + n, host, host_len);
	n += host_len;
	unsigned int out_len = PROTO_MAC_BYTES;
	if (!ossl.HMAC(ossl.EVP_sha256(), secret, (int)strlen(secret), message, n, out, &out_len))
		return err_set(e, -EINVAL, "HMAC-SHA256 failed");
	return 0;
}

bool proto_mac_equal(const uint8_t a[PROTO_MAC_BYTES], const uint8_t b[PROTO_MAC_BYTES])
{
	return ossl.CRYPTO_memcmp(a, b, PROTO_MAC_BYTES) == 0; /* after proto_mac loaded it */
}

int proto_nonce(uint8_t out[PROTO_NONCE_BYTES])
{
	ssize_t n = getrandom(out, PROTO_NONCE_BYTES, 0);
	return n == PROTO_NONCE_BYTES ? 0 : -errno;
}
