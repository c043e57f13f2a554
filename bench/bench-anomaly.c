/* bench-anomaly.c - how well the anomaly rule's model (alertd/anomaly.h,
 * the very code rmon-alertd runs) finds what it should and keeps quiet
 * otherwise, on synthetic series shaped like real ones: gauges with a
 * daily cycle and Gaussian noise, and counters read as per-minute rates
 * (Poisson counts around a daily cycle).
 *
 * Recall: each trial series gets one anomaly after a 6 h warm-up and an
 * hour of normal data: a spike (5 minutes), a level shift (stays) or a
 * drift (a ramp growing by half the anomaly's size a minute), of 1 to 3 times
 * the series' normal daily range, up or down (counters: up, a burst).  Found = an alert starts
 * within 2 minutes of the onset.  False alerts: alert episodes on normal series, per 100
 * series-days.  Evaluated every minute as eval does: the model refit every 5 minutes on the last 6
 * h of minutes, firing outside median -+ deviations x 1.4826 MAD, clearing inside 0.8 of that, the
 * resolution held for the default flap window (2 minutes).
 *
 * Usage: bench-anomaly [--series N] [--days D] [--deviations K] [--seed S]
 */
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertd/anomaly.h"
#include "bench/bench.h"

#define BASELINE 360 /* minutes of history the model learns from */
#define REFIT	 5   /* minutes between fits */
#define HOLD	 2   /* minutes a resolution waits (flap_window) */
#define DAY	 1440

static uint64_t rng_state;

static double uniform(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (double)((rng_state * UINT64_C(2685821657736338717)) >> 11) / 9007199254740992.0;
}

static double gaussian(void)
{
	double u = uniform(), v = uniform();
	if (u < 1e-300)
		u = 1e-300;
	return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

static double poisson(double mean)
{
	if (mean > 50)
		return fmax(0, round(mean + sqrt(mean) * gaussian()));
	double l = exp(-mean), p = 1;
	int k = 0;
	do {
		k++;
		p *= uniform();
	} while (p > l);
	return k - 1;
}

/* One normal series: what it is at minute t. */
struct shape {
	bool counter;
	double base, amplitude, noise, phase;
};

static struct shape random_shape(unsigned i)
{
	struct shape s = { .counter = i % 3 == 2, .phase = uniform() * 2 * M_PI };
	s.base = 20 + uniform() * 80;
	s.amplitude = s.base * (0.05 + uniform() * 0.3);
	s.noise = s.base * (0.01 + uniform() * 0.05);
	if (s.counter) /* requests per second around base, counted each minute */
		s.base = 2 + uniform() * 200;
	return s;
}

static double normal_value(const struct shape *s, int t)
{
	double cycle = sin(2 * M_PI * t / DAY + s->phase);
	if (s->counter)
		return poisson(60 * s->base * (1 + 0.5 * cycle)) / 60;
	return s->base + s->amplitude * cycle + s->noise * gaussian();
}

/* The series' normal daily range, which an anomaly's size is a multiple of. */
static double normal_range(const struct shape *s)
{
	if (s->counter)
		return s->base + 6 * sqrt(60 * s->base * 1.5) / 60;
	return 2 * s->amplitude + 6 * s->noise;
}

enum kind { SPIKE, SHIFT, DRIFT, KINDS };
static const char *const kind_names[] = { "spike", "level shift", "drift" };

/* Evaluates minutes [start, end) of v as eval does; returns the number of
 * alerts (episodes) and sets *first to the minute the first began at or
 * after from (-1 none). */
static int evaluate(const double *v, int start, int end, double deviations, int from, int *first,
		    double *work)
{
	struct anomaly_model m = { 0 };
	bool firing = false;
	int clear_since = -1, alerts = 0;
	*first = -1;
	for (int t = start; t < end; t++) {
		if ((t - start) % REFIT == 0)
			anomaly_fit(v + t - BASELINE, BASELINE, work, &m);
		if (!firing) {
			if (anomaly_outside(&m, v[t], deviations)) {
				firing = true;
				clear_since = -1;
				alerts++;
				if (*first < 0 && t >= from)
					*first = t;
			}
		} else if (!anomaly_clears(&m, v[t], deviations)) {
			clear_since = -1;
		} else if (clear_since < 0) {
			clear_since = t;
		} else if (t - clear_since >= HOLD) {
			firing = false;
		}
	}
	return alerts;
}

int main(int argc, char **argv)
{
	int series = 300, days = 1;
	double deviations = 6;
	rng_state = 0x9e3779b97f4a7c15u;
	static const struct option longs[] = { { "series", 1, 0, 'n' },
					       { "days", 1, 0, 'd' },
					       { "deviations", 1, 0, 'k' },
					       { "seed", 1, 0, 's' },
					       { 0, 0, 0, 0 } };
	for (int c; (c = getopt_long(argc, argv, "", longs, NULL)) != -1;) {
		if (c == 'n')
			series = atoi(optarg);
		else if (c == 'd')
			days = atoi(optarg);
		else if (c == 'k')
			deviations = atof(optarg);
		else if (c == 's')
			rng_state = strtoull(optarg, NULL, 0) | 1;
		else
			bench_die("usage: bench-anomaly [--series N] [--days D] [--deviations K] "
				  "[--seed S]");
	}
	if (series < 3 || days < 1 || deviations <= 0)
		bench_die("--series at least 3, --days at least 1, --deviations above 0");
	size_t minutes = BASELINE + (size_t)days * DAY;
	double *v = malloc(minutes * sizeof *v), *work = malloc(BASELINE * sizeof *work);
	if (!v || !work)
		bench_die("out of memory");

	/* False alerts: normal series over whole days after the warm-up. */
	long false_alerts = 0;
	for (int i = 0; i < series; i++) {
		struct shape s = random_shape((unsigned)i);
		for (size_t t = 0; t < minutes; t++)
			v[t] = normal_value(&s, (int)t);
		int first;
		false_alerts += evaluate(v, BASELINE, (int)minutes, deviations, 0, &first, work);
	}
	double per_100 = 100.0 * (double)false_alerts / ((double)series * days);

	/* Recall: one anomaly per trial, an hour after the warm-up. */
	int found[KINDS] = { 0 }, trials[KINDS] = { 0 };
	int onset = BASELINE + 60, trial_end = onset + 30;
	for (int i = 0; i < series; i++) {
		struct shape s = random_shape((unsigned)i + 100000);
		enum kind k = (enum kind)(i / 3 % KINDS); /* every kind on every shape */
		double size = normal_range(&s) * (1 + 2 * uniform()) * (uniform() < 0.5 ? -1 : 1);
		if (s.counter) /* a burst: a rate's falls hide in its daily cycle */
			size = fabs(size);
		for (int t = 0; t < trial_end; t++) {
			double x = normal_value(&s, t);
			if (t >= onset) {
				if (k == SPIKE && t < onset + 5)
					x += size;
				else if (k == SHIFT)
					x += size;
				else if (k == DRIFT)
					x += size * (t - onset + 1) / 2.0;
			}
			v[t] = x;
		}
		int first;
		evaluate(v, BASELINE, trial_end, deviations, onset, &first, work);
		trials[k]++;
		if (first >= onset && first <= onset + 2)
			found[k]++;
	}
	int all_found = 0, all = 0;
	printf("anomaly model: median -+ %.1f robust deviations over the last 6 h, refit every "
	       "5 min\n",
	       deviations);
	for (int k = 0; k < KINDS; k++) {
		printf("  %-12s recall %5.1f %% (%d of %d within 2 min of the onset)\n",
		       kind_names[k], 100.0 * found[k] / trials[k], found[k], trials[k]);
		all_found += found[k];
		all += trials[k];
	}
	double recall = 100.0 * all_found / all;
	printf("recall within 2 min: %.1f %% (goal >= 90 %%) %s\n", recall,
	       bench_verdict(recall >= 90));
	printf("false alerts: %ld over %d series-days of normal data = %.2f per 100 series-days "
	       "(goal <= 1) %s\n",
	       false_alerts, series * days, per_100, bench_verdict(per_100 <= 1));
	free(v);
	free(work);
	return 0;
}
