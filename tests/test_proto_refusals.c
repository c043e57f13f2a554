/* test_proto_refusals.c - truncated, oversized, miscounted and mistyped
 * frames are refused by net/proto.c with a message naming the frame and
 * the field. */
#include "tests/proto_wire.h"

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
				pack_samples_frame(&pk, &PLAIN_FRAME, ws, 1 + (size_t)second);
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
	expect_wire_frame(&PLAIN_FRAME, &ws, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_truncation_is_refused),
		cmocka_unit_test(test_counts_are_checked_against_the_bytes),
		cmocka_unit_test(test_too_many_samples),
		cmocka_unit_test(test_trailing_bytes_are_refused),
		cmocka_unit_test(test_control_wrong_types_are_refused),
		cmocka_unit_test(test_samples_and_series_wrong_types_are_refused),
		cmocka_unit_test(test_hello_refusals),
		cmocka_unit_test(test_timestamps_above_int64_max_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
