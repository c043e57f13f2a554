/* anomaly.c - median and MAD of a series' recent history, and the range
 * they make (alertd/anomaly.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertd/anomaly.h"
#include "alertd/rules.h"
#include "lib/rtime.h"

static int compare_double(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;
	return (a > b) - (a < b);
}

/* Sorting a few hundred points costs microseconds, and is obviously right. */
static double median_of(double *v, size_t n)
{
	qsort(v, n, sizeof *v, compare_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void anomaly_fit(const double *values, size_t n, double *work, struct anomaly_model *out)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (!isnan(values[i]))
			work[m++] = values[i];
	*out = (struct anomaly_model){ .n = m };
	if (m == 0)
		return;
	out->median = median_of(work, m);
	for (size_t i = 0; i < m; i++)
		work[i] = fabs(work[i] - out->median);
	double mad = median_of(work, m);
	double floor = fabs(out->median) * 0.01;
	out->sigma = 1.4826 * mad;
	if (out->sigma < floor)
		out->sigma = floor;
	if (out->sigma < 1e-9)
		out->sigma = 1e-9;
}

bool anomaly_ready(const struct anomaly_model *m)
{
	return m->n >= ANOMALY_MIN_POINTS;
}

void anomaly_range(const struct anomaly_model *m, double deviations, double *lo, double *hi)
{
	*lo = m->median - deviations * m->sigma;
	*hi = m->median + deviations * m->sigma;
}

bool anomaly_outside(const struct anomaly_model *m, double value, double deviations)
{
	if (!anomaly_ready(m) || isnan(value))
		return false;
	return fabs(value - m->median) > deviations * m->sigma;
}

bool anomaly_clears(const struct anomaly_model *m, double value, double deviations)
{
	return !anomaly_outside(m, value, deviations * 0.8);
}

const char *anomaly_describe(const struct anomaly_model *m, double value, double deviations,
			     int64_t baseline_ns, const char *unit, char *buf, size_t cap)
{
	char v[48], lo_text[48], hi_text[48], span[32];
	double lo, hi;
	anomaly_range(m, deviations, &lo, &hi);
	int64_t hours = baseline_ns / (3600 * RTIME_NS_PER_SEC);
	if (hours * 3600 * RTIME_NS_PER_SEC == baseline_ns)
		snprintf(span, sizeof span, "%lld h", (long long)hours);
	else
		rtime_format_duration(baseline_ns, span, sizeof span);
	if (!anomaly_ready(m)) {
		snprintf(buf, cap, "value %s, learning its usual range (%zu of %d points)",
			 rule_format_value(value, unit, v, sizeof v), m->n, ANOMALY_MIN_POINTS);
		return buf;
	}
	snprintf(buf, cap, "value %s, usual range %s-%s over the last %s",
		 rule_format_value(value, unit, v, sizeof v),
		 rule_format_value(lo, unit, lo_text, sizeof lo_text),
		 rule_format_value(hi, unit, hi_text, sizeof hi_text), span);
	return buf;
}
