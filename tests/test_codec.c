/* test_codec.c - chunk compression (store/codec.c): every value and
 * timestamp round-trips bit for bit; corrupt chunks are refused. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/codec.h"

#define MAX_SAMPLES 4096

static uint8_t buf[MAX_SAMPLES * 20 + 64];

/* Encodes n samples (starting new chunks when the codec asks) and checks
 * that decoding every chunk gives back exactly the same bits.  Returns the
 * total encoded size. */
static size_t round_trip(const int64_t *ts, const double *values, size_t n)
{
	size_t total = 0, i = 0;
	while (i < n) {
		struct codec_encoder enc;
		codec_init(&enc, buf, sizeof buf, false);
		size_t first = i;
		while (i < n && codec_append(&enc, ts[i], values[i]) == 0)
			i++;
		assert_true(i > first); /* a fresh chunk takes any sample */
		size_t len = codec_finish(&enc);
		total += len;
		assert_int_equal(codec_count(buf, len), (int64_t)(i - first));
		struct codec_decoder dec;
		assert_int_equal(codec_decoder_init(&dec, buf, len), 0);
		for (size_t k = first; k < i; k++) {
			int64_t t;
			double v;
			assert_int_equal(codec_next(&dec, &t, &v), 1);
			assert_true(t == ts[k]);
			assert_memory_equal(&v, &values[k], sizeof v);
		}
		int64_t t;
		double v;
		assert_int_equal(codec_next(&dec, &t, &v), 0);
	}
	return total;
}

static void test_special_values(void **state)
{
	double nan_payload;
	uint64_t payload = UINT64_C(0x7ff8000000001234);
	memcpy(&nan_payload, &payload, sizeof payload);
	double values[] = { 0.0,
			    -0.0,
			    NAN,
			    nan_payload,
			    INFINITY,
			    -INFINITY,
			    1e-310,
			    /* denormal */ DBL_MAX,
			    -DBL_MAX,
			    42,
			    42,
			    42,
			    0.1,
			    0.2,
			    0.30000000000000004 };
	size_t n = sizeof values / sizeof values[0];
	int64_t ts[sizeof values / sizeof values[0]];
	for (size_t i = 0; i < n; i++)
		ts[i] = INT64_C(1764000000000000000) + (int64_t)i * 1000000000;
	round_trip(ts, values, n);
}

static void test_extreme_timestamps(void **state)
{
	int64_t ts[] = { INT64_MIN, INT64_MAX, 0, -1, 1, INT64_MAX, INT64_MIN, 5, 5, 5 };
	double values[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	round_trip(ts, values, 10);
}

static void test_one_sample_and_empty(void **state)
{
	int64_t ts = 123;
	double v = -7.25;
	round_trip(&ts, &v, 1);
	struct codec_encoder enc;
	codec_init(&enc, buf, sizeof buf, false);
	size_t len = codec_finish(&enc);
	assert_int_equal(codec_count(buf, len), 0);
}

static void test_integer_mode_is_compact(void **state)
{
	static int64_t ts[MAX_SAMPLES];
	static double counter[MAX_SAMPLES], constant[MAX_SAMPLES], load[MAX_SAMPLES];
	uint64_t c = 1000000;
	srand(7);
	for (int i = 0; i < MAX_SAMPLES; i++) {
		ts[i] = INT64_C(1764000000000000000) + (int64_t)i * 1000000000;
		c += (uint64_t)(rand() % 4096);
		counter[i] = (double)c;
		constant[i] = 16777216;
		/* A load average wanders by hundredths. */
		int hundredths = i ? (int)lround(load[i - 1] * 100) + rand() % 11 - 5 : 150;
		load[i] = (double)(hundredths < 0 ? 0 : hundredths) / 100.0;
	}
	size_t counter_bytes = round_trip(ts, counter, MAX_SAMPLES);
	size_t constant_bytes = round_trip(ts, constant, MAX_SAMPLES);
	size_t load_bytes = round_trip(ts, load, MAX_SAMPLES);
	/* Constants and regular ticks: 2 bits a sample. */
	assert_true(constant_bytes < MAX_SAMPLES / 3);
	/* Random 12-bit increments: about 2 bytes; load with 2 decimals, under 2. */
	assert_true(counter_bytes < MAX_SAMPLES * 5 / 2);
	assert_true(load_bytes < MAX_SAMPLES * 2);
}

static void test_integer_chunk_ends_on_a_fraction(void **state)
{
	struct codec_encoder enc;
	codec_init(&enc, buf, sizeof buf, false);
	assert_int_equal(codec_append(&enc, 1, 10), 0);
	assert_int_equal(codec_append(&enc, 2, 11), 0);
	assert_int_equal(codec_append(&enc, 3, 11.5), -ERANGE);
	assert_int_equal(codec_append(&enc, 3, 12), 0);
	size_t len = codec_finish(&enc);
	assert_int_equal(codec_count(buf, len), 3);
	/* A chunk told to prefer floats takes anything. */
	codec_init(&enc, buf, sizeof buf, true);
	assert_int_equal(codec_append(&enc, 1, 10), 0);
	assert_int_equal(codec_append(&enc, 2, 11.5), 0);
}

static void test_full_buffer(void **state)
{
	uint8_t small[64];
	struct codec_encoder enc;
	codec_init(&enc, small, sizeof small, true);
	int appended = 0;
	while (codec_append(&enc, appended, (double)rand() / 3.0) == 0)
		appended++;
	assert_true(appended >= 1);
	size_t len = codec_finish(&enc);
	assert_true(len <= sizeof small);
	assert_int_equal(codec_count(small, len), appended);
}

static void test_random_property(void **state)
{
	static int64_t ts[512];
	static double values[512];
	srand(12345);
	for (int round = 0; round < 2000; round++) {
		size_t n = 1 + (size_t)(rand() % 512);
		int kind = rand() % 4;
		int64_t t = (int64_t)rand() * 1000003;
		for (size_t i = 0; i < n; i++) {
			t += kind == 0 ? 1000000000 : (int64_t)(rand() % 2000000) - 1000000;
			ts[i] = t;
			uint64_t bits =
			    ((uint64_t)rand() << 42) ^ ((uint64_t)rand() << 21) ^ (uint64_t)rand();
			switch (kind) {
			case 0:
				values[i] = (double)(rand() % 100);
				break;
			case 1:
				memcpy(&values[i], &bits, sizeof bits); /* any bit pattern */
				break;
			case 2:
				values[i] = (double)(rand() % 100000) / 100.0;
				break;
			default:
				values[i] = i % 7 == 0 ? 0.5 : (double)(rand() % 5);
			}
		}
		round_trip(ts, values, n);
	}
}

static void test_corrupt_chunks_are_refused(void **state)
{
	int64_t ts[64];
	double values[64];
	for (int i = 0; i < 64; i++) {
		ts[i] = i * 1000;
		values[i] = i * 1.5;
	}
	struct codec_encoder enc;
	codec_init(&enc, buf, sizeof buf, true);
	for (int i = 0; i < 64; i++)
		assert_int_equal(codec_append(&enc, ts[i], values[i]), 0);
	size_t len = codec_finish(&enc);
	struct codec_decoder dec;
	/* Truncated: the header promises more samples than the bytes hold. */
	for (size_t cut = 0; cut < len; cut++) {
		int64_t t;
		double v;
		int rc = codec_decoder_init(&dec, buf, cut);
		if (rc == 0) {
			int got = 0;
			while ((rc = codec_next(&dec, &t, &v)) == 1)
				got++;
			assert_int_equal(rc, -EBADMSG);
		}
	}
	uint8_t bad[16] = { 9, 0, 0, 0, 1, 0, 0, 0 };
	assert_int_equal(codec_decoder_init(&dec, bad, sizeof bad), -EBADMSG);
	bad[0] = CODEC_VERSION;
	bad[1] = 7;
	assert_int_equal(codec_decoder_init(&dec, bad, sizeof bad), -EBADMSG);
	/* Random garbage never crashes (ASan watches the reads). */
	srand(99);
	for (int round = 0; round < 20000; round++) {
		uint8_t junk[48];
		for (size_t i = 0; i < sizeof junk; i++)
			junk[i] = (uint8_t)rand();
		junk[0] = CODEC_VERSION;
		junk[1] = (uint8_t)(rand() % 2);
		junk[2] = junk[1] ? 2 : 0;
		junk[3] = 0;
		junk[5] = junk[6] = junk[7] = 0;
		if (codec_decoder_init(&dec, junk, sizeof junk) == 0) {
			int64_t t;
			double v;
			while (codec_next(&dec, &t, &v) == 1)
				;
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_special_values),
		cmocka_unit_test(test_extreme_timestamps),
		cmocka_unit_test(test_one_sample_and_empty),
		cmocka_unit_test(test_integer_mode_is_compact),
		cmocka_unit_test(test_integer_chunk_ends_on_a_fraction),
		cmocka_unit_test(test_full_buffer),
		cmocka_unit_test(test_random_property),
		cmocka_unit_test(test_corrupt_chunks_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
