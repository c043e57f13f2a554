/* alerts.h - alertd's own store: alerts with their history, acknowledgements,
 * silences and the log of every change a person made, in an LMDB
 * environment of its own, "<data>/alertd", beside the metrics store.
 *
 * rmon-alertd writes alert states; `rmon alerts ack`, `rmon silence ...`
 * and the web actions write acknowledgements and silences with small
 * transactions of their own, which rmon-alertd sees at its next pass
 * (alert_store_generation tells it something changed); reportgen reads it
 * all for its pages.  Every call reads or writes in one transaction, so
 * several processes may use it at once.
 *
 * Strings are stored as given (host, labels and rule names were checked by
 * the name rules, comments are any UTF-8) and must be escaped by whoever
 * shows them.  Errors are negative errno codes with e filled; LMDB's codes
 * never come out. */
#ifndef RMON_ALERTD_ALERTS_H
#define RMON_ALERTD_ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

enum alert_state { ALERT_INACTIVE, ALERT_PENDING, ALERT_FIRING, ALERT_RESOLVED };

/* "inactive", "pending", "firing", "resolved" */
const char *alert_state_name(enum alert_state state);

#define ALERT_KEY_MAX	 1536
#define ALERT_NAME_MAX	 128
#define ALERT_TEXT_MAX	 512
#define ALERT_USER_MAX	 64
#define ALERT_SERIES_MAX 1025 /* SERIES_NAME_MAX + 1 */

/* One episode of an instance: from the moment it goes pending to its
 * resolution.  Its id is stable and never reused, so a mail and a page can
 * name it (reportgen writes alerts/ID.html). */
struct alert {
	uint64_t id;
	char key[ALERT_KEY_MAX]; /* the instance (alertd/eval.h) */
	char rule[ALERT_NAME_MAX];
	char host[256];
	char labels[ALERT_TEXT_MAX]; /* canonical {k="v",...}, "" none */
	char severity[16];
	char series[ALERT_SERIES_MAX]; /* canonical name of the series to draw, "" none */
	enum alert_state state;
	double value, threshold;
	int64_t started;  /* went pending */
	int64_t fired;	  /* went firing, 0 not yet */
	int64_t resolved; /* 0 while active */
	int64_t updated;  /* last evaluated */
	char summary[ALERT_TEXT_MAX];
	char detail[192];
	/* acknowledged until it resolves: no repeats, no escalation */
	int64_t acked_at; /* 0: not acknowledged */
	char acked_by[ALERT_USER_MAX];
	char ack_comment[ALERT_TEXT_MAX];
	uint64_t silenced_by; /* a silence's id while one matches, else 0 */
	bool inhibited;	      /* by another firing alert (alertd/rules.h, inhibit) */
};

/* One move of an alert, for the history. */
struct alert_event {
	uint64_t alert_id;
	int64_t at;
	enum alert_state from, to;
	double value;
	char rule[ALERT_NAME_MAX];
	char host[256];
	char labels[ALERT_TEXT_MAX];
};

struct alert_silence {
	uint64_t id;
	char selector[ALERT_TEXT_MAX]; /* store/query.h selector over the alert's series */
	int64_t start, end;
	int64_t created;
	char by[ALERT_USER_MAX];
	char comment[ALERT_TEXT_MAX];
};

/* A change a person made (ack, silence, rule edit), with who and when. */
struct alert_audit {
	int64_t at;
	char who[ALERT_USER_MAX];
	char what[ALERT_TEXT_MAX]; /* "ack 42: disk will be swapped tonight" */
};

struct alert_store;

#define ALERT_STORE_CREATE 1u /* create "<data>/alertd" when missing (rmon-alertd) */

/* Opens the store of data folder data_dir.  Without ALERT_STORE_CREATE a
 * missing store is -ENOENT with a message saying rmon-alertd has not run
 * there yet. */
int alert_store_open(const char *data_dir, unsigned flags, struct alert_store **out, struct err *e);
void alert_store_close(struct alert_store *s);

/* A number that grows with every write by anyone: readers compare it to
 * learn that something changed. */
uint64_t alert_store_generation(struct alert_store *s);

typedef int (*alert_fn)(void *ctx, const struct alert *a);
typedef int (*alert_event_fn)(void *ctx, const struct alert_event *ev);
typedef int (*alert_silence_fn)(void *ctx, const struct alert_silence *s);
typedef int (*alert_audit_fn)(void *ctx, const struct alert_audit *a);

/* The alerts that are pending or firing (active_only), or those and the
 * ones resolved within [alertd] resolved_keep, newest first. */
int alert_store_alerts(struct alert_store *s, bool active_only, alert_fn fn, void *ctx,
		       struct err *e);

/* One alert by id; -ENOENT when there is none. */
int alert_store_get(struct alert_store *s, uint64_t id, struct alert *out, struct err *e);

/* Moves with from <= at < to, newest first, at most limit (0: all). */
int alert_store_history(struct alert_store *s, int64_t from, int64_t to, size_t limit,
			alert_event_fn fn, void *ctx, struct err *e);

/* Acknowledges alert id until it resolves.  -ENOENT: no such alert;
 * -EALREADY: it is resolved (the message says when).  who and comment are
 * cut to their fields' sizes at a character boundary. */
int alert_store_ack(struct alert_store *s, uint64_t id, const char *who, const char *comment,
		    int64_t now, struct err *e);
int alert_store_unack(struct alert_store *s, uint64_t id, const char *who, int64_t now,
		      struct err *e);

/* Adds a silence of the alerts whose series match selector (checked with
 * query_selector_parse: -EINVAL names the position) from start to end;
 * *id (may be NULL) is its id. */
int alert_store_silence_add(struct alert_store *s, const char *selector, int64_t start, int64_t end,
			    const char *who, const char *comment, int64_t now, uint64_t *id,
			    struct err *e);
int alert_store_silence_rm(struct alert_store *s, uint64_t id, const char *who, int64_t now,
			   struct err *e);

/* Silences that have not ended at now (active_only), or all still kept. */
int alert_store_silences(struct alert_store *s, bool active_only, int64_t now, alert_silence_fn fn,
			 void *ctx, struct err *e);

/* ---- rmon-alertd's writes ---- */

/* What rmon-alertd learnt of an instance in a pass: a move of
 * alertd/eval.h with the texts it expanded.  to == ALERT_PENDING or
 * ALERT_FIRING starts an episode (a new id) when the key has none active
 * and moves it otherwise; ALERT_RESOLVED ends it; ALERT_INACTIVE ends a
 * pending episode that never fired (kept in the history, not listed).
 * to equal to the current state only updates value and updated. */
struct alert_change {
	const char *key, *rule, *host, *labels, *severity;
	const char *series; /* canonical name to draw, NULL or "" none */
	enum alert_state to;
	double value, threshold;
	int64_t since; /* when the condition began: the episode's started */
	int64_t at;
	const char *summary, *detail;
};

/* Applies changes[0..n) in one transaction and records a history event
 * for each move; out (may be NULL) receives each alert as it is after.
 * A change of an ended episode's key with to RESOLVED or INACTIVE is
 * ignored (out[i].id 0). */
int alert_store_apply(struct alert_store *s, const struct alert_change *changes, size_t n,
		      struct alert *out, struct err *e);

/* Sets what routing decided of alert id: the silence that holds it (0
 * none) and whether another alert inhibits it.  -ENOENT: no such alert. */
int alert_store_mark(struct alert_store *s, uint64_t id, uint64_t silenced_by, bool inhibited,
		     struct err *e);

/* Sets how long resolved alerts stay listed (the config's
 * resolved_keep, kept in the store so every reader lists the same);
 * 24 h until set. */
int alert_store_set_keep(struct alert_store *s, int64_t resolved_keep_ns, struct err *e);

/* Removes resolved alerts, history events, ended silences and audit
 * lines older than before; *removed (may be NULL) counts them. */
int alert_store_prune(struct alert_store *s, int64_t before, uint64_t *removed, struct err *e);

/* Records a change made by a person (the ack and silence calls record
 * their own); newest first from alert_store_audit. */
int alert_store_audit_add(struct alert_store *s, const char *who, const char *what, int64_t now,
			  struct err *e);
int alert_store_audit(struct alert_store *s, size_t limit, alert_audit_fn fn, void *ctx,
		      struct err *e);

#endif
