/* test_proto.c - the frames of the ingest protocol (net/proto.c): every
 * frame type round-trips through its builder and reader; frame types,
 * buffers, the HMAC proofs and nonces.  Every encoding of SAMPLES is in
 * test_proto_encodings.c, refused frames in test_proto_refusals.c. */
#include "tests/proto_wire.h"

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
		cmocka_unit_test(test_frame_type),
		cmocka_unit_test(test_buf_consume),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_nonce),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
