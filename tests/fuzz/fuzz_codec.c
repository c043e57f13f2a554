/* fuzz_codec.c - libFuzzer harness for the chunk decoder (store/codec.c)
 * and the rollup record decoder: chunks come from disk, so any bytes must
 * decode or be refused, never read out of bounds. */
#include <stdint.h>
#include <stdlib.h>

#include "store/codec.h"
#include "store/rollup.h"

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
	return 0;
}
