/* codec.c - chunk compression: delta-of-delta timestamps, integer-aware or
 * XOR values; see codec.h for the format. */
#include "store/codec.h"

#include <endian.h>
#include <errno.h>
#include <math.h>
#include <string.h>

static const double powers_of_ten[] = { 1, 10, 100, 1000, 10000 };

/* Timestamp delta-of-delta buckets: prefix bits, prefix length, payload. */
static const struct bucket {
	uint8_t prefix, prefix_bits, payload_bits;
} ts_buckets[] = { { 0x2, 2, 16 }, { 0x6, 3, 26 }, { 0xe, 4, 36 }, { 0xf, 4, 64 } },
  int_buckets[] = { { 0x2, 2, 8 }, { 0x6, 3, 16 }, { 0xe, 4, 32 }, { 0xf, 4, 64 } };

/* ---- bits ---- */

/* Appends the low n bits of v (n <= 64), most significant first.  The
 * caller has checked the room.  Bits gather in the encoder's 64-bit
 * accumulator and reach the buffer a whole aligned word at a time: the
 * buffer line of a series is touched once per several samples, and never
 * read back (a read-modify-write of bytes just stored stalls the CPU). */
static void put_bits(struct codec_encoder *e, uint64_t v, unsigned n)
{
	if (n < 64)
		v &= (UINT64_C(1) << n) - 1;
	unsigned room = 64 - e->nacc;
	if (n < room) {
		e->acc = (e->acc << n) | v;
		e->nacc = (uint8_t)(e->nacc + n);
	} else {
		unsigned rest = n - room;
		uint64_t word = e->nacc ? (e->acc << room) | (v >> rest) : v >> rest;
		word = htobe64(word);
		memcpy(e->buf + CODEC_HEADER_BYTES + (e->bits - e->nacc) / 8, &word, sizeof word);
		e->acc = rest ? v & ((UINT64_C(1) << rest) - 1) : 0;
		e->nacc = (uint8_t)rest;
	}
	e->bits += n;
}

/* Reads n bits (n <= 64): one 8-byte load when the stream has 8 bytes
 * from the current one on and n fits past the bits already used of it;
 * byte by byte otherwise. */
static int get_bits(struct codec_decoder *d, unsigned n, uint64_t *out)
{
	if (d->pos + n > d->len_bits)
		return -EBADMSG;
	size_t byte = d->pos / 8;
	unsigned used = (unsigned)(d->pos % 8);
	if (n > 0 && n + used <= 64 && (byte + 8) * 8 <= d->len_bits) {
		uint64_t word;
		memcpy(&word, d->buf + CODEC_HEADER_BYTES + byte, sizeof word);
		word = be64toh(word) << used;
		*out = word >> (64 - n);
		d->pos += n;
		return 0;
	}
	uint64_t v = 0;
	while (n > 0) {
		uint8_t b = d->buf[CODEC_HEADER_BYTES + d->pos / 8];
		unsigned room = 8 - (unsigned)(d->pos % 8);
		unsigned take = n < room ? n : room;
		v = (v << take) | ((b >> (room - take)) & ((1u << take) - 1));
		d->pos += take;
		n -= take;
	}
	*out = v;
	return 0;
}

static bool fits_signed(uint64_t v, unsigned bits)
{
	int64_t s = (int64_t)v;
	return bits == 64 || (s >= -(INT64_C(1) << (bits - 1)) && s < (INT64_C(1) << (bits - 1)));
}

static int64_t sign_extend(uint64_t v, unsigned bits)
{
	if (bits == 64)
		return (int64_t)v;
	uint64_t sign = UINT64_C(1) << (bits - 1);
	return (int64_t)((v ^ sign) - sign);
}

/* Writes a delta-of-delta: '0' for zero, else the smallest bucket. */
static void put_dod(struct codec_encoder *e, uint64_t dod, const struct bucket *buckets)
{
	if (dod == 0) {
		put_bits(e, 0, 1);
		return;
	}
	int i = 0;
	while (!fits_signed(dod, buckets[i].payload_bits))
		i++;
	put_bits(e, buckets[i].prefix, buckets[i].prefix_bits);
	put_bits(e, dod, buckets[i].payload_bits);
}

/* The next up to 4 bits without consuming them, zeros past the end. */
static unsigned peek4(const struct codec_decoder *d)
{
	unsigned v = 0;
	for (size_t k = 0; k < 4; k++) {
		size_t pos = d->pos + k;
		unsigned bit = pos < d->len_bits
				   ? (d->buf[CODEC_HEADER_BYTES + pos / 8] >> (7 - pos % 8)) & 1u
				   : 0;
		v = v << 1 | bit;
	}
	return v;
}

static int get_dod(struct codec_decoder *d, const struct bucket *buckets, uint64_t *dod)
{
	/* The prefix in one look: 0 -> zero; 10, 110, 1110, 1111 -> buckets
	 * 0 to 3 (their prefixes are 2, 3, 4 and 4 bits long). */
	static const uint8_t bucket_of[16] = { 4, 4, 4, 4, 4, 4, 4, 4, 0, 0, 0, 0, 1, 1, 2, 3 };
	static const uint8_t prefix_bits[5] = { 2, 3, 4, 4, 1 };
	if (d->pos >= d->len_bits)
		return -EBADMSG;
	unsigned i = bucket_of[peek4(d)];
	if (d->pos + prefix_bits[i] > d->len_bits)
		return -EBADMSG;
	d->pos += prefix_bits[i];
	if (i == 4) {
		*dod = 0;
		return 0;
	}
	uint64_t payload;
	if (get_bits(d, buckets[i].payload_bits, &payload) != 0)
		return -EBADMSG;
	*dod = (uint64_t)sign_extend(payload, buckets[i].payload_bits);
	return 0;
}

/* ---- values ---- */

/* True when value * 10^scale is an integer below 2^53 that gives value
 * back exactly; -0.0, NaN and infinities never are. */
static bool as_integer(double value, unsigned scale, int64_t *out)
{
	if (!isfinite(value) || (value == 0 && signbit(value)))
		return false;
	if (scale == 0) { /* counters and most gauges: no division */
		if (!(fabs(value) < 9007199254740992.0) || (double)(int64_t)value != value)
			return false;
		*out = (int64_t)value;
		return true;
	}
	double scaled = value * powers_of_ten[scale];
	if (!(fabs(scaled) < 9007199254740992.0))
		return false;
	/* Rounded inline (nearbyint is a library call); any rounding will do,
	 * since the division below checks the result exactly. */
	int64_t i = (int64_t)(scaled < 0 ? scaled - 0.5 : scaled + 0.5);
	if ((double)i / powers_of_ten[scale] != value)
		return false;
	*out = i;
	return true;
}

static void choose_mode(struct codec_encoder *e, double value)
{
	static const uint8_t scales[] = { 0, 2, 3, 4 };
	int64_t ignored;
	e->mode = CODEC_FLOAT;
	for (size_t i = 0; i < sizeof scales && !e->prefer_float; i++) {
		if (as_integer(value, scales[i], &ignored)) {
			e->mode = CODEC_INTEGER;
			e->scale = scales[i];
			return;
		}
	}
}

static void put_xor(struct codec_encoder *e, uint64_t bits)
{
	uint64_t x = bits ^ e->prev_bits;
	e->prev_bits = bits;
	if (x == 0) {
		put_bits(e, 0, 1);
		return;
	}
	uint8_t leading = (uint8_t)__builtin_clzll(x), trailing = (uint8_t)__builtin_ctzll(x);
	if (leading > 31)
		leading = 31;
	unsigned meaningful = 64u - leading - trailing;
	unsigned window = 64u - e->prev_leading - e->prev_trailing;
	/* Reuse the previous window of meaningful bits when x fits it and that
	 * is not dearer than describing a new one (the first window is all 64). */
	if (leading >= e->prev_leading && trailing >= e->prev_trailing &&
	    window <= 13 + meaningful) {
		put_bits(e, 0x2, 2);
		put_bits(e, x >> e->prev_trailing, 64u - e->prev_leading - e->prev_trailing);
		return;
	}
	put_bits(e, 0x3, 2);
	put_bits(e, leading, 5);
	put_bits(e, meaningful & 63, 6); /* 64 is written as 0 */
	put_bits(e, x >> trailing, meaningful);
	e->prev_leading = leading;
	e->prev_trailing = trailing;
}

static int get_xor(struct codec_decoder *d, uint64_t *bits)
{
	uint64_t control, x;
	if (get_bits(d, 1, &control) != 0)
		return -EBADMSG;
	if (control == 0) {
		*bits = d->prev_bits;
		return 0;
	}
	if (get_bits(d, 1, &control) != 0)
		return -EBADMSG;
	if (control == 1) {
		uint64_t leading, meaningful;
		if (get_bits(d, 5, &leading) != 0 || get_bits(d, 6, &meaningful) != 0)
			return -EBADMSG;
		if (meaningful == 0)
			meaningful = 64;
		if (leading + meaningful > 64)
			return -EBADMSG;
		d->prev_leading = (uint8_t)leading;
		d->prev_trailing = (uint8_t)(64 - leading - meaningful);
	}
	unsigned width = 64u - d->prev_leading - d->prev_trailing;
	if (width == 0 || get_bits(d, width, &x) != 0)
		return -EBADMSG;
	*bits = d->prev_bits ^ (x << d->prev_trailing);
	d->prev_bits = *bits;
	return 0;
}

/* ---- the encoder ---- */

void codec_init(struct codec_encoder *enc, uint8_t *buf, size_t cap, bool prefer_float)
{
	memset(enc, 0, sizeof *enc);
	enc->buf = buf;
	enc->cap = cap;
	enc->prefer_float = prefer_float;
}

void codec_move(struct codec_encoder *enc, uint8_t *buf, size_t cap)
{
	enc->buf = buf;
	enc->cap = cap;
}

int codec_append(struct codec_encoder *enc, int64_t ts, double value)
{
	int64_t integer = 0;
	if ((CODEC_HEADER_BYTES + 1) * 8 + enc->bits + CODEC_MAX_BITS_PER_SAMPLE > enc->cap * 8 ||
	    enc->count == UINT32_MAX)
		return -ENOSPC;
	if (enc->count == 0)
		choose_mode(enc, value);
	if (enc->mode == CODEC_INTEGER && !as_integer(value, enc->scale, &integer))
		return -ERANGE;
	uint64_t bits;
	memcpy(&bits, &value, sizeof bits);
	if (enc->count == 0) {
		put_bits(enc, (uint64_t)ts, 64);
		put_bits(enc, enc->mode == CODEC_INTEGER ? (uint64_t)integer : bits, 64);
		enc->prev_bits = bits;
	} else {
		/* Unsigned arithmetic wraps instead of overflowing; the decoder
		 * wraps back the same way, so any timestamps round-trip. */
		uint64_t delta = (uint64_t)ts - (uint64_t)enc->prev_ts;
		put_dod(enc, delta - (uint64_t)enc->prev_delta, ts_buckets);
		enc->prev_delta = (int64_t)delta;
		if (enc->mode == CODEC_INTEGER) {
			uint64_t idelta = (uint64_t)integer - (uint64_t)enc->prev_int;
			put_dod(enc, idelta - (uint64_t)enc->prev_int_delta, int_buckets);
			enc->prev_int_delta = (int64_t)idelta;
		} else {
			put_xor(enc, bits);
		}
	}
	enc->prev_ts = ts;
	enc->prev_int = integer;
	enc->count++;
	return 0;
}

size_t codec_finish(struct codec_encoder *enc)
{
	enc->buf[0] = CODEC_VERSION;
	enc->buf[1] = enc->mode;
	enc->buf[2] = enc->scale;
	enc->buf[3] = 0;
	for (int i = 0; i < 4; i++)
		enc->buf[4 + i] = (uint8_t)(enc->count >> (8 * i));
	/* The bits still in the accumulator, left-aligned in whole bytes; it
	 * keeps them, and overwrites these bytes when its word is full. */
	uint8_t *tail = enc->buf + CODEC_HEADER_BYTES + (enc->bits - enc->nacc) / 8;
	uint64_t left = enc->nacc ? enc->acc << (64 - enc->nacc) : 0;
	for (unsigned i = 0; i < (enc->nacc + 7u) / 8; i++)
		tail[i] = (uint8_t)(left >> (56 - 8 * i));
	return CODEC_HEADER_BYTES + (size_t)((enc->bits + 7) / 8);
}

/* ---- the decoder ---- */

int codec_decoder_init(struct codec_decoder *dec, const uint8_t *chunk, size_t len)
{
	memset(dec, 0, sizeof *dec);
	if (len < CODEC_HEADER_BYTES || chunk[0] != CODEC_VERSION || chunk[1] > CODEC_INTEGER ||
	    chunk[3] != 0)
		return -EBADMSG;
	if (chunk[1] == CODEC_INTEGER && chunk[2] != 0 && (chunk[2] < 2 || chunk[2] > 4))
		return -EBADMSG;
	if (chunk[1] == CODEC_FLOAT && chunk[2] != 0)
		return -EBADMSG;
	dec->buf = chunk;
	dec->len_bits = (len - CODEC_HEADER_BYTES) * 8;
	dec->mode = chunk[1];
	dec->scale = chunk[2];
	for (int i = 0; i < 4; i++)
		dec->count |= (uint32_t)chunk[4 + i] << (8 * i);
	/* Every sample takes at least 2 bits, the first 128. */
	if (dec->count > 0 && (dec->len_bits < 128 || (dec->count - 1) > (dec->len_bits - 128) / 2))
		return -EBADMSG;
	return 0;
}

int codec_next(struct codec_decoder *dec, int64_t *ts, double *value)
{
	uint64_t raw, dod, bits;
	if (dec->done == dec->count)
		return 0;
	if (dec->done == 0) {
		if (get_bits(dec, 64, &raw) != 0 || get_bits(dec, 64, &bits) != 0)
			return -EBADMSG;
		dec->prev_ts = (int64_t)raw;
		if (dec->mode == CODEC_INTEGER) {
			dec->prev_int = (int64_t)bits;
			if (dec->prev_int >= (INT64_C(1) << 53) ||
			    dec->prev_int <= -(INT64_C(1) << 53))
				return -EBADMSG;
		} else {
			dec->prev_bits = bits;
		}
	} else {
		if (get_dod(dec, ts_buckets, &dod) != 0)
			return -EBADMSG;
		dec->prev_delta = (int64_t)((uint64_t)dec->prev_delta + dod);
		dec->prev_ts = (int64_t)((uint64_t)dec->prev_ts + (uint64_t)dec->prev_delta);
		if (dec->mode == CODEC_INTEGER) {
			if (get_dod(dec, int_buckets, &dod) != 0)
				return -EBADMSG;
			dec->prev_int_delta = (int64_t)((uint64_t)dec->prev_int_delta + dod);
			dec->prev_int =
			    (int64_t)((uint64_t)dec->prev_int + (uint64_t)dec->prev_int_delta);
		} else if (get_xor(dec, &bits) != 0) {
			return -EBADMSG;
		}
	}
	*ts = dec->prev_ts;
	if (dec->mode == CODEC_INTEGER)
		*value = dec->scale ? (double)dec->prev_int / powers_of_ten[dec->scale]
				    : (double)dec->prev_int;
	else
		memcpy(value, &dec->prev_bits, sizeof *value);
	dec->done++;
	return 1;
}

int64_t codec_count(const uint8_t *chunk, size_t len)
{
	struct codec_decoder d;
	if (codec_decoder_init(&d, chunk, len) != 0)
		return -EBADMSG;
	return d.count;
}
