/* receiver.h - where notifications go: a [receiver NAME] section of
 * alertd.conf (docs/alerting.md, "Receivers").  alertd/rules.h's reader
 * hands each such section's settings here and keeps the result; the
 * notifier (alertd/notify.h) delivers to it.  Secrets (passwords, tokens)
 * are kept here and never shown: receiver_describe leaves them out. */
#ifndef RMON_ALERTD_RECEIVER_H
#define RMON_ALERTD_RECEIVER_H

#include <stddef.h>
#include <stdint.h>

#include "lib/conf.h"
#include "lib/err.h"

enum receiver_type {
	RECEIVER_EMAIL,	  /* SMTP through libesmtp */
	RECEIVER_WEBHOOK, /* JSON POST */
	RECEIVER_SMS,	  /* Twilio-style form POST with basic auth */
	RECEIVER_PUSH,	  /* ntfy/Gotify-style POST */
	RECEIVER_EXEC,	  /* a program run with argv and environment, never a shell */
	RECEIVER_MAILDIR, /* each message written as a file into a maildir */
};

struct receiver_private; /* the type's settings: the notifier's business */

struct receiver {
	const char *name;
	const char *file;
	int line;
	enum receiver_type type;
	uint32_t rate_limit;	/* messages per rate_window_ns; 0: no limit */
	int64_t rate_window_ns; /* the overflow goes out as one digest when the window ends */
	int64_t give_up_ns;	/* a failing delivery is retried with back-off this long */
	struct receiver_private *priv;
};

/* Starts a receiver for section [receiver name] opened at entry (its file
 * and line); *out is the caller's (receiver_free). */
int receiver_new(const struct conf_entry *entry, struct receiver **out, struct err *e);

/* Applies one setting of its section; errors name file, line and key. */
int receiver_apply(struct receiver *r, const struct conf_entry *entry, struct err *e);

/* At the section's end: checks it as a whole (a type given, an email
 * receiver with a server and a recipient, a URL that parses, ...).
 * A maildir's relative path stays relative here: the notifier resolves it
 * under the data folder it was given (notifier_new's data_dir), so one
 * config means the same under every --data.  Errors: -EINVAL with
 * "file:line: [receiver NAME]: what is missing or wrong".
 *
 * Settings (docs/receivers.md): all types take type, rate_limit =
 * COUNT/DURATION and give_up = DURATION (default 1h); email: server, port,
 * tls = none|starttls|implicit (default starttls), tls_verify, ca_file,
 * user, password, from, to, cc, subject, timeout; webhook, sms, push: url,
 * user/password or token, tls_verify, ca_file, timeout, and sms_to,
 * sms_from (sms), topic, priority, format = ntfy|gotify (push); exec:
 * command (split into argv by the config's quoting rules, never a
 * shell), env = NAME=VALUE, timeout; maildir: path, from, to, cc,
 * subject.  A password or token is never repeated in a message. */
int receiver_check(struct receiver *r, const struct conf_entry *section_end, struct err *e);

void receiver_free(struct receiver *r);

/* A copy of a checked receiver that lives on its own (a delivery in a
 * worker thread keeps one, so a configuration reloaded meanwhile cannot
 * pull it away); *out is the caller's (receiver_free).  -ENOMEM. */
int receiver_dup(const struct receiver *r, struct receiver **out, struct err *e);

const char *receiver_type_name(enum receiver_type type);

/* One line for pages and `rmon` ("email to ops@example.com via
 * smtp.example.com:587 (STARTTLS)"), never a secret. */
size_t receiver_describe(const struct receiver *r, char *buf, size_t cap);

#endif
