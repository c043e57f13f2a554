/* anomaly.h - the model behind anomaly rules (docs/alerting.md, "Anomaly"):
 * a series' usual range is the median of its recent history plus or minus
 * a number of robust deviations (1.4826 x the median absolute deviation,
 * which equals the standard deviation for normal noise and is not moved
 * by the outliers it is meant to find).  Explainable in one sentence:
 * "value 93, usual range 20-35 over the last 6 h".  Shared by eval and by
 * `rmon-bench alert`, so the benchmark measures what alertd runs. */
#ifndef RMON_ALERTD_ANOMALY_H
#define RMON_ALERTD_ANOMALY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ANOMALY_MIN_POINTS 30 /* the warm-up: fewer points of history say nothing */

struct anomaly_model {
	double median;
	double sigma; /* 1.4826 x MAD, at least a floor (see anomaly_fit) */
	size_t n;     /* points the model was fit on; < ANOMALY_MIN_POINTS: warming up */
};

/* Fits the model to values[0..n) (NaN skipped); work holds n doubles of
 * scratch.  A flat history (MAD 0) gets the floor sigma = 1 % of |median|
 * (or 1e-9), so a constant series alerts on a clear change, not on a
 * rounding error. */
void anomaly_fit(const double *values, size_t n, double *work, struct anomaly_model *out);

/* True when the model is warm. */
bool anomaly_ready(const struct anomaly_model *m);

/* The usual range: median -+ deviations x sigma. */
void anomaly_range(const struct anomaly_model *m, double deviations, double *lo, double *hi);

/* True when value is outside the range (false while warming up). */
bool anomaly_outside(const struct anomaly_model *m, double value, double deviations);

/* True when a value that was outside is back well inside: within 0.8 x
 * deviations, so a value hovering on the range's edge does not flap. */
bool anomaly_clears(const struct anomaly_model *m, double value, double deviations);

/* "value 93, usual range 20-35 over the last 6 h" into buf (unit as
 * rule_format_value takes it); returns buf. */
const char *anomaly_describe(const struct anomaly_model *m, double value, double deviations,
			     int64_t baseline_ns, const char *unit, char *buf, size_t cap);

#endif
