/* proto_wire.h - what the protocol tests (tests/test_proto*.c) share:
 * frames built with msgpack-c's packer in any encoding msgpack allows, and
 * checks that net/proto.c's reader and msgpack-c's unpacker agree on them.
 * Header-only (static inline): each test file is its own program. */
#ifndef RMON_TESTS_PROTO_WIRE_H
#define RMON_TESTS_PROTO_WIRE_H

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
static inline uint8_t *copy_of(const void *bytes, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);
	assert_non_null(p);
	if (len)
		memcpy(p, bytes, len);
	return p;
}

static inline void fill(uint8_t *out, size_t n, uint8_t first)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(first + i);
}

static inline void decode_only(const struct proto_buf *b, enum proto_type type, struct proto_msg *m)
{
	size_t len;
	const uint8_t *p = only_payload(b, &len);
	struct err e = { 0 };
	assert_int_equal(proto_frame_type(p, len, &e), type);
	if (proto_decode_control(p, len, m, &e) != 0)
		fail_msg("proto_decode_control: %s", e.msg);
	assert_int_equal(m->type, type);
}

static inline bool same_bits(double a, double b)
{
	return memcmp(&a, &b, sizeof a) == 0;
}

static inline double from_bits(uint64_t bits)
{
	double d;
	memcpy(&d, &bits, sizeof d);
	return d;
}

/* Decodes SAMPLES with msgpack-c's generic unpacker and checks it reads
 * the same seq and samples, bit for bit. */
static inline void check_with_msgpack(const void *payload, size_t len, uint64_t seq,
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
static inline void expect_samples(const void *payload, size_t len, uint64_t seq,
				  const struct sample *want, size_t n)
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

static inline struct intval unsigned_value(uint64_t u)
{
	return (struct intval){ u, false };
}

static inline struct intval signed_value(int64_t s)
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

static inline bool fits_signed(struct intval v, int bits)
{
	int64_t min = bits == 64 ? INT64_MIN : -((int64_t)1 << (bits - 1));
	uint64_t max = bits == 64 ? INT64_MAX : ((uint64_t)1 << (bits - 1)) - 1;
	return v.negative ? (int64_t)v.u >= min : v.u <= max;
}

static inline bool fits(enum width w, struct intval v)
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

static inline void pack_int(msgpack_packer *pk, enum width w, struct intval v)
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

static inline void pack_array(msgpack_packer *pk, enum array_header h, uint32_t n)
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

static inline void pack_samples_frame(msgpack_packer *pk, const struct wire_frame *fr,
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
static inline void expect_wire_frame(const struct wire_frame *fr, const struct wire_sample *ws,
				     size_t n)
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

/* The usual frame: fix arrays, fixint type and sequence number 1. */
#define PLAIN_FRAME ((struct wire_frame){ A_FIX, A_FIX, W_FIXINT, W_FIXINT, 1 })

static inline struct wire_sample plain_sample(uint64_t id, int64_t ts, double value)
{
	return (struct wire_sample){ .s = { id, ts, value },
				     .item = A_FIX,
				     .id_width = W_U64,
				     .ts_width = ts < 0 ? W_I64 : W_U64,
				     .value_kind = V_DOUBLE };
}

#define EDGES 320 /* the most integer_edges writes is 316 */

/* The edges of every integer width: 0, 2^k - 1 and 2^k for k = 1..63,
 * UINT64_MAX; with negative ones, their negations and -2^k - 1 down to
 * INT64_MIN.  Returns how many were written to out (room for EDGES). */
static inline size_t integer_edges(struct intval *out, bool negative)
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

#endif
