/* notify.h - delivering notifications: email through libesmtp, webhook,
 * SMS and push over HTTP (libcurl's multi interface on alertd's event
 * loop), exec, and maildir.  Nothing here blocks the caller: a notice is
 * copied, queued and delivered in the background (SMTP in a worker
 * thread, because libesmtp's calls block), retried with back-off while it
 * fails, and reported once through the done callback, delivered or given
 * up.
 *
 * Which notices are owed is not decided here: rmon-alertd writes each one
 * into its notification log before notifier_send and marks it delivered in
 * done, so after a crash it sends again exactly what was not delivered,
 * with the same Message-ID. */
#ifndef RMON_ALERTD_NOTIFY_H
#define RMON_ALERTD_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "alertd/alerts.h"
#include "alertd/receiver.h"
#include "lib/err.h"
#include "lib/evloop.h"

/* One alert a notice speaks of.  Strings are hostile until escaped: the
 * notifier escapes each for where it goes (header, HTML, JSON, argv). */
struct notice_alert {
	uint64_t alert_id;
	enum alert_state state; /* ALERT_FIRING or ALERT_RESOLVED */
	const char *rule, *severity, *host, *labels;
	const char *summary, *description, *detail;
	const char *series; /* canonical name of the series to draw, NULL none */
	const char *unit;   /* lib/plot.h unit name, NULL none */
	double value, threshold;
	int64_t since, at;
	const char *link; /* the alert's report page, NULL when [report] url is unset */
};

enum notice_kind {
	NOTICE_FIRING,
	NOTICE_RESOLVED,
	NOTICE_REPEAT,	   /* still firing, unacknowledged */
	NOTICE_ESCALATION, /* unacknowledged after a route step's delay */
	NOTICE_DIGEST,	   /* what a receiver's rate limit held back */
};

/* One message to one receiver. */
struct notice {
	uint64_t id;		/* the notification log's */
	const char *message_id; /* "<...@...>", the same when sent again */
	const char *thread_id;	/* the Message-ID it answers (In-Reply-To), NULL: none */
	enum notice_kind kind;
	const struct receiver *receiver;
	const struct notice_alert *alerts;
	size_t n_alerts;
	size_t n_held; /* a digest: how many messages the rate limit held back */
	int64_t created;
};

/* result: 0 delivered; negative: given up after the receiver's give_up
 * time (detail says the last error). */
typedef void (*notifier_done_fn)(void *ctx, uint64_t notice_id, int result, const char *detail);

struct notifier;

/* data_dir lets the notifier read the store (store/query.h) for the graph
 * a mail carries. */
int notifier_new(struct evloop *loop, const char *data_dir, notifier_done_fn done, void *ctx,
		 struct notifier **out, struct err *e);

/* Stops at once; what is in flight is abandoned (the log owes it). */
void notifier_free(struct notifier *n);

/* The retry back-off: the first wait after a failure (default 1 s),
 * doubling up to max_ns (default 5 min), each wait spread over [0.5, 1]
 * of itself (jitter).  For tests and for tuning. */
void notifier_set_backoff(struct notifier *n, int64_t first_ns, int64_t max_ns);

/* Copies notice and queues it; returns at once.  notice->receiver is not
 * copied: it must live until the notice is reported (the configuration
 * outlives its notifier).  The first attempt starts from the loop, so
 * done never runs inside notifier_send. */
int notifier_send(struct notifier *n, const struct notice *notice, struct err *e);

struct notifier_stats {
	uint64_t delivered, failed_attempts, given_up;
	size_t queued; /* waiting or in flight */
};
void notifier_get_stats(const struct notifier *n, struct notifier_stats *out);

#endif
