/* test_proto_encodings.c - the SAMPLES reader (net/proto.c) takes every
 * encoding msgpack allows (integer widths, floats, array headers, random
 * mixes) and agrees with msgpack-c's own unpacker. */
#include "tests/proto_wire.h"

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
				struct wire_frame fr = PLAIN_FRAME;
				fr.seq = v.u;
				fr.seq_width = (enum width)w;
				expect_wire_frame(&fr, ws, 2);
				tried++;
			}
			if (v.negative || v.u <= INT64_MAX) { /* as a timestamp */
				struct wire_sample ws[2] = { plain_sample(9, ts, -1.5),
							     plain_sample(1ull << 40, ts, 0.25) };
				ws[0].ts_width = ws[1].ts_width = (enum width)w;
				expect_wire_frame(&PLAIN_FRAME, ws, 2);
				tried++;
			}
			/* As a value: the reader converts it like C does. */
			struct wire_sample value = plain_sample(1ull << 33, 1ull << 34, 0);
			value.value_kind = V_INT;
			value.value_width = (enum width)w;
			value.ivalue = v;
			value.s.value = v.negative ? (double)ts : (double)v.u;
			expect_wire_frame(&PLAIN_FRAME, &value, 1);
			tried++;
		}
	/* The frame type in every width that holds it. */
	for (int w = 0; w < W_COUNT; w++) {
		if (!fits((enum width)w, unsigned_value(PROTO_SAMPLES)))
			continue;
		struct wire_frame fr = PLAIN_FRAME;
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
		expect_wire_frame(&PLAIN_FRAME, ws, 2);
		/* Alone, and again with small fields so no fast path applies. */
		ws[0].id_width = W_FIXINT;
		ws[0].ts_width = W_FIXINT;
		expect_wire_frame(&PLAIN_FRAME, ws, 1);
	}
	/* float 3.3f is not 3.3: the reader widens, it does not round. */
	struct wire_sample f = plain_sample(1, 2, 0);
	f.value_kind = V_FLOAT;
	f.f = 3.3f;
	f.s.value = (double)3.3f;
	expect_wire_frame(&PLAIN_FRAME, &f, 1);
	assert_false(3.3 == (double)3.3f);
}

static void test_samples_every_array_header(void **state)
{
	for (int outer = 0; outer < A_COUNT; outer++)
		for (int list = 0; list < A_COUNT; list++)
			for (int item = 0; item < A_COUNT; item++) {
				struct wire_frame fr = PLAIN_FRAME;
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
	struct wire_frame fr = PLAIN_FRAME;
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_samples_every_integer_encoding),
		cmocka_unit_test(test_samples_float_and_double_values),
		cmocka_unit_test(test_samples_every_array_header),
		cmocka_unit_test(test_samples_random_property),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
