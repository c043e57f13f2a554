/* route.h - routing: which receiver hears of which alert, when, and in
 * which message.  A pure module on the caller's clock: rmon-alertd feeds it
 * every alert as it moves (router_update), the silences of alertd's store,
 * and what its notification log says was already told (router_told); each
 * router_tick hands back the messages due at now.
 *
 * Per alert and receiver it keeps what the receiver was told (nothing,
 * firing, resolved) and owes the difference:
 *   - receivers come from the rule's own list, else from the first route
 *     whose severity and match agree (more with `continue`); a route's
 *     escalation steps add receivers once the alert has fired
 *     unacknowledged for their delay;
 *   - the first owed message of a receiver opens its group window (the
 *     route's group_window, else [alertd] group_window, 500 ms): every
 *     alert owed to it by the window's end goes in the same message, one
 *     message per kind (firing, resolved, repeat, escalation);
 *   - a firing alert not acknowledged is told again every repeat interval;
 *     an acknowledgement stops repeats and escalation until it resolves;
 *   - a silenced or inhibited alert is not told; when that ends and it
 *     still fires, it is; one that resolves meanwhile is not told at all;
 *   - an open mute window holds messages: they go when it closes, if
 *     still owed;
 *   - a receiver with a rate limit gets at most rate_limit messages a
 *     rate window; the overflow goes as one digest when the window ends.
 *
 * Silences and mute windows match the alert's series (its canonical name)
 * or the name host/rule{labels}, so "web1/node_load1" and "disk_full" both
 * work. */
#ifndef RMON_ALERTD_ROUTE_H
#define RMON_ALERTD_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alertd/alerts.h"
#include "alertd/notify.h"
#include "alertd/rules.h"
#include "lib/err.h"

struct router;

/* One message due: kind, receiver, and the alerts it speaks of as they are
 * now (valid during the callback). */
struct route_notice {
	enum notice_kind kind;
	const struct receiver *receiver;
	const struct alert *const *alerts;
	size_t n_alerts;
	size_t n_held; /* NOTICE_DIGEST: how many messages the limit held back */
};

typedef int (*router_notice_fn)(void *ctx, const struct route_notice *n);

/* cfg is the caller's and must outlive the router (or the next
 * router_set_config).  -EINVAL when a route's or mute's match does not
 * parse (the message names it). */
int router_new(const struct alert_config *cfg, struct router **out, struct err *e);
void router_free(struct router *r);

/* A reloaded configuration: what was told is kept (by receiver name),
 * receivers are chosen again. */
int router_set_config(struct router *r, const struct alert_config *cfg, struct err *e);

/* An alert as alertd's store has it now (a move, an acknowledgement, a
 * new value).  Resolved (or ended pending) alerts are forgotten once
 * nothing more is owed for them. */
int router_update(struct router *r, const struct alert *a, int64_t now, struct err *e);

/* What the notification log says was already written for alert id and
 * receiver (at start-up): kind NOTICE_RESOLVED means told resolved, any
 * other kind told firing, at time at.  Call after router_update of it. */
void router_told(struct router *r, uint64_t alert_id, const char *receiver, enum notice_kind kind,
		 int64_t at);

/* The silences in force (alert_store_silences), replacing the last set. */
int router_set_silences(struct router *r, const struct alert_silence *silences, size_t n,
			struct err *e);

/* Hands fn every message due at now; a non-zero return stops and is
 * returned (what was handed stays told). */
int router_tick(struct router *r, int64_t now, router_notice_fn fn, void *ctx, struct err *e);

/* When router_tick has something to do next, INT64_MAX when never. */
int64_t router_next_due(const struct router *r);

/* What routing decided of alert id at the last tick: the silence holding
 * it (0 none) and whether it is inhibited.  false when not tracked. */
bool router_marks(const struct router *r, uint64_t alert_id, uint64_t *silenced_by,
		  bool *inhibited);

/* How many alerts are tracked, and messages queued in group windows. */
size_t router_tracked(const struct router *r);
size_t router_queued(const struct router *r);

#endif
