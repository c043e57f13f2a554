/* anomalyscore.h - part of `rmon-bench alert`: how well the anomaly
 * rule's model (alertd/anomaly.h, the very code rmon-alertd runs) finds
 * what it should and keeps quiet otherwise, on synthetic series shaped
 * like real ones: gauges with a daily cycle and Gaussian noise, and
 * counters read as per-minute rates (Poisson counts around a daily cycle).
 *
 * Recall: each trial series gets one anomaly after a 6 h warm-up and an
 * hour of normal data: a spike (5 minutes), a level shift (stays) or a
 * drift (a ramp growing by half the anomaly's size a minute), of 1 to 3
 * times the series' normal daily range, up or down (counters: up, a
 * burst).  Found = an alert starts within 2 minutes of the onset.  False
 * alerts: alert episodes on normal series, per 100 series-days.  Evaluated
 * every minute as eval does: the model refit every 5 minutes on the last
 * 6 h of minutes, firing outside median -+ deviations x 1.4826 MAD,
 * clearing inside 0.8 of that, the resolution held for the default flap
 * window (2 minutes). */
#ifndef RMON_BENCH_ANOMALYSCORE_H
#define RMON_BENCH_ANOMALYSCORE_H

#include "bench/report.h"

/* `series` normal series of `days` days each and as many trial series;
 * fills one table.  0, or -1 with a message on stderr. */
int anomalyscore_measure(struct bench_run *run, int series, int days, double deviations);

#endif
