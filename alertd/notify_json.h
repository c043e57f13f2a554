/* notify_json.h - a notice as one JSON document: the body of a webhook
 * and the standard input of an exec receiver's program (docs/receivers.md,
 * "The JSON document").  Every string goes through lib/escape.h, so the
 * document is valid JSON and valid UTF-8 whatever bytes a host or label
 * held; a NaN value is null. */
#ifndef RMON_ALERTD_NOTIFY_JSON_H
#define RMON_ALERTD_NOTIFY_JSON_H

#include <stddef.h>

#include "alertd/notify.h"

/* "firing", "resolved", "repeat", "escalation", "digest" */
const char *notify_kind_name(enum notice_kind kind);

/* The document, malloc'd and NUL-terminated (*len bytes, len may be
 * NULL); NULL when out of memory. */
char *notify_json(const struct notice *notice, size_t *len);

/* An RFC 3339 UTC time with milliseconds ("2026-12-01T10:00:00.000Z"),
 * or "" for 0. */
const char *notify_rfc3339(long long ns, char *buf, size_t cap);

#endif
