/* codec.h - compression of a chunk of one series' samples (timestamp in ns,
 * float64 value), as stored in LMDB.
 *
 * Timestamps: the first raw, then delta-of-delta in variable-length
 * buckets (one bit when samples arrive on a regular tick, as the agent
 * stamps them).  Values, one of two modes chosen at the chunk's first
 * sample:
 *   - integer mode, when the value times 10^scale (scale 0, 2, 3 or 4) is an
 *     exact integer below 2^53: delta-of-delta of those integers, which is
 *     how counters, byte gauges and two-decimal figures (CPU seconds, load)
 *     shrink well below a byte a sample;
 *   - float mode, Gorilla's XOR of consecutive values, for everything else.
 * A later value that the integer mode cannot hold exactly ends the chunk:
 * codec_append returns -ERANGE and the caller starts a new chunk.  Both
 * modes are lossless for every bit pattern (NaN payloads, -0.0, infinities
 * go to float mode).
 *
 * A chunk is: 8 header bytes (version, mode, scale, reserved, u32 count
 * little-endian) then the bit stream.  Decoding validates everything and
 * never reads outside the given bytes: corrupt chunks are -EBADMSG.
 */
#ifndef RMON_CODEC_H
#define RMON_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CODEC_HEADER_BYTES 8
#define CODEC_VERSION	   1
/* Worst case per sample: 68 bits of timestamp and 77 of value. */
#define CODEC_MAX_BITS_PER_SAMPLE 145

enum codec_mode { CODEC_FLOAT = 0, CODEC_INTEGER = 1 };

struct codec_encoder {
	uint8_t *buf; /* caller's buffer; header + bit stream */
	size_t cap;
	uint64_t bits; /* bits written after the header */
	uint64_t acc;  /* the newest nacc of them, not yet in buf */
	uint8_t nacc;
	uint32_t count;
	uint8_t mode, scale;
	bool prefer_float; /* start in float mode even if the first value is integral */
	/* Not the codec's: the writer's record of how much of the chunk is
	 * in LMDB (db_private.h), kept here in what would be padding so that
	 * its heads stay three cache lines.  codec_init zeroes them. */
	uint16_t sealed_bytes, sealed_count;
	int64_t prev_ts, prev_delta;
	int64_t prev_int, prev_int_delta;
	uint64_t prev_bits;
	uint8_t prev_leading, prev_trailing;
};

/* Starts an empty chunk in buf (cap bytes).
 * prefer_float forces float mode (for series that break integer chunks). */
void codec_init(struct codec_encoder *enc, uint8_t *buf, size_t cap, bool prefer_float);

/* Appends a sample.  Returns 0; -ERANGE when the value does not fit this
 * chunk's integer mode (nothing was appended: close the chunk and start a
 * new one); -ENOSPC when buf is full (nothing appended). */
int codec_append(struct codec_encoder *enc, int64_t ts, double value);

/* The chunk's bytes were moved to buf, which holds cap bytes (at least
 * as many as before): appending goes on there. */
void codec_move(struct codec_encoder *enc, uint8_t *buf, size_t cap);

/* Writes the header and returns the chunk's length in bytes: buf[0..len)
 * is a complete chunk, and appending may continue afterwards. */
size_t codec_finish(struct codec_encoder *enc);

struct codec_decoder {
	const uint8_t *buf;
	size_t len_bits; /* of the bit stream */
	size_t pos;	 /* bit position */
	uint32_t count, done;
	uint8_t mode, scale;
	int64_t prev_ts, prev_delta;
	int64_t prev_int, prev_int_delta;
	uint64_t prev_bits;
	uint8_t prev_leading, prev_trailing;
};

/* Checks a chunk's header; returns 0 or -EBADMSG. */
int codec_decoder_init(struct codec_decoder *dec, const uint8_t *chunk, size_t len);

/* Reads the next sample: 1 and the sample, 0 at the end, -EBADMSG when the
 * stream is corrupt or truncated. */
int codec_next(struct codec_decoder *dec, int64_t *ts, double *value);

/* The number of samples a chunk holds (from its header), or -EBADMSG. */
int64_t codec_count(const uint8_t *chunk, size_t len);

#endif
