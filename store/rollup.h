/* rollup.h - per-bucket summaries (min, max, sum, count, last, rise) of a series
 * at 1-minute and 1-hour resolution, and their on-disk record (layout.h).
 * The writer folds closed chunks into them; readers use them for long
 * ranges and fold raw samples the same way for the newest data. */
#ifndef RMON_ROLLUP_H
#define RMON_ROLLUP_H

#include <stddef.h>
#include <stdint.h>

struct rollup_bucket {
	int64_t start; /* bucket start, ns */
	double min, max, sum, count, last;
	double rise; /* counter increase of the bucket's samples over their predecessors,
		      * a fall (reset) counting the new value */
};

/* Folds one sample into the bucket array b (n used, cap allocated) for
 * buckets of bucket_ns, and returns the new n.  Samples must come in time
 * order; prev is the series' previous value (NaN for none), for `rise`.
 * NaN samples update only `last`.  When the array is full the sample is
 * not added and cap + 1 is returned. */
size_t rollup_add(struct rollup_bucket *b, size_t n, size_t cap, int64_t bucket_ns, int64_t ts,
		  double value, double prev);

/* Folds one sample into bucket b (the one its time falls in); prev as
 * for rollup_add. */
void rollup_fold(struct rollup_bucket *b, double value, double prev);

/* The counter rise from prev to value: a fall is a reset, counting value.
 * Inline: the writer folds it into every sample's newest minute. */
static inline double rollup_rise(double prev, double value)
{
	if (prev != prev || value != value) /* NaN */
		return 0;
	return value >= prev ? value - prev : value;
}

/* Merges bucket `from` into `into` (same start). */
void rollup_merge(struct rollup_bucket *into, const struct rollup_bucket *from);

/* Encodes n buckets (n <= LAYOUT_ROLLUP_BUCKETS) into a malloc'ed record
 * that the caller frees.  Returns 0 or -ENOMEM. */
int rollup_encode(const struct rollup_bucket *b, size_t n, uint8_t **record, size_t *len);

/* Decodes a record into out (cap buckets); returns the count or -EBADMSG. */
int rollup_decode(const uint8_t *record, size_t len, struct rollup_bucket *out, size_t cap);

#endif
