/* anomalyscore.c - the anomaly model's recall and false alerts; see
 * anomalyscore.h. */
#include "bench/anomalyscore.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "alertd/anomaly.h"
#include "lib/rtime.h"

#define BASELINE 360 /* minutes of history the model learns from */
#define REFIT	 5   /* minutes between fits */
#define HOLD	 2   /* minutes a resolution waits (flap_window) */
#define DAY	 1440

/* xorshift64*, seeded alike in every run: the same series each time. */
static double uniform(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return (double)((*state * UINT64_C(2685821657736338717)) >> 11) / 9007199254740992.0;
}

static double gaussian(uint64_t *rng)
{
	double u = uniform(rng), v = uniform(rng);
	if (u < 1e-300)
		u = 1e-300;
	return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

static double poisson(uint64_t *rng, double mean)
{
	if (mean > 50)
		return fmax(0, round(mean + sqrt(mean) * gaussian(rng)));
	double l = exp(-mean), p = 1;
	int k = 0;
	do {
		k++;
		p *= uniform(rng);
	} while (p > l);
	return k - 1;
}

/* One normal series: what it is at minute t. */
struct shape {
	bool counter;
	double base, amplitude, noise, phase;
};

static struct shape random_shape(uint64_t *rng, unsigned i)
{
	struct shape s = { .counter = i % 3 == 2, .phase = uniform(rng) * 2 * M_PI };
	s.base = 20 + uniform(rng) * 80;
	s.amplitude = s.base * (0.05 + uniform(rng) * 0.3);
	s.noise = s.base * (0.01 + uniform(rng) * 0.05);
	if (s.counter) /* requests per second around base, counted each minute */
		s.base = 2 + uniform(rng) * 200;
	return s;
}

static double normal_value(uint64_t *rng, const struct shape *s, int t)
{
	double cycle = sin(2 * M_PI * t / DAY + s->phase);
	if (s->counter)
		return poisson(rng, 60 * s->base * (1 + 0.5 * cycle)) / 60;
	return s->base + s->amplitude * cycle + s->noise * gaussian(rng);
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

/* Alert episodes on `series` normal series over whole days. */
static long false_alerts(uint64_t *rng, int series, size_t minutes, double deviations, double *v,
			 double *work)
{
	long alerts = 0;
	for (int i = 0; i < series; i++) {
		struct shape s = random_shape(rng, (unsigned)i);
		for (size_t t = 0; t < minutes; t++)
			v[t] = normal_value(rng, &s, (int)t);
		int first;
		alerts += evaluate(v, BASELINE, (int)minutes, deviations, 0, &first, work);
	}
	return alerts;
}

/* One anomaly a trial series, an hour after the warm-up. */
static void recall(uint64_t *rng, int series, double deviations, double *v, double *work,
		   int found[KINDS], int trials[KINDS])
{
	int onset = BASELINE + 60, trial_end = onset + 30;
	for (int i = 0; i < series; i++) {
		struct shape s = random_shape(rng, (unsigned)i + 100000);
		enum kind k = (enum kind)(i / 3 % KINDS); /* every kind on every shape */
		double size =
		    normal_range(&s) * (1 + 2 * uniform(rng)) * (uniform(rng) < 0.5 ? -1 : 1);
		if (s.counter) /* a burst: a rate's falls hide in its daily cycle */
			size = fabs(size);
		for (int t = 0; t < trial_end; t++) {
			double x = normal_value(rng, &s, t);
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
}

int anomalyscore_measure(struct bench_run *run, int series, int days, double deviations)
{
	uint64_t rng = 0x9e3779b97f4a7c15u;
	size_t minutes = BASELINE + (size_t)days * DAY;
	double *v = malloc(minutes * sizeof *v), *work = malloc(BASELINE * sizeof *work);
	if (!v || !work) {
		free(v);
		free(work);
		fprintf(stderr, "rmon-bench alert: anomaly: out of memory\n");
		return -1;
	}
	int64_t t0 = rtime_mono_ns();
	bench_progress(run, "anomaly model: normal series", 0, "series/s", 0, 0);
	long alerts = false_alerts(&rng, series, minutes, deviations, v, work);
	double elapsed = (double)(rtime_mono_ns() - t0) / 1e9;
	bench_progress(run, "anomaly model: trial series", series / (elapsed > 0 ? elapsed : 1),
		       "series/s", elapsed, 0);
	int found[KINDS] = { 0 }, trials[KINDS] = { 0 };
	recall(&rng, series, deviations, v, work, found, trials);
	bench_progress_done(run);
	free(v);
	free(work);

	struct bench_table *t =
	    bench_table(run,
			"alert: anomaly model, median -+ %.1f robust deviations over the last 6 h, "
			"refit every 5 min; %d normal series x %d days, %d trial series",
			deviations, series, days, series);
	int all_found = 0, all = 0;
	for (int k = 0; k < KINDS; k++) {
		char name[64];
		snprintf(name, sizeof name, "recall within 2 min: %s", kind_names[k]);
		bench_figure(t, name, trials[k] ? 100.0 * found[k] / trials[k] : 0, "%");
		all_found += found[k];
		all += trials[k];
	}
	bench_goal(t, "recall within 2 min of the onset", all ? 100.0 * all_found / all : 0, "%",
		   true, 90);
	bench_goal(t, "false alerts on normal data",
		   100.0 * (double)alerts / ((double)series * days), "per 100 series-days", false,
		   1);
	bench_note(t, "%ld false alerts over %d series-days", alerts, series * days);
	return 0;
}
