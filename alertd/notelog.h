/* notelog.h - the notification log: every message rmon-alertd owes a
 * receiver is written here, committed, before it is handed to the notifier
 * (alertd/notify.h), and marked delivered when the notifier reports it.
 * After a crash, what is still owed is sent again with the same
 * Message-ID, and nothing delivered is sent twice; a message is duplicated
 * only when the peer took it just before the crash, and then under the
 * same Message-ID, which mail clients fold into one.
 *
 * It lives in alertd's own store (alertd/alerts.h), beside the alerts it
 * speaks of, and it remembers, per alert and receiver, the first firing
 * message and the resolved one: a resolved mail threads under the firing
 * mail (its thread_id is the firing one's Message-ID), and a restart knows
 * what each receiver was told (notelog_told). */
#ifndef RMON_ALERTD_NOTELOG_H
#define RMON_ALERTD_NOTELOG_H

#include <stddef.h>
#include <stdint.h>

#include "alertd/alerts.h"
#include "alertd/notify.h"
#include "lib/err.h"

#define NOTELOG_ID_MAX 256 /* a Message-ID with its <> and NUL */

/* One alert a message speaks of, as it was when the message was made. */
struct notelog_item {
	uint64_t alert_id;
	enum alert_state state;
};

struct notelog_entry {
	uint64_t id;
	enum notice_kind kind;
	char receiver[ALERT_NAME_MAX];
	char message_id[NOTELOG_ID_MAX];
	char thread_id[NOTELOG_ID_MAX]; /* "" none */
	int64_t created;
	int64_t delivered; /* 0 while owed */
	int result;	   /* 0 delivered, negative given up (then delivered is set too) */
	uint64_t n_held;   /* a digest's count of held messages */
	const struct notelog_item *items;
	size_t n_items;
};

/* Writes a new message for receiver of kind about items[0..n) and commits
 * it.  domain ends the Message-ID ("<12.firing.7.3f2a@domain>"; at most
 * 128 bytes of [A-Za-z0-9.-], else "rmon.invalid").  A resolved or repeat
 * message threads under the first firing (or escalation) message of
 * items[0] to that receiver.  *out (may be NULL) receives the entry; its
 * items point to the caller's. */
int notelog_add(struct alert_store *s, enum notice_kind kind, const char *receiver,
		const struct notelog_item *items, size_t n, uint64_t n_held, const char *domain,
		int64_t now, struct notelog_entry *out, struct err *e);

/* Marks message id delivered (result 0) or given up (negative) at now.
 * -ENOENT: no such message; marking one twice is no error. */
int notelog_done(struct alert_store *s, uint64_t id, int result, int64_t now, struct err *e);

typedef int (*notelog_fn)(void *ctx, const struct notelog_entry *ent);

/* Calls fn for every message still owed, oldest first. */
int notelog_owed(struct alert_store *s, notelog_fn fn, void *ctx, struct err *e);

/* Calls fn for the newest limit messages logged (0: all), newest first. */
int notelog_list(struct alert_store *s, size_t limit, notelog_fn fn, void *ctx, struct err *e);

/* How many messages are owed. */
int notelog_count_owed(struct alert_store *s, size_t *out, struct err *e);

/* What was logged for alert id: fn is called with each receiver and the
 * kind (NOTICE_FIRING for its first firing or escalation message,
 * NOTICE_RESOLVED) and when it was logged. */
typedef int (*notelog_told_fn)(void *ctx, const char *receiver, enum notice_kind kind, int64_t at);
int notelog_told(struct alert_store *s, uint64_t alert_id, notelog_told_fn fn, void *ctx,
		 struct err *e);

/* Removes delivered messages logged before before, and what it
 * remembered of alerts no longer in the store. */
int notelog_prune(struct alert_store *s, int64_t before, uint64_t *removed, struct err *e);

/* "firing", "resolved", "repeat", "escalation", "digest" */
const char *notelog_kind_name(enum notice_kind kind);

#endif
