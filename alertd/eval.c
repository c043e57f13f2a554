/* eval.c - rule evaluation (alertd/eval.h): which rules a commit's changed
 * series concern, the instances of each rule and the state machine that
 * moves them, inactive -> pending -> firing -> resolved, with `for`,
 * hysteresis (a firing instance clears at the clear level, not at the
 * threshold) and flap damping (a firing instance whose condition clears
 * stays firing until it has stayed clear for [alertd] flap_window, so a
 * series crossing back and forth makes one firing and one resolution).
 * Reading the data of a rule is eval_read.c's. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertd/eval_private.h"
#include "lib/grow.h"
#include "lib/rtime.h"
#include "lib/series_name.h"

/* A rule with windows is read again this often even when none of its
 * series changed, so a window that empties or a value that goes stale
 * resolves its alert. */
#define RECHECK_NS	 (30 * RTIME_NS_PER_SEC)
#define PREDICT_EVERY_NS (60 * RTIME_NS_PER_SEC)

/* ---- the name arena ---- */

#define ARENA_BLOCK 65536

static char *arena_copy(struct eval *ev, const char *s, size_t len)
{
	if (!ev->n_arena || ev->arena_used + len + 1 > ARENA_BLOCK) {
		size_t size = len + 1 > ARENA_BLOCK ? len + 1 : ARENA_BLOCK;
		char *block = malloc(size);
		if (!block ||
		    !grow_array(&ev->arena, &ev->arena_cap, ev->n_arena + 1, sizeof *ev->arena)) {
			free(block);
			return NULL;
		}
		ev->arena[ev->n_arena++] = block;
		ev->arena_used = 0;
		if (size > ARENA_BLOCK) { /* a block of its own; the next copy starts another */
			memcpy(block, s, len);
			block[len] = 0;
			ev->arena_used = ARENA_BLOCK;
			return block;
		}
	}
	char *p = ev->arena[ev->n_arena - 1] + ev->arena_used;
	memcpy(p, s, len);
	p[len] = 0;
	ev->arena_used += len + 1;
	return p;
}

/* ---- series: which rules read them ---- */

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	return x;
}

static struct series_slot *series_slot(struct eval *ev, uint64_t id)
{
	size_t mask = ev->series_table_cap - 1;
	for (size_t i = mix(id) & mask;; i = (i + 1) & mask)
		if (ev->series_table[i].id == id || ev->series_table[i].id == 0)
			return &ev->series_table[i];
}

static int series_grow(struct eval *ev)
{
	if ((ev->n_series + 1) * 2 <= ev->series_table_cap)
		return 0;
	size_t old_cap = ev->series_table_cap, cap = old_cap ? old_cap * 2 : 1024;
	struct series_slot *old = ev->series_table;
	if (!(ev->series_table = calloc(cap, sizeof *old))) {
		ev->series_table = old;
		return -ENOMEM;
	}
	ev->series_table_cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].id)
			*series_slot(ev, old[i].id) = old[i];
	free(old);
	return 0;
}

static void series_forget_all(struct eval *ev)
{
	if (ev->series_table)
		memset(ev->series_table, 0, ev->series_table_cap * sizeof *ev->series_table);
	ev->n_series = 0;
	ev->n_matches = 0;
	for (size_t r = 0; r < ev->n_rules; r++)
		for (size_t l = 0; l < expr_n_leaves(ev->rules[r].rule->compiled); l++)
			ev->rules[r].leaves[l].n = 0;
	for (size_t i = 0; i < ev->n_arena; i++)
		free(ev->arena[i]);
	ev->n_arena = 0;
	for (size_t i = 0; i < ev->n_windows; i++)
		window_free(&ev->windows[i]);
	ev->n_windows = 0;
	ev->n_dense = 0;
}

/* The dense index of series id (learnt already), or -1 out of memory. */
static int32_t dense_for(struct eval *ev, uint64_t id)
{
	struct series_slot *slot = series_slot(ev, id);
	if (slot->dense >= 0)
		return slot->dense;
	if (ev->n_dense == ev->dense_cap) {
		size_t cap = ev->dense_cap ? ev->dense_cap * 2 : 1024;
		uint64_t *ids = realloc(ev->dense_ids, cap * sizeof *ids);
		if (ids)
			ev->dense_ids = ids;
		struct query_latest *l = realloc(ev->dense_latest, cap * sizeof *l);
		if (l)
			ev->dense_latest = l;
		uint64_t *read = realloc(ev->dense_read, cap * sizeof *read);
		if (read)
			ev->dense_read = read;
		if (!ids || !l || !read)
			return -1;
		ev->dense_cap = cap;
	}
	ev->dense_ids[ev->n_dense] = id;
	ev->dense_read[ev->n_dense] = 0;
	return slot->dense = (int32_t)ev->n_dense++;
}

/* The window kept for series id (learnt already), at least span wide:
 * its index, or -1 out of memory. */
static int32_t window_for(struct eval *ev, uint64_t id, int64_t span)
{
	struct series_slot *slot = series_slot(ev, id);
	if (slot->window < 0) {
		if (!grow_array(&ev->windows, &ev->windows_cap, ev->n_windows + 1,
				sizeof *ev->windows))
			return -1;
		ev->windows[ev->n_windows] = (struct window){ .span = span };
		slot->window = (int32_t)ev->n_windows++;
	}
	struct window *w = &ev->windows[slot->window];
	if (span > w->span) {
		w->span = span;
		w->primed = false; /* read again, wider */
	}
	return slot->window;
}

/* Matches a series' name against every selector, once in its life: the
 * rules that read it learn of it, and later changes find them at once. */
static int series_learn(struct eval *ev, uint64_t id, const char *name, size_t len, struct err *e)
{
	if (series_grow(ev))
		return err_set(e, -ENOMEM, "out of memory");
	struct series_slot *slot = series_slot(ev, id);
	if (slot->id == id)
		return 0;
	*slot = (struct series_slot){ id, -1, -1, -1 };
	ev->n_series++;
	const char *host = NULL, *labels = NULL;
	for (size_t r = 0; r < ev->n_rules; r++) {
		struct rule_state *rs = &ev->rules[r];
		for (size_t l = 0; l < expr_n_leaves(rs->rule->compiled); l++) {
			if (!query_selector_match(expr_leaf(rs->rule->compiled, l)->sel, name, len))
				continue;
			if (!host) {
				const char *slash = memchr(name, '/', len);
				const char *brace = memchr(name, '{', len);
				if (!slash)
					return 0; /* not a canonical name: nothing to alert on */
				host = arena_copy(ev, name, (size_t)(slash - name));
				labels = brace ? arena_copy(ev, brace, len - (size_t)(brace - name))
					       : "";
				if (!host || !labels)
					return err_set(e, -ENOMEM, "out of memory");
			}
			struct leaf_list *list = &rs->leaves[l];
			int32_t window = -1, dense = dense_for(ev, id);
			if (dense < 0)
				return err_set(e, -ENOMEM, "out of memory");
			const struct expr_leaf *leaf = expr_leaf(rs->rule->compiled, l);
			if (leaf->func != EXPR_LATEST && leaf->window_ns <= WINDOW_CACHE_MAX &&
			    (window = window_for(ev, id, leaf->window_ns)) < 0)
				return err_set(e, -ENOMEM, "out of memory");
			if (!grow_array(&list->v, &list->cap, list->n + 1, sizeof *list->v) ||
			    !grow_array(&ev->matches, &ev->matches_cap, ev->n_matches + 1,
					sizeof *ev->matches))
				return err_set(e, -ENOMEM, "out of memory");
			list->v[list->n++] =
			    (struct leaf_series){ id, host, labels, window, (uint32_t)dense };
			slot = series_slot(ev, id);
			ev->matches[ev->n_matches] =
			    (struct match){ (uint32_t)r, (uint32_t)l, slot->match };
			slot->match = (int32_t)ev->n_matches++;
			rs->dirty = true;
		}
	}
	return 0;
}

static int learn_listed(void *ctx, uint64_t id, const char *name, size_t len)
{
	struct eval *ev = ctx;
	struct err e = { 0 };
	return series_learn(ev, id, name, len, &e);
}

/* A changed series: its rules are read this pass. */
static int series_changed(struct eval *ev, struct query *q, uint64_t id, struct err *e)
{
	if (series_grow(ev))
		return err_set(e, -ENOMEM, "out of memory");
	struct series_slot *slot = series_slot(ev, id);
	if (slot->id != id) {
		char name[SERIES_NAME_MAX + 1];
		int len = query_series_name(q, id, name, sizeof name, e);
		if (len == -ENOENT || len == -EILSEQ)
			return 0; /* gone, or a name no output may show */
		if (len < 0)
			return len;
		int rc = series_learn(ev, id, name, (size_t)len, e);
		if (rc)
			return rc;
		slot = series_slot(ev, id);
	}
	for (int32_t m = slot->match; m >= 0; m = ev->matches[m].next)
		ev->rules[ev->matches[m].rule].dirty = true;
	return 0;
}

/* ---- instances ---- */

static uint64_t key_hash(const char *key)
{
	return series_id(key, strlen(key));
}

static int32_t *inst_slot(struct eval *ev, const char *key)
{
	size_t mask = ev->inst_table_cap - 1;
	for (size_t i = key_hash(key) & mask;; i = (i + 1) & mask) {
		int32_t *slot = &ev->inst_table[i];
		if (*slot == 0 || strcmp(ev->inst[*slot - 1].key, key) == 0)
			return slot;
	}
}

static int inst_table_grow(struct eval *ev)
{
	if ((ev->n_inst + 1) * 2 <= ev->inst_table_cap)
		return 0;
	size_t cap = ev->inst_table_cap ? ev->inst_table_cap * 2 : 256;
	int32_t *table = calloc(cap, sizeof *table);
	if (!table)
		return -ENOMEM;
	free(ev->inst_table);
	ev->inst_table = table;
	ev->inst_table_cap = cap;
	for (size_t i = 0; i < ev->n_inst; i++)
		*inst_slot(ev, ev->inst[i].key) = (int32_t)i + 1;
	return 0;
}

/* The instance of key (rule/host{labels}), made inactive when new. */
static struct instance *instance_get(struct eval *ev, size_t rule, const char *key, size_t host_len,
				     struct err *e)
{
	if (inst_table_grow(ev)) {
		err_set(e, -ENOMEM, "out of memory");
		return NULL;
	}
	int32_t *slot = inst_slot(ev, key);
	if (*slot)
		return &ev->inst[*slot - 1];
	struct rule_state *rs = &ev->rules[rule];
	size_t rule_len = strlen(rs->rule->name);
	char *copy = strdup(key);
	/* The host and labels live in the copy of the key: NUL after the
	 * host would cut it, so they get a second copy beside it. */
	char *parts = copy ? malloc(strlen(key) + 2) : NULL;
	if (!copy || !parts ||
	    !grow_array(&ev->inst, &ev->inst_cap, ev->n_inst + 1, sizeof *ev->inst) ||
	    !grow_array(&rs->instances, &rs->instances_cap, rs->n_instances + 1,
			sizeof *rs->instances)) {
		free(copy);
		free(parts);
		err_set(e, -ENOMEM, "out of memory");
		return NULL;
	}
	const char *host = key + rule_len + 1;
	memcpy(parts, host, host_len);
	parts[host_len] = 0;
	strcpy(parts + host_len + 1, host + host_len);
	struct instance *in = &ev->inst[ev->n_inst];
	*in = (struct instance){ .key = copy,
				 .host = parts,
				 .labels = parts + host_len + 1,
				 .rule = rule,
				 .state = ALERT_INACTIVE,
				 .value = NAN };
	*slot = (int32_t)ev->n_inst + 1;
	rs->instances[rs->n_instances++] = ev->n_inst;
	ev->n_inst++;
	return in;
}

/* The group labels of an element: those group_by names, canonical; all
 * of them when the rule names none. */
static size_t group_labels(const struct rule *r, const char *labels, char *buf, size_t cap)
{
	if (!r->n_group_by) {
		size_t len = strlen(labels);
		if (len < cap)
			memcpy(buf, labels, len + 1);
		return len;
	}
	const char *names[SERIES_LABELS_MAX];
	size_t n = 0;
	for (size_t i = 0; i < r->n_group_by && n < SERIES_LABELS_MAX; i++)
		names[n++] = r->group_by[i];
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			const char *t = names[j];
			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	size_t len = 0;
	buf[0] = 0;
	for (size_t i = 0; i < n && len < cap; i++) {
		/* Copied escaped as they are in the canonical name. */
		const char *v;
		size_t vlen;
		if (!expr_label_raw(labels, names[i], &v, &vlen))
			continue;
		const char *end = v + vlen;
		len += (size_t)snprintf(buf + len, cap - len, "%s%s=\"%.*s\"", len ? "," : "{",
					names[i], (int)(end - v), v);
	}
	if (len && len < cap)
		len += (size_t)snprintf(buf + len, cap - len, "}");
	return len;
}

int eval_observe(struct eval *ev, struct rule_state *rs, const struct observation *o,
		 struct instance **out, struct err *e)
{
	const struct rule *r = rs->rule;
	char labels[ALERT_TEXT_MAX], key[ALERT_KEY_MAX];
	size_t labels_len = group_labels(r, o->labels, labels, sizeof labels);
	if (labels_len >= sizeof labels)
		return 0; /* labels too long to name an alert: the store's limits keep this rare */
	size_t host_len = strlen(o->host), rule_len = strlen(r->name);
	if (rule_len + host_len + labels_len + 2 > sizeof key)
		return 0;
	memcpy(key, r->name, rule_len);
	key[rule_len] = '/';
	memcpy(key + rule_len + 1, o->host, host_len);
	memcpy(key + rule_len + 1 + host_len, labels, labels_len + 1);
	struct instance *in = instance_get(ev, rs->index, key, host_len, e);
	if (!in)
		return -ENOMEM;
	if (in->gen == ev->gen) {
		/* A second element of one instance: the worst decides. */
		bool worse;
		if (r->kind == RULE_ABSENCE)
			worse =
			    o->value < in->obs_value; /* absent only when all are: the freshest */
		else if (o->breach != in->breach)
			worse = o->breach;
		else if (o->clear != in->clear)
			worse = !o->clear;
		else
			worse = r->op == RULE_ABOVE ? o->value > in->obs_value
						    : o->value < in->obs_value;
		if (!worse) {
			if (out)
				*out = in;
			return 0;
		}
	}
	in->gen = ev->gen;
	in->breach = o->breach;
	in->clear = o->clear;
	in->obs_value = o->value;
	in->obs_threshold = o->threshold;
	in->obs_series = o->series;
	in->detail_from_value = !o->detail;
	if (o->detail)
		snprintf(in->detail, sizeof in->detail, "%s", o->detail);
	if (out)
		*out = in;
	return 0;
}

const char *eval_detail(struct eval *ev, struct instance *in)
{
	if (in->detail_from_value) {
		eval_threshold_detail(ev->rules[in->rule].rule, in->obs_value, in->detail,
				      sizeof in->detail);
		in->detail_from_value = false;
	}
	return in->detail;
}

/* Tells fn of a move and makes it, only once fn took it: a move fn refused
 * is made again at the next pass. */
static int move(struct eval *ev, struct instance *in, enum alert_state to, int64_t now,
		eval_event_fn fn, void *ctx)
{
	const struct rule *r = ev->rules[in->rule].rule;
	struct eval_event event = { .rule = r,
				    .key = in->key,
				    .host = in->host,
				    .labels = in->labels,
				    .series = in->series,
				    .from = in->state,
				    .to = to,
				    .value = r->kind == RULE_ABSENCE ? NAN : in->value,
				    .threshold = in->obs_threshold,
				    .since = in->since,
				    .at = now };
	snprintf(event.detail, sizeof event.detail, "%s", eval_detail(ev, in));
	int rc = fn ? fn(ctx, &event) : 0;
	if (rc)
		return rc;
	in->state = to;
	return 0;
}

/* One instance after one evaluation of its rule. */
static int step(struct eval *ev, struct rule_state *rs, struct instance *in, int64_t now,
		eval_event_fn fn, void *ctx)
{
	const struct rule *r = rs->rule;
	bool observed = in->gen == ev->gen;
	bool breach = observed && in->breach, clear = !observed || in->clear;
	if (observed) {
		in->value = in->obs_value;
		in->series = in->obs_series ? in->obs_series : in->series;
	} else {
		in->value = NAN;
		if (r->kind != RULE_ABSENCE) {
			snprintf(in->detail, sizeof in->detail, "no data");
			in->detail_from_value = false;
		}
	}
	if (!observed || isnan(in->obs_threshold))
		in->obs_threshold = r->threshold;
	int64_t flap = ev->cfg->flap_window_ns;
	switch (in->state) {
	case ALERT_INACTIVE:
	case ALERT_RESOLVED:
		if (!breach)
			return 0;
		in->since = now;
		in->clear_since = 0;
		if (r->for_ns > 0) {
			eval_due(rs, now + r->for_ns);
			return move(ev, in, ALERT_PENDING, now, fn, ctx);
		}
		return move(ev, in, ALERT_FIRING, now, fn, ctx);
	case ALERT_PENDING:
		if (clear)
			return move(ev, in, ALERT_INACTIVE, now, fn, ctx);
		if (now - in->since >= r->for_ns)
			return move(ev, in, ALERT_FIRING, now, fn, ctx);
		eval_due(rs, in->since + r->for_ns);
		return 0;
	case ALERT_FIRING:
		if (!clear) {
			in->clear_since = 0;
			return 0;
		}
		if (!in->clear_since)
			in->clear_since = now;
		if (now - in->clear_since >= flap) {
			int rc = move(ev, in, ALERT_RESOLVED, now, fn, ctx);
			if (rc == 0)
				in->clear_since = 0;
			return rc;
		}
		eval_due(rs, in->clear_since + flap);
		return 0;
	}
	return 0;
}

static int evaluate(struct eval *ev, struct query *q, struct rule_state *rs, int64_t now,
		    eval_event_fn fn, void *ctx, struct err *e)
{
	ev->gen++;
	rs->dirty = false;
	rs->read_at = now;
	rs->due = INT64_MAX;
	int rc = eval_read_rule(ev, q, rs, now, e);
	if (rc) {
		rs->dirty = true;
		return rc;
	}
	for (size_t i = 0; i < rs->n_instances; i++)
		if ((rc = step(ev, rs, &ev->inst[rs->instances[i]], now, fn, ctx))) {
			rs->dirty = true; /* the move refused is made again next pass */
			return rc;
		}
	if (rs->rule->window_ns || rs->rule->kind != RULE_ABSENCE)
		eval_due(rs, now + RECHECK_NS);
	ev->stats.rules_evaluated++;
	return 0;
}

/* ---- the interface ---- */

int eval_new(const struct alert_config *cfg, struct eval **out, struct err *e)
{
	struct eval *ev = calloc(1, sizeof *ev);
	if (!ev)
		return err_set(e, -ENOMEM, "out of memory");
	ev->cfg = cfg;
	ev->rules = calloc(cfg->n_rules ? cfg->n_rules : 1, sizeof *ev->rules);
	if (!ev->rules || expr_scratch_new(&ev->scratch)) {
		eval_free(ev);
		return err_set(e, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < cfg->n_rules; i++) {
		const struct rule *r = &cfg->rules[i];
		if (!r->enabled)
			continue;
		struct rule_state *rs = &ev->rules[ev->n_rules];
		size_t n = expr_n_leaves(r->compiled);
		*rs = (struct rule_state){ .rule = r, .index = ev->n_rules, .due = INT64_MAX };
		ev->n_rules++;
		rs->leaves = calloc(n, sizeof *rs->leaves);
		rs->read = calloc(n, sizeof *rs->read);
		if (!rs->leaves || !rs->read) {
			eval_free(ev);
			return err_set(e, -ENOMEM, "out of memory");
		}
	}
	*out = ev;
	return 0;
}

void eval_free(struct eval *ev)
{
	if (!ev)
		return;
	for (size_t i = 0; i < ev->n_rules; i++) {
		struct rule_state *rs = &ev->rules[i];
		for (size_t l = 0; rs->leaves && l < expr_n_leaves(rs->rule->compiled); l++) {
			free(rs->leaves[l].v);
			if (rs->read)
				expr_vec_free(&rs->read[l]);
		}
		free(rs->leaves);
		free(rs->read);
		free(rs->instances);
	}
	for (size_t i = 0; i < ev->n_inst; i++) {
		free(ev->inst[i].key);
		free((char *)ev->inst[i].host);
	}
	for (size_t i = 0; i < ev->n_arena; i++)
		free(ev->arena[i]);
	for (size_t i = 0; i < ev->n_windows; i++)
		window_free(&ev->windows[i]);
	free(ev->windows);
	free(ev->dense_ids);
	free(ev->dense_latest);
	free(ev->dense_read);
	free(ev->arena);
	free(ev->inst);
	free(ev->inst_table);
	free(ev->series_table);
	free(ev->matches);
	free(ev->rules);
	free(ev->ids);
	free(ev->order);
	free(ev->latest);
	free(ev->points);
	free(ev->work);
	expr_vec_free(&ev->out);
	expr_scratch_free(ev->scratch);
	free(ev);
}

int eval_restore(struct eval *ev, const char *key, enum alert_state state, int64_t since,
		 struct err *e)
{
	const char *slash = strchr(key, '/');
	size_t rule_len = slash ? (size_t)(slash - key) : 0;
	struct rule_state *rs = NULL;
	for (size_t i = 0; slash && i < ev->n_rules; i++)
		if (strlen(ev->rules[i].rule->name) == rule_len &&
		    strncmp(ev->rules[i].rule->name, key, rule_len) == 0)
			rs = &ev->rules[i];
	if (!rs)
		return err_set(e, -ENOENT, "alert '%s': its rule is no longer configured", key);
	const char *host = slash + 1, *brace = strchr(host, '{');
	size_t host_len = brace ? (size_t)(brace - host) : strlen(host);
	if (strlen(key) >= ALERT_KEY_MAX || host_len == 0)
		return err_set(e, -EINVAL, "alert key '%s' is not rule/host{labels}", key);
	struct instance *in = instance_get(ev, rs->index, key, host_len, e);
	if (!in)
		return -ENOMEM;
	in->state = state == ALERT_PENDING || state == ALERT_FIRING ? state : ALERT_INACTIVE;
	in->since = since;
	in->clear_since = 0;
	rs->dirty = true;
	return 0;
}

int eval_pass(struct eval *ev, struct query *q, int64_t now, const uint64_t *changed, size_t n,
	      eval_event_fn fn, void *ctx, struct err *e)
{
	int rc;
	ev->stats.passes++;
	ev->stats.rules_evaluated = 0;
	ev->stats.series_read = 0;
	if (!ev->listed || !changed) {
		/* Every series once: the rules learn theirs, the others are
		 * remembered as nobody's so their changes cost a lookup. */
		series_forget_all(ev);
		if ((rc = query_series(q, NULL, learn_listed, ev, e)) != 0)
			return rc;
		ev->listed = true;
		for (size_t i = 0; i < ev->n_rules; i++)
			ev->rules[i].dirty = true;
	} else {
		for (size_t i = 0; i < n; i++)
			if ((rc = series_changed(ev, q, changed[i], e)) != 0)
				return rc;
	}
	for (size_t i = 0; i < ev->n_rules; i++) {
		struct rule_state *rs = &ev->rules[i];
		/* A trend over hours moves slowly: read it once a minute, not at
		 * every commit of its hundreds of series. */
		if (rs->dirty && rs->rule->kind == RULE_PREDICT && rs->read_at &&
		    now >= rs->read_at && now - rs->read_at < PREDICT_EVERY_NS && rs->due > now) {
			rs->dirty = false;
			eval_due(rs, rs->read_at + PREDICT_EVERY_NS);
		}
	}
	if ((rc = eval_read_latest(ev, q, now, e)) != 0)
		return rc;
	for (size_t i = 0; i < ev->n_rules; i++) {
		struct rule_state *rs = &ev->rules[i];
		if (!rs->dirty && rs->due > now)
			continue;
		if ((rc = evaluate(ev, q, rs, now, fn, ctx, e)) != 0)
			return rc;
	}
	ev->stats.instances = 0;
	for (size_t i = 0; i < ev->n_inst; i++)
		if (ev->inst[i].state == ALERT_PENDING || ev->inst[i].state == ALERT_FIRING)
			ev->stats.instances++;
	return 0;
}

int64_t eval_next_due(const struct eval *ev)
{
	int64_t due = INT64_MAX;
	for (size_t i = 0; i < ev->n_rules; i++)
		if (ev->rules[i].due < due)
			due = ev->rules[i].due;
	return due;
}

void eval_get_stats(const struct eval *ev, struct eval_stats *out)
{
	*out = ev->stats;
}

int eval_instances(const struct eval *ev, eval_instance_fn fn, void *ctx)
{
	for (size_t i = 0; i < ev->n_inst; i++) {
		struct instance *in = &ev->inst[i];
		eval_detail((struct eval *)ev, in); /* what is shown is made on demand */
		struct eval_instance out = { ev->rules[in->rule].rule,
					     in->key,
					     in->host,
					     in->labels,
					     in->state,
					     in->value,
					     in->obs_threshold,
					     in->since,
					     in->detail };
		int rc = fn(ctx, &out);
		if (rc)
			return rc;
	}
	return 0;
}
