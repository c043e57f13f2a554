/* web_effect.h - how soon an action taken on the report pages takes effect
 * in rmon-alertd (issue "web actions": an ack stops the repeat, a silence
 * suppresses the next notification, within 2 s of the form's submit).
 *
 * rmon-stored and rmon-alertd run on a scratch data folder with a rule
 * that fires for each of a series of hosts, started 1.5 s apart, and
 * repeats as often as alertd allows (every minute) to a maildir.  Some
 * 0.2 to 2 s (drawn at random) before an alert's repeat is due (a minute
 * after alertd logged its first message), an ack or a silence of its host
 * is submitted through rmon-web run as fcgiwrap runs it (CGI environment,
 * a POST body with a valid token).  Measured: the submit to the ack in
 * alertd's store (alertd reads it there before it routes anything) and to
 * alertd's mark of the silence on the alert (p99 goal 2 s each), and every
 * message alertd logged about an acted-on alert after the action was in
 * its store (goal 0); two alerts left alone show that their repeat does
 * come.  The scenario_web of rmon-bench calls it. */
#ifndef RMON_BENCH_WEB_EFFECT_H
#define RMON_BENCH_WEB_EFFECT_H

#include <stdbool.h>

#include "bench/report.h"

/* Measures 10 of each action (3 under quick; about 100 s, 75 s) and fills
 * one table.  Returns 0 when it measured (a missed goal included), 1 when
 * it could not (a daemon that did not start, an alert that never notified,
 * rmon-web refusing a good form), said on stderr. */
int web_effect_measure(struct bench_run *run, bool quick);

#endif
