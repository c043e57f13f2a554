/* eval_private.h - what eval's files share: eval.c keeps the series each
 * rule reads, the instances and their state machine; eval_read.c reads a
 * rule's data from the snapshot and says, per instance, whether it
 * breaches (one function per rule kind). */
#ifndef RMON_ALERTD_EVAL_PRIVATE_H
#define RMON_ALERTD_EVAL_PRIVATE_H

#include "alertd/anomaly.h"
#include "alertd/eval.h"
#include "alertd/expr.h"

/* A series one of a rule's selectors matches. */
struct leaf_series {
	uint64_t id;
	const char *host;   /* into the eval's name arena */
	const char *labels; /* canonical {k="v",...} or "" */
	int32_t window;	    /* its samples kept in eval.windows, -1: read from the store */
	uint32_t dense;	    /* its place in eval.dense_*: what the pass read of it */
};

/* The recent samples of a series read by windowed functions
 * (eval_window.c).  Windows up to WINDOW_CACHE_MAX are kept. */
#define WINDOW_CACHE_MAX (15 * 60 * INT64_C(1000000000))

struct window_point {
	int64_t ts;
	double v;
};

struct window {
	int64_t span; /* the widest window read of the series */
	int64_t last_ts;
	int64_t interval; /* between its last two samples */
	int64_t minute_start;
	double minute_count; /* as query_latest said at the last sync */
	bool primed;
	uint64_t synced; /* the pass that synced it last */
	struct window_point *p;
	size_t start, n, cap;
};

/* Brings w up to what the store holds, lt being the series' query_latest. */
int window_sync(struct window *w, struct query *q, uint64_t id, const struct query_latest *lt,
		int64_t now, struct err *e);
/* func over [now - span, now] of the samples kept; NaN when none. */
double window_aggregate(const struct window *w, enum expr_func func, int64_t span, int64_t now);
void window_free(struct window *w);

struct leaf_list {
	struct leaf_series *v;
	size_t n, cap;
};

struct rule_state {
	const struct rule *rule;
	size_t index;
	struct leaf_list *leaves; /* one per selector of the expression */
	struct expr_vec *read;	  /* what each selector read this evaluation */
	size_t *instances;	  /* indexes into eval.inst */
	size_t n_instances, instances_cap;
	bool dirty;	 /* one of its series changed */
	int64_t due;	 /* its next timer */
	int64_t read_at; /* its last evaluation, 0 none */
};

struct instance {
	char *key; /* "rule/host{labels}": host and labels point into it */
	const char *host;
	const char *labels;
	size_t rule;
	enum alert_state state;
	int64_t since;	     /* the condition began (pending, firing) */
	int64_t clear_since; /* firing, condition clear since (the flap hold), 0 none */
	double value;
	uint64_t series;
	/* What this evaluation observed (gen says which evaluation). */
	uint64_t gen;
	bool breach, clear;
	bool detail_from_value; /* detail is threshold_detail of the value: made when needed */
	double obs_value, obs_threshold;
	uint64_t obs_series;
	char detail[192];
	/* The anomaly model, refit every few minutes. */
	struct anomaly_model model;
	int64_t model_at;
};

/* A series seen: the first of its matches (or -1: none) and its window. */
struct series_slot {
	uint64_t id;
	int32_t match;
	int32_t window; /* into eval.windows, -1 none */
	int32_t dense;	/* into eval.dense_*, -1: no rule reads it */
};

struct eval {
	const struct alert_config *cfg;
	struct rule_state *rules;
	size_t n_rules;
	struct instance *inst;
	size_t n_inst, inst_cap;
	int32_t *inst_table; /* open addressing over key hashes: index + 1, 0 empty */
	size_t inst_table_cap;
	/* Every series seen: id -> first of its matches (or -1: none). */
	struct series_slot *series_table;
	size_t series_table_cap, n_series;
	struct window *windows;
	size_t n_windows, windows_cap;
	/* The newest sample of every series a rule reads, read once a pass
	 * for all the rules of the pass: one sorted walk of the store's table
	 * instead of one per selector. */
	uint64_t *dense_ids;
	struct query_latest *dense_latest;
	uint64_t *dense_read; /* the pass that read it */
	size_t n_dense, dense_cap;
	struct match {
		uint32_t rule, leaf;
		int32_t next;
	} * matches;
	size_t n_matches, matches_cap;
	/* Host and label text of listed series. */
	char **arena;
	size_t n_arena, arena_cap, arena_used;
	bool listed;
	uint64_t gen;
	struct expr_scratch *scratch;
	struct expr_vec out;
	/* Reused buffers of the readers. */
	uint64_t *ids;
	uint32_t *order; /* the dense index of ids[i] */
	struct query_latest *latest;
	size_t ids_cap;
	double *points, *work;
	size_t points_cap;
	struct eval_stats stats;
};

/* An instance's observation from one evaluation: eval_observe finds or
 * makes the instance of (rule, host, element labels) and merges it with
 * what the same evaluation observed already (the worst element wins:
 * the highest value of an `above` rule; for absence, the freshest). */
struct observation {
	const char *host;
	const char *labels; /* the element's; the rule's group_by picks from them */
	double value, threshold;
	uint64_t series;
	bool breach;	    /* enters the condition */
	bool clear;	    /* leaves it */
	const char *detail; /* NULL: "value 93, fires above 90", made only when shown */
};
int eval_observe(struct eval *ev, struct rule_state *rs, const struct observation *o,
		 struct instance **out, struct err *e);

/* "value 93, fires above 90, clears at or below 85" */
void eval_threshold_detail(const struct rule *r, double value, char *buf, size_t cap);

/* The instance's detail, made now if it was left for later. */
const char *eval_detail(struct eval *ev, struct instance *in);

/* Reads the newest sample of every series of the rules about to be read
 * (rs->dirty or due) into eval.dense_latest (eval_read.c). */
int eval_read_latest(struct eval *ev, struct query *q, int64_t now, struct err *e);

/* Reads rule rs at now and observes its instances (eval_read.c). */
int eval_read_rule(struct eval *ev, struct query *q, struct rule_state *rs, int64_t now,
		   struct err *e);

/* Schedules rs for at (keeps the earliest). */
static inline void eval_due(struct rule_state *rs, int64_t at)
{
	if (at < rs->due)
		rs->due = at;
}

#endif
