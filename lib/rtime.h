/* rtime.h - clocks, durations ("90s", "5m", "2h", "7d") and points in time
 * ("now", "-1h", unix seconds, "2026-11-24T10:00:00Z") as users type them. */
#ifndef RMON_RTIME_H
#define RMON_RTIME_H

#include <stdint.h>

#include "lib/err.h"

#define RTIME_NS_PER_SEC INT64_C(1000000000)
#define RTIME_NS_PER_MS	 INT64_C(1000000)

/* Wall-clock time (CLOCK_REALTIME) in nanoseconds since the epoch:
 * the timestamp of samples. */
int64_t rtime_now_ns(void);

/* Monotonic time (CLOCK_MONOTONIC) in nanoseconds: for intervals and
 * timeouts, never for sample timestamps. */
int64_t rtime_mono_ns(void);

/* Parses a positive duration: a number followed by a unit among ns, us, ms,
 * s, m, h, d, w (e.g. "1.5s", "100ms", "7d"), or several concatenated
 * ("1h30m").  A bare number is rejected: the unit is always required.
 * Returns 0 and *ns, or -EINVAL with a message naming the text. */
int rtime_parse_duration(const char *text, int64_t *ns, struct err *e);

/* Parses a point in time relative to now_ns: "now", "-1h" / "now-1h"
 * (a duration before now), "+5m", unix seconds ("1764000000", fractions
 * allowed) or RFC 3339 in UTC ("2026-11-24T10:00:00Z").
 * Returns 0 and *ns, or -EINVAL with a message naming the text. */
int rtime_parse_time(const char *text, int64_t now_ns, int64_t *ns, struct err *e);

/* Writes a duration the way rtime_parse_duration reads it, largest units
 * first ("1h30m", "250ms").  Returns buf. */
char *rtime_format_duration(int64_t ns, char *buf, int len);

#endif
