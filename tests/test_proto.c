/* test_proto.c - the ingest protocol (net/proto.c): every frame type
 * round-trips; the SAMPLES reader takes every encoding msgpack allows and
 * agrees with msgpack-c's own unpacker; truncated, oversized and mistyped
 * frames are refused with a message naming the frame; the HMAC proofs. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <msgpack.h>

#include "net/proto.h"

/* ---- helpers ---- */

/* The payload of the only frame in b, checked against its header. */
static const uint8_t *only_payload(const struct proto_buf *b, size_t *len)
{
	assert_true(b->len >= PROTO_HEADER_BYTES);
	*len = proto_frame_length(b->data);
	assert_int_equal(b->len, PROTO_HEADER_BYTES + *len);
	return b->data + PROTO_HEADER_BYTES;
}

/* An exact-size heap copy, so ASan and valgrind see any read past the end. */
static uint8_t *copy_of(const void *bytes, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);
	assert_non_null(p);
	if (len)
		memcpy(p, bytes, len);
	return p;
}

static void fill(uint8_t *out, size_t n, uint8_t first)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(first + i);
}

static void decode_only(const struct proto_buf *b, enum proto_type type, struct proto_msg *m)
{
	size_t len;
	const uint8_t *p = only_payload(b, &len);
	struct err e = { 0 };
	assert_int_equal(proto_frame_type(p, len, &e), type);
	if (proto_decode_control(p, len, m, &e) != 0)
		fail_msg("proto_decode_control: %s", e.msg);
	assert_int_equal(m->type, type);
}

static bool same_bits(double a, double b)
{
	return memcmp(&a, &b, sizeof a) == 0;
}

static double from_bits(uint64_t bits)
{
	double d;
	memcpy(&d, &bits, sizeof d);
	return d;
}

/* Decodes SAMPLES with msgpack-c's generic unpacker and checks it reads
 * the same seq and samples, bit for bit. */
static void check_with_msgpack(const void *payload, size_t len, uint64_t seq,
			       const struct sample *want, size_t n)
{
	msgpack_unpacked u;
	size_t offset = 0;
	msgpack_unpacked_init(&u);
	assert_int_equal(msgpack_unpack_next(&u, payload, len, &offset), MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(offset, len);
	const msgpack_object *o = &u.data;
	assert_int_equal(o->type, MSGPACK_OBJECT_ARRAY);
	assert_int_equal(o->via.array.size, 3);
	const msgpack_object *f = o->via.array.ptr;
	assert_int_equal(f[0].type, MSGPACK_OBJECT_POSITIVE_INTEGER);
	assert_int_equal(f[0].via.u64, PROTO_SAMPLES);
	assert_int_equal(f[1].type, MSGPACK_OBJECT_POSITIVE_INTEGER);
	assert_true(f[1].via.u64 == seq);
	assert_int_equal(f[2].type, MSGPACK_OBJECT_ARRAY);
	assert_int_equal(f[2].via.array.size, n);
	for (size_t i = 0; i < n; i++) {
		const msgpack_object *s = &f[2].via.array.ptr[i];
		assert_int_equal(s->type, MSGPACK_OBJECT_ARRAY);
		assert_int_equal(s->via.array.size, 3);
		const msgpack_object *id = &s->via.array.ptr[0], *ts = &s->via.array.ptr[1],
				     *value = &s->via.array.ptr[2];
		assert_int_equal(id->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
		assert_true(id->via.u64 == want[i].id);
		if (ts->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
			assert_true(ts->via.u64 <= INT64_MAX && (int64_t)ts->via.u64 == want[i].ts);
		else if (ts->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
			assert_true(ts->via.i64 == want[i].ts);
		else
			fail_msg("sample %zu: ts of msgpack type %d", i, ts->type);
		double v = 0;
		if (value->type == MSGPACK_OBJECT_FLOAT32 || value->type == MSGPACK_OBJECT_FLOAT64)
			v = value->via.f64;
		else if (value->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
			v = (double)value->via.u64;
		else if (value->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
			v = (double)value->via.i64;
		else
			fail_msg("sample %zu: value of msgpack type %d", i, value->type);
		assert_true(same_bits(v, want[i].value));
	}
	msgpack_unpacked_destroy(&u);
}

/* Decodes a SAMPLES payload (from an exact-size copy) and checks it gives
 * exactly seq and want[0..n), and that msgpack-c agrees. */
static void expect_samples(const void *payload, size_t len, uint64_t seq, const struct sample *want,
			   size_t n)
{
	uint8_t *p = copy_of(payload, len);
	struct sample *got = calloc(n + 1, sizeof *got);
	assert_non_null(got);
	struct err e = { 0 };
	uint64_t got_seq = 0;
	size_t count = SIZE_MAX;
	assert_int_equal(proto_frame_type(p, len, &e), PROTO_SAMPLES);
	assert_int_equal(proto_samples_count(p, len, &e), (int64_t)n);
	if (proto_decode_samples(p, len, &got_seq, got, n, &count, &e) != 0)
		fail_msg("proto_decode_samples: %s", e.msg);
	assert_true(got_seq == seq);
	assert_int_equal(count, n);
	for (size_t i = 0; i < n; i++) {
		if (got[i].id != want[i].id || got[i].ts != want[i].ts ||
		    !same_bits(got[i].value, want[i].value))
			fail_msg("sample %zu: got {%llu, %lld, %a}, want {%llu, %lld, %a}", i,
				 (unsigned long long)got[i].id, (long long)got[i].ts, got[i].value,
				 (unsigned long long)want[i].id, (long long)want[i].ts,
				 want[i].value);
	}
	check_with_msgpack(p, len, seq, want, n);
	free(got);
	free(p);
}

/* ---- packing with chosen encodings (msgpack-c's packer) ---- */

/* An integer as msgpack sees it: u, or (int64_t)u when negative. */
struct intval {
	uint64_t u;
	bool negative;
};

static struct intval unsigned_value(uint64_t u)
{
	return (struct intval){ u, false };
}

static struct intval signed_value(int64_t s)
{
	return (struct intval){ (uint64_t)s, s < 0 };
}

/* Every integer encoding msgpack has. */
enum width {
	W_FIXINT,
	W_NEGATIVE_FIXINT,
	W_U8,
	W_U16,
	W_U32,
	W_U64,
	W_I8,
	W_I16,
	W_I32,
	W_I64,
	W_COUNT
};

static bool fits_signed(struct intval v, int bits)
{
	int64_t min = bits == 64 ? INT64_MIN : -((int64_t)1 << (bits - 1));
	uint64_t max = bits == 64 ? INT64_MAX : ((uint64_t)1 << (bits - 1)) - 1;
	return v.negative ? (int64_t)v.u >= min : v.u <= max;
}

static bool fits(enum width w, struct intval v)
{
	switch (w) {
	case W_FIXINT:
		return !v.negative && v.u <= 0x7f;
	case W_NEGATIVE_FIXINT:
		return v.negative && (int64_t)v.u >= -32;
	case W_U8:
		return !v.negative && v.u <= UINT8_MAX;
	case W_U16:
		return !v.negative && v.u <= UINT16_MAX;
	case W_U32:
		return !v.negative && v.u <= UINT32_MAX;
	case W_U64:
		return !v.negative;
	case W_I8:
		return fits_signed(v, 8);
	case W_I16:
		return fits_signed(v, 16);
	case W_I32:
		return fits_signed(v, 32);
	case W_I64:
		return fits_signed(v, 64);
	default:
		return false;
	}
}

static void pack_int(msgpack_packer *pk, enum width w, struct intval v)
{
	assert_true(fits(w, v));
	int64_t s = (int64_t)v.u;
	switch (w) {
	case W_FIXINT: /* the packer picks the fixint forms for these values */
		msgpack_pack_uint8(pk, (uint8_t)v.u);
		break;
	case W_NEGATIVE_FIXINT:
		msgpack_pack_int8(pk, (int8_t)s);
		break;
	case W_U8:
		msgpack_pack_fix_uint8(pk, (uint8_t)v.u);
		break;
	case W_U16:
		msgpack_pack_fix_uint16(pk, (uint16_t)v.u);
		break;
	case W_U32:
		msgpack_pack_fix_uint32(pk, (uint32_t)v.u);
		break;
	case W_U64:
		msgpack_pack_fix_uint64(pk, v.u);
		break;
	case W_I8:
		msgpack_pack_fix_int8(pk, (int8_t)s);
		break;
	case W_I16:
		msgpack_pack_fix_int16(pk, (int16_t)s);
		break;
	case W_I32:
		msgpack_pack_fix_int32(pk, (int32_t)s);
		break;
	case W_I64:
		msgpack_pack_fix_int64(pk, s);
		break;
	default:
		fail();
	}
}

/* Array headers: the packer always picks the smallest, so array16 and
 * array32 for small counts are written as raw bytes through it. */
enum array_header { A_FIX, A_16, A_32, A_COUNT };

static void pack_array(msgpack_packer *pk, enum array_header h, uint32_t n)
{
	uint8_t raw[5];
	switch (h) {
	case A_FIX:
		assert_true(n <= 15);
		msgpack_pack_array(pk, n);
		return;
	case A_16:
		assert_true(n <= UINT16_MAX);
		raw[0] = 0xdc;
		raw[1] = (uint8_t)(n >> 8);
		raw[2] = (uint8_t)n;
		pk->callback(pk->data, (const char *)raw, 3);
		return;
	default:
		raw[0] = 0xdd;
		raw[1] = (uint8_t)(n >> 24);
		raw[2] = (uint8_t)(n >> 16);
		raw[3] = (uint8_t)(n >> 8);
		raw[4] = (uint8_t)n;
		pk->callback(pk->data, (const char *)raw, 5);
		return;
	}
}

enum value_kind { V_DOUBLE, V_FLOAT, V_INT };

/* One sample and how to put it on the wire. */
struct wire_sample {
	struct sample s; /* what must decode; for V_FLOAT and V_INT the
			  * value converted the way the reader does */
	enum array_header item;
	enum width id_width, ts_width, value_width;
	enum value_kind value_kind;
	float f;	      /* V_FLOAT */
	struct intval ivalue; /* V_INT */
};

struct wire_frame {
	enum array_header outer, list;
	enum width type_width, seq_width;
	uint64_t seq;
};

static void pack_samples_frame(msgpack_packer *pk, const struct wire_frame *fr,
			       const struct wire_sample *ws, size_t n)
{
	pack_array(pk, fr->outer, 3);
	pack_int(pk, fr->type_width, unsigned_value(PROTO_SAMPLES));
	pack_int(pk, fr->seq_width, unsigned_value(fr->seq));
	pack_array(pk, fr->list, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		pack_array(pk, ws[i].item, 3);
		pack_int(pk, ws[i].id_width, unsigned_value(ws[i].s.id));
		pack_int(pk, ws[i].ts_width, signed_value(ws[i].s.ts));
		if (ws[i].value_kind == V_DOUBLE)
			msgpack_pack_double(pk, ws[i].s.value);
		else if (ws[i].value_kind == V_FLOAT)
			msgpack_pack_float(pk, ws[i].f);
		else
			pack_int(pk, ws[i].value_width, ws[i].ivalue);
	}
}

/* Packs the frame, then checks the reader and msgpack-c both decode it. */
static void expect_wire_frame(const struct wire_frame *fr, const struct wire_sample *ws, size_t n)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	pack_samples_frame(&pk, fr, ws, n);
	struct sample *want = calloc(n + 1, sizeof *want);
	assert_non_null(want);
	for (size_t i = 0; i < n; i++)
		want[i] = ws[i].s;
	expect_samples(sb.data, sb.size, fr->seq, want, n);
	free(want);
	msgpack_sbuffer_destroy(&sb);
}

static const struct wire_frame plain_frame = { A_FIX, A_FIX, W_FIXINT, W_FIXINT, 1 };

static struct wire_sample plain_sample(uint64_t id, int64_t ts, double value)
{
	return (struct wire_sample){ .s = { id, ts, value },
				     .item = A_FIX,
				     .id_width = W_U64,
				     .ts_width = ts < 0 ? W_I64 : W_U64,
				     .value_kind = V_DOUBLE };
}

/* ---- round trips through the builders ---- */

static void test_hello_round_trip(void **state)
{
	for (int relay = 0; relay < 2; relay++) {
		struct proto_buf b = { 0 };
		uint8_t nonce[PROTO_NONCE_BYTES];
		fill(nonce, sizeof nonce, (uint8_t)(0x40 + relay));
		assert_int_equal(
		    proto_put_hello(&b, "web-1.example.org", "rmon-collectd 0.3", nonce, relay), 0);
		struct proto_msg m;
		decode_only(&b, PROTO_HELLO, &m);
		assert_int_equal(m.version, PROTO_VERSION);
		assert_string_equal(m.host, "web-1.example.org");
		assert_string_equal(m.agent, "rmon-collectd 0.3");
		assert_memory_equal(m.nonce, nonce, sizeof nonce);
		assert_true(m.relay == (relay == 1));
		proto_buf_free(&b);
		assert_null(b.data);
	}
	/* The longest host and agent the decoder takes; an empty agent. */
	char host[PROTO_HOST_MAX + 1], agent[PROTO_AGENT_MAX + 1];
	memset(host, 'h', PROTO_HOST_MAX);
	host[PROTO_HOST_MAX] = '\0';
	memset(agent, 'a', PROTO_AGENT_MAX);
	agent[PROTO_AGENT_MAX] = '\0';
	uint8_t nonce[PROTO_NONCE_BYTES] = { 0 };
	const char *agents[] = { agent, "" };
	for (int i = 0; i < 2; i++) {
		struct proto_buf b = { 0 };
		assert_int_equal(proto_put_hello(&b, host, agents[i], nonce, false), 0);
		struct proto_msg m;
		decode_only(&b, PROTO_HELLO, &m);
		assert_string_equal(m.host, host);
		assert_string_equal(m.agent, agents[i]);
		proto_buf_free(&b);
	}
}

static void test_challenge_round_trip(void **state)
{
	for (int auth = 0; auth < 2; auth++) {
		struct proto_buf b = { 0 };
		uint8_t nonce[PROTO_NONCE_BYTES];
		fill(nonce, sizeof nonce, (uint8_t)(0xe0 + auth));
		assert_int_equal(proto_put_challenge(&b, nonce, auth), 0);
		struct proto_msg m;
		decode_only(&b, PROTO_CHALLENGE, &m);
		assert_memory_equal(m.nonce, nonce, sizeof nonce);
		assert_true(m.auth_required == (auth == 1));
		proto_buf_free(&b);
	}
}

static void test_auth_and_welcome_round_trip(void **state)
{
	static const struct {
		enum proto_type type;
		int (*put)(struct proto_buf *b, const uint8_t *mac);
	} kinds[] = { { PROTO_AUTH, proto_put_auth }, { PROTO_WELCOME, proto_put_welcome } };
	uint8_t mac[PROTO_MAC_BYTES], zero[PROTO_MAC_BYTES] = { 0 };
	fill(mac, sizeof mac, 0x99);
	for (size_t k = 0; k < 2; k++) {
		struct proto_buf b = { 0 };
		struct proto_msg m;
		assert_int_equal(kinds[k].put(&b, mac), 0);
		decode_only(&b, kinds[k].type, &m);
		assert_true(m.has_mac);
		assert_memory_equal(m.mac, mac, sizeof mac);
		proto_buf_free(&b);

		/* No secret: the mac travels as nil. */
		assert_int_equal(kinds[k].put(&b, NULL), 0);
		size_t len;
		const uint8_t *p = only_payload(&b, &len);
		assert_int_equal(len, 3);
		assert_int_equal(p[2], 0xc0);
		decode_only(&b, kinds[k].type, &m);
		assert_false(m.has_mac);
		assert_memory_equal(m.mac, zero, sizeof zero);
		proto_buf_free(&b);
	}
}

#define EDGES 320 /* the most integer_edges writes is 316 */

/* The edges of every integer width: 0, 2^k - 1 and 2^k for k = 1..63,
 * UINT64_MAX; with negative ones, their negations and -2^k - 1 down to
 * INT64_MIN.  Returns how many were written to out (room for EDGES). */
static size_t integer_edges(struct intval *out, bool negative)
{
	size_t n = 0;
	out[n++] = unsigned_value(0);
	for (int k = 1; k < 64; k++) {
		uint64_t p = 1ull << k;
		out[n++] = unsigned_value(p - 1);
		out[n++] = unsigned_value(p);
		if (negative) {
			out[n++] = signed_value(-(int64_t)(p - 1));
			out[n++] = signed_value(k < 63 ? -(int64_t)p : INT64_MIN);
			if (k < 63)
				out[n++] = signed_value(-(int64_t)p - 1);
		}
	}
	out[n++] = unsigned_value(UINT64_MAX);
	assert_true(n <= EDGES);
	return n;
}

static void test_ack_round_trip(void **state)
{
	struct intval seqs[EDGES];
	size_t n = integer_edges(seqs, false);
	for (size_t i = 0; i < n; i++) {
		uint64_t seq = seqs[i].u;
		struct proto_buf b = { 0 };
		struct proto_msg m;
		assert_int_equal(proto_put_ack(&b, seq), 0);
		decode_only(&b, PROTO_ACK, &m);
		assert_true(m.seq == seq);
		proto_buf_free(&b);
	}
}

static void test_error_round_trip(void **state)
{
	char long_message[PROTO_MESSAGE_MAX + 100];
	long_message[sizeof long_message - 1] = '\0';
	for (size_t i = 0; i < sizeof long_message - 1; i++)
		long_message[i] = (char)('a' + i % 26);
	const size_t lengths[] = { 0,
				   9,
				   PROTO_MESSAGE_MAX - 1,
				   PROTO_MESSAGE_MAX,
				   PROTO_MESSAGE_MAX + 1,
				   sizeof long_message - 1 };
	for (size_t i = 0; i < sizeof lengths / sizeof *lengths; i++) {
		char message[sizeof long_message];
		memcpy(message, long_message, lengths[i]);
		message[lengths[i]] = '\0';
		struct proto_buf b = { 0 };
		struct proto_msg m;
		uint32_t code = (uint32_t)(PROTO_ERR_VERSION + i % PROTO_ERR_SEQUENCE);
		assert_int_equal(proto_put_error(&b, code, message), 0);
		decode_only(&b, PROTO_ERROR, &m);
		assert_int_equal(m.code, code);
		size_t want = lengths[i] < PROTO_MESSAGE_MAX ? lengths[i] : PROTO_MESSAGE_MAX;
		assert_int_equal(strlen(m.message), want);
		assert_memory_equal(m.message, message, want);
		proto_buf_free(&b);
	}
}

/* Builds SERIES from ids and names and checks the iterator gives them back,
 * names pointing into the payload. */
static void series_round_trip(const uint64_t *ids, const char *const *names, size_t n)
{
	struct proto_buf b = { 0 };
	struct err e = { 0 };
	assert_int_equal(proto_put_series(&b, ids, names, n), 0);
	size_t len;
	const uint8_t *payload = only_payload(&b, &len);
	uint8_t *p = copy_of(payload, len);
	assert_int_equal(proto_frame_type(p, len, &e), PROTO_SERIES);
	struct proto_series_iter it;
	int64_t count = proto_series_begin(&it, p, len, &e);
	if (count < 0)
		fail_msg("proto_series_begin (%zu definitions): %s", n, e.msg);
	assert_int_equal(count, n);
	for (size_t i = 0; i < n; i++) {
		uint64_t id;
		const char *name;
		size_t name_len;
		if (proto_series_next(&it, &id, &name, &name_len, &e) != 0)
			fail_msg("proto_series_next %zu: %s", i, e.msg);
		assert_true(id == ids[i]);
		assert_int_equal(name_len, strlen(names[i]));
		assert_memory_equal(name, names[i], name_len);
		assert_true((const uint8_t *)name >= p &&
			    (const uint8_t *)name + name_len <= p + len);
	}
	uint64_t id;
	const char *name;
	size_t name_len;
	assert_int_equal(proto_series_next(&it, &id, &name, &name_len, &e), -EPROTO);
	free(p);
	proto_buf_free(&b);
}

static void test_series_round_trip(void **state)
{
	static char long_name[1025];
	memset(long_name, 'n', 1024);
	const uint64_t ids[] = { 0, 1, 127, 128, UINT32_MAX, 1ull << 32, UINT64_MAX };
	const char *names[] = { "", "web-1/cpu/user",	 long_name, "x",
				"", "db/disk/sda/reads", long_name };
	series_round_trip(ids, names, 7);
	series_round_trip(ids, names, 0);
	/* The smallest definitions: a fixint id and an empty name, 3 bytes. */
	series_round_trip(ids, names, 1);
	const uint64_t small_ids[] = { 0, 1, 2 };
	const char *empty[] = { "", "", "" };
	series_round_trip(small_ids, empty, 3);
	const char *long_names[] = { long_name };
	series_round_trip(&ids[6], long_names, 1);
}

static void test_samples_round_trip_special_values(void **state)
{
	const struct sample s[] = {
		{ 0, 0, 0.0 },
		{ UINT64_MAX, INT64_MIN, -0.0 },
		{ 1ull << 63, INT64_MAX, NAN },
		{ 0x9e3779b97f4a7c15ull, 1700000000123456789, from_bits(0xfff8000000000000ull) },
		{ 42, -1, from_bits(0x7ff8000000001234ull) }, /* NaN with a payload */
		{ 0x123456789abull, -1700000000000000000, INFINITY },
		{ UINT64_MAX, 1, -INFINITY },
		{ 127, -32, DBL_MIN },
		{ 128, -33, DBL_TRUE_MIN },
		{ UINT32_MAX, (int64_t)1 << 32, DBL_MAX },
		{ 1ull << 32, INT32_MIN, -DBL_MAX },
		{ 7, INT64_MIN + 1, 1.0 / 3 },
		{ 0, 1700000000000000000, 42.0 },
	};
	const size_t n = sizeof s / sizeof *s;
	/* Every prefix, so each sample is last (the reader's tail) once. */
	for (size_t k = 0; k <= n; k++) {
		struct proto_buf b = { 0 };
		assert_int_equal(proto_put_samples(&b, 77 + k, s, k), 0);
		size_t len;
		const uint8_t *p = only_payload(&b, &len);
		expect_samples(p, len, 77 + k, s, k);
		proto_buf_free(&b);
	}
}

static void test_samples_none_and_many(void **state)
{
	struct proto_buf b = { 0 };
	size_t len;
	assert_int_equal(proto_put_samples(&b, UINT64_MAX, NULL, 0), 0);
	const uint8_t *p = only_payload(&b, &len);
	expect_samples(p, len, UINT64_MAX, NULL, 0);
	proto_buf_free(&b);

	const size_t n = 100000;
	struct sample *s = malloc(n * sizeof *s), *got = malloc(n * sizeof *got);
	assert_non_null(s);
	assert_non_null(got);
	for (size_t i = 0; i < n; i++) {
		/* Mostly the common encoding (big ids, ns timestamps), some small. */
		s[i].id = i % 10 == 0 ? i % 100 : (i % 1000 + 1) * 0x9e3779b97f4a7c15ull;
		s[i].ts = 1700000000000000000 + (int64_t)i * 1000000000;
		if (i % 7 == 0)
			s[i].ts = -(int64_t)i;
		s[i].value = i % 3 == 0 ? (double)i : i * 0.37;
	}
	assert_int_equal(proto_put_samples(&b, 5, s, n), 0);
	p = only_payload(&b, &len);
	expect_samples(p, len, 5, s, n);

	/* One sample over the caller's room: refused before any is read. */
	struct err e = { 0 };
	uint64_t seq;
	size_t count = 17;
	assert_int_equal(proto_decode_samples(p, len, &seq, got, n - 1, &count, &e), -E2BIG);
	assert_non_null(strstr(e.msg, "SAMPLES"));
	assert_int_equal(count, 17);
	free(s);
	free(got);
	proto_buf_free(&b);
}

/* ---- every encoding msgpack allows ---- */

static void test_samples_every_integer_encoding(void **state)
{
	struct intval edges[EDGES];
	size_t n = integer_edges(edges, true);
	int tried = 0;
	for (size_t i = 0; i < n; i++)
		for (int w = 0; w < W_COUNT; w++) {
			struct intval v = edges[i];
			if (!fits((enum width)w, v))
				continue;
			int64_t ts = (int64_t)v.u;
			if (!v.negative) { /* as an id and a seq */
				struct wire_sample ws[2] = { plain_sample(v.u, 3, 1.5),
							     plain_sample(v.u, 4, 2.5) };
				ws[0].id_width = ws[1].id_width = (enum width)w;
				struct wire_frame fr = plain_frame;
				fr.seq = v.u;
				fr.seq_width = (enum width)w;
				expect_wire_frame(&fr, ws, 2);
				tried++;
			}
			if (v.negative || v.u <= INT64_MAX) { /* as a timestamp */
				struct wire_sample ws[2] = { plain_sample(9, ts, -1.5),
							     plain_sample(1ull << 40, ts, 0.25) };
				ws[0].ts_width = ws[1].ts_width = (enum width)w;
				expect_wire_frame(&plain_frame, ws, 2);
				tried++;
			}
			/* As a value: the reader converts it like C does. */
			struct wire_sample value = plain_sample(1ull << 33, 1ull << 34, 0);
			value.value_kind = V_INT;
			value.value_width = (enum width)w;
			value.ivalue = v;
			value.s.value = v.negative ? (double)ts : (double)v.u;
			expect_wire_frame(&plain_frame, &value, 1);
			tried++;
		}
	/* The frame type in every width that holds it. */
	for (int w = 0; w < W_COUNT; w++) {
		if (!fits((enum width)w, unsigned_value(PROTO_SAMPLES)))
			continue;
		struct wire_frame fr = plain_frame;
		fr.type_width = (enum width)w;
		struct wire_sample one = plain_sample(1, 2, 3);
		expect_wire_frame(&fr, &one, 1);
		tried++;
	}
	assert_true(tried > 1000);
}

static void test_samples_float_and_double_values(void **state)
{
	const float floats[] = { 0.0f,	   -0.0f,	 1.5f,	   -2.25f,    FLT_MIN, FLT_MAX,
				 -FLT_MAX, FLT_TRUE_MIN, INFINITY, -INFINITY, NAN,     3.3f };
	for (size_t i = 0; i < sizeof floats / sizeof *floats; i++) {
		struct wire_sample ws[2] = { plain_sample(1, 2, 0), plain_sample(3, 4, floats[i]) };
		ws[0].value_kind = V_FLOAT;
		ws[0].f = floats[i];
		ws[0].s.value = (double)floats[i]; /* float to double is exact */
		expect_wire_frame(&plain_frame, ws, 2);
		/* Alone, and again with small fields so no fast path applies. */
		ws[0].id_width = W_FIXINT;
		ws[0].ts_width = W_FIXINT;
		expect_wire_frame(&plain_frame, ws, 1);
	}
	/* float 3.3f is not 3.3: the reader widens, it does not round. */
	struct wire_sample f = plain_sample(1, 2, 0);
	f.value_kind = V_FLOAT;
	f.f = 3.3f;
	f.s.value = (double)3.3f;
	expect_wire_frame(&plain_frame, &f, 1);
	assert_false(3.3 == (double)3.3f);
}

static void test_samples_every_array_header(void **state)
{
	for (int outer = 0; outer < A_COUNT; outer++)
		for (int list = 0; list < A_COUNT; list++)
			for (int item = 0; item < A_COUNT; item++) {
				struct wire_frame fr = plain_frame;
				fr.outer = (enum array_header)outer;
				fr.list = (enum array_header)list;
				struct wire_sample ws[3] = {
					plain_sample(UINT64_MAX, 1700000000000000000, 0.5),
					plain_sample(2, -2, -0.5),
					plain_sample(1ull << 50, INT64_MIN, 1e300),
				};
				ws[1].item = (enum array_header)item;
				ws[2].item = (enum array_header)item;
				expect_wire_frame(&fr, ws, 3);
			}
	/* More than 15 samples need array16; more than 65535, array32. */
	static struct wire_sample many[70000];
	for (size_t i = 0; i < 70000; i++)
		many[i] = plain_sample(i, (int64_t)i - 5, (double)i / 4);
	struct wire_frame fr = plain_frame;
	fr.list = A_16;
	expect_wire_frame(&fr, many, 16);
	expect_wire_frame(&fr, many, 65535);
	fr.list = A_32;
	expect_wire_frame(&fr, many, 70000);
}

/* xorshift64*: the same sequence on every machine. */
static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t random_u64(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

/* An integer of a random bit length, so every width gets used. */
static uint64_t random_bits(int max_bits)
{
	int bits = (int)(random_u64() % (uint64_t)(max_bits + 1));
	return bits == 0 ? 0 : random_u64() >> (64 - bits);
}

static enum width random_width(struct intval v)
{
	enum width choices[W_COUNT];
	int n = 0;
	for (int w = 0; w < W_COUNT; w++)
		if (fits((enum width)w, v))
			choices[n++] = (enum width)w;
	assert_true(n > 0);
	return choices[random_u64() % (uint64_t)n];
}

static int64_t random_ts(void)
{
	uint64_t m = random_bits(63);
	return random_u64() & 1 ? -(int64_t)m - 1 : (int64_t)m;
}

static void random_value(struct wire_sample *ws)
{
	uint32_t bits32;
	switch (random_u64() % 4) {
	case 0: /* any bits at all: NaNs, infinities, subnormals */
		ws->value_kind = V_DOUBLE;
		ws->s.value = from_bits(random_u64());
		break;
	case 1:
		bits32 = (uint32_t)random_u64();
		memcpy(&ws->f, &bits32, sizeof ws->f);
		ws->value_kind = V_FLOAT;
		ws->s.value = (double)ws->f;
		break;
	case 2:
		ws->value_kind = V_INT;
		if (random_u64() & 1) {
			ws->ivalue = unsigned_value(random_bits(64));
			ws->s.value = (double)ws->ivalue.u;
		} else {
			int64_t v = random_ts();
			ws->ivalue = signed_value(v);
			ws->s.value = (double)v;
		}
		ws->value_width = random_width(ws->ivalue);
		break;
	default: {
		const double special[] = { 0.0, -0.0, NAN, INFINITY, -INFINITY, DBL_MAX };
		ws->value_kind = V_DOUBLE;
		ws->s.value = special[random_u64() % 6];
	}
	}
}

static void test_samples_random_property(void **state)
{
	static struct wire_sample ws[600];
	for (int round = 0; round < 1000; round++) {
		size_t n = random_u64() % 10 == 0 ? 16 + random_u64() % 584 : random_u64() % 16;
		/* A quarter of the frames in the sender's usual encoding. */
		bool usual = random_u64() % 4 == 0;
		struct wire_frame fr = {
			.outer = (enum array_header)(random_u64() % A_COUNT),
			.list = n > 15 ? (enum array_header)(A_16 + random_u64() % 2)
				       : (enum array_header)(random_u64() % A_COUNT),
			.type_width = random_width(unsigned_value(PROTO_SAMPLES)),
			.seq = random_bits(64),
		};
		fr.seq_width = random_width(unsigned_value(fr.seq));
		for (size_t i = 0; i < n; i++) {
			struct wire_sample *w = &ws[i];
			*w = (struct wire_sample){ .s.id = random_bits(64), .s.ts = random_ts() };
			if (usual) {
				*w = plain_sample(w->s.id, w->s.ts, from_bits(random_u64()));
				if (w->s.ts >= 0 && (random_u64() & 1))
					w->ts_width = W_I64;
				continue;
			}
			w->item = (enum array_header)(random_u64() % A_COUNT);
			w->id_width = random_width(unsigned_value(w->s.id));
			w->ts_width = random_width(signed_value(w->s.ts));
			random_value(w);
		}
		expect_wire_frame(&fr, ws, n);
	}
}

/* ---- rejection ---- */

static void expect_no_samples(const void *payload, size_t len, int code, const char *what)
{
	uint8_t *p = copy_of(payload, len);
	struct sample out[4];
	struct err e = { 0 };
	uint64_t seq;
	size_t count = 12345;
	int rc = proto_decode_samples(p, len, &seq, out, 4, &count, &e);
	if (rc != code)
		fail_msg("%s: proto_decode_samples gave %d (%s), want %d", what, rc, e.msg, code);
	assert_non_null(strstr(e.msg, "SAMPLES"));
	assert_int_equal(count, 12345);
	free(p);
}

/* Walks a SERIES payload; the first error, or 0 when all of it decodes. */
static int walk_series(const void *payload, size_t len, struct err *e)
{
	struct proto_series_iter it;
	int64_t n = proto_series_begin(&it, payload, len, e);
	if (n < 0)
		return (int)n;
	for (int64_t i = 0; i < n; i++) {
		uint64_t id;
		const char *name;
		size_t name_len;
		int rc = proto_series_next(&it, &id, &name, &name_len, e);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static void test_every_truncation_is_refused(void **state)
{
	struct proto_buf b = { 0 };
	const struct sample s[] = { { UINT64_MAX, 1700000000000000000, 0.5 },
				    { 3, -4, 1e-9 },
				    { 1ull << 40, INT64_MIN, NAN },
				    { 1, 2, 3 } };
	uint8_t nonce[PROTO_NONCE_BYTES] = { 1, 2, 3 };
	const uint64_t ids[] = { 1, UINT64_MAX, 300 };
	const char *names[] = { "a/b", "", "web-1/memory/available" };
	assert_int_equal(proto_put_samples(&b, 99, s, 4), 0);
	assert_int_equal(proto_put_series(&b, ids, names, 3), 0);
	assert_int_equal(proto_put_hello(&b, "host", "agent", nonce, true), 0);
	assert_int_equal(proto_put_challenge(&b, nonce, true), 0);
	assert_int_equal(proto_put_auth(&b, nonce), 0);
	assert_int_equal(proto_put_welcome(&b, NULL), 0);
	assert_int_equal(proto_put_ack(&b, UINT64_MAX), 0);
	assert_int_equal(proto_put_error(&b, PROTO_ERR_AUTH, "no"), 0);
	int frames = 0;
	for (size_t at = 0; at < b.len; frames++) {
		size_t len = proto_frame_length(b.data + at);
		const uint8_t *payload = b.data + at + PROTO_HEADER_BYTES;
		struct err e = { 0 };
		int type = proto_frame_type(payload, len, &e);
		assert_true(type >= PROTO_HELLO && type <= PROTO_ERROR);
		for (size_t cut = 0; cut < len; cut++) {
			uint8_t *p = copy_of(payload, cut);
			struct proto_msg m;
			struct sample out[4];
			uint64_t seq;
			size_t count;
			if (type == PROTO_SAMPLES)
				assert_int_equal(
				    proto_decode_samples(p, cut, &seq, out, 4, &count, &e),
				    -EPROTO);
			else if (type == PROTO_SERIES)
				assert_int_equal(walk_series(p, cut, &e), -EPROTO);
			else
				assert_int_equal(proto_decode_control(p, cut, &m, &e), -EPROTO);
			free(p);
		}
		at += PROTO_HEADER_BYTES + len;
	}
	assert_int_equal(frames, 8);
	proto_buf_free(&b);
}

static void test_counts_are_checked_against_the_bytes(void **state)
{
	struct err e = { 0 };
	/* [6, 0, <2^32-1 samples>] [1, 2, 3]: the count must not be believed,
	 * even by a caller that allows any number of samples. */
	const uint8_t huge[] = { 0x93, 0x06, 0x00, 0xdd, 0xff, 0xff, 0xff, 0xff, 0x93, 1, 2, 3 };
	assert_int_equal(proto_samples_count(huge, sizeof huge, &e), -EPROTO);
	assert_non_null(strstr(e.msg, "SAMPLES"));
	struct sample out[1];
	uint64_t seq;
	size_t count;
	assert_int_equal(proto_decode_samples(huge, sizeof huge, &seq, out, SIZE_MAX, &count, &e),
			 -EPROTO);
	/* Two announced, room for one: -EPROTO, not a read past the end. */
	const uint8_t two[] = { 0x93, 0x06, 0x00, 0x92, 0x93, 1, 2, 3 };
	expect_no_samples(two, sizeof two, -EPROTO, "two samples announced, one present");
	const uint8_t series[] = { 0x92, 0x05, 0xdd, 0xff, 0xff, 0xff, 0xff, 0x92, 0x01, 0xa0 };
	struct proto_series_iter it;
	assert_int_equal(proto_series_begin(&it, series, sizeof series, &e), -EPROTO);
	assert_non_null(strstr(e.msg, "SERIES"));
	/* Control frames: an array, a str and a bin claiming 4 GiB. */
	const uint8_t array[] = { 0xdd, 0xff, 0xff, 0xff, 0xff, 0x07, 0x01 };
	const uint8_t str[] = { 0x93, 0x08, 0x01, 0xdb, 0xff, 0xff, 0xff, 0xf0, 'x' };
	const uint8_t bin[] = { 0x92, 0x03, 0xc6, 0xff, 0xff, 0xff, 0xff, 0x00 };
	struct proto_msg m;
	assert_int_equal(proto_decode_control(array, sizeof array, &m, &e), -EPROTO);
	assert_int_equal(proto_decode_control(str, sizeof str, &m, &e), -EPROTO);
	assert_int_equal(proto_decode_control(bin, sizeof bin, &m, &e), -EPROTO);
}

static void test_too_many_samples(void **state)
{
	struct sample s[5] = { { 1, 1, 1 }, { 2, 2, 2 }, { 3, 3, 3 }, { 4, 4, 4 }, { 5, 5, 5 } };
	struct proto_buf b = { 0 };
	assert_int_equal(proto_put_samples(&b, 1, s, 5), 0);
	size_t len;
	const uint8_t *p = only_payload(&b, &len);
	expect_no_samples(p, len, -E2BIG, "5 samples, room for 4");
	struct sample out[5];
	struct err e = { 0 };
	uint64_t seq;
	size_t count;
	assert_int_equal(proto_decode_samples(p, len, &seq, out, 5, &count, &e), 0);
	assert_int_equal(count, 5);
	proto_buf_free(&b);
}

static void test_trailing_bytes_are_refused(void **state)
{
	struct proto_buf b = { 0 };
	struct err e = { 0 };
	const struct sample s[2] = { { UINT64_MAX, 1700000000000000000, 1 }, { 1, 2, 3 } };
	const uint64_t ids[] = { 1, 2 };
	const char *names[] = { "a", "b" };
	uint8_t nonce[PROTO_NONCE_BYTES] = { 0 };
	for (size_t n = 0; n <= 2; n++) {
		assert_int_equal(proto_put_samples(&b, 1, s, n), 0);
		assert_int_equal(proto_put_series(&b, ids, names, n), 0);
	}
	assert_int_equal(proto_put_hello(&b, "h", "a", nonce, false), 0);
	assert_int_equal(proto_put_ack(&b, 3), 0);
	for (size_t at = 0; at < b.len;) {
		size_t len = proto_frame_length(b.data + at);
		uint8_t *p = malloc(len + 1);
		assert_non_null(p);
		memcpy(p, b.data + at + PROTO_HEADER_BYTES, len);
		p[len] = 0x00; /* a valid msgpack value of its own: fixint 0 */
		int type = proto_frame_type(p, len, &e);
		struct proto_msg m;
		if (type == PROTO_SAMPLES) {
			expect_no_samples(p, len + 1, -EPROTO, "SAMPLES and a byte");
		} else if (type == PROTO_SERIES) {
			assert_int_equal(walk_series(p, len + 1, &e), -EPROTO);
			assert_non_null(strstr(e.msg, "SERIES"));
		} else {
			assert_int_equal(proto_decode_control(p, len + 1, &m, &e), -EPROTO);
		}
		free(p);
		at += PROTO_HEADER_BYTES + len;
	}
	proto_buf_free(&b);
}

/* Values that do not belong where an integer, a string, a bin or a
 * boolean is expected. */
enum bad {
	BAD_STR,
	BAD_MAP,
	BAD_EXT,
	BAD_NIL,
	BAD_TRUE,
	BAD_BIN,
	BAD_DOUBLE,
	BAD_NEGATIVE,
	BAD_ARRAY,
	BAD_COUNT
};
static const char *const bad_names[] = { "str",	   "map",    "ext",	 "nil",	 "true",
					 "bin 32", "double", "negative", "array" };

static void pack_bad(msgpack_packer *pk, enum bad kind)
{
	static const uint8_t zero[PROTO_NONCE_BYTES];
	switch (kind) {
	case BAD_STR:
		msgpack_pack_str_with_body(pk, "12", 2);
		break;
	case BAD_MAP:
		msgpack_pack_map(pk, 1);
		msgpack_pack_uint8(pk, 1);
		msgpack_pack_uint8(pk, 2);
		break;
	case BAD_EXT:
		msgpack_pack_ext_with_body(pk, "\x01", 1, 5);
		break;
	case BAD_NIL:
		msgpack_pack_nil(pk);
		break;
	case BAD_TRUE:
		msgpack_pack_true(pk);
		break;
	case BAD_BIN:
		msgpack_pack_bin_with_body(pk, zero, sizeof zero);
		break;
	case BAD_DOUBLE:
		msgpack_pack_double(pk, 1.5);
		break;
	case BAD_NEGATIVE:
		msgpack_pack_int8(pk, -1);
		break;
	default:
		msgpack_pack_array(pk, 0);
		break;
	}
}

#define ALLOWED(kind) (1u << (kind))

/* A control frame's fields: their good value, and the bad kinds that are
 * in fact allowed there. */
struct field {
	char kind; /* 'u' integer, 's' str, 'b' bin 32, 'f' false */
	uint64_t u;
	const char *s;
	unsigned allowed;
};

static const struct control_case {
	const char *name;
	uint32_t n;
	struct field f[6];
} control_cases[] = {
	{ "HELLO",
	  6,
	  { { 'u', PROTO_HELLO, NULL, 0 },
	    { 'u', 1, NULL, 0 },
	    { 's', 0, "web-1", ALLOWED(BAD_STR) },
	    { 's', 0, "agent", ALLOWED(BAD_STR) },
	    { 'b', 0, NULL, ALLOWED(BAD_BIN) },
	    { 'f', 0, NULL, ALLOWED(BAD_TRUE) } } },
	{ "CHALLENGE",
	  3,
	  { { 'u', PROTO_CHALLENGE, NULL, 0 },
	    { 'b', 0, NULL, ALLOWED(BAD_BIN) },
	    { 'f', 0, NULL, ALLOWED(BAD_TRUE) } } },
	{ "AUTH",
	  2,
	  { { 'u', PROTO_AUTH, NULL, 0 }, { 'b', 0, NULL, ALLOWED(BAD_BIN) | ALLOWED(BAD_NIL) } } },
	{ "WELCOME",
	  2,
	  { { 'u', PROTO_WELCOME, NULL, 0 },
	    { 'b', 0, NULL, ALLOWED(BAD_BIN) | ALLOWED(BAD_NIL) } } },
	{ "ACK", 2, { { 'u', PROTO_ACK, NULL, 0 }, { 'u', UINT64_MAX, NULL, 0 } } },
	{ "ERROR",
	  3,
	  { { 'u', PROTO_ERROR, NULL, 0 },
	    { 'u', PROTO_ERR_LIMIT, NULL, 0 },
	    { 's', 0, "too many series", ALLOWED(BAD_STR) } } },
};

static void pack_field(msgpack_packer *pk, const struct field *f)
{
	static const uint8_t nonce[PROTO_NONCE_BYTES] = { 9 };
	if (f->kind == 'u')
		msgpack_pack_uint64(pk, f->u);
	else if (f->kind == 's')
		msgpack_pack_str_with_body(pk, f->s, strlen(f->s));
	else if (f->kind == 'b')
		msgpack_pack_bin_with_body(pk, nonce, sizeof nonce);
	else
		msgpack_pack_false(pk);
}

/* Packs a control case as `count` fields (extra ones are 0) with field
 * `bad_at` replaced (none when -1). */
static void pack_control(msgpack_sbuffer *sb, const struct control_case *c, uint32_t count,
			 int bad_at, enum bad kind)
{
	msgpack_packer pk;
	msgpack_sbuffer_clear(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, count);
	for (uint32_t i = 0; i < count; i++) {
		if ((int)i == bad_at)
			pack_bad(&pk, kind);
		else if (i < c->n)
			pack_field(&pk, &c->f[i]);
		else
			msgpack_pack_uint8(&pk, 0);
	}
}

static void test_control_wrong_types_are_refused(void **state)
{
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	for (size_t c = 0; c < sizeof control_cases / sizeof *control_cases; c++) {
		const struct control_case *cc = &control_cases[c];
		struct proto_msg m;
		struct err e = { 0 };
		pack_control(&sb, cc, cc->n, -1, BAD_STR);
		if (proto_decode_control(sb.data, sb.size, &m, &e) != 0)
			fail_msg("%s: the good frame: %s", cc->name, e.msg);
		for (uint32_t at = 0; at < cc->n; at++)
			for (int kind = 0; kind < BAD_COUNT; kind++) {
				if (cc->f[at].allowed & ALLOWED(kind))
					continue;
				pack_control(&sb, cc, cc->n, (int)at, (enum bad)kind);
				uint8_t *p = copy_of(sb.data, sb.size);
				err_clear(&e);
				int rc = proto_decode_control(p, sb.size, &m, &e);
				if (rc != -EPROTO)
					fail_msg("%s field %u as %s: got %d", cc->name, at,
						 bad_names[kind], rc);
				/* Once the type is known, the message names the frame. */
				if (at > 0 && !strstr(e.msg, cc->name))
					fail_msg("%s field %u as %s: message '%s'", cc->name, at,
						 bad_names[kind], e.msg);
				free(p);
			}
		/* One field too few, one too many. */
		pack_control(&sb, cc, cc->n - 1, -1, BAD_STR);
		assert_int_equal(proto_decode_control(sb.data, sb.size, &m, &e), -EPROTO);
		assert_non_null(strstr(e.msg, cc->name));
		pack_control(&sb, cc, cc->n + 1, -1, BAD_STR);
		assert_int_equal(proto_decode_control(sb.data, sb.size, &m, &e), -EPROTO);
		assert_non_null(strstr(e.msg, cc->name));
	}
	msgpack_sbuffer_destroy(&sb);
}

/* An unsigned integer, or the bad value when `here`. */
static void pack_uint_or_bad(msgpack_packer *pk, bool here, enum bad kind, uint64_t u)
{
	if (here)
		pack_bad(pk, kind);
	else
		msgpack_pack_uint64(pk, u);
}

/* SAMPLES [6, 9, [[1, 2, 3.0]]] with the element at `at` (0 type, 1 seq,
 * 2 the list, 3 the sample, 4 id, 5 ts, 6 value) replaced. */
static void pack_bad_samples(msgpack_packer *pk, int at, enum bad kind)
{
	msgpack_pack_array(pk, 3);
	pack_uint_or_bad(pk, at == 0, kind, PROTO_SAMPLES);
	pack_uint_or_bad(pk, at == 1, kind, 9);
	if (at == 2) {
		pack_bad(pk, kind);
		return;
	}
	msgpack_pack_array(pk, 1);
	if (at == 3) {
		pack_bad(pk, kind);
		return;
	}
	msgpack_pack_array(pk, 3);
	pack_uint_or_bad(pk, at == 4, kind, 1);
	pack_uint_or_bad(pk, at == 5, kind, 2);
	if (at == 6)
		pack_bad(pk, kind);
	else
		msgpack_pack_double(pk, 3.0);
}

/* SERIES [5, [[1, "a"]]] with the element at `at` (0 type, 1 the list,
 * 2 the definition, 3 id, 4 name) replaced. */
static void pack_bad_series(msgpack_packer *pk, int at, enum bad kind)
{
	msgpack_pack_array(pk, 2);
	pack_uint_or_bad(pk, at == 0, kind, PROTO_SERIES);
	if (at == 1) {
		pack_bad(pk, kind);
		return;
	}
	msgpack_pack_array(pk, 1);
	if (at == 2) {
		pack_bad(pk, kind);
		return;
	}
	msgpack_pack_array(pk, 2);
	pack_uint_or_bad(pk, at == 3, kind, 1);
	if (at == 4)
		pack_bad(pk, kind);
	else
		msgpack_pack_str_with_body(pk, "a", 1);
}

static void test_samples_and_series_wrong_types_are_refused(void **state)
{
	/* What is allowed where: an empty list, negative timestamps and
	 * values, float values, str names. */
	const unsigned samples_allowed[7] = { 0,
					      0,
					      ALLOWED(BAD_ARRAY),
					      0,
					      0,
					      ALLOWED(BAD_NEGATIVE),
					      ALLOWED(BAD_NEGATIVE) | ALLOWED(BAD_DOUBLE) };
	const unsigned series_allowed[5] = { 0, ALLOWED(BAD_ARRAY), 0, 0, ALLOWED(BAD_STR) };
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	int refused = 0;
	for (int kind = 0; kind < BAD_COUNT; kind++) {
		for (int at = 0; at < 7; at++) {
			if (samples_allowed[at] & ALLOWED(kind))
				continue;
			msgpack_sbuffer_clear(&sb);
			pack_bad_samples(&pk, at, (enum bad)kind);
			char what[64];
			snprintf(what, sizeof what, "SAMPLES element %d as %s", at,
				 bad_names[kind]);
			expect_no_samples(sb.data, sb.size, -EPROTO, what);
			refused++;
		}
		for (int at = 0; at < 5; at++) {
			if (series_allowed[at] & ALLOWED(kind))
				continue;
			msgpack_sbuffer_clear(&sb);
			pack_bad_series(&pk, at, (enum bad)kind);
			uint8_t *p = copy_of(sb.data, sb.size);
			struct err e = { 0 };
			if (walk_series(p, sb.size, &e) != -EPROTO || !strstr(e.msg, "SERIES"))
				fail_msg("SERIES element %d as %s: '%s'", at, bad_names[kind],
					 e.msg);
			free(p);
			refused++;
		}
	}
	assert_int_equal(refused, (7 * BAD_COUNT - 4) + (5 * BAD_COUNT - 2));
	/* The good frames, to be sure the builders above are right. */
	msgpack_sbuffer_clear(&sb);
	pack_bad_samples(&pk, 7, BAD_NIL);
	const struct sample want = { 1, 2, 3.0 };
	expect_samples(sb.data, sb.size, 9, &want, 1);
	msgpack_sbuffer_clear(&sb);
	pack_bad_series(&pk, 5, BAD_NIL);
	struct err e = { 0 };
	assert_int_equal(walk_series(sb.data, sb.size, &e), 0);
	/* Each decoder refuses the others' frames. */
	struct proto_msg m;
	assert_int_equal(proto_decode_control(sb.data, sb.size, &m, &e), -EPROTO);
	expect_no_samples(sb.data, sb.size, -EPROTO, "a SERIES frame");
	msgpack_sbuffer_clear(&sb);
	pack_bad_samples(&pk, 7, BAD_NIL);
	assert_int_equal(walk_series(sb.data, sb.size, &e), -EPROTO);
	assert_int_equal(proto_decode_control(sb.data, sb.size, &m, &e), -EPROTO);
	msgpack_sbuffer_destroy(&sb);
}

/* A HELLO packed by hand, with any host and nonce. */
static void pack_hello(msgpack_sbuffer *sb, const char *host, size_t host_len, size_t nonce_len,
		       uint64_t version)
{
	static const uint8_t nonce[64];
	msgpack_packer pk;
	msgpack_sbuffer_clear(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 6);
	msgpack_pack_uint8(&pk, PROTO_HELLO);
	msgpack_pack_uint64(&pk, version);
	msgpack_pack_str_with_body(&pk, host, host_len);
	msgpack_pack_str_with_body(&pk, "agent", 5);
	msgpack_pack_bin_with_body(&pk, nonce, nonce_len);
	msgpack_pack_true(&pk);
}

static void test_hello_refusals(void **state)
{
	char host[PROTO_HOST_MAX + 2];
	memset(host, 'h', sizeof host);
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	struct proto_msg m;
	struct err e = { 0 };
	const struct {
		size_t host_len, nonce_len;
		uint64_t version;
		int rc;
	} cases[] = {
		{ PROTO_HOST_MAX, PROTO_NONCE_BYTES, PROTO_VERSION, 0 },
		{ PROTO_HOST_MAX + 1, PROTO_NONCE_BYTES, PROTO_VERSION, -EPROTO },
		{ 0, PROTO_NONCE_BYTES, PROTO_VERSION, -EPROTO },
		{ 5, PROTO_NONCE_BYTES - 1, PROTO_VERSION, -EPROTO },
		{ 5, PROTO_NONCE_BYTES + 1, PROTO_VERSION, -EPROTO },
		{ 5, 0, PROTO_VERSION, -EPROTO },
		{ 5, PROTO_NONCE_BYTES, UINT32_MAX, 0 }, /* the server answers VERSION */
		{ 5, PROTO_NONCE_BYTES, (uint64_t)UINT32_MAX + 1, -EPROTO },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		pack_hello(&sb, host, cases[i].host_len, cases[i].nonce_len, cases[i].version);
		uint8_t *p = copy_of(sb.data, sb.size);
		int rc = proto_decode_control(p, sb.size, &m, &e);
		if (rc != cases[i].rc)
			fail_msg("case %zu: got %d (%s)", i, rc, e.msg);
		if (rc != 0)
			assert_non_null(strstr(e.msg, "HELLO"));
		free(p);
	}
	/* A host with a NUL inside would name another host in C strings. */
	pack_hello(&sb, "web-1\0evil", 10, PROTO_NONCE_BYTES, PROTO_VERSION);
	assert_int_equal(proto_decode_control(sb.data, sb.size, &m, &e), -EPROTO);
	assert_non_null(strstr(e.msg, "HELLO"));
	/* The builder's own output with an empty or over-long host. */
	struct proto_buf b = { 0 };
	uint8_t nonce[PROTO_NONCE_BYTES] = { 0 };
	host[PROTO_HOST_MAX + 1] = '\0';
	const char *hosts[] = { "", host };
	for (int i = 0; i < 2; i++) {
		assert_int_equal(proto_put_hello(&b, hosts[i], "agent", nonce, false), 0);
		size_t len;
		const uint8_t *p = only_payload(&b, &len);
		assert_int_equal(proto_decode_control(p, len, &m, &e), -EPROTO);
		assert_non_null(strstr(e.msg, "HELLO"));
		proto_buf_free(&b);
	}
	msgpack_sbuffer_destroy(&sb);
}

static void test_timestamps_above_int64_max_are_refused(void **state)
{
	const uint64_t too_big[] = { (uint64_t)INT64_MAX + 1, UINT64_MAX };
	for (size_t i = 0; i < 2; i++) {
		/* In the usual encoding (id uint64, ts uint64, value double), as
		 * the last sample and before another, and with a small id. */
		for (int small_id = 0; small_id < 2; small_id++)
			for (int second = 0; second < 2; second++) {
				struct wire_sample ws[2] = { plain_sample(UINT64_MAX, 0, 1.0),
							     plain_sample(1ull << 60, 5, 2.0) };
				if (small_id) {
					ws[0].id_width = W_FIXINT;
					ws[0].s.id = 1;
				}
				msgpack_sbuffer sb;
				msgpack_packer pk;
				msgpack_sbuffer_init(&sb);
				msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
				pack_samples_frame(&pk, &plain_frame, ws, 1 + (size_t)second);
				/* Patch ts 0 (W_U64: 0xcf then 8 bytes) to the big value. */
				size_t ts_at =
				    5 + (small_id ? 1 : 9); /* after 4 headers, 0x93, id */
				assert_int_equal((uint8_t)sb.data[ts_at], 0xcf);
				for (int k = 0; k < 8; k++)
					sb.data[ts_at + 1 + k] = (char)(too_big[i] >> (56 - 8 * k));
				expect_no_samples(sb.data, sb.size, -EPROTO, "ts above INT64_MAX");
				msgpack_sbuffer_destroy(&sb);
			}
	}
	/* INT64_MAX itself, as uint64, is a timestamp. */
	struct wire_sample ws = plain_sample(1, INT64_MAX, 1.0);
	ws.ts_width = W_U64;
	expect_wire_frame(&plain_frame, &ws, 1);
}

static void test_frame_type(void **state)
{
	struct err e = { 0 };
	for (uint8_t t = 0; t < 12; t++) {
		const uint8_t p[] = { 0x91, t };
		int rc = proto_frame_type(p, sizeof p, &e);
		if (t >= PROTO_HELLO && t <= PROTO_ERROR)
			assert_int_equal(rc, t);
		else
			assert_int_equal(rc, -EPROTO);
	}
	const uint8_t empty_array[] = { 0x90 }, map[] = { 0x81, 0x01, 0x01 },
		      negative[] = { 0x91, 0xff }, str[] = { 0x91, 0xa1, '1' };
	assert_int_equal(proto_frame_type(empty_array, 1, &e), -EPROTO);
	assert_int_equal(proto_frame_type(map, sizeof map, &e), -EPROTO);
	assert_int_equal(proto_frame_type(negative, sizeof negative, &e), -EPROTO);
	assert_int_equal(proto_frame_type(str, sizeof str, &e), -EPROTO);
	assert_int_equal(proto_frame_type(empty_array, 0, &e), -EPROTO);
	/* Header: big-endian. */
	const uint8_t h[PROTO_HEADER_BYTES] = { 0x01, 0x02, 0x03, 0x04 },
		      max[] = { 255, 255, 255, 255 };
	assert_int_equal(proto_frame_length(h), 0x01020304);
	assert_int_equal(proto_frame_length(max), UINT32_MAX);
}

static void test_buf_consume(void **state)
{
	struct proto_buf b = { 0 };
	for (uint64_t seq = 1; seq <= 3; seq++)
		assert_int_equal(proto_put_ack(&b, seq << 40), 0);
	size_t cap = b.cap, total = b.len;
	proto_buf_consume(&b, 0);
	assert_int_equal(b.len, total);
	for (uint64_t seq = 1; seq <= 3; seq++) {
		size_t len = proto_frame_length(b.data);
		struct proto_msg m;
		struct err e = { 0 };
		assert_int_equal(proto_decode_control(b.data + PROTO_HEADER_BYTES, len, &m, &e), 0);
		assert_true(m.seq == seq << 40);
		proto_buf_consume(&b, PROTO_HEADER_BYTES + len);
		assert_int_equal(b.cap, cap);
	}
	assert_int_equal(b.len, 0);
	/* A partial send, then more than is there. */
	assert_int_equal(proto_put_ack(&b, 9), 0);
	uint8_t frame[16];
	size_t len = b.len;
	memcpy(frame, b.data, len);
	proto_buf_consume(&b, 1);
	assert_int_equal(b.len, len - 1);
	assert_memory_equal(b.data, frame + 1, len - 1);
	proto_buf_consume(&b, 1000);
	assert_int_equal(b.len, 0);
	proto_buf_consume(&b, 1);
	assert_int_equal(b.len, 0);
	/* The buffer is still usable, and frames append after what is left. */
	assert_int_equal(proto_put_ack(&b, 10), 0);
	assert_int_equal(proto_put_ack(&b, 11), 0);
	proto_buf_consume(&b, len);
	struct proto_msg m;
	decode_only(&b, PROTO_ACK, &m);
	assert_int_equal(m.seq, 11);
	proto_buf_free(&b);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	proto_buf_consume(&b, 5); /* on an empty, freed buffer */
	proto_buf_free(&b);
}

/* ---- authentication ---- */

static void test_mac(void **state)
{
	uint8_t first[PROTO_NONCE_BYTES], second[PROTO_NONCE_BYTES];
	fill(first, sizeof first, 0);
	fill(second, sizeof second, 32);
	const char *secret = "correct horse battery staple", *host = "web-1.example.org";
	uint8_t mac[PROTO_MAC_BYTES], again[PROTO_MAC_BYTES], other[PROTO_MAC_BYTES];
	assert_int_equal(proto_mac(secret, "rmon/1 agent", first, second, host, mac, NULL), 0);
	/* Known answer, computed independently with python3:
	 *   hmac.new(b'correct horse battery staple',
	 *            b'rmon/1 agent' + bytes(range(32)) + bytes(range(32, 64))
	 *            + b'web-1.example.org', hashlib.sha256).hexdigest() */
	const char *expected = "6dd0dd0002803eb43c88cb6c89a674b460fe894c39a2daf65b3474aea02aba66";
	char hex[2 * PROTO_MAC_BYTES + 1];
	for (int i = 0; i < PROTO_MAC_BYTES; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	assert_string_equal(hex, expected);

	assert_int_equal(proto_mac(secret, "rmon/1 agent", first, second, host, again, NULL), 0);
	assert_memory_equal(mac, again, sizeof mac);
	assert_true(proto_mac_equal(mac, again));

	/* Any input changes it. */
	assert_int_equal(proto_mac("correct horse battery stapler", "rmon/1 agent", first, second,
				   host, other, NULL),
			 0);
	assert_false(proto_mac_equal(mac, other));
	assert_int_equal(proto_mac(secret, "rmon/1 server", first, second, host, other, NULL), 0);
	assert_false(proto_mac_equal(mac, other));
	assert_int_equal(proto_mac(secret, "rmon/1 agent", second, first, host, other, NULL),
			 0); /* nonces swapped */
	assert_false(proto_mac_equal(mac, other));
	first[31] ^= 1;
	assert_int_equal(proto_mac(secret, "rmon/1 agent", first, second, host, other, NULL), 0);
	assert_false(proto_mac_equal(mac, other));
	first[31] ^= 1;
	second[0] ^= 0x80;
	assert_int_equal(proto_mac(secret, "rmon/1 agent", first, second, host, other, NULL), 0);
	assert_false(proto_mac_equal(mac, other));
	second[0] ^= 0x80;
	assert_int_equal(
	    proto_mac(secret, "rmon/1 agent", first, second, "web-2.example.org", other, NULL), 0);
	assert_false(proto_mac_equal(mac, other));
	assert_int_equal(proto_mac(secret, "rmon/1 agent", first, second, host, other, NULL), 0);
	assert_true(proto_mac_equal(mac, other));

	/* proto_mac_equal looks at every byte. */
	for (int i = 0; i < PROTO_MAC_BYTES; i++) {
		memcpy(other, mac, sizeof mac);
		other[i] ^= 0x01;
		assert_false(proto_mac_equal(mac, other));
		assert_false(proto_mac_equal(other, mac));
	}
}

static void test_nonce(void **state)
{
	uint8_t a[PROTO_NONCE_BYTES], b[PROTO_NONCE_BYTES], zero[PROTO_NONCE_BYTES] = { 0 };
	assert_int_equal(proto_nonce(a), 0);
	assert_int_equal(proto_nonce(b), 0);
	assert_memory_not_equal(a, b, sizeof a);
	assert_memory_not_equal(a, zero, sizeof a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello_round_trip),
		cmocka_unit_test(test_challenge_round_trip),
		cmocka_unit_test(test_auth_and_welcome_round_trip),
		cmocka_unit_test(test_ack_round_trip),
		cmocka_unit_test(test_error_round_trip),
		cmocka_unit_test(test_series_round_trip),
		cmocka_unit_test(test_samples_round_trip_special_values),
		cmocka_unit_test(test_samples_none_and_many),
		cmocka_unit_test(test_samples_every_integer_encoding),
		cmocka_unit_test(test_samples_float_and_double_values),
		cmocka_unit_test(test_samples_every_array_header),
		cmocka_unit_test(test_samples_random_property),
		cmocka_unit_test(test_every_truncation_is_refused),
		cmocka_unit_test(test_counts_are_checked_against_the_bytes),
		cmocka_unit_test(test_too_many_samples),
		cmocka_unit_test(test_trailing_bytes_are_refused),
		cmocka_unit_test(test_control_wrong_types_are_refused),
		cmocka_unit_test(test_samples_and_series_wrong_types_are_refused),
		cmocka_unit_test(test_hello_refusals),
		cmocka_unit_test(test_timestamps_above_int64_max_are_refused),
		cmocka_unit_test(test_frame_type),
		cmocka_unit_test(test_buf_consume),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_nonce),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
