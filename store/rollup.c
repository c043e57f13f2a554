/* rollup.c - bucket summaries and their records; see rollup.h. */
#include "store/rollup.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "store/codec.h"
#include "store/layout.h"

#define COLUMN_BYTES (CODEC_HEADER_BYTES + 16 + LAYOUT_ROLLUP_BUCKETS * 20)

size_t rollup_add(struct rollup_bucket *b, size_t n, size_t cap, int64_t bucket_ns, int64_t ts,
		  double value, double prev)
{
	int64_t start = layout_bucket_start(ts, bucket_ns);
	if (n == 0 || b[n - 1].start != start) {
		if (n == cap)
			return cap + 1;
		b[n++] = (struct rollup_bucket){ start, NAN, NAN, 0, 0, NAN, 0 };
	}
	rollup_fold(&b[n - 1], value, prev);
	return n;
}

void rollup_fold(struct rollup_bucket *b, double value, double prev)
{
	b->last = value;
	b->rise += rollup_rise(prev, value);
	if (isnan(value))
		return;
	b->min = b->count == 0 || value < b->min ? value : b->min;
	b->max = b->count == 0 || value > b->max ? value : b->max;
	b->sum += value;
	b->count++;
}

void rollup_merge(struct rollup_bucket *into, const struct rollup_bucket *from)
{
	if (from->count > 0) {
		into->min = into->count == 0 || from->min < into->min ? from->min : into->min;
		into->max = into->count == 0 || from->max > into->max ? from->max : into->max;
		into->sum += from->sum;
		into->count += from->count;
	}
	into->rise += from->rise;
	into->last = from->last;
}

static double column(const struct rollup_bucket *b, int c)
{
	const double values[] = { b->min, b->max, b->sum, b->count, b->last, b->rise };
	return values[c];
}

int rollup_encode(const struct rollup_bucket *b, size_t n, uint8_t **record, size_t *len)
{
	uint8_t *out = malloc(LAYOUT_ROLLUP_COLUMNS * (4 + COLUMN_BYTES));
	uint8_t *column_buf = malloc(COLUMN_BYTES);
	if (!out || !column_buf) {
		free(out);
		free(column_buf);
		return -ENOMEM;
	}
	size_t at = 0;
	for (int c = 0; c < LAYOUT_ROLLUP_COLUMNS; c++) {
		struct codec_encoder enc;
		/* Float mode: a column mixes integral and fractional sums. */
		codec_init(&enc, column_buf, COLUMN_BYTES, c != 3);
		for (size_t i = 0; i < n; i++)
			codec_append(&enc, b[i].start, column(&b[i], c));
		uint32_t clen = (uint32_t)codec_finish(&enc);
		memcpy(out + at, &clen, 4);
		memcpy(out + at + 4, column_buf, clen);
		at += 4 + clen;
	}
	free(column_buf);
	*record = out;
	*len = at;
	return 0;
}

int rollup_decode(const uint8_t *record, size_t len, struct rollup_bucket *out, size_t cap)
{
	size_t at = 0;
	int n = -1;
	for (int c = 0; c < LAYOUT_ROLLUP_COLUMNS; c++) {
		uint32_t clen;
		if (at + 4 > len)
			return -EBADMSG;
		memcpy(&clen, record + at, 4);
		if (clen > len - at - 4)
			return -EBADMSG;
		struct codec_decoder dec;
		if (codec_decoder_init(&dec, record + at + 4, clen) != 0)
			return -EBADMSG;
		if (n == -1 && dec.count > cap)
			return -EBADMSG;
		if (n != -1 && (int)dec.count != n)
			return -EBADMSG;
		n = (int)dec.count;
		int64_t ts;
		double v;
		for (int i = 0; i < n; i++) {
			if (codec_next(&dec, &ts, &v) != 1)
				return -EBADMSG;
			out[i].start = ts;
			double *fields[] = { &out[i].min,   &out[i].max,  &out[i].sum,
					     &out[i].count, &out[i].last, &out[i].rise };
			*fields[c] = v;
		}
		at += 4 + clen;
	}
	return n;
}
