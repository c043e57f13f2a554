/* eval.h - rule evaluation: each pass reads one snapshot of the store
 * through the readers' API (store/query.h) and moves every instance of
 * every rule through inactive -> pending -> firing -> resolved, telling the
 * caller of each move.  An instance is a rule applied to one host and one
 * combination of the rule's group_by labels.
 *
 * Time is the caller's: each pass is given `now`, so tests drive a fake
 * clock and the daemon passes the wall clock.  Only rules whose series
 * changed since the last pass are evaluated, plus those whose timers
 * (`for`, absence, repeats of a timed check) fell due; eval_next_due says
 * when the next timer falls due.
 *
 * State kept here is what makes a pass incremental (matched series per
 * rule, instance states, the anomaly model's warm-up); what must survive a
 * restart (an instance's state and since) comes back through eval_restore
 * from alertd's own store (alertd/alerts.h). */
#ifndef RMON_ALERTD_EVAL_H
#define RMON_ALERTD_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "alertd/alerts.h"
#include "alertd/rules.h"
#include "lib/err.h"
#include "store/query.h"

struct eval;

/* One move of one instance. Strings are valid during the callback only. */
struct eval_event {
	const struct rule *rule;
	const char *key; /* rule, host and group labels: stable across restarts */
	const char *host;
	const char *labels; /* canonical {k="v",...} of the group labels, "" none */
	uint64_t series;    /* the series that breached (to draw), 0 none */
	enum alert_state from, to;
	double value; /* what the expression gave (NaN for absence) */
	double threshold;
	int64_t since;	  /* when the condition began */
	int64_t at;	  /* the pass's now */
	char detail[192]; /* why, in words: "usual range 20-35 over the last 6 h" */
};

typedef int (*eval_event_fn)(void *ctx, const struct eval_event *ev);

int eval_new(const struct alert_config *cfg, struct eval **out, struct err *e);
void eval_free(struct eval *ev);

/* Seeds an instance from alertd's store at start-up, so a restart keeps
 * its pending or firing state and its since. */
int eval_restore(struct eval *ev, const char *key, enum alert_state state, int64_t since,
		 struct err *e);

/* One pass over the snapshot held on q (the caller's query_begin): the
 * rules whose series are among changed[0..n), and those due at now.
 * changed NULL (the first pass, or after query_changed said -ESTALE)
 * lists every series again and evaluates every rule.  fn is called for every move; a non-zero
 * return stops the pass and is returned. */
int eval_pass(struct eval *ev, struct query *q, int64_t now, const uint64_t *changed, size_t n,
	      eval_event_fn fn, void *ctx, struct err *e);

/* The wall-clock time of the next timer, INT64_MAX when none. */
int64_t eval_next_due(const struct eval *ev);

/* Every instance known, as the last evaluation of its rule left it:
 * for `rmon rules test` and pages that show what each rule sees now.
 * Strings are valid during the callback only; fn returns 0 to go on. */
struct eval_instance {
	const struct rule *rule;
	const char *key, *host, *labels;
	enum alert_state state;
	double value; /* NaN: no data (absence: its age in seconds) */
	double threshold;
	int64_t since;
	const char *detail;
};
typedef int (*eval_instance_fn)(void *ctx, const struct eval_instance *in);
int eval_instances(const struct eval *ev, eval_instance_fn fn, void *ctx);

struct eval_stats {
	uint64_t passes;
	uint64_t rules_evaluated; /* in the last pass */
	uint64_t series_read;	  /* in the last pass */
	uint64_t instances;	  /* pending or firing now */
};
void eval_get_stats(const struct eval *ev, struct eval_stats *out);

#endif
