/* sample.h - one sample, the unit every part of the pipeline moves: the
 * ring's slot, the WAL's record and the wire's SAMPLES entry all carry it. */
#ifndef RMON_SAMPLE_H
#define RMON_SAMPLE_H

#include <stdint.h>

/* The id of its series (lib/series_name.h), a wall-clock timestamp in
 * nanoseconds since the epoch, and the value. */
struct sample {
	uint64_t id;
	int64_t ts;
	double value;
};

#endif
