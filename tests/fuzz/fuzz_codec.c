/* fuzz_codec.c - libFuzzer harness for the chunk codec (store/codec.c) and
 * the rollup record decoder.  Chunks come from disk, so any bytes must
 * decode or be refused, never read out of bounds; and the same bytes, read
 * as samples, must come back bit for bit from an encoder that is finished
 * part-way (as a head chunk is at every commit) and then continued. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/codec.h"
#include "store/rollup.h"

/* Samples from the input: 16 bytes each, a timestamp step and a value. */
static size_t samples_of(const uint8_t *data, size_t size, int64_t *ts, double *values, size_t max)
{
	size_t n = 0;
	int64_t t = 0;
	for (; n < max && (n + 1) * 16 <= size; n++) {
		int64_t step;
		memcpy(&step, data + n * 16, 8);
		memcpy(&values[n], data + n * 16 + 8, 8);
		t += step % 1000000 + 1; /* increasing, as the store gives them */
		ts[n] = t;
	}
	return n;
}

static void round_trip(const uint8_t *data, size_t size)
{
	enum { MAX = 512 };
	static int64_t ts[MAX];
	static double values[MAX];
	static uint8_t buf[768];
	size_t n = samples_of(data, size, ts, values, MAX);
	struct codec_encoder enc;
	codec_init(&enc, buf, sizeof buf, size % 2 == 1);
	size_t kept = 0;
	for (; kept < n; kept++) {
		if (kept == n / 2)
			codec_finish(&enc); /* a commit in the middle */
		if (codec_append(&enc, ts[kept], values[kept]) != 0)
			break; /* full, or a value the chunk's mode cannot hold */
	}
	size_t len = codec_finish(&enc);
	struct codec_decoder dec;
	if (codec_decoder_init(&dec, buf, len) != 0)
		abort();
	for (size_t i = 0; i < kept; i++) {
		int64_t t;
		double v;
		if (codec_next(&dec, &t, &v) != 1 || t != ts[i] || memcmp(&v, &values[i], 8) != 0)
			abort();
	}
	int64_t t;
	double v;
	if (codec_next(&dec, &t, &v) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct codec_decoder dec;
	if (codec_decoder_init(&dec, data, size) == 0) {
		int64_t ts;
		double value;
		while (codec_next(&dec, &ts, &value) == 1)
			;
	}
	static struct rollup_bucket buckets[256];
	rollup_decode(data, size, buckets, 256);
	round_trip(data, size);
	return 0;
}
